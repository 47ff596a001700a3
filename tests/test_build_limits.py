"""Issue 20.4 and 20.5: the time and memory limits bound the whole build, not each job.

The time limit runs from the build's start: every stage and child process (typesetting jobs,
pandoc, EPUBCheck) gets only what remains of it. The memory limit bounds what all the build's
processes hold together, sampled by a watchdog in the build's process. Either limit met is
exit 5 with a message naming it, nothing written; never exit 6 with an empty message.

The wall time measured in the first test is a bound on that promise (the limit plus the
start of Python and the unwinding), not a speed test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, write_book
from imprint.errors import LimitError, Location
from imprint.manuscript import pandoc
from imprint.processes import Budget, BuildStopped, Limits, MemorySampler, tree_memory, using_budget

TIME_LIMIT = 12             # seconds for the whole build
GRACE = 6                   # what comes before the build's clock runs (the command line), and the stop itself


def build_py(*args, env: dict, timeout: float = 300) -> tuple[subprocess.CompletedProcess, float]:
    """`python build.py ...` in its own process; returns it and the wall time it took."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), *map(str, args)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - started


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def environment(tmp_path: Path, **extra) -> dict:
    return {**os.environ, "IMPRINT_CACHE": str(tmp_path / "cache"), **extra}


def test_many_headings_stop_within_the_whole_build_time_limit(tmp_path):
    """8,000 headings take a minute and more to set here; under a 12 s limit the build stops
    within the limit (plus the grace), whichever stage it is in."""
    book = write_book(tmp_path / "book", "".join(f"## Heading {i}\n\nWord {i} here.\n\n" for i in range(8000)))
    out = tmp_path / "out"
    started = time.monotonic()          # in this process: Python's own start is not the build's
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache", "--time-limit", TIME_LIMIT)
    seconds = time.monotonic() - started
    assert result.code == 5, result.err
    line = one_line(result.err)
    assert f"stopped after {TIME_LIMIT} s (the time limit for the whole build)" in line
    assert "raise it with --time-limit SECONDS" in line
    assert seconds < TIME_LIMIT + GRACE, (seconds, line)
    assert not out.exists() or not any(out.iterdir())


def test_memory_summed_over_the_processes_is_exit_5_naming_the_limit(tmp_path):
    """The build's processes together over the limit while each alone (the build's own process
    too) stays under it: the watchdog stops the build, naming the limit. With four workers
    allowed, what goes over first here is the reading, the build's process with the pandoc
    processes beside it (297-300 MB, the largest alone 121 MB, in six runs here); unlimited, the
    typesetting's tree peaked at 300-361 MB, its largest process at 121-171 MB. The sum over
    typesetting processes alone is test_the_watchdog_sums_the_tree_and_stops_the_build_thread's."""
    chapters = "\n".join(f"# Chapter {c}\n\n" + "\n\n".join(
        f"Paragraph {p} of chapter {c} has words to set in lines across the page. " * 3 for p in range(80)) + "\n"
        for c in range(8))
    book = write_book(tmp_path / "book", chapters)
    out = tmp_path / "out"
    limit = 230
    result, _ = build_py("--book", book, "--out", out, "--edition", "pdf", "--no-cache", "--memory-limit", limit,
                         env=environment(tmp_path, IMPRINT_PARTS="always", IMPRINT_WORKERS="4"))
    assert result.returncode == 5, result.stderr
    line = one_line(result.stderr)
    found = re.fullmatch(rf"{re.escape(str(book))}: the build's processes together used (\d+) MB \(the largest "
                         rf"alone (\d+) MB\), over the memory limit of {limit} MB for the whole build \(hint: raise "
                         rf"it with --memory-limit MB \(0: no limit\), .*\)", line)
    assert found, line
    together, largest = int(found.group(1)), int(found.group(2))
    assert largest < limit < together
    assert not out.exists() or not any(out.iterdir())


