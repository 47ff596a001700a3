"""A spread that running short by at most three lines could not even (imprint/typeset/fence/
spreads.py), on a generated book (no corpus text): a note with its call's line too tall for
the few lines left at a page's foot (they go on to the next page together, footnote-policy:
line) leaves the page four to six lines short on its own, and the facing page runs short to
match (MAX_BLOCK_SHORT_LINES). Both pages' last baselines (body or note) are measured in the
PDF with pdfplumber."""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=None)      # each PDF is built once (module fixture) and read once
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


@functools.lru_cache(maxsize=None)
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


def test_a_long_note_set_in_pieces_is_named_as_what_went_on():
    """L226's reason for a page that runs far short because the paragraph opening the next page
    took a long note with its call's line: a long note is set in pieces (imprint/typeset/
    longnotes.py), each a block of its own, and the note is all of them, not its first piece
    (Wealth of Nations p. 424 was put down to "an orphan kept"). Pages made by hand: the check
    reads the PageViews WeasyPrint's boxes give (imprint/typeset/positions.py)."""
    from imprint.checks.pages import _why_short
    from imprint.typeset.positions import Line, PageView, Rect

    area = Rect(72.0, 72.0, 504.0, 792.0)
    step = 19.2                                    # 14.4 pt in px

    def line(page, region, y, block, text, height=step, calls=()):
        box = Rect(area.x0, y, area.x1, y + height)
        return Line(page, region, box, box, area, text, block, "p", baseline=y + height * 0.8, calls=calls)

    verso = [line(10, "text", area.y0 + k * step, 1, f"verso line {k}") for k in range(20)]
    recto = [line(11, "text", area.y0 + k * step, 2, f"recto line {k}", calls={0: (5,), 6: (6,)}.get(k, ()))
             for k in range(10)]
    notes = [line(11, "footnote", area.y0 + 10 * step + 8 + k * 13.0, 100 + k // 2, f"note line {k}", 13.0)
             for k in range(16)]
    notes.append(line(11, "footnote", area.y0 + 10 * step + 8 + 16 * 13.0, 200, "the next note", 13.0))
    pieces = tuple((5, k) for k in range(8)) + ((6, 0),)
    short = PageView(10, 576.0, 864.0, (0, 0, 0, 0), area, "left", False, "", tuple(verso), (), (), None)
    after = PageView(11, 576.0, 864.0, (0, 0, 0, 0), area, "right", False, "", tuple(recto + notes), (), (),
                     Rect(area.x0, notes[0].box.y0, area.x1, notes[-1].box.y1), (5, 6), pieces)
    reason, hint = _why_short(short, after, 12 * step)
    assert "note 5" in reason and "note 5" in hint, reason
    tall = 16 * 13.0 * 0.75
    assert f"({tall:.0f} pt)" in reason, reason
    # the same page with note 5 called further down (its seventh line): not what sent the
    # opening lines on, which the white above would have held
    moved = [line(11, "text", area.y0 + k * step, 2, f"recto line {k}", calls={6: (5, 6)}.get(k, ()))
             for k in range(10)]
    reason, _ = _why_short(short, PageView(**{**after.__dict__, "lines": tuple(moved + notes)}), 3 * step)
    assert "note 5" not in reason and "orphan" in reason, reason
