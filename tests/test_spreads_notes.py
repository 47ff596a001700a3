"""A paragraph whose first line calls a long note, near a page's foot, on a generated book (no
corpus text): the note is cut into pieces (imprint/typeset/longnotes.py) and the pieces that fit
fill the page's footnote area as the call's line is set, so the paragraph's second line finds
no room; the call's line cannot stand alone at the foot (orphans), and the paragraph went whole
to the next page with its note, leaving the page before it white (Wealth of Nations p. 426, 17
lines; L226). `longnotes.pieces_give_way` sends the note's last pieces on instead: the paragraph
starts on the page, its note under it, running on overleaf."""

from __future__ import annotations

import random

import pytest

from test_spreads import LONG, SHORT, built_pages, paragraph   # the same generated prose

# One-line paragraphs before the target in each chapter: the opening page holds 27 lines, so the
# target's first line falls 3 to 11 lines above the foot of the page after it. Without the
# patch, these four (of sixteen tried) went whole to the next page.
BEFORE = (44, 46, 49, 52)


def manuscript() -> str:
    rng = random.Random(5)
    parts, notes = [], []
    for n, count in enumerate(BEFORE, start=1):
        parts.append(f"# Chapter {n}\n")
        parts += [f"Line {n}.{i} of the chapter, a short paragraph." for i in range(count)]
        words = paragraph(rng).split()
        parts.append(f"Target{n} {words[1]}[^{n}] " + " ".join(words[2:]) + " " + paragraph(rng)[:-1].lower() + ".")
        parts += [f"After {n}.{i}, a short paragraph." for i in range(40)]
        note = [rng.choice(SHORT + LONG) for _ in range(200)]       # about 20 lines: a long note, cut
        notes.append(f"[^{n}]: " + note[0].capitalize() + " " + " ".join(note[1:]) + ".")
    return "\n\n".join(parts + notes) + "\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return built_pages(tmp_path_factory.mktemp("spreads-notes"), manuscript())


def test_a_paragraph_calling_a_long_note_starts_where_the_text_before_it_ends(built):
    pages, err = built
    for n in range(1, len(BEFORE) + 1):
        before = max(i for i, page in enumerate(pages) if f"Line {n}." in page)
        target = next(i for i, page in enumerate(pages) if f"Target{n} " in page)
        assert target == before, (n, before + 1, target + 1)
        assert f"See note {n}" not in "".join(pages)                    # not moved on with a pointer
        # the note starts under its call and runs on to the next page
        assert any(line.lstrip().startswith(f"{n} ") for line in pages[target].splitlines()), pages[target]
    assert "L226" not in err, err
    assert "N2" not in err, err
