"""Laid-out pages (WeasyPrint Document) -> layout findings, each with its page and the spot it marks.

What a typesetter checks before signing a proof: nothing outside the text area or over other
text, no overfull or loose lines, no widows or orphans, headings kept with their text, no
stray blank pages, sensible hyphenation, running heads and folios where they belong, a
contents whose page numbers are right, and (after writing) the PDF's page boxes. The checks
read `pages.read_pages()` — one walk over WeasyPrint's boxes — and never the PDF, except
`geometry`, which re-opens each written edition with pikepdf.
"""

from __future__ import annotations

import io
import re
import weakref
from collections import Counter
from dataclasses import dataclass

from imprint.codes import meanings, severity
from imprint.errors import Finding
from imprint.typeset.positions import PT_PER_PX, Line, PageView, Rect, anchor_pages, footnote_overlap, read_pages

CODES = meanings("L2")        # severities and meanings: imprint/codes.py

# Severity of every L code, the note-placement codes of imprint/jobs/inspections.py included.
SEVERITIES = {code: severity(code) for code in meanings("L")}

# A word space stretched to more than this many times its natural width opens a visible
# gap; in a column of such lines the gaps line up into rivers. InDesign's default maximum
# is 1.33 for fine setting; a greedy line breaker (WeasyPrint's) cannot keep to that, and a
# typesetter of trade books still accepts a space twice its width, rarely more.
LOOSE_LIMIT = 2.0
MAX_HYPHEN_RUN = 2        # hyphenated line ends in a row
MIN_BEFORE, MIN_AFTER = 2, 3
MAX_BLANK_RUN = 2
TOLERANCE = 1.0           # px: rounding in the layout, not a fault a reader could see
ROMAN = re.compile(r"^[ivxlcdm]+$", re.IGNORECASE)
WORD = re.compile(r"[^\W_]+")        # a word, figures in it
# A heading is not hyphenated (book.css hyphens: manual): a word too wide for it breaks only at a soft hyphen.
HEADING_HINT = ("put a soft hyphen where the word may break (\\u00ad, or &shy; in Markdown: headings are "
                "hyphenated only there), or shorten the title")


@dataclass(frozen=True)
class Mark:
    """A finding and the spot on its page it is about (None: the page as a whole)."""

    finding: Finding
    rect: Rect | None = None


def finding(code: str, message: str, page: int | None = None, hint: str | None = None) -> Finding:
    return Finding(code, SEVERITIES[code], message, hint=hint, page=page)


# Marks the line breaking puts in the text that print nothing (zero-width space, word joiner,
# the directional isolates around an address): not in a finding's words.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\u2066\u2067\u2068\u2069"))


def quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.translate(INVISIBLE).split())
    return "“" + (text if len(text) <= limit else text[:limit - 1] + "…") + "”"


def ending(text: str, limit: int = 30) -> str:
    text = " ".join(text.translate(INVISIBLE).split())
    return "“" + (text if len(text) <= limit else "…" + text[-(limit - 1):]) + "”"


def numbered(page: PageView) -> dict[int, str]:
    """id(line) -> 'line N' (main text) or 'note line N', counted from the top of the page."""
    where, text, notes = {}, 0, 0
    for ln in page.lines:
        if ln.region == "text":
            text += 1
            where[id(ln)] = f"line {text}"
        else:
            notes += 1
            where[id(ln)] = f"note line {notes}"
    return where


def flow(pages: list[PageView]) -> list[Line]:
    """Lines of the main text and the notes, in reading order, list markers left out."""
    return [ln for p in pages for ln in p.lines if "::" not in ln.tag]


def by_block(lines: list[Line]) -> dict[int, list[Line]]:
    blocks: dict[int, list[Line]] = {}
    for ln in lines:
        blocks.setdefault(ln.block, []).append(ln)
    return blocks


# --- The checks: PageViews -> Marks --------------------------------------------------------

