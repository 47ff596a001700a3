"""A laid-out Document and its HTML -> the HTML changed so that no note runs on from one
chapter onto the next chapter's opening page (None when none does); and the continued-note
mark shown where a note goes on overleaf.

Where a chapter ends. WeasyPrint carries the rest of a long note (imprint/typeset/longnotes.py)
to the top of the next pages' footnote areas, whatever those pages are. When a chapter ends
on a verso, the next page is the next chapter's opening recto, and the rest of the note lands
there, under a title it has nothing to do with (when the chapter ends on a recto, WeasyPrint
puts it on the blank verso it inserts before the next recto: the chapter's own last leaf). A
book set in parts (imprint/jobs/chapters.py) never shows it: a part ends with its chapter,
and WeasyPrint makes pages at a document's end for the notes still pending
(weasyprint.layout.page.make_all_pages). Those pages are of a blank page's type, their
footnote area no taller than on a page of text: a text that ends with a note still running
ends with a run-out page too, and the overlay of running heads names such pages as run-out
pages (chapters.overlay_html).

The mend gives the book set in one piece what a part gets: a run-out page. An empty block
(`div.note-runout`, styles/book.css) closes the chapter before the opening page. It starts a
page of its own (`break-before: page`), a page of the chapter with its running head and
folio, whose footnote area takes the notes still pending, with room for the whole page
(`@page runout`). The chapter's pages before it are laid out exactly as before, so the same
notes are pending when the run-out page is made; the next chapter then opens on the next
recto, after a blank verso that takes what the run-out page could not. A note that needs
still more room gets another run-out page on the next layout, up to MAX_RUNOUT (and the
rounds of imprint/typeset/longnotes.py); what even they cannot hold is left for the check
L224 (imprint/checks/pages.py) to report. Cutting the
note sooner or shortening the pages before would change the chapter's text pages and could
not be foreseen from one layout; one extra leaf can, and it is the leaf a reader expects
a chapter's loose ends on.

The continued-note mark: a note that breaks at the foot of a page says so, as a printer's
catchline does: "(continued)" (imprint/specs/labels.py "note-continued", in the book's
language) flush right in small italic under the note's last line on the page, in the foot
margin. It is the `::after` of every piece of a cut note (styles/book.css), of no height so it
takes no room, and hidden: which piece ends a page is known only once the book is laid out,
so `show_marks` makes it visible there in the finished layout (fence.show_generated), with no
second layout. Generated content, it is no part of the note's text for the note checks
(positions.box_text), nor a line of the notes for their depth (positions.note_pages).
"""

from __future__ import annotations

from lxml import etree, html as lhtml

from imprint.typeset import fence
from imprint.typeset.positions import note_pages

RUNOUT = "note-runout"
MAX_RUNOUT = 4          # run-out pages a chapter may end with (one more each layout that needs it)
FORCED = ("page", "left", "right", "recto", "verso")   # break-before values that open a new page


def run_out(document, html: str) -> str | None:
    """`html` with a run-out page closing each chapter whose note runs on onto the next
    chapter's opening page, or None when there is none to add."""
    called: dict[int, int] = {}
    targets = []
    pages = note_pages(document)
    for p in pages:
        if any(n.number in called and n.number not in p.calls for n in p.notes):
            ident = _opening(document, p.page)
            if ident is not None:
                targets.append(ident)
        for n in p.calls:
            called.setdefault(n, p.page)
    # The text ends with a note still running (a chapter set as a part of the book, see
    # imprint/jobs/chapters.py): WeasyPrint's pages after the text, of a blank page's type,
    # give the notes only the footnote area's usual room; a run-out page gives them the page.
    at_end = bool(pages and pages[-1].notes and _after_text(document))
    if not targets and not at_end:
        return None
    doc = lhtml.document_fromstring(html)
    changed = False
    for ident in targets:
        found = doc.xpath("//section[@id=$i]", i=ident)
        if not found:
            continue
        runs, before = 0, found[0].getprevious()
        while before is not None and RUNOUT in (before.get("class") or "").split():
            runs, before = runs + 1, before.getprevious()
        if runs >= MAX_RUNOUT:
            continue                      # MAX_RUNOUT pages could not hold it: L224 says so
        found[0].addprevious(etree.Element("div", {"class": RUNOUT, "aria-hidden": "true"}))
        changed = True
    if at_end:
        last = _last_section(doc)
        if last is not None:
            runs = 0
            for el in reversed(list(last)):
                if not isinstance(el.tag, str) or RUNOUT not in (el.get("class") or "").split():
                    break
                runs += 1
            if runs < MAX_RUNOUT:
                last.append(etree.Element("div", {"class": RUNOUT, "aria-hidden": "true"}))
                changed = True
    return lhtml.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode") if changed else None


def _after_text(document) -> bool:
    """The document's last page is one WeasyPrint made after the end of the text for the
    notes still pending: of a blank page's type, with notes drawn on it."""
    box = fence.page_box(document.pages[-1])
    return bool(box.page_type.blank)


def _last_section(doc):
    """Where the text of `doc` ends: the top-level section it ends with (the last in its main),
    or its main itself when it ends with no section (a book or essay without chapters); None
    when it has no main."""
    main = doc.find(".//main")
    if main is None:
        return None
    children = [el for el in main if isinstance(el.tag, str)]
    if children and children[-1].tag == "section":
        return children[-1]
    return main


def _opening(document, page: int) -> str | None:
    """The id of the section that opens on page `page` (1-based) with a page break of its own
    (a chapter, a part, the back matter; not an essay's sections, which run on), or None."""
    def sections(number):
        return {id(b.element): b for b in fence.page_box(document.pages[number - 1]).descendants()
                if b.element is not None and b.element.tag == "section" and "::" not in (b.element_tag or "")}

    before = sections(page - 1) if page > 1 else {}
    for key, box in sections(page).items():
        if key not in before and box.element.get("id") and box.style["break_before"] in FORCED:
            return box.element.get("id")
    return None


def show_marks(document) -> int:
    """Make the continued-note mark visible under the last piece of every note that goes on
    overleaf, when that piece ends the page's footnote area (the mark is drawn below it);
    returns how many were shown."""
    pages = note_pages(document)
    boxes = fence.boxes()
    later: dict[int, int] = {}                   # note -> the last page it has a piece on
    for p in pages:
        for n in p.notes:
            later[n.number] = p.page
    shown = 0
    for p in pages:
        if not p.notes or later[p.notes[-1].number] <= p.page:
            continue
        page = document.pages[p.page - 1]
        area = next((c for c in fence.page_box(page).children if isinstance(c, boxes.FootnoteAreaBox)), None)
        last = [c for c in area.children if isinstance(c, boxes.Box)][-1] if area is not None else None
        if last is not None and last.element is not None:
            shown += bool(fence.show_generated(page, last.element, "::after"))
    return shown
