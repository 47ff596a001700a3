"""Books a new user writes (a memoir with a dedication, a Greek-titled edition with a glossary,
a Spanish essay quoting Dutch), built for real: what they met (a dedication marked `.unlisted`
listed in the contents anyway, a definition's second paragraph run into its first, a quotation
in another language's passage set in the book's marks, "Summer of '69" printed with an opening
quote, a Cyrillic or Greek title dropped from the file names)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pdfplumber
import pytest

from conftest import run_cli, write_book

MEMOIR = """\
# Dedication {.unnumbered .unlisted}

*For my mother.*

# Childhood

We lived by the river. My grandmother, from Kraków, said [Er sagte "Halt" und ging]{lang=de}
whenever a door slammed, and the Dutch neighbour [zei "dag" tegen iedereen]{lang=nl}.

Glossary
:   The words of the house, with what they meant to us.

    A second paragraph of the definition, about the river.

Stove
:   Where the soup was kept warm.

# Youth

We moved to the city.
"""


@pytest.fixture(scope="module")
def memoir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memoir")
    book = write_book(folder / "book", MEMOIR, "title: \"Записки: Summer of '69\"\nauthor: Jan Kowalski\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001515\n")
    out = folder / "out"
    _built(book, out, "pdf", "epub")
    return out


def _built(book: Path, out: Path, *editions: str):
    """The book built into `out` with those editions, exit 0; what the command line printed."""
    run = run_cli(book, "--out", out, *(a for e in editions for a in ("--edition", e)))
    assert run.code == 0, run.err
    return run


def _pdf(out: Path) -> Path:
    (pdf,) = out.glob("*.pdf")
    return pdf


def _pdf_text(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def _epub(out: Path) -> dict[str, str]:
    (epub,) = out.glob("*.epub")
    with zipfile.ZipFile(epub) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml")}


def test_a_cyrillic_title_is_transliterated_in_the_file_names(memoir):
    """"Записки: a memoir" made "a-memoir.pdf", an all-Cyrillic or Greek title "book.pdf"."""
    assert {p.name for p in memoir.iterdir()} >= {"zapiski-summer-of-69.pdf", "zapiski-summer-of-69.epub"}


def test_a_year_cut_short_in_the_title_takes_an_apostrophe(memoir):
    """pandoc prints '69 as ’69; the title's own quotes made it an opening quote, ‘69."""
    pages = _pdf_text(_pdf(memoir))
    assert "Summer of \u201969" in pages[0] and "\u201869" not in "".join(pages)


def test_an_unlisted_heading_stays_out_of_the_contents(memoir):
    """pandoc's `{.unlisted}` keeps a heading out of the table of contents (and the EPUB's)."""
    pages = _pdf_text(_pdf(memoir))
    contents = next(p for p in pages if p.lstrip().startswith("Contents"))
    assert "Childhood" in contents and "Dedication" not in contents
    assert any("Dedication" in p for p in pages)           # the page itself is printed
    nav = _epub(memoir)["EPUB/nav.xhtml"]
    toc = nav.split('epub:type="toc"')[1].split("</nav>")[0]
    assert "Childhood" in toc and "Dedication" not in toc


def test_a_passage_in_another_language_quotes_in_its_own_marks(memoir):
    """An English book's German span printed “Halt” (English marks): German writes „Halt“,
    Dutch “dag”."""
    text = " ".join(_pdf_text(_pdf(memoir)))
    assert "\u201eHalt\u201c" in text and "\u201cdag\u201d" in text
    chapter = next(t for t in _epub(memoir).values() if "Halt" in t)
    assert "\u201eHalt\u201c" in chapter


def test_a_definitions_second_paragraph_is_a_paragraph(memoir):
    """A tight definition list's definition of two paragraphs (Plain blocks) was written as
    one run of text: "…meant to us. A second paragraph…" on one line."""
    chapter = next(t for t in _epub(memoir).values() if "Stove" in t)
    dd = re.search(r"<dd>(.*?)</dd>", chapter, re.S).group(1)
    assert dd.count("<p") == 2, dd
    text = next(p for p in _pdf_text(_pdf(memoir)) if "Stove" in p)
    second = next(line for line in text.splitlines() if "second paragraph" in line)
    assert second.lstrip().startswith("A second paragraph"), text


def test_a_spanish_books_dutch_passage_quotes_as_dutch(tmp_path):
    """In a Spanish book «…» everywhere, the Dutch span's too: Dutch writes “…”."""
    book = write_book(tmp_path / "libro", '# Uno\n\nElla dijo "hola" y [hij zei "dag"]{lang=nl}.\n',
                      "title: Uno\nauthor: Ana Ruiz\nlang: es\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001516\n")
    _built(book, tmp_path / "out", "epub")
    chapter = next(t for t in _epub(tmp_path / "out").values() if "hola" in t)
    assert "\u00abhola\u00bb" in chapter and "\u201cdag\u201d" in chapter


