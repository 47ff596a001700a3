"""A formula's TeX (pandoc's Math nodes: `$...$` inline, `$$...$$` display) -> what the editions print.

In: the TeX between the dollars, and whether it is display math.
Out:
- `mathml(tex, display)`: a MathML `<math>` element (lxml, in the MathML namespace) with the
  TeX as its `alttext`, passed through the sanitizer's MathML allowlist: for the EPUB;
- `svg(tex, display)`: the formula drawn as vector paths (no text, no fonts) in an SVG, with its
  width, height and depth in em of the text around it: for the paged editions, which place
  it as an image sitting on the baseline (inline) or centred on a line of its own (display);
- `problem(tex)`: why a formula cannot be set (a code, a message, a hint), or None; the
  manuscript check (imprint/checks/math.py) reports it at the formula's file:line:col;
- `plain(tex)`: the formula as plain Unicode text (for headings' labels, contents, bookmarks).

The TeX is read by latex2mathml (through ziamath's reader) and set by ziamath with an OpenType
MATH font: STIX Two Math, which ziamath bundles (a Times-like face that sits well beside
Linux Libertine; Libertinus Math is not packaged where this project installs from).
Results are cached by TeX, display and size (the same formula is set once per process).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lxml import etree

from imprint.manuscript import sanitize

MATHML = "http://www.w3.org/1998/Math/MathML"
TEXT_SIZE = 11.0        # the body size in styles/book.css (pt): formulas are set at it, then sized in em
MAX_TEX = 4000          # characters in one formula

# latex2mathml's exceptions -> what the writer did wrong.
READ_ERRORS = {
    "NoAvailableTokensError": ("a command is missing its argument, or a `{` is never closed",
                               "check the braces and that every command has its arguments"),
    "MissingSuperScriptOrSubscriptError": ("`^` or `_` has nothing after it", "write `x^{2}`, `a_{i}`"),
    "DoubleSubscriptsError": ("two subscripts in a row (`a_b_c`)", "group them: `a_{b_c}`"),
    "DoubleSuperscriptsError": ("two superscripts in a row (`a^b^c`)", "group them: `a^{b^c}`"),
    "ExtraLeftOrMissingRightError": ("`\\left` without its `\\right`", "close it with `\\right)` or `\\right.`"),
    "MissingEndError": ("`\\begin{...}` without its `\\end{...}`", "close the environment"),
    "NumeratorNotFoundError": ("a fraction has no numerator", "write `\\frac{a}{b}`"),
    "DenominatorNotFoundError": ("a fraction has no denominator", "write `\\frac{a}{b}`"),
    "InvalidAlignmentError": ("an array's column alignment is not l, c or r", "write `\\begin{array}{lcr}`"),
    "InvalidWidthError": ("a space's width is not a TeX length", "write e.g. `\\hspace{1em}`"),
    "InvalidStyleForGenfracError": ("`\\genfrac`'s style is not 0 to 3", "write `\\genfrac{(}{)}{0pt}{0}{a}{b}`"),
    "LimitsMustFollowMathOperatorError": ("`\\limits` does not follow an operator", "write `\\sum\\limits_{i}`"),
}


class MathProblem(Exception):
    """A formula that cannot be set: code, message, hint."""

    def __init__(self, code: str, message: str, hint: str):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@dataclass(frozen=True)
class Drawn:
    """A formula as an SVG of paths and its box in em of the surrounding text."""

    svg: str
    width: float            # em
    height: float           # em, depth included
    depth: float            # em below the baseline (negative: the formula sits above it); vertical-align is -depth


def _unbalanced(tex: str) -> bool:
    depth = 0
    for m in re.finditer(r"\\.|[{}]", tex, re.S):
        token = m.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return True
    return depth != 0


@functools.lru_cache(maxsize=4096)
def _read(tex: str, display: bool) -> tuple[str, tuple[str, ...]]:
    """TeX -> (MathML text, names the allowlist dropped). Raises MathProblem."""
    from ziamath.tex import tex2mml

    if len(tex) > MAX_TEX:
        raise MathProblem("Q101", f"the formula is longer than {MAX_TEX} characters", "split it")
    if not tex.strip():
        raise MathProblem("Q101", "the formula is empty", "write the formula between the dollars, or escape a "
                          "dollar sign as `\\$`")
    if _unbalanced(tex):
        raise MathProblem("Q101", "the formula's braces do not pair up", "close every `{` with a `}`; "
                          "write a literal brace as `\\{` or `\\}`")
    try:
        text = tex2mml(tex, inline=not display)
    except RecursionError:
        raise MathProblem("Q101", "the formula is nested too deeply to read", "simplify it") from None
    except Exception as err:        # latex2mathml's own exceptions carry no message: name them
        name = type(err).__name__
        message, hint = READ_ERRORS.get(name, (f"the formula cannot be read ({name})", "check its TeX"))
        raise MathProblem("Q101", message, hint) from None
    root = etree.fromstring(text.encode("utf-8"))
    for el in root.iter():
        token = (el.text or "").strip()
        if isinstance(el.tag, str) and re.fullmatch(r"\\[A-Za-z]+\*?", token):
            raise MathProblem("Q102", f"unknown TeX command {token}",
                              "the math renderer knows LaTeX's math commands (and amsmath's); spell it as "
                              "LaTeX does, or write the symbol itself")
    dropped = sanitize.clean_mathml(root)
    return etree.tostring(root, encoding="unicode"), tuple(dropped)


def dropped(tex: str, display: bool) -> tuple[str, ...]:
    """What the MathML allowlist took out of the formula (links, classes, styles...)."""
    return _read(tex, display)[1]


def mathml(tex: str, display: bool) -> etree._Element:
    """The formula as a MathML <math> element with its TeX as alttext. Raises MathProblem."""
    root = etree.fromstring(_read(tex, display)[0].encode("utf-8"))
    root.set("alttext", " ".join(tex.split()))
    root.set("display", "block" if display else "inline")
    return root


def plain(tex: str) -> str:
    """The formula as plain text (its MathML's characters); the TeX itself if it cannot be read."""
    try:
        return " ".join("".join(mathml(tex, False).itertext()).split())
    except MathProblem:
        return tex


@functools.lru_cache(maxsize=4096)
def svg(tex: str, display: bool, size: float = TEXT_SIZE) -> Drawn:
    """The formula drawn by ziamath as paths, sized in em of a `size` text. Raises MathProblem.
    Kept in the build cache too: the next build of the book neither loads ziamath nor sets it again."""
    from imprint import cache

    store = cache.current()
    if not store.enabled:
        return _draw(tex, display, size)
    key = cache.digest("math", cache.toolchain(), tex, display, size)
    return store.remember("math", key, lambda: _draw(tex, display, size))


def _draw(tex: str, display: bool, size: float) -> Drawn:
    import ziamath

    ziamath.config.svg2 = False     # plain <path>s: no <symbol>/<use> for the typesetter to resolve
    text = _read(tex, display)[0]
    try:
        drawn = ziamath.Math(text, size=size, margin=0)
        out = drawn.svg()
    except RecursionError:
        raise MathProblem("Q101", "the formula is nested too deeply to set", "simplify it") from None
    except Exception as err:
        raise MathProblem("Q101", f"the math renderer cannot set the formula ({type(err).__name__}: "
                          f"{str(err)[:80]})", "simplify it, or report it") from None
    box = drawn.node.bbox
    width, height = box.xmax - box.xmin, box.ymax - box.ymin
    return Drawn(out, width / size, height / size, -box.ymin / size)


def problem(tex: str, display: bool) -> MathProblem | None:
    """Why this formula cannot be set in every edition, or None."""
    try:
        svg(tex, display)
    except MathProblem as err:
        return err
    return None


# Pandoc's HTML keeps each formula's TeX as written (pandoc.HTML_ARGS has --mathjax, and no
# script is ever added): <span class="math inline">\(...\)</span>, <span class="math display">\[...\]</span>.
SPAN_XPATH = ".//span[contains(concat(' ', normalize-space(@class), ' '), ' math ')]"


def spans(root):
    """(span, TeX, display) for every formula pandoc wrote in an lxml tree."""
    found = []
    for span in root.xpath(SPAN_XPATH):
        classes = span.get("class", "").split()
        text = span.text or ""
        if len(span) or not (("inline" in classes and text.startswith("\\(") and text.endswith("\\)"))
                             or ("display" in classes and text.startswith("\\[") and text.endswith("\\]"))):
            continue            # not pandoc's: raw HTML with these classes is an ordinary span
        found.append((span, text[2:-2], "display" in classes))
    return found


def _em(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") + "em"


def to_images(root) -> None:
    """Every formula of an lxml HTML tree -> an <img> of its SVG, sized in em so it follows the
    size of the text around it (body, notes, headings), the inline ones sitting on the
    baseline; display ones stay in their span (CSS centres it on its own line). Raises MathProblem."""
    import base64

    for span, tex, display in spans(root):
        drawn = svg(tex, display)
        img = span.makeelement("img", {
            "class": "math",
            "src": "data:image/svg+xml;base64," + base64.b64encode(drawn.svg.encode("utf-8")).decode("ascii"),
            "alt": " ".join(tex.split()),
            "style": f"width: {_em(drawn.width)}; height: {_em(drawn.height)}; vertical-align: {_em(-drawn.depth)}",
        })
        span.text = None
        span.append(img)


def to_mathml(root) -> bool:
    """Every formula of an lxml tree -> a MathML <math> (with alttext) in its place; True if any.
    Raises MathProblem."""
    found = False
    for span, tex, display in spans(root):
        element = mathml(tex, display)
        element.tail = span.tail
        span.getparent().replace(span, element)
        found = True
    return found


def label_text(root) -> None:
    """Every formula of an lxml tree -> its plain text (for labels made from a heading's text)."""
    for span, tex, _display in spans(root):
        span.text = plain(tex)
