"""Right-to-left text in the paged editions, built for real: a Hebrew book whose paragraphs hold
English words (set whole by typeset/linebreak.py: words measured in the face that draws them,
Noto Serif Hebrew for the Hebrew, the book's face for the Latin), and an English book quoting
Hebrew and Arabic mid-paragraph (the lines keep the book's leading; no false L202)."""

from __future__ import annotations

import io
import random
from collections import defaultdict

import pdfplumber
import pytest

from conftest import run_cli, write_book

HEBREW = "שלום עולם ספר ארוך כתב שורה עמוד מילה אחת כאן שם הזה".split()
ARABIC = "مرحبا بالعالم كتاب طويل سطر صفحة كلمة هنا".split()
LATIN = "the quick brown fox jumps over a lazy dog and runs far away".split()


def meta(lang: str) -> str:
    return (f"title: T\nauthor: A. B.\nlang: {lang}\nform: book\n"
            "identifier: urn:uuid:00000000-0000-4000-8000-0000000000aa\n")


def words(pool, n, seed):
    rng = random.Random(seed)
    return " ".join(rng.choice(pool) for _ in range(n))


def build(book, out):
    return run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "-v")


def body_lines(out, marker: str):
    """Baseline -> (x0, x1, text) of the lines on the page holding `marker`, body size only."""
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        for page in doc.pages:
            text = "".join(c["text"] for c in page.chars if c["text"].strip())
            if marker.replace(" ", "") not in text:
                continue
            lines = defaultdict(list)
            for c in page.chars:
                if 10.5 < c["size"] < 11.5 and c["text"].strip():
                    lines[round(c["matrix"][5], 1)].append(c)
            return {y: (min(c["x0"] for c in cs), max(c["x1"] for c in cs), "".join(c["text"] for c in cs))
                    for y, cs in sorted(lines.items(), reverse=True)}
    raise AssertionError(f"{marker!r} not in the PDF")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    root = tmp_path_factory.mktemp("rtl")
    hebrew = (f"# {HEBREW[0]}\n\n{words(HEBREW, 110, 1)}.[^1]\n\n"
              f"English words inside: {words(LATIN, 8, 2)}. {words(HEBREW, 120, 3)}.\n\n"
              f"{words(HEBREW, 90, 4)}.\n\n" + "\n\n".join(words(HEBREW, 100, 10 + k) + "." for k in range(6))
              + f"\n\n[^1]: {words(HEBREW, 6, 9)}.\n")
    english = ("# One\n\nFirst paragraph with ordinary words and more words so that it wraps to a second line "
               "and more of them again.\n\n"
               f"Words in other scripts: Hebrew [{HEBREW[0]} {HEBREW[1]}]{{lang=he}} and Arabic "
               f"[{ARABIC[0]} {ARABIC[1]}]{{lang=ar}} in the middle of an English sentence that runs on to a "
               "second and a third line, so that the lines below it can be compared with it, and more.\n\n"
               f"A quotation: [{words(HEBREW, 40, 5)}]{{lang=he}} and the sentence goes on in English for a "
               "while, long enough to fill the line it ends on and another one after it.\n\n"
               "A last paragraph of plain words that runs on to a second line so that the leading is seen "
               "below the quotation as well.\n")
    result = {}
    for name, text, lang in (("he", hebrew, "he"), ("en", english, "en")):
        book = write_book(root / name, text, meta(lang))
        out = root / f"{name}-out"
        result[name] = (build(book, out), out)
    return result


def test_hebrew_paragraph_with_english_words_is_set_within_the_measure(books):
    run, out = books["he"]
    assert run.code == 0, run.err
    assert "L205" not in run.err and "L202" not in run.err and "L206" not in run.err, run.err
    assert "L219" not in run.err, run.err       # planned whole, and laid out as planned
    lines = body_lines(out, "English")
    assert len(lines) > 15
    # every line lies inside the measure, which the chapter's first line (justified, not
    # indented, Hebrew only) spans: none sticks out past it (was up to 20 pt)
    left, right, _ = next(iter(lines.values()))
    assert right - left > 300
    for x0, x1, text in lines.values():
        assert left - 0.5 <= x0 and x1 <= right + 0.5, (text[:30], x0, x1, left, right)


