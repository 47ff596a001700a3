"""The book's language: its quotation marks, its writing direction, its hyphenation dictionary,
and the findings when the house cannot honour it.

- Quotation marks: pandoc's smart quotes turn straight quotes into `Quoted` nodes (it prints
  English marks for them); `localize_quotes` writes each as the language writes it
  (imprint/specs/labels.py QUOTES, from CLDR): „…“ ‚…‘ in German, « … » with narrow no-break
  spaces in French, and so on. Quotation marks the author typed as characters are words of
  the text and stay as typed. French also gets a narrow no-break space instead of the space
  the author typed before ; : ! ? » and after « (so the mark never starts a line), and one put
  in where none was typed: after a word, a closing mark or markup that ends in one (emphasis,
  a link, a note call, code, a citation, a quotation: `*quelqu’un*;`, `mot[^1];`).
- Direction: ar, he, fa, ur (and the other RTL languages below) set right to left.
- Hyphenation: WeasyPrint hyphenates with the Pyphen dictionary its `lang` names; Pyphen's
  fallback takes `en` to the British dictionary, so `hyphenation_dictionary` names the
  region's own (en -> en_US, de -> de_DE, pt -> pt_PT; en-GB, pt-BR, de-CH as given).
"""

from __future__ import annotations

import re

import pyphen

from imprint.errors import Finding, Location
from imprint.specs import labels as labels_table

