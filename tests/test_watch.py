"""`--watch`: a save rebuilds the book and the preview page on localhost serves the new PDF;
the progress display stays quiet when stderr is not a terminal."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.request

import pdfplumber
import pytest

from conftest import METADATA, run_cli
from imprint import pipeline
from imprint import watch


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def wait_for_build(base: str, number: int, limit: float = 300) -> dict:
    """Poll /status until the given build has finished (a wait, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            status = json.loads(fetch(base + "status"))
            if status["build"] >= number:
                return status
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"build {number} never finished")


def test_a_save_rebuilds_and_the_preview_serves_it(tiny_book, tmp_path):
    book = tiny_book("# One\n\nThe first words.\n")
    out = tmp_path / "out"
    messages: list[str] = []
    stop = threading.Event()

    def build_once():
        result = pipeline.build(book, out, ["pdf"])
        return True, [], [p.name for p in result.written], result.book.metadata.title

    thread = threading.Thread(target=watch.watch, args=(build_once, book, out, None),
                              kwargs={"port": 0, "say": messages.append, "stop": stop}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not any(m.startswith("http://") for m in messages) and time.monotonic() < deadline:
            time.sleep(0.05)
        base = next(m for m in messages if m.startswith("http://"))
        assert base.startswith("http://127.0.0.1:")
        wait_for_build(base, 1)
        page = fetch(base).decode()
        assert "a-tiny-book.pdf" in page and "<iframe" in page
        with pdfplumber.open(io.BytesIO(fetch(base + "files/a-tiny-book.pdf"))) as pdf:
            assert "The first words." in "".join(p.extract_text() or "" for p in pdf.pages)

        (book / "text.md").write_text("# One\n\nThe second words.\n")
        wait_for_build(base, 2)
        with pdfplumber.open(io.BytesIO(fetch(base + "files/a-tiny-book.pdf"))) as pdf:
            assert "The second words." in "".join(p.extract_text() or "" for p in pdf.pages)
        for name in ("../book/book.yaml", "..%2Fbook%2Fbook.yaml", ".imprint-cache"):
            with pytest.raises(urllib.error.HTTPError):
                fetch(base + "files/" + name)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_progress_is_quiet_off_a_terminal(tiny_book, tmp_path):
    book = tiny_book("# One\n\nWords.\n")
    quiet = run_cli("--book", book, "--out", tmp_path / "a", "--edition", "pdf")
    assert quiet.code == 0 and quiet.err == ""
    verbose = run_cli("--book", book, "--out", tmp_path / "b", "--edition", "pdf", "-v")
    assert "typesetting" in verbose.err


def test_progress_rewrites_one_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    with watch.Progress(stream) as say:
        say("typesetting chapter 1")
        say("joining the parts")
    assert "joining the parts" in stream.getvalue()
    assert watch.Progress(io.StringIO()).live is False


def test_a_watch_session_sets_every_book_in_parts_unless_told_never():
    """An author at work edits: `--watch` sets even a one-part essay in parts (an edit then lays
    out only from the page before the change until the pages meet the old ones); an explicit
    `never` (or `always`) is kept."""
    from imprint.settings import Settings
    assert watch.watch_settings(Settings.from_environment({})).parts == "always"
    assert watch.watch_settings(Settings.from_environment({"IMPRINT_PARTS": "never"})).parts == "never"
    assert watch.watch_settings(Settings.from_environment({"IMPRINT_PARTS": "always"})).parts == "always"


def test_a_save_right_after_the_first_build_is_rebuilt(tiny_book, tmp_path):
    """The session warms its process after its first build (watch.warm): beside the watcher, so
    a save made at once, while it warms, is seen and rebuilt (a warm-up before the watcher
    started lost it: scripts/benchmark.py --watch waited for ever)."""
    import os
    import queue
    import signal
    import subprocess
    import sys

    from conftest import ROOT
    book = tiny_book("# One\n\nThe first words of a short book, long enough to be set in a line or two.\n")
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), str(book), "--out", str(tmp_path / "out"),
                             "--watch", "--port", "0", "--edition", "pdf"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)],
                     daemon=True).start()

    def built(limit: float = 120) -> str:
        deadline = time.monotonic() + limit
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "the watch session ended"
            if line.startswith(("built:", "Error")):
                return line

    try:
        assert built().startswith("built:")
        text = book / "text.md"
        text.write_text(text.read_text().replace("first words", "saved words"))     # at once
        assert built().startswith("built:")
        import pdfplumber
        with pdfplumber.open(next((tmp_path / "out").glob("*.pdf"))) as pdf:
            assert "saved words" in "".join(page.extract_text() or "" for page in pdf.pages)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
