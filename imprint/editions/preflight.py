"""Written print files (interior and cover PDF bytes) + a printer profile -> findings.

Re-opens what was written, as a printer's preflight would: pikepdf reads the structure
(page boxes, fonts, colour operators and spaces, transparency, annotations, bookmarks,
PDF/X identification) and pypdfium2 reads where things fall on the pages (text runs for
margins and gutter, glyph boxes for the cover's zones, image sizes for resolution).
pdfplumber reads positions too, but took 17.9 s for the essay's 25 pages where pypdfium2
took 0.2 s (text runs) on this machine, so the tests use pdfplumber to cross-check instead.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from imprint.checks.origins import LOW_IMAGE      # P110's opening: the build names the image there
from imprint.codes import meanings
from imprint.specs.editions import TRIMS, Trim
from imprint.errors import Finding, Location, summary

CODES = meanings("P1")        # severities and meanings: imprint/codes.py

TOLERANCE = 0.5          # points: WeasyPrint writes boxes to 1/1000 pt; printers allow far more
COVER_TOLERANCE = 0.1    # the spine of cream and white paper differ by 0.46 pt at 26 pages
SUBSET_TAG = re.compile(r"^/?[A-Z]{6}\+")
SHOWN = 8                # pages named in one finding


@dataclass
class Preflight:
    """What one preflight run found, and what it measured."""

    profile: str
    pages: int | None = None
    findings: list[Finding] = field(default_factory=list)
    cover_size: tuple[float, float] | None = None     # inches
    spine: float | None = None                        # inches

    def as_json(self) -> dict:
        return {"profile": self.profile, "pages": self.pages, "summary": summary(self.findings),
                "cover_size_in": self.cover_size, "spine_in": self.spine,
                "findings": [f.as_json() for f in self.findings]}


PER_MESSAGE = {"P110"}       # codes whose message names the thing found (an image's size): one finding per message


class _Report:
    """Collects failures per code, then makes one finding per code naming the pages."""

    def __init__(self, where: Location, edition: str):
        self.where, self.edition = where, edition
        self.hits: dict[str, list] = {}
        self.texts: dict[str, tuple[str, str, str | None]] = {}

    def add(self, code: str, severity: str, message: str, page: int | None = None, hint: str | None = None):
        key = (code, message) if code in PER_MESSAGE else code     # two low images are two findings, each its size
        if key not in self.texts:
            self.texts[key] = (severity, message, hint)
        self.hits.setdefault(key, [])
        if page is not None and page not in self.hits[key]:
            self.hits[key].append(page)

    def findings(self) -> list[Finding]:
        out = []
        for key, (severity, message, hint) in self.texts.items():
            pages = self.hits[key]
            code = key[0] if isinstance(key, tuple) else key
            if len(pages) > 1:
                shown = ", ".join(map(str, pages[:SHOWN])) + (f" and {len(pages) - SHOWN} more" if len(pages) > SHOWN else "")
                message = f"{message} (pages {shown})"
            out.append(Finding(code, severity, message, self.where, hint, self.edition, pages[0] if pages else None))
        return out


def preflight(interior: bytes, cover, printer, trim: Trim, paper: str, isbn: str | None,
              names: tuple[str, str] = ("print", "cover"), rtl: bool = False) -> Preflight:
    """Check the written interior (and cover) against every rule of `printer`.

    `cover` is the cover's bytes, None, or a function that gives them, called once the
    interior is checked (the build sets the cover meanwhile)."""
    result = Preflight(printer.name)
    found, pages = check_interior(interior, printer, trim, names[0])
    result.findings += found
    result.pages = pages
    if callable(cover):
        cover = cover()
    if cover is not None and pages:
        from imprint.editions.cover import cover_geometry
        geometry = cover_geometry(printer, trim, pages, paper, rtl)
        result.cover_size = (round(geometry.width / 72, 4), round(geometry.height / 72, 4))
        result.spine = round(geometry.spine_width / 72, 4)
        result.findings += check_cover(cover, printer, geometry, isbn, names[1])
    return result


FRONT_PAGES = 6         # title, copyright, contents...: pages a second volume repeats


def too_long_hint(count: int, printer, trim: Trim) -> str:
    """What to do with an interior longer than the printer binds: the page count at each larger
    trim (the text's pages scale with the page's area: an estimate), the count of each of two
    volumes, and the printers that bind this many pages; the other editions need none of it."""
    from imprint.specs.profiles import PROFILES

    limit = printer.pages.max_pages
    area = trim.width * trim.height
    bigger = sorted(((-(-count * area // (t.width * t.height)), t.name) for t in TRIMS.values()
                     if t.width * t.height > area * 1.01), key=lambda x: x[0])
    options = []
    fits = [f"{name} (about {int(n)} pages)" for n, name in bigger if n <= limit]
    if bigger and fits:
        options.append("a larger trim: " + ", ".join(fits))
    elif bigger:
        options.append("a larger trim alone is not enough (" + ", ".join(f"{name}: about {int(n)} pages"
                                                                           for n, name in bigger) + ")")
    else:
        options.append(f"a larger trim is not possible ({trim.name} is the largest)")
    options.append("smaller type or tighter leading (pages shrink about as the square of the type size)")
    volumes = -(-count // max(1, limit - FRONT_PAGES))
    parts = max(2, volumes)
    each = -(-count // parts) + FRONT_PAGES
    each += each % 2
    options.append(f"{parts} volumes of about {each} pages each (one book per volume, split at a chapter)")
    others = [p.label for p in PROFILES.values() if p.name != printer.name and p.pages.max_pages >= count]
    if others:
        options.append("a printer that binds it: " + ", ".join(others))
    return (f"the book is too long for one volume at {printer.label}'s {limit} pages: " + "; or ".join(options)
            + f". Meanwhile `--edition pdf --edition epub` builds the other editions, which have no page limit")


def _open(data: bytes, report: _Report):
    import pikepdf
    import pypdfium2
    try:
        return pikepdf.open(io.BytesIO(data)), pypdfium2.PdfDocument(data)
    except Exception as err:  # pikepdf and pdfium raise their own types for broken files
        report.add("P100", "error", f"cannot open the file as a PDF: {err}")
        return None, None


def check_interior(data: bytes, printer, trim: Trim, name: str = "print") -> tuple[list[Finding], int | None]:
    report = _Report(Location(name), "print")
    pdf, doc = _open(data, report)
    if pdf is None:
        return report.findings(), None
    count = len(pdf.pages)
    rules = printer.pages
    if not rules.min_pages <= count <= rules.max_pages:
        report.add("P103", "error", f"{count} pages; {printer.label} prints {rules.min_pages} to {rules.max_pages}",
                   hint=too_long_hint(count, printer, trim) if count > rules.max_pages else None)
    if rules.even and count % 2:
        report.add("P104", "error", f"{count} pages: the count must be even", hint="add a blank page at the end")
    bleeds = _boxes(pdf, printer, trim, report)
    band = printer.band(count)
    least = printer.min_margin_bleed if bleeds else printer.min_margin
    # A long interior is read by two processes: a forked copy of this one reads where the text
    # of the last two thirds of the pages falls, this one the structure and the first third.
    from imprint.processes import may_fork, start_limited
    from imprint.settings import current

    # Pages read in a build before, drawn alike (imprint/cache.py), are not read again.
    remembered = _Remembered(pdf, least, band.inside, printer)
    todo = [n for n in range(1, count + 1) if remembered.found(n) is None]
    split = len(todo) // 3 if len(todo) >= SPLIT_PAGES and may_fork(current().fork, "preflight") else len(todo)
    second = None
    if split < len(todo):
        from types import SimpleNamespace

        second = start_limited(SimpleNamespace(book_file=None), call=lambda: _positions(
            doc, todo[split:], least, band.inside, printer))
    _structure(pdf, printer, report, remembered.objects)
    found = _positions(doc, todo[:split], least, band.inside, printer)
    if second is not None:
        found += second.result()
    remembered.learn(todo, found)
    for number in range(1, count + 1):
        for code, severity, message, hint in remembered.found(number):
            report.add(code, severity, message, number, hint)
    if rules.last_blank and _drawn(doc[count - 1]):
        report.add("P105", "error", f"the last page ({count}) is not blank", count,
                   hint=f"{printer.label} prints its barcode on the last page: end the book with a blank page")
    doc.close()
    return report.findings(), count


def _box(page, key):
    value = page.obj.get(key)
    return [float(v) for v in value] if value is not None else None


def _boxes(pdf, printer, trim: Trim, report: _Report) -> bool:
    """Page boxes against the trim and the printer's bleed; returns whether the file bleeds."""
    bleeds = False
    for number, page in enumerate(pdf.pages, start=1):
        media, trim_box, bleed_box = _box(page, "/MediaBox"), _box(page, "/TrimBox"), _box(page, "/BleedBox")
        if trim_box is None:
            report.add("P101", "error", "no TrimBox", number)
            continue
        width, height = trim_box[2] - trim_box[0], trim_box[3] - trim_box[1]
        if abs(width - trim.width) > TOLERANCE or abs(height - trim.height) > TOLERANCE:
            report.add("P101", "error", f"TrimBox {width / 72:.3f} x {height / 72:.3f} in is not the trim "
                       f"{trim.width / 72:.3f} x {trim.height / 72:.3f} in", number)
        extra = [trim_box[0] - media[0], trim_box[1] - media[1], media[2] - trim_box[2], media[3] - trim_box[3]]
        if max(extra) <= TOLERANCE:
            continue
        bleeds = True
        sides = printer.bleed.sides(recto=number % 2 == 1)
        want = [sides["left"], sides["bottom"], sides["right"], sides["top"]]
        if any(abs(a - b) > TOLERANCE for a, b in zip(extra, want)):
            report.add("P102", "error", "page size is not the trim plus the printer's bleed "
                       f"({printer.bleed.outside / 72:.3f} in outside, {printer.bleed.inside / 72:.3f} in inside, "
                       f"{printer.bleed.top / 72:.3f} in top and bottom)", number)
        if bleed_box is None or any(abs(a - b) > TOLERANCE for a, b in zip(bleed_box, media)):
            report.add("P102", "error", "the BleedBox is missing or does not cover the bleed", number)
    return bleeds


