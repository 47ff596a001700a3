"""The editions as built -> findings about their notes (N2xx).

- `inspect_pdf_notes(document, job)` runs inside the typesetting job (registered in
  `imprint/jobs/inspections.py`) on WeasyPrint's laid-out pages: each note drawn once, complete,
  with its number, a long note's continuation on the following pages, nothing past the
  page's foot or over the text, calls numbered in reading order. (A note that does not
  start on its call's page is L102, from the same inspections.)
- `check_epub_notes(data, notes)` re-opens the written EPUB: every noteref points at a
  footnote aside and every aside's backlink at its noteref, the numbers shown agree and run
  in reading order, there are as many notes as in the manuscript, and each note says what
  the manuscript's note says — which the PDF inspection checks too, so both editions carry
  the same notes under the same numbers.

Texts are compared by their letters and digits only: hyphenation, spacing and the
typography of punctuation differ between editions, the words may not.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from io import BytesIO

from lxml import etree, html as lhtml

from imprint.codes import meanings
from imprint.errors import Finding

CODES = meanings("N2")        # severities and meanings: imprint/codes.py

OPS = "http://www.idpf.org/2007/ops"
XHTML = "http://www.w3.org/1999/xhtml"
WORD = re.compile(r"[\W_]+", re.UNICODE)


def letters(text: str) -> str:
    """What two renderings of one text must share: its letters and digits, case kept."""
    return WORD.sub("", text or "")


# --- PDF: on the laid-out pages ---------------------------------------------------------

def note_texts(html: str) -> dict[int, str]:
    """The text of each note in the HTML a paged edition was set from (number -> text)."""
    doc = lhtml.document_fromstring(html)
    out: dict[int, str] = {}
    for el in doc.xpath('//*[contains(concat(" ", normalize-space(@class), " "), " footnote ")]'):
        ident = el.get("id") or ""
        number = el.get("data-note") or (ident[2:] if ident.startswith("fn") else "")
        if number.isdigit():
            out[int(number)] = out.get(int(number), "") + el.text_content()
    return out


def inspect_pdf_notes(document, job) -> list[Finding]:
    """Read every note off the laid-out pages and compare it with the note that was set."""
    from imprint.typeset.positions import note_pages
    return pdf_note_findings(note_pages(document), note_texts(job.html))


def pdf_note_findings(pages, expected: dict[int, str]) -> list[Finding]:
    """Findings about the notes on laid-out pages (`pages.note_pages`), given the text of
    every note as it was set (`note_texts`)."""
    from imprint.typeset.longnotes import problems

    out: list[Finding] = []
    drawn: dict[int, list] = {}
    for p in pages:
        for note in p.notes:
            drawn.setdefault(note.number, []).append((p.page, note))
    for n in sorted(drawn):
        parts = drawn[n]
        starts = [page for page, note in parts if note.piece == 0]
        if len(starts) > 1:
            out.append(Finding("N201", "error", f"note {n} is drawn {len(starts)} times (pages "
                               f"{', '.join(map(str, starts))})", page=starts[0]))
            continue
        first_page, first = min(parts, key=lambda item: (item[1].piece, item[0]))
        text = "".join(note.text for _, note in sorted(parts, key=lambda item: item[1].piece))
        if n in expected and letters(text) != letters(expected[n]):
            out.append(Finding("N202", "error", f"note {n} is not drawn as written: {_difference(expected[n], text)}",
                               page=first_page, hint="look at the page: the note may be cut off or overprinted"))
        if not letters(first.text).startswith(str(n)):
            out.append(Finding("N203", "error", f"note {n} is drawn without its number", page=first_page))
        ordered = sorted(parts, key=lambda item: item[1].piece)
        for (page_a, a), (page_b, b) in zip(ordered, ordered[1:]):
            if b.piece != a.piece + 1 or page_b not in (page_a, page_a + 1):
                out.append(Finding("N204", "error", f"note {n} does not run on from page {page_a} to the next page "
                                   f"(part {b.piece + 1} is on page {page_b})", page=page_a))
                break
    for n in sorted(drawn):
        pointer = next((page for page, note in drawn[n] if note.pointer), None)
        moved = next((page for page, note in drawn[n] if note.piece == 1), None)
        if pointer is not None and moved == pointer:
            out.append(Finding("N209", "warning", f"the pointer to note {n} on page {pointer} says the note is on "
                               f"the next page, but it is set on page {pointer} itself, below the pointer (the "
                               f"page changed after the note was moved on)", page=pointer,
                               hint="move the call a line or two, or shorten the note, and build again; the "
                                    "reader is sent overleaf for a note on the same page"))
        elif pointer is not None:
            out.append(Finding("N208", "warning", f"note {n} does not fit under its call on page {pointer} (it holds "
                               f"a block that cannot be cut: an image, a formula, a tall table row): it is set on "
                               f"page {moved}, and page {pointer} points to it", page=pointer,
                               hint="make the block smaller or move the call higher up its page"))
    for t in problems(pages):
        if t.kind == "foot":
            out.append(Finding("N205", "error", "notes run past the foot of the page", page=t.page,
                               hint="a note is taller than the page can hold; shorten it or split it into two notes"))
        elif t.kind == "over":
            out.append(Finding("N206", "error", "notes are drawn over the text", page=t.page))
    # First calls only: a table's header row, repeated on every page of the table, repeats its calls.
    calls = list(dict.fromkeys(n for p in pages for n in p.calls))
    if calls != sorted(calls):
        wrong = next(b for a, b in zip(calls, calls[1:]) if b < a)
        page = next(p.page for p in pages if wrong in p.calls)
        out.append(Finding("N207", "error", f"note calls are out of order: note {wrong} comes after a higher number",
                           page=page))
    return out


def _difference(expected: str, drawn: str) -> str:
    want, got = letters(expected), letters(drawn)
    if len(got) < len(want) and want.startswith(got):
        return f"it stops after “{_words(drawn, end=True)}”"
    if len(got) > len(want):
        return f"{len(got) - len(want)} more characters than the note has"
    i = next((k for k, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
    return f"they part at “{want[max(0, i - 10):i + 10]}”"


def _words(text: str, end: bool = False, count: int = 6) -> str:
    words = text.split()
    return " ".join(words[-count:] if end else words[:count])


# --- EPUB: the written file ------------------------------------------------------------

def check_epub_notes(data: bytes, notes: dict) -> list[Finding]:
    """Re-open the EPUB and follow every noteref and every backlink.

    `notes`: number -> the manuscript's note (anything with .blocks, lxml elements, as
    `render.Body.notes` holds), in order of first call."""
    with zipfile.ZipFile(BytesIO(data)) as z:
        docs = {name: etree.fromstring(z.read(name)) for name in _spine(z)}
    ids = {(name, el.get("id")): el for name, root in docs.items() for el in root.iter() if el.get("id")}
    out: list[Finding] = []
    refs = []
    for name, root in docs.items():
        for a in root.iter(f"{{{XHTML}}}a"):
            if "noteref" in (a.get(f"{{{OPS}}}type") or "").split():
                refs.append((name, a))
    asides = [(name, el) for name, root in docs.items() for el in root.iter(f"{{{XHTML}}}aside")
              if "footnote" in (el.get(f"{{{OPS}}}type") or "").split()]

    if len(refs) != len(notes) or len(asides) != len(notes):
        out.append(Finding("N214", "error", f"the EPUB has {len(refs)} noterefs and {len(asides)} footnotes; "
                           f"the manuscript has {len(notes)} notes", edition="epub"))
    for position, (name, a) in enumerate(refs, start=1):
        shown = "".join(a.itertext()).strip()
        target = _resolve(name, a.get("href", ""))
        aside = ids.get(target)
        if aside is None or aside.tag != f"{{{XHTML}}}aside" or \
                "footnote" not in (aside.get(f"{{{OPS}}}type") or "").split():
            out.append(Finding("N211", "error", f"noteref {shown or '?'} in {name} points at {a.get('href')!r}, "
                               "which is not a footnote", edition="epub"))
            continue
        back = next((b for b in aside.iter(f"{{{XHTML}}}a") if "doc-backlink" in (b.get("role") or "")), None)
        if back is None or ids.get(_resolve(target[0], back.get("href", ""))) is not a:
            out.append(Finding("N212", "error", f"footnote {shown} in {target[0]} does not link back to its noteref",
                               edition="epub"))
        label = "".join(back.itertext()).strip().rstrip(".") if back is not None else ""
        if shown != str(position) or (back is not None and label != shown):
            out.append(Finding("N213", "error", f"note {position} in reading order is shown as {shown!r}"
                               f" and its footnote as {label!r}", edition="epub"))
        if position in notes:
            text = words_of(aside)
            if back is not None:
                text = text.replace("".join(back.itertext()), "", 1)
            want = "".join(words_of(b) for b in notes[position].blocks)
            if letters(text) != letters(want):
                out.append(Finding("N215", "error", f"note {position} does not say what the manuscript's note says: "
                                   f"{_difference(want, text)}", edition="epub"))
    return out


def words_of(el) -> str:
    """An element's text, its formulas left out (MathML in the EPUB, TeX in pandoc's HTML: the
    same formula in two notations; each is checked when it is made, imprint/manuscript/math.py),
    and the numbers of its page references (placeholders until the pages are known; the numbers
    are checked against the pages by X204)."""
    out = []

    def walk(e):
        if not isinstance(e.tag, str):
            return
        if etree.QName(e).localname == "math" or (e.tag == "span" and "math" in (e.get("class") or "").split()):
            return
        if etree.QName(e).localname == "a" and "page-ref" in (e.get("class") or "").split():
            return      # a page reference: a placeholder in the manuscript's note, the print page in the EPUB
        out.append(e.text or "")
        for child in e:
            walk(child)
            out.append(child.tail or "")

    walk(el)
    return "".join(out)


def _spine(z: zipfile.ZipFile) -> list[str]:
    container = etree.fromstring(z.read("META-INF/container.xml"))
    opf_path = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").get("full-path")
    opf = etree.fromstring(z.read(opf_path))
    ns = {"opf": "http://www.idpf.org/2007/opf"}
    manifest = {i.get("id"): i.get("href") for i in opf.findall(".//opf:manifest/opf:item", ns)}
    base = posixpath.dirname(opf_path)
    return [posixpath.normpath(posixpath.join(base, manifest[r.get("idref")]))
            for r in opf.findall(".//opf:spine/opf:itemref", ns) if r.get("idref") in manifest]


def _resolve(current: str, href: str) -> tuple[str, str]:
    """(file in the zip, id) an href points at, seen from file `current`."""
    path, _, fragment = href.partition("#")
    name = posixpath.normpath(posixpath.join(posixpath.dirname(current), path)) if path else current
    return name, fragment
