"""The outputs change as one set (issue 20, item 8; imprint/outjournal.py).

A fault is injected at every step of the writing through the writer's hook
(`outjournal._at_step`): in a forked process that then truly dies (SIGKILL or os._exit), in a
fresh interpreter (`python -c`, the command line), and in the build's own process (an
OSError). After it, and after the recovery any next build runs first, the output folder
holds exactly the whole old set or the whole new set (compared by SHA-256 with the two sets
built beforehand), and no hidden file. Hypothesis draws the step of the kill, a second kill
during the recovery, and what the folder held before. A soak test (opt-in: IMPRINT_SLOW=1)
runs builds with random edits, kills and concurrent starts, then checks each output against
a `--no-cache` build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings, strategies as st

from conftest import ROOT, run_cli, write_book
from imprint import outjournal, outlock

OLD = """\
# One

The old text of the chapter.[^a]

[^a]: An old note.
"""

NEW = """\
# One

The new text, a little longer than the old one, of the chapter.[^a] And a second sentence.[^b]

[^a]: A new note.
[^b]: Another note.
"""

EDITIONS = ("--edition", "pdf", "--edition", "epub")
POINTS = 15         # steps of writing 3 files over 3: staged, kept, moved, dropped 3 times each; 3 once


def snapshot(out: Path) -> dict[str, str]:
    """Every file in the folder, hidden ones too, by name -> SHA-256."""
    if not out.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()}


class Sets:
    """Two books of one slug (the old text, the new), their outputs built once (and cached)."""

    def __init__(self, root: Path):
        self.root = root
        self.cache = root / "cache"
        self.old_book = write_book(root / "old-book", OLD)
        self.new_book = write_book(root / "new-book", NEW)
        self.old_bytes = self._built(self.old_book)
        self.new_bytes = self._built(self.new_book)
        self.old = {n: hashlib.sha256(b).hexdigest() for n, b in self.old_bytes.items()}
        self.new = {n: hashlib.sha256(b).hexdigest() for n, b in self.new_bytes.items()}

    def args(self, book: Path, out: Path) -> list[str]:
        return ["--book", str(book), "--out", str(out), *EDITIONS, "--cache", str(self.cache), "-q"]

    def _built(self, book: Path) -> dict[str, bytes]:
        out = self.root / f"built-{book.name}"
        for _ in range(2):       # the second is the cache's replay: the bytes a later build writes
            result = run_cli(*self.args(book, out))
            assert result.code == 0, result.err
        return {p.name: p.read_bytes() for p in out.iterdir()}

    def lay(self, out: Path, which: str) -> None:
        """The folder as a finished build left it: the old set, or nothing yet."""
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        if which == "old":
            for name, data in self.old_bytes.items():
                (out / name).write_bytes(data)


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> Sets:
    made = Sets(tmp_path_factory.mktemp("atomic"))
    assert set(made.old) == set(made.new) and len(made.old) == 3          # pdf, epub, report
    assert all(made.old[n] != made.new[n] for n in made.old)              # every file changes
    return made


@pytest.fixture(scope="module")
def points(sets) -> list[tuple[str, str | None]]:
    """Every step of writing the new set over the old one, in order, as the hook sees them."""
    seen: list[tuple[str, str | None]] = []
    out = sets.root / "points"
    sets.lay(out, "old")
    outjournal._at_step = lambda step, name: seen.append((step, name))
    try:
        result = run_cli(*sets.args(sets.new_book, out))
    finally:
        outjournal._at_step = None
    assert result.code == 0, result.err
    assert snapshot(out) == sets.new
    kinds = [step for step, _ in seen]
    assert kinds == ["staged"] * 3 + ["kept"] * 3 + ["journal"] + ["moved"] * 3 + ["cleanup"] + ["dropped"] * 3 + ["done"]
    assert len(seen) == POINTS
    return seen


def die(how: str) -> None:
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(99)


def killer(target: tuple[str, str | None], how: str):
    return lambda step, name: die(how) if (step, name) == target else None


def in_dying_child(work, hook, how: str = "sigkill", must_die: bool = True) -> bool:
    """Run `work()` in a forked process with the writer's hook set to `hook` (which kills it
    at its step); returns whether it died so, failing if `must_die` and it did not."""
    assert threading.active_count() == 1, "fork with threads running"
    pid = os.fork()
    if pid == 0:                                    # the child: never returns into pytest
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            outjournal._at_step = hook
            work()
        finally:
            os._exit(0)                             # the hook never killed it
    for _ in range(1200):                           # a hung child is a failure, not a stuck suite
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child hung")
    if how == "sigkill":
        died = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    else:
        died = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 99
    assert died or not must_die, f"the hook did not kill the child (status {status})"
    return died


def recover(out: Path) -> str | None:
    """What the next build does first, under the folder's lock."""
    with outlock.output_lock(out):
        return outjournal.recover(out)


