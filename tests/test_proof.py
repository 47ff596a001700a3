"""The proof (imprint/proof.py, `build.py proof`): every spread as the printed book shows it,
each finding marked on its page, the counts per check at the top, in one self-contained file."""

from __future__ import annotations

import base64
import io
import re

import pytest
from lxml import html as lhtml
from PIL import Image

from conftest import METADATA, run_cli
from imprint.checks import pages as page_checks
from imprint.proof import spreads

SMALL = METADATA + "trim: 5x8\n"
TEXT = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
        "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco.\n\n")
# A number too long for the measure and the margin: it runs off the page, a layout error.
RUNAWAY = "1234567890" * 9


def test_spreads_put_page_one_alone_on_the_right():
    assert spreads(1) == [(None, 1)]
    assert spreads(5) == [(None, 1), (2, 3), (4, 5)]
    assert spreads(6) == [(None, 1), (2, 3), (4, 5), (6, None)]


@pytest.fixture(scope="module")
def broken_proof(tmp_path_factory):
    """One tiny book with a layout error, proofed once for the module."""
    root = tmp_path_factory.mktemp("proof")
    book = root / "book"
    book.mkdir()
    (book / "book.yaml").write_text(SMALL, encoding="utf-8")
    (book / "text.md").write_text("# One\n\n" + TEXT + RUNAWAY + "\n\n" + TEXT * 8, encoding="utf-8")
    result = run_cli("proof", "--book", book, "--out", root / "out", "--edition", "pdf")
    return result, root / "out" / "a-tiny-book-proof.html"


def test_proof_is_written_even_when_the_layout_has_errors(broken_proof):
    result, path = broken_proof
    assert result.code == 1                     # the error is reported ...
    assert "error: L201 line 6: “123456789012345678901234567890123456789…” runs off the page" in result.err
    assert path.is_file()                       # ... and shown on the proof
    assert f"proof: {path} (pdf edition, 8 pages): 1 error," in result.out


def test_proof_shows_every_spread_as_the_book_opens(broken_proof):
    _, path = broken_proof
    doc = lhtml.fromstring(path.read_bytes())
    rows = [[side.get("class").split()[1] + (":" + side.xpath(".//div[@class='page']/@id")[0]
                                             if side.xpath(".//div[@class='page']") else "")
             for side in spread.xpath("./div")] for spread in doc.xpath("//section[@class='spread']")]
    assert rows == [["left", "right:page-1"], ["left:page-2", "right:page-3"], ["left:page-4", "right:page-5"],
                    ["left:page-6", "right:page-7"], ["left:page-8", "right"]]
    for img in doc.xpath("//div[@class='page']/img"):      # embedded: the file stands alone
        src = img.get("src")
        assert src.startswith("data:image/png;base64,")
        picture = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert picture.size == (int(img.get("width")), int(img.get("height"))) == (480, 768)   # 5 x 8 in at 96 dpi


def test_proof_marks_the_finding_on_its_page(broken_proof):
    _, path = broken_proof
    doc = lhtml.fromstring(path.read_bytes())
    page = doc.get_element_by_id("page-7")
    [mark] = page.xpath(".//div[contains(@class,'mark') and contains(@class,'sev-error')]")
    assert mark.get("title") == "L201 line 6: “123456789012345678901234567890123456789…” runs off the page"
    box = dict(re.findall(r"(left|top|width|height): ([\d.]+)%", mark.get("style")))
    left, top, width = float(box["left"]), float(box["top"]), float(box["width"])
    # The runaway line starts at the recto's inner margin plus the paragraph indent and runs past
    # the right edge: (0.7 in + 1.2 em of 11 pt) / 5 in = 17.67 %, and beyond 100 %.
    assert left == pytest.approx(17.67, abs=0.1) and left + width > 100 and 10 < top < 60
    notes = page.getparent().xpath("./ol[@class='notes']/li")
    assert [n.text_content().split(" — ")[0] for n in notes][:1] == [
        "1L201 line 6: “123456789012345678901234567890123456789…” runs off the page"]


def test_proof_counts_every_check(broken_proof):
    _, path = broken_proof
    doc = lhtml.fromstring(path.read_bytes())
    table = {row.xpath("./td")[0].text_content(): (row.xpath("./td")[1].text_content(),
                                                  int(row.xpath("./td")[2].text_content()))
             for row in doc.xpath("//header//tbody/tr")}
    assert set(page_checks.CODES) | {"L101", "L102"} <= set(table)
    assert table["L201"] == ("error", 1)
    assert table["L202"] == ("error", 0)
    assert table["L220"] == ("info", 1)
    assert doc.xpath("//header//tbody/tr[td[1]/a]/td[1]/a/@href")[0].startswith("#spread-")


def test_proof_of_a_paged_edition_only(tmp_path):
    result = run_cli("proof", "--book", tmp_path, "--edition", "epub")
    assert result.code == 2


def test_proof_of_the_print_edition_by_default(tmp_path):
    """The print edition, padding included: the spreads end with the blank pages KDP's
    minimum count asks for."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(SMALL, encoding="utf-8")
    (book / "text.md").write_text("# One\n\n" + TEXT * 3, encoding="utf-8")
    result = run_cli("proof", "--book", book, "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert "(print edition, 24 pages)" in result.out          # KDP prints 24 pages at least
    doc = lhtml.fromstring((tmp_path / "out" / "a-tiny-book-proof.html").read_bytes())
    assert doc.xpath("//div[@class='page']/@id")[-1] == "page-24"
    assert not doc.get_element_by_id("page-24").xpath(".//div[contains(@class,'mark')]")
    assert "P120" in doc.xpath("string(//ul[@class='unplaced'])")     # the padding, said at the top
