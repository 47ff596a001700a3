"""Citations through pandoc's citeproc, built for real: the scholarly example under examples/
(Chicago notes-bibliography, the default) and small books for the other styles, a language,
the options and each broken input."""

from __future__ import annotations

import json
import re
import shutil
import zipfile

import pdfplumber
import pytest

from conftest import ROOT, run_cli, write_book

EXAMPLE = ROOT / "examples" / "scholarly"

BIB = """@book{smith2001,
  author = {Smith, Jane},
  title = {A History of Councils},
  publisher = {Example Press},
  address = {Leeds},
  year = {2001}
}
@book{jones1999,
  author = {Jones, Tom},
  title = {Dawn Meetings},
  publisher = {Example Press},
  address = {York},
  year = {1999}
}
"""
TEXT = "# One\n\nThe council met at dawn [@smith2001, 4]. It argued until night.[^a]\n\n[^a]: As Jones tells it [@jones1999, 12].\n"


def meta(extra: str = "", lang: str = "en") -> str:
    return (f"title: Cited Book\nauthor: A. Writer\nlang: {lang}\n"
            f"identifier: urn:uuid:00000000-0000-4000-8000-00000000c17e\n{extra}")


def cited_book(tmp_path, extra: str = "bibliography: refs.bib\n", text: str = TEXT, lang: str = "en", bib: str = BIB):
    book = write_book(tmp_path / "book", text, meta(extra, lang))
    (book / "refs.bib").write_text(bib, encoding="utf-8")
    return book


def pages_text(pdf_path) -> list[str]:
    with pdfplumber.open(pdf_path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def built(book, out, *extra):
    result = run_cli("--book", book, "--out", out, "--no-cache", *extra)
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text())
    return result, report


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("scholarly")
    result = run_cli("--book", EXAMPLE, "--out", out, "--no-cache", "--validate")
    assert result.code == 0, result.err
    return out


def test_citations_become_notes_numbered_with_the_authors_own_on_their_calls_pages(example):
    pdf = next(p for p in example.glob("*.pdf") if not p.name.endswith(("-print.pdf", "-cover.pdf")))
    pages = pages_text(pdf)
    text = "\n".join(pages)
    assert "[@" not in text and "@bringhurst" not in text           # nothing printed raw
    # Eight notes in one sequence: six made of citations, two the author's.
    for number, start in [(1, "Bringhurst, The Elements of Typographic Style, 26."),
                          (2, "The same point is made"), (3, "Knuth and Plass, “Breaking Paragraphs into Lines.”"),
                          (7, "Grafton, 30."), (8, "An author’s note may cite a work too")]:
        page = next(i for i, p in enumerate(pages) if re.search(rf"(?m)^{number} {re.escape(start)}", p))
        assert page is not None
    # A citation inside the author's note is set inline in it, not as a note of its own.
    assert re.search(r"\(Tschichold, The Form of the Book, 45–47\)", text.replace("\n", " "))
    # Repeated citations shortened as the style says: the first cites the full short form, the next only the author.
    assert "Grafton, The Footnote, 23." in text and "Grafton, 30." in text
    # The bibliography, under its heading, after the text, with every work cited.
    biblio = next(i for i, p in enumerate(pages) if p.strip().startswith("Bibliography"))
    assert biblio == len(pages) - 1 or "Bibliography" in pages[biblio]
    assert "Knuth, Donald E., and Michael F. Plass." in pages[biblio]
    assert "Tschichold, Jan. The Form of the Book" in pages[biblio]


def test_each_citation_note_starts_on_its_calls_page_and_the_build_checks_say_so(example):
    report = json.loads(next(example.glob("*.report.json")).read_text())
    codes = {f["code"] for f in report["findings"]}
    assert not codes & {"L101", "L102", "N201", "N202", "C101", "C102"}
    pdf = next(p for p in example.glob("*-print.pdf"))
    pages = pages_text(pdf)
    for call_words, note in [("serves continuous reading best", "1 Bringhurst"),
                             ("accompany.", "4 Grafton, The Footnote, 1–5."),
                             ("numbered in one sequence", "6 Grafton, The Footnote, 23.")]:
        call_page = next(i for i, p in enumerate(pages) if call_words in p)
        assert note in pages[call_page], (call_words, pages[call_page])


def test_the_epub_links_citations_to_their_entries_and_passes_epubcheck(example):
    epub = next(example.glob("*.epub"))
    with zipfile.ZipFile(epub) as z:
        docs = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml")}
    links = [m for text in docs.values() for m in re.findall(r'<a href="([^"]*#ref-[^"]+)" role="doc-biblioref"', text)]
    assert len(links) >= 8
    targets = {f"{name.rsplit('/', 1)[-1]}#{i}" for name, text in docs.items() for i in re.findall(r'id="(ref-[^"]+)"', text)}
    for link in links:
        # a link inside a chapter's notes points at the bibliography's own file
        assert link in targets or (link.startswith("#") and any(t.endswith(link) for t in targets)), link
    report = json.loads(next(example.glob("*.report.json")).read_text())
    epubcheck = [f for f in report["findings"] if f["code"] in ("E203", "E204", "E205")]
    assert epubcheck == []


