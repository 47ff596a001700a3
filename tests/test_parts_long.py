"""A page run a line long (imprint/typeset/fence/spreads.py: a spread that a line less could
not even runs a line long on both pages, the last line in the foot margin) is still a page of
the design's area for the join of a book set in parts (imprint/jobs/chapters.py compares each
part's pages with the running heads' pass, whose pages keep the design's area). It was read as
a page of another area: *The Wealth of Nations* (session 14's line breaking) ran a spread long
in its chapter 14, the parts did not join up, and the book was set again in one piece (over
ten minutes instead of about three)."""

from __future__ import annotations

from imprint.jobs import chapters
from imprint.typeset import fence
from imprint.typeset.positions import page_plan


def test_a_page_run_long_keeps_the_design_area_in_the_page_plan():
    import weasyprint
    html = ("<style>@page { size: 300px 400px; margin: 40px } p { line-height: 20px; margin: 0 }</style>"
            + "".join(f"<p>Line {n} of the text, set long enough to fill the pages.</p>" for n in range(60)))
    document = weasyprint.HTML(string=html).render()
    before = page_plan(document)
    box = fence.page_box(document.pages[1])
    # as spreads.page_height leaves a page run a line long: the content box 4.8 px longer than
    # the design's (its whole lines and one more), the foot margin that much narrower
    box.imprint_cut = -4.8
    box.height += 4.8
    box.margin_bottom -= 4.8
    after = page_plan(document)
    assert after[1]["area"] == before[1]["area"], (before[1]["area"], after[1]["area"])
    stamped = set(range(len(before)))
    assert chapters._overlay_mismatch(before, after, stamped) == ""
    # a page of another area is still told apart
    box.height += 20
    wrong = page_plan(document)
    assert "page 2 is a page" in chapters._overlay_mismatch(before, wrong, stamped)
