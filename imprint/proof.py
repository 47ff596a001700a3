"""Book -> DIR/<slug>-proof.html: every spread of a paged edition as page images, each finding
marked on its page with its message, and the count of every layout check at the top.

The proof is what the publisher opens before approving the book, so it is one file: the
page images are embedded as PNG data URIs. A single self-contained file can be mailed or
archived next to the approval without losing its pictures, is written atomically like every
other output, and never shows a stale image left over from an earlier run.
"""

from __future__ import annotations

import base64
import io
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from imprint import outjournal, outlock, scratch
from imprint.processes import bounded
from imprint.settings import Settings, using
from imprint import pipeline
from imprint.html import render
from imprint.codes import all_codes, severity as code_severity
from imprint.specs.editions import EDITIONS, Edition, for_printer
from imprint.errors import BuildFailed, Finding, ImprintError, fails, summary

DPI = 96                # readable on screen at 100 %, ~45 KB a page in greyscale PNG
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class ProofResult:
    path: Path
    edition: str
    pages: int
    findings: list[Finding]          # manuscript findings, then the edition's


def default_edition() -> str:
    """The print edition once it exists; until then the PDF edition (same pagination by design)."""
    return "print" if "print" in EDITIONS else "pdf"


@scratch.in_own_tempdir
def proof(book_path: Path, out: Path, edition_name: str | None = None, *, progress=None,
          profile=None, trim=None, limits=None, settings: Settings | None = None) -> ProofResult:
    """Typeset one paged edition in memory and write its proof sheet. Layout findings do not stop it:
    showing them is its purpose. A manuscript with errors does (there is nothing sound to lay out).
    `profile` and `trim` override the metadata's and `limits` bound the typesetting job, as for a build;
    `settings` (imprint/settings.py) gives them, and how the book is laid out, when they are not given."""
    settings = settings or Settings.from_environment()
    profile = settings.profile if profile is None else profile
    trim = settings.trim if trim is None else trim
    limits = settings.limits if limits is None else limits
    say = progress or (lambda message: None)
    edition = EDITIONS.get(edition_name or default_edition())
    if edition is None or edition.kind != "pdf":
        raise ImprintError(f"no paged edition named '{edition_name}'",
                           hint=f"choose one of {', '.join(n for n, e in EDITIONS.items() if e.kind == 'pdf')}")
    # The proof's limits bound it as a whole, as a build's do (imprint/processes.py).
    with bounded(limits, where=book_path, workers=settings.worker_count()) as watch:
        book, findings = pipeline.run_checks(Path(book_path))
        pipeline.check_out(book, Path(out))
        if fails(findings):
            raise BuildFailed(f"the manuscript has problems: {summary(findings)}", findings=findings)
        printer = pipeline.printer_for(book, profile)
        trim_size = pipeline.trim_of(book, trim, printer)
        edition = for_printer(edition, printer)
        body = render.body_html(book)
        with using(settings):
            [result], _ = pipeline.typeset_paged(book, body, [edition], say, printer, trim_size, limits)
        say(f"rendering {result.pages} pages of the {edition.name} edition")
        images = page_images(result.data)
        everything = findings + result.findings
        html = render.render_template(render.environment(), "proof.html.j2",
                                      **context(book, edition, result, everything, images))
        watch.stop()                # before the proof is written: what ran, ran within the limits
    path = Path(out) / f"{book.slug}-proof.html"
    write_atomically(path, html.encode("utf-8"))
    return ProofResult(path, edition.name, result.pages or 0, everything)


@dataclass(frozen=True)
class PageImage:
    png: bytes
    width: int                       # px
    height: int
    trim: tuple[float, float, float, float]   # the TrimBox as fractions of the image: left, top, width, height


