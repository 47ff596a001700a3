"""Book -> findings about its notes (N1xx): every call has a note and every note a call, each
label is defined once, no note is empty, cut off, unbalanced or full of markup debris, no
old-style call is left in the prose, and calls sit where house style puts them.

Positions come from the note index (`imprint/manuscript/notes.py`, which reads the manuscript text);
what a note says comes from pandoc's AST, so the checks read the note as every edition
prints it. Pandoc numbers notes by the order of their calls, whatever their labels, and a
note called twice is printed twice, once under each number (N104 says so).
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass
from pathlib import Path

from imprint.codes import meanings
from imprint.manuscript import pandoc
from imprint.manuscript.languages import base
from imprint.manuscript import sanitize
from imprint.errors import Finding, Location
from imprint.specs import labels as labels_table
from imprint.manuscript.notes import NoteCall, NoteDefinition, unfenced

CODES = meanings("N1")        # severities and meanings: imprint/codes.py

HINTS = {
    "N101": "define it as `[^{label}]: ...` or remove the call",
    "N102": "call it with `[^{label}]` where it belongs, or delete the definition",
    "N106": "restore the end of the note from the source, or end it with a full stop",
    "N107": "end the note with a full stop unless it is a bare reference",
    "N108": "close the quotation or bracket, or remove the stray one",
    "N109": "replace it with the character it stood for",
    "N110": "turn it into a note call `[^n]`, or remove it if the note is already called",
    "N111": "move the call into the text after the heading if you can",
    "N112": "remove the space before the call",
    "N113": "put the call after the punctuation mark",
    "N114": "fold the inner note's text into the outer note, or call it from the text",
}

CLOSING = ".!?…"
CLOSERS = "”’\"')]»›*_"
CUT_OFF = {",": "a comma", ";": "a semicolon", ":": "a colon", "-": "a hyphen", "–": "a dash", "—": "a dash",
           "“": "an opening quotation mark", "‘": "an opening quotation mark", "„": "an opening quotation mark",
           "«": "an opening quotation mark", "(": "an opening parenthesis", "[": "an opening bracket",
           "{": "an opening brace"}
PAIRS = {"(": ")", "[": "]", "{": "}"}
ENTITY_NAMES = {name.rstrip(";") for name in html.entities.html5}
SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
CODE_SPAN = re.compile(r"(`+).+?\1")
URL = re.compile(r"<?\b[a-z][a-z0-9+.-]*://[^\s>)]*>?|\]\([^)]*\)", re.I)
HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")


@dataclass(frozen=True)
class Note:
    """One note as printed: its number, its call, its definition (None for an inline note),
    and its text, one string per paragraph-like block (None when it cannot be read)."""

    number: int
    call: NoteCall
    definition: NoteDefinition | None
    paragraphs: tuple[str, ...] | None
    ends_in_text: bool        # the last block is a paragraph (not a list, quotation, table or code)

    @property
    def where(self) -> Location:
        if self.definition is not None:
            d = self.definition
            return Location(d.file, d.line, d.column)
        return Location(self.call.file, self.call.line, self.call.column)

    @property
    def name(self) -> str:
        return f"[^{self.call.label}]" if self.definition is not None else f"{self.number} (inline)"


def check_notes(book) -> list[Finding]:
    index = book.notes
    order = {s.path: i for i, s in enumerate(book.sources)}
    key = lambda item: (order.get(item.file, 0), item.line, item.column)
    defs = sorted(index.definitions, key=key)
    findings: list[Finding] = []

    # One label, one definition; pandoc keeps the last one it reads.
    by_label: dict[str, NoteDefinition] = {}
    for d in defs:
        if d.label in by_label:
            first = by_label[d.label]
            findings.append(Finding(
                "N103", "error",
                f"note [^{d.label}] is already defined at {_short(first, d)}; only this later definition is printed",
                Location(d.file, d.line, d.column),
                hint="give one of them another label, or delete the one you do not want"))
        by_label[d.label] = d

    where = _definition_lines(defs)
    inside = [c for c in index.calls if _inside_definition(c, where)]
    nested = {id(c) for c in inside}
    calls = sorted((c for c in index.calls if id(c) not in nested), key=key)
    inline = [c for c in index.inline_notes if not _inside_definition(c, where)]

    for c in inside:
        findings.append(Finding("N114", "error", f"note [^{c.label}] is called from inside another note",
                                Location(c.file, c.line, c.column), hint=HINTS["N114"]))
    for c in calls:
        if c.label not in by_label:
            near = next((lab for lab in by_label if lab.lower() == c.label.lower()), None)
            extra = f" (labels are case-sensitive: [^{near}] is defined)" if near else ""
            findings.append(Finding("N101", "error", f"note call [^{c.label}] has no definition{extra}",
                                    Location(c.file, c.line, c.column), hint=HINTS["N101"].format(label=c.label)))
    called = {c.label for c in calls}
    for label, d in by_label.items():
        if label not in called:
            findings.append(Finding("N102", "error", f"note [^{label}] is defined but never called",
                                    Location(d.file, d.line, d.column), hint=HINTS["N102"].format(label=label)))

    notes = printed_notes(book, calls, inline, by_label, key)
    first_call: dict[str, Note] = {}
    for note in notes:
        label = note.call.label
        if note.definition is not None and label in first_call:
            before = first_call[label]
            findings.append(Finding(
                "N104", "warning",
                f"note [^{label}] is called again (first at line {before.call.line}); its text is printed a second "
                f"time, as note {note.number} (first as note {before.number})",
                Location(note.call.file, note.call.line, note.call.column),
                hint="give the second call its own note (\"See note …\"), or keep the repeat if you mean it"))
            continue
        first_call.setdefault(label, note)
        findings += _content(note, book.metadata.lang)

    lines = {source.path: (source.first_line, source.text.split("\n")) for source in book.sources}
    # French sets the call before the punctuation and the closing guillemet (Lexique des règles
    # typographiques en usage à l'Imprimerie nationale): N113 is English house style.
    after_marks = base(book.metadata.lang or "") != "fr"
    for c in calls + inline:
        findings += _placement(c, lines, after_marks)
    findings += _debris(book)
    findings += _old_calls(book, len(notes), defs)
    return findings


# --- the notes as pandoc prints them ---------------------------------------------------

def printed_notes(book, calls, inline, by_label, key) -> list[Note]:
    """The notes in printed order. Pandoc's AST has the notes (in call order) but no
    positions; the index has positions but not pandoc's reading. They are paired in order,
    and checked to agree; when they do not, the note's own source text is read instead."""
    resolved = sorted([c for c in calls if c.label in by_label] + list(inline), key=key)
    ast_notes = sanitize.notes(book.ast)
    agree = len(ast_notes) == len(resolved)
    out = []
    for number, call in enumerate(resolved, start=1):
        definition = by_label.get(call.label) if call.label != "^[" else None
        if agree:
            paragraphs, ends_in_text = _plain(ast_notes[number - 1])
        elif definition is not None:
            paragraphs = tuple(p for p in re.split(r"\n\s*\n", definition.text) if p.strip())
            ends_in_text = True
        else:
            paragraphs, ends_in_text = None, False
        out.append(Note(number, call, definition, paragraphs, ends_in_text))
    return out


