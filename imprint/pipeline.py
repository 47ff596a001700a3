"""The build: load -> check -> render -> typeset -> package -> verify -> write.

Only this module knows the order. Nothing in the output folder is touched until every
requested edition has been built and verified in memory; then all files are moved into
place together, so a failed build leaves the last good outputs as they were.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from imprint import cache
from imprint import checks
from imprint import outjournal
from imprint import outlock
from imprint import scratch
from imprint.editions import cover
from imprint.editions import epub
from imprint.jobs import chapters, pagerefs
from imprint.manuscript import languages, sections
from imprint.editions import preflight
from imprint.specs import profiles
from imprint.html import render
from imprint.manuscript import sanitize
from imprint.jobs.job import Job
from imprint.specs.editions import EDITIONS, Edition, for_printer, margins_for, trim as trim_for
from imprint.specs.editions import check_margins as margin_problem, screen_margins
from imprint.codes import severity
from imprint.errors import (BuildFailed, ExitCode, Finding, ImprintError, InterruptedAfterWriting, Location,
                            MetadataError, fails, summary)
from imprint.processes import Limits, MemorySampler, bounded, budget, may_fork, start_limited
from imprint.settings import Settings, using as using_settings
from imprint.checks import note_outputs, origins
from imprint.manuscript.load import Book, load


# --- a whole build, from the cache ------------------------------------------------------------------------

def memoized(build):
    """Wrap pipeline.build: an unchanged book, built with the same settings by the same
    toolchain, gets the last result (outputs, findings, or the same failure) without any
    work; anything else is built with this cache current, so its stages reuse what they can.

    The wrapper makes the build's one Settings value (imprint/settings.py) from `settings=`
    and the keywords kept for callers of old (`strict=`, `limits=`, `cache=`, ...), makes it
    current for the build's stages, and keys the whole build on `Settings.key()`: every
    setting that can change an output. The cache folder is Settings.cache: a folder, False
    for none, or None for the user's cache.
    """

    @functools.wraps(build)
    def wrapper(book_path, out, edition_names=None, *, settings: Settings | None = None, progress=None,
                **options):
        unknown = set(options) - LEGACY_OPTIONS
        if unknown:
            raise TypeError(f"build() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        given = {k: v for k, v in options.items() if v is not None or k == "cache"}
        if edition_names is not None:
            given["editions"] = tuple(edition_names)
        settings = (settings or Settings.from_environment()).replace(**given)
        book_path, out = Path(book_path), Path(out)
        say = progress or (lambda message: None)
        folder = cache.folder_for(out, settings.cache)
        store = cache.Cache(folder)
        cache.forget_file_digests()
        skip = (out,) + ((folder,) if folder else ())
        files = cache.book_files(book_path, skip=skip) if store.enabled else None
        inputs = (cache.toolchain(), files) if store.enabled else None
        key = None
        if files is not None:
            key = cache.digest("build", inputs[0], settings.key(), files, os.environ.get("SOURCE_DATE_EPOCH"))
            entry = store.load("build", key)
            if entry is not None and "result" in entry and not _outputs_match(entry):
                store.note_damaged("build")     # built again, like a fresh build, and said so (C002)
                entry = None
            if entry is not None:
                say("nothing has changed since the last build: its results, from the cache")
                if "failed" in entry:
                    raise BuildFailed(entry["failed"], findings=entry["findings"])
                return _replay(entry["result"], out)

        def settle(entry) -> None:
            # Keep what this build stored only if nothing it may have read changed while it ran.
            cache.forget_file_digests()
            book_path_files = cache.book_files(book_path, skip=skip)
            if (cache.toolchain(), book_path_files) != inputs:
                store.forget_stored()
            elif key and entry is not None and not store.damaged:
                # (a build that met damaged entries reports C002: its result is not replayed)
                store.store("build", key, entry)
            store.prune()

        with cache.using(store), using_settings(settings):
            try:
                result = build(book_path, out, settings=settings, progress=progress)
            except BuildFailed as failure:
                if store.enabled:
                    settle({"failed": failure.message, "findings": failure.findings})
                raise
        if store.enabled:
            try:
                settle({"result": _slim(result), "outputs": _output_digests(result)})
            except KeyboardInterrupt as interrupt:     # the outputs are in place already: say so
                if isinstance(interrupt, InterruptedAfterWriting):
                    raise
                raise InterruptedAfterWriting(result.written) from interrupt
        return result

    return wrapper


# build()'s keywords from before Settings: each sets the Settings field of its name.
LEGACY_OPTIONS = {"strict", "profile", "trim", "limits", "allow_remote_images", "validate", "cache"}


def _slim(result):
    """The result without the manuscript's syntax tree (large, and unused once built)."""
    slim = dataclasses.replace(result, book=dataclasses.replace(result.book, ast={}), written=[])
    return slim


