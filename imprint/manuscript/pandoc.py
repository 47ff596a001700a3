"""Markdown text -> pandoc JSON AST, and AST -> HTML, through the pandoc binary that pypandoc-binary ships."""

from __future__ import annotations

import functools
import json
import re
import subprocess

from imprint import house
from imprint.errors import LimitError, Location, ManuscriptError, ToolError
from imprint.manuscript.guards import MAX_AST_DEPTH, json_depth

# Pandoc Markdown as pandoc users write it; raw_tex and raw_attribute off so a
# manuscript cannot smuggle formats we never render; task lists off because their
# checkboxes are form controls (the text keeps its "[ ]"); citations off because without
# citeproc they print as written anyway, and they make pandoc's bracket parsing
# exponential (8 nested brackets: 6 s with them, 0.1 s without). YAML blocks inside the
# text stay on (pandoc users write them), but limits.check_yaml_blocks reads them first:
# pandoc expands YAML aliases, and a 9-level alias bomb keeps it busy past any timeout.
READER = "markdown-raw_tex-raw_attribute-task_lists-citations"
# For a book with a bibliography (imprint/manuscript/citations.py): the bracket guard
# (guards.MAX_BRACKETS) keeps the parsing bounded.
READER_CITATIONS = READER.replace("-citations", "+citations")
# Outside a build (`imprint check`): pandoc's time and heap. In a build, pandoc gets what
# remains of the build's time limit, and the build's memory limit as its heap (pandoc's
# manual advises a heap limit for untrusted input, `+RTS -M...`), its memory also counted in
# the build's (imprint/processes.py).
TIMEOUT = 180
HEAP_MB = 2048


@functools.cache
def binary() -> str:
    try:
        import pypandoc
        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as err:
        raise ToolError("pandoc is not available", hint="run `pip install -e .` (it installs pypandoc-binary)") from err


def _run(args: list[str], data: str, where: Location) -> str:
    from imprint import cache

    store = cache.current()         # the same text and arguments give the same output: run pandoc once
    key = cache.digest("pandoc", cache.toolchain(), args, data) if store.enabled else ""
    return store.remember("pandoc", key, lambda: _run_pandoc(args, data, where)) if key else _run_pandoc(args, data, where)


def run_file(args: list[str], data: str, where: Location, files=(), hint: str | None = None) -> str:
    """pandoc with arguments that name files it reads (a bibliography, a citation style): kept
    in the build cache by their contents too. A file pandoc cannot read is an error at `where`."""
    from imprint import cache

    store = cache.current()
    key = (cache.digest("pandoc", cache.toolchain(), args, data, [cache.file_digest(p) for p in files])
           if store.enabled else "")
    make = lambda: _run_pandoc(args, data, where, hint=hint or "check the file pandoc names")
    return store.remember("pandoc", key, make) if key else make()


def bounds() -> tuple[float | None, int | None]:
    """pandoc's (timeout in seconds, heap in MB) now: in a build, what remains of its time limit
    and its memory limit (None where it has none); outside one, TIMEOUT and HEAP_MB."""
    from imprint.processes import budget

    left = budget()
    if left is None:
        return TIMEOUT, HEAP_MB
    left.check("pandoc")
    return left.remaining(), left.limits.memory_mb