RTL = {"ar", "he", "iw", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb", "syr"}

# A language's dictionary when no region is given (Pyphen's fallback would take the first it finds).
DEFAULT_REGION = {"en": "en_US", "de": "de_DE", "pt": "pt_PT", "nl": "nl_NL", "fr": "fr", "it": "it_IT",
                  "es": "es", "ru": "ru_RU", "pl": "pl_PL", "sv": "sv", "el": "el_GR"}

NNBSP = labels_table.NNBSP
FRENCH_SPACED = ";:!?"
# Languages that capitalise every noun: a capital does not mark a name, so capitalised words are
# hyphenated (`hyphenate-capitalized` defaults to true for them).
NOUN_CAPITALS = {"de", "gsw", "lb", "nds"}


# The bundled faces of the scripts the text faces lack (styles/fonts/noto, SIL OFL 1.1): family,
# file stem, and the languages styles/book.css sets in it (its :lang rules).
SCRIPTS = (("Noto Serif Hebrew", "NotoSerifHebrew", ("he", "iw", "yi")),
           ("Noto Naskh Arabic", "NotoNaskhArabic", ("ar", "fa", "ur", "ps", "sd", "ug", "ckb")))


def script_face(lang: str | None) -> tuple[str, str] | None:
    """(family, file stem) of the bundled face text in `lang` is set in, if it has one."""
    code = base(lang) if lang else ""
    return next(((family, stem) for family, stem, langs in SCRIPTS if code in langs), None)


def base(lang: str) -> str:
    return (lang or "en").replace("_", "-").split("-")[0].lower()


def direction(lang: str) -> str:
    return "rtl" if base(lang) in RTL else "ltr"


def hyphenation_dictionary(lang: str) -> str | None:
    """The Pyphen dictionary for a BCP 47 tag, the region's own; None when Pyphen has none."""
    if not lang:
        return None
    tag = lang.replace("-", "_")
    parts = tag.split("_")
    if len(parts) == 1 and parts[0].lower() in DEFAULT_REGION and DEFAULT_REGION[parts[0].lower()] in pyphen.LANGUAGES:
        return DEFAULT_REGION[parts[0].lower()]
    if len(parts) > 1:
        tag = parts[0].lower() + "_" + parts[1].upper()
    return pyphen.language_fallback(tag)


def language_findings(lang: str, where: Location) -> list[Finding]:
    """G102 when the labels table has no row for the language, G103 when Pyphen has no dictionary."""
    found = []
    if not labels_table.known(lang):
        found.append(Finding("G102", "warning",
                             f"the book's language '{lang}' has no row in the table of labels (imprint/specs/labels.py): contents, notes, "
                             "copyright lines and landmarks are printed in English", where,
                             hint=f"add a '{base(lang)}' row to LABELS (and QUOTES) in imprint/specs/labels.py"))
    if hyphenation_dictionary(lang) is None:
        found.append(Finding("G103", "info",
                             f"no hyphenation dictionary for '{lang}': the text is set without hyphenation", where,
                             hint="Pyphen's dictionaries are listed in pyphen.LANGUAGES; add one there or break "
                                  "long words with soft hyphens (U+00AD)"))
    return found


_OPENS_AFTER = " \t\n([{\u2014\u2013/-!|@"   # the last three: an index entry's levels, see and sort@shown


def typographic_quotes(text: str | None, lang: str) -> str | None:
    """A metadata text (title, subtitle, names, toc-title...) with its straight quotes made
    typographic as pandoc's smart extension makes the manuscript's, in the language's marks: an
    apostrophe (Keeper's, O'Brien, '90s after a letter) is ’; a quote that opens after a space or
    the text's start opens. Marks the author typed are kept."""
    if not text or ("'" not in text and '"' not in text):
        return text
    open1, close1, open2, close2, inside = labels_table.quotes(lang)
    if open1 in "«»":                             # French spaces its guillemets
        open1, close1 = open1 + inside, inside + close1
    out, single_open, double_open = [], False, False
    for i, ch in enumerate(text):
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if ch == '"':
            opening = before in _OPENS_AFTER and not after.isspace()
            out.append(open1 if opening else close1)
            double_open = opening
        elif ch == "'":
            if before.isalnum() and (after.isalnum() or not single_open):
                out.append("\u2019")                 # an apostrophe: Keeper's, rock 'n' roll's end
            elif after.isdigit() and not single_open and not _closes_later(text, i + 1):
                out.append("\u2019")                 # a year cut short: Summer of '69, the '90s
            elif before in _OPENS_AFTER and not after.isspace() and (single_open or _closes_later(text, i + 1)):
                out.append(open2)
                single_open = True
            elif before in _OPENS_AFTER and not after.isspace():
                out.append("\u2019")                 # nothing closes it: 'Tis, 'em
            else:
                out.append(close2 if single_open else "\u2019")
                single_open = False
        else:
            out.append(ch)
    return "".join(out)


def _closes_later(text: str, start: int) -> bool:
    """Whether a straight ' after `start` closes a quotation (not an apostrophe between letters),
    before the next one opens one ("Songs of '69 and 'love'": the ' after love closes 'love')."""
    for j in range(start, len(text)):
        if text[j] == "'":
            before, after = text[j - 1], text[j + 1] if j + 1 < len(text) else " "
            if before in _OPENS_AFTER and not after.isspace():
                return False
            if not (before.isalnum() and after.isalnum()) and not before.isspace():
                return True
    return False


def quotes_change(lang: str, markdown: str) -> bool:
    """Whether localize_quotes may change this text (for English only a passage in another
    language, `{lang=de}`, with quotes)."""
    marks = labels_table.quotes(lang)
    if marks[:4] != labels_table.QUOTES["en"][:4] or marks[4] or "lang=" in markdown:
        if '"' in markdown or "'" in markdown:     # a passage in another language quotes in its own marks
            return True
    return base(lang) == "fr" and FRENCH_TEXT.search(markdown) is not None


# What French spacing may change in a text: a typed space before ; : ! ? » or after «; a mark
# typed against its word, or against the markup that ends one (`*mot*;`, `[lien](…)?`, `mot[^1];`,
# `` `code`: ``, `[Paris]{.smallcaps}:`, `<adresse>?`); guillemets typed against what they enclose.
_BEFORE_MARK = r"[\w)\]»”’*_`}>]"
FRENCH_TEXT = re.compile(r"[ \t\n][;:!?»]|«[ \t\n]|" + _BEFORE_MARK + r"[;!?»]|" + _BEFORE_MARK
                         + r":(?![\w/\\])|«[^\s»]")


# A word's end or a closing mark: what French sets a narrow no-break space after, before ; : ! ? ».
_CLOSES = ")]»”’"
# A smiley typed against its word ("super:)", ";-)"): no space is put in before it.
EMOTICON = re.compile(r"[:;]-?[()\[\]|](?!\w)")


def _spaced_mark(text: str, j: int, prev: str, after: str = "") -> bool:
    """Whether the mark text[j] (; : ! ? or ») typed after the character `prev` takes a narrow
    no-break space before it: after a word or a closing mark; a colon not inside a word, time,
    ratio or address ("8:15", "3:2", "http://"; `after`: what the next node prints first, for a
    mark that ends its text: `**16**:**9**`); no smiley; no second mark of "?!"."""
    if j >= len(text):
        return False
    ch, nxt = text[j], text[j + 1:j + 2] or after
    if ch == "»":
        return bool(prev) and not prev.isspace() and prev != "«"
    if not (prev.isalnum() or prev in _CLOSES):
        return False
    if ch == ":" and (nxt.isalnum() or nxt in ("/", "\\")):
        return False
    return EMOTICON.match(text, j) is None


def french_spaces(text: str, after: str = "") -> str:
    """A Str's ; ! ? : and » typed against their word, and its « typed against the next, in
    French, get the narrow no-break space the language writes (babel-french's rule):
    "quelqu’un; puis" -> "quelqu’un ; puis", "«mot»" -> "« mot »". Not a colon inside a word,
    time or address ("8:15", "http://"), nor the second mark of "?!"."""
    out = []
    for j, ch in enumerate(text):
        if ch in FRENCH_SPACED + "»" and j and _spaced_mark(text, j, text[j - 1], after):
            out.append(NNBSP)
        out.append(ch)
        if ch == "«" and j + 1 < len(text) and not text[j + 1].isspace() and text[j + 1] != "»":
            out.append(NNBSP)
    return "".join(out)


_CONTAINERS = ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps", "Quoted")


def _inner(node: dict) -> list:
    """The inlines a node prints (a link's text, a span's or a citation's words), else []."""
    kind, c = node.get("t"), node.get("c")
    if kind in _CONTAINERS:
        return c[-1] if kind == "Quoted" else c
    if kind in ("Span", "Link", "Cite"):
        return c[1]
    return []


def _edge(node, last: bool) -> str:
    """The last (or first) character an inline node prints; "" for one that prints nothing
    (an empty index mark). A note call, a code span, a formula and a page reference print a word."""
    if not isinstance(node, dict):
        return " "
    kind = node.get("t")
    if kind == "Str":
        return node["c"][-1:] if last else node["c"][:1]
    if kind in ("Note", "Code", "Math"):
        return "a"
    if kind in ("Span", "Link") and "page" in node["c"][0][1]:
        return "0"                                   # [](#id){.page}: the page number
    if kind in _CONTAINERS or kind in ("Span", "Link", "Cite"):
        items = _inner(node)
        for child in (reversed(items) if last else items):
            ch = _edge(child, last)
            if ch:
                return ch
        return ""
    return " "                                       # a space, a break, an image, raw markup


def _before(out: list) -> str:
    """The last character the inlines already written print (past marks that print nothing)."""
    for node in reversed(out):
        ch = _edge(node, True)
        if ch:
            return ch
    return " "


ADDRESS = re.compile(r"://|^www\.|^doi:|^10\.\d{4,}/|@\w", re.IGNORECASE)


def _address(text: str) -> bool:
    """A Str that is (part of) a web address, DOI or e-mail address: no spacing inside it."""
    return ADDRESS.search(text) is not None


def _french_inside(node: dict) -> bool:
    """Whether French spacing applies inside this node: not in a link's text (an address
    written out), an index mark (its `!` and `:` are the index's syntax), code, or a span or
    div in another language (`{lang=en}`)."""
    kind = node.get("t")
    if kind in ("Link", "Code", "CodeBlock", "RawInline", "RawBlock", "Math"):
        return False
    if kind in ("Span", "Div") and isinstance(node.get("c"), list) and node["c"]:
        attr = node["c"][0]
        if isinstance(attr, list) and len(attr) == 3:
            _, classes, pairs = attr
            if "index" in classes:
                return False
            lang = dict((k, v) for k, v in pairs if isinstance(k, str)).get("lang")
            if lang and base(lang) != "fr":
                return False
    return True


def _lang_of(node: dict) -> str | None:
    """The `lang` a span or div sets (`[Hij zei "hallo"]{lang=nl}`), else None."""
    if node.get("t") in ("Span", "Div") and isinstance(node.get("c"), list) and node["c"]:
        attr = node["c"][0]
        if isinstance(attr, list) and len(attr) == 3 and isinstance(attr[2], list):
            lang = dict((p[0], p[1]) for p in attr[2] if isinstance(p, list) and len(p) == 2).get("lang")
            return lang if isinstance(lang, str) and lang.strip() else None
    return None


def _has_lang_span(node) -> bool:
    """Whether a span or div anywhere under `node` sets another language."""
    if isinstance(node, list):
        return any(_has_lang_span(x) for x in node)
    if isinstance(node, dict):
        return _lang_of(node) is not None or _has_lang_span(node.get("c")) or _has_lang_span(node.get("blocks"))
    return False


def _str(items: list, i: int) -> str:
    """The text of items[i] when it is a Str node, else ''."""
    node = items[i] if 0 <= i < len(items) else None
    return node["c"] if isinstance(node, dict) and node.get("t") == "Str" else ""


def localize_quotes(ast: dict, lang: str) -> int:
    """Rewrite pandoc's Quoted nodes (and, in French, the space before ; : ! ? » and after «, made
    narrow and no-break, or put in where the author typed none, within a Str or across the
    markup: a Str starting with the mark after an inline node that ends in a word or closing
    mark, a Str ending in « before one that starts with a word) in place; the count changed."""
    if base(lang) == "en" and not _has_lang_span(ast):
        return 0
    french = base(lang) == "fr"
    count = 0

    def inlines(items: list, spaced: bool = True, here: str = lang) -> list:
        """`spaced`: French spacing applies here (not in a link's text, an index mark or a
        passage in another language); `here`: the language of this passage (a span or div
        `{lang=nl}` quotes in its own marks)."""
        nonlocal count
        out = []
        for i, node in enumerate(items):
            if isinstance(node, dict) and node.get("t") == "Quoted":
                kind, content = node["c"]
                open1, close1, open2, close2, inside = labels_table.quotes(here)
                o, c = (open1, close1) if kind.get("t") == "DoubleQuote" else (open2, close2)
                space = inside if o in "«»" else ""      # French spaces guillemets, not inner “…”
                out.append({"t": "Str", "c": o + space})
                out.extend(walk(content, spaced, here))
                out.append({"t": "Str", "c": space + c})
                count += 1
                continue
            if french and spaced and isinstance(node, dict) and node.get("t") == "Str" and not _address(node["c"]):
                after = _edge(items[i + 1], False) if i + 1 < len(items) else ""
                respaced = french_spaces(node["c"], after)
                # across the markup: `*quelqu’un*;`, `[lien](…)?`, `mot[^1];`, `` `code`: ``, "cité"?
                # (a citation the style moved the punctuation out of leaves an empty Str: nothing to space)
                if respaced and respaced[0] in FRENCH_SPACED + "»" and out \
                        and _spaced_mark(respaced, 0, _before(out), after):
                    respaced = NNBSP + respaced
                # `«*titre*»`: the space inside the guillemet before markup
                if respaced.endswith("«") and i + 1 < len(items) and _edge(items[i + 1], False) not in (" ", "", "»"):
                    respaced += NNBSP
                if respaced != node["c"]:
                    out.append({"t": "Str", "c": respaced})
                    count += 1
                    continue
            if french and isinstance(node, dict) and node.get("t") in ("Space", "SoftBreak") and (
                    _str(items, i + 1)[:1] in tuple((FRENCH_SPACED if spaced else "") + "»") or _str(items, i - 1)[-1:] == "«"):
                # the author's own guillemets too: no line starts with » or ends with «
                out.append({"t": "Str", "c": NNBSP})
                count += 1
                continue
            out.append(walk(node, spaced, here))
        return out

    def walk(node, spaced: bool = True, here: str = lang):
        if isinstance(node, list):
            if node and all(isinstance(x, dict) and "t" in x for x in node):
                return inlines(node, spaced, here)
            return [walk(x, spaced, here) for x in node]
        if isinstance(node, dict):
            if "c" in node:
                node["c"] = walk(node["c"], spaced and _french_inside(node), _lang_of(node) or here)
            return node
        return node

    ast["blocks"] = walk(ast.get("blocks", []))
    return count
