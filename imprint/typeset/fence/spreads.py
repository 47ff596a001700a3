"""Facing pages that end on the same baseline: a text block of whole lines, and spreads run
short together (a `required` patch of WeasyPrint 70's pagination, undone on leaving).

The foot of a page's text block is its last line, body or note: a page with notes ends on the
note area's last baseline. Three things make it so:

- **Whole lines.** Each page's content box is cut down to a whole number of the root's line
  height (the rest of it goes to the bottom margin, for the layout only: the page keeps the
  design's margins when drawn). The note area stands on that foot, and its bottom padding
  (styles/book.css `@footnote`) puts its last baseline where a full page's last body line has
  its baseline.
- **Spreads run short together.** A page ends short of the foot when WeasyPrint keeps a
  paragraph's widow or orphan, a heading with its text, a note with its call, or a block
  that did not fit. As a typesetter does, the facing page is then run short to match: when a
  recto is laid out, the verso's foot is known; a recto that ends lower is made again with its
  text block shortened by the difference, and a recto that ends higher has its verso made
  again shortened to the recto's foot (then the recto again, after it). At most ATTEMPTS tries
  per spread and MAX_SHORT_LINES of shortening per page, or MAX_BLOCK_SHORT_LINES facing a page
  that ends that short on its own (a note gone on with its call's line, a block that did not
  fit at its foot).
- **Or long together.** A spread a line apart that a line less does not even (the facing page
  cannot lose a line without a widow of its own) is tried once a line long on both pages
  (MAX_LONG_LINES): the short page takes the widow, the orphan or the quotation's opening it
  could not. A page run long keeps its longer content box (the folio is at the head; the line
  goes into the foot margin).
- **Or around the nearest.** A spread still a line apart after all that (the short page ends
  short on its own by more than its partner ran short: the spread's lines come out odd) is
  laid out at most NEAR_TRIES more times from the layout nearest to even: both pages a line
  longer, the lower page a line shorter (up to MAX_BLOCK_SHORT_LINES), both a line shorter.

  What is still uneven keeps the layout nearest to even. A spread left a line apart so
  (`odd_spreads`, read after the layout: LAST) is evened by a paragraph on it set a line shorter
  or longer (imprint/typeset/linebreak.py `even_spreads`, engine.render lays the part out again),
  and the check L226 (imprint/checks/pages.py) names the pages and what went on from the short one. A spread
  where a chapter (or the text) ends is left alone: the verso that closes a chapter before a
  forced break, the recto that closes one (the next page starts after a forced break, or
  there is none).

**Bounded.** Every layout of a job lays its spreads out again (engine.render sets a part up to
FOOT_ROUNDS + 2 times; WeasyPrint repaginates), and the search above was paid again on each
(session 10's wider search, unbounded so, took Mutual Aid's build from 51 s to 309 s). Its outcome
is remembered per process (MEMORY) by what the spread's first layout held, line by line: a
spread laid out as before takes the shortening found before in one layout (none when none came
nearer), so only a spread that changed is searched again.

A page is made again from the state WeasyPrint had before it (the notes waiting, the notes
carried over, the broken out-of-flow boxes, the running elements, the page maker's entries
from that page on), which is taken before every page is made. A verso made again replaces the
verso already handed on, in place (the same page object), so WeasyPrint's page list holds it.
`weasyprint.layout.page.remake_page` and `page_height` are the internals (fence.INTERNALS).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections import defaultdict

from imprint.processes import Memo
from imprint.typeset import fence

TOLERANCE_PX = 1.0 * 4 / 3           # 1 pt: rounding, not a difference a reader sees
MAX_SHORT_LINES = 3                  # a page runs at most this many lines short to match its facing page
MAX_LONG_LINES = 1                   # a spread runs at most this many lines long, both pages together
MAX_BLOCK_SHORT_LINES = 6            # or this many, facing a page that ends that short on its own (a note
                                     # gone on with its call's line, a block that did not fit at its foot)
NEAR_TRIES = 2                       # layouts, at most, around the nearest of a spread left a line apart
ATTEMPTS = 4                         # layouts of a spread, at most, past its first (and one back to the best)
DEBUG = bool(os.environ.get("IMPRINT_SPREADS_DEBUG"))
COUNTS = {"spreads": 0, "balanced": 0, "uneven": 0, "pages made again": 0, "exempt": 0, "remembered": 0}
# What the search settled on for a spread, by what its first layout held (see _signature): a job
# lays its part out several times (engine.render: lines set again, a recto's foot unhyphenated;
# WeasyPrint's repagination), and a spread laid out as before is given the shortening found
# before in one layout, not searched again. Per process, bounded; a --watch session's
# typesetting children hand theirs back (processes.Memo), so an edit's build searches only the
# spreads the edit changed.
MEMORY_SIZE = 4096
MEMORY = Memo("spreads", MEMORY_SIZE)
# The balancing's record of the last layout made (engine.render reads the spreads it left uneven
# to set a paragraph on one a line longer or shorter: linebreak.even_spreads).
LAST: list = [None]


def uneven(pages: int) -> dict[int, float]:
    """The spreads the last layout left uneven: recto index (0-based) -> px apart; `pages` is
    that layout's page count (a spread of an earlier pagination past it is gone)."""
    state = LAST[0]
    return {} if state is None else {k: v for k, v in state.uneven.items() if k < pages}


