"""Books a new user writes on day one, built for real: what they met that the house books never
had (an accented chapter title, guillemets typed with ordinary spaces, a page reference inside
a note, a figure label on an image that is not a figure)."""

from __future__ import annotations

import zipfile

import pdfplumber
import pytest

from conftest import run_cli, write_book

NNBSP = "\u202f"

META = """\
title: Les Heures
author: Hélène Marchetti
lang: fr
identifier: urn:uuid:00000000-0000-4000-8000-0000000000f1
date: 2026-03-14
trim: 5x8
"""

# Chapter titles with accents (pandoc's ids "le-départ"); a long note at the foot of the first
# chapter's first page (the pages laid out again around it carry "#le-d%C3%A9part" in the
# contents' link); the author's own guillemets, typed with plain spaces; a page reference in a note.
ROMAN = """\
# Le départ

Marguerite ouvrit la fenêtre sur la rivière. « Tu pars demain ? » demanda sa sœur, sans lever les yeux de son ouvrage.[^1] Elle ne répondit pas tout de suite ; le vent apportait l'odeur de la vase et des peupliers.

"Oui," dit-elle enfin, "je pars demain, avant l'aube." Elle savait que sa décision blesserait sa mère : personne, dans la famille, n'avait jamais quitté le village pour plus de trois jours !

Les longues discussions du conseil municipal, la boulangerie de madame Lefèvre, l'église Saint-Éloi : tout cela lui paraissait désormais appartenir à une autre vie. Elle dit alors « oui » et rien d'autre.

> « Celui qui part ne revient jamais tout à fait le même ; celui qui reste ne demeure jamais tout à fait le même non plus. »
>
> — Proverbe de la vallée

Le soir tomba. Sa sœur alluma la lampe, et la cuisine se remplit d'une lumière [jaune et tremblante]{#ici}.[^long]

[^1]: Jeanne, la cadette, brodait depuis l'enfance des nappes ; voir la page [](#ici){.page}.

[^long]: On raconte dans la vallée que cette lampe avait appartenu à l'arrière-grand-père, un passeur qui faisait traverser la rivière aux voyageurs égarés. Il refusait l'argent, mais acceptait volontiers une histoire ; c'est ainsi, disait-on, qu'il connaissait mieux le monde que quiconque sans l'avoir jamais vu. « Une histoire vaut bien une traversée », répétait-il.
"""

SECOND = """\
# Été à Paris

Paris était une immense machine bruyante.
"""


@pytest.fixture(scope="module")
def roman(tmp_path_factory):
    root = tmp_path_factory.mktemp("roman")
    book = write_book(root / "book", ROMAN, META, name="01.md")
    (book / "02.md").write_text(SECOND, encoding="utf-8")        # a folder of chapters, as users write them
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    return result, out


def _pdf(out):
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        pages = [(p.extract_text() or "", "".join(c["text"] for c in p.chars)) for p in doc.pages]
    return pages


def _epub(out) -> dict[str, str]:
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml")}


def test_accented_chapter_titles_pass_the_contents_check(roman):
    result, out = roman
    assert result.code == 0, result.err
    assert "L204" not in result.err
    pages = _pdf(out)
    contents = next(text for text, _ in pages if "Table des matières" in text)
    opening = {title: next(n for n, (text, _) in enumerate(pages, start=1) if text.strip().startswith(title))
               for title in ("Le départ", "Été à Paris")}
    for title, page in opening.items():
        assert any(line.startswith(title) and line.rstrip().endswith(str(page)) for line in contents.splitlines()), \
            (title, page, contents)


def test_typed_guillemets_take_narrow_no_break_spaces(roman):
    result, out = roman
    assert result.code == 0, result.err
    drawn = "".join(chars for _, chars in _pdf(out)).replace("\u00a0", " ")
    assert f"«{NNBSP}Tu" in drawn and f"demain{NNBSP}?{NNBSP}»" in drawn     # (a line may end after "pars")
    assert f"«{NNBSP}oui{NNBSP}»" in drawn
    chapter = next(text for name, text in _epub(out).items() if "Tu pars" in text)
    assert f"«{NNBSP}Tu pars demain{NNBSP}?{NNBSP}»" in chapter


def test_page_reference_in_a_note_builds_the_epub(roman):
    result, out = roman
    assert result.code == 0, result.err
    assert "N215" not in result.err
    pages = _pdf(out)
    marked = next(n for n, (text, _) in enumerate(pages, start=1) if "jaune et tremblante" in text)
    note = next(text for text, _ in pages if "voir la page" in text)
    assert f"voir la page {marked}." in note.replace("\n", " ")
    aside = next(text for text in _epub(out).values() if "voir la page" in text)
    assert f'data-imprint-ref="ici">{marked}</a>' in aside


def test_label_on_an_image_inside_a_paragraph_is_named(tmp_path):
    from PIL import Image
    book = write_book(tmp_path / "book", "# One\n\nSee the bell ![A bell](bell.png){#fig-bell} here.\n\n"
                                         "As @fig-bell shows.\n", META.replace("lang: fr", "lang: en"))
    Image.new("RGB", (60, 60), "white").save(book / "bell.png")
    result = run_cli("check", book)
    assert result.code != 0
    line = next(ln for ln in result.err.splitlines() if "X101" in ln)
    assert "text.md:5:4:" in line and "the label {#fig-bell} (text.md:3) is not on a heading, figure" in line


GERMAN = """\
# Die Haltestelle

Die Straßenbahn kam nie pünktlich. Niemand glaubte dem Schaffner. Die Donaudampfschifffahrtsgesellschaftskapitänsmütze lag auf der Bank, und die Fahrgäste warteten geduldig auf die Verkehrsinfrastrukturfinanzierungsgesellschaft und ihre Fahrplanänderungsankündigungen.
"""


