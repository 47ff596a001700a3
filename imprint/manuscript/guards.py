"""Markdown text -> nothing, or a ManuscriptError: the guards that refuse text nested too deeply
for pandoc and WeasyPrint to read in bounded time (checked before pandoc reads it), and the
depth of the trees pandoc makes of it.
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

from imprint.errors import Location, ManuscriptError

# HTML's void elements: they never hold other elements.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr", "keygen", "command", "basefont", "frame", "isindex", "image"}

# No book nests lists, quotes or HTML elements this deep; pandoc slows down sharply past it
# (nested lists grow superlinearly) and WeasyPrint's layout recursion fails near 250 levels.
MAX_NESTING = 64
# Pandoc's time grows about threefold with each level of nested [brackets] (12 levels: over
# a minute); real text nests two or three (a link inside a span).
MAX_BRACKETS = 8
# The same bound on the HTML pandoc makes of it (a list level is two elements, ul and li).
MAX_HTML_DEPTH = 2 * MAX_NESTING + 16
# ... and on pandoc's JSON AST (real books: about 20; 64 nested lists: about 200).
MAX_AST_DEPTH = 4 * MAX_NESTING


# --- nesting of the manuscript text -------------------------------------------------------

_LIST_MARKER = re.compile(r"(?:[-+*]|(?:\d{1,9}|#)[.)])(?=[ \t]|$)")
# A line that may open or continue a container: indentation, a '>' or a list marker first.
_MAY_NEST = re.compile(r"[ \t>`~]|(?:[-+*]|(?:\d{1,9}|#)[.)])(?:[ \t]|$)")
_FENCE_AT = re.compile(r"(`{3,}|~{3,})")
# A thematic break (`- - -`, `* * *`, however long): a rule, not a run of list markers.
_RULE = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def _columns(line: str, pos: int, col: int) -> tuple[int, int]:
    """Skip spaces and tabs from line[pos] (at column col, tabs to the next stop of 4)."""
    while pos < len(line) and line[pos] in " \t":
        col = col + 4 - col % 4 if line[pos] == "\t" else col + 1
        pos += 1
    return pos, col


class Nesting:
    """How deeply the containers of Markdown nest, line by line, as CommonMark and pandoc
    read them: the list items still open (each with the column its content starts at, so a
    line continues an item only when it is indented at least that far, and a blank line
    does not close it), then the '>' and list markers the line itself opens. Indentation
    beyond the open containers is content (a table row, indented code), not depth; lines of
    fenced code open nothing."""

    def __init__(self):
        self.items: list[int] = []      # content columns of the open list items
        self.blank = True               # the line before was blank (no lazy continuation)
        self.fence: str | None = None
        self.quotes = self.markers = 0  # what the last line opened itself

    def feed(self, line: str) -> int:
        """The depth of the next line: open list items it continues + markers it opens."""
        self.quotes = self.markers = 0
        if not self.items and self.fence is None and not _MAY_NEST.match(line):
            self.blank = not line.strip()
            return 0
        if not line.strip():
            self.blank = True
            return len(self.items)
        # where the line's text begins, past its indentation and any '>' quote markers
        pos, lead = _columns(line, 0, 0)
        p, c, qend = pos, lead, 0
        while p < len(line) and line[p] == ">":
            self.quotes += 1
            qend = c + 2                # a '>' and the one space that belongs to it
            p, c = _columns(line, p + 1, c + 1)
        base = self.items[-1] if self.items else 0
        if self.fence is not None:
            m = _FENCE_AT.match(line, p)
            if m and m.group(1)[0] == self.fence[0] and len(m.group(1)) >= len(self.fence):
                self.fence = None
            self.blank = False
            return len(self.items)
        if c < base and (self.blank or self.quotes or _LIST_MARKER.match(line, p)):
            # less indented than the innermost item, and not a lazy continuation line
            while self.items and self.items[-1] > c:
                self.items.pop()
            base = self.items[-1] if self.items else 0
        self.blank = False
        if c - max(base, qend) >= 4:    # indented code or a table's content: no depth
            return len(self.items) + self.quotes
        # the markers the line opens: list markers (and '>'s after them), at most 4 columns apart
        pos, col = p, c
        while pos < len(line):
            if line[pos] == ">":
                self.quotes += 1
                end, ecol = pos + 1, col + 1
            elif _RULE.match(line, pos):
                break
            elif m := _LIST_MARKER.match(line, pos):
                end, ecol = m.end(), col + (m.end() - pos)
                after, acol = _columns(line, end, ecol)
                gap = acol - ecol
                while self.items and self.items[-1] > col:
                    self.items.pop()
                self.items.append(ecol + (gap if 1 <= gap <= 4 and after < len(line) else 1))
                self.markers += 1
            else:
                m = _FENCE_AT.match(line, pos)
                if m:
                    self.fence = m.group(1)
                break
            pos, col2 = _columns(line, end, ecol)
            if col2 - ecol > 4:
                break
            col = col2
        return len(self.items) + self.quotes


def line_nesting(line: str) -> int:
    """How many Markdown containers a line opens on its own: its '>' and list markers."""
    return Nesting().feed(line)


class _Depth(html.parser.HTMLParser):
    """Tracks how deeply raw HTML elements nest, with the line of the deepest point."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.deepest = (0, 0)

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        if len(self.stack) > self.deepest[0]:
            self.deepest = (len(self.stack), self.getpos()[0])
        if len(self.stack) > 4 * MAX_NESTING:      # enough to know; don't keep reading
            raise _TooDeep

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass


