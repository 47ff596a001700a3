"""A spread left a line apart because its lines come out odd (a widow kept on the verso, the recto
unable to lose a line without one of its own, nor the spread to run a line long: fence/spreads.py
cannot even it by running pages short or long) is evened as a typesetter does, by setting a
paragraph on it a line shorter or longer (TeX's \\looseness: imprint/typeset/linebreak.py
`even_spreads`, engine.render lays the part out again). On a generated book (no corpus text, the
prose of tests/test_spreads_block.py) whose page 24 was left so (L226, "a widow kept")."""

from __future__ import annotations

import random

import pytest

from conftest import METADATA, run_cli, write_book
from imprint.typeset.linebreak import Box, Glue, Penalty, knuth_plass
from test_spreads_block import manuscript, spreads

SEED = 23         # pages 24/25 a line apart, a widow kept, before linebreak.even_spreads (5 until session 14)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("spreads-looseness")
    book = write_book(root / "book", manuscript(SEED), METADATA)
    result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    return next((root / "out").glob("*.pdf")), result.err


def test_a_spread_whose_lines_come_out_odd_is_evened_by_a_paragraph_a_line_shorter(built):
    pdf, err = built
    measured = spreads(pdf)
    assert len(measured) >= 8, measured
    uneven = [(v, r, round(abs(a - b), 1)) for v, r, a, b in measured if abs(a - b) > 1.0]
    assert not uneven, uneven
    assert "L226" not in err, err


def test_without_the_rounds_that_spread_is_left_a_line_apart(tmp_path, monkeypatch):
    # The premise of the test above: the same book with no paragraph set looser leaves L226.
    from imprint.typeset import linebreak
    monkeypatch.setattr(linebreak, "SPREAD_ROUNDS", 0)      # inherited by the forked typesetting process
    book = write_book(tmp_path / "book", manuscript(SEED), METADATA)
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    assert "L226" in result.err, result.err


def _paragraph(words: int) -> list:
    rng = random.Random(1)
    items = []
    for _ in range(words):
        items += [Box(rng.choice([10, 15, 20, 25, 30])), Glue(3, 1.5, 1)]
    return items[:-1] + [Glue(0, 1e6), Penalty(0, -10_000)]


def test_looseness_sets_a_paragraph_a_line_longer_or_shorter_within_the_tolerance_or_not_at_all():
    items = _paragraph(300)
    best = knuth_plass(items, lambda n: 300, 2.0)
    longer = knuth_plass(items, lambda n: 300, 2.0, looseness=1)
    assert len(longer.breaks) == len(best.breaks) + 1
    assert longer.demerits > best.demerits and max(longer.ratios) <= 2.0
    assert knuth_plass(items, lambda n: 300, 1.0, looseness=1) is None      # it takes spaces past 1.5x
    assert knuth_plass(items, lambda n: 300, 2.0, looseness=-1) is None     # no line shrinks that far
    items = _paragraph(283)                      # a last line short enough for the others to take it
    shorter = knuth_plass(items, lambda n: 300, 2.0, looseness=-1)
    assert len(shorter.breaks) == len(knuth_plass(items, lambda n: 300, 2.0).breaks) - 1
    assert min(shorter.ratios) >= -1.0                                    # no space narrowed past its shrink
