"""YAML text -> Metadata: a frozen, validated value; every error names the key, the file and the line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import ValidationError as IsbnInvalid

from imprint.errors import Finding, Location, MetadataError
from imprint.manuscript import languages
from imprint.specs.labels import join_names
from imprint.specs.editions import IN, MM, TRIM_FORMS, Margins, parse_trim

MAX_METADATA_BYTES = 256 * 1024
MAX_DEPTH = 20

FORMS = ("book", "essay")
PAPERS = ("white", "cream")
ISBN_EDITIONS = ("epub", "pdf", "print")

# Every key the toolchain reads. Anything else is kept (pandoc-style) and ignored.
KNOWN_KEYS = {
    "title", "subtitle", "author", "translator", "editor", "lang", "language", "form",
    "publisher", "rights", "date", "description", "subjects", "original-publication",
    "identifier", "isbn", "manuscript", "editorial-notes", "edition", "cover-image",
    "trim", "paper", "profile", "cover", "modified",
    "bibliography", "csl", "suppress-bibliography", "reference-section-title", "link-citations",
    "margins", "number-sections", "toc-title", "toc-depth", "lof", "lot",
    # the typefaces and styles a book may choose (read by imprint's fonts and styles)
    "mainfont", "sansfont", "monofont", "fontsize", "linestretch", "css", "epub-css",
    # how paragraphs are broken into lines (imprint/typeset/linebreak.py)
    "line-breaking", "hyphenate-capitalized",
}
LINE_BREAKING = ("total-fit", "greedy")

# pandoc's own variables (LaTeX, HTML and EPUB writers) that mean nothing here, and what does.
PANDOC_KEYS = {
    "geometry": "set the page with `trim:` and `margins:` (inner, outer, top, bottom)",
    "papersize": "set the page size with `trim:` (e.g. 6x9, 7x10, 156x234mm)",
    "margin-left": "use `margins:` (inner, outer, top, bottom)", "margin-right": "use `margins:`",
    "margin-top": "use `margins:`", "margin-bottom": "use `margins:`",
    "documentclass": "the house design is the book's class; choose `form: book` or `form: essay`",
    "classoption": "use `trim:`, `margins:` and `form:`",
    "header-includes": "put CSS in a stylesheet named by `css:`",
    "include-before": "write it at the start of the manuscript",
    "include-after": "write it at the end of the manuscript",
    "fontfamily": "use `mainfont:`", "fontfamilyoptions": "use `mainfont:`",
    "mainfontoptions": "use `mainfont:`", "sansfontoptions": "use `sansfont:`", "monofontoptions": "use `monofont:`",
    "mathfont": "use `mainfont:`", "CJKmainfont": "use `mainfont:`",
    "colorlinks": "links are set in the text colour in print; restyle them with `css:`",
    "linkcolor": "restyle links with `css:`", "urlcolor": "restyle links with `css:`",
    "citecolor": "restyle links with `css:`", "toccolor": "restyle the contents with `css:`",
    "indent": "paragraph indents are the house style; change them with `css:`",
    "secnumdepth": "use `number-sections: true` (chapters and sections are numbered)",
    "toc": "the contents is always made (set its depth with `toc-depth:`)",
    "pagestyle": "running heads and folios are the house style; change them with `css:`",
    "abstract": "put it in the manuscript, or use `description:`",
    "keywords": "use `subjects:`", "subject": "use `subjects:`",
    "thanks": "write it in the manuscript", "institute": "use `publisher:`",
    "highlight-style": "code is highlighted in the house style; restyle it with `css:`",
    "epub-cover-image": "use `cover-image:`", "cover-art": "use `cover-image:`",
    "epub-chapter-level": "chapters are the manuscript's level-1 headings",
    "biblio-style": "use `csl:`", "natbib": "use `csl:`", "biblatex": "use `csl:`",
    "nocite": "cite the entries in the text", "lang-options": "use `lang:`",
    "dir": "the text direction follows `lang:`", "hyphenate": "hyphenation follows `lang:`",
    "top-level-division": "use `form: book` or `form: essay`",
    "title-meta": "use `title:`", "author-meta": "use `author:`", "pagetitle": "use `title:`",
}
# The look's bounds (imprint/manuscript/look.py): a text size and a leading a book can be read in.
FONTSIZE_RANGE = (8.0, 16.0)        # points
LINESTRETCH_RANGE = (0.8, 2.5)      # times the house leading (1.0: 14.4 pt on 11 pt)
ALIASES = {"language": "lang"}
# Keys other tools (Calibre, Vellum, Jekyll, LaTeX classes) use for what a known key does, or for
# what the manuscript holds: M001's hint names the way here, where spelling alone finds nothing.
SYNONYMS = {
    "copyright": "use `rights:` (the copyright page's line)", "license": "use `rights:`", "licence": "use `rights:`",
    "authors": "use `author:` (a name or a list of names)", "creator": "use `author:`",
    "translators": "use `translator:` (a name or a list of names)", "editors": "use `editor:`",
    "summary": "use `description:`", "blurb": "use `description:`", "back-cover": "use `description:`",
    "tags": "use `subjects:`", "categories": "use `subjects:`",
    "pubdate": "use `date:` (YYYY-MM-DD)", "published": "use `date:` (YYYY-MM-DD)",
    "isbn13": "use `isbn:` with `epub:`, `pdf:`, `print:`", "isbn-13": "use `isbn:` with `epub:`, `pdf:`, `print:`",
    "dedication": "write it in the manuscript, e.g. a chapter `# Dedication {.unnumbered .unlisted}` holding it (`.unlisted` keeps it out of the contents)",
    "epigraph": "write it in the manuscript as a block quote (`>`), its source on a line `> --- Author`",
    "font": "use `mainfont:`", "font-size": "use `fontsize:`", "trim-size": "use `trim:`", "page-size": "use `trim:`",
    # Quarto's and R Markdown's output formats: "format" is not a misspelt `form`
    "format": "Quarto's output formats, with every setting under them, are not read: imprint makes its editions "
              "from this file's keys (`toc-depth:`, `trim:`, `fontsize:`, `number-sections:` …); choose them with "
              "`--edition pdf`, `--edition epub`, `--edition print`",
    "output": "R Markdown's output formats, with every setting under them, are not read: imprint makes its editions "
              "from this file's keys (`toc-depth:`, `trim:`, `fontsize:`, `number-sections:` …); choose them with "
              "`--edition pdf`, `--edition epub`, `--edition print`",
    "bibliography-title": "use `reference-section-title:`", "references-title": "use `reference-section-title:`",
    "number-depth": "`number-sections: true` numbers chapters and sections; `toc-depth:` sets the contents' depth",
}


@dataclass(frozen=True)
class Isbns:
    epub: str | None = None
    pdf: str | None = None
    print: str | None = None


@dataclass(frozen=True)
class CoverStyle:
    """The cover's look as data: colours and typeface, overridable under `cover:` in the metadata."""

    background: str = "#1f2a36"
    foreground: str = "#f4efe6"
    accent: str = "#c8a45d"


