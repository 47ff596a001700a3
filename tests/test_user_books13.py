"""Books a demanding new user (a small press editor, a scholar) writes, built for real: what
they met (a table's caption left at a page's foot without its table, a quotation's "— Author"
line alone atop the next page, a superscript that pushed its line off the grid, a note's list
numbered on from a list before its call, a poem in a note set with a blank line between its
lines, a verse line too long for the measure turning over flush left like a new line of the poem, a nested list set a blank line away from its item, a double-barrelled name broken at its
hyphen on the title page, a German title's ß dropped from the file's name)."""

from __future__ import annotations

import zipfile

import pdfplumber
import pytest

from conftest import run_cli, write_book

META = """\
title: The Straßenbahn Ledger
author: María de los Ángeles Fernández-Villaverde
lang: en
trim: 5x8
number-sections: true
identifier: urn:uuid:00000000-0000-4000-8000-000000001313
date: 2026-05-01
"""

SENTENCES = (
    "The ledgers of the depot were kept in a careful hand by clerks who rarely signed their names.",
    "Each week the wages of the drivers and conductors were entered beside the hours they had worked.",
    "A strike in the spring of the year interrupted the entries for almost a month.",
    "When the entries resume the hand is different and the columns have been ruled again.",
    "Nobody recorded why the old clerk left, or where he went, or whether he was paid.",
)


def _paragraph(n: int, k: int) -> str:
    return " ".join(SENTENCES[(k + i) % len(SENTENCES)] for i in range(n))


N_BLOCKS = 30


def _chapter_tables() -> str:
    # paragraphs of growing length between small captioned tables and attributed quotations, so
    # that one of each falls at a page's foot
    out = ["# Tables and Quotations", ""]
    for i in range(N_BLOCKS):
        out += [_paragraph(1 + (i * 3) % 7, i), ""]
        if i % 2:
            out += ["| Year of service | Cars running | Depot |", "|-----:|-----:|------|",
                    f"| {1900 + i} | {60 + i} | Käfertal |", f"| {1901 + i} | {70 + i} | Neckarau |", "",
                    f": Cars, table {i}", ""]
        else:
            out += [f"> Quotation {i}: the depot is not a parliament; it must be judged by what it carries.", ">",
                    f"> --- Speaker {i}, a meeting of the depot", ""]
    return "\n".join(out) + "\n"


MANUSCRIPT = """\
# Lines

The depot was rebuilt in the XVII^e^ arrondissement of the ledger's imagination, as clerks
liked to say, and the ledger recorded water as H~2~O in the margins of every page of the book,
where the clerks kept their accounts of the water the horses drank in the summer months.
{filler}

| The clerk wrote a line of verse so long that it could not fit on the measure of the page and turned over,
| and a short line after it.

(@) An example the clerk numbered.
(@) A second example.

A paragraph with a note that holds a list and a verse.[^steps]

1. Cars, in order of their age:
    - the horse cars of the first company;
    - the electric cars of the second.
2. Depots.

{after}

[^steps]: The steps:

    1. first step
    2. second step

    | The first line of the clerk's verse
    | the second line of the clerk's verse.
""".format(filler=_paragraph(3, 0), after=_paragraph(4, 1)) + "\n" + _chapter_tables() + """
# Snowstorms and Frosts: The Struggle Against an Inclement Nature

{}

| Year | Cars |
|-----:|-----:|
| 1901 | 61 |

: Cars in service, table 1901

""".format(_paragraph(2, 3))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    root = tmp_path_factory.mktemp("ledger")
    book = write_book(root / "book", MANUSCRIPT, META, name="01.md")
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err
    pdfs = list(out.glob("*.pdf"))
    assert len(pdfs) == 1
    with pdfplumber.open(pdfs[0]) as doc:
        pages = [(p.extract_text_lines(), p.width) for p in doc.pages]
    return result, out, pages


