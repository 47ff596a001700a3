"""A printer's name -> PrinterProfile: what KDP, IngramSpark and Lulu accept, as plain values.

Nothing here computes a layout; the pipeline reads the gutter table, bleed geometry and page
rules, the print edition reads colour, PDF variant and font embedding, the cover reads the
paper and barcode geometry, and preflight checks a written file against all of them.
The numbers come from the printers' published guides (see ../shared/DESIGN.md); where a
guide gives none, the stricter neighbour's number is used and the README says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from imprint.errors import ImprintError

IN = 72.0
MM = 72.0 / 25.4


@dataclass(frozen=True)
class GutterBand:
    """Books of `first`..`last` pages need at least `inside` points on the binding side."""

    first: int
    last: int
    inside: float


@dataclass(frozen=True)
class Bleed:
    """How far art that reaches the edge must run past the trim, per side (points).

    `inside` is the binding edge; KDP and IngramSpark want no bleed there."""

    top: float = 0.0
    bottom: float = 0.0
    outside: float = 0.0
    inside: float = 0.0

    def sides(self, recto: bool) -> dict[str, float]:
        """CSS sides for a page: the inside edge is left on a recto, right on a verso."""
        return {"top": self.top, "bottom": self.bottom,
                "left": self.inside if recto else self.outside,
                "right": self.outside if recto else self.inside}


NO_BLEED = Bleed()


@dataclass(frozen=True)
class PageRules:
    """Page-count limits and parity of the interior."""

    min_pages: int
    max_pages: int
    even: bool = True              # the book block is printed on sheets: an even count
    last_blank: bool = False       # IngramSpark prints its own barcode on the last page

    def padding(self, count: int, last_is_blank: bool) -> int:
        """How many blank pages to add at the end so the count meets these rules."""
        target = max(count, self.min_pages)
        if self.even and target % 2:
            target += 1
        if self.last_blank and target == count and not last_is_blank:
            target += 2 if self.even else 1
        return target - count


@dataclass(frozen=True)
class CoverRules:
    """The wrap cover's geometry (points) and what may go where."""

    bleed: float = 0.125 * IN
    safe: float = 0.125 * IN            # text this far inside the trim and the spine folds
    spine_clearance: float = 0.0625 * IN  # spine text this far from each fold
    spine_text_min_pages: int = 80      # spine text only on books of more than 79 pages
    barcode_size: tuple[float, float] = (2.0 * IN, 1.2 * IN)
    barcode_offset: tuple[float, float] = (0.25 * IN, 0.25 * IN)   # from the spine fold, from the bottom trim


@dataclass(frozen=True)
class TrimRange:
    """The trims a printer prints (points): any size from `least` to `most` (width, height),
    or, when `sizes` is given, only those sizes (within TRIM_TOLERANCE)."""

    least: tuple[float, float]
    most: tuple[float, float]
    sizes: tuple[tuple[str, float, float], ...] = ()

    def fits(self, width: float, height: float) -> bool:
        if self.sizes:
            return any(abs(w - width) <= TRIM_TOLERANCE and abs(h - height) <= TRIM_TOLERANCE
                       for _, w, h in self.sizes)
        return (self.least[0] - TRIM_TOLERANCE <= width <= self.most[0] + TRIM_TOLERANCE
                and self.least[1] - TRIM_TOLERANCE <= height <= self.most[1] + TRIM_TOLERANCE)

    def describe(self) -> str:
        if self.sizes:
            return "only its standard sizes: " + ", ".join(f"{name} ({w / IN:g}x{h / IN:g} in)" for name, w, h in self.sizes)
        return (f"widths {self.least[0] / IN:g}-{self.most[0] / IN:g} in and heights "
                f"{self.least[1] / IN:g}-{self.most[1] / IN:g} in")


TRIM_TOLERANCE = 0.02 * IN      # 'a5' is 5.83 x 8.27 in; 156 x 234 mm is 6.14 x 9.21 in


# Paper thickness per page (inches), by the metadata's `paper`.
PAPER_THICKNESS = {"white": 0.002252, "cream": 0.0025}


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    label: str
    min_margin: float               # top, bottom and outside, without bleed (points)
    min_margin_bleed: float         # the same when the book bleeds
    gutter: tuple[GutterBand, ...]  # minimum inside margin by page count
    bleed: Bleed                    # geometry when the book has art that reaches the edge
    colour_spaces: frozenset[str]   # what the file may use: gray, rgb, cmyk
    paint: str                      # how CSS colours are painted: "rgb" as declared, or "cmyk"
    pdf_variant: str | None         # WeasyPrint pdf_variant
    output_intent: tuple[str, str, str] | str | None   # (condition id, registry, info), "srgb" or None
    full_fonts: bool                # embed whole fonts, not subsets
    pages: PageRules
    trims: TrimRange
    forbid_annotations: bool = True
    forbid_bookmarks: bool = True
    min_ppi: int = 300
    paper_thickness: tuple[tuple[str, float], ...] = tuple(PAPER_THICKNESS.items())
    cover: CoverRules = CoverRules()
    # A book read right to left (bound on the right): "reading order" (the interior's pages as
    # read, the binding chosen when the book is set up), "reversed" (the PDF's pages last to
    # first), or "" (the printer documents no such binding).
    right_to_left: str = "reading order"

    def band(self, pages: int) -> GutterBand:
        """The gutter band of a book of `pages` pages (the first or last band beyond the table)."""
        for band in self.gutter:
            if band.first <= pages <= band.last:
                return band
        return self.gutter[0] if pages < self.gutter[0].first else self.gutter[-1]

    def thickness(self, paper: str) -> float:
        """Points of spine per page for the paper."""
        return dict(self.paper_thickness)[paper] * IN