def _plain(blocks) -> tuple[tuple[str, ...], bool]:
    """A note's paragraphs as plain text, and whether it ends in a paragraph."""
    out: list[str] = []

    def walk(items):
        for b in items:
            t, c = b.get("t"), b.get("c")
            if t in ("Para", "Plain", "Header"):
                inlines = c[2] if t == "Header" else c
                out.append(pandoc.stringify(_no_code(inlines)))
            elif t == "LineBlock":
                out.append(" ".join(pandoc.stringify(_no_code(line)) for line in c))
            elif t == "BlockQuote":
                walk(c)
            elif t == "Div":
                walk(c[1])
            elif t in ("BulletList", "OrderedList"):
                for item in (c if t == "BulletList" else c[1]):
                    walk(item)
            elif t == "DefinitionList":
                for term, definitions in c:
                    out.append(pandoc.stringify(term))
                    for d in definitions:
                        walk(d)

    walk(blocks)
    last = blocks[-1].get("t") if blocks else None
    return tuple(p for p in out if p), last in ("Para", "Plain")


def _no_code(node):
    """Inline code is quoted matter: its brackets and quotation marks are not the note's."""
    if isinstance(node, list):
        return [_no_code(n) for n in node]
    if isinstance(node, dict):
        if node.get("t") == "Code":
            return {"t": "Space"}
        return {k: _no_code(v) for k, v in node.items()}
    return node


