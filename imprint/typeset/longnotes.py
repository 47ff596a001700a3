"""HTML + a way to lay it out -> the laid-out Document in which every note starts on the
page of its call and a long note runs on over the next pages, and what was done for it.

WeasyPrint (70) never splits a footnote: a note taller than the room left under its call
is moved whole to a later page, and one taller than the footnote area is drawn past the
page's foot. It does, however, lay out several notes called from one line in order, keep
on the call's page those that fit, and carry the others over, in order, to the top of the
next pages' footnote areas. So we measure every note on the first layout, cut each long
one after the lines where a page may end (two lines at least before and after a cut
inside a paragraph; a table between its rows, its header rows kept with the first body row
and its footer rows with the last), and give WeasyPrint one `float: footnote` piece per
group of lines. A piece a table goes on in repeats the table's header rows and columns
(`fn-repeat`, not counted as the note's text); after the layout, a table's pieces that fell
on one page are joined again, so the header rows stand only at the top of a page. On the next layout the call's page takes as many of the note's lines
as fit and the rest continue, in order, on the following pages, each of which keeps room
(the `@footnote` max-height) for its own text.

A piece is an ordinary copy of the note's markup cut to its characters: a paragraph, block
quotation or list item that goes on in the next piece is marked `fn-cut` (its last line
justified, no bottom margin), its continuation `fn-cont` (no indent, no top margin, no list
marker); an element's previous sibling is kept as a hidden `fn-ghost` so that sibling
selectors (`.fn-p + .fn-p`) style the pieces as they styled the whole note. The first
piece keeps the note's id and number; every piece carries data-note and data-piece.

One more WeasyPrint habit moves notes away from their calls: to keep two lines of a
paragraph together at the foot of a page (orphans), it sends notes already placed on that
page, or pieces of a long one, on to the next page, where they may also come out of order.
`notes_stay_with_calls()` switches that off while we lay out, so the paragraph moves to the
next page whole instead, as it would on a page without notes (see its docstring). Should a
WeasyPrint version lay out differently, the fallback still works: a paragraph for which
notes were sent away is asked for one more line (`orphans`), so it moves whole.
The other side of that: a paragraph whose call's line took a long note's pieces, filling the
footnote area so that its second line finds no room, keeps its first lines and sends the
note's last pieces on (`pieces_give_way`) rather than moving whole with its note.

A note that does not fit under its call takes the call's line on to the next page
(footnote-policy: line), and WeasyPrint does not report it away: `_pushed` finds the calls that
left the page before them white and cuts their notes. When the room left there (to the page's
text block of whole lines, fence/spreads.py, less the call's line and the footnote area's rule
and paddings: `_room_under_call`) holds the note's first line but not its first piece of two,
that line alone starts under the call (`_first_line_alone`: the one cut after a paragraph's
first line, rather than three lines of white). What cannot be cut there (an image, a
first piece still too tall) moves to the next page, and the call's page points to it
(`point`: "1 See note 1 on the next page."); a block taller than the footnote area gets a page
whose area may take the whole page (`_grow`). Notes still pending at the document's end are
kept by fence/pending.py.

WeasyPrint lays the notes carried onto a page out before the page's text, and then sets the
page's first block whole whatever room they left: a tall figure opening the page after a
note's call was drawn over the note's carried piece (N206, L202, L203). `_squeezed` finds such
a page, `_squeeze` cuts the carried piece where the room under the page's text ends (or, when
its first block is itself too tall, carries the last lines of the page before instead), and
`_limit` holds that page's footnote area to the room (and the page before to what it held), so
that WeasyPrint carries the rest on to the next page; tests/test_note_tall_figure.py. The room
keeps a figure's caption that WeasyPrint sent on to the next page (`_went_on`: the figure must
stand whole). One such page is mended a round, the first: that moves the pages after it, whose
limits (`:nth()` rules) are dropped and found again on the next layout; each mended page allows
one more layout (SQUEEZE_ROUNDS at most). A limit remembers the piece it was set for, and goes
when a later layout (a chapter run out, a note pointed) no longer has that piece on its page
(`_stale_limits`).

At most ROUNDS layouts are made; what is still wrong after them is left to the inspections
to report. A book whose notes all fit is laid out once.
"""

from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass, field

from lxml import etree, html as lhtml

from imprint.typeset import fence, runout
from imprint.typeset.fence.notearea import measured_once
from imprint.typeset.fence.notemoves import notes_stay_with_calls
from imprint.typeset.fence.pending import pending_notes_kept
from imprint.typeset.positions import PX, box_text, note_number, note_pages

# Characters that take no room of their own in the measured text.
IGNORABLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
# A note taller than this share of the page's text block is cut into pieces: a shorter
# one is cut only when it did not fit, otherwise it moves whole with its call's line.
LONG = 0.25
EPS = 0.5          # points
GRAIN = 2          # lines: the shortest piece
ROUNDS = 4         # layouts at most
SQUEEZE_ROUNDS = 4 # more layouts, one for each page mended by `_squeeze` (one a round)


@dataclass(frozen=True)
class Unit:
    """One line of a laid-out note, one row of a table in it, or one block that cannot be cut
    (an image, an inline block)."""

    height: float
    end: int           # count of the note's non-blank characters up to the end of this unit
    hyphen: str        # the hyphen WeasyPrint added when the line ends inside a word
    block: object      # key of the innermost block: lines of one block keep widows/orphans
    justified: bool    # the block is justified (so a cut line is justified too)


@dataclass(frozen=True)
class Trouble:
    """One thing wrong with the notes of a layout."""

    kind: str                  # "away": not on its call's page; "order": pieces out of order;
    page: int                  # "foot": past the page's foot; "over": drawn over the text
    note: int | None = None    # for "away" and "order"
    note_page: int | None = None


@dataclass
class Settled:
    """The final layout and what was done to reach it."""

    document: object
    html: str
    layouts: int = 1
    split: dict = field(default_factory=dict)      # note number -> pieces
    kept: list = field(default_factory=list)       # pages whose last paragraph was moved whole
    pointed: dict = field(default_factory=dict)    # note number -> its call's page: the note moved on (point)
    stacked: dict = field(default_factory=dict)    # note number -> its table rows set stacked (`_stack`)
    squeezes: int = 0                              # pages mended by `_squeeze`, one a round


def problems(pages) -> list[Trouble]:
    """What is wrong with the notes of a layout; empty when every note sits where it belongs."""
    out = []
    called, started = {}, {}
    for p in pages:
        for n in p.calls:
            called.setdefault(n, p.page)
        for note in p.notes:
            if note.piece == 0:
                started.setdefault(note.number, p.page)
    for n, page in called.items():
        if started.get(n) != page:
            out.append(Trouble("away", page, n, started.get(n)))
    # A note's pieces in reading order must be its pieces in order: WeasyPrint can send a
    # piece on after later ones when it makes room for a paragraph's orphans.
    seen: dict[int, tuple[int, int]] = {}          # note -> (last piece, its page)
    for p in pages:
        for note in p.notes:
            last = seen.get(note.number)
            if last is not None and note.piece < last[0]:
                where = next((q.page for q in pages for m in q.notes
                              if m.number == note.number and m.piece == note.piece - 1), p.page)
                out.append(Trouble("order", where, note.number, p.page))
            if last is None or note.piece > last[0]:
                seen[note.number] = (note.piece, p.page)
    for p in pages:
        if p.notes_bottom is not None and p.notes_bottom > p.content_bottom + EPS:
            out.append(Trouble("foot", p.page))
        if p.area_top is not None and p.text_bottom is not None and p.text_bottom > p.area_top + EPS:
            out.append(Trouble("over", p.page))
    return out


