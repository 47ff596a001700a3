"""Books a new user (a small press, a poet, a baker) writes on day one, built for real: what they
met that the house books never had (a stylesheet with an @page rule, two stanzas in two line
blocks, a scene break at a page's foot, a picture with no caption, an index sub-entry with an
apostrophe)."""

from __future__ import annotations

import zipfile

import pdfplumber
import pytest

from conftest import run_cli, write_book

META = """\
title: Quiet Rooms
author: Sol Marren
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-0000000012a1
date: 2026-03-14
"""


def _epub(out) -> dict[str, str]:
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xhtml", ".css"))}


@pytest.mark.parametrize("rule", ["@page { margin: 2em; }", "@media print { h1 { color: #335; } }"])
def test_a_book_stylesheet_with_an_at_rule_is_read(tmp_path, rule):
    # Any at-rule in a book's stylesheet (an @page a user copies from a CSS book) used to stop
    # the build with an internal error (tinycss2's AtRule has no lower_name).
    book = write_book(tmp_path / "book", "# One\n\nA room.\n", META + "css: own.css\n")
    (book / "own.css").write_text(f"h1 {{ letter-spacing: 0.05em; }}\n{rule}\n", encoding="utf-8")
    result = run_cli("check", book)
    assert result.code == 0, result.err
    assert "internal error" not in result.err


def test_a_book_stylesheet_with_font_face_is_refused_at_its_line(tmp_path):
    book = write_book(tmp_path / "book", "# One\n\nA room.\n", META + "css: own.css\n")
    (book / "own.css").write_text("h1 { color: #335; }\n\n@font-face { font-family: X; }\n", encoding="utf-8")
    result = run_cli("check", book)
    assert result.code == 3, result.err
    assert "own.css:3:1" in result.err and "@font-face" in result.err
