"""A manuscript is untrusted: it reaches nothing outside its book, fetches nothing, runs
nothing, and its metadata is shown as written. Real builds, real outputs."""

from __future__ import annotations

import http.server
import io
import re
import threading
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import run_cli, write_book

from imprint.manuscript import pandoc
from imprint.html import render
from imprint.manuscript import look as looks
from imprint.manuscript import sanitize
from imprint.typeset import engine
from imprint.errors import Location
from imprint.manuscript.load import load


# --- a loopback listener that must hear nothing ---------------------------------------------

def tiny_png() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


class Listener:
    """An HTTP server on 127.0.0.1 that records every connection and request. It serves a
    tiny PNG for *.png, and shuts itself down after `lifetime` seconds whatever happens."""

    def __init__(self, lifetime: float = 600):
        self.connections: list[str] = []
        self.requests: list[str] = []
        self.lifetime = lifetime

    def __enter__(self):
        listener, png = self, tiny_png()

        class Handler(http.server.BaseHTTPRequestHandler):
            def setup(self):
                listener.connections.append(self.client_address[0])
                super().setup()

            def do_GET(self):
                listener.requests.append(self.path)
                body = png if self.path.endswith(".png") else b"body { color: red }"
                self.send_response(200)
                self.send_header("Content-Type", "image/png" if self.path.endswith(".png") else "text/css")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()
        self.timer = threading.Timer(self.lifetime, self.server.shutdown)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# Everything a manuscript can do to name a URL; none of it is an error, so the build runs.
REMOTE_MANUSCRIPT = """\
# Remote things

A Markdown image ![remote]({u}/md.png) and a [Markdown link]({u}/mdlink) and <{u}/autolink>.

<img src="{u}/raw.png" alt="raw image"> <img src="local.png" srcset="{u}/srcset.png 2x" alt="local">

<p style="background: url({u}/bg.png)">A styled paragraph.</p>

[A styled span]{{style="background-image: url('{u}/span.png')"}}

<style>@import url("{u}/import.css"); body {{ background: url({u}/body.png) }}</style>

<link rel="stylesheet" href="{u}/link.css">

<iframe src="{u}/frame.html"></iframe>

<object data="{u}/object.svg">object fallback</object>

<embed src="{u}/embed.svg">

<video poster="{u}/poster.png" src="{u}/video.mp4"></video>

<svg width="10" height="10"><image href="{u}/svgimage.png" width="10" height="10"/></svg>

<form action="{u}/form"><input type="image" src="{u}/input.png"></form>

<meta http-equiv="refresh" content="0;url={u}/refresh">

<base href="{u}/base/">

<table background="{u}/table.png"><tr><td>A cell</td></tr></table>

A <a href="{u}/rawlink">raw link</a> and an <a rel="attachment" href="{u}/attach.bin">attachment</a>.

<link rel="attachment" href="{u}/attach2.bin">

Text with a note.[^1]

[^1]: A note with a remote image ![in note]({u}/note.png).
"""

LITERAL_TITLE = "{{ 7*7 }} <script>alert(1)</script> & {% if true %}x{% endif %}"
REMOTE_METADATA = """\
title: "{title}"
author: "<b>Bold</b> Author"
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000007
date: 2020-01-01
description: "See {u}/description and <img src='{u}/desc.png'>"
publisher: "<img src='{u}/publisher.png'>"
cover-image: "{u}/cover.png"
"""


def remote_book(folder: Path, base: str) -> Path:
    book = write_book(folder, REMOTE_MANUSCRIPT.format(u=base),
                      REMOTE_METADATA.format(u=base, title=LITERAL_TITLE.replace('"', '\\"')))
    (book / "local.png").write_bytes(tiny_png())
    return book


@pytest.fixture(scope="module")
def remote_build(tmp_path_factory):
    """The remote book built (PDF + EPUB) while a loopback listener waits for requests."""
    root = tmp_path_factory.mktemp("remote")
    with Listener() as listener:
        book = remote_book(root / "book", listener.base)
        result = run_cli("--book", book, "--out", root / "out")
    return result, listener, root / "out", book


