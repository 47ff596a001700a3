"""Display points of the text, the same in every edition (issue 19.4): the words a chapter
opens with in capitals set as a small-caps lead-in, a no-break space before a spaced dash,
display titles broken by sense into balanced lines.

Nothing here changes the text's characters except the one space before a spaced dash (a
no-break space: the same word space, not a place to break): the lead-in is markup around
the author's own capitals, a title's lines are markup around its own words.
"""

from __future__ import annotations

import functools
import html
import re

from lxml import etree, html as lhtml

CODE_TAGS = {"code", "pre", "kbd", "samp", "script", "style", "math", "svg"}
NBSP = "\u00a0"
# a space (or run of them) before an em or en dash that has a space after it: "word — word"
_SPACED_DASH = re.compile(r"[ \t\r\n]+(?=[\u2014\u2013][ \t\r\n])")


def _in_code(el) -> bool:
    return any(isinstance(a.tag, str) and a.tag in CODE_TAGS for a in [el, *el.iterancestors()])


def spaced_dashes(root) -> None:
    """Every space before a spaced dash a no-break space, so no line starts with the dash
    (text nodes only; code, formulas and preformatted text keep their characters)."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        inside = _in_code(el)
        if el.text and not inside:
            el.text = _SPACED_DASH.sub(NBSP, el.text)
        if el.tail and not (el.getparent() is not None and _in_code(el.getparent())):
            el.tail = _SPACED_DASH.sub(NBSP, el.tail)


_ATTRIBUTION = re.compile(r"\s*[\u2014\u2015\u2013]")


def attributions(root) -> None:
    """A block quote's last paragraph that opens with a dash ("— Author, Work") is its
    attribution: class `attribution`, which the stylesheets set flush right and keep on the
    quotation's last page (it is never the one line at the top of the next); not when another
    of its paragraphs opens with a dash too (dialogue)."""
    for quote in root.iter("blockquote"):
        kids = [k for k in quote if isinstance(k.tag, str)]
        last = kids[-1] if kids else None
        if len(kids) < 2 or last.tag != "p" or last.get("class"):
            continue
        text = last.text_content()
        # Dialogue set with dashes (French, Spanish, Russian fiction: "— Bonjour, dit-il.") opens
        # its other paragraphs with a dash too: then the last is a line of it, not an attribution.
        if _ATTRIBUTION.match(text) and len(text.strip()) <= 200 \
                and not any(k.tag == "p" and _ATTRIBUTION.match(k.text_content()) for k in kids[:-1]):
            last.set("class", "attribution")


def verse_lines(root) -> None:
    """Each line of a poem (pandoc's line block: one div, its lines parted by `<br>`) its own
    span, class `verse-line`, so that a line too long for the measure turns over with a hanging
    indent, as verse is set, instead of running on flush left like a new line of the poem. An
    empty line (a stanza break inside one block) holds a no-break space: one whole line of the
    grid. The text's characters stay; the paged editions only (the EPUB keeps pandoc's `<br>`s
    for the reading system)."""
    for block in root.xpath(".//*[contains(concat(' ', normalize-space(@class), ' '), ' line-block ')]"):
        if _in_code(block) or not any(isinstance(k.tag, str) and k.tag == "br" for k in block):
            continue
        text, kids = block.text, list(block)
        block.text = None
        for kid in kids:
            block.remove(kid)
        lines = [etree.SubElement(block, "span", {"class": "verse-line"})]
        lines[0].text = text
        for kid in kids:
            if isinstance(kid.tag, str) and kid.tag == "br":
                line = etree.SubElement(block, "span", {"class": "verse-line"})
                line.text = (kid.tail or "").lstrip(" \t\r\n") or None
                lines.append(line)
            else:
                lines[-1].append(kid)
        for line in lines:
            if not len(line) and not (line.text or "").strip(" \t\r\n"):
                line.text = NBSP


def image_paragraphs(root) -> None:
    """A paragraph that holds one image and nothing else (a picture without a caption: pandoc
    makes a figure only of an image with a description) gets the class `image`: the stylesheets
    set it centred and unindented, as a figure is, instead of starting it a paragraph indent in
    and pushing it past the right margin. An image's width and height attributes become its style."""
    for p in root.iter("p"):
        kids = [k for k in p if isinstance(k.tag, str)]
        if (len(kids) == 1 and kids[0].tag == "img" and not (p.text or "").strip()
                and not (kids[0].tail or "").strip()):
            p.set("class", (p.get("class", "") + " image").strip())
    # `{width=12px}` (pandoc writes width="12") and <img width="12">: WeasyPrint reads no
    # presentational attributes, so the picture was drawn at its own size; a style it reads
    for img in root.iter("img"):
        style = img.get("style", "")
        for side in ("width", "height"):
            value = (img.get(side) or "").strip()
            if re.fullmatch(r"\d+(?:\.\d+)?", value) and not re.search(rf"(^|;)\s*{side}\s*:", style):
                style = f"{style.rstrip('; ')}; {side}: {value}px".lstrip("; ")
        if style:
            img.set("style", style)


