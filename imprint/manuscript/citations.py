"""Citations: the metadata's `bibliography` and `csl` + pandoc's AST of the text read with
citations on -> the same AST with every citation resolved by pandoc's citeproc, and the
findings about them.

With a notes style (Chicago notes-bibliography, the default: this is a footnote toolchain)
citeproc turns each citation in the text into a footnote numbered in one sequence with the
author's notes, sets a citation inside a note inline in that note, and shortens repeated
citations as the style says; with an author-date style the citations stay in the text. The
bibliography follows the text under a heading in the book's language (left out with
`suppress-bibliography: true`); with `link-citations` (on by default) each citation links to
its entry in every edition.

Findings: a key no bibliography holds (C101, error, at the citation), a citation in a book
whose metadata names no bibliography (C102, error: it would print as written), an entry
never cited (C103, info). A bibliography or CSL file that is missing, outside the book or
unreadable is a MetadataError at its metadata line; a BibTeX syntax error one at the
`.bib` file's line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from imprint.codes import meanings
from imprint.errors import Finding, ImprintError, Location, MetadataError
from imprint.house import STYLES
from imprint.manuscript import pandoc
from imprint.specs.labels import label

CODES = meanings("C1")        # severities and meanings: imprint/codes.py

CSL_FOLDER = STYLES / "csl"
DEFAULT_STYLE = "chicago-note-bibliography"
BUNDLED = {      # the names a book may give under `csl:` -> the bundled file's name
    "chicago-note-bibliography": "chicago-note-bibliography", "chicago": "chicago-note-bibliography",
    "chicago-notes": "chicago-note-bibliography", "chicago-author-date": "chicago-author-date",
    "apa": "apa", "mla": "modern-language-association",
    "modern-language-association": "modern-language-association",
}
# pandoc reads a bibliography by its extension.
FORMATS = {".bib": "biblatex", ".bibtex": "bibtex", ".json": "csljson", ".yaml": "cslyaml", ".yml": "cslyaml"}
MAX_BIBLIOGRAPHY_BYTES = 16 * 1024 * 1024

# A citation as pandoc reads one: `@` after something that is not a word character, then a
# key (letters, digits, `_`, and internal punctuation), or `@{...}`.
KEY = r"(?:\{[^{}\s]+\}|[\w](?:[\w:.#$%&+?<>~/-]*[\w])?)"
BRACKETED = re.compile(r"\[[^\[\]]*?(?<![\w\\])-?@(" + KEY + r")[^\[\]]*\]")


@dataclass(frozen=True)
class Sources:
    """The files citeproc reads, checked."""

    bibliographies: tuple[Path, ...]
    csl: Path
    note_style: bool
    works_cited: bool = False       # MLA's list is headed "Works Cited"


def requested(metadata) -> bool:
    return bool(metadata.bibliography)


def _line(metadata, key: str) -> Location:
    return Location(metadata.source, dict(metadata.key_lines).get(key))


def _in_book(root: Path, value: str, metadata, key: str, what: str) -> Path:
    path = Path(value)
    if path.is_absolute() or ".." in path.parts:
        raise MetadataError(f"metadata key '{key}': {what} '{value}' is outside the book folder",
                            where=_line(metadata, key), hint="put the file in the book folder and name it relative to it")
    full = Path(metadata.source).parent / path if metadata.source else root / path     # as the author names it
    try:
        resolved = full.resolve(strict=True)
    except (OSError, RuntimeError):
        raise MetadataError(f"metadata key '{key}': {what} '{value}' does not exist", where=_line(metadata, key),
                            hint=f"put {value} in the book folder ({root}) or correct the name") from None
    if not resolved.is_relative_to(root.resolve()):
        raise MetadataError(f"metadata key '{key}': {what} '{value}' is outside the book folder",
                            where=_line(metadata, key), hint="copy the file into the book folder")
    if not resolved.is_file():
        raise MetadataError(f"metadata key '{key}': {what} '{value}' is not a file", where=_line(metadata, key))
    try:
        size = resolved.stat().st_size
        with open(resolved, "rb") as fh:
            fh.read(1)
    except OSError as err:
        raise MetadataError(f"metadata key '{key}': {what} '{value}' cannot be read ({err.strerror})",
                            where=_line(metadata, key), hint="check the file's permissions") from None
    if size > MAX_BIBLIOGRAPHY_BYTES:
        raise MetadataError(f"metadata key '{key}': {what} '{value}' is larger than "
                            f"{MAX_BIBLIOGRAPHY_BYTES // 2**20} MB", where=_line(metadata, key))
    return full


def sources(root: Path, metadata) -> Sources:
    """The bibliography and style files the metadata names, each inside the book and readable."""
    bibs = []
    for value in metadata.bibliography:
        path = _in_book(root, value, metadata, "bibliography", "bibliography file")
        if path.suffix.lower() not in FORMATS:
            raise MetadataError(f"metadata key 'bibliography': '{value}' is not a bibliography file pandoc reads",
                                where=_line(metadata, "bibliography"),
                                hint="use BibTeX or BibLaTeX (.bib), CSL JSON (.json) or CSL YAML (.yaml)")
        bibs.append(path)
    name = metadata.csl or DEFAULT_STYLE
    if name.lower().endswith(".csl"):
        csl = _in_book(root, name, metadata, "csl", "citation style")
    elif name.lower() in BUNDLED:
        csl = CSL_FOLDER / f"{BUNDLED[name.lower()]}.csl"
    else:
        raise MetadataError(f"metadata key 'csl': '{name}' is neither a .csl file in the book folder nor a bundled style",
                            where=_line(metadata, "csl"),
                            hint="bundled styles: " + ", ".join(sorted(set(BUNDLED))))
    head = csl.read_bytes()[:4096].decode("utf-8", "replace")
    kind = re.search(r"<style\b[^>]*\bclass=\"([a-z-]+)\"", head)
    if kind is None:
        raise MetadataError(f"metadata key 'csl': '{name}' is not a CSL style (no <style class=...>)",
                            where=_line(metadata, "csl"), hint="give a CSL 1.0 style file, or a bundled style's name")
    return Sources(tuple(bibs), csl, kind.group(1) == "note", "<title>Modern Language Association" in head)


def entries(path: Path, metadata) -> list[str]:
    """The ids of a bibliography file's entries; a syntax error is a MetadataError at its line."""
    fmt = FORMATS[path.suffix.lower()]
    text = path.read_text(encoding="utf-8", errors="replace")
    if fmt == "csljson":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as err:
            raise MetadataError(f"bibliography is not valid CSL JSON: {err.msg}",
                                where=Location(path, err.lineno, err.colno)) from None
    elif fmt == "cslyaml":
        try:
            items = yaml.safe_load(text)
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark
            raise MetadataError(f"bibliography is not valid CSL YAML: {err.problem}",
                                where=Location(path, mark.line + 1 if mark else None,
                                               mark.column + 1 if mark else None)) from None
        if isinstance(items, dict):
            items = items.get("references", [])
    else:
        items = json.loads(pandoc.run_file(["-f", fmt, "-t", "csljson"], text, Location(path),
                                           hint="correct the entry at this line of the bibliography"))
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        raise MetadataError("bibliography holds no list of entries with ids", where=Location(path, 1),
                            hint="CSL JSON is a list of objects, each with an \"id\"")
    return [str(i["id"]) for i in items]


