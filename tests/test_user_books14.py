"""Books a new user (a scholar, a novelist, a cook) writes, built for real: what they met (a
bibliography whose CSL style asks for hanging indents, a numeric style's numbers on a line of
their own above each entry)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pdfplumber

from conftest import run_cli, write_book

BIB = """\
@book{braudel1979,
  author = {Braudel, Fernand},
  title = {Civilisation matérielle, économie et capitalisme, quinzième au dix-huitième siècle, tome premier},
  publisher = {Armand Colin}, address = {Paris}, year = {1979}
}
@article{devries2010,
  author = {de Vries, Jan},
  title = {The limits of globalization in the early modern world, with a long subtitle that turns over},
  journal = {The Economic History Review}, volume = {63}, number = {3}, pages = {710--733}, year = {2010}
}
@book{unger1959,
  author = {Unger, W. S.},
  title = {Trade through the {Sound} in the seventeenth and eighteenth centuries and after them},
  publisher = {Cambridge University Press}, year = {1959}
}
"""

NUMERIC_CSL = """\
<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Tiny numeric</title><id>tiny-numeric</id><updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation collapse="citation-number">
    <sort><key variable="citation-number"/></sort>
    <layout prefix="[" suffix="]" delimiter=", "><text variable="citation-number"/></layout>
  </citation>
  <bibliography second-field-align="flush" entry-spacing="1">
    <layout>
      <text variable="citation-number" prefix="[" suffix="]"/>
      <group delimiter=". " suffix=".">
        <names variable="author"/>
        <text variable="title" font-style="italic"/>
        <date variable="issued"><date-part name="year"/></date>
      </group>
    </layout>
  </bibliography>
</style>
"""

TEXT = """\
# Grain

Grain moved west [@unger1959] and prices converged, or did not [@devries2010; @braudel1979].
"""


def _cited(folder: Path, csl: str) -> Path:
    book = write_book(folder, TEXT, "title: Grain\nauthor: Kim Lee\nlang: en\ntrim: 5.5x8.5\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001414\n"
                      f"bibliography: refs.bib\ncsl: {csl}\n")
    (book / "refs.bib").write_text(BIB, encoding="utf-8")
    return book


def _bibliography_lines(pdf_path: Path, heading: str) -> list[list]:
    """The last page's lines after `heading`, each a list of its words (x0, top, text)."""
    with pdfplumber.open(pdf_path) as pdf:
        for page in reversed(pdf.pages):
            words = page.extract_words()
            if any(w["text"] == heading for w in words):
                break
    rows: dict[int, list] = {}
    for w in words:
        rows.setdefault(round(w["top"]), []).append(w)
    lines = [sorted(r, key=lambda w: w["x0"]) for _, r in sorted(rows.items())]
    start = next(i for i, line in enumerate(lines) if line[0]["text"] == heading)
    return lines[start + 1:]


def test_a_hanging_indent_style_turns_each_entrys_lines_over_indented(tmp_path):
    # chicago-author-date (like every bundled style) says hanging-indent="true": pandoc marks the
    # bibliography `hanging-indent`, which no stylesheet read, so entries and their turned-over
    # lines all stood flush left, one entry running into the next
    book = _cited(tmp_path / "book", "chicago-author-date")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf", "--edition", "epub")
    assert run.code == 0, run.err
    lines = _bibliography_lines(out / "grain.pdf", "References")
    starts = [line for line in lines if line[0]["text"] in ("Braudel,", "Unger,", "Vries,")]
    assert len(starts) == 3, [[w["text"] for w in line] for line in lines]
    left = min(line[0]["x0"] for line in starts)
    turned = [line for line in lines if line not in starts]
    assert turned, "no entry turned over"
    for line in turned:
        assert line[0]["x0"] - left > 15, (line[0]["text"], line[0]["x0"], left)   # 2em at 11pt: 22pt
    with zipfile.ZipFile(out / "grain.epub") as z:
        css = z.read("EPUB/css/epub.css").decode()
        xhtml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert 'csl-bib-body hanging-indent' in xhtml
    assert ".csl-bib-body.hanging-indent .csl-entry" in css