@dataclass(frozen=True)
class Metadata:
    title: str
    authors: tuple[str, ...]
    lang: str = "en"
    subtitle: str | None = None
    translators: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    form: str = "book"
    publisher: str | None = None
    rights: str | None = None
    date: dt.date | None = None
    modified: dt.datetime | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    original_publication: str | None = None
    identifier: str = ""
    isbn: Isbns = Isbns()
    manuscript: tuple[str, ...] = ()
    editorial_notes: tuple[str, ...] = ()
    edition: str | None = None
    cover_image: str | None = None
    trim: str | None = None
    paper: str = "white"
    profile: str | None = None
    cover: CoverStyle = CoverStyle()
    # Citations (imprint/manuscript/citations.py): bibliography files in the book folder, the
    # CSL style (a file in the book folder or a bundled style's name), and pandoc's options.
    bibliography: tuple[str, ...] = ()
    csl: str | None = None
    suppress_bibliography: bool = False
    reference_section_title: str | None = None
    link_citations: bool = True
    # The page and the contents (imprint/specs/editions.py, imprint/html/render.py).
    margins: object = None          # specs.editions.Margins (points) from `margins:`, else the design's
    number_sections: bool = False
    toc_title: str | None = None
    toc_depth: int | None = None
    lof: bool = False
    lot: bool = False
    # The look (imprint/manuscript/look.py): the book's stylesheets (paged editions; the EPUB's
    # are `epub_css`, or these when it is None), the faces by family name, size and leading.
    css: tuple[str, ...] = ()
    epub_css: tuple[str, ...] | None = None
    mainfont: str | None = None
    sansfont: str | None = None
    monofont: str | None = None
    fontsize: float | None = None       # points
    linestretch: float | None = None    # times the house leading
    line_breaking: str = "total-fit"    # paragraphs set whole (Knuth-Plass) or line by line
    hyphenate_capitalized: bool = False  # names and other capitalised words are not hyphenated (German: true)
    key_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    source: Path | None = None
    extra: tuple[tuple[str, object], ...] = field(default=(), compare=False)

    @property
    def author_line(self) -> str:
        return join_names(self.authors, self.lang)


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases (YAML bombs) and deep nesting."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise MetadataError(
                "YAML aliases (*name) are not allowed in metadata",
                where=Location(None, event.start_mark.line + 1, event.start_mark.column + 1),
                hint="write the value out in full")
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise MetadataError(f"metadata is nested more than {MAX_DEPTH} levels deep",
                                    where=Location(None, mark.line + 1, mark.column + 1))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str, path: Path, line_offset: int = 0):
    """Parse YAML into (mapping node, plain dict). Errors carry path:line."""
    if len(text.encode("utf-8")) > MAX_METADATA_BYTES:
        raise MetadataError(f"metadata is larger than {MAX_METADATA_BYTES // 1024} KiB",
                            where=Location(path, line_offset + 1))
    try:
        loader = _NoAliasLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except MetadataError as err:
        line = (err.where.line or 0) + line_offset
        raise MetadataError(err.message, where=Location(path, line, err.where.column), hint=err.hint) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message, hint = err.problem or err.context, "check indentation and quote values that contain ':' or '#'"
        if err.context_mark is not None and err.problem and ("end of stream" in err.problem or "<stream end>" in err.problem):
            # an unclosed quote or bracket runs to the file's end: name where it opened, not the end
            mark = err.context_mark
            what = (err.context or "value").removeprefix("while scanning ").removeprefix("while parsing ")
            message = f"{what} that starts here is never closed ({err.problem})"
            hint = "close the quote or bracket on this line (a quote inside the value: use the other kind, or double it in '...')"
        elif err.context_mark is not None and mark is not None and err.context_mark.line != mark.line and err.context:
            message += f" ({err.context.removeprefix('while ')} that starts at line {err.context_mark.line + 1 + line_offset})"
        line = mark.line + 1 + line_offset if mark else None
        col = mark.column + 1 if mark else None
        raise MetadataError(f"invalid YAML: {message}", where=Location(path, line, col), hint=hint) from None
    except yaml.YAMLError as err:
        raise MetadataError(f"invalid YAML: {err}", where=Location(path, line_offset + 1)) from None
    if node is None:
        return None, {}
    if not isinstance(node, yaml.MappingNode):
        raise MetadataError("metadata must be a mapping of `key: value` lines",
                            where=Location(path, node.start_mark.line + 1 + line_offset))
    data = _construct(node, path, line_offset)
    return node, data


