"""The author's own book (issue 18): any trim, margins, a book's own templates, cover art,
and pandoc's features (highlighting, small caps, task lists, number-sections, toc-title,
lof/lot) that used to vanish, and pandoc's keys that do nothing here warned about."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pypdfium2
import pytest
from lxml import etree
from PIL import Image

from conftest import run_cli

META = """title: Trial Book
author: Ann Writer
lang: en
identifier: urn:uuid:11111111-2222-3333-4444-555555555555
"""

TEXT = """# First Chapter

Some text with [Small Caps]{.smallcaps} here and Small Caps there.

```python
def hello(name):
    # a comment
    return "hi " + str(42)
```

- [ ] open task
- [x] done task

![A red figure](pic.png)

| a | b |
|---|---|
| 1 | 2 |

: A table caption

## A Section

More text.

# Second Chapter

Last text.
"""

GREEN = (30, 160, 60)


def book(tmp_path: Path, extra: str = "", text: str = TEXT, name: str = "book") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "book.yaml").write_text(META + extra, encoding="utf-8")
    (folder / "book.md").write_text(text, encoding="utf-8")
    Image.new("RGB", (600, 400), (200, 30, 30)).save(folder / "pic.png")
    return folder


def line_of(folder: Path, key: str) -> int:
    return next(i for i, l in enumerate((folder / "book.yaml").read_text().split("\n"), 1) if l.startswith(key + ":"))


# --- trims and margins ---------------------------------------------------------------

@pytest.mark.parametrize("trim, size", [("7x10", (504, 720)), ("156x234mm", (442.2, 663.3))])
def test_a_trim_of_any_size(tmp_path, trim, size):
    folder = book(tmp_path, f"trim: {trim}\n", "# One\n\nText.\n")
    out = tmp_path / "out"
    run = run_cli("--book", folder, "--out", out, "--edition", "pdf", "--edition", "print")
    assert run.code == 0, run.err
    pdf = pikepdf.open(out / "trial-book.pdf")
    assert [float(v) for v in pdf.pages[0].MediaBox][2:] == pytest.approx(size, abs=0.2)
    printed = pikepdf.open(out / "trial-book-print.pdf")
    box = [float(v) for v in printed.pages[0].TrimBox]
    assert (box[2] - box[0], box[3] - box[1]) == pytest.approx(size, abs=0.2)


def test_trim_on_the_command_line_takes_sizes(tmp_path):
    folder = book(tmp_path, "", "# One\n\nText.\n")
    out = tmp_path / "out"
    run = run_cli("--book", folder, "--out", out, "--edition", "pdf", "--trim", "8.5x11")
    assert run.code == 0, run.err
    pdf = pikepdf.open(out / "trial-book.pdf")
    assert [float(v) for v in pdf.pages[0].MediaBox][2:] == [612, 792]
    assert run_cli("--book", folder, "--out", out, "--trim", "huge").code == 2


@pytest.mark.parametrize("extra, said", [
    ("trim: 3x5\n", "Amazon KDP paperback does not print"),
    ("profile: lulu\ntrim: 5.25x8\n", "Lulu paperback does not print"),
    ("trim: 6 by 9\n", "is not a trim size"),
])
def test_a_trim_the_printer_cannot_print(tmp_path, extra, said):
    folder = book(tmp_path, extra, "# One\n\nText.\n")
    out = tmp_path / "out"
    for command in (("check", "--book", folder), ("--book", folder, "--out", out)):
        run = run_cli(*command)
        assert run.code == 3, run.err
        lines = run.err.strip().split("\n")
        assert len(lines) == 1 and lines[0].startswith(f"{folder / 'book.yaml'}:{line_of(folder, 'trim')}:"), lines
        assert said in lines[0] and "(hint:" in lines[0]
    assert not out.exists() or not list(out.iterdir())


def test_margins_below_the_printer_minimum(tmp_path):
    folder = book(tmp_path, "margins: {inner: 0.2in, outer: 0.5in, top: 0.8in, bottom: 0.7in}\n", "# One\n\nText.\n")
    out = tmp_path / "out"
    run = run_cli("--book", folder, "--out", out)
    assert run.code == 3
    assert run.err.strip() == run.err.strip().split("\n")[0]
    assert f"book.yaml:{line_of(folder, 'margins')}:" in run.err and "inner margin 0.2 in" in run.err
    assert "0.375 in" in run.err            # KDP's gutter for the thinnest books
    assert not out.exists() or not list(out.iterdir())


def test_margins_are_used(tmp_path):
    folder = book(tmp_path, "margins: {inner: 25mm, outer: 25mm, top: 1in, bottom: 1in}\n", "# One\n\n" + "Text. " * 80)
    out = tmp_path / "out"
    run = run_cli("--book", folder, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    with pdfplumber.open(out / "trial-book.pdf") as pdf:
        page = next(p for p in pdf.pages if "Text." in (p.extract_text() or ""))
        words = [c for c in page.chars if c["text"].strip()]
    assert min(c["x0"] for c in words) == pytest.approx(25 * 72 / 25.4, abs=1.5)


# --- a book's own templates ------------------------------------------------------------

def test_a_book_template_replaces_the_house_one(tmp_path):
    folder = book(tmp_path, "", "# One\n\nText.\n")
    (folder / "templates").mkdir()
    (folder / "templates" / "front-matter.html.j2").write_text(
        '<section class="title-page" id="title-page"><p class="title">{{ book.title }}</p>'
        '<p class="author">A page of my own by {{ book.author_line }}</p></section>\n')
    out = tmp_path / "out"
    run = run_cli("--book", folder, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    with pdfplumber.open(out / "trial-book.pdf") as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    assert "A page of my own by Ann Writer" in text and "Set in Linux Libertine" not in text


def test_a_book_template_cannot_reach_python(tmp_path):
    folder = book(tmp_path, "", "# One\n\nText.\n")
    (folder / "templates").mkdir()
    (folder / "templates" / "front-matter.html.j2").write_text("ok\n{{ book.__class__.__mro__ }}\n")
    run = run_cli("--book", folder, "--out", tmp_path / "out", "--edition", "pdf")
    assert run.code != 0
    assert run.err.strip().startswith(f"{folder / 'templates' / 'front-matter.html.j2'}:2:"), run.err
    assert "unsafe" in run.err


# --- the whole feature book: cover art, highlighting, small caps, numbering -------------------

FEATURES = """trim: 6x9
number-sections: true
toc-title: Table of Contents
lof: true
lot: true
geometry: margin=1in
cover-image: cover.png
"""


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("features")
    folder = book(tmp, FEATURES)
    # 6.125 x 9.25 in (the front panel with its bleed) at 100 ppi: low resolution, right proportions
    Image.new("RGB", (613, 925), GREEN).save(folder / "cover.png")
    out = tmp / "out"
    run = run_cli("--book", folder, "--out", out)
    assert run.code == 0, run.err
    return folder, out, run


def test_pandoc_keys_are_warned_about(features):
    folder, _, run = features
    assert re.search(rf"book.yaml:{line_of(folder, 'geometry')}: warning: M001 metadata key 'geometry' "
                     r"is pandoc's and has no effect here", run.err), run.err


def test_cover_image_in_the_epub(features):
    _, out, _ = features
    with zipfile.ZipFile(out / "trial-book.epub") as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        items = opf.xpath("//o:item[contains(@properties,'cover-image')]", namespaces={"o": "http://www.idpf.org/2007/opf"})
        assert len(items) == 1 and items[0].get("media-type") == "image/png"
        art = Image.open(io.BytesIO(z.read("EPUB/" + items[0].get("href"))))
        assert art.size == (613, 925) and art.convert("RGB").getpixel((10, 10)) == GREEN
    from imprint.editions.validate import run_epubcheck
    messages = run_epubcheck(out / "trial-book.epub")
    assert [m for m in messages if m.severity in ("error", "warning")] == []


def test_cover_image_on_the_print_cover(features):
    folder, out, run = features
    page = pypdfium2.PdfDocument(str(out / "trial-book-cover.pdf"))[0]
    image = page.render(scale=40 / 72).to_pil().convert("RGB")
    w, h = image.size
    front = image.getpixel((int(w * 0.8), h // 2))
    back = image.getpixel((int(w * 0.2), h // 2))
    assert all(abs(a - b) <= 6 for a, b in zip(front, GREEN)), front
    assert back != front                    # the back panel is still the generated one
    assert re.search(rf"book.yaml:{line_of(folder, 'cover-image')}: warning: P123 the cover image 'cover.png' "
                     r"is 613 x 925 px: 100 ppi", run.err), run.err
    assert "P124" not in run.err


def test_highlighted_code(features):
    _, out, _ = features
    with pdfplumber.open(out / "trial-book.pdf") as pdf:
        chars = [c for p in pdf.pages for c in p.chars]
    code = [c for c in chars if "Mono" in c["fontname"]]
    colour = lambda c: tuple(round(v, 2) for v in c["non_stroking_color"])
    text = "".join(c["text"] for c in code)
    assert text.startswith("def hello(name):# a commentreturn"), text
    assert {colour(c) for c in code[:3]} == {(0.0, 0.44, 0.13)}              # keyword: #007020
    assert {colour(c) for c in code[16:27]} == {(0.38, 0.63, 0.69)}          # comment: #60a0b0
    assert colour(code[4]) == (0.0, 0.0, 0.0)                                 # a name: the text colour
    assert "Bold" in code[0]["fontname"] and "Bold" not in code[4]["fontname"]
    with zipfile.ZipFile(out / "trial-book.epub") as z:
        texts = [z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml")]
        css = z.read("EPUB/css/epub.css").decode()
    assert any('<span class="kw">def</span>' in t for t in texts)
    assert "code span.kw" in css


def test_small_caps(features):
    """The span is set in the face's small capitals: its 'l' (an ascender in lower case) is
    shorter than its capital S, while in the same words set plainly 'l' is as tall as 'S'."""
    _, out, _ = features
    doc = pypdfium2.PdfDocument(str(out / "trial-book.pdf"))
    for page in doc:
        text_page = page.get_textpage()
        text = text_page.get_text_range().replace("\u00a0", " ")     # total-fit keeps unbroken spaces as U+00A0
        if "Small Caps here" in text:
            break
    else:
        pytest.fail("no page holds the small caps")

    def height(index):
        left, bottom, right, top = text_page.get_charbox(index)
        return top - bottom

    caps, plain = text.index("Small Caps here"), text.index("Small Caps there")
    assert text[caps + 3] == "l" and text[plain + 3] == "l"
    assert height(caps + 3) < 0.8 * height(caps)            # small capital L under the capital S
    assert height(plain + 3) > 0.9 * height(plain)          # a lower-case l reaches the capitals' height


def test_contents_numbers_lists_and_tasks(features):
    _, out, _ = features
    with pdfplumber.open(out / "trial-book.pdf") as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
        links = [a for p in pdf.pages for a in (p.annots or [])]
    assert "Table of Contents" in text and "\nContents\n" not in text
    assert re.search(r"1 First Chapter \d+", text) and re.search(r"1\.1 A Section \d+", text)
    assert re.search(r"2 Second Chapter \d+", text)
    assert re.search(r"Figures\nA red figure \d+", text) and re.search(r"Tables\nA table caption \d+", text)
    assert "☐ open task" in text and "☑ done task" in text and "[ ]" not in text
    assert len(links) >= 5
    with zipfile.ZipFile(out / "trial-book.epub") as z:
        nav = z.read("EPUB/nav.xhtml").decode()
    assert "Table of Contents" in nav and "1.1 A Section" in nav
    assert re.search(r'<nav epub:type="lof".*?<a href="text/chapter-001.xhtml#figure-1">A red figure</a>', nav, re.S)
    assert re.search(r'<nav epub:type="lot".*?<a href="text/chapter-001.xhtml#table-1">A table caption</a>', nav, re.S)


def test_a_cover_image_that_is_not_jpeg_or_png(tmp_path):
    folder = book(tmp_path, "cover-image: cover.gif\n", "# One\n\nText.\n")
    Image.new("RGB", (60, 90)).save(folder / "cover.gif")
    run = run_cli("check", "--book", folder)
    assert run.code == 1
    assert f"book.yaml:{line_of(folder, 'cover-image')}: error: R005 cover image 'cover.gif' is not a JPEG or PNG" in run.err
    (folder / "book.yaml").write_text(META + "cover-image: nothere.png\n")
    run = run_cli("check", "--book", folder)
    assert run.code == 1 and "R001 image 'nothere.png' not found" in run.err


def test_every_unknown_key_is_warned_about(tmp_path):
    folder = book(tmp_path, "frobnicate: 3\npapersize: a4\nmainfont: Libertine\n", "# One\n\nText.\n")
    run = run_cli("check", "--book", folder)
    assert "M001 unknown metadata key 'frobnicate' is ignored" in run.err
    assert "M001 metadata key 'papersize' is pandoc's" in run.err
    assert "mainfont" not in run.err


def test_a_template_that_replaces_nothing_is_named(tmp_path):
    folder = book(tmp_path, "", "# One\n\nText.\n")
    (folder / "templates").mkdir()
    (folder / "templates" / "front-mater.html.j2").write_text("<p>never used</p>\n")
    run = run_cli("check", "--book", folder)
    assert run.code == 0
    assert (f"{folder / 'templates' / 'front-mater.html.j2'}: warning: M005 template 'front-mater.html.j2' "
            "replaces no house template and is not used") in run.err


def test_the_inner_margin_follows_the_gutter_for_the_page_count():
    from imprint.specs import editions, profiles
    given = editions.Margins(0.8 * 72, 0.5 * 72, 0.5 * 72, 0.5 * 72)
    assert editions.check_margins(given, profiles.KDP, 120, False) is None
    said = editions.check_margins(given, profiles.KDP, 400, False)
    assert "inner margin 0.5 in" in said and "0.625 in for a book of 400 pages (301-500 pages)" in said
    low = editions.Margins(0.3 * 72, 0.5 * 72, 0.5 * 72, 0.5 * 72)
    assert "top margin 0.3 in" in editions.check_margins(low, profiles.KDP, 120, False)


def test_cover_art_of_the_wrong_proportions(tmp_path):
    from imprint.editions import cover
    from imprint.manuscript.load import load
    folder = book(tmp_path, "cover-image: wide.jpg\n", "# One\n\nText.\n")
    Image.new("RGB", (3000, 3000), GREEN).save(folder / "wide.jpg")
    loaded = load(folder)
    assert cover.cover_art(loaded)[1] == "jpeg"
    found = cover.art_findings(loaded, folder / "wide.jpg", 6.125 * 72, 9.25 * 72)
    assert [f.code for f in found] == ["P124"]
    assert "wider than the front panel by 51%" in found[0].message and found[0].where.line == line_of(folder, "cover-image")
