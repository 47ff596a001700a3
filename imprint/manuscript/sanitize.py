"""Raw HTML in a manuscript -> only what a book may carry.

One policy, two uses:
- `findings(book)` reads pandoc's AST (raw HTML fragments, attributes, link and image
  targets) and says, with file:line, what the build refuses (errors: code that would run)
  and what it removes (warnings: embedded content, forms, document-level elements,
  resource-loading styles, unsupported markup). S1xx codes.
- `clean_html(html)` enforces the same policy with nh3 (the ammonia sanitizer) on the
  HTML pandoc makes of the whole book, before any edition sees it; `drop_remote_images`
  takes out images that would need the network.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import html.parser
import re
import secrets
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from imprint.codes import meanings
from imprint.manuscript.guards import MAX_HTML_DEPTH, VOID, tree_depth
from imprint.errors import Finding, Location

CODES = meanings("S1")        # severities and meanings: imprint/codes.py

# What pandoc's HTML writer produces for Pandoc Markdown, and the text-level HTML a manuscript
# may add. Everything else is dropped (its text kept) unless named below.
ALLOWED_TAGS = {
    "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption",
    "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i",
    "img", "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby",
    "s", "samp", "section", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
}
ACTIVE = {"script"}                                                          # S101, refused
EMBEDDED = {"iframe", "object", "embed", "applet", "frame", "frameset", "noframes", "noembed",
            "svg", "math", "audio", "video", "canvas", "portal", "source", "track", "param"}   # S110
FORMS = {"form", "input", "button", "select", "textarea", "option", "optgroup", "datalist", "output",
         "keygen", "fieldset", "legend", "label", "menu", "dialog"}          # S111
DOCUMENT = {"meta", "link", "base", "style", "title", "head", "html", "body"}   # S112
INERT = {"noscript", "template", "xmp", "plaintext", "slot"}                # S114, with content
# Removed together with their content (the rest lose only their tags).
WITH_CONTENT = (ACTIVE | EMBEDDED | INERT | {"style", "title", "select", "textarea", "button",
                                             "datalist", "option", "optgroup", "output"})


GENERIC_ATTRIBUTES = {"id", "class", "title", "lang", "dir", "role", "style", "tabindex", "hidden"}
TAG_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "time": {"datetime"},
    "details": {"open"},
    "abbr": set(), "bdo": set(),
}
ATTRIBUTE_PREFIXES = {"data-", "aria-"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                  "cite", "longdesc", "usemap", "ping", "manifest", "srcset", "lowsrc", "dynsrc",
                  "codebase", "archive", "icon", "profile", "classid", "imagesrcset"}
LINK_SCHEMES = {"http", "https", "mailto", "tel"}
SCRIPT_SCHEMES = {"javascript", "vbscript", "livescript", "mocha"}
IMAGE_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.I)

# Text styling only: no property here takes a URL, and none can move text out of the flow.
STYLE_PROPERTIES = {
    "color", "font-style", "font-weight", "font-variant", "font-variant-caps", "font-size",
    "text-align", "text-decoration", "text-transform", "text-indent", "letter-spacing",
    "word-spacing", "vertical-align", "white-space", "width", "height", "max-width",
    "list-style-type", "margin-left", "margin-right", "hyphens",
}
STYLE_DANGER = re.compile(r"url\s*\(|image-set|image\s*\(|expression\s*\(|@import|behavior|-moz-binding|\\", re.I)

# Pandoc's footnote markup, which render.py reads: raw HTML must not imitate it.
NOTE_CLASSES = {"footnote-ref", "footnote-back", "footnotes", "footnotes-end-of-document"}
NOTE_ID = re.compile(r"fn\d+|fnref\d+|footnotes")


@dataclass(frozen=True)
class Removal:
    """One thing the policy refuses or removes: its code, severity and what to say."""

    code: str
    severity: str
    message: str
    hint: str | None = None


def scheme(url: str) -> str:
    # Browsers ignore ASCII whitespace and control characters inside a scheme ("java\tscript:").
    compact = re.sub(r"[\x00-\x20]", "", url)
    m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", compact)
    return m.group(1).lower() if m else ""


def judge_tag(tag: str) -> Removal | None:
    tag = tag.lower()
    if tag in ACTIVE:
        return Removal("S101", "error", f"<{tag}> is not allowed in a manuscript: the build is refused",
                       "remove it; a book carries no code")
    if tag in EMBEDDED:
        return Removal("S110", "warning", f"<{tag}> removed with its content: embedded content cannot be "
                       "printed or fetched", "use a Markdown image for a picture inside the book folder")
    if tag in FORMS:
        return Removal("S111", "warning", f"<{tag}> removed: forms have no place in a book")
    if tag in DOCUMENT:
        return Removal("S112", "warning", f"<{tag}> removed: a manuscript cannot change the document "
                       "(its head, styles, base address or refresh)", "the design lives in styles/")
    if tag in INERT:
        return Removal("S114", "warning", f"<{tag}> removed with its content")
    if tag not in ALLOWED_TAGS:
        return Removal("S114", "warning", f"unsupported element <{tag}> dropped; its text is kept")
    return None


def judge_attribute(tag: str, name: str, value: str | None, *, native: bool = False) -> Removal | None:
    """What happens to one attribute. `native`: it came from pandoc's attribute syntax, where
    pandoc itself renames unknown names to data-*, so only dangerous ones are reported."""
    tag, name, value = tag.lower(), name.lower(), value or ""
    if name.startswith("on"):
        return Removal("S102", "error", f"event-handler attribute '{name}' on <{tag}>: the build is refused",
                       "remove it; a book carries no code")
    if name in URL_ATTRIBUTES and value:
        kind = scheme(value)
        if kind in SCRIPT_SCHEMES:
            return Removal("S103", "error", f"'{kind}:' URL in <{tag} {name}>: the build is refused",
                           "link to a web page (https://...) or a place in the book (#id)")
        if kind == "data" and not (tag == "img" and name == "src" and IMAGE_DATA.match(value.strip())):
            return Removal("S103", "error", f"data: URL in <{tag} {name}>: the build is refused",
                           "only PNG, JPEG, GIF or WebP images may be given as data: URLs")
    if name == "class" and NOTE_CLASSES & set(value.split()):
        return Removal("S104", "error", f"<{tag}> has class '{' '.join(sorted(NOTE_CLASSES & set(value.split())))}' "
                       "of the footnote markup: the build is refused", "write notes as [^label] with a definition")
    if name == "id" and NOTE_ID.fullmatch(value.strip()):
        return Removal("S104", "error", f"id '{value}' is reserved for footnotes: the build is refused",
                       "choose another id")
    if name == "style":
        bad = style_problems(value)
        if bad:
            return Removal("S113", "warning", f"style on <{tag}>: {', '.join(bad)} removed",
                           "only text styling is kept, and nothing in a manuscript may load a URL")
        return None
    if native or name in GENERIC_ATTRIBUTES or name in TAG_ATTRIBUTES.get(tag, ()):
        return None
    if any(name.startswith(p) for p in ATTRIBUTE_PREFIXES):
        return None
    if tag in ALLOWED_TAGS:
        return Removal("S114", "warning", f"attribute '{name}' on <{tag}> dropped")
    return None


def style_problems(style: str) -> list[str]:
    """The declarations of a style attribute that will not be kept."""
    if STYLE_DANGER.search(style):
        return ["url(), @import and escapes"]
    bad = []
    for decl in style.split(";"):
        prop = decl.split(":", 1)[0].strip().lower()
        if prop and prop not in STYLE_PROPERTIES:
            bad.append(f"'{prop}'")
    return bad


# --- enforcement: nh3 over the book's HTML ---------------------------------------------------

def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    """nh3 calls this for every attribute its allowlists kept."""
    judged = judge_attribute(tag, name, value)
    if judged is None or judged.code == "S104":
        # Note markup cannot be told from pandoc's own here: it is refused at check time,
        # and render.py ignores note calls that do not lead to a note.
        return value
    if judged.code == "S113" and not STYLE_DANGER.search(value):
        return value            # nh3 keeps the declarations in STYLE_PROPERTIES only
    return None


@functools.cache
def _cleaner():
    import nh3
    attributes = {tag: set(names) for tag, names in TAG_ATTRIBUTES.items()}
    attributes["*"] = set(GENERIC_ATTRIBUTES)
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(WITH_CONTENT),
        attributes=attributes,
        attribute_filter=_attribute_filter,
        generic_attribute_prefixes=set(ATTRIBUTE_PREFIXES),
        url_schemes=LINK_SCHEMES | {"data"},
        filter_style_properties=set(STYLE_PROPERTIES),
        link_rel=None,
        strip_comments=True,
    )


def clean_html(text: str, where: Location | None = None) -> str:
    """The HTML with everything the policy does not allow taken out.

    An element removed with its content that is never closed (an <iframe>, a <video>) would
    take the rest of the book with it; a marker after the text proves nothing was swallowed.
    """
    marker = f"imprint-end-{secrets.token_hex(8)}"
    clean = _cleaner().clean(f'{text}<p id="{marker}"></p>')
    end = clean.rfind(f'<p id="{marker}"></p>')
    if end < 0:
        from imprint.errors import ManuscriptError
        raise ManuscriptError("raw HTML in the manuscript leaves an element open that would remove all the text "
                              "after it", where=where or Location(),
                              hint="close every <video>, <iframe>, <object>, <style> or <title> you open (see S105)")
    return clean[:end] + clean[end + len(f'<p id="{marker}"></p>'):]


# MathML the EPUB may carry: what latex2mathml makes of a formula's TeX (imprint/manuscript/math.py),
# presentation markup only. Raw <math> in a manuscript stays refused (S110): formulas come from TeX.
MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "mtext", "ms", "mspace", "msub", "msup", "msubsup", "munder",
    "mover", "munderover", "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom", "menclose",
    "mtable", "mtr", "mtd", "mlabeledtr", "mmultiscripts", "mprescripts", "none", "merror",
}
MATHML_ATTRIBUTES = {
    "display", "alttext", "mathvariant", "mathsize", "mathcolor", "mathbackground", "displaystyle",
    "scriptlevel", "stretchy", "fence", "separator", "form", "lspace", "rspace", "minsize", "maxsize",
    "movablelimits", "largeop", "symmetric", "accent", "accentunder", "linethickness", "bevelled",
    "numalign", "denomalign", "notation", "columnalign", "columnspacing", "columnlines", "rowalign",
    "rowspacing", "rowlines", "frame", "framespacing", "equalrows", "equalcolumns", "rowspan",
    "columnspan", "width", "height", "depth", "voffset", "linebreak",
}
MATHML_VALUE = re.compile(r"[^#%.,\w\s-]")     # a value is a keyword, a number, a length or a colour


def clean_mathml(root) -> list[str]:
    """Keep only MATHML_TAGS (others become <mrow>, keeping their content) and MATHML_ATTRIBUTES
    with plain values in a <math> tree (lxml, namespaced or not); returns what was dropped, so
    the math check can name it (no links, classes, ids, styles or scripts reach an edition)."""
    dropped = []
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            if el.getparent() is not None:
                el.getparent().remove(el)
            continue
        local = etree.QName(el).localname
        for name in list(el.attrib):
            qname = etree.QName(name)
            if qname.namespace or qname.localname not in MATHML_ATTRIBUTES or MATHML_VALUE.search(el.get(name)):
                dropped.append(qname.localname)
                del el.attrib[name]
        if local not in MATHML_TAGS:
            dropped.append(f"<{local}>")
            namespace = etree.QName(el).namespace
            el.tag = f"{{{namespace}}}mrow" if namespace else "mrow"
    return dropped


def is_remote(url: str) -> bool:
    url, kind = url.strip(), scheme(url)
    return url.startswith("//") or (kind not in ("", "data", "file") and kind not in SCRIPT_SCHEMES)


def remote_images(body) -> tuple[str, ...]:
    """The remote image URLs left in a Body, text and notes (fetched only with --allow-remote-images)."""
    trees = [body.root] + [block for note in body.notes.values() for block in note.blocks]
    return tuple(dict.fromkeys(img.get("src", "") for tree in trees for img in tree.iter("img")
                               if is_remote(img.get("src", ""))))


def drop_remote_images(root) -> None:
    """Take remote images out of an lxml tree (a figure keeps its caption)."""
    for img in [i for i in root.iter("img") if is_remote(i.get("src", ""))]:
        if img.getparent() is not None:
            drop(img)


def without_remote_images(body):
    """A copy of a Body (text and notes) with its remote images taken out: for the EPUB."""
    root = copy.deepcopy(body.root)
    drop_remote_images(root)
    notes = {}
    for number, note in body.notes.items():
        blocks = tuple(copy.deepcopy(b) for b in note.blocks)
        for block in blocks:
            drop_remote_images(block)
        notes[number] = dataclasses.replace(note, blocks=blocks)
    return dataclasses.replace(body, root=root, notes=notes)


# --- reporting: the AST, with the source text for line numbers ------------------------------

class Locator:
    """Finds where a piece of the AST came from by searching the manuscript text for it."""

    def __init__(self, sources):
        self.sources = list(sources)
        self.text = "\n\n".join(s.text for s in self.sources)       # as load.py hands it to pandoc
        self.starts, offset = [], 0
        for s in self.sources:
            self.starts.append(offset)
            offset += len(s.text) + 2
        self.cursor = 0

    def find(self, *needles: str, advance: bool = True) -> Location:
        for needle in needles:
            needle = (needle or "").strip().split("\n")[0].strip()
            if not needle:
                continue
            pos = self.text.find(needle, self.cursor)
            if pos < 0:
                pos = self.text.find(needle)
            if pos >= 0:
                if advance:
                    self.cursor = pos + 1
                return self.at(pos)
        return Location(self.sources[0].path if self.sources else None)

    def at(self, pos: int) -> Location:
        index = max(i for i, start in enumerate(self.starts) if start <= pos)
        source, local = self.sources[index], pos - self.starts[index]
        line = source.text.count("\n", 0, local) + source.first_line
        column = local - (source.text.rfind("\n", 0, local) + 1) + 1
        return Location(source.path, line, column)


@dataclass(frozen=True)
class Tag:
    """A start tag in raw HTML: its name, attributes and verbatim text, with its line in the fragment."""

    name: str
    attrs: tuple[tuple[str, str | None], ...]
    text: str
    line: int
    inside_removed: bool = False      # inside an element removed with its content


class _Tags(html.parser.HTMLParser):
    def __init__(self, removed: list[Tag]):
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []
        self.removed = removed              # open elements that go with their content

    def handle_starttag(self, tag, attrs):
        self.tags.append(Tag(tag, tuple(attrs), self.get_starttag_text() or f"<{tag}", self.getpos()[0],
                             inside_removed=bool(self.removed)))
        if tag in WITH_CONTENT and tag not in VOID:
            self.removed.append(self.tags[-1])

    def handle_startendtag(self, tag, attrs):
        self.tags.append(Tag(tag, tuple(attrs), self.get_starttag_text() or f"<{tag}", self.getpos()[0],
                             inside_removed=bool(self.removed)))

    def handle_endtag(self, tag):
        if any(t.name == tag for t in self.removed):
            while self.removed and self.removed.pop().name != tag:
                pass


def start_tags(fragment: str, removed: list[Tag] | None = None) -> list[Tag]:
    """The start tags of a raw HTML fragment. `removed` carries the elements removed with their
    content that are still open from earlier fragments (pandoc splits inline HTML by tag)."""
    parser = _Tags(removed if removed is not None else [])
    parser.feed(fragment)
    parser.close()
    return parser.tags


@dataclass(frozen=True)
class Item:
    """Something in the AST the policy has a view on, in document order."""

    kind: str                 # "tag" (raw HTML), "attr" (pandoc attributes), "link", "image"
    tag: str
    attrs: tuple              # ((name, value), ...)
    needles: tuple            # texts to look for in the manuscript, best first
    in_note: bool
    quiet: bool = False       # inside something removed anyway: report only what is refused


_LEAVES = {"Str", "Space", "SoftBreak", "LineBreak", "Math", "HorizontalRule"}
ATTR_NODES = {"Div": "div", "Span": "span", "Header": "h", "Code": "code", "CodeBlock": "pre",
              "Table": "table", "Figure": "figure"}


_walked: list = []          # [(ast, its items, its notes)]: the last book's walk, which three checks read


def items(ast: dict) -> list[Item]:
    """What the policy judges in the AST, in document order: walked once per book (the raw
    HTML, link and note checks all read it; 0.2-0.5 s each on a long book)."""
    return _walk(ast)[1]


def notes(ast: dict) -> list:
    """The contents of the AST's notes in document order (from the same walk)."""
    return _walk(ast)[2]