# -- structure: fonts, colour, transparency, annotations, bookmarks, PDF/X ------------------

COLOUR_OPERATORS = {"rg": "rgb", "RG": "rgb", "k": "cmyk", "K": "cmyk", "g": "gray", "G": "gray"}
SCANNED_OPERATORS = " ".join([*COLOUR_OPERATORS, "cs", "CS", "gs", "sh", "Do", "ID"])


def _space_kind(space, resources) -> str | None:
    import pikepdf
    if space is None:
        return None
    if isinstance(space, pikepdf.Name):
        simple = {"/DeviceRGB": "rgb", "/DeviceCMYK": "cmyk", "/DeviceGray": "gray", "/Pattern": None,
                  "/CalRGB": "rgb", "/CalGray": "gray"}
        if str(space) in simple:
            return simple[str(space)]
        named = resources.get("/ColorSpace", {}).get(str(space)) if resources is not None else None
        return _space_kind(named, None) if named is not None else "unknown"
    if isinstance(space, pikepdf.Array) and len(space):
        family = str(space[0])
        if family == "/ICCBased":
            return {1: "gray", 3: "rgb", 4: "cmyk"}.get(int(space[1].get("/N", 0)), "unknown")
        if family == "/Indexed":
            return _space_kind(space[1], resources)
        if family == "/Pattern":
            return _space_kind(space[1], resources) if len(space) > 1 else None
        return {"/CalRGB": "rgb", "/CalGray": "gray", "/Lab": "lab", "/Separation": "spot",
                "/DeviceN": "spot"}.get(family, _space_kind(space[0], resources))
    return "unknown"


