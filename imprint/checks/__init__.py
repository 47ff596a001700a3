"""Book -> findings: the manuscript checks. Pure: they read the Book and return Findings.

Each check lives in its own module and registers its codes in CODES (code -> meaning),
which the README documents and a test keeps in step.
"""

from __future__ import annotations

from imprint.errors import Finding
from imprint.manuscript import citations
from imprint.manuscript import index as index_marks
from imprint.manuscript.load import Book

CODES: dict[str, str] = {
    "M001": "Unknown metadata key that looks like a mistyped known key (it is ignored).",
    "M002": "No `lang` in the metadata; English is assumed.",
    "M003": "No `identifier` in the metadata; a stable one is derived from title and author.",
    "M004": "Front matter inside a manuscript file of a book folder (ignored; metadata belongs in book.yaml).",
}

CHECKS = []          # functions Book -> list[Finding], added by the check modules

from imprint.checks import notes as _notes, note_outputs as _note_outputs  # noqa: E402

CODES.update(citations.CODES)         # C1xx: citations (found while the book is read)
CODES.update(_notes.CODES)            # N1xx: the notes in the manuscript
CODES.update(_note_outputs.CODES)     # N2xx: the notes in the editions (run after the build)
CODES.update(index_marks.CODES)       # X2xx: page references and the index
CHECKS.append(_notes.check_notes)
CHECKS.append(index_marks.check)


def check(book: Book) -> list[Finding]:
    findings = list(book.load_findings)
    for run in CHECKS:
        findings.extend(run(book))
    return findings


from imprint.checks import security  # noqa: E402,F401  (registers its checks and codes)
