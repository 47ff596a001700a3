"""A typesetting Job for a whole book -> the same Layout, made from parts that each start on a
new recto page (the chapters of a book: level-1 sections, or the level-2 sections of a part
of the book, each with its part's title page as a part of its own), typeset in parallel
processes or taken from the cache, then joined.

The text never depends on where a part starts: every part begins on a right-hand page, so
its lines and pages are those of one unsplit layout. What does depend on the page numbers
is settled after the parts are counted: the contents (the front part is set last, its page
numbers written in), the running heads and folios (one overlay document, laid out by
WeasyPrint for the whole book from each page's name and named strings, stamped on the text
pages), and the outline, links and tags (imprint/jobs/join.py). A book whose stylesheets use
something a part cannot know (counters running across chapters, `target-text`, running
elements) is set in one piece, as is any book when Settings.parts is never (IMPRINT_PARTS=never).
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import html as lhtml

from imprint import cache
from imprint import settings
from imprint.jobs import join, resetting
from imprint.jobs.pool import run_cached
from imprint.jobs.resetting import add_stand_ins
from imprint.jobs.job import Job, Layout, _css_for
from imprint.typeset import fence
from imprint.html.render import split_part
from imprint.typeset.positions import BLOCK
from imprint.errors import Finding
from imprint.checks import pages as page_checks

# Below this much HTML a book is set in one piece (IMPRINT_PARTS=auto). Parts cost about a
# second more of work (the front matter set twice, the running heads' overlay, the join) and
# gain the second core and edits that set one part again. Measured (docs/speed.md, 2026-12-03):
# the essay in book/ (54,000 characters, one part) takes 1.1 CPU s more cold in parts; the
# Communist Manifesto (100,000, six parts) is set sooner cold in parts than whole.
SPLIT_MIN_CHARS = 75_000
# A book of one part (an essay's run-on text) gains no second core from being split, only its
# edits: it is split from the old threshold on, where the overlay and the join are a few
# percent of its cold build.
ONE_PART_MIN_CHARS = 250_000
MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner",
                "right-top", "right-middle", "right-bottom", "bottom-right-corner", "bottom-right",
                "bottom-center", "bottom-left", "bottom-left-corner", "left-bottom", "left-middle", "left-top")
# The text parts are set without running heads and folios; the overlay supplies them.
NO_MARGIN_BOXES = "@page { " + " ".join(f"@{m} {{ content: none !important; }}" for m in MARGIN_BOXES) + " }\n"
OVERLAY_CSS = """
.imprint-overlay-page { display: block; height: 0; margin: 0; padding: 0; border: 0; break-before: page; }
.imprint-overlay-front > .imprint-overlay-page:first-child,
section > .imprint-overlay-page:first-child, main > .imprint-overlay-page:first-child { break-before: auto; }
.imprint-overlay-string { display: block; height: 0; margin: 0; }
"""
# What a part cannot know about the rest of the book.
UNSUPPORTED_CSS = re.compile(r"counter-(?:reset|increment|set)\s*:|running\s*\(|element\s*\(|target-text\s*\(|"
                             r"counter\s*\(\s*pages\s*\)|counters\s*\(\s*pages")
# What the first page of a piece of the overlay would get wrong: `:first` rules, and a named
# string's value at the page's start (carried from a page of another piece).
FIRST_OR_START = re.compile(r":first(?![\w-])|string\(\s*[\w-]+\s*,\s*(?:start|first-except)\s*\)")
TARGET_PAGE = re.compile(r"target-counter\(\s*attr\(\s*href(?:\s+url)?\s*\)\s*,\s*page\s*\)")
PSEUDO_ELEMENT = re.compile(r"(::?(?:before|after|marker|first-line|first-letter))\s*$")


def mode() -> str:
    """The build's Settings.parts: auto (split books big enough to gain), always, or never
    (IMPRINT_PARTS its default, imprint/settings.py)."""
    return settings.current().parts


# --- splitting ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    kind: str                      # "front" or "text"
    html: str                      # the part's complete document (front: before its page numbers are known)
    owned: frozenset               # element ids set in this part
    stand_ins: frozenset           # ids of other parts it links to: empty spans so its links survive
    notes: tuple                   # note numbers called in this part
    blocks: tuple = ()             # a digest of each block of a chapter, in order (imprint/jobs/resetting.py)
    opening: str = ""              # the chapter's opening tag


@dataclass(frozen=True)
class Split:
    front: Part
    texts: tuple[Part, ...]
    front_links: tuple             # ids of other parts the front part prints page numbers for
    page_rules: str                # CSS: target-counter(page) rules, reading a written-in page number
    overlay_head: str              # the document's head, for the overlay
    skeleton: tuple                # (html attrs, body attrs, main attrs) as serialised tags
    section_tags: tuple            # the opening tags of each text part's level-1 section (and chapter)
    overlay_splits: bool = False   # the overlay may be set in pieces (no `:first` page, no string(.., start))


def split(job: Job) -> Split | None:
    """The book's parts, or None when it must be set in one piece."""
    if job.part is not None or mode() == "never":
        return None
    if mode() == "auto" and len(job.html) < SPLIT_MIN_CHARS:
        return None
    from imprint.jobs.inspections import EXTRACTS
    if any(name not in MERGES for name in EXTRACTS):
        return None                 # an extract whose page numbers we would not know how to join
    doc = lhtml.document_fromstring(job.html)
    body = doc.find("body")
    form = set(body.get("class", "").split()) & {"book", "essay"} if body is not None else set()
    if not form:
        return None
    main = next((el for el in body if el.tag == "main" and "text" in el.get("class", "").split()), None)
    if main is None:
        return None
    css = _stylesheets(doc, job)
    if UNSUPPORTED_CSS.search(_strip_page_counters(css)):
        return None
    page_rules = _page_number_rules(css)
    if page_rules is None:
        return None

    children = list(main)
    if "essay" in form:
        # An essay's sections run on from its opening title: the whole text is one part (a
        # chapter that starts on a recto), set again after an edit only from the last clean
        # page start before the change (imprint/jobs/resetting.py).
        first = 0
        groups = [children] if children else []
    else:
        first = next((i for i, el in enumerate(children) if _is_chapter(el)), None)
        if first is None:
            return None
        groups = []
        for el in children[first:]:
            if _is_chapter(el):
                groups += [[piece] for piece in split_part(el)]     # a part: its title, its chapters
            else:
                groups[-1].append(el)      # runs on after its chapter, as it would unsplit
    if not groups or (mode() == "auto" and len(groups) == 1 and len(job.html) < ONE_PART_MIN_CHARS):
        return None
    before = [el for el in body if el is not main and _precedes(body, el, main)]
    after = [el for el in body if el is not main and not _precedes(body, el, main)]
    lead = children[:first]

    skeleton = (_open_tag(doc), _open_tag(body), _open_tag(main))
    head = lhtml.tostring(doc.find("head"), encoding="unicode")
    all_ids = {el.get("id") for el in doc.iter() if isinstance(el.tag, str) and el.get("id")}

    texts = []
    for k, group in enumerate(groups):
        tail = after if k == len(groups) - 1 else []
        texts.append(_part("text", group, tail, [], skeleton, head, all_ids))
    front = _part("front", before, [], lead, skeleton, head, all_ids)
    if page_rules:
        selectors = _page_rule_targets(page_rules)
        import cssselect2
        for part in texts:
            wrapped = cssselect2.ElementWrapper.from_html_root(lhtml.document_fromstring(part.html))
            if any(next(wrapped.query_all(s), None) is not None for s in selectors if s):
                return None         # a page number printed inside the text: it would be unknown
    front_links = tuple(sorted(front.stand_ins))
    return Split(front, tuple(texts), front_links, page_rules, head, skeleton,
                 tuple(_opening_tags(group[0]) for group in groups), overlay_splits=not FIRST_OR_START.search(css))


