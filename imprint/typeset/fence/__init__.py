"""The fence: every patch of WeasyPrint or pydyf and every read of their internals lives here.

imprint is written for one release line of WeasyPrint (70) and pydyf (0.13). It changes a few
of their functions for speed (pagestyle, notearea, textdraw, the pydyf patches in pdfwrite),
for the notes' layout (notemoves), for CMYK print files (pdfwrite), and it reads the laid-out
box tree (the accessors below; lines.py for total-fit line breaking). `INTERNALS` lists each internal it relies on: a module, the
attribute names, and whether it is a `speed` patch (optional: off, the output is the same
bytes — tests/test_fence.py) or `required` (the build cannot be right without it).

`ready()` makes the one check, once per process, before the first layout (engine.render and
every accessor call it; it is not run on import because WeasyPrint is imported lazily, in a
thread, while pandoc reads the text): when the installed versions are not the ones the
patches were written for, or a speed patch's internal is gone, that patch is switched off;
a required internal gone is a ToolError (exit 6) naming the version found and the one wanted,
never a crash later in the layout.
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass, field

from imprint.errors import ToolError

WEASYPRINT_LINE = (70,)           # the release line the patches were written and tested for
PYDYF_LINE = (0, 13)
INSTALL = 'pip install "weasyprint>=70,<71"'

SPEED, REQUIRED = "speed", "required"


@dataclass(frozen=True)
class Internal:
    module: str
    names: tuple[str, ...]        # attributes of the module; dotted for a class's ("Font.to_unicode")
    kind: str                     # SPEED or REQUIRED
    use: str                      # the patch or reader relying on it


def _i(module: str, names: str, kind: str, use: str) -> Internal:
    return Internal(module, tuple(names.split()), kind, use)


INTERNALS: tuple[Internal, ...] = (
    # speed patches: each is switched off as a whole when one of its internals is missing
    _i("weasyprint.layout.page", "set_page_type_computed_styles", SPEED, "pagestyle"),
    _i("weasyprint.css", "StyleFor._sheets StyleFor._page_type_match StyleFor.add_page_declarations "
       "StyleFor.set_computed_styles StyleFor.get_computed_styles", SPEED, "pagestyle"),
    _i("weasyprint.layout.block", "block_level_layout", SPEED, "notearea"),
    _i("weasyprint.layout", "LayoutContext.excluded_shapes LayoutContext.current_page LayoutContext.forced_break "
       "LayoutContext.in_column", SPEED, "notearea"),
    _i("weasyprint.formatting_structure.boxes", "Box.deepcopy Box.translate", SPEED, "notearea"),
    _i("weasyprint.draw", "draw_text", SPEED, "textdraw"),
    _i("weasyprint.draw.text", "draw_first_line", SPEED, "textdraw"),
    _i("weasyprint.pdf.fonts", "Font.get_unused_glyph_id Font.to_unicode Font.widths Font.hash Font.svg Font.png "
       "Font.bitmap", SPEED, "textdraw"),
    _i("weasyprint.pdf.stream", "Stream._fonts Stream.add_font Stream.set_font_size Stream.show_text "
       "Stream.set_text_rise Stream.set_text_matrix Stream.begin_text Stream.end_text", SPEED, "textdraw"),
    _i("pydyf", "zlib PDF.page_references", SPEED, "pydyf"),
    # required: the notes' layout, CMYK print files, and the reads of the laid-out pages
    _i("weasyprint.layout.block", "_linebox_layout", REQUIRED, "notes kept with their calls (notemoves)"),
    _i("weasyprint.layout", "LayoutContext._update_footnote_area LayoutContext.in_column", REQUIRED,
       "notes kept with their calls (notemoves)"),
    _i("weasyprint.layout.page", "remake_page make_all_pages", REQUIRED,
       "notes pending at a document's end kept when its pages are laid out again (pending)"),
    _i("weasyprint.layout", "make_all_pages", REQUIRED,
       "notes pending at a document's end kept when its pages are laid out again (pending)"),
    _i("weasyprint.pdf.stream", "Stream.set_color", REQUIRED, "CMYK print files (pdfwrite)"),
    _i("weasyprint.layout.page", "remake_page page_height make_all_pages", REQUIRED,
       "facing pages ending on one baseline (spreads)"),
    _i("weasyprint.layout", "LayoutContext.footnotes LayoutContext.reported_footnotes LayoutContext.broken_out_of_flow "
       "LayoutContext.running_elements LayoutContext.rendered_notes", REQUIRED, "facing pages ending on one baseline (spreads)"),
    _i("weasyprint.pdf.fonts", "Font.to_unicode Font.name", REQUIRED, "whole fonts' ToUnicode maps (pdfwrite)"),
    _i("weasyprint.document", "Page._page_box Document.fonts", REQUIRED, "reading the laid-out pages"),
    _i("weasyprint.formatting_structure.boxes", "Box ParentBox BlockBox BlockContainerBox LineBox TextBox "
       "ReplacedBox AtomicInlineLevelBox InlineBlockBox TableBox InlineTableBox MarginBox FootnoteAreaBox",
       REQUIRED, "reading the laid-out pages"),
    _i("weasyprint.text.line_break", "create_layout line_size", REQUIRED, "word-space widths (page checks)"),
    _i("weasyprint.layout.inline", "justify_line count_expandable_spaces add_word_spacing", REQUIRED,
       "total-fit line breaking (typeset/linebreak.py): no-break spaces widened when a line is justified"),
    _i("weasyprint.formatting_structure.boxes", "Box.margin_width Box.content_box_x", REQUIRED,
       "total-fit line breaking: the laid-out lines read back (fence/lines.py)"),
    _i("weasyprint.layout.block", "iter_line_boxes", REQUIRED,
       "a right-to-left paragraph's indent at its start (bidi)"),
    _i("weasyprint.anchors", "make_page_bookmark_tree", REQUIRED, "the outline of a book set in chapters"),
    _i("weasyprint.matrix", "Matrix", REQUIRED, "the outline of a book set in chapters"),
)

PATCHES = ("pagestyle", "notearea", "textdraw", "pydyf")


@dataclass
class Status:
    weasyprint: str = ""
    pydyf: str = ""
    off: dict = field(default_factory=dict)     # speed patch -> why it is off

    def on(self, patch: str) -> bool:
        return patch not in self.off


_STATE: list[Status] = []


def _version(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def _has(module, dotted: str) -> bool:
    """Whether `module` has the attribute; for a class's, also an attribute its __init__ sets
    on every instance (read off the code's names: an instance attribute is not on the class)."""
    owner, *rest = dotted.split(".")
    if not hasattr(module, owner):
        return False
    if not rest:
        return True
    cls = getattr(module, owner)
    name = rest[0]
    if hasattr(cls, name):
        return True
    names = set()
    for klass in getattr(cls, "__mro__", ()):
        init = klass.__dict__.get("__init__")
        code = getattr(init, "__code__", None)
        if code is not None:
            names.update(code.co_names)
    return name in names


def check() -> Status:
    """Compare the installed WeasyPrint and pydyf, and each internal in INTERNALS, with what
    the code was written for. Speed patches that cannot be trusted are switched off; a missing
    required internal raises ToolError."""
    import pydyf
    import weasyprint

    status = Status(getattr(weasyprint, "__version__", "?"), getattr(pydyf, "__version__", "?"))
    wanted = f"WeasyPrint {'.'.join(map(str, WEASYPRINT_LINE))} with pydyf {'.'.join(map(str, PYDYF_LINE))}"
    if _version(status.weasyprint)[:len(WEASYPRINT_LINE)] != WEASYPRINT_LINE \
            or _version(status.pydyf)[:len(PYDYF_LINE)] != PYDYF_LINE:
        why = f"WeasyPrint {status.weasyprint} with pydyf {status.pydyf} installed, the patches are for {wanted}"
        status.off.update({patch: why for patch in PATCHES})
    for internal in INTERNALS:
        try:
            module = importlib.import_module(internal.module)
        except ImportError:
            module = None
        missing = [n for n in internal.names if module is None or not _has(module, n)]
        if not missing:
            continue
        where = f"{internal.module}.{missing[0]}"
        if internal.kind == SPEED:
            status.off.setdefault(internal.use, f"{where} is missing from WeasyPrint {status.weasyprint}")
            continue
        raise ToolError(f"WeasyPrint {status.weasyprint} (pydyf {status.pydyf}) lacks {where}, which imprint "
                        f"needs for {internal.use}; it is written for {wanted}", hint=INSTALL)
    return status


def ready() -> Status:
    """The check, made once per process (a failed check is made again, and fails again)."""
    if not _STATE:
        _STATE.append(check())
    return _STATE[0]


def on(patch: str) -> bool:
    """Whether the speed patch `patch` (one of PATCHES) may be used."""
    return ready().on(patch)


def switched_off() -> dict[str, str]:
    """Speed patch -> why it is off (empty when all are on)."""
    return dict(ready().off)


def recheck() -> Status:
    """Forget the check and make it again (tests that change the installed modules' look)."""
    _STATE.clear()
    return ready()


@contextlib.contextmanager
def swapped(*patches):
    """Each (owner, name, value) set while the block runs; every original put back on leaving,
    whatever happens: how a patch of this fence stays bounded to the layout it is for."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in reversed(originals):
            setattr(owner, name, value)


# --- reading the laid-out pages --------------------------------------------------------

def boxes():
    """WeasyPrint's box classes (weasyprint.formatting_structure.boxes), to tell boxes apart."""
    ready()
    from weasyprint.formatting_structure import boxes as module
    return module


def page_box(page):
    """The root box of a laid-out page (Document.pages[i])."""
    return page._page_box


def show_generated(page, element, pseudo: str = "::after") -> int:
    """Make the generated content `pseudo` of `element` visible on a laid-out page (it is laid
    out with `visibility: hidden`): the style of its box and of every box in it, which is what
    WeasyPrint reads when it draws. Returns how many boxes were found (0: not on this page)."""
    found = 0
    for box in page_box(page).descendants():
        if box.element is element and (box.element_tag or "").endswith(pseudo):
            for inner in box.descendants():           # the box itself, then the boxes in it
                if inner.style["visibility"] != "visible":
                    inner.style = inner.style.copy()
                    inner.style["visibility"] = "visible"
            found += 1
    return found


def space_width(style) -> float:
    """The natural width of a word space in `style`, measured with Pango as WeasyPrint does."""
    from weasyprint.text.line_break import create_layout, line_size
    layout = create_layout(" ", style, None, None, 0)
    return line_size(layout.get_first_line()[0], style)[0]


def bookmark_tree(pages) -> list:
    """The bookmark tree of `pages` (objects with `.bookmarks` as WeasyPrint's pages have them:
    (level, label, (x, y), state)), by WeasyPrint's own rules (levels may skip)."""
    from weasyprint.anchors import make_page_bookmark_tree
    from weasyprint.matrix import Matrix

    root: list = []
    skipped, last_by_depth, previous = [], [root], 0
    for number, page in enumerate(pages):
        previous = make_page_bookmark_tree(page, skipped, last_by_depth, previous, number, Matrix())
    return root