def settle(html: str, lay_out) -> Settled:
    """Lay `html` out with `lay_out(html) -> Document` until the notes sit right (or ROUNDS).

    Notes long enough to need cutting are measured and cut first, on a few pages of their
    own (`precut`): a note's lines do not depend on the page it falls on, so the book's
    first layout is usually its last."""
    SOURCES.clear()
    STACKED.clear()
    with notes_stay_with_calls(), pieces_give_way(), measured_once(), pending_notes_kept():
        html, cut = precut(html, lay_out)
        result = Settled(lay_out(html), html)
        result.split.update(cut)
        result.stacked.update(STACKED)
        while result.layouts < ROUNDS + min(result.squeezes, SQUEEZE_ROUNDS):
            new = _remedy(result)
            if new is None:       # the notes sit right: none may run on into the next chapter
                new = runout.run_out(result.document, result.html)
            if new is None:
                break
            result.html = new
            result.document = lay_out(new)
            result.layouts += 1
        _drop_stale_pointers(result, lay_out)
        # Joining pieces saves their seams (a line set twice, a table's header rows again), so
        # the next piece may come up onto the same page: join again, REJOIN_ROUNDS at most.
        for _ in range(REJOIN_ROUNDS):
            joined = _rejoin(result)
            if joined is None:
                break
            document = lay_out(joined[0])
            if len(problems(note_pages(document))) > len(problems(note_pages(result.document))):
                break
            result.html, result.document = joined[0], document
            result.split.update(joined[1])
            result.layouts += 1
    SOURCES.clear()
    runout.show_marks(result.document)
    return result


REJOIN_ROUNDS = 3


def _piece(footnote) -> int:
    """The piece number of a laid-out note (0: a note's start, or a note not cut)."""
    element = getattr(footnote, "element", None)
    try:
        return int(element.get("data-piece") or 0) if element is not None else 0
    except ValueError:
        return 0


@contextlib.contextmanager
def pieces_give_way():
    """While laying out: a paragraph that cannot keep its first lines (orphans) on a page
    because the pieces of a long note called in them filled the page's footnote area keeps
    those lines, and the note's last pieces on that page go on to the next page instead.

    WeasyPrint lays out every note called from a line as the line is set, and keeps on the page
    the pieces that fit; the paragraph's next line then finds no room, and as its call's line
    cannot stand alone at the page's foot (orphans) the paragraph moves whole to the next page,
    its note with it, leaving the page before it white (WoN p. 426: 17 lines). A typesetter sets
    the paragraph's lines and runs the note on. So when a paragraph is given up (`abort`) while
    it had laid out continuation pieces (data-piece > 0) on the page, it is laid out again with
    its last such pieces sent on (reported, in order: a note after a piece sent on goes on too,
    as WeasyPrint does), one more at a time, until it keeps its lines; if none does, it is given
    up as before. A note's start never leaves its call's page here. Wraps notemoves' patch of
    `weasyprint.layout.block._linebox_layout` (fence.INTERNALS, "notes kept with their calls"),
    for main-text lines only (not in columns, nor the footnote area's own lines)."""
    fence.ready()
    from weasyprint.layout import block

    inner = block._linebox_layout

    def linebox_layout(context, box, index, child, new_children, *args):
        if context.in_column or getattr(context, "imprint_lines", False) or getattr(context, "imprint_giving_way", False):
            return inner(context, box, index, child, new_children, *args)
        kept = len(new_children)
        result = inner(context, box, index, child, new_children, *args)
        abort, new_footnotes = result[0], result[4]
        if not abort:
            return result
        pieces = [f for f in new_footnotes if _piece(f) > 0 and f in context.current_page_footnotes]
        if not pieces:
            return result

        def undo(footnotes):
            from weasyprint.layout.block import remove_placeholders
            remove_placeholders(context, new_children[kept:], args[1], args[2])
            del new_children[kept:]
            for footnote in footnotes:
                context.unlayout_footnote(footnote)

        layout_footnote = context.layout_footnote
        context.imprint_giving_way = True
        try:
            for k in range(1, len(pieces) + 1):
                undo(new_footnotes)
                sent = set(map(id, pieces[-k:]))

                def give_way(footnote, sent=sent):
                    overflow = layout_footnote(footnote)
                    return overflow or id(footnote) in sent     # WeasyPrint reports it (policy auto)

                context.layout_footnote = give_way
                try:
                    result = inner(context, box, index, child, new_children, *args)
                finally:
                    del context.layout_footnote
                new_footnotes = result[4]
                if not result[0]:
                    return result
            undo(new_footnotes)
            return inner(context, box, index, child, new_children, *args)
        finally:
            context.imprint_giving_way = False

    with fence.swapped((block, "_linebox_layout", linebox_layout)):
        yield


def _stale_pointers(pages, pointed) -> list[int]:
    """The pointed notes that stand on their pointer's own page in `pages` (the page changed
    after the note was moved on: its pointer's "on the next page" is wrong; N209 names what is left)."""
    on = {(n.number, n.piece, n.pointer): p.page for p in pages for n in p.notes if n.number in pointed}
    return [number for number in sorted(pointed)
            if on.get((number, 0, True)) is not None and on.get((number, 0, True)) == on.get((number, 1, False))]


def _drop_stale_pointers(result: Settled, lay_out) -> None:
    """After the last round: a pointer whose note came back onto its page goes (`_unpoint`) in
    one more layout, kept only when it leaves no more note problems than before (the call may
    move back to the page it was pushed from). A round's `_remedy` does the same, but a pointer
    made in the last round, or a page changed by that round, is never looked at again."""
    pages = note_pages(result.document)
    stale = _stale_pointers(pages, result.pointed)
    if not stale:
        return
    doc = lhtml.document_fromstring(result.html)
    if not any([_unpoint(doc, number) for number in stale]):
        return
    html = lhtml.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode")
    document = lay_out(html)
    result.layouts += 1
    after = note_pages(document)
    still = _stale_pointers(after, result.pointed)
    if len(problems(after)) <= len(problems(pages)) and len(still) < len(stale):
        result.html, result.document = html, document
        for number in set(stale) - set(still):
            result.pointed.pop(number, None)


def _rejoin(result: Settled):
    """(HTML, {note: pieces}) with the consecutive pieces of a cut note that fell on one page
    joined into one; None if none did. A seam between two pieces on one page is a line set
    twice: the first piece's last line justified as a cut (from a piece set as a paragraph
    of its own, so not always the line measured: two words stretched across the measure),
    and a cut table's header rows repeated (a piece cannot know whether it opens its page)."""
    if not SOURCES:
        return None
    where: dict = {}
    for p in note_pages(result.document):
        for note in p.notes:
            where[(note.number, note.piece)] = p.page
    doc, changed = None, {}
    for number, (whole, units, groups) in sorted(list(SOURCES.items())):
        pages = [where.get((number, k)) for k in range(len(groups))]
        if None in pages or len(set(pages)) == len(pages):
            continue
        joined = [list(groups[0])]
        for k in range(1, len(groups)):
            if pages[k] == pages[k - 1]:
                joined[-1][1] = groups[k][1]
            else:
                joined.append(list(groups[k]))
        if doc is None:
            doc = lhtml.document_fromstring(result.html)
        pieces = doc.xpath(f'//*[@data-note="{number}"][@data-piece]')
        if len(pieces) != len(groups):
            continue
        first = copy.deepcopy(whole)
        first.tail = pieces[-1].tail
        pieces[0].getparent().replace(pieces[0], first)
        for piece in pieces[1:]:
            piece.getparent().remove(piece)
        changed[number] = _cut(first, number, units, [tuple(g) for g in joined]) if len(joined) > 1 else 1
        if len(joined) == 1:
            first.set("data-note", str(number))
            first.set("data-piece", "0")
            del SOURCES[number]
        else:
            SOURCES[number] = (whole, units, [tuple(g) for g in joined])     # the pieces now in the HTML
    if not changed:
        return None
    return lhtml.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode"), changed


PRECUT_CHARS = 400     # a note shorter than this, in one or two paragraphs, cannot be long