def _plain(inlines) -> str:
    """The words of inline AST nodes (an image's description), nested markup included."""
    out, stack = [], [inlines]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(reversed(n))
        elif isinstance(n, dict):
            if n.get("t") == "Str":
                out.append(n["c"])
            elif n.get("t") in ("Space", "SoftBreak", "LineBreak"):
                out.append(" ")
            elif isinstance(n.get("c"), list):
                stack.append(n["c"])
    return "".join(out)


def _walk(ast: dict) -> tuple:
    if not (_walked and _walked[0][0] is ast):
        found: list = []
        _walked[:] = [(ast, list(_items(ast, found)), found)]
    return _walked[0]


def _items(ast: dict, notes: list | None = None):
    """Walk the AST in document order (iteratively: depth is the input's, not ours); the
    contents of its notes go to `notes` as they are met."""
    notes = [] if notes is None else notes
    stack = [(block, False) for block in reversed(ast.get("blocks", []))]
    removed: list[Tag] = []
    while stack:
        node, in_note = stack.pop()
        if type(node) is list:
            stack.extend((n, in_note) for n in reversed(node) if type(n) is dict or type(n) is list)
            continue
        if type(node) is not dict:
            continue
        t = node.get("t")
        if t in _LEAVES:
            continue
        c = node.get("c")
        if t in ("RawBlock", "RawInline"):
            if c[0].lower() == "html":
                for tag in start_tags(c[1], removed):
                    lines = c[1].split("\n")
                    first = lines[tag.line - 1] if tag.line <= len(lines) else ""
                    yield Item("tag", tag.name, tag.attrs, (tag.text, first), in_note, tag.inside_removed)
            continue
        if t in ATTR_NODES or t in ("Link", "Image"):
            attr = c[1] if t == "Header" else c[0]
            ident, classes, kvs = attr
            pairs = ([("id", ident)] if ident else []) + ([("class", " ".join(classes))] if classes else []) + \
                [(k, v) for k, v in kvs]
            tag = {"Link": "a", "Image": "img"}.get(t, ATTR_NODES.get(t, "span"))
            if pairs:
                # distinctive values first: `key=` alone may match an earlier element's attribute
                needles = tuple(v for _, v in pairs if len(v) >= 4) + \
                    tuple(f"{k}=" for k, _ in pairs if k not in ("id", "class")) + tuple(v for _, v in pairs)
                yield Item("attr", tag, tuple(pairs), needles, in_note)
            if t in ("Link", "Image"):
                url = c[2][0]
                alt = _plain(c[1]).strip() if t == "Image" else ""
                described = ((("alt", alt),) if alt else ()) + ((("class", " ".join(classes)),) if t == "Image" else ())
                yield Item("link" if t == "Link" else "image", tag, (("href" if t == "Link" else "src", url),) + described,
                           (url, unquote(url)), in_note)
        if t == "Note":
            notes.append(c)
            stack.append((c, True))
            continue
        if isinstance(c, list):
            stack.append((c, in_note))
    if removed:                 # open at the end of the book: it would take all the text after it
        yield Item("unclosed", removed[0].name, removed[0].attrs, (removed[0].text,), False)


