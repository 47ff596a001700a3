"""Paragraphs set whole (Knuth–Plass total-fit line breaking) for the paged editions.

WeasyPrint breaks lines one at a time (greedy). Here each justified paragraph of the body
and of the notes is broken as a whole before WeasyPrint sees it:

- boxes are the words, measured with HarfBuzz (uharfbuzz) on the same font files WeasyPrint
  draws with (the book's face: html/render.py names its files and the text size on the
  document), in the paragraph's size and style (italic, bold, small capitals, 7.5 pt note calls); glue is the face's own word space, stretchable only
  (WeasyPrint justifies by widening spaces, never by narrowing them); penalties are the
  hyphenation points Pyphen gives (three letters at least either side, as the line-by-line
  setting has them; a paragraph that sets without any, no line over 1.475x, gets none: TeX's
  first pass); never in a word
  in capitals nor in a name: a capitalised word the manuscript never has in small letters,
  unless `hyphenate-capitalized: true`; html/render.py common_capitals marks the others) and
  the hard hyphens and dashes;
- the demerits are Typst's form of TeX's (see HYPHEN_PENALTY): (linepenalty + badness +
  penalty)², a hyphen's penalty higher near a word's edge, badness growing slower beyond
  spaces 1.5x their width and a step higher at them (a line seen as loose); 40000 more for two
  hyphenated lines in a row, a third in a row not allowed, 20000 more for a hyphen on the last full line,
  and a last line shorter than a sixth of the measure costs extra; a paragraph that has no
  break within the tolerance is set again with an emergency tolerance;
- the chosen breaks are then written into the HTML: every space that is not a break becomes
  a no-break space, every chosen hyphenation point a soft hyphen (the paragraph gets
  `hyphens: manual`), every hard hyphen or dash that is not a break is followed by a word
  joiner; WeasyPrint's own breaker then has exactly one opportunity per line.

`verify()` reads the laid-out lines (typeset/fence/lines.py) and names the paragraphs that
did not break as planned (a font fallback, an inline image, a measure other than expected):
engine.render sets those again WeasyPrint's way, with an info finding (L219).

Off with `line-breaking: greedy` in the metadata; then only names (capitalised words, as
above) are kept from hyphenation (wrapped in `hyphens: manual`).
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, field

from imprint.house import STYLES
from imprint.processes import Memo
from imprint.manuscript import languages

FONTS = STYLES / "fonts" / "libertine"
FACES = {(False, False): "LinLibertine_R.otf", (True, False): "LinLibertine_RI.otf",
         (False, True): "LinLibertine_RB.otf", (True, True): "LinLibertine_RBI.otf"}
PT = 1.0
BODY_SIZE, NOTE_SIZE, CALL_SIZE = 11.0, 9.0, 7.5
INDENT = 1.2                # em (styles/book.css p text-indent)
NOTE_INDENT = 1.0           # em (styles/book.css .footnote .fn-p + .fn-p)
QUOTE_SIZE = 10.0           # pt (styles/book.css blockquote font-size)
QUOTE_INSET = 2 * 1.5       # em of QUOTE_SIZE (styles/book.css blockquote margin: 1.5em either side)
NUMBER_PAD = 0.4            # em (styles/book.css .footnote .note-number padding-right)
LIST_INSET = 1.5            # em (styles/book.css ul, ol padding-left): a list item's measure is narrower
# pt a planned line keeps free: Pango shapes with the same HarfBuzz and the same files, so the
# widths agree (verify() catches a line that does not). Measured on the essay: 0.6 -> 0.1 took
# its lines over 1.5x from 83 to 78, with no more paragraphs set line by line (L221).
SAFETY = 0.1
STRETCH = 0.5               # a space may grow by half of itself at ratio 1 (TeX: 1.5× natural)
SHRINK = 1 / 3              # ... and narrow by a third of itself (TeX), through a negative word-spacing
# The first pass's tolerance, as a ratio: 0.95 (spaces at most 1.475x their width, plain TeX's
# \pretolerance=100 is ratio 1.0, kept a little under so a line WeasyPrint sets a hair wider
# than measured stays under 1.5x); 0 turns the first pass off.
PRETOLERANCE = 0.95
TOLERANCE, EMERGENCY = 2.0, float("inf")    # the emergency pass takes any stretch (TeX's badness cap)
# The demerits of a line, after Typst's model (crates/typst-layout/src/inline/linebreak.rs),
# measured better than TeX's against Typst with scripts/typeset_compare.py:
# - a penalty is charged inside the square, (linepenalty + badness + penalty)², not beside it
#   (TeX's + penalty²): a hyphen costs more on a loose line than on a good one;
# - a hyphen costs HYPHEN_PENALTY, 15 % more for each letter fewer than EDGE on either side of
#   it (Typst: 135, the same 15 % under five): "bet-ter" costs more than "govern-ment";
# - beyond ratio 1 (spaces 1.5x their width) a line's badness grows LOOSE_SLOPE as fast as its
#   ratio (Typst's extra stretch counted against half an em): once a line is loose, a little
#   looser costs little more, and two lines are not made loose to spare one. The tolerance
#   (no line over 2x outside the emergency pass) is unchanged;
# - a line past ratio 1 costs LOOSE_STEP more badness (not Typst's: the point where a reader
#   sees a loose line, which issue 19 counts), and a line's ratio is the one it is set at
#   (knuth_plass's `slack`: WeasyPrint justifies to the whole measure);
# - the step and the hyphen are both larger, 150 and 260 (session 14; 30 and 150 before): a
#   loose line and a hyphen each cost more than the spacing of most lines under 1.5x, so the
#   breaks spare them first. The additive rules were scaled by four with them (two hyphens in
#   a row 40000, a hyphen on the last full line 20000, a stub last line 8000), so they weigh
#   against a loose line about as before.
# Swept over the planned lines of all four books (a paragraph's plan, without the layout) in
# session 14; planned body lines over 1.5x, essay / Manifesto / Mutual Aid / Wealth of Nations:
#   30/150:   77 / 122 / 740 / 1588 at 10.7 / 8.0 / 5.1 / 5.0 % hyphenated
#   150/260:  77 / 122 / 724 / 1530 at 10.4 / 7.7 / 5.0 / 4.8 %
#   400/500:  78 / 117 / 725 / 1522 at 10.2 / 8.0 / 4.9 / 4.8 %
# The hyphen must stay about 100-110 above the step (400/485: Mutual Aid 696 at 5.2 %, the
# Manifesto 8.3 %; 400/515: 739 at 4.7 %). The larger the pair, the more lines are pushed to
# just under 1.5x or narrowed (Mutual Aid, planned: lines at 1.3-1.5x 1263 / 1315 / 1333, under
# 0.7x 132 / 144 / 158 for the three rows): 150/260 is the gentler of the two that meet the
# targets. Full builds in the README.
# Before (session 12): TeX's model at 350 left the essay's and the Manifesto's hyphens over
# Typst's share + 1 point and Mutual Aid's loose lines over Typst's; this model at 125 without
# the step left Mutual Aid's loose lines over Typst's (764 to 746).
LINE_PENALTY, HYPHEN_PENALTY, DOUBLE_HYPHEN, FINAL_HYPHEN, SHORT_LAST = 10, 260, 40_000, 20_000, 8000
LOOSE_SLOPE = 0.25
LOOSE_STEP = 150
EDGE, EDGE_COST = 5, 0.15
QUOTES, OPENERS = "\"'“”‘’«»", "([{"
SHY, NBSP, WJ, ZWSP = "\u00ad", "\u00a0", "\u2060", "\u200b"
B2 = "\u2014\u2e3a\u2e3b"           # the dashes a line may break before (UAX #14 B2: em dash, two- and three-em)
ITALIC_TAGS = {"em", "i", "cite", "var", "dfn"}
BOLD_TAGS = {"strong", "b"}
TRANSPARENT = {"a", "span", "em", "i", "cite", "strong", "b", "abbr", "q", "mark", "small", "var", "dfn", "u", "s",
               "del", "ins", "sup", "sub"}
SCRIPT_SIZE = 0.75      # sup and sub, of the text around them (styles/book.css `sup, sub`)
OBJECT = "\ufffc"       # stands in the measured text for an inline formula (its width is known)
BREAK = "\u2028"        # stands in the measured text for a line break (`br`): a forced break
NOT_INDENTED = {"h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "hr"}   # styles/book.css `h1 + p`...


MISSED = "imprint-linebreak: set line by line, not broken as planned:"     # + the paragraph's first words
UNPLANNED = "imprint-unplanned: set line by line:"     # + what it holds and the paragraph's first words (L227)


class Unplannable(Exception):
    """Something in the paragraph this module does not measure (an image, highlighted code)."""


@dataclass(frozen=True)
class _Inline:
    """The style of an inline formula's piece: an image of known width (points), unbreakable."""
    width: float


