"""Is this file an image a book may carry? Raster images are opened and verified by Pillow
under a pixel bound; SVG images are parsed as XML (no entities, no network, no huge trees)
and walked against a policy, since an SVG is a document that can hold code.

An SVG is refused, not cleaned: what the author drew must not change silently. Refused:
- any DOCTYPE declaring entities (the "billion laughs" expands a few lines into gigabytes);
- script in any namespace (`<script>`, `<svg:script>`, `<html:script>`), `foreignObject`,
  `handler`, `listener`, anything in the XHTML namespace (its elements run as HTML);
- event attributes (`on*`) and XML Events attributes;
- a link (`href`, `xlink:href`) that is neither a local `#fragment` nor a `data:` raster image;
- animation (`set`, `animate`...) of an event attribute or of a link: it writes one later;
- `javascript:`, `@import` or a `url(...)` to anything but `#fragment` in any attribute or style;
- `<use>` elements that draw more than MAX_SVG_DRAWN elements once every copy is counted (a
  few nested groups of ten `<use>` each draw 10^8 shapes from 1.5 KB: a layout that would
  run to the build's time limit), or a `<use>` that draws itself.
Elements of other namespaces (Inkscape's, RDF metadata) are kept: nothing renders or runs them.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from lxml import etree

SVG_NS = "http://www.w3.org/2000/svg"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XLINK_NS = "http://www.w3.org/1999/xlink"
EVENTS_NS = "http://www.w3.org/2001/xml-events"
MAX_SVG_BYTES = 16 * 2**20
MAX_SVG_DRAWN = 100_000          # elements drawn, <use> copies counted: about 10 s of layout (0.1 ms each)
MAX_PIXELS = 64_000_000          # 8000 x 8000: more than any page needs at 600 dpi
REFUSED_ELEMENTS = {"script", "foreignobject", "handler", "listener", "iframe", "embed", "object"}
ANIMATIONS = {"set", "animate", "animatetransform", "animatemotion", "animatecolor", "discard"}
SAFE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]", re.I)
SCRIPTISH = re.compile(r"(java|vb)script\s*:|@import|expression\s*\(", re.I)
SVG_PROBLEMS = ("declares XML entities", "is not well-formed SVG", "is not an SVG file")
URL_CALL = re.compile(r"url\(\s*(['\"]?)\s*([^)'\"]*)", re.I)


def _local(name: str) -> str:
    return etree.QName(name).localname.lower() if isinstance(name, str) else ""


def _namespace(name: str) -> str | None:
    return etree.QName(name).namespace if isinstance(name, str) else None


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def svg_problem(data: bytes) -> str | None:
    """None when the SVG is well-formed and holds nothing that can run or fetch; else what is wrong."""
    if len(data) > MAX_SVG_BYTES:
        return f"is larger than {MAX_SVG_BYTES // 2**20} MiB (an SVG so large is not a book's figure)"
    if re.search(rb"<!ENTITY", data[:65536], re.I):
        return "declares XML entities (refused: a few entities can expand into gigabytes)"
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        return f"is not well-formed SVG ({err.msg or err})"
    except ValueError as err:
        return f"is not well-formed SVG ({err})"
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None and list(tree.docinfo.internalDTD.iterentities()):
        return "declares XML entities (refused: a few entities can expand into gigabytes)"
    if root.tag != f"{{{SVG_NS}}}svg":
        return "is not an SVG file (its root element is not <svg> in the SVG namespace)"
    for node in root.iter():
        if isinstance(node, etree._Entity):
            return "uses an XML entity (refused)"
        if not isinstance(node.tag, str):
            continue
        name, ns = _local(node.tag), _namespace(node.tag)
        line = f" (at its line {node.sourceline})" if node.sourceline else ""
        if name in REFUSED_ELEMENTS or ns == XHTML_NS:
            return f"holds a <{name}> element{line}: an image in a book carries no code"
        if name == "style" and node.text and _style_problem(node.text):
            return f"has a stylesheet that {_style_problem(node.text)}{line}"
        for attribute, value in node.attrib.items():
            aname, ans = _local(attribute), _namespace(attribute)
            if aname.startswith("on") or ans == EVENTS_NS:
                return f"has an event attribute '{aname}'{line}: an image in a book carries no code"
            if aname == "href" and not _safe_link(value):
                return f"links to '{value[:60]}'{line}: only #fragments and data: raster images are allowed"
            if SCRIPTISH.search(value):
                return f"has script in its attribute '{aname}'{line}"
            if aname == "style" and _style_problem(value):
                return f"has a style that {_style_problem(value)}{line}"
            if ns == SVG_NS and name in ANIMATIONS and aname == "attributename":
                target = _local(value.strip())
                if target.startswith("on") or target == "href":
                    return f"animates the attribute '{value.strip()}'{line}: an image in a book carries no code"
    return _use_problem(root)


def _use_problem(root) -> str | None:
    """What is wrong with the SVG's <use> elements: one that draws itself (through any chain of
    references), or all of them together drawing more than MAX_SVG_DRAWN elements."""
    ids: dict = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") is not None:
            ids.setdefault(node.get("id"), node)

    def drawn_from(node) -> list:
        # What <defs> holds, and a <symbol>, is drawn only where a <use> refers to it.
        out = [] if _local(node.tag) == "defs" else [
            child for child in node if isinstance(child.tag, str) and _local(child.tag) != "symbol"]
        if _local(node.tag) == "use":
            link = (node.get("href") or node.get(f"{{{XLINK_NS}}}href") or "").strip()
            target = ids.get(link[1:]) if link.startswith("#") else None
            if target is not None:
                out.append(target)
        return out

    # Elements each one draws, itself included, counted from the leaves up (no recursion: a
    # chain of references can be as long as the file). A node seen again while still open is
    # one of its own ancestors: a <use> that draws itself.
    count: dict = {}
    todo = [(root, False)]
    open_nodes: set = set()
    while todo:
        node, done = todo.pop()
        if done:
            open_nodes.discard(node)
            count[node] = min(MAX_SVG_DRAWN + 1, 1 + sum(count[n] for n in drawn_from(node)))
            continue
        if node in count:
            continue
        if node in open_nodes:
            line = f" (at its line {node.sourceline})" if node.sourceline else ""
            return f"has a <use> that draws itself{line}: it would never finish"
        open_nodes.add(node)
        todo.append((node, True))
        todo += [(n, False) for n in drawn_from(node) if n not in count]
    if count[root] > MAX_SVG_DRAWN:
        return (f"draws more than {MAX_SVG_DRAWN:,} elements once its <use> copies are counted (nested <use> "
                f"elements multiply): a figure so large would hold the layout past any time limit")
    return None


def _safe_link(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") or bool(SAFE_DATA.match(value))


def _style_problem(css: str) -> str | None:
    if SCRIPTISH.search(css):
        return "holds script or @import"
    for match in URL_CALL.finditer(css):
        target = match.group(2).strip()
        if not (target.startswith("#") or SAFE_DATA.match(target)):
            return f"fetches '{target[:60]}'"
    return None


def raster_problem(path: Path) -> str | None:
    """None when Pillow can open and verify the file within the pixel bound; else what is wrong.
    Pillow's DecompressionBombWarning becomes the answer, never a line on the terminal."""
    from PIL import Image, UnidentifiedImageError

    bound = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()          # reads the structure without decoding every pixel
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"has more pixels than an image in a book ever needs (over {MAX_PIXELS:,})"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        return f"is not an image ({err})"
    except Exception as err:        # Pillow's plugins raise many kinds on a damaged file
        return f"is not an image ({type(err).__name__}: {err})"
    finally:
        Image.MAX_IMAGE_PIXELS = bound
    return None


def image_problem(path: Path) -> str | None:
    """None when the file is an image the editions can carry; otherwise what is wrong."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError as err:
        return f"cannot be read ({err.strerror})"
    if path.suffix.lower() == ".svg" or b"<svg" in head:
        try:
            size = path.stat().st_size
            if size > MAX_SVG_BYTES:
                return f"is larger than {MAX_SVG_BYTES // 2**20} MiB (an SVG so large is not a book's figure)"
            return svg_problem(path.read_bytes())
        except OSError as err:
            return f"cannot be read ({err.strerror})"
    return raster_problem(path)
