"""Broken input of every kind gives one clear line and a non-zero exit, never a traceback;
a build never writes into the book, and a failed or interrupted build leaves the last good
outputs byte for byte as they were."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import METADATA, ROOT, run_cli, write_book

from imprint.jobs import inspections
from imprint.manuscript import pandoc
from imprint import pipeline
from imprint.html import render

TEXT = "# Chapter\n\nSome text with a note.[^1]\n\n[^1]: The note.\n"


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- the manuscript and its metadata ------------------------------------------------------

def test_invalid_utf8_names_line_and_column(tiny_book):
    book = tiny_book(TEXT)
    (book / "text.md").write_bytes(b"# Chapter\n\nGood line.\nBad \xff byte.\n")
    result = run_cli("check", "--book", book)
    assert result.code == 3
    assert re.fullmatch(r".*text\.md:4:5: not valid UTF-8 \(byte 0xff\).*", one_line(result.err))


def test_invalid_utf8_in_metadata(tiny_book):
    book = tiny_book(TEXT)
    (book / "book.yaml").write_bytes(METADATA.encode() + b"subtitle: caf\xe9\n")
    result = run_cli("check", "--book", book)
    assert result.code == 3 and re.search(r"book\.yaml:6:\d+: not valid UTF-8", one_line(result.err))


def test_binary_file_as_manuscript(tiny_book):
    book = tiny_book(TEXT)
    (book / "text.md").write_bytes(b"line\n\x00\x01\x02")
    result = run_cli("check", "--book", book)
    assert result.code == 3 and "text.md:2: file contains a NUL byte" in one_line(result.err)


def test_control_character_names_line_and_column(tiny_book):
    book = tiny_book("# Chapter\n\nAn escape \x1b here.\n")
    result = run_cli("check", "--book", book)
    assert result.code == 3
    assert "text.md:3:11: control character U+001B in the text" in one_line(result.err)


@pytest.mark.parametrize("yaml_text,line,message", [
    ("title: A\nauthor: [B\nlang: en\n", 3, "invalid YAML"),
    ("title: A\n  author: B\n", 2, "invalid YAML"),
    ("title: {{ 7*7 }}\nauthor: B\n", 1, "invalid YAML"),
    ('title: !!python/object/apply:os.system ["true"]\nauthor: B\n', 1, "invalid YAML"),
    ("title: A\nauthor: B\ndate: 2020-13-45\n", 3, "invalid value in metadata: month must be in 1..12"),
    ("title: A\nauthor: B\ntitle: C\n", 3, "metadata key 'title' is given twice (first on line 1)"),
    ("author: B\nlang: en\n", 1, "metadata key 'title' is required"),
    ("title: A\nautor: B\n", 2, "metadata key 'author' is required"),
    ("title: A\nauthor: B\nlang: english language\n", 3, "is not a BCP 47 language tag"),
    ("- a list\n- not a mapping\n", 1, "metadata must be a mapping"),
])
def test_bad_metadata_is_one_line_with_its_line(tiny_book, yaml_text, line, message):
    book = tiny_book(TEXT, yaml_text)
    result = run_cli("check", "--book", book)
    assert result.code == 3
    text = one_line(result.err)
    assert re.match(rf".*book\.yaml:{line}(:\d+)?: ", text) and message in text, text


def test_misspelled_required_key_gets_a_suggestion(tiny_book):
    result = run_cli("check", "--book", tiny_book(TEXT, "title: A\nautor: B\n"))
    assert "(hint: 'autor' here looks like a misspelling of 'author')" in result.err


def test_mistyped_key_is_a_warning_with_the_key_it_resembles(tiny_book):
    result = run_cli("check", "-v", "--book", tiny_book(TEXT, METADATA + "subtitel: Oops\n"))
    assert result.code == 0
    assert re.search(r"book\.yaml:6: warning: M001 unknown metadata key 'subtitel' is ignored "
                     r"\(hint: did you mean 'subtitle'\?\)", result.err), result.err
    unknown = run_cli("check", "--book", tiny_book(TEXT, METADATA + "x-press-internal: 12\n"))
    # nothing silent: any key imprint does not read is named (it is still only a warning)
    assert unknown.code == 0 and "M001 unknown metadata key 'x-press-internal' is ignored" in unknown.err


def test_yaml_bomb_is_refused(tiny_book):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi")) + "title: A\nauthor: B\n"
    result = run_cli("check", "--book", tiny_book(TEXT, bomb))
    assert result.code == 3
    assert re.search(r"book\.yaml:2:\d+: YAML aliases \(\*name\) are not allowed", one_line(result.err))


def test_deep_and_huge_metadata_are_refused(tiny_book):
    deep = "title: A\nauthor: B\nx: " + "[" * 50 + "]" * 50 + "\n"
    result = run_cli("check", "--book", tiny_book(TEXT, deep))
    assert result.code == 3 and "nested more than 20 levels deep" in one_line(result.err)
    huge = METADATA + "description: " + "x" * 300_000 + "\n"
    result = run_cli("check", "--book", tiny_book(TEXT, huge))
    assert result.code == 3 and "metadata is larger than 256 KiB" in one_line(result.err)


def test_huge_manuscript_is_refused(tiny_book):
    book = tiny_book(TEXT)
    with (book / "text.md").open("w") as fh:
        fh.write(("A line of text that repeats. " * 10 + "\n\n") * 80_000)
    result = run_cli("check", "--book", book)
    assert result.code == 3 and "text.md: file is larger than 20 MiB" in one_line(result.err)


@pytest.mark.parametrize("markdown,line,message", [
    ("Intro.\n\n" + ">" * 100 + " deep\n", 3, "nested more than 64 levels"),
    ("Intro.\n\n" + "".join("  " * i + "- item\n" for i in range(200)), 67, "nested more than 64 levels"),
    ("Intro.\n\n" + "- " * 100 + "item\n", 3, "nested more than 64 levels"),
    ("Intro.\n\n" + "<div>" * 100 + "x" + "</div>" * 100 + "\n", 3, "HTML elements are nested more than 64"),
    ("Intro.\n\nText " + "[" * 30 + "x" + "]" * 30 + "\n", 3, "brackets are nested more than 8 deep"),
    ("Intro.\n\n---\na: &a [x, x, x]\nb: [*a, *a, *a]\n---\n\nMore.\n", 5,
     "YAML block in the text: YAML aliases (*name) are not allowed"),
])
def test_deeply_nested_manuscript_is_refused_before_pandoc(tiny_book, monkeypatch, markdown, line, message):
    def no_pandoc(*args, **kwargs):
        raise AssertionError("pandoc must not be asked to read this")
    monkeypatch.setattr(pandoc, "_run", no_pandoc)
    result = run_cli("check", "--book", tiny_book(markdown))
    assert result.code == 3
    text = one_line(result.err)
    assert re.search(rf"text\.md:{line}(:\d+)?: ", text) and message in text, text


def test_nesting_that_slips_past_the_text_scan_is_refused_after_pandoc(tiny_book):
    spans = "[" * 8 + "x" + "]{.a}" * 8      # within the bracket limit: nested spans
    markdown = "Intro.\n\n" + "\n\n".join(["<span>" * 40 + spans + "</span>" * 40] * 2) + "\n"
    result = run_cli("check", "--book", tiny_book(markdown))
    assert result.code in (0, 1, 3) and "Traceback" not in result.err


def test_pandoc_failure_is_one_line(tiny_book, monkeypatch):
    monkeypatch.setattr(pandoc, "HEAP_MB", 4)       # pandoc's own heap limit, made tiny
    result = run_cli("check", "--book", tiny_book(("Some text with words. " * 20 + "\n\n") * 1500))
    assert result.code == 3
    assert "text.md: pandoc needed more than 4 MB to read the manuscript" in one_line(result.err)


def test_missing_unreadable_and_broken_images(tiny_book):
    book = tiny_book("# Chapter\n\n![a](missing.png)\n\n![b](folder.png)\n\n![c](broken.png)\n\n"
                     '<img src="missing2.jpg" alt="d">\n')
    (book / "folder.png").mkdir()
    (book / "broken.png").write_text("not an image")
    result = run_cli("check", "--book", book)
    assert result.code == 1
    assert re.search(r"text\.md:3:\d+: error: R001 image 'missing\.png' not found", result.err)
    assert re.search(r"text\.md:5:\d+: error: R004 image 'folder\.png' cannot be read", result.err)
    assert re.search(r"text\.md:7:\d+: error: R005 image 'broken\.png' is not an image", result.err)
    assert re.search(r"text\.md:9:\d+: error: R001 image 'missing2\.jpg' not found", result.err)
    assert "Traceback" not in result.err


def test_cover_image_outside_the_book_is_refused(tiny_book, tmp_path):
    (tmp_path / "elsewhere.png").write_bytes(b"x")
    book = tiny_book(TEXT, METADATA + "cover-image: ../elsewhere.png\n")
    result = run_cli("check", "--book", book)
    assert result.code == 1
    assert re.search(r"book\.yaml:6: error: R002 image '\.\./elsewhere\.png' is outside the book folder", result.err)


def test_broken_template_is_one_line(tiny_book, tmp_path, monkeypatch):
    import jinja2
    broken = jinja2.Environment(loader=jinja2.DictLoader({"book.html.j2": "{{ book.title "}), autoescape=True,
                                undefined=jinja2.StrictUndefined)
    monkeypatch.setattr(render, "environment", lambda *a: broken)
    result = run_cli("--book", tiny_book(TEXT), "--out", tmp_path / "out", "--edition", "pdf")
    assert result.code == 4 and "template error" in one_line(result.err)
    undefined = jinja2.Environment(loader=jinja2.DictLoader({"book.html.j2": "{{ book.no_such_value }}"}),
                                   autoescape=True, undefined=jinja2.StrictUndefined)
    monkeypatch.setattr(render, "environment", lambda *a: undefined)
    result = run_cli("--book", tiny_book(TEXT), "--out", tmp_path / "out", "--edition", "pdf")
    assert result.code == 4 and "undefined value" in one_line(result.err)


def test_a_bug_shows_no_traceback_unless_debug(tiny_book, monkeypatch):
    from imprint import checks

    def broken_check(book):
        raise RuntimeError("a bug")
    monkeypatch.setattr(checks, "CHECKS", checks.CHECKS + [broken_check])
    result = run_cli("check", "--book", tiny_book(TEXT))
    assert result.code == 70 and "internal error" in one_line(result.err)
    result = run_cli("check", "--debug", "--book", tiny_book(TEXT))
    assert "Traceback" in result.err and "a bug" in result.err


@pytest.mark.parametrize("args", [["--time-limit", "soon"], ["--memory-limit", "-5"], ["--time-limit"]])
def test_bad_limits_are_usage_errors(args):
    assert run_cli("--book", "book", *args).code == 2


# --- nothing lost ------------------------------------------------------------------------

def snapshot(folder: Path) -> dict[str, str]:
    """Every file under a folder (hidden ones too) -> its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A tiny book built once (both editions): the 'last good outputs' every failure must keep."""
    root = tmp_path_factory.mktemp("good")
    book = write_book(root / "book", TEXT)
    before = snapshot(book)
    result = run_cli("--book", book, "--out", root / "out")
    assert result.code == 0, result.err
    return book, root / "out", before


def test_limited_jobs_run_side_by_side_from_threads(good):
    """run_limited is what parallel builds call from a thread pool: each call its own process."""
    from concurrent.futures import ThreadPoolExecutor

    from imprint.jobs.job import Job

    from imprint.typeset import engine
    from imprint.specs.editions import DESIGN_MARGINS, EDITIONS, trim
    from imprint.processes import Limits, run_limited
    from imprint.manuscript.load import load

    book = load(good[0])
    body = render.body_html(book)
    jobs = [Job(html=render.paged_html(book, body, EDITIONS["pdf"]),
                        page_css=render.page_css(book, trim(None), DESIGN_MARGINS["6x9"], mirrored=mirrored),
                        base=book.root, book_root=book.root, book_file=book.metadata.source,
                        editions=(EDITIONS["pdf"],), identifier=book.metadata.identifier, note_numbers=(1,))
            for mirrored in (True, False)]
    with ThreadPoolExecutor(2) as pool:
        layouts = list(pool.map(lambda job: run_limited(job, Limits(seconds=300, memory_mb=2048)), jobs))
    assert [layout.pdfs["pdf"][:5] for layout in layouts] == [b"%PDF-", b"%PDF-"]
    assert all(layout.pages > 1 and "anchors" in layout.extracts for layout in layouts)


def test_a_build_never_writes_into_the_book(good):
    book, out, before = good
    assert snapshot(book) == before
    assert {"a-tiny-book.pdf", "a-tiny-book.epub", "a-tiny-book.report.json"} <= set(snapshot(out))


@pytest.fixture
def last_good(good, tmp_path):
    """A copy of the good outputs to fail a build over, and their snapshot."""
    book, out, _ = good
    target = tmp_path / "out"
    shutil.copytree(out, target)
    return book, target, snapshot(target)


def test_time_limit_stops_the_job_and_keeps_old_outputs(last_good, monkeypatch):
    book, out, before = last_good
    monkeypatch.setattr(inspections, "INSPECTIONS", [lambda document, job: time.sleep(120) or []])
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--time-limit", "2")
    assert result.code == 5
    assert "typesetting stopped after 2 s (the time limit for the whole build)" in one_line(result.err)
    assert snapshot(out) == before


def test_memory_limit_stops_the_job_and_keeps_old_outputs(last_good, monkeypatch):
    book, out, before = last_good

    def greedy(document, job):
        hoard = [bytearray(64 * 2**20) for _ in range(64)]        # 4 GB, never reached
        return [] if hoard else []
    monkeypatch.setattr(inspections, "INSPECTIONS", [greedy])
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--memory-limit", "900")
    assert result.code == 5
    assert "ran out of memory (the limit is 900 MB)" in one_line(result.err) or "memory" in one_line(result.err)
    assert snapshot(out) == before


def test_killed_job_keeps_old_outputs(last_good, monkeypatch):
    book, out, before = last_good
    monkeypatch.setattr(inspections, "INSPECTIONS", [lambda document, job: os.kill(os.getpid(), signal.SIGTERM)])
    result = run_cli("--book", book, "--out", out)
    assert result.code == 6
    assert "the typesetting process was stopped (SIGTERM); nothing was written" in one_line(result.err)
    assert snapshot(out) == before


def test_failure_while_writing_keeps_old_outputs(last_good, monkeypatch):
    book, out, before = last_good

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(pipeline.os, "fsync", full_disk)
    result = run_cli("--book", book, "--out", out, "--no-cache")    # the write path, not a replay
    assert result.code == 6 and "cannot write the outputs: No space left on device" in one_line(result.err)
    assert snapshot(out) == before


def test_failure_half_way_through_moving_keeps_old_outputs(last_good, monkeypatch):
    book, out, before = last_good
    real_replace, calls = os.replace, []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)
    monkeypatch.setattr(pipeline.os, "replace", flaky_replace)
    result = run_cli("--book", book, "--out", out, "--no-cache")    # the write path, not a replay
    assert result.code == 6 and "Input/output error" in one_line(result.err)
    assert snapshot(out) == before


def test_bad_manuscript_keeps_old_outputs(last_good, tmp_path):
    book, out, before = last_good
    bad = write_book(tmp_path / "bad", TEXT + "\n<script>alert(1)</script>\n")
    result = run_cli("--book", bad, "--out", out)
    assert result.code == 1 and snapshot(out) == before


def test_sigterm_to_the_build_keeps_old_outputs_and_leaves_no_process(last_good):
    book, out, before = last_good
    marker = f"imprint-sigterm-test-{os.getpid()}"
    script = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); "
              "from imprint.jobs import inspections; "
              "inspections.INSPECTIONS.append(lambda d, j: time.sleep(300) or []); "
              f"from imprint.cli import main; sys.exit(main(sys.argv[1:]))  # {marker}")
    proc = subprocess.Popen([sys.executable, "-c", script, "--book", str(book), "--out", str(out), "-v"],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        for line in proc.stderr:
            if line.startswith("typesetting"):
                break
        time.sleep(2)                       # well inside the job (which now sleeps)
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130 and "interrupted; nothing was written" in rest
    assert snapshot(out) == before
    time.sleep(1)
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and marker.encode() in _cmdline(p)]
    assert leftovers == []


def test_sigterm_to_a_build_in_parts_starts_no_more_chapters(tmp_path):
    """Six chapters set in parts by two workers, each job stalled: a SIGTERM ends the build
    with the two jobs at work and starts none of the four queued (the pool used to lay every
    queued chapter out before the build could end)."""
    text = "".join(f"# Chapter {k}\n\nThe text of chapter {k}, with a note.[^{k}]\n\n[^{k}]: Note {k}.\n\n"
                   for k in range(1, 7))
    book = write_book(tmp_path / "book", text)
    started = tmp_path / "started.txt"
    marker = f"imprint-sigterm-parts-{os.getpid()}"
    script = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); "
              "from imprint.jobs import inspections; "
              f"inspections.INSPECTIONS.append(lambda d, j: open({str(started)!r}, 'a').write('job\\n') "
              "and time.sleep(300) or []); "
              f"from imprint.cli import main; sys.exit(main(sys.argv[1:]))  # {marker}")
    env = dict(os.environ, IMPRINT_PARTS="always", IMPRINT_WORKERS="2")
    proc = subprocess.Popen([sys.executable, "-c", script, "--book", str(book), "--out", str(tmp_path / "out"),
                             "--no-cache", "--edition", "pdf", "-v"],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        for line in proc.stderr:
            if "in parallel parts" in line:
                break
        for _ in range(600):                # both workers inside a stalled job
            if started.exists() and started.read_text().count("job") >= 2:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        try:
            rest = proc.communicate(timeout=120)[1]      # not a timing: the queued jobs stall 300 s each
        except subprocess.TimeoutExpired:
            pytest.fail("the build went on after SIGTERM (the queued chapters were being laid out)")
        code = proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130 and "interrupted; nothing was written" in rest
    assert started.read_text().count("job") == 2
    assert not (tmp_path / "out").exists()
    time.sleep(1)
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and marker.encode() in _cmdline(p)]
    assert leftovers == []


def _cmdline(proc_dir: Path) -> bytes:
    try:
        return (proc_dir / "cmdline").read_bytes()
    except OSError:
        return b""


SLOW = pytest.mark.skipif(not os.environ.get("IMPRINT_SLOW"), reason="builds whole corpus books: set IMPRINT_SLOW=1")


@pytest.mark.corpus
@pytest.mark.slow
@SLOW
@pytest.mark.parametrize("name", ["communist-manifesto", "mutual-aid", "wealth-of-nations-vol1"])
def test_corpus_books_fit_the_default_limits(tmp_path, name):
    from conftest import CORPUS
    source = CORPUS / name / "book.md"
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    result = run_cli("--book", source, "--out", tmp_path / "out")      # every default edition
    assert result.code != 5, result.err            # layout findings may fail the build; the limits must not
    assert "limit" not in result.err and "Traceback" not in result.err