def _formula_width(span, size: float) -> float | None:
    """An inline formula's width in points: html/render.py sets it as one <img class="math">
    sized in em of the text around it (imprint/manuscript/math.py). None for anything else."""
    imgs = [el for el in span.iter() if isinstance(el.tag, str) and el.tag == "img"]
    if len(imgs) != 1 or (span.text or "").strip() or (imgs[0].tail or "").strip():
        return None
    m = re.search(r"(?:^|;)\s*width:\s*([\d.]+)em", imgs[0].get("style") or "")
    return float(m.group(1)) * size if m else None


# --- measuring -------------------------------------------------------------------------

# The font files words are measured in, by style: regular, italic, bold, bold italic. The
# house face's unless the document names the book's own (html/render.py: data-measure-faces,
# from the Look: a bundled face or the book's fonts/ folder, each style from the file the
# typesetter draws it with). A face with no bold file is emboldened by fontconfig, and Pango
# 1.50 shapes it with the regular file's advances: measured with the regular file, as drawn.
HOUSE_FACES = tuple(str(FONTS / FACES[key]) for key in ((False, False), (True, False), (False, True), (True, True)))


def _face_index(italic: bool, bold: bool) -> int:
    return int(bool(italic)) + 2 * int(bool(bold))


@functools.lru_cache(maxsize=None)
def _font(path: str):
    import uharfbuzz as hb
    if path.lower().endswith((".woff", ".woff2")):      # HarfBuzz reads sfnt only: unwrapped by fontTools
        import io
        from fontTools.ttLib import TTFont
        font = TTFont(path)
        font.flavor = None
        data = io.BytesIO()
        font.save(data)
        blob = hb.Blob(data.getvalue())
    else:
        blob = hb.Blob.from_file_path(path)
    face = hb.Face(blob)
    return hb.Font(face), face.upem


@functools.lru_cache(maxsize=200_000)
def width(text: str, size: float, italic: bool = False, bold: bool = False, caps: bool | str = False,
          lining: bool = True, faces: tuple = HOUSE_FACES) -> float:
    """Advance width of `text` in points, shaped with kerning and common ligatures as WeasyPrint sets it.
    `caps`: small capitals (True), or "lower" for a lead-in (lowercased, then small capitals:
    styles/book.css .lead-in); `lining`: False for the old-style figures of running text;
    `faces`: the files of the face (HOUSE_FACES); an entry may be a chain of files, the first
    that has a character drawing it (text in another script: _lang_faces)."""
    if not text:
        return 0.0
    text = text.lower() if caps == "lower" else text
    chain = _chain(faces[_face_index(italic, bold)], bold)
    return sum(_shaped(run, path, size, bool(caps), lining) for run, path in _runs(text, chain))


def _shaped(text: str, path: str, size: float, caps: bool, lining: bool) -> float:
    import uharfbuzz as hb
    font, upem = _font(path)
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    features = {"kern": True, "liga": True}
    if caps:
        features["smcp"] = True
    if not lining:
        features["onum"] = True
    hb.shape(font, buf, features)
    return sum(p.x_advance for p in buf.glyph_positions) * size / upem


# --- other scripts (right to left) ---------------------------------------------------------
# Text in Hebrew or Arabic is set in the bundled face of its script first, the book's face
# after it (styles/book.css :lang rules; imprint/manuscript/languages.py SCRIPTS), and a
# character the face in use lacks is drawn from the next that has it (the book's face, then
# the script faces: look.py font_css). Pango picks the face character by character, a space
# keeping the face of the text before it (after it, at the start); the words are measured so.
SCRIPT_FONTS = STYLES / "fonts" / "noto"


def _script(lang: str | None) -> str | None:
    """The stem of the face styles/book.css sets `lang` in, if it has one (languages.SCRIPTS).
    Text in any other language (an English span in a Hebrew book) inherits the face around it."""
    face = languages.script_face(lang)
    return face[1] if face else None


def _script_file(stem: str, bold: bool) -> str:
    return str(SCRIPT_FONTS / f"{stem}-{'Bold' if bold else 'Regular'}.ttf")


def _lang_faces(lang: str | None, faces: tuple) -> tuple:
    """`faces` for text in `lang`: each style a chain (the script's face, the book's) for a
    language styles/book.css sets in a face of its own, the book's files otherwise."""
    base = tuple(f[-1] if isinstance(f, tuple) else f for f in faces)
    stem = _script(lang)
    if not stem:
        return base
    return tuple((_script_file(stem, k >= 2), f) for k, f in enumerate(base))


@functools.lru_cache(maxsize=None)
def _chain(entry, bold: bool) -> tuple:
    """The files a face's characters are drawn from: its own, then the script faces (once per
    face and weight: every word measured asks)."""
    chain = entry if isinstance(entry, tuple) else (entry,)
    return chain + tuple(f for f in (_script_file(stem, bold) for _, stem, _ in languages.SCRIPTS)
                         if f not in chain)


@functools.lru_cache(maxsize=None)
def _cmap(path: str) -> frozenset:
    from fontTools.ttLib import TTFont
    return frozenset(TTFont(path, lazy=True).getBestCmap() or ())


def _keeps_face(ch: str) -> bool:
    """A space, a control or a format character: Pango draws it in the face around it."""
    return ch.isspace() or not ch.isprintable()


def _face_of(ch: str, chain: tuple) -> str:
    return next((p for p in chain if ord(ch) in _cmap(p)), chain[0])


def _runs(text: str, chain: tuple) -> list[tuple[str, str]]:
    """`text` cut where the face drawing it changes: [(run, file)]."""
    first = chain[0]
    if all(ord(ch) in _cmap(first) or _keeps_face(ch) for ch in text):
        return [(text, first)]
    picked = [None if _keeps_face(ch) else _face_of(ch, chain) for ch in text]
    nxt = next((f for f in picked if f), first)
    for i, f in enumerate(picked):
        if f is None:
            picked[i] = nxt
        else:
            nxt = f
    runs: list[tuple[str, str]] = []
    for ch, f in zip(text, picked):
        if runs and runs[-1][1] == f:
            runs[-1] = (runs[-1][0] + ch, f)
        else:
            runs.append((ch, f))
    return runs


def _space(full: str, at: int, style: tuple) -> float:
    """The width of the space at `at` in `full`: in the face of the text before it."""
    size, italic, bold, caps, lining, faces = style
    chain = _chain(faces[_face_index(italic, bold)], bold)
    before = full[:at].rstrip(" \t\n\r\f")
    face = _face_of(before[-1], chain) if before and not _keeps_face(before[-1]) else chain[0]
    return _shaped(" ", face, size, bool(caps), lining)


# --- the algorithm -----------------------------------------------------------------------

@dataclass
class Box:
    width: float


@dataclass
class Glue:
    width: float
    stretch: float
    shrink: float = 0.0


@dataclass
class Penalty:
    width: float
    penalty: float
    flagged: bool = False


@dataclass
class Plan:
    breaks: list[int]               # indices of the items broken at (the last is the paragraph's end)
    ratios: list[float] = field(default_factory=list)
    demerits: float = 0.0


def charged(ratio: float) -> float:
    """The ratio a line's badness is reckoned from: its own up to 1, then LOOSE_SLOPE as fast."""
    return ratio if ratio <= 1 else 1 + (ratio - 1) * LOOSE_SLOPE


def line_demerits(badness: float, penalty: float) -> float:
    """(linepenalty + badness + penalty)² for a break with a cost; a bonus (a negative penalty,
    not a forced break) is taken off as TeX does."""
    if penalty > 0:
        return (LINE_PENALTY + badness + penalty) ** 2
    return (LINE_PENALTY + badness) ** 2 - (penalty ** 2 if penalty > -10_000 else 0)


def hyphen_penalty(before: int, after: int) -> float:
    """The cost of a hyphen with `before` letters before it and `after` after it in its word."""
    return HYPHEN_PENALTY * (1 + EDGE_COST * (max(0, EDGE - before) + max(0, EDGE - after)))