def odd_spreads(pages: int) -> dict[int, float]:
    """The spreads the last layout left a line apart (their lines came out odd: a paragraph on
    one set a line longer or shorter evens it): recto index (0-based) -> px apart; `pages` is
    that layout's page count (a spread of an earlier pagination past it is gone)."""
    state = LAST[0]
    if state is None or not state.leading:
        return {}
    return {k: v for k, v in state.uneven.items()
            if k < pages and abs(v - state.leading) <= TOLERANCE_PX}     # a whole line: not a spread off the grid


def line_height(style) -> float | None:
    value = style["line_height"]
    if getattr(value, "unit", None) == "px":
        return float(value.value)
    return None


def foot(page) -> float | None:
    """The last baseline of a laid-out page's text block (main text or notes), px from the
    page's top; None when it has no line of visible text."""
    boxes = fence.boxes()
    lowest = None

    def inked(box) -> bool:
        if isinstance(box, boxes.TextBox):
            return bool(box.text.strip()) and box.style["visibility"] == "visible"
        if isinstance(box, boxes.AtomicInlineLevelBox):
            return box.style["visibility"] == "visible"
        return any(inked(child) for child in getattr(box, "children", ()))

    def walk(box):
        nonlocal lowest
        if isinstance(box, boxes.LineBox):
            if inked(box):
                y = box.position_y + box.baseline
                lowest = y if lowest is None else max(lowest, y)
            return
        if getattr(box, "style", None) is not None and box.style["position"] in ("absolute", "fixed") \
                and not isinstance(box, (boxes.PageBox, boxes.FootnoteAreaBox)):
            return
        for child in getattr(box, "children", ()):
            walk(child)

    for child in page.children[:2]:          # the root box and the footnote area (not the @note-area)
        walk(child)
    return lowest


def _signature(page) -> int:
    """What a laid-out page holds, line by line (its lines' texts and baselines)."""
    boxes = fence.boxes()
    out = []

    def walk(box):
        if isinstance(box, boxes.LineBox):
            out.append((round(box.position_y, 1), "".join(_texts(box))))
            return
        for child in getattr(box, "children", ()):
            walk(child)

    def _texts(box):
        if isinstance(box, boxes.TextBox):
            yield box.text
        for child in getattr(box, "children", ()):
            yield from _texts(child)

    for child in page.children[:2]:
        walk(child)
    return hash(tuple(out))


class _State:
    """The balancing's own record, kept on the LayoutContext."""

    def __init__(self):
        self.short: dict[int, float] = {}       # page index -> px its text block is shortened by
        self.before: dict[int, dict] = {}       # page index -> the context's state before it was made
        self.pages: dict[int, object] = {}      # page index -> the page last made
        self.feet: dict[int, float | None] = {}
        self.uneven: dict[int, float] = {}      # recto index -> px its spread is left apart
        self.last = -1                          # the index of the page made last
        self.leading = 0.0                      # px: the root's line height


