"""Book -> findings: Markdown that pandoc reads without a word but that prints wrong.

- H101 (error): a heading with no text (`#` alone, or `# {.unnumbered}`): it makes a chapter
  with no title, an empty entry in the contents and an EPUB that EPUBCheck refuses (an empty
  `<title>`, a navigation link without text).
- H102 (warning): an emphasis mark that opens and never closes (`*word … ` with no closing
  `*`): pandoc prints the asterisks or underscores as they are.
- H103 (warning): a TeX command in the text (`\\newpage`, `\\textbf{bold}`): raw TeX is off
  (imprint/manuscript/pandoc.py READER), so pandoc prints it as written.
- H104 (warning): a bulleted list right under a paragraph line, with no blank line between:
  pandoc Markdown reads the items as the paragraph's text and prints "* item + item".
- H105 (warning): a pipe table whose separator line (`|---|`) has fewer columns than its header:
  pandoc keeps the separator's count and drops the other cells.
- H106 (warning): a chapter (a book's level-1 heading) with nothing under it before the next
  chapter or the book's end: a page with its title alone.
- H107 (warning): a backtick or a link's `](` left in the text pandoc made: a code span or link
  that never closes, printed as written.
- H108 (warning): a link with no words (`[](#herds)`, `[](https://example.org)`): pandoc makes an
  empty link, which prints nothing where the author meant a page number (`{.page}`) or the
  address itself (`<https://…>`).
- H109 (warning): an essay (`form: essay`) with no `#` heading but `##` ones: an essay's sections
  are its `#` headings, so the contents lists none of its sections (without `toc-depth`) and
  they are set as sub-sections, `###` looking like `##`.
- H110 (warning): a year cut short (`'60s`, `'68`) that pandoc's smart quotes read as an
  opening quote because a `'` later in the paragraph could close it ("In the '60s, and 'quoted'
  later" prints "In the ‘60s, and ’quoted’ later"); alone in its paragraph pandoc makes it ’60s.
  Named only where pandoc misread it: a decade, or a quotation that swallowed the opening `'` of
  the next ("'68 we sang 'Hey Jude'"); "'20 minutes later,' she said" is a quotation.
"""

from __future__ import annotations

import re

from imprint.codes import meanings
from imprint.errors import Finding, Location
from imprint.manuscript.notes import unfenced

CODES = meanings("H1")        # severities and meanings: imprint/codes.py

# An ATX heading line with nothing but attributes and closing hashes after its marker.
EMPTY_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(?:\{[^}\n]*\})?)?[ \t#]*$")
# Emphasis marks left in the text pandoc made: before a letter, at a word's start.
OPENER = re.compile(r"(?:^|(?<=[\s(\[“‘\"']))(\*{1,3}|_{1,3})(?=[^\W\d_])")
CODE = re.compile(r"`+[^`]*`+")


def _headings(book) -> list[Finding]:
    if not any(not h.label.strip() for h in book.headings):
        return []
    out = []
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            if EMPTY_HEADING.match(line) and line.strip():
                out.append(Finding("H101", "error", "a heading with no text: it would print a chapter without a title "
                                                    "and an empty contents entry",
                                   Location(source.path, source.first_line + i, line.index("#") + 1),
                                   hint="write the heading's title after the '#' marks, or delete the line"))
    return out


def _strs(node, out: list[str]) -> None:
    if isinstance(node, dict):
        t = node.get("t")
        if t == "Str":
            out.append(node["c"])
        elif t not in ("Code", "CodeBlock", "RawInline", "RawBlock", "Math"):
            _strs(node.get("c"), out)
    elif isinstance(node, list):
        for item in node:
            _strs(item, out)


def _key(text: str, m: re.Match) -> str:
    return m.group(1) + re.match(r"\w*", text[m.end():]).group(0)


def _emphasis(book) -> list[Finding]:
    left: list[str] = []
    _strs(book.ast.get("blocks", []), left)
    keys = {_key(text, m) for text in left for m in OPENER.finditer(text)}
    if not keys:
        return []
    out, seen = [], set()
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            text = CODE.sub(lambda m: " " * len(m.group(0)), line)
            for m in OPENER.finditer(text):
                key = _key(text, m)
                if (m.start() > 0 and text[m.start() - 1] == "\\") or key not in keys or key in seen:
                    continue
                seen.add(key)
                mark = m.group(1)
                out.append(Finding("H102", "warning", f"“{mark}” opens emphasis that never closes: it is printed "
                                                      f"as written, “{text[m.start():m.start() + 30].strip()}…”",
                                   Location(source.path, source.first_line + i, m.start() + 1),
                                   hint=f"close it with “{mark}” after the last word it should emphasise, or write "
                                        f"“\\{mark[0]}” for a literal mark"))
    return out


# A TeX command: a backslash and letters (`\\newpage`, `\\textbf`), outside formulas and code.
TEX = re.compile(r"\\([A-Za-z]{2,})(?![A-Za-z])")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\s][^$]*\$")
TEX_HINTS = {
    "newpage": "a new chapter (`#`) starts a new page; delete the command",
    "pagebreak": "a new chapter (`#`) starts a new page; delete the command",
    "clearpage": "a new chapter (`#`) starts a new page; delete the command",
    "textbf": "write **bold** in Markdown", "textit": "write *italic* in Markdown",
    "emph": "write *italic* in Markdown", "noindent": "delete it: the first paragraph after a heading is not indented",
}