def knuth_plass(items: list, widths, tolerance: float = TOLERANCE, unhyphenated: frozenset = frozenset(),
                slack: float = 0.0, justified_last: bool = False, looseness: int = 0) -> Plan | None:
    """The breaks of least total demerits, or None when no line fits within `tolerance`.

    The last line is not justified: it keeps its natural spaces, or narrows them (ratio < 0)
    when that is what it takes to fit. A last line that the typesetter would take onto the
    line before it (the two together fit that line with its spaces narrowed: WeasyPrint fills
    a line up to its last opportunity that fits, within `slack` more than the measure) is not
    a plan WeasyPrint would follow; the joined line is a candidate of its own.

    `unhyphenated` holds line numbers (0-based) that may not end in a hyphen (the line a recto
    ends on: engine.render sets the paragraph again when its hyphen fell at a recto's foot).

    `looseness` (TeX's \\looseness): the breaks of least demerits among those that set the
    paragraph in that many lines more (or fewer) than its best breaks; None when no such
    breaks fit within `tolerance`.

    `widths(n)` is the measure of line n (0-based): the first line may differ (an indent),
    every later line has the same measure. Items are Box, Glue and Penalty; the paragraph ends
    with the last item (a forced break). Glue breaks where a box precedes it; a line shrinks
    by at most its glue's shrink.
    """
    n = len(items)
    wsum, ysum, zsum = [0.0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1)
    for i, it in enumerate(items):
        wsum[i + 1] = wsum[i] + (it.width if not isinstance(it, Penalty) else 0.0)
        ysum[i + 1] = ysum[i] + (it.stretch if isinstance(it, Glue) else 0.0)
        zsum[i + 1] = zsum[i] + (it.shrink if isinstance(it, Glue) else 0.0)
    legal = [i for i, it in enumerate(items)
             if (isinstance(it, Glue) and 0 < i < n - 2 and isinstance(items[i - 1], Box))
             or (isinstance(it, Penalty) and it.penalty < 10_000)]
    if not legal or legal[-1] != n - 1:
        legal.append(n - 1)
    starts = {}                     # the first item of the line after a break at b
    for b in legal:
        i = b + 1
        while i < n - 1 and not isinstance(items[i], Box):
            i += 1
        starts[b] = i
    starts[-1] = 0
    first, later = widths(0), widths(1)

    # node: (break index, hyphens in a row, lines so far up to cap) -> (demerits, previous node, ratio)
    cap = max(unhyphenated) + 1 if unhyphenated else 0
    if looseness:
        cap = n + 1                 # the nodes count every line: the ends differ by their line counts
    best: dict = {(-1, 0, 0): (0.0, None, 0.0)}
    active = [(-1, 0, 0)]
    for b in legal:
        it = items[b]
        last = b == n - 1
        is_pen = isinstance(it, Penalty)
        flagged = is_pen and it.flagged and not last
        pen = it.penalty if is_pen else 0.0
        extra = it.width if is_pen else 0.0
        found: dict = {}
        still = []
        for node in active:
            a, hy, ln = node
            s = starts[a]
            natural = wsum[b] - wsum[s] + extra
            measure = first if a == -1 else later
            shrink = zsum[b] - zsum[s]
            if natural - shrink > measure + 1e-9:
                continue            # too long for any later break too: drop the node
            still.append(node)
            if last and not justified_last:
                ratio = 0.0 if natural <= measure else -(natural - measure) / shrink
                if a != -1 and best[node][1] is not None:
                    p = best[node][1][0]
                    ps = starts[p]
                    joined = wsum[b] - wsum[ps] - (zsum[a] - zsum[ps])
                    if joined <= (first if p == -1 else later) + slack + 1e-9:
                        continue    # WeasyPrint would set this last line on the line before it
            elif natural <= measure:
                stretch = ysum[b] - ysum[s]
                # as set: WeasyPrint justifies to the whole measure, the `slack` kept free included
                ratio = (measure + slack - natural) / stretch if stretch > 0 else (0.0 if natural == measure else 1e9)
            else:
                ratio = -(natural - measure) / shrink
            if ratio > tolerance or ratio < -1:
                continue
            if flagged and (hy >= 2 or ln in unhyphenated):
                continue            # never three hyphenated lines in a row, nor a hyphen where forbidden
            # TeX caps badness at 10000: every line beyond the tolerance would cost the same. In the
            # emergency pass (no cap on the ratio) a line twice as loose costs eight times as much,
            # so the looseness a paragraph cannot avoid is spread over its lines, not heaped on one.
            badness = 100 * abs(ratio) ** 3 if tolerance == EMERGENCY else min(100 * abs(charged(ratio)) ** 3, 10_000)
            if ratio > 1 and not (last and not justified_last):
                badness += LOOSE_STEP   # spaces past 1.5x: a loose line, seen as one
            d = line_demerits(badness, pen)
            if flagged and hy >= 1:
                d += DOUBLE_HYPHEN
            if last and hy >= 1 and a != -1:
                d += FINAL_HYPHEN
            if last and a != -1 and natural < measure / 6 and not justified_last:
                d += SHORT_LAST
            total = best[node][0] + d
            key = (b, hy + 1 if flagged else 0, min(ln + 1, cap))
            if key not in found or total < found[key][0]:
                found[key] = (total, node, ratio)
        active = still
        for key, value in found.items():
            best[key] = value
            active.append(key)
        if not active:
            return None
    ends = [k for k in best if k[0] == n - 1]
    if not ends:
        return None
    node = min(ends, key=lambda k: best[k][0])
    if looseness:
        ends = [k for k in ends if k[2] == node[2] + looseness]
        if not ends:
            return None
        node = min(ends, key=lambda k: best[k][0])
    total = best[node][0]
    breaks, ratios = [], []
    while node is not None and node[0] != -1:
        breaks.append(node[0])
        ratios.append(best[node][2])
        node = best[node][1]
    return Plan(breaks[::-1], ratios[::-1], total)


def greedy(items: list, widths) -> list[int]:
    """First-fit breaks (what a browser does), for comparison in tests."""
    breaks, line, width_so_far = [], 0, 0.0
    n = len(items)
    last_legal = None
    i = 0
    while i < n:
        it = items[i]
        legal = (isinstance(it, Glue) and i > 0 and isinstance(items[i - 1], Box)) or \
                (isinstance(it, Penalty) and it.penalty < 10_000)
        if legal:
            natural = width_so_far + (it.width if isinstance(it, Penalty) else 0.0)
            if natural > widths(line) and last_legal is not None:
                breaks.append(last_legal)
                line += 1
                i = last_legal + 1
                while i < n and isinstance(items[i], Glue):
                    i += 1
                width_so_far, last_legal = 0.0, None
                continue
            last_legal = i
        if not isinstance(it, Penalty):
            width_so_far += it.width
        i += 1
    breaks.append(n - 1)
    return breaks


# --- paragraphs of the paged HTML ----------------------------------------------------------

@dataclass
class _Piece:
    node: object            # the element whose .text or .tail holds it
    attr: str               # "text" or "tail", or "object" (an inline formula: OBJECT, its width in style)
    style: tuple            # (size, italic, bold, caps, lining, faces), or _Inline
    nowrap: bool = False    # inside a cross-reference (styles/book.css: never broken)
    code: bool = False      # inline code (styles/book.css `code`: never hyphenated)


def _style_of(el, style):
    size, italic, bold, caps, lining, faces = style
    tag = el.tag if isinstance(el.tag, str) else ""
    classes = (el.get("class") or "").split()
    if tag in ITALIC_TAGS:
        italic = not italic if tag == "em" and italic else True
    if tag in BOLD_TAGS:
        bold = True
    if tag in ("sup", "sub"):
        size = size * SCRIPT_SIZE
    if "smallcaps" in classes:
        caps = True
    if "lead-in" in classes:            # a chapter's opening capitals (imprint/html/display.py)
        caps = "lower"
    if "noteref" in classes or "note-number" in classes:     # lining figures (styles/book.css)
        lining = True
    if "noteref" in classes:
        size = CALL_SIZE
        italic = bold = caps = False
    if _script(el.get("lang")):         # text in a right-to-left language: its script's face first
        faces = _lang_faces(el.get("lang"), faces)
    return size, italic, bold, caps, lining, faces


def _pieces(par, style, mono: tuple | None = None) -> list[_Piece]:
    """The paragraph's text in order, each run with its style; notes (floats) are left out; an
    inline formula is one piece of its own width; a cross-reference's words are kept together;
    inline code is set in the monospace face (`mono`: its four files, _mono_faces) at CODE_SIZE;
    a line break (`br`) is a piece of its own, BREAK (a forced break)."""
    out = [_Piece(par, "text", style)]

    def walk(el, style, nowrap):
        for child in el:
            if not isinstance(child.tag, str):
                out.append(_Piece(child, "tail", style, nowrap))
                continue
            classes = (child.get("class") or "").split()
            if "footnote" in classes:
                out.append(_Piece(child, "tail", style, nowrap))
                continue
            if "math" in classes and "inline" in classes and child.tag == "span" and not child.get("style"):
                formula = _formula_width(child, style[0])
                if formula is None:
                    raise Unplannable("a formula")
                out.append(_Piece(child, "object", _Inline(round(formula, 3)), nowrap))
                out.append(_Piece(child, "tail", style, nowrap))
                continue
            if "math" in classes and "display" in classes:
                raise Unplannable("a display formula")
            if child.tag == "br" and not child.get("style") and not classes:
                out.append(_Piece(child, "break", style, nowrap))
                out.append(_Piece(child, "tail", style, nowrap))
                continue
            if child.tag == "code" and not child.get("style") and not classes \
                    and not any(isinstance(c.tag, str) for c in child):
                # pandoc's inline code: its text only (highlighted code has a class and spans)
                size, italic, bold, caps, lining, faces = style
                inner = (CODE_SIZE, italic, bold, False, lining, _mono_faces() if mono is None else mono)
                out.append(_Piece(child, "text", inner, nowrap, True))
                out.append(_Piece(child, "tail", style, nowrap))
                continue
            if child.tag not in TRANSPARENT or child.get("style") \
                    or "faux" in classes:       # a lead-in a size smaller (imprint/html/display.py)
                raise Unplannable({"br": "a line break", "code": "code", "img": "a picture"}.get(
                    child.tag, f"<{child.tag}{' style' if child.get('style') else ''}>"))
            inner = _style_of(child, style)
            held = nowrap or "crossref" in classes
            out.append(_Piece(child, "text", inner, held))
            walk(child, inner, held)
            out.append(_Piece(child, "tail", style, nowrap))

    walk(par, style, False)
    return out