class _Parsed:
    """The operators of a content stream that _structure reads, kept in the build cache by the
    stream's digest (`objects`: _Digests.objects), so after an edit only the streams drawn
    anew are parsed (pikepdf parsing every stream of The Wealth of Nations' interior: 0.9 s).
    A stream with an inline image (`ID`) is parsed whole, each time. Without `objects`
    (the cover; no cache) every stream is parsed."""

    def __init__(self, objects: dict | None = None):
        self.objects = objects or {}
        self.memory = _Memory("preflight-streams", SCANNED_OPERATORS) if objects else None

    def instructions(self, container) -> list:
        import pikepdf

        digest = self._digest(container)
        kept = self.memory.get(digest) if digest is not None else None
        if kept is not None:
            return [([_operand(o) for o in operands], operator) for operands, operator in kept]
        # Only the operators read below come back to Python (text is most of a page's
        # instructions); a stream with an inline image (`ID`) is read whole.
        instructions = pikepdf.parse_content_stream(container, SCANNED_OPERATORS)
        if any(str(operator) == "ID" for _, operator in instructions):
            return pikepdf.parse_content_stream(container)
        if digest is not None:
            self.memory.put(digest, [([_plain(o) for o in operands], str(operator))
                                     for operands, operator in instructions])
        return instructions

    def _digest(self, container):
        """A page's content streams, or a form (a stream itself), by their digests; None if unknown."""
        import pikepdf

        contents = container.get("/Contents") if container.get("/Type") == "/Page" else container
        streams = contents if isinstance(contents, pikepdf.Array) else [contents]
        digests = [self.objects.get(s.objgen) if isinstance(s, pikepdf.Stream) and s.is_indirect else None
                   for s in streams]
        return None if not digests or None in digests else b"".join(digests)

    def keep(self) -> None:
        if self.memory is not None:
            self.memory.keep()


