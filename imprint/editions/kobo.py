"""An EPUB content document (XHTML bytes) -> the same document with the markup Kobo's kepub
reader expects: every sentence in a `span.koboSpan` numbered `kobo.<paragraph>.<sentence>`
(Kobo keeps reading statistics, highlights and bookmarks by them), the body's content inside
`div#book-columns > div#book-inner`, and Kobo's one style adjustment.

This follows the conventions of Kobo's own conversions as kepubify documents them
(https://github.com/pgaskin/kepubify); written here on lxml rather than adding a dependency.
"""

from __future__ import annotations

import re

from lxml import etree

XHTML = "http://www.w3.org/1999/xhtml"
STYLE = "div#book-inner { margin-top: 0; margin-bottom: 0; }"
# A sentence ends at . ! ? or : (with a closing quotation mark or ellipsis) and the space after it.
SENTENCE = re.compile(r".*?[.!?:]['\"”’“…]?\s*", re.S)
UNTOUCHED = {"script", "style", "pre", "audio", "video", "math", "svg"}
NEW_PARAGRAPH = {"p", "ol", "ul", "table"}


def kepub_document(data: bytes) -> bytes:
    """Kobo markup for one XHTML content document."""
    doc = etree.fromstring(data)
    head = doc.find(f"{{{XHTML}}}head")
    body = doc.find(f"{{{XHTML}}}body")
    style = etree.SubElement(head, f"{{{XHTML}}}style", {"type": "text/css", "class": "kobostylehacks"})
    style.text = STYLE
    style.tail = "\n"
    inner = etree.Element(f"{{{XHTML}}}div", {"id": "book-inner"})
    inner.text, body.text = body.text, None
    for child in list(body):
        inner.append(child)
    columns = etree.SubElement(body, f"{{{XHTML}}}div", {"id": "book-columns"})
    columns.append(inner)
    _Spans().element(body)
    return etree.tostring(doc, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


def sentences(text: str) -> list[str]:
    """The text cut after every sentence; the pieces join back to the text."""
    pieces = SENTENCE.findall(text)
    rest = text[sum(map(len, pieces)):]
    return pieces + ([rest] if rest else [])


class _Spans:
    """Numbering state for one document: paragraphs count up, sentences restart in each."""

    def __init__(self):
        self.paragraph = 0
        self.sentence = 0
        self.next_paragraph = False

    def element(self, el):
        name = etree.QName(el).localname
        if name in UNTOUCHED:
            return
        if name in NEW_PARAGRAPH:
            self.next_paragraph = True
        children = list(el)          # before any span of ours is added
        if el.text:
            spans = self.wrap(el.text, el)
            el.text = None
            _place(el, 0, spans)
        for child in children:
            if isinstance(child.tag, str):
                self.element(child)
            if child.tail:
                spans = self.wrap(child.tail, el)
                child.tail = None
                _place(el, el.index(child) + 1, spans)

    def wrap(self, text: str, parent) -> list:
        """Spans (and bare white space, outside paragraphs) for `text` placed in `parent`."""
        out = []
        for piece in sentences(text):
            if not piece.strip() and etree.QName(parent).localname != "p":
                out.append(piece)
                continue
            if self.next_paragraph:
                self.paragraph += 1
                self.sentence = 0
                self.next_paragraph = False
            self.sentence += 1
            span = etree.Element(f"{{{XHTML}}}span", {"class": "koboSpan",
                                                     "id": f"kobo.{self.paragraph}.{self.sentence}"})
            span.text = piece
            out.append(span)
        return out


def _place(parent, at: int, nodes):
    """Put spans (elements) and bare white space (strings) into `parent` from child position `at`."""
    for node in nodes:
        if isinstance(node, str):
            if at == 0:
                parent.text = (parent.text or "") + node
            else:
                parent[at - 1].tail = (parent[at - 1].tail or "") + node
        else:
            parent.insert(at, node)
            at += 1
