"""Laid-out WeasyPrint Document -> the page numbers printed for page references and the index,
read off the pages: every element carrying `data-imprint-ref` (imprint/html/index.py), the
page it stands on and the text drawn for it. imprint/jobs/pagerefs.py compares each with the
page its target stands on."""

from __future__ import annotations

REF = "data-imprint-ref"      # imprint/html/index.py REF


def printed_refs(document, job=None) -> list[dict]:
    """[{"page": 1-based page, "target": id, "text": the characters drawn}] in page order (an EXTRACT)."""
    if job is not None and REF not in job.html:
        return []
    from weasyprint.formatting_structure import boxes

    out = []
    for number, page in enumerate(document.pages, start=1):
        drawn: dict[int, dict] = {}

        def walk(box, holder):
            element = box.element
            if element is not None and "::" not in (box.element_tag or "") and element.get(REF) is not None:
                holder = element
            if isinstance(box, boxes.TextBox):
                if holder is not None:
                    entry = drawn.setdefault(id(holder), {"page": number, "target": holder.get(REF), "text": ""})
                    entry["text"] += box.text
                return
            for child in getattr(box, "children", ()):
                walk(child, holder)

        for child in page._page_box.children:
            if not isinstance(child, boxes.MarginBox):
                walk(child, None)
        out += [{**entry, "text": entry["text"].strip()} for entry in drawn.values()]
    return out
