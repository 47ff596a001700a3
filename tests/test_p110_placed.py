"""P110 (an image below the printer's resolution) names the image file and sits at the
manuscript line that includes it, not at the print interior's PDF: a real book with images
made with Pillow, built for print (Amazon KDP, 6 × 9 in by default)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from PIL import Image

from conftest import run_cli, write_book

MANUSCRIPT = """\
# The Canal

Some text before the map.

![A map of the canal](images/map.png)

Some text between the pictures.

![A sharp photograph of the lock](images/sharp.png)

The keeper kept a seal.[^seal]

![The north gate](gates/north.png)

![The south gate](gates/south.png)

[^seal]: His seal: ![The keeper's seal](images/seal.png).
"""
MAP_LINE, SEAL_LINE, NORTH_LINE = 5, 17, 13


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("p110")
    book = write_book(folder / "canal", MANUSCRIPT)
    (book / "images").mkdir()
    (book / "gates").mkdir()
    Image.new("RGB", (600, 400), "gray").save(book / "images" / "map.png")       # 131 ppi across the text
    Image.new("RGB", (3000, 2000), "gray").save(book / "images" / "sharp.png")   # 655 ppi: fine
    Image.new("L", (40, 40), 90).save(book / "images" / "seal.png")
    Image.new("RGB", (500, 500), "white").save(book / "gates" / "north.png")     # one pixel size, two files
    Image.new("RGB", (500, 500), "black").save(book / "gates" / "south.png")
    out = folder / "out"
    run = run_cli(book, "--out", out, "--edition", "print")
    assert run.code == 0, run.err
    report = json.loads((out / "a-tiny-book.report.json").read_text(encoding="utf-8"))
    return book, out, run, report


def lines_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if " P110 " in line]


def test_the_finding_names_the_image_and_sits_at_its_line(built):
    book, _, run, _ = built
    lines = lines_of(run.err)
    low = [line for line in lines if "600 × 400 px" in line]
    assert len(low) == 1, run.err
    assert low[0].startswith(f"{book / 'text.md'}:{MAP_LINE}:"), low[0]
    assert " (page " in low[0] and ", print): warning: P110 images/map.png at 131 ppi (the printer wants 300): " \
        "600 × 400 px printed" in low[0], low[0]


def test_the_report_carries_the_file_line_page_and_name(built):
    book, _, _, report = built
    for findings in (report["findings"], report["preflight"]["findings"]):
        low = [f for f in findings if f["code"] == "P110" and "600 × 400 px" in f["message"]]
        assert len(low) == 1, findings
        f = low[0]
        assert (f["file"], f["line"], f["edition"]) == (str(book / "text.md"), MAP_LINE, "print"), f
        assert f["message"].startswith("images/map.png at 131 ppi"), f
        assert isinstance(f["page"], int) and f["page"] > 1, f


def test_a_sharp_image_gets_no_finding(built):
    _, _, run, report = built
    assert not any("sharp.png" in line or "3000 × 2000" in line for line in lines_of(run.err)), run.err
    assert not any("sharp.png" in f["message"] for f in report["findings"] if f["code"] == "P110")
    # Each finding names its file: the map, the seal, the gates; the sharp photograph none.
    named = {line.split(" P110 ", 1)[1].split(" at ", 1)[0] for line in lines_of(run.err)}
    assert named == {"images/map.png", "images/seal.png", "gates/north.png or gates/south.png (the same pixel size)"}, \
        run.err
    assert len(lines_of(run.err)) == 3, run.err


def test_an_image_in_a_note_is_placed_at_the_note(built):
    book, _, run, _ = built
    seal = [line for line in lines_of(run.err) if "40 × 40 px" in line]
    assert len(seal) == 1 and seal[0].startswith(f"{book / 'text.md'}:{SEAL_LINE}:"), run.err
    assert "P110 images/seal.png at " in seal[0], seal[0]


def test_two_files_of_one_pixel_size_are_both_named_at_the_first(built):
    book, _, run, _ = built
    gates = [line for line in lines_of(run.err) if "500 × 500 px" in line]
    assert len(gates) == 1 and gates[0].startswith(f"{book / 'text.md'}:{NORTH_LINE}:"), run.err
    assert "P110 gates/north.png or gates/south.png (the same pixel size) at " in gates[0], gates[0]
    assert "(pages " in gates[0], gates[0]         # one finding for both, naming their pages


def test_the_preflight_command_places_them_too(built):
    book, out, _, _ = built
    run = run_cli("preflight", book, "--out", out)
    low = [line for line in lines_of(run.err + run.out) if "600 × 400 px" in line]
    assert len(low) == 1 and low[0].startswith(f"{book / 'text.md'}:{MAP_LINE}:"), run.err + run.out
    report = json.loads((out / "a-tiny-book.report.json").read_text(encoding="utf-8"))
    f = next(f for f in report["preflight"]["findings"] if f["code"] == "P110" and "600 × 400" in f["message"])
    assert (f["line"], f["message"].split(" at ")[0]) == (MAP_LINE, "images/map.png"), f


def test_an_image_no_file_matches_keeps_the_pdf_as_its_place(built):
    from imprint.checks import origins
    from imprint.errors import Finding, Location
    from imprint.manuscript.load import load

    book, _, _, _ = built
    pdf = Finding("P110", "warning", "an image at 96 ppi (the printer wants 300): 123 × 45 px printed 1.28 × 0.47 in",
                  Location("a-tiny-book-print.pdf"), "supply more pixels", "print", 3)
    assert origins.place_images([pdf], load(book)) == [pdf]
    placed = origins.place_images([dataclasses.replace(pdf, message=pdf.message.replace("123 × 45", "600 × 400"))],
                                  load(book))
    assert placed[0].where.line == MAP_LINE and placed[0].page == 3


def test_a_photograph_turned_by_its_orientation_is_named_not_a_file_of_the_swapped_size(tmp_path):
    """A JPEG stored 640 × 480 whose EXIF orientation (6) turns it is drawn 480 × 640: it is
    matched at that size, first and at its own line (review rev15b: a portrait PNG stored 480 ×
    640 was named alone, at its line); the PNG, of the same drawn size, is named beside it."""
    book = write_book(tmp_path / "book", "# One\n\nText.\n\n![A turned photograph](rot.jpg)\n\n"
                      "Text.\n\n![A small portrait](portrait.png){width=5%}\n")
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (640, 480), "gray").save(book / "rot.jpg", exif=exif.tobytes())
    Image.new("RGB", (480, 640), "white").save(book / "portrait.png")
    run = run_cli(book, "--out", tmp_path / "out", "--edition", "print")
    assert run.code == 0, run.err
    found = lines_of(run.err)
    assert len(found) == 1 and " P110 rot.jpg or portrait.png (the same pixel size) at " in found[0], found
    assert found[0].startswith(f"{book / 'text.md'}:5:"), found
