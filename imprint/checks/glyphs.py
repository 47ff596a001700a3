"""G101: a character of the text that no font can draw, found before anything is typeset.

WeasyPrint (through Pango and fontconfig) draws a character with the first face of the
CSS font-family that has it, then with any installed font that has it; when none has it, it
prints an empty box (.notdef) without a word. This check gathers what every face can draw,
the bundled ones (styles/fonts), those the book brings (font files in its folder) and the
system's (fontconfig: `fc-list --format %{charset}`, read once per process), and holds every
character of the text (pandoc's Str and code nodes, the title and author) to them: a
character none has is an error naming it, its U+ code and where the manuscript first has it.
"""

from __future__ import annotations

import functools
import subprocess
import unicodedata

from fontTools.ttLib import TTFont

from imprint.errors import Finding, Location
from imprint.house import STYLES
from imprint.html.render import LONG_DASHES
from imprint.manuscript.load import Book

FONT_SUFFIXES = {".otf", ".ttf", ".woff", ".woff2", ".ttc", ".otc"}
NOT_DRAWN = {"Cc", "Cf", "Zl", "Zp", "Cs"}     # controls, format marks (soft hyphen, ZWJ, bidi marks)


@functools.lru_cache(maxsize=64)
def _face_chars(path: str, mtime: float) -> frozenset:
    chars: set[int] = set()
    try:
        fonts = [TTFont(path, fontNumber=i, lazy=True) for i in range(_faces_in(path))]
    except Exception:           # not a font fontTools reads: WeasyPrint will say so if it matters
        return frozenset()
    for font in fonts:
        cmap = font.getBestCmap() or {}
        chars.update(cmap)
        font.close()
    return frozenset(chars)


def _faces_in(path: str) -> int:
    if path.lower().endswith((".ttc", ".otc")):
        from fontTools.ttLib import TTCollection
        return len(TTCollection(path).fonts)
    return 1


def _files_chars(files) -> set[int]:
    """What the font files draw: kept in the build's cache by each file's bytes (decoding the
    character maps of the bundled faces alone takes 0.6 s, in every build)."""
    from imprint import cache

    store = cache.current()
    chars: set[int] = set()
    for f in files:
        fingerprint = cache.file_digest(f) if store.enabled else None
        if fingerprint is None:
            chars |= _face_chars(str(f), f.stat().st_mtime)
            continue
        key = cache.digest("face characters", cache.toolchain(), fingerprint)
        chars |= store.remember("face-chars", key, lambda f=f: _face_chars(str(f), f.stat().st_mtime))
    return chars


@functools.lru_cache(maxsize=1)
def system_chars() -> frozenset:
    """Every code point some installed font (fontconfig) has."""
    try:
        out = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True,
                             timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    chars: set[int] = set()
    for token in out.split():
        lo, _, hi = token.partition("-")
        try:
            chars.update(range(int(lo, 16), int(hi or lo, 16) + 1))
        except ValueError:
            continue
    return frozenset(chars)


def available(book: Book) -> set[int]:
    bundled = [p for p in (STYLES / "fonts").rglob("*") if p.suffix.lower() in FONT_SUFFIXES]
    brought = [p for p in book.root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()
               and not p.is_symlink()] if book.root else []
    return _files_chars(bundled) | _files_chars(brought) | system_chars()


def _texts(book: Book):
    def walk(node):
        if isinstance(node, dict):
            t, c = node.get("t"), node.get("c")
            if t == "Str":
                yield c
            elif t in ("Code", "CodeBlock"):
                yield c[1]
            elif c is not None:
                yield from walk(c)
        elif isinstance(node, list):
            for x in node:
                yield from walk(x)
    m = book.metadata
    yield from (s for s in (m.title, m.subtitle, m.author_line) if s)
    yield from walk(book.ast.get("blocks", []))


def _where(book: Book, ch: str) -> tuple[Location, int]:
    """The first place the manuscript has `ch`, and how many times it has it in all."""
    first, count = None, 0
    for s in book.sources:
        n = s.text.count(ch)
        if n and first is None:
            at = s.text.index(ch)
            line = s.text.count("\n", 0, at)
            col = at - (s.text.rfind("\n", 0, at) + 1) + 1
            first = Location(s.path, s.first_line + line, col)
        count += n
    return first or Location(book.sources[0].path if book.sources else None), count


def check_glyphs(book: Book) -> list[Finding]:
    used = set()
    for text in _texts(book):
        used.update(text)
    # Two- and three-em dashes are set as em dashes (html/render.py long_dashes): drawn.
    wanted = {ch for ch in used if ord(ch) > 0x7E and unicodedata.category(ch) not in NOT_DRAWN
              and ch not in LONG_DASHES}
    if not wanted:
        return []
    have = available(book)
    findings = []
    for ch in sorted(wanted - {chr(c) for c in have if chr(c) in wanted}):
        where, count = _where(book, ch)
        name = unicodedata.name(ch, "unnamed character")
        more = f" (and {count - 1} more times)" if count > 1 else ""
        findings.append(Finding(
            "G101", "error",
            f"no font can draw '{ch}' U+{ord(ch):04X} {name}{more}: it would print as an empty box", where,
            hint="install a font that has it (fc-list ':charset=%04x' lists those that do), put its font file "
                 "in the book folder, or write the character another way" % ord(ch)))
    return findings