def _is_chapter(el) -> bool:
    return isinstance(el.tag, str) and el.tag == "section" and "level1" in el.get("class", "").split()


def _opening_tags(el) -> str:
    """The opening tags the overlay's pages of a part sit in: its section's, and for a chapter
    of a part of the book the chapter's too (it names the chapter's pages). An essay's text is no
    section: its pages sit in the main element itself."""
    if el.tag != "section":
        return ""
    tags = _open_tag(el)
    inner = next((c for c in el if isinstance(c.tag, str)), None)
    if "part" in el.get("class", "").split() and el.get("id") is None and inner is not None and inner.tag == "section":
        tags += _open_tag(inner)
    return tags


def _precedes(parent, a, b) -> bool:
    return parent.index(a) < parent.index(b)


def _open_tag(el) -> str:
    from html import escape

    return f"<{el.tag}" + "".join(f' {k}="{escape(v)}"' for k, v in el.attrib.items()) + ">"


def _part(kind, group, after, lead, skeleton, head, all_ids) -> Part:
    """One part as a complete document: the same head, body and main, holding only its own text."""
    elements = [copy.deepcopy(el) for el in (group if kind == "text" else lead)]
    outside = [copy.deepcopy(el) for el in (after if kind == "text" else group)]
    owned, links, notes = set(), set(), []
    for el in elements + outside:
        for node in el.iter():
            if not isinstance(node.tag, str):
                continue
            if node.get("id"):
                owned.add(node.get("id"))
                if re.fullmatch(r"fnref\d+", node.get("id")):
                    notes.append(int(node.get("id")[5:]))
            href = node.get("href", "")
            if node.tag == "a" and href.startswith("#") and len(href) > 1:
                links.add(unquote(href[1:]))
    blocks = _number_blocks(elements) if kind == "text" else ()
    stand_ins = frozenset(i for i in links - owned if i in all_ids)
    if stand_ins:
        add_stand_ins(elements + outside, stand_ins)
    html_attrs, body_attrs, main_attrs = skeleton
    serialise = lambda els: "".join(lhtml.tostring(e, encoding="unicode") for e in els)
    if kind == "text":
        body = f"{main_attrs}{serialise(elements)}</main>{serialise(outside)}"
    else:
        body = serialise(outside) + (f"{main_attrs}{serialise(elements)}</main>" if elements else "")
    text = f"<!DOCTYPE html>\n{html_attrs}{head}{body_attrs}{body}</body></html>\n"
    opening = _open_tag(elements[0]) if kind == "text" and elements else ""
    return Part(kind, text, frozenset(owned), stand_ins, tuple(sorted(notes)), blocks, opening)