def test_german_nouns_are_hyphenated(tmp_path):
    """German capitalises every noun: by default its long compounds are hyphenated, not kept
    whole as names (which left lines stretched to five times their spaces)."""
    loose = {}
    for flag, broken in (("", True), ("hyphenate-capitalized: false\n", False)):
        meta = META.replace("lang: fr", "lang: de").replace("trim: 5x8\n", "trim: 5x8\n" + flag)
        book = write_book(tmp_path / f"book{int(broken)}", GERMAN, meta)
        out = tmp_path / f"out{int(broken)}"
        result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf")
        assert result.code == 0, result.err
        text = "\n".join(t for t, _ in _pdf(out))
        hyphenated = [ln for ln in text.splitlines() if ln.rstrip().endswith(("-", "\u2010"))]
        compounds = ("Donaudampf", "Verkehrsinfra", "Fahrplan")
        assert any(any(c in ln for c in compounds) for ln in hyphenated) is broken, text
        loose[broken] = result.err.count("L215")
    assert loose[True] < loose[False], loose


CODE_LINE = ('def very_long_function_name_with_many_parameters(first_parameter, second_parameter, '
             'third_parameter, fourth_parameter):')
TECH = f"""\
# Setting Up

Install it as below.

```python
{CODE_LINE}
    return {{"key": first_parameter, "another_key": second_parameter}}
```

Inline code can be long: `some.module.with.a.very.long.dotted.path.to.a.function_name()` in text,
and `--output-directory-for-generated-artifacts` too.
"""


def test_code_is_never_hyphenated(tmp_path):
    """A hyphen drawn inside code changes what a reader copies: code and pre break without one."""
    book = write_book(tmp_path / "book", TECH, META.replace("lang: fr", "lang: en"))
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        mono = "".join(c["text"] for p in doc.pages for c in p.chars if "Mono" in c["fontname"])
    for code in (CODE_LINE, "some.module.with.a.very.long.dotted.path.to.a.function_name()",
                 "--output-directory-for-generated-artifacts"):
        assert "".join(code.split()) in "".join(mono.split()), mono
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        css = z.read("EPUB/css/epub.css").decode()
    assert "code, pre { -webkit-hyphens: none; hyphens: none; }" in css


def test_index_files_ligatures_and_stroked_letters_under_their_letters(tmp_path):
    """NFKD leaves œ and Ł whole: "œuvre" was filed in a group "Œ" after Z, "Łódź" in "Ł" after Z."""
    text = ("# Mots\n\nLes [moulins]{.index}, l'[œuvre]{.index}, [Łódź]{.index}, le [lac]{.index}, "
            "les [Zèbres]{.index} et l'[abbaye]{.index}.\n")
    book = write_book(tmp_path / "book", text, META.replace("trim: 5x8\n", ""))
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    pages = [t for t, _ in _pdf(out)]
    index = [ln.split(",")[0].strip() for ln in pages[-1].splitlines()[1:] if ln.strip()]
    assert index == ["A", "abbaye", "L", "lac", "Łódź", "M", "moulins", "O", "œuvre", "Z", "Zèbres"], index


def test_running_heads_stay_on_the_page_at_a_large_leading(tmp_path):
    """The running heads' margin boxes inherited the text's leading: at 16 pt with linestretch 2
    (42 pt lines) on A5 they were pushed above the page's top edge (L201 on every page)."""
    meta = META.replace("trim: 5x8\n", "trim: a5\nfontsize: 16pt\nlinestretch: 2\n")
    book = write_book(tmp_path / "book", ROMAN, meta, name="01.md")
    (book / "02.md").write_text(SECOND, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    assert "L201" not in result.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        heads = [(n, ln) for n, page in enumerate(doc.pages, start=1) for ln in page.extract_text_lines()
                 if ln["text"].endswith("Hélène Marchetti") and ln["text"].split()[0].isdigit()]
        assert heads, "no running head found"
        for n, ln in heads:
            assert ln["text"].split()[0] == str(n)
            assert 9 < ln["top"] < 72 * 0.75, (n, ln["top"])     # inside the top margin, not off the page


def test_french_caption_number_takes_a_space_before_its_colon(tmp_path):
    """French sets a narrow no-break space before a colon: « Figure 1 : Une carte », « Tableau 1 : … »."""
    from PIL import Image
    text = "# Carte\n\nVoir @fig-carte et @tbl-prix.\n\n![Une carte](carte.png){#fig-carte}\n\n" \
           "| Objet | Prix |\n|---|---|\n| Pain | 2 |\n\n: Les prix {#tbl-prix}\n"
    book = write_book(tmp_path / "book", text, META.replace("trim: 5x8\n", ""))
    Image.new("RGB", (300, 200), "white").save(book / "carte.png")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err
    drawn = "".join(chars for _, chars in _pdf(out))
    assert f"Figure\u00a01{NNBSP}: Une carte" in drawn and f"Tableau\u00a01{NNBSP}:" in drawn
    chapter = next(t for t in _epub(out).values() if "Une carte" in t)
    assert f"Figure\u00a01{NNBSP}:</span> Une carte" in chapter


def test_a_misspelt_manuscript_file_is_named_at_its_line(tmp_path):
    book = write_book(tmp_path / "book", "# One\n\nText.\n", META + "manuscript:\n  - text.md\n  - chapter2.md\n")
    (book / "chapter-2.md").write_text("# Two\n\nMore.\n", encoding="utf-8")
    result = run_cli("check", book)
    assert result.code == 3, result.err
    assert f"{book}/book.yaml:9: manuscript file 'chapter2.md' does not exist" in result.err, result.err
    assert "not listed: chapter-2.md" in run_cli("check", book, "-v").err
