"""One Settings value for a build (imprint/settings.py): the command line that makes it (the
book as a positional argument, unknown options named), the cache keys that hold it, the fork
decisions that do not depend on the progress display, the cache that loads nothing others
could have written, and a build on a (pseudo-)terminal with only the declared dependencies."""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from conftest import METADATA, ROOT, run_cli, write_book
from imprint import cache, pipeline, processes
from imprint.settings import Settings
from imprint.watch import Progress

TWO_CHAPTERS = "# One {#one}\n\nThe first chapter.[^1]\n\n[^1]: A note.\n\n# Two {#two}\n\nSee [one](#one).\n"


# --- the command line ------------------------------------------------------------------------

def test_the_book_is_a_positional_argument(tmp_path):
    book = write_book(tmp_path / "my book", "# One\n\nWords.\n")
    built = run_cli(book, "--out", tmp_path / "out", "--edition", "pdf", "--no-cache")
    assert built.code == 0, built.err
    assert (tmp_path / "out" / "a-tiny-book.pdf").is_file()
    checked = run_cli("check", book, "--strict")
    assert checked.code == 0 and "0 errors, 0 warnings" in checked.out
    as_option = run_cli("build", "--book", book, "--out", tmp_path / "out2", "--edition", "pdf", "--no-cache")
    assert as_option.code == 0 and (tmp_path / "out2" / "a-tiny-book.pdf").is_file()


def test_an_unknown_option_is_named_with_the_nearest_one(tmp_path):
    result = run_cli("--otu", tmp_path / "out")
    assert result.code == 2
    assert result.err.strip() == "build.py: unknown option --otu (did you mean --out?)"
    result = run_cli("check", "--stirct")
    assert result.code == 2 and result.err.strip() == "build.py: unknown option --stirct (did you mean --strict?)"


def test_a_word_that_is_no_command_and_no_book_says_so(tmp_path):
    result = run_cli(str(tmp_path / "nowhere") + "/")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "is neither a command (build, check, preflight, proof) nor a book" in result.err
    assert "invalid choice" not in result.err


def test_the_settings_come_from_the_command_line_and_the_environment(monkeypatch):
    from imprint import cli

    monkeypatch.setenv("IMPRINT_PARTS", "always")
    monkeypatch.setenv("IMPRINT_CHUNKS", "off")
    monkeypatch.setenv("IMPRINT_WORKERS", "3")
    args = cli.parser().parse_args(cli._arguments(cli.parser(), [
        "book", "--time-limit", "9", "--memory-limit", "0", "--allow-remote-images", "--strict", "--no-cache"]))
    s = cli.settings_of(args)
    assert (s.parts, s.chunks, s.workers, s.strict, s.allow_remote_images, s.cache) == ("always", False, 3, True, True,
                                                                                        False)
    assert (s.limits.seconds, s.limits.memory_mb) == (9.0, None)
    # What can change an output is in the key; how the build runs is not.
    names = [name for name, _ in s.key()]
    assert {"parts", "chunks", "limits", "strict", "allow_remote_images", "editions"} <= set(names)
    assert not {"workers", "fork", "cache"} & set(names)
    assert s.key() != s.replace(parts="never").key() and s.key() == s.replace(workers=1, fork="never").key()


def test_watch_builds_with_the_command_lines_settings(tmp_path, monkeypatch):
    """--watch honours --time-limit, --memory-limit and --allow-remote-images: its builds get
    the one-off build's Settings."""
    from imprint import cli, watch

    seen = {}
    monkeypatch.setattr(watch, "watch", lambda build_once, *a, **k: seen.setdefault("build", build_once) and 0)
    monkeypatch.setattr(pipeline, "build", lambda book, out, settings=None, progress=None: seen.update(s=settings))
    book = write_book(tmp_path / "book", "# One\n\nWords.\n")
    result = run_cli(book, "--watch", "--time-limit", "7", "--memory-limit", "100", "--allow-remote-images",
                     "--validate", "--out", tmp_path / "out")
    assert result.code == 0
    try:
        seen["build"]()
    except AttributeError:
        pass                                            # the stand-in build returns nothing to show
    s = seen["s"]
    assert (s.limits.seconds, s.limits.memory_mb, s.allow_remote_images, s.validate) == (7.0, 100, True, True)


# --- cache keys ------------------------------------------------------------------------------

def test_the_parts_setting_is_in_the_whole_build_key(tmp_path):
    book = write_book(tmp_path / "book", TWO_CHAPTERS)
    said: list[str] = []
    cached = "nothing has changed since the last build"
    folder = tmp_path / "cache"
    pipeline.build(book, tmp_path / "out", ["pdf"], settings=Settings(parts="never", cache=folder))
    pipeline.build(book, tmp_path / "out", ["pdf"], settings=Settings(parts="never", cache=folder),
                   progress=said.append)
    assert any(cached in m for m in said)               # the same settings: the last result
    said.clear()
    always = pipeline.build(book, tmp_path / "out", ["pdf"], settings=Settings(parts="always", cache=folder),
                            progress=said.append)
    assert not any(cached in m for m in said)           # set in parts: built, not taken from the cache
    assert any("typesetting" in m for m in said)
    assert always.editions[0].pages >= 2


