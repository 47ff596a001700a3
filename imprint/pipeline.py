"""The build: load -> check -> render -> typeset -> package -> verify -> write.

Only this module knows the order. Nothing in the output folder is touched until every
requested edition has been built and verified in memory; then all files are moved into
place together, so a failed build leaves the last good outputs as they were.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import checks, cover, package, render, typeset
from .checks import note_outputs
from .editions import DESIGN_MARGINS, EDITIONS, Edition, trim as trim_for
from .errors import BuildFailed, Finding, fails, summary
from .load import Book, load


@dataclass
class EditionResult:
    edition: str
    file: str
    data: bytes
    pages: int | None = None
    notes: int | None = None
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class BuildResult:
    book: Book
    out: Path
    editions: list[EditionResult]
    findings: list[Finding]          # manuscript findings, then each edition's
    written: list[Path] = field(default_factory=list)

    def report(self) -> dict:
        return {
            "book": self.book.metadata.title,
            "slug": self.book.slug,
            "summary": summary(self.findings),
            "editions": {
                r.edition: {"file": r.file, "pages": r.pages, "notes": r.notes, "seconds": round(r.seconds, 3),
                            "findings": [f.as_json() for f in r.findings]}
                for r in self.editions
            },
            "findings": [f.as_json() for f in self.findings],
        }


def select(names) -> list[Edition]:
    names = list(names or EDITIONS)
    return [EDITIONS[n] for n in names]


def run_checks(book_path: Path) -> tuple[Book, list[Finding]]:
    book = load(book_path)
    return book, checks.check(book)


def build(book_path: Path, out: Path, edition_names=None, *, strict: bool = False, progress=None) -> BuildResult:
    """Build the chosen editions of the book into `out`. Raises ImprintError; writes only on success."""
    say = progress or (lambda message: None)
    editions = select(edition_names)
    book, findings = run_checks(Path(book_path))
    if fails(findings, strict):
        raise BuildFailed(f"the manuscript has problems: {summary(findings)}", findings=findings)
    body = render.body_html(book)
    results: list[EditionResult] = []

    paged = [e for e in editions if e.kind == "pdf"]
    if paged:
        results += typeset_paged(book, body, paged, say)
    if any(e.kind == "epub" for e in editions):
        results.append(build_epub(book, body, say))

    all_findings = findings + [f for r in results for f in r.findings]
    if fails(all_findings, strict):
        raise BuildFailed(f"the build found problems: {summary(all_findings)}", findings=all_findings)
    result = BuildResult(book, Path(out), results, all_findings)
    result.written = write_outputs(result)
    return result


def typeset_paged(book: Book, body: render.Body, editions: list[Edition], say) -> list[EditionResult]:
    """Lay the text out once; every paged edition is that one layout written its own way."""
    started = time.perf_counter()
    trim = trim_for(book.metadata.trim)
    margins = DESIGN_MARGINS[trim.name]
    say(f"typesetting {book.slug} ({trim.name})")
    job = typeset.Job(
        html=render.paged_html(book, body, editions[0]),
        page_css=render.page_css(book, trim, margins, mirrored=True),
        base=book.root, book_root=book.root, book_file=book.metadata.source,
        editions=tuple(editions), identifier=book.metadata.identifier, note_numbers=tuple(sorted(body.notes)),
    )
    layout = typeset.run_job(job)
    seconds = time.perf_counter() - started
    results = []
    for edition in editions:
        found = [dataclasses.replace(f, edition=edition.name, where=f.where if f.where.file else
                                     dataclasses.replace(f.where, file=book.metadata.source))
                 for f in layout.findings]
        results.append(EditionResult(edition.name, book.slug + edition.suffix, layout.pdfs[edition.name],
                                     layout.pages, len(body.notes), found, seconds))
        say(f"{edition.name}: {layout.pages} pages")
    return results


def build_epub(book: Book, body, say) -> EditionResult:
    t0 = time.perf_counter()
    say("packaging the EPUB")
    jpeg = cover.ebook_cover_jpeg(book) if not book.metadata.cover_image else None
    data = package.package(book, body, jpeg)
    found = note_outputs.check_epub_notes(data, body.notes)
    return EditionResult("epub", book.slug + ".epub", data, None, len(body.notes), found, time.perf_counter() - t0)


def write_outputs(result: BuildResult) -> list[Path]:
    """Stage every file next to its destination, then move them all into place."""
    out = result.out
    out.mkdir(parents=True, exist_ok=True)
    files = {r.file: r.data for r in result.editions}
    files[result.book.slug + ".report.json"] = (json.dumps(result.report(), indent=2, ensure_ascii=False) + "\n").encode()
    staged = []
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            staged.append((Path(tmp), out / name))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return [final for _, final in staged]