def test_a_numeric_styles_numbers_stand_beside_their_entries(tmp_path):
    # second-field-align="flush": pandoc puts the number in a csl-left-margin block and the entry
    # in csl-right-inline; unstyled, "[1]" stood on a line of its own above its entry.
    # entry-spacing="1": a line between entries.
    book = _cited(tmp_path / "book", "num.csl")
    (book / "num.csl").write_text(NUMERIC_CSL, encoding="utf-8")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    lines = _bibliography_lines(out / "grain.pdf", "References")
    numbered = [line for line in lines if line[0]["text"] in ("[1]", "[2]", "[3]")]
    assert len(numbered) == 3, [[w["text"] for w in line] for line in lines]
    for line in numbered:
        assert len(line) > 1, f"{line[0]['text']} stands alone on its line"
    second = numbered[0][1]["x0"]
    tops = [line[0]["top"] for line in numbered]
    for line in lines:
        if line not in numbered:
            assert abs(line[0]["x0"] - second) < 1, (line[0]["text"], line[0]["x0"], second)   # under the entry, not the number
    gaps = [b - a for a, b in zip(tops, tops[1:])]
    assert all(g > 3 * 14.4 - 1 for g in gaps), gaps   # two lines and a blank line between entries


def _page_lines(pdf_path: Path, index: int) -> list[str]:
    with pdfplumber.open(pdf_path) as pdf:
        return [line for line in (pdf.pages[index].extract_text() or "").splitlines() if line.strip()]


def test_a_french_books_names_are_joined_with_et(tmp_path):
    # two authors and two translators in a French novel: the title page, the running head and
    # the EPUB's title page printed "Émile Ducasse et ..." as "... and ...": English in a French book
    book = write_book(tmp_path / "roman", "# La première nuit\n\n« Vous venez ? » demanda-t-elle.\n",
                      "title: Les Nuits\nauthor: [Émile Ducasse, Louise Marchetti]\n"
                      "translator: [Anne Petit, Jean Morel, Paul Roux]\nlang: fr\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001415\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf", "--edition", "epub")
    assert run.code == 0, run.err
    with pdfplumber.open(out / "les-nuits.pdf") as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "Émile Ducasse et Louise Marchetti" in text, text
    assert "Traduit par Anne Petit, Jean Morel et Paul Roux" in text, text
    assert " and " not in text
    with zipfile.ZipFile(out / "les-nuits.epub") as z:
        xhtml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert "et Louise Marchetti" in xhtml and "Morel et Paul" in xhtml   # the author line in its balanced halves
    assert " and " not in xhtml