def _construct(node, path: Path, line_offset: int) -> dict:
    """Plain values, one key at a time, so a bad value (an unknown tag, a 13th month, a list
    used as a key) is reported at its own line."""
    loader = yaml.SafeLoader("")
    data, seen = {}, {}
    try:
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            where = Location(path, mark.line + 1 + line_offset, mark.column + 1)
            try:
                key = loader.construct_object(key_node, deep=True)
                value = loader.construct_object(value_node, deep=True)
                hash(key)
            except yaml.MarkedYAMLError as err:
                bad = err.problem_mark or mark
                raise MetadataError(f"invalid YAML: {err.problem or err.context}",
                                    where=Location(path, bad.line + 1 + line_offset, bad.column + 1),
                                    hint="quote text that starts with {, [, !, &, * or contains ': '") from None
            except (ValueError, TypeError, OverflowError) as err:
                dated = any(w in str(err) for w in ("month", "day", "year", "date"))
                raise MetadataError(f"invalid value in metadata: {err}", where=where,
                                    hint="write dates as YYYY-MM-DD" if dated else
                                    "quote text that starts with {, [, !, &, * or contains ': '") from None
            if key in seen:
                raise MetadataError(f"metadata key '{key}' is given twice (first on line {seen[key]})", where=where,
                                    hint="keep one of them")
            seen[key] = where.line
            data[key] = value
    finally:
        loader.dispose()
    return data