def test_a_build_fetches_nothing(remote_build):
    result, listener, out, _ = remote_build
    assert result.code == 0, result.err
    assert listener.connections == [] and listener.requests == []


def test_remote_images_are_reported_with_their_line(remote_build):
    result, *_ = remote_build
    lines = [line for line in result.err.splitlines() if " R003 " in line]
    assert any(re.match(r".*text\.md:3:\d+: warning: R003 remote image 'http://127.0.0.1:\d+/md\.png'", line) for line in lines)
    assert any("text.md:5:" in line and "raw.png" in line for line in lines)
    assert any("note.png" in line and "text.md:39:" in line for line in lines), lines   # in the note's definition
    assert any("book.yaml:8:" in line and "cover.png" in line for line in lines)


def test_removals_are_reported_with_their_line(remote_build):
    result, *_ = remote_build
    err = result.err
    for code, line in [("S113", 7), ("S113", 9), ("S112", 11), ("S112", 13), ("S110", 15), ("S110", 17),
                       ("S110", 19), ("S110", 21), ("S110", 23), ("S111", 25), ("S112", 27), ("S112", 29),
                       ("S114", 31), ("S114", 33), ("S112", 35), ("S114", 5)]:
        assert re.search(rf"text\.md:{line}:\d+: warning: {code} ", err), (code, line, err)


def epub_documents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.endswith((".xhtml", ".opf", ".ncx"))}


FORBIDDEN_ELEMENTS = {"script", "iframe", "object", "embed", "applet", "frame", "frameset", "form", "input",
                      "button", "select", "textarea", "base", "style", "svg", "math", "audio", "video",
                      "canvas", "source", "track", "noscript", "template"}
URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "background", "action", "formaction", "data",
                  "{http://www.w3.org/1999/xlink}href", "cite", "longdesc"}


def forbidden(tree) -> list[str]:
    """Every forbidden element and attribute in an (X)HTML tree."""
    problems = []
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        name = etree.QName(el).localname.lower()
        if name in FORBIDDEN_ELEMENTS:
            problems.append(f"<{name}>")
        if name == "meta" and el.get("http-equiv"):
            problems.append("<meta http-equiv>")
        if name == "link" and (el.get("rel") != "stylesheet" or sanitize.is_remote(el.get("href", ""))):
            problems.append(f"<link rel={el.get('rel')}>")
        for attr, value in el.attrib.items():
            local = etree.QName(attr).localname.lower() if attr.startswith("{") else attr.lower()
            if local.startswith("on"):
                problems.append(f"{name}@{local}")
            if local == "style" and re.search(r"url\s*\(|@import|expression", value, re.I):
                problems.append(f"{name}@style={value}")
            if attr in URL_ATTRIBUTES or local in URL_ATTRIBUTES:
                scheme = sanitize.scheme(value)
                if scheme in ("javascript", "vbscript", "file") or (scheme == "data" and name != "img"):
                    problems.append(f"{name}@{local}={value}")
                if local != "href" and sanitize.is_remote(value):
                    problems.append(f"{name}@{local}={value} (remote)")
                if local in ("srcset", "poster", "background", "action", "formaction", "data"):
                    problems.append(f"{name}@{local}")
            if local == "rel" and "attachment" in value:
                problems.append(f"{name}@rel=attachment")
    return problems


def test_epub_holds_no_forbidden_element_or_attribute(remote_build):
    result, _, out, book = remote_build
    epub = next(out.glob("*.epub"))
    docs = epub_documents(epub)
    text_docs = {n: d for n, d in docs.items() if n.endswith(".xhtml")}
    assert any(b"A styled paragraph" in d for d in text_docs.values())     # the text itself is there
    for name, data in text_docs.items():
        assert forbidden(etree.fromstring(data)) == [], name
    # No resource of the EPUB points off the package except plain links to web pages.
    for name, data in text_docs.items():
        tree = etree.fromstring(data)
        for el in tree.iter("{http://www.w3.org/1999/xhtml}img"):
            assert not sanitize.is_remote(el.get("src", "")), (name, el.get("src"))


