"""Page references and index marks, as pandoc reads them: the checks made when the book is
read, and the rules every edition files and sorts the index by.

- `[](#id){.page}` prints the page on which the element with that id stands;
- `[words]{.index}` files the place under the marked words; `entry="main!sub"` under another
  heading and a sub-entry (makeindex's `!`); `[main!sub]{.index}` files so too, but prints its
  words as written (X203); `entry="term|see other"` (or `|seealso other`)
  makes a cross-reference, which prints no page;
- `entry="sort@shown"` at any level sorts the entry as `sort` and prints `shown` (makeindex's
  `@`: "Gralloch@The Gralloch" files under G);
- `entry="term|("` opens a page range at its place and `entry="term|)"` closes it: the index
  prints "12–18" for everything between (makeindex's `|(` and `|)`).

The numbers themselves are written in after the pages are laid out (imprint/html/index.py
makes the markup, imprint/jobs/pagerefs.py lays the book out until they hold).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from imprint.codes import meanings
from imprint.errors import Finding, Location
from imprint.manuscript import pandoc

CODES = meanings("X2")        # severities and meanings: imprint/codes.py

# The index's heading in the book's language; any other language gets "Index".
HEADINGS = {
    "en": "Index", "de": "Register", "fr": "Index", "es": "Índice alfabético", "it": "Indice analitico",
    "pt": "Índice remissivo", "nl": "Register", "ru": "Предметный указатель", "pl": "Indeks", "sv": "Register",
    "he": "מפתח", "el": "Ευρετήριο",
}
SEE = {      # (see, see also)
    "en": ("see", "see also"), "de": ("siehe", "siehe auch"), "fr": ("voir", "voir aussi"),
    "es": ("véase", "véase también"), "it": ("vedi", "vedi anche"), "pt": ("ver", "ver também"),
    "nl": ("zie", "zie ook"), "ru": ("см.", "см. также"), "pl": ("zob.", "zob. też"), "sv": ("se", "se även"),
    "he": ("ראו", "ראו גם"), "ar": ("انظر", "انظر أيضًا"), "el": ("βλ.", "βλ. επίσης"),
}
INDEX_ID = "index"       # the index section's id: a page reference may name it


def language(lang: str) -> str:
    return (lang or "en").split("-")[0].lower()


def heading(lang: str) -> str:
    return HEADINGS.get(language(lang), "Index")


def see_words(lang: str) -> tuple[str, str]:
    return SEE.get(language(lang), SEE["en"])


# Letters NFKD leaves whole: ligatures filed as their letters ("œuvre" under O, as in a French
# index), letters with a stroke under their base letter (Łódź under L, not after Z).
FOLDED = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
                        "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ı": "i", "þ": "th", "Þ": "TH"})


def sort_key(text: str) -> tuple:
    """Locale-independent collation: accents stripped (NFKD), ligatures and letters with a
    stroke folded to their letters, case folded, then the original text to break ties, so
    "resume" < "résumé" < "Résumé" always in the same order."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return (plain.translate(FOLDED).casefold(), text)


@dataclass(frozen=True)
class Entry:
    """Where one mark is filed: the headings from the main entry down, and a cross-reference."""

    path: tuple[str, ...]
    see: str | None = None
    see_also: bool = False
    problem: str | None = None      # why it cannot be filed as written (X203), if so
    sort: tuple[str, ...] = ()      # the sort key of each level (`sort@shown`); the path's own when empty
    range: str | None = None        # "(" opens a page range here, ")" closes it

    def keys(self) -> tuple[str, ...]:
        return self.sort or self.path


# "main!sub" in the words of a mark with no entry: a "!" with words on both sides ("Yahoo!" and
# "Stop! Go" are words, not levels).
LEVELS_IN_WORDS = re.compile(r"[^\s!]!+[^\s!]")


def parse(words: str, entry: str | None) -> Entry:
    """A mark's words and its `entry` attribute -> where it is filed."""
    words = " ".join(words.split())
    if entry is None and LEVELS_IN_WORDS.search(words):
        # makeindex's main!sub written in the marked words: filed so, but the words are printed
        # in the text as they stand, "!" and all (X203 says how to print only the sub-entry).
        filed = parse(words, words)
        problem = f"the marked words \"{words}\" are printed in the text as written, '!' and all"
        return Entry(filed.path, filed.see, filed.see_also, problem + (f" ({filed.problem})" if filed.problem else ""),
                     filed.sort, filed.range)
    if entry is None:
        return Entry((words,) if words else (), problem=None if words else "empty")
    text, bar, command = entry.partition("|")
    see, also, problem, page_range = None, False, None, None
    if bar:
        name, _, target = command.strip().partition(" ")
        target = " ".join(target.split())
        if name in ("(", ")") and not target:
            page_range = name
        elif name in ("see", "seealso") and target:
            see, also = target, name == "seealso"
        elif name in ("see", "seealso"):
            problem = f"'|{name}' names nothing to see"
        else:
            problem = (f"'|{name}' is not a command this index knows (|see, |seealso, |( and |) to open "
                       "and close a page range)")
    levels = [" ".join(part.split()) for part in text.split("!")] if text.strip() else [words]
    if any(not level for level in levels):
        problem = problem or f"entry \"{entry}\" has an empty level"
        levels = [level for level in levels if level]
    shown, keys = [], []
    for level in levels:
        key, at, display = level.partition("@")
        key, display = key.strip(), display.strip()
        if at and key and display:
            shown.append(display)
            keys.append(key)
        else:
            if at:
                problem = problem or f"'{level}': write sort@shown with words on both sides of '@'"
            shown.append(level)
            keys.append(level)
    sort = tuple(keys) if keys != shown else ()
    return Entry(tuple(shown), see, also, problem, sort, page_range)