def _caps_run(text: str) -> tuple[int, int] | None:
    """(start, end) of the words in capitals `text` opens with, or None: at least two capital
    letters in a word, and every word of the run without small letters."""
    m = re.match(r"[“‘\"'(\[]?", text)
    start = m.end()
    end, at = start, start
    for w in re.finditer(r"([^ \u00a0]+)([ \u00a0]*)", text[start:]):
        word = w.group(1).rstrip(",;:")
        letters = [c for c in word if c.isalpha()]
        if not letters or any(c.islower() for c in letters) or not all(c.isupper() or not c.isalpha() for c in letters):
            break
        at = start + w.start(1) + len(word)
        if len(word) != len(w.group(1)):        # "WORDS, and": the run ends at the punctuation
            end = at
            break
        end = at
    run = text[start:end]
    if sum(c.isupper() for c in run) < 2 or not any(len([c for c in w if c.isupper()]) >= 2 for w in run.split()):
        return None
    return start, end


@functools.lru_cache(maxsize=16)
def has_small_caps(path: str | None) -> bool:
    """Whether a font file has small capitals of its own (the OpenType `smcp` feature)."""
    if not path:
        return False
    try:
        from fontTools.ttLib import TTFont
        font = TTFont(path, lazy=True, fontNumber=0)
        return "GSUB" in font and any(r.FeatureTag == "smcp" for r in font["GSUB"].table.FeatureList.FeatureRecord)
    except Exception:           # not a font fontTools reads: no small capitals known
        return False


def lead_ins(root, form: str, font_path: str | None = None) -> list:
    """The opening paragraph of the text (an essay) or of each chapter (a book) that starts
    with words in capitals: those words wrapped in <span class="lead-in">, set by the
    stylesheets as small capitals of their small letters (the face's smcp glyphs; the HTML
    keeps the author's capitals). A face without small capitals gets "lead-in faux": the
    capitals kept, a size smaller, never small letters. Returns the spans made."""
    firsts = []
    if form == "essay":
        first = next((e for e in root if isinstance(e.tag, str)), None)
        if first is not None and first.tag == "p":
            firsts.append(first)
    else:
        for section in root.iter("section"):
            classes = (section.get("class") or "").split()
            if "part" in classes:
                continue
            if "level1" in classes or "chapter" in classes:
                heading = next((e for e in section if isinstance(e.tag, str)), None)
                if heading is not None and heading.tag in ("h1", "h2"):
                    after = heading.getnext()
                    if after is not None and after.tag == "p":
                        firsts.append(after)
    made = []
    for p in firsts:
        if not p.text or _in_code(p):
            continue
        found = _caps_run(p.text)
        if found is None:
            continue
        a, b = found
        span = etree.Element("span", {"class": "lead-in" if has_small_caps(font_path) else "lead-in faux"})
        span.text, span.tail = p.text[a:b], p.text[b:]
        p.text = p.text[:a]
        p.insert(0, span)
        made.append(span)
    return made


# --- titles ---------------------------------------------------------------------------------------------

# words a display line should not end on (English; other languages: only the length rule)
_WEAK = {"a", "an", "the", "and", "or", "nor", "but", "of", "in", "on", "at", "to", "for", "by", "with",
         "from", "into", "as", "its", "his", "her", "their", "our", "my", "your", "de", "la", "le", "les",
         "et", "du", "des", "der", "die", "das", "und", "el", "los", "las", "y", "il", "di", "e"}


@functools.lru_cache(maxsize=16)
def _advances(path: str):
    """(cmap, advance widths in em) of a font file, or None when fontTools cannot read it."""
    try:
        from fontTools.ttLib import TTFont
        font = TTFont(path, lazy=True, fontNumber=0)
        upem = font["head"].unitsPerEm
        cmap = font.getBestCmap() or {}
        hmtx = font["hmtx"].metrics
        return {cp: hmtx[name][0] / upem for cp, name in cmap.items() if name in hmtx}
    except Exception:           # a font fontTools does not read: count characters instead
        return None


def text_width(text: str, font_path: str | None) -> float:
    """The width of `text` in em of the face (advance widths, no kerning), or in characters."""
    widths = _advances(font_path) if font_path else None
    if not widths:
        return len(text) * 0.5
    return sum(widths.get(ord(c), 0.5) for c in text)