def test_quartos_format_key_is_not_taken_for_a_misspelt_form(tmp_path):
    """A book.yaml copied from a Quarto book: `format: pdf: toc: true` was told "did you mean
    'form'?" (book or essay), and `bibliography-title` "did you mean 'bibliography'?"."""
    book = write_book(tmp_path / "utgava", "# Inledning\n\nTiden flyr.\n",
                      "title: Om Tidens Flykt\nauthor: Karin Lindqvist\nlang: sv\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001517\n"
                      "format:\n  pdf:\n    toc: true\nbibliography-title: Källor\n")
    run = run_cli("check", "-v", book)
    assert run.code == 0, run.err
    assert ("book.yaml:5: warning: M001 unknown metadata key 'format' is ignored (hint: Quarto's output formats"
            in run.err), run.err
    assert "--edition pdf" in run.err and "did you mean 'form'" not in run.err
    assert "book.yaml:8: warning: M001 unknown metadata key 'bibliography-title' is ignored (hint: use " \
           "`reference-section-title:`)" in run.err, run.err


DRAFT = """\
The text begins.[^1] It goes on.

<!--
This paragraph was cut.[^2] Its note went with it.

[^2]: The cut note
-->

<!-- TODO: check the date in note 1 [^1] -->

The text ends.[^3] <!-- [^9]: not a note -->

[^1]: The first note.

[^3]: The last note.
"""


def test_notes_commented_out_are_not_the_books(tmp_path):
    """A paragraph cut with `<!-- … -->` (its call and note inside) and a comment naming [^1]
    were read as the book's: N107 on the cut note ("…The cut note -->"), N104 "note [^1] is
    called again … as note 3" and N112, though pandoc prints none of it."""
    book = write_book(tmp_path / "draft", DRAFT, "title: Drafts\nauthor: Pat Doe\nlang: en\nform: essay\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001518\n")
    run = _built(book, tmp_path / "out", "pdf", "epub")
    assert not re.search(r"\bN1\d\d\b", run.err), run.err
    assert "2 notes" in run.out, run.out


def test_a_russian_index_opens_with_its_own_alphabet(tmp_path):
    """Letter groups were in code-point order: a Russian book's index opened with its Latin
    names (L, Z) and put А after them; its own alphabet comes first, then Latin, then Greek."""
    book = write_book(tmp_path / "leksikon", "# Глава\n\nСлова: [ёлка]{.index}, [арбуз]{.index}, "
                      "[logos]{.index}, [Zeno]{.index}, [ἀρετή]{.index}.\n",
                      "title: Лексикон\nauthor: Иван Петров\nlang: ru\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001519\n")
    _built(book, tmp_path / "out", "pdf", "epub")
    index = _pdf_text(_pdf(tmp_path / "out"))[-1]
    heads = [line.strip() for line in index.splitlines() if len(line.strip()) == 1]
    assert heads == ["А", "Е", "L", "Z", "Α"], index
    epub = next(t for t in _epub(tmp_path / "out").values() if "Предметный указатель</h1>" in t)
    epub = epub.split("Предметный указатель</h1>")[1]
    assert epub.index("арбуз") < epub.index("ёлка") < epub.index("logos") < epub.index("ἀρετή")


def test_a_greek_book_prints_its_own_words_and_quotes(tmp_path):
    """`lang: el` had no row: "Contents", "Set in", English quotes “…” and G102 in a Greek book."""
    book = write_book(tmp_path / "politeia", "# Βιβλίο Α\n\nΚατέβην χθὲς εἰς Πειραιᾶ.[^1] Εἶπε: \"καλῶς "
                      "λέγεις\".\n\n[^1]: Σημείωση.\n",
                      "title: Ἡ Πολιτεία\nauthor: Πλάτων\nlang: el\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001520\n")
    run = _built(book, tmp_path / "out", "pdf", "epub")
    assert "G102" not in run.err, run.err
    text = "\n".join(_pdf_text(_pdf(tmp_path / "out")))
    assert "Περιεχόμενα" in text and "Contents" not in text and "\u00abκαλῶς λέγεις\u00bb" in text
    epub = _epub(tmp_path / "out")
    assert "<title>Περιεχόμενα</title>" in epub["EPUB/nav.xhtml"]


