"""HTML -> a WeasyPrint Document (pages laid out, nothing written) -> PDF bytes.

One URL fetcher serves every resource: files inside the book folder or the toolchain's
own styles/, nothing else, and never the network.
"""

from __future__ import annotations

import logging
import mimetypes
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from imprint.typeset import fence
from imprint.typeset import linebreak
from imprint.typeset import weasylog
from imprint.typeset.fence import pagestyle, spreads
from imprint.typeset.fence import textdraw
from imprint.typeset.fence.pdfwrite import painted_as, patch_pydyf, print_finisher, reading_right_to_left, rgb_to_cmyk  # noqa: F401
from imprint.codes import severity
from imprint.errors import Finding, Location, ToolError
from imprint.processes import allocation_failure
from imprint.html.render import STYLES
from imprint.manuscript import languages
from imprint.manuscript import look as looks

log = logging.getLogger("weasyprint")


def make_fetcher(allowed: tuple[Path, ...], remote: tuple[str, ...] = (), fetched_remote: dict | None = None):
    """A WeasyPrint URLFetcher confined to `allowed` folders; refusals are recorded in `.refused`.

    Files are read here, from the path that was checked (urllib would parse the URL again,
    its own way). `remote` lists the only network URLs it may fetch (--allow-remote-images).
    Every local file asked for (found or not) is listed in `.fetched`: what a cached layout
    depends on. `fetched_remote` (url -> (url, body, headers)) keeps what the network gave for
    the layouts of one job, so each image is asked for once however often the job lays out.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class BookFetcher(URLFetcher):
        def __init__(self):
            # No redirects: only the URLs written in the manuscript are fetched, never where they point.
            super().__init__(allowed_protocols=("file", "data", "http", "https") if remote else ("file", "data"),
                             timeout=20, allow_redirects=False)
            self.allowed = tuple(a.resolve() for a in allowed)
            self.remote = frozenset(remote)
            self.refused: list[tuple[str, str]] = []
            self.fetched: list[str] = []

        def fetch(self, url, headers=None):
            parsed = urlsplit(url)
            scheme = parsed.scheme.lower()
            if scheme == "file":
                try:
                    path = Path(unquote(parsed.path)).resolve()
                except (OSError, ValueError):
                    self.refused.append(("missing", url))
                    raise ValueError(f"not a file name: {url}") from None
                self.fetched.append(str(path))
                if parsed.netloc not in ("", "localhost") or not any(path.is_relative_to(a) for a in self.allowed):
                    self.refused.append(("outside", url))
                    raise ValueError(f"refused: {url} is outside the book")
                try:
                    if not path.is_file():
                        raise FileNotFoundError(path)
                    data = path.read_bytes()
                except OSError:
                    self.refused.append(("missing", url))
                    raise ValueError(f"missing file {path}") from None
                return URLFetcherResponse(path.as_uri(), data, {"Content-Type": mimetypes.guess_type(path.name)[0]
                                                               or "application/octet-stream"})
            if scheme == "data":
                return super().fetch(url, headers)
            if url in self.remote and scheme in ("http", "https"):
                if fetched_remote is None:
                    return super().fetch(url, headers)
                if url not in fetched_remote:
                    response = super().fetch(url, headers)
                    try:
                        fetched_remote[url] = (response.url, response.read(), dict(response.headers.items()))
                    finally:
                        response.close()
                return URLFetcherResponse(*fetched_remote[url])
            self.refused.append(("remote", url))
            raise ValueError(f"refused: {url} (no network access during a build)")

    return BookFetcher()


class _Collect(logging.Handler):
    def __init__(self, into: list | None = None):
        super().__init__(logging.WARNING)
        self.messages: list[str] = [] if into is None else into

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextmanager
def _collected(into: list | None):
    """WeasyPrint's warnings and errors logged meanwhile, appended to `into` (None: nothing)."""
    if into is None:
        yield
        return
    handler = _Collect(into)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)


