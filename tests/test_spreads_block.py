"""A spread that running short by at most three lines could not even (imprint/typeset/fence/
spreads.py), on a generated book (no corpus text): a note with its call's line too tall for
the few lines left at a page's foot (they go on to the next page together, footnote-policy:
line) leaves the page four to six lines short on its own, and the facing page runs short to
match (MAX_BLOCK_SHORT_LINES). Both pages' last baselines (body or note) are measured in the
PDF with pdfplumber."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from conftest import METADATA, run_cli, write_book
from test_spreads import LEADING, LONG, SHORT, paragraph, typeset_compare   # the same generated prose


def manuscript(seed: int) -> str:
    """One chapter (no chapter ends inside it) of paragraphs, a third of them with a note of
    three to eight lines, and now and then a heading."""
    rng = random.Random(seed)
    parts, notes, n = ["# Generated\n"], [], 0
    for k in range(70):
        text = paragraph(rng)
        if rng.random() < 0.35:
            n += 1
            text += f"[^{n}]"
            words = [rng.choice(SHORT + LONG) for _ in range(rng.randint(30, 90))]
            notes.append(f"[^{n}]: " + words[0].capitalize() + " " + " ".join(words[1:]) + ".")
        if rng.random() < 0.15:
            text = f"## Part {k}\n\n" + text
        parts.append(text)
    return "\n\n".join(parts + notes) + "\n"


SEEDS = (2,)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = {}
    for seed in SEEDS:
        root = tmp_path_factory.mktemp(f"spreads{seed}")
        book = write_book(root / "book", manuscript(seed), METADATA)
        result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
        assert result.code == 0, result.err
        out[seed] = (next((root / "out").glob("*.pdf")), result.err)
    return out


def feet(pdf) -> dict[int, float]:
    """page -> the baseline (pt from the top) of its last line of text, body or note."""
    import pdfplumber
    found = {}
    with pdfplumber.open(str(pdf)) as doc:
        for number, page in enumerate(doc.pages, start=1):
            ys = [page.height - c["matrix"][5] for c in page.chars if not c["text"].isspace() and c["size"] >= 8.5]
            if ys:
                found[number] = max(ys)
    return found


def spreads(pdf):
    """(verso, recto, verso's foot, recto's foot) of the spreads where no chapter ends."""
    found = feet(pdf)
    return [(v, r, found[v], found[r]) for v, r, apart, end in typeset_compare.feet(pdf) if not end]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_spread_ends_on_one_baseline(built, seed):
    """Both classes below, and a page kept a line short by a widow or an orphan whose facing
    page cannot lose a line without one of its own (the spread runs a line long together):
    no spread left uneven, and no L226."""
    pdf, err = built[seed]
    measured = spreads(pdf)
    assert len(measured) >= 8, measured
    uneven = [(v, r, round(abs(a - b), 1)) for v, r, a, b in measured if abs(a - b) > 1.0]
    assert not uneven, uneven
    assert "L226" not in err, err


@pytest.mark.parametrize("seed", SEEDS)
def test_a_spread_short_of_a_tall_note_runs_short_together(built, seed):
    """A spread whose pages both end four lines or more above a full page's foot (the note of a
    call near the foot went on to the next page with its line, and the facing page followed),
    and no spread left uneven with a page that short."""
    pdf, _ = built[seed]
    full = Counter(round(f, 1) for f in feet(pdf).values()).most_common(1)[0][0]
    short = [(v, r) for v, r, a, b in spreads(pdf) if full - max(a, b) >= 4 * LEADING - 1]
    assert short, (full, spreads(pdf))
    uneven = [(v, r, round(abs(a - b), 1)) for v, r, a, b in spreads(pdf)
              if abs(a - b) > 1.0 and full - min(a, b) >= 4 * LEADING - 1]
    assert not uneven, uneven
