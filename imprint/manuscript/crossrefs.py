"""Cross-references in Quarto's syntax: pandoc's AST -> the same AST with every labelled
heading, figure, table and display equation numbered and every reference to one written out
as a link ("Chapter 2", "Section 2.3", "Figure 1", "Table 1", "(1)"), and the findings.

Labels: `{#sec-…}` on a heading, `{#fig-…}` on a figure (an image with a caption),
`{#tbl-…}` on a table with a caption, `{#eq-…}` after a display equation (`$$…$$ {#eq-x}`).
References: `@sec-x`, `@fig-x`, `@tbl-x`, `@eq-x` (also inside brackets, `[@fig-x]`).
Figures, tables and equations are numbered in order through the whole book; headings as
printed: a book's level-1 headings are its chapters (Chapter 2), deeper ones sections
(Section 2.3); an essay's headings are all sections; a book with parts numbers its parts on
their own (Part 2) and its chapters through the book (heading_numbers, which `number-sections`
prints too). The words come from the book's language (imprint/specs/labels.py).

A book that uses none of this is left untouched (and read in pieces after an edit as
before); one that does is read whole, and its HTML made from this AST.

Findings: a reference to a label nobody defines (X101), a label defined twice (X102), both
errors at `file:line:col`.
"""

from __future__ import annotations

import re
from pathlib import Path

from imprint.codes import meanings
from imprint.errors import Finding, Location
from imprint.manuscript import languages
from imprint.specs.labels import in_text as label_in_text, label

CODES = meanings("X1")        # severities and meanings: imprint/codes.py

KINDS = ("sec", "fig", "tbl", "eq")
LABEL = r"(?:sec|fig|tbl|eq)-[\w-]*[\w]"
REFERENCE = re.compile(r"(\[)?(?<![\w@\\])@(" + LABEL + r")(?(1)\])")     # `[@fig-x]` prints as `@fig-x` does
EQUATION_LABEL = re.compile(r"^\{#(eq-[\w-]*[\w])\}$")
USES = re.compile(r"(?<![\w\\])@(?:sec|fig|tbl|eq)-\w|\{#(?:sec|fig|tbl|eq)-\w")
NBSP = "\u00a0"


def used(markdown: str) -> bool:
    """Whether the text labels or references anything in this syntax (a cheap look first)."""
    return USES.search(markdown) is not None


def _str(text: str) -> dict:
    return {"t": "Str", "c": text}


def _words(text: str) -> list:
    out = []
    for i, word in enumerate(text.split(" ")):
        if i:
            out.append({"t": "Space"})
        out.append(_str(word))
    return out


# mark_parts' rule (imprint/html/render.py), read on the AST here too (_ast_parts)
PART_MIN_CHARS = 8000      # a level-2 section this long (the median of a part's) is a chapter
PART_LEAD_CHARS = 600      # what a part's title page may carry under the title (a motto, a summary)


_numbered: list = []        # [(ast, essay, its heading_numbers)]: the last book's (the references, the body, contents and nav read it)


