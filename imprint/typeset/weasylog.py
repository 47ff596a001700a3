"""What WeasyPrint logs while it lays out and draws a book -> findings (W1xx).

Every warning and error WeasyPrint logs is something it did not honour: a CSS declaration or
rule it ignored, a font it could not load, a character no font can draw, a resource it could
not read. Each becomes a finding with its own code, the file and line where it can be told
(a stylesheet's messages carry the line and column; a `style` attribute's point into the
manuscript, found by the declaration's text; a character, by its first occurrence) and a
hint. Messages are read as WeasyPrint 70 words them (imprint/typeset/fence pins the release);
one this module does not know still becomes a finding (W109) with WeasyPrint's own words.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from imprint.codes import meanings, severity
from imprint.errors import Finding, Location

CODES = meanings("W")        # severities and meanings: imprint/codes.py

_DECLARATION = re.compile(r"^(?:Ignored|Deprecated) `(?P<name>[^:`]+):\s?(?P<value>.*)` at (?P<line>\d+):(?P<col>\d+), "
                          r"(?P<why>.*?)\.?$", re.DOTALL)
_ERROR = re.compile(r"^Error: (?P<why>.*) at (?P<line>\d+):(?P<col>\d+)\.$", re.DOTALL)
_AT = re.compile(r" at (?P<line>\d+):(?P<col>\d+)[.,]?")
_NOTDEF = re.compile(r'^\.notdef glyph rendered for Unicode string unsupported by fonts: "(?P<char>.+)" '
                     r"\(U\+(?P<code>[0-9A-Fa-f]+)\)$", re.DOTALL)
_FONT = re.compile(r"^Font-face (?P<name>.+) cannot be loaded$")
_ANCHOR = re.compile(r"^No anchor #(?P<id>.+) for internal URI reference$")
_LOAD = re.compile(r"^(?:Failed to load (?:image|stylesheet|inline SVG) at |Failed to render SVG image )"
                   r"'?(?P<url>[^' :]+(?::[^' ]+)?)'?")
_ACCESS = re.compile(r"^(?:Image .* has no required alt description|Missing required \"lang\" attribute)")


def findings(messages, *, edition: str | None, book_file, html: str = "", page_css: str = "",
             stylesheets=(), manuscripts=(), refused_urls=()) -> list[Finding]:
    """One finding per distinct message (in the order first logged).

    `stylesheets`: the local files WeasyPrint read (the .css among them are searched for a
    message's line and column), `page_css`: the generated page rules, `html`: the document
    (its `style` attributes), `manuscripts`: the Markdown files (where a style attribute or a
    character is found), `refused_urls`: resources the fetcher already reported (R00x)."""
    sheets = _Sources(stylesheets, page_css, html, manuscripts)
    out: list[Finding] = []
    for message in dict.fromkeys(messages):
        finding = _finding(message, sheets, book_file, refused_urls)
        if finding is not None:
            finding = finding.with_edition(edition) if edition else finding
            if finding not in out:
                out.append(finding)
    return out


def patches_off(off: dict[str, str], book_file) -> list[Finding]:
    """W190 when the fence switched speed patches off."""
    if not off:
        return []
    reason = next(iter(off.values()))
    return [Finding("W190", severity("W190"), f"speed patches off ({', '.join(sorted(off))}): {reason}",
                    Location(book_file), hint='the build is slower; pip install "weasyprint>=70,<71"')]


def _f(code: str, message: str, where: Location, hint: str) -> Finding:
    return Finding(code, severity(code), message, where, hint)


def _finding(message: str, sheets: "_Sources", book_file, refused_urls) -> Finding | None:
    book = Location(book_file)
    text = " ".join(message.split())
    if message.startswith("imprint-unplanned:"):
        return _f("L227", text.split(": ", 1)[1], book,
                  hint="nothing to do: the paragraph is set as a browser sets it, a line at a time, "
                       "its spacing checked like any other's (L215)")
    if message.startswith("imprint-linebreak:"):
        return _f("L221", text.split(": ", 1)[1], book,
                  hint="a font fallback, an inline image or a measure the planner did not expect; "
                       "`line-breaking: greedy` in book.yaml sets every paragraph that way")
    if m := _DECLARATION.match(message):
        name, value = m["name"].strip(), " ".join(m["value"].split())
        where, origin = sheets.declaration(name, value, int(m["line"]), int(m["col"]))
        return _f("W101", f"CSS `{name}: {value}` ignored{origin}: {m['why']}", where or book,
                       hint="WeasyPrint 70 cannot use this property or value: change or remove it")
    if m := _NOTDEF.match(message):
        char, code = m["char"], int(m["code"], 16)
        where = sheets.written(char) or book
        return _f("W104", f"no font has the character “{char}” (U+{code:04X}): it is drawn as an empty box",
                       where, hint="replace it or write it out: none of the book's typefaces, nor any font on this machine, has it")
    if m := _ANCHOR.match(message):
        target = m["id"]
        return _f("W110", f"the link to '#{target}' goes nowhere: no heading or element of the book has that id "
                          "(the words print, the link is left out)",
                  sheets.written(f"(#{target})") or sheets.written(f"(#{target} ") or sheets.written(f"#{target}") or book,
                  hint=f"correct the link, or give its target the id: {{#{target}}} after a heading, "
                       f"[words]{{#{target}}} in the text")
    if m := _FONT.match(message):
        return _f("W103", f"font {m['name']} cannot be loaded", book,
                       hint="check the @font-face rule's src: the font file must be in the book folder and readable")
    if m := _LOAD.match(message):
        url = m["url"]
        if any(url == r or url in r or r in url for r in refused_urls):
            return None          # already an R00x finding
        return _f("W105", text, book, hint="check that the file exists in the book folder and is valid")
    if _ACCESS.match(message):
        if message.startswith("Image "):
            return None          # R006 names the image at its file:line (security.resources)
        return _f("W106", text, book, hint="give every image alt text and the book a `lang` in book.yaml")
    m = _ERROR.match(message) or _AT.search(message)
    if m:
        where, origin = sheets.at(int(m["line"]), int(m["col"]))
        return _f("W102", f"CSS rule ignored{origin}: {text}", where or book,
                       hint="WeasyPrint 70 cannot read this rule: correct or remove it")
    return _f("W109", f"WeasyPrint: {text}", book, hint="WeasyPrint did not honour something in the book")


class _Sources:
    """Where a stylesheet message's line:column points, and where text is in the manuscript."""

    def __init__(self, stylesheets, page_css: str, html: str, manuscripts):
        self.sheets: list[tuple[Path | None, list[str]]] = []
        for path in dict.fromkeys(stylesheets):
            path = Path(unquote(urlsplit(str(path)).path)) if str(path).startswith("file:") else Path(path)
            if path.suffix.lower() == ".css":
                try:
                    self.sheets.append((path, path.read_text(encoding="utf-8").splitlines()))
                except (OSError, UnicodeDecodeError):
                    pass
        if page_css:
            self.sheets.append((None, page_css.splitlines()))
        self.styles = re.findall(r'\sstyle="([^"]*)"', html)
        self.manuscripts: list[tuple[Path, list[str]]] = []
        for path in manuscripts:
            try:
                self.manuscripts.append((Path(path), Path(path).read_text(encoding="utf-8").splitlines()))
            except (OSError, UnicodeDecodeError):
                pass

    def _sheet(self, line: int, col: int, name: str | None):
        for path, lines in self.sheets:
            if 0 < line <= len(lines):
                rest = lines[line - 1][col - 1:]
                if name is None or rest.lower().startswith(name.lower()):
                    yield path

    def at(self, line: int, col: int) -> tuple[Location | None, str]:
        found = list(self._sheet(line, col, None))
        if len(found) == 1 and found[0] is not None:
            return Location(found[0], line, col), ""
        return None, f" (at {line}:{col} of a stylesheet)"

    def declaration(self, name: str, value: str, line: int, col: int) -> tuple[Location | None, str]:
        pattern = re.compile(re.escape(name) + r"\s*:\s*" + r"\s*".join(map(re.escape, value.split())),
                             re.IGNORECASE)
        if line == 1 and any(pattern.match(style[col - 1:]) for style in self.styles):
            # a style attribute (raw HTML in the manuscript): find it there
            for path, lines in self.manuscripts:
                for number, text in enumerate(lines, start=1):
                    if "style=" in text and (m := pattern.search(text)):
                        return Location(path, number, m.start() + 1), " in a style attribute"
            return None, " in a style attribute"
        for path in self._sheet(line, col, name):
            if path is None:
                return None, " in the page rules imprint made"
            return Location(path, line, col), ""
        return None, f" (at {line}:{col} of a stylesheet)"

    def written(self, needle: str) -> Location | None:
        """The first place `needle` (a character, a link's target) is written in the manuscript."""
        for path, lines in self.manuscripts:
            for number, text in enumerate(lines, start=1):
                at = text.find(needle)
                if at >= 0:
                    return Location(path, number, at + 1)
        return None
