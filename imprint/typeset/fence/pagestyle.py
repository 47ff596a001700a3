"""Page styles computed once for each set of @page rules that match.

WeasyPrint (70) gives every page a type of its own (its index is part of it, for `:nth()`
selectors) and computes the styles of the page and of its sixteen margin boxes afresh for
each: it matches every @page selector, copies the matching declarations, then looks for the
page's margin boxes among all the page styles made so far, a search that grows with the page
count. A 300-page overlay of running heads (imprint/jobs/chapters.py) spends about a third of its
layout there.

A page's computed styles follow from the @page selectors it matches and nothing else (the
page inherits from the root element, the margin boxes from the page). So `computed_once()`
lets WeasyPrint compute them for the first page matching a given set of selectors and gives
every later page that matches the same set the same style objects. WeasyPrint fills a
computed style lazily and only ever with the same values, and the one change it makes to a
page style (`_standardize_page_based_counters`) gives the same result when made twice.
tests/test_pagestyle.py checks the PDFs are byte-identical with and without it.
"""

from __future__ import annotations

import contextlib

from imprint.typeset import fence

COUNTS = {"computed": 0, "shared": 0}


@contextlib.contextmanager
def computed_once():
    if not fence.on("pagestyle"):
        yield
        return
    from weasyprint.layout import page

    original = page.set_page_type_computed_styles

    def set_page_type_computed_styles(page_type, html, style_for):
        matched, pseudos = [], set()
        for s, (sheet, _origin, _specificity) in enumerate(style_for._sheets):
            for r, (_rule, selector_list, _declarations) in enumerate(sheet.page_rules):
                for k, (_, pseudo_type, selector_type) in enumerate(selector_list):
                    if style_for._page_type_match(selector_type, page_type):
                        matched.append((s, r, k))
                        pseudos.add(pseudo_type)
        memo = style_for.__dict__.setdefault("imprint_page_styles", {})
        key = tuple(matched)
        computed = style_for.get_computed_styles()
        first = memo.get(key)
        if first is None:
            COUNTS["computed"] += 1
            style_for.add_page_declarations(page_type)
            kwargs = dict(root=html.etree_element, base_url=html.base_url)
            style_for.set_computed_styles(page_type, parent=html.etree_element, **kwargs)
            for pseudo_type in pseudos - {None}:
                style_for.set_computed_styles(page_type, pseudo_type=pseudo_type, parent=page_type, **kwargs)
            memo[key] = page_type
            return
        COUNTS["shared"] += 1
        for pseudo_type in pseudos | {None}:
            computed[page_type, pseudo_type] = computed[first, pseudo_type]

    page.set_page_type_computed_styles = set_page_type_computed_styles
    try:
        yield
    finally:
        page.set_page_type_computed_styles = original
