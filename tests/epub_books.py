"""A tiny multi-chapter book for the EPUB and page-list tests, built once per session (PDF and
EPUB), and the validators run once per EPUB. Shared by test_epub.py and test_pagelist.py."""

from __future__ import annotations

import functools
import random
import zipfile
from pathlib import Path

from lxml import etree

from conftest import run_cli, write_book

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
EPUB_TYPE = f"{{{NS['epub']}}}type"

CHAPTERS_METADATA = """\
title: Councils and Committees
subtitle: A Test in Three Chapters
author: Test Author
lang: en-GB
form: book
trim: 5x8
publisher: Test Press
rights: © 2020 Test Author.
date: 2020-01-01
identifier: urn:uuid:00000000-0000-4000-8000-000000000006
isbn:
  print: 978-3-16-148410-0
"""

WORDS = ("the councils workers committees organisation revolutionary democratic representation "
         "assembly delegates factory railway garrison elections parliamentary extraordinary "
         "consequently nevertheless administration internationalism independence responsibility "
         "understanding circumstances correspondence establishment accountability of and in to "
         "was were had their with from by for that which as").split()


def prose(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(9, 22))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def chapters_manuscript() -> str:
    """Three chapters with sections, a nested list, a quotation and notes; about a dozen 5x8 pages."""
    rng = random.Random(6)
    parts = []
    for n, title in enumerate(("Origins", "Power", "Aftermath"), start=1):
        parts.append(f"# {title}\n")
        parts.append(prose(rng, 5) + f"[^c{n}a]\n")
        parts.append(prose(rng, 7) + "\n")
        parts.append(f"## Section {n}.1\n")
        parts.append(prose(rng, 7) + "\n")
        parts.append("> " + prose(rng, 3) + "\n")
        parts.append(prose(rng, 6) + f"[^c{n}b]\n")
        parts.append("- " + prose(rng, 2) + "\n- " + prose(rng, 1) + "\n    - " + prose(rng, 1)
                     + "\n    - " + prose(rng, 2) + "\n- " + prose(rng, 2) + "\n")
        parts.append(prose(rng, 8 + 3 * n) + "\n")
        parts.append(f"[^c{n}a]: " + prose(rng, 2) + "\n")
        parts.append(f"[^c{n}b]: " + prose(rng, 1) + "\n")
    return "\n".join(parts)


@functools.cache
def chapters_build(base: Path) -> Path:
    """The tiny book's output folder (PDF, EPUB, kepub), built once per session under `base`
    (pytest's session temp folder)."""
    root = base / "epub-chapters"
    book = write_book(root / "book", chapters_manuscript(), CHAPTERS_METADATA)
    result = run_cli("--book", book, "--out", root / "out", "--edition", "pdf", "--edition", "epub",
                     "--edition", "kepub")
    assert result.code == 0, result.err
    return root / "out"


def epub_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def xml(files: dict, name: str):
    return etree.fromstring(files[name])


@functools.cache
def epubcheck(path: Path):
    from imprint.editions.validate import run_epubcheck
    return tuple(run_epubcheck(path))


@functools.cache
def ace(path: Path):
    from imprint.editions.validate import run_ace
    return tuple(run_ace(path))