# --- what a note says ------------------------------------------------------------------

def _content(note: Note, lang: str = "en") -> list[Finding]:
    if note.paragraphs is None:
        return []
    text = "\n\n".join(note.paragraphs).strip()
    if note.definition is not None and not note.definition.text.strip() and text:
        # `[^x]:` with nothing after it: pandoc takes the next paragraph as the note.
        return [Finding("N105", "error", f"note {note.name} is empty; pandoc takes the paragraph after it "
                        f"(“{_words(text)}…”) as its text, and that paragraph is lost from the prose",
                        note.where, hint="write the note on the line of its label, or delete it")]
    if not text:
        return [Finding("N105", "error", f"note {note.name} is empty", note.where,
                        hint="write the note, or remove it and its call")]
    out = []
    if note.ends_in_text:
        last = text.rstrip()
        if last[-1] in CUT_OFF:
            out.append(Finding("N106", "error",
                               f"note {note.name} looks cut off: it ends in {CUT_OFF[last[-1]]} (…{_tail(last)})",
                               note.where, hint=HINTS["N106"]))
        elif last.rstrip(CLOSERS)[-1:] not in CLOSING and not reference_like(last):
            out.append(Finding("N107", "warning", f"note {note.name} ends without closing punctuation (…{_tail(last)})",
                               note.where, hint=HINTS["N107"]))
    problem = unbalanced([as_english(p, lang) for p in note.paragraphs])
    if problem:
        out.append(Finding("N108", "warning", f"note {note.name}: {problem}", note.where, hint=HINTS["N108"]))
    return out


REFERENCE = re.compile(
    r"\d|\b(?:pp?|vol|vols|ed|eds|ch|chap|cp|cf|op|cit|ibid|id|loc|s\.v|tom|art|sect|no|fol|col|n)\.|§"
    r"|\b[IVXLCivxlc]{1,6}$", re.I)
ATTRIBUTION = re.compile(r"—\s*[A-Z][^.!?—]{0,40}$")


def reference_like(text: str) -> bool:
    """A note that ends in a reference (page, volume, year, section) or an attribution
    (“—Cannan”) needs no full stop: such endings are not reported as missing one."""
    tail = text[-40:]
    return bool(REFERENCE.search(tail) or ATTRIBUTION.search(tail))


def _words(text: str, count: int = 5) -> str:
    return " ".join(text.split()[:count])


def _tail(text: str, size: int = 30) -> str:
    return " ".join(text[-size:].split())


ENUMERATOR = re.compile(r"(?:^|[\s(])(?:\d{1,2}|[a-zA-Z]|[ivxlcIVXLC]{1,5})$")


def as_english(text: str, lang: str) -> str:
    """A note's text with the book language's quotation marks (imprint/specs/labels.py QUOTES)
    read as the English ones, so the balance of „…“ or « … » is checked as that of “…”; marks
    that open and close alike (Swedish ”…”) count as straight ones."""
    o1, c1, o2, c2, _ = labels_table.quotes(lang)
    if (o1, c1, o2, c2) == ("“", "”", "‘", "’"):
        return text
    table = {}
    for o, c, eo, ec in ((o1, c1, "“", "”"), (o2, c2, "‘", "’")):
        if o == c:
            table.setdefault(ord(o), '"' if eo == "“" else "’")
        else:
            table.setdefault(ord(o), eo)
            table.setdefault(ord(c), ec)
    return text.translate(table)