def _find(pages, words: str):
    """(page index, line) of the first line holding `words`."""
    for n, (lines, _) in enumerate(pages):
        for line in lines:
            if words in line["text"]:
                return n, line
    raise AssertionError(f"{words!r} is on no page")


def test_a_title_with_a_sharp_s_keeps_it_in_the_file_name(ledger):
    _, out, _ = ledger
    assert (out / "the-strassenbahn-ledger.pdf").exists(), sorted(p.name for p in out.iterdir())


def test_a_double_barrelled_name_is_never_broken_at_its_hyphen_on_the_title_page(ledger):
    # the title page's author line broke "Fernández-" / "Villaverde" (WeasyPrint breaks after a
    # hyphen); it now breaks between the names' words, in balanced lines
    _, _, pages = ledger
    title_page = next(lines for lines, _ in pages[:4] if any("Ledger" in ln["text"] for ln in lines)
                      and any("ngeles" in ln["text"].lower() for ln in lines))
    texts = [ln["text"] for ln in title_page]
    assert not any(t.rstrip().endswith("-") for t in texts), texts
    assert any("villaverde" in t.lower() and "fern" in t.lower() for t in texts), texts


def test_a_superscript_and_a_subscript_keep_their_lines_on_the_grid(ledger):
    # `XVII^e^` made its line 4.1 pt taller (WeasyPrint's sup has line-height normal and rises
    # half an em); a subscript at line-height 0 fell into the line below (L202)
    result, _, pages = ledger
    assert "L202" not in result.err
    n, first = _find(pages, "The depot was rebuilt")
    bodies = [ln for ln in pages[n][0] if abs(ln["x0"] - first["x0"]) < 20 and ln["top"] >= first["top"] - 1
              and len(ln["text"]) > 20][:5]
    bottoms = [round(ln["bottom"], 1) for ln in bodies]
    gaps = [round(b - a, 1) for a, b in zip(bottoms, bottoms[1:])]
    assert gaps and all(abs(g - 14.4) < 0.3 for g in gaps), (gaps, [ln["text"][:30] for ln in bodies])


def test_a_list_in_a_note_counts_from_one(ledger):
    # an example list (pandoc's (@)) before the call left its counter running into the note's
    # list, printed "3. first step", "4. second step"
    _, _, pages = ledger
    n, first = _find(pages, "first step")
    assert first["text"].lstrip().startswith("1"), first["text"]
    _, second = _find(pages, "second step")
    assert second["text"].lstrip().startswith("2"), second["text"]


def test_a_verse_in_a_note_is_set_line_under_line(ledger):
    # pandoc's `<br />` and newline in a line block made an empty line inside the note's span
    _, _, pages = ledger
    n, one = _find(pages, "The first line of the clerk")
    m, two = _find(pages, "the second line of the clerk")
    assert n == m
    assert abs((two["bottom"] - one["bottom"]) - 11.5) < 0.5, (one["bottom"], two["bottom"])


def test_a_numbered_chapter_title_is_broken_by_sense(ledger):
    # with `number-sections` a chapter title has its number's span inside and was left to
    # WeasyPrint's breaking: "3 Snowstorms and Frosts: The Struggle" / "Against an Inclement Nature"
    _, _, pages = ledger
    title = [ln for lines, _ in pages for ln in lines if "Snowstorms and Frosts" in ln["text"]][-1]   # not the contents'
    assert title["text"].strip().endswith("Frosts:"), title["text"]


def test_a_narrow_tables_caption_is_not_hyphenated(ledger):
    # a caption is as wide as its table: "Electric cars in ser-" / "vice on the..."
    _, _, pages = ledger
    n, first = _find(pages, "Cars in")
    lines = [ln["text"].strip() for ln in pages[n][0] if ln["top"] >= first["top"] - 1][:8]
    caption = lines[:next(i for i, t in enumerate(lines) if t.startswith("Year"))]
    assert len(caption) > 1 and not any(t.endswith(("-", "\u2010")) for t in caption), caption