FOOT_ROUNDS = 2


def render(html: str, base: Path, *, book_root: Path, page_css: str = "", remote_images: tuple[str, ...] = (),
           fetched: list | None = None, fetched_remote: dict | None = None, misses=None):
    """Lay out the pages. Returns (Document, warnings WeasyPrint logged, fetcher refusals).

    `misses` (linebreak.Misses, one per job) carries the paragraphs that did not break as
    planned from one layout of a job to the next.
    `fetched`, when given, receives the path of every local file WeasyPrint asked for. The
    fence's check of WeasyPrint's version and internals is made before the first layout."""
    fence.ready()
    # Imported here, not with this module: WeasyPrint's import (0.7 s) is then made by the
    # build's warm-up thread while pandoc reads the book (pipeline._warm_up), not before it starts.
    from imprint.typeset.fence import bidi, hyphenation  # noqa: F401  (install the region's dictionaries, the RTL indent)
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fetcher = make_fetcher((book_root, STYLES), remote_images, fetched_remote)
    handler = _Collect()
    log.addHandler(handler)
    try:
        fonts = FontConfiguration()
        extra = [CSS(string=page_css, font_config=fonts)] if page_css else []
        base_url = str(base.resolve()) + "/"

        def lay(planned_html: str):
            """One layout of the planned HTML (the spreads balanced, the page styles computed once)."""
            with pagestyle.computed_once(), spreads.balanced():
                return HTML(string=planned_html, base_url=base_url, url_fetcher=fetcher).render(
                    stylesheets=extra, font_config=fonts, optimize_images=False)

        unplanned: list = []
        planned_html, planned = linebreak.plan(html, page_css, misses=misses, unplanned=unplanned)
        earlier = list(misses.skipped) if misses is not None else []
        handler.messages.extend(f"{linebreak.UNPLANNED} it holds {what}: the paragraph “{words}…”"
                                for what, words in unplanned)
        document = lay(planned_html)
        missed = linebreak.verify(document, planned) if planned else []
        handler.messages.extend(f"{linebreak.MISSED} the paragraph “{words}…”" for words in earlier)
        if missed:
            if misses is not None:
                misses.add(missed)
            # Paragraphs that did not break where planned are set WeasyPrint's way (an info finding).
            planned_html, _ = linebreak.plan(html, page_css, skip=frozenset(missed), misses=misses)
            document = lay(planned_html)
            handler.messages.extend(f"{linebreak.MISSED} the paragraph “{planned[key][1]}…”" for key in missed)
        # A spread left a line apart, its lines odd (fence/spreads.py): a paragraph on it set a
        # line shorter or longer (linebreak.even_spreads), the pages laid out again; kept when
        # fewer spreads are left uneven (and for the rounds below), else the next paragraph tried.
        looser: dict[str, int] = {}
        tried: set = set()
        left, odd = spreads.uneven(len(document.pages)), spreads.odd_spreads(len(document.pages))
        for _ in range(linebreak.SPREAD_ROUNDS if planned and odd else 0):
            found = linebreak.even_spreads(document, planned, odd, lambda wanted, costs: linebreak.plan(
                html, page_css, skip=frozenset(missed), misses=misses, looser={**looser, **wanted}, costs=costs), tried,
                looser)
            if not found:
                break
            again_doc = lay(found[0])
            if linebreak.verify(again_doc, found[1]) or len(spreads.uneven(len(again_doc.pages))) >= len(left):
                continue
            document, planned = again_doc, found[1]
            looser.update(found[2])
            if misses is not None:
                misses.loosen(found[2])
            left, odd = spreads.uneven(len(document.pages)), spreads.odd_spreads(len(document.pages))
            if not odd:
                break
        # Never a hyphen at the foot of a recto (the reader would turn the leaf mid-word): a
        # paragraph whose line there ends in one is set again with that line unhyphenated, and
        # the pages laid out again, at most FOOT_ROUNDS times (what is left is reported, L222).
        unhyphenated: dict[str, set[int]] = {}
        for _ in range(FOOT_ROUNDS if planned else 0):
            feet = linebreak.recto_feet(document, planned)
            if not feet or all(lines <= unhyphenated.get(k, set()) for k, lines in feet.items()):
                break
            for key, lines in feet.items():
                unhyphenated.setdefault(key, set()).update(lines)
            again_html, again = linebreak.plan(html, page_css, skip=frozenset(missed), unhyphenated=unhyphenated,
                                               misses=misses, looser=looser)
            again_doc = lay(again_html)
            if linebreak.verify(again_doc, again):
                break           # a paragraph set again did not break as planned: the last good layout stays
            document, planned = again_doc, again
    except Exception as err:  # WeasyPrint raises many kinds; none should reach the user raw
        if allocation_failure(err):     # the process that runs this job reports it with its limit (exit 5)
            raise MemoryError(str(err)) from err
        raise ToolError(f"WeasyPrint could not lay out the book: {err}", where=Location(base)) from err
    finally:
        log.removeHandler(handler)
        if fetched is not None:
            fetched.extend(fetcher.fetched)
    return document, handler.messages, fetcher.refused