def _plain(operand):
    """An operand as a plain value to keep: names as ("name", text), numbers as floats."""
    import pikepdf

    if isinstance(operand, pikepdf.Name):
        return ("name", str(operand))
    if isinstance(operand, (int, float)) or hasattr(operand, "as_integer_ratio"):
        return ("number", float(operand))
    return ("other", repr(operand))


def _operand(kept):
    import pikepdf

    kind, value = kept
    return pikepdf.Name(value) if kind == "name" else value


def _structure(pdf, printer, report: _Report, objects: dict | None = None):
    """Fonts, colour, transparency, annotations, bookmarks, PDF/X. `objects` (the digests of
    the interior's objects) lets the parsed content streams be kept between builds (_Parsed)."""
    import pikepdf
    x1a = (printer.pdf_variant or "").startswith("pdf/x-1a")
    parsed = _Parsed(objects)
    used: dict[str, int] = {}
    fonts_seen: set = set()

    def note(kind, number):
        if kind:
            used.setdefault(kind, number)

    def scan(container, resources, number, depth=0):
        if depth > 8:
            return
        resources = container.get("/Resources", resources)
        group = container.get("/Group")
        if x1a and group is not None and group.get("/S") == "/Transparency":
            report.add("P116", "error", "a transparency group", number)
        for font in (resources.get("/Font", {}) if resources is not None else {}).values():
            _font(font, printer, report, number, fonts_seen)
        try:
            instructions = parsed.instructions(container)
        except Exception:  # noqa: BLE001 - an unreadable stream is reported, not raised
            report.add("P100", "error", "a content stream cannot be read", number)
            return
        for operands, operator in instructions:
            op = str(operator)
            if op in COLOUR_OPERATORS:
                note(COLOUR_OPERATORS[op], number)
            elif op in ("cs", "CS"):
                note(_space_kind(operands[0], resources), number)
            elif op == "gs" and x1a:
                state = resources.get("/ExtGState", {}).get(str(operands[0]), {})
                for key in ("/CA", "/ca"):
                    if float(state.get(key, 1)) < 1:
                        report.add("P116", "error", f"constant opacity {key[1:]} below 1", number)
                if state.get("/SMask") not in (None, pikepdf.Name("/None")):
                    report.add("P116", "error", "a soft mask", number)
                if str(state.get("/BM", "/Normal")) not in ("/Normal", "/Compatible"):
                    report.add("P116", "error", "a blend mode", number)
            elif op == "sh":
                shading = resources.get("/Shading", {}).get(str(operands[0]))
                note(_space_kind(shading.get("/ColorSpace") if shading is not None else None, resources), number)
            elif op == "Do":
                xobject = resources.get("/XObject", {}).get(str(operands[0]))
                if xobject is None:
                    continue
                if xobject.get("/Subtype") == "/Image":
                    if not xobject.get("/ImageMask", False):
                        note(_space_kind(xobject.get("/ColorSpace"), resources), number)
                    if x1a and "/SMask" in xobject:
                        report.add("P116", "error", "an image with a soft mask", number)
                elif xobject.get("/Subtype") == "/Form":
                    scan(xobject, resources, number, depth + 1)
            elif op == "INLINE IMAGE":
                image = operands[0]
                note(_space_kind(image.obj.get("/CS", image.obj.get("/ColorSpace")), resources), number)

    for number, page in enumerate(pdf.pages, start=1):
        scan(page.obj, page.obj.get("/Resources"), number)
        if printer.forbid_annotations and len(page.obj.get("/Annots", [])):
            report.add("P112", "error", "annotations (links) on the page", number,
                       hint="print files carry no links: write the print edition with links off")
    parsed.keep()
    for kind, number in used.items():
        if kind not in printer.colour_spaces:
            report.add("P111", "error", f"{kind.upper()} colour, which {printer.label} does not accept", number,
                       hint=f"accepted: {', '.join(sorted(printer.colour_spaces))}")
    outlines = pdf.Root.get("/Outlines")
    if printer.forbid_bookmarks and outlines is not None and "/First" in outlines:
        report.add("P113", "error", "the file has bookmarks", hint="print files carry no bookmarks")
    _pdfx(pdf, printer, report)