def _output_digests(result) -> dict[str, str]:
    return {r.file: cache.digest(r.data) for r in result.editions}


def _outputs_match(entry) -> bool:
    """A whole-build entry's outputs are the ones its build verified (their digests, made then)."""
    return entry.get("outputs") == _output_digests(entry["result"])


def _replay(result, out: Path):
    result = dataclasses.replace(result, out=out, memory=None)    # no build ran: nothing measured
    result.written = write_outputs(result)
    return result


@dataclass
class EditionResult:
    edition: str
    file: str
    data: bytes
    pages: int | None = None
    notes: int | None = None
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    extracts: dict = field(default_factory=dict)   # what the typesetting job read off the pages


@dataclass
class BuildResult:
    book: Book
    out: Path
    editions: list[EditionResult]
    findings: list[Finding]          # manuscript findings, then each edition's
    written: list[Path] = field(default_factory=list)
    preflight: preflight.Preflight | None = None
    memory: dict | None = None        # processes.MemorySampler's peaks; None when replayed from the cache

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
            "preflight": self.preflight.as_json() if self.preflight else None,
            "memory": self.memory,
        }


def select(names) -> list[Edition]:
    names = list(names or [n for n, e in EDITIONS.items() if e.default])
    return [EDITIONS[n] for n in names]


def run_checks(book_path: Path, printed: bool = True) -> tuple[Book, list[Finding]]:
    book = load(book_path)
    # the page the metadata asks for, against the metadata's printer (a build checks the printer it is given);
    # the printer's sizes bind only a build of the print edition: a PDF or an EPUB may have any page
    printer = printer_for(book)
    trim_of(book, None, printer if printed else None)
    check_margins(book, printer if printed else None, None, False)     # no printer: the text kept on the page
    return book, checks.check(book)


def printer_for(book: Book, name=None) -> profiles.PrinterProfile:
    """The printer profile: given (a name or a profile value), else the metadata's, else KDP."""
    if isinstance(name, profiles.PrinterProfile):
        return name
    if name is None and book.metadata.profile:
        try:
            return profiles.profile(book.metadata.profile)
        except ImprintError as err:
            raise MetadataError(f"metadata key 'profile': {err.message}", where=Location(book.metadata.source),
                                hint=err.hint) from None
    return profiles.profile(name)


def trim_of(book: Book, name=None, printer=None):
    """The trim: given (a name or WxH size), else the metadata's, else 6 x 9 in; checked against
    the printer's trims when `printer` is given (an error at the metadata's `trim:` line)."""
    line = dict(book.metadata.key_lines).get("trim")
    where = Location("--trim") if name else Location(book.metadata.source, line)
    try:
        size = trim_for(name or book.metadata.trim)
    except MetadataError as err:
        raise MetadataError(err.message if name else f"metadata key 'trim': {err.message}", where=where,
                            hint=err.hint) from None
    if printer is not None and not printer.trims.fits(size.width, size.height):
        said = f"--trim {name}" if name else f"metadata key 'trim': {book.metadata.trim}"
        raise MetadataError(f"{said} ({size.width / 72:.3g} x {size.height / 72:.3g} in) is a size "
                            f"{printer.label} does not print", where=where,
                            hint=f"{printer.label} prints {printer.trims.describe()}")
    return size


def check_margins(book: Book, printer, pages: int | None, bleeds: bool) -> None:
    """The metadata's `margins:` against the printer's minimums (the inside one for `pages`
    pages, or for the thinnest book before the count is known): an error at its line."""
    given = book.metadata.margins
    wrong = given is not None and (margin_problem(given, printer, pages, bleeds) if printer is not None
                                   else screen_margins(given))
    if wrong:
        raise MetadataError(f"metadata key 'margins': {wrong}",
                            where=Location(book.metadata.source, dict(book.metadata.key_lines).get("margins")),
                            hint="widen it, or leave `margins:` out for the design's margins")


