"""WeasyPrint fenced (imprint/typeset/fence/): the one check of its version and internals,
the speed patches switched off without a change in the output, a missing required internal
stopped with one line, and WeasyPrint's logged warnings become findings (W1xx)."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from conftest import write_book
from imprint.jobs.job import run_job
from imprint.typeset import engine, fence
from imprint.typeset.fence import pdfwrite
from test_parts import BOOK_METADATA, paged_job
from test_textdraw import ODD_TEXT

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_check(monkeypatch):
    """The check made again after the test changed what WeasyPrint looks like (and put it back)."""
    yield
    monkeypatch.undo()
    fence.recheck()


def test_the_installed_weasyprint_passes_the_check_with_every_patch_on():
    status = fence.recheck()
    assert status.weasyprint.startswith("70.") and status.pydyf.startswith("0.13")
    assert status.off == {} and all(fence.on(p) for p in fence.PATCHES)
    # every internal of the list is looked up for real: a name that is not there is seen
    import weasyprint.document
    assert fence._has(weasyprint.document, "Page._page_box")         # set by Page.__init__
    assert not fence._has(weasyprint.document, "Page._no_such_box")
    assert {i.kind for i in fence.INTERNALS} == {fence.SPEED, fence.REQUIRED}
    assert {i.use for i in fence.INTERNALS if i.kind == fence.SPEED} == set(fence.PATCHES)


def test_another_weasyprint_release_switches_every_speed_patch_off(monkeypatch, fresh_check):
    import weasyprint
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    status = fence.recheck()
    assert set(status.off) == set(fence.PATCHES)
    assert "WeasyPrint 71.0" in status.off["pagestyle"] and "WeasyPrint 70" in status.off["pagestyle"]


def test_a_missing_speed_internal_switches_its_patch_off_only(monkeypatch, fresh_check):
    from weasyprint.pdf import fonts
    monkeypatch.delattr(fonts.Font, "get_unused_glyph_id")
    status = fence.recheck()
    assert list(status.off) == ["textdraw"]
    assert "weasyprint.pdf.fonts.Font.get_unused_glyph_id" in status.off["textdraw"]


def test_a_missing_required_internal_is_a_tool_error_naming_versions_and_the_fix(monkeypatch, fresh_check):
    from imprint.errors import ExitCode, ToolError
    from weasyprint.layout import block
    monkeypatch.delattr(block, "_linebox_layout")
    with pytest.raises(ToolError) as caught:
        fence.recheck()
    text = str(caught.value)
    assert caught.value.exit_code == ExitCode.TOOL == 6
    assert "WeasyPrint 70.0" in text and "written for WeasyPrint 70" in text
    assert "weasyprint.layout.block._linebox_layout" in text and 'pip install "weasyprint>=70,<71"' in text


def test_a_build_without_a_required_internal_stops_with_one_line_and_exit_6(tmp_path):
    book = write_book(tmp_path / "book", "# One\n\nA line.\n", BOOK_METADATA)
    script = ("import sys, weasyprint.layout.block as b; del b._linebox_layout; "
              "from imprint.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", script, "--book", str(book), "--out", str(tmp_path / "out"),
                           "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 6, done.stderr
    lines = [line for line in done.stderr.splitlines() if "linebox" in line]
    assert len(lines) == 1 and 'pip install "weasyprint>=70,<71"' in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.pdf"))


def _uncompressed(pdf: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
                 deterministic_id=True)
    return out.getvalue()


def test_the_speed_patches_off_give_the_same_pdfs(tmp_path, monkeypatch, fresh_check):
    """A book with notes, running heads, small capitals, decorations and a missing glyph,
    both editions written in turn (the replay of textdraw in play), patches on and off."""
    # The manuscript check for characters no font has (G101) would stop this book before it is
    # laid out; here the .notdef drawing itself is under test, so that check stands aside.
    from imprint import checks
    monkeypatch.setattr(checks, "CHECKS", [c for c in checks.CHECKS if c.__name__ != "check_glyphs"])
    job = dataclasses.replace(paged_job(write_book(tmp_path / "book", ODD_TEXT, BOOK_METADATA)), part="chapter 1")
    fence.recheck()
    on = run_job(job)
    assert not [f for f in on.findings if f.code == "W190"]

    import weasyprint
    monkeypatch.setattr(weasyprint, "__version__", "71.0")      # not the release line: all off
    assert set(fence.recheck().off) == set(fence.PATCHES)
    pdfwrite.unpatch_pydyf()
    try:
        off = run_job(job)
    finally:
        monkeypatch.undo()
        fence.recheck()
        pdfwrite.patch_pydyf()
    assert [f.severity for f in off.findings if f.code == "W190"] == ["info"]
    assert set(on.pdfs) == set(off.pdfs) == {e.name for e in job.editions}
    for name in on.pdfs:
        # pydyf's compression level is a speed patch too: the streams are the same, compressed less
        assert on.pdfs[name] != off.pdfs[name]
        assert _uncompressed(on.pdfs[name]) == _uncompressed(off.pdfs[name])

    # with only the byte-for-byte patches off (pagestyle, notearea, textdraw), the very same bytes
    monkeypatch.setattr(fence, "_STATE", [fence.Status("70.0", "0.13.0", {p: "test" for p in
                                                                          ("pagestyle", "notearea", "textdraw")})])
    plain = run_job(job)
    monkeypatch.undo()
    assert plain.pdfs == on.pdfs


WARNED = """\
# One