def expected(sets: Sets, points, target, before: str) -> dict[str, str]:
    committed = points.index(target) >= points.index(("journal", None))
    return sets.new if committed else (sets.old if before == "old" else {})


# --- a kill at each step, in a process that dies ---------------------------------------------------

@pytest.mark.parametrize("index", range(POINTS))
def test_a_build_killed_at_each_step_leaves_a_whole_set(sets, points, tmp_path, index):
    target = points[index]
    out = tmp_path / "out"
    sets.lay(out, "old")
    in_dying_child(lambda: run_cli(*sets.args(sets.new_book, out)), killer(target, "sigkill"))
    left = snapshot(out)
    hidden = {n for n in left if n.startswith(".")}
    assert set(left) - hidden <= set(sets.old)                  # nothing of ours but the outputs, visible
    assert all(n.startswith(".imprint") for n in hidden), hidden
    said = recover(out)
    assert snapshot(out) == expected(sets, points, target, "old"), target
    if ("journal", None) in points[:index + 1] and target != ("done", None):
        assert said and ("completed" in said), said              # the journal was there and rolled forward
    # the next build writes its own set over a whole one, and leaves nothing else
    result = run_cli(*sets.args(sets.old_book, out))
    assert result.code == 0, result.err
    assert snapshot(out) == sets.old


def test_the_next_build_says_what_it_finished(sets, points, tmp_path):
    out = tmp_path / "out"
    sets.lay(out, "old")
    target = ("moved", points[8][1])                            # two of three files moved
    assert points[8][0] == "moved"
    in_dying_child(lambda: run_cli(*sets.args(sets.new_book, out)), killer(target, "exit"), "exit")
    assert snapshot(out) != sets.old and snapshot(out) != sets.new       # a mix, and a journal
    assert outjournal.JOURNAL in snapshot(out)
    result = run_cli(*sets.args(sets.old_book, out))
    assert result.code == 0, result.err
    assert f"{out}: a build was stopped while writing its 3 outputs; its writing was completed" in result.err
    assert snapshot(out) == sets.old


def test_a_fresh_interpreter_killed_by_the_hook(sets, points, tmp_path):
    """The same with the command line in a process of its own (no fork), killed after the journal."""
    out = tmp_path / "out"
    sets.lay(out, "old")
    script = ("import os, signal, sys\n"
              "from imprint import outjournal\n"
              "from imprint.cli import main\n"
              "def hook(step, name):\n"
              "    if step == 'moved':\n"
              "        os.kill(os.getpid(), signal.SIGKILL)\n"
              "outjournal._at_step = hook\n"
              "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, *sets.args(sets.new_book, out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert outjournal.JOURNAL in snapshot(out)
    assert snapshot(out)[points[7][1]] == sets.new[points[7][1]]          # the first file moved
    recover(out)
    assert snapshot(out) == sets.new


# --- a failure in the build's own process: the old set back at once -----------------------------

@pytest.mark.parametrize("index", range(POINTS))
def test_a_write_that_fails_at_each_step(sets, points, tmp_path, index):
    target = points[index]
    out = tmp_path / "out"
    sets.lay(out, "old")

    def hook(step, name):
        if (step, name) == target:
            raise OSError(28, "No space left on device", str(out / (name or "")))
    outjournal._at_step = hook
    try:
        result = run_cli(*sets.args(sets.new_book, out))
    finally:
        outjournal._at_step = None
    if index < points.index(("cleanup", None)):
        assert result.code == 6, result.err
        assert "cannot write the outputs: No space left on device; the previous outputs are unchanged" in result.err
        assert snapshot(out) == sets.old                     # at once, no hidden file left
    else:                                                    # every file was in place: a success
        assert result.code == 0, result.err
        recover(out)
        assert snapshot(out) == sets.new


# --- the property: any kill, any kill of the recovery, a whole set and nothing else ------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(0, POINTS - 1), how=st.sampled_from(["sigkill", "exit"]), before=st.sampled_from(["old", "empty"]),
       second=st.one_of(st.none(), st.integers(1, 3)), debris=st.booleans(), lose=st.booleans())