def unbalanced(paragraphs) -> str | None:
    """The first unbalanced quotation mark, bracket or parenthesis in a note, described.

    ’ is both the apostrophe and the closing single quotation mark: it closes an open ‘
    unless it stands between two letters (don’t), and a ’ that closes nothing is taken
    for an apostrophe. A quotation that runs over several paragraphs opens each of them
    and closes only at its end, as the convention is."""
    double, single, brackets = [], [], []
    straight = 0
    for k, text in enumerate(paragraphs):
        nxt = paragraphs[k + 1] if k + 1 < len(paragraphs) else ""
        for i, ch in enumerate(text):
            before, after = text[i - 1] if i else " ", text[i + 1] if i + 1 < len(text) else " "
            if ch == "“":
                double.append(_at(text, i))
            elif ch == "”":
                if double:
                    double.pop()
                else:
                    return f"closing ” with no opening “ ({_at(text, i)})"
            elif ch == "‘":
                single.append(_at(text, i))
            elif ch == "’":
                if single and not (before.isalpha() and after.isalpha()):
                    single.pop()
            elif ch == '"':
                straight += 1
            elif ch in PAIRS:
                brackets.append((ch, _at(text, i)))
            elif ch in PAIRS.values():
                if not brackets:
                    if ch == ")" and ENUMERATOR.search(text[max(0, i - 8):i]):
                        continue              # 1) a) iv): an enumeration, not a bracket
                    return f"closing {ch} with no opening {_opener(ch)} ({_at(text, i)})"
                opener, where = brackets.pop()
                if PAIRS[opener] != ch:
                    return f"{opener} closed by {ch} ({where})"
        # A quotation running on: the next paragraph opens again with the same mark.
        if double and nxt.lstrip().startswith("“"):
            double.pop()
        if single and nxt.lstrip().startswith("‘"):
            single.pop()
    if double:
        return f"“ is never closed ({double[0]})"
    if single:
        return f"‘ is never closed ({single[0]})"
    if brackets:
        opener, where = brackets[0]
        return f"{opener} is never closed ({where})"
    if straight % 2:
        return "an odd number of straight quotation marks (\")"
    return None


def _opener(closer: str) -> str:
    return next(o for o, c in PAIRS.items() if c == closer)


def _at(text: str, i: int) -> str:
    start = max(0, i - 15)
    return "…" * (start > 0) + " ".join(text[start:i + 25].split()) + "…" * (i + 25 < len(text))


# --- where calls sit -------------------------------------------------------------------

def _definition_lines(defs) -> dict:
    """(file, line) -> the definition whose text covers that line."""
    return {(d.file, n): d for d in defs for n in range(d.line, d.end_line + 1)}


def _inside_definition(call: NoteCall, where: dict) -> bool:
    d = where.get((call.file, call.line))
    return d is not None and (call.line > d.line or call.column > d.column + len(d.label) + 3)


def _placement(call: NoteCall, lines, after_marks: bool = True) -> list[Finding]:
    out = []
    line = call.context
    col = call.column - 1                     # 0-based start of the call
    where = Location(call.file, call.line, call.column)
    name = f"[^{call.label}]" if call.label != "^[" else "inline note"
    if _in_heading(call, lines):
        out.append(Finding("N111", "warning", f"note {name} is called from a heading", where, hint=HINTS["N111"]))
    if col > 0 and line[col - 1] in " \t\u00a0":
        out.append(Finding("N112", "warning", f"space before note call {name}", where, hint=HINTS["N112"]))
    if call.label != "^[" and after_marks:
        end = col + len(call.label) + 3
        rest = line[end:]
        mark = rest[:1]
        if mark and mark in ".,;:!?":
            out.append(Finding("N113", "warning", f"note call {name} comes before “{mark}”", where, hint=HINTS["N113"]))
        elif (mark and mark in "”»") or (mark == "’" and not rest[1:2].isalpha()) or (mark == '"' and not rest[1:2].isalnum()):
            out.append(Finding("N113", "warning", f"note call {name} comes before the closing quotation mark",
                               where, hint=HINTS["N113"]))
    return out


def _in_heading(call: NoteCall, lines) -> bool:
    if HEADING.match(call.context):
        return True
    first, text = lines.get(call.file, (1, []))
    i = call.line - first
    return 0 <= i + 1 < len(text) and bool(SETEXT.match(text[i + 1])) and call.context.strip() != ""


# --- the text itself -------------------------------------------------------------------

