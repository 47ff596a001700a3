"""Issue 18, the author's own language and script, built for real: labels, quotation marks,
hyphenation dictionaries, right-to-left scripts in bundled faces, and characters no font has."""

from __future__ import annotations

import subprocess
import zipfile

import pdfplumber
import pikepdf
import pyphen
import pytest

from conftest import run_cli, write_book
from imprint.manuscript.languages import hyphenation_dictionary
from imprint.specs.labels import LABELS

NNBSP = "\u202f"


def meta(lang: str, title: str = "Die Wörter") -> str:
    return (f"title: {title}\nauthor: Anna Schreiber\nlang: {lang}\nform: book\npublisher: Kleiner Verlag\n"
            "date: 2024-05-01\noriginal-publication: Berlin, 1920\n"
            "identifier: urn:uuid:00000000-0000-4000-8000-0000000000de\n")


GERMAN = """# Erstes Kapitel

Er sagte: "Das ist 'gut' so." Und sie antwortete "ja".[^1] Hier steht »so« getippt.

[^1]: Eine Anmerkung mit "Zitat".

# Zweites Kapitel

Noch ein Absatz.
"""

FRENCH = """# Premier chapitre

Il dit : "Bonjour 'mon ami' !" Et elle : "oui" ; puis rien ?[^1]

[^1]: Une note avec "citation".

# Deuxième chapitre

Encore un paragraphe.
"""


def build(book, out, *editions):
    args = ["--book", book, "--out", out, "--no-cache"]
    for e in editions:
        args += ["--edition", e]
    return run_cli(*args)


def pdf_text(out) -> str:
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        return "\n".join(p.extract_text() or "" for p in doc.pages)


def pdf_chars(out) -> str:
    """The PDF's characters as drawn (extract_text makes every space, narrow or not, a space)."""
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        return "".join(c["text"] for p in doc.pages for c in p.chars)


def epub_file(out, name: str) -> str:
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        return z.read(f"EPUB/{name}").decode("utf-8")


def test_german_book_labels_and_quotes(tmp_path):
    book = write_book(tmp_path / "book", GERMAN, meta("de"))
    out = tmp_path / "out"
    result = build(book, out, "pdf", "epub")
    assert result.code == 0, result.err
    text = pdf_text(out)
    assert "Inhalt" in text and "Contents" not in text
    assert "Erstveröffentlichung: Berlin, 1920." in text
    assert "Veröffentlicht von Kleiner Verlag, 2024." in text and "Published by" not in text
    assert "Gesetzt aus der Linux Libertine." in text
    assert "„Das ist ‚gut‘ so.“" in text and "„ja“" in text
    assert "„Zitat“" in text                       # in the note too
    assert "»so«" in text                          # what the author typed stays as typed
    assert "“Das" not in text and "N108" not in result.err
    nav = epub_file(out, "nav.xhtml")
    assert "<title>Inhalt</title>" in nav and '<h1 id="toc-heading">Inhalt</h1>' in nav
    assert 'aria-label="Orientierungspunkte"' in nav
    for word in ("Titelseite", "Impressum", "Textbeginn"):
        assert f">{word}</a>" in nav
    copyright_page = epub_file(out, "text/copyright.xhtml")
    assert "Erstveröffentlichung: Berlin, 1920." in copyright_page and "Impressum" in copyright_page
    chapter = epub_file(out, "text/chapter-001.xhtml")
    assert "„Das ist ‚gut‘ so.“" in chapter and 'aria-label="Anmerkungen"' in chapter


def test_french_book_guillemets_and_spaces(tmp_path):
    book = write_book(tmp_path / "book", FRENCH, meta("fr", "Les Mots"))
    out = tmp_path / "out"
    result = build(book, out, "pdf", "epub")
    assert result.code == 0, result.err
    text = pdf_text(out)
    assert "Table des matières" in text
    # total-fit line breaking keeps the spaces it does not break at as no-break spaces (U+00A0):
    # the narrow no-break spaces (U+202F) French asks for are what is checked here
    drawn = pdf_chars(out).replace("\u00a0", " ")
    assert f"«{NNBSP}Bonjour “mon ami”{NNBSP}!{NNBSP}»" in drawn
    assert f"dit{NNBSP}:" in drawn and f"«{NNBSP}oui{NNBSP}»{NNBSP};" in drawn and f"rien{NNBSP}?" in drawn
    assert f"Première publication{NNBSP}: Berlin, 1920." in drawn and "Publié par Kleiner Verlag" in text
    chapter = epub_file(out, "text/chapter-001.xhtml")
    assert f"Il dit{NNBSP}: «{NNBSP}Bonjour “mon ami”{NNBSP}!{NNBSP}»" in chapter
    nav = epub_file(out, "nav.xhtml")
    assert "<title>Table des matières</title>" in nav and 'aria-label="Repères"' in nav


def test_every_language_has_every_label():
    for lang in ("en", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "sv", "el", "he", "ar"):
        assert set(LABELS[lang]) >= set(LABELS["en"]) - {"works-cited"}, lang