def outside(pages: list[PageView]) -> list[Mark]:
    """L201 text off the page, L205 outside the text area, L206 overfull lines."""
    out = []
    for page in pages:
        where = numbered(page)
        for ln in page.lines + page.margin_lines:
            if not ln.rect.inside(page.trim, TOLERANCE):
                heading = ln.heading and WORD.search(ln.text)
                out.append(Mark(finding("L201", f"{where.get(id(ln), ln.slot)}: " + (
                    f"the heading's word {quote(max(WORD.findall(ln.text), key=len))} runs off the page" if heading
                    else f"{_what(ln)} runs off the page"), page.number,
                    HEADING_HINT if heading else "shorten the word or let the line break (a long URL or code?)"),
                                ln.rect))
        for ln in page.lines:
            if not ln.rect.inside(page.trim, TOLERANCE):
                continue
            over = ln.rect.x1 - ln.measure.x1
            if over > TOLERANCE and "::" not in ln.tag and ln.heading and WORD.search(ln.text):
                word = max(WORD.findall(ln.text), key=len)
                out.append(Mark(finding("L206", f"{where[id(ln)]}: overfull by {over * PT_PER_PX:.1f} pt, the heading's "
                                                f"word {quote(word)} is wider than the measure", page.number,
                                        HEADING_HINT),
                                ln.rect))
            elif over > TOLERANCE and "::" not in ln.tag:
                out.append(Mark(finding("L206", f"{where[id(ln)]}: overfull by {over * PT_PER_PX:.1f} pt, "
                                                f"{ending(ln.text) if ln.text.strip() else _what(ln)}", page.number,
                                        "allow a break in the long word (a soft hyphen, or a break opportunity in a URL)"),
                                ln.rect))
            elif ln.region == "footnote" and ln.tag.endswith("::after"):
                continue          # the continued-note mark, set in the foot margin (typeset/runout.py)
            elif not Rect(ln.rect.x0, ln.box.y0, ln.rect.x1, ln.box.y1).inside(page.text_area, TOLERANCE):
                out.append(Mark(finding("L205", f"{where[id(ln)]}: {quote(ln.text)} lies outside the text area",
                                        page.number, "check the margins and indents of this block"), ln.rect))
        for rect, bleed in page.images:
            if not bleed and not rect.inside(page.text_area, TOLERANCE):
                out.append(Mark(finding("L205", "an image lies outside the text area", page.number,
                                        "scale the image to the measure, or mark it `.bleed` if it is meant to run off the page"),
                                rect))
    return out


def _what(ln: Line) -> str:
    """The line's words quoted, or what it holds when it has none (a picture set in the line)."""
    return quote(ln.text) if ln.text.strip() else "a picture or other box with no text"


def overlaps(pages: list[PageView]) -> list[Mark]:
    """L202: any two lines (text, notes, running heads) whose letters cover each other."""
    out = []
    for page in pages:
        lines = sorted(page.lines + page.margin_lines, key=lambda ln: ln.rect.y0)
        for i, a in enumerate(lines):
            for b in lines[i + 1:]:
                if b.rect.y0 >= a.rect.y1:
                    break
                common = a.rect.intersection(b.rect)
                # Content areas of tightly leaded lines touch by a hair; letters over letters
                # cover a good part of the smaller line's height.
                if common and common.width > TOLERANCE and common.height > 0.3 * min(a.rect.height, b.rect.height):
                    out.append(Mark(finding("L202", f"{quote(a.text, 30)} is drawn over {quote(b.text, 30)}",
                                            page.number, "something is positioned over the text: check floats, "
                                                         "negative margins and line-height"), common))
    return out


def notes_clear(pages: list[PageView]) -> list[Mark]:
    """L203: the footnote area (its rule included) must sit below the last line of text."""
    out = []
    for page in pages:
        depth = footnote_overlap(page)
        if depth > TOLERANCE:
            area = page.footnote_area
            out.append(Mark(finding("L203", f"the footnote area overlaps the text by {depth * PT_PER_PX:.1f} pt",
                                    page.number, "the notes on this page are too long for it; shorten them"),
                            Rect(area.x0, area.y0, area.x1, area.y0 + depth)))
    return out


def contents_numbers(pages: list["BookPage"], anchors: dict[str, int]) -> list[Mark]:
    """L204: every page number printed in the contents is the page where its heading falls."""
    out = []
    for page in pages:
        for ln in page.toc:
            real = anchors.get(ln.toc_target)
            printed = re.search(r"(\d+)\s*$", ln.toc_number)
            if real is None:
                message = f"contents entry {quote(ln.text)} points at “#{ln.toc_target}”, which is not in the book"
            elif printed is None:
                message = f"contents entry {quote(ln.text)} prints no page number (its heading is on page {real})"
            elif int(printed.group(1)) != real:
                message = f"contents entry {quote(ln.text)} says page {printed.group(1)}, but the heading is on page {real}"
            else:
                continue
            out.append(Mark(finding("L204", message, page.number,
                                    "the contents must take its numbers from the layout (target-counter)"), ln.rect))
    return out


def widows_orphans(pages: list[PageView]) -> list[Mark]:
    """L207 widows, L208 orphans: a paragraph split so that one line stands alone."""
    out = []
    text = [ln for ln in flow(pages) if ln.region == "text" and not ln.heading and not ln.front and not ln.in_table]
    for lines in by_block(text).values():
        counts = Counter(ln.page for ln in lines)
        if len(counts) < 2:
            continue
        first, last = lines[0], lines[-1]
        if counts[first.page] == 1:
            out.append(Mark(finding("L208", f"orphan: {quote(first.text)} is the only line of its paragraph "
                                            f"at the foot of the page", first.page,
                                    "keep orphans: 2 in the stylesheet; if it is set, notes or a heading forced the break"),
                            first.rect))
        if counts[last.page] == 1:
            out.append(Mark(finding("L207", f"widow: {quote(last.text)} ends a paragraph alone at the top of the page",
                                    last.page, "keep widows: 2 in the stylesheet; if it is set, notes forced the break"),
                            last.rect))
    return out


