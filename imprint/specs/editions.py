"""Editions, trims and printer profiles as values: what differs between the PDF, print and EPUB editions."""

from __future__ import annotations

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


def margins_for(trim: Trim, printer, pages: int, bleeds: bool) -> Margins:
    """The design's margins for a book of `pages` pages printed by `printer`.

    The inside margin grows with the printer's gutter table: the design's inside margin is
    meant for the thinnest band, and each band adds what the table adds (a thick book loses
    more paper into the binding). Every side stays at least the printer's minimum.
    """
    design = DESIGN_MARGINS[trim.name]
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


def trim(name: str | None, where=None) -> Trim:
    """A trim by name: '6x9', '6 × 9 in', 'A5'... (default 6x9)."""
    key = str(name or DEFAULT_TRIM).lower().replace(" ", "").replace("×", "x").replace("in", "")
    if key not in TRIMS:
        from imprint.errors import MetadataError
        raise MetadataError(f"unknown trim size '{name}'", where=where, hint=f"use one of {', '.join(TRIMS)}")
    return TRIMS[key]