def _number_blocks(elements) -> tuple[str, ...]:
    """Number the chapter's blocks (the children of its sections, sections within sections
    looked into) and return a digest of each, in order."""
    signatures = []

    def walk(nodes):
        for node in nodes:
            if not isinstance(node.tag, str):
                continue
            if node.tag == "section":
                walk(node)
            else:
                signatures.append(cache.digest(lhtml.tostring(node, encoding="unicode", with_tail=False)))
                node.set(BLOCK, str(len(signatures) - 1))

    walk(elements)
    return tuple(signatures)


def _stylesheets(doc, job) -> str:
    """The text of every stylesheet the document uses (our own styles/ and the page CSS)."""
    texts = [job.page_css]
    for link in doc.iter("link"):
        if "stylesheet" in link.get("rel", "") and link.get("href", "").startswith("file:"):
            path = Path(unquote(urlparse(link.get("href")).path))
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except OSError:
                pass
    texts += [style.text or "" for style in doc.iter("style")]
    return "\n".join(texts)


def _strip_page_counters(css: str) -> str:
    # Page counters are the overlay's business (it is one document), footnote counters unused.
    return re.sub(r"counter-(?:reset|increment|set)\s*:\s*(?:page|footnote)\b[^;}]*", "", css)


def _page_number_rules(css: str) -> str | None:
    """Each rule that prints `target-counter(attr(href), page)`, remade to print a written-in
    `data-imprint-page` (the front part's page numbers); None if any other target-counter is used."""
    import tinycss2

    rules = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            if rule.type == "at-rule" and "target-counter" in tinycss2.serialize(rule.content or []):
                if rule.lower_at_keyword != "page":
                    return None
            continue
        body = tinycss2.serialize(rule.content)
        if "target-counter" not in body:
            continue
        declarations = []
        for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
            if decl.type != "declaration":
                continue
            value = tinycss2.serialize(decl.value)
            if "target-counter" in value:
                replaced = TARGET_PAGE.sub("attr(data-imprint-page)", value)
                if "target-counter" in replaced:
                    return None
                declarations.append(f"{decl.name}: {replaced} !important;")
        selectors = []
        for selector in tinycss2.serialize(rule.prelude).split(","):
            selector = selector.strip()
            match = PSEUDO_ELEMENT.search(selector)
            at = match.start() if match else len(selector)
            selectors.append(selector[:at] + "[data-imprint-page]" + selector[at:])
        rules.append(", ".join(selectors) + " { " + " ".join(declarations) + " }")
    return "\n".join(rules)


def _page_rule_targets(rules: str) -> list[str]:
    out = []
    for line in rules.splitlines():
        for selector in line.split("{")[0].split(","):
            selector = PSEUDO_ELEMENT.sub("", selector.replace("[data-imprint-page]", "").strip())
            out.append(selector)
    return out


def front_html(split_: Split, pages: dict[str, int]) -> str:
    """The front part with the page number of every link into the text written in."""
    if not split_.page_rules:
        return split_.front.html
    doc = lhtml.document_fromstring(split_.front.html)
    for a in doc.iter("a"):
        target = unquote(a.get("href", "")[1:]) if a.get("href", "").startswith("#") else None
        if target in split_.front.stand_ins and target in pages:
            a.set("data-imprint-page", str(pages[target]))
    return lhtml.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")