def _copy_state(context, index: int) -> dict:
    maker = context.page_maker
    return {
        "footnotes": list(context.footnotes),
        "reported": list(context.reported_footnotes),
        "broken": dict(context.broken_out_of_flow),
        "running": {name: {n: list(v) for n, v in pages.items()} for name, pages in context.running_elements.items()},
        "rendered": list(context.rendered_notes or ()),
        "maker": list(maker[index:]),
        "remake": [{k: (list(v) if isinstance(v, list) else v) for k, v in item[-1].items()} for item in maker[index:]],
    }


def _restore(context, index: int, state: dict) -> None:
    context.footnotes = list(state["footnotes"])
    context.reported_footnotes = list(state["reported"])
    context.broken_out_of_flow = dict(state["broken"])
    running = defaultdict(lambda: defaultdict(list))
    for name, pages in state["running"].items():
        for n, v in pages.items():
            running[name][n] = list(v)
    context.running_elements = running
    context.rendered_notes = list(state["rendered"])
    maker = context.page_maker
    del maker[index:]
    maker.extend(state["maker"])
    for item, remake in zip(state["maker"], state["remake"]):
        item[-1].clear()
        item[-1].update({k: (list(v) if isinstance(v, list) else v) for k, v in remake.items()})


def _forced(next_page) -> bool:
    return bool(next_page) and next_page.get("break", "any") != "any"