def _tex(book) -> list[Finding]:
    left: list[str] = []
    _strs(book.ast.get("blocks", []), left)
    keys = {m.group(1) for text in left for m in TEX.finditer(text)}
    if not keys:
        return []
    out, seen = [], set()
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            text = MATH.sub(lambda m: " " * len(m.group(0)), CODE.sub(lambda m: " " * len(m.group(0)), line))
            for m in TEX.finditer(text):
                name = m.group(1)
                if name not in keys or name in seen or (m.start() > 0 and text[m.start() - 1] == "\\"):
                    continue
                seen.add(name)
                out.append(Finding("H103", "warning", f"TeX command “\\{name}” is not read: it is printed as written",
                                   Location(source.path, source.first_line + i, m.start() + 1),
                                   hint=TEX_HINTS.get(name, "write it in Markdown (or delete it); a literal backslash "
                                                            "is written “\\\\”")))
    return out


BULLET = re.compile(r"^ {0,3}([*+-])[ \t]+(\S.*)$")
PARA_LINE = re.compile(r"^ {0,3}[^\s#>|*+\-:`~<]")   # a line of running text (not a block's marker)


def _inline_text(node, out: list[str]) -> None:
    if isinstance(node, dict):
        t = node.get("t")
        if t == "Str":
            out.append(node["c"])
        elif t in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif t not in ("Code", "Math", "RawInline", "Note"):
            _inline_text(node.get("c"), out)
    elif isinstance(node, list):
        for item in node:
            _inline_text(item, out)


def _paragraphs(node, out: list[str]) -> None:
    if isinstance(node, dict):
        if node.get("t") in ("Para", "Plain"):
            words: list[str] = []
            _inline_text(node["c"], words)
            out.append(re.sub(r"\s+", " ", "".join(words)))
        else:
            _paragraphs(node.get("c"), out)
    elif isinstance(node, list):
        for item in node:
            _paragraphs(item, out)


def _lists(book) -> list[Finding]:
    paragraphs: list[str] | None = None
    out = []
    for source in book.sources:
        lines = dict(unfenced(source.text.split("\n")))
        for i, line in sorted(lines.items()):
            m = BULLET.match(line)
            before = lines.get(i - 1, "")
            if not m or not before.strip() or not PARA_LINE.match(before) or BULLET.match(before):
                continue
            if paragraphs is None:
                paragraphs = []
                _paragraphs(book.ast.get("blocks", []), paragraphs)
            printed = m.group(1) + " " + " ".join(m.group(2).split()[:3])
            if any(printed in p for p in paragraphs):
                out.append(Finding("H104", "warning", f"a list with no blank line before it is printed as text: "
                                                      f"“{printed}…”",
                                   Location(source.path, source.first_line + i, m.start(1) + 1),
                                   hint="leave a blank line between the paragraph and the list's first item"))
    return out


SEPARATOR = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")


def _cells(line: str) -> int:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return len(re.split(r"(?<!\\)\|", body))