# --- placing the parts -------------------------------------------------------------------

@dataclass
class Placement:
    """Where each part's pages fall in the joined book (0-based page indices)."""

    starts: list[int]
    counts: list[int]
    blanks: list[int]               # blank versos inserted before a recto start
    total: int

    @classmethod
    def of(cls, counts: list[int]) -> "Placement":
        starts, blanks, at = [], [], 0
        for k, count in enumerate(counts):
            if k and at % 2 == 1:   # the next part must start on a right-hand (odd-numbered) page
                blanks.append(at)
                at += 1
            starts.append(at)
            at += count
        return cls(starts, list(counts), blanks, at)


@dataclass(frozen=True)
class Segment:
    """Pages [first, stop) of one layout, standing at `start` (0-based) in the joined book."""

    layout: Layout
    first: int
    stop: int
    start: int = 0
    stand_ins: frozenset = frozenset()

    @property
    def pages(self) -> int:
        return self.stop - self.first

    def book_page(self, page: int) -> int | None:
        """The book's 1-based page number of the layout's 1-based page, if this segment holds it."""
        return page - self.first + self.start if self.first < page <= self.stop else None


def merge_anchors(segments, placement) -> dict:
    merged: dict[str, int] = {}
    for seg in segments:
        for name, page in seg.layout.extracts["anchors"].items():
            at = seg.book_page(page)
            if at is not None and name not in seg.stand_ins:
                merged.setdefault(name, at)
    return merged


def merge_plan(segments, placement) -> list:
    merged: list = [None] * placement.total
    for seg in segments:
        merged[seg.start:seg.start + seg.pages] = seg.layout.extracts["page_plan"][seg.first:seg.stop]
    for at in placement.blanks:
        after = merged[at + 1] if at + 1 < len(merged) and merged[at + 1] else {"name": "", "height": 0}
        merged[at] = {"name": after["name"], "side": "left", "blank": True, "drawn": False, "strings": [],
                      "height": after["height"], "area": None, "bookmarks": []}
    return merged


def merge_pagemap(segments, placement) -> tuple:
    """The print page map (imprint/typeset/pagemap.py): each part's page starts, labelled with the book's folios."""
    merged = []
    for seg in segments:
        for start in seg.layout.extracts["pagemap"]:
            at = seg.book_page(int(start.label))
            if at is not None:
                merged.append(dataclasses.replace(start, label=str(at)))
    return tuple(merged)


def merge_cuts(segments, placement) -> list:
    return [(seg.start + page - seg.first, block, side) for seg in segments
            for page, block, side in seg.layout.extracts["cuts"] if seg.first <= page < seg.stop]


_FRONT_PAGE = {"name": "", "side": "right", "blank": False, "drawn": True, "strings": [], "height": 0,
               "area": None, "bookmarks": []}

# An extract whose data carries page numbers needs a merge here, or books are set in one piece.
def merge_marks(segments, placement) -> list:
    """The proof's marks (imprint/checks/pages.py `marks`), with the book's page numbers."""
    return [{**mark, "page": at} for seg in segments for mark in seg.layout.extracts["marks"]
            if (at := seg.book_page(mark["page"])) is not None]


def merge_page_refs(segments, placement) -> list:
    """The page numbers printed for page references and the index (imprint/typeset/printed.py), on the book's pages."""
    return [{**ref, "page": at} for seg in segments for ref in seg.layout.extracts["page_refs"]
            if (at := seg.book_page(ref["page"])) is not None]


def merge_book_pages(segments, placement) -> list:
    """The whole book's slim pages (imprint/checks/pages.py BookPage) with the book's numbers,
    the blank versos the join inserts between parts among them. Margins as each part set them:
    book_checks() puts the overlay's running heads and folios on the pages it stamps."""
    merged: list = [None] * placement.total
    for seg in segments:
        for k, page in enumerate(seg.layout.extracts["book_pages"][seg.first:seg.stop]):
            merged[seg.start + k] = dataclasses.replace(page, number=seg.start + k + 1)
    for at in placement.blanks:
        merged[at] = page_checks.blank_book_page(at + 1, merged[at + 1] or merged[at - 1])
    return merged


MERGES = {"anchors": merge_anchors, "book_pages": merge_book_pages, "page_refs": merge_page_refs, "page_plan": merge_plan, "pagemap": merge_pagemap, "marks": merge_marks,
          "cuts": merge_cuts,
          "starts": lambda segments, placement: [s for seg in segments for s in seg.layout.extracts["starts"][seg.first:seg.stop]],
          "stand_ins": lambda segments, placement: sorted({i for s in segments for i in s.layout.extracts["stand_ins"]})}