@pytest.mark.parametrize("lang, printed", [("en", "\u201860s"), ("es", "\u201c60s")])
def test_a_year_pandoc_reads_as_an_opening_quote_is_named(tmp_path, lang, printed):
    """"In the '60s, and 'quoted' later": pandoc pairs the year's ' with the next one and prints
    ‘60s (“60s in Spanish) with exit 0; "From '68 to '72" it reads right and is not named."""
    book = write_book(tmp_path / "sixties", "# One\n\nIn the '60s, and a 'quoted' word later.\n\n"
                      "From '68 to '72 it rained.\n",
                      f"title: Sixties\nauthor: Pat Doe\nlang: {lang}\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001521\n")
    run = _built(book, tmp_path / "out", "pdf")
    assert f"text.md:3:8: warning: H110 “'60s” is read as an opening quote (it prints {printed})" in run.err, run.err
    assert run.err.count("H110") == 1
    assert printed in "".join(_pdf_text(_pdf(tmp_path / "out")))       # what it names is what prints


def test_a_file_that_opens_with_a_scene_break_keeps_its_text(tmp_path):
    """A chapter file continued from the one before, opening with a scene break (`---`, a
    blank line) and holding another later: the text between them was taken for front matter
    (a YAML string), dropped, and only M004 said "front matter ... is ignored". pandoc reads a
    `---` followed by a blank line as a rule."""
    book = write_book(tmp_path / "files", "# One\n\nFirst chapter text.\n",
                      "title: Files\nauthor: Pat Doe\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001522\n", name="01.md")
    (book / "02.md").write_text("---\n\nA scene break opens this file, which goes on with the chapter.\n\n---\n\n"
                                "And another after it.\n", encoding="utf-8")
    run = _built(book, tmp_path / "out", "pdf", "epub")
    assert "M004" not in run.err, run.err
    text = " ".join(" ".join(_pdf_text(_pdf(tmp_path / "out"))).split())
    assert "A scene break opens this file, which goes on with the chapter." in text
    assert "A scene break opens this file" in "".join(_epub(tmp_path / "out").values())



def test_a_captions_note_call_stays_out_of_the_list_of_tables(tmp_path):
    """A table captioned `: Manuscripts[^1]`: the list of tables printed "Table 1: Manuscripts1"
    (the note's number run into the caption), where the contents leaves headings' calls out."""
    book = write_book(tmp_path / "edition", "# Sources\n\n| Manuscript | Year |\n|---|---:|\n| A | 1742 |\n\n"
                      ": Manuscripts[^1] {#tbl-ms}\n\nSee @tbl-ms.\n\n[^1]: After the catalogue.\n",
                      "title: Edition\nauthor: Karin Lindqvist\nlang: en\nlot: true\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001523\n")
    _built(book, tmp_path / "out", "pdf", "epub")
    pages = _pdf_text(_pdf(tmp_path / "out"))
    listing = next(p for p in pages if p.lstrip().startswith("Tables"))
    assert re.search(r"Table 1: Manuscripts \d+$", listing.splitlines()[1]), listing
    nav = _epub(tmp_path / "out")["EPUB/nav.xhtml"]
    assert "Table 1: Manuscripts</a>" in nav, nav


@pytest.mark.parametrize("manuscript", [
    # an `<!--` never closed is text (pandoc prints it): the notes after it are the book's
    "# One\n\nText <!-- the author forgot to close this.\n\nA call[^1] and a missing one[^2].\n\n"
    "[^1]: Note.\n\n[^3]: Unused note.\n",
    # a comment closed on an indented line after a blank line is closed there, not a code block
    "# One\n\nText <!-- cut\n\n    still cut [^9] -->\n\nA call[^1] and a missing one[^2].\n\n"
    "[^1]: Note.\n\n[^3]: Unused note.\n",
], ids=["unclosed", "closed-indented"])
def test_the_notes_after_a_comment_are_read(tmp_path, manuscript):
    """An unclosed `<!--` hid every note after it: no N101 for [^2] (printed raw as "[^2]"), no
    N102 for [^3], the book built clean; a comment closed on an indented line after a blank line
    was never seen closed, and hid them the same way."""
    book = write_book(tmp_path / "unclosed", manuscript, "title: Unclosed\nauthor: Pat Doe\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001524\n")
    run = run_cli("check", book)
    lines = manuscript.split("\n")
    call = next(i for i, line in enumerate(lines, 1) if "[^2]" in line)
    assert re.search(rf"text\.md:{call}:\d+: error: N101 .*\[\^2\]", run.err), run.err
    assert re.search(rf"text\.md:{call + 4}:1: error: N102 .*\[\^3\]", run.err), run.err
    assert "[^1]" not in run.err and "[^9]" not in run.err, run.err