def test_an_initial_is_never_parted_from_the_name_after_it_on_the_title_page(tmp_path):
    # "Margarethe Olsen-Lindqvist and J. P. Okonkwo" did not fit the 5.5x8.5 title page: the
    # balancing broke it after "J." (a full stop reads as a sentence's end in a title), leaving
    # "P. Okonkwo" on the second line
    book = write_book(tmp_path / "mono", "# Introduction\n\nThe Baltic grain trade.\n",
                      "title: Bread and Borders\nauthor: [Margarethe Olsen-Lindqvist, J. P. Okonkwo]\n"
                      "lang: en-GB\ntrim: 5.5x8.5\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001416\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    lines = _page_lines(out / "bread-and-borders.pdf", 2)   # half-title, its verso, the title page
    assert any("Okonkwo" in line for line in lines), lines
    assert len([line for line in lines if "Lindqvist" in line or "Okonkwo" in line]) == 2, lines   # it does not fit one line
    assert not any(line.rstrip().endswith(("J.", "P.")) for line in lines), lines


def test_a_title_with_a_dash_between_years_keeps_them_apart_in_the_file_names(tmp_path):
    # "… in the Baltic, 1650–1750": the en dash was dropped with the accents, and the files were
    # named "…-baltic-16501750.pdf"
    book = write_book(tmp_path / "mono", "# Introduction\n\nThe Baltic grain trade.\n",
                      "title: Grain in the Baltic, 1650–1750\nauthor: Kim Lee\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001417\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    assert (out / "grain-in-the-baltic-1650-1750.pdf").is_file(), sorted(p.name for p in out.iterdir())


DL_TEXT = """\
# Stock

A paragraph before the list of terms, long enough to fill a line or two of the page so that we
see where its lines stand on the grid of the page.

Ingredients
:   - 2 tbsp olive oil
    - 1 large onion, quartered

Term
: A longer definition that wraps onto a second line so that we see how it hangs under its term on the page.

A paragraph after the list of terms, long enough to fill a line or two of the page so that we
see where its lines stand on the grid of the page.
"""


def test_a_definition_list_keeps_the_text_on_the_baseline_grid(tmp_path):
    # a cookbook's "Ingredients" / "Method" definition list: no stylesheet set dl, so the
    # browser's 1em (11 pt) margins put every line after it 3.4 pt off the 14.4 pt grid, and a
    # list that is the definition stood a blank line below its term
    book = write_book(tmp_path / "cook", DL_TEXT, "title: Stock\nauthor: Kim Lee\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001418\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    with pdfplumber.open(out / "stock.pdf") as pdf:
        page = next(p for p in pdf.pages if "Ingredients" in (p.extract_text() or ""))
        words = page.extract_words()
    rows: dict[float, str] = {}
    for w in words:
        rows.setdefault(round(w["bottom"], 1), w["text"])
    first = min(b for b, t in rows.items() if t == "A")
    bottoms = sorted(b for b in rows if b >= first)
    for b in bottoms:
        off = (b - first) % 14.4
        assert min(off, 14.4 - off) < 0.5, (rows[b], b - first)
    term = next(b for b, t in rows.items() if t == "Ingredients")
    item = next(b for b, t in rows.items() if t == "•")
    assert abs(item - term - 14.4) < 0.5, item - term


def test_a_key_another_tool_uses_is_named_with_the_key_that_does_it_here(tmp_path):
    # a poet's book.yaml from another tool: `copyright:` (the copyright page's line) was only
    # "unknown ... remove it", and the © line was silently missing from the copyright page;
    # `dedication:` was told "did you mean 'edition'?"
    book = write_book(tmp_path / "poems", "# Low Water\n\n| The tide goes out.\n",
                      "title: Tidewater Hours\nauthor: Oisín Mac Giolla\nlang: en-IE\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001419\n"
                      "copyright: © 2026 Oisín Mac Giolla\ndedication: For M.\nepigraph: The sea.\n")
    run = run_cli("check", "-v", book)
    assert run.code == 0, run.err
    assert "book.yaml:5: warning: M001 unknown metadata key 'copyright' is ignored (hint: use `rights:`" in run.err, run.err
    assert "book.yaml:6: warning: M001 unknown metadata key 'dedication' is ignored (hint: write it in the manuscript" in run.err
    assert "book.yaml:7: warning: M001 unknown metadata key 'epigraph' is ignored (hint: write it in the manuscript" in run.err


NOTE_BLOCKS = """\
# Erstes Kapitel

Die Straßenbahn fuhr um 8:15 Uhr, die Linie 5, die alte.[^1]

[^1]: Siehe die Tabelle:

    | Jahr | Fahrgäste | Bemerkung |
    |------|----------:|-----------|
    | 1900 | 12 000 | Eröffnung der Linie |
    | 1901 | 14 500 | |

    Begriffe:

    Linie
    : eine Strecke.

    Wagen
    : ein Fahrzeug.
"""


def test_a_notes_definition_list_and_table_head_are_set_as_in_the_text(tmp_path):
    # a definition list in a note ran flush left, each definition a blank line below its term
    # (pandoc's newlines inside the span), indistinguishable from the terms; a note's table had
    # no rule under its head, the text's tables have one
    book = write_book(tmp_path / "buch", NOTE_BLOCKS, "title: Die Brücke\nauthor: Anna Müller\nlang: de\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001420\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    with pdfplumber.open(out / "die-brucke.pdf") as pdf:
        page = next(p for p in pdf.pages if "Fahrzeug." in (p.extract_text() or ""))
        words = {w["text"]: w for w in page.extract_words()}
        rules = [r for r in page.rects + page.lines if abs(r["bottom"] - r["top"]) < 1.5]
    term, definition, next_term = words["Linie"], words["eine"], words["Wagen"]
    assert definition["x0"] - term["x0"] > 8, (term["x0"], definition["x0"])
    assert definition["top"] - term["top"] < 13, "a blank line between the term and its definition"
    assert abs(next_term["x0"] - term["x0"]) < 0.5
    head, row = words["Jahr"], words["1900"]
    assert any(head["bottom"] <= r["top"] <= row["top"] and r["x0"] <= head["x0"] for r in rules), \
        [(r["x0"], r["top"]) for r in rules]


def test_the_printers_sizes_bind_the_print_edition_alone(tmp_path):
    # a square book of 7 x 7 in for Lulu (which prints 7.5 x 7.5 but not 7 x 7), margins under
    # Lulu's minimum: `--edition epub` (an EPUB has no page) and `--edition pdf` (a download) were
    # refused with exit 3 as if printed; README: only the editions being built decide
    book = write_book(tmp_path / "square", "# One\n\nText.\n",
                      "title: Square\nauthor: Kim Lee\nlang: en\nprofile: lulu\ntrim: 7x7\n"
                      "margins: {inner: 0.5in, outer: 12mm, top: 0.6in, bottom: 0.6in}\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001421\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf", "--edition", "epub")
    assert run.code == 0, run.err
    with pdfplumber.open(out / "square.pdf") as pdf:
        assert (pdf.pages[0].width, pdf.pages[0].height) == (504, 504)
        page = next(p for p in pdf.pages if "Text." in (p.extract_text() or ""))
        assert min(c["x0"] for c in page.chars if c["text"].strip()) > 12 * 72 / 25.4 - 1
    assert (out / "square.epub").is_file()
    printed = run_cli(book, "--out", tmp_path / "out2")
    assert printed.code == 3 and "book.yaml:5: metadata key 'trim': 7x7 (7 x 7 in) is a size Lulu paperback does not print" in printed.err
    assert run_cli("check", book).code == 3     # the whole book, the print edition with it


def test_a_pdf_only_build_still_keeps_the_text_off_the_pages_edge(tmp_path):
    # review of the fix above: with the printer's minimums gone from a PDF-only build, margins of
    # 0 were taken, exit 0, the text set to the page's edge
    book = write_book(tmp_path / "edge", "# One\n\nText.\n",
                      "title: Edge\nauthor: Ada Byron\nlang: en\nmargins: {inner: 0, outer: 0, top: 0, bottom: 0}\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001427\n")
    run = run_cli(book, "--out", tmp_path / "out", "--edition", "pdf")
    assert run.code == 3, run.err
    assert "metadata key 'margins':" in run.err and "touch the page's edge" in run.err, run.err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.pdf"))
    wide = write_book(tmp_path / "wide", "# One\n\nText.\n",
                      "title: Wide\nauthor: Ada Byron\nlang: en\nmargins: {inner: 0.3in, outer: 0.3in, top: 0.7in, bottom: 0.3in}\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001428\n")
    assert run_cli(wide, "--out", tmp_path / "out2", "--edition", "pdf").code == 0


def test_a_list_of_tables_asked_for_with_no_captioned_table_is_named(tmp_path):
    # `lot: true` in a cookbook whose tables have no caption (and `lof: true` with no figure):
    # exit 0, no list printed, not a word said
    book = write_book(tmp_path / "cook", "# Stocks\n\n| Flour | 1 cup |\n|---|---|\n| Sugar | 1 cup |\n\n"
                      "![A pot of stock](pot.png)\n",
                      "title: Soups\nauthor: Hanna de Boer\nlang: en\nlof: true\nlot: true\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001422\n")
    from PIL import Image
    Image.new("RGB", (300, 200), "white").save(book / "pot.png")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    assert "book.yaml:5: warning: M006 `lot: true`, but no table has a caption: no list of tables is printed" in run.err
    assert "lof: true`" not in run.err      # the figure has its caption: its list is printed
    with pdfplumber.open(out / "soups.pdf") as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    assert "Figures" in text and "Tables" not in text


def test_a_list_of_figures_entry_turns_over_hung_like_the_contents(tmp_path):
    # the list of figures' entries had no .toc-text: each stood 1.2em in from the contents'
    # entries and a long caption turned over flush with its first line
    book = write_book(tmp_path / "poems", "# Low Water\n\n| The tide goes out.\n\n"
                      "![A tall narrow picture with a caption that is long enough to run to two lines under it in the list](tall.png)\n",
                      "title: Tidewater Hours\nauthor: Oisín Mac Giolla\nlang: en\nlof: true\ntrim: 5.5x8.5\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001423\n")
    from PIL import Image
    Image.new("RGB", (200, 300), "white").save(book / "tall.png")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    with pdfplumber.open(out / "tidewater-hours.pdf") as pdf:
        def first_words(heading):
            page = next(p for p in pdf.pages if (p.extract_text() or "").split("\n")[0].strip().lower() == heading)
            rows: dict[int, list] = {}
            for w in page.extract_words():
                rows.setdefault(round(w["top"]), []).append(w)
            return [min(r, key=lambda w: w["x0"]) for _, r in sorted(rows.items())][1:]
        contents, figures = first_words("contents"), first_words("figures")
    assert figures[0]["text"] == "A" and abs(figures[0]["x0"] - contents[0]["x0"]) < 0.5, (figures[0], contents[0])
    assert 10 < figures[1]["x0"] - figures[0]["x0"] < 16, (figures[1]["text"], figures[1]["x0"], figures[0]["x0"])


def test_a_french_semicolon_typed_against_its_word_gets_its_space(tmp_path):
    # a French novel: "quelqu'un; puis", "entra;", "Quoi?!" typed without the space French
    # writes before ; : ! ?: set as typed in both editions, though the typed ones got a narrow
    # no-break space; a time (8:15) and an address keep their colons
    book = write_book(tmp_path / "roman", "# La nuit\n\nCria quelqu'un; puis, à 8:15, Charcot entra: Quoi?! "
                      "Voir <https://exemple.fr/nuit>.\n",
                      "title: Les Nuits\nauthor: Louise Marchetti\nlang: fr\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001424\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf", "--edition", "epub")
    assert run.code == 0, run.err
    with zipfile.ZipFile(out / "les-nuits.epub") as z:
        xhtml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert "quelqu’un\u202f; puis" in xhtml and "entra\u202f: Quoi\u202f?! " in xhtml, xhtml
    assert "8:15" in xhtml and "https://exemple.fr/nuit" in xhtml
    with pdfplumber.open(out / "les-nuits.pdf") as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    assert "quelqu’un ; puis" in text.replace("\u202f", " "), text


def test_french_spacing_stays_out_of_addresses_index_marks_and_other_languages(tmp_path):
    # review of the rule above: it spaced "?" in a written-out address ("q ?x=1"), the "!" of an
    # index mark (the entry no longer filed under its head word) and an English passage
    book = write_book(tmp_path / "roman", "# Un\n\nLe [Paris!Louvre]{.index} est grand. Le [Paris!Orsay]{.index} "
                      "aussi. Voir <https://example.org/q?x=1>. Il dit [Hello; how are you?]{lang=en} puis "
                      "partit; enfin.\n",
                      "title: Index\nauthor: Louise Marchetti\nlang: fr\nindex: true\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001425\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "epub")
    assert run.code == 0, run.err
    assert run.err.count("X203") == 2, run.err      # the marks are read as entry and sub-entry
    with zipfile.ZipFile(out / "index.epub") as z:
        xhtml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert "q?x=1" in xhtml and "Hello; how are you?" in xhtml and "partit\u202f; enfin" in xhtml, xhtml
    assert "Paris!Louvre" in xhtml and "\u202f!" not in xhtml


def test_code_in_the_metadata_keeps_its_characters(tmp_path):
    # review of M007: `__init__` in a title was read as emphasis once its backticks went
    # ("Understanding init" on the title page and in the EPUB's title)
    book = write_book(tmp_path / "code", "# One\n\nText.\n",
                      "title: Understanding `__init__` and `*args`\nauthor: Ada Byron\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001426\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "epub")
    assert run.code == 0 and "M007" in run.err, run.err
    [epub] = out.glob("*.epub")
    with zipfile.ZipFile(epub) as z:
        opf = next(z.read(n).decode() for n in z.namelist() if n.endswith(".opf"))
    assert "Understanding __init__ and *args</dc:title>" in opf, opf


def test_markdown_in_the_metadata_never_prints_its_marks(tmp_path):
    # pandoc users write Markdown in the metadata: `title: The Voyage of the *Beagle*` printed
    # "*Beagle*" on the half-title, the title page, the cover, the PDF's and the EPUB's titles, exit 0;
    # the corpus books' `rights:` printed "[CC0 1.0 ...](https://...)" on their copyright pages
    book = write_book(tmp_path / "beagle", "# One\n\nText.\n",
                      'title: "The Voyage of the *Beagle*"\nsubtitle: "On H~2~O"\nauthor: Charles Darwin\nlang: en-GB\n'
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001425\n"
                      'rights: "[CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/)"\n')
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf", "--edition", "epub")
    assert run.code == 0, run.err
    assert "book.yaml:1: warning: M007 metadata key 'title' holds Markdown (*Beagle*)" in run.err, run.err
    assert "book.yaml:6: warning: M007 metadata key 'rights' holds Markdown" in run.err
    with pdfplumber.open(out / "the-voyage-of-the-beagle.pdf") as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
        title = pdf.metadata.get("Title")
    with zipfile.ZipFile(out / "the-voyage-of-the-beagle.epub") as z:
        epub = "".join(z.read(n).decode() for n in z.namelist() if n.endswith((".xhtml", ".opf", ".ncx")))
    for printed in (text, epub):
        assert "*" not in printed and "~" not in printed and "](" not in printed, printed
        assert "The Voyage of the Beagle" in printed and "On H₂O" in printed
        assert "CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/)" in printed
    assert title == "The Voyage of the Beagle"


def test_an_authors_keys_besides_name_are_named_as_ignored(tmp_path):
    # pandoc's and Calibre's author mappings (`- name: …` with `file-as:`, `role:`): the other keys
    # were dropped without a word
    book = write_book(tmp_path / "beagle", "# One\n\nText.\n",
                      "title: The Voyage\nauthor:\n  - name: Charles Darwin\n    file-as: Darwin, Charles\n"
                      "  - Robert FitzRoy\nlang: en-GB\nidentifier: urn:uuid:00000000-0000-4000-8000-000000001426\n")
    run = run_cli("check", book)
    assert run.code == 0, run.err
    assert "book.yaml:2: warning: M001 metadata key 'author': the key 'file-as' of “Charles Darwin” is ignored" in run.err, run.err


def test_a_notes_table_cells_are_ragged_not_justified(tmp_path):
    # a long table in a note at 5x8: every cell took the note's justification, its words spread
    # to 5x their spaces in the narrow "Remark" column (two L215 warnings a row, 55 in all)
    rows = "\n".join(f"    | {1800 + i} | {1000 + i * 37} | remark number {i} about the harvest and the weather that year |"
                     for i in range(8))
    text = ("# Harvests\n\nThe harvests are tabulated in the note.[^t]\n\n[^t]: The yields, year by year:\n\n"
            "    | Year | Yield | Remark |\n    |-----:|------:|--------|\n" + rows + "\n\n    : Yields by year\n")
    book = write_book(tmp_path / "harvests", text, "title: Harvests\nauthor: Kim Lee\nlang: en\ntrim: 5x8\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001427\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "pdf")
    assert run.code == 0, run.err
    assert "L215" not in run.err, run.err
    with pdfplumber.open(out / "harvests.pdf") as pdf:
        page = next(p for p in pdf.pages if "remark" in (p.extract_text() or ""))
        words = page.extract_words()
    years = [w for w in words if w["text"] == "1800"]
    remark = next(w for w in words if w["text"] == "remark")
    number = next(w for w in words if w["text"] == "number" and abs(w["top"] - remark["top"]) < 1)
    assert number["x0"] - remark["x1"] < 4, number["x0"] - remark["x1"]     # a word space at 9 pt: about 2 pt
    assert years and years[0]["x1"] < remark["x0"]


def test_each_low_resolution_image_is_its_own_finding_with_its_size(tmp_path):
    # a poetry book with two pictures under 300 ppi: one P110 "an image at 289 ppi (pages 9, 13)",
    # the second picture's 96 ppi never said and neither picture named
    from PIL import Image
    book = write_book(tmp_path / "poems", "# Low Water\n\n| The tide goes out.\n\n![The moon](moon.png)\n\n"
                      "# Spring Tide\n\n| Again the water.\n\n![The harbour wall](wall.png)\n",
                      "title: Tidewater Hours\nauthor: Oisín Mac Giolla\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-000000001428\n")
    Image.new("RGB", (1200, 800), "white").save(book / "moon.png")
    Image.new("RGB", (400, 300), "white").save(book / "wall.png")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--edition", "print")
    assert run.code == 0, run.err
    lines = [line for line in run.err.splitlines() if " P110 " in line]
    assert len(lines) == 2, run.err
    assert any("1200 × 800 px printed" in line for line in lines), lines
    assert any("400 × 300 px printed" in line for line in lines), lines
    assert all("(pages " not in line for line in lines), lines