def headings(pages: list[PageView]) -> list[Mark]:
    """L209: a heading keeps at least two lines of its section (or all, if fewer) on its page."""
    out = []
    lines = [ln for ln in flow(pages) if ln.region == "text" and not ln.front]
    for i, ln in enumerate(lines):
        if not ln.heading or (i + 1 < len(lines) and lines[i + 1].block == ln.block):
            continue                                  # only the last line of each heading
        if i + 1 == len(lines):
            continue
        after = lines[i + 1]
        if after.heading and after.page == ln.page:
            continue                                  # a run of headings: the last one is checked
        if ln.heading == 1 and all(o.block == ln.block for o in lines if o.page == ln.page):
            continue                                  # a title alone on its page: a part's, by design
        section = []
        for nxt in lines[i + 1:]:
            if nxt.heading:
                break
            section.append(nxt)
        same = sum(1 for s in section if s.page == ln.page)
        wanted = min(2, len(section)) if section else 1
        if same < wanted:
            what = "is the last thing on its page" if same == 0 else "has only one line of its section after it on its page"
            out.append(Mark(finding("L209", f"heading {quote(ln.text)} {what}", ln.page,
                                    "keep break-after: avoid on headings; if it is set, notes or a figure forced the break"),
                            ln.rect))
    return out


def blank_pages(pages: list["BookPage"]) -> list[Mark]:
    """L210 unintended blank pages, L211 more than two in a row."""
    out = []
    last_content = max((p.number for p in pages if not p.empty), default=0)
    run: list[BookPage] = []
    for page in pages + [None]:
        if page is not None and page.empty:
            run.append(page)
            if not page.inserted_blank and page.number < last_content:
                out.append(Mark(finding("L210", "blank page in the middle of the text", page.number,
                                        "look for an empty block with a page break, or a box too tall for the page")))
            continue
        if len(run) > MAX_BLANK_RUN:
            out.append(Mark(finding("L211", f"{len(run)} blank pages in a row (pages {run[0].number}–{run[-1].number})",
                                    run[0].number, "remove forced breaks that follow each other")))
        run = []
    return out


def hyphenation(pages: list[PageView]) -> list[Mark]:
    """L212 ladders, L213 short fragments."""
    out = []
    lines = [ln for ln in flow(pages) if not ln.heading and not ln.front]
    for block in by_block(lines).values():
        run = 0
        for n, ln in enumerate(block):
            run = run + 1 if (ln.auto_hyphen or ln.hard_hyphen) else 0
            if run == MAX_HYPHEN_RUN + 1:
                out.append(Mark(finding("L212", f"{run} hyphenated line ends in a row, down to {ending(ln.text)}",
                                        ln.page, "reword, or let the paragraph run a line longer or shorter"), ln.rect))
            if ln.auto_hyphen and n + 1 < len(block):
                before = re.search(r"(\w*)\W*$", ln.text[:-1]).group(1)
                after = re.match(r"\W*([^\W\d_]*)", block[n + 1].text).group(1)
                if len(before) < MIN_BEFORE or len(after) < MIN_AFTER:
                    out.append(Mark(finding("L213", f"hyphenation “{before}-{after}” leaves {len(before)} letter(s) "
                                                    f"before the break and {len(after)} after",
                                            ln.page, f"hyphenate-limit-chars: 6 {MIN_BEFORE} {MIN_AFTER}, or remove the "
                                                     "soft hyphen"), ln.rect))
    return out


def hyphen_share(pages: list["BookPage"]) -> list[Mark]:
    """L214: the share of the book's lines (text and notes) that end in a hyphen."""
    counted, hyphenated, auto = (sum(p.hyphens[i] for p in pages) for i in range(3))
    if not counted:
        return []
    return [Mark(finding("L214", f"{hyphenated} of {counted} lines ({100 * hyphenated / counted:.1f} %) "
                                 f"end in a hyphen, {auto} of them by hyphenation"))]


def recto_foot(pages: list[PageView]) -> list[Mark]:
    """L222: the last text line of a recto ends in a hyphen the typesetter added (the word goes
    on overleaf). Line breaking does not know the pages, so this is found, not prevented."""
    out = []
    for page in pages:
        text = [ln for ln in page.lines if ln.region == "text" and not ln.heading and not ln.front]
        if page.side == "right" and text and text[-1].auto_hyphen:
            ln = text[-1]
            out.append(Mark(finding("L222", f"the recto ends mid-word: {ending(ln.text)}", page.number,
                                    "reword the line, or let a paragraph on this page or the one before "
                                    "run a line longer or shorter"), ln.rect))
    return out