@outlock.locked_output         # one build at a time into an output folder
@scratch.in_own_tempdir       # every temporary file of the build (WeasyPrint's fonts) goes with it
@memoized
def build(book_path: Path, out: Path, *, settings: Settings, progress=None) -> BuildResult:
    """Build the chosen editions of the book into `out`. Raises ImprintError; writes only on success.

    Called as build(book, out, edition_names=None, *, settings=None, progress=None, **options)
    (see memoized). Settings.profile (a printer name or PrinterProfile) and .trim (a trim name)
    override the metadata. Settings.limits bound the whole build (processes.Budget): every stage
    and child process gets the time that remains of it, and a watchdog (processes.MemorySampler)
    stops the build, its process tree killed, when all its processes together hold more memory
    than the limit or the time is up: a LimitError naming the limit, nothing written.
    Remote images are fetched for the paged editions only with .allow_remote_images; an EPUB
    never carries them. .validate runs EPUBCheck on every EPUB (about ten seconds: a JVM
    starts), its errors failing the build. The report gives the build's peak memory: this
    process and all its workers together."""
    with bounded(settings.limits, where=book_path, workers=settings.worker_count()) as memory:
        return _build(book_path, out, settings=settings, progress=progress, memory=memory)


def _build(book_path: Path, out: Path, *, settings: Settings, progress, memory: MemorySampler) -> BuildResult:
    say = progress or (lambda message: None)
    strict, profile, trim, limits = settings.strict, settings.profile, settings.trim, settings.limits
    allow_remote_images, validate, edition_names = settings.allow_remote_images, settings.validate, settings.editions
    warm = _warm_up(Path(book_path))
    learned = None
    try:
        for_print = any(e.pads for e in select(edition_names))     # the print edition: the printer's trims and margins
        book, findings = run_checks(Path(book_path), for_print)
        learned = book
    finally:
        warm.learned.set_result(learned)    # the warm-up's second half waits for the book
    check_out(book, Path(out))
    if fails(findings, strict):
        raise BuildFailed(f"the manuscript has problems: {summary(findings)}", findings=findings)
    printer = printer_for(book, profile)
    trim_size = trim_of(book, trim, printer if for_print else None)
    editions = [for_printer(e, printer) for e in select(edition_names)]
    body = render.body_html(book, allow_remote_images=allow_remote_images)
    results: list[EditionResult] = []

    paged = [e for e in editions if e.kind == "pdf"]
    ebooks = [e for e in editions if e.kind == "epub"]
    covered = next((e for e in paged if e.pads), None)      # the edition the cover wraps (print)
    # An EPUB must hold its images: remote ones stay out.
    epub_body = sanitize.without_remote_images(body) if ebooks and allow_remote_images else body
    page_starts = ()
    # A book set in parts knows its pages before they are joined: the EPUB (its page list) and
    # the cover (its spine) are made then, in children, while this process joins the chapters.
    early: dict = {}

    def placed(pages: int, padding: int, extracts: dict) -> None:
        if covered is None or not any(e.name == "print" for e in paged) or not may_fork(settings.fork, "early"):
            return
        early["pagemap"], early["pages"] = extracts.get("pagemap", ()), pages + padding   # the print edition's
        if ebooks:
            early["epubs"] = _start_epubs(book, epub_body, ebooks, early["pagemap"], say, limits)
        early["cover"] = _start_cover(book, printer, trim_size, early["pages"], covered, say, limits)

    rtl = languages.direction(book.metadata.lang) == "rtl"
    print_file = next((book.slug + e.suffix for e in paged if e.name == "print"), None)

    def check_print(data: bytes, cover_result):
        say(f"preflight ({printer.name})")
        return preflight.preflight(data, lambda: cover_result().data, printer, trim_size,
                                   book.metadata.paper, book.metadata.isbn.print,
                                   names=(print_file, book.slug + "-cover.pdf"), rtl=rtl)

    # A book set in parts joins its print edition in this process while a child joins the
    # download PDF: the preflight runs then, on those bytes, with the cover set early (`placed`).
    joined: dict = {}

    def on_joined(name: str, data: bytes) -> None:
        joined.clear()
        covering = early.get("cover")
        if name != "print" or covering is None:
            return
        try:
            joined["print"] = (data, check_print(data, covering.result), covering)
        except Exception:       # checked again below, where its error is reported as ever
            pass

    try:
        if paged or ebooks:
            # The EPUB's page list is read off the print layout, so an EPUB-only build lays the
            # pages out too (and writes no PDF).
            remote = sanitize.remote_images(body) if allow_remote_images else ()
            warm.join()                 # before any typesetting process is forked from this one
            token = chapters.JOINED.set(("print", on_joined) if print_file and may_fork(settings.fork, "early")
                                        else None)
            try:
                typeset_results, page_starts = typeset_paged(book, body, paged, say, printer, trim_size, limits,
                                                             remote, placed=placed)
            finally:
                chapters.JOINED.reset(token)
            results += typeset_results
        checked = None
        printed = next((r for r in results if r.edition == "print"), None)
        # Else (a book set in one piece) the EPUB is packaged in a child process (under the same
        # limits), and the cover set in another, while this one runs the printer's preflight.
        epubs, covering = early.get("epubs"), early.get("cover")
        if epubs is not None and early["pagemap"] != page_starts:
            epubs.cancel()              # never so far: the pages joined are the pages placed
            epubs = early["epubs"] = None
        if covering is not None and (printed is None or early["pages"] != printed.pages):
            covering.cancel()
            covering = early["cover"] = None
        if epubs is None and ebooks and printed is not None:
            epubs = _start_epubs(book, epub_body, ebooks, page_starts, say, limits)
        if printed is not None:
            hooked = joined.get("print")
            if covering is None and may_fork(settings.fork, "cover"):
                covering = _start_cover(book, printer, trim_size, printed.pages, covered, say, limits)
            # a child's result is read once and kept (Started.result)
            cover_result = covering.result if covering is not None else functools.cache(
                lambda: build_cover(book, printer, trim_size, printed.pages, covered, say))
            if hooked is not None and hooked[0] is printed.data and hooked[2] is covering:
                checked = hooked[1]             # checked as it was joined (on_joined)
            else:
                checked = check_print(printed.data, cover_result)
            checked.findings = origins.place_images(checked.findings, book)    # P110: the image's file and line
            if rtl:
                checked.findings += preflight.right_to_left(printer, printed.pages, Location(book.metadata.source))
                if printer.right_to_left == "reversed":      # checked in the book's order, written the printer's
                    results[results.index(printed)] = dataclasses.replace(
                        printed, data=preflight.reversed_pages(printed.data))
            results.append(cover_result())
        if epubs is not None:
            results += epubs.result()
        else:
            for edition in ebooks:
                results.append(build_epub(book, epub_body, say, edition, page_starts))
    except BaseException:             # children whose results are no longer wanted
        for started in (early.get("epubs"), early.get("cover")):
            if started is not None and started.process.is_alive():
                started.cancel()
        raise

    if validate:
        for r in results:
            if r.file.endswith(".epub"):
                say(f"EPUBCheck ({r.edition})")
                r.findings.extend(epubcheck_findings(book, r))
    all_findings = findings + cache.current().findings(book.metadata.source) + [f for r in results for f in r.findings] + (checked.findings if checked else [])
    # Only the editions asked for decide: a finding about one not being built (the print
    # edition's page limit, when only the PDF and the EPUB are asked for) fails nothing.
    built = {r.edition for r in results}
    def say_memory(peaks):
        if peaks:
            say(f"peak memory {peaks['tree_peak_mb']:.0f} MB (all processes together; "
                f"the largest alone {peaks['largest_process_mb']:.0f} MB)")

    if fails([f for f in all_findings if f.edition is None or f.edition in built], strict):
        say_memory(memory.as_json())        # what it took so far: a failed build's too
        raise BuildFailed(f"the build found problems: {summary(all_findings)}", findings=all_findings)
    memory.stop()
    result = BuildResult(book, Path(out), results, all_findings, preflight=checked, memory=memory.as_json())
    say_memory(result.memory)
    result.written = write_outputs(result)
    return result