def test_a_contents_entry_turns_over_indented(ledger):
    _, _, pages = ledger
    n, first = _find(pages, "Snowstorms and Frosts")            # the contents come first
    lines = pages[n][0]
    k = next(i for i, ln in enumerate(lines) if ln is first)
    turnover = lines[k + 1]
    assert "Inclement" in turnover["text"] or "Nature" in turnover["text"], turnover["text"]
    assert turnover["x0"] > first["x0"] + 5, (first["x0"], turnover["x0"])
    # and every entry's page number ends at the same edge, one line or two
    edges = {round(ln["x1"]) for ln in lines if ln["text"].strip()[-1:].isdigit()}
    assert len(edges) == 1, sorted(edges)


def test_a_long_verse_line_turns_over_indented(ledger):
    _, _, pages = ledger
    n, first = _find(pages, "The clerk wrote a line of verse")
    flat = pages[n][0]
    k = next(i for i, ln in enumerate(flat) if ln is first)
    turnover, after = flat[k + 1], flat[k + 2]
    assert "turned over," in turnover["text"] and "and a short line" in after["text"], (turnover, after)
    assert turnover["x0"] > first["x0"] + 15, (first["x0"], turnover["x0"])
    assert abs(after["x0"] - first["x0"]) < 1


def test_a_nested_list_runs_on_from_its_item(ledger):
    _, _, pages = ledger
    n, item = _find(pages, "Cars, in order of their age")
    m, sub = _find(pages, "the horse cars of the first company")
    if n == m:
        assert abs((sub["bottom"] - item["bottom"]) - 14.4) < 0.3, (item["bottom"], sub["bottom"])
    n2, last = _find(pages, "the electric cars of the second")
    m2, after = _find(pages, "Depots.")
    if n2 == m2:
        assert abs((after["bottom"] - last["bottom"]) - 14.4) < 0.3, (last["bottom"], after["bottom"])
    assert n == m or n2 == m2, "neither pair of lines stands on one page: the book no longer shows the gap"


@pytest.mark.parametrize("i", [i for i in range(N_BLOCKS) if i % 2])
def test_a_table_caption_stays_with_its_table(ledger, i):
    _, _, pages = ledger
    n, caption = _find(pages, f"Cars, table {i}")
    m, row = _find(pages, f"{1900 + i} {60 + i}")
    assert n == m, f"the caption of table {i} is on page {n + 1}, its table on page {m + 1}"
    assert caption["top"] < row["top"]


@pytest.mark.parametrize("i", [i for i in range(N_BLOCKS) if not i % 2])
def test_a_quotation_keeps_its_attribution_flush_right(ledger, i):
    # the "— Speaker" line stood alone atop the next page, a paragraph indent in
    _, _, pages = ledger
    flat = [(n, ln) for n, (lines, _) in enumerate(pages) for ln in lines]
    start = next(k for k, (_, ln) in enumerate(flat) if f"Quotation {i}:" in ln["text"])
    end = next(k for k in range(start, len(flat)) if "carries." in flat[k][1]["text"])
    credit = next(k for k in range(end, len(flat)) if f"Speaker {i}," in flat[k][1]["text"])
    assert credit == end + 1
    assert flat[credit][0] == flat[end][0], \
        f"quotation {i} ends on page {flat[end][0] + 1}, its attribution is alone on page {flat[credit][0] + 1}"
    widest = max(ln["x1"] for _, ln in flat[start:end])
    assert abs(flat[credit][1]["x1"] - widest) < 3, (flat[credit][1]["x1"], widest)


def test_the_epub_marks_the_attribution_and_the_author_name(ledger):
    _, out, _ = ledger
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        texts = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml")}
    chapter = "".join(t for n, t in texts.items() if "chapter" in n)
    assert '<p class="attribution">— Speaker 0, a meeting of the depot</p>' in chapter
    title = next(t for n, t in texts.items() if n.endswith("titlepage.xhtml"))
    assert "Fernández-\u2060Villaverde" in title


