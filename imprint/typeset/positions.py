"""WeasyPrint Document -> where things fell: the page of every anchor (element id)."""

from __future__ import annotations

from imprint.typeset import fence


def anchor_pages(document) -> dict[str, int]:
    """Element id -> 1-based page number, for every element with an id on a laid-out page."""
    where: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for name in page.anchors:
            where.setdefault(name, number)
    return where


def is_blank(page) -> bool:
    """True when nothing is drawn on the page: no text, no image, no running head or folio."""
    boxes = fence.boxes()

    def walk(box):
        if isinstance(box, (boxes.TextBox, boxes.ReplacedBox)):
            return True
        return any(walk(child) for child in getattr(box, "children", ()))

    return not walk(fence.page_box(page))


# --- Notes on the laid-out pages -------------------------------------------------------
# Read off WeasyPrint's box tree (fence.page_box(Document.pages[i])): the footnote area of each
# page, the note boxes in it and the main-flow lines above it. Lengths are in points from
# the top of the page. A note may be set in several pieces (see imprint/typeset/longnotes.py); each
# piece carries data-note (the note's number) and data-piece (0 for the note's start).

from dataclasses import dataclass, replace
from urllib.parse import unquote

PX = 0.75          # WeasyPrint lays out in CSS px; 1 px = 0.75 pt


@dataclass(frozen=True)
class NoteOnPage:
    number: int
    piece: int         # 0: the start of the note (with its number); 1, 2...: continuations
    top: float
    bottom: float
    text: str          # the text drawn, generated markers left out
    pointer: bool = False   # a pointer to the note, which moved on (longnotes.point)


@dataclass(frozen=True)
class PageNotes:
    page: int                              # 1-based
    calls: tuple[int, ...]                 # numbers of the notes called on this page, in order
    notes: tuple[NoteOnPage, ...]          # the note boxes in this page's footnote area, in order
    content_top: float
    content_bottom: float
    area_top: float | None                 # the footnote area (rule included), when there is one
    notes_bottom: float | None             # the lowest line drawn in the footnote area
    text_bottom: float | None              # the lowest line of the main text


def note_number(element) -> int | None:
    """The note a footnote box belongs to, from its data-note or its id (fnN)."""
    if element is None:
        return None
    value = element.get("data-note")
    if value is None:
        ident = element.get("id") or ""
        value = ident[2:] if ident.startswith("fn") and ident[2:].isdigit() else None
    return int(value) if value is not None and str(value).isdigit() else None


def box_text(box) -> str:
    """The text a box draws, generated text (markers) and the header rows a cut note's table
    repeats on its next piece (class `fn-repeat`, imprint/typeset/longnotes.py) left out, with
    all they hold (the line breaker may wrap a repeat's words in a span of their own)."""
    boxes = fence.boxes()
    out = []
    stack = [box]
    while stack:
        b = stack.pop()
        if b.element is not None and "fn-repeat" in (b.element.get("class") or "") and "::" not in (b.element_tag or ""):
            continue
        if isinstance(b, boxes.TextBox):
            if "::" not in (b.element_tag or ""):
                out.append(b.text)
        elif isinstance(b, boxes.ParentBox):
            stack.extend(reversed(b.children))
    return "".join(out)


def _bottom(box) -> float:
    return box.position_y + box.margin_height()


def _walk(box, repeated=False):
    """Every box under `box`, in order, each with whether it lies in a table's header or
    footer rows, which WeasyPrint repeats on every page of the table (calls in them are
    counted where the rows stand in the text)."""
    boxes = fence.boxes()
    stack = [(box, repeated)]
    while stack:
        current, inside = stack.pop()
        if not isinstance(current, boxes.Box):
            continue
        inside = inside or bool(getattr(current, "is_header", False) or getattr(current, "is_footer", False))
        yield current, inside
        stack.extend((child, inside) for child in reversed(getattr(current, "children", ())))


