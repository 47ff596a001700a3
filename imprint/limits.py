"""Limits on what untrusted input may cost: Markdown text -> a nesting check (before pandoc
reads it), and a typesetting Job -> its Layout, computed in a child process under a wall-clock
time limit and a memory limit (a LimitError, exit code 5, when either is exceeded).

`run_limited(job, limits)` is safe to call from several threads at once (each call starts
and waits for its own process), which is how parallel builds run jobs side by side.
"""

from __future__ import annotations

import html.parser
import multiprocessing
import re
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from .errors import ImprintError, LimitError, Location, ManuscriptError, ToolError
from .sanitize import VOID

# Defaults with room for the largest corpus book (Wealth of Nations, 486 pages, 824 notes):
# its job (PDF and print interior) peaked at 936 MB of address space (742 MB resident) and
# took 180 s of CPU, 3 to 6 minutes on a 2-core machine busy with other builds.
DEFAULT_SECONDS = 1800.0
DEFAULT_MEMORY_MB = 3072

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


@dataclass(frozen=True)
class Limits:
    """Per typesetting job: wall-clock seconds and address-space megabytes (None = unlimited)."""

    seconds: float | None = DEFAULT_SECONDS
    memory_mb: int | None = DEFAULT_MEMORY_MB
    # fork: the child starts at once with everything imported; spawn elsewhere.
    start_method: str = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


# --- nesting of the manuscript text -------------------------------------------------------

_LIST_MARKER = re.compile(r"(?:[-+*]|(?:\d{1,9}|#)[.)])(?=[ \t]|$)")


def line_nesting(line: str) -> int:
    """How many Markdown containers a line opens: its indentation (two columns a level, as
    nested list items need) and the quote and list markers that follow it."""
    stripped = line.lstrip(" \t")
    lead = line[: len(line) - len(stripped)]
    depth = (len(lead) + 3 * lead.count("\t")) // 2
    pos = len(lead)
    while pos < len(line):
        if line[pos] in " \t":
            pos += 1
        elif line[pos] == ">":
            depth, pos = depth + 1, pos + 1
        elif m := _LIST_MARKER.match(line, pos):
            depth, pos = depth + 1, m.end()
        else:
            break
    return depth


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
    for i, line in enumerate(text.split("\n")):
        if len(line) > MAX_NESTING and line_nesting(line) > MAX_NESTING:
            raise ManuscriptError(f"lists or block quotes are nested more than {MAX_NESTING} levels deep",
                                  where=Location(file, first_line + i),
                                  hint="no book needs this; check for a run of '>' or list markers")
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
    from .metadata import MetadataError, parse_yaml

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


# --- the typesetting job in a child process ------------------------------------------------

def _apply(limits: Limits) -> None:
    """In the child: cap its address space and, as a backstop, its CPU time; die with the parent."""
    import resource
    if limits.memory_mb:
        cap = limits.memory_mb * 2**20
        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            resource.setrlimit(which, (cap, hard))
    if limits.seconds:
        cpu = int(limits.seconds) + 30
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or cpu < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
    die_with_parent()


def can_fork() -> bool:
    """Whether this process may fork a helper: only where fork exists, and only while no
    other thread runs (a forked copy could inherit a lock one of them holds)."""
    import os
    import threading
    return hasattr(os, "fork") and threading.active_count() == 1


def die_with_parent() -> None:
    """Linux: SIGKILL this process when the process that started it dies."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(job, limits: Limits, conn, call=None) -> None:
    # The parent's handlers (e.g. the CLI's SIGTERM -> KeyboardInterrupt) do not belong here.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from . import typeset
    try:
        _apply(limits)
        message = ("ok", call() if call is not None else typeset.run_job(job))
    except MemoryError:
        message = ("memory", None)
    except ImprintError as err:
        message = ("error", (type(err), err.message, err.where, err.hint, err.exit_code))
    except RecursionError:
        message = ("error", (ToolError, "the text is nested too deeply to lay out", Location(job.book_file),
                             "look for deeply nested lists, quotes or HTML elements", None))
    except BaseException:                   # a bug: hand the traceback to the parent
        message = ("crash", traceback.format_exc())
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory", None))
    except Exception:               # the result did not pickle: a bug, reported as one
        conn.send(("crash", traceback.format_exc()))
    finally:
        conn.close()


def run_limited(job, limits: Limits | None = None):
    """typeset.run_job(job) in a child process under `limits`; returns its Layout.

    Raises LimitError when the job runs out of time or memory, the job's own ImprintError
    when it fails on bad input, ToolError when the process is killed from outside.
    """
    return start_limited(job, limits).result()


class Started:
    """A child process at work (start_limited); result() waits for it and returns its value."""

    def __init__(self, job, limits: Limits, call=None):
        self.job, self.limits = job, limits
        ctx = multiprocessing.get_context(limits.start_method if call is None else "fork")
        self.receive, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child, args=(job, limits, send, call), name="imprint-typeset", daemon=True)
        self.started = time.monotonic()
        self.process.start()
        send.close()

    def result(self):
        return _finish(self.job, self.limits, self.process, self.receive, self.started)

    def cancel(self) -> None:
        """Stop the child, its result no longer wanted."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.receive.close()


def start_limited(job, limits: Limits | None = None, call=None) -> Started:
    """typeset.run_job(job), or `call()` (forked: it need not pickle; `job` then only names the
    book for messages), started in a child process under `limits`; returns at once."""
    return Started(job, limits or Limits(), call)


def _finish(job, limits, process, receive, started):
    message = None
    try:
        if receive.poll(limits.seconds or None):
            try:
                message = receive.recv()
            except EOFError:                # the child died without a word
                pass
        else:
            raise LimitError(f"typesetting stopped after {limits.seconds:g} s (the time limit)",
                             where=Location(job.book_file),
                             hint="raise it with --time-limit SECONDS, or build a shorter text")
    finally:
        receive.close()
        if process.is_alive():
            process.terminate()
            process.join(5)
            if process.is_alive():
                process.kill()
        process.join()
    if message is None:
        return _died(process.exitcode, limits, job, time.monotonic() - started)
    kind, payload = message
    if kind == "ok":
        return payload
    if kind == "memory":
        raise _memory_error(limits, job)
    if kind == "error":
        cls, text, where, hint, code = payload
        raise cls(text, where=where, hint=hint, exit_code=code)
    raise RuntimeError(f"the typesetting job failed:\n{payload}")


def _memory_error(limits: Limits, job) -> LimitError:
    return LimitError(f"typesetting ran out of memory (the limit is {limits.memory_mb} MB)",
                      where=Location(job.book_file), hint="raise it with --memory-limit MB")


def _died(exitcode, limits: Limits, job, seconds: float):
    signum = -exitcode if exitcode and exitcode < 0 else None
    name = signal.Signals(signum).name if signum else f"exit code {exitcode}"
    if signum == signal.SIGXCPU:
        raise LimitError(f"typesetting used more CPU time than the time limit allows ({limits.seconds:g} s)",
                         where=Location(job.book_file), hint="raise it with --time-limit SECONDS")
    if signum in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS) and limits.memory_mb:
        # Allocation failures inside C libraries abort or crash instead of raising MemoryError.
        raise LimitError(f"typesetting was killed ({name}) after {seconds:.0f} s; most likely it ran out of "
                         f"memory (the limit is {limits.memory_mb} MB)",
                         where=Location(job.book_file), hint="raise it with --memory-limit MB")
    raise ToolError(f"the typesetting process was stopped ({name}); nothing was written",
                    where=Location(job.book_file))


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