def page_images(pdf: bytes, dpi: int = DPI) -> list[PageImage]:
    """Every page of the PDF as a greyscale PNG (the whole MediaBox, bleed included)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    out = []
    try:
        for page in document:
            ml, mb, mr, mt = page.get_mediabox()
            tl, tb, tr, tt = page.get_trimbox()
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, "PNG")            # optimize=True is 3x slower for 4 % less
            w, h = mr - ml, mt - mb
            out.append(PageImage(buffer.getvalue(), image.width, image.height,
                                 ((tl - ml) / w, (mt - tt) / h, (tr - tl) / w, (tt - tb) / h)))
            page.close()
    finally:
        document.close()
    return out


def spreads(count: int) -> list[tuple[int | None, int | None]]:
    """Pages as the open book shows them: page 1 alone as a recto, then 2-3, 4-5... (left, right)."""
    pairs: list[tuple[int | None, int | None]] = [(None, 1)] if count else []
    for left in range(2, count + 1, 2):
        pairs.append((left, left + 1 if left + 1 <= count else None))
    return pairs


def pct(value: float) -> str:
    return f"{100 * value:.3f}%"


def context(book, edition: Edition, result, findings: list[Finding], images: list[PageImage]) -> dict:
    """Plain data for templates/proof.html.j2: every position already a CSS percentage."""
    marks: dict[tuple, list[dict]] = {}          # the same message can stand at several spots of a page
    for m in result.extracts.get("marks", []):
        marks.setdefault((m["code"], m["page"], m["message"]), []).append(m)
    by_page: dict[int, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity]):
        if f.page is not None and 1 <= f.page <= len(images):
            by_page.setdefault(f.page, []).append(f)

    def page_data(number: int | None) -> dict | None:
        if number is None:
            return None
        image = images[number - 1]
        left, top, width, height = image.trim
        notes = []
        for n, f in enumerate(by_page.get(number, []), start=1):
            spots = marks.get((f.code, f.page, f.message))
            mark = spots.pop(0) if spots else None
            box = None
            if mark and mark["rect"]:
                x0, y0, x1, y1 = mark["rect"]
                tw, th = mark["trim"]
                # the mark is in points from the trim's corner; the image shows the MediaBox
                box = {"left": pct(left + width * x0 / tw), "top": pct(top + height * y0 / th),
                       "width": pct(max(width * (x1 - x0) / tw, 0.004)),
                       "height": pct(max(height * (y1 - y0) / th, 0.004))}
            notes.append({"n": n, "code": f.code, "severity": f.severity, "message": f.message,
                          "hint": f.hint or "", "box": box})
        return {"number": number, "src": "data:image/png;base64," + base64.b64encode(image.png).decode("ascii"),
                "width": image.width, "height": image.height, "notes": notes,
                "trim": {"left": pct(left), "top": pct(top), "width": pct(width), "height": pct(height)},
                "bleed": image.trim != (0.0, 0.0, 1.0, 1.0)}

    codes = all_codes()
    counts = Counter(f.code for f in findings)
    first_page: dict[str, int] = {}
    for f in findings:
        if f.page is not None:
            first_page[f.code] = min(first_page.get(f.code, f.page), f.page)
    shown = sorted({c for c in codes if c.startswith("L")} | set(counts))
    severity = {f.code: f.severity for f in findings}
    table = [{"code": c, "count": counts.get(c, 0), "meaning": codes.get(c, ""),
              "severity": severity[c] if c in severity else code_severity(c),
              "href": f"#{spread_anchor(first_page[c])}" if c in first_page else ""} for c in shown]
    spread_data = []
    for left, right in spreads(len(images)):
        pages = [page_data(left), page_data(right)]
        spread_data.append({"id": spread_anchor(left or right),
                            "sides": [{"name": "left", "page": pages[0]}, {"name": "right", "page": pages[1]}]})
    return {
        "title": book.metadata.title, "author": book.metadata.author_line, "slug": book.slug,
        "edition": edition.name, "page_count": len(images), "summary": summary(findings),
        "table": table,
        "unplaced": [{"code": f.code, "severity": f.severity, "message": f.message, "where": str(f.where),
                      "hint": f.hint or ""} for f in findings if f.page is None],
        "spreads": spread_data,
    }


def spread_anchor(page: int) -> str:
    """The id of the spread that shows `page` (spreads are named after their first page)."""
    return f"spread-{page - page % 2 if page > 1 else 1}"


def write_atomically(path: Path, data: bytes) -> None:
    """Under the output folder's lock (a build may be writing there), after what a killed build
    left is finished (imprint/outjournal.py): the proof staged as a hidden file, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with outlock.output_lock(path.parent):
        done = outjournal.recover(path.parent)
        if done:
            print(done, file=sys.stderr, flush=True)
        outjournal.write_one(path, data)

