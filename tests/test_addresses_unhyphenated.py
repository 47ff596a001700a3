"""An address is never hyphenated: a hyphen put into a URL or an e-mail address changes it (the
reader types it as printed). A bare address typed as words (pandoc leaves it as text), one in a
paragraph set line by line and one in a table cell (set by WeasyPrint) break, if they must, after
a slash, never with a hyphen added; words around them hyphenate as ever (user15's Spanish book
at 5 × 8 in had "https://www.biblio-tecanacional…")."""

from __future__ import annotations

import re

import pdfplumber

from conftest import METADATA, run_cli, write_book

URL = "https://www.bibliotecanacionaldeinvestigaciones.example.org/catalogo/manuscritos?isThumbnailFiltered=true"
MAIL = "informaciones.bibliograficas@bibliotecanacionaldeinvestigaciones.example.org"
BARE = "archivodelasinvestigacionesnacionales.example.org/coleccion/documentos"      # no scheme, no www
TEXT = f"""# Direcciones

The catalogue of manuscripts can be consulted at {URL} and questions go to {MAIL} where the
librarians answer with considerable patience and extraordinary thoroughness in every case, and the
mirror at {BARE} keeps the copies.

Another paragraph with <{URL}> as a link, and administratively incomprehensible bureaucratic
considerations that hyphenate naturally across the narrow measure of this little book.

| Where | Address |
|-------|---------|
| Catalogue | {URL} |
| Mail | {MAIL} |
"""


def test_addresses_are_never_hyphenated_the_words_around_them_are(tmp_path):
    book = write_book(tmp_path / "book", TEXT, METADATA + "trim: 5x8\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--no-cache", "--edition", "pdf")
    assert run.code == 0, run.err
    pdf = next(out.glob("*.pdf"))
    with pdfplumber.open(pdf) as doc:
        lines = [line for page in doc.pages for line in (page.extract_text() or "").splitlines()]
    text = "\n".join(lines)
    # every line that ends inside an address ends after a slash or a dot, or at its end: no hyphen put in
    pieces = set(re.split(r"[/?.@=]", URL + "/" + MAIL + "/" + BARE))
    ended = [line for line in lines if re.search(r"[\u2010-]$", line)
             and any(line.rstrip("\u2010-").endswith(p[:k]) for p in pieces if len(p) > 6 for k in range(3, len(p)))]
    assert not ended, ended
    assert "informaciones.bibliograficas" in text and "\u200b" not in text and "\u2060" not in text   # copied as typed
    assert any(re.search(r"[a-z][\u2010-]$", line) for line in lines), "the words around still hyphenate"


def test_an_address_in_a_right_to_left_paragraph_reads_left_to_right_on_every_line(tmp_path):
    """Each line of an address broken in a Hebrew paragraph is isolated left to right: the dot,
    slash or @ a line of it opens with stays at that line's left (review rev15c: it went to the
    line's far end, "…/catalogo." for ".…/catalogo"); no finding quotes the invisible marks."""
    text = (f"# פרק\n\nזהו טקסט בעברית עם כתובת {URL} באמצע המשפט, ועוד מילים רבות כדי למלא את השורה ואת "
            f"הפסקה כולה בטקסט ארוך. שלחו דואר אל {MAIL} בבקשה.\n")
    book = write_book(tmp_path / "book", text, METADATA.replace("lang: en", "lang: he") + "trim: 5x8\n")
    out = tmp_path / "out"
    run = run_cli(book, "--out", out, "--no-cache", "--edition", "pdf")
    assert run.code == 0, run.err
    assert "\u200b" not in run.err and "\u2060" not in run.err and "\u2066" not in run.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        chars = [c for page in doc.pages for c in page.chars]
    lines: dict = {}
    for c in chars:
        lines.setdefault(round(c["top"]), []).append(c)
    checked = 0
    for row in lines.values():
        word = "".join(c["text"] for c in sorted(row, key=lambda c: c["x0"]) if c["text"].isascii())
        for name, mark in (("bibliotecanacional", ".@"), ("manuscritos", "/")):
            at = word.find(name)
            if at >= 0:
                checked += 1
                assert at > 0 and word[at - 1] in mark, word      # the mark it opens with at its left
    assert checked >= 3
