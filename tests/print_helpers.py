"""Small readers shared by the print, cover and preflight tests (not a test module)."""

from __future__ import annotations

import pikepdf
import pypdfium2

IN = 72.0


def page_texts(path) -> list[str]:
    """The text of every page, whitespace normalised (pypdfium2: fast enough for every page)."""
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))]
    finally:
        doc.close()


def boxes(path, key="/TrimBox") -> list[list[float]]:
    with pikepdf.open(path) as pdf:
        return [[float(v) for v in page.obj[key]] if key in page.obj else None for page in pdf.pages]


def colour_operators(path) -> set[str]:
    """Every colour-setting operator used on the pages."""
    found = set()
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for _, op in pikepdf.parse_content_stream(page):
                if str(op) in ("rg", "RG", "k", "K", "g", "G", "sc", "scn", "SC", "SCN", "cs", "CS"):
                    found.add(str(op))
    return found


def book_text(paragraphs: int) -> str:
    sentence = ("The council met in the evening and argued until the lamps burned low, "
                "because every delegate had a mandate and every mandate could be recalled. ")
    return "\n\n".join(sentence * 6 for _ in range(paragraphs)) + "\n"
