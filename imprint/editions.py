"""Editions, trims and printer profiles as values: what differs between the PDF, print and EPUB editions."""

from __future__ import annotations

from dataclasses import dataclass

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
    kobo: bool = False              # Kobo's kepub markup (imprint/kobo.py)
    default: bool = True            # built when no --edition is given


PDF = Edition("pdf", "pdf", ".pdf", "pdf.css", mirrored=False, links=True, pdf_variant="pdf/ua-1", isbn_key="pdf")
EPUB = Edition("epub", "epub", ".epub", "epub.css", isbn_key="epub")
KEPUB = Edition("kepub", "epub", ".kepub.epub", "epub.css", isbn_key="epub", kobo=True, default=False)
EDITIONS = {e.name: e for e in (PDF, EPUB, KEPUB)}


def trim(name: str | None) -> Trim:
    key = (name or DEFAULT_TRIM).lower().replace(" ", "").replace("×", "x").replace("in", "")
    if key not in TRIMS:
        from .errors import MetadataError
        raise MetadataError(f"unknown trim size '{name}'", hint=f"use one of {', '.join(TRIMS)}")
    return TRIMS[key]
