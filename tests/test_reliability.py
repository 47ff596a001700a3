"""Reliability under faults (issue 20): what the book folder, its metadata and its images may
hold, what a build leaves behind, builds at once into one folder, and the preview server.
Each test builds or checks a real book with the real tools."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from conftest import METADATA, ROOT, run_cli, write_book

from imprint import watch

from test_bad_input import TEXT, one_line  # noqa: E402  (the same book and one-line error check)


def build_py(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    """`python build.py ...` in a process of its own (a hang is a timeout, not a stuck suite)."""
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def environment(tmp_path: Path, **extra) -> dict:
    return {**os.environ, "IMPRINT_CACHE": str(tmp_path / "cache"), **extra}


# --- 1. the metadata file stays inside the book ------------------------------------------------

def test_metadata_file_linked_from_outside_the_book_is_refused(tmp_path):
    book = write_book(tmp_path / "book", TEXT)
    secret = tmp_path / "elsewhere.yaml"
    secret.write_text(METADATA.replace("A Tiny Book", "Private Notes"), encoding="utf-8")
    (book / "book.yaml").unlink()
    (book / "book.yaml").symlink_to(secret)
    result = run_cli("check", "--book", book)
    assert result.code == 3
    assert one_line(result.err).startswith(f"{book / 'book.yaml'}: metadata file 'book.yaml' leads outside the book")
    assert "Private Notes" not in result.out + result.err


# --- 2. FIFOs and endless devices never hang a build -------------------------------------------

def test_special_files_in_the_book_folder_do_not_hang_the_build(tmp_path):
    folder = write_book(tmp_path / "book", TEXT)
    os.mkfifo(folder / "a-pipe")
    single = tmp_path / "single"
    (single / "sub").mkdir(parents=True)
    (single / "one.md").write_text("---\n" + METADATA + "---\n\n" + TEXT, encoding="utf-8")
    (single / "sub" / "zero").symlink_to("/dev/zero")
    (single / "sub" / "random").symlink_to("/dev/urandom")
    os.mkfifo(single / "sub" / "pipe")
    env = environment(tmp_path)
    for book, out in ((folder, tmp_path / "out1"), (single / "one.md", tmp_path / "out2")):
        for _ in range(2):              # the second build keys the whole-build cache on the folder again
            started = time.monotonic()
            result = build_py("--book", book, "--out", out, "--edition", "pdf", env=env, timeout=120)
            assert result.returncode == 0, result.stderr
            assert time.monotonic() - started < 90
        assert (out / "a-tiny-book.pdf").is_file()


# --- 3. metadata YAML accepts but no edition can hold ------------------------------------------

@pytest.mark.parametrize("line,message", [
    ('subtitle: "a\\x01b"', "metadata key 'subtitle': a control character U+0001"),
    ('title: "Half \\ud800 a pair"', "metadata key 'title': a lone surrogate U+D800"),
    ('title: "Not \\uFFFE a character"', "metadata key 'title': a noncharacter U+FFFE"),
    ("subjects: [History, \"x\\x1fy\"]", "metadata key 'subjects': a control character U+001F"),
    ("date: 2108-01-01", "metadata key 'date': the year 2108 is outside 1-2107"),
])
def test_metadata_no_edition_can_hold_is_one_line_at_its_line(tiny_book, tmp_path, line, message):
    key = line.split(":")[0]
    kept = [m for m in METADATA.splitlines() if m.split(":")[0] not in (key, "date")]
    book = tiny_book(TEXT, "\n".join(kept + [line]) + "\n")
    result = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "epub")
    assert result.code == 3, result.err
    assert one_line(result.err).startswith(f"{book / 'book.yaml'}:{len(kept) + 1}: {message}")
    assert not (tmp_path / "out").exists()


# --- 7. no temporary folder is left behind -----------------------------------------------------

def test_builds_leave_nothing_in_the_temporary_folder(tmp_path):
    book = write_book(tmp_path / "book", TEXT)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = environment(tmp_path, TMPDIR=str(scratch))
    for _ in range(2):                  # the second is a whole-build cache hit
        result = build_py("--book", book, "--out", tmp_path / "out", "--edition", "pdf", "--edition", "print",
                          env=env)
        assert result.returncode == 0, result.stderr
        assert sorted(os.listdir(scratch)) == []
    # a build failing after the typesetting (a short book's blank pages are a warning; --strict)
    result = build_py("--book", book, "--out", tmp_path / "out2", "--edition", "print", "--strict", env=env)
    assert result.returncode == 1 and "P120" in result.stderr
    assert sorted(os.listdir(scratch)) == []


# --- 10. one build at a time into one folder ---------------------------------------------------

def test_two_builds_into_one_folder_leave_one_consistent_set(tmp_path):
    short = write_book(tmp_path / "short", "# Alpha\n\nALPHAMARK text.\n")
    long_text = "# Beta\n\nBETAMARK text.\n\n" + "".join(f"## Part {i}\n\n" + "Words of a longer book. " * 120 + "\n\n"
                                                         for i in range(20))
    long = write_book(tmp_path / "long", long_text)
    out = tmp_path / "out"
    env = environment(tmp_path)
    command = [sys.executable, str(ROOT / "build.py"), "--out", str(out), "--edition", "pdf", "--edition", "epub"]
    runs = [subprocess.Popen(command + ["--book", str(book)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for book in (short, long)]
    done = [run.communicate(timeout=240) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], done
    assert sum("waiting for another build into" in err for _, err in done) == 1, done
    report = json.loads((out / "a-tiny-book.report.json").read_text(encoding="utf-8"))
    with pikepdf.open(out / "a-tiny-book.pdf") as pdf:
        pages = len(pdf.pages)
    assert report["editions"]["pdf"]["pages"] == pages
    with zipfile.ZipFile(out / "a-tiny-book.epub") as epub:
        words = b"".join(epub.read(n) for n in epub.namelist() if n.endswith(".xhtml"))
    alpha, beta = b"ALPHAMARK" in words, b"BETAMARK" in words
    assert alpha != beta
    assert (pages > 10) == beta         # the PDF and the report are the same book as the EPUB


# --- 11. SVG images carry no script ------------------------------------------------------------

SVG_HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="20">')


@pytest.mark.parametrize("inside,problem", [
    ('<svg:script>alert(1)</svg:script>', "holds a <script> element"),
    ('<a xlink:href="javascript:alert(1)"><rect width="5" height="5"/></a>', "links to 'javascript:alert(1)'"),
    ('<rect width="5" height="5"><set attributeName="onclick" to="alert(1)"/></rect>',
     "animates the attribute 'onclick'"),
    ('<a><animate attributeName="href" values="javascript:alert(1)"/><rect width="5" height="5"/></a>',
     "animates the attribute 'href'"),
    ('<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>', "holds a <script> element"),
    ('<rect width="5" height="5" onload="alert(1)"/>', "has an event attribute 'onload'"),
    ('<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>',
     "holds a <foreignobject> element"),
])
def test_svg_with_script_is_refused_and_never_reaches_the_epub(tiny_book, tmp_path, inside, problem):
    book = tiny_book("# Chapter\n\nA figure:\n\n![the figure](figure.svg)\n")
    (book / "figure.svg").write_text(SVG_HEAD + inside + "</svg>", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "epub")
    assert result.code == 1, result.err
    assert f"text.md:5:15: error: R005 image 'figure.svg' {problem}" in result.err
    assert not out.exists()
    # a plain drawing (fragments, a gradient by url(#id)) is carried
    (book / "figure.svg").write_text(SVG_HEAD + '<defs><linearGradient id="g"/></defs>'
                                     '<rect id="r" width="5" height="5" style="fill:url(#g)"/>'
                                     '<use xlink:href="#r"/></svg>', encoding="utf-8")
    result = run_cli("--book", book, "--out", out, "--edition", "epub")
    assert result.code == 0, result.err
    with zipfile.ZipFile(out / "a-tiny-book.epub") as epub:
        svgs = [epub.read(n) for n in epub.namelist() if n.endswith(".svg")]
    assert len(svgs) == 1 and b"script" not in svgs[0].lower()


# --- 12. a broken image is an error, never its alt text ------------------------------------------

def _png(size=(40, 40), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, "PNG")
    return buffer.getvalue()


LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "lol">'
          + "".join(f'<!ENTITY a{i} "{("&a" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + ']>\n<svg xmlns="http://www.w3.org/2000/svg"><text>&a9;</text></svg>')


@pytest.mark.parametrize("name,data,problem", [
    ("figure.png", _png()[:-20], "is not an image"),
    ("figure.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>', "is not well-formed SVG"),
    ("figure.svg", LAUGHS.encode(), "declares XML entities"),
    ("figure.png", _png((9000, 9000), "1"), "has more pixels than an image in a book ever needs"),
])
def test_broken_images_are_errors_naming_image_and_line(tiny_book, tmp_path, name, data, problem):
    book = tiny_book(f"# Chapter\n\nText.\n\n![the figure]({name})\n")
    (book / name).write_bytes(data)
    started = time.monotonic()
    result = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "epub")
    assert time.monotonic() - started < 60
    assert result.code == 1, result.err
    assert f"text.md:5:15: error: R005 image '{name}' {problem}" in result.err
    assert "DecompressionBombWarning" not in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out").exists()


# --- 13. the preview answers only to loopback names --------------------------------------------

def test_preview_refuses_other_host_names(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7 test")
    preview = watch.Preview(tmp_path, "T")
    preview.update(True, [], ["a.pdf"])
    server = watch.serve(preview, port=0)
    port = server.server_address[1]
    try:
        def get(host, path="/files/a.pdf"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.putrequest("GET", path, skip_host=True)
            connection.putheader("Host", host)
            connection.endheaders()
            response = connection.getresponse()
            body = response.read()
            connection.close()
            return response.status, body

        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", f"localhost:{port + 1}"):
            status, body = get(host)
            assert status == 403 and b"%PDF" not in body, host
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost"):
            assert get(host) == (200, b"%PDF-1.7 test"), host
        assert get("evil.example", "/")[0] == 403
    finally:
        server.shutdown()
        server.server_close()


# --- 14. an unwritable output folder, and thousands of one finding -------------------------------

def test_unwritable_output_found_first_and_repeats_summarised(tiny_book, tmp_path):
    book = tiny_book(TEXT)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_cli("--book", book, "--out", blocker / "out")
    assert result.code == 2
    assert one_line(result.err).startswith(f"{blocker / 'out'}: the output folder cannot be made: {blocker} is not")

    many = "# Chapter\n\n" + "".join(f"![figure {i}](missing-{i}.png)\n\n" for i in range(45))
    book = tiny_book(many)
    result = run_cli("check", "--book", book)
    assert result.code == 1
    lines = result.err.splitlines()
    assert sum(": error: R001 " in line for line in lines) == 20
    assert "… and 25 more R001 findings (--verbose prints every one)" in lines
    result = run_cli("check", "--book", book, "--verbose")
    assert sum(": error: R001 " in line for line in result.err.splitlines()) == 45


# --- 6. cache entries are checked against their digest before use ------------------------------

def _outputs(out: Path) -> dict:
    return {p.name: p.read_bytes() for p in out.iterdir() if not p.name.endswith(".report.json")}


def _entries(cache_folder: Path) -> list[Path]:
    return sorted(cache_folder.rglob("*.pickle"))


def _cached_env(tmp_path: Path) -> dict:
    return environment(tmp_path, SOURCE_DATE_EPOCH="1700000000", IMPRINT_PARTS="always", IMPRINT_WORKERS="1")


def test_damaged_cache_entries_are_misses_with_an_info_finding(tmp_path):
    book = write_book(tmp_path / "book", TEXT)
    env = _cached_env(tmp_path)
    editions = ("--edition", "pdf", "--edition", "print", "--edition", "epub")
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    result = build_py("--book", book, "--out", out, *editions, env=env)
    assert result.returncode == 0, result.stderr
    entries = _entries(tmp_path / "cache")
    kinds = {p.parent.parent.name for p in entries}
    assert {"build", "pandoc", "part"} <= kinds, kinds
    for path in entries:                # one bit flipped in the middle of every entry, of every kind
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x04
        path.write_bytes(bytes(data))
    (out / "a-tiny-book-print.pdf").unlink()
    result = build_py("--book", book, "--out", out, *editions, "-v", env=env)
    assert result.returncode == 0, result.stderr
    assert "C002" in result.stderr and "Traceback" not in result.stderr
    report = json.loads((out / "a-tiny-book.report.json").read_text())
    [damaged] = [f for f in report["findings"] if f["code"] == "C002"]
    assert damaged["severity"] == "info"
    result = build_py("--book", book, "--out", fresh, *editions, "--no-cache", env=env)
    assert result.returncode == 0, result.stderr
    assert _outputs(out) == _outputs(fresh)
    # the damaged entries were replaced by good ones: the next build is a clean replay, no C002
    result = build_py("--book", book, "--out", out, *editions, "-v", env=env)
    assert result.returncode == 0 and "C002" not in result.stderr, result.stderr
    assert _outputs(out) == _outputs(fresh)


def test_an_edited_pandoc_entry_is_never_used(tmp_path):
    import pickle

    from imprint import cache

    book = write_book(tmp_path / "book", TEXT)
    env = _cached_env(tmp_path)
    out = tmp_path / "out"
    result = build_py("--book", book, "--out", out, "--edition", "epub", env=env)
    assert result.returncode == 0, result.stderr
    edited = 0
    header = len(cache.MAGIC) + 32
    for path in _entries(tmp_path / "cache"):
        if path.parent.parent.name == "build":
            path.unlink()                          # so the build reads its pieces again
            continue
        data = path.read_bytes()
        value = pickle.loads(data[header:])
        forged = pickle.loads(pickle.dumps(value).replace(b"Some text", b"Forged xx"))
        if forged != value:                        # still a valid pickle, the digest left as it was
            path.write_bytes(data[:header] + pickle.dumps(forged, protocol=pickle.HIGHEST_PROTOCOL))
            edited += 1
    assert edited
    result = build_py("--book", book, "--out", out, "--edition", "epub", "-v", env=env)
    assert result.returncode == 0, result.stderr
    assert "C002" in result.stderr
    with zipfile.ZipFile(out / "a-tiny-book.epub") as epub:
        text = b"".join(epub.read(name) for name in epub.namelist())
    assert b"Forged" not in text and b"Some text" in text


# --- 9. SIGTERM while the outputs are moved into place: the message says what the folder holds ---

def _sigterm_at_last_move(monkeypatch, fail: bool = False):
    import signal

    from imprint import outjournal

    def hook(step, name):
        if step == "moved" and name.endswith(".report.json"):     # the last file moved
            os.kill(os.getpid(), signal.SIGTERM)       # held until the moves are done
            if fail:
                raise OSError(28, "No space left on device", name)
    monkeypatch.setattr(outjournal, "_at_step", hook)


def test_sigterm_during_the_moves_reports_the_outputs_in_place(tiny_book, tmp_path, monkeypatch):
    book = tiny_book(TEXT)
    out = tmp_path / "out"
    assert run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache").code == 0
    (book / "text.md").write_text(TEXT.replace("Some text", "Newer text"), encoding="utf-8")
    _sigterm_at_last_move(monkeypatch)
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err
    assert f"interrupted after writing: all 2 outputs are in place in {out}" in result.err
    assert "nothing was written" not in result.err
    assert "Newer" in _pdf_text(out / "a-tiny-book.pdf")
    assert sorted(os.listdir(out)) == ["a-tiny-book.pdf", "a-tiny-book.report.json"]


def test_sigterm_during_moves_that_fail_reports_nothing_written(tiny_book, tmp_path, monkeypatch):
    book = tiny_book(TEXT)
    out = tmp_path / "out"
    assert run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache").code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (book / "text.md").write_text(TEXT.replace("Some text", "Newer text"), encoding="utf-8")
    _sigterm_at_last_move(monkeypatch, fail=True)
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 130
    assert one_line(result.err) == "interrupted; nothing was written"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _pdf_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return " ".join(page.extract_text() or "" for page in pdf.pages)


# --- 5. out of memory under --memory-limit is a limit, named -------------------------------------

def stopped_mb(stderr: str) -> str:
    """The memory a build had reached when the watchdog stopped it, as its message says."""
    found = re.search(r"stopped at (\d+) MB", stderr)
    return found.group(1) if found else "?"


def test_a_tight_memory_limit_is_exit_5_naming_the_limit(tmp_path):
    book = write_book(tmp_path / "book", TEXT)
    out = tmp_path / "out"
    # The limit bounds all the build's processes together (issue 20.4): 80 MB is less than
    # this build's own process holds once WeasyPrint is loaded.
    result = build_py("--book", book, "--out", out, "--edition", "pdf", "--memory-limit", 80, "--no-cache",
                      env=environment(tmp_path))
    assert result.returncode == 5, result.stderr
    # Whichever meets the limit first: a typesetting process (the limit added to its address
    # space), or the build's watchdog (all its processes together).
    assert one_line(result.stderr) in (
        f"{book / 'book.yaml'}: typesetting ran out of memory (the limit is 80 MB) "
        f"(hint: raise it with --memory-limit MB)",
        f"{book}: the build's processes together used {used_mb(result.stderr)}, over the memory limit of 80 MB "
        f"for the whole build (hint: raise it with --memory-limit MB (0: no limit), or build fewer editions at once "
        f"(--edition) or with fewer typesetting processes (IMPRINT_WORKERS=1); stopped at {stopped_mb(result.stderr)} MB, "
        f"it may need more: try --memory-limit {-(-int(int(stopped_mb(result.stderr)) * 1.5) // 512) * 512})")
    assert not out.exists() or not any(out.iterdir())
    # the same book under a limit it fits in builds
    result = build_py("--book", book, "--out", out, "--edition", "pdf", "--memory-limit", 1500, "--no-cache",
                      env=environment(tmp_path))
    assert result.returncode == 0, result.stderr


def used_mb(stderr: str) -> str:
    import re
    found = re.search(r"together used (\d+ MB \(the largest alone \d+ MB\))", stderr)
    return found.group(1) if found else "?"


def test_a_build_clears_what_a_killed_build_left_in_the_output_folder(tmp_path):
    """kill -9 between the staging and the moves leaves hidden staged files and backups; the
    next build into the folder removes those of its own outputs and nothing else."""
    book = write_book(tmp_path / "book", "# One\n\nA short text.\n")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    pdf = next(p for p in out.glob("*.pdf"))
    debris = [out / f".{pdf.name}.k3j2h1g0", out / f".{pdf.name}.old.4242.deadbeef",
              out / f".{pdf.stem}.report.json.a1b2c3d4"]
    for d in debris:
        d.write_bytes(b"left by a killed build")
    unrelated = out / ".keep-me"
    unrelated.write_text("not ours")
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    assert not any(d.exists() for d in debris)
    assert unrelated.read_text() == "not ours"
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        [pdf.name, f"{pdf.stem}.report.json"])