# A German book whose table falls at a page's foot: its caption was left there alone, the table on
# the next page (WeasyPrint breaks between a table's caption and its rows)
DEPOT = '---\ntitle: Die Ordnung der Dinge im Straßenbahndepot\nsubtitle: Eine kleine Betriebsgeschichte\nauthor: Friederike Schwarzenbach\nlang: de\nform: book\ndate: 2026-02-02\nidentifier: urn:uuid:00000000-0000-4000-8000-000000001303\ndescription: Eine Geschichte des Straßenbahnbetriebs in Mannheim, erzählt aus den Akten der Betriebsleitung.\ntoc-title: Inhalt\n---\n\n# Vorbemerkung\n\nDie vorliegende Untersuchung beruht auf den Akten der Betriebsleitung der Mannheimer Straßenbahn, die im Stadtarchiv aufbewahrt werden.[^archiv] Sie behandelt die Jahre zwischen 1900 und 1933, also die Zeit der Elektrifizierung, der Inflation und der Weltwirtschaftskrise. Die Verkehrsgesellschaft beschäftigte in diesen Jahrzehnten zwischen achthundert und zweitausend Menschen, darunter zahlreiche Schaffnerinnen, die während des Ersten Weltkrieges eingestellt wurden.\n\nDie Straßenbahnverwaltung führte über jede Betriebsstörung, jeden Unfall und jede Beschwerde sorgfältig Buch. Aus diesen Aufzeichnungen lässt sich ein erstaunlich genaues Bild des Arbeitsalltags gewinnen: der Dienstpläne, der Lohnverhältnisse, der Auseinandersetzungen zwischen Betriebsrat und Direktion. Besonders aufschlussreich sind die Protokolle der Betriebsversammlungen, in denen die Beschäftigten ihre Forderungen formulierten.\n\n## Quellenlage\n\nDie Überlieferung ist lückenhaft. Für die Jahre 1914 bis 1918 fehlen die Personalakten fast vollständig; sie wurden vermutlich im Zweiten Weltkrieg zerstört. Die Geschäftsberichte hingegen sind nahezu vollständig erhalten und bilden das Rückgrat dieser Darstellung. Ergänzend wurden die Lokalzeitungen herangezogen, insbesondere der „Generalanzeiger“ und die sozialdemokratische „Volksstimme“.\n\n# Die Elektrifizierung\n\nIm Jahre 1900 beschloss der Stadtrat die Umstellung des Pferdebahnbetriebs auf elektrischen Antrieb. Die Entscheidung war umstritten: Die Gegner befürchteten Unfälle, Lärm und eine Verunstaltung des Stadtbildes durch die Oberleitungen. Die Befürworter verwiesen auf die Erfahrungen anderer Großstädte, in denen die elektrische Straßenbahn sich längst bewährt hatte.\n\nDie Umstellung vollzog sich schrittweise. Zunächst wurde die Linie vom Hauptbahnhof zum Paradeplatz elektrifiziert, dann folgten die Verbindungen nach Neckarau, Käfertal und Feudenheim. Bis 1906 war das gesamte Netz umgestellt. Die Fahrgastzahlen stiegen in diesem Zeitraum von 4,2 auf 11,8 Millionen jährlich.\n\n> Die Elektrizität ist die Kraft der Zukunft, und eine Stadt, die sich ihr verschließt, verschließt sich dem Fortschritt überhaupt.\n>\n> — Oberbürgermeister Otto Beck, Rede vor dem Stadtrat, 1899\n\nDie Arbeitsbedingungen der Fahrer und Schaffner änderten sich mit der Elektrifizierung grundlegend. Die tägliche Arbeitszeit betrug anfangs zwölf bis vierzehn Stunden; Ruhetage waren selten. Erst nach dem Streik von 1911 wurde der Zehnstundentag eingeführt.[^streik]\n\n| Jahr | Beschäftigte | Wagen | Fahrgäste (Mio.) |\n|-----:|-------------:|------:|-----------------:|\n| 1900 | 812 | 64 | 4,2 |\n| 1906 | 1.340 | 118 | 11,8 |\n| 1913 | 1.905 | 171 | 19,3 |\n\n: Kennzahlen der Straßenbahn, 1900–1913\n\nDie Donaudampfschifffahrtsgesellschaftskapitänsmütze gehört nicht hierher, aber das Wort zeigt, wie lang deutsche Zusammensetzungen werden können, und wie der Satz mit ihnen umgehen muss.\n\n[^archiv]: Stadtarchiv Mannheim, Bestand Verkehrsbetriebe, Nr. 1–412. Die Akten wurden 1987 aus dem Betriebsarchiv übernommen und sind seither geordnet und verzeichnet.\n\n[^streik]: Über den Streik berichtete die „Volksstimme“ ausführlich; vgl. die Ausgaben vom 3. bis 17. Mai 1911.\n\n    Die Betriebsleitung bewertete den Ausgang des Streiks als Niederlage, die Gewerkschaft als Teilerfolg.\n'