def unmatched_ranges(entries: list[Entry]) -> dict[int, str]:
    """Marks (by position) whose page range does not pair up: a `|(` never closed by a `|)`
    of the same entry after it, or a `|)` with no `|(` open -> what is wrong."""
    open_at: dict[tuple, list[int]] = {}
    out = {}
    for n, entry in enumerate(entries):
        if entry.range == "(":
            open_at.setdefault(entry.path, []).append(n)
        elif entry.range == ")":
            if open_at.get(entry.path):
                open_at[entry.path].pop()
            else:
                out[n] = (f"'|)' closes a page range of \"{'!'.join(entry.path)}\" that no '|(' before it "
                          "opened")
    for path, starts in open_at.items():
        for n in starts:
            out[n] = (f"'|(' opens a page range of \"{'!'.join(path)}\" that no '|)' after it "
                      "closes")
    return out


def letter(key: str) -> str:
    """The letter group an entry sorted by `key` falls in: its first letter without accents, in
    capitals; "" for a digit or a symbol (that group comes first, without a heading)."""
    plain = sort_key(key)[0].lstrip()
    first = plain[:1]
    return first.upper() if first.isalpha() else ""


# --- reading the AST ----------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    marks: tuple        # (words, entry attribute or None, own id)
    refs: tuple         # (target id, has words)
    ids: frozenset      # every id the text defines


ID_IN_RAW = re.compile(r"""\bid\s*=\s*["']?([^"'\s>]+)""", re.I)


def find(ast: dict) -> Found:
    marks, refs, ids = [], [], set()

    def attr_id(value):
        if (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
                and isinstance(value[1], list) and isinstance(value[2], list)
                and all(isinstance(c, str) for c in value[1])):
            if value[0]:
                ids.add(value[0])
            return True
        return False

    def walk(node):
        if isinstance(node, dict):
            t, c = node.get("t"), node.get("c")
            if t == "Span":
                (ident, classes, kvs), inlines = c
                if "index" in classes:
                    marks.append((pandoc.stringify(inlines), dict(kvs).get("entry"), ident))
            elif t == "Link":
                (ident, classes, kvs), inlines, (url, _title) = c
                if "page" in classes and url.startswith("#"):
                    refs.append((url[1:], bool(pandoc.stringify(inlines).strip())))
            elif t in ("RawInline", "RawBlock"):
                ids.update(ID_IN_RAW.findall(c[1]))
                return
            walk(c)
        elif isinstance(node, list):
            if attr_id(node):
                return
            for v in node:
                walk(v)

    walk(ast.get("blocks", []))
    return Found(tuple(marks), tuple(refs), frozenset(ids))


def _locate(sources, pattern: re.Pattern, nth: int) -> Location:
    """Where the nth (from 0) match of `pattern` stands in the manuscript."""
    seen = 0
    for s in sources:
        for m in pattern.finditer(s.text):
            if seen == nth:
                line = s.text.count("\n", 0, m.start()) + s.first_line
                column = m.start() - (s.text.rfind("\n", 0, m.start()) + 1) + 1
                return Location(s.path, line, column)
            seen += 1
    return Location(sources[0].path if sources else None)


def _ref_pattern(target: str) -> re.Pattern:
    return re.compile(r"\[[^\]]*\]\(\s*#" + re.escape(target) + r"\s*\)\{[^}]*\.page\b")


MARK = re.compile(r"\[[^\[\]]*\]\{[^}]*\.index\b")


def check(book) -> list[Finding]:
    """X201, X202, X203, X206: what the text asks of page references and index marks."""
    found = find(book.ast)
    if not found.marks and not found.refs:
        return []
    out = []
    known = found.ids | ({INDEX_ID} if found.marks else set())
    counts: dict[str, int] = {}
    for target, worded in found.refs:
        nth = counts.get(target, 0)
        counts[target] = nth + 1
        if target not in known:
            out.append(Finding("X201", "error", f"page reference to '#{target}': no heading, figure, span or "
                               "index mark has this id", _locate(book.sources, _ref_pattern(target), nth),
                               hint=f"give the place an id ({{#{target}}} after a heading, [words]{{#{target}}} "
                                    "in the text) or correct the name"))
        elif worded:
            out.append(Finding("X202", "warning", f"page reference to '#{target}' has words: only the page "
                               "number is printed", _locate(book.sources, _ref_pattern(target), nth),
                               hint=f"write the words before it: see page [](#{target}){{.page}}"))
    parsed_marks = [parse(words, entry) for words, entry, _ident in found.marks]
    ranges = unmatched_ranges(parsed_marks)
    for n, parsed in enumerate(parsed_marks):
        if n in ranges and not parsed.problem:
            parsed = Entry(parsed.path, problem=ranges[n])
        if not parsed.path:
            out.append(Finding("X206", "warning", "index mark with no words and no entry: it is left out of "
                               "the index", _locate(book.sources, MARK, n),
                               hint='mark words ([term]{.index}) or name the entry ({.index entry="term"})'))
        elif parsed.problem:
            words, entry, _ident = found.marks[n]
            levels = entry is None and LEVELS_IN_WORDS.search(words)
            out.append(Finding("X203", "warning", f"index entry: {parsed.problem}; filed under "
                               f"\"{' — '.join(parsed.path)}\"" + ("" if parsed.see else " with its page"),
                               _locate(book.sources, MARK, n),
                               hint=(f'to print only the sub-entry\'s words, write [{parsed.path[-1]}]{{.index '
                                     f'entry="{" ".join(words.split())}"}}') if levels else
                               'write entry="main!sub", entry="sort@shown", entry="term|see other term", '
                               'or a range: entry="term|(" … entry="term|)"'))
    return out