# --- the whole -----------------------------------------------------------------------------

def run(job: Job, say=lambda message: None, limits=None, placed=None) -> Layout:
    """The Layout of the whole book, from parts when it can be split, else from one job.

    As run_job does for one job: when the joined page count (with the padding the
    printer wants) falls in another gutter band than the geometry the parts were set with,
    they are set again with that band's geometry (parts already set so are in the cache).

    `placed(pages, padding, extracts)`, when given, is called once a book set in parts has its
    final pages, before they are joined (the build starts work that needs only the page count and
    the page map then: the cover and the EPUB are made while the join runs)."""
    # Start in the gutter band the book ended in last time (the page count of a book being
    # edited rarely moves): the estimate is only a guess, and a wrong band costs a layout.
    store = cache.current()
    band_key = cache.digest("gutter band", cache.toolchain(), job.gutter, job.book_file, job.identifier)
    last = store.load("band", band_key)
    if last is not None and last != job.page_css and any(last == band[2] for band in job.gutter):
        job = dataclasses.replace(job, page_css=last)
    parts = split(job)
    if parts is None:
        layout = _run_whole(job, say, limits)
    else:
        layout = _run_bands(job, parts, say, limits, placed)
    store.store("band", band_key, layout.page_css or job.page_css)
    return layout


def _run_whole(job: Job, say, limits=None) -> Layout:
    """The book set in one piece: one process holds every page, so the default memory limit
    (auto) is sized from the book (processes.Budget.room_for)."""
    from imprint import processes

    left = processes.budget()
    raised = left.room_for(processes.one_process_mb(len(job.html))) if left is not None else None
    if raised:
        say(f"set in one piece, the book needs more memory: the limit is {raised} MB for this build "
            f"(--memory-limit sets it)")
    return run_cached([job], say, limits)[0]


def _run_bands(job: Job, parts: Split, say, limits=None, placed=None) -> Layout:
    css, tried = job.page_css, []
    while True:
        layout = _run_split(dataclasses.replace(job, page_css=css), parts, say, limits, placed)
        if layout is None:
            say("the parts did not join up; typesetting the book in one piece")
            return _run_whole(job, say, limits)
        tried.append(css)
        wanted = _css_for(job, layout.pages + layout.padding)
        order = [band[2] for band in job.gutter]
        if (wanted == css or len(tried) > len(order) + 1
                or (wanted in tried and css in order and order.index(wanted) < order.index(css))):
            return dataclasses.replace(layout, passes=len(tried), page_css=css)
        say("the page count moved the book into another gutter band: setting the parts again")
        css = wanted


def _text_job(job, part: Part, k: int) -> Job:
    # A part is set with the book's geometry as given: the gutter band and the padding follow
    # from the whole book's page count, which only the joined parts know (see run()).
    return dataclasses.replace(job, html=part.html, page_css=job.page_css + NO_MARGIN_BOXES,
                               note_numbers=part.notes, part=f"chapter {k + 1}", gutter=(), page_rules=None)


def _front_job(job, parts: Split, pages: dict) -> Job:
    return dataclasses.replace(job, html=front_html(parts, pages), page_css=job.page_css + parts.page_rules,
                               note_numbers=parts.front.notes, part="front matter", gutter=(), page_rules=None)


OVERLAY_SPLIT_PAGES = 200      # a longer book's running heads are set in two halves, side by side
# The front matter is set again beside the overlays, and costs about as much as this many
# overlay pages (its contents, its own stylesheet to read: measured on WoN, 1.1 s against
# 9 ms a page), so the first overlay takes that much more than half, the second goes with it.
FRONT_AS_OVERLAY_PAGES = 120


def _overlay_jobs(job, parts: Split, plan: list, placement: Placement) -> list[tuple[Job, int]]:
    """The overlay as one job, or for a long book as two set side by side, split at the
    chapter start that evens out the two workers (one also sets the front matter again):
    (job, the book's 0-based index of its first page)."""
    make = lambda html, name: dataclasses.replace(
        job, html=html, note_numbers=(), part=name,
        editions=tuple(dataclasses.replace(e, pdf_variant=None, links=False, pads=False) for e in job.editions),
        gutter=(), page_rules=None)
    texts = range(len(parts.texts))
    at = None
    if placement.total >= OVERLAY_SPLIT_PAGES and parts.overlay_splits and len(parts.texts) > 1:
        even = min((placement.total + FRONT_AS_OVERLAY_PAGES) / 2, placement.total * 0.75)
        at = min(texts[1:], key=lambda k: abs(placement.starts[k + 1] - even))
    if at is None:
        return [(make(overlay_html(parts, plan, placement), "running heads and folios"), 0)]
    start = placement.starts[at + 1]
    return [(make(overlay_html(parts, plan, placement, texts[:at]), "running heads and folios (1)"), 0),
            (make(overlay_html(parts, plan, placement, texts[at:]), "running heads and folios (2)"), start)]