@pytest.fixture(scope="module")
def depot(tmp_path_factory):
    root = tmp_path_factory.mktemp("depot")
    (root / "buch.md").write_text(DEPOT, encoding="utf-8")
    out = root / "out"
    result = run_cli("--book", root / "buch.md", "--out", out, "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    with pdfplumber.open(out / "die-ordnung-der-dinge-im-strassenbahndepot.pdf") as doc:
        return [(p.extract_text_lines(), p.width) for p in doc.pages]


def test_a_caption_at_a_page_foot_goes_on_with_its_table(depot):
    n, caption = _find(depot, "Kennzahlen der Straßenbahn")
    m, row = _find(depot, "1.340")
    assert n == m, f"the caption is on page {n + 1}, its table on page {m + 1}"


def test_a_picture_in_a_note_is_in_the_epub(tmp_path):
    # an image only a note shows was left out of the package: the build failed with E206 ("please
    # report this"); the title, longer than a file name's 80 letters, was cut inside a word
    from PIL import Image

    title = "Edge Cases: A Torture Test for the Typesetter Who Thought They Had Seen Everything"
    book = write_book(tmp_path / "book", "# One\n\nA picture in a note.[^a]\n\n[^a]: Here: ![A garden](garden.png)\n",
                      META.replace("title: The Straßenbahn Ledger", f"title: '{title}'").replace("lang: en", "lang: es"),
                      name="01.md")
    Image.new("RGB", (60, 40), (30, 120, 60)).save(book / "garden.png")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "epub")
    assert result.code == 0, result.err
    epub = out / "edge-cases-a-torture-test-for-the-typesetter-who-thought-they-had-seen.epub"
    assert epub.exists(), sorted(p.name for p in out.iterdir())
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        chapter = next(z.read(n).decode() for n in names if "chapter" in n and n.endswith(".xhtml"))
    picture = [n for n in names if n.startswith("EPUB/images/garden-")]
    assert picture and f'src="../{picture[0][5:]}"' in chapter


def test_the_epub_says_its_pictures_carry_meaning_in_english_marked_english(tmp_path):
    # a book with a described picture was declared "textual" only, its summary saying "no images
    # that carry meaning"; in a Spanish book that English summary was declared Spanish
    from PIL import Image

    book = write_book(tmp_path / "book", "# Uno\n\n![Un jardín amurallado](garden.png)\n\nTexto.\n",
                      META.replace("lang: en", "lang: es"), name="01.md")
    Image.new("RGB", (60, 40), (30, 120, 60)).save(book / "garden.png")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "epub")
    assert result.code == 0, result.err
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        opf = z.read("EPUB/content.opf").decode()
    assert '<meta property="schema:accessMode">visual</meta>' in opf
    assert '<meta property="schema:accessibilityFeature">alternativeText</meta>' in opf
    assert "no images that carry meaning" not in opf
    assert '<meta property="schema:accessibilitySummary" xml:lang="en">' in opf


