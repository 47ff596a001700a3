"""Page references and the index in the shared Body: their markup, and the page numbers
written into a copy of it (the same numbers in every edition).

`prepare` runs once when the Body is made: every index mark (`span.index`) gets a stable id
(`idx-N`, or the id the author gave it), every page reference (`a.page` with `#id`) becomes
`<a class="page-ref" data-imprint-ref="id">` with a placeholder, and a book with marks gets
an index section at the end of the text (after the bibliography). `numbered` makes the copy
an edition sets: each page reference shows the print page of its target, the index is filed
from the marks (repeats on one page merged, consecutive pages as ranges), each number a link
to the marked place, the main entries in letter groups. The numbers (`Body.numbers`,
id -> printed folio) come from the laid-out print pages (imprint/jobs/pagerefs.py); a number
not known yet prints as PLACEHOLDER.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

from lxml import etree, html as lhtml

from imprint.html.templates import BLOCK_KEY, environment, render_template
from imprint.manuscript import index as rules
from imprint.manuscript.languages import typographic_quotes

PLACEHOLDER = "00"
REF = "data-imprint-ref"          # the id whose page an element prints
SECTION = "data-imprint-index"    # marks the index section
TEMPLATE = "index.html.j2"


@dataclass(frozen=True)
class Mark:
    id: str
    entry: rules.Entry


def prepare(root, lang: str, level: int = 1) -> tuple[tuple[Mark, ...], tuple[str, ...]]:
    """Give the marks their ids and the page references their markup; add the index section.
    Returns (marks in the order of the text, page-reference targets)."""
    marks, targets = [], []
    taken = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    n = 0
    for span in root.iter("span"):
        if "index" not in span.get("class", "").split():
            continue
        entry = rules.parse(span.text_content(), typographic_quotes(span.get("data-entry"), lang))   # as pandoc quotes the text
        span.attrib.pop("data-entry", None)
        if not span.get("id"):
            n += 1
            while f"idx-{n}" in taken:
                n += 1
            span.set("id", f"idx-{n}")
        if entry.path:
            marks.append(Mark(span.get("id"), entry))
    for a in root.iter("a"):
        href = a.get("href", "")
        if "page" in a.get("class", "").split() and href.startswith("#") and len(href) > 1:
            for child in list(a):
                a.remove(child)
            a.set("class", " ".join(c for c in a.get("class", "").split() if c != "page") + " page-ref")
            a.set("class", a.get("class").strip())
            a.set(REF, href[1:])
            a.text = PLACEHOLDER
            targets.append(href[1:])
    if marks:
        tag = f"h{min(max(level, 1), 6)}"
        ident = next(i for i in [rules.INDEX_ID, "book-index"] + [f"book-index-{k}" for k in range(1, len(taken) + 2)]
                     if i not in taken)      # a heading "# Index" of the author's already has "index"
        section = etree.SubElement(root, "section", {"id": ident, "class": f"level{level} index-section",
                                                     "role": "doc-index", SECTION: ""})
        section.text = "\n"
        title = etree.SubElement(section, tag)
        title.text = rules.heading(lang)
        title.tail = "\n"
        section.tail = "\n"
    return tuple(marks), tuple(dict.fromkeys(targets))


def section_id(body) -> str | None:
    """The index section's id, if the book has one."""
    for section in body.root.iter("section"):
        if section.get(SECTION) is not None:
            return section.get("id")
    return None


def targets(body) -> tuple[str, ...]:
    """Every id whose page the book prints: page-reference targets, then the marks filed with a page."""
    ids = list(body.refs) + [m.id for m in body.marks if not m.entry.see]
    return tuple(dict.fromkeys(ids))


def numbered(body, numbers: dict | None = None, lang: str = "en"):
    """A copy of the Body with the page numbers written in (the Body itself when it has no
    page references or marks)."""
    if not body.marks and not body.refs:
        return body
    numbers = body.numbers if numbers is None else numbers
    root = copy.deepcopy(body.root)
    notes = {n: dataclasses.replace(note, blocks=tuple(copy.deepcopy(b) for b in note.blocks))
             for n, note in body.notes.items()}
    for element in [root] + [b for note in notes.values() for b in note.blocks]:
        for a in element.iter("a"):
            if a.get(REF) is not None:
                a.text = numbers.get(a.get(REF), PLACEHOLDER)
    for section in root.iter("section"):
        if section.get(SECTION) is not None:
            for child in list(section)[1:]:
                section.remove(child)
            for el in entries_html(body.marks, numbers, lang):
                section.append(el)
    return dataclasses.replace(body, root=root, notes=notes)


@dataclass
class _Node:
    term: str
    sort: str = ""
    marks: list = dataclasses.field(default_factory=list)
    ranges: list = dataclasses.field(default_factory=list)      # (opening id, closing id)
    opened: list = dataclasses.field(default_factory=list)      # ids of `|(` not closed yet
    see: list = dataclasses.field(default_factory=list)
    children: dict = dataclasses.field(default_factory=dict)