def _font(font, printer, report: _Report, number: int, seen: set):
    key = font.objgen if font.is_indirect else id(font)
    if key in seen:
        return
    seen.add(key)
    name = str(font.get("/BaseFont", "/unnamed"))
    if font.get("/Subtype") == "/Type3":
        return                                   # glyphs are drawings in the file itself
    described = font["/DescendantFonts"][0] if "/DescendantFonts" in font else font
    descriptor = described.get("/FontDescriptor")
    if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
        report.add("P108", "error", f"font {name[1:]} is not embedded", number)
    elif printer.full_fonts and SUBSET_TAG.match(name):
        report.add("P109", "error", f"font {name[1:]} is embedded as a subset; {printer.label} wants whole fonts",
                   number, hint="write the print edition with full fonts")


def _pdfx(pdf, printer, report: _Report):
    variant = printer.pdf_variant or ""
    intents = [i for i in pdf.Root.get("/OutputIntents", [])]
    if variant.startswith("pdf/x"):
        wanted = "PDF/X-" + variant[len("pdf/x-"):]
        declared = str(pdf.docinfo.get("/GTS_PDFXVersion", ""))
        if not declared.upper().startswith(wanted.upper()):
            report.add("P114", "error", f"the file declares '{declared or 'no PDF/X version'}', not {wanted}")
        if variant == "pdf/x-1a" and float(pdf.pdf_version) > 1.4:
            report.add("P114", "error", f"PDF {pdf.pdf_version} is newer than PDF/X-1a allows (1.4)")
        if str(pdf.docinfo.get("/Trapped", "")) not in ("/True", "/False"):
            report.add("P114", "error", "Trapped is not set to True or False")
        pdfx = [i for i in intents if i.get("/S") == "/GTS_PDFX"]
        if not pdfx:
            report.add("P114", "error", "no PDF/X output intent")
        elif not ("/DestOutputProfile" in pdfx[0] or "/RegistryName" in pdfx[0]):
            report.add("P114", "error", "the output intent names no registered condition and embeds no profile")
    elif printer.output_intent == "srgb":
        profiles = [i.get("/DestOutputProfile") for i in intents]
        if not any(p is not None and int(p.get("/N", 0)) == 3 for p in profiles):
            report.add("P114", "error", "no sRGB output intent")


# -- positions: margins, gutter, marks, images -------------------------------------------

def _chars(page):
    """Glyph boxes (left, bottom, right, top) in PDF user space, whitespace left out."""
    text = page.get_textpage()
    count = text.count_chars()
    whole = text.get_text_range()
    if len(whole) != count:          # characters outside the BMP: read them one by one
        whole = "".join(text.get_text_range(i, 1)[:1] or " " for i in range(count))
    out = [text.get_charbox(i) for i, ch in enumerate(whole) if not ch.isspace()]
    text.close()
    return out


def _text_runs(page):
    """Boxes of the page's runs of text (pdfium merges a line's glyphs): the same extremes as
    the glyph boxes, at a fraction of the calls; empty runs left out."""
    text = page.get_textpage()
    out = [box for box in (text.get_rect(i) for i in range(text.count_rects())) if box[2] > box[0] and box[3] > box[1]]
    text.close()
    return out


def _objects(page, kinds):
    import pypdfium2.raw as pdfium_c
    wanted = tuple(getattr(pdfium_c, f"FPDF_PAGEOBJ_{k}") for k in kinds)
    return list(page.get_objects(filter=wanted, max_depth=8))


def _drawn(page) -> bool:
    return bool(_objects(page, ("PATH", "IMAGE", "SHADING", "TEXT")))


SPLIT_PAGES = 120      # an interior this long is read in two halves side by side