def heading_numbers(ast: dict, essay: bool) -> dict[str, tuple[str, str]]:
    """{heading id: (kind, number)} for every numbered heading ({.unnumbered} and {-} left out),
    kind 'part', 'chapter' or 'section' (the words of cross-references, labels.py).

    Without parts: a book's level-1 headings are chapters 1, 2…, deeper ones sections 1.1,
    1.1.1…; an essay's are all sections. A book with parts (a level-1 heading marked {.part},
    or one imprint/html/render.py mark_parts takes for a part: `_ast_parts`) numbers its parts on their own (Part 2)
    and its chapters through the book, whatever part they are in (a part's level-2 sections
    and the level-1 sections that are no part, Chapter 3), their sections under them (3.1)."""
    if _numbered and _numbered[0][0] is ast and _numbered[0][1] == essay:
        return _numbered[0][2]
    blocks = ast.get("blocks", []) if isinstance(ast, dict) else []
    parts = set() if essay else _ast_parts(blocks)
    out: dict[str, tuple[str, str]] = {}
    counts, base, chapters, nparts = [0] * 8, 1, 0, 0
    for level, ident, classes in _headers(blocks):
        if not ident or "unnumbered" in classes or "-" in classes:
            continue
        if not parts:
            counts[level] += 1
            counts[level + 1:] = [0] * (len(counts) - level - 1)
            out[ident] = ("chapter" if level == 1 and not essay else "section",
                          ".".join(str(n) for n in counts[1:level + 1]))
        elif level == 1 and ident in parts:
            nparts += 1
            base = 2
            out[ident] = ("part", str(nparts))
        elif level == 1 or level == base:
            chapters += 1
            base, counts = level, [0] * 8
            out[ident] = ("chapter", str(chapters))
        elif level > base:
            depth = level - base
            counts[depth] += 1
            counts[depth + 1:] = [0] * (len(counts) - depth - 1)
            out[ident] = ("section", ".".join([str(chapters)] + [str(n) for n in counts[1:depth + 1]]))
    _numbered[:] = [(ast, essay, out)]
    return out


def _headers(blocks):
    for b in blocks:
        t, c = b.get("t"), b.get("c")
        if t == "Header":
            yield c[0], c[1][0], c[1][1]
        elif t in ("Div", "BlockQuote"):
            yield from _headers(c[1] if t == "Div" else c)