def test_other_scripts_mid_paragraph_keep_the_leading_and_draw_over_nothing(books):
    run, out = books["en"]
    assert run.code == 0, run.err
    assert "L202" not in run.err and "L205" not in run.err and "L206" not in run.err, run.err
    lines = body_lines(out, "Words in other scripts")
    ys = list(lines)
    arabic = [y for y in ys if any("\u0600" <= ch <= "\u06ff" for ch in lines[y][2])]
    hebrew = [y for y in ys if any("\u05d0" <= ch <= "\u05ea" for ch in lines[y][2])]
    assert arabic and hebrew
    assert arabic[-1] != ys[-1]         # the Arabic is not on the page's last line
    pitches = {round(a - b, 2) for a, b in zip(ys, ys[1:])}
    assert pitches == {14.4}, (pitches, [lines[y][2][:30] for y in ys])
    # the quotation wraps, and every line stays inside the measure (the first line of the plain
    # English paragraph, justified, spans it)
    assert len(hebrew) >= 3
    left, right, _ = next(v for v in lines.values() if v[2].startswith("First"))
    for x0, x1, text in lines.values():
        assert left - 0.5 <= x0 and x1 <= right + 0.5, text


def test_hebrew_book_pages_read_from_the_right(books):
    """The footnote rule starts at the right, where the lines do; the running heads are in the
    text's face (Noto Serif Hebrew), as the text."""
    import subprocess

    from PIL import Image

    run, out = books["he"]
    pdf = next(out.glob("*.pdf"))
    with pdfplumber.open(pdf) as doc:
        heads = [c for p in doc.pages for c in p.chars if c["size"] < 9.5 and "\u05d0" <= c["text"] <= "\u05ea"
                 and c["top"] < 60]
        assert heads and all("Noto-Serif-Hebrew" in c["fontname"] for c in heads), {c["fontname"] for c in heads}
        noted = next(i for i, p in enumerate(doc.pages, 1) if any(c["size"] < 8 for c in p.chars))   # the call
        width = doc.pages[0].width
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", str(noted), "-l", str(noted), str(pdf),
                    str(out / "noted")], check=True)
    image = Image.open(next(out.glob("noted*.png"))).convert("L")
    w, h = image.size
    pixels = image.load()
    rules = [(y, [x for x in range(w) if pixels[x, y] < 200]) for y in range(h // 2, h)]
    # the rule: the longest unbroken dark run in the page's lower half
    y, dark = max(((y, xs) for y, xs in rules if xs and xs[-1] - xs[0] + 1 == len(xs)),
                  key=lambda item: len(item[1]))
    assert len(dark) > 40
    assert dark[0] > width / 2, (y, dark[0], dark[-1])


def test_the_epub_embeds_the_script_faces_the_text_needs(books):
    """The EPUB carries Noto Serif Hebrew (and Noto Naskh Arabic for the English book's Arabic
    words), cut down to the letters used, after the book's face in its font stacks and for text in
    those languages, as the paged editions set them: a reading system without a Hebrew face
    would otherwise show empty boxes."""
    import zipfile

    from fontTools.ttLib import TTFont

    for name, families in (("he", {"Noto Serif Hebrew"}), ("en", {"Noto Serif Hebrew", "Noto Naskh Arabic"})):
        _, pdf_out = books[name]
        out = pdf_out.parent / f"{name}-epub"
        run = run_cli("--book", pdf_out.parent / name, "--out", out, "--edition", "epub")
        assert run.code == 0 and "EPUBCheck" not in run.err, run.err      # the validators pass it
        with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
            css = z.read(next(n for n in z.namelist() if n.endswith("fonts.css"))).decode()
            fonts = {n: z.read(n) for n in z.namelist() if "/fonts/" in n and n.endswith((".ttf", ".otf"))}
            text = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
        for family in families:
            body = next(line for line in css.splitlines() if line.startswith("body"))
            assert f'font-family: "{family}"' in css and f'"{family}"' in body.split(",", 1)[1], css
            key = family.replace(" ", "").lower()
            files = [n for n in fonts if key in n.replace("-", "").replace("_", "").lower()]
            assert files, (family, list(fonts))
            cmap = TTFont(io.BytesIO(fonts[files[0]])).getBestCmap()
            letters = {c for c in text if ("\u05d0" <= c <= "\u05ea") == (family == "Noto Serif Hebrew")
                       and ("\u0621" <= c <= "\u064a" or "\u05d0" <= c <= "\u05ea")}
            assert letters and all(ord(c) in cmap for c in letters)
            assert len(cmap) < 150                          # a subset, not the whole face
    assert ":lang(he)" in css and ":lang(ar)" in css


def test_a_right_to_left_book_is_bound_on_the_right(tmp_path):
    """A Hebrew book's print edition: page 1 is a left-hand page with its gutter on the right (the
    book opens from the right); the wrap cover lays out front, spine, back from the left, the
    barcode on the back panel, and the printer's preflight finds it there; both PDFs tell viewers
    the pages read right to left. An English book's cover is the other way round."""
    import pikepdf

    text = f"# {HEBREW[0]}\n\n" + "\n\n".join(words(HEBREW, 150, k) + "." for k in range(8)) + "\n"
    isbn = "isbn:\n  print: 978-0-306-40615-7\n"
    covers = {}
    for lang in ("he", "en"):
        book = write_book(tmp_path / lang, text, meta(lang) + isbn)
        out = tmp_path / f"{lang}-out"
        run = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "print", "--edition", "pdf")
        assert run.code == 0 and "P13" not in run.err, run.err          # the barcode found where it belongs
        with pdfplumber.open(next(out.glob("*-cover.pdf"))) as doc:
            page = doc.pages[0]
            title = [c for c in page.chars if c["text"] == "T" and c["size"] > 20]
            bars = [r for r in page.rects if r["height"] > 20 and r["width"] < 5]
            covers[lang] = (page.width, title[0]["x0"], min(r["x0"] for r in bars))
        for name in ("*-print.pdf", "t.pdf"):
            with pikepdf.open(next(out.glob(name))) as pdf:
                prefs = pdf.Root.get("/ViewerPreferences") or {}
                assert (str(prefs.get("/Direction", "")) == "/R2L") == (lang == "he")
        if lang == "he":
            with pdfplumber.open(next(out.glob("*-print.pdf"))) as doc:
                opening = next(p for p in doc.pages if any(c["size"] > 10.5 for c in p.chars) and p.page_number > 4)
                body = [c for c in opening.chars if 10.5 < c["size"] < 11.5]
                left, right = min(c["x0"] for c in body), opening.width - max(c["x1"] for c in body)
                assert opening.page_number % 2 == 1 and right > left + 5     # a recto, gutter on the right
                heads = {p.page_number: "".join(c["text"] for c in p.chars if c["size"] < 9.5 and c["top"] < 60
                                                and not c["text"].isdigit()) for p in doc.pages}
                # the rectos (left-hand pages) carry the section's title, the versos the author's name
                hebrew = lambda text: any("\u05d0" <= c <= "\u05ea" for c in text)
                rectos = [h for n, h in heads.items() if h and n % 2 == 1]
                versos = [h for n, h in heads.items() if h and n % 2 == 0]
                assert rectos and versos, heads
                assert all(hebrew(h) for h in rectos) and not any(hebrew(h) or "A" not in h for h in versos), heads
    width, title, barcode = covers["he"]
    assert title < width / 2 < barcode                       # front on the left, back with its barcode on the right
    width, title, barcode = covers["en"]
    assert barcode < width / 2 < title


def test_a_right_to_left_interior_is_reversed_for_ingramspark_and_lulu_is_warned(tmp_path):
    """IngramSpark wants a reverse-bound book's interior last page first (Lightning Source's
    "Reverse Bound (Right-to-Left) Books"): the written file is, the build says so (P125), and
    `preflight` on the written files checks them in the book's order, clean. Lulu documents no
    binding on the right: a warning (P126) names it, never a book silently bound on the left."""
    text = f"# {HEBREW[0]}\n\n" + "\n\n".join(words(HEBREW, 150, k) + "." for k in range(8)) + "\n"
    book = write_book(tmp_path / "he", text, meta("he") + "isbn:\n  print: 978-0-306-40615-7\n")
    out = tmp_path / "ingram"
    run = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "print", "--profile", "ingram")
    import json
    codes = lambda folder: {f["code"] for f in json.loads(next(folder.glob("*.report.json")).read_text())["findings"]}
    assert run.code == 0 and "P125" in codes(out) and "P126" not in codes(out), run.err
    with pdfplumber.open(next(out.glob("*-print.pdf"))) as doc:
        texts = [p.extract_text() or "" for p in doc.pages]
    half_title = next(i for i, t in enumerate(texts) if t.strip())      # the book's page 1, last in the file
    assert not texts[0].strip() and texts[-1].strip() and half_title > 0
    assert len(texts) % 2 == 0
    checked = run_cli("preflight", book, "--out", out, "--profile", "ingram")
    assert checked.code == 0 and " error" not in checked.err, checked.err
    lulu = run_cli("--book", book, "--out", tmp_path / "lulu", "--no-cache", "--edition", "print", "--profile", "lulu")
    assert "P126" in lulu.err and "P126" in codes(tmp_path / "lulu"), lulu.err