def test_the_print_covers_title_keeps_its_balanced_lines(tmp_path):
    # the front panel's padding was 12 % of the whole wrap's width (a percentage is of the
    # containing block), so the title had half the front for its measure and broke inside its
    # balanced lines: "¿Quién" / "construyó" / "Tebas?" / "Crónica de" / "los canteros" / "de" / ...
    title = "¿Quién construyó Tebas? Crónica de los canteros de Salamanca"
    meta = (META.replace("title: The Straßenbahn Ledger", f"title: '{title}'").replace("lang: en", "lang: es")
            .replace("trim: 5x8", "trim: 5.5x8.5"))
    book = write_book(tmp_path / "book", "# Uno\n\nTexto.\n", meta, name="01.md")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "print")
    assert result.code == 0, result.err
    with pdfplumber.open(next(out.glob("*-cover.pdf"))) as doc:
        page = doc.pages[0]
        x0, y0, x1, y1 = page.bbox
        front = page.crop(((x0 + x1) / 2 + 20, y0, x1, y1)).extract_text_lines()
    texts = [ln["text"].strip() for ln in front]
    assert "de" not in texts and "Tebas?" not in texts, texts
    assert any("Villaverde" in t and "Fern" in t for t in texts), texts


def test_a_right_to_left_poem_and_contents_are_not_read_as_overfull(tmp_path):
    # the hanging indents of verse turnovers and contents entries put a right-to-left line's start
    # into its padding at the right: L206 "overfull by 22 pt" on every verse line; they are not
    # hung there
    words = "שלום עולם ספר מים אור ארץ שמים יום לילה בית דרך".split()
    text = ("# " + " ".join(words * 2) + "\n\n" + " ".join(words * 20) + ".\n\n| " + " ".join(words * 3)
            + "\n| " + words[1] + "\n\n# " + words[0] + "\n\n" + " ".join(words * 10) + ".\n")
    book = write_book(tmp_path / "book", text, META.replace("lang: en", "lang: he"), name="01.md")
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    assert "L206" not in result.err and "L205" not in result.err, result.err


def test_a_dead_internal_link_in_a_pdf_build_is_named_at_its_line(tmp_path):
    # The EPUB names it (E206); a PDF-only build said only "WeasyPrint: No anchor #appendix-1".
    book = write_book(tmp_path / "book", """\
        # One

        See the [appendix](#appendix-1) for the figures, and the [first chapter](#one) too.
        """, """\
        title: Dead Link
        author: Test Author
        lang: en
        identifier: urn:uuid:00000000-0000-4000-8000-000000000110
        date: 2020-01-01
        """)
    result = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "pdf")
    assert result.code == 0, result.err
    w110 = [line for line in result.err.splitlines() if " W110 " in line]
    assert len(w110) == 1 and "text.md:3:" in w110[0] and "#appendix-1" in w110[0], result.err
    assert " W109 " not in result.err


def test_dialogue_set_with_dashes_in_a_quotation_is_not_taken_for_an_attribution():
    import lxml.html

    from imprint.html import display
    root = lxml.html.fromstring(
        "<div><blockquote><p>— Bonjour, dit-il.</p><p>— Bonjour, répondit-elle.</p></blockquote>"
        "<blockquote><p>Workers of the world, unite!</p><p>— Marx and Engels</p></blockquote></div>")
    display.attributions(root)
    dialogue, quote = root.findall(".//blockquote")
    assert [p.get("class") for p in dialogue] == [None, None]
    assert [p.get("class") for p in quote] == [None, "attribution"]