def _run_split(job, parts: Split, say, limits=None, placed=None) -> Layout | None:
    say(f"typesetting {len(parts.texts)} chapters in parallel parts")
    # The contents print page numbers of the text, which starts after the front matter: set
    # the front matter beside the chapters with the last build's numbers (or stand-ins) to
    # learn its length; then once more with the true numbers, beside the running heads,
    # again only if that moved the text.
    store = cache.current()
    hint_key = cache.digest("front numbers", cache.toolchain(), parts.front.html, job.page_css)
    hint = store.load("front-numbers", hint_key) or {name: "000" for name in parts.front.stand_ins}
    text_jobs = [_text_job(job, part, k) for k, part in enumerate(parts.texts)]
    texts, (front,) = resetting.typeset_chapters(text_jobs, parts.texts, [_front_job(job, parts, hint)], say, limits)
    counts = [sum(stop - first for _, first, stop, _ in chapter) for chapter in texts]
    for _ in range(4):
        placement = Placement.of([front.pages] + counts)
        segments = _place(front, texts, placement)
        pages = merge_anchors(segments[1:], placement)
        plan = merge_plan(segments[1:], placement)
        plan[:placement.counts[0]] = [_FRONT_PAGE] * placement.counts[0]
        extra = _overlay_jobs(job, parts, plan, placement) if job.editions else []
        # The front matter first, the longer overlay beside it, the shorter after it (_overlay_jobs).
        front, *overlays = run_cached([_front_job(job, parts, pages)] + [j for j, _ in extra], say, limits,
                                      longest_first=False)
        overlay_starts = [start for _, start in extra]
        if front.pages == placement.counts[0]:
            break
    else:
        say(f"the front matter's page count did not settle ({placement.counts[0]}, then {front.pages} pages)")
        return None
    store.store("front-numbers", hint_key, pages)
    segments = _place(front, texts, placement)

    extracts = {name: merge(segments, placement) for name, merge in MERGES.items()
                if all(name in seg.layout.extracts for seg in segments)}
    plan = extracts["page_plan"]
    # A part's own blank pages are WeasyPrint's `:blank` pages, as in the book set in one piece:
    # the pages a part ends with for the rest of its notes (a note called near the chapter's end
    # runs on past its last line: set whole, onto the blank verso before the next chapter's
    # recto), or a blank verso before a recto inside a part. The overlay, all of whose pages are
    # pages of their section, cannot make those blank, so they are not stamped (a `:blank` page
    # has no running head or folio; _overlay_mismatch makes sure the book's `:blank` pages draw
    # nothing in the margins, else the book is set in one piece).
    own_blanks = {i for i in range(placement.starts[1], placement.total) if plan[i]["blank"]} - set(placement.blanks)
    stamped = set(range(placement.starts[1], placement.total)) - set(placement.blanks) - own_blanks
    overlay_plan: list = []
    for layout, start in zip(overlays, overlay_starts):
        overlay_plan += plan[len(overlay_plan):start]    # a blank verso before the next piece's recto
        overlay_plan += layout.extracts.get("page_plan") or []
    if overlays:
        wrong = _overlay_mismatch(overlay_plan, plan, stamped, own_blanks)
        if wrong:
            say(f"the running heads and folios do not fit the parts' pages: {wrong}")
            return None
    padding = 0
    if job.page_rules is not None and any(e.pads for e in job.editions):
        last_drawn = plan[-1]["drawn"] or overlay_plan[-1]["drawn"]
        padding = job.page_rules.padding(placement.total, not last_drawn)

    if placed is not None and _css_for(job, placement.total + padding) == job.page_css:
        placed(placement.total, padding, extracts)      # the band is final: these are the book's pages
    outline = _outline(plan)
    say("joining the parts")
    part_starts = set(placement.starts)
    plans = {}
    for edition in job.editions:
        pieces = [join.Piece(seg.layout.pdfs[edition.name], seg.first, seg.stop, seg.stand_ins,
                             blank_before=seg.start in part_starts and seg.start - 1 in placement.blanks)
                  for seg in segments]
        plans[edition.name] = join.Plan(
            pieces, [(layout.pdfs[edition.name], start) for layout, start in zip(overlays, overlay_starts)], stamped, outline if edition.links else None,
            [p["height"] for p in plan], padding if edition.pads else 0, edition.full_fonts)
    pdfs = _join_all(plans, job, limits)
    findings = _book_findings(job, extracts, overlays, overlay_starts, stamped, pdfs)
    for seg in segments:
        for f in seg.layout.findings:
            if f.page is None:
                moved = f
            else:
                at = seg.book_page(f.page)
                if at is None:
                    continue            # on pages of this layout the book takes from another
                moved = _moved(f, at - f.page) if at != f.page else f
            if moved not in findings:
                findings.append(moved)
    resources = tuple(sorted({r for seg in segments for r in seg.layout.resources}))
    return Layout(placement.total, pdfs, findings, extracts, padding=padding, page_css=job.page_css,
                          resources=resources)


