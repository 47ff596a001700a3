#!/usr/bin/env python3
"""Our PDF against a Typst setting of the same manuscript: word spacing and hyphenation, measured alike.

    python scripts/typeset_compare.py book/essay.md --ours /tmp/kp-base/the-....pdf
    python scripts/typeset_compare.py ../shared/corpus/communist-manifesto/book.md --ours X.pdf --typst-pdf /tmp/cm-typst.pdf

The manuscript is converted with pandoc (`-t typst`) and compiled with the `typst` package
(test extra) in the book's face, size and leading (its `mainfont`, `fontsize`, `linestretch`:
imprint/manuscript/look.py; the house's Linux Libertine O, 11 pt on 14.4 pt unless the book
names others), on the page and text block of our PDF (its margins are read off the built
PDF), in its language and hyphenation. Both PDFs are then measured by `measure()`:

- lines are pdfplumber's characters grouped by page and baseline; a body line is set in
  the text size, a note line in 9 pt below the page's last body line (running heads, folios
  and quotes are left out; a note call, smaller and raised, counts in the line it stands in);
- a justified line reaches the right edge of the text block and is not the last of the
  block on its page that ends short; its word space is the mean gap between words against
  the face's natural space (hmtx of the space glyph × size / unitsPerEm);
- a hyphenated line end is a line ending in '-', U+2010 or a soft hyphen with a letter
  before it and a lowercase letter starting the next line; it is *added* when the two
  pieces joined without the hyphen are a word of the manuscript and joined with it are not;
- a run of three is three consecutive hyphenated lines; a recto's foot (for the hyphen) is
  the last body line of an odd page;
- a spread is pages 2k, 2k+1; the foot of a page is its text block's last baseline, body or
  note, as a typesetter measures it: a page with notes ends on the note area's last baseline
  (`feet()`). "spreads uneven >1pt" counts the spreads whose feet differ by more than 1 pt,
  leaving out those where a chapter ends ("chapter-end spreads": the verso or recto is the
  last page before a blank page, the end, or a chapter's opening page); "body-only uneven
  >1pt" is the older measure, the last 11 pt body lines of every spread compared, notes
  ignored and chapter ends counted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FONT_DIR = ROOT / "styles" / "fonts" / "libertine"
FONT = FONT_DIR / "LinLibertine_R.otf"
HYPHENS = ("-", "\u2010", "\u00ad")
SIZE = 11.0
NOTE_SIZE = 9.0


LEADING = 14.4


@dataclass(frozen=True)
class Setting:
    """The book's running text as our PDF sets it: the face's regular file, size and leading."""
    font: Path = FONT
    size: float = SIZE
    leading: float = LEADING

    @property
    def family(self) -> str:
        """The family name Typst knows the face by (the file's own: typographic family, else family)."""
        from fontTools.ttLib import TTFont
        names = TTFont(str(self.font))["name"]
        return str(names.getDebugName(16) or names.getDebugName(1))


def book_setting(manuscript: Path) -> Setting:
    """The face, size and leading of the book `manuscript` belongs to (its front matter, or the
    metadata file of its folder), as imprint/manuscript/look.py resolves them."""
    sys.path.insert(0, str(ROOT))
    from imprint.manuscript import look as looks
    from imprint.manuscript.load import METADATA_NAMES, read_text, split_front_matter
    from imprint.manuscript.metadata import build_metadata, key_lines, parse_yaml
    front, _, _ = split_front_matter(read_text(manuscript))
    if front is not None:
        source, root, offset = manuscript, manuscript.parent, 1
    else:
        root = manuscript.parent
        source = next((root / n for n in METADATA_NAMES if (root / n).is_file()), None)
        if source is None:
            return Setting()
        front, offset = read_text(source), 0
    node, data = parse_yaml(front, source, line_offset=offset)
    metadata, _ = build_metadata(data, key_lines(node, offset), source)
    look = looks.resolve(root, metadata)
    size = look.fontsize or looks.HOUSE_SIZE
    leading = round(looks.HOUSE_LEADING * size / looks.HOUSE_SIZE * (look.linestretch or 1.0), 2)
    return Setting(Path(looks.measured_files(look)[0]), size, leading)


def natural_space(font: Path = FONT, size: float = SIZE) -> float:
    """The face's own word space at `size`, in points."""
    from fontTools.ttLib import TTFont
    f = TTFont(str(font))
    glyph = f.getBestCmap()[32]
    return f["hmtx"][glyph][0] * size / f["head"].unitsPerEm


def _lines(pdf_path: Path, size_of_text: float = SIZE):
    """[(page_number, kind, [chars])] in reading order; kind is 'body' (set in `size_of_text`) or 'note'."""
    import pdfplumber
    out = []
    with pdfplumber.open(str(pdf_path)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            rows = defaultdict(list)
            smaller = []            # note calls set smaller and raised: part of the line they stand in
            for c in page.chars:
                if c["text"].isspace() and c["text"] != "\u00ad":
                    continue
                size = round(c["size"], 1)
                if abs(size - size_of_text) < 0.3:
                    kind = "body"
                elif abs(size - NOTE_SIZE) < 0.3:
                    kind = "note"
                else:
                    if size < NOTE_SIZE - 0.3:
                        smaller.append(c)
                    continue
                rows[(kind, round(c["bottom"]))].append(c)
            merged: dict = {}
            for (kind, y), chars in sorted(rows.items(), key=lambda kv: kv[0][1]):
                near = [k for k in merged if k[0] == kind and abs(k[1] - y) <= 1]
                merged.setdefault(near[0] if near else (kind, y), []).extend(chars)
            # A smaller character whose middle lies within a line's height (a note call, raised
            # and smaller) belongs to that line: left out, the gap it stands in would be measured
            # as one wide word space (Typst sets its calls as superior figures of the text's size).
            for c in smaller:
                middle = (c["top"] + c["bottom"]) / 2
                for chars in merged.values():
                    if min(x["top"] for x in chars) - 0.5 <= middle <= max(x["bottom"] for x in chars) \
                            and min(x["x0"] for x in chars) - 3 <= c["x0"] <= max(x["x1"] for x in chars) + 3:
                        chars.append(c)
                        break
            body_bottom = max((y for k, y in merged if k == "body"), default=None)
            body_top = min((y for k, y in merged if k == "body"), default=None)
            for (kind, y), chars in sorted(merged.items(), key=lambda kv: kv[0][1]):
                if kind == "note" and (body_top is not None and y < body_top):
                    continue        # running head / folio
                if kind == "note" and body_bottom is not None and y < body_bottom:
                    continue        # 9 pt inside the body (a table, a caption)
                chars.sort(key=lambda c: c["x0"])
                out.append((number, kind, chars, y))
    return out


def measure(pdf_path, source_text: str = "", font: Path = FONT, size: float = SIZE) -> dict:
    """The measures of one PDF: {'body': {...}, 'note': {...}, 'pages': {...}}; `font` and
    `size`: the running text's face (its regular file) and size."""
    lines = _lines(Path(pdf_path), size)
    words = set(re.findall(r"[^\W\d_]+(?:[-\u2010][^\W\d_]+)*", source_text.lower()))
    right = {}
    for parity in (0, 1):
        ends = Counter(round(ch[-1]["x1"]) for n, k, ch, y in lines if n % 2 == parity and k == "body")
        right[parity] = ends.most_common(1)[0][0] if ends else 0
    result = {}
    for kind, kind_size in (("body", size), ("note", NOTE_SIZE)):
        natural = natural_space(font, kind_size)
        mine = [(n, ch, y) for n, k, ch, y in lines if k == kind]
        ratios, hyphenated, added = [], [], 0
        for i, (n, ch, y) in enumerate(mine):
            text = "".join(c["text"] for c in ch)
            nxt = mine[i + 1] if i + 1 < len(mine) else None
            hy = (len(text) > 1 and text[-1] in HYPHENS and text[-2].isalpha() and nxt is not None
                  and "".join(c["text"] for c in nxt[1])[:1].islower())
            hyphenated.append(hy)
            if hy:
                before = re.findall(r"[^\W\d_]+$", text[:-1])
                after = re.findall(r"^[^\W\d_]+", "".join(c["text"] for c in nxt[1]))
                joined = (before[0] if before else "") + (after[0] if after else "")
                hard = f"{before[0] if before else ''}-{after[0] if after else ''}".lower()
                if not words or (joined.lower() in words and hard not in words) or hard not in words:
                    added += 1
            full = ch[-1]["x1"] >= right[n % 2] - 0.8
            if not full or len(ch) < 2:
                continue
            gaps = [b["x0"] - a["x1"] for a, b in zip(ch, ch[1:])]
            if any(g > 6 * natural for g in gaps):
                continue        # a contents line: title and folio apart, not a justified line
            spaces = [g for g in gaps if g > 0.5 * natural]
            if spaces:
                ratios.append(statistics.mean(spaces) / natural)
        runs = sum(1 for i in range(len(hyphenated) - 2) if all(hyphenated[i:i + 3]))
        result[kind] = {
            "lines": len(mine), "justified": len(ratios),
            "over 1.5x": sum(r > 1.5 for r in ratios), "over 2x": sum(r > 2 for r in ratios),
            "worst": round(max(ratios), 2) if ratios else 0.0,
            "median": round(statistics.median(ratios), 2) if ratios else 0.0,
            "hyphenated ends": sum(hyphenated), "added hyphens": added,
            "hyphenated %": round(100 * sum(hyphenated) / len(mine), 1) if mine else 0.0,
            "runs of 3": runs,
        }
    last = {}
    for n, k, ch, y in lines:
        if k == "body":
            last[n] = (ch, y)
    foot = sum(1 for n, (ch, y) in last.items()
               if n % 2 == 1 and "".join(c["text"] for c in ch)[-1:] in HYPHENS)
    body = {n: _baseline(ch) for n, (ch, y) in last.items()}
    body_diffs = [abs(body[n] - body[n + 1]) for n in body if n % 2 == 0 and n + 1 in body]
    spreads = feet(pdf_path)
    diffs = [d for _, _, d, end in spreads if not end]
    result["pages"] = {"pages with text": len(last), "hyphen at recto foot": foot,
                       "spreads": len(diffs), "spreads uneven >1pt": sum(d > 1 for d in diffs),
                       "worst spread diff pt": round(max(diffs), 1) if diffs else 0.0,
                       "chapter-end spreads": sum(1 for *_, end in spreads if end),
                       "body-only uneven >1pt": sum(d > 1 for d in body_diffs)}
    return result


def _baseline(chars) -> float:
    """A line's baseline, points from the page's top (the text matrix of its commonest one)."""
    # the text matrix is in PDF space (from the page's foot); bottom + y0 is the page's height
    return Counter(round(c["bottom"] + c["y0"] - c["matrix"][5], 1) for c in chars).most_common(1)[0][0]


def feet(pdf_path) -> list[tuple[int, int, float, bool]]:
    """(verso, recto, pt apart, chapter end) for every spread (pages 2k, 2k+1) with text on both.

    A page's foot is the baseline of its last line of text, body or note (a page with notes
    ends on the note area's last baseline): any character of 8.5 pt or more below the running
    head (note calls and the "(continued)" mark are smaller). A spread is a chapter end when
    its verso or recto is the last page with text before a page without (a blank verso, the
    end) or before a chapter's opening page (its first line sunk 40 pt or more below the usual first line)."""
    import pdfplumber
    tops, bottoms = {}, {}
    with pdfplumber.open(str(pdf_path)) as pdf:
        count = len(pdf.pages)
        for number, page in enumerate(pdf.pages, start=1):
            ys = [page.height - c["matrix"][5] for c in page.chars
                  if not c["text"].isspace() and c["size"] >= 8.5]
            if ys:
                tops[number], bottoms[number] = ys, max(ys)
    # the running head is the first row of a page when a second row follows it 20 pt or more below
    firsts = {}
    for n, ys in tops.items():
        rows = sorted(set(round(y) for y in ys))
        firsts[n] = rows[1] if len(rows) > 1 and rows[1] - rows[0] >= 20 and rows[0] < 60 else rows[0]
    usual = Counter(firsts.values()).most_common(1)[0][0] if firsts else 0

    def closes(n: int) -> bool:         # the last page before a break: none with text, or an opening, follows
        return n + 1 > count or n + 1 not in bottoms or firsts[n + 1] > usual + 40

    out = []
    for n in sorted(bottoms):
        if n % 2 == 0 and n + 1 in bottoms:
            end = closes(n) or closes(n + 1)
            out.append((n, n + 1, abs(bottoms[n] - bottoms[n + 1]), end))
    return out


def text_block(pdf_path, setting: Setting = Setting()) -> tuple[float, float, float, float]:
    """(top, bottom, left, right) margins of the text block of a built PDF, in points (recto)."""
    lines = _lines(Path(pdf_path), setting.size)
    import pdfplumber
    with pdfplumber.open(str(pdf_path)) as pdf:
        width, height = pdf.pages[0].width, pdf.pages[0].height
    rectos = [(ch, y) for n, k, ch, y in lines if k == "body" and n % 2 == 1]
    left = Counter(round(ch[0]["x0"], 1) for ch, y in rectos).most_common(1)[0][0]
    right = Counter(round(ch[-1]["x1"], 1) for ch, y in rectos).most_common(1)[0][0]
    firsts: dict = {}
    for n, k, ch, y in lines:      # the top of each recto's first body line; the usual one wins
        if k == "body" and n % 2 == 1 and n not in firsts:
            firsts[n] = round(min(c["top"] for c in ch))
    tops = Counter(firsts.values())
    first_top = min(t for t, count in tops.items() if count == max(tops.values()))
    # the first baseline stands one line below the block's top, less the leading's half-gap
    top = first_top - (setting.leading - setting.size) / 2 - 0.5
    return top, 64.8, left, width - right, (width, height)


def typst_source(markdown: Path, margins, setting: Setting = Setting()) -> str:
    import pypandoc
    body = pypandoc.convert_file(str(markdown), "typst", format="markdown")
    # An empty span with an id (`[]{#note-3}`) comes out as a bare label; at the start of a
    # content block (a footnote's first words) it has no element to attach to, and a link to
    # it fails ("label `<note-3>` does not exist"): it is given an invisible one.
    body = re.sub(r"(?m)(\[|^)<([\w:.-]+)>", r"\1#metadata(none)<\2>", body)
    top, bottom, inside, outside, (width, height) = margins
    gap = round(setting.leading - setting.size, 3)        # between one line's bottom edge and the next's top
    preamble = f"""#set page(width: {width}pt, height: {height}pt,
  margin: (top: {top:.2f}pt, bottom: {bottom:.2f}pt, inside: {inside:.2f}pt, outside: {outside:.2f}pt))
#set text(font: "{setting.family}", size: {setting.size:g}pt, lang: "en", hyphenate: true,
  top-edge: 0.8em, bottom-edge: -0.2em)
#set par(justify: true, leading: {gap:g}pt, spacing: {gap:g}pt, first-line-indent: 1.2em)
#show heading: set text(size: {setting.size:g}pt, weight: "regular")
#show heading: set block(above: {setting.leading:g}pt, below: {setting.leading / 2:g}pt)
#show footnote.entry: set text(size: 9pt, top-edge: 0.8em, bottom-edge: -0.2em)
#show footnote.entry: set par(leading: 2.5pt)
#let horizontalrule = align(center, line(length: 30%, stroke: 0.4pt))
"""
    return preamble + body


def typeset_typst(markdown: Path, margins, out: Path, setting: Setting = Setting()) -> Path:
    import typst
    source = out.with_suffix(".typ")
    source.write_text(typst_source(markdown, margins, setting), encoding="utf-8")
    typst.compile(str(source), output=str(out), font_paths=[str(Path(setting.font).parent)])
    return out


def table(ours: dict, theirs: dict) -> str:
    rows = [f"{'':28} {'ours':>10} {'Typst':>10}"]
    for part in ("body", "note", "pages"):
        rows.append(f"[{part}]")
        for key in ours[part]:
            rows.append(f"  {key:26} {ours[part][key]!s:>10} {theirs[part][key]!s:>10}")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manuscript", type=Path, help="the Markdown manuscript (one file)")
    ap.add_argument("--ours", type=Path, required=True, help="our built PDF of that manuscript")
    ap.add_argument("--typst-pdf", type=Path, help="where to write Typst's PDF (default: a temporary file)")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the --typst-pdf already there instead of setting it again")
    args = ap.parse_args(argv)
    text = args.manuscript.read_text(encoding="utf-8")
    setting = book_setting(args.manuscript)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.typst_pdf or Path(tmp) / "typst.pdf"
        if not (args.reuse and args.typst_pdf and out.is_file()):
            typeset_typst(args.manuscript, text_block(args.ours, setting), out, setting)
        print(table(measure(args.ours, text, setting.font, setting.size),
                    measure(out, text, setting.font, setting.size)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
