"""A laid-out line -> the manuscript file, line and column it was set from.

pandoc's Markdown reader keeps no source positions, so a layout finding (an overfull or loose
line, a widow, a heading left at the foot of a page) would name only the book. The words of the
line are found again in the Markdown files instead: in the order they were set, with anything
between two words that prints nothing or something else (punctuation and digits, emphasis
marks, note labels `[^x]` and inline notes, link targets, attributes `{...}`, HTML tags and
entities, a hyphen the typesetter added) allowed between them. The block's first words are
found first, so a line that is common words ("and so on.") is looked for inside its own
paragraph. A line whose words cannot be found keeps the book as its place.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from pathlib import Path

from imprint.errors import Finding, Location

WORD = re.compile(r"[^\W\d_]+")
# What may stand between two printed words in the Markdown: atomic, so a failed match never
# backtracks through it.
# A cross-reference (imprint/manuscript/crossrefs.py: `@sec-x`, `[@fig-x]`) prints as a word of
# its own ("Section 2.1", "Figure 1", or "(1)": none): a gap that holds one may stand for the
# printed line's next word or two.
REFERENCE = r"\[?@(?:sec|fig|tbl|eq)-[\w-]*\w\]?"
REFERENCE_AT = re.compile(REFERENCE)
REFERENCE_IN = REFERENCE_AT.search
REFERENCE_BEFORE = re.compile(REFERENCE + r"[^\w@]*$").search
REFERENCE_WORDS = 2
# A citation (pandoc's: `[@smith2001, 4]`, `[see @a; @b]`, `@smith2001`) prints as words of
# its own too ("(Smith, 2001, p. 4)", "Jones (1999)"), or as a note's call (a style with notes):
# where the printed words and the Markdown part at one, up to CITED_WORDS printed words are
# passed over (tried only there, and only where the exact match is found at no place; a word
# must match after them, and only where none does are a line's last words taken for the
# citation's: a line that ends inside it).
CITATION = re.compile(r"\[[^\[\]\n]*@[^\[\]\n]*\]|(?<!\w)@\w[\w:.#$%&+?<>~/-]*")
CITED_WORDS = 6
CITED_SPAN = 300        # characters a citation is looked for before the place the words part
GAP = (r"(?>(?:" + REFERENCE + r"|\[\^[^\]\s]+\]|\^\[[^\]]*\]|\]\([^)\n]*\)|\{[^}\n]*\}"
       r"|</?[A-Za-z][\w-]*(?:\s[^>\n]*)?/?>|&#?\w+;|[\W\d_])*)")
GAP_AT = re.compile(GAP).match
BLANK_LINE = re.compile(r"\n[ \t]*\n")
PAIR = re.compile(r"([^\W\d_]+)(?=[^\w]*([^\W\d_]+))?")     # a word, and the word after it if only punctuation is between
BLOCK_WORDS = 24        # a block's first words: enough to tell one paragraph from another
LINE_WORDS = 16
SPAN = 50_000           # characters of a block (its notes' labels and links included) a line is looked for in
SKIPPED = 3             # leading words tried away (text the stylesheet adds: "Chapter", a label)
# The print preflight's P110 (imprint/editions/preflight.py) opens with LOW_IMAGE and names the
# image's pixels (LOW_PIXELS): place_images puts the source image's name in its opening.
LOW_IMAGE = "an image at "
LOW_PIXELS = re.compile(r"(\d+) × (\d+) px printed")


def words(text: str) -> list[str]:
    return WORD.findall(text)


def anchor(findings: list[Finding], marks, pages) -> list[Finding]:
    """Inside the typesetting job: `findings` (the marks' own) with the words of the line each
    is about and of that line's block, to be found in the manuscript after the job
    (`place`). The Marks say which line: their rect is the line's."""
    rects = {id(m.finding): m.rect for m in marks if m.rect is not None}
    if not rects:
        return findings
    lines, blocks = {}, {}
    for page in pages:
        for ln in page.lines:
            lines[id(ln.rect)] = ln
            blocks.setdefault(ln.block, []).append(ln)
    out = []
    for f in findings:
        ln = lines.get(id(rects.get(id(f))))
        if ln is None or ln.front or ln.region not in ("text", "footnote"):
            out.append(f)
            continue
        block = words(" ".join(b.text for b in blocks[ln.block] if "::" not in b.tag))
        # A line that opens with figures (a number too long for the line) is found by its first
        # eight as well; figures elsewhere are left out (a call's number runs into its word).
        lead = re.match(r"[\W_]*(\d+)", ln.text)
        line = ((lead.group(1)[:8],) if lead else ()) + tuple(words(ln.text)[:LINE_WORDS])
        out.append(dataclasses.replace(f, anchor=(tuple(block[:BLOCK_WORDS + SKIPPED]), line)))
    return out


@dataclasses.dataclass
class _File:
    path: Path
    text: str               # lower-case
    first_line: int
    newlines: list[int]

    def location(self, offset: int) -> Location:
        line = bisect.bisect_right(self.newlines, offset - 1)
        start = self.newlines[line - 1] + 1 if line else 0
        return Location(self.path, self.first_line + line, offset - start + 1)


def _end(text: str, at: int, found: tuple[str, ...], loose: int = 0) -> int | None:
    """Where the words `found` (lower-case) written from `at` on in `text` (lower-case) end, or None.
    (One compiled gap, not a pattern per line: compiling one takes longer than a search.)
    `loose` (1): after a gap that holds a cross-reference the word or two it printed are passed
    over, after a citation up to CITED_WORDS; a word of `found` must match after them, unless
    the paragraph ends right after the reference or citation (its last line). 2: the line's
    last words may all be taken for the citation's (a line that ends inside "(Smith, 2001, p.
    4)"): tried only where nothing else is found, as it checks no word after the citation."""
    match = _match(text, at, found, 0, False, loose)
    return match[0] if match else None


def _match(text: str, at: int, found: tuple[str, ...], n: int, reference: bool, loose: int) -> tuple[int, int] | None:
    """`_end` from `found[n]` on (`reference`: the gap before `at` holds a cross-reference):
    (where the words end, how many were passed over), or None."""
    start = at
    while n < len(found):
        word = found[n]
        if not text.startswith(word, at):
            if not loose:
                return None
            if reference:
                for skip in range(1, REFERENCE_WORDS + 1):
                    if n + skip >= len(found):
                        last = None
                        for last in REFERENCE_AT.finditer(text, start, at):
                            pass
                        if last is not None and (loose > 1 or _block_ends(text, last.end(), at)):
                            return at, len(found) - n
                        break
                    match = _match(text, at, found, n + skip, False, loose)
                    if match is not None:
                        return match[0], match[1] + skip
            cited = _cited(text, start, at)
            if cited is not None:
                close, after = cited
                for skip in range(CITED_WORDS + 1):
                    if n + skip >= len(found):
                        if loose > 1 or _block_ends(text, close, after):
                            return after, len(found) - n
                        break
                    match = _match(text, after, found, n + skip, False, loose)
                    if match is not None:
                        return match[0], match[1] + skip
            return None
        at += len(word)
        n += 1
        if n < len(found):
            start = at
            gap = GAP_AT(text, at)
            reference = text.find("@", at, gap.end()) >= 0 and REFERENCE_IN(text, at, gap.end()) is not None
            at = gap.end()
    return at, 0


def _best(files: list, places, found: tuple[str, ...], loose: int) -> tuple[int, int] | None:
    """Of `places` ((file index, offset) in `files`), the one where the loose match passes over
    the fewest printed words (the first of those), or None."""
    best = None
    for i, offset in places:
        match = _match(files[i].text, offset, found, 0, False, loose)
        if match is not None and (best is None or match[1] < best[1]):
            best = (i, offset), match[1]
            if not match[1]:
                break
    return best[0] if best else None


def _block_ends(text: str, p: int, at: int) -> bool:
    """Whether the paragraph ends between `p` and `at` (the end of a gap): a blank line, or the file's end."""
    return at >= len(text) or BLANK_LINE.search(text, p, at) is not None


def _cited(text: str, start: int, at: int) -> tuple[int, int] | None:
    """Where a citation that runs past `start` (where the last word matched ends; `at`: where
    the gap after it ends) ends, and where the words go on after it: the match went into it
    (stopped at its key, or matched a word of its key, "smith" of `@smith2001`), or None."""
    p = at
    while p > max(0, at - CITED_SPAN):
        p = max(text.rfind("[", max(0, at - CITED_SPAN), p + 1), text.rfind("@", max(0, at - CITED_SPAN), p + 1))
        if p < 0:
            return None
        m = CITATION.match(text, p)
        if m and m.end() > start:
            return m.end(), GAP_AT(text, m.end()).end()
        p -= 1
    return None


class _Text:
    """The book's files, and where each word starts in them (a block's words are tried only
    where its first word is: a search through a whole long book for each would take seconds)."""

    def __init__(self, sources):
        self.files = [_File(s.path, s.text.lower(), s.first_line, [m.start() for m in re.finditer("\n", s.text)])
                      for s in sources]
        self._starts: dict[str, list[tuple[int, int]]] | None = None

    def starts(self, word: str) -> list[tuple[int, int]]:
        """Where `word`, or a pair of words (`a b`: one after the other, only spaces and
        punctuation between), starts in the files."""
        if self._starts is None:
            self._starts = {}
            starts = self._starts
            for i, f in enumerate(self.files):
                for m in PAIR.finditer(f.text):
                    word, after = m.group(1, 2)
                    starts.setdefault(word, []).append((i, m.start()))
                    if after:
                        starts.setdefault(f"{word} {after}", []).append((i, m.start()))
        return self._starts.get(word, [])

    def block(self, found: tuple[str, ...], loose: int | None = None) -> tuple[int, int] | None:
        """(file index, offset) of the first place where a block's words are written: tried
        where its first two words are, then (markup between them) where its first is. The
        exact match at every place first, then the loose one (`_end`) where it passes over the
        fewest words, so a loose match never beats an exact one further on (`loose`: only the
        one or the other, 0, 1 or 2)."""
        found = tuple(w.lower() for w in found)
        if not found:
            return None
        # Most paragraphs open with plain words: their first two, with a space or a few marks
        # between, are looked for first (a small pattern; the index costs a pass over the book).
        plain = re.compile(r"[\W\d_]{1,12}".join(map(re.escape, found[:2])))
        keys = ([" ".join(found[:2])] if len(found) > 1 else []) + [found[0]]

        def places():
            for i, f in enumerate(self.files):
                for m in plain.finditer(f.text):
                    if m.start() == 0 or not f.text[m.start() - 1].isalpha():
                        yield i, m.start()
            for key in keys:
                yield from self.starts(key)

        if not loose:
            for i, offset in places():
                if _end(self.files[i].text, offset, found) is not None:
                    return i, offset
            if loose == 0:
                return None
        every = dict.fromkeys(places())
        for level in (loose,) if loose else (1, 2):
            if best := _best(self.files, every, found, level):
                return best
        return None

    def line(self, found: tuple[str, ...], start: tuple[int, int]) -> tuple[int, int] | None:
        """(file index, offset) of a line's words in its block's file, at most SPAN after its
        start: the exact match at every place first, then the loose ones (`_end`) where they
        pass over the fewest words."""
        found = tuple(w.lower() for w in found)
        if not found:
            return None
        text = self.files[start[0]].text
        places = []
        at = start[1]
        while (at := text.find(found[0], at, start[1] + SPAN)) >= 0:
            places.append((start[0], at))
            at += 1
        for loose in (0, 1, 2):
            if not loose:
                for place in places:
                    if _end(text, place[1], found) is not None:
                        return place
            elif best := _best(self.files, places, found, loose):
                return best
            # A line that opens with a cross-reference's word ("Section 2.1 shows…"): its other
            # words, right after a reference, which is where the line starts.
            for skip in range(1, REFERENCE_WORDS + 1):
                if len(found) <= skip:
                    break
                at = start[1]
                while (at := text.find(found[skip], at, start[1] + SPAN)) >= 0:
                    ref = REFERENCE_BEFORE(text, max(start[1], at - 80), at)
                    if ref and _end(text, at, found[skip:], loose=loose) is not None:
                        return start[0], ref.start()
                    at += 1
        return None


def place(findings: list[Finding], sources) -> list[Finding]:
    """After the job: each anchored finding without a file of its own placed at the manuscript
    file, line and column of its line (of its block, when the line's words are not found
    inside it). `sources`: the book's SourceFiles, read afresh for every build, so a cached
    layout's findings point at the lines as they are now."""
    if not any(f.anchor and not f.where.file for f in findings):
        return findings
    text = _Text(sources)
    blocks: dict[tuple, tuple[int, int] | None] = {}
    out = []
    for f in findings:
        if not f.anchor or f.where.file:
            out.append(f)
            continue
        block, line = f.anchor
        if block not in blocks:
            at = None
            for loose in (0, 1, 2):
                for skip in range(min(SKIPPED + 1, len(block))):
                    at = text.block(block[skip:skip + BLOCK_WORDS], loose=loose)
                    if at:
                        break
                if at:
                    break
            blocks[block] = at
        at = blocks[block]
        if at is None:
            out.append(f)
            continue
        # The line's words from its block's start on (a line ending in the typesetter's hyphen
        # has its word's first half last: the gap lets the two halves meet again).
        at = ((text.line(line, at) if line else None)
              or (text.line(line[1:], at) if line[1:] and line[0].isdigit() else None) or at)
        out.append(dataclasses.replace(f, where=text.files[at[0]].location(at[1])))
    return out


def place_images(findings: list[Finding], book) -> list[Finding]:
    """The print preflight's low-resolution images (P110: found in the interior PDF, placed at
    its file and page) named after their source files and placed at the manuscript line that
    includes each. A PDF image is matched to the book's images by its pixels (Pillow reads a
    file's size from its header; a JPEG turned by its EXIF orientation is drawn with its width
    and height swapped, and matched so, never the other way): the first reference of the file is the place; two files of one size
    are both named, the finding at the first. An image no file matches (one inside an SVG, a
    remote one) keeps the PDF as its place. The pages stay the finding's."""
    wanted = {}
    for f in findings:
        size = LOW_PIXELS.search(f.message) if f.code == "P110" and f.edition == "print" else None
        if size and f.message.startswith(LOW_IMAGE):
            w, h = int(size.group(1)), int(size.group(2))
            wanted[id(f)] = (w, h)
    if not wanted:
        return findings
    sources = _sized_images(book, set(wanted.values()))
    out = []
    for f in findings:
        size = wanted.get(id(f))
        found = sources.get(size) if size else None
        if not found:
            out.append(f)
            continue
        names = [name for name, _ in found]
        label = names[0] if len(names) == 1 else \
            f"{', '.join(names[:-1])} or {names[-1]} (the same pixel size)"
        where = found[0][1]
        out.append(dataclasses.replace(f, message=label + " at " + f.message[len(LOW_IMAGE):],
                                       where=where if where.line else f.where))
    return out


def _sized_images(book, sizes: set) -> dict[tuple[int, int], list[tuple[str, Location]]]:
    """The book's image files (in the manuscript, notes, figures and tables; in raw HTML too)
    of the pixel `sizes`: size -> (name as written, the place of its first reference), in the
    order they are written. Remote images, SVGs and files that are not readable are passed over."""
    import warnings
    from urllib.parse import unquote, urlsplit

    from PIL import Image

    from imprint.manuscript import sanitize

    root = book.root.resolve()
    seen: set[Path] = set()
    out: dict[tuple[int, int], list[tuple[str, Location]]] = {}
    for kind, url, place, _attrs in sanitize.urls(book):
        url = (url or "").strip()
        if kind != "image" or not url or sanitize.scheme(url) or sanitize.is_remote(url):
            continue
        name = unquote(urlsplit(url).path)
        try:
            path = (Path(name) if Path(name).is_absolute() else book.root / name).resolve()
            if path in seen or not path.is_relative_to(root) or not path.is_file():
                continue
            seen.add(path)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(path) as image:
                    size = image.size
                    # a photograph its EXIF orientation turns (5-8: a quarter turn) is drawn with
                    # its width and height swapped: matched at the size it is drawn
                    if image.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                        size = size[::-1]
        except Exception:       # not an image Pillow reads (an SVG), or not a usable name: no size
            continue
        if size in sizes:
            out.setdefault(size, []).append((name, place()))
    return out