def test_a_right_to_left_paragraph_is_indented_at_its_start(books):
    """The first line of a Hebrew paragraph (after another) leaves its indent at the right, where
    the line starts, and runs to the left margin; WeasyPrint 70 put the indent on the left
    (fence/bidi.py)."""
    _, out = books["he"]
    checked = 0
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        for page in doc.pages:
            rows = defaultdict(list)
            for c in page.chars:
                if 10.5 < c["size"] < 11.5 and c["text"].strip() and c["top"] > 60:
                    rows[round(c["matrix"][5])].append(c)          # by baseline: the faces' tops differ
            lines = [(min(c["x0"] for c in cs), max(c["x1"] for c in cs))
                     for _, cs in sorted(rows.items(), reverse=True)]
            if len(lines) < 5:
                continue
            left, right = min(x0 for x0, _ in lines), max(x1 for _, x1 in lines)
            for (before, _), (x0, x1) in zip(lines, lines[1:]):
                if before > left + 30:                       # the line before ends a paragraph
                    assert x1 < right - 8 and x0 < left + 1, (page.page_number, x0, x1, left, right)
                    checked += 1
    assert checked >= 3


def test_a_block_in_another_script_keeps_the_baseline_grid(tmp_path):
    """A block of Arabic or Hebrew in an English book (`::: {lang=ar}`) keeps the book's face as
    its lines' strut (render.script_struts): its baselines stay on the leading's grid, as the
    lines around it (Noto Naskh Arabic's taller ascent and descent put them 1.2 pt off)."""
    text = ("# One\n\n" + words(LATIN, 60, 1) + ".\n\n"
            f"::: {{lang=ar}}\n{words(ARABIC, 70, 2)}.\n:::\n\n::: {{lang=he}}\n{words(HEBREW, 70, 3)}.\n:::\n\n"
            + words(LATIN, 60, 4) + ".\n")
    book = write_book(tmp_path / "book", text, meta("en"))
    run = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf")
    assert run.code == 0, run.err
    with pdfplumber.open(next((tmp_path / "out").glob("*.pdf"))) as doc:
        page = next(p for p in doc.pages if any("\u0621" <= c["text"] <= "\u064a" for c in p.chars))
        rows = defaultdict(set)
        for c in page.chars:
            if 10.5 < c["size"] < 11.5 and c["text"].strip():
                rows[round(c["matrix"][5], 2)].add(c["fontname"].split("+")[-1])
    baselines = sorted(rows, reverse=True)
    faces = {face for fs in rows.values() for face in fs}
    assert any("Naskh" in f for f in faces) and any("Hebrew" in f for f in faces) and any("Libertine" in f for f in faces)
    steps = [round((baselines[0] - b) / 14.4, 3) for b in baselines]
    assert all(abs(s - round(s)) < 0.005 for s in steps), steps