def findings(book) -> list[Finding]:
    """What the policy refuses or removes in this book, each with its file and line."""
    locate = Locator(book.sources)
    out: list[Finding] = []
    for item in items(book.ast):
        judged: list[Removal] = []
        if item.kind == "unclosed":
            judged.append(Removal("S105", "error", f"<{item.tag}> is never closed: everything after it would be "
                                  "removed with it; the build is refused", f"close it with </{item.tag}>, or remove it"))
        if item.kind == "tag":
            verdict = judge_tag(item.tag)
            if verdict:
                judged.append(verdict)
            if item.tag.lower() == "meta" and any((v or "").lower() == "refresh" for _, v in item.attrs):
                judged = [Removal("S112", "warning", "<meta http-equiv=refresh> removed: a book does not "
                                  "redirect or reload")]
        for name, value in item.attrs:
            if item.kind in ("link", "image", "unclosed"):
                continue            # URLs of links and images: judged below with the same rules
            verdict = judge_attribute(item.tag, name, value, native=item.kind == "attr")
            if verdict and not (verdict.code == "S114" and judged):
                judged.append(verdict)
        if item.quiet:
            judged = [j for j in judged if j.severity == "error"]
        if item.kind in ("link", "image"):
            name, value = item.attrs[0]
            verdict = judge_attribute(item.tag, name, value)
            if verdict:
                judged.append(verdict)
        if judged:
            where = locate.find(*item.needles, advance=not item.in_note)
            out += [Finding(j.code, j.severity, j.message, where, hint=j.hint) for j in judged]
        elif not item.in_note:
            locate.find(*item.needles)
    return out


