"""Book metadata -> cover artwork: the EPUB's cover image (JPEG) and the print edition's
full-wrap cover (PDF), both made from Jinja templates and CSS.

The wrap cover's geometry is computed here (`cover_geometry`: page count x paper thickness
for the spine, the printer's bleed, safe area and barcode zone) and handed to the template
as plain numbers; the look (colours, typefaces) is data in the metadata and styles/cover.css.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from imprint.specs.editions import EPUB, IN, Edition, Trim
from imprint.errors import Finding, Location, ToolError
from imprint.manuscript.load import Book
from imprint.html.render import STYLES, book_context, css_uri, environment, render_template
from imprint.manuscript import languages
from imprint.manuscript import look as looks

EBOOK_COVER_PX = (1600, 2560)      # the size Apple, Kobo and KDP recommend
MIN_ART_PPI = 300                   # what every printer asks of the cover's images
ART_PROPORTION = 0.02               # art whose width/height differs from the panel's by more is cropped


def cover_art(book: Book):
    """The book's own cover image (`cover-image:`, a JPEG or PNG in the book folder) as
    (path, 'jpeg' | 'png'), or None: the generated cover is used then. The checks
    (imprint/checks/security.py) have refused a missing, outside or non-image file already."""
    from urllib.parse import unquote, urlsplit

    from imprint.manuscript import sanitize

    name = book.metadata.cover_image
    if not name or sanitize.is_remote(name):
        return None
    path = book.root / unquote(urlsplit(name).path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    kind = "jpeg" if head.startswith(b"\xff\xd8\xff") else "png" if head.startswith(b"\x89PNG\r\n\x1a\n") else None
    return (path, kind) if kind else None


def art_findings(book: Book, path, width: float, height: float) -> list[Finding]:
    """The cover image against the panel it covers (points, bleed included): P123 below
    300 ppi, P124 proportions more than 2 % off (the art is cropped to fit: edges are lost)."""
    from PIL import Image

    with Image.open(path) as image:
        px, py = image.size
    where = Location(book.metadata.source, dict(book.metadata.key_lines).get("cover-image"))
    found = []
    ppi = min(px / (width / IN), py / (height / IN))
    if ppi < MIN_ART_PPI - 0.5:
        found.append(Finding("P123", "warning", f"the cover image '{book.metadata.cover_image}' is {px} x {py} px: "
                             f"{ppi:.0f} ppi on the {width / IN:.3g} x {height / IN:.3g} in front panel "
                             f"(the printer wants {MIN_ART_PPI})", where,
                             hint=f"use an image of at least {round(width / IN * MIN_ART_PPI)} x "
                                  f"{round(height / IN * MIN_ART_PPI)} px", edition="cover"))
    off = (px / py) / (width / height) - 1
    if abs(off) > ART_PROPORTION:
        found.append(Finding("P124", "warning", f"the cover image '{book.metadata.cover_image}' is "
                             f"{'wider' if off > 0 else 'taller'} than the front panel by {abs(off):.0%}: "
                             f"its {'sides' if off > 0 else 'top and bottom'} are cut off", where,
                             hint=f"make it {width / IN:.3g} x {height / IN:.3g} in (the trim plus the bleed)",
                             edition="cover"))
    return found


def cover_stylesheets(book: Book) -> list[str]:
    """The book's main face (imprint/manuscript/look.py) and styles/cover.css."""
    return [css_uri(looks.font_css(book.look)), (STYLES / "cover.css").as_uri()]


def ebook_cover_jpeg(book: Book) -> bytes:
    """A 1600 x 2560 JPEG of the front cover, typeset from the metadata."""
    import pypdfium2
    from imprint.typeset import engine

    width, height = 5 * IN, 8 * IN            # 1:1.6, the ebook cover ratio
    html = render_template(environment(book.root), "cover-front.html.j2", book=book_context(book, EPUB),
                           style=book.metadata.cover, width=width, height=height,
                           stylesheets=cover_stylesheets(book))
    html = html.replace("<body class=\"cover-front\">", "<body class=\"cover-front\" style=\"font-size: 20pt\">")
    # Made from the metadata alone: kept in the build's cache with every file it read (the
    # faces, an image), so an edit of the text does not set it again (a second of WeasyPrint).
    from imprint import cache

    store = cache.current()
    key = cache.digest("ebook cover", cache.toolchain(), html, book.root)
    kept = store.load("ebook-cover", key)
    if kept is not None and cache.unchanged(kept["resources"]):
        return kept["jpeg"]
    fetched: list = []
    document, _, _ = engine.render(html, book.root, book_root=book.root, fetched=fetched)
    pdf = document.write_pdf()
    try:
        page = pypdfium2.PdfDocument(pdf)[0]
        image = page.render(scale=EBOOK_COVER_PX[0] / width).to_pil().convert("RGB")
    except Exception as err:  # pdfium errors carry no useful type
        raise ToolError(f"could not rasterise the cover: {err}") from err
    image = image.resize(EBOOK_COVER_PX)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    store.store("ebook-cover", key, {"resources": cache.dependencies(fetched), "jpeg": out.getvalue()})
    return out.getvalue()