# A planned paragraph is broken as a whole (imprint/typeset/linebreak.py): a line still this
# loose has no better breaks among those the text allows. What gives it more is a break point
# in a long word or a name (names are never hyphenated unless asked), not rewording (issue 19).
LOOSE_HINT = ("a break point in a long word or name on this line or the next tightens it: a soft hyphen "
              "(&shy;) there, or `hyphenate-capitalized: true` in book.yaml to let names break")


def loose_lines(pages: list[PageView]) -> list[Mark]:
    """L215: justified lines whose word spaces stretch past LOOSE_LIMIT times their width."""
    out = []
    for page in pages:
        where = numbered(page)
        for ln in page.lines:
            if ln.natural_space and ln.word_space / ln.natural_space > LOOSE_LIMIT:
                out.append(Mark(finding("L215", f"{where[id(ln)]}: word spaces stretched to "
                                                f"{ln.word_space / ln.natural_space:.1f}× their width in {quote(ln.text)}",
                                        page.number, LOOSE_HINT),
                                ln.rect))
    return out


def page_kind(page: PageView) -> str | None:
    """What a page is for its margins: None for a text page (running head and folio), RUN_OUT for
    the rest of a long note at a chapter's end (imprint/typeset/runout.py: either is right),
    else the kind of page that has neither ("a blank page", "a chapter opening"...)."""
    text = [ln for ln in page.lines if ln.region == "text"]
    if page.empty:
        return "a blank page"
    if not text and any(ln.region == "footnote" for ln in page.lines):
        return RUN_OUT
    if not text:
        return "a page of art"          # a plate: blind, like a chapter opening
    if all(ln.front for ln in text):
        return "a front-matter page"
    if any(ln.heading == 1 for ln in text):
        return "a chapter opening"
    return None


RUN_OUT = "run-out"


def running_heads(pages: list["BookPage"]) -> list[Mark]:
    """L216-L218: running heads and folios on text pages only, and the folio is the page's number."""
    out = []
    for page in pages:
        # A running head may read as a roman numeral (an author "X", a title "Vi"): a page's
        # folio is its figures, a roman numeral only where it has none (the front matter's).
        folios = [m for m in page.margin_lines if m.text.isdigit()] \
            or [m for m in page.margin_lines if ROMAN.match(m.text)][:1]
        heads = [m for m in page.margin_lines if m not in folios]
        if page.kind == RUN_OUT:
            continue
        band = Rect(page.text_area.x0, 0, page.text_area.x1, page.text_area.y0)
        if page.kind:
            for m in page.margin_lines:
                out.append(Mark(finding("L217", f"{'folio' if m in folios else 'running head'} {quote(m.text)} "
                                                f"on {page.kind}", page.number,
                                        "switch the margin boxes off for this page in the stylesheet"), m.rect))
            continue
        if not folios:
            out.append(Mark(finding("L216", "text page without a folio", page.number,
                                    "the @page rules must print counter(page) on every text page"), band))
        if not heads:
            out.append(Mark(finding("L216", "text page without a running head", page.number,
                                    "the @page rules must print the running head on every text page"), band))
        for m in folios:
            if m.text.isdigit() and int(m.text) != page.number:
                out.append(Mark(finding("L218", f"folio {m.text} on page {page.number}", page.number,
                                        "do not reset the page counter: page N must print N"), m.rect))
    return out


def _opening(page: PageView) -> str | None:
    """The title a page opens a chapter (or part) with, else None."""
    titles = [ln for ln in page.lines if ln.region == "text" and ln.heading == 1 and not ln.front]
    return " ".join(ln.text for ln in titles if ln.block == titles[0].block) if titles else None


def continued_on_opening(pages: list[PageView]) -> list[Mark]:
    """L224: a note (or the rest of a long note) from a page before sits in the footnote area of
    a chapter's opening page, under a title it has nothing to do with. imprint/typeset/runout.py
    gives a chapter's end a page of its own for such a note; this finds what that could not mend."""
    out, called = [], {}
    for page in pages:
        title = _opening(page)
        for number, piece in page.note_pieces:
            if title is None or number in page.calls or number not in called:
                continue
            what = "continues" if piece else "is carried whole"
            out.append(Mark(finding("L224", f"note {number}, called on page {called[number]}, {what} onto the opening "
                                            f"page of {quote(title)}", page.number,
                                    "shorten the note, call it earlier in its chapter, or make it an endnote: "
                                    "the chapter before should hold all of it"),
                            page.footnote_area))
        for number in page.calls:
            called.setdefault(number, page.number)
    return out


