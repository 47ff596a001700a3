"""The manuscript read by pandoc in pieces, so that after an edit only the edited piece is read again.

A piece is the text from one heading to the next: an ATX heading (`#` to `######`) at the
left margin after a blank line, outside code and fenced divs; the text before the first
heading is a piece too. A build that reads the whole manuscript (the first, or one where
much changed) still runs pandoc once over all of it, then cuts pandoc's AST (JSON text) and
HTML at those headings and keeps each piece's share in the build cache, keyed by the piece's
text with the definitions of the notes it calls. The next build runs pandoc only on pieces
with a new key and puts the book together from the kept ones: the same AST and the same
HTML bytes, with the notes numbered through, the sections nested and the headings' ids made
unique as one run makes them (tests/test_pieces.py reads every piece of each test book
alone and compares).

Pandoc's reading carries some things across the whole text. A book where any of them could
make a piece read alone differ from the same piece read in the book is always read whole:
reference links and their definitions, example lists `(@)`, TeX macros, YAML blocks in the
text, code blocks (the HTML numbers them through the book), raw HTML blocks (a `<div>` may
open in one piece and close in another), an HTML comment or tag running across a heading,
a multiline table, a reference link's definition anywhere (in a list item, a quotation),
note definitions that are not where pandoc surely reads them as such (in
a paragraph, a list item, a quotation, a div) or are given twice, calls to notes without a
definition, a `[text]` that could be an implicit link to a heading, an id that may be given
to two headings, any heading-like line that does not start a piece (setext headings,
headings in quotations, divs or notes), and a heading pandoc did not read as one of the
text's top level. A piece read alone is also read with the next heading after it, which
must still come out a heading; every comment and everything that may be a tag must end in
the piece it starts in (and in the note definition it starts in: a definition is appended
to the pieces that call it), and every `]:` must be a note definition's. Two adversarial
reviews found twenty-one texts that slipped past earlier versions of these guards;
tests/test_pieces.py keeps them.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
from dataclasses import dataclass
from pathlib import Path

from imprint import cache
from imprint.manuscript import notes as notes_mod
from imprint.manuscript import pandoc
from imprint.errors import Location, ManuscriptError

HEADING = re.compile(r"(#{1,6})(?:[ \t]|$)")
HEADING_LIKE = re.compile(r"[ \t]*(?:>[ \t]*)*#{1,6}(?:[ \t]|$)")     # anywhere else, maybe a heading
SETEXT = re.compile(r"[ \t]*(?:=+|-+)[ \t]*$")
# What pandoc reads past a blank line, and so maybe past a heading: a multiline table (a line
# of dashes with text under it), an HTML comment or tag (see _closed).
TABLE_TOP = re.compile(r"\n[ \t]*-{3,}[- \t]*\n[ \t]*\S")
TAG_END = re.compile(r"""(?:[^>"']|"[^"]*"|'[^']*')*>""")                # quoted values may hold a >
OPENER = re.compile(r"<(!--|[A-Za-z/?!\u00c0-\uffff])")          # what may start a comment or a tag
DIV_FENCE = re.compile(r"^:{3,}")
# Things pandoc reads across the whole text (see the module's docstring). Each searched on
# its own, after a newline rather than at ^ with re.M: a tenth of the time on a long book.
GLOBAL = (
    re.compile(r"\(@"),                                 # an example list item
    re.compile(r"\\(?:re)?newcommand|\\def\b|\\let\b"),  # TeX macros
    re.compile(r"\n---[ \t]*\n(?![ \t]*\n)"),             # a YAML block
    re.compile(r"\n {0,3}>[ \t>]*\[\^[^\]\s]+\]:"),       # a note defined inside a block quote
)
HEADER = '{"t":"Header",'
NOTE = '{"t":"Note",'
CALL = re.compile(r'<a href="#fn(\d+)" class="footnote-ref" id="fnref\1" role="doc-noteref"><sup>\1</sup></a>')
ITEM = re.compile(r'^<li id="fn(\d+)">', re.M)
BACK = re.compile(r'<a href="#fnref(\d+)" class="footnote-back" role="doc-backlink">')
NOTES_OPEN = ('<section id="footnotes" class="footnotes footnotes-end-of-document" role="doc-endnotes">\n'
              '<hr />\n<ol>\n')
NOTES_CLOSE = "</ol>\n</section>\n"
CLOSE = "</section>\n"
SAFE_ID = re.compile(r"[^\"'<>&\s]+")
RESERVED_ID = re.compile(r"fn\d+|fnref\d+|footnotes|cb\d+(?:-\d+)?")
WHOLE_SHARE = 0.5       # read the whole text when more than this share of it is new


@dataclass(frozen=True)
class Piece:
    level: int          # of the heading it starts with; 0 for the text before the first heading
    text: str           # its Markdown, then the definitions of the notes it calls
    own: str            # its Markdown alone
    next: str           # the line after it: the next piece's heading ("" for the last piece)


@dataclass(frozen=True)
class Kept:
    """What pandoc made of one piece: its blocks (JSON text), its HTML (its section left open,
    notes numbered from 1), its notes' list items, and its heading."""

    prefix: str                         # pandoc's JSON before the blocks (its API version)
    blocks: str
    html: str
    notes: tuple[str, ...]
    # The heading it starts with: (level, its id here, the id pandoc gives it in a text of its own)
    head: tuple[int, str, str] | None


def cut(markdown: str, notes: list[tuple[str, int, int]] | None = None) -> list[Piece] | None:
    """The pieces of the text, or None when it holds something pandoc reads across the whole text.
    `notes`: its note definitions as (label, first line, last line), if they are known."""
    framed = "\n" + markdown
    if any(pattern.search(framed) for pattern in GLOBAL):
        return None
    lines = markdown.split("\n")
    if notes is None:
        notes = [(d.label, d.line, d.end_line) for d in notes_mod.scan(markdown, Path("-")).definitions]
    starts = [(0, 0)]
    fence, prev, divs, in_divs = None, "", 0, set()
    for i, raw in enumerate(lines):
        blank = not raw.strip(" \t")         # pandoc's blank line: a no-break space is text
        fence, fenced = notes_mod.fence_step(fence, raw)
        if fenced:
            pass
        elif DIV_FENCE.match(raw):
            divs = divs + 1 if raw.strip(": \t") else max(divs - 1, 0)
        elif (h := HEADING.match(raw)) and not prev.strip(" \t") and not divs:
            starts.append((i, len(h.group(1))))
        elif HEADING_LIKE.match(raw) or (SETEXT.match(raw) and prev.strip(" \t")):
            return None             # a heading that is not a piece's (quoted, indented, in a div, setext)
        if divs:
            in_divs.add(i)
        prev = "" if blank else raw
    if fence or divs:
        return None
    definitions: dict[str, tuple[int, int]] = {}
    ends = {last for _, _, last in notes}
    for label, first, last in notes:
        after_block = first > 1 and lines[first - 2].strip(" \t") and first - 1 not in ends
        if label.casefold() in definitions or not notes_mod.CALL.fullmatch(f"[^{label}]") or after_block or \
                in_divs & set(range(first - 1, last)):
            return None             # defined twice, a label no call can name, lazily inside a block, in a div
        definitions[label.casefold()] = (first, last)
    if markdown.count("]:") != len(notes):
        return None                 # a definition the scan does not see (any reference link's, or in a list item)
    if TABLE_TOP.search(framed):
        return None
    if not "\n".join(lines[: starts[1][0]] if len(starts) > 1 else lines).strip():
        starts = starts[1:] if len(starts) > 1 else starts     # nothing before the first heading
    pieces = []
    for k, (first, level) in enumerate(starts):
        stop = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        text = "\n".join(lines[first:stop])
        wanted = _definitions(text, definitions, lines, (first, stop))
        if wanted is None:
            return None
        if not all(_closed(part) for part in (text, *wanted)):
            return None             # a comment or tag that would take in what follows it (a definition)
        pieces.append(Piece(level, text + "".join("\n\n" + w for w in wanted), text,
                            lines[stop] if stop < len(lines) else ""))
    return pieces


def _closed(text: str) -> bool:
    """True when every HTML comment and everything that may be a tag in the text also ends in it."""
    for m in OPENER.finditer(text):
        if m.group(1) == "!--":
            if text.find("-->", m.end()) < 0:
                return False
            continue
        if not TAG_END.match(text, m.end()):
            return False
    return True


def _definitions(text: str, definitions: dict, lines: list[str], inside: tuple[int, int]) -> list[str] | None:
    """The source of every note definition the text calls (and the definitions call) that is
    not in the text already, in order of first call; None if a call has no definition."""
    found: dict[str, str] = {}
    todo = [text]
    while todo:
        for c in notes_mod.CALL.finditer(todo.pop()):
            label = c.group(1).casefold()
            if label in found:
                continue
            d = definitions.get(label)
            if d is None:
                return None
            source = "\n".join(lines[d[0] - 1: d[1]]).rstrip()
            found[label] = "" if inside[0] < d[0] <= inside[1] else source
            todo.append(source)
    return [source for source in found.values() if source]


def key(piece: Piece, shift: int, toolchain: str) -> str:
    return cache.digest("pandoc piece", toolchain, pandoc.READER, pandoc.HTML_ARGS, shift, piece.text)


# --- the whole text, cut ---------------------------------------------------------------

def _blocks_of(text: str) -> tuple[str, str] | None:
    """pandoc's JSON -> (everything before the blocks, the blocks), or None if its meta is not empty."""
    m = re.match(r'\{"pandoc-api-version":\[[\d,]+\],"meta":\{\},"blocks":\[', text)
    text = text.rstrip("\n")
    if not m or not text.endswith("]}"):
        return None
    return m.group(0), text[m.end(): -2]


def read_whole(pieces: list[Piece] | None, markdown: str, where: Location, shift: int):
    """pandoc over the whole text; returns (AST, keep), keep(html) cutting and keeping the
    pieces once the HTML is there (None when the text cannot be cut)."""
    text = pandoc.to_ast_text(markdown, where)
    ast = pandoc.parse_ast(text, where)
    if not pieces or not cache.current().enabled:
        return ast, None
    cuts = _cut_blocks(pieces, ast, text)
    if cuts is None:
        return ast, None

    def keep(html: str) -> None:
        kept = _cut_html(pieces, cuts, html, shift)
        kept = _alone_ids(pieces, kept, where) if kept is not None else None
        if kept is not None and _ids(pieces, kept, markdown) is not None:
            store, toolchain = cache.current(), cache.toolchain()
            for piece, entry in zip(pieces, kept):
                store.store("pandoc piece", key(piece, shift, toolchain), entry)

    return ast, keep


def _cut_blocks(pieces: list[Piece], ast: dict, text: str) -> list[tuple[str, str, tuple[int, str] | None]] | None:
    """The whole text's blocks cut where its pieces start: (JSON prefix, blocks JSON, heading) per piece."""
    parts = _blocks_of(text)
    if parts is None:
        return None
    prefix, blocks = parts
    heads = _heads(ast["blocks"])
    headed = [p for p in pieces if p.level]
    if len(heads) != len(headed) or any(h[0] != p.level or not h[1] for h, p in zip(heads, headed)):
        return None
    positions, at = [], 0
    for level, ident in heads:
        marker = _header_json(level, ident)
        found = blocks.find(marker, at)
        if found < 0 or (found and blocks[found - 1] != ","):
            return None
        positions.append(found)
        at = found + len(marker)
    if pieces[0].level == 0:
        positions.insert(0, 0)
        heads.insert(0, None)
    elif positions and positions[0] != 0:
        return None
    out = []
    for k, start in enumerate(positions):
        chunk = blocks[start: positions[k + 1] if k + 1 < len(positions) else len(blocks)]
        out.append((prefix, chunk[:-1] if chunk.endswith(",") else chunk, heads[k]))
    return out


def _heads(blocks: list) -> list[tuple[int, str]]:
    """(level, id) of each heading among the blocks (the text's top level)."""
    return [(b["c"][0], b["c"][1][0]) for b in blocks if b.get("t") == "Header"]


def _header_json(level: int, ident: str) -> str:
    """How pandoc's JSON begins a heading of this level and id."""
    return '{"t":"Header","c":[%d,[%s,' % (level, json.dumps(ident, ensure_ascii=False))


def _split_notes(html: str) -> tuple[str, list[str]] | None:
    """pandoc's HTML -> (the text, its notes' list items)."""
    at = html.rfind(NOTES_OPEN)
    if at < 0:
        return (html, []) if "footnote-ref" not in html else None
    if not html.endswith(NOTES_CLOSE):
        return None
    items = html[at + len(NOTES_OPEN): -len(NOTES_CLOSE)]
    starts = [m.start() for m in ITEM.finditer(items)]
    if not starts or starts[0] != 0:
        return None
    return html[:at], [items[a:b] for a, b in zip(starts, starts[1:] + [len(items)])]


def _renumber(html: str, by: int, first: int, count: int) -> str | None:
    """The note calls in pandoc's HTML numbered `by` on; None unless they run first .. first+count-1."""
    seen = []

    def call(m):
        n = int(m.group(1))
        seen.append(n)
        return (f'<a href="#fn{n + by}" class="footnote-ref" id="fnref{n + by}" role="doc-noteref">'
                f'<sup>{n + by}</sup></a>')

    out = CALL.sub(call, html)
    return out if seen == list(range(first, first + count)) else None


def _renumber_items(items: list[str], by: int, first: int) -> tuple[str, ...] | None:
    out = []
    for n, item in enumerate(items, first):
        m, backs = ITEM.match(item), BACK.findall(item)
        if not m or int(m.group(1)) != n or backs != [str(n)]:
            return None
        out.append(item.replace(f'<li id="fn{n}">', f'<li id="fn{n + by}">', 1)
                   .replace(f'<a href="#fnref{n}" class="footnote-back"', f'<a href="#fnref{n + by}" class="footnote-back"'))
    return tuple(out)


def _cut_html(pieces, cuts, html: str, shift: int) -> list[Kept] | None:
    split = _split_notes(html)
    if split is None:
        return None
    body, items = split
    starts, at = [], 0
    for (_, _, head) in cuts:
        if head is None:
            starts.append(0)
            continue
        marker = '<section id="%s" class="level%d' % (head[1], head[0] + shift)
        found = body.find(marker, at)
        if found < 0 or (found and body[found - 1] != "\n"):
            return None
        starts.append(found)
        at = found
    if starts and starts[0] != 0:
        return None
    kept, open_, numbered = [], [], 0
    for k, ((prefix, blocks, head), start) in enumerate(zip(cuts, starts)):
        chunk = body[start: starts[k + 1] if k + 1 < len(starts) else len(body)]
        level = pieces[k + 1].level if k + 1 < len(pieces) else 0
        opened = open_ + ([head[0]] if head else [])
        closes = sum(1 for lv in opened if level == 0 or lv >= level)
        if closes and not chunk.endswith(CLOSE * closes):
            return None
        chunk = chunk[: len(chunk) - len(CLOSE) * closes]
        open_ = [lv for lv in opened if not (level == 0 or lv >= level)]
        count = blocks.count(NOTE)
        local = _renumber(chunk, -numbered, numbered + 1, count)
        mine = _renumber_items(items[numbered: numbered + count], -numbered, numbered + 1)
        if local is None or mine is None or len(mine) != count:
            return None
        kept.append(Kept(prefix, blocks, local, mine, head and (*head, head[1])))
        numbered += count
    return kept if numbered == len(items) else None


# --- the book from its pieces ----------------------------------------------------------

def read_pieces(pieces: list[Piece], markdown: str, where: Location, shift: int) -> tuple[dict, str, float] | None:
    """The book's AST and HTML from kept pieces, pandoc reading only the new ones, and the share
    of the text it read; None when too much is new or the pieces would not read as the whole does."""
    store = cache.current()
    if not store.enabled or not pieces:
        return None
    toolchain = cache.toolchain()
    keys = [key(p, shift, toolchain) for p in pieces]
    kept = [store.load("pandoc piece", k) for k in keys]
    new = [k for k, got in enumerate(kept) if got is None]
    share = sum(len(pieces[k].text) for k in new) / max(len(markdown), 1)
    if share > WHOLE_SHARE:
        return None
    if new:
        with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="pandoc-piece") as pool:
            made = list(pool.map(lambda k: _read_alone(pieces[k], where, shift), new))
        for k, entry in zip(new, made):
            if entry is None:
                return None
            kept[k] = entry
    ids = _ids(pieces, kept, markdown)
    if ids is None:
        return None
    for k in new:
        store.store("pandoc piece", keys[k], kept[k])
    made = _assemble(pieces, kept, ids)
    return made and (*made, share)


def _read_alone(piece: Piece, where: Location, shift: int) -> Kept | None:
    """pandoc on the piece alone; None unless it reads as it would in the book: one heading of
    its level first (none before the first heading), and, read with the next piece's heading
    line after it, that line still a heading of the text's top level (an HTML comment or a
    table left open would take it in)."""
    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            html_future = pool.submit(pandoc.run_uncached, ["-f", pandoc.READER, *pandoc.html_args(shift)],
                                      piece.text, where)
            after = pool.submit(pandoc.run_uncached, ["-f", pandoc.READER, "-t", "json"],
                                piece.own + "\n" + piece.next, where) if piece.next else None
            text = pandoc.run_uncached(["-f", pandoc.READER, "-t", "json"], piece.text, where)
            html = html_future.result()
            followed = pandoc.parse_ast(after.result(), where)["blocks"] if after else None
        ast = pandoc.parse_ast(text, where)
    except ManuscriptError:
        return None             # the whole text is read instead, and its error told with its line
    parts = _blocks_of(text)
    blocks = ast["blocks"]
    heads = _heads(blocks)
    if piece.level == 0:
        fits = not heads
    else:
        fits = len(heads) == 1 and blocks[0].get("t") == "Header" and heads[0][0] == piece.level and heads[0][1]
    if followed is not None:
        level = len(HEADING.match(piece.next).group(1))
        tops = [b for b in followed if b.get("t") == "Header"]
        fits = fits and bool(followed) and followed[-1].get("t") == "Header" and followed[-1]["c"][0] == level \
            and len(tops) == len(heads) + 1
    if parts is None or not fits:
        return None
    head = heads[0] if heads else None
    split = _split_notes(html)
    if split is None:
        return None
    body, items = split
    if not parts[1]:
        body = ""               # no blocks (a piece of note definitions): pandoc writes a bare newline
    if head:
        if not body.endswith(CLOSE):
            return None
        body = body[: -len(CLOSE)]
    count = parts[1].count(NOTE)
    if _renumber(body, 0, 1, count) is None:
        return None
    numbered = _renumber_items(items, 0, 1)
    if numbered is None or len(numbered) != count:
        return None
    return Kept(parts[0], parts[1], body, numbered, head and (*head, head[1]))


def _alone_ids(pieces: list[Piece], kept: list[Kept], where: Location) -> list[Kept] | None:
    """The whole text's pieces with the id each heading has in a text of its own: the same,
    unless pandoc may have made it unique (`introduction-1` after an `introduction`); then
    pandoc reads the heading line alone to tell."""
    used, out = set(), []
    for piece, entry in zip(pieces, kept):
        if entry.head is not None:
            level, ident, _ = entry.head
            base, _, number = ident.rpartition("-")
            line = piece.text.split("\n", 1)[0]
            if number.isdigit() and base in used and not _given(ident, line):
                stubs = "".join(f"\n\n[^{c.group(1)}]: ." for c in notes_mod.CALL.finditer(line))
                try:
                    alone = pandoc.parse_ast(pandoc.run_uncached(["-f", pandoc.READER, "-t", "json"], line + stubs,
                                                                 where), where)["blocks"]
                except ManuscriptError:
                    return None
                if len(alone) != 1 or alone[0].get("t") != "Header":
                    return None
                entry = Kept(entry.prefix, entry.blocks, entry.html, entry.notes, (level, ident, alone[0]["c"][1][0]))
            used.add(ident)
        out.append(entry)
    return out


def _ids(pieces: list[Piece], kept: list[Kept], markdown: str) -> list[str | None] | None:
    """The id of each piece's heading in the whole book, made unique as pandoc makes it; None
    when a piece may read differently in the book (see the module's docstring)."""
    used, ids = set(), []
    for piece, entry in zip(pieces, kept):
        if '{"t":"RawBlock"' in entry.blocks or '{"t":"CodeBlock"' in entry.blocks:
            return None
        if entry.blocks.count(HEADER) != (1 if piece.level else 0):
            return None             # one heading a piece, so its id depends only on the headings before
        if entry.head is None:
            if piece.level:
                return None
            ids.append(None)
            continue
        level, _, alone = entry.head
        if level != piece.level or not SAFE_ID.fullmatch(alone) or RESERVED_ID.fullmatch(alone):
            return None
        ident = alone
        if alone in used:
            if re.search(r"\{[^}]*\}[ \t]*$", piece.own.split("\n", 1)[0]):
                return None         # maybe an id given twice ({#a}, {id=a}): pandoc keeps both
            ident = next(f"{alone}-{n}" for n in range(1, len(used) + 2) if f"{alone}-{n}" not in used)
        used.add(ident)
        ids.append(ident)
    return None if _implicit_links(markdown) else ids


def _given(ident: str, line: str) -> bool:
    """True when the heading line gives this id itself (`# Title {#ident}`)."""
    return re.search(r"\{[^}]*#" + re.escape(ident) + r"[\s}]", line) is not None


def _label_key(text: str) -> str:
    key = "".join(ch for ch in text.casefold() if ch.isalnum())
    return key or "".join(text.casefold().split())


LINKED = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]")       # a bracketed text, newlines and one nesting in it
TARGET = re.compile(r"\(\s*<?[^\s()<>]*>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")    # an inline link's target
ATTRIBUTES = re.compile(r"""\{\s*(?:(?:[#.][^\s{}]+|[\w-]+=(?:"[^"]*"|'[^']*'|[^\s{}]+))\s*)+\}""")