def key_lines(node, line_offset: int = 0) -> dict[str, int]:
    if node is None:
        return {}
    return {k.value: k.start_mark.line + 1 + line_offset for k, _ in node.value if hasattr(k, "value")}


# XML 1.0's Char production: no edition (XHTML, OPF, PDF metadata) can hold anything else.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MIN_YEAR, MAX_YEAR = 1, 2107        # ZIP timestamps end in 2107 (and the dates before 1980 are clamped)


def _check_characters(key, value, where: Location) -> None:
    """Every string in a metadata value (keys too, at any depth) must be XML text."""
    stack = [key, value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, str):
            bad = NOT_XML_CHAR.search(item)
            if bad:
                char = ord(bad.group())
                kind = "a lone surrogate" if 0xD800 <= char <= 0xDFFF else "a control character" \
                    if char < 0x20 or 0x7F <= char < 0xA0 else "a noncharacter"
                raise MetadataError(f"metadata key '{key}': {kind} U+{char:04X} (XML and EPUB cannot hold it)",
                                    where=where, hint="delete it, or write the character it stands for")


def build_metadata(data: dict, lines: dict[str, int], path: Path) -> tuple[Metadata, list[Finding]]:
    """Validate plain YAML data into Metadata. Returns the value and any warnings."""
    findings: list[Finding] = []

    def where(key):
        return Location(path, lines.get(key))

    def fail(key, message, hint=None):
        raise MetadataError(f"metadata key '{key}': {message}", where=where(key), hint=hint)

    def missing(key, hint):
        typo = difflib.get_close_matches(key, [k for k in data if isinstance(k, str) and k not in KNOWN_KEYS],
                                         n=1, cutoff=0.75)
        if typo:
            raise MetadataError(f"metadata key '{key}' is required", where=where(typo[0]),
                                hint=f"'{typo[0]}' here looks like a misspelling of '{key}'")
        raise MetadataError(f"metadata key '{key}' is required", where=Location(path, 1), hint=hint)

    def text(key, required=False):
        value = data.get(key)
        if value is None or value == "":
            if required:
                missing(key, f"add a line `{key}: ...`")
            return None
        if isinstance(value, (dict, list)):
            fail(key, "must be a single piece of text")
        return str(value).strip()

    def names(key, required=False):
        value = data.get(key)
        if value is None or value == [] or value == "":
            if required:
                missing(key, f"add a line `{key}: Name`")
            return ()
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, dict) and "name" in item:
                for other in (k for k in item if k != "name"):      # pandoc's and Calibre's file-as, role, affiliation
                    findings.append(Finding("M001", "warning", f"metadata key '{key}': the key '{other}' of "
                                            f"“{item['name']}” is ignored", where(key),
                                            hint="only `name:` is read (the EPUB gives the name as written, "
                                                 "as author, translator or editor by its key)"))
                item = item["name"]
            if isinstance(item, (dict, list)) or item is None:
                fail(key, "must be a name or a list of names")
            out.append(str(item).strip())
        return tuple(out)

    def texts(key):
        value = data.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if any(isinstance(i, (dict, list)) for i in items):
            fail(key, "must be a list of plain text items")
        return tuple(str(i).strip() for i in items if i is not None)

    def choice(key, options, default):
        value = text(key)
        if value is None:
            return default
        if value not in options:
            fail(key, f"'{value}' is not one of {', '.join(options)}")
        return value

    for key, value in data.items():
        _check_characters(key, value, where(key))

    for key in data:
        if key in KNOWN_KEYS or not isinstance(key, str):
            continue
        if key in PANDOC_KEYS and PANDOC_KEYS[key]:
            findings.append(Finding("M001", "warning", f"metadata key '{key}' is pandoc's and has no effect here",
                                    where(key), hint=PANDOC_KEYS[key]))
            continue
        close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=0.75)
        findings.append(Finding("M001", "warning", f"unknown metadata key '{key}' is ignored", where(key),
                                hint=SYNONYMS.get(str(key).lower()) or (f"did you mean '{close[0]}'?" if close else
                                "remove it; the README lists every key imprint reads")))   # "dedication" is not "edition"

    if "lang" not in data and "language" in data:
        data = {**data, "lang": data["language"]}
        lines = {**lines, "lang": lines.get("language")}

    title = text("title", required=True)
    authors = names("author", required=True)
    lang = text("lang")
    if lang is None:
        findings.append(Finding("M002", "warning", "no 'lang' in the metadata; assuming English",
                                Location(path, 1), hint="add `lang: en` (a BCP 47 language tag)"))
        lang = "en"
    elif not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
        fail("lang", f"'{lang}' is not a BCP 47 language tag", "e.g. en, en-GB, fr")
    else:
        findings += languages.language_findings(lang, where("lang"))

    date = data.get("date")
    if date is not None and not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date)[:10])
        except ValueError:
            fail("date", f"'{date}' is not a date", "write it as YYYY-MM-DD")
    if isinstance(date, dt.datetime):
        date = date.date()

    modified = data.get("modified")
    if modified is not None and not isinstance(modified, dt.datetime):
        try:
            modified = dt.datetime.fromisoformat(str(modified))
        except ValueError:
            fail("modified", f"'{modified}' is not a date and time", "write it as YYYY-MM-DDTHH:MM:SSZ")
    for key, when in (("date", date), ("modified", modified)):
        if when is not None and not MIN_YEAR <= when.year <= MAX_YEAR:
            fail(key, f"the year {when.year} is outside {MIN_YEAR}-{MAX_YEAR} (the EPUB's ZIP dates cannot hold it)",
                 "give the real date, as YYYY-MM-DD")

    isbn_data = data.get("isbn") or {}
    if not isinstance(isbn_data, dict):
        fail("isbn", "must map editions to ISBNs", "e.g. `isbn: {print: 978-...}` (or one `print: ...` line under `isbn:`)")
    isbns = {}
    for ed, value in isbn_data.items():
        if ed not in ISBN_EDITIONS:
            fail("isbn", f"unknown edition '{ed}'", f"use one of {', '.join(ISBN_EDITIONS)}")
        if value in (None, ""):
            continue
        try:
            number = stdnum_isbn.validate(str(value), convert=False)
        except IsbnInvalid as err:
            fail("isbn", f"{ed} ISBN '{value}' is not valid: {err}",
                 "check the digits against the ISBN agency's record; the last digit is a check digit")
        if len(number) != 13:
            fail("isbn", f"{ed} ISBN '{value}' is not an ISBN-13", "give the 13-digit ISBN (978-...)")
        isbns[ed] = stdnum_isbn.format(number)

    identifier = text("identifier")
    if identifier is None:
        identifier = "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"imprint:{title}:{'|'.join(authors)}"))
        findings.append(Finding("M003", "warning", "no 'identifier'; derived a stable one from title and author",
                                Location(path, 1), hint=f"add `identifier: {identifier}` to keep it fixed"))

    cover = data.get("cover") or {}
    if not isinstance(cover, dict):
        fail("cover", "must be a mapping (background, foreground, accent)")
    unknown = set(cover) - set(CoverStyle.__dataclass_fields__)
    if unknown:
        fail("cover", f"unknown cover setting(s): {', '.join(sorted(map(str, unknown)))}",
             "use background, foreground, accent")
    for k, v in cover.items():
        if not re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", str(v)):
            fail("cover", f"{k} colour '{v}' is not a #rrggbb colour")

    def flag(key, default):
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            fail(key, f"'{value}' is not true or false", f"write `{key}: true` or `{key}: false`")
        return value

    trim = text("trim")
    if trim is not None and parse_trim(trim) is None:
        fail("trim", f"'{trim}' is not a trim size", f"use {TRIM_FORMS}")
    margins = _margins(data.get("margins"), fail) if data.get("margins") is not None else None
    toc_depth = data.get("toc-depth")
    if toc_depth is not None and (isinstance(toc_depth, bool) or not isinstance(toc_depth, int)
                                  or not 1 <= toc_depth <= 6):
        fail("toc-depth", f"'{toc_depth}' is not a heading level from 1 to 6", "e.g. `toc-depth: 2`")
    def bounded(key, unit, bounds, example):
        value = data.get(key)
        if value is None or value == "":
            return None
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*" + (f"(?:{unit})?" if unit else "") + r"\s*", str(value))
        if isinstance(value, bool) or m is None:
            fail(key, f"'{value}' is not a {'size in points' if unit else 'number'}", f"write e.g. `{key}: {example}`")
        number = float(m.group(1))
        if not bounds[0] <= number <= bounds[1]:
            fail(key, f"{value} is outside {bounds[0]:g}-{bounds[1]:g}{unit or ''}",
                 f"choose a value from {bounds[0]:g} to {bounds[1]:g}{unit or ''}, e.g. {example}")
        return number

    manuscript = texts("manuscript")

    def shown(value):
        """A text the book prints: its straight quotes made typographic, as in the manuscript."""
        if isinstance(value, tuple):
            return tuple(languages.typographic_quotes(v, lang) for v in value)
        return languages.typographic_quotes(value, lang)

    meta = Metadata(
        title=shown(title),
        authors=shown(authors),
        lang=lang,
        subtitle=shown(text("subtitle")),
        translators=shown(names("translator")),
        editors=shown(names("editor")),
        form=choice("form", FORMS, "book"),
        publisher=shown(text("publisher")),
        rights=shown(text("rights")),
        date=date,
        modified=modified,
        description=shown(text("description")),
        subjects=shown(texts("subjects")),
        original_publication=shown(text("original-publication")),
        identifier=identifier,
        isbn=Isbns(**isbns),
        manuscript=manuscript,
        editorial_notes=shown(texts("editorial-notes")),
        edition=shown(text("edition")),
        cover_image=text("cover-image"),
        trim=trim,
        paper=choice("paper", PAPERS, "white"),
        profile=text("profile"),
        cover=CoverStyle(**{k: str(v) for k, v in cover.items()}),
        bibliography=texts("bibliography"),
        csl=text("csl"),
        suppress_bibliography=flag("suppress-bibliography", False),
        reference_section_title=shown(text("reference-section-title")),
        link_citations=flag("link-citations", True),
        margins=margins,
        number_sections=flag("number-sections", False),
        toc_title=shown(text("toc-title")),
        toc_depth=toc_depth,
        lof=flag("lof", False),
        lot=flag("lot", False),
        css=texts("css"),
        epub_css=texts("epub-css") if data.get("epub-css") is not None else None,
        mainfont=text("mainfont"),
        sansfont=text("sansfont"),
        monofont=text("monofont"),
        fontsize=bounded("fontsize", "pt", FONTSIZE_RANGE, "11pt"),
        linestretch=bounded("linestretch", None, LINESTRETCH_RANGE, "1.2"),
        line_breaking=choice("line-breaking", LINE_BREAKING, "total-fit"),
        # German writes every noun with a capital: its "names" rule would keep most long words whole
        hyphenate_capitalized=flag("hyphenate-capitalized", languages.base(lang) in languages.NOUN_CAPITALS),
        key_lines=tuple((k, v) for k, v in lines.items() if isinstance(k, str) and v),
        source=path,
        extra=tuple((k, v) for k, v in data.items() if k not in KNOWN_KEYS),
    )
    marked = _markdown_in_texts(meta, where)
    if marked:
        findings += marked
        meta = dataclasses.replace(meta, **{name: _plain(getattr(meta, name)) for _, name in PRINTED_TEXTS})
    return meta, findings