class _Memory:
    """A table kept in the build cache from one build to the next: what a check found, by a
    digest of everything it read. Only the entries this build used are kept again."""

    def __init__(self, kind: str, *key):
        from imprint import cache

        self.store, self.kind = cache.current(), kind
        self.key = cache.digest(kind, cache.toolchain(), *key) if self.store.enabled else None
        self.known: dict = (self.store.load(kind, self.key) or {}) if self.key else {}
        self.now: dict = {}

    def get(self, digest):
        value = self.known.get(digest)
        if value is not None:
            self.now[digest] = value
        return value

    def put(self, digest, value) -> None:
        self.now[digest] = value

    def keep(self) -> None:
        if self.key and self.now != self.known:
            self.store.store(self.kind, self.key, self.now)


class _Remembered:
    """What _page_positions found on pages of earlier builds, by a digest of everything it
    reads on a page: the page's boxes and side, its content streams and every object its
    resources reach (fonts, forms, images), and the rules. After an edit only the pages
    drawn anew are read (a whole interior of The Wealth of Nations: 3.7 s of pdfium).
    `objects` are the digests of the indirect objects on the way, by (number, generation)."""

    def __init__(self, pdf, least: float, gutter: float, printer):
        self.memory = _Memory("preflight-pages", least, gutter, printer)
        self.digests, self.objects = _page_digests(pdf) if self.memory.key else ([None] * len(pdf.pages), {})
        self.now: dict = {}             # this build's findings, by page number

    def found(self, number: int):
        """(code, severity, message, hint) of page `number`, or None if it is not known."""
        digest = self.digests[number - 1]
        return self.now.get(number, self.memory.get(digest) if digest is not None else None)

    def learn(self, numbers, found) -> None:
        for number in numbers:
            self.now[number] = []
        for number, code, severity, message, hint in found:
            self.now[number].append((code, severity, message, hint))
        if self.memory.key:
            for number, digest in enumerate(self.digests, start=1):
                self.memory.put(digest, self.found(number))
            self.memory.keep()


def _page_digests(pdf) -> tuple[list[str], dict]:
    """Each page's digest, and the digest of every indirect object on the way."""
    import hashlib

    import pikepdf

    memo: dict = {}
    skip = {"/Parent", "/StructParents", "/StructParent", "/P", "/Annots", "/B"}

    def feed(h, obj, depth=0):
        if depth > 40:
            raise ValueError("too deep")
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            key = obj.objgen
            if key not in memo:
                memo[key] = None            # a cycle reads as its name
                inner = hashlib.blake2b(digest_size=16)
                feed_direct(inner, obj, depth)
                memo[key] = inner.digest()
            h.update(memo[key] or repr(key).encode())
        else:
            feed_direct(h, obj, depth)

    def feed_direct(h, obj, depth):
        if isinstance(obj, pikepdf.Stream):
            h.update(b"S" + obj.read_raw_bytes())
            items = obj.stream_dict.items()
        elif isinstance(obj, pikepdf.Dictionary):
            items = obj.items()
        elif isinstance(obj, pikepdf.Array):
            h.update(b"[")
            for item in obj:
                feed(h, item, depth + 1)
            h.update(b"]")
            return
        else:
            h.update(repr(obj).encode() + b";")
            return
        h.update(b"<")
        for name, value in sorted(items, key=lambda kv: kv[0]):
            if name in skip:
                continue
            h.update(name.encode() + b"=")
            feed(h, value, depth + 1)
        h.update(b">")

    out = []
    for number, page in enumerate(pdf.pages, start=1):
        h = hashlib.blake2b(digest_size=20)
        h.update(b"recto" if number % 2 else b"verso")
        feed_direct(h, page.obj, 0)
        out.append(h.hexdigest())
    return out, {key: digest for key, digest in memo.items() if digest is not None}


def _positions(doc, numbers, least: float, gutter: float, printer) -> list[tuple]:
    """What _page_positions finds on the pages `numbers` (1-based): (page, code, severity,
    message, hint) in page order."""
    found: list[tuple] = []

    class Log:
        def add(self, code, severity, message, page=None, hint=None):
            found.append((page, code, severity, message, hint))

    for number in numbers:
        _page_positions(doc[number - 1], number, least, gutter, printer, Log())
    return found


