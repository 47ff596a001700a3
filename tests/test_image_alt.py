"""An image with no description (alt text) is named (R006, warning): a screen reader says
nothing for it and the EPUB fails Ace's image-alt rule. Ornament is marked {.decorative}
(Markdown) or with an explicit alt="" / role="presentation" (raw HTML): it gets alt="" and
role="presentation" and no finding. Before, `![](plate.png)` built with exit 0, an <img>
without alt in the EPUB and no word to the author."""

from __future__ import annotations

import json
import zipfile

from lxml import etree

from conftest import run_cli, write_book
from test_security import tiny_png

TEXT = """\
# One

A first paragraph of ordinary words.

![](bare.png)

A second paragraph with ![](inline.png) an image inside it.

![A described plate](described.png)

A rule of ornament: ![](rule.png){.decorative} and more words.

<img src="raw.png" alt="">

<img src="rawbare.png">
"""


def test_images_without_description_are_named_and_ornament_is_marked(tmp_path):
    book = write_book(tmp_path / "book", TEXT)
    for name in ("bare", "inline", "described", "rule", "raw", "rawbare"):
        (book / f"{name}.png").write_bytes(tiny_png())
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "epub")
    assert result.code == 0, result.err[-3000:]
    report = json.loads(next(out.glob("*.report.json")).read_text())
    named = sorted((f["message"].split("'")[1], f["line"]) for f in report["findings"]
                   if isinstance(f, dict) and f["code"] == "R006")
    assert named == [("bare.png", 5), ("inline.png", 7), ("rawbare.png", 15)]
    assert all("{.decorative}" in f["hint"] for f in report["findings"] if isinstance(f, dict) and f["code"] == "R006")
    imgs = {}
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        for name in z.namelist():
            if name.endswith(".xhtml"):
                for img in etree.fromstring(z.read(name)).iter("{http://www.w3.org/1999/xhtml}img"):
                    stem = img.get("src").rsplit("/", 1)[-1].split("-")[0]
                    imgs[stem] = (img.get("alt"), img.get("role"))
    assert imgs["rule"] == ("", "presentation")
    assert imgs["described"][0] == "A described plate"
    assert imgs["raw"][0] == ""


def test_the_pdf_names_an_image_without_description_once(tmp_path):
    """The PDF edition's tagging (WeasyPrint's "has no required alt description") said it again,
    as W106 at book.yaml; R006 at the image's file:line is the one finding."""
    book = write_book(tmp_path / "book", TEXT)
    for name in ("bare", "inline", "described", "rule", "raw", "rawbare"):
        (book / f"{name}.png").write_bytes(tiny_png())
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err[-3000:]
    codes = [f["code"] for f in json.loads(next(out.glob("*.report.json")).read_text())["findings"]]
    assert codes.count("R006") == 3 and "W106" not in codes, codes
