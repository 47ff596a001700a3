"""HTML -> a WeasyPrint Document (pages laid out, nothing written) -> PDF bytes.

One URL fetcher serves every resource: files inside the book folder or the toolchain's
own styles/, nothing else, and never the network.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

from dataclasses import dataclass, field

from .editions import Edition
from .errors import Finding, Location, ToolError
from .render import STYLES

log = logging.getLogger("weasyprint")


def make_fetcher(allowed: tuple[Path, ...]):
    """A WeasyPrint URLFetcher confined to `allowed` folders; refusals are recorded in `.refused`."""
    from weasyprint.urls import URLFetcher

    class BookFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=("file", "data"))
            self.allowed = tuple(a.resolve() for a in allowed)
            self.refused: list[tuple[str, str]] = []

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if not any(path.is_relative_to(a) for a in self.allowed):
                    self.refused.append(("outside", url))
                    raise ValueError(f"refused: {url} is outside the book")
                if not path.is_file():
                    self.refused.append(("missing", url))
                    raise ValueError(f"missing file {path}")
            elif parsed.scheme != "data":
                self.refused.append(("remote", url))
                raise ValueError(f"refused: {url} (no network access during a build)")
            return super().fetch(url, headers)

    return BookFetcher()


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def render(html: str, base: Path, *, book_root: Path, page_css: str = ""):
    """Lay out the pages. Returns (Document, warnings WeasyPrint logged, fetcher refusals)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fetcher = make_fetcher((book_root, STYLES))
    handler = _Collect()
    log.addHandler(handler)
    try:
        fonts = FontConfiguration()
        extra = [CSS(string=page_css, font_config=fonts)] if page_css else []
        document = HTML(string=html, base_url=str(base.resolve()) + "/", url_fetcher=fetcher).render(
            stylesheets=extra, font_config=fonts, optimize_images=False)
    except Exception as err:  # WeasyPrint raises many kinds; none should reach the user raw
        raise ToolError(f"WeasyPrint could not lay out the book: {err}", where=Location(base)) from err
    finally:
        log.removeHandler(handler)
    return document, handler.messages, fetcher.refused


def write(document, *, variant: str | None, full_fonts: bool, identifier: str, links: bool = True) -> bytes:
    """PDF bytes for the laid-out document. Reproducible: no wall-clock dates, fixed identifier.

    With links=False (print files) the link annotations and bookmarks are left out; the
    document is restored afterwards so other editions can be written from the same layout.
    """
    options = {"pdf_variant": variant, "full_fonts": full_fonts,
               "pdf_identifier": identifier.encode("utf-8")[:32]}
    if variant and variant.startswith("pdf/ua"):
        options["pdf_tags"] = True
    saved = [(p.links, p.bookmarks) for p in document.pages]
    try:
        if not links:
            for p in document.pages:
                p.links, p.bookmarks = [], []
        return document.write_pdf(**{k: v for k, v in options.items() if v is not None})
    except Exception as err:
        raise ToolError(f"WeasyPrint could not write the PDF: {err}") from err
    finally:
        for p, (page_links, bookmarks) in zip(document.pages, saved):
            p.links, p.bookmarks = page_links, bookmarks


def weasy_findings(messages, refused, edition: str | None, book_file) -> list[Finding]:
    out = []
    for kind, url in refused:
        code = {"missing": "R001", "outside": "R002", "remote": "R003"}[kind]
        text = {"missing": "file not found", "outside": "outside the book folder: refused",
                "remote": "remote resource not fetched (no network during a build)"}[kind]
        out.append(Finding(code, "error" if kind != "remote" else "warning", f"{text}: {url}",
                           Location(book_file), edition=edition))
    return out


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


@dataclass
class Layout:
    """What a job returns: the PDF of each edition and what was read off the pages."""

    pages: int
    pdfs: dict[str, bytes]
    findings: list[Finding]
    extracts: dict = field(default_factory=dict)


def run_job(job: Job) -> Layout:
    """Lay the text out once, inspect the pages, write every paged edition from that one layout."""
    from . import longnotes
    from .inspections import EXTRACTS, INSPECTIONS

    warnings, refused = [], []

    def lay_out(html):
        nonlocal warnings, refused
        document, warnings, refused = render(html, job.base, book_root=job.book_root, page_css=job.page_css)
        return document

    # Laid out again (at most twice) only when a note is away from its call or too long.
    settled = longnotes.settle(job.html, lay_out)
    document = settled.document
    found = weasy_findings(warnings, refused, None, job.book_file)
    for inspect in INSPECTIONS:
        found += inspect(document, job)
    extracts = {name: extract(document, job) for name, extract in EXTRACTS.items()}
    extracts["notes_settled"] = {"layouts": settled.layouts, "split": settled.split, "kept": settled.kept}
    pdfs = {e.name: write(document, variant=e.pdf_variant, full_fonts=e.full_fonts, identifier=job.identifier,
                          links=e.links) for e in job.editions}
    return Layout(len(document.pages), pdfs, found, extracts)