WHITE_SHARE = 1 / 3       # a page whose text and notes fill less of the text block looks left empty


def white_pages(pages: list[PageView]) -> list[Mark]:
    """L225: a page in the middle of a chapter whose text and notes fill less than WHITE_SHARE of
    the text block: two lines and then white, because what came next (a note, a figure, a table
    kept whole) did not fit and moved on. Not a blank page, front matter, a part's or plate's
    page, nor a page before a break (the next page opens a chapter or starts with a heading,
    or there is none): there the white is the design's."""
    out = []
    drawn = [p for p in pages if not p.empty]
    for k, page in enumerate(drawn):
        text = [ln for ln in page.lines if ln.region == "text"]
        if not text or any(ln.front for ln in text) or page.name in ("part", "plate", "front"):
            continue
        after = drawn[k + 1] if k + 1 < len(drawn) else None
        first = next((ln for ln in after.lines if ln.region == "text"), None) if after is not None else None
        if first is None or first.heading or first.front or after.name in ("part", "plate", "front"):
            continue                              # the end of a chapter, the text, or before art
        area = page.text_area
        bottom = max([ln.box.y1 for ln in text] + [r.y1 for r, _ in page.images if r.y1 <= area.y1 + TOLERANCE])
        notes = area.y1 - page.footnote_area.y0 if page.footnote_area is not None else 0.0
        filled = max(0.0, bottom - area.y0) + notes
        if filled < WHITE_SHARE * area.height:
            white = (area.height - filled) * PT_PER_PX
            out.append(Mark(finding("L225", f"{len(text)} line(s) of text, then {white:.0f} pt of white: the page is "
                                            f"{100 * filled / area.height:.0f} % full, and the text goes on overleaf "
                                            f"({quote(first.text, 30)})", page.number,
                                    "what follows did not fit here and moved on (a long note, a figure, a table kept "
                                    "whole): shorten or split it, or move its call or place"),
                            Rect(area.x0, bottom, area.x1, page.footnote_area.y0 if page.footnote_area else area.y1)))
    return out


def foot(page: PageView) -> float | None:
    """The baseline of a page's last line of text, body or note (px), None without one; the
    continued-note mark hanging under a note (a note's ::after) is no line of its text block."""
    feet = [ln.baseline for ln in page.lines
            if ln.region in ("text", "footnote") and not ln.front and not ln.tag.endswith("::after")]
    return max(feet) if feet else None


def _opens(page: PageView) -> bool:
    """Whether a page opens a chapter: a chapter's title, or a heading first and no running head
    or folio (the design leaves them off an opening page; L217)."""
    first = next((ln for ln in page.lines if ln.region == "text"), None)
    return bool(_opening(page) or (first is not None and first.heading and not page.margin_lines))


# How far spreads.py runs a page short to match its facing page (imprint/typeset/fence/spreads.py
# MAX_BLOCK_SHORT_LINES, facing a page that ends that short on its own), in lines.
SHORT_AT_MOST = 6