def _start_epubs(book: Book, body, ebooks: list[Edition], page_starts, say, limits):
    for edition in ebooks:
        say(f"packaging the {edition.name} edition")
    return start_limited(SimpleNamespace(book_file=book.metadata.source), limits, call=lambda: [
        build_epub(book, body, lambda message: None, e, page_starts) for e in ebooks])


def _start_cover(book: Book, printer, trim_size, pages: int, edition: Edition, say, limits):
    say(f"setting the cover ({pages} pages, {book.metadata.paper} paper)")
    return start_limited(SimpleNamespace(book_file=book.metadata.source), limits,
                         call=lambda: build_cover(book, printer, trim_size, pages, edition, lambda message: None))


def epubcheck_findings(book: Book, result: "EditionResult") -> list[Finding]:
    """EPUBCheck's messages about an EPUB edition as findings (E203 errors, E204 warnings),
    or E205 when it cannot run."""
    from imprint.editions import validate

    where = Location(book.metadata.source)
    with tempfile.TemporaryDirectory(prefix="imprint-validate-") as tmp:
        path = Path(tmp) / result.file
        path.write_bytes(result.data)
        left = budget()             # EPUBCheck (Java) gets what remains of the build's time
        try:
            messages = validate.run_epubcheck(path, timeout=left.wait(validate.EPUBCHECK_TIMEOUT) if left
                                              else validate.EPUBCHECK_TIMEOUT)
        except (validate.ValidatorUnavailable, validate.ValidatorError, OSError) as err:
            if left is not None:
                left.check("EPUBCheck")      # out of time (or stopped): the limit, not a finding
            return [Finding("E205", "error", f"EPUBCheck could not check {result.file}: {err}", where,
                            "run scripts/install-system.sh (Java and EPUBCheck), or build without --validate",
                            edition=result.edition)]
    out = []
    for m in messages:
        if m.severity in ("error", "warning"):
            place = f"{m.file}:{m.line}" if m.file and m.line else (m.file or result.file)
            code = "E203" if m.severity == "error" else "E204"
            out.append(Finding(code, severity(code),
                               f"EPUBCheck {m.code} in {place}: {m.message}", where, edition=result.edition))
    return out