def test_after_any_interruption_the_folder_holds_one_whole_set(sets, points, index, how, before, second, debris,
                                                               lose):
    target = points[index]
    assume(before == "old" or target[0] not in ("kept", "dropped"))       # no backups in an empty folder
    with tempfile.TemporaryDirectory(dir=sets.root) as tmp:
        out = Path(tmp) / "out"
        sets.lay(out, before)
        if debris:          # what an earlier killed build left, of another edition: this build clears it
            (out / ".imprint.0badf00d.a-tiny-book-print.pdf.new").write_bytes(b"half a PDF")
            (out / f"{outjournal.JOURNAL}.0badf00d").write_bytes(b'{"imprint-jour')
        in_dying_child(lambda: run_cli(*sets.args(sets.new_book, out)), killer(target, how), how)
        want = expected(sets, points, target, before)
        staged = sorted(n for n in snapshot(out) if n.endswith(".new"))
        if lose and outjournal.JOURNAL in snapshot(out) and staged:
            (out / staged[0]).unlink()          # a staged file lost: the set cannot be finished, only undone
            want = sets.old if before == "old" else {}
            event("a staged file lost: rolled back")
        if second is not None and outjournal.JOURNAL in snapshot(out):
            # the recovery killed too, after putting `second` files forward or back (when it had as many)
            moves = []

            def hook(step, name):
                if step == "recovering":
                    moves.append(name)
                    if len(moves) == second:
                        die(how)
            if in_dying_child(lambda: recover(out), hook, how, must_die=False):
                event("the recovery killed too")
        recover(out)
        assert snapshot(out) == want


# --- the soak: random edits, kills and concurrent starts (opt-in) --------------------------------------

SLOW = pytest.mark.skipif(not os.environ.get("IMPRINT_SLOW"), reason="200 builds: set IMPRINT_SLOW=1")
SOAK_BUILDS = int(os.environ.get("IMPRINT_SOAK_BUILDS", "200"))
HOOKED = ("import os, signal, sys\n"
          "from imprint import outjournal\n"
          "from imprint.cli import main\n"
          "step, nth = sys.argv[1], int(sys.argv[2])\n"
          "seen = []\n"
          "def hook(s, name):\n"
          "    if s == step:\n"
          "        seen.append(name)\n"
          "        if len(seen) == nth:\n"
          "            os.kill(os.getpid(), signal.SIGKILL)\n"
          "outjournal._at_step = hook\n"
          "sys.exit(main(sys.argv[3:]))\n")


def _version_text(v: int) -> str:
    notes = 1 + v % 4
    calls = " ".join(f"Sentence {i} of version{v}.[^n{i}]" for i in range(notes))
    defs = "\n".join(f"[^n{i}]: Note {i} of version{v}." for i in range(notes))
    return f"# One\n\nMarker version{v} begins. {calls}\n\n{defs}\n"