def _why_short(short: PageView, after: PageView | None, apart: float) -> tuple[str, str]:
    """Why a page ends `apart` px above its facing page, read off the page its text goes on to
    (`after`): what stands first there, and what the author can do. (reason, hint)"""
    first = next((ln for ln in after.lines if ln.region == "text" and not ln.front), None) if after else None
    body = [ln.baseline for ln in short.lines if ln.region == "text"]
    steps = Counter(round(b - a, 1) for a, b in zip(body, body[1:]) if b > a)
    leading = steps.most_common(1)[0][0] * PT_PER_PX if steps else 0.0
    lines = SHORT_AT_MOST * leading if steps else float("inf")
    if leading and apart * PT_PER_PX < leading / 2:
        return (": less than a line apart, where lines set in a leading of their own (a table's rows, a "
                "quotation) left the page's last baseline off the body's grid",
                "give the table or quotation the body's line height (styles/book.css), or a spread's paragraph "
                "a line more or less")
    if first is None:
        return ("", "a paragraph on the spread a line longer or shorter evens it")
    text = [ln for ln in after.lines if ln.region == "text" and not ln.front]
    if first.in_table:      # a table's cells are blocks of their own: the table is its rows from the top
        block = text[:next((i for i, ln in enumerate(text) if not ln.in_table), len(text))]
    else:
        block = [ln for ln in text if ln.block == first.block]
    tall = (max(ln.box.y1 for ln in block) - min(ln.box.y0 for ln in block)) * PT_PER_PX
    room = apart * PT_PER_PX
    if first.in_table and tall > room:
        return (f": a table {tall:.0f} pt tall, which does not split there, did not fit in the {room:.0f} pt "
                f"left at its foot" + (f", and a facing page runs at most {SHORT_AT_MOST} lines short to match"
                                       if room > lines else ""),
                "split the table (a header row repeats), shorten it, or move it where a page has room for it")
    notes = [ln for ln in after.lines if ln.region == "footnote"]
    number = after.note_pieces[0][0] if after.note_pieces else None
    called = next((ln for ln in text if number in ln.calls), None)
    # the note's call in the lines the white on the short page would have held (a call further
    # down the page did not send those lines on)
    if notes and called is not None and called.box.y1 - text[0].box.y0 <= apart + (leading / PT_PER_PX or 0) + TOLERANCE:
        # a long note is set in pieces (imprint/typeset/longnotes.py), each a block of its own:
        # the note is its pieces at the head of the note area, not its first piece alone
        pieces = next((k for k, (n, _) in enumerate(after.note_pieces) if n != number), len(after.note_pieces))
        blocks = list(dict.fromkeys(ln.block for ln in notes))[:pieces]
        note = [ln for ln in notes if ln.block in blocks]
        height = (max(ln.box.y1 for ln in note) - min(ln.box.y0 for ln in note)) * PT_PER_PX
        if height > room / 2:
            return (f": note {number} ({height:.0f} pt) and its call's line (with the lines kept with it) did not "
                    f"fit in the {room:.0f} pt left and went on to the next page together" + (f", and a facing page runs at most {SHORT_AT_MOST} lines "
                                                              "short to match" if room > lines else ""),
                    f"shorten note {number}, or move its call earlier in its paragraph")
    if first.heading:
        return (": a heading kept with its text went to the next page", "a paragraph on the spread a line longer "
                "or shorter evens it")
    if any(ln.block == first.block for ln in short.lines):
        return (": a widow kept (the paragraph's last lines went on together)", "a paragraph on the spread a line "
                "longer or shorter evens it")
    return (f": the opening lines of a {'quotation' if first.measure.x0 > short.text_area.x0 + 4 else 'paragraph'} "
            "went on together (an orphan kept)", "a paragraph on the spread a line longer or shorter evens it")


def _display_matter_follows(pages: list[PageView], k: int) -> bool:
    """Whether pages[k] starts with a table and nothing but tables (their rows, captions and
    notes) follows it to the chapter's end: the chapter's running text ended on the page before.

    A typesetter accepts a short page there, as at a chapter's end: the text is done, and the
    tables after it (WoN's tables of prices at the end of Book I chapter xi) are matter of their
    own, which starts at the head of a page when it cannot start at the foot of the last page of
    text (a table whose header rows call notes cannot start without its notes under it). A table
    followed by more of the chapter's text is no such case: the page before it still counts."""
    first = next((ln for ln in pages[k].lines if ln.region == "text" and not ln.front), None)
    if first is None or not first.in_table:
        return False
    for page in pages[k:]:
        if page is not pages[k] and (page.empty or page.inserted_blank or _opens(page)):
            return True
        if any(ln.region == "text" and not ln.front and not ln.in_table and ln.tag != "caption" for ln in page.lines):
            return False
    return True


def uneven_spreads(pages: list[PageView]) -> list[Mark]:
    """L226: a verso and the recto facing it whose text blocks end on different baselines
    (imprint/typeset/fence/spreads.py runs spreads short together; this names what it could
    not even, and why: what went on to the next page from the page that runs short). A spread
    where a chapter ends is left out: the recto opens a chapter, or the page after it is
    blank, missing, or opens a chapter; so are front matter, parts and plates. So is a spread
    whose short page ends the chapter's running text before the tables that close the chapter
    (`_display_matter_follows`)."""
    out = []
    by_number = {p.number: p for p in pages}
    for verso in pages:
        recto = by_number.get(verso.number + 1)
        if verso.side != "left" or recto is None or recto.side != "right":
            continue
        if any(p.empty or p.inserted_blank or p.name in ("part", "plate", "front") for p in (verso, recto)):
            continue
        after = by_number.get(recto.number + 1)
        if _opens(recto) or after is None or after.empty or after.inserted_blank or _opens(after):
            continue
        low_v, low_r = foot(verso), foot(recto)
        if low_v is None or low_r is None or abs(low_v - low_r) <= TOLERANCE:
            continue
        apart = abs(low_v - low_r) * PT_PER_PX
        short = verso if low_v < low_r else recto
        following = recto if short is verso else after
        if _display_matter_follows(pages, next(i for i, p in enumerate(pages) if p is following)):
            continue
        reason, hint = _why_short(short, following, abs(low_v - low_r))
        # the page numbers in the message would be a part's own in a book set in parts: the
        # finding's page (the verso's, rebased when parts are joined) says where
        out.append(Mark(finding("L226", f"this page and the recto facing it end {apart:.1f} pt apart: the "
                                        f"{'verso' if short is verso else 'recto'} runs short{reason}", verso.number,
                                hint),
                        Rect(short.text_area.x0, foot(short), short.text_area.x1, short.text_area.y1)))
    return out


