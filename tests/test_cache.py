"""The build cache never serves anything stale: after any edit (the text, a note, the metadata,
a stylesheet, a template) every edition shows it, and a build from the cache is byte for byte
the build made without one. No timings are asserted: only what the outputs contain."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pdfplumber
import pytest

from conftest import ROOT, run_cli, write_book
from imprint import cache

METADATA = """\
title: Cached Book
author: Test Author
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000088
date: 2020-01-01
"""

TEXT = """\
# First Chapter

The apple sits on the table.[^a] Nothing else happens here.

[^a]: A note about the orchard.

# Second Chapter

The river runs past the mill, and the miller counts the sacks.
"""


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xhtml", ".opf", ".css")))


def outputs(out: Path) -> dict[str, bytes]:
    """Every output file's bytes (the report without its timings and memory, which no two builds share,
    nor its word on the files of an earlier title it removed from this folder, O101-O103)."""
    found = {}
    for p in sorted(out.iterdir()):
        if p.is_file():
            data = p.read_bytes()
            if p.name.endswith(".report.json"):
                report = json.loads(data)
                for edition in report["editions"].values():
                    edition.pop("seconds", None)
                report.pop("memory", None)                  # measured, as the timings are
                report["findings"] = [f for f in report["findings"] if f["code"] not in ("O101", "O102", "O103")]
                data = json.dumps(report, sort_keys=True).encode()
            found[p.name] = data
    return found


@pytest.fixture
def book(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPRINT_PARTS", "always")     # the part cache too, on a tiny book
    monkeypatch.setenv("IMPRINT_WORKERS", "1")
    return write_book(tmp_path / "book", TEXT, METADATA)


def build(book: Path, out: Path, *extra) -> str:
    result = run_cli("--book", book, "--out", out, "-v", *extra)
    assert result.code == 0, result.err
    return result.err


def assert_fresh(book: Path, cached_out: Path, tmp_path: Path, name: str):
    """The cached build's outputs are exactly those of a build made with no cache at all."""
    fresh = tmp_path / f"fresh-{name}"
    build(book, fresh, "--no-cache")
    assert not any(p.is_dir() for p in fresh.iterdir())                  # nothing but outputs
    made, expected = outputs(cached_out), outputs(fresh)
    assert {name: made.get(name) for name in expected} == expected


@pytest.mark.parametrize("edit, new, old", [
    ("text", ("The apple", "The mango"), "apple"),                       # same length: same size file
    ("note", ("about the orchard", "about the vineyard"), "orchard"),
    ("metadata", ("title: Cached Book", "title: Renamed Book"), "Cached Book"),
])
def test_an_edit_shows_up_in_every_edition(book, tmp_path, edit, new, old):
    out = tmp_path / "out"
    build(book, out)
    before = outputs(out)
    file = book / ("book.yaml" if edit == "metadata" else "text.md")
    file.write_text(file.read_text().replace(*new))
    build(book, out)
    slug = "renamed-book" if edit == "metadata" else "cached-book"
    word = new[1].split()[-1] if edit != "metadata" else "Renamed Book"
    assert word in pdf_text(out / f"{slug}.pdf")
    assert word in epub_text(out / f"{slug}.epub")
    if edit != "metadata":
        assert old not in pdf_text(out / f"{slug}.pdf") and old not in epub_text(out / f"{slug}.epub")
    assert_fresh(book, out, tmp_path, edit)
    # Undoing the edit brings back the first build, byte for byte.
    file.write_text(file.read_text().replace(new[1], new[0]))
    build(book, out)
    assert {k: v for k, v in outputs(out).items() if k in before} == before


def test_nothing_changed_rebuilds_nothing_and_restores_outputs(book, tmp_path):
    out = tmp_path / "out"
    build(book, out)
    first = outputs(out)
    (out / "cached-book.pdf").unlink()
    err = build(book, out)
    assert "nothing has changed" in err and "typesetting" not in err
    assert outputs(out) == first
    assert "nothing has changed" not in build(book, out, "--edition", "pdf")   # other options, other build


