"""A typesetting Job (HTML, stylesheets, editions) -> its Layout: the pages laid out (notes settled
on their calls' pages), inspected by the page checks, and every paged edition written from
that one layout.

The inspections run inside the job, where the WeasyPrint Document lives; only their results
leave it, so a job can run in a worker process with its own limits (imprint/processes.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass, field
from pathlib import Path

from imprint.errors import Finding
from imprint.specs.editions import Edition
from imprint.typeset import longnotes
from imprint.typeset.engine import padding_pages, render, weasy_findings, write
from imprint.typeset import fence
from imprint.typeset import weasylog
from imprint.typeset.fence import textdraw


@dataclass(frozen=True)
class Job:
    """Everything a typesetting job needs; plain data, so it can cross to a worker process."""

    html: str
    page_css: str
    base: Path
    book_root: Path
    book_file: Path
    editions: tuple[Edition, ...]
    identifier: str
    note_numbers: tuple[int, ...] = ()
    # Page geometry by page count (first, last, page_css): when the laid-out count falls in
    # another band than the one set, the text is laid out again with that band's CSS.
    gutter: tuple[tuple[int, int, str], ...] = ()
    page_rules: object = None       # profiles.PageRules: padding for editions that pad
    remote_images: tuple[str, ...] = ()     # the only URLs the job may fetch (--allow-remote-images)
    manuscripts: tuple[Path, ...] = ()      # the Markdown files (where WeasyPrint's warnings point)
    part: str | None = None         # which chapter of the book this job sets (imprint/jobs/chapters.py); None: all of it

    def run(self) -> "Layout":
        return run_job(self)


@dataclass
class Layout:
    """What a job returns: the PDF of each edition and what was read off the pages."""

    pages: int
    pdfs: dict[str, bytes]
    findings: list[Finding]
    extracts: dict = field(default_factory=dict)
    padding: int = 0                # blank pages added at the end of editions that pad
    passes: int = 1                 # layouts made (more than one when the gutter band moved)
    page_css: str = ""              # the geometry the pages were set with
    resources: tuple[str, ...] = ()  # every local file the job read (a cached layout depends on them)


# Set by imprint/jobs/pool.py: how many typesetting jobs run at this moment, a counter in
# shared memory that the job's forked process reads when it comes to write its editions.
_RUNNING: contextvars.ContextVar[object | None] = contextvars.ContextVar("imprint_jobs_running", default=None)


def alone() -> bool:
    """Whether no other typesetting job runs beside this one now, with a core to spare
    (imprint/jobs/pool.py counts them): an edit's one changed chapter, or the last part of a
    book still being laid out when the others are done."""
    running = _RUNNING.get()
    return running is not None and running.value <= 1


@contextlib.contextmanager
def counting(running):
    """Jobs run in this context read `running` (an object with a `value`: the jobs at work) for alone()."""
    token = _RUNNING.set(running)
    try:
        yield running
    finally:
        _RUNNING.reset(token)


def _css_for(job: Job, pages: int) -> str:
    for first, last, css in job.gutter:
        if first <= pages <= last:
            return css
    if not job.gutter:
        return job.page_css
    return job.gutter[0][2] if pages < job.gutter[0][0] else job.gutter[-1][2]


def _padding(job: Job, document) -> int:
    from imprint.typeset.positions import is_blank
    if job.page_rules is None or not any(e.pads for e in job.editions):
        return 0
    return job.page_rules.padding(len(document.pages), is_blank(document.pages[-1]))


def _write_editions(document, job: Job, blanks, messages: list | None = None) -> dict[str, bytes]:
    """Every edition's PDF bytes from the one layout.

    A book set in one piece has the machine to itself while it writes: the editions after the
    first are written by forked copies of this process (the layout is shared copy-on-write)
    beside it; so has a part with no other job at work beside it when it comes to write
    (`alone()`: an edit's changed chapter, the last part of a book still being laid out); a
    part among others is written in turn, as the other cores are busy with the other parts. Whole-font editions first when written in turn: WeasyPrint subsets a
    document's fonts in place when it writes a subset, so a whole-font edition written after
    one would embed the subset (each fork writes from the untouched layout). What WeasyPrint
    logs while this process draws goes to `messages` (every edition draws the same text)."""
    one = lambda e: write(document, variant=e.pdf_variant, full_fonts=e.full_fonts, identifier=job.identifier,
                          links=e.links, paint=e.paint, output_intent=e.output_intent, bleed=e.bleed,
                          extra_pages=blanks if e.pads else (), messages=messages)
    from imprint.processes import may_fork
    from imprint.settings import current

    editions = sorted(job.editions, key=lambda e: not e.full_fonts)
    if (job.part is not None and not alone()) or len(editions) < 2 or (os.cpu_count() or 1) < 2 \
            or not may_fork(current().fork, "writers"):
        with textdraw.recorded():       # the later editions replay the first one's text drawing
            return {e.name: one(e) for e in editions}
    children = []
    for e in editions[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:                # the child: write one edition, hand its bytes over, leave
            os.close(read_end)
            _write_child(one, e, write_end)
        os.close(write_end)
        children.append((e, pid, read_end))
    written = {editions[0].name: one(editions[0])}
    for e, pid, read_end in children:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or not data.startswith(b"ok\n"):
            written[e.name] = one(e)          # write it here: an error, if any, is raised as usual
        else:
            written[e.name] = data[3:]
    return written


def _write_child(one, edition, fd) -> None:
    """In a forked writer: never returns."""
    import signal

    from imprint.processes import die_with_parent
    code = 1
    try:
        die_with_parent()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        data = one(edition)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(b"ok\n" + data)
        code = 0
    except BaseException:
        pass
    finally:
        os._exit(code)


def _stacked_findings(settled, document, job) -> list:
    """N210 for every note whose table rows, taller than a page, were set stacked (longnotes._stack)."""
    from imprint.typeset.positions import note_pages

    if not settled.stacked:
        return []
    first = {}
    for p in note_pages(document):
        for note in p.notes:
            first.setdefault(note.number, p.page)
    return [Finding("N210", "warning", f"note {n} holds a table row taller than a page ({rows} row"
                    f"{'s' if rows > 1 else ''}): it is set stacked, each cell a paragraph under its column's "
                    f"head, and runs on across pages", page=first.get(n),
                    hint="shorten the row's cells, split the row into several, or move the long text out of the table")
            for n, rows in sorted(settled.stacked.items())]


def run_job(job: Job) -> Layout:
    """Lay the text out (again only if the page count moves it into another gutter band, or
    a note is away from its call or too long), inspect the pages, write every paged edition
    from that one layout."""
    from imprint.jobs.inspections import EXTRACTS, INSPECTIONS, VERIFICATIONS

    from imprint.typeset.linebreak import Misses

    css, tried, fetched, fetched_remote = job.page_css, [], [], {}
    warnings, refused = [], []
    misses = Misses()             # paragraphs that missed their planned breaks: not planned again
    while True:
        def lay_out(html, css=css):
            nonlocal warnings, refused
            document, warnings, refused = render(html, job.base, book_root=job.book_root, page_css=css,
                                                 remote_images=job.remote_images, fetched=fetched,
                                                 fetched_remote=fetched_remote, misses=misses)
            return document
        lay_out.fetched, lay_out.misses, lay_out.page_css = fetched, misses, css   # longnotes._probe's cache entry

        # Laid out again (longnotes.ROUNDS layouts at most) only when a note is away from its
        # call or long.
        settled = longnotes.settle(job.html, lay_out)
        document = settled.document
        tried.append(css)
        padding = _padding(job, document)
        wanted = _css_for(job, len(document.pages) + padding)
        # Wider gutters only add pages, so the bands settle going up; if a quirk of line
        # breaking sends the count back to a narrower band already tried, the wider gutter
        # stays (it meets the printer's minimum for both counts).
        order = [band[2] for band in job.gutter]
        if (wanted == css or len(tried) > len(order) + 1
                or (wanted in tried and css in order and order.index(wanted) < order.index(css))):
            break
        css = wanted
    found = _stacked_findings(settled, document, job)
    for inspect in INSPECTIONS:
        found += inspect(document, job)
    extracts = {name: extract(document, job) for name, extract in EXTRACTS.items()}
    extracts["notes_settled"] = {"layouts": settled.layouts, "split": settled.split, "kept": settled.kept}
    blanks = (padding_pages(padding, (len(document.pages) + 1) % 2 == 0, css, job.base, job.book_root)
              if any(e.pads for e in job.editions) else [])
    drawn: list[str] = []           # what WeasyPrint logs while drawing (a character no font has)
    written = _write_editions(document, job, blanks, drawn)
    found = weasy_findings(warnings + drawn, refused, None, job.book_file, html=settled.html, page_css=css,
                           fetched=fetched, manuscripts=job.manuscripts) + found
    found += weasylog.patches_off(fence.switched_off(), job.book_file)
    pdfs = {e.name: written[e.name] for e in job.editions}
    for e in job.editions:
        for verify in VERIFICATIONS:
            found += verify(document, job, e, pdfs[e.name])
    return Layout(len(document.pages), pdfs, found, extracts, padding, len(tried), css,
                  tuple(sorted(set(fetched))))