@contextlib.contextmanager
def balanced():
    """While laying out: text blocks of whole lines, and spreads run short together."""
    fence.ready()
    from weasyprint.layout import page as page_module

    from weasyprint.layout import LayoutContext

    original_remake, original_height = page_module.remake_page, page_module.page_height
    original_update = LayoutContext._update_footnote_area
    pending = [0.0]              # px the page being made is shortened by
    LAST[0] = None

    def page_height(box, context, containing_block_height):
        original_height(box, context, containing_block_height)
        leading = line_height(box.style)
        if leading and box.height > leading:
            whole = math.floor(box.height / leading + 1e-6) * leading
            cut = box.height - whole + min(pending[0], box.height - leading)
            box.imprint_cut = cut
            box.height -= cut
            box.margin_bottom += cut

    def update_footnote_area(self):
        """WeasyPrint's, but a footnote area emptied again (its note taken back, or carried
        over with its call's line) gives the page back the room of its padding: WeasyPrint
        keeps it off the page's foot, and a text block of whole lines then loses its last
        line, so a paragraph ending there went whole to the next page (MA p. 260)."""
        area = self.current_footnote_area
        if area.height == "auto":                # no note yet on this page: its free foot
            area.imprint_free_bottom = self.page_bottom
        overflow = original_update(self)
        counted = not self.in_column or getattr(self, "imprint_lines", False)   # fence/notemoves.py
        if (not self.current_page_footnotes and counted
                and getattr(area, "imprint_free_bottom", None) is not None):
            self.page_bottom = area.imprint_free_bottom
            area.height = "auto"                 # as on a page that never had a note
        return overflow

    def make(index, context, root_box, html, short: float, state: _State):
        state.before[index] = _copy_state(context, index)
        state.before.pop(index - 2, None)
        pending[0] = short
        try:
            page, resume_at = original_remake(index, context, root_box, html)
        finally:
            pending[0] = 0.0
        cut = getattr(page, "imprint_cut", 0.0)
        if cut > 0:                  # the design's margins, for drawing and for the checks
            page.height += cut
            page.margin_bottom -= cut
        # a page run long (cut < 0) keeps its longer content box: its last line is in its text
        # block for the checks (the folio is at the head; the line goes into the foot margin)
        state.pages[index], state.feet[index] = page, foot(page)
        state.last = index
        return page, resume_at

    def again(index, context, root_box, html, short: float, state: _State, restore: bool = True):
        """Make page `index` again, from the state before it was made (`restore`), or from the
        state the page before it, just made again, left."""
        if restore:
            _restore(context, index, state.before[index])
        remake_state = context.page_maker[index][-1]
        remake_state.update(content_changed=False, pages_wanted=False, anchors=[], content_lookups=[])
        COUNTS["pages made again"] += 1
        return make(index, context, root_box, html, short, state)

    def remake_page(index, context, root_box, html):
        state = context.__dict__.setdefault("imprint_spreads", _State())
        LAST[0] = state
        previous = state.last
        page, resume_at = make(index, context, root_box, html, state.short.get(index, 0.0), state)
        verso = index - 1
        leading = line_height(page.style) or 0.0
        state.leading = leading or state.leading
        if (page.page_type.side != "right" or page.page_type.blank or verso < 0 or previous != verso
                or verso not in state.before or not leading):
            return page, resume_at
        verso_page = state.pages[verso]
        maker = context.page_maker
        if (verso_page.page_type.blank or state.feet[verso] is None or state.feet[index] is None
                or _forced(maker[index][1]) or resume_at is None
                or (index + 1 < len(maker) and _forced(maker[index + 1][1]))):
            if not verso_page.page_type.blank and state.feet[verso] is not None:
                COUNTS["exempt"] += 1
            return page, resume_at
        COUNTS["spreads"] += 1
        limit = grace = MAX_SHORT_LINES * leading + TOLERANCE_PX

        def apart():
            return state.feet[index] - state.feet[verso]

        if DEBUG:
            print(f"spread {verso + 1}/{index + 1}: apart {apart() * 0.75:.1f} pt", file=sys.stderr)
        current = [page, resume_at]

        def lay(short_v: float, short_r: float) -> None:
            """The spread laid out again with its pages shortened by these (px)."""
            changed_verso = state.short.get(verso, 0.0) != short_v
            state.short[verso], state.short[index] = short_v, short_r
            if changed_verso:
                new_verso, _ = again(verso, context, root_box, html, short_v, state)
                verso_page.__dict__.clear()
                verso_page.__dict__.update(new_verso.__dict__)
                state.pages[verso] = verso_page
            current[:] = again(index, context, root_box, html, short_r, state, restore=not changed_verso)

        start = (state.short.get(verso, 0.0), state.short.get(index, 0.0))
        difference = apart()
        d = abs(difference)
        feet0 = (state.feet[verso], state.feet[index])

        def whiter(step) -> bool:
            """A page of this layout ends higher than its first layout by more than the
            shortening asked and MAX_SHORT_LINES more (a block went whole to the next page):
            never kept, however even the spread."""
            now = (state.feet[verso], state.feet[index])
            return any(f is None or f0 - f > (s - s0) + grace
                       for f0, f, s, s0 in zip(feet0, now, step, start))

        def even() -> bool:
            return abs(apart()) <= TOLERANCE_PX and not whiter((state.short.get(verso, 0.0),
                                                               state.short.get(index, 0.0)))

        if d <= TOLERANCE_PX:
            state.uneven.pop(index, None)
            return page, resume_at
        key = (index, start, _signature(verso_page), _signature(page))
        remembered = MEMORY.get(key)
        if remembered is not None:
            # laid out as before: the shortening found then, in one layout (none when nothing
            # came nearer to even then)
            COUNTS["remembered"] += 1
            if remembered != start:
                lay(*remembered)
            if even():
                COUNTS["balanced"] += 1
                state.uneven.pop(index, None)
                return current[0], current[1]
            if remembered == start:
                COUNTS["uneven"] += 1
                state.uneven[index] = abs(apart())
                return current[0], current[1]
            lay(*start)              # not as before after all: searched again
        # After the first try (the short page's partner runs short by the difference), fall back
        # on both running short together by the difference, and by a line more.
        if d > limit:                # the page ends that short on its own: its partner may follow it further
            limit = MAX_BLOCK_SHORT_LINES * leading + TOLERANCE_PX
        fallbacks = ([(start[0] + d, start[1] + d), (start[0] + leading, start[1] + d + leading)] if difference > 0
                     else [(start[0] + d, start[1] + d), (start[0] + d + leading, start[1] + leading)])
        # A page a line short (a widow, an orphan or a quotation's opening kept) whose partner
        # cannot lose a line without a widow of its own: the spread runs a line long together,
        # the short page taking the lines it could not. Tried once, when running short did not even it.
        long_step = ((start[0] - MAX_LONG_LINES * leading, start[1] - MAX_LONG_LINES * leading)
                     if d <= MAX_LONG_LINES * leading + TOLERANCE_PX else None)
        # A recto that ends far short on its own (a note that went on with its call's line): the
        # verso run short by half the difference hands the recto half of it in lines before the
        # block, and both end on one baseline. Tried first.
        half = round(d / 2 / leading) * leading
        half_step = ((start[0] + half, start[1]) if difference < 0 and d > MAX_SHORT_LINES * leading + TOLERANCE_PX
                     else None)
        tried = {start}
        best = (d, start, difference)
        tries = 0

        def attempt(kind, step):
            """Lay the spread out with `step`; the nearest even layout so far is `best`."""
            nonlocal best
            tried.add(step)
            lay(*step)
            if DEBUG:
                print(f"spread {verso + 1}/{index + 1}: {kind} {step[0] * 0.75:.1f}/{step[1] * 0.75:.1f} pt "
                      f"-> apart {apart() * 0.75:.1f} pt", file=sys.stderr)
            if not whiter(step) and abs(apart()) < best[0] - 1e-6:
                best = (abs(apart()), step, apart())

        while abs(apart()) > TOLERANCE_PX and tries < ATTEMPTS:
            short_v, short_r = state.short.get(verso, 0.0), state.short.get(index, 0.0)
            difference = apart()
            # the page that ends lower runs short by the difference (the recto made after a verso made again)
            step = (short_v, short_r + difference) if difference > 0 else (short_v - difference, short_r)
            step = (round(step[0], 3), round(step[1], 3))     # 0.0, not 1e-15: a step tried is known again
            if tries == 0 and half_step is not None:
                step = half_step
            while step in tried or max(step) > limit or min(step) < -MAX_LONG_LINES * leading - 1e-6:
                if not fallbacks:
                    step = None
                    break
                step = fallbacks.pop(0)
            if step is None:
                break
            tries += 1
            attempt("short", step)
        if abs(apart()) > TOLERANCE_PX and long_step is not None and long_step not in tried:
            attempt("long", long_step)
        # Still a line apart at the nearest: the short page ends short on its own by more than its
        # partner was run short (a block that does not fit, a widow kept, whatever the lines
        # before it), so the lines of the spread come out odd. From the nearest layout: both
        # pages a line longer (the short page takes the line or block it could not), or the
        # page that ends lower a line shorter again (up to MAX_BLOCK_SHORT_LINES, as beside a page
        # that ends that short on its own), or both a line shorter. At most NEAR_TRIES.
        if abs(apart()) > TOLERANCE_PX and leading / 2 < best[0] <= leading + TOLERANCE_PX:
            bv, br = best[1]
            lower = (bv + leading, br) if best[2] < 0 else (bv, br + leading)
            near = [(bv - leading, br - leading), lower, (bv + leading, br + leading)]
            block_limit = MAX_BLOCK_SHORT_LINES * leading + TOLERANCE_PX
            near = [(round(v, 3), round(r, 3)) for v, r in near]
            near = [s for s in near if s not in tried and max(s) <= block_limit
                    and min(s) >= -MAX_LONG_LINES * leading - 1e-6][:NEAR_TRIES]
            for step in near:
                attempt("near", step)
                if abs(apart()) <= TOLERANCE_PX and not whiter(step):
                    break
        if even():
            COUNTS["balanced"] += 1
            state.uneven.pop(index, None)
            MEMORY[key] = (state.short.get(verso, 0.0), state.short.get(index, 0.0))
            return current[0], current[1]
        # Still uneven: the layout nearest to even (the first one, when none came nearer) stays.
        COUNTS["uneven"] += 1
        MEMORY[key] = best[1]
        if (state.short.get(verso, 0.0), state.short.get(index, 0.0)) != best[1]:
            lay(*best[1])
        state.uneven[index] = abs(apart())
        return current[0], current[1]

    with fence.swapped((page_module, "remake_page", remake_page), (page_module, "page_height", page_height),
                       (LayoutContext, "_update_footnote_area", update_footnote_area)):
        yield