# Markdown a pandoc user writes in a metadata text (pandoc reads them as Markdown); imprint prints
# them as plain text, so the marks would print as written.
_MARKS = re.compile(r"(?<![\w*\\])(\*\*?)[^\s*](?:[^*]*?[^\s*])?\1(?![\w*])"     # *Beagle*, **bold**
                    r"|(?<![\w_\\])(__?)[^\s_](?:[^_]*?[^\s_])?\2(?![\w_])"          # _Beagle_
                    r"|(?<!\\)\^[^\s^]+\^|(?<![~\\])~[^\s~]+~(?!~)"              # mc^2^, H~2~O
                    r"|\[[^\]]+\]\([^)\s]+\)|<https?://[^>\s]+>|`[^`]+`")             # [a link](url), <url>, `code`
PRINTED_TEXTS = (("title", "title"), ("subtitle", "subtitle"), ("author", "authors"), ("translator", "translators"),
                 ("editor", "editors"), ("publisher", "publisher"), ("rights", "rights"), ("description", "description"),
                 ("subjects", "subjects"), ("original-publication", "original_publication"),
                 ("editorial-notes", "editorial_notes"), ("edition", "edition"), ("toc-title", "toc_title"),
                 ("reference-section-title", "reference_section_title"))


_SUP = str.maketrans("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ")
_SUB = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")