CHECKS = (outside, overlaps, notes_clear, widows_orphans, headings, hyphenation, recto_foot, loose_lines,
          continued_on_opening, white_pages, uneven_spreads)


# --- The whole book's checks --------------------------------------------------------------
# What only the whole book can judge: the contents' page numbers, blank pages, running heads
# and folios, the share of hyphenated lines, the page geometry as written (WHOLE_BOOK_ONLY).
# They read a BookPage, a slim view of a page, so that a book set in parts
# (imprint/jobs/chapters.py) runs them on its joined pages: each part's pages, the running
# heads and folios the overlay stamps on them, the blank versos the join inserts.

@dataclass(frozen=True)
class BookPage:
    number: int
    width: float                 # trim size, px
    height: float
    bleed: tuple[float, float, float, float]
    text_area: Rect
    empty: bool
    inserted_blank: bool
    kind: str | None             # page_kind()
    margin_lines: tuple[Line, ...]
    toc: tuple[Line, ...]        # the contents' entries on the page
    hyphens: tuple[int, int, int] = (0, 0, 0)    # lines counted for L214, ending in a hyphen, by hyphenation

    @property
    def trim(self) -> Rect:
        return Rect(0.0, 0.0, self.width, self.height)


def book_page(page: PageView) -> BookPage:
    counted = [ln for ln in page.lines if ln.region in ("text", "footnote") and not ln.heading and not ln.front
               and "::" not in ln.tag]
    return BookPage(page.number, page.width, page.height, page.bleed, page.text_area, page.empty,
                    page.inserted_blank, page_kind(page), page.margin_lines,
                    tuple(ln for ln in page.lines if ln.toc_target),
                    (len(counted), sum(1 for ln in counted if ln.auto_hyphen or ln.hard_hyphen),
                     sum(1 for ln in counted if ln.auto_hyphen)))


def blank_book_page(number: int, like: BookPage) -> BookPage:
    """The blank verso the join inserts before a part that would start on a left-hand page."""
    return BookPage(number, like.width, like.height, like.bleed, like.text_area, True, True, "a blank page", (), ())


BOOK_CHECKS = (blank_pages, hyphen_share, running_heads)


def book_checks(pages: list[BookPage], anchors: dict[str, int]) -> list[Mark]:
    """The whole book's layout findings (WHOLE_BOOK_ONLY but L220, which geometry() gives)."""
    marks = contents_numbers(pages, anchors)
    for check in BOOK_CHECKS:
        marks += check(pages)
    return marks


def mark_data(pages: list[BookPage], marks: list[Mark]) -> list[dict]:
    """Where each finding sits on its page, in PDF points from the trim's top-left corner, for
    the proof to draw (plain data, so it can leave the job)."""
    out = []
    for m in marks:
        if m.finding.page is None:
            continue
        page = pages[m.finding.page - 1]
        out.append({"code": m.finding.code, "page": m.finding.page, "message": m.finding.message,
                    "rect": list(m.rect.points()) if m.rect else None,
                    "trim": [round(page.width * PT_PER_PX, 2), round(page.height * PT_PER_PX, 2)],
                    "bleed": [round(b * PT_PER_PX, 2) for b in page.bleed]})
    return out


# --- Inside the typesetting job ------------------------------------------------------------

_DONE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def analyse(document) -> tuple[list[PageView], list[Mark]]:
    """Every layout check over the document, computed once per document."""
    if document not in _DONE:
        pages = read_pages(document)
        marks = book_checks([book_page(p) for p in pages], anchor_pages(document))
        for check in CHECKS:
            marks += check(pages)
        _DONE[document] = (pages, marks)
    return _DONE[document]


# What a part of a book set in parts (imprint/jobs/chapters.py) cannot judge on its own pages: its
# contents hold stand-ins for the other parts' headings, its running heads and folios are
# stamped on after joining, and the shares and geometry are the whole book's. They are judged on
# the joined book (book_checks, geometry).
WHOLE_BOOK_ONLY = {"L204", "L210", "L211", "L214", "L216", "L217", "L218", "L220"}


def _whole_book(job, mark) -> bool:
    return not (getattr(job, "part", None) and mark.finding.code in WHOLE_BOOK_ONLY)


def inspect(document, job) -> list[Finding]:
    """INSPECTIONS entry: the layout findings."""
    return [m.finding for m in analyse(document)[1] if _whole_book(job, m)]


def marks(document, job) -> list[dict]:
    """EXTRACTS entry: where each finding sits on its page, for the proof."""
    pages = analyse(document)[0]
    return mark_data(pages, [m for m in analyse(document)[1] if _whole_book(job, m)])