# --- forks -----------------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_display_does_not_change_the_fork_decisions(tmp_path):
    """The same build on a (fake) terminal, with the progress line drawn, and off one forks
    the same helpers: the joins, the early EPUB and cover."""
    book = write_book(tmp_path / "book", TWO_CHAPTERS)
    runs, terminal = {}, Terminal()
    for name, stream in (("plain", io.StringIO()), ("terminal", terminal)):
        del processes.DECISIONS[:]
        with Progress(stream) as progress:
            pipeline.build(book, tmp_path / name, ["pdf", "print", "epub"], progress=progress,
                           settings=Settings(parts="always", cache=False))
        assert progress.live is (name == "terminal")
        runs[name] = list(processes.DECISIONS)
    assert "typesetting" in terminal.getvalue()         # the status line was drawn meanwhile
    assert runs["terminal"] == runs["plain"]
    assert ("early", True) in runs["plain"], runs       # the EPUB and cover forked before the join
    del processes.DECISIONS[:]
    pipeline.build(book, tmp_path / "never", ["pdf", "print", "epub"],
                   settings=Settings(parts="always", cache=False, fork="never"))
    assert processes.DECISIONS and not any(decided for _, decided in processes.DECISIONS)


# --- the cache loads nothing others could have written ----------------------------------------

def test_a_cache_folder_others_can_write_to_is_not_used(tmp_path):
    book = write_book(tmp_path / "book", "# One\n\nWords.\n")
    folder = tmp_path / "cache"
    first = pipeline.build(book, tmp_path / "out", ["pdf"], cache=folder)
    assert not [f for f in first.findings if f.code == "C001"]
    assert list(folder.rglob("*.pickle"))
    assert all(p.stat().st_mode & 0o077 == 0 for p in [folder, *folder.rglob("*")])   # this user's alone

    folder.chmod(0o777)
    loaded = []
    real_load = cache.pickle.load
    cache.pickle.load = lambda fh: loaded.append(fh.name) or real_load(fh)
    try:
        said: list[str] = []
        again = pipeline.build(book, tmp_path / "out", ["pdf"], cache=folder, progress=said.append)
    finally:
        cache.pickle.load = real_load
    assert loaded == []                                 # nothing unpickled
    assert not any("nothing has changed" in m for m in said)
    [warning] = [f for f in again.findings if f.code == "C001"]
    assert warning.severity == "warning" and "can be written by other users" in warning.message
    cli = run_cli(book, "--out", tmp_path / "out", "--edition", "pdf", "--cache", folder)
    assert cli.code == 0 and "C001" in cli.err


def test_an_entry_others_can_write_to_is_a_miss(tmp_path):
    store = cache.Cache(tmp_path / "cache")
    store.store("part", "ab" * 20, {"value": 1})
    assert cache.Cache(tmp_path / "cache").load("part", "ab" * 20) == {"value": 1}
    [entry] = (tmp_path / "cache").rglob("*.pickle")
    entry.chmod(0o666)
    assert cache.Cache(tmp_path / "cache").load("part", "ab" * 20) is None
    entry.chmod(0o600)
    entry.parent.chmod(0o770)                           # a folder between the cache folder and the entry
    assert cache.Cache(tmp_path / "cache").load("part", "ab" * 20) is None


# --- what a user installs, on a terminal --------------------------------------------------------

def _requirements(distribution: str, seen: set) -> None:
    from importlib import metadata

    name = re.sub(r"[-_.]+", "-", distribution).lower()
    if name in seen:
        return
    seen.add(name)
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return
    for requirement in requires:
        if "extra ==" in requirement:
            continue
        _requirements(re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0], seen)


def test_every_module_imprint_imports_is_a_declared_dependency():
    """A fresh `pip install -e .` (no test extra) holds every module imprint imports."""
    from importlib import metadata

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    installed: set = set()
    for requirement in declared:
        _requirements(re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0], installed)
    providers = metadata.packages_distributions()
    missing = []
    for path in (ROOT / "imprint").rglob("*.py"):
        tree = ast.parse(path.read_text())
        modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names] + \
                  [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module]
        for top in {m.split(".")[0] for m in modules}:
            if top in sys.stdlib_module_names or top in ("imprint", "__future__"):
                continue
            names = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(top, [top])}
            if not names & installed:
                missing.append(f"{path.relative_to(ROOT)}: {top}")
    assert missing == []


def test_a_build_on_a_terminal_draws_the_progress_line_and_succeeds(tmp_path):
    """`python build.py BOOK` in a pseudo-terminal, the test-only packages hidden: the progress
    display's path (rich) runs and the build exits 0 with its outputs."""
    book = write_book(tmp_path / "book", "# One\n\nWords on a terminal.\n")
    out = tmp_path / "out"
    hide = ("import sys; sys.modules.update(pytest=None, hypothesis=None, _pytest=None); "
            "sys.argv = ['build.py'] + sys.argv[1:]; import runpy; runpy.run_path('build.py', run_name='__main__')")
    master, slave = os.openpty()
    env = dict(os.environ, TERM="xterm-256color", IMPRINT_CACHE=str(tmp_path / "cache"))
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-c", hide, str(book), "--out", str(out), "--edition", "pdf"],
                               cwd=ROOT, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:                                 # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    code = process.wait(timeout=300)
    text = seen.decode("utf-8", "replace")
    assert code == 0, text
    assert "internal error" not in text
    assert "typesetting" in text and "\x1b[" in text     # the live status line, drawn with escapes
    assert "built 1 edition(s)" in text
    assert (out / "a-tiny-book.pdf").is_file()
