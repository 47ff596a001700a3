"""A book with page references or an index -> its Layout with the right page numbers written in.

The numbers are what the laid-out print pages say (the `anchors` extract: id -> the page it
stands on, which is its printed folio, as the contents' numbers are): the book is laid out
with the numbers it has (the last build's, from the cache, or placeholders), the numbers its
pages give are written in, and it is laid out again until they no longer change (ROUNDS
layouts at most; X205 if they never settle). A book set in parts sets again only the parts
whose HTML changed (the index, the chapters holding page references): the others come from
the part cache (imprint/jobs/pool.py).

Then checked: each number drawn on the pages (the `page_refs` extract, read off the laid-out
boxes) must be the page its target stands on, and every target must stand on a page (X204).
The numbers are kept in Body.numbers, so the EPUB prints the same ones.
"""

from __future__ import annotations

import dataclasses
import re

from imprint import cache
from imprint.errors import Finding, Location
from imprint.html import index as index_markup

ROUNDS = 3


def _pages(anchors: dict, targets) -> dict[str, str]:
    return {t: str(anchors[t]) for t in targets if t in anchors}


def lay_out(job, body, html_for, run, placed=None, say=lambda message: None):
    """The Layout of `job` (run(job, placed) lays it out) with the page numbers of `body`'s page
    references and index settled; `html_for()` makes the job's HTML with body.numbers written in.
    A book with neither is laid out once, as before."""
    if not body.marks and not body.refs:
        return run(job, placed)
    targets = index_markup.targets(body)
    store = cache.current()
    key = cache.digest("page numbers", str(job.book_file), job.identifier, targets)
    hint = store.load("page-numbers", key) or {}
    body.numbers.clear()
    body.numbers.update({t: hint[t] for t in targets if t in hint})
    if body.numbers:
        job = dataclasses.replace(job, html=html_for())
    findings: list[Finding] = []
    for round_ in range(1, ROUNDS + 1):
        used = dict(body.numbers)

        def placed_if_settled(pages, padding, extracts, used=used):
            # The early EPUB and cover are made only from the layout whose numbers hold.
            if _pages(extracts.get("anchors", {}), targets) == used:
                placed(pages, padding, extracts)

        layout = run(job, placed_if_settled if placed is not None else None)
        found = _pages(layout.extracts.get("anchors", {}), targets)
        if found == used:
            break
        body.numbers.clear()
        body.numbers.update(found)
        if round_ == ROUNDS:
            moved = sorted(t for t in targets if found.get(t) != used.get(t))
            findings.append(Finding("X205", "error", f"the page numbers did not settle after {ROUNDS} layouts "
                                    f"(still moving: {', '.join(moved[:5])})", Location(job.book_file),
                                    hint="a page reference near a page break moves it; reword the sentence "
                                         "around it or put the reference elsewhere"))
            break
        say("page numbers written in: laying the book out again")
        job = dataclasses.replace(job, html=html_for())
    else:       # pragma: no cover (the loop always breaks)
        pass
    if not findings:
        store.store("page-numbers", key, found)
    findings += verify(layout, targets, job.html, Location(job.book_file))
    layout.findings.extend(findings)
    return layout


REF_ATTRIBUTE = re.compile(index_markup.REF + r'="([^"]*)"')


def verify(layout, targets, html: str, where: Location) -> list[Finding]:
    """X204: every number drawn is its target's page; every target stands on a page; every
    number written in the HTML was drawn."""
    anchors = layout.extracts.get("anchors", {})
    out = []
    for target in targets:
        if target not in anchors:
            out.append(Finding("X204", "error", f"'#{target}' is on no laid-out page: its page number cannot be "
                               "printed", where, hint="the element with this id is not set in the paged editions"))
    printed = layout.extracts.get("page_refs", [])
    for ref in printed:
        want = anchors.get(ref["target"])
        if want is not None and ref["text"] != str(want):
            out.append(Finding("X204", "error", f"page {ref['page']} prints '{ref['text']}' for '#{ref['target']}', "
                               f"which stands on page {want}", where, page=ref["page"],
                               hint="please report this: the number written in is not the page laid out"))
    written: dict[str, int] = {}
    for target in REF_ATTRIBUTE.findall(html):
        written[target] = written.get(target, 0) + 1
    drawn: dict[str, int] = {}
    for ref in printed:
        drawn[ref["target"]] = drawn.get(ref["target"], 0) + 1
    for target, count in written.items():
        if drawn.get(target, 0) < count and target in anchors:
            out.append(Finding("X204", "error", f"a page number for '#{target}' was written in but not drawn "
                               f"({drawn.get(target, 0)} of {count})", where,
                               hint="please report this: a number of the index or a page reference is missing"))
    return out