def _book_findings(job, extracts, overlays, overlay_starts, stamped, pdfs) -> list[Finding]:
    """What only the whole book can judge (imprint/checks/pages.py WHOLE_BOOK_ONLY), judged on
    the joined book: its pages, with the running heads and folios the overlay stamped on, its
    contents against the pages the headings fell on, each edition's page boxes as joined.
    The proof's marks get theirs."""
    book = list(extracts["book_pages"])
    for layout, start in zip(overlays, overlay_starts):
        for k, page in enumerate(layout.extracts["book_pages"]):
            if start + k in stamped:
                book[start + k] = dataclasses.replace(book[start + k], margin_lines=tuple(
                    dataclasses.replace(m, page=start + k + 1) for m in page.margin_lines))
    marks = page_checks.book_checks(book, extracts["anchors"])
    extracts["book_pages"] = book
    extracts["marks"] = extracts["marks"] + page_checks.mark_data(book, marks)
    found = [m.finding for m in marks]
    for edition in job.editions:
        found += page_checks.page_geometry(book, edition, pdfs[edition.name])
    return found


# Set by the pipeline: (an edition's name, a call). That edition is joined in this process, and
# the call given its joined PDF at once, while the other editions are still being joined by
# forked children: the print edition's preflight runs beside the download PDF's join.
JOINED: contextvars.ContextVar = contextvars.ContextVar("imprint_joined", default=None)


def _join_all(plans: dict, job, limits=None) -> dict[str, bytes]:
    """Every edition's joined PDF; all but one joined by forked copies of this process side by
    side with it (pikepdf works on one core): the one JOINED names, else the first."""
    from types import SimpleNamespace

    from imprint.processes import may_fork, start_limited

    names = list(plans)
    wanted, call = JOINED.get() or (None, None)
    here = wanted if wanted in plans else names[0] if names else None      # an EPUB-only build joins none
    children = {}
    if len(names) > 1 and (os.cpu_count() or 1) > 1 and may_fork(settings.current().fork, "join"):
        children = {name: start_limited(SimpleNamespace(book_file=job.book_file), limits,
                                        call=lambda plan=plans[name]: join.join(plan)) for name in names if name != here}
    try:
        pdfs = {name: join.join(plans[name]) for name in names if name not in children}
        if call is not None and wanted in pdfs:
            call(wanted, pdfs[wanted])
        pdfs.update({name: child.result() for name, child in children.items()})
    except BaseException:
        for child in children.values():
            child.cancel()
        raise
    return {name: pdfs[name] for name in names}


def _place(front, texts, placement) -> list[Segment]:
    """Every segment of pages with its place in the book, the front matter first."""
    out = [Segment(front, 0, front.pages, 0, frozenset(front.extracts.get("stand_ins", ())))]
    for chapter, start in zip(texts, placement.starts[1:]):
        at = start
        for layout, first, stop, stand_ins in chapter:
            out.append(Segment(layout, first, stop, at, frozenset(layout.extracts.get("stand_ins", stand_ins))))
            at += stop - first
    return out


PAGE_IN_TEXT = re.compile(r"\b(pages?) (\d+)\b")


def _moved(finding: Finding, offset: int) -> Finding:
    """A part's finding with its page numbers (the `page` and any "page N" in its words) made the book's."""
    shift = lambda text: PAGE_IN_TEXT.sub(lambda m: f"{m.group(1)} {int(m.group(2)) + offset}", text) if text else text
    return dataclasses.replace(finding, page=finding.page + offset, message=shift(finding.message),
                               hint=shift(finding.hint))