WARM_MIN_BYTES = 150_000    # of Markdown: a book set in enough parts (tens of processes) to gain from a warm layout


def _warm_up(book_path: Path):
    """Import WeasyPrint and the typesetting modules in a thread while pandoc reads the text
    (the main thread only waits for it then): every typesetting process forked from this one
    starts with them loaded instead of spending a second of its own on the imports. For a book
    long enough to be set in parts (tens of processes), also with what a first layout and
    write load once (engine.warm_up: 0.7 s here, done while pandoc reads the long text; it
    saves 0.1-0.15 s in each process), and with the hyphenation patterns of the book's
    language (0.15 s in each process), once the build has read the book (`learned`, a
    future) and only if pandoc read most of it anew: after an edit, pandoc reads one piece
    in a fraction of a second, a chapter or two are set again, and the warm layout would
    hold up the first of them (0.3-0.7 s on Mutual Aid, measured in A/B pairs).
    Returns the thread, to be joined before forking."""
    import concurrent.futures

    learned: concurrent.futures.Future = concurrent.futures.Future()

    def work():
        try:
            import weasyprint  # noqa: F401
            from imprint.jobs import inspections  # noqa: F401
            from imprint.checks import pages as page_checks
            from imprint.typeset import longnotes
            from imprint.typeset import positions
            from imprint.typeset import engine
            from imprint.typeset import fence
            from imprint.typeset.fence import hyphenation  # noqa: F401  (as engine.render imports it)
            fence.ready()       # WeasyPrint's version and internals checked once, inherited by the forks
            if _markdown_bytes(book_path) >= WARM_MIN_BYTES:
                book = learned.result()
                if book is not None and book.read > sections.WHOLE_SHARE:
                    engine.warm_up()
                    engine.load_hyphenation(book.metadata.lang)
        except Exception:     # the typesetting job will meet and report the same problem
            pass

    thread = threading.Thread(target=work, name="imprint-warm-up", daemon=True)
    thread.learned = learned
    thread.start()
    return thread