def _tables(book) -> list[Finding]:
    out = []
    for source in book.sources:
        lines = dict(unfenced(source.text.split("\n")))
        for i, line in sorted(lines.items()):
            header = lines.get(i - 1, "")
            if not SEPARATOR.match(line) or "|" not in line or "|" not in header or SEPARATOR.match(header):
                continue
            have, want = _cells(line), _cells(header)
            if have < want:
                out.append(Finding("H105", "warning", f"the table's separator line has {have} column"
                                                      f"{'s' if have != 1 else ''} and its header {want}: the cells past "
                                                      f"column {have} are not printed",
                                   Location(source.path, source.first_line + i, 1),
                                   hint=f"give the separator line one `---` for each of the {want} columns "
                                        f"(`|{'---|' * want}`)"))
    return out


ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")


def _empty_chapters(book) -> list[Finding]:
    if book.metadata.form != "book":
        return []
    out, open_chapter = [], None          # (where, title) of a chapter with nothing under it yet
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            m = ATX.match(line)
            if m and len(m.group(1)) == 1:
                if open_chapter:
                    out.append(open_chapter)
                title = re.sub(r"\s*\{[^}]*\}\s*$", "", m.group(2) or "").strip()
                if not title:             # no title at all: H101 says so
                    open_chapter = None
                    continue
                open_chapter = Finding("H106", "warning", f"chapter “{title}” has a heading and no text: "
                                                          "it prints a page with its title alone",
                                       Location(source.path, source.first_line + i, line.index("#") + 1),
                                       hint="write its text under the heading, or delete the heading "
                                            "(a part's title takes `{.part}` and its chapters `##`)")
            elif line.strip() and not line.lstrip().startswith("<!--"):
                open_chapter = None
    if open_chapter:
        out.append(open_chapter)
    return out


UNCLOSED = re.compile(r"`+|\]\((?!\))")


def _unclosed(book) -> list[Finding]:
    left: list[str] = []
    _strs(book.ast.get("blocks", []), left)
    kinds = {("`" if m.group(0).startswith("`") else "](") for text in left for m in UNCLOSED.finditer(text)}
    if not kinds:
        return []
    out = []
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            text = MATH.sub(lambda m: " " * len(m.group(0)), CODE.sub(lambda m: " " * len(m.group(0)), line))
            for m in UNCLOSED.finditer(text):
                kind = "`" if m.group(0).startswith("`") else "]("
                if kind not in kinds or (m.start() > 0 and text[m.start() - 1] == "\\"):
                    continue
                if kind == "](" and re.match(r"[^\s)]*(?:\s+\"[^\"]*\")?\)", text[m.end():]):
                    continue          # a whole link: (address) or (address "title")
                kinds.discard(kind)
                what = "a code span" if kind == "`" else "a link"
                shown = (line[m.start():m.start() + 30].strip() + "…" if kind == "`"
                         else line[max(line.rfind("[", 0, m.start()), 0):m.end()])
                out.append(Finding("H107", "warning", f"“{m.group(0)}” opens {what} that never closes: it is printed "
                                                      f"as written, “{shown}”",
                                   Location(source.path, source.first_line + i, m.start() + 1),
                                   hint=("close it with a backtick after the code, or write “\\`” for a literal one"
                                         if kind == "`" else "close the link's address with “)” on the same line")))
    return out


def _empty_links(node, out: set[str]) -> None:
    """The addresses of the links with no words in pandoc's AST (a page reference, class `page`, is
    empty by design: its number is the text)."""
    if isinstance(node, dict):
        if node.get("t") == "Link":
            (_, classes, _), words, (url, _) = node["c"]
            if not words and "page" not in classes:
                out.add(url)
            return
        _empty_links(node.get("c"), out)
    elif isinstance(node, list):
        for item in node:
            _empty_links(item, out)


EMPTY_LINK = re.compile(r"\[[ \t]*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")