def urls(book):
    """Every image and link target of the book (Markdown and raw HTML) with where it is written:
    (kind 'image'|'link', url, place, attrs) where place() gives the Location (looked up only when
    asked: searching for the many targets inside notes is the costly part) and attrs the image's
    (alt: its description, class) or the raw tag's attributes."""
    locate = Locator(book.sources)
    for item in items(book.ast):
        found = []
        attrs = dict(item.attrs)
        if item.kind in ("image", "link"):
            found.append((item.kind, item.attrs[0][1]))
        elif item.kind == "tag":
            if item.tag == "img" and attrs.get("src"):
                found.append(("image", attrs["src"]))
            elif attrs.get("href"):
                found.append(("link", attrs["href"]))
        if not found:
            if not item.in_note:
                locate.find(*item.needles)
            continue
        if item.in_note:
            place = functools.partial(locate.find, *item.needles, advance=False)
        else:
            where = locate.find(*item.needles)
            place = functools.partial(lambda w: w, where)
        for kind, url in found:
            yield kind, url, place, attrs


def parse(text: str, where: Location):
    """Sanitized HTML -> an lxml tree under one <div>, refusing text nested too deeply to lay out.

    lxml's default parser silently cuts trees at 255 levels; with huge_tree it keeps them,
    and the depth is checked here instead.
    """
    from lxml import html as lhtml

    from imprint.errors import ManuscriptError

    parser = lhtml.HTMLParser(huge_tree=True)
    root = lhtml.fragment_fromstring(text, create_parent="div", parser=parser)
    depth = tree_depth(root)
    if depth > MAX_HTML_DEPTH:
        raise ManuscriptError(f"the text is nested {depth} levels deep (at most {MAX_HTML_DEPTH} can be laid out)",
                              where=where, hint="look for deeply nested lists, quotes or HTML elements")
    return root


def drop(el) -> None:
    """Remove an element but keep its tail text."""
    parent = el.getparent()
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