def _ast_parts(blocks) -> set[str]:
    """The ids of the level-1 headings that are parts: marked {.part}, or (never marked
    {.chapter}) followed by at least two level-2 sections of chapter length (median at least
    PART_MIN_CHARS characters) after at most PART_LEAD_CHARS of text: mark_parts' rule, read
    on the AST so that the contents and the EPUB's navigation, made from it, number alike."""
    heads = [i for i, b in enumerate(blocks) if b.get("t") == "Header" and b["c"][0] == 1]
    parts = set()
    for k, i in enumerate(heads):
        _, (ident, classes, _), _ = blocks[i]["c"]
        if "chapter" in classes:
            continue
        if "part" in classes:
            parts.add(ident)
            continue
        body = blocks[i + 1:heads[k + 1] if k + 1 < len(heads) else len(blocks)]
        subs = [j for j, b in enumerate(body) if b.get("t") == "Header" and b["c"][0] == 2]
        if len(subs) < 2 or any(b.get("t") == "Header" for b in body[:subs[0]]) \
                or _chars(body[:subs[0]]) > PART_LEAD_CHARS:
            continue
        lengths = sorted(_chars(body[a:b]) for a, b in zip(subs, subs[1:] + [len(body)]))
        if lengths[len(lengths) // 2] >= PART_MIN_CHARS:
            parts.add(ident)
    return parts


def _chars(node) -> int:
    """Characters of text in AST blocks (words and spaces: near lxml's text_content)."""
    total, stack = 0, [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(n)
        elif isinstance(n, dict):
            t = n.get("t")
            if t == "Str":
                total += len(n["c"])
            elif t in ("Space", "SoftBreak"):
                total += 1
            elif isinstance(n.get("c"), list):
                stack.append(n["c"])
    return total


class _Numbers:
    def __init__(self, lang: str, headings: dict[str, tuple[str, str]]):
        self.lang, self.headings = lang, headings
        self.text: dict[str, str] = {}          # label -> how a reference prints it
        self.seen: dict[str, int] = {}          # label -> times defined
        self.counts = {"fig": 0, "tbl": 0, "eq": 0}

    def define(self, ident: str) -> None:
        self.seen[ident] = self.seen.get(ident, 0) + 1

    def heading(self, ident: str) -> None:
        if ident.startswith("sec-") and ident in self.headings:     # numbered as heading_numbers says
            kind, number = self.headings[ident]
            self.text.setdefault(ident, f"{label(self.lang, kind)}{NBSP}{number}")
            self.define(ident)

    def caption(self, kind: str, ident: str) -> str:
        self.counts[kind] += 1
        self.define(ident)
        word = label(self.lang, "figure" if kind == "fig" else "table")
        self.text.setdefault(ident, f"{word}{NBSP}{self.counts[kind]}")
        colon = "\u202f:" if languages.base(self.lang) == "fr" else ":"   # French: « Figure 1 : … »
        return f"{word}{NBSP}{self.counts[kind]}{colon}"

    def equation(self, ident: str) -> str:
        self.counts["eq"] += 1
        self.define(ident)
        self.text.setdefault(ident, f"({self.counts['eq']})")
        return f"({self.counts['eq']})"


def _number(blocks: list, numbers: _Numbers) -> None:
    """Number the labelled blocks, in order, recursing into containers."""
    for block in blocks:
        t = block.get("t")
        c = block.get("c")
        if t == "Header":
            numbers.heading(c[1][0])
        elif t in ("Figure", "Table"):
            ident = c[0][0]
            kind = "fig" if t == "Figure" else "tbl"
            if ident.startswith(kind + "-"):
                prefix = numbers.caption(kind, ident)
                caption_blocks = c[1][1]
                if caption_blocks and caption_blocks[0].get("t") in ("Plain", "Para"):
                    caption_blocks[0]["c"][:0] = [{"t": "Span", "c": [["", ["caption-number"], []], [_str(prefix)]]},
                                                  {"t": "Space"}]
                else:
                    caption_blocks.insert(0, {"t": "Plain", "c": [_str(prefix)]})
            if t == "Figure":
                _number(c[2], numbers)
        elif t == "Para":
            _equations(block, numbers)
        elif t in ("BlockQuote", "Div"):
            _number(c if t == "BlockQuote" else c[1], numbers)
        elif t in ("BulletList",):
            for item in c:
                _number(item, numbers)
        elif t == "OrderedList":
            for item in c[1]:
                _number(item, numbers)


def _equations(para: dict, numbers: _Numbers) -> None:
    """`$$…$$ {#eq-x}`: the display equation in a span with the id, its number beside it."""
    inlines = para["c"]
    i = 0
    while i < len(inlines):
        node = inlines[i]
        if node.get("t") == "Math" and node["c"][0]["t"] == "DisplayMath":
            j = i + 1
            while j < len(inlines) and inlines[j].get("t") in ("Space", "SoftBreak"):
                j += 1
            m = EQUATION_LABEL.match(inlines[j]["c"]) if j < len(inlines) and inlines[j].get("t") == "Str" else None
            if m:
                number = numbers.equation(m.group(1))
                # The number first: floated right, it stands beside the formula, not under it.
                span = {"t": "Span", "c": [[m.group(1), ["equation"], []],
                                           [{"t": "Span", "c": [["", ["equation-number"], []], [_str(number)]]}, node]]}
                inlines[i:j + 1] = [span]
        i += 1


# Inline elements whose words run on in the sentence they stand in (a note's start a sentence
# of their own, and so does every block).
RUN_ON = {"Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps", "Quoted",
          "Span", "Link", "Cite"}
SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*$")


def _plain(node) -> str:
    if isinstance(node, dict):
        t = node.get("t")
        if t == "Str":
            return node["c"]
        if t in ("Space", "SoftBreak", "LineBreak"):
            return " "
        if t == "Note":
            return ""
        return _plain(node.get("c"))
    if isinstance(node, list):
        return "".join(_plain(n) for n in node)
    return ""


def _opens(start: bool, before: str) -> bool:
    """Whether a sentence opens after `before` (what precedes in the same inlines; `start`:
    whether one opened where they begin)."""
    before = before.rstrip()
    return start if not before else bool(SENTENCE_END.search(before))


def _references(node, numbers: _Numbers, missing: list[str], start: bool = True):
    """Every reference written out as a link; unknown labels collected in `missing`. `start`:
    whether a sentence opens where `node` begins (a reference there keeps its capital)."""
    if isinstance(node, list):
        out, before = [], ""
        for item in node:
            opens = _opens(start, before)
            replaced = _inline(item, numbers, missing, opens) if isinstance(item, dict) else None
            if replaced is None:
                _references(item, numbers, missing,
                            opens if not isinstance(item, dict) or item.get("t") in RUN_ON else True)
                out.append(item)
            else:
                out.extend(replaced)
            before += _plain(item) if not isinstance(item, dict) or item.get("t") != "Note" else ""
            before = before[-8:]
        node[:] = out
    elif isinstance(node, dict):
        for value in node.values():
            if isinstance(value, (list, dict)):
                _references(value, numbers, missing, start)


def _link(ident: str, numbers: _Numbers, missing: list[str], opens: bool = True) -> dict:
    if ident not in numbers.text:
        missing.append(ident)
        return {"t": "Strong", "c": [_str("??")]}
    words = label_in_text(numbers.lang, numbers.text[ident], opens)
    return {"t": "Link", "c": [["", ["crossref"], []], _words(words), [f"#{ident}", ""]]}


def _inline(item: dict, numbers: _Numbers, missing: list[str], opens: bool = True):
    t = item.get("t")
    if t == "Str" and "@" in item["c"]:
        text, out, at = item["c"], [], 0
        for m in REFERENCE.finditer(text):
            if m.start() > at:
                out.append(_str(text[at:m.start()]))
            out.append(_link(m.group(2), numbers, missing, _opens(opens, text[:m.start()])))
            at = m.end()
        if not out:
            return None
        if at < len(text):
            out.append(_str(text[at:]))
        return out
    if t == "Cite":              # the text read with citations on (a book with a bibliography)
        citations = item["c"][0]
        idents = [c["citationId"] for c in citations]
        if idents and all(re.fullmatch(LABEL, i) for i in idents):
            out = []
            for n, ident in enumerate(idents):
                if n:
                    out += [_str(","), {"t": "Space"}]
                out.append(_link(ident, numbers, missing, opens and not n))
            return out
    return None


def _locate(sources, pattern: re.Pattern, nth: int = 1) -> Location:
    count = 0
    for s in sources:
        for n, line in enumerate(s.text.splitlines(), start=s.first_line):
            for m in pattern.finditer(line):
                count += 1
                if count == nth:
                    return Location(s.path, n, m.start() + 1)
    return Location(sources[0].path)


def resolve(ast: dict, lang: str, essay: bool, sources) -> list[Finding]:
    """Number and link in place; returns the findings."""
    numbers = _Numbers(lang, heading_numbers(ast, essay))
    _number(ast["blocks"], numbers)
    missing: list[str] = []
    _references(ast["blocks"], numbers, missing)
    findings = []
    for ident in dict.fromkeys(missing):
        where = _locate(sources, re.compile(r"(?<![\w\\])@" + re.escape(ident) + r"(?![\w-])"))
        written = _locate(sources, re.compile(r"\{[^}\n]*#" + re.escape(ident) + r"(?![\w-])"))
        if written.line:
            # the label is there, on something that is not a target: an image inside a paragraph
            # (no figure), a table without a caption, an equation label not right after `$$`
            findings.append(Finding("X101", "error", f"cross-reference @{ident}: the label {{#{ident}}} "
                                                     f"({Path(written.file).name}:{written.line}) is not on a heading, figure, "
                                                     "table or display equation", where,
                                    hint="a figure is an image with a caption alone in its paragraph (a blank line "
                                         "before and after it), a table needs a caption line (': Caption {#tbl-…}'), "
                                         "an equation's label follows its closing $$ on the same line"))
            continue
        findings.append(Finding("X101", "error", f"cross-reference @{ident}: no heading, figure, table or equation "
                                                 f"has the label {{#{ident}}}", where,
                                hint=f"label the target with {{#{ident}}}, or correct the reference"))
    for ident, times in numbers.seen.items():
        if times > 1:
            findings.append(Finding("X102", "error", f"label {{#{ident}}} is defined {times} times",
                                    _locate(sources, re.compile(r"#" + re.escape(ident) + r"(?![\w-])"), nth=2),
                                    hint="give each heading, figure, table and equation its own label"))
    return findings