def _unworded_links(book) -> list[Finding]:
    urls: set[str] = set()
    _empty_links(book.ast.get("blocks", []), urls)
    if not urls:
        return []
    out = []
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            text = CODE.sub(lambda m: " " * len(m.group(0)), line)
            for m in EMPTY_LINK.finditer(text):
                if m.group(1) not in urls or (m.start() > 0 and text[m.start() - 1] in "\\!"):
                    continue
                if re.match(r"\{[^}]*\.page\b", text[m.end():]):
                    continue          # a page reference: its number is its text
                internal = m.group(1).startswith("#")
                out.append(Finding("H108", "warning", f"the link “{m.group(0)}” has no words: it prints nothing",
                                   Location(source.path, source.first_line + i, m.start() + 1),
                                   hint=(f"for the page number write “{m.group(0)}{{.page}}”, or put the words "
                                         f"to link between the brackets" if internal else
                                         f"to print the address write “<{m.group(1)}>”, or put the words to "
                                         f"link between the brackets")))
    return out


def _essay_levels(book) -> list[Finding]:
    levels = {h.level for h in book.headings if h.label.strip()}
    if book.metadata.form != "essay" or not levels or min(levels) == 1:
        return []
    top = min(levels)
    if book.metadata.toc_depth and book.metadata.toc_depth > top:
        return []             # the author lists them as they are
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            m = ATX.match(line)
            if m and len(m.group(1)) == top and (m.group(2) or "").strip():
                marks = "#" * top
                return [Finding("H109", "warning", f"the essay's first section is a “{marks}” heading, and it has no "
                                                   f"“#” one: an essay's sections are its “#” headings (its title is "
                                                   f"the metadata's), so the contents lists none of them",
                                Location(source.path, source.first_line + i, line.index("#") + 1),
                                hint=f"write the sections as “#”, their subsections as “##” "
                                     f"({['one', 'two', 'three', 'four', 'five'][top - 2]} “#” fewer "
                                     f"throughout), or set `toc-depth: {top + 1}` to list them as they are")]
    return []


def _captioned(node, kinds: set[str]) -> None:
    """The kinds ("Figure", "Table") of block the AST holds with a caption: the list of figures
    or of tables lists those."""
    if isinstance(node, dict):
        if node.get("t") in ("Figure", "Table") and node["c"][1][1]:
            kinds.add(node["t"])
        for value in node.values():
            _captioned(value, kinds)
    elif isinstance(node, list):
        for value in node:
            _captioned(value, kinds)


def _empty_lists(book) -> list[Finding]:
    """`lof: true` / `lot: true` with nothing to list: the list is silently not printed."""
    m = book.metadata
    if not (m.lof or m.lot):
        return []
    kinds: set[str] = set()
    _captioned(book.ast.get("blocks", []), kinds)
    lines = dict(m.key_lines)
    out = []
    for key, kind, what, example in (("lof", "Figure", "figure", "`![A caption](map.png)`, the image alone in its paragraph"),
                                     ("lot", "Table", "table", "a line `: A caption` under the table")):
        if getattr(m, key) and kind not in kinds:
            out.append(Finding("M006", "warning", f"`{key}: true`, but no {what} has a caption: no list of "
                                                  f"{what}s is printed", Location(m.source, lines.get(key)),
                               hint=f"give the {what}s captions ({example}), or remove `{key}:`"))
    return out


# What pandoc took for a quotation's first word: two figures, a plural or ordinal's letters
# after them, then the word's end ("60s", "68", "90s,").
YEAR = re.compile(r"(\d\d(?:s|er|ies)?)(?![\w'’])")
DECADE = re.compile(r"\d\ds$")
# In the source: a year after a space with its `'`; a `'` that can close a quotation (after a
# character, not before a letter or figure); one that opens a word ('quoted, 'n').
SOURCE_YEAR = re.compile(r"(?:^|(?<=[\s(\[—–-]))'(\d\d(?:s|er|ies)?)(?![\w'’])")
CLOSER = re.compile(r"(?<=\S)'(?![^\W_])")
WORD_OPENER = re.compile(r"(?:^|(?<=[\s(\[—–-]))['’](?=[^\W\d_])")


def _misread(year: str, inside: str) -> bool:
    """Whether a quotation pandoc opened at a year ("'20 minutes later,'" is one) is a misread
    apostrophe: a decade ('60s), or one that swallowed the opening quote of the author's own
    next quotation ("'68 we sang 'Hey Jude'", printed ‘68 … ’Hey Jude’)."""
    return bool(DECADE.search(year) or WORD_OPENER.search(inside))