def _prose_lines(book):
    """(file, line number, text, in_definition) for every manuscript line outside code, code
    spans and URLs blanked so that their characters are never taken for debris or calls."""
    defs = book.notes.definitions
    for source in book.sources:
        prev_blank = True
        in_definitions = {n for d in defs if d.file == source.path for n in range(d.line, d.end_line + 1)}
        for i, raw in unfenced(source.text.split("\n")):
            number = source.first_line + i
            in_def = number in in_definitions
            if raw.startswith(("    ", "\t")) and prev_blank and not in_def:
                continue                      # indented code
            prev_blank = not raw.strip()
            text = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), raw)
            text = URL.sub(lambda m: " " * len(m.group(0)), text)
            yield source.path, number, text, in_def


ENTITY = re.compile(r"&(?:amp;)?(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")


def _debris(book) -> list[Finding]:
    out = []
    for file, number, text, _ in _prose_lines(book):
        for m in ENTITY.finditer(text):
            whole, body = m.group(0), m.group(1)
            double = whole.startswith("&amp;") and len(whole) > 5
            name = body.rstrip(";")
            if double:
                kind = "a double-escaped entity"
            elif body.startswith("#"):
                if body.endswith(";"):
                    continue                  # a valid numeric reference: pandoc decodes it
                kind = "a numeric entity without its semicolon"
            elif body.endswith(";"):
                if name in ENTITY_NAMES:
                    continue                  # a valid named entity: pandoc decodes it
                kind = "an unknown entity"
            else:
                following = text[m.end():m.end() + 1]
                # `&c.` and `AT&T` are text; `&rdqu` and `&nbsp` (pandoc wants the ';') are not.
                if len(name) < 3 or following.isalnum() or not any(e.startswith(name) for e in ENTITY_NAMES):
                    continue
                kind = "a cut-off entity"
            out.append(Finding("N109", "error", f"HTML entity debris “{whole}” ({kind})",
                               Location(file, number, m.start() + 1), hint=HINTS["N109"]))
    return out


OLD_CALL = re.compile(
    r"(?<=[A-Za-z\u00c0-\u024f.,;:!?”’)\]])"
    r"(?:\((?P<paren>\d{1,3})\)|\[(?P<bracket>\d{1,3})\](?![(:\[])|\^(?P<caret>\d{1,3})\^"
    r"|<sup>(?P<sup>\d{1,3})</sup>|(?P<uni>[" + SUPERSCRIPT + r"]{1,3})|(?P<star>\\\*|\*(?=[\s)\]]|$)))")


STAR_ITEM = re.compile(r"[ \t]*(?:>[ \t]*)*\*[ \t]")


def _old_calls(book, count: int, defs) -> list[Finding]:
    """Calls set by hand in an older edition, left in the prose: `word(1)`, `word[1]`,
    `word^1^`, `word¹`, `word*`. Only numbers that a note of this book carries count."""
    labels = {d.label for d in defs}
    out = []
    for file, number, text, in_def in _prose_lines(book):
        if in_def:
            continue
        stars = text.count("*") - text.count("\\*") - (1 if STAR_ITEM.match(text) else 0)   # a `* item` marker pairs with nothing
        for m in OLD_CALL.finditer(text):
            kind = m.lastgroup
            if kind == "star":
                if m.group(0) == "*" and stars % 2 == 0:
                    continue                  # emphasis markers, paired
                shown = "*"
            else:
                value = m.group(kind)
                if kind in ("caret", "sup", "uni") and re.search(r"(?:^|[^A-Za-z])[A-Za-z]{1,3}$", text[:m.start()]):
                    continue                  # km², cm^3^: a unit's power, not a call
                digits = value.translate(str.maketrans(SUPERSCRIPT, "0123456789"))
                n = int(digits)
                if not (1 <= n <= count or digits in labels):
                    continue
                shown = m.group(0)
            out.append(Finding("N110", "warning", f"“{shown}” looks like an old-style note call left in the text",
                               Location(file, number, m.start() + 1), hint=HINTS["N110"]))
    return out


def _short(first: NoteDefinition, other: NoteDefinition) -> str:
    if first.file != other.file:
        return f"{Path(first.file).name}:{first.line}"
    return f"line {first.line}"