def test_paged_html_holds_no_forbidden_element_or_attribute(tmp_path):
    book = remote_book(tmp_path / "book", "http://127.0.0.1:9")
    loaded = load(book)
    body = render.body_html(loaded)
    html = render.paged_html(loaded, body, typeset_edition())
    tree = etree.HTML(html)
    # our own stylesheets are the only links: the faces' @font-face rules made here (a data: URL of
    # imprint's own text, manuscript/look.py), then book, highlight and the edition's from styles/
    links = list(tree.iter("link"))
    hrefs = [el.get("href") for el in links]
    assert len(links) == 4 and hrefs[0] == render.css_uri(looks.font_css(loaded.look))
    assert all(h.startswith(render.STYLES.as_uri()) for h in hrefs[1:])
    for el in links:
        el.getparent().remove(el)
    assert forbidden(tree) == []
    assert "A styled paragraph" in html and "127.0.0.1:9/md.png" not in html


def typeset_edition():
    from imprint.specs.editions import EDITIONS
    return EDITIONS["pdf"]


def test_pdf_carries_no_script_attachment_or_remote_action(remote_build):
    import pikepdf
    _, _, out, _ = remote_build
    pdf_path = next(out.glob("*.pdf"))
    with pikepdf.open(pdf_path) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
        assert "/OpenAction" not in pdf.Root and "/AA" not in pdf.Root
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                action = annot.get("/A", {})
                assert action.get("/S") in (None, "/URI", "/GoTo"), action
                uri = str(action.get("/URI", ""))
                assert not uri.lower().startswith(("javascript:", "file:")), uri
                assert annot.get("/Subtype") != "/FileAttachment"
    raw = pdf_path.read_bytes()
    assert b"/JavaScript" not in raw and b"/JS " not in raw


def test_metadata_is_shown_literally_in_the_pdf(remote_build):
    import pdfplumber
    _, _, out, _ = remote_build
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages[:4])
        title = pdf.metadata.get("Title")
    assert "{{ 7*7 }}" in text and "<script>alert(1)</script>" in text and "{% if true %}" in text
    assert "<b>Bold</b> Author" in text
    # Evaluated, `{{ 7*7 }}` would read 49 where the title is (the text elsewhere may hold a
    # random port number, so look at the title's own place only).
    assert not re.search(r"(^|\s)49(\s|$)", text.split("{{ 7*7 }}")[0][-40:])
    assert title == LITERAL_TITLE