KDP = PrinterProfile(
    name="kdp", label="Amazon KDP paperback",
    min_margin=0.25 * IN, min_margin_bleed=0.375 * IN,
    gutter=(GutterBand(24, 150, 0.375 * IN), GutterBand(151, 300, 0.5 * IN), GutterBand(301, 500, 0.625 * IN),
            GutterBand(501, 700, 0.75 * IN), GutterBand(701, 828, 0.875 * IN)),
    bleed=Bleed(top=0.125 * IN, bottom=0.125 * IN, outside=0.125 * IN, inside=0.0),
    colour_spaces=frozenset({"gray", "rgb", "cmyk"}), paint="rgb",
    pdf_variant=None, output_intent=None, full_fonts=True,
    pages=PageRules(24, 828, even=True),
    # KDP's paperback trim sizes: any width from 4 to 8.5 in, any height from 6 to 11.69 in
    # (KDP's "Paperback trim size" help page; CreateSpace's manufacturing specifications gave
    # the same range). Wider or taller sizes are hardcover- or colour-only.
    trims=TrimRange((4 * IN, 6 * IN), (8.5 * IN, 11.69 * IN)),
)

# IngramSpark: PDF/X-1a, CMYK. The output intent names a registered printing condition
# (CGATS TR 001, US web offset "SWOP") instead of embedding a profile: PDF/X-1a allows it,
# and no CMYK profile with a licence we could ship is at hand.
INGRAM = PrinterProfile(
    name="ingram", label="IngramSpark paperback",
    min_margin=0.5 * IN, min_margin_bleed=0.5 * IN,
    gutter=(GutterBand(18, 1200, 0.5 * IN),),
    bleed=Bleed(top=0.125 * IN, bottom=0.125 * IN, outside=0.125 * IN, inside=0.0),
    colour_spaces=frozenset({"gray", "cmyk"}), paint="cmyk",
    pdf_variant="pdf/x-1a", output_intent=("CGATS TR 001", "http://www.color.org", "U.S. Web Coated (SWOP) v2"),
    full_fonts=True,
    pages=PageRules(18, 1200, even=True, last_blank=True),
    # IngramSpark's paperback trims run from 4 x 6 in to 8.5 x 11 in (its File Creation Guide's
    # trim table; 8.27 x 11.69 in A4 and the 11 x 8.5 in landscape size are the exceptions, and
    # are left out here: a book that wants them checks with Ingram first).
    trims=TrimRange((4 * IN, 6 * IN), (8.5 * IN, 11 * IN)),
    cover=CoverRules(safe=0.25 * IN),
    # Lightning Source's "Reverse Bound (Right-to-Left) Books": the interior in reverse page
    # order, an even page count; the cover's front on the left, back and barcode on the right.
    right_to_left="reversed",
)

LULU = PrinterProfile(
    name="lulu", label="Lulu paperback",
    min_margin=0.5 * IN, min_margin_bleed=0.5 * IN,
    gutter=(GutterBand(32, 800, 0.5 * IN),),
    bleed=Bleed(top=0.125 * IN, bottom=0.125 * IN, outside=0.125 * IN, inside=0.125 * IN),
    colour_spaces=frozenset({"gray", "rgb"}), paint="rgb",
    pdf_variant=None, output_intent="srgb", full_fonts=True,
    pages=PageRules(32, 800, even=True),
    # Lulu prints its standard sizes only (Lulu's "Choosing the right book size" and its
    # pricing calculator: pocket, digest, A5, US trade, royal, comic, executive, crown quarto,
    # square, A4, US letter; the landscape sizes are for photo books and left out).
    trims=TrimRange((4.25 * IN, 6.875 * IN), (8.5 * IN, 11.69 * IN), sizes=(
        ("pocket", 4.25 * IN, 6.875 * IN), ("novella", 5 * IN, 8 * IN), ("digest", 5.5 * IN, 8.5 * IN),
        ("A5", 148 * MM, 210 * MM), ("US trade", 6 * IN, 9 * IN), ("royal", 156 * MM, 234 * MM),
        ("comic", 6.625 * IN, 10.25 * IN), ("executive", 7 * IN, 10 * IN), ("crown quarto", 189 * MM, 246 * MM),
        ("small square", 7.5 * IN, 7.5 * IN), ("square", 8.5 * IN, 8.5 * IN), ("A4", 210 * MM, 297 * MM),
        ("US letter", 8.5 * IN, 11 * IN))),
    cover=CoverRules(safe=0.25 * IN),
    right_to_left="",           # Lulu's book creation guide has no binding on the right
)

PROFILES = {p.name: p for p in (KDP, INGRAM, LULU)}
DEFAULT_PROFILE = "kdp"


def profile(name: str | None) -> PrinterProfile:
    key = (name or DEFAULT_PROFILE).strip().lower()
    if key not in PROFILES:
        raise ImprintError(f"unknown printer profile '{name}'", hint=f"use one of {', '.join(PROFILES)}")
    return PROFILES[key]
