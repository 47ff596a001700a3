"""Book -> findings: the manuscript checks. Pure: they read the Book and return Findings.

Each check lives in its own module; every code's severity and meaning is in imprint/codes.py,
which the README's table of codes shows and a test keeps in step.
"""

from __future__ import annotations

from imprint.codes import meanings
from imprint.errors import Finding
from imprint.manuscript import index as index_marks
from imprint.manuscript.load import Book
from imprint.checks import glyphs, markup, notes, security
from imprint.checks import math as formulas

# M0xx: the metadata; N1xx: the notes in the manuscript; N2xx: the notes in the editions (run
# after the build); S1xx and R00x: what the manuscript reaches for; H1xx: Markdown that prints wrong.
CODES = meanings("M", "N", "S", "R", "C1", "X", "Q", "G", "H")   # C1xx citations, X1xx cross-references: found while the book is read; Q1xx formulas; G1xx the language and its glyphs

CHECKS = [notes.check_notes, markup.check_markup, security.raw_html, security.resources, formulas.check_math, glyphs.check_glyphs,
          index_marks.check]   # functions Book -> list[Finding]


def check(book: Book) -> list[Finding]:
    findings = list(book.load_findings)
    for run in CHECKS:
        findings.extend(run(book))
    return findings