def title_lines(title: str, font_path: str | None = None) -> list[str]:
    """A display title cut into two lines by sense: after a colon, a stop or a spaced dash (never
    before the dash: no line starts with one), else at the word space that makes the two lines
    closest in width (the face's advance widths) without ending a line on a small word. A title
    of one or two words is one line."""
    words = title.split(" ")
    if len(words) < 3:
        return [title]
    total = text_width(title, font_path)
    best, best_cost = None, None
    for i in range(1, len(words)):
        first, second = " ".join(words[:i]), " ".join(words[i:])
        w1, w2 = text_width(first, font_path), text_width(second, font_path)
        cost = abs(w1 - w2) / total
        last = words[i - 1]
        if last.endswith((":", ";", ".", "?", "!")) or last in ("\u2014", "\u2013"):
            cost -= 0.8         # the sense break wins unless it leaves a line far shorter than the other
        elif last.lower().strip("“‘\"'(") in _WEAK or len(last.strip("“‘\"'(,")) <= 2:
            cost += 1.0         # never a line ending on "the", "of", "and" where another break will do
        if words[i].lower().strip("“‘\"'(") in _WEAK and cost < 0.4:
            cost -= 0.3         # a phrase boundary: before "of", "and", "the"... (never after them)
        if words[i] in ("\u2014", "\u2013", ":"):
            cost += 2           # never a line starting with a dash
        if len(words[:i]) == 1 or len(words[i:]) == 1:
            cost += 0.3         # a word alone on a line
        if best_cost is None or cost < best_cost:
            best, best_cost = i, cost
    if best is None:
        return [title]
    return [" ".join(words[:best]), " ".join(words[best:])]


def _nested(title: str, font_path: str | None, depth: int) -> str:
    lines = title_lines(title, font_path) if depth else [title]
    if len(lines) == 1:
        return html.escape(title, quote=False)
    return " ".join(f'<span class="title-line">{_nested(line, font_path, depth - 1)}</span>' for line in lines)


def balanced_markup(title: str, font_path: str | None = None, depth: int = 2) -> str:
    """The title's lines as escaped HTML, each an inline block: the title stays on one line
    where it fits and breaks only between its two halves where it does not; each half, if it
    is too long in turn (a narrow cover), breaks between its own halves (`depth` levels)."""
    return _nested(title, font_path, depth)


def title_widths(title: str, font_path: str | None = None) -> tuple[float, float, float]:
    """The title's widest line, in em of the face, set whole, in its two balanced halves, and with
    each half in its own halves (balanced_markup's depths 0, 1 and 2): a cover sizes its title
    so that its lines fit (templates/cover-wrap.html.j2)."""
    halves = title_lines(title, font_path)
    quarters = [q for half in halves for q in title_lines(half, font_path)]
    return tuple(max(text_width(line, font_path) for line in lines) or 1.0
                 for lines in ([title], halves, quarters))


_NAME_HYPHEN = re.compile(r"(?<=\w)([-\u2010])(?=\w)")
_INITIAL = re.compile(r"(?<![\w.])((?:\w{1,2}\.)+) (?=\w)")   # "J. P. Okonkwo", "A.B. Smith", "Th. Mann"


def names_markup(names: str, font_path: str | None = None) -> str:
    """The author line for the display pages: balanced like a title (between two names, before
    "and", where it does not fit), a double-barrelled name ("Fernández-Villaverde") never
    broken at its hyphen (a word joiner after it), an initial never parted from the name after
    it (a no-break space: "J. P. Okonkwo" does not end a line on "J.", which a title's balancing
    takes for a sentence's end)."""
    names = _INITIAL.sub("\\1\u00a0", _NAME_HYPHEN.sub("\\1\u2060", names))
    return balanced_markup(names, font_path, depth=1)


def balance_headings(root, font_path: str | None, xpath: str) -> None:
    """Chapter titles of plain text (no markup inside but the number `number-sections` puts
    before them) set in balanced lines like the title."""
    for h in root.xpath(xpath):
        kids = [k for k in h if isinstance(k.tag, str)]
        number = (kids[0] if len(h) == 1 and len(kids) == 1 and not (h.text or "").strip()
                  and "header-section-number" in (kids[0].get("class") or "").split() else None)
        text = number.tail if number is not None else h.text
        if (len(h) and number is None) or not text or not text.strip() \
                or len(title_lines(text.strip(), font_path)) == 1:
            continue
        lead = text[:len(text) - len(text.lstrip())]
        markup = lhtml.fragment_fromstring(balanced_markup(text.strip(), font_path), create_parent="span")
        if number is not None:
            number.tail = lead + (markup.text or "")
        else:
            h.text = markup.text
        for child in list(markup):
            h.append(child)
