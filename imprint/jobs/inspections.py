"""What is read off the laid-out pages before anything is written.

INSPECTIONS: functions (document, job) -> [Finding] — layout and note checks.
VERIFICATIONS: functions (document, job, edition, pdf bytes) -> [Finding] — the written file.
EXTRACTS: name -> function (document, job) -> plain, picklable data the later stages need
(the page of every anchor, the print page map for the EPUB's page-list...).

Both run inside the typesetting job, where the WeasyPrint Document lives; only their
results leave it, so a job can run in a worker process with its own limits.
"""

from __future__ import annotations

from imprint.checks import origins, pages as page_checks
from imprint.errors import Finding
from imprint.typeset.pagemap import page_map
from imprint.typeset.printed import printed_refs
from imprint.typeset.positions import anchor_pages, clean_starts, page_plan, stand_in_ids
from imprint.jobs.starts import page_starts


def note_placement(document, job) -> list[Finding]:
    """Every note must start on the page of its call."""
    where = anchor_pages(document)
    out = []
    for n in job.note_numbers:
        call, note = where.get(f"fnref{n}"), where.get(f"fn{n}")
        if call is None or note is None:
            out.append(Finding("L101", "error", f"note {n} is missing from the laid-out pages", page=call))
        elif call != note:
            out.append(Finding("L102", "error", f"note {n} is called on page {call} but starts on page {note}",
                               page=call, hint="shorten the note or the text before it, or move the call"))
    return out


def layout_findings(document, job) -> list[Finding]:
    """The layout findings, each about a line with that line's words, by which the build finds
    where in the manuscript it was set from (imprint/checks/origins.py)."""
    pages, marks = page_checks.analyse(document)
    return origins.anchor(page_checks.inspect(document, job), marks, pages)


from imprint.checks.note_outputs import inspect_pdf_notes  # noqa: E402

INSPECTIONS = [note_placement, inspect_pdf_notes, layout_findings]

EXTRACTS = {
    "anchors": lambda document, job: anchor_pages(document),
    "pagemap": page_map,
    "marks": page_checks.marks,
    "book_pages": page_checks.book_pages,
    "page_plan": lambda document, job: page_plan(document),
    "cuts": lambda document, job: clean_starts(document),
    "starts": lambda document, job: page_starts(document),
    "stand_ins": lambda document, job: stand_in_ids(document),
    "page_refs": printed_refs,
}

# Functions (document, job, edition, pdf bytes) -> [Finding], run on each edition once it is
# written: what must hold in the file itself. Their findings carry their edition.
VERIFICATIONS = [page_checks.geometry]
