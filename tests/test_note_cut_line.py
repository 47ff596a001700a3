"""A long note's piece whose paragraph goes on in the next piece (imprint/typeset/longnotes.py
marks it `fn-cut-line`: its last line justified, as it was in the whole paragraph) is broken by
total-fit with that last line planned as any other line (imprint/typeset/linebreak.py). Planned
as a paragraph's last line, free to be short, it came out as two words justified across the
measure (issue 16: the 1,000-page book's "quarry quarry", word spaces 108x their width).

Paragraphs generated here (seeded words, no corpus text) are planned whole at the measure of a
6 x 9 in page with a 1.3 in gutter, cut after each of their lines in turn as the cutter cuts
them, and the piece planned again: its last line is read off the planned text (the breaks
are the spaces left breakable) and measured with the face's own widths (HarfBuzz)."""

from __future__ import annotations

import random

from lxml import etree

from imprint.typeset import linebreak

WORDS = ("harbour lantern quarrel meadow tribunal granary orchard vessel ledger charter parish "
         "weaver tenant furrow millstone bargain covenant garrison pilgrim tavern thresher cobbler "
         "almanac shipwright toll frontier assize warden beacon steward fallow commons tithe "
         "apprentice ferry quarry drover smithy cooper chandler lamplighter surveyor").split()
SMALL = "the of and to in a that was for on with as by at from".split()
MEASURE = 6 * 72 - 1.3 * 72 - 0.625 * 72       # points: the note's measure in the last gutter band
SIZE = linebreak.NOTE_SIZE


def paragraph(r) -> str:
    return " ".join(" ".join(r.choice(WORDS) if r.random() < 0.55 else r.choice(SMALL)
                             for _ in range(r.randint(9, 26))).capitalize() + "." for _ in range(8))


def planned_lines(text: str, classes: str) -> list[str]:
    span = etree.Element("span", {"class": classes})
    span.text = text
    lines = linebreak.plan_paragraph(span, SIZE, MEASURE, 0.0, linebreak._hyphenator("en"), False)
    assert lines
    out = "".join(span.itertext()).replace(linebreak.SHY, "-\n").replace(" ", "\n").split("\n")
    assert len(out) == lines
    return [line.replace(linebreak.NBSP, " ") for line in out]


# The fix: knuth_plass's `justified_last`, for a paragraph classed fn-cut-line (a note's piece
# whose paragraph goes on in the next piece: its last line is justified like any other).
def test_a_cut_pieces_last_line_is_planned_full():
    r = random.Random("cut-line")
    short = []
    for _ in range(6):
        whole = planned_lines(paragraph(r), "fn-p")
        for k in range(2, len(whole) - 2):
            if whole[k - 1].endswith("-"):
                continue            # the cutter adds the hyphen itself: cuts at word ends only here
            piece = planned_lines(" ".join(whole[:k]), "fn-p fn-cut fn-cut-line")
            last = piece[-1]
            if linebreak.width(last, SIZE) < 0.85 * MEASURE:
                short.append((k, last))
    assert short == []