def test_metadata_is_shown_literally_in_the_epub(remote_build):
    _, _, out, _ = remote_build
    docs = epub_documents(next(out.glob("*.epub")))
    title_page = etree.fromstring(docs["EPUB/text/titlepage.xhtml"])
    text = "".join(title_page.itertext())
    assert LITERAL_TITLE in text and "<b>Bold</b> Author" in text
    opf = etree.fromstring(docs["EPUB/content.opf"])
    titles = [t.text for t in opf.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert LITERAL_TITLE in titles
    for name, data in docs.items():
        assert b"<script" not in data and b"<b>Bold" not in data, name


def test_remote_images_only_with_the_flag_and_only_for_the_pdf(tmp_path):
    with Listener() as listener:
        book = remote_book(tmp_path / "book", listener.base)
        result = run_cli("--book", book, "--out", tmp_path / "out", "--allow-remote-images")
    assert result.code == 0, result.err
    # exactly the images the manuscript names, nothing from styles, frames, forms or links
    assert sorted(listener.requests) == ["/md.png", "/note.png", "/raw.png"]
    import pikepdf
    with pikepdf.open(next((tmp_path / "out").glob("*.pdf"))) as pdf:
        images = sum(len(page.get_images()) for page in pdf.pages)
    assert images >= 3
    for name, data in epub_documents(next((tmp_path / "out").glob("*.epub"))).items():
        for image in (b"md.png", b"raw.png", b"note.png"):
            assert b"127.0.0.1:%d/%s" % (listener.port, image) not in data, name


# --- raw HTML that is refused -------------------------------------------------------------

REFUSED = [
    ("<script>alert(1)</script>", "S101"),
    ('<svg><script>alert(1)</script></svg>', "S101"),
    ('<img src="local.png" onerror="alert(1)">', "S102"),
    ('<div onclick="alert(1)">text</div>', "S102"),
    ('[text]{onmouseover="alert(1)"}', "S102"),
    ("[click](javascript:alert(1))", "S103"),
    ('<a href="java&#x09;script:alert(1)">x</a>', "S103"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "S103"),
    ('<a href="#fn1" class="footnote-ref">1</a>', "S104"),
    ("[x](#fn1){.footnote-ref}", "S104"),
    ('<video src="local.png">', "S105"),
    ("<style>p { color: red }", "S105"),
]


@pytest.mark.parametrize("markup,code", REFUSED, ids=[c + ":" + m[:20] for m, c in REFUSED])
def test_active_content_is_refused_with_its_line(tiny_book, tmp_path, markup, code):
    book = tiny_book(f"# Chapter\n\nSome text.\n\n{markup}\n")
    (book / "local.png").write_bytes(tiny_png())
    result = run_cli("--book", book, "--out", tmp_path / "out")
    assert result.code == 1
    assert re.search(rf"text\.md:5:\d+: error: {code} ", result.err), result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_sanitizer_keeps_everything_pandoc_makes_of_plain_markdown():
    markdown = """\
# Heading {#h1}

Paragraph with *emphasis*, **strong**, ~~struck~~, ^super^, ~sub~, `code`, [small caps]{.smallcaps},
a [link](https://example.org "title"), an [internal link](#h1), an e-mail <a@b.org>, and a note.[^n]

> A quote with a list:
>
> 1. one
> 2. two

3. three
4. four

Term
:   Definition

| Left | Right |
|:-----|------:|
| a    | b     |

: A caption

| line
|   block

```python
def f(): return 1
```

- - -

![A figure](local.png){width=50%}

[^n]: A note with *emphasis*.

    And a second paragraph.
"""
    ast = pandoc.to_ast(markdown, Location("x"))
    html = pandoc.ast_to_html(ast, Location("x"))
    def normalise(text):            # nh3 writes style declarations compactly
        tree = etree.HTML(text)
        for el in tree.iter():
            if el.get("style"):
                el.set("style", el.get("style").replace(" ", "").rstrip(";"))
        return etree.tostring(tree, method="c14n")
    assert b'class="smallcaps"' in normalise(html) and b"<figure>" in normalise(html)
    assert normalise(sanitize.clean_html(html)) == normalise(html)


def test_sanitizer_removes_what_it_reports():
    dirty = ('<p onclick="x()" style="color: red; position: fixed">a <a href="javascript:x()">b</a>'
             '<img src="data:image/svg+xml,<svg/>" alt=""><img src="data:image/png;base64,AA" alt="">'
             '<iframe src="x"></iframe><form><input></form><meta http-equiv="refresh" content="0">'
             '<svg><script>x()</script></svg><font color="red">kept</font></p>')
    clean = sanitize.clean_html(dirty)
    tree = etree.HTML(clean)
    assert forbidden(tree) == []
    assert "kept" in clean and 'style="color:red"' in clean and "data:image/png" in clean
    assert "svg+xml" not in clean


# --- containment: files outside the book --------------------------------------------------

@pytest.fixture
def outside(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(tiny_png())
    return secret


@pytest.mark.parametrize("target", ["../secret.png", "{abs}", "file://{abs}", "link.png", "sub/../../secret.png"])
def test_images_outside_the_book_are_refused(tiny_book, tmp_path, outside, target):
    book = tiny_book(f"# Chapter\n\nText.\n\n![image]({target.format(abs=outside)})\n")
    (book / "link.png").symlink_to(outside)
    (book / "sub").mkdir()
    result = run_cli("check", "--book", book)
    assert result.code == 1
    assert re.search(r"text\.md:5:\d+: error: R002 image ", result.err), result.err


def test_raw_html_image_and_file_link_outside_are_refused(tiny_book, outside):
    book = tiny_book(f'# Chapter\n\n<img src="../secret.png">\n\n[a file](file://{outside})\n')
    result = run_cli("check", "--book", book)
    assert re.search(r"text\.md:3:\d+: error: R002 image '\.\./secret\.png'", result.err), result.err
    assert re.search(r"text\.md:5:\d+: error: R002 link 'file://", result.err), result.err


def test_the_fetcher_serves_only_the_book(tmp_path, outside):
    book = tmp_path / "book"
    book.mkdir()
    (book / "in.png").write_bytes(tiny_png())
    (book / "link.png").symlink_to(outside)
    (book / "a").mkdir()
    (book / "a" / "b;c").symlink_to(outside)        # urllib reads ';' paths its own way
    (book / "a" / "b").write_bytes(b"x")
    fetcher = engine.make_fetcher((book,))
    assert fetcher.fetch((book / "in.png").as_uri()).read() == tiny_png()
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"
    refused = [(book / "link.png").as_uri(), (book / "a" / "b;c").as_uri(), (book / "a").as_uri() + "/b;c",
               outside.as_uri(), (book / ".." / "secret.png").as_uri(), "file://otherhost" + str(book / "in.png"),
               "http://127.0.0.1:9/x.png", "https://example.org/x.png", "ftp://example.org/x"]
    for url in refused:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    kinds = [kind for kind, _ in fetcher.refused]
    assert kinds.count("outside") == 6 and kinds.count("remote") == 3


def test_a_missing_font_or_stylesheet_is_an_error(tmp_path):
    html = ('<html><head><style>@font-face { font-family: X; src: url(nofont.otf) }</style>'
            '<link rel="stylesheet" href="nostyle.css"></head><body><p style="font-family: X">x</p></body></html>')
    document, _, refused = engine.render(html, tmp_path, book_root=tmp_path)
    findings = engine.weasy_findings([], refused, None, tmp_path / "book.yaml")
    assert sorted(f.code for f in findings) == ["R001", "R001"]
    assert all(f.severity == "error" for f in findings)


def test_output_folder_inside_the_book_is_refused(tiny_book):
    book = tiny_book("# Chapter\n\nText.\n")
    before = {p: p.read_bytes() for p in book.rglob("*") if p.is_file()}
    result = run_cli("--book", book, "--out", book / "dist")
    assert result.code == 2 and "inside the book folder" in result.err
    assert {p: p.read_bytes() for p in book.rglob("*") if p.is_file()} == before


def test_the_checks_walk_the_book_once_for_raw_html_links_and_notes(tiny_book, monkeypatch):
    # The raw-HTML policy, the link check and the note checks read the same walk of the AST
    # (a long book's walk is 0.2-0.5 s): it is made once per book, and a new book gets its own.
    from imprint import checks
    from imprint.manuscript import sanitize
    from imprint.manuscript.load import load

    walks = []
    real = sanitize._items
    monkeypatch.setattr(sanitize, "_items", lambda ast, *more: walks.append(ast) or real(ast, *more))
    book = load(tiny_book("# One\n\nA [link](https://example.org) and <b>bold</b>.[^1]\n\n[^1]: ![x](nope.png)\n"))
    found = checks.check(book)
    assert len(walks) == 1
    assert {"R001"} <= {f.code for f in found}            # the image in the note is still judged
    [note] = sanitize.notes(book.ast)                       # the note's content, from the same walk
    assert "nope.png" in repr(note)
    assert len(walks) == 1
    other = load(tiny_book("# Two\n\nPlain.\n"))
    checks.check(other)
    assert len(walks) == 2 and walks[1] is other.ast