A line with <span style="color: blurple">a colour no one knows</span> in it.

A second paragraph, and a character from a script no bundled font has: 漢.
"""


def test_weasyprints_warnings_are_findings_and_a_missing_glyph_fails_the_build(tmp_path):
    """A CSS value WeasyPrint ignores is W101 at its place in the manuscript; a character no
    font has stops the build before layout (G101, the manuscript check), and when one reaches
    WeasyPrint all the same it is W104, an error (the backstop), never a silent box."""
    book = write_book(tmp_path / "book", WARNED, BOOK_METADATA)
    done = subprocess.run([sys.executable, "build.py", "--book", str(book), "--out", str(tmp_path / "out"),
                           "--no-cache", "--edition", "pdf"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    text = book / "text.md"
    lines = WARNED.splitlines()
    glyph = lines[4].index("漢") + 1       # 1-based column
    g101 = [line for line in out.splitlines() if " G101 " in line]
    assert len(g101) == 1 and g101[0].startswith(f"{text}:5:{glyph}: error: G101 ") and "U+6F22" in g101[0], out
    (book / "text.md").write_text(WARNED.replace("漢", "Han"), encoding="utf-8")
    done = subprocess.run([sys.executable, "build.py", "--book", str(book), "--out", str(tmp_path / "out"),
                           "--no-cache", "--edition", "pdf"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    colour = lines[2].index("color") + 1
    w101 = [line for line in out.splitlines() if " W101 " in line]
    assert w101 and w101[0].startswith(f"{text}:3:{colour}: warning: W101 CSS `color: blurple` ignored in a style attribute")
    html = ('<!DOCTYPE html><html lang="en"><head></head><body><p>A character no font has: 漢.</p></body></html>')
    document, messages, refused = engine.render(html, tmp_path, book_root=tmp_path)
    engine.write(document, variant=None, full_fonts=False, identifier="x", messages=messages)
    found = engine.weasy_findings(messages, refused, None, text, html=html)
    w104 = [f for f in found if f.code == "W104"]
    assert len(w104) == 1 and w104[0].severity == "error" and "“漢” (U+6F22)" in w104[0].message


def test_a_stylesheet_warning_names_the_stylesheet_and_its_line(tmp_path):
    (tmp_path / "extra.css").write_text("p {\n  color: black;\n  colour: red;\n}\n@pagee { margin: 0 }\n",
                                        encoding="utf-8")
    html = ('<!DOCTYPE html><html lang="en"><head><link rel="stylesheet" href="extra.css"></head>'
            '<body><p>Text.</p></body></html>')
    fetched: list[str] = []
    _, messages, refused = engine.render(html, tmp_path, book_root=tmp_path, fetched=fetched)
    found = engine.weasy_findings(messages, refused, None, tmp_path / "book.yaml", html=html, fetched=fetched)
    lines = [f.format() for f in found]
    sheet = tmp_path / "extra.css"
    assert any(line.startswith(f"{sheet}:3:3: warning: W101 CSS `colour: red` ignored: unknown property")
               for line in lines), lines
    assert any(line.startswith(f"{sheet}:5:1: warning: W102 ") for line in lines), lines
    assert all(re.match(r".+: (warning|error|info): W1\d\d ", line) for line in lines)