def _implicit_links(markdown: str) -> bool:
    """True when a `[text]` could be pandoc's implicit link to a heading (`[Introduction]`):
    any bracketed text with a heading's letters and digits, unless a complete inline link
    target or a span's attributes follow it."""
    labels = set()
    lines = markdown.split("\n")
    for i, raw in enumerate(lines):
        line = raw.lstrip(" >")
        if line.startswith("#"):
            labels.add(_label_key(re.sub(r"\{[^}]*\}\s*$", "", line.strip("# \t"))))
        elif i + 1 < len(lines) and SETEXT.match(lines[i + 1]) and line.strip():
            labels.add(_label_key(line))
    labels.discard("")
    for m in LINKED.finditer(markdown):
        if _label_key(m.group(1)) in labels and not (TARGET.match(markdown, m.end()) or
                                                     ATTRIBUTES.match(markdown, m.end())):
            return True
    return False


def _assemble(pieces: list[Piece], kept: list[Kept], ids: list[str | None]) -> tuple[dict, str] | None:
    html, items, blocks, open_, numbered = [], [], [], [], 0
    for piece, entry, ident in zip(pieces, kept, ids):
        text, part = entry.html, entry.blocks
        if entry.head and ident != entry.head[1]:           # the heading's id in this book
            level, old = entry.head[:2]
            text = text.replace(f'<section id="{old}" class="level', f'<section id="{ident}" class="level', 1)
            part = part.replace(_header_json(level, old), _header_json(level, ident), 1)
        while piece.level and open_ and open_[-1] >= piece.level:
            html.append(CLOSE)
            open_.pop()
        count = len(entry.notes)
        html.append(_renumber(text, numbered, 1, count))
        blocks.append(part)
        items += _renumber_items(list(entry.notes), numbered, 1)
        numbered += count
        if piece.level:
            open_.append(piece.level)
    html.append(CLOSE * len(open_))
    if items:
        html += [NOTES_OPEN, *items, NOTES_CLOSE]
    if len({e.prefix for e in kept}) != 1:
        return None
    ast = json.loads(kept[0].prefix + ",".join(b for b in blocks if b) + "]}")
    return ast, "".join(html)