def test_the_watchdog_sums_the_tree_and_stops_the_build_thread():
    """Three children of 120 MB each, none over the limit, together over it: the watchdog
    kills them and raises BuildStopped in the thread that runs the build; leaving the block,
    that is the budget's LimitError. A child this process had before (80 MB) is not the
    build's: neither counted nor killed. The limit leaves this process some 200 MB to grow
    (a test worker's own size moves: CI once saw it reach the limit alone)."""
    hold = "b = bytearray({} * 2**20)\nfor i in range(0, len(b), 4096): b[i] = 1\nimport time; time.sleep(60)"
    before = subprocess.Popen([sys.executable, "-c", hold.format(80)])
    time.sleep(1)
    mine, _ = tree_memory(os.getpid())          # this process and the child from before
    limit = mine // 2**20 + 120        # with the child from before counted, one more would be over
    left = Budget(Limits(seconds=None, memory_mb=limit))
    children = []
    try:
        with pytest.raises(LimitError) as stopped:
            with MemorySampler(every=0.05, budget=left):
                children += [subprocess.Popen([sys.executable, "-c", hold.format(120)]) for _ in range(3)]
                give_up = time.monotonic() + 30
                while time.monotonic() < give_up:
                    time.sleep(0.05)
        assert before.poll() is None                # not the build's: still running
    finally:
        for child in children + [before]:
            if child.poll() is None:
                child.kill()
            child.wait()
    assert [child.returncode for child in children] == [-9, -9, -9]       # killed by the watchdog
    assert isinstance(stopped.value.__context__, BuildStopped)      # this thread was stopped, not left to finish
    assert stopped.value is left.stopped and left.stopped.exit_code == 5
    assert f"over the memory limit of {limit} MB for the whole build" in left.stopped.message
    together, largest = map(int, re.search(r"together used (\d+) MB \(the largest alone (\d+) MB\)",
                                           left.stopped.message).groups())
    assert largest < limit < together


def test_pandoc_gets_what_remains_of_the_build(monkeypatch):
    """pandoc's timeout is the time left of the build's limit, its heap the build's memory limit;
    outside a build, pandoc's own bounds; out of time, pandoc is not started at all."""
    calls = []

    def run(cmd, **kwargs):
        calls.append((cmd, kwargs.get("timeout")))
        return subprocess.CompletedProcess(cmd, 0, b"{}", b"")

    monkeypatch.setattr(pandoc.subprocess, "run", run)
    with using_budget(Budget(Limits(seconds=100, memory_mb=700), started=time.monotonic() - 40)):
        pandoc.run_uncached(["-f", "markdown", "-t", "json"], "text", Location("text.md"))
    cmd, timeout = calls[-1]
    assert 55 < timeout <= 60
    assert cmd[1:4] == ["+RTS", "-M700m", "-RTS"]

    pandoc.run_uncached(["-f", "markdown", "-t", "json"], "text", Location("text.md"))
    cmd, timeout = calls[-1]
    assert timeout == pandoc.TIMEOUT and cmd[2] == f"-M{pandoc.HEAP_MB}m"

    with using_budget(Budget(Limits(seconds=30, memory_mb=None), started=time.monotonic() - 31)):
        with pytest.raises(LimitError, match=r"pandoc stopped after 30 s \(the time limit for the whole build\)"):
            pandoc.run_uncached(["-f", "markdown", "-t", "json"], "text", Location("text.md"))
    assert len(calls) == 2


def test_pandoc_out_of_its_time_in_a_build_is_the_limit():
    """The real pandoc, given the build's last half second for a text it needs longer to read."""
    text = "".join(f"## Heading {i}\n\n*Word* {i} [here](#x).\n\n" for i in range(40000))
    with using_budget(Budget(Limits(seconds=60, memory_mb=None), started=time.monotonic() - 59.5)):
        with pytest.raises(LimitError, match=r"pandoc reading the manuscript stopped after 60 s \(the time limit "
                                             r"for the whole build\)") as stopped:
            pandoc.run_uncached(["-f", pandoc.READER, "-t", "json"], text, Location("text.md"))
    assert stopped.value.exit_code == 5 and "--time-limit SECONDS" in stopped.value.hint