def _page_positions(page, number: int, least: float, gutter: float, printer, report: _Report):
    left, bottom, right, top = page.get_trimbox()
    recto = number % 2 == 1
    for x0, y0, x1, y1 in _text_runs(page):
        if x1 < left - TOLERANCE or x0 > right + TOLERANCE or y1 < bottom - TOLERANCE or y0 > top + TOLERANCE:
            report.add("P115", "error", "text outside the trim", number)
            continue
        inner = (x0 - left) if recto else (right - x1)
        outer = (right - x1) if recto else (x0 - left)
        if min(top - y1, y0 - bottom, outer) < least - 0.01:
            report.add("P106", "error", f"text closer than {least / 72:.3f} in to the top, bottom or outside edge",
                       number, hint="keep running heads, folios and text inside the margins")
        if inner < gutter - 0.01:
            report.add("P107", "error", f"text closer than {gutter / 72:.3f} in to the binding edge", number,
                       hint="the inside margin must grow with the page count (the printer's gutter table)")
    for obj in _objects(page, ("PATH",)):
        x0, y0, x1, y1 = obj.get_bounds()
        if x1 <= left or x0 >= right or y1 <= bottom or y0 >= top:
            report.add("P115", "error", "a drawing outside the trim (printer's marks?)", number,
                       hint="no crop or registration marks in files for print-on-demand")
    for image in _objects(page, ("IMAGE",)):
        x0, y0, x1, y1 = image.get_bounds()
        px_w, px_h = image.get_px_size()
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            continue
        ppi = min(px_w / ((x1 - x0) / 72), px_h / ((y1 - y0) / 72))
        if ppi < printer.min_ppi - 0.5:
            report.add("P110", "warning", f"{LOW_IMAGE}{ppi:.0f} ppi (the printer wants {printer.min_ppi}): "
                       f"{px_w} × {px_h} px printed {(x1 - x0) / 72:.2f} × {(y1 - y0) / 72:.2f} in", number,
                       hint=f"supply the image with more pixels (at least {math.ceil(printer.min_ppi * (x1 - x0) / 72)} px "
                            f"wide at this size) or print it smaller")


# -- the cover -------------------------------------------------------------------------------

def check_cover(data: bytes, printer, geometry, isbn: str | None, name: str = "cover") -> list[Finding]:
    report = _Report(Location(name), "cover")
    pdf, doc = _open(data, report)
    if pdf is None:
        return report.findings()
    g = geometry
    if len(pdf.pages) != 1:
        report.add("P130", "error", f"the cover has {len(pdf.pages)} pages, not one")
    media, trim_box = _box(pdf.pages[0], "/MediaBox"), _box(pdf.pages[0], "/TrimBox")
    size = (media[2] - media[0], media[3] - media[1])
    if abs(size[0] - g.width) > COVER_TOLERANCE or abs(size[1] - g.height) > COVER_TOLERANCE:
        report.add("P130", "error", f"the cover is {size[0] / 72:.4f} x {size[1] / 72:.4f} in; {g.pages} pages on "
                   f"{g.paper} paper need {g.width / 72:.4f} x {g.height / 72:.4f} in "
                   f"(spine {g.spine_width / 72:.4f} in)", 1, hint="build the cover from the interior's page count")
    if trim_box is None or abs((trim_box[2] - trim_box[0]) - g.trim_width) > COVER_TOLERANCE \
            or abs((trim_box[3] - trim_box[1]) - g.trim_height) > COVER_TOLERANCE:
        report.add("P130", "error", "the cover's TrimBox is missing or not the trimmed cover", 1)
    _structure(pdf, printer, report)
    page = doc[0]
    left, bottom, right, top = page.get_trimbox()
    # Trim coordinates from the top-left corner, as cover_geometry gives them.
    boxes = [(x0 - left, top - y1, x1 - left, top - y0) for x0, y0, x1, y1 in _chars(page)]
    zone = g.barcode
    in_zone = lambda b: b[0] >= zone.x - TOLERANCE and b[2] <= zone.right + TOLERANCE \
        and b[1] >= zone.y - TOLERANCE and b[3] <= zone.bottom + TOLERANCE
    for box in boxes:
        x0, y0, x1, y1 = box
        on_spine = x1 > g.spine.x + 0.01 and x0 < g.spine.right - 0.01
        if on_spine:
            if not g.spine_font:
                report.add("P131", "error", f"text on the spine of a {g.pages}-page book "
                           f"(spine text needs more than {printer.cover.spine_text_min_pages - 1} pages)", 1)
            elif x0 < g.spine.x + g.clearance - 0.01 or x1 > g.spine.right - g.clearance + 0.01 \
                    or y0 < g.safe - 0.01 or y1 > g.trim_height - g.safe + 0.01:
                report.add("P131", "error", f"spine text closer than {g.clearance / 72:.4f} in to a fold", 1)
            continue
        if in_zone(box):
            continue
        near = min(x0, y0, g.trim_width - x1, g.trim_height - y1,
                   abs(x1 - g.spine.x) if x1 <= g.spine.x + 0.01 else abs(x0 - g.spine.right))
        if near < g.safe - 0.01:
            report.add("P132", "error", f"cover text closer than {g.safe / 72:.3f} in to a trim edge or a fold", 1)
    digits = "".join(ch for ch in _zone_text(page, zone, left, top) if ch.isdigit())
    bars = [o for o in _objects(page, ("PATH",)) if _inside(o.get_bounds(), zone, left, top) and _thin(o)]
    stray = [o for o in _objects(page, ("PATH", "IMAGE")) if _inside(o.get_bounds(), zone, left, top)]
    if isbn:
        compact = re.sub(r"\D", "", isbn)
        if compact not in digits or len(bars) < 30:
            report.add("P133", "error", f"no barcode of ISBN {isbn} in the barcode zone", 1,
                       hint="the zone the printer keeps for the barcode must hold the EAN-13 of the print ISBN")
    elif digits or stray:
        report.add("P133", "error", "the barcode zone is not clear, and the book has no print ISBN", 1,
                   hint="without an ISBN the printer places its own barcode there: leave it clear")
    doc.close()
    return report.findings()


