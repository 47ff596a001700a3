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
TEXT = f"""# Direcciones

The catalogue of manuscripts can be consulted at {URL} and questions go to {MAIL} where the
librarians answer with considerable patience and extraordinary thoroughness in every case.

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
    pieces = set(re.split(r"[/?.@=]", URL + "/" + MAIL))
    ended = [line for line in lines if re.search(r"[\u2010-]$", line)
             and any(line.rstrip("\u2010-").endswith(p[:k]) for p in pieces if len(p) > 6 for k in range(3, len(p)))]
    assert not ended, ended
    assert "informaciones.bibliograficas" in text and "\u200b" not in text and "\u2060" not in text   # copied as typed
    assert any(re.search(r"[a-z][\u2010-]$", line) for line in lines), "the words around still hyphenate"