def _unmark(m: re.Match) -> str:
    found = m.group(0)
    if found.startswith("["):
        words, url = re.fullmatch(r"\[([^\]]+)\]\(([^)\s]+)\)", found).groups()
        return words if words == url or url.startswith("#") else f"{words} ({url})"
    if found.startswith("<"):
        return found[1:-1]
    inner = found.strip("*_`")
    if found.startswith("^"):
        inner = found[1:-1]
        return inner.translate(_SUP) if all(c in "0123456789+-=()ni" for c in inner) else inner
    if found.startswith("~"):
        inner = found[1:-1]
        return inner.translate(_SUB) if all(c in "0123456789+-=()" for c in inner) else inner
    return inner


def _plain(value):
    """A metadata text without its Markdown marks: *Beagle* -> Beagle, H~2~O -> H₂O, mc^2^ -> mc²,
    [CC0](https://…) -> CC0 (https://…), <https://…> -> https://…"""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if not value:
        return value
    # code spans first, kept whole: `__init__` is code, not emphasis, in the passes below
    codes: list[str] = []

    def keep(m: re.Match) -> str:
        codes.append(m.group(1))
        return f"\ue000{len(codes) - 1}\ue001"
    value = re.sub(r"`([^`]+)`", keep, value)
    for _ in range(3):          # **_nested_** marks
        value = _MARKS.sub(_unmark, value)
    return re.sub("\ue000(\\d+)\ue001", lambda m: codes[int(m.group(1))], value)


