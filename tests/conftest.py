"""Shared fixtures: the real essay built once per session, tiny books written on the fly,
and the CLI called in-process."""

from __future__ import annotations

import contextlib
import io
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # the checkout under test, not an installed copy
    sys.path.insert(0, str(ROOT))

from imprint.cli import main  # noqa: E402

BOOK = ROOT / "book"
SEED = ROOT.parent / "shared" / "seed" / "000_8dbaac79cf482463.txt"
CORPUS = ROOT.parent / "shared" / "corpus"


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args) -> Run:
    """Call the command line in-process and capture what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Run(int(code), out.getvalue(), err.getvalue())


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory):
    """This session's build cache (imprint/cache.py), away from the user's own."""
    patch = pytest.MonkeyPatch()
    patch.setenv("IMPRINT_CACHE", str(tmp_path_factory.mktemp("imprint-cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def essay_build(tmp_path_factory):
    """Every edition of book/ built once for the session; returns the output folder."""
    out = tmp_path_factory.mktemp("essay")
    result = run_cli("--book", BOOK, "--out", out)
    assert result.code == 0, result.err
    return out


@pytest.fixture(scope="session")
def essay_slug():
    from imprint.manuscript.load import load
    return load(BOOK).slug


METADATA = """\
title: A Tiny Book
author: Test Author
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000001
date: 2020-01-01
"""


def write_book(folder: Path, manuscript: str, metadata: str = METADATA, name: str = "text.md") -> Path:
    """A folder book with book.yaml and one manuscript file; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.yaml").write_text(textwrap.dedent(metadata), encoding="utf-8")
    (folder / name).write_text(textwrap.dedent(manuscript), encoding="utf-8")
    return folder


@pytest.fixture
def tiny_book(tmp_path):
    def make(manuscript: str, metadata: str = METADATA, name: str = "text.md") -> Path:
        return write_book(tmp_path / "book", manuscript, metadata, name)
    return make


@pytest.fixture(scope="session")
def essay_epubcheck(essay_build, essay_slug):
    """EPUBCheck's messages for the essay's EPUB (one JVM run per session)."""
    from imprint.editions import validate
    reason = validate.epubcheck_unavailable_reason()
    if reason:
        pytest.fail(f"EPUBCheck is required for the tests: {reason}")
    return validate.run_epubcheck(essay_build / f"{essay_slug}.epub")