def _markdown_bytes(book_path: Path) -> int:
    try:
        files = [book_path] if book_path.is_file() else list(book_path.glob("*.md"))
        return sum(f.stat().st_size for f in files)
    except OSError:
        return 0


def check_out(book: Book, out: Path) -> None:
    """A build never writes into the book: not into a book folder, never over one of its files."""
    inputs = {s.path.resolve() for s in book.sources}
    if book.metadata.source:
        inputs.add(book.metadata.source.resolve())
    target = out.resolve()
    folder_book = book.metadata.source is not None and book.metadata.source != book.sources[0].path
    if folder_book and target.is_relative_to(book.root.resolve()):
        raise ImprintError("the output folder is inside the book folder; a build never writes into the book",
                           where=Location(out), hint="choose another --out", exit_code=ExitCode.USAGE)
    suffixes = {e.suffix for e in EDITIONS.values()} | {"-cover.pdf", ".report.json"}
    if inputs & {target / (book.slug + suffix) for suffix in suffixes}:
        raise ImprintError("an output would overwrite a file of the book", where=Location(out),
                           hint="choose another --out", exit_code=ExitCode.USAGE)


def typeset_paged(book: Book, body: render.Body, editions: list[Edition], say,
                  printer: profiles.PrinterProfile | None = None, trim=None, limits: Limits | None = None,
                  remote_images: tuple[str, ...] = (), placed=None) -> tuple[list[EditionResult], tuple]:
    """Lay the text out once; every paged edition is that one layout written its own way.

    The inside margin follows the printer's gutter table for the page count (the PDF shares
    it, so page N is the same page in both); the job lays out again if the count moves the
    book into another band. Editions that pad get blank pages at the end for the printer.
    Also returns the print page map (imprint/typeset/pagemap.py) the EPUB's page list is made from.
    `placed` is chapters.run's: called before a book set in parts is joined.
    """
    started = time.perf_counter()
    printer = printer or profiles.profile(None)
    trim = trim or trim_of(book)
    bleed = printer.bleed if body.plates else None
    gutter = tuple((band.first, band.last,
                    render.page_css(book, trim, margins_for(trim, printer, band.first, bool(bleed),
                                                            book.metadata.margins),
                                    mirrored=True, bleed=bleed))
                   for band in printer.gutter)
    for_print = any(e.pads for e in editions)      # the printer's minimums bind the print edition alone
    if for_print:
        check_margins(book, printer, None, bool(bleed))
    guess = estimate_pages(book, trim)
    say(f"typesetting {book.slug} ({trim.name}, {printer.name}, about {guess} pages)")
    html_for = functools.partial(render.paged_html, book, body,
                                 (editions or [e for e in EDITIONS.values() if e.kind == "pdf"])[0])
    job = Job(
        html=html_for(),
        page_css=next((css for first, last, css in gutter if first <= guess <= last),
                      gutter[0][2] if guess < gutter[0][0] else gutter[-1][2]),
        base=book.root, book_root=book.root, book_file=book.metadata.source,
        manuscripts=tuple(source.path for source in book.sources),
        editions=tuple(editions), identifier=book.metadata.identifier, note_numbers=tuple(sorted(body.notes)),
        gutter=gutter, page_rules=printer.pages, remote_images=remote_images,
    )
    # With page references or an index: laid out until the numbers written in hold (imprint/jobs/pagerefs.py).
    layout = pagerefs.lay_out(job, body, html_for, lambda job, placed: chapters.run(job, say, limits, placed),
                              placed, say)
    if for_print:
        check_margins(book, printer, layout.pages + layout.padding, bool(bleed))
    seconds = time.perf_counter() - started
    results = []
    placed_findings = origins.place(layout.findings, book.sources)    # a layout finding's file:line:col
    for edition in editions:
        # Findings about the shared layout belong to every edition; those about one written file
        # (they carry their edition) to it alone.
        found = [dataclasses.replace(f, edition=edition.name, where=f.where if f.where.file else
                                     dataclasses.replace(f.where, file=book.metadata.source))
                 for f in placed_findings if f.edition in (None, edition.name)]
        pages = layout.pages + (layout.padding if edition.pads else 0)
        if edition.pads and layout.padding:
            found.append(padding_finding(book, printer, layout.pages, layout.padding, edition.name))
        results.append(EditionResult(edition.name, book.slug + edition.suffix, layout.pdfs[edition.name],
                                     pages, len(body.notes), found, seconds, layout.extracts))
        say(f"{edition.name}: {pages} pages" + (f" ({layout.passes} layouts)" if layout.passes > 1 else ""))
    return results, layout.extracts.get("pagemap", ())