def _text_of(piece: _Piece) -> str:
    if piece.attr == "object":
        return OBJECT
    if piece.attr == "break":
        return BREAK
    return getattr(piece.node, piece.attr) or ""


# Inline code (styles/book.css `code`): the monospace face at 9 pt, whatever the text's size.
# Its files: the book's `monofont` (html/render.py writes them on the document,
# data-measure-mono), else those fontconfig gives for imprint's default (look.DEFAULT_MONO),
# as Pango asks it for them.
CODE_SIZE = 9.0
DEFAULT_MONO_FAMILY = "DejaVu Sans Mono"


@functools.lru_cache(maxsize=None)
def _mono_faces() -> tuple:
    """The default monospace face's four files (regular, italic, bold, bold italic), by fontconfig."""
    import subprocess
    out = []
    for style in ("", ":italic", ":bold", ":bold:italic"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", DEFAULT_MONO_FAMILY + style],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if not found:
            raise Unplannable("code (no monospace face found to measure it)")
        out.append(found)
    return tuple(out)


def _run_width(text: str, style) -> float:
    """Width of `text` set in one piece's `style` (an inline formula: its own)."""
    return style.width * len(text) if isinstance(style, _Inline) else width(text, *style)


def _hyphenator(lang: str):
    """Pyphen for the book's language and region, as the greedy setting has it
    (typeset/fence/hyphenation.py): a bare `en` is American English, not Pyphen's British."""
    import pyphen
    from imprint.manuscript.languages import hyphenation_dictionary
    name = hyphenation_dictionary(lang)
    if not name:
        return None
    hyphenator = pyphen.Pyphen(lang=name, left=LEFT_MIN, right=RIGHT_MIN)
    hyphenator.imprint_dictionary = (name, LEFT_MIN, RIGHT_MIN)     # PLANS' key: which patterns break the words
    return hyphenator


# At least three letters either side of a hyphen (issue 19's copy-editor rule; plain TeX lets
# two stand before it, "de-creasingly", which was tried and measured, then taken back for the
# rule); the line-by-line setting has the same (styles/book.css hyphenate-limit-chars: 6 3 3).
LEFT_MIN, RIGHT_MIN, WORD_MIN = 3, 3, 6
WORD = re.compile(r"[^\W\d_]{%d,}" % WORD_MIN)


def _points(word: str, hyphenator, capitalized: bool, common: frozenset = frozenset()) -> list[int]:
    """Hyphenation points inside a word (offsets), by Pyphen, LEFT_MIN and RIGHT_MIN letters; none
    in a word in capitals, nor in a capitalised one (a name) unless `capitalized` or it is one
    of `common` (see common_capitals)."""
    if hyphenator is None:
        return []
    out = []
    for m in WORD.finditer(word):
        run = m.group()
        if run[0].isupper() and not capitalized and run not in common:
            continue
        if run.isupper():
            continue
        out += [m.start() + p for p in hyphenator.positions(run) if LEFT_MIN <= p <= len(run) - RIGHT_MIN]
    return out


# A paragraph's breaks by everything they depend on: its markup, every argument, the fonts'
# files as they are now and this module's costs. A job plans its HTML again on every layout
# (longnotes' rounds, a spread evened a line longer, a recto's foot unhyphenated), and a
# --watch session's children hand theirs back (processes.Memo): an edit's build breaks only
# the paragraphs the edit changed, the others are written as they were broken before.
PLANS = Memo("plans", 20_000)


# What a paragraph's markup carries that its breaks do not depend on: its place in the book
# (html/render.py's block index, data-b) and anchors. Left out of the key, a block added or
# taken away before a paragraph does not make every later paragraph's key new.
PLACE_ATTRIBUTES = ("data-b", "id")
_SHARED: dict = {}          # one copy of each costs and stamps tuple, shared by every key


def _plan_key(par, args: tuple, hyphenator) -> tuple | None:
    from lxml import etree
    if hyphenator is not None and not hasattr(hyphenator, "imprint_dictionary"):
        return None         # a hyphenator not made here (_hyphenator): its patterns unknown
    size, measure, indent, capitalized, unhyphenated, faces, common, looseness, mono = args
    files = tuple(faces) + (tuple(mono) if mono else ())
    taken = [(el, name, el.attrib.pop(name)) for el in par.iter() if isinstance(el.tag, str)
             for name in PLACE_ATTRIBUTES if name in el.attrib]
    try:
        markup = etree.tostring(par, with_tail=False)
    finally:
        for el, name, value in taken:
            el.set(name, value)
    settings = (_stamps(files), _costs())
    settings = _SHARED.setdefault(settings, settings) if len(_SHARED) < 256 else settings
    return (markup, args, getattr(hyphenator, "imprint_dictionary", None), settings)


def _stamps(files: tuple) -> tuple:
    """Each font file's size and time of change: a face replaced in a --watch session is measured again."""
    out = []
    for f in files:
        for path in (f if isinstance(f, tuple) else (f,)):
            try:
                st = os.stat(path)
                out.append((st.st_size, st.st_mtime_ns))
            except (OSError, TypeError):
                out.append(None)
    return tuple(out)


def _costs() -> tuple:
    """This module's settings as they are now (a sweep or a test may change them)."""
    now = globals().copy()          # a copy made in one step: nothing runs while it is read
    return tuple(sorted((k, v) for k, v in now.items()
                        if k.isupper() and type(v) in (int, float)))


def plan_paragraph(par, size: float, measure: float, indent: float, hyphenator, capitalized: bool,
                   unhyphenated: frozenset = frozenset(), faces: tuple = HOUSE_FACES,
                   common: frozenset = frozenset(), looseness: int = 0, spent: list | None = None,
                   mono: tuple | None = None) -> int | None:
    """Break one paragraph element in place; the number of lines planned, or None (no words).
    Unplannable when it holds what is not measured, or no breaks fit even with the emergency
    stretch (the paragraph untouched). With `looseness`, in that many lines more or fewer than
    its best breaks, within the tolerance (None, the paragraph untouched, when it cannot be);
    `spent` then receives what it costs: (demerits over the best breaks', lines it adds past 1.5x).

    WeasyPrint only widens spaces; shrink comes from a negative `word-spacing` on the
    paragraph (every space narrowed by the most it may shrink), which justification then
    widens again: each planned line is no longer than the measure at its narrowest.

    A line break (`br`) ends its line as the paragraph's end does: each run of lines between two
    is broken on its own, the line before a break not justified (WeasyPrint does not justify it).
    Inline code is measured in `mono` (the monospace face's files; _mono_faces when None).
    Planned before with all the same (PLANS), it is written as it was broken then."""
    style = (size, False, False, False, False, faces)     # running text: old-style figures (styles/book.css)
    key = _plan_key(par, (size, measure, indent, capitalized, unhyphenated, faces, common, looseness, mono),
                    hyphenator)
    found = PLANS.get(key) if key is not None else None
    if found is None:
        try:
            found = ("planned", _breaks(par, style, measure, indent, hyphenator, capitalized, unhyphenated,
                                        common, looseness, mono))
        except Unplannable as why:
            found = ("unplannable", why.args)
        if key is not None:
            PLANS[key] = found
    kind, value = found
    if kind == "unplannable":
        raise Unplannable(*value)
    if value is None:
        return None
    lines, writes, spacing, cost = value
    if cost is not None and spent is not None:
        spent.append(cost)
    _write(par, _pieces(par, style, mono), writes)
    par.set("style", spacing)
    return lines


def _write(par, pieces: list, writes: list) -> None:
    """Put a paragraph's planned text in place: (piece, its new text, where a line that is not
    justified begins in it, that line's word-spacing)."""
    from lxml import etree
    for k, joined, cut, spacing in writes:
        p = pieces[k]
        if cut is None:
            setattr(p.node, p.attr, joined)
            continue
        span = etree.Element("span", {"style": f"word-spacing: {spacing}"})
        span.text = joined[cut:]
        setattr(p.node, p.attr, joined[:cut])
        if p.attr == "text":
            p.node.insert(0, span)
        else:
            parent = p.node.getparent()
            parent.insert(parent.index(p.node) + 1, span)


def _breaks(par, style: tuple, measure: float, indent: float, hyphenator, capitalized: bool,
            unhyphenated: frozenset, common: frozenset, looseness: int, mono: tuple | None):
    """plan_paragraph's work, the paragraph untouched: None (no words, or no looseness it can
    take), or (lines, the writes for _write, the paragraph's word-spacing, what the looseness
    cost or None); Unplannable."""
    size, faces = style[0], style[5]
    shrink = round(width(" ", size, faces=faces) * SHRINK, 3)
    pieces = _pieces(par, style, mono)
    looser_cost = None
    chars: list[tuple[int, int]] = []          # (piece index, offset) for every character
    text = []
    for k, p in enumerate(pieces):
        s = _text_of(p)
        if SHY in s:
            raise Unplannable("a soft hyphen")
        for j, ch in enumerate(s):
            chars.append((k, j))
            # a cross-reference's spaces are not breaks (white-space: nowrap): part of its word
            text.append(NBSP if p.nowrap and ch in " \t\n\r\f" else ch)
    full = "".join(text)
    if not full.strip(" \t\n\r\f"):
        return None
    items, where = [], []       # where[i]: (kind, char index) for glue and penalties
    addresses = []              # (start, end) in `full` of each address typed as words
    for m in re.finditer(r"[^ \t\n\r\f\u2028]+|[ \t\n\r\f]+|\u2028", full):      # a no-break space is part of a word
        if m.group() == BREAK:
            while items and isinstance(items[-1], Glue):        # a space before the break ends no line
                items.pop()
                where.pop()
            if not items or not isinstance(items[-1], Box):
                raise Unplannable("a line break with no words before it")
            items.append(Glue(0.0, 1e6))        # the line before it is not justified
            where.append(("break", m.start(), m.start()))
            items.append(Penalty(0.0, -10_000))
            where.append(("break", m.start(), m.start()))
            continue
        if not m.group().strip(" \t\n\r\f"):
            before, after = full[m.start() - 1] if m.start() else "", full[m.end():m.end() + 1]
            # Pango (UAX #14, LB15) does not break a closing quotation mark from an opening
            # bracket after it: no break planned there either.
            glued = before in QUOTES and after in OPENERS
            if items and isinstance(items[-1], Box) and glued:
                st = pieces[chars[m.start()][0]].style
                w = _space(full, m.start(), st)
                items.append(Penalty(0.0, 10_000))
                where.append(("none", m.start(), m.start()))
                items.append(Glue(w, w * STRETCH, shrink))  # after a penalty: not a break
                where.append(("space", m.start(), m.end()))
                continue
            if items and isinstance(items[-1], Box):
                st = pieces[chars[m.start()][0]].style
                w = _space(full, m.start(), st)
                items.append(Glue(w, w * STRETCH, shrink))
                where.append(("space", m.start(), m.end()))
            continue
        word, base = m.group(), m.start()
        address = ADDRESS.search(word)
        if address:
            addresses.append((base + address.start(), base + address.end()))
        points = [] if address else _points(word, hyphenator, capitalized, common)      # an address: no hyphen
        breaks = _address_breaks(word, address) if address else set()                  # but breaks without one
        cuts = sorted({0, len(word)} | breaks | {p for p in points     # code: never hyphenated
                                         if not (pieces[chars[base + p - 1][0]].code or pieces[chars[base + p][0]].code)}
                      | {i + 1 for i, ch in enumerate(word[:-1])     # a hyphen or dash between letters (in an
                         if ch in "-\u2010\u2013\u2014/" and i > 0 and word[i - 1].isalnum() and word[i + 1].isalnum()
                         and not (address and address.start() <= i < address.end())})     # address: before it)
        # never inside a cross-reference (white-space: nowrap): "sec-tion 12" cannot be set
        cuts = [b for b in cuts if b in (0, len(word))
                or not (pieces[chars[base + b - 1][0]].nowrap or pieces[chars[base + b][0]].nowrap)]
        for a, b in zip(cuts, cuts[1:]):
            w = 0.0
            run_start = a
            for i in range(a, b + 1):     # sum widths by style runs
                if i == b or pieces[chars[base + i][0]].style != pieces[chars[base + run_start][0]].style:
                    st = pieces[chars[base + run_start][0]].style
                    w += _run_width(word[run_start:i], st)
                    run_start = i
            items.append(Box(w))
            if b < len(word):
                st = pieces[chars[base + b][0]].style
                if b in breaks:                 # inside an address: a break with no hyphen (a zero-width space)
                    items.append(Penalty(0.0, ADDRESS_BREAK, False))
                    where.append(("address", base + b, base + b))
                elif word[b - 1] in "-\u2010\u2013\u2014/":
                    items.append(Penalty(0.0, HYPHEN_PENALTY if word[b - 1] in "-\u2010" else 0,
                                         word[b - 1] in "-\u2010"))
                    where.append(("hard", base + b, base + b))
                else:
                    cost = hyphen_penalty(sum(ch.isalpha() for ch in word[:b]), sum(ch.isalpha() for ch in word[b:]))
                    items.append(Penalty(width("-", *st), cost, True))
                    where.append(("soft", base + b, base + b))
    while items and not isinstance(items[-1], Box):
        items.pop()
        where.pop()
    if not items:
        return None
    # A note's piece whose paragraph goes on in the next piece (longnotes: fn-cut-line) has its
    # last line justified: it is planned as any other line, not as a paragraph's last.
    justified_last = "fn-cut-line" in (par.get("class") or "").split()
    items.append(Glue(0.0, 0.0 if justified_last else 1e6))
    where.append(("end", len(full), len(full)))
    items.append(Penalty(0.0, -10_000))
    where.append(("end", len(full), len(full)))
    usable = measure - SAFETY
    widths = lambda line: usable - (indent if line == 0 else 0.0)
    # TeX's first pass (\pretolerance): a paragraph that sets without hyphenating a word, no
    # line's spaces over 1.5x their width, is set so; only the others are broken with hyphenation
    # points (a hyphen that spared a line nothing a reader would see is not made).
    glue_or_pen = [j for j, it in enumerate(items) if not isinstance(it, Box)]     # `where` is theirs, in order
    soft = {j for j, (kind, _, _) in zip(glue_or_pen, where) if kind in ("soft", "address")}   # and no address broken
    unbroken = [Penalty(it.width, 10_000, True) if j in soft else it for j, it in enumerate(items)]
    # An address is broken only in the emergency pass: a looser line is better than an address
    # cut in two (press@example.org was cut before its @ to spare a line at 1.5x).
    inside = {j for j, (kind, _, _) in zip(glue_or_pen, where) if kind == "address"}
    whole = [Penalty(it.width, 10_000, it.flagged) if j in inside else it for j, it in enumerate(items)] \
        if inside else items
    forced = [j for j, (kind, _, _) in zip(glue_or_pen, where) if kind == "break" and isinstance(items[j], Penalty)]
    if forced:
        if looseness:           # a paragraph in runs of lines: not set a line longer or shorter
            return None
        plan = _plan_runs(items, unbroken, forced, usable, indent, unhyphenated, justified_last, whole)
    elif looseness:             # within the tolerance, no emergency pass (LOOSE_TOLERANCE)
        plan = (knuth_plass(unbroken, widths, PRETOLERANCE, unhyphenated, SAFETY, justified_last, looseness)
                if PRETOLERANCE else None) \
            or knuth_plass(whole, widths, LOOSE_TOLERANCE, unhyphenated, SAFETY, justified_last, looseness)
        if plan is not None:
            base = (knuth_plass(unbroken, widths, PRETOLERANCE, unhyphenated, SAFETY, justified_last)
                    if PRETOLERANCE else None) \
                or knuth_plass(whole, widths, LOOSE_TOLERANCE, unhyphenated, SAFETY, justified_last)
            loose = lambda ratios: sum(r > 1.0 for r in ratios[:-1])      # lines past 1.5x (STRETCH)
            looser_cost = (plan.demerits - (base.demerits if base else 0.0),
                           loose(plan.ratios) - (loose(base.ratios) if base else 0))
    else:
        plan = (knuth_plass(unbroken, widths, PRETOLERANCE, unhyphenated, SAFETY, justified_last)
                if PRETOLERANCE else None) \
            or knuth_plass(whole, widths, TOLERANCE, unhyphenated, SAFETY, justified_last) \
            or knuth_plass(items, widths, EMERGENCY, unhyphenated, SAFETY, justified_last)
    if plan is None:
        if looseness:           # the caller breaks it as ever
            return None
        raise Unplannable("a word or formula no set of breaks fits, even with the emergency stretch")
    chosen = set(plan.breaks)
    # the edit, per character: index -> replacement
    edit: dict[int, str] = {}
    for j, (kind, a, b) in zip(glue_or_pen, where):
        if kind == "space" and j not in chosen:
            edit[a] = NBSP
            for c in range(a + 1, b):
                edit[c] = ""
        elif kind == "soft" and j in chosen:
            edit[a] = SHY + full[a]
        elif kind == "hard" and j not in chosen:
            edit[a] = WJ + full[a]
        elif kind == "address" and j in chosen:     # each line of it isolated on its own (below)
            edit[a] = PDI + ZWSP + LRI + full[a]
    # Pango breaks inside an address where UAX #14 lets it (after a slash, a question mark...),
    # places the plan did not choose: a word joiner after each such mark holds it.
    broken = {a for j, (kind, a, _) in zip(glue_or_pen, where) if kind == "address" and j in chosen}
    for start, end in addresses:
        for c in range(start, end - 1):
            if not full[c].isalnum() and c + 1 not in broken:
                edit[c] = edit.get(c, full[c]) + WJ
        # isolated left to right: in a right-to-left paragraph the dot or slash a line of it opens
        # with stays at its left (it went to the line's far end: review rev15c); WeasyPrint sets
        # each line's text on its own, so a break taken closes the isolate and opens another
        edit[start] = LRI + edit.get(start, full[start])
        edit[end - 1] = edit.get(end - 1, full[end - 1]) + PDI
    # Pango breaks before an em dash too (UAX #14 class B2), an opportunity the plan never takes:
    # without a word joiner before it WeasyPrint filled a line up to it, the rest of the
    # paragraph then set off its plan in the same number of lines (unseen by verify()), the line
    # the dash began at its loosest (Mutual Aid: 12 lines over 1.5x, 6 over 2x, each begun by a dash).
    # The joiner goes after the character before the dash (in its text, not in a span the dash
    # may open: a long dash's letter-spacing would pull it in), and none inside a run of dashes
    # (no break there: B2 × B2).
    for d, ch in enumerate(full):
        if ch in B2 and d and not full[d - 1].isspace() and full[d - 1] not in B2 and full[d - 1] != OBJECT \
                and d not in edit:
            edit[d - 1] = edit.get(d - 1, full[d - 1]) + WJ
    # WeasyPrint may break on either side of an inline image (it reads as an ideograph); the plan
    # keeps a formula with the letters or dash it touches ("$n$th", "$x$—"): word joiners there.
    for d, ch in enumerate(full):
        if ch != OBJECT:
            continue
        if d and full[d - 1] not in " \t\n\r\f" and full[d - 1] != OBJECT:
            edit[d - 1] = edit.get(d - 1, full[d - 1]) + WJ
        if d + 1 < len(full) and full[d + 1] not in " \t\n\r\f" and full[d + 1] != OBJECT:
            edit[d + 1] = WJ + edit.get(d + 1, full[d + 1])
    strings = [list(_text_of(p)) for p in pieces]
    for c, new in edit.items():
        k, off = chars[c]
        strings[k][off] = new
    # The last line, and a line a break ends, is not justified: its text keeps the face's own
    # spaces (word-spacing: normal), or has them narrowed by as much as it takes to fit (a
    # negative ratio). unjustified: ((piece, offset) the line starts at, the piece it ends
    # before, its word-spacing).
    spacing = lambda ratio: "normal" if ratio >= 0 else f"-{math.ceil(-ratio * shrink * 1000) / 1000:g}pt"
    breaks_at = [where[glue_or_pen.index(j)] for j in plan.breaks]
    unjustified = []
    for i, (kind, at, _) in enumerate(breaks_at):
        if kind == "break" or i == len(breaks_at) - 1:
            start = chars[breaks_at[i - 1][1]] if i else (0, 0)
            unjustified.append((start, chars[at][0] if kind == "break" else len(pieces), spacing(plan.ratios[i])))
    writes = []
    for k, (p, s) in enumerate(zip(pieces, strings)):
        if p.attr in ("object", "break") or getattr(p.node, p.attr) is None:
            continue
        joined = "".join(s)
        line = next(((start, ws) for start, end, ws in unjustified if start[0] <= k < end), None)
        cut = None if line is None else 0 if k > line[0][0] else len("".join(s[:line[0][1]]))
        if cut is None or not joined[cut:].strip(" \t\n\r\f"):
            writes.append((k, joined, None, None))
        else:
            writes.append((k, joined, cut, line[1]))
    return len(plan.breaks), writes, f"word-spacing: -{shrink}pt", looser_cost


def _plan_runs(items: list, unbroken: list, forced: list[int], usable: float, indent: float,
               unhyphenated: frozenset, justified_last: bool, whole: list | None = None) -> Plan | None:
    """The breaks of a paragraph with line breaks (`forced`: the items they are): each run of
    lines up to one broken on its own (TeX's passes, as a paragraph is), the first run's first
    line indented; None when a run has no breaks that fit."""
    out = Plan([], [], 0.0)
    for a, e in zip([0] + [f + 1 for f in forced], forced + [len(items) - 1]):
        first = not out.breaks
        widths = lambda line, first=first: usable - (indent if line == 0 and first else 0.0)
        lines = len(out.breaks)
        banned = frozenset(n - lines for n in unhyphenated if n >= lines)
        last = justified_last and e == len(items) - 1
        plan = (knuth_plass(unbroken[a:e + 1], widths, PRETOLERANCE, banned, SAFETY, last) if PRETOLERANCE else None) \
            or knuth_plass((whole or items)[a:e + 1], widths, TOLERANCE, banned, SAFETY, last) \
            or knuth_plass(items[a:e + 1], widths, EMERGENCY, banned, SAFETY, last)
        if plan is None:
            return None
        out.breaks += [a + b for b in plan.breaks]
        out.ratios += plan.ratios
        out.demerits += plan.demerits
    return out


NAME = re.compile(r"(?<![^\W\d_])([A-Z][^\W\d_]{5,})")
# An address typed as text (not a link: pandoc leaves a bare URL as words): never hyphenated, a
# hyphen in it would change it (it breaks, if it must, after a slash, as any word with one does).
ADDRESS = re.compile(r"(?i:(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
                     r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|int|info|io|[a-z]{2})/[^\s<>\"]*)")
LRI, PDI = "\u2066", "\u2069"     # an address is set left to right, whatever the paragraph's direction
ADDRESS_BREAK = 1500        # a break inside an address (no hyphen: the Chicago Manual's places): a last resort
                            # (a short one, press@example.org, was broken before its @ to spare a loose line)
_ADDRESS_BEFORE = "./?#%~_-@=&"


def _address_breaks(word: str, address) -> set[int]:
    """Where an address in `word` may break, as the Chicago Manual has it (6.17): after `//` or
    a colon, before a single slash, a dot, ?, #, %, ~, _, -, @, = or &; never inside its scheme
    (https:) nor at its ends, never with a hyphen. The plan writes a zero-width space at a break
    it takes and a word joiner after every other mark, so WeasyPrint breaks where planned."""
    out = set()
    start, end = address.start(), address.end()
    scheme = word.find("://", start, end)
    first = scheme + 3 if scheme >= 0 else start + 1
    for i in range(max(first, start + 1), end - 1):
        ch, before = word[i], word[i - 1]
        if before == "/" and word[i - 2:i] == "//" or before == ":":
            out.add(i)
        elif ch in _ADDRESS_BEFORE + "/" and before not in _ADDRESS_BEFORE + "/:" and word[i + 1:i + 2] not in ("/", ""):
            out.add(i)
    return out


_GUARDED = re.compile(rf"({ADDRESS.pattern}|(?<![^\W\d_])[A-Z][^\W\d_]{{5,}})")
_ADDRESSES = re.compile(rf"({ADDRESS.pattern})")


def _guard_capitals(par, hyphenator, common: frozenset = frozenset(), pieces=None, names: bool = True) -> None:
    """Greedy setting: capitalised words (names: not in `common`) and addresses wrapped in
    `hyphens: manual` (WeasyPrint does not hyphenate them), as total-fit breaking keeps them
    whole (_points); with `names` False (the book hyphenates names) addresses only.
    `pieces`: the text runs to guard (the paragraph's, `_pieces_loose`, unless given)."""
    from lxml import etree
    pattern = _GUARDED if names else _ADDRESSES
    guarded = lambda piece: bool(pattern.fullmatch(piece)) and (ADDRESS.fullmatch(piece) is not None
                                                                 or (NAME.fullmatch(piece) is not None
                                                                     and piece not in common))
    for p in (_pieces_loose(par) if pieces is None else pieces):
        s = getattr(p.node, p.attr)
        if not s or not any(guarded(m.group()) for m in pattern.finditer(s)):
            continue
        parts = [""]
        for piece in pattern.split(s):
            if piece and guarded(piece):
                parts += [piece, ""]
            else:
                parts[-1] += piece
        for j in range(1, len(parts), 2):
            if parts[j - 1] and not parts[j - 1].strip():
                # a run of spaces alone before a span (between two names, "Alexandrovich
                # Shlyapnikov", or after an element, "<em>see</em> Granary") is not written in
                # the PDF's text: the span takes it
                parts[j], parts[j - 1] = parts[j - 1] + parts[j], ""
        setattr(p.node, p.attr, parts[0])
        parent, index = (p.node, 0) if p.attr == "text" else (p.node.getparent(), p.node.getparent().index(p.node) + 1)
        last = None
        for j in range(1, len(parts), 2):
            # an address too long for its line breaks anywhere rather than run off the page
            address = ADDRESS.fullmatch(parts[j].strip()) is not None
            style = "hyphens: manual" + ("; overflow-wrap: anywhere" if address else "")
            span = etree.Element("span", {"class": "nohyphen", "style": style})
            # an address isolated left to right by its characters (WeasyPrint has no unicode-bidi: isolate)
            span.text = LRI + parts[j] + PDI if address else parts[j]
            span.tail = parts[j + 1]
            parent.insert(index, span)
            index += 1
            last = span
        del last


def _pieces_loose(par):
    """Every text run of the paragraph outside its notes (they are paragraphs of their own) and links."""
    out = [_Piece(par, "text", None)]

    def walk(el):
        for child in el:
            if isinstance(child.tag, str) and "footnote" not in (child.get("class") or "").split() \
                    and child.tag != "a" and "nohyphen" not in (child.get("class") or "").split():
                out.append(_Piece(child, "text", None))
                walk(child)
            out.append(_Piece(child, "tail", None))

    walk(par)
    return out


COMMON_CAPITALS = "data-hyphenate-capitals"     # html/render.py common_capitals


def common_capitals(par) -> frozenset:
    """The capitalised words of a paragraph that are not names (html/render.py common_capitals
    lists them on the paragraph, its list item, or the paragraph a note stands in)."""
    return frozenset(w for el in (par, *par.iterancestors()) for w in (el.get(COMMON_CAPITALS) or "").split())


def _paragraphs(root, body: float = BODY_SIZE):
    """(element, size, indent?, inset) for each justified paragraph of the body and of the notes;
    inset: how much narrower than the text block it is set (a list item: the lists' padding).
    `body`: the running text's size (the notes' is styles/book.css's, whatever the body's)."""
    for par in root.iter("p", "li"):
        if par.get("class"):
            continue
        ancestors = list(par.iterancestors())
        anc = {a.tag for a in ancestors} | {c for a in ancestors for c in (a.get("class") or "").split()}
        if "main" not in anc or anc & {"figure", "table", "td", "th", "plate", "nav", "footnote"}:
            continue
        quotes = sum(a.tag == "blockquote" for a in ancestors)
        if quotes:
            # A block quote's paragraphs (one level, not in a list): smaller type, a narrower measure.
            if quotes > 1 or par.tag != "p" or any(a.tag in ("ul", "ol", "li") for a in ancestors) \
                    or par.getparent().tag != "blockquote" or par.getparent().get("class"):
                continue
            prev = par.getprevious()
            yield par, QUOTE_SIZE, prev is not None and prev.tag == "p", QUOTE_INSET * QUOTE_SIZE
            continue
        lists = sum(a.tag in ("ul", "ol") for a in ancestors) + (par.tag == "li")
        if par.tag == "li" and (len(par) and any(isinstance(c.tag, str) and c.tag in ("p", "ul", "ol", "div")
                                                 for c in par)):
            continue        # a loose list item: its paragraphs are planned, each on its own
        if lists and any(a.get("class") for a in ancestors if a.tag in ("ul", "ol", "li")):
            continue        # a list with a class of its own (contents, index): its own measure
        if par.tag == "li":
            yield par, body, False, LIST_INSET * body * lists
            continue
        prev = par.getprevious()
        prev_classes = (prev.get("class") or "").split() if prev is not None else []
        indented = prev is not None and prev.tag not in NOT_INDENTED and "opening-author" not in prev_classes
        yield par, body, indented and not lists, LIST_INSET * body * lists
    for span in root.iter("span"):
        classes = (span.get("class") or "").split()
        if "fn-p" in classes:
            parent = span.getparent()
            if parent is not None and "fn-stacked" in (parent.get("class") or "").split():
                parent = parent.getparent()     # a table row set stacked (longnotes._stack): its cells
                if parent is not None and "footnote" in (parent.get("class") or "").split():
                    yield span, NOTE_SIZE, False, 0.0
                continue
            if parent is None or "footnote" not in (parent.get("class") or "").split():
                continue
            prev = span.getprevious()
            indented = prev is not None and "fn-p" in (prev.get("class") or "").split()
            yield span, NOTE_SIZE, indented, 0.0


def measured_in(root) -> tuple[float, tuple]:
    """The running text's size and the face's files, as html/render.py wrote them on the
    document (data-measure-size, data-measure-faces); the house's where it wrote none."""
    import json
    size, faces = root.get("data-measure-size"), root.get("data-measure-faces")
    try:
        size = float(size) if size else BODY_SIZE
        faces = tuple(str(path) for path in json.loads(faces)) if faces else HOUSE_FACES
    except (ValueError, TypeError):
        raise ValueError("imprint-linebreak: data-measure-size/-faces unreadable") from None
    if len(faces) != 4 or not size > 0:
        raise ValueError("imprint-linebreak: data-measure-faces must name four files")
    return size, faces


def _mono_in(root) -> tuple | None:
    """The book's monospace files, as html/render.py wrote them (data-measure-mono), or None
    (imprint's default monospace face: _mono_faces)."""
    import json
    mono = root.get("data-measure-mono")
    try:
        files = tuple(str(path) for path in json.loads(mono)) if mono else None
    except (ValueError, TypeError):
        raise ValueError("imprint-linebreak: data-measure-mono unreadable") from None
    if files is not None and len(files) != 4:
        raise ValueError("imprint-linebreak: data-measure-mono must name four files")
    return files


def measure_from_css(page_css: str) -> float | None:
    """The text block's width in points, read off the edition's page CSS (html/render.py page_css)."""
    size = re.search(r"@page\s*\{\s*size:\s*([\d.]+)pt\s+([\d.]+)pt", page_css)
    margin = re.search(r"@page\s*:right\s*\{\s*margin:\s*([\d.]+)pt\s+([\d.]+)pt\s+([\d.]+)pt\s+([\d.]+)pt", page_css)
    if not size or not margin:
        return None
    return float(size.group(1)) - float(margin.group(2)) - float(margin.group(4))


def plan(html: str, page_css: str, skip: frozenset = frozenset(), unhyphenated: dict | None = None,
         misses: "Misses | None" = None, looser: dict | None = None, costs: dict | None = None,
         unplanned: list | None = None) -> tuple[str, dict]:
    """The paged HTML with its paragraphs broken whole; {key: (planned line count, first words)}.
    `unplanned`, when given, receives (what, first words) for every paragraph left to WeasyPrint
    because of what it holds (highlighted code, an element with a style of its own: L227).

    Keys (data-kp) number the planned paragraphs in document order; `skip` holds keys to
    leave to WeasyPrint (they did not break as planned); `unhyphenated` maps a key to the line
    numbers of that paragraph that may not end in a hyphen. `misses` (see Misses) also leaves
    to WeasyPrint the paragraphs that missed their plan in an earlier layout of the same job.
    `looser` maps a key to a looseness (+1, -1: `even_spreads`); a paragraph that cannot take it
    is broken as ever; `costs`, when given, receives key -> what the looseness cost (plan_paragraph)."""
    head = html[:600]
    if "data-line-breaking=" not in head:
        return html, {}
    total_fit = 'data-line-breaking="total-fit"' in head
    capitalized = 'data-hyphenate-capitalized="true"' in head
    measure = measure_from_css(page_css)
    if measure is None:
        return html, {}
    import lxml.html
    root = lxml.html.document_fromstring(html)
    lang = root.get("lang") or "en"
    hyphenator = _hyphenator(lang)
    body, faces = measured_in(root)
    mono = _mono_in(root)
    planned = {}
    if misses is not None:
        misses.begin()
    done = set()             # the paragraphs planned or guarded here; _guard_rest sees to the rest
    for key, (par, size, indented, inset) in enumerate(list(_paragraphs(root, body)), start=1):
        done.add(par)
        known = misses is not None and misses.known(str(key), par, size, measure - inset, indented)
        if misses is not None and misses.looser.get(misses.keys.get(str(key))) and str(key) not in (looser or {}):
            looser = {**(looser or {}), str(key): misses.looser[misses.keys[str(key)]]}
        common = common_capitals(par)
        if not total_fit or str(key) in skip or known:
            _guard_capitals(par, hyphenator, common, names=not capitalized)
            continue
        # A note's number keeps a space after it (a padding, not a character): its first line is shorter.
        numbered = len(par) and "note-number" in (par[0].get("class") or "").split() and not (par.text or "").strip()
        indent = ((NOTE_INDENT if par.tag == "span" else INDENT) * size if indented else 0.0) \
            + (NUMBER_PAD * size if numbered else 0.0)
        lang_of = next((a.get("lang") for a in (par, *par.iterancestors()) if _script(a.get("lang"))), None)
        try:
            lines = None
            if (looser or {}).get(str(key)):
                cost: list = []
                lines = plan_paragraph(par, size, measure - inset, indent, hyphenator, capitalized,
                                       frozenset((unhyphenated or {}).get(str(key), ())),
                                       _lang_faces(lang_of, faces), common, looser[str(key)], cost, mono)
                if cost and costs is not None:
                    costs[str(key)] = cost[0]
            if lines is None:
                lines = plan_paragraph(par, size, measure - inset, indent, hyphenator, capitalized,
                                       frozenset((unhyphenated or {}).get(str(key), ())),
                                       _lang_faces(lang_of, faces), common, 0, None, mono)
        except Unplannable as why:
            lines = None
            if unplanned is not None:
                unplanned.append((str(why), " ".join(par.text_content().replace(NBSP, " ").split()[:6])))
        if lines is None:
            _guard_capitals(par, hyphenator, common, names=not capitalized)
            continue
        par.set("data-kp", str(key))
        par.set("style", ((par.get("style") or "") + "; hyphens: manual").lstrip("; "))
        for note in par.iter("span"):
            if "footnote" in (note.get("class") or "").split():
                note.set("style", "word-spacing: normal")
        planned[str(key)] = (lines, " ".join(par.text_content().replace(NBSP, " ").split()[:6]))
    _guard_rest(root, hyphenator, done, names=not capitalized)
    return _serialised(root), planned


BLOCKS = {"p", "li", "td", "th", "caption", "figcaption", "dd", "dt", "blockquote", "div", "section",
          "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "ul", "ol", "dl", "figure", "aside", "nav"}


def _guard_rest(root, hyphenator, done: set, names: bool = True) -> None:
    """Names kept whole in the text WeasyPrint sets on its own, which no paragraph above planned
    or guarded: table cells, captions, a note's quotations and lists, nested lists. A text run
    is the paragraph's when, going up from it, a paragraph in `done` comes before any note
    (a note in a paragraph is text of its own) or block; runs in links stay as they are (as in
    `_pieces_loose`). The capitalised words some paragraph lists as common (not names) are
    common here too."""
    body = root.find("body")
    if body is None or hyphenator is None:
        return
    pattern = _GUARDED if names else _ADDRESSES
    common = frozenset(w for el in body.iter() if isinstance(el.tag, str) for w in (el.get(COMMON_CAPITALS) or "").split())

    def covered(owner) -> bool:
        el = owner
        while el is not None:
            if el in done or el.tag == "a" or "nohyphen" in (el.get("class") or "").split():
                return True
            classes = (el.get("class") or "").split()
            if "footnote" in classes or el.tag in BLOCKS or any(c.startswith("fn-") for c in classes):
                # a block of its own: covered only when it is itself a paragraph done
                return el in done
            el = el.getparent()
        return False

    pieces = []
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        if el.text and pattern.search(el.text) and not covered(el):
            pieces.append(_Piece(el, "text", None))
        parent = el.getparent()
        if el.tail and parent is not None and pattern.search(el.tail) and not covered(parent):
            pieces.append(_Piece(el, "tail", None))
    if pieces:
        _guard_capitals(None, hyphenator, common, pieces, names)


class Misses:
    """The paragraphs of one job that did not break as planned in a layout (by their text,
    size and measure): a later layout of the job (imprint/typeset/longnotes.py lays a job
    out several times) leaves them to WeasyPrint from the start, instead of laying the pages
    out a second time to learn it again. Each `plan` also notes which paragraphs it left so
    (`skipped`: their first words), to be reported as missed as before."""

    def __init__(self):
        self.texts: set = set()
        self.keys: dict[str, tuple] = {}        # data-kp of the last plan -> text key
        self.skipped: list[str] = []
        self.looser: dict[tuple, int] = {}      # text key -> looseness (`even_spreads`): set so from the start

    def begin(self) -> None:
        self.keys, self.skipped = {}, []

    def known(self, key: str, par, size, measure, indented) -> bool:
        text = (" ".join(par.text_content().split()), size, round(measure, 2), indented)
        self.keys[key] = text
        if text in self.texts:
            self.skipped.append(" ".join(par.text_content().replace(NBSP, " ").split()[:6]))
            return True
        return False

    def add(self, keys) -> None:
        self.texts.update(self.keys[k] for k in keys if k in self.keys)

    def loosen(self, looser: dict) -> None:
        """Paragraphs (data-kp of the last plan -> looseness) that evened a spread: a later
        layout of the job sets them so from the start, without laying the pages out twice."""
        self.looser.update((self.keys[k], d) for k, d in looser.items() if k in self.keys)


def _serialised(root) -> str:
    """The document as HTML, its links as written: libxml2's HTML output percent-escapes
    non-ASCII characters in href and src (`#deuxième` -> `#deuxi%C3%A8me`), and then a link no
    longer names its target's id. Such values go out as placeholders and come back as they were."""
    import html as htmllib
    import lxml.html

    kept = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("href", "src"):
            value = el.get(attr)
            if value and not value.isascii():
                token = f"imprint-url-{len(kept)}"
                kept[token] = value
                el.set(attr, token)
    text = lxml.html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode")
    for token, value in kept.items():
        text = text.replace(f'"{token}"', '"' + htmllib.escape(value, quote=True) + '"')
    return text


def verify(document, planned: dict) -> list[str]:
    """Keys of planned paragraphs whose laid-out line count differs from the plan."""
    from imprint.typeset.fence.lines import lines_by_attribute
    laid = lines_by_attribute(document, "data-kp")
    return sorted((k for k, (n, _) in planned.items() if laid.get(k, n) != n), key=int)


# --- spreads whose lines come out odd ----------------------------------------------------

# A spread left a line apart by fence/spreads.py (a widow or an orphan kept on one page, the other
# unable to lose or gain a line without one of its own: the spread's lines come out odd) is
# evened as a typesetter does, by setting a paragraph on it a line shorter or longer (TeX's
# \looseness), the one of the spread's paragraphs that costs the least demerits so, none of its
# lines' spaces past twice their width (LOOSE_TOLERANCE: the limit L215 reports), and laying the
# part out again (engine.render, at most SPREAD_ROUNDS times, a round's choice kept only when it
# leaves fewer spreads uneven; a later layout of the job sets the paragraph so from the start:
# Misses.looser). Measured: WoN pp. 10 and 26 and Mutual Aid p. 18, each evened by one paragraph
# a line longer (its loosest line's spaces 1.8-2.0x their width); a line shorter, where a paragraph
# can take it, costs less and is preferred.
LOOSE_TOLERANCE = 2.0
SPREAD_ROUNDS = 2


def _spread_paragraphs(document, uneven: dict, planned: dict) -> list[list[str]]:
    """For each spread left uneven (recto index -> px apart), the keys of the planned paragraphs
    with a line on its verso or recto, in reading order."""
    from imprint.typeset import fence
    boxes = fence.boxes()
    out = []
    for recto in sorted(uneven):
        keys: list[str] = []

        def walk(box, key):
            element = getattr(box, "element", None)
            if isinstance(box, boxes.BlockContainerBox) and element is not None and element.get("data-kp"):
                key = element.get("data-kp")
            if isinstance(box, boxes.LineBox):
                if key is not None and key in planned and key not in keys:
                    keys.append(key)
                return
            for child in getattr(box, "children", ()):
                walk(child, key)

        for index in (recto - 1, recto):
            if 0 <= index < len(document.pages):
                walk(fence.page_box(document.pages[index]), None)
        out.append(keys)
    return out


def even_spreads(document, planned: dict, uneven: dict, replan, tried: set, accepted=()) -> tuple | None:
    """(HTML, planned, {key: looseness}) with one paragraph of each spread left uneven set a line
    shorter or longer, or None when no paragraph on any of them can be. `replan(looser, costs)`
    is linebreak.plan with the job's other arguments. Of the paragraphs with a line on the
    spread, the one whose line more or fewer costs the least demerits and was not `tried` before
    (updated) and is not already set looser or tighter (`accepted`: the job's choices so far);
    two plans find the costs, a third sets the chosen (a fourth when one of them could not
    take its line: the HTML laid out is always the one whose choices are returned)."""
    spreads = [keys for keys in _spread_paragraphs(document, uneven, planned) if keys]
    keys = {k for ks in spreads for k in ks}
    costs: dict[int, dict] = {}
    for d in (-1, 1):
        costs[d] = {}
        replan({k: d for k in keys}, costs[d])
    looser: dict[str, int] = {}
    for ks in spreads:
        # the fewest lines added past 1.5x first (issue 19 counts them), then the least demerits
        options = [(costs[d][k][1], costs[d][k][0], k, d) for k in ks for d in (-1, 1)
                   if k in costs[d] and k not in looser and k not in accepted and (k, d) not in tried]
        if options:
            _, _, k, d = min(options)
            looser[k] = d
    if not looser:
        return None
    tried.update(looser.items())
    html, again = replan(looser, None)
    kept = {k: d for k, d in looser.items() if k in again and k in planned and again[k][0] == planned[k][0] + d}
    if kept != looser and kept:
        html, again = replan(kept, None)
    return (html, again, kept) if kept else None


def recto_feet(document, planned: dict) -> dict[str, set[int]]:
    """Planned paragraphs whose line at the foot of a recto ends in a hyphen: key -> {line numbers}."""
    from imprint.typeset.fence.lines import hyphenated_recto_feet
    return {k: v for k, v in hyphenated_recto_feet(document, "data-kp").items() if k in planned}
