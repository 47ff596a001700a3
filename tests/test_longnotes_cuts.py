"""Where the long-note cutter (imprint/typeset/longnotes.py) may cut a note, on measured lines
made here: the pieces keep two lines of a paragraph on either side of a cut, but a note pushed
off its call's page (`_pushed`) whose first piece cannot fit in the room under its call starts
there with its first line alone when that line fits (test_note_fallback builds the book)."""

from __future__ import annotations

from imprint.typeset import longnotes
from imprint.typeset.longnotes import Unit

LINE = 11.5       # points: a note line


def note(*paragraphs: int) -> list[Unit]:
    """A note as WeasyPrint lays it out: an empty line box before its text (its number's), then
    paragraphs of so many justified lines, each line ten characters."""
    units, end = [Unit(2.5, 0, "", "number", False)], 0
    for k, lines in enumerate(paragraphs):
        for _ in range(lines):
            end += 10
            units.append(Unit(LINE if len(units) > 1 else LINE - 2.5, end, "", f"p{k}", True))
    return units


def test_pieces_keep_two_lines_of_a_paragraph_either_side_of_a_cut():
    units = note(4, 3)
    groups = longnotes._groups(units)
    assert groups[0] == (0, 3)                     # the number's empty line and two lines
    assert all(b - a >= 2 for a, b in groups)


def test_a_pushed_note_starts_with_its_first_line_alone_when_two_do_not_fit():
    units = note(4, 3)
    groups = longnotes._groups(units)
    room = 13.5                                    # three lines of white: call line, rule, one note line
    alone = longnotes._first_line_alone(units, groups, room)
    assert alone == [(0, 2), (2, 3)] + groups[1:]
    assert sum(u.height for u in units[:2]) <= room < sum(u.height for u in units[:3])


def test_no_first_line_alone_when_the_first_piece_fits_or_the_line_does_not():
    units = note(4, 3)
    groups = longnotes._groups(units)
    assert longnotes._first_line_alone(units, groups, 40.0) is None      # two lines fit: cut as ever
    assert longnotes._first_line_alone(units, groups, 8.0) is None       # not even one line
    assert longnotes._first_line_alone(units, groups, None) is None      # not a pushed note


def test_no_first_line_alone_that_leaves_a_widow_overleaf():
    units = note(2)                                # a note of two lines: one on each page is a widow too
    assert longnotes._first_line_alone(units, longnotes._groups(units), 13.5) is None
    units = note(1, 3)                             # a one-line paragraph first: a cut between paragraphs
    assert longnotes._first_line_alone(units, [(0, 5)], 13.5) == [(0, 2), (2, 5)]