def test_an_author_date_style_keeps_citations_in_the_text_under_references(tmp_path):
    book = cited_book(tmp_path, "bibliography: refs.bib\ncsl: apa\n")
    out = tmp_path / "out"
    built(book, out, "--edition", "pdf")
    text = "\n".join(pages_text(next(out.glob("*.pdf")))).replace("\n", " ")
    assert "(Smith, 2001, p. 4)" in text
    assert "References" in text and "Smith, J. (2001). A history of councils." in text


def test_the_bibliography_heading_is_in_the_books_language_and_can_be_left_out(tmp_path):
    out = tmp_path / "de"
    built(cited_book(tmp_path / "a", lang="de"), out, "--edition", "pdf")
    assert "Literaturverzeichnis" in "\n".join(pages_text(next(out.glob("*.pdf"))))
    out = tmp_path / "none"
    built(cited_book(tmp_path / "b", "bibliography: refs.bib\nsuppress-bibliography: true\n"), out, "--edition", "pdf")
    text = "\n".join(pages_text(next(out.glob("*.pdf"))))
    assert "Bibliography" not in text and "Smith, Jane. A History" not in text
    assert "Smith, A History of Councils, 4." in text          # the notes stay


def test_a_csl_file_in_the_book_folder_is_used(tmp_path):
    book = cited_book(tmp_path, "bibliography: refs.bib\ncsl: house.csl\n")
    shutil.copy(ROOT / "styles" / "csl" / "modern-language-association.csl", book / "house.csl")
    out = tmp_path / "out"
    built(book, out, "--edition", "pdf")
    text = "\n".join(pages_text(next(out.glob("*.pdf")))).replace("\n", " ")
    assert "(Smith 4)" in text and "Works Cited" in text


@pytest.mark.parametrize("extra, bib, expected", [
    ("bibliography: missing.bib\n", None,
     "book.yaml:5: metadata key 'bibliography': bibliography file 'missing.bib' does not exist"),
    ("bibliography: ../refs.bib\n", None,
     "book.yaml:5: metadata key 'bibliography': bibliography file '../refs.bib' is outside the book folder"),
    ("bibliography: refs.bib\ncsl: nosuch\n", BIB,
     "book.yaml:6: metadata key 'csl': 'nosuch' is neither a .csl file in the book folder nor a bundled style"),
    ("bibliography: refs.bib\ncsl: gone.csl\n", BIB,
     "book.yaml:6: metadata key 'csl': citation style 'gone.csl' does not exist"),
    ("bibliography: refs.bib\n", BIB.replace("year = {2001}\n}", "year = {2001}\n"),
     "refs.bib:8:1: pandoc: "),
])
def test_a_bad_bibliography_or_style_is_one_line_at_its_place(tmp_path, extra, bib, expected):
    book = write_book(tmp_path / "book", TEXT, meta(extra))
    if bib is not None:
        (book / "refs.bib").write_text(bib)
    before = {p: p.read_bytes() for p in book.iterdir()}
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache")
    assert result.code == 3, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{book}/{expected}"), result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "out").exists()
    assert {p: p.read_bytes() for p in book.iterdir()} == before


def test_an_unknown_key_fails_the_build_at_the_citation(tmp_path):
    book = cited_book(tmp_path, text=TEXT.replace("@smith2001", "@smyth2001"))
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache")
    assert result.code == 1
    assert f"{book}/text.md:3:26: error: C101 citation @smyth2001: no bibliography holds this key" in result.err
    assert not (tmp_path / "out").exists()


def test_a_citation_without_a_bibliography_is_never_printed_raw(tmp_path):
    book = write_book(tmp_path / "book", TEXT, meta())
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache")
    assert result.code == 1
    assert "text.md:3:26: error: C102 citation [@smith2001, 4] but the metadata names no bibliography" in result.err


def test_the_example_numbers_its_figure_table_and_equation_and_its_page_reference_is_right(example):
    pdf = next(p for p in example.glob("*.pdf") if not p.name.endswith(("-print.pdf", "-cover.pdf")))
    pages = pages_text(pdf)
    flat = [" ".join(p.split()) for p in pages]
    text = " ".join(flat)
    assert "Figure 1 shows the text block" in text and "Table 1 gives its margins" in text
    assert "follows from them by (1);" in text and "Chapter 4 and the lines of Chapter 1" in text
    assert "Figure 1: The text block of a classical page" in text and "Table 1: The margins of the" in text
    assert "@fig" not in text and "@tbl" not in text and "{.page}" not in text
    # the page reference prints the folio of the page the figure stands on (folio = page number)
    figure_page = next(i + 1 for i, p in enumerate(flat) if "Figure 1: The text block" in p)
    assert f"as the page reference on {figure_page} shows" in text
    with zipfile.ZipFile(next(example.glob("*.epub"))) as z:
        body = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert "<math" in body and 'class="crossref"' in body and 'id="fig-page"' in body


def test_the_example_epub_is_ace_clean(example):
    """DAISY Ace (accessibility): no violations in the scholarly example's EPUB (its notes,
    bibliography links, MathML, index and cross-references)."""
    from imprint.editions.validate import ace_unavailable_reason, run_ace
    if reason := ace_unavailable_reason():
        pytest.skip(reason)
    assert list(run_ace(next(example.glob("*.epub")))) == []