def _entry_line(path: Path, key: str) -> Location:
    """Where a bibliography file defines `key` (BibTeX `@book{key,`, CSL `"id": "key"` or `id: key`)."""
    pattern = re.compile(r"(?:@\w+\s*\{\s*|[\"']?id[\"']?\s*:\s*[\"']?)" + re.escape(key) + r"(?![\w:.-])")
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if pattern.search(line):
            return Location(path, n)
    return Location(path)


def cited(ast: dict) -> list[str]:
    """The keys the text cites, in order, each once."""
    return list(dict.fromkeys(c["citationId"] for cite in pandoc.nodes(ast, "Cite") for c in cite["c"][0]))


def locate(sources_, key: str) -> Location:
    """Where the text first cites `key`."""
    pattern = re.compile(r"(?<![\w\\])@(?:" + re.escape(key) + r"(?![\w:.#$%&+?<>~/-]*[\w])|\{" + re.escape(key) + r"\})")
    for s in sources_:
        for n, line in enumerate(s.text.splitlines(), start=s.first_line):
            m = pattern.search(line)
            if m:
                return Location(s.path, n, m.start() + 1)
    return Location(sources_[0].path)


def heading(metadata, found: Sources) -> str:
    if metadata.reference_section_title:
        return metadata.reference_section_title
    if found.works_cited and metadata.lang.split("-")[0].lower() == "en":
        return label(metadata.lang, "works-cited")
    # A notes style lists a "Bibliography", an author-date style "References".
    return label(metadata.lang, "bibliography" if found.note_style else "references")


