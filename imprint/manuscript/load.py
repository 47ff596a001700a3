"""A book on disk (a folder with metadata + manuscript files, or one Markdown file with YAML
front matter) -> Book: validated metadata, the manuscript text, pandoc's AST and the note index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from imprint import cache
from imprint.manuscript import guards
from imprint.manuscript import citations, crossrefs, languages, sections
from imprint.manuscript import look as looks
from imprint.manuscript import notes as notes_mod
from imprint.manuscript import pandoc
from imprint.errors import Finding, Location, ManuscriptError, MetadataError
from imprint.manuscript.metadata import Metadata, build_metadata, key_lines, parse_yaml

METADATA_NAMES = ("book.yaml", "book.yml", "metadata.yaml", "metadata.yml")
MAX_MANUSCRIPT_BYTES = 20 * 1024 * 1024
# Characters XML 1.0 does not allow (tab, newline and carriage return aside): no edition can hold them.
CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
# A chapter file's front matter as pandoc reads it: the opening `---` not followed by a blank
# line, and (split_front_matter) a YAML mapping between the rules. A chapter that opens with a
# scene break (`---`, a blank line, or `---` and prose straight after it) is text: its
# paragraphs up to the next `---` were taken for front matter and dropped.
CHAPTER_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?![ \t]*\n)(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class SourceFile:
    """One manuscript file: its path, its Markdown body and the line the body starts on."""

    path: Path
    text: str
    first_line: int = 1


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    label: str          # plain text, notes left out: for contents, nav, bookmarks, running heads
    has_note: bool
    unlisted: bool = False   # `{.unlisted}` (pandoc's class): kept out of the contents and the EPUB's navigation


@dataclass(frozen=True)
class Book:
    root: Path                      # the folder the book's files must stay inside
    metadata: Metadata
    sources: tuple[SourceFile, ...]
    ast: dict
    notes: notes_mod.NoteIndex
    headings: tuple[Heading, ...]
    load_findings: tuple[Finding, ...] = ()
    # pandoc's HTML of the text, made beside the AST (pandoc.html_beside): a future, or None
    html_future: object = field(default=None, compare=False, repr=False)
    read: float = field(default=1.0, compare=False)     # the share of the text pandoc read for this build
    look: looks.Look = field(default_factory=looks.default)   # stylesheets, faces, size (imprint/manuscript/look.py)

    def __getstate__(self):         # a Book is cached and sent to processes; its future stays here
        return {**self.__dict__, "html_future": None}

    @property
    def slug(self) -> str:
        return slugify(self.metadata.title)

    @property
    def markdown(self) -> str:
        return "\n\n".join(s.text for s in self.sources)


_LATIN = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                        "ı": "i", "ħ": "h", "ŧ": "t", "ə": "e", "ǝ": "e", "ɛ": "e", "ɔ": "o", "ŋ": "ng",
                        "ɓ": "b", "ɗ": "d", "ƙ": "k", "ƴ": "y", "ƒ": "f"})


# Greek and Cyrillic letters, their accents already taken off (NFKD), written in Latin letters
# (ELOT 743's and the common scientific transliteration, simplified): "Λόγος" is "logos",
# "Записки" "zapiski", not dropped ("Записки: a memoir" made "a-memoir", a Russian title "book").
_TRANSLITERATE = str.maketrans({
    **dict(zip("αβγδεζηικλμνξοπρσςτυφω", "avgdeziiklmnxoprsstyfo")), "θ": "th", "χ": "ch", "ψ": "ps",
    **dict(zip("абвгдезиклмнопрстуфыэіјѕ", "abvgdeziklmnoprstufyeijz")), "ж": "zh", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ь": "", "ю": "yu", "я": "ya", "й": "i", "є": "ie",
    "ґ": "g", "љ": "lj", "њ": "nj", "ћ": "c", "ђ": "dj", "џ": "dz",
    # Kazakh, Tatar, Mongolian ("Қазақ" is "qazaq", not "aza"); ї ў ѓ ќ are NFKD's і у г к
    "қ": "q", "ғ": "gh", "ү": "u", "ұ": "u", "ө": "o", "һ": "h", "ә": "a", "ң": "ng", "җ": "zh"})


def slugify(text: str) -> str:
    import unicodedata
    text = re.sub("[\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb]", "-", text)   # the title's quotes (metadata makes them typographic) part words, as straight ones did
    text = text.lower().translate(_LATIN)     # letters NFKD leaves whole: "Straßen" is "strassen", not "straen"
    text = "".join("-" if unicodedata.category(c)[0] in "PSZ" else c for c in text)   # "1650–1750", "A·B", "x×y" part words, not "16501750"
    latin = unicodedata.normalize("NFKD", text).translate(_LATIN).translate(_TRANSLITERATE)   # ǽ: æ and an accent
    if any(not c.isascii() and unicodedata.category(c) in ("Lu", "Ll", "Lt", "Lo") for c in latin):
        return "book"           # a letter the table lacks would be dropped: a name with letters missing
    ascii_text = latin.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > 80:          # cut at a word's end, not inside one ("...-everythin")
        slug = slug[:81].rsplit("-", 1)[0] if "-" in slug[:81] else slug[:80]
    return slug.rstrip("-") or "book"


def read_text(path: Path) -> str:
    """Read a UTF-8 file; invalid bytes are reported with their line and column."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManuscriptError("file not found", where=Location(path)) from None
    except OSError as err:
        raise ManuscriptError(f"cannot read file: {err.strerror}", where=Location(path)) from None
    if len(data) > MAX_MANUSCRIPT_BYTES:
        raise ManuscriptError(f"file is larger than {MAX_MANUSCRIPT_BYTES // 2**20} MiB", where=Location(path),
                              hint="split the manuscript into several files")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise ManuscriptError(f"not valid UTF-8 (byte 0x{data[err.start]:02x})", where=Location(path, line, col),
                              hint="save the file as UTF-8") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ManuscriptError("file contains a NUL byte; is it a binary file?", where=Location(path, line))
    bad = CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise ManuscriptError(f"control character U+{ord(bad.group()):04X} in the text (XML and EPUB forbid it)",
                              where=Location(path, line, col), hint="delete it; a page break is a heading or a blank line")
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def split_front_matter(text: str, chapter: bool = False):
    """Return (yaml text or None, body, line the body starts on); `chapter`: a book folder's
    manuscript file, read as pandoc reads it (CHAPTER_FRONT_MATTER)."""
    m = (CHAPTER_FRONT_MATTER if chapter else FRONT_MATTER).match(text)
    if not m:
        return None, text, 1
    if chapter:
        try:        # composed, not constructed: no alias is expanded
            node = yaml.compose(m.group(1), Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            node = False        # not YAML: text (pandoc names the error when it reads it so)
        if node is not None and not isinstance(node, yaml.MappingNode):
            return None, text, 1        # prose between two rules is the chapter's, as in pandoc
    body_line = text[: m.end()].count("\n") + 1
    return m.group(1), text[m.end():], body_line


def _item_line(node, key: str, value: str) -> int | None:
    """The line of `value` in the YAML list under `key` (1-based), when it is there."""
    for k, v in getattr(node, "value", ()):
        if getattr(k, "value", None) == key:
            for item in v.value if isinstance(v.value, list) else ():
                if getattr(item, "value", None) == value:
                    return item.start_mark.line + 1
    return None


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def load(path: Path) -> Book:
    """Read a book from a folder or a single Markdown file. Raises ImprintError on bad input."""
    path = Path(path)
    if not path.exists():
        raise ManuscriptError("no book here", where=Location(path),
                              hint="give a folder with book.yaml and Markdown files, or a .md file with YAML front matter")
    findings: list[Finding] = []
    if path.is_dir():
        root = path
        meta_path = next((path / n for n in METADATA_NAMES if (path / n).is_file()), None)
        # Hidden files are not the book's (macOS's ._book.md beside book.md, an editor's .#book.md).
        markdown = sorted(p for p in path.glob("*.md") if p.is_file() and not p.name.startswith("."))
        if meta_path is None and len(markdown) == 1 and not _inside(root, markdown[0]):
            raise MetadataError(f"manuscript file '{markdown[0].name}' leads outside the book folder",
                                where=Location(markdown[0]), hint="put the manuscript itself in the book folder, "
                                "or give the file it leads to as the book")
        if meta_path is None and len(markdown) == 1 \
                and split_front_matter(read_text(markdown[0]))[0] is not None:
            return load(markdown[0])     # a folder holding one manuscript with front matter: that file
        if meta_path is None:
            raise MetadataError(f"no metadata file ({' or '.join(METADATA_NAMES[:2])}) in this folder",
                                where=Location(path), hint="create book.yaml with at least title, author and lang")
        if not _inside(root, meta_path):     # a link out of the book: its contents would print in every edition
            raise MetadataError(f"metadata file '{meta_path.name}' leads outside the book folder",
                                where=Location(meta_path), hint="put the metadata file itself in the book folder")
        node, data = parse_yaml(read_text(meta_path), meta_path)
        metadata, warnings = build_metadata(data, key_lines(node), meta_path)
        findings += warnings
        names = metadata.manuscript or tuple(sorted(p.name for p in path.glob("*.md") if not p.name.startswith(".")))
        if not names:
            raise ManuscriptError("no manuscript: no .md file in the book folder", where=Location(path),
                                  hint="add the manuscript as a .md file, or list files under `manuscript:`")
        sources = []
        for name in names:
            file = path / name
            if not _inside(root, file):
                raise MetadataError(f"manuscript file '{name}' is outside the book folder",
                                    where=Location(meta_path, key_lines(node).get("manuscript")))
            if metadata.manuscript and not file.exists():
                present = sorted(p.name for p in path.glob("*.md") if not p.name.startswith(".") and p.name not in names)
                raise MetadataError(f"manuscript file '{name}' does not exist",
                                    where=Location(meta_path, _item_line(node, "manuscript", name)
                                                   or key_lines(node).get("manuscript")),
                                    hint="correct the name under `manuscript:`" +
                                         (f" (not listed: {', '.join(present)})" if present else ""))
            text = read_text(file)
            yaml_text, body, first = split_front_matter(text, chapter=True)
            if yaml_text is not None:
                findings.append(Finding("M004", "warning", "front matter in a manuscript file of a book folder is ignored",
                                        Location(file, 1), hint="put metadata in " + meta_path.name))
            sources.append(SourceFile(file, body, first))
    else:
        root = path.parent
        text = read_text(path)
        yaml_text, body, first = split_front_matter(text)
        if yaml_text is None:
            raise MetadataError("no YAML front matter at the top of the manuscript", where=Location(path, 1),
                                hint="start the file with a `---` block holding title, author and lang")
        node, data = parse_yaml(yaml_text, path, line_offset=1)
        metadata, warnings = build_metadata(data, key_lines(node, 1), path)
        findings += warnings
        sources = [SourceFile(path, body, first)]

    if not any(s.text.strip() for s in sources):
        raise ManuscriptError("the manuscript is empty", where=Location(sources[0].path))

    look = looks.resolve(root, metadata)       # the book's stylesheets and fonts, checked before any work
    obstacle = looks.total_fit_obstacle(look) if metadata.line_breaking == "total-fit" else None
    if obstacle:
        why, where = obstacle
        findings.append(Finding("L223", "info", f"paragraphs are set line by line: {why}", where,
                                hint="set that property on a class of its own, not on running text, or set "
                                     "`line-breaking: greedy` to say line by line is meant"))
    for s in sources:               # before pandoc: its time grows steeply with nesting
        guards.check_nesting(s.text, s.path, s.first_line)
    index = notes_mod.merge(notes_mod.scan(s.text, s.path, s.first_line) for s in sources)
    markdown = "\n\n".join(s.text for s in sources)
    where, shift = Location(sources[0].path), 1 if metadata.form == "essay" else 0
    # pandoc reads the book as one text (note numbers and ids run through it), or, after an
    # edit, only the pieces that changed (imprint/manuscript/sections.py).
    cites, refs = citations.requested(metadata), crossrefs.used(markdown)
    # Quotation marks in the book's language are written into the AST, the HTML made from it.
    quoted = languages.quotes_change(metadata.lang, markdown)
    if cites or refs or quoted:
        # Citations and cross-references are resolved over the whole text (notes and figures
        # numbered through, repeats shortened); the HTML is made from the resolved AST.
        try:
            ast = pandoc.parse_ast(pandoc.to_ast_text(markdown, where, citations=cites), where)
        except ManuscriptError as err:
            raise ManuscriptError(err.message, where=source_location(sources, err.where.line, err.where.column),
                                  hint=err.hint) from None
        if refs:
            findings += crossrefs.resolve(ast, metadata.lang, metadata.form == "essay", sources)
        if cites:
            ast, cited = citations.resolve(ast, root, metadata, sources, where)
            findings += cited
        else:
            findings += citations.unused_options(metadata) + citations.unresolved(ast, sources)
        languages.localize_quotes(ast, metadata.lang)
        html = pandoc.html_ready(pandoc.ast_to_html(ast, where, shift_headings=shift), markdown, shift_headings=shift)
        return Book(root=root, metadata=metadata, sources=tuple(sources), ast=ast, notes=index,
                    headings=tuple(collect_headings(ast)), load_findings=tuple(findings), html_future=html, look=look)
    findings += citations.unused_options(metadata)
    cut = sections.cut(markdown, _joined_lines(sources, index.definitions)) if cache.current().enabled else None
    got = sections.read_pieces(cut, markdown, where, shift) if cut else None
    read = 1.0
    if got is not None:
        ast, html, read = got[0], pandoc.html_ready(got[1], markdown, shift_headings=shift), got[2]
    else:
        html = pandoc.html_beside(markdown, where, shift_headings=shift)
        try:
            ast, html.keep = sections.read_whole(cut, markdown, where, shift)
        except ManuscriptError as err:
            raise ManuscriptError(err.message, where=source_location(sources, err.where.line, err.where.column),
                                  hint=err.hint) from None
    if "@" in markdown:             # a citation has one (C102); a book without any is not walked for them
        findings += citations.unresolved(ast, sources)
    return Book(root=root, metadata=metadata, sources=tuple(sources), ast=ast, notes=index,
                headings=tuple(collect_headings(ast)), load_findings=tuple(findings), html_future=html, read=read,
                look=look)


def source_location(sources, line: int | None, column: int | None = None) -> Location:
    """Map a line of the joined manuscript (sources joined by a blank line) to its file and line."""
    if line is None:
        return Location(sources[0].path)
    for s in sources:
        count = s.text.count("\n") + 1
        if line <= count:
            return Location(s.path, s.first_line + line - 1, column)
        line -= count + 1
    return Location(sources[-1].path, None)


def _joined_lines(sources, definitions) -> list[tuple[str, int, int]]:
    """Note definitions as (label, first line, last line) in the sources joined by a blank line."""
    offsets, at = {}, 0
    for s in sources:
        offsets[s.path] = at - s.first_line + 1
        at += s.text.count("\n") + 2
    return [(d.label, d.line + offsets[d.file], d.end_line + offsets[d.file]) for d in definitions]


def listed(headings):
    """The headings a contents may list: an `{.unlisted}` heading is left out with every heading
    under it, to the next at its level or above, as pandoc's --toc leaves out the whole section
    (its subsections were listed under the chapter before it)."""
    under = None
    for h in headings:
        if under is not None and h.level > under:
            continue
        under = h.level if h.unlisted else None
        if under is None:
            yield h


def collect_headings(ast: dict):
    def walk(blocks):
        for b in blocks:
            t, c = b.get("t"), b.get("c")
            if t == "Header":
                level, (ident, classes, _kv), inlines = c
                yield Heading(level, ident, pandoc.stringify(inlines), _has_note(inlines), "unlisted" in classes)
            elif t in ("Div", "BlockQuote"):
                yield from walk(c[1] if t == "Div" else c)

    yield from walk(ast.get("blocks", []))


def _has_note(inlines) -> bool:
    for node in inlines:
        if node.get("t") == "Note":
            return True
        c = node.get("c")
        if isinstance(c, list) and any(isinstance(x, list) and x and isinstance(x[0], dict) for x in c):
            if any(_has_note(x) for x in c if isinstance(x, list) and x and isinstance(x[0], dict)):
                return True
    return False
