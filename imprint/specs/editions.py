"""Editions, trims and printer profiles as values: what differs between the PDF, print and EPUB editions."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

IN = 72.0           # points per inch
MM = 72.0 / 25.4


@dataclass(frozen=True)
class Trim:
    name: str
    width: float        # points
    height: float


TRIMS = {
    "5x8": Trim("5x8", 5 * IN, 8 * IN),
    "5.25x8": Trim("5.25x8", 5.25 * IN, 8 * IN),
    "5.5x8.5": Trim("5.5x8.5", 5.5 * IN, 8.5 * IN),
    "6x9": Trim("6x9", 6 * IN, 9 * IN),
    "a5": Trim("a5", 148 * MM, 210 * MM),
}
DEFAULT_TRIM = "6x9"


@dataclass(frozen=True)
class Margins:
    """Page margins in points; `inside` is the gutter side (left on rectos)."""

    top: float
    bottom: float
    inside: float
    outside: float


# The design's text block for each trim: generous enough that every printer's minimum
# (KDP's 0.875 in gutter for the longest books included) is met without changing it.
DESIGN_MARGINS = {
    "5x8": Margins(0.70 * IN, 0.80 * IN, 0.70 * IN, 0.55 * IN),
    "5.25x8": Margins(0.70 * IN, 0.80 * IN, 0.72 * IN, 0.56 * IN),
    "5.5x8.5": Margins(0.72 * IN, 0.85 * IN, 0.75 * IN, 0.60 * IN),
    "6x9": Margins(0.75 * IN, 0.90 * IN, 0.80 * IN, 0.625 * IN),
    "a5": Margins(0.72 * IN, 0.85 * IN, 0.75 * IN, 0.60 * IN),
}


def margins_for(trim: Trim, printer, pages: int, bleeds: bool, given: Margins | None = None) -> Margins:
    """The design's margins for a book of `pages` pages printed by `printer`.

    The inside margin grows with the printer's gutter table: the design's inside margin is
    meant for the thinnest band, and each band adds what the table adds (a thick book loses
    more paper into the binding). Every side stays at least the printer's minimum.
    `given` (the metadata's `margins:`, checked against the minimums by check_margins) is used as written.
    """
    if given is not None:
        return given
    design = design_margins(trim)
    band = printer.band(pages)
    least = printer.min_margin_bleed if bleeds else printer.min_margin
    inside = max(design.inside + band.inside - printer.gutter[0].inside, band.inside)
    # The running head and folio stand in the top margin (styles/book.css: a 9 pt line 12 pt
    # above the text block): the top margin leaves the printer's minimum above them.
    return Margins(max(design.top, least + RUNNING_HEAD), max(design.bottom, least), inside,
                   max(design.outside, least))


RUNNING_HEAD = 0.35 * IN      # room the running head takes in the top margin (measured: 0.31 in)


@dataclass(frozen=True)
class Edition:
    """One output of the book. The pipeline reads these values; it has no per-edition branches."""

    name: str                       # pdf | print | epub
    kind: str                       # "pdf" (typeset with WeasyPrint) or "epub" (packaged)
    suffix: str                     # output file name: <slug><suffix>
    stylesheet: str                 # edition stylesheet under styles/
    mirrored: bool = False          # inside/outside margins alternate (print) or are equal (screen)
    links: bool = True              # clickable notes, contents and bookmarks
    pdf_variant: str | None = None  # WeasyPrint pdf_variant
    full_fonts: bool = False        # embed whole fonts, not subsets
    isbn_key: str = "pdf"
    paint: str = "rgb"              # CSS colours painted as declared ("rgb") or as DeviceCMYK ("cmyk")
    output_intent: tuple[str, str, str] | str | None = None   # registered condition, "srgb" or none
    bleed: bool = False             # keep the layout's bleed (print) or cut pages at the trim (screen)
    pads: bool = False              # blank pages at the end to meet the printer's page rules
    profile: str | None = None      # the printer profile the edition was made for
    kobo: bool = False              # Kobo's kepub markup (imprint/editions/kobo.py)
    default: bool = True            # built when no --edition is given


PDF = Edition("pdf", "pdf", ".pdf", "pdf.css", mirrored=False, links=True, pdf_variant="pdf/ua-1", isbn_key="pdf")
EPUB = Edition("epub", "epub", ".epub", "epub.css", isbn_key="epub")
# The print interior: the PDF's layout (same stylesheet, same pages) written for a printer.
# Variant, colour and fonts come from the printer profile (`for_printer`).
PRINT = Edition("print", "pdf", "-print.pdf", "pdf.css", mirrored=True, links=False, isbn_key="print",
                bleed=True, pads=True)
KEPUB = Edition("kepub", "epub", ".kepub.epub", "epub.css", isbn_key="epub", kobo=True, default=False)
EDITIONS = {e.name: e for e in (PDF, PRINT, EPUB, KEPUB)}


def for_printer(edition: Edition, printer) -> Edition:
    """The edition as the printer profile wants it written (only editions that pad are printed)."""
    if not edition.pads:
        return edition
    return replace(edition, pdf_variant=printer.pdf_variant, full_fonts=printer.full_fonts, paint=printer.paint,
                   output_intent=printer.output_intent, profile=printer.name)


TRIM_FORMS = "a preset (" + ", ".join(TRIMS) + "), or WxH in inches (7x10) or millimetres (156x234mm)"
SIZE = re.compile(r"(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|cm|in)?")


def parse_trim(name) -> Trim | None:
    """'6x9', '6 × 9 in', 'A5', '7x10', '156x234mm', '15.6x23.4cm' -> a Trim; None if it is none of these."""
    key = str(name).lower().replace(" ", "").replace("×", "x").replace("\"", "")
    if key.endswith("inches"):
        key = key[:-4]
    if key in TRIMS:
        return TRIMS[key]
    if key.endswith("in") and key[:-2] in TRIMS:
        return TRIMS[key[:-2]]
    m = SIZE.fullmatch(key)
    if not m:
        return None
    unit = {"mm": MM, "cm": 10 * MM}.get(m.group(3), IN)
    width, height = float(m.group(1)) * unit, float(m.group(2)) * unit
    if not width or not height:
        return None
    for preset in TRIMS.values():           # '148x210mm' is A5, with A5's design
        if abs(preset.width - width) < 0.5 and abs(preset.height - height) < 0.5:
            return preset
    label = m.group(0) if m.group(3) else f"{m.group(1)}x{m.group(2)}"
    return Trim(label, width, height)


def trim(name: str | None, where=None) -> Trim:
    """A trim by name or size: '6x9', '6 × 9 in', 'A5', '7x10', '156x234mm'... (default 6x9)."""
    found = parse_trim(name or DEFAULT_TRIM)
    if found is None:
        from imprint.errors import MetadataError
        raise MetadataError(f"'{name}' is not a trim size", where=where, hint=f"use {TRIM_FORMS}")
    return found


def inches(value: float) -> str:
    return f"{value / IN:.3g} in"


def design_margins(trim: Trim) -> Margins:
    """The design's margins for a trim: the preset's own, else the nearest preset's by area,
    scaled with the page's width (a 7 x 10 in page keeps the proportions of a 6 x 9 in one)."""
    if trim.name in DESIGN_MARGINS:
        return DESIGN_MARGINS[trim.name]
    nearest = min(TRIMS.values(), key=lambda t: abs(t.width * t.height - trim.width * trim.height))
    base, scale = DESIGN_MARGINS[nearest.name], max(0.8, min(1.4, trim.width / nearest.width))
    return Margins(base.top * scale, base.bottom * scale, base.inside * scale, base.outside * scale)


SCREEN_MARGIN = 0.25 * IN       # the least margin of a PDF or EPUB built without the print edition


def screen_margins(given: Margins) -> str | None:
    """What is wrong with the author's margins for a download PDF (no printer's minimums bind it):
    the text kept off the page's edge, the running head on the page."""
    for side, value in (("bottom", given.bottom), ("outer", given.outside), ("inner", given.inside)):
        if value < SCREEN_MARGIN - 0.01:
            return f"the {side} margin {inches(value)} is less than {inches(SCREEN_MARGIN)}: the text would touch the page's edge"
    if given.top < SCREEN_MARGIN + RUNNING_HEAD - 0.01:
        return (f"the top margin {inches(given.top)} leaves the running head less than {inches(SCREEN_MARGIN)} "
                f"from the edge (the head takes {inches(RUNNING_HEAD)})")
    return None


def check_margins(given: Margins, printer, pages: int | None, bleeds: bool) -> str | None:
    """What is wrong with the author's margins for this printer (and page count, when known), or None."""
    least = printer.min_margin_bleed if bleeds else printer.min_margin
    for side, value in (("bottom", given.bottom), ("outer", given.outside)):
        if value < least - 0.01:
            return (f"the {side} margin {inches(value)} is less than {printer.label}'s minimum {inches(least)}"
                    + (" for a book that bleeds" if bleeds else ""))
    if given.top < least + RUNNING_HEAD - 0.01:     # the running head stands in the top margin
        return (f"the top margin {inches(given.top)} leaves the running head less than {printer.label}'s "
                f"minimum {inches(least)} from the edge (the head takes {inches(RUNNING_HEAD)})")
    band = printer.band(pages if pages is not None else printer.gutter[0].first)
    if given.inside < band.inside - 0.01:
        count = f"a book of {pages} pages" if pages is not None else "any book"
        return (f"the inner margin {inches(given.inside)} is less than {printer.label}'s minimum "
                f"{inches(band.inside)} for {count} ({band.first}-{band.last} pages)")
    return None