def resolve(ast: dict, root: Path, metadata, sources_, where: Location) -> tuple[dict, list[Finding]]:
    """pandoc's AST with the citations resolved by citeproc, and the findings."""
    found = sources(root, metadata)
    keys = cited(ast)
    known: dict[str, Path] = {}
    for path in found.bibliographies:
        for key in entries(path, metadata):
            known.setdefault(key, path)
    findings = []
    for key in keys:
        if key not in known:
            findings.append(Finding("C101", "error", f"citation @{key}: no bibliography holds this key",
                                    locate(sources_, key),
                                    hint=f"add an entry '{key}' to {', '.join(metadata.bibliography)}, correct the key, "
                                         "or write \\@ for an @ that is not a citation"))
    for key, path in known.items():
        if key not in keys:
            findings.append(Finding("C103", "info", f"bibliography entry '{key}' is never cited (left out)",
                                    _entry_line(path, key), hint="cite it, or list it under `nocite:` in pandoc's way"))
    # pandoc's own link-citations moves the closing punctuation out of the quotation marks
    # ("Lines”." for "Lines.”"); the links are made here instead, around each resolved citation.
    options = {"reference-section-title": heading(metadata, found),
               "suppress-bibliography": metadata.suppress_bibliography, "lang": metadata.lang}
    args = ["-f", "json", "-t", "json", "--citeproc", f"--csl={found.csl}",
            *[f"--bibliography={p}" for p in found.bibliographies],
            *[f"--metadata={k}:{json.dumps(v) if isinstance(v, bool) else v}" for k, v in options.items()]]
    try:
        text = pandoc.run_file(args, json.dumps(ast, ensure_ascii=False), where,
                               files=(found.csl, *found.bibliographies))
    except ImprintError as err:      # pandoc could not read the style (the bibliographies were read above)
        raise MetadataError(f"citations could not be resolved: {err.message[:200]}", where=_line(metadata, "csl"),
                            hint="check that the CSL style is a valid CSL 1.0 file") from None
    resolved = pandoc.parse_ast(text, where)
    if metadata.link_citations and not metadata.suppress_bibliography:
        _link(resolved, set(known))
    return resolved, findings


def _link(ast: dict, known: set[str]) -> None:
    """Each citation of one known work -> a link to its entry in the bibliography (`#ref-KEY`)."""
    def walk(node):
        if isinstance(node, dict):
            if node.get("t") == "Cite":
                citations, content = node["c"]
                keys = {c["citationId"] for c in citations}
                if len(keys) == 1 and keys <= known and content and not _has_link(content):
                    node["c"][1] = _linked(content, next(iter(keys)))
                    return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(ast.get("blocks", []))


def _linked(inlines: list, key: str) -> list:
    """The citation's words as a link; a citation that citeproc made a note of is linked inside the note."""
    if len(inlines) == 1 and inlines[0].get("t") == "Note":
        for block in inlines[0]["c"]:
            if block.get("t") in ("Para", "Plain") and block["c"]:
                block["c"] = _linked(block["c"], key)
        return inlines
    return [{"t": "Link", "c": [["", [], [["role", "doc-biblioref"]]], inlines, [f"#ref-{key}", ""]]}]


def _has_link(inlines) -> bool:
    return '"t": "Link"' in json.dumps(inlines)


def unused_options(metadata) -> list[Finding]:
    """C104: citation options in a book that names no bibliography."""
    given = dict(metadata.key_lines)
    return [Finding("C104", "warning", f"metadata key '{key}' has no effect without a bibliography",
                    Location(metadata.source, given[key]), hint="add `bibliography: FILE.bib`, or remove the key")
            for key in ("csl", "suppress-bibliography", "reference-section-title", "link-citations") if key in given]


def unresolved(ast: dict, sources_) -> list[Finding]:
    """C102: what looks like a citation in a book with no bibliography (pandoc, reading with
    citations off, keeps it as text: it would print as written)."""
    out, seen = [], set()

    def text_of(inlines):       # code is left out: `[@x]` in code is what the author means
        return pandoc.stringify([i for i in inlines if i.get("t") != "Code"])

    def walk(node):
        if isinstance(node, dict):
            t = node.get("t")
            if t in ("Para", "Plain", "Header"):
                inlines = node["c"][2] if t == "Header" else node["c"]
                for m in BRACKETED.finditer(text_of(inlines)):
                    key = m.group(1).strip("{}")
                    if key not in seen:
                        seen.add(key)
                        out.append(Finding("C102", "error",
                                           f"citation {m.group(0)[:60]} but the metadata names no bibliography: "
                                           "it would print as written", locate(sources_, key),
                                           hint="name your bibliography under `bibliography:` in the metadata "
                                                "(BibTeX .bib, CSL JSON or YAML), or write \\@ for a literal @"))
            if t not in ("Code", "CodeBlock", "RawBlock", "RawInline"):
                for v in node.values():
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(ast.get("blocks", []))
    return out