def test_a_part_is_typeset_again_only_when_it_changed(book, tmp_path):
    out = tmp_path / "out"
    build(book, out)
    text = book / "text.md"
    text.write_text(text.read_text().replace("the miller counts", "the miller weighs"))
    lines = [re.sub(r"  \[[\d.]+ s\]$", "", line) for line in build(book, out).splitlines()]
    typeset = [line for line in lines if line.startswith("typesetting chapter") or "front matter" in line]
    assert typeset == ["typesetting chapter 2 (2 from the cache)"]      # not chapter 1, nor the front matter
    assert "weighs" in pdf_text(out / "cached-book.pdf")


def test_a_failed_build_is_remembered_until_the_book_is_fixed(book, tmp_path):
    out = tmp_path / "out"
    text = book / "text.md"
    text.write_text(TEXT + "\n![A figure](missing.png)\n")
    for _ in range(2):
        result = run_cli("--book", book, "--out", out)
        assert result.code == 1 and "missing.png" in result.err
    text.write_text(TEXT)
    build(book, out)
    assert "apple" in pdf_text(out / "cached-book.pdf")


def test_a_damaged_cache_is_only_a_miss(book, tmp_path):
    out = tmp_path / "out"
    build(book, out)
    first = outputs(out)
    entries = list(cache.folder_for(out, None).rglob("*.pickle"))
    assert entries
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:10])
    err = build(book, out)
    books = lambda found: {k: v for k, v in found.items() if not k.endswith(".report.json")}
    assert books(outputs(out)) == books(first)
    assert "C002" in err            # the damaged entries are named (info); the report records it


def test_digests_see_a_same_size_edit_at_once(tmp_path):
    file = tmp_path / "f.txt"
    file.write_text("apple")
    first = cache.file_digest(file)
    file.write_text("mango")
    cache.forget_file_digests()
    assert cache.file_digest(file) != first


@pytest.fixture(scope="module")
def toolchain_copy(tmp_path_factory):
    """A private copy of imprint, its templates and styles, to edit without touching the repository."""
    copy = tmp_path_factory.mktemp("toolchain")
    for name in ("imprint", "templates", "styles"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "build.py", copy / "build.py")
    return copy


def build_with(toolchain: Path, book: Path, out: Path, *extra):
    env = dict(os.environ, IMPRINT_PARTS="always", IMPRINT_WORKERS="1")
    proc = subprocess.run([sys.executable, str(toolchain / "build.py"), "--book", str(book), "--out", str(out), *extra],
                          cwd=toolchain, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("edit", ["stylesheet", "template"])
def test_a_stylesheet_or_template_edit_shows_up(toolchain_copy, tmp_path, edit):
    tools = tmp_path / "tools"
    shutil.copytree(toolchain_copy, tools)
    book = write_book(tmp_path / "book", TEXT, METADATA)
    out = tmp_path / "out"
    build_with(tools, book, out)
    if edit == "stylesheet":
        (tools / "styles" / "book.css").open("a").write('\n.title-page .title::after { content: " Restyled"; }\n')
        (tools / "styles" / "epub.css").open("a").write("\n/* Restyled */\n")
    else:
        for name in ("front-matter.html.j2", "epub/copyright.xhtml.j2"):
            template = tools / "templates" / name
            assert "book.labels.set_in.format(face=" in template.read_text()
            template.write_text(template.read_text().replace("book.labels.set_in.format(", "'Restyled ' ~ book.labels.set_in.format(", 1))
    build_with(tools, book, out)
    assert "Restyled" in pdf_text(out / "cached-book.pdf")
    assert "Restyled" in epub_text(out / "cached-book.epub")
    fresh = tmp_path / "fresh"
    build_with(tools, book, fresh, "--no-cache")
    assert outputs(out) == outputs(fresh)
    assert "Restyled" not in (ROOT / "styles" / "book.css").read_text()        # the repository untouched