def test_prose_between_two_rules_opening_a_file_is_kept(tmp_path):
    """A chapter file opening with `---` and prose straight under it (no blank line), a `---`
    later: the text between them was dropped as front matter with only M004. It is front matter
    only when it is a YAML mapping, as pandoc reads it."""
    book = write_book(tmp_path / "scenes", "# One\n\nFirst chapter.\n",
                      "title: Scenes\nauthor: Pat Doe\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001525\n", name="01.md")
    (book / "02.md").write_text("---\nThe second chapter opens mid-scene, with no heading.\n\nMore of its text.\n\n"
                                "---\n\nNext scene.\n", encoding="utf-8")
    (book / "03.md").write_text("---\ntitle: An old draft's title\n---\n\nThe third file.\n", encoding="utf-8")
    run = _built(book, tmp_path / "out", "epub")
    assert run.err.count("M004") == 1 and "03.md:1: warning: M004" in run.err, run.err
    text = "".join(_epub(tmp_path / "out").values())
    assert "The second chapter opens mid-scene, with no heading." in text and "More of its text." in text
    assert "Next scene." in text and "The third file." in text and "old draft" not in text


KAZAKH = """\
# Intro

text

# Secret {.unlisted}

text

## Inside secret

text

# Last

text

## Last sub

text
"""


@pytest.fixture(scope="module")
def qazaq(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qazaq")
    book = write_book(folder / "book", KAZAKH, "title: \"Қазақ: Songs of '69 and 'love'\"\n"
                      "subtitle: \"'Tis the '90s\"\nauthor: Pat Doe\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001526\n")
    out = folder / "out"
    _built(book, out, "pdf", "epub")
    return out


def test_an_unlisted_headings_sections_stay_out_of_the_contents(qazaq):
    """`# Secret {.unlisted}` was left out, but its `## Inside secret` was listed, under Intro;
    pandoc's --toc leaves out the whole section."""
    pages = _pdf_text(_pdf(qazaq))
    contents = next(p for p in pages if p.lstrip().startswith("Contents"))
    assert "Last sub" in contents and "Inside secret" not in contents and "Secret" not in contents, contents
    assert any("Inside secret" in p for p in pages[pages.index(contents) + 1:])
    nav = _epub(qazaq)["EPUB/nav.xhtml"]
    toc = nav.split('epub:type="toc"')[1].split("</nav>")[0]
    assert "Last sub" in toc and "Inside secret" not in toc and "Secret" not in toc, toc


def test_a_kazakh_title_keeps_its_letters_in_the_file_names(qazaq):
    """Қ and ү had no row in the table and were dropped: "Қазақ" made "aza-…"."""
    assert {p.name for p in qazaq.iterdir()} >= {"qazaq-songs-of-69-and-love.pdf",
                                                  "qazaq-songs-of-69-and-love.epub"}


def test_a_year_and_a_quotation_in_the_title_pair_as_written(qazaq):
    """"Songs of '69 and 'love'" printed ‘69 and ‘love’ (the ' after love taken to close '69),
    "'Tis the '90s" ‘Tis the ‘90s."""
    title = next(" ".join(p.split()) for p in _pdf_text(_pdf(qazaq)) if "Pat Doe" in p)    # the title page
    assert "Songs of \u201969 and \u2018love\u2019" in title, title
    assert "\u2019Tis the \u201990s" in title, title


def test_a_year_is_named_only_where_pandoc_misread_it(tmp_path):
    """H110 named five places, four wrongly: quotations that open with a figure ('20 minutes
    later,', '99 bottles of beer', '12 o'clock') and a '60s pandoc read right, named because
    another paragraph's was misread."""
    book = write_book(tmp_path / "quotes", "# One\n\n'20 minutes later,' she said, 'we left.'\n\n"
                      "'99 bottles of beer' is a song she sang.\n\nIn the '60s we danced.\n\n"
                      "The '60s and the 'quoted' word.\n\nHe said '12 o'clock' was late.\n\n"
                      "In '68 we sang 'Hey Jude' loudly.\n",
                      "title: Quotes\nauthor: Pat Doe\nlang: en-GB\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001527\n")
    run = run_cli("check", book)
    found = re.findall(r"text\.md:(\d+):(\d+): warning: H110", run.err)
    assert found == [("9", "5"), ("13", "4")], run.err
