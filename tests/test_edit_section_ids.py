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