def overlay_html(parts: Split, plan: list, placement: Placement, texts=None) -> str:
    """A document with one empty page for each page of the book, in the same named pages and
    with the same named strings set on each, so WeasyPrint sets the same running heads and folios.

    `texts` (a range of text parts) makes the document for those parts' pages only: without
    the front matter's, it begins at the first part's page number, and its first page also
    sets the strings it carries over from the pages before (those it does not set itself)."""
    from html import escape

    from imprint.html.render import css_string

    def page(entry, carried=()) -> str:
        own = {name for name, _ in entry["strings"]}
        strings = "".join(f'<div class="imprint-overlay-string" style="{escape(f"string-set: {name} {css_string(text)}")}">'
                          "</div>" for name, text in [*((n, t) for n, t in carried if n not in own), *entry["strings"]])
        # A page WeasyPrint made after a part's text for the notes still pending: the
        # chapter's run-out page, with its running head and folio (as in a book set in one piece).
        named = f' style="page: {RUNOUT_PAGE}"' if _notes_only(entry) or entry["name"] == RUNOUT_PAGE else ""
        return f'<div class="imprint-overlay-page"{named}>{strings}</div>'

    texts = range(len(parts.section_tags)) if texts is None else texts
    html_attrs, body_attrs, main_attrs = parts.skeleton
    head = parts.overlay_head
    carried: dict = {}
    if texts.start == 0:
        front = ('<div class="imprint-overlay-front">' + '<div class="imprint-overlay-page"></div>' * placement.counts[0]
                 + "</div>")
    else:
        front = ""
        first = placement.starts[texts.start + 1]
        for entry in plan[:first]:
            carried.update(entry["strings"])
        head = head.replace("</head>", f"<style>@page :first {{ counter-reset: page {first + 1} }}</style></head>")
    sections = []
    for k in texts:
        tag = parts.section_tags[k]
        start, count = placement.starts[k + 1], placement.counts[k + 1]
        pages = [page(plan[i], carried.items() if k == texts.start and i == start and carried else ())
                 for i in range(start, start + count)]
        sections.append(tag + "".join(pages) + "</section>" * tag.count("<section"))
    head = head.replace("</head>", f"<style>{OVERLAY_CSS}</style></head>")
    return f"<!DOCTYPE html>\n{html_attrs}{head}{body_attrs}{front}{main_attrs}{''.join(sections)}</main></body></html>\n"


def _overlay_mismatch(overlay_plan, plan, stamped, own_blanks=frozenset()) -> str:
    """What is wrong with the overlay's pages ("" when nothing): they must have the names, sides
    and blankness of the book's pages. A part's own blank page (`own_blanks`, not stamped) needs
    only the side; the overlay's own blank pages (the blank versos before a chapter's recto) must
    then draw nothing, as that part's page is given nothing."""
    if overlay_plan is None or len(overlay_plan) != len(plan):
        return f"{len(overlay_plan or ())} pages of running heads for {len(plan)} pages"
    first = min(stamped | own_blanks, default=len(plan))
    for i in range(first, len(plan)):
        a, b = overlay_plan[i], plan[i]
        if i in stamped and _notes_only(b):
            # a part's page of pending notes: the overlay's run-out page, in the same area
            if (a["side"], a["blank"], a["name"], a["area"]) != (b["side"], False, RUNOUT_PAGE, b["area"]):
                return (f"page {i + 1} holds only notes still running ('{b['name']}' {b['area']}), its running "
                        f"head's page is '{a['name']}' {a['area']}, not a run-out page")
            continue
        if a["side"] != b["side"]:
            return f"page {i + 1} is a {b['side']}-hand page, its running head's a {a['side']}-hand one"
        if i in own_blanks:
            continue
        if a["blank"] != b["blank"]:
            return f"page {i + 1} is {'' if b['blank'] else 'not '}blank, its running head's page is{'' if a['blank'] else ' not'}"
        if i in stamped and (a["name"], a["area"]) != (b["name"], b["area"]):
            # the page area a part was set in is the book's for that page
            return f"page {i + 1} is a page '{b['name']}' {b['area']}, its running head's '{a['name']}' {a['area']}"
        if own_blanks and a["blank"] and a["drawn"]:
            return (f"the blank page {i + 1} has something in its margins (`@page :blank`), which a part's "
                    f"own blank pages would not get")
    return ""


RUNOUT_PAGE = "runout"          # styles/book.css `@page runout` (imprint/typeset/runout.py)


def _notes_only(entry) -> bool:
    """A page WeasyPrint made after the end of a part's text for the notes still pending
    (weasyprint.layout.page.make_all_pages): of a blank page's type, yet drawn on."""
    return entry["blank"] and entry["drawn"]


def _outline(plan: list) -> list:
    """The bookmark tree of the joined pages, by WeasyPrint's own rules (levels may skip)."""
    @dataclass
    class _Page:
        bookmarks: list = field(default_factory=list)

    pages = [_Page([(level, label, (x, y), state) for level, label, x, y, state in entry["bookmarks"]])
             for entry in plan]
    return fence.bookmark_tree(pages)