def test_unknown_language_warns_and_falls_back(tmp_path):
    book = write_book(tmp_path / "book", "# Luku\n\nTekstiä.\n", meta("fi", "Kirja"))
    out = tmp_path / "out"
    result = build(book, out, "pdf")
    assert result.code == 0, result.err
    assert "G102" in result.err and "'fi'" in result.err and "imprint/specs/labels.py" in result.err
    assert "Contents" in pdf_text(out)


def test_language_without_hyphenation_dictionary_is_told(tmp_path):
    book = write_book(tmp_path / "book", "# Luku\n\nTekstiä.\n", meta("fi", "Kirja"))
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf", "--verbose")
    assert result.code == 0, result.err
    assert "info: G103" in result.err and "'fi'" in result.err


def test_en_reaches_the_american_dictionary():
    assert hyphenation_dictionary("en") == "en_US"
    assert hyphenation_dictionary("en-GB") == "en_GB"
    assert hyphenation_dictionary("de") == "de_DE" and hyphenation_dictionary("pt-BR") == "pt_BR"
    us, gb = pyphen.Pyphen(lang="en_US"), pyphen.Pyphen(lang="en_GB")
    assert gb.inserted("revolution") == "re-volu-tion" and us.inserted("revolution") == "rev-o-lu-tion"
    assert gb.inserted("democracy") == "demo-cracy" and us.inserted("democracy") == "democ-ra-cy"


def test_en_and_en_gb_hyphenate_differently_on_the_page(tmp_path):
    words = " ".join(["revolution democracy"] * 6)
    text = f"# One\n\n<div style=\"width: 3.1em\">{words}</div>\n"
    breaks = {}
    for lang in ("en", "en-GB"):
        book = write_book(tmp_path / lang, text, meta(lang, "Words"))
        out = tmp_path / f"out-{lang}"
        result = build(book, out, "pdf")
        assert result.code == 0, result.err
        lines = pdf_text(out).splitlines()
        breaks[lang] = {line.strip() for line in lines if line.strip().endswith(("-", "‐"))}
    assert any(b.startswith("rev") for b in breaks["en"]) or any(b.startswith("democ") for b in breaks["en"]), breaks
    assert breaks["en"] != breaks["en-GB"], breaks


SCRIPTS = """# Scripts

Greek: Ἐν ἀρχῇ ἦν ὁ λόγος, καὶ ὁ λόγος ἦν πρὸς τὸν θεόν.

Cyrillic: Призрак бродит по Европе — призрак коммунизма.

Hebrew: [בְּרֵאשִׁית בָּרָא אֱלֹהִים]{lang=he} and [שלום עולם]{lang=he}.

Arabic: [في البدء كان الكلمة]{lang=ar} and [سلام]{lang=ar}.
"""


def test_many_scripts(tmp_path):
    book = write_book(tmp_path / "book", SCRIPTS, meta("en", "Scripts"))
    out = tmp_path / "out"
    result = build(book, out, "pdf")
    assert result.code == 0, result.err
    assert "G101" not in result.err
    pdf = next(out.glob("*.pdf"))
    fonts = set()
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            for font in (page.Resources.get("/Font") or {}).values():
                fonts.add(str(font.get("/BaseFont")))
    assert any("Noto-Serif-Hebrew" in f for f in fonts), fonts
    assert any("Noto-Naskh-Arabic" in f for f in fonts), fonts
    text = pdf_text(out)
    for ch in "λόγος Призрак שלום سلام".replace(" ", ""):
        assert ch in text, ch


@pytest.mark.parametrize("lang,title,text,contents", [
    ("he", "ספר", "# שלום\n\nשלום עולם.\n", "תוכן העניינים"),
    ("ar", "كتاب", "# سلام\n\nمرحبا بالعالم.\n", "المحتويات"),
])
def test_rtl_book_sets_direction_and_prints_its_labels(tmp_path, lang, title, text, contents):
    book = write_book(tmp_path / "book", text, meta(lang, title))
    out = tmp_path / "out"
    result = build(book, out, "pdf", "epub")
    assert result.code == 0, result.err
    nav = epub_file(out, "nav.xhtml")
    assert 'dir="rtl"' in nav and f"<title>{contents}</title>" in nav
    assert 'page-progression-direction="rtl"' in epub_file(out, "content.opf")    # pages turn leftwards
    assert "G102" not in result.err        # the language has its row of labels
    assert contents[::-1] in pdf_text(out)          # the text layer holds RTL words in visual order


def _covered(code: int) -> bool:
    return bool(subprocess.run(["fc-list", f":charset={code:x}"], capture_output=True, text=True).stdout.strip())


def test_character_no_font_has_is_an_error(tmp_path):
    if _covered(0x4E2D):
        pytest.skip("an installed font has U+4E2D")
    book = write_book(tmp_path / "book", "# One\n\nPlain text.\n\nThe word 中 is here.\n", meta("en", "Missing"))
    out = tmp_path / "out"
    out.mkdir()
    result = build(book, out, "pdf", "epub")
    assert result.code == 1
    assert "text.md:5:10: error: G101" in result.err and "U+4E2D" in result.err, result.err
    assert list(out.iterdir()) == []
