"""An edit to a text set in parts whose headings carry ids that page references name: the chunk
set again (imprint/jobs/resetting.py chunk_html) owns a section's id only when it shows the
section's first block. Before, the section element kept its id while a stand-in of the same name
was added for the links to it: WeasyPrint warned 'Anchor defined twice' and the build failed
with X204 (the sections' targets on no laid-out page) and X205."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pdfplumber

from conftest import write_book
from test_parts import WORDS
from test_parts_essay import ESSAY_METADATA

ROOT = Path(__file__).resolve().parent.parent


def essay(edit: bool = False) -> str:
    rng = random.Random(5)
    para = lambda n: " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
    out = []
    for k in range(6):
        out.append(f"# Section {k + 1} {{#sec{k + 1}}}\n")
        for p in range(4):
            text = para(rng.randint(80, 140))
            if p == 2:
                text += f" See [](#sec{(k + 3) % 6 + 1}){{.page}}."
            if edit and k == 3 and p == 0:
                words = text.split(" ")
                words[len(words) // 2] = words[len(words) // 2][::-1]
                text = " ".join(words)
            out.append(text + "\n")
    return "\n".join(out)


def build(book, out, cache):
    env = dict(os.environ, IMPRINT_PARTS="always")
    return subprocess.run([sys.executable, "build.py", str(book), "--out", str(out), "--edition", "pdf",
                           "--cache", str(cache)], cwd=ROOT, env=env, capture_output=True, text=True)


def test_an_edit_before_linked_section_ids_builds(tmp_path):
    book = write_book(tmp_path / "book", essay(), ESSAY_METADATA)
    first = build(book, tmp_path / "out", tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    (book / "text.md").write_text(essay(edit=True))
    again = build(book, tmp_path / "out", tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    assert "defined twice" not in again.stderr and "X204" not in again.stderr, again.stderr


PLAIN = ("the of and to in a is that for it as was with be by on not this are or from at which but have an they "
         "were there would their been has when who will more no if out so what up its about into than them can "
         "only other new some could time these two may then first any now such like over even most made after").split()


def plain_essay(edit: bool = False) -> str:
    """Eight sections of five paragraphs, a note in the second: set in parts, its third page (a
    recto) begins with a paragraph and is the last clean page start before an edit in section 4,
    and its verso, the second page, is run short (a paragraph's widow) with it."""
    rng = random.Random(7)
    para = lambda n: " ".join(rng.choice(PLAIN) for _ in range(n)).capitalize() + "."
    out, note = [], 1
    for k in range(8):
        out.append(f"# Section {k + 1} {{#sec{k + 1}}}\n")
        for p in range(5):
            text = para(rng.randint(80, 150))
            if edit and k == 3 and p == 0:
                words = text.split(" ")
                words[len(words) // 2] = words[len(words) // 2][::-1]
                text = " ".join(words)
            if p == 1:
                text += f"[^n{note}]\n\n[^n{note}]: {para(rng.randint(10, 30))}"
                note += 1
            out.append(text + "\n")
    return "\n".join(out)


def texts(folder):
    with pdfplumber.open(next(folder.glob("*.pdf"))) as pdf:
        return [page.extract_text() for page in pdf.pages]


def test_an_edit_after_a_recto_run_short_with_its_verso_is_the_cold_build(tmp_path):
    """The chunk set again never starts on a recto (but the chapter's first page): a recto is run
    short with its verso (imprint/typeset/fence/spreads.py), which the chunk does not hold. Before,
    the chunk started on the third page, which then ran a line longer than its verso, and the
    pages after it broke otherwise than a cold build of the edited text."""
    book = write_book(tmp_path / "book", plain_essay(), ESSAY_METADATA)
    assert build(book, tmp_path / "out", tmp_path / "cache").returncode == 0
    (book / "text.md").write_text(plain_essay(edit=True))
    again = build(book, tmp_path / "out", tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    cold = build(book, tmp_path / "cold", tmp_path / "cold-cache")
    assert cold.returncode == 0, cold.stderr
    assert texts(tmp_path / "out") == texts(tmp_path / "cold")