CHARACTERS_PER_PAGE = 2400     # of Markdown on a 6 x 9 in page of this design, gutters included (the
                               # essay 2255, the corpus 1963-2379): a book guessed in the wrong band is set twice
FRONT_MATTER_PAGES = 6
# Each chapter opens on a recto: its last page half empty on average, and every other chapter
# a blank verso before the next (the corpus books, of a few long chapters, hardly show it; a
# book of forty short chapters, the stress book of tests/test_long_note_blocks.py, was guessed
# 140 pages for 209, set in the narrower gutter, and so set twice).
PAGES_PER_CHAPTER = 0.75
CHAPTER = re.compile(r"^#[ \t]", re.MULTILINE)


def estimate_pages(book: Book, trim) -> int:
    """A first guess of the page count, so a long book starts in the right gutter band and is
    laid out once instead of twice; the real count still decides."""
    area = (trim.width * trim.height) / (6 * 9 * 72 * 72)
    chapters = len(CHAPTER.findall(book.markdown))
    return (FRONT_MATTER_PAGES + round(len(book.markdown) / (CHARACTERS_PER_PAGE * area))
            + round(PAGES_PER_CHAPTER * max(0, chapters - 1)))


def padding_finding(book: Book, printer, pages: int, padding: int, edition: str) -> Finding:
    where = Location(book.metadata.source)
    if pages < printer.pages.min_pages:
        return Finding("P120", "warning", f"the book has {pages} pages; {printer.label} prints at least "
                       f"{printer.pages.min_pages}: {padding} blank pages were added at the end", where,
                       hint="add text (or choose a printer with a lower minimum) to avoid blank pages", edition=edition)
    return Finding("P122", "info", f"{padding} blank page{'s' * (padding > 1)} added at the end "
                   f"({printer.label}: {'even count, last page blank' if printer.pages.last_blank else 'even count'})",
                   where, edition=edition)


def build_cover(book: Book, printer, trim, pages: int, edition: Edition, say) -> EditionResult:
    t0 = time.perf_counter()
    say(f"setting the cover ({pages} pages, {book.metadata.paper} paper)")
    data, geometry, found = cover.print_cover(book, printer, trim, pages, edition)
    return EditionResult("cover", book.slug + "-cover.pdf", data, 1, None, found, time.perf_counter() - t0)


def build_epub(book: Book, body, say, edition: Edition, page_starts=()) -> EditionResult:
    t0 = time.perf_counter()
    say(f"packaging the {edition.name} edition")
    art = cover.cover_art(book)         # the book's own cover image, else one typeset from the metadata
    image = art[0].read_bytes() if art else cover.ebook_cover_jpeg(book)
    made = epub.package_edition(book, body, image, page_starts, kobo=edition.kobo)
    found = [f if f.edition in (None, edition.name) else f.with_edition(edition.name)
             for f in list(made.findings) + note_outputs.check_epub_notes(made.data, body.notes)]
    return EditionResult(edition.name, book.slug + edition.suffix, made.data, None, len(body.notes),
                         found, time.perf_counter() - t0)