def _text(nodes) -> str:
    out = []
    for n in nodes:
        if isinstance(n, dict):
            t = n.get("t")
            c = n.get("c")
            out.append(c if t == "Str" else " " if t in ("Space", "SoftBreak", "LineBreak")
                       else _text(c) if t in ("Emph", "Strong", "Underline", "Strikeout", "SmallCaps")
                       else _text(c[1]) if t in ("Span", "Link", "Quoted") else "")
    return "".join(out)


def _quoted_years(node, open2: str, close2: str, out: list[str]) -> None:
    """The years ("60s") pandoc opened a single quotation at and misread (_misread), in the
    order of the text: a Quoted node (English), or between the language's inner marks
    localize_quotes wrote around them."""
    if isinstance(node, dict):
        if node.get("t") == "Quoted" and node["c"][0].get("t") == "SingleQuote":
            first = node["c"][1][:1]
            if first and first[0].get("t") == "Str":
                m = YEAR.match(first[0]["c"])
                if m and _misread(m.group(1), _text(node["c"][1])[m.end():]):
                    out.append(m.group(1))
        _quoted_years(node.get("c"), open2, close2, out)
    elif isinstance(node, list):
        for i, (a, b) in enumerate(zip(node, node[1:])):
            if isinstance(a, dict) and isinstance(b, dict) and a.get("t") == "Str" and a["c"] == open2 \
                    and b.get("t") == "Str" and YEAR.match(b["c"]):
                m = YEAR.match(b["c"])
                rest = node[i + 1:]
                end = next((k for k, n in enumerate(rest) if isinstance(n, dict) and n.get("t") == "Str"
                            and n["c"].strip() == close2), len(rest))
                if _misread(m.group(1), _text(rest[:end])[m.end():]):
                    out.append(m.group(1))
        for x in node:
            _quoted_years(x, open2, close2, out)


def _source_paragraphs(source):
    """(first line's index, text) of each paragraph of a manuscript file: its lines outside
    fences between blank lines, joined, code spans blanked."""
    para, first, last = [], None, None
    for i, line in list(unfenced(source.text.split("\n"))) + [(None, "")]:
        if not line.strip() or (last is not None and i != last + 1):
            if para:
                yield first, "\n".join(para)
            para, first = [], None
        if line.strip():
            if first is None:
                first = i
            para.append(CODE.sub(lambda c: " " * len(c.group(0)), line))
        last = i


def _years_as_quotes(book) -> list[Finding]:
    """H110 where pandoc misread a year: in its paragraph a later `'` closes the quotation it
    opened there (_misread), and pandoc's text has such a quotation at that year."""
    from imprint.specs.labels import quotes
    marks = quotes(book.metadata.lang)
    open2, close2 = marks[2], marks[3]
    misread: list[str] = []
    _quoted_years(book.ast.get("blocks", []), open2, close2, misread)
    if not misread:
        return []
    out = []
    for source in book.sources:
        for first, para in _source_paragraphs(source):
            for m in SOURCE_YEAR.finditer(para):
                closer = CLOSER.search(para, m.end())
                if not closer or m.group(1) not in misread or not _misread(m.group(1), para[m.end():closer.start()]):
                    continue
                misread.remove(m.group(1))
                line = para.count("\n", 0, m.start())
                col = m.start() - (para.rfind("\n", 0, m.start()) + 1)
                out.append(Finding("H110", "warning", f"“'{m.group(1)}” is read as an opening quote (it prints "
                                                      f"{open2}{m.group(1)}) because a later ' in the paragraph closes it",
                                   Location(source.path, source.first_line + first + line, col + 1),
                                   hint=f"type the apostrophe itself, “’{m.group(1)}” (U+2019), so the quotes "
                                        "after it pair as written"))
    return out


def check_markup(book) -> list[Finding]:
    return (_headings(book) + _emphasis(book) + _tex(book) + _lists(book) + _tables(book)
            + _empty_chapters(book) + _unclosed(book) + _unworded_links(book) + _essay_levels(book)
            + _empty_lists(book) + _years_as_quotes(book))