def precut(html: str, lay_out) -> tuple[str, dict]:
    """The HTML with every long note already cut into pieces, and {note: pieces}.

    The candidates (notes of PRECUT_CHARS characters or more, or of several blocks, or with
    a table, list or picture) are laid out alone, one on a page of the book's own geometry
    and styles, so each is measured exactly as in the footnote area of the book (its lines
    depend on the area's width and the note, not on the page); those taller than LONG of
    the text block are cut as `_remedy` would cut them after a first layout of the book."""
    doc = lhtml.document_fromstring(html)
    candidates = [span for span in doc.xpath('//span[contains(concat(" ", @class, " "), " footnote ")][@id]')
                  if _candidate(span)]
    main = doc.find(".//main")
    if not candidates or main is None:
        return html, {}
    probe = copy.deepcopy(doc)
    body, probe_main = probe.find("body"), probe.find(".//main")
    for el in list(body):
        if el is not probe_main:
            body.remove(el)
    for el in list(probe_main):
        probe_main.remove(el)
    probe_main.text = None
    for span in candidates:
        p = etree.SubElement(probe_main, "p", {"style": "break-before: page; break-inside: avoid"})
        call = etree.SubElement(p, "a", {"class": "noteref", "href": f"#{span.get('id')}"})
        call.text = span.get("id")[2:]
        p.append(copy.deepcopy(span))
        p[-1].tail = None
    text_height, tall, measured = _probe(lhtml.tostring(probe, doctype="<!DOCTYPE html>", encoding="unicode"), lay_out)
    stacked = {n: done for n, rows in tall.items() if n not in STACKED and (done := _stack(doc, n, rows))}
    if stacked:       # measured again, stacked: its lines can now be cut like any note's
        STACKED.update(stacked)
        return precut(lhtml.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode"), lay_out)
    cut = {}
    for number, units in sorted(measured.items()):
        if sum(u.height for u in units) > LONG * text_height:
            pieces = _cut_measured(doc, number, units)
            if pieces is not None:
                cut[number] = pieces
    if not cut:
        return html, {}
    return lhtml.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode"), cut


def _probe(probe_html: str, lay_out) -> tuple[float, dict, dict]:
    """(the text block's height, the tall table rows, every note's units) of the probe's layout.

    From the build cache when the same probe was laid out before with the same page CSS and
    every file it read unchanged (an edit that leaves the long notes alone: the edited part's
    probe is the one laid out before, 0.1-0.2 s of a `--watch` edit). `lay_out` may carry
    `fetched` (the list every file read is appended to: the entry's dependencies), `misses`
    (linebreak.Misses: the probe's paragraphs that missed their planned breaks are known
    again on a hit, as after the layout) and `page_css`; without `fetched`, nothing is stored."""
    from imprint import cache, settings

    store = cache.current()
    fetched, misses = getattr(lay_out, "fetched", None), getattr(lay_out, "misses", None)
    key = cache.digest("precut probe", cache.toolchain(), settings.current().layout_key(), probe_html,
                       getattr(lay_out, "page_css", None))
    entry = store.load("probe", key) if fetched is not None else None
    if entry is not None and cache.unchanged(entry["resources"]):
        fetched.extend(path for path, _ in entry["resources"])
        if misses is not None:
            misses.texts.update(entry["missed"])
        return entry["value"]
    start = len(fetched) if fetched is not None else 0
    known = set(misses.texts) if misses is not None else set()
    document = lay_out(probe_html)
    text_height = _text_height(note_pages(document))
    value = (text_height, _tall_rows(document, TALL_ROW * text_height), _measure(document))
    if fetched is not None:
        store.store("probe", key, {"resources": cache.dependencies(fetched[start:]), "value": value,
                                   "missed": set(misses.texts) - known if misses is not None else set()})
    return value


def _text_height(pages) -> float:
    return max((p.content_bottom - p.content_top for p in pages), default=0.0)


# note number -> (the whole note's element, its units, its groups), for the notes cut by the
# layout now being settled: pieces that fall on one page are joined again (_rejoin).
SOURCES: dict = {}


def _cut_measured(doc, number: int, units: list[Unit], groups=None) -> int | None:
    """Cut note `number` of `doc` at its measured lines (in `groups`, or `_groups`'); the
    pieces made, or None when it makes one piece only or is not the text that was measured."""
    groups = groups or _groups(units)
    found = doc.xpath(f'//*[@id="fn{number}"]')
    if len(groups) < 2 or not found or len(_chars(found[0])) != units[-1].end:
        return None
    SOURCES[number] = (copy.deepcopy(found[0]), units, groups)
    return _cut(found[0], number, units, groups)


def _recut(doc, number: int, groups) -> int | None:
    """Note `number`, already cut into the pieces of SOURCES, cut again into `groups`; the
    pieces made, or None when its pieces in `doc` are not those."""
    whole, units, before = SOURCES[number]
    pieces = doc.xpath(f'//*[@data-note="{number}"][@data-piece]')
    if len(pieces) != len(before):
        return None
    first = copy.deepcopy(whole)
    first.tail = pieces[-1].tail
    pieces[0].getparent().replace(pieces[0], first)
    for piece in pieces[1:]:
        piece.getparent().remove(piece)
    SOURCES[number] = (whole, units, list(groups))
    return _cut(first, number, units, list(groups))


def _first_line_alone(units: list[Unit], groups, room: float | None):
    """The groups with the note's first line a piece of its own, when the first group does
    not fit in `room` (points left for note lines under a pushed call) and that line does;
    None otherwise. The one exception to the two lines kept before a cut: the alternative is
    the call's line taken overleaf and white left under the page's text (`_pushed`)."""
    if room is None or not groups:
        return None
    b = groups[0][1]
    k = next((i for i, u in enumerate(units) if u.end > 0), None)     # the first line with text
    if (k is None or k + 1 >= b or units[k + 1].end == units[k].end
            or sum(u.height for u in units[:b]) <= room or sum(u.height for u in units[:k + 1]) > room):
        return None
    last = max(i for i, u in enumerate(units) if u.block == units[k + 1].block)
    if units[k + 1].block == units[k].block and last == k + 1:
        return None                       # nor a widow: the paragraph's last line alone overleaf
    return [(0, k + 1), (k + 1, b)] + [tuple(g) for g in groups[1:]]


def _candidate(span) -> bool:
    blocks = [el for el in span.iter() if isinstance(el.tag, str) and el.get("class", "").startswith("fn-")]
    return (len(_chars(span)) >= PRECUT_CHARS or len(blocks) > 2
            or any(el.tag in ("table", "img", "svg") or el.get("class", "").startswith(("fn-ul", "fn-ol", "fn-table"))
                   for el in span.iter() if isinstance(el.tag, str)))


def _remedy(result: Settled) -> str | None:
    """The HTML changed to mend what went wrong in `result.document`, or None if nothing can."""
    document = result.document
    pages = note_pages(document)
    trouble = problems(pages)
    away = {t.note: t for t in trouble if t.kind == "away"}
    text_height = _text_height(pages)
    measured = _measure(document)
    long = {n for n, units in measured.items() if sum(u.height for u in units) > LONG * text_height}
    pushed = _pushed(document, pages)
    overflowing = _overflowing(pages)
    # A limit whose page no longer holds the piece it was set for (the pages moved since: a
    # chapter run out, a note pointed) holds some other page's notes: it goes, and the page it
    # was for is found again on the next layout.
    doc, stale = None, False
    if 'class="fn-limit"' in result.html:
        doc = lhtml.document_fromstring(result.html)
        stale = _stale_limits(doc, pages)
    if not trouble and not long and not pushed and not result.pointed and not stale:
        return None
    if doc is None:
        doc = lhtml.document_fromstring(result.html)
    changed = stale
    result.squeezes += stale
    uncut, cut_before = set(), set(result.split)
    rooms = {n: _room_under_call(document, pages, n, q) for n, q in pushed.items()}
    for number, units in sorted(measured.items()):
        if number not in long and number not in away and number not in pushed:
            continue
        pieces = None
        if number not in result.split:
            pieces = _cut_measured(doc, number, units, _first_line_alone(units, _groups(units), rooms.get(number)))
        if pieces is None:
            uncut.add(number)
            continue
        result.split[number] = pieces
        away.pop(number, None)
        changed = True
    # A pushed note cut before whose first piece is still too tall for the room under its call:
    # its first line alone starts there, when that fits (the rest goes on overleaf).
    recut = set()
    for number, room in sorted(rooms.items()):
        if number not in cut_before or number not in SOURCES or number in result.pointed:
            continue
        whole, units, groups = SOURCES[number]
        alone = _first_line_alone(units, groups, room)
        if alone is not None and _recut(doc, number, alone) is not None:
            result.split[number] = len(alone)
            recut.add(number)
            changed = True
    # A page whose text is drawn over the note piece carried onto it: that piece is cut where
    # the room under the page's first block of text ends, and the page's area held to that room.
    # Only the first such page in a round: mending it moves what follows it (a piece sent on, a
    # page added), so the limits of the pages after it, from this layout or an older one, would
    # land on the wrong pages. They are dropped, and found again on the next layout.
    for page, (number, piece, room, before) in sorted(() if stale else _squeezed(document, pages).items()):
        if number in recut or number in result.pointed or number not in SOURCES or number not in cut_before:
            continue
        whole, units, groups = SOURCES[number]
        squeezed = _squeeze(units, groups, piece, room, before)
        held = _area_height(document, page - 1)
        if squeezed is None or held is None:
            continue
        if squeezed[0] != [tuple(g) for g in groups] and _recut(doc, number, squeezed[0]) is None:
            continue
        result.split[number] = len(squeezed[0])
        start = groups[piece][0]
        anchor = (page, number, start if not squeezed[1] else next(a for a, b in squeezed[0] if b == start))
        _unlimit(doc, page - 1)
        _limit(doc, page - 1, held - squeezed[1] + EPS, anchor)      # the page before takes no more than it did
        _limit(doc, page, room, anchor)
        result.squeezes += 1
        recut.add(number)
        changed = True
        break
    stuck = list(away.values()) + [t for t in trouble if t.kind == "order"]
    for t in sorted(stuck, key=lambda t: t.page):
        if t.page in result.kept:
            continue
        found = _orphaned_paragraph(document, t.page)
        if found is not None:
            paragraph, orphans = found
            target = _same_element(doc, paragraph)
            if target is not None:
                target.set("style", (target.get("style", "") + f"; orphans: {orphans + 1}").lstrip("; "))
                result.kept.append(t.page)
                changed = True
    # What cutting cannot mend: the note's first block cannot be cut and does not fit under
    # its call (the note is away from it, or took its call's line on and left white), or a
    # block is taller than the footnote area and runs past the page's foot.
    # A note called on a page whose footnote area an earlier note fills and runs on past cannot
    # start there, cut or pointed to: WeasyPrint lays the notes out in order, the earlier note's
    # pieces still to come first. That page's area may take the whole page (`_grow`; the text
    # after the call moves on), so the earlier note ends there and this one starts under its call.
    grown = {n for n, t in sorted(away.items()) if _blocked(pages, t.page, n) and _grow(doc, t.page)}
    changed = changed or bool(grown)
    movable = {n: t.page for n, t in away.items()
               if (n in uncut or n in cut_before or n not in measured) and n not in grown}
    movable.update((n, q) for n, q in pushed.items()
                   if (n in uncut or n in cut_before) and n not in recut and _white(pages, q) > text_height / 4)
    for number, (page, piece) in sorted(overflowing.items()):
        if number in result.split and number not in cut_before:
            continue                      # cut just now: the next layout shows whether it fits
        if piece == 0:
            movable[number] = page
        elif _grow(doc, page):
            changed = True
    # A pointer whose note did fit on its page after all (the page changed since) goes again.
    for number in _stale_pointers(pages, result.pointed):
        if _unpoint(doc, number):
            changed = True
    for number, page in sorted(movable.items()):
        if number in result.pointed or page in result.kept:
            continue
        if point(doc, number):
            if number in overflowing:
                _grow(doc, page + 1)
            result.pointed[number] = page
            SOURCES.pop(number, None)
            changed = True
    if not changed:
        return None
    return lhtml.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode")


# --- notes that cannot start under their calls ------------------------------------------

WHITE = 3          # lines of white left on the page before a pushed call that make it worth mending


def _pushed(document, pages) -> dict[int, int]:
    """{note: page before} for the notes that took their call's line on to the next page
    (footnote-policy: line) while the page before had room for that line and more: the page
    before ends in white. A whole note is then cut (it did not fit: WeasyPrint never reports
    it as away), one that cannot be cut or whose first piece is still too tall points from
    there (`point`). Not where the page opens a chapter: the white before it is the design's."""
    out = {}
    by_page = {p.page: p for p in pages}
    for p in pages:
        before = by_page.get(p.page - 1)
        if before is None or before.text_bottom is None or not p.calls:
            continue
        white = _white_under(before)
        for note in p.notes:
            if note.piece or note.pointer or note.number not in p.calls:
                continue
            line = _call_line(document, p.page, note.number)
            if line is None or white < WHITE * (line[1] - line[0]):
                continue
            if line[1] - p.content_top > white or _opens(document, p.page):
                continue                  # the call's line would not have fitted there
            out[note.number] = p.page - 1
            break
    return out


def _room_under_call(document, pages, number: int, before: int) -> float | None:
    """The height (points) the lines of note `number` would have in the footnote area of page
    `before` had its call's line stayed there: the white under that page's text down to its
    text block of whole lines (fence/spreads.py), less the call's line and the footnote area's
    margin, rule and paddings. None when not known."""
    by_page = {p.page: p for p in pages}
    p, q = by_page.get(before), by_page.get(before + 1)
    line = _call_line(document, before + 1, number)
    if p is None or q is None or p.text_bottom is None or line is None:
        return None
    frame = _frame(document, before + 1)
    if frame is None:
        return None
    return _foot(document, p) - p.text_bottom - (line[1] - line[0]) - frame


def _foot(document, p) -> float:
    """The foot (points from the page's top) of page `p`'s text block of whole lines (fence/spreads.py)."""
    from imprint.typeset.fence.spreads import line_height
    page_box = fence.page_box(document.pages[p.page - 1])
    leading = (line_height(page_box.style) or 0.0) * PX
    if leading:
        return p.content_top + math.floor((p.content_bottom - p.content_top) / leading + 1e-6) * leading
    return p.content_bottom


def _frame(document, page: int) -> float | None:
    """The footnote area's margins, rule and paddings on page `page` (points); None when it has none."""
    boxes = fence.boxes()
    area = next((c for c in fence.page_box(document.pages[page - 1]).children
                 if isinstance(c, boxes.FootnoteAreaBox)), None)
    if area is None:
        return None
    return (area.margin_top + area.border_top_width + area.padding_top + area.padding_bottom
            + area.border_bottom_width + area.margin_bottom) * PX


def _squeezed(document, pages) -> dict[int, tuple[int, int, float, int]]:
    """{page: (note, piece, room, first)} for the pages whose text is drawn over their footnote area
    while the area opens with a piece of a cut note carried on from the page before.

    WeasyPrint (70) lays a page's carried notes out before its text (the first always stays,
    the others while the area's max-height holds them), then sets the page's first block of
    text there whatever its height: a figure taller than the room the carried notes leave is
    drawn over them (N206, L202, L203). room: the points left for note lines under the page's
    text as it was set (down to its text block of whole lines, less the area's rule and
    paddings), where the carried piece must end; first: the note's first piece on the page before."""
    out = {}
    where = {(n.number, n.piece): p.page for p in pages for n in p.notes if not n.pointer}
    for p in pages:
        if (not p.notes or p.area_top is None or p.text_bottom is None
                or p.text_bottom <= p.area_top + EPS):
            continue
        first = p.notes[0]
        if first.pointer or first.piece == 0 or where.get((first.number, first.piece - 1)) != p.page - 1:
            continue
        frame = _frame(document, p.page)
        if frame is None:
            continue
        before = min(k for (n, k), q in where.items() if n == first.number and q == p.page - 1)
        bottom = p.text_bottom + _went_on(document, p.page)
        out[p.page] = (first.number, first.piece, _foot(document, p) - bottom - frame, before)
    return out


def _went_on(document, page: int) -> float:
    """The height (points) of what a figure ending page `page` sent on to the next page: its
    caption, with the white between it and the picture (0.0 when the page ends otherwise).
    WeasyPrint sets a figure that does not fit whole at a page's top, and sends its caption on
    (whatever `break-inside: avoid`); the room left for the notes must keep the caption too."""
    if page >= len(document.pages):
        return 0.0
    boxes = fence.boxes()
    here = fence.page_box(document.pages[page - 1]).children[0]
    figures = {id(b.element): b for b in here.descendants()
               if isinstance(b, boxes.BlockBox) and b.element_tag == "figure" and b.element is not None}
    there = fence.page_box(document.pages[page]).children[0]
    for box in there.descendants():
        if not (isinstance(box, boxes.BlockBox) and box.element_tag == "figure" and id(box.element) in figures):
            continue
        ends = [b.position_y + b.margin_height() for b in box.descendants()
                if isinstance(b, (boxes.LineBox, boxes.ReplacedBox))]
        if not ends:
            return 0.0
        first = next((b for b in box.children if isinstance(b, boxes.Box)), None)
        gap = _margin_top(first) if first is not None else 0.0
        return (max(ends) - box.content_box_y()) * PX + gap
    return 0.0


def _margin_top(box) -> float:
    """The top margin (points) the style gives `box` (WeasyPrint drops it at a page's top)."""
    value = box.style["margin_top"]
    unit = getattr(value, "unit", None)
    if unit == "px":
        return value.value * PX
    if unit == "em":
        return value.value * box.style["font_size"] * PX
    return 0.0


def _squeeze(units: list[Unit], groups, piece: int, room: float, before: int | None = None):
    """(groups, height moved back) for a piece `piece` carried onto a page where only `room`
    points are left under the text: that page is to hold the units [c, d), cut at places a page
    may end inside the note (no widow or orphan, every piece with text of its own), as many as
    fit. d is in the piece itself when its first units fit; else (its first block cannot be cut
    and is taller: an image) the page holds the last lines of the page before (c before the
    piece's start: their height is the second value; that page keeps the units of its first
    piece of the note, `before`, up to its first cut) and the piece goes on to the next page.
    None when neither can be done."""
    before = piece - 1 if before is None else before
    if not 0 <= before < piece < len(groups):
        return None
    first, last = {}, {}
    for i, u in enumerate(units):
        first.setdefault(u.block, i)
        last[u.block] = i

    def may_cut(i: int) -> bool:
        x, y = units[i - 1], units[i]
        return not (x.block == y.block and (first[x.block] == i - 1 or last[y.block] == i))

    def height(a: int, b: int) -> float:
        return sum(u.height for u in units[a:b])

    start, end = groups[piece]
    bounds = {a for a, _ in groups} | {len(units)}

    def cut_at(cut: int):
        new = sorted(bounds | {cut})
        out = list(zip(new, new[1:]))
        ends = [units[b - 1].end for _, b in out]
        if any(e == (ends[k - 1] if k else 0) for k, e in enumerate(ends)):
            return None                   # a piece without text of its own
        return out

    for d in reversed(range(start + 1, end)):          # the page's own part of the piece, as long as fits
        if may_cut(d) and height(start, d) <= room + EPS and (out := cut_at(d)) is not None:
            return out, 0.0
    for c in range(groups[before][0] + 1, start):      # else the last lines of the page before
        if (c in bounds or may_cut(c)) and height(c, start) <= room + EPS and (out := cut_at(c)) is not None:
            return out, height(c, start)
    return None


def _area_height(document, page: int) -> float | None:
    """The height of the notes in page `page`'s footnote area (points, its rule and paddings left out)."""
    boxes = fence.boxes()
    area = next((c for c in fence.page_box(document.pages[page - 1]).children
                 if isinstance(c, boxes.FootnoteAreaBox)), None)
    return None if area is None or not area.children else area.height * PX


def _limit(doc, page: int, room: float, anchor: tuple[int, int, int] | None = None) -> bool:
    """Hold the footnote area of page `page` (1-based) to `room` points: the notes carried onto
    it that go past are carried on to the next page (WeasyPrint keeps the first one whole).
    The page's earlier limit, if any, gives way to this one. anchor: (page, note, unit) the limit
    is for: that page is to hold the note's piece that starts at that unit (`_stale_limits`)."""
    head = doc.find(".//head")
    rule = f"@page :nth({page}) {{ @footnote {{ max-height: {max(room, 0.0):.2f}pt; }} }}"
    if head is None:
        return False
    old = [el for el in head.iter("style") if el.get("class") == "fn-limit" and el.get("data-page") == str(page)]
    if [el.text for el in old] == [rule]:
        return False
    for el in old:
        el.getparent().remove(el)
    style = etree.SubElement(head, "style", {"class": "fn-limit", "data-page": str(page)})
    style.text = rule
    if anchor is not None:
        for name, value in zip(("data-at", "data-note", "data-start"), anchor):
            style.set(name, str(value))
    return True


def _stale_limits(doc, pages) -> bool:
    """Drop the limits (`_limit`) whose page does not hold the note's piece they were set for,
    in the layout `pages` of `doc`; whether any went."""
    head = doc.find(".//head")
    if head is None:
        return False
    where = {(n.number, n.piece): p.page for p in pages for n in p.notes if not n.pointer}
    dropped = False
    for el in list(head.iter("style")):
        if el.get("class") != "fn-limit" or el.get("data-at") is None:
            continue
        number, start, at = (int(el.get(name)) for name in ("data-note", "data-start", "data-at"))
        if number not in SOURCES:
            continue
        piece = next((k for k, (a, _) in enumerate(SOURCES[number][2]) if a == start), None)
        if piece is not None and where.get((number, piece)) == at:
            continue
        el.getparent().remove(el)
        dropped = True
    return dropped


def _unlimit(doc, first: int) -> bool:
    """Drop the limits (`_limit`) of page `first` and the pages after it."""
    head = doc.find(".//head")
    old = [] if head is None else [el for el in head.iter("style") if el.get("class") == "fn-limit"
                                   and int(el.get("data-page") or 0) >= first]
    for el in old:
        el.getparent().remove(el)
    return bool(old)


def _call_line(document, page: int, number: int) -> tuple[float, float] | None:
    """The top and foot (points from the page's top) of the line holding note `number`'s call
    on `page`."""
    boxes = fence.boxes()
    root = fence.page_box(document.pages[page - 1]).children[0]
    for line in root.descendants():
        if isinstance(line, boxes.LineBox) and any(
                b.element is not None and b.element.get("id") == f"fnref{number}" for b in line.descendants()):
            return line.position_y * PX, (line.position_y + line.margin_height()) * PX
    return None


def _opens(document, page: int) -> bool:
    """Page `page` opens a chapter, a part or a section that starts a page of its own."""
    return runout._opening(document, page) is not None


def _blocked(pages, page: int, number: int) -> bool:
    """Page `page`'s footnote area holds an earlier note than `number` that goes on over the next page."""
    by_page = {p.page: p for p in pages}
    here, after = by_page.get(page), by_page.get(page + 1)
    if here is None or after is None:
        return False
    earlier = {n.number for n in here.notes if n.number < number}
    return any(n.number in earlier for n in after.notes)


def _overflowing(pages) -> dict[int, tuple[int, int]]:
    """{note: (page, piece)} for the notes whose piece runs past the page's foot."""
    out = {}
    for p in pages:
        if p.notes_bottom is None or p.notes_bottom <= p.content_bottom + EPS:
            continue
        for note in p.notes:
            if note.bottom > p.content_bottom + EPS:
                out.setdefault(note.number, (p.page, note.piece))
    return out


def _white(pages, page: int) -> float:
    """The height left white under the text of page `page` (points)."""
    p = next((q for q in pages if q.page == page), None)
    return 0.0 if p is None or p.text_bottom is None else _white_under(p)


def _white_under(p) -> float:
    """The height between a page's last line of text and its footnote area (or its foot)."""
    return (p.area_top if p.area_top is not None else p.content_bottom) - p.text_bottom


def _grow(doc, page: int) -> bool:
    """Let the footnote area of page `page` (1-based) take the whole page: for a block of a
    note taller than the area (a table row), on the page it starts at the top of."""
    head = doc.find(".//head")
    rule = f"@page :nth({page}) {{ @footnote {{ max-height: 100%; }} }}"
    if head is None or any(el.text == rule for el in head.iter("style")):
        return False
    etree.SubElement(head, "style", {"class": "fn-grow"}).text = rule
    return True


# --- a table row taller than a page -------------------------------------------------------

# A table row in a note taller than this share of the text block can fit on no page (the
# footnote area's rule and paddings, the note's own lines before it): it is set stacked.
TALL_ROW = 0.9
STACKED: dict = {}       # note number -> rows set stacked, for the layout now being settled


def _tall_rows(document, limit: float) -> dict[int, list[int]]:
    """{note: the indexes of its table rows (fn-tr, in document order) taller than `limit`
    points}, for every whole note laid out in `document`."""
    boxes = fence.boxes()

    out: dict[int, list[int]] = {}
    seen: set = set()
    for n, box in _whole_notes(document):
        if n in seen:
            continue
        seen.add(n)
        rows = [el for el in box.element.iter() if isinstance(el.tag, str) and _has_class(el, "fn-tr")]
        tall = sorted({rows.index(b.element) for b in box.descendants()
                       if isinstance(b, boxes.TableRowBox) and b.element in rows
                       and b.margin_height() * PX > limit})
        if tall:
            out[n] = tall
    return out


def _stack(doc, number: int, indexes: list[int]) -> int:
    """Set the table rows `indexes` of note `number` stacked: the row leaves its table, which
    is cut in two around it, and each of its cells becomes a paragraph of the note under its
    column's head (a repeat, `fn-repeat`, not the note's text), so the row's lines can be cut
    across pages like any paragraph's. Returns the rows so set (N210 names the note)."""
    found = doc.xpath(f'//*[@id="fn{number}"]')
    if not found:
        return 0
    done = 0
    for k in sorted(set(indexes), reverse=True):     # the last first: the rows before keep their indexes
        rows = [el for el in found[0].iter() if isinstance(el.tag, str) and _has_class(el, "fn-tr")]
        done += k < len(rows) and _stack_row(rows[k])
    return done


def _ancestor(el, name: str):
    el = el.getparent()
    while el is not None and not _has_class(el, name):
        el = el.getparent()
    return el


def _stack_row(row) -> bool:
    table = _ancestor(row, "fn-table")
    if table is None:
        return False
    in_head = _ancestor(row, "fn-thead") is not None   # a header row itself: no labels, not repeated
    order = [r for r in table.iter() if isinstance(r.tag, str) and _has_class(r, "fn-tr")]
    at = order.index(row)
    grid = _grid(order)
    head = [i for i, r in enumerate(order) if _ancestor(r, "fn-thead") is not None]
    columns = {} if in_head or not head else grid[head[-1]]       # column -> the head cell over it

    stacked = etree.Element("span", {"class": "fn-div fn-stacked"})
    spans = _cells(grid[at])
    for cell in (c for c in row if isinstance(c.tag, str)):
        block = etree.SubElement(stacked, "span", {"class": "fn-p fn-stacked-cell"})
        heads = [columns[c] for c in spans.get(id(cell), ()) if c in columns]
        names = list(dict.fromkeys(" ".join("".join(h.itertext()).split()) for h in heads))
        text = " / ".join(n for n in names if n)
        if text:
            label = etree.SubElement(block, "span", {"class": "fn-stacked-label fn-repeat"})
            label.text = text + ":"
            label.tail = " " + (cell.text or "").lstrip()
        else:
            block.text = cell.text
        for child in list(cell):
            block.append(child)          # moved, with its tail
    before, after = copy.deepcopy(table), copy.deepcopy(table)
    _keep_rows(before, lambda i: i < at, in_head)
    _keep_rows(after, lambda i: i > at, in_head)
    for el in list(after.iter()):
        if isinstance(el.tag, str) and _has_class(el, "fn-caption"):
            el.getparent().remove(el)       # the caption stands once, above the rows before
    for group in [g for g in after.iter() if isinstance(g.tag, str) and _has_class(g, "fn-thead") and not in_head]:
        group.getparent().replace(group, _repeated(group))
    for el in after.iter():
        if isinstance(el.tag, str):
            el.attrib.pop("id", None)       # an id stays with the table's first part
    parent, tail = table.getparent(), table.tail
    place = [el for el, keep in ((before, _has_rows(before, head=True)), (stacked, True), (after, _has_rows(after)))
             if keep]
    index = parent.index(table)
    parent.remove(table)
    for k, el in enumerate(place):
        el.tail = None
        parent.insert(index + k, el)
    place[-1].tail = tail
    return True


def _span(cell, name: str) -> int:
    try:
        return max(1, min(int(cell.get(name) or 1), 1000))
    except ValueError:
        return 1


def _grid(rows) -> list[dict[int, object]]:
    """The table model of HTML for a table's rows: for each row, {column: the cell that covers
    it}, cells spanning columns (colspan) and rows (rowspan, from a row above) included, so a
    cell's column is where it stands, not its index in its row."""
    out: list[dict[int, object]] = [{} for _ in rows]
    for i, row in enumerate(rows):
        column = 0
        for cell in (c for c in row if isinstance(c.tag, str)):
            while column in out[i]:
                column += 1            # a cell from a row above spans into this one
            for down in range(i, min(i + _span(cell, "rowspan"), len(rows))):
                for across in range(column, column + _span(cell, "colspan")):
                    out[down][across] = cell
            column += _span(cell, "colspan")
    return out


def _cells(columns: dict[int, object]) -> dict[int, list[int]]:
    """{id(cell): the columns it covers} for the cells of one row of `_grid`."""
    found: dict[int, list[int]] = {}
    for column in sorted(columns):
        found.setdefault(id(columns[column]), []).append(column)
    return found


def _keep_rows(table, keep, heads: bool = False) -> None:
    """Only the rows `keep` takes (by index), and the header rows (with `heads`, those too as `keep` says)."""
    rows = [r for r in table.iter() if isinstance(r.tag, str) and _has_class(r, "fn-tr")]
    for i, r in enumerate(rows):
        if not keep(i) and (heads or _ancestor(r, "fn-thead") is None):
            r.getparent().remove(r)
    for group in [g for g in table.iter() if isinstance(g.tag, str) and _has_class(g, "fn-tbody", "fn-tfoot", "fn-thead")]:
        if not any(isinstance(c.tag, str) for c in group):
            group.getparent().remove(group)


def _has_rows(table, head: bool = False) -> bool:
    """The part holds text of its own: rows (its header rows too, for the part before the
    stacked row, where they stand once) or a caption."""
    return any(isinstance(el.tag, str) and not _has_class(el, "fn-repeat")
               and (_has_class(el, "fn-tr") and (head or _ancestor(el, "fn-thead") is None) or _has_class(el, "fn-caption"))
               for el in table.iter())


POINTER = "fn-pointer"


def point(doc, number: int) -> bool:
    """Move note `number` on to the page after its call's and leave the call's page a pointer
    to it, in the footnote area: "¹ See note 1 on the next page." (labels note-pointer, the
    book's language; a page number would be the part's own in a book set in parts, whose
    folios are stamped on after joining; the checks make sure the note is on the next page).

    The pointer is the note's start: it takes the note's id (the call's link lands on it, the
    placement check finds the note on its call's page), its number and piece 0; the note's
    pieces follow as pieces 1, 2… (footnote-policy auto: they do not move the call's line),
    the first under a new id the pointer links to, its number kept and marked as a repeat
    (not counted twice in the note's text). False when the note is not found or already points."""
    from imprint.specs.labels import labels

    pieces = doc.xpath(f'//*[@data-note="{number}"][@data-piece]')
    if not pieces:
        pieces = doc.xpath(f'//*[@id="fn{number}"]')
    if not pieces or any(_has_class(p, POINTER) for p in pieces):
        return False
    first = pieces[0]
    lang = doc.get("lang") or "en"
    pointer = etree.Element("span", {"class": f"footnote {POINTER}", "id": f"fn{number}",
                                     "data-note": str(number), "data-piece": "0"})
    numbers = [el for el in first.iter() if isinstance(el.tag, str) and _has_class(el, "note-number")]
    if numbers:
        marker = copy.deepcopy(numbers[0])
        marker.tail = " "
        pointer.append(marker)
        for el in numbers[0].iter():
            el.set("class", (el.get("class", "") + " fn-repeat").strip())
    link = etree.SubElement(pointer, "a", {"class": "fn-pointer-link fn-repeat", "href": f"#fn{number}-moved"})
    link.text = labels(lang)["note-pointer"].format(n=number)
    first.set("id", f"fn{number}-moved")
    for k, piece in enumerate(pieces, start=1):
        piece.set("data-note", str(number))
        piece.set("data-piece", str(k))
        piece.set("class", " ".join(dict.fromkeys(piece.get("class", "").split() + ["fn-piece"])))
    first.addprevious(pointer)
    pointer.tail = None
    return True


def _unpoint(doc, number: int) -> bool:
    """Undo `point` for note `number`: the pointer goes, the note is the note's start again."""
    found = doc.xpath(f'//*[@id="fn{number}"][contains(concat(" ", @class, " "), " {POINTER} ")]')
    if not found:
        return False
    found[0].getparent().remove(found[0])
    pieces = doc.xpath(f'//*[@data-note="{number}"][@data-piece]')
    for k, piece in enumerate(pieces):
        piece.set("data-piece", str(k))
    first = pieces[0]
    first.set("id", f"fn{number}")
    first.set("class", " ".join(c for c in first.get("class", "").split() if c != "fn-piece"))
    for el in first.iter():
        if isinstance(el.tag, str) and _has_class(el, "note-number"):
            for inner in el.iter():
                inner.set("class", " ".join(c for c in inner.get("class", "").split() if c != "fn-repeat"))
            break
    return True


# --- the orphans habit -----------------------------------------------------------------

def _orphaned_paragraph(document, page: int):
    """The paragraph that ends page `page` with exactly `orphans` lines and goes on over
    the page: the one WeasyPrint made room for by sending notes away. None otherwise."""
    boxes = fence.boxes()

    if page >= len(document.pages):
        return None
    lines: list = []

    def walk(box, block):
        for child in getattr(box, "children", ()):
            if not isinstance(child, boxes.Box):
                continue
            if isinstance(child, boxes.LineBox):
                lines.append(block)
            elif isinstance(child, boxes.ParentBox) and not isinstance(child, boxes.FootnoteAreaBox):
                walk(child, child if isinstance(child, boxes.BlockContainerBox) else block)

    walk(fence.page_box(document.pages[page - 1]).children[0], None)
    if not lines or lines[-1] is None or lines[-1].element is None:
        return None
    last = lines[-1]
    count = sum(1 for b in lines if b.element is last.element)
    if count != last.style["orphans"]:
        return None
    following = fence.page_box(document.pages[page]).children[0]
    if not any(isinstance(b, boxes.Box) and b.element is last.element for b in following.descendants()):
        return None
    return last.element, count


def _same_element(doc, element):
    """The lxml element that is WeasyPrint's parsed `element`: same tag, same text, unique."""
    tag = element.tag.split("}")[-1]
    key = " ".join("".join(element.itertext()).split())[:200]
    matches = [el for el in doc.iter(tag) if " ".join("".join(el.itertext()).split())[:200] == key]
    return matches[0] if len(matches) == 1 else None


# --- measuring -------------------------------------------------------------------------

def _measure(document) -> dict[int, list[Unit]]:
    """Every whole note's units, from the first page its box appears on."""
    out: dict[int, list[Unit]] = {}
    for n, box in _whole_notes(document):
        if n not in out:
            units = _units(box)
            if units is not None:
                out[n] = units
    return out


def _whole_notes(document):
    """(note number, box) for every box of a note not cut into pieces, page by page."""
    boxes = fence.boxes()
    for page in document.pages:
        area = next((c for c in fence.page_box(page).children if isinstance(c, boxes.FootnoteAreaBox)), None)
        for box in getattr(area, "children", ()):
            if not isinstance(box, boxes.Box) or box.element is None or box.element.get("data-piece"):
                continue
            n = note_number(box.element)
            if n is not None:
                yield n, box


def _units(note_box) -> list[Unit] | None:
    """The note's lines, table rows and uncuttable blocks, in order, with the text position
    each ends at. None when the drawn text cannot be matched to the note's characters."""
    boxes = fence.boxes()

    stream = _chars(note_box.element)
    found: list[tuple] = []        # (box, block key, lines whose text it holds, atomic)
    widths: dict = {}              # id(line box) -> the width of the block that holds it

    def lines_of(box):
        out = []
        for child in getattr(box, "children", ()):
            if isinstance(child, (boxes.LineBox, boxes.ReplacedBox, boxes.InlineBlockBox)):
                out.append(child)
            elif isinstance(child, boxes.ParentBox):
                out.extend(lines_of(child))
        return out

    def table(box):
        """A table's rows, one unit each: a note may be cut between any two rows, except
        that the header rows stay with the first body row and the footer rows with the
        last one (the key of a row is its block: units of one block keep together)."""
        rows = []
        for group in box.children:
            for row in getattr(group, "children", ()):
                if isinstance(row, boxes.TableRowBox):
                    rows.append((row, bool(getattr(group, "is_header", False)),
                                 bool(getattr(group, "is_footer", False))))
        body = [k for k, (_, head, foot) in enumerate(rows) if not head and not foot]
        for k, (row, head, foot) in enumerate(rows):
            key = id(row.element)
            if body and (head or k == body[0]):
                key = ("head", id(box.element))
            elif body and (foot or k == body[-1]) and any(f for _, _, f in rows):
                key = ("foot", id(box.element))
            found.append((row, key, lines_of(row), False))

    def walk(box, block):
        for child in box.children:
            if not isinstance(child, boxes.Box):
                continue
            if isinstance(child, boxes.LineBox):
                found.append((child, id(block.element), [child], False))
                widths[id(child)] = block.width
            elif isinstance(child, boxes.TableBox) and not isinstance(child, boxes.InlineTableBox):
                table(child)
            elif isinstance(child, (boxes.TableBox, boxes.ReplacedBox, boxes.InlineBlockBox)):
                found.append((child, id(block.element), [child], True))
            elif isinstance(child, boxes.ParentBox):
                walk(child, child if isinstance(child, boxes.BlockContainerBox) else block)

    walk(note_box, note_box)
    units, j = [], 0
    previous_bottom = note_box.content_box_y()
    for box, key, lines, atomic in found:
        hyphen = ""
        for n, line in enumerate(lines):
            text = [c for c in box_text(line) if not c.isspace() and c not in IGNORABLE]
            for k, ch in enumerate(text):
                if j < len(stream) and stream[j].casefold() == ch.casefold():
                    j += 1
                elif k == len(text) - 1 and not atomic and isinstance(line, boxes.LineBox):
                    if n == len(lines) - 1:
                        hyphen = ch       # WeasyPrint's hyphenate-character
                else:
                    return None           # generated or reordered text: do not guess
        bottom = box.position_y + box.margin_height()
        style = box.style if isinstance(box, boxes.TableRowBox) else None
        units.append(Unit(max(0.0, bottom - previous_bottom) * PX, j, hyphen, key,
                          style is None and _justified(box, widths.get(id(box)))))
        previous_bottom = max(previous_bottom, bottom)
    return units if units and j == len(stream) else None


def _justified(box, measure) -> bool:
    """The line is justified: its block is, and the line is full (a line ended by a forced
    break, as a verse's or a code block's, is set ragged and stays so when cut after)."""
    if box.style["text_align_all"] != "justify":
        return False
    children = [c for c in getattr(box, "children", ()) if hasattr(c, "margin_width")]
    if not children or not measure:
        return True
    right = max(c.position_x + c.margin_width() for c in children)
    return right - box.position_x >= 0.9 * measure


def _chars(element) -> list[str]:
    """The non-blank characters of an element's text, in document order (ElementTree or lxml);
    a repeat (`fn-repeat`: a stacked cell's column head) is not the note's text."""
    out = []

    def walk(el, top):
        if isinstance(el.tag, str) and not _has_class(el, "fn-repeat"):
            out.extend(c for c in (el.text or "") if not c.isspace() and c not in IGNORABLE)
            for child in el:
                walk(child, False)
        if not top:
            out.extend(c for c in (el.tail or "") if not c.isspace() and c not in IGNORABLE)

    walk(element, True)
    return out


def _groups(units: list[Unit]) -> list[tuple[int, int]]:
    """Runs of units [a, b) between the places a page may end inside the note: not after a
    paragraph's first line nor before its last (no widow or orphan), and never so that a
    run holds no character of its own."""
    first, last = {}, {}
    for i, u in enumerate(units):
        first.setdefault(u.block, i)
        last[u.block] = i
    bounds = [0]
    for i in range(len(units) - 1):
        a, b = units[i], units[i + 1]
        if a.block == b.block and (first[a.block] == i or last[b.block] == i + 1):
            continue
        if a.end == (units[bounds[-1] - 1].end if bounds[-1] else 0) or b.end == a.end:
            continue                      # a run without text of its own (an empty line box)
        bounds.append(i + 1)
    if len(bounds) > 1 and units[-1].end == units[bounds[-1] - 1].end:
        bounds.pop()                      # nothing left after the last cut
    bounds.append(len(units))
    # Fewer, taller pieces: WeasyPrint lays the footnote area out again for every piece it
    # adds, so the cost grows with the square of the pieces on a page; a page may then end
    # up to GRAIN - 1 lines short of its foot.
    merged = [bounds[0]]
    for b in bounds[1:-1]:
        if b - merged[-1] >= GRAIN:
            merged.append(b)
    if len(merged) > 1 and bounds[-1] - merged[-1] < GRAIN:
        merged.pop()
    merged.append(bounds[-1])
    return list(zip(merged, merged[1:]))


# --- cutting ---------------------------------------------------------------------------

def _cut(note, number: int, units: list[Unit], groups) -> int:
    """Replace the note element by one piece per group of units; returns the piece count."""
    parent = note.getparent()
    index = parent.index(note)
    tail = note.tail
    pieces = []
    for k, (a, b) in enumerate(groups):
        lo = units[a - 1].end if a else 0
        hi = units[b - 1].end if b < len(units) else float("inf")
        # Justify the piece's last line when its paragraph goes on in the next piece.
        mid_block = b < len(units) and units[b - 1].block == units[b].block and units[b - 1].justified
        piece = _slice(note, lo, hi, units[b - 1].hyphen if b < len(units) else "", mid_block)
        piece.tail = None
        piece.set("data-note", str(number))
        piece.set("data-piece", str(k))
        if k:
            piece.attrib.pop("id", None)
            piece.set("class", (piece.get("class", "") + " fn-piece").strip())
        pieces.append(piece)
    pieces[-1].tail = tail
    parent.remove(note)
    for k, piece in enumerate(pieces):
        parent.insert(index + k, piece)
    return len(pieces)


def _slice(root, lo: int, hi: float, hyphen: str, justify_cut: bool):
    """A copy of `root` holding only the characters numbered lo <= i < hi (blanks go with
    the character after them). Elements cut at either end are marked; see the module doc."""
    counter = 0
    spans: dict = {}          # element -> (first, end) character numbers

    def measure(el):
        nonlocal counter
        start = counter
        if _has_class(el, "fn-repeat"):       # no characters of the note's own
            spans[el] = (start, start)
            return
        counter += sum(1 for c in (el.text or "") if not c.isspace() and c not in IGNORABLE)
        for child in el:
            if isinstance(child.tag, str):
                measure(child)
            counter += sum(1 for c in (child.tail or "") if not c.isspace() and c not in IGNORABLE)
        spans[el] = (start, counter)

    measure(root)

    def keep(text: str, start: int) -> str:
        out, i = [], start
        for c in text:
            counts = not c.isspace() and c not in IGNORABLE
            if lo <= i < hi:
                out.append(c)
                if counts and hyphen and i == hi - 1:
                    out.append(hyphen)    # the line ended inside a word
            if counts:
                i += 1
        return "".join(out)

    def inside(el) -> bool:
        s, e = spans[el]
        return (s < hi and e > lo) if e > s else lo <= s < hi

    def build(el, top: bool):
        s, e = spans[el]
        if not top and _has_class(el, "fn-repeat"):
            whole = copy.deepcopy(el)
            whole.tail = None
            return whole
        new = etree.Element(el.tag, dict(el.attrib))
        new.text = keep(el.text or "", s)
        classes = new.get("class", "").split()
        if not top:
            if s < lo:
                classes.append("fn-cont")
                if _is_list(el):
                    before = sum(1 for c in el if isinstance(c.tag, str) and spans[c][1] <= lo
                                 and spans[c][1] > spans[c][0])
                    start = int(el.get("start", "1") or 1) - 1
                    new.set("style", (new.get("style", "") + f"; counter-reset: list-item {before + start}").lstrip("; "))
            if e > hi:
                classes.append("fn-cut")
        if classes:
            new.set("class", " ".join(dict.fromkeys(classes)))
        if s < lo and "id" in new.attrib:
            del new.attrib["id"]      # an id belongs to the piece where its element starts
        position = s + len([c for c in (el.text or "") if not c.isspace() and c not in IGNORABLE])
        previous = None
        for child in el:
            if not isinstance(child.tag, str):
                position += _count(child.tail)
                continue
            if s < lo and not inside(child) and _has_class(el, "fn-table") and _has_class(child, "fn-thead", "fn-colgroup"):
                new.append(_repeated(child))      # a table's header rows and columns on every piece
            elif _has_class(el, "fn-table") and _has_class(child, "fn-colgroup") and not inside(child):
                new.append(_repeated(child))
            elif inside(child):
                if previous is not None and not inside(previous) and spans[child][0] >= lo:
                    ghost = etree.Element(previous.tag, {k: v for k, v in previous.attrib.items() if k != "id"})
                    ghost.set("class", (ghost.get("class", "") + " fn-ghost").strip())
                    new.append(ghost)
                copy_child = build(child, False)
                copy_child.tail = keep(child.tail or "", spans[child][1])
                new.append(copy_child)
            else:
                text = keep(child.tail or "", spans[child][1])
                if text:
                    if len(new):
                        new[-1].tail = (new[-1].tail or "") + text
                    else:
                        new.text = (new.text or "") + text
            previous = child
        return new

    piece = build(root, True)
    if justify_cut:
        _justify_cut(piece)
    return piece


def _justify_cut(piece):
    """Justify the piece's last line, as it was when the paragraph was whole."""
    deepest = None
    for el in piece.iter():
        if isinstance(el.tag, str) and "fn-cut" in el.get("class", "").split():
            deepest = el
    if deepest is not None:
        block = deepest
        while block is not None and block is not piece and not _is_block(block):
            block = block.getparent()
        if block is not None and block is not piece:
            block.set("class", block.get("class", "") + " fn-cut-line")


def _has_class(el, *names) -> bool:
    return any(c in names for c in (el.get("class") or "").split())


def _repeated(el):
    """A copy of a table's header rows (or columns) for a piece the table goes on in: every
    element is marked `fn-repeat`, so its text is not counted as the note's (positions.box_text)."""
    out = copy.deepcopy(el)
    out.tail = None
    for e in out.iter():
        if isinstance(e.tag, str):
            e.attrib.pop("id", None)
            e.set("class", (e.get("class", "") + " fn-repeat").strip())
    return out


def _count(text) -> int:
    return sum(1 for c in (text or "") if not c.isspace() and c not in IGNORABLE)


def _is_list(el) -> bool:
    classes = el.get("class", "").split()
    return el.tag in ("ol", "ul") or "fn-ol" in classes or "fn-ul" in classes


def _is_block(el) -> bool:
    """Blocks inside a note are spans classed fn-<tag> (see render._inline_note)."""
    return el.tag in ("p", "div", "blockquote", "li", "dd", "dt") or any(
        c.startswith("fn-") and c not in ("fn-cut", "fn-cont", "fn-ghost", "fn-piece", "fn-cut-line")
        for c in el.get("class", "").split())