def write_outputs(result: BuildResult) -> list[Path]:
    """Write the build's files into its output folder as one set: all or none.

    imprint/outjournal.py does the writing: every file staged beside its destination, the
    outputs being replaced kept (hard links), a journal written, then the renames. A failure
    here puts the old outputs back; a build killed half-way is finished or undone by the next
    one (`outjournal.recover`, under the folder's lock). SIGINT and SIGTERM wait while the
    backups, the journal and the renames are made, and are delivered after, saying what is in place.
    """
    out, book = result.out, result.book
    report_name = book.slug + ".report.json"
    # The files this book's earlier builds wrote under other names (a new title): what goes once
    # this set is in place is said in the report (O101-O103), so planned first; a replayed
    # result's words about an earlier writing give way to this one's.
    names = {**{n: book.slug + e.suffix for n, e in EDITIONS.items()},
             "cover": book.slug + "-cover.pdf", "report": report_name}
    gone = outjournal.superseded(out, output_owner(book), {**{r.file: r.edition for r in result.editions},
                                                           report_name: "report"}, names, output_record(out))
    result.findings = [f for f in result.findings if f.code not in ("O101", "O102", "O103")] + gone.findings()
    files = {r.file: r.data for r in result.editions}
    files[report_name] = (json.dumps(result.report(), indent=2, ensure_ascii=False) + "\n").encode()
    writing, deferred, written = None, None, None
    try:
        writing = outjournal.Writing.stage(out, files, gone)
        with _signals_deferred() as deferred:
            written = writing.commit()
    except OSError as err:
        raise ImprintError(f"cannot write the outputs: {err.strerror or err}; the previous outputs are unchanged",
                           where=Location(err.filename or out), exit_code=ExitCode.TOOL) from err
    finally:
        if writing is not None:
            writing.discard()
        if deferred is not None:        # a signal held during the moves: delivered now, saying what is in place
            _deliver(deferred, written)
    return written


def output_owner(book: Book) -> str:
    """The book, for the output folder's record: its folder, or its one Markdown file."""
    source = book.metadata.source or book.sources[0].path
    return str((book.root if source != book.sources[0].path else source).resolve())


def output_record(out: Path) -> Path:
    """Where the record of what imprint wrote into `out` is kept (imprint/outjournal.py): in the
    user's cache (`outputs/`, as the folder's lock is in `locks/`), never in the folder."""
    return cache.cache_root() / "outputs" / (cache.digest("output-record", str(Path(out).resolve()))[:24] + ".json")


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM until the block is done (main thread only; elsewhere a no-op).
    Yields what was held; `_deliver` hands it to the handlers that were replaced."""
    held = SimpleNamespace(caught=[], previous={})
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    held.previous = {s: signal.signal(s, lambda signum, frame: held.caught.append(signum))
                     for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for s, handler in held.previous.items():
            signal.signal(s, handler)


def _deliver(held, written: list[Path] | None) -> None:
    """Each signal held during the moves, to the handler it was meant for. A handler that
    interrupts (Ctrl-C; the command line's SIGTERM) raises InterruptedAfterWriting when every
    output was moved into place (`written`), else its own KeyboardInterrupt (nothing was
    written: the old outputs were put back). A default or ignored handler gets the signal again."""
    caught, held.caught = held.caught, []
    for s in caught:
        handler = held.previous.get(s)
        if callable(handler):
            try:
                handler(s, None)
            except KeyboardInterrupt as interrupt:
                if written is not None and not isinstance(interrupt, InterruptedAfterWriting):
                    raise InterruptedAfterWriting(written) from interrupt
                raise
        elif handler == signal.SIG_DFL:
            signal.raise_signal(s)


@outlock.locked_output        # a whole set to read: a killed build's writing is finished first
def run_preflight(book_path: Path, out: Path, profile=None, trim=None) -> preflight.Preflight:
    """Preflight the print files already in `out` (DIR/<slug>-print.pdf and -cover.pdf) and
    record the result in the report JSON when there is one."""
    book = load(Path(book_path))
    printer = printer_for(book, profile)
    trim_size = trim_of(book, trim, printer)
    interior = Path(out) / (book.slug + EDITIONS["print"].suffix)
    if not interior.is_file():
        raise ImprintError(f"no print interior to check: {interior}", where=Location(interior),
                           hint="build it first: python build.py --edition print")
    result = preflight.preflight_files(interior, Path(out) / (book.slug + "-cover.pdf"), printer, trim_size,
                                       book.metadata.paper, book.metadata.isbn.print,
                                       rtl=languages.direction(book.metadata.lang) == "rtl")
    result.findings = origins.place_images(result.findings, book)
    report_file = Path(out) / (book.slug + ".report.json")
    if report_file.is_file():
        try:
            report = json.loads(report_file.read_text(encoding="utf-8"))
        except ValueError:
            report = None
        if isinstance(report, dict):
            report["preflight"] = result.as_json()
            outjournal.write_one(report_file, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode(),
                                 record=output_record(out))
    return result