def use_bomb(levels: int = 8) -> str:
    """An SVG of 1.5 KB whose nested <use> elements draw 10^levels rectangles."""
    groups = ['<g id="a0"><rect width="1" height="1"/></g>'] + [
        f'<g id="a{i}">' + f'<use href="#a{i - 1}"/>' * 10 + "</g>" for i in range(1, levels + 1)]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><defs>{"".join(groups)}</defs>'
            f'<use href="#a{levels}"/></svg>\n')


def test_an_svg_use_bomb_is_refused_naming_the_image(tmp_path):
    bomb = use_bomb()
    assert len(bomb.encode()) < 1700
    book = write_book(tmp_path / "book", "# One\n\nA figure:\n\n![A figure](fan.svg)\n")
    (book / "fan.svg").write_text(bomb, encoding="utf-8")
    out = tmp_path / "out"
    result, _ = build_py("--book", book, "--out", out, "--edition", "pdf", "--no-cache", "--time-limit", 60,
                         env=environment(tmp_path))
    assert result.returncode == 1, result.stderr
    assert re.search(r"R005.*image 'fan\.svg' draws more than 100,000 elements once its <use> copies are counted",
                     result.stderr), result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_the_default_memory_limit_makes_room_for_a_book_set_in_one_piece():
    """A book set in one piece is one process holding every page: the default limit (auto,
    sized for the workers) grows to hold it, up to 80 % of the machine; a limit the user set
    never moves, nor does the default for a book the workers' share already holds."""
    from imprint import processes

    auto = Budget(Limits(), workers=2)
    assert auto.limits.memory_mb == processes.default_memory_mb(2)
    assert auto.room_for(processes.one_process_mb(200_000)) is None          # a small book: as it was
    need = processes.one_process_mb(2_800_000)                                # the big book's HTML
    assert need > processes.WORKER_MEMORY_MB * 2
    raised = auto.room_for(need)
    machine = processes.machine_memory_mb()
    assert raised == auto.limits.memory_mb == min(processes.BASE_MEMORY_MB + need, machine * 8 // 10)
    assert "--memory-limit" in auto.memory_error(raised + 1, raised).hint
    for fixed in (Limits(memory_mb=2000), Limits(memory_mb=None)):
        budget = Budget(fixed, workers=2)
        assert budget.room_for(need) is None and budget.limits.memory_mb == fixed.memory_mb


def test_a_book_set_in_one_piece_says_its_limit_was_raised(tmp_path, monkeypatch):
    """The build says so, with the limit it sets, and keeps to it (the watchdog reads the budget)."""
    from imprint import processes

    monkeypatch.setenv("IMPRINT_PARTS", "never")
    monkeypatch.setattr(processes, "ONE_PIECE_MB_PER_MCHAR", 400_000)          # as if the book were huge
    monkeypatch.setattr(processes, "machine_memory_mb", lambda: 100_000)
    book = write_book(tmp_path / "book", "# One\n\nText.[^1]\n\n[^1]: A note.\n")
    result = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "pdf", "--no-cache", "-v")
    assert result.code == 0, result.err
    found = re.search(r"set in one piece, the book needs more memory: the limit is (\d+) MB for this build "
                      r"\(--memory-limit sets it\)", result.err)
    assert found and int(found.group(1)) > processes.default_memory_mb(), result.err
    result = run_cli("--book", book, "--out", tmp_path / "out2", "--edition", "pdf", "--no-cache", "-v",
                     "--memory-limit", "3000")
    assert result.code == 0 and "needs more memory" not in result.err, result.err


def test_a_failed_build_reports_its_peak_memory_too(tmp_path, monkeypatch):
    """-v prints the whole tree's peak memory when the build's findings fail it, not only on success."""
    from imprint import pipeline

    fails = pipeline.fails
    monkeypatch.setattr(pipeline, "fails", lambda found, strict=False: fails(found, strict)
                        or any(f.code == "L220" for f in found))           # the page count: only after layout
    book = write_book(tmp_path / "book", "# One\n\nText.[^1]\n\n[^1]: A note.\n")
    result = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "pdf", "--no-cache", "-v")
    assert result.code != 0 and "nothing was written" in result.err, result.err
    found = re.search(r"peak memory (\d+) MB \(all processes together; the largest alone (\d+) MB\)", result.err)
    assert found and int(found.group(1)) >= int(found.group(2)) > 0, result.err
