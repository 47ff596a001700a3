"""Every finding code the toolchain can emit -> its meaning. The README lists them all and a
test keeps the two in step. Each check module owns its CODES dict; this only gathers them."""

from __future__ import annotations

from imprint.cache import CODES as CACHE_CODES
from imprint.checks import CODES as MANUSCRIPT_CODES
from imprint.checks.pages import CODES as PAGE_CODES
from imprint.editions.preflight import CODES as PRINT_CODES
from imprint.editions.epub import CODES as EPUB_CODES

RESOURCE_CODES = {
    "R001": "A file the book names (image, stylesheet, font) does not exist.",
    "R002": "A file the book names lies outside the book folder; it was refused.",
    "R003": "A remote URL was not fetched: builds never use the network.",
    "R004": "An image the book names cannot be read (not a file, or no permission).",
    "R005": "An image the book names is not an image file the typesetter can read.",
}

LAYOUT_CODES = {
    "L101": "A note is missing from the laid-out pages.",
    "L102": "A note does not start on the page of its call.",
}


def all_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for table in (MANUSCRIPT_CODES, RESOURCE_CODES, LAYOUT_CODES, PAGE_CODES, PRINT_CODES, EPUB_CODES, CACHE_CODES):
        codes.update(table)
    return dict(sorted(codes.items()))