def book_pages(document, job) -> list[BookPage]:
    """EXTRACTS entry: the slim view of every page the whole book's checks read."""
    return [book_page(p) for p in analyse(document)[0]]


# --- After writing: the page boxes in the PDF -----------------------------------------------

@dataclass(frozen=True)
class PdfBoxes:
    media: tuple[float, ...]
    trim: tuple[float, ...] | None
    bleed: tuple[float, ...] | None


def pdf_boxes(pdf: bytes) -> list[PdfBoxes]:
    """MediaBox, TrimBox and BleedBox of every page of a written PDF, in points."""
    import pikepdf

    def box(page, name):
        value = page.obj.get(name)
        return tuple(round(float(v), 2) for v in value) if value is not None else None

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return [PdfBoxes(box(p, "/MediaBox"), box(p, "/TrimBox"), box(p, "/BleedBox")) for p in doc.pages]


def geometry(document, job, edition, pdf: bytes) -> list[Finding]:
    """VERIFICATIONS entry: page_geometry() of the document's pages (a part of a book set in
    parts gives no L220: its pages are not the book's)."""
    found = page_geometry(analyse(document)[0], edition, pdf)
    return [f for f in found if f.code != "L220"] if getattr(job, "part", None) else found


def page_geometry(pages, edition, pdf: bytes) -> list[Finding]:
    """L219/L220: each page of the written edition has the TrimBox and BleedBox of its laid-out
    page (the edition keeps the layout's bleed or cuts it off); padding pages the edition adds
    at the end have the geometry of the last page. `pages`: PageViews or BookPages."""
    written = pdf_boxes(pdf)
    keeps_bleed = getattr(edition, "bleed", True)
    wrong: list[tuple[int, str]] = []
    if len(written) < len(pages) or (len(written) > len(pages) and not getattr(edition, "pads", False)):
        wrong.append((1, f"the PDF has {len(written)} pages, the layout {len(pages)}"))
    for number, boxes in enumerate(written, start=1):
        n = len(pages)     # a padding page takes the geometry of the last laid-out page of its side
        page = pages[(number if number <= n else n if (number - n) % 2 == 0 else max(n - 1, 1)) - 1]
        w, h = round(page.width * PT_PER_PX, 2), round(page.height * PT_PER_PX, 2)
        top, right, bottom, left = (round(b * PT_PER_PX, 2) if keeps_bleed else 0.0 for b in page.bleed)
        if boxes.trim is None:
            wrong.append((number, "no TrimBox"))
            continue
        # Where the PDF puts its origin is the writer's choice; sizes and offsets are what count.
        x0, y0, x1, y1 = boxes.trim
        bleed = (x0 - left, y0 - bottom, x1 + right, y1 + top)
        if not _same((x1 - x0, y1 - y0), (w, h)):
            wrong.append((number, f"TrimBox {x1 - x0:g} × {y1 - y0:g} pt instead of {w:g} × {h:g} pt"))
        elif boxes.bleed is None or not _same(boxes.bleed, bleed):
            wrong.append((number, f"BleedBox {list(boxes.bleed or ())} instead of {list(bleed)}"))
        elif not _same(boxes.media, bleed) and not _contains(boxes.media, bleed):
            wrong.append((number, f"MediaBox {list(boxes.media)} does not hold the BleedBox {list(bleed)}"))
    sizes = Counter((round(p.width * PT_PER_PX, 2), round(p.height * PT_PER_PX, 2)) for p in pages)
    out = []
    if len(sizes) > 1:
        (w, h), _ = sizes.most_common(1)[0]
        odd = [p.number for p in pages if (round(p.width * PT_PER_PX, 2), round(p.height * PT_PER_PX, 2)) != (w, h)]
        out.append(Finding("L219", "warning", f"{len(odd)} page(s) differ from the book's {w:g} × {h:g} pt page, "
                                              f"first page {odd[0]}", page=odd[0], edition=edition.name,
                           hint="a named page in the stylesheet sets another size"))
    if wrong:
        page, what = wrong[0]
        more = f" (and {len(wrong) - 1} more page(s))" if len(wrong) > 1 else ""
        out.append(Finding("L219", "warning", f"{what}{more}", page=page, edition=edition.name,
                           hint="the PDF writer did not keep the layout's page boxes"))
    if pages:
        (w, h), _ = sizes.most_common(1)[0]
        bleed = max(pages[0].bleed) * PT_PER_PX if keeps_bleed else 0.0
        out.append(Finding("L220", "info", f"{len(written)} pages, trim {w / 72:g} × {h / 72:g} in ({w:g} × {h:g} pt), "
                                           f"bleed {bleed / 72:g} in", edition=edition.name))
    return out


def _same(a, b, tolerance: float = 0.05) -> bool:
    return a is not None and len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b))


def _contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]