def note_pages(document) -> list[PageNotes]:
    """Where every note call and every note (or piece of one) fell, page by page."""
    boxes = fence.boxes()

    out = []
    for number, page in enumerate(document.pages, start=1):
        page_box = fence.page_box(page)
        top = page_box.content_box_y()
        bottom = top + page_box.height
        root = page_box.children[0]
        area = next((c for c in page_box.children if isinstance(c, boxes.FootnoteAreaBox)), None)
        calls, text_bottom = [], None
        for box, repeated in _walk(root):
            element = box.element
            if (not repeated and element is not None and "::" not in (box.element_tag or "")
                    and element.get("id", "").startswith("fnref") and "noteref" in (element.get("class") or "").split()):
                n = element.get("id")[5:]
                if n.isdigit() and int(n) not in calls:
                    calls.append(int(n))
            if isinstance(box, (boxes.LineBox, boxes.ReplacedBox)):
                text_bottom = max(text_bottom or 0.0, _bottom(box))
        notes, area_top, notes_bottom = [], None, None
        if area is not None and area.children:
            area_top = area.position_y
            for child in area.children:
                if not isinstance(child, boxes.Box):
                    continue
                n = note_number(child.element)
                if n is not None:
                    piece = int(child.element.get("data-piece") or 0)
                    notes.append(NoteOnPage(n, piece, child.position_y * PX, _bottom(child) * PX, box_text(child),
                                            "fn-pointer" in (child.element.get("class") or "").split()))
            # The continued-note mark hangs below a note, in the foot margin (runout.py): not a line of it.
            lines = [_bottom(b) for b in area.descendants()
                     if isinstance(b, (boxes.LineBox, boxes.ReplacedBox)) and not (b.element_tag or "").endswith("::after")]
            notes_bottom = max(lines, default=area.position_y) * PX
            area_top *= PX
        out.append(PageNotes(number, tuple(calls), tuple(notes), top * PX, bottom * PX, area_top, notes_bottom,
                             text_bottom * PX if text_bottom is not None else None))
    return out


# --- Page geometry: what is where on each laid-out page ----------------------------------
# Shared by the layout checks (imprint/checks/pages.py) and the note checks: one reading of the
# WeasyPrint box tree, in CSS px (1 px = 0.75 pt) from the top-left corner of the trimmed page.



