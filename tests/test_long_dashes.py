"""Two- and three-em dashes (in no bundled face: without care they are .notdef boxes, W104)
are set as em dashes run solid, in every edition."""

from __future__ import annotations

import json
import zipfile

import pdfplumber

from conftest import run_cli, write_book


def test_two_and_three_em_dashes_are_set_solid_in_every_edition(tmp_path):
    book = write_book(tmp_path / "book", "# One\n\nMr. B⸺ came; a line left out:\n\n⸻\n\nand so on⸺here.\n")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert not [f for f in report["findings"] if f["code"] == "W104"]
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
        dashes = [c for page in pdf.pages for c in page.chars if c["text"] == "\u2014"]
    assert "Mr. B\u2014\u2014 came" in text and "\u2014\u2014\u2014" in text and "\u2e3a" not in text
    # run solid: each em dash is drawn 0.08 em into the one before it, the width of the side
    # bearings of Libertine's em dash (ink 35-699 of 742 units), so the strokes meet
    runs = sorted(dashes, key=lambda c: (round(c["top"]), c["x0"]))
    steps = [(b["x0"] - a["x1"]) / a["size"] for a, b in zip(runs, runs[1:])
             if round(a["top"]) == round(b["top"]) and b["x0"] - a["x1"] < 0]
    assert len(steps) == 4 and all(-0.085 < s < -0.075 for s in steps), steps
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        body = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert '<span class="long-dash">\u2014\u2014</span>' in body and '<span class="long-dash">\u2014\u2014\u2014</span>' in body
