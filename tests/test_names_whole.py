"""Names are never hyphenated anywhere in the paged editions (issue 19, item 2: "no hyphenation
of capitalised words (names) unless allowed in metadata"), not only in the paragraphs total-fit
line breaking plans: the text WeasyPrint sets on its own (table cells, a note's block
quotation and list) is guarded too (imprint/typeset/linebreak.py `_guard_rest`). Before, a
narrow table column split "Alexan-drovich" and "Shlyap-nikov".

Generated book (a fixed vocabulary: names capitalised, every other word in small letters)."""

from __future__ import annotations

import random
from collections import defaultdict

import pdfplumber
import pytest

from conftest import run_cli, write_book

NAMES = ["Kronstadt", "Petrograd", "Alexandrovich", "Shlyapnikov", "Kollontai", "Zinoviev", "Ovseyenko",
         "Tukhachevsky", "Dybenko", "Raskolnikov"]
WORDS = ["the", "of", "and", "workers", "soviet", "committee", "revolution", "government", "delegates",
         "assembly", "resolution", "garrison", "commissariat", "expropriation", "administration"]
AUTO_HYPHEN = "\u2010"       # what WeasyPrint draws where it hyphenates (a hard hyphen is "-")


def _text(r, n) -> str:
    return " ".join(r.choice(NAMES) if r.random() < 0.35 else r.choice(WORDS) for _ in range(n))


def _manuscript() -> str:
    r = random.Random("names-whole")
    rows = "\n".join(f"| {r.choice(NAMES)} | {_text(r, 30)} |" for _ in range(8))
    return (f"# One\n\nThe {_text(r, 90)}.[^1]\n\n| Name | Account |\n|---|---|\n{rows}\n\n"
            f"The {_text(r, 90)}.\n\n[^1]: A note.\n\n    > {_text(r, 120)}\n\n    - {_text(r, 60)}\n    - {_text(r, 60)}\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    book = write_book(root / "book", _manuscript(), metadata="title: Names\nauthor: A. Writer\nlang: en\n")
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--trim", "5x8")
    assert result.code == 0, result.err[-3000:]
    return next(out.glob("*.pdf"))


@pytest.fixture(scope="module")
def line_ends(built):
    ends = []
    with pdfplumber.open(built) as pdf:
        for page in pdf.pages:
            rows = defaultdict(list)
            for c in page.chars:
                rows[(round(c["size"], 1), round(c["bottom"]))].append(c)
            for key in sorted(rows, key=lambda k: k[1]):
                chars = sorted(rows[key], key=lambda c: c["x0"])
                # the last word of the line, as drawn (a gap between characters is a space)
                text = ""
                for a, b in zip(chars, chars[1:] + [None]):
                    text += a["text"] + (" " if b is not None and b["x0"] - a["x1"] > 1.0 else "")
                if text.split():
                    ends.append((key[0], text.split()[-1]))
    return ends


def test_no_name_is_hyphenated_in_table_cells_or_a_notes_quotation_and_list(line_ends):
    hyphenated = [(size, w) for size, w in line_ends if w.endswith(AUTO_HYPHEN)]
    names = [(size, w) for size, w in hyphenated if w[:1].isupper()]
    assert names == [], f"names hyphenated: {names}"
    # Hyphenation is on, in the cells and notes as well: common words are broken there.
    assert any(size < 11 for size, _ in hyphenated), hyphenated


def test_names_next_to_each_other_keep_their_space_in_the_pdfs_text(built):
    """Two names apart by a space are guarded in one span: with a span each, the space alone
    between them was not written in the PDF's text ("AlexandrovichShlyapnikov" when copied or
    searched, though drawn apart)."""
    joined, lines = [], []
    with pdfplumber.open(built) as pdf:
        for page in pdf.pages:
            rows = defaultdict(list)
            for c in page.chars:
                rows[round(c["bottom"])].append(c)
            for row in rows.values():
                # the line's text as written (a wide gap, between table cells, kept apart)
                chars = sorted(row, key=lambda c: c["x0"])
                line = "".join(a["text"] + ("|" if b is not None and b["x0"] - a["x1"] > 8 else "")
                               for a, b in zip(chars, chars[1:] + [None]))
                found = [(a, b) for a in NAMES for b in NAMES if a + b in line]
                joined += found
                lines += [line] if found else []
    assert joined == [], lines