def tree(marks) -> list[_Node]:
    """The marks filed: main entries, each with its sub-entries, in the order of the text. A
    `|(` pairs with the next `|)` of the same entry; one left unpaired counts as a page."""
    top: dict[str, _Node] = {}
    every: list[_Node] = []
    for mark in marks:
        level = top
        node = None
        for term, key in zip(mark.entry.path, mark.entry.keys()):
            if term not in level:
                level[term] = _Node(term, key)
                every.append(level[term])
            node = level[term]
            level = node.children
        if mark.entry.see:
            if (mark.entry.see, mark.entry.see_also) not in node.see:
                node.see.append((mark.entry.see, mark.entry.see_also))
        elif mark.entry.range == "(":
            node.opened.append(mark.id)
        elif mark.entry.range == ")" and node.opened:
            node.ranges.append((node.opened.pop(), mark.id))
        else:
            node.marks.append(mark.id)
    for node in every:
        node.marks.extend(node.opened)
        node.opened = []
    return list(top.values())


def _page(ident: str, numbers: dict) -> int | None:
    page = numbers.get(ident)
    return int(page) if page is not None and str(page).isdigit() else None


def locators(ids: list[str], numbers: dict, ranges: list | tuple = ()) -> list[list[tuple[str, str]]]:
    """A node's marks as printed: one item per page, or per range of consecutive pages
    ("12–14", or a `|(`…`|)` range and whatever it covers), each item a list of (number, the
    id of the first mark on that page); a mark whose page is not known yet is an item of its own."""
    first: dict[int, str] = {}
    singles = list(ids)
    for opening, closing in ranges:
        start, end = _page(opening, numbers), _page(closing, numbers)
        if start is None or end is None:        # not laid out yet: each end on its own
            singles += [opening, closing]
            continue
        start, end = min(start, end), max(start, end)
        for page in range(start, end + 1):
            first.setdefault(page, closing if page == end and page != start else opening)
    unknown = []
    for ident in singles:
        page = _page(ident, numbers)
        if page is None:
            unknown.append([(PLACEHOLDER, ident)])
        else:
            first.setdefault(page, ident)
    items, run = [], []
    for page in sorted(first):
        if run and page == run[-1] + 1:
            run.append(page)
            continue
        if run:
            items.append(run)
        run = [page]
    if run:
        items.append(run)
    out = [[(str(r[0]), first[r[0]])] + ([(str(r[-1]), first[r[-1]])] if len(r) > 1 else []) for r in items]
    return out + unknown


def _order(node: _Node) -> tuple:
    return rules.sort_key(node.sort or node.term) + rules.sort_key(node.term)


def entries(marks, numbers: dict, lang: str) -> list[dict]:
    """Plain data for the template: the filed entries, sorted for the language, sub-entries nested."""
    see, see_also = rules.see_words(lang)

    def data(node: _Node) -> dict:
        return {"term": node.term, "locators": locators(node.marks, numbers, node.ranges),
                "see": [{"word": see_also if also else see, "target": target}
                        for target, also in sorted(node.see, key=lambda s: rules.sort_key(s[0]))],
                "children": [data(child) for child in sorted(node.children.values(), key=_order)]}

    # Digits and symbols first, whatever their code point: "“Quoted”", "¿Qué?" or "«Mot»" sort
    # after z by code point and would print under the last letter's heading. Then the words in
    # the book's own script, then the others' (Latin first): a Russian index opens with А, its
    # Latin names after Я (by code point they came first), an English one keeps Greek after Z.
    own = _script_of_lang(lang)

    def key(n: _Node) -> tuple:
        first = rules.letter(n.sort or n.term)
        script = _script(first)
        return (first != "", script != own, script != "LATIN", script) + _order(n)

    return [dict(data(node), letter=rules.letter(node.sort or node.term))
            for node in sorted(tree(marks), key=key)]


# The script a language is written in, where it is not the Latin alphabet.
SCRIPTS = {"ru": "CYRILLIC", "uk": "CYRILLIC", "be": "CYRILLIC", "bg": "CYRILLIC", "mk": "CYRILLIC",
           "kk": "CYRILLIC", "mn": "CYRILLIC", "el": "GREEK", "grc": "GREEK", "he": "HEBREW", "yi": "HEBREW",
           "ar": "ARABIC", "fa": "ARABIC", "ur": "ARABIC"}


def _script_of_lang(lang: str) -> str:
    tag = (lang or "en").replace("_", "-").lower()
    if tag.startswith("sr") and "cyrl" in tag:
        return "CYRILLIC"
    return SCRIPTS.get(tag.split("-")[0], "LATIN")


def _script(letter: str) -> str:
    """The script of an index group's letter ("" for digits and symbols), by its Unicode name."""
    import unicodedata
    return unicodedata.name(letter[:1], "").split(" ")[0] if letter else ""


def groups(filed: list[dict]) -> list[dict]:
    """The main entries in letter groups ({"letter": "A", "entries": [...]}), in their order; an
    index whose entries all start with one letter is one group without a heading."""
    out: list[dict] = []
    for e in filed:
        if not out or out[-1]["letter"] != e["letter"]:
            out.append({"letter": e["letter"], "entries": []})
        out[-1]["entries"].append(e)
    if len(out) == 1:
        out[0]["letter"] = ""
    return out


def entries_html(marks, numbers: dict, lang: str) -> list:
    """The index section's content as lxml elements, from templates/index.html.j2."""
    text = render_template(environment(), TEMPLATE, groups=groups(entries(marks, numbers, lang)),
                           ref=REF)
    holder = lhtml.fragment_fromstring(text, create_parent="div")
    counter = 0
    for el in holder.iter():
        if isinstance(el.tag, str) and el.tag in ("ul", "li", "p", "div"):
            counter += 1
            el.set(BLOCK_KEY, f"i{counter}")       # the page map names the index's blocks by these
    return list(holder)