def _run_pandoc(args: list[str], data: str, where: Location, hint: str | None = None) -> str:
    from imprint.processes import budget

    timeout, heap = bounds()
    # --sandbox: pandoc itself reads no file and fetches nothing beyond what we pass on stdin.
    cmd = [binary(), *(["+RTS", f"-M{heap}m", "-RTS"] if heap else []), "--sandbox", *args]
    left = budget()
    try:
        proc = subprocess.run(cmd, input=data.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        if left is not None:
            raise left.stop(left.time_error("pandoc reading the manuscript")) from None
        raise ManuscriptError(f"pandoc took longer than {TIMEOUT} s to read the manuscript", where=where,
                              hint="look for deeply nested lists or quotes") from None
    if proc.returncode != 0 and left is not None and left.stopped is not None:
        raise left.stopped          # the build was stopped: its watchdog killed pandoc
    if proc.returncode != 0:
        message = " ".join(proc.stderr.decode("utf-8", "replace").split())
        if "Heap exhausted" in message and left is not None:
            raise LimitError(f"pandoc needed more than {heap} MB to read the manuscript (the memory limit "
                             f"for the whole build)", where=where,
                             hint="raise it with --memory-limit MB (0: no limit); look for deeply nested or "
                                  "pathological constructs")
        if "Heap exhausted" in message:
            raise ManuscriptError(f"pandoc needed more than {heap} MB to read the manuscript", where=where,
                                  hint="look for deeply nested or pathological constructs; split the text")
        m = re.search(r"\(line (\d+), column (\d+)\)", message)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        if m:
            message = message.replace(m.group(0), "").replace(" at :", ":").strip()
        raise ManuscriptError(("pandoc cannot read the manuscript: " if hint is None else "pandoc: ")
                              + (message[:300] or "unknown error"), where=Location(where.file, line, col),
                              hint=hint or "a `---` line in the text starts a YAML block; use `***` for a scene break")
    return proc.stdout.decode("utf-8")


def to_ast(markdown: str, where: Location) -> dict:
    return parse_ast(to_ast_text(markdown, where), where)


def to_ast_text(markdown: str, where: Location, *, citations: bool = False) -> str:
    """pandoc's JSON of the text, as pandoc wrote it (with `citations`: `[@key]` read as citations)."""
    return _run(["-f", READER_CITATIONS if citations else READER, "-t", "json"], markdown, where)


def parse_ast(text: str, where: Location) -> dict:
    if json_depth(text) > MAX_AST_DEPTH:
        raise ManuscriptError("the manuscript is nested too deeply", where=where,
                              hint="look for deeply nested lists, quotes, spans or HTML elements")
    try:
        return json.loads(text)
    except RecursionError:
        raise ManuscriptError("the manuscript is nested too deeply to read", where=where,
                              hint="look for deeply nested lists, quotes or HTML elements") from None


# --mathjax: a formula is written as its TeX (`<span class="math inline">\(...\)</span>`), which
# imprint/manuscript/math.py sets for each edition; pandoc adds no script to a fragment.
# The Lua filter keeps an ordered list's delimiter ("1)", "(1)"), which pandoc's HTML drops.
HTML_ARGS = ["-t", "html5", "--wrap=none", "--section-divs", "--mathjax",
             f"--lua-filter={house.STYLES / 'filters' / 'list-delimiters.lua'}"]


def html_args(shift_headings: int = 0) -> list[str]:
    return [*HTML_ARGS, f"--shift-heading-level-by={shift_headings}"] if shift_headings else list(HTML_ARGS)


def ast_to_html(ast: dict, where: Location, *, shift_headings: int = 0) -> str:
    return _run(["-f", "json", *html_args(shift_headings)], json.dumps(ast), where)


def to_html(markdown: str, where: Location, *, shift_headings: int = 0) -> str:
    """The HTML ast_to_html makes of to_ast's AST (the same bytes: a JSON round trip loses
    nothing), straight from the Markdown, so it can run beside to_ast."""
    return _run(["-f", READER, *html_args(shift_headings)], markdown, where)


def run_uncached(args: list[str], data: str, where: Location) -> str:
    """pandoc with these arguments on this text, not looked up in the build cache."""
    return _run_pandoc(args, data, where)


def html_beside(markdown: str, where: Location, *, shift_headings: int = 0):
    """to_html started in a thread (pandoc is a child process: the thread only waits): a
    future whose result body_html takes; to_ast runs meanwhile on the other core."""
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pandoc-html")
    future = pool.submit(to_html, markdown, where, shift_headings=shift_headings)
    pool.shutdown(wait=False)
    future.made_of = (hash(markdown), shift_headings)        # what it is the HTML of
    future.pool = pool          # joined once the result is taken: no thread outlives it to a fork
    future.keep = None          # called with the HTML once taken (imprint/manuscript/sections.py keeps its pieces)
    return future


def html_ready(html: str, markdown: str, *, shift_headings: int = 0):
    """The HTML of the text, already made, in the form html_beside gives it."""
    import concurrent.futures

    future = concurrent.futures.Future()
    future.set_result(html)
    future.made_of, future.pool, future.keep = (hash(markdown), shift_headings), None, None
    return future


def nodes(ast: dict, kind: str):
    """Every node of type `kind` in the AST, in document order (notes included), walked
    iteratively: the depth is the input's, not Python's stack."""
    stack = [ast.get("blocks", [])]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("t") == kind:
                yield node
            if "c" in node:
                stack.append(node["c"])
        elif isinstance(node, list):
            stack.extend(reversed(node))


def stringify(inlines) -> str:
    """Plain text of a list of inline AST nodes, leaving out notes (for labels, nav and bookmarks)."""
    out = []
    for node in inlines:
        t, c = node.get("t"), node.get("c")
        if t == "Str":
            out.append(c)
        elif t in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif t in ("Emph", "Strong", "Strikeout", "Superscript", "Subscript", "SmallCaps", "Underline"):
            out.append(stringify(c))
        elif t == "Quoted":
            quote = ("“", "”") if c[0]["t"] == "DoubleQuote" else ("‘", "’")
            out.append(quote[0] + stringify(c[1]) + quote[1])
        elif t in ("Link", "Span", "Image"):
            out.append(stringify(c[1]))
        elif t == "Cite":
            out.append(stringify(c[1]))
        elif t == "Code":
            out.append(c[1])
        elif t == "Math":               # a formula as its characters, not its TeX
            from imprint.manuscript import math
            out.append(math.plain(c[1]))
        # Note, RawInline: left out
    return " ".join("".join(out).split())
