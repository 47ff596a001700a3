"""The book's own images travel into the EPUB; nothing else does."""

import zipfile

from lxml import etree
from PIL import Image

from conftest import run_cli
from imprint.editions import validate

NS = {"x": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf"}


def test_local_images_are_packaged_and_linked(tiny_book, tmp_path):
    book = tiny_book("# One\n\n![A red square](figures/red.png)\n\nText and a remote one: "
                     "![Remote](https://example.invalid/x.png)\n")
    (book / "figures").mkdir()
    Image.new("RGB", (600, 600), "red").save(book / "figures" / "red.png")
    result = run_cli("--book", book, "--out", tmp_path / "o", "--edition", "epub", "-q")
    assert result.code == 0, result.err
    epub = tmp_path / "o" / "a-tiny-book.epub"
    with zipfile.ZipFile(epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        items = {i.get("href"): i.get("media-type") for i in opf.xpath("//opf:item", namespaces=NS)}
        images = [h for h, t in items.items() if t == "image/png"]
        assert len(images) == 1 and images[0].startswith("images/red-")
        text = etree.fromstring(z.read("EPUB/text/chapter-001.xhtml"))
        srcs = [i.get("src") for i in text.iter(f"{{{NS['x']}}}img")]
        assert srcs == ["../" + images[0]]
        assert z.read("EPUB/" + images[0])[:4] == b"\x89PNG"
        assert b"example.invalid" not in b"".join(z.read(n) for n in z.namelist())
    assert [m for m in validate.run_epubcheck(epub) if m.severity in ("error", "warning")] == []