def write(document, *, variant: str | None, full_fonts: bool, identifier: str, links: bool = True,
          paint: str = "rgb", output_intent=None, bleed: bool = True, extra_pages=(),
          messages: list | None = None) -> bytes:
    """PDF bytes for the laid-out document. Reproducible: no wall-clock dates, fixed identifier.

    With links=False (print files) the link annotations and bookmarks are left out; with
    bleed=False the pages are cut at the trim; `extra_pages` (blank pages from
    `padding_pages`) are appended; paint="cmyk" paints every CSS colour as DeviceCMYK;
    `output_intent` is "srgb" or a registered printing condition (id, registry, info).
    The document is restored afterwards so other editions can be written from the same layout.
    `messages`, when given, receives what WeasyPrint logs while drawing (a character no font
    has is only met then).
    """
    patch_pydyf()
    options = {"pdf_variant": variant, "full_fonts": full_fonts,
               "pdf_identifier": identifier.encode("utf-8")[:32]}
    if variant and variant.startswith("pdf/ua"):
        options["pdf_tags"] = True
    if output_intent == "srgb":
        options["output_intent"] = "srgb"
    # Always a copy: WeasyPrint subsets the fonts of `document.fonts` in place while writing,
    # so a second edition written from the same Document would embed the first one's subsets
    # (a print file asking for whole fonts got subsets whenever no padding page forced a copy).
    target = document.copy(list(document.pages) + list(extra_pages))
    metadata = document.metadata
    saved = [(p.links, p.bookmarks, dict(p.bleed)) for p in target.pages]
    saved_meta = (metadata.created, metadata.modified, dict(document.color_profiles))
    try:
        for p in target.pages:
            if not links:
                p.links, p.bookmarks = [], []
            if not bleed:
                p.bleed = {side: 0 for side in p.bleed}
        # PDF/X needs a ModDate; WeasyPrint would take the clock's, we take the book's date.
        metadata.modified = metadata.modified or metadata.created
        finisher = print_finisher(full_fonts, paint, output_intent) if variant or full_fonts else None
        if languages.direction(getattr(metadata, "lang", None) or "") == "rtl":
            finisher = reading_right_to_left(finisher)
        with painted_as(paint), _collected(messages):
            return target.write_pdf(finisher=finisher, **{k: v for k, v in options.items() if v is not None})
    except Exception as err:
        if allocation_failure(err):
            raise MemoryError(str(err)) from err
        raise ToolError(f"WeasyPrint could not write the PDF: {err}") from err
    finally:
        for p, (page_links, bookmarks, page_bleed) in zip(target.pages, saved):
            p.links, p.bookmarks, p.bleed = page_links, bookmarks, page_bleed
        metadata.created, metadata.modified = saved_meta[:2]
        document.color_profiles.clear()
        document.color_profiles.update(saved_meta[2])