def _inside(bounds, zone, left, top) -> bool:
    x0, y0, x1, y1 = bounds
    bx0, by0, bx1, by1 = x0 - left, top - y1, x1 - left, top - y0
    return bx0 >= zone.x - TOLERANCE and bx1 <= zone.right + TOLERANCE and by0 >= zone.y - TOLERANCE \
        and by1 <= zone.bottom + TOLERANCE and (bx1 - bx0) < zone.width - 1


def _thin(obj) -> bool:
    """A barcode bar: at most four modules wide (EAN-13's widest), much taller than wide."""
    x0, y0, x1, y1 = obj.get_bounds()
    return x1 - x0 < 5 and y1 - y0 > 5 * (x1 - x0)


def _zone_text(page, zone, left, top) -> str:
    text = page.get_textpage()
    found = text.get_text_bounded(left + zone.x, top - zone.bottom, left + zone.right, top - zone.y)
    text.close()
    return found


def preflight_files(interior: Path, cover: Path | None, printer, trim: Trim, paper: str, isbn: str | None,
                    rtl: bool = False) -> Preflight:
    """Preflight files on disk (the `preflight` command). A right-to-left interior written in
    reverse page order for the printer (reversed_pages) is checked in the book's order."""
    cover_data = cover.read_bytes() if cover is not None and cover.is_file() else None
    data = interior.read_bytes()
    if rtl and printer.right_to_left == "reversed":
        data = reversed_pages(data)
    result = preflight(data, cover_data, printer, trim, paper, isbn,
                       names=(str(interior), str(cover) if cover else "cover"), rtl=rtl)
    if cover is not None and cover_data is None:
        result.findings.append(Finding("P130", "error", f"no cover file {cover}", Location(cover), edition="cover"))
    return result


def reversed_pages(pdf: bytes) -> bytes:
    """The PDF with its pages last to first (a printer's order for a book bound on the right)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.pages.reverse()
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
        return out.getvalue()


def right_to_left(printer, pages: int, where) -> list[Finding]:
    """What a right-to-left book's print files are for `printer` (P125, P126)."""
    if printer.right_to_left == "reversed":
        return [Finding("P125", "info", f"right to left: the print interior's {pages} pages are written last to "
                                        f"first, as {printer.label} asks for a book bound on the right",
                        where, hint="choose right-to-left (reverse) binding when you set the book up", edition="print")]
    if not printer.right_to_left:
        return [Finding("P126", "warning", f"a right-to-left book, but {printer.label} documents no binding on the "
                                           "right: it would be bound on the left", where,
                        hint="print with a printer that binds on the right (--profile ingram or kdp)", edition="print")]
    return [Finding("P125", "info", f"right to left: the print files are laid out for a book bound on the right "
                                    f"(the cover's front on the left)", where,
                    hint=f"choose the right-to-left reading direction when you set the book up at {printer.label}",
                    edition="print")]
