"""French spacing across the markup, built for real: a ; : ! ? or » typed against emphasis, a
link, a note call, a code span, small capitals, a citation or a quotation gets the narrow no-break
space (U+202F) French writes before it, as it does against a plain word; guillemets typed against
markup get theirs inside; addresses, code, index marks and other languages keep their characters."""

from __future__ import annotations

import zipfile

import pdfplumber
import pytest

from conftest import run_cli, write_book

N = "\u202f"

META = ("title: Les Marques\nauthor: Louise Marchetti\nlang: fr\nbibliography: refs.bib\ncsl: chicago-author-date\n"
        "identifier: urn:uuid:00000000-0000-4000-8000-000000001515\n")

BIB = """@book{doe2001,
  author = {Doe, Jane},
  title = {Histoire des conseils},
  publisher = {Exemple},
  address = {Lyon},
  year = {2001}
}
"""

TEXT = """# La nuit

Cria *quelqu’un*; puis **fort**! Voir [le lien](https://example.org)? Un mot[^1]; du `code`: et
[Paris]{.smallcaps}: enfin "cité"? Et «*titre*» puis « *sous-titre* ». Il le dit [@doe2001]? Un
autre[^2] ; puis rien. Il cria «halte» et partit.

Restent : 10:30, 3:2, *x*:30, super*bien*:) ou super:) et `a;b:c`, doi:10.1000/182, <https://example.org/q?x=1>,
[Quoi; non?](https://example.org/quoi), [Hello; you?]{lang=en}, [Paris!Louvre]{.index} et fin.

[^1]: Une note.
[^2]: Une autre note.
"""

# (what the EPUB's chapter holds, what the PDF draws): each failed before the rule crossed nodes
CASES = {
    "emphasis": ("<em>quelqu’un</em>\u202f; puis", "quelqu’un\u202f;"),
    "strong": ("<strong>fort</strong>\u202f!", "fort\u202f!"),
    "link": ('le lien</a>\u202f?', "lien\u202f?"),
    "note call": ('epub:type="noteref">1</a>\u202f; du', "mot1\u202f;"),
    "code": ("<code>code</code>\u202f: et", "code\u202f:"),
    "small caps": ('<span class="smallcaps">Paris</span>\u202f:', "Paris\u202f:"),
    "quotation": ("«\u202fcité\u202f»\u202f?", "«\u202fcité\u202f»\u202f?"),
    "guillemets around markup": ("«\u202f<em>titre</em>\u202f» puis", "«\u202ftitre\u202f»"),
    "citation": ("(Doe 2001)</a></span>\u202f?", "2001)\u202f?"),
    "guillemets typed against a word": ("«\u202fhalte\u202f»", "«\u202fhalte\u202f»"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    book = write_book(tmp_path_factory.mktemp("roman") / "book", TEXT, META)
    (book / "refs.bib").write_text(BIB, encoding="utf-8")
    out = book.parent / "out"
    run = run_cli(book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    assert run.code == 0, run.err
    with zipfile.ZipFile(out / "les-marques.epub") as z:
        chapter = z.read("EPUB/text/chapter-001.xhtml").decode("utf-8")
    with pdfplumber.open(out / "les-marques.pdf") as pdf:
        # total-fit line breaking keeps the spaces it does not break at as U+00A0: the narrow
        # no-break spaces are what is looked for
        drawn = "".join(c["text"] for p in pdf.pages for c in p.chars).replace("\u00a0", " ")
    return chapter, drawn


@pytest.mark.parametrize("case", CASES)
def test_a_mark_after_markup_gets_its_narrow_space(built, case):
    chapter, drawn = built
    epub, pdf = CASES[case]
    assert epub in chapter, chapter
    assert pdf in drawn, drawn


def test_addresses_code_index_marks_and_other_languages_keep_their_characters(built):
    chapter, drawn = built
    kept = ("10:30", "3:2", "<em>x</em>:30", "<em>bien</em>:) ou super:)", "<code>a;b:c</code>", "doi:10.1000/182",
            ">https://example.org/q?x=1</a>", ">Quoi; non?</a>", '<span lang="en">Hello; you?</span>',
            ">Paris!Louvre</span>")
    for text in kept:
        assert text in chapter, (text, chapter)
    # the space the author typed after the note call is made narrow, as before
    assert 'epub:type="noteref">2</a>\u202f; puis' in chapter
    # and no narrow space anywhere else: the first paragraph's 17, the second only its typed one
    first, second = chapter.split("Restent")
    assert first.count(N) == 17 and second.count(N) == 1, (first.count(N), second.count(N))   # "Restent :"
    assert "x:30" in drawn and "bien:)" in drawn and "super:)" in drawn and "a;b:c" in drawn and "Hello;" in drawn


def test_a_book_with_marks_after_markup_only_is_respaced(tmp_path):
    # no straight quote and no mark typed against a word: the marks after markup alone must send
    # the book through the rewriting (languages.quotes_change)
    book = write_book(tmp_path / "book", "# Un\n\nCria *quelqu’un*; puis **fort**! Et «*titre*».\n",
                      "title: Court\nauthor: Louise Marchetti\nlang: fr\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001516\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--no-cache", "--edition", "epub")
    assert run.code == 0, run.err
    with zipfile.ZipFile(out / "court.epub") as z:
        chapter = z.read("EPUB/text/chapter-001.xhtml").decode("utf-8")
    assert f"<em>quelqu’un</em>{N}; puis <strong>fort</strong>{N}! Et «{N}<em>titre</em>{N}»." in chapter, chapter


def test_a_note_call_before_the_mark_is_french_usage_not_a_warning(tmp_path):
    """French sets the call before the punctuation (Imprimerie nationale): no N113 there; the
    same text in English gets it (house style: the call follows the mark)."""
    text = "# Un\n\nUn mot[^1]; et la fin[^2].\n\n[^1]: Une note.\n[^2]: Une autre.\n"
    found = {}
    for lang in ("fr", "en"):
        book = write_book(tmp_path / lang, text, f"title: Court\nauthor: Louise Marchetti\nlang: {lang}\n"
                          "identifier: urn:uuid:00000000-0000-4000-8000-000000001517\n")
        run = run_cli(book, "--out", tmp_path / f"out-{lang}", "--no-cache", "--edition", "epub")
        assert run.code == 0, run.err
        found[lang] = run.err.count("N113")
    assert found == {"fr": 0, "en": 2}, found


def test_a_french_book_with_the_default_note_style_and_ratios_in_markup(tmp_path):
    """The default style (chicago-note-bibliography) moves the punctuation before its note and
    leaves an empty text after the citation: the book builds (it crashed: review rev15b); a
    ratio or time with markup on either side of its colon gets no space (`**16**:**9**`)."""
    book = write_book(tmp_path / "book", "# Un\n\nIl le dit [@doe2001]. Puis [@doe2001, p. 3]? Format "
                      "**16**:**9** et 16:**9** et *8*:*15*; fin.\n",
                      "title: Court\nauthor: Louise Marchetti\nlang: fr\nbibliography: refs.bib\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001518\n")
    (book / "refs.bib").write_text(BIB, encoding="utf-8")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--no-cache", "--edition", "epub")
    assert run.code == 0, run.err
    with zipfile.ZipFile(out / "court.epub") as z:
        chapter = z.read("EPUB/text/chapter-001.xhtml").decode("utf-8")
    assert "<strong>16</strong>:<strong>9</strong>" in chapter and "16:<strong>9</strong>" in chapter, chapter
    assert f"<em>15</em>{N};" in chapter, chapter