def _markdown_in_texts(meta: Metadata, where) -> list[Finding]:
    """M007: a printed metadata text holding Markdown (`title: The Voyage of the *Beagle*`) is printed
    with its marks as written, on the title page, the cover, the running heads, the PDF's and the
    EPUB's metadata: said at the key's line."""
    out = []
    for key, field_name in PRINTED_TEXTS:
        value = getattr(meta, field_name)
        for text in (value if isinstance(value, tuple) else (value,)):
            m = _MARKS.search(text or "")
            if m:
                out.append(Finding("M007", "warning", f"metadata key '{key}' holds Markdown ({m.group(0)}): "
                                   f"metadata texts are plain text, so it is printed without its marks "
                                   f"(“{_plain(text)}”)", where(key),
                                   hint="write the text without the marks: italics and bold in the metadata are "
                                        "not kept, a link prints its address in brackets"))
                break
    return sorted(out, key=lambda f: f.where.line or 0)


MARGIN_SIDES = {"inner": "inside", "outer": "outside", "top": "top", "bottom": "bottom"}
LENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(in|mm|cm|pt)?")


def _margins(value, fail) -> Margins:
    """`margins: {inner: 0.8in, outer: 0.6in, top: 18mm, bottom: 20mm}` -> Margins in points (a bare
    number is inches; all four sides, so nothing is left to a guess)."""
    if not isinstance(value, dict):
        fail("margins", "must map inner, outer, top and bottom to lengths",
             "e.g. `margins: {inner: 0.8in, outer: 0.6in, top: 0.75in, bottom: 0.9in}`")
    unknown = [str(k) for k in value if k not in MARGIN_SIDES]
    if unknown:
        fail("margins", f"unknown side(s): {', '.join(unknown)}", "use inner, outer, top and bottom")
    missing = [k for k in MARGIN_SIDES if k not in value]
    if missing:
        fail("margins", f"no {', '.join(missing)} margin", "give all four: inner, outer, top, bottom")
    sides = {}
    for key, side in MARGIN_SIDES.items():
        m = LENGTH.fullmatch(str(value[key]).strip().lower()) if not isinstance(value[key], bool) else None
        if m is None:
            fail("margins", f"{key} margin '{value[key]}' is not a length", "write e.g. 0.75in or 19mm")
        unit = {"mm": MM, "cm": 10 * MM, "pt": 1.0}.get(m.group(2), IN)
        sides[side] = float(m.group(1)) * unit
    return Margins(**sides)
