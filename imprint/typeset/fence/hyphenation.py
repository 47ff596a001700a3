"""Hyphenation with the dictionary of the book's language and region.

WeasyPrint hyphenates with `pyphen.Pyphen(lang=pyphen.language_fallback(style['lang']))`
(weasyprint/text/line_break.py), and Pyphen's fallback for a bare `en` is the British
dictionary (Re-volution, demo-cracy). `install()` gives line_break a pyphen whose
`language_fallback` answers with the region's own dictionary
(imprint/manuscript/languages.py: en -> en_US, de -> de_DE; en-GB, pt-BR as given); the
`lang` attribute the book's HTML carries is unchanged.
"""

from __future__ import annotations

import types

import pyphen
from weasyprint.text import line_break

from imprint.manuscript.languages import hyphenation_dictionary


def _fallback(lang: str):
    return hyphenation_dictionary(lang)


def install() -> None:
    if getattr(line_break.pyphen, "imprint", False):
        return
    shim = types.SimpleNamespace(**{k: getattr(pyphen, k) for k in ("Pyphen", "LANGUAGES")})
    shim.language_fallback, shim.imprint = _fallback, True
    line_break.pyphen = shim


install()