class _TooDeep(Exception):
    pass


def check_nesting(text: str, file: Path, first_line: int = 1) -> None:
    """Refuse text nested deeper than MAX_NESTING (lists, quotes, raw HTML elements), with
    brackets nested deeper than MAX_BRACKETS, or with a YAML block pandoc must not read."""
    check_brackets(text, file, first_line)
    check_yaml_blocks(text, file, first_line)
    nesting = Nesting()
    for i, line in enumerate(text.split("\n")):
        if nesting.feed(line) > MAX_NESTING:
            items, quotes = len(nesting.items), nesting.quotes
            if nesting.markers + quotes > MAX_NESTING // 2:
                cause = (f"this line alone opens {quotes} block quotes ('>') and {nesting.markers} list items; "
                         "check for a run of '>' or list markers")
            else:
                cause = (f"{items} list items are open here, each indented to the content of the one above; "
                         "indent a list only as far as it nests, or start it at the margin")
            raise ManuscriptError(f"lists or block quotes are nested more than {MAX_NESTING} levels deep",
                                  where=Location(file, first_line + i),
                                  hint=f"no book needs this: {cause}")
    if text.count("<") <= MAX_NESTING:
        return
    parser = _Depth()
    try:
        parser.feed(text)
        parser.close()
    except _TooDeep:
        pass
    depth, line = parser.deepest
    if depth > MAX_NESTING:
        raise ManuscriptError(f"HTML elements are nested more than {MAX_NESTING} levels deep",
                              where=Location(file, first_line + line - 1),
                              hint="close the elements you open; no book needs this depth")


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BLOCK_START = re.compile(r"[ \t>]*(?:[-+*]|\d{1,9}[.)]|#{1,6}|\|)(?:[ \t]|$)")


def check_brackets(text: str, file: Path, first_line: int = 1) -> None:
    """Refuse a paragraph whose [brackets] nest deeper than MAX_BRACKETS (fenced code aside)."""
    if text.count("[") <= MAX_BRACKETS:
        return
    depth, fence = 0, None
    for i, line in enumerate(text.split("\n")):
        m = _FENCE.match(line)
        if fence or m:
            if m and (fence is None or (m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence))):
                fence = None if fence else m.group(1)
            continue
        if not line.strip():
            depth = 0               # brackets do not reach across paragraphs,
            continue
        if _BLOCK_START.match(line):
            depth = 0               # nor across list items, headings or table rows
        escaped = False
        for ch in line:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == "[":
                depth += 1
                if depth > MAX_BRACKETS:
                    raise ManuscriptError(f"brackets are nested more than {MAX_BRACKETS} deep",
                                          where=Location(file, first_line + i),
                                          hint="pandoc slows down exponentially on these; escape literal brackets as \\[")
            elif ch == "]":
                depth = max(0, depth - 1)


_YAML_OPEN = re.compile(r"---[ \t]*$")
_YAML_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*$")


def check_yaml_blocks(text: str, file: Path, first_line: int = 1) -> None:
    """Read every YAML block in the text (a `---` line after a blank line, up to `---` or
    `...`) under metadata.py's rules: aliases, deep nesting and oversize are refused here;
    syntax errors are left to pandoc, which reports them with their line."""
    if "\n---" not in "\n" + text:
        return
    from imprint.manuscript.metadata import MetadataError, parse_yaml

    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if _YAML_OPEN.match(lines[i]) and (i == 0 or not lines[i - 1].strip()) \
                and i + 1 < len(lines) and lines[i + 1].strip():
            end = next((j for j in range(i + 1, len(lines)) if _YAML_CLOSE.match(lines[j])), None)
            if end is None:
                return
            try:
                parse_yaml("\n".join(lines[i + 1:end]), file, line_offset=first_line + i)
            except MetadataError as err:
                if "invalid YAML" not in err.message and "must be a mapping" not in err.message:
                    raise ManuscriptError(f"YAML block in the text: {err.message}", where=err.where,
                                          hint="metadata belongs in book.yaml; use `***` for a scene break") from None
            i = end
        i += 1


def tree_depth(root) -> int:
    """Depth of an lxml tree, without recursion."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        el, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in el)
    return deepest



_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def json_depth(text: str, most: int = MAX_AST_DEPTH) -> int:
    """Nesting depth of a JSON text (pandoc's AST), or `most` + 1 when it is deeper than `most`.

    Read off the text before it is decoded, at C speed: escapes and strings dropped, only
    the brackets kept, then each pass removes the innermost pairs (real books: ~20 passes)."""
    plain = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(plain.split('"')[0::2])
    brackets = outside.encode("utf-8").translate(None, _NOT_BRACKETS)
    depth = 0
    while brackets and depth <= most:
        brackets, removed = _INNERMOST.subn(b"", brackets)
        if not removed:         # not JSON: let the decoder say so
            break
        depth += 1
    return depth
