"""`build.py --validate`: EPUBCheck runs on every EPUB the build makes, its errors fail the
build (nothing is written) and its warnings are reported; without it the build stays off
the JVM."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import pytest

from conftest import BOOK, run_cli
from imprint.editions import epub
from imprint.editions import validate
from imprint.manuscript.load import load

needs_epubcheck = pytest.mark.skipif(bool(validate.epubcheck_unavailable_reason()),
                                     reason=validate.epubcheck_unavailable_reason() or "")


@needs_epubcheck
def test_a_valid_epub_passes_and_says_so(tmp_path):
    result = run_cli("--book", BOOK, "--out", tmp_path / "out", "--edition", "epub", "--validate", "-v")
    assert result.code == 0, result.err
    assert "EPUBCheck (epub)" in result.err
    slug = load(BOOK).slug
    report = json.loads((tmp_path / "out" / f"{slug}.report.json").read_text(encoding="utf-8"))
    assert not [f for f in report["findings"] if f["code"] in ("E203", "E204", "E205")]


def _broken(made):
    """The packaged EPUB with an element XHTML does not have in its first chapter file."""
    source = zipfile.ZipFile(io.BytesIO(made.data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("EPUB/text/") and info.filename.endswith(".xhtml") and b"</body>" in data:
                data = data.replace(b"</body>", b"<blink>not XHTML</blink></body>", 1)
            target.writestr(info, data)
    return dataclasses.replace(made, data=out.getvalue())


@needs_epubcheck
def test_an_epubcheck_error_fails_the_build_and_writes_nothing(tmp_path, monkeypatch):
    made = epub.package_edition
    monkeypatch.setattr(epub, "package_edition", lambda *a, **k: _broken(made(*a, **k)))
    result = run_cli("--book", BOOK, "--out", tmp_path / "out", "--edition", "epub", "--validate", "--no-cache")
    assert result.code != 0
    assert "error: E203 EPUBCheck RSC-005" in result.err and "blink" in result.err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    # without --validate the same build is not checked (and succeeds)
    assert run_cli("--book", BOOK, "--out", tmp_path / "plain", "--edition", "epub", "--no-cache").code == 0


def test_a_missing_epubcheck_is_an_error_when_asked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(validate, "epubcheck_unavailable_reason", lambda: "java is not installed")
    result = run_cli("--book", BOOK, "--out", tmp_path / "out", "--edition", "epub", "--validate", "--no-cache")
    assert result.code != 0
    assert "E205" in result.err and "java is not installed" in result.err
