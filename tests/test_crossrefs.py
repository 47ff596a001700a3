"""Cross-references in Quarto's syntax, built for real: numbers and words in the PDF text,
links in the PDF and the EPUB, the book's language, an essay's sections, and each error."""

from __future__ import annotations

import re
import zipfile

import pdfplumber
import pikepdf
import pytest
from PIL import Image

from conftest import run_cli, write_book

TEXT = """# The Press {#sec-press}

The hand press of @fig-press served for three centuries; @tbl-sizes lists the sheets it
printed, and @eq-area gives a sheet's area. See also [@sec-trade] and @sec-later.

![A hand press](press.png){#fig-press}

| sheet | inches |
|-------|--------|
| folio | 12 × 19 |
| quarto | 9.5 × 12 |

: Sheet sizes {#tbl-sizes}

$$A = w \\times h$$ {#eq-area}

An unlabelled figure is not numbered, and an address such as press@example.org is no reference.

# The Trade {#sec-trade}

## Later Days {#sec-later}

Back to @fig-press and @eq-area; the second figure is @fig-type.

![Type in its case](press.png){#fig-type}
"""


def meta(lang: str = "en", form: str = "book") -> str:
    return (f"title: Cross Book\nauthor: A. Writer\nlang: {lang}\nform: {form}\n"
            "identifier: urn:uuid:00000000-0000-4000-8000-0000000000aa\n")


def book_with(tmp_path, text: str = TEXT, lang: str = "en", form: str = "book"):
    book = write_book(tmp_path / "book", text, meta(lang, form))
    Image.new("RGB", (600, 400), (200, 180, 150)).save(book / "press.png", dpi=(300, 300))
    return book


def build(book, out):
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub",
                     "--validate")
    assert result.code == 0, result.err
    pdf = next(out.glob("*.pdf"))
    with pdfplumber.open(pdf) as doc:
        text = " ".join((page.extract_text() or "") for page in doc.pages).replace("\n", " ")
    return pdf, " ".join(text.split())


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    base = tmp_path_factory.mktemp("xref")
    return build(book_with(base), base / "out") + (base / "out",)


def test_references_print_as_numbered_words(english):
    _, text, _ = english
    assert "The hand press of Figure 1 served" in text
    assert "Table 1 lists the sheets" in text
    assert "and (1) gives a sheet" in text
    assert "See also Chapter 2 and Section 2.1." in text            # `[@sec-trade]` prints without brackets
    assert "Back to Figure 1 and (1); the second figure is Figure 2." in text
    assert "@fig" not in text and "@sec" not in text and "{#" not in text
    # printed as typed (a line may break before its @, as an address may: linebreak.ADDRESS)
    assert "press@example.org" in text.replace("press @example", "press@example")


def test_captions_and_equations_carry_their_numbers(english):
    _, text, _ = english
    assert "Figure 1: A hand press" in text and "Figure 2: Type in its case" in text
    assert re.search(r"Table 1: Sheet\s+sizes", text)
    assert "(1)" in text.split("Sheet sizes" if "Sheet sizes" in text else "sizes")[1]


def test_references_are_links_to_their_targets_in_the_pdf_and_the_epub(english):
    pdf, _, out = english
    with pikepdf.open(pdf) as doc:
        links = [a for page in doc.pages for a in page.get("/Annots", []) if a.get("/Subtype") == "/Link"]
        internal = [a for a in links if "/Dest" in a or ("/A" in a and a.A.get("/S") == "/GoTo")]
    assert len(internal) >= 8              # 8 references (and the contents' own links)
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        docs = {n.rsplit("/", 1)[-1]: z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml")}
    tags = [t for text in docs.values() for t in re.findall(r'<a [^>]*class="crossref"[^>]*>', text)]
    refs = [re.search(r'href="([^"]+)"', t).group(1) for t in tags]
    assert len(refs) == 8
    ids = {f"{name}#{i}" for name, text in docs.items() for i in re.findall(r' id="([^"]+)"', text)}
    for href in refs:
        doc_of = next(n for n, t in docs.items() if f'href="{href}"' in t)
        full = href if not href.startswith("#") else f"{doc_of}{href}"
        assert full in ids, href
    report = (out / "cross-book.report.json").read_text()
    assert '"E203"' not in report and '"E204"' not in report        # EPUBCheck: 0 errors, 0 warnings


def test_the_words_come_from_the_books_language_and_an_essay_has_sections(tmp_path):
    _, text = build(book_with(tmp_path / "de", lang="de"), tmp_path / "de-out")
    assert "Abbildung 1" in text and "Tabelle 1" in text and "Kapitel 2" in text and "Abschnitt 2.1" in text
    _, text = build(book_with(tmp_path / "essay", form="essay"), tmp_path / "essay-out")
    assert "See also Section 2 and Section 2.1." in text


@pytest.mark.parametrize("text, expected", [
    ("# One {#sec-one}\n\nSee @fig-gone.\n", "text.md:3:5: error: X101 cross-reference @fig-gone"),
    ("# One {#sec-one}\n\nText.\n\n# Two {#sec-one}\n\nMore.\n", "text.md:5:8: error: X102 label {#sec-one} is defined 2 times"),
])
def test_a_broken_reference_fails_at_its_place(tmp_path, text, expected):
    book = book_with(tmp_path, text)
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache")
    assert result.code == 1
    assert f"{book}/{expected}" in result.err
    assert not (tmp_path / "out").exists()


MID_SENTENCE = """# Le début {#sec-debut}

Voir @sec-suite pour la suite ; @fig-presse le montre (voir aussi *@fig-presse*). Fin. @sec-suite le dit.

![Une presse](press.png){#fig-presse}

# La suite {#sec-suite}

Fin.[^n]

[^n]: @sec-debut en parle.
"""


@pytest.mark.parametrize("lang, chapter, figure", [
    ("fr", "chapitre", "figure"), ("es", "capítulo", "figura"), ("it", "capitolo", "figura"),
    ("pt", "capítulo", "figura"), ("de", "Kapitel", "Abbildung"), ("en", "Chapter", "Figure"),
])
def test_a_reference_mid_sentence_is_lower_case_where_the_language_writes_it_so(tmp_path, lang, chapter, figure):
    """French, Spanish, Italian, Portuguese write "voir chapitre 2" mid-sentence; German keeps its
    nouns' capital and English its house style. A reference opening a sentence, or a note, and
    a caption keep the capital everywhere."""
    out = tmp_path / "out"
    result = run_cli("--book", book_with(tmp_path, MID_SENTENCE, lang=lang), "--out", out, "--no-cache",
                     "--edition", "epub")
    assert result.code == 0, result.err
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        text = " ".join(re.sub(r"<[^>]+>", "", z.read(n).decode()) for n in sorted(z.namelist())
                        if n.endswith(".xhtml"))
    text = " ".join(text.replace("\u00a0", " ").split())
    capital = chapter[0].upper() + chapter[1:]
    assert f"Voir {chapter} 2 pour la suite ; {figure} 1 le montre (voir aussi {figure} 1)." in text, text
    assert f"Fin. {capital} 2 le dit." in text, text
    assert f"{capital} 1 en parle." in text, text
    assert re.search(rf"{figure[0].upper() + figure[1:]} 1\s?: Une presse", text), text