WARM_HTML = """<!DOCTYPE html><html lang="en"><head>
<style>{fonts}</style><link rel="stylesheet" href="book.css"><link rel="stylesheet" href="pdf.css">
</head><body class="book"><main class="text"><section class="level1"><h1>Warm</h1>
<p>Typesetting <em>warms</em> <strong>up</strong> <strong><em>once</em></strong>, hyphenating
extraordinarily unremarkable words<a class="noteref" href="#fn1" id="fnref1">1</a><span class="footnote"
id="fn1">A note.</span>.</p></section></main></body></html>"""


def warm_up(look=None) -> None:
    """Lay out and write a paragraph of the book's typeface, both ways an edition is written.

    Run in the build process before the typesetting processes are forked: what every process
    otherwise does once on its own (C declarations parsed, font tables loaded, lazy imports)
    is then inherited: 0.1-0.15 s of CPU per process. The paragraph needs no hyphen: the
    hyphenation patterns are the book language's, read by load_hyphenation. `look`: the book's
    faces (the default look's without it)."""
    html = WARM_HTML.replace("{fonts}", looks.font_css(look or looks.default()))
    document, _, _ = render(html, STYLES, book_root=STYLES)
    write(document, variant=None, full_fonts=True, identifier="warm", links=False, paint="cmyk")
    write(document, variant="pdf/ua-1", full_fonts=False, identifier="warm")


def load_hyphenation(lang: str | None) -> None:
    """Read the hyphenation patterns WeasyPrint will use for `lang` into pyphen's cache of this
    process (none: nothing). WeasyPrint reads them on the first word it tries to hyphenate in
    each process, 0.15 s of parsing."""
    import pyphen

    from imprint.manuscript.languages import hyphenation_dictionary
    fallback = hyphenation_dictionary(lang) if lang else None     # as WeasyPrint is given it (fence/hyphenation.py)
    if fallback:
        pyphen.Pyphen(lang=fallback)


def padding_pages(count: int, first_is_left: bool, page_css: str, base: Path, book_root: Path) -> list:
    """`count` blank pages set by WeasyPrint with the book's page geometry (size, bleed), to be
    appended to a laid-out document: no running heads, no folios."""
    if count <= 0:
        return []
    html = ("<!DOCTYPE html><html><head><style>"
            "@page padding { @top-left { content: none; } @top-center { content: none; } "
            "@top-right { content: none; } @bottom-center { content: none; } }"
            "body { margin: 0; } div { page: padding; break-before: page; height: 1px; }"
            "</style></head><body>" + "<div></div>" * (count + (1 if first_is_left else 0)) + "</body></html>")
    document, _, _ = render(html, base, book_root=book_root, page_css=page_css)
    return list(document.pages[1:] if first_is_left else document.pages)


def weasy_findings(messages, refused, edition: str | None, book_file, *, html: str = "", page_css: str = "",
                   fetched=(), manuscripts=()) -> list[Finding]:
    """The fetcher's refusals (R001-R003) and every message WeasyPrint logged (W1xx, see
    imprint/typeset/weasylog.py: located in the stylesheets WeasyPrint read (`fetched`), the
    generated `page_css`, the `html`'s style attributes and the `manuscripts`)."""
    out = []
    for kind, url in refused:
        code = {"missing": "R001", "outside": "R002", "remote": "R003"}[kind]
        text = {"missing": "file not found", "outside": "outside the book folder: refused",
                "remote": "remote resource not fetched (no network during a build)"}[kind]
        out.append(Finding(code, severity(code), f"{text}: {url}",
                           Location(book_file), edition=edition))
    out += weasylog.findings(messages, edition=edition, book_file=book_file, html=html, page_css=page_css,
                             stylesheets=fetched, manuscripts=manuscripts, refused_urls=[url for _, url in refused])
    return out