def _versions_in(out: Path, slug: str) -> tuple[set, int | None]:
    """The versions the PDF and the EPUB hold, and the report's note count."""
    import re

    import pdfplumber

    found = set()
    with pdfplumber.open(out / f"{slug}.pdf") as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
    found |= {("pdf", m) for m in re.findall(r"Marker version(\d+)", text)}
    with zipfile.ZipFile(out / f"{slug}.epub") as epub:
        text = b" ".join(epub.read(n) for n in epub.namelist() if n.endswith(".xhtml")).decode()
    found |= {("epub", m) for m in re.findall(r"Marker version(\d+)", text)}
    report = json.loads((out / f"{slug}.report.json").read_text())
    return found, report["editions"]["pdf"]["notes"]


@SLOW
@pytest.mark.slow
def test_soak_random_edits_kills_and_concurrent_starts(tmp_path):
    rng = random.Random(20_8)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}      # IMPRINT_CACHE: the same locks as here
    books = tmp_path / "books"
    out = tmp_path / "out"
    slug = "a-tiny-book"
    started, seen = 0, {}
    counts = {"finished": 0, "killed": 0, "hooked": 0, "concurrent rounds": 0, "journals finished": 0}
    version = 0

    def start(v: int, hooked: bool):
        book = write_book(books / f"v{v}", _version_text(v))
        args = ["--book", str(book), "--out", str(out), *EDITIONS, "--cache", str(tmp_path / "cache"), "-q"]
        if hooked:
            step = rng.choice(["staged", "kept", "journal", "moved", "dropped", "recovering"])
            command = [sys.executable, "-c", HOOKED, step, str(rng.randint(1, 3)), *args]
        else:
            command = [sys.executable, str(ROOT / "build.py"), *args]
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)     # its typesetting processes die with it

    while started < SOAK_BUILDS:
        n = rng.choice([1, 1, 2, 3])
        counts["concurrent rounds"] += n > 1
        procs = []
        for _ in range(min(n, SOAK_BUILDS - started)):
            version += 1
            hooked = rng.random() < 0.3
            procs.append((version, start(version, hooked), hooked))
            started += 1
        for v, proc, hooked in procs:
            if not hooked and rng.random() < 0.4:          # kill -9 at a random moment
                time.sleep(rng.uniform(0, 4))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        for v, proc, hooked in procs:
            _, err = proc.communicate(timeout=600)
            counts["journals finished"] += err.decode().count("a build was stopped while writing")
            if proc.returncode == 0:
                counts["finished"] += 1
            elif proc.returncode == -signal.SIGKILL:
                counts["hooked" if hooked else "killed"] += 1
            else:
                pytest.fail(f"build of version {v} failed ({proc.returncode}): {err.decode()}")
        counts["journals finished"] += recover(out) is not None
        left = snapshot(out)
        if not left:
            continue
        assert set(left) == {f"{slug}.pdf", f"{slug}.epub", f"{slug}.report.json"}, left
        found, notes = _versions_in(out, slug)
        versions = {m for _, m in found}
        assert len(versions) == 1 and {k for k, _ in found} == {"pdf", "epub"}, found   # one edition of the text
        v = int(versions.pop())
        assert notes == 1 + v % 4
        seen[v] = {n: (out / n).read_bytes() for n in left}
    print(f"soak: {started} builds, {counts}, {len(seen)} sets checked")
    assert counts["finished"] and counts["killed"] + counts["hooked"]
    # each set the folder held, against a --no-cache build of its text
    fresh = tmp_path / "fresh"
    for v, files in sorted(seen.items()):
        shutil.rmtree(fresh, ignore_errors=True)
        done = subprocess.run([sys.executable, str(ROOT / "build.py"), "--book", str(books / f"v{v}"), "--out",
                               str(fresh), *EDITIONS, "--no-cache", "-q"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        for name, data in files.items():
            if name.endswith(".report.json"):
                mine, theirs = json.loads(data), json.loads((fresh / name).read_text())
                for report in (mine, theirs):
                    report.pop("memory")
                    for edition in report["editions"].values():
                        edition.pop("seconds")
                assert mine == theirs, (v, name)
            else:
                assert data == (fresh / name).read_bytes(), (v, name)