PT_PER_PX = 0.75
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
FRONT_MATTER = ("half-title", "title-page", "copyright-page", "contents")   # classes in templates/
CONTAINERS = {"section", "nav", "div", "figure", "aside", "header"}         # where those classes sit


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle, CSS px from the page's top-left (trim) corner."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def intersection(self, other: "Rect") -> "Rect | None":
        x0, y0 = max(self.x0, other.x0), max(self.y0, other.y0)
        x1, y1 = min(self.x1, other.x1), min(self.y1, other.y1)
        return Rect(x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def union(self, other: "Rect") -> "Rect":
        return Rect(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def inside(self, other: "Rect", tolerance: float = 0.0) -> bool:
        return (self.x0 >= other.x0 - tolerance and self.y0 >= other.y0 - tolerance
                and self.x1 <= other.x1 + tolerance and self.y1 <= other.y1 + tolerance)

    def points(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in PDF points, still measured from the top-left corner."""
        return tuple(round(v * PT_PER_PX, 2) for v in (self.x0, self.y0, self.x1, self.y1))


@dataclass(frozen=True)
class Line:
    """One laid-out line of text and what a typesetter asks of it."""

    page: int                    # 1-based
    region: str                  # "text" (the main flow), "footnote" or "margin" (running heads, folios)
    rect: Rect                   # extent of its text (content areas of its text boxes)
    box: Rect                    # the line box: the line's slot in the flow, leading included
    measure: Rect                # content box of the block that holds it
    text: str
    block: int                   # same value for every line of one block, across pages
    tag: str                     # the block's element ("p", "h2", "li", "span"...)
    heading: int = 0             # 1-6 when the block is a heading (1: a chapter's title)
    front: bool = False          # inside the front matter (half-title, title page, copyright, contents)
    in_table: bool = False       # inside a table (header rows repeat on every page the table spans)
    slot: str = ""               # margin box name for running heads and folios ("@top-right")
    auto_hyphen: bool = False    # ends in the hyphen the typesetter added (automatic or soft hyphen)
    hard_hyphen: bool = False    # ends in a hyphen written in the text
    word_space: float = 0.0      # the stretched word space of a justified line, px (0 when not stretched)
    natural_space: float = 0.0   # the font's own word space for that line, px
    toc_target: str = ""         # contents entries: the id the entry points at
    toc_number: str = ""         # ... and the page number printed after it
    baseline: float = 0.0        # the line's baseline, px from the page's top
    calls: tuple[int, ...] = ()  # the notes called in this line of the main text, in order


@dataclass(frozen=True)
class PageView:
    """Everything the checks read off one laid-out page."""

    number: int
    width: float                 # trim size, px
    height: float
    bleed: tuple[float, float, float, float]      # top, right, bottom, left, px
    text_area: Rect              # the page's content box
    side: str                    # "left" (verso) or "right" (recto)
    inserted_blank: bool         # WeasyPrint added it to put the next page on the right side
    name: str                    # the CSS named page ("front", "chapter", "")
    lines: tuple[Line, ...]      # text and footnote lines, in reading order
    margin_lines: tuple[Line, ...]
    images: tuple[tuple[Rect, bool], ...]          # replaced boxes and whether they are meant to bleed
    footnote_area: Rect | None   # border box of the footnote area, when the page has notes
    calls: tuple[int, ...] = ()                    # notes called in the main text of the page, in order
    note_pieces: tuple[tuple[int, int], ...] = ()  # (note, piece) of each note box in the footnote area, in order

    @property
    def trim(self) -> Rect:
        return Rect(0.0, 0.0, self.width, self.height)

    @property
    def empty(self) -> bool:
        return not self.lines and not self.images


def read_pages(document) -> list[PageView]:
    """The laid-out document as PageViews: one walk over the box tree, in reading order."""
    spaces = _SpaceWidths()
    return [_read_page(number, fence.page_box(page), spaces) for number, page in enumerate(document.pages, start=1)]


def footnote_overlap(page: PageView) -> float:
    """How far (px) the main text reaches into the footnote area's border box (its rule included); 0 when clear."""
    if page.footnote_area is None:
        return 0.0
    deepest = max((ln.rect.y1 for ln in page.lines if ln.region == "text"
                   and ln.rect.x1 > page.footnote_area.x0 and ln.rect.x0 < page.footnote_area.x1), default=None)
    return max(0.0, deepest - page.footnote_area.y0) if deepest is not None else 0.0


def _classes(element) -> tuple[str, ...]:
    return tuple((element.get("class") or "").split()) if element is not None else ()


class _SpaceWidths:
    """The natural width of a word space for a text style, measured with Pango as WeasyPrint does."""

    def __init__(self):
        self.cache: dict = {}

    def __call__(self, style) -> float:
        key = (tuple(style["font_family"]), style["font_size"], style["font_weight"], style["font_style"],
               style["font_stretch"], style["word_spacing"], style["lang"])
        if key not in self.cache:
            self.cache[key] = fence.space_width(style)
        return self.cache[key]


def _read_page(number: int, page_box, spaces: _SpaceWidths) -> PageView:
    boxes = fence.boxes()

    lines: list[Line] = []
    margin_lines: list[Line] = []
    images: list[tuple[Rect, bool]] = []
    footnote_area = None
    width, height = page_box.margin_width(), page_box.margin_height()

    calls: list[int] = []
    pieces: list[tuple[int, int]] = []

    def called(line):
        for inner in line.descendants():
            element, ident = inner.element, (inner.element.get("id") or "") if inner.element is not None else ""
            if (ident.startswith("fnref") and ident[5:].isdigit() and "::" not in (inner.element_tag or "")
                    and "noteref" in _classes(element) and int(ident[5:]) not in calls):
                calls.append(int(ident[5:]))

    def walk(box, region: str, front: bool, slot: str, bleed: bool, table: bool = False):
        known = len(calls)
        if isinstance(box, boxes.LineBox) and region == "text":
            called(box)
        if isinstance(box, boxes.LineBox):
            line = _read_line(number, box, parent_stack[-1], region, front, slot, spaces, table)
            if line is not None and len(calls) > known:
                line = replace(line, calls=tuple(calls[known:]))
            if line is not None:
                (margin_lines if region == "margin" else lines).append(line)
            return
        classes = _classes(box.element) if box.element_tag in CONTAINERS or isinstance(box, boxes.ReplacedBox) else ()
        front = front or any(c in FRONT_MATTER for c in classes)
        bleed = bleed or "bleed" in classes      # art the book marks as meant to run off the page
        table = table or isinstance(box, (boxes.TableBox, boxes.InlineTableBox))
        if isinstance(box, boxes.ReplacedBox):
            rect = Rect(box.border_box_x(), box.border_box_y(),
                        box.border_box_x() + box.border_width(), box.border_box_y() + box.border_height())
            images.append((rect, bleed))
        parent_stack.append(box)
        for child in getattr(box, "children", ()):
            walk(child, region, front, slot, bleed, table)
        parent_stack.pop()

    parent_stack = [page_box]
    for child in page_box.children:
        if isinstance(child, boxes.MarginBox):
            walk(child, "margin", False, child.at_keyword, False)
        elif isinstance(child, boxes.FootnoteAreaBox):
            if child.children:
                footnote_area = Rect(child.border_box_x(), child.border_box_y(),
                                     child.border_box_x() + child.border_width(),
                                     child.border_box_y() + child.border_height())
            for note in child.children:
                which = note_number(note.element)
                if which is not None:
                    pieces.append((which, int(note.element.get("data-piece") or 0)))
            walk(child, "footnote", False, "", False)
        else:
            walk(child, "text", False, "", False)

    bleed = tuple(float(page_box.style[f"bleed_{side}"].value) for side in ("top", "right", "bottom", "left"))
    page_type = page_box.page_type
    area = Rect(page_box.content_box_x(), page_box.content_box_y(),
                page_box.content_box_x() + page_box.width, page_box.content_box_y() + page_box.height)
    return PageView(number, width, height, bleed, area, page_type.side, bool(page_type.blank),
                    page_type.name or "", tuple(lines), tuple(margin_lines), tuple(images), footnote_area,
                    tuple(calls), tuple(pieces))


def _content_area(box, r: Rect) -> Rect:
    """A text box's letters: WeasyPrint places a text box at the top of its line-height box and
    gives it the height of the face's content area (ascent + descent). Where the line-height is
    the smaller (a note call's 0, an Arabic face 1.7 em tall in a 1.3 em line), the letters lie
    half the difference higher than that: the rect is moved there. (A taller line-height, as
    body text's, is left as it was: its letters sit inside their line.)"""
    lh = box.style["line_height"]
    value = getattr(lh, "value", lh)
    if not isinstance(value, (int, float)) or getattr(lh, "unit", None) not in (None, "px"):
        return r
    line_height = value * box.style["font_size"] if getattr(lh, "unit", None) is None else value
    half = (line_height - box.height) / 2
    return r if half >= 0 else Rect(r.x0, r.y0 + half, r.x1, r.y1 + half)


def _read_line(number, line_box, block, region, front, slot, spaces, table=False) -> Line | None:
    boxes = fence.boxes()

    texts: list = []
    atoms: list = []
    shown: list[str] = []       # the line's words in order, an inline block's among them
    toc = ["", ""]

    def gather(box):
        if isinstance(box, boxes.TextBox):
            texts.append(box)
            shown.append(box.text)
            if (box.element_tag or "").endswith(("::after", "::before")) and box.element is not None \
                    and box.element.tag == "a" and (box.element.get("href") or "").startswith("#"):
                toc[0] = unquote(box.element.get("href")[1:])     # pandoc writes "#le-d%C3%A9part" for id "le-départ"
                toc[1] += box.text
        elif isinstance(box, boxes.AtomicInlineLevelBox):
            atoms.append(box)
            if isinstance(box, boxes.InlineBlockBox):
                inside(box)
        else:
            for child in getattr(box, "children", ()):
                gather(child)

    def inside(box):
        """The words of an inline block (a display title's line, imprint/html/display.py) are
        the line's too: its lines one after the other, a space between."""
        if isinstance(box, boxes.TextBox):
            shown.append(box.text)
            return
        if isinstance(box, boxes.LineBox):
            shown.append(" ")
        for child in getattr(box, "children", ()):
            inside(child)

    gather(line_box)
    inked = [t for t in texts if t.text.strip() and t.style["visibility"] == "visible"]
    if not inked and not atoms:
        return None
    rect = None
    for box in inked + atoms:
        r = Rect(box.position_x, box.position_y, box.position_x + box.width, box.position_y + box.height)
        if box in inked:
            r = _content_area(box, r)
        rect = r if rect is None else rect.union(r)
    text = "".join(shown).replace("\xad", "").replace("\u2060", "").strip()   # soft hyphens, word joiners: not printed
    if len(shown) > len(texts):
        text = " ".join(text.split())
    last = inked[-1] if inked else None
    hyphen_char = last.style["hyphenate_character"] if last is not None else ""
    auto = bool(last is not None and hyphen_char and last.text.endswith(hyphen_char))
    hard = bool(last is not None and not auto and last.text.rstrip().endswith("-"))
    word_space = natural = 0.0
    stretched = [t for t in inked if t.justification_spacing > 0 and (" " in t.text or "\u00a0" in t.text)]
    if stretched:
        widest = max(stretched, key=lambda t: t.text.count(" ") + t.text.count("\u00a0"))
        # A paragraph set whole (typeset/linebreak.py) narrows its spaces with a negative
        # word-spacing: the drawn space is Pango's (word-spacing included) plus justification,
        # the natural one is the face's own.
        drawn = spaces(widest.style)
        natural = drawn - (widest.style["word_spacing"] or 0)
        word_space = drawn + widest.justification_spacing
    element = block.element
    measure = Rect(block.content_box_x(), block.content_box_y(),
                   block.content_box_x() + (block.width or 0), block.content_box_y() + (block.height or 0))
    tag = block.element_tag or ""
    box = Rect(line_box.position_x, line_box.position_y, line_box.position_x + line_box.width,
               line_box.position_y + line_box.height)
    return Line(number, region, rect, box, measure, text,
                block=id(element) if element is not None else id(block), tag=tag,
                heading=_heading_level(tag, element), front=front, in_table=table, slot=slot or "",
                auto_hyphen=auto, hard_hyphen=hard, word_space=word_space, natural_space=natural,
                toc_target=toc[0] if toc[1].strip() or toc[0] else "", toc_number=toc[1].strip(),
                baseline=line_box.position_y + (line_box.baseline or 0.0))


def page_plan(document) -> list[dict]:
    """For every page, what its margins are made from and where its bookmarks point: the page's
    name, side and blankness, the strings it sets (`string-set`, in order) and its bookmarks
    (level, label, x, y, state). Enough to set the running heads and folios, and to rebuild
    the outline, of a book joined from parts (imprint/jobs/chapters.py)."""
    plan = []
    for page in document.pages:
        box = fence.page_box(page)
        # a page run a line long (fence/spreads.py: its text block reaches into the foot margin)
        # is a page of the design's area: the running heads' pass sets it so
        longer = -min(getattr(box, "imprint_cut", 0.0), 0.0)
        strings = []
        for child in box.descendants():
            string_set = getattr(child, "string_set", None)
            if string_set and string_set != "none":
                strings += [(name, text) for name, text in string_set]
        plan.append({
            "name": box.page_type.name, "side": box.page_type.side, "blank": bool(box.page_type.blank),
            "drawn": not is_blank(page), "strings": strings, "height": page.height,
            "area": tuple(round(v, 3) for v in (box.content_box_x(), box.content_box_y(), box.width,
                                                 box.height - longer)),
            "bookmarks": [(level, label, x, y, state) for level, label, (x, y), state in page.bookmarks],
        })
    return plan


BLOCK = "data-imprint-block"      # the index of a block in its chapter (imprint/jobs/chapters.py)


def clean_starts(document) -> list[tuple[int, int, str]]:
    """(page index, block, side) for every page that begins cleanly with a block of the text:
    the page's first box is the start of an element carrying `data-imprint-block` (not the
    rest of one begun on the page before), at the top of the page area with its whole top
    margin (WeasyPrint keeps it there, as at the top of a document), inside boxes with no
    margin, border or padding above it, and every note on the page is called on it (none
    carried over). Set from that block on, with the same page side, the pages that follow
    come out the same (imprint/jobs/resetting.py)."""
    boxes = fence.boxes()

    def zero_top(box) -> bool:
        style = box.style
        return all(getattr(style[key], "value", style[key]) == 0
                   for key in ("margin_top", "padding_top", "border_top_width"))

    starts, previous = [], set()
    for index, page in enumerate(document.pages):
        page_box = fence.page_box(page)
        on_page = {id(b.element) for b in page_box.descendants() if b.element is not None}
        root = next((c for c in page_box.children if not isinstance(c, (boxes.MarginBox, boxes.FootnoteAreaBox))),
                    None)
        box, ok = root, root is not None and not page_box.page_type.blank
        while ok and box is not None:
            if not zero_top(box) or not getattr(box, "children", None):
                ok = False
                break
            # Sections emptied by a chunk of a chapter (imprint/jobs/resetting.py hides the blocks before
            # it) leave empty boxes in front of the first block: they take no room.
            box = next((c for c in box.children if not _empty(c)), box.children[0])
            element = box.element
            if element is not None and element.get(BLOCK) is not None and isinstance(box, boxes.BlockBox):
                break
        if ok and box is not None and box.element is not None and box.element.get(BLOCK) is not None:
            declared = getattr(box.style["margin_top"], "value", box.style["margin_top"])
            ok = (box.margin_top == declared and id(box.element) not in previous
                  and abs(box.position_y - page_box.content_box_y()) < 0.01)
            anchors = set(page.anchors)
            ok = ok and all(f"fnref{name[2:]}" in anchors for name in anchors
                            if name.startswith("fn") and name[2:].isdigit())
            # ...and no piece of a note cut over pages (imprint/typeset/longnotes.py) begun before.
            for area in page_box.children:
                if isinstance(area, boxes.FootnoteAreaBox):
                    for note in area.children:
                        number = note_number(note.element)
                        piece = note.element.get("data-piece") if note.element is not None else None
                        if number is None or f"fnref{number}" not in anchors or piece not in (None, "0"):
                            ok = False
            if ok:
                starts.append((index, int(box.element.get(BLOCK)), page_box.page_type.side))
        previous = on_page
    return starts


def stand_in_ids(document) -> list[str]:
    """Ids of the stand-in anchors a part carries for targets set elsewhere (imprint/jobs/chapters.py)."""
    found = []
    for page in document.pages:
        for box in fence.page_box(page).descendants():
            element = box.element
            if element is not None and "imprint-stand-in" in (element.get("class") or "") and element.get("id"):
                found.append(element.get("id"))
    return sorted(set(found))


def _heading_level(tag: str, element) -> int:
    """A heading's level, the title of a chapter inside a part of the book counting as 1."""
    level = HEADINGS.get(tag, 0)
    if level == 2 and element is not None and "chapter-title" in (element.get("class") or "").split():
        return 1
    return level


def _empty(box) -> bool:
    """A block of no height holding nothing but such blocks (sections a chunk left empty,
    however deeply nested)."""
    boxes = fence.boxes()
    return (isinstance(box, boxes.BlockBox) and not box.height
            and all(_empty(child) for child in getattr(box, "children", None) or ()))