@dataclass(frozen=True)
class Box:
    """A rectangle on the cover, in points from the top-left corner of the trim (bleed outside it)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class CoverGeometry:
    """Where everything goes on the wrap cover (points). Width = bleed + back + spine + front + bleed."""

    width: float            # the whole sheet, bleed included
    height: float
    trim_width: float       # back + spine + front
    trim_height: float
    bleed: float
    spine_width: float
    pages: int
    paper: str
    back: Box               # trim box of the back panel
    spine: Box
    front: Box
    barcode: Box            # the zone the printer keeps for the barcode
    spine_text: Box         # before rotation: its long side runs along the spine
    spine_font: float       # 0: no spine text
    safe: float
    clearance: float
    rtl: bool = False       # front, spine, back from the left (a book bound on the right)

    @property
    def art_x(self) -> float:
        """Where the front's art starts: it runs into the bleed at the front's outer edge."""
        return self.front.x - self.bleed if self.rtl else self.front.x


def cover_geometry(printer, trim: Trim, pages: int, paper: str, rtl: bool = False) -> CoverGeometry:
    """The wrap laid flat, outside up: back, spine, front from the left; a book read right to
    left (Hebrew, Arabic: bound on the right) the other way round, front, spine, back. The
    barcode sits at the foot of the back panel, its offset from the panel's right edge, as the
    printer's rule gives it."""
    rules = printer.cover
    bleed = rules.bleed
    spine = pages * printer.thickness(paper)
    width = 2 * bleed + 2 * trim.width + spine
    height = trim.height + 2 * bleed
    spine_box = Box(trim.width, 0.0, spine, trim.height)
    first, last = Box(0.0, 0.0, trim.width, trim.height), Box(spine_box.right, 0.0, trim.width, trim.height)
    back, front = (last, first) if rtl else (first, last)
    bw, bh = rules.barcode_size
    off_x, off_y = rules.barcode_offset
    barcode = Box(back.right - off_x - bw, back.bottom - off_y - bh, bw, bh)
    usable = spine - 2 * rules.spine_clearance
    font = round(min(11.0, usable * 0.62), 2) if pages >= rules.spine_text_min_pages and usable > 0 else 0.0
    long_side = trim.height - 2 * rules.safe
    centre_x, centre_y = spine_box.x + spine / 2, trim.height / 2
    spine_text = Box(centre_x - long_side / 2, centre_y - usable / 2, long_side, max(usable, 0.0))
    return CoverGeometry(round(width, 3), round(height, 3), round(width - 2 * bleed, 3), trim.height, bleed, spine, pages, paper, back, spine_box, front,
                         barcode, spine_text, font, rules.safe, rules.spine_clearance, rtl)


def barcode_svg(isbn: str) -> dict:
    """The EAN-13 of an ISBN as an SVG data URL (python-barcode), bars only: the digits are set as text."""
    from barcode import EAN13
    from barcode.writer import SVGWriter
    from stdnum import isbn as stdnum_isbn

    digits = stdnum_isbn.compact(isbn)
    # 100 % magnification: 0.33 mm modules, 11-module quiet zone on each side.
    svg = EAN13(digits[:12], writer=SVGWriter()).render(
        {"module_width": 0.33, "module_height": 18.0, "quiet_zone": 3.63, "write_text": False,
         "margin_top": 0.0, "margin_bottom": 0.0, "background": "white", "foreground": "black"})
    return {"isbn": isbn, "digits": f"{digits[0]} {digits[1:7]} {digits[7:]}",
            "svg": "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")}


def print_cover(book: Book, printer, trim: Trim, pages: int, edition: Edition) -> tuple[bytes, CoverGeometry, list[Finding]]:
    """The full-wrap cover PDF for a book of `pages` pages, written like the print edition."""
    from imprint.typeset import engine

    m = book.metadata
    geometry = cover_geometry(printer, trim, pages, m.paper, rtl=languages.direction(m.lang) == "rtl")
    findings = []
    barcode = barcode_svg(m.isbn.print) if m.isbn.print else None
    if barcode is None:
        findings.append(Finding(
            "P121", "warning", "no print ISBN: the cover's barcode zone is left clear", Location(m.source),
            hint="add `isbn: print: 978-...` to the metadata, or let the printer place its own barcode there",
            edition="cover"))
    art = cover_art(book)
    if art is not None:     # the front panel with its bleed (top, bottom and the outside edge)
        findings += art_findings(book, art[0], geometry.front.width + geometry.bleed,
                                 geometry.front.height + 2 * geometry.bleed)
    html = render_template(environment(book.root), "cover-wrap.html.j2", book=book_context(book, edition), g=geometry,
                           style=m.cover, barcode=barcode, art=art[0].as_uri() if art else None,
                           stylesheets=cover_stylesheets(book))
    # Made from the metadata and the page count alone: kept in the build's cache with every file
    # it read (faces, stylesheets, the art), so an edit of the text that keeps the page count
    # does not set it again (a second of WeasyPrint, waited for by the preflight).
    from imprint import cache

    store = cache.current()
    key = cache.digest("print cover", cache.toolchain(), html, book.root, edition, m.identifier, m.source)
    kept = store.load("print-cover", key)
    if kept is not None and cache.unchanged(kept["resources"]):
        return kept["data"], geometry, findings + kept["findings"]
    fetched: list[str] = []
    document, warnings, refused = engine.render(html, book.root, book_root=book.root, fetched=fetched)
    data = engine.write(document, variant=edition.pdf_variant, full_fonts=edition.full_fonts,
                        identifier=m.identifier, links=False, paint=edition.paint,
                        output_intent=edition.output_intent, bleed=True, messages=warnings)
    # the cover's text comes from the metadata: its warnings point there (or at the stylesheet)
    drawn = engine.weasy_findings(warnings, refused, "cover", m.source, html=html, fetched=fetched)
    store.store("print-cover", key, {"resources": cache.dependencies(fetched), "data": data, "findings": drawn})
    return data, geometry, findings + drawn
