"""The book's look, from its metadata: its own stylesheets (`css`, `epub-css`), its faces
(`mainfont`, `sansfont`, `monofont`), its text size (`fontsize`) and leading (`linestretch`).

A face is a family bundled under styles/fonts/<folder>/ (with its licence) or one whose font
files (OTF, TTF, WOFF, WOFF2; any weights and styles) the book brings in its `fonts/` folder;
families are read from the files' own names (fontTools), never from the file names. The family
names reach the stylesheets in one place: `font_css` declares the chosen faces' @font-face
rules and the custom properties styles/*.css use (--main-font, --heading-font, --sans-font,
--mono-font). Book stylesheets may not load anything (no url(), no @import): the same rule as
the manuscript's style attributes (imprint/manuscript/sanitize.py); fonts come through fonts/.

Every problem is a MetadataError (exit 3) at the metadata line or the file, before anything is built.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from imprint.errors import Location, MetadataError
from imprint.house import STYLES
from imprint.manuscript import languages
from imprint.manuscript.citations import _in_book

FONT_FOLDER = "fonts"                       # the book's own fonts, beside its metadata
BUNDLED_FOLDER = STYLES / "fonts"
FONT_SUFFIXES = (".otf", ".ttf", ".woff2", ".woff")     # in order of preference for one weight/style
MAX_FONT_BYTES = 30 * 2**20
MAX_CSS_BYTES = 2**20
DEFAULT_MAIN = "libertine"
# Bundled faces whose CSS family (and so the PDF's font names) and colophon name are not the
# files' family ("Linux Libertine O"): the house has always called it "Libertine".
DISPLAY = {"libertine": ("Libertine", "Linux Libertine")}
BUNDLED_LICENCE = "SIL Open Font License"
DEFAULT_MONO = '"DejaVu Sans Mono", monospace'      # the system's (fontconfig), as before
HOUSE_SIZE, HOUSE_LEADING = 11.0, 14.4              # styles/book.css: html { font-size; line-height }
# What a book stylesheet may not hold: anything that loads a resource or runs (sanitize.STYLE_DANGER).
LOADS = {"url", "image-set", "image", "-webkit-image-set", "cross-fade", "element", "expression", "src"}
AT_LOADS = {"import", "namespace", "font-face"}
DANGER_WORDS = re.compile(r"behavior|-moz-binding", re.I)


@dataclass(frozen=True)
class FontFile:
    path: Path
    weight: int             # OS/2 usWeightClass
    italic: bool


@dataclass(frozen=True)
class Face:
    family: str             # the CSS font-family (the files' own family name, DISPLAY aside)
    name: str               # as the colophon prints it
    files: tuple[FontFile, ...]
    bundled: bool
    licence: str | None     # bundled faces: their licence's name; a book's own: None
    aliases: tuple[str, ...] = ()       # other names `mainfont:` may give (the files' family, the folder)


@dataclass(frozen=True)
class Look:
    main: Face
    sans: Face | None = None
    mono: Face | None = None
    css: tuple[Path, ...] = ()          # the book's stylesheets for the paged editions
    epub_css: tuple[Path, ...] = ()     # and for the EPUB
    fontsize: float | None = None
    linestretch: float | None = None

    @property
    def faces(self) -> tuple[Face, ...]:
        return tuple(f for f in (self.main, self.sans, self.mono) if f is not None)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def read_font(path: Path, whole: bool = True) -> tuple[str, FontFile]:
    """(family, FontFile) from the font's own tables. Raises ValueError when it is not a font.
    `whole`: its character map is read too, to be sure it is sound (a book's own font; the
    bundled ones, part of imprint, are not read so in every build: 0.6 s for their 13 files)."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(str(path), lazy=True)
        try:
            names = font["name"]
            family = names.getDebugName(16) or names.getDebugName(1)
            os2 = font["OS/2"] if "OS/2" in font else None
            weight = int(os2.usWeightClass) if os2 is not None else 400
            italic = bool(os2.fsSelection & 1) if os2 is not None else bool(font["head"].macStyle & 2)
            if whole:
                font["cmap"].getBestCmap()
        finally:
            font.close()
    except Exception as err:    # fontTools raises many kinds on a damaged or foreign file
        raise ValueError(str(err) or type(err).__name__) from None
    if not family or not family.strip():
        raise ValueError("it names no family")
    return family.strip(), FontFile(path, min(max(weight, 1), 1000), italic)


def _faces_in(folder: Path, bundled: bool) -> dict[str, list[FontFile]]:
    """family -> its files, for every font file in `folder` (any other file is left alone)."""
    found: dict[str, list[FontFile]] = {}
    files = sorted((p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES),
                   key=lambda p: (FONT_SUFFIXES.index(p.suffix.lower()), str(p)))
    for path in files:
        where = Location(path)
        if not path.is_file():
            raise MetadataError(f"font '{path.name}' is not a file", where=where)
        if not path.resolve().is_relative_to(folder.resolve()):
            raise MetadataError(f"font '{path.name}' leads outside the {folder.name}/ folder", where=where,
                                hint="copy the font file itself into fonts/")
        if path.stat().st_size > MAX_FONT_BYTES:
            raise MetadataError(f"font '{path.name}' is larger than {MAX_FONT_BYTES // 2**20} MB", where=where)
        try:
            family, file = read_font(path, whole=not bundled)
        except ValueError as err:
            raise MetadataError(f"'{path.name}' in {folder.name}/ is not a font file ({err})", where=where,
                                hint="replace it with an OTF, TTF or WOFF2 font, or take it out of fonts/") from None
        same = found.setdefault(family, [])
        if not any((f.weight, f.italic) == (file.weight, file.italic) for f in same):
            same.append(file)
    return found


@functools.cache
def bundled() -> dict[str, Face]:
    """The bundled families by folder name (styles/fonts/<folder>/, each with its licence)."""
    faces = {}
    for folder in sorted(p for p in BUNDLED_FOLDER.iterdir() if p.is_dir()):
        for family, files in _faces_in(folder, True).items():
            css_family, name = DISPLAY.get(folder.name, (family, family))
            faces[folder.name] = Face(css_family, name, _ordered(files), True, BUNDLED_LICENCE,
                                      (family, folder.name))
    return faces


def _ordered(files) -> tuple[FontFile, ...]:
    return tuple(sorted(files, key=lambda f: (f.italic, f.weight)))


def default() -> Look:
    return Look(bundled()[DEFAULT_MAIN])


def measured_files(look: Look, face: Face | None = None) -> tuple[str, str, str, str]:
    """The main face's files (or `face`'s: the monospace one, for inline code) total-fit line
    breaking (imprint/typeset/linebreak.py) measures words with: regular, italic, bold, bold
    italic, each the file the typesetter draws that style from (`nearest`: a face with no bold
    file is emboldened from the regular one)."""
    return tuple(str(nearest(face or look.main, bold, italic).path)
                 for bold, italic in ((False, False), (False, True), (True, False), (True, True)))


# What a book stylesheet may set on running text that changes the width of its words or its
# measure, beyond what total-fit line breaking measures (the face's files, the text size).
UNMEASURED = ("letter-spacing", "word-spacing", "font-size", "font-family", "font-stretch", "font-kerning",
              "font-feature-settings", "font-variation-settings", "font-variant", "font-variant-ligatures",
              "font-variant-caps", "font-variant-numeric", "font-synthesis", "text-indent", "text-transform",
              "margin", "margin-left", "margin-right", "padding", "padding-left", "padding-right",
              "border", "border-left", "border-right", "width", "max-width", "min-width", "hanging-punctuation")
RUNNING = re.compile(r"^(?:html|body|p|li|main|section|span|:root|\*|\.footnote|\.fn-p)$")


def total_fit_obstacle(look: Look) -> tuple[str, Location] | None:
    """Why total-fit line breaking cannot measure this book's paragraphs, and where; None when it can.

    It measures words in the book's own face files at its `fontsize` (notes and note calls at
    the house sizes); a book stylesheet that sets, on running text (html, body, :root, *, p,
    li, main, section, span, .footnote), something that changes a word's width or the measure
    (UNMEASURED) takes that out of its hands."""
    import tinycss2

    for path in look.css:
        rules = tinycss2.parse_stylesheet(path.read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True)
        for rule in rules:
            if rule.type != "qualified-rule":
                continue
            selectors = [" ".join(tinycss2.serialize(part).split()) for part in
                         _split_commas(rule.prelude)]
            running = [sel for sel in selectors if RUNNING.match(_subject(sel))
                       and not re.search(r"::(?:marker|selection)\b", sel)]
            if not running:
                continue
            for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
                if decl.type == "declaration" and decl.lower_name in UNMEASURED \
                        and not _vertical_only(decl.lower_name, decl.value):
                    return (f"{path.name} sets `{decl.lower_name}` on `{running[0]}`, which total-fit line "
                            f"breaking does not measure", Location(path, decl.source_line, decl.source_column))
    return None


def _vertical_only(name: str, value) -> bool:
    """A margin, padding or border shorthand that leaves left and right at zero (`margin: 1em 0`)."""
    if name not in ("margin", "padding", "border"):
        return False
    parts = [t for t in value if t.type not in ("whitespace", "comment")]
    if name == "border":
        return any(t.type == "ident" and t.lower_value in ("none", "hidden") for t in parts)
    sides = parts[1::2] if len(parts) >= 2 else parts       # right (and left) of 1-4 values
    return all(t.type in ("number", "dimension", "percentage") and t.value == 0 for t in sides)


def _split_commas(tokens):
    part = []
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            yield part
            part = []
        else:
            part.append(token)
    yield part


def _subject(selector: str) -> str:
    """What a selector's last compound first names: `main p.x:first-child` -> p, `:root` -> :root."""
    last = re.split(r"[\s>+~]+", selector.strip())[-1] if selector.strip() else ""
    m = re.match(r"[a-zA-Z][\w-]*|\*|:root|\.[\w-]+", last)
    return m.group().lower() if m else ""


def resolve(root: Path, metadata) -> Look:
    """The metadata's look, every file checked; MetadataError at the key's line otherwise."""
    lines = dict(metadata.key_lines)
    where = lambda key: Location(metadata.source, lines.get(key))
    own = {}
    folder = root / FONT_FOLDER
    if folder.is_dir():
        own = {family: Face(family, family, _ordered(files), False, None)
               for family, files in _faces_in(folder, False).items()}
    house = bundled()

    def face(key: str, name: str | None) -> Face | None:
        if name is None:
            return None
        wanted = _key(name)
        for family, f in own.items():
            if _key(family) == wanted:
                return f
        for f in house.values():
            if wanted in {_key(n) for n in (f.family, f.name) + f.aliases}:
                return f
        available = sorted({f.name for f in house.values()} | set(own))
        raise MetadataError(f"metadata key '{key}': no family '{name}' is bundled or in {FONT_FOLDER}/",
                            where=where(key),
                            hint=f"available: {', '.join(available)}; or put the family's font files in "
                                 f"{FONT_FOLDER}/ beside the metadata")

    def sheets(key: str, names) -> tuple[Path, ...]:
        out = []
        for value in names:
            if not str(value).lower().endswith(".css"):
                raise MetadataError(f"metadata key '{key}': '{value}' is not a stylesheet (.css)", where=where(key),
                                    hint="name a .css file in the book folder")
            path = _in_book(root, value, metadata, key, "stylesheet")
            check_stylesheet(path)
            out.append(path.resolve())
        return tuple(out)

    css = sheets("css", metadata.css)
    epub_css = css if metadata.epub_css is None else sheets("epub-css", metadata.epub_css)
    main = face("mainfont", metadata.mainfont) or house[DEFAULT_MAIN]
    return Look(main, face("sansfont", metadata.sansfont), face("monofont", metadata.monofont), css, epub_css,
                metadata.fontsize, metadata.linestretch)


def check_stylesheet(path: Path) -> str:
    """A book stylesheet's text; it may style but never load (url(), @import, @font-face)."""
    import tinycss2

    data = path.read_bytes()
    if len(data) > MAX_CSS_BYTES:
        raise MetadataError(f"stylesheet is larger than {MAX_CSS_BYTES // 2**10} KiB", where=Location(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise MetadataError("stylesheet is not valid UTF-8", where=Location(path, line),
                            hint="save the file as UTF-8") from None

    def refuse(token, what):
        raise MetadataError(f"stylesheet {what}: book stylesheets may not load files or fonts",
                            where=Location(path, token.source_line, token.source_column),
                            hint=f"name the face with `mainfont:` and put its files in {FONT_FOLDER}/; "
                                 "images belong in the manuscript")

    def walk(tokens):
        for token in tokens or ():
            kind = token.type
            if kind == "url" or (kind == "function" and token.lower_name in LOADS):
                refuse(token, f"uses {token.lower_name if kind == 'function' else 'url'}()")
            if kind == "at-rule" and token.lower_at_keyword in AT_LOADS:
                refuse(token, f"has @{token.lower_at_keyword}")
            if kind == "ident" and DANGER_WORDS.fullmatch(token.value):
                refuse(token, f"uses '{token.value}'")
            for part in ("prelude", "content", "arguments", "value"):
                inner = getattr(token, part, None)
                if isinstance(inner, list):
                    walk(inner)

    walk(tinycss2.parse_stylesheet(text))
    return text


# --- the look as CSS ----------------------------------------------------------------------------------------

def _family(face: Face | None, generic: str) -> str:
    return f'"{face.family}", {generic}'


# Faces for the scripts the text faces lack, beside whichever text face is chosen (Noto Serif
# Hebrew, Noto Naskh Arabic; SIL OFL 1.1: styles/fonts/noto/OFL.txt): they take text in those
# languages (book.css :lang rules) and any character of their scripts the text face lacks.
SCRIPT_FACES = tuple((family, stem) for family, stem, _ in languages.SCRIPTS)


def script_family(lang: str) -> str | None:
    """The bundled face styles/book.css sets text in `lang` in (its :lang rules), if any."""
    face = languages.script_face(lang)
    return face[0] if face else None


def script_faces_css() -> str:
    folder = STYLES / "fonts" / "noto"
    return "".join(f'@font-face {{ font-family: "{family}"; src: url("{(folder / f"{stem}-{style}.ttf").as_uri()}"); '
                   f'font-weight: {weight}; }}\n'
                   for family, stem in SCRIPT_FACES for style, weight in (("Regular", 400), ("Bold", 700)))


def script_files(family: str) -> tuple[FontFile, FontFile]:
    """The regular and bold files of a bundled script face (SCRIPT_FACES)."""
    stem = dict(SCRIPT_FACES)[family]
    folder = STYLES / "fonts" / "noto"
    return (FontFile(folder / f"{stem}-Regular.ttf", 400, False), FontFile(folder / f"{stem}-Bold.ttf", 700, False))


@functools.lru_cache(maxsize=None)
def characters(path: Path) -> frozenset:
    """The code points a font file maps."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


def font_css(look: Look, url=lambda path: path.as_uri(), scripts: bool | tuple[str, ...] = True) -> str:
    """@font-face rules for the chosen faces and the custom properties the house styles use.
    `url(path)` gives each file's address (the EPUB's copies are elsewhere); `scripts`: the
    paged editions also get the faces of other scripts (SCRIPT_FACES) as fallbacks; the EPUB
    names those it embeds (a tuple of families, their @font-face rules its own)."""
    rules = [script_faces_css().rstrip("\n")] if scripts is True else []
    for face in look.faces:
        for f in face.files:
            rules.append(f'@font-face {{ font-family: "{face.family}"; src: url("{url(f.path)}"); '
                         f'font-weight: {f.weight}; font-style: {"italic" if f.italic else "normal"}; }}')
    families = [family for family, _ in SCRIPT_FACES] if scripts is True else list(scripts or ())
    fallback = "".join(f'"{family}", ' for family in families)
    main = _family(look.main, fallback + "serif")
    sans = _family(look.sans, "sans-serif") if look.sans else main
    mono = _family(look.mono, "monospace") if look.mono else DEFAULT_MONO
    rules.append(f":root {{ --main-font: {main}; --heading-font: {sans}; "
                 f"--sans-font: {sans if look.sans else 'sans-serif'}; --mono-font: {mono}; }}")
    return "\n".join(rules) + "\n"


def size_css(look: Look) -> str:
    """The text size and leading of the paged editions (after styles/book.css), or ''."""
    if look.fontsize is None and look.linestretch is None:
        return ""
    size = look.fontsize or HOUSE_SIZE
    leading = round(HOUSE_LEADING * size / HOUSE_SIZE * (look.linestretch or 1.0), 2)
    return f"html {{ font-size: {size:g}pt; line-height: {leading:.2f}pt; }}\n" + grid_css(leading)


# The notes' size and leading and the note area's bottom padding in styles/book.css (@footnote).
NOTE_SIZE, NOTE_LEADING, HOUSE_NOTE_PAD = 9.0, 11.5, 0.8


def note_foot_css(look: Look) -> str:
    """The note area's bottom padding for the book's face, size and leading, or '' when the
    house's fits (within 0.05 pt).

    The text block is a whole number of body lines and the note area stands on its foot; the
    padding lifts the note area so its last baseline falls where a full page's last body
    baseline does. A line's baseline stands (leading + (ascent - descent) x size) / 2 below its
    top, so the padding is the difference of the two lines' depths below their baselines:
    (L - l) / 2 - (ascent - descent) x (S - s) / 2, with the face's own ascent and descent
    (HarfBuzz's extents, as Pango reads them). The house face at 11/14.4 gives 0.8 pt; a
    linestretch of 1.5 gives 4.4 pt, which the house's 0.8 would leave 3.6 pt off."""
    size = look.fontsize or HOUSE_SIZE
    leading = round(HOUSE_LEADING * size / HOUSE_SIZE * (look.linestretch or 1.0), 2)
    ascent, descent = face_extents(str(nearest(look.main, False, False).path))
    pad = max(0.0, (leading - NOTE_LEADING) / 2 - (ascent - descent) * (size - NOTE_SIZE) / 2)
    if abs(pad - HOUSE_NOTE_PAD) < 0.05:
        return ""
    return f"@page {{ @footnote {{ padding-bottom: {pad:.2f}pt; }} }}\n"


@functools.cache
def face_extents(path: str) -> tuple[float, float]:
    """A font file's ascent and descent in ems (HarfBuzz's horizontal extents: OS/2 typo
    metrics where the font asks for them, else hhea), the metrics Pango sets lines with."""
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(path))
    extents = hb.Font(face).get_font_extents("ltr")
    return extents.ascender / face.upem, -extents.descender / face.upem


GRID_PROPERTIES = re.compile(r"^(?:margin|padding)(?:-(?:top|bottom))?$|^line-height$|^height$")


@functools.cache
def grid_css(leading: float) -> str:
    """styles/book.css's baseline grid at another leading: every rule of the main text (not the
    notes, not @page) whose vertical margins, paddings, heights or line heights are in half
    lines of the house's 14.4 pt is repeated with those lengths in half lines of `leading`, so
    headings, block quotes, lists and section breaks still take whole lines."""
    import tinycss2

    if abs(leading - HOUSE_LEADING) < 1e-6:
        return ""
    half = HOUSE_LEADING / 2
    out = []
    sheet = tinycss2.parse_stylesheet((STYLES / "book.css").read_text(encoding="utf-8"),
                                      skip_comments=True, skip_whitespace=True)
    for rule in sheet:
        if rule.type != "qualified-rule":
            continue
        selector = " ".join(tinycss2.serialize(rule.prelude).split())
        if "footnote" in selector or re.fullmatch(r"html", selector):
            continue
        scaled = []
        for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
            if decl.type != "declaration" or not GRID_PROPERTIES.match(decl.lower_name):
                continue
            lengths = [t for t in decl.value if t.type == "dimension" and t.lower_unit == "pt"]
            if not lengths or any(abs(t.value / half - round(t.value / half)) > 1e-6 for t in lengths):
                continue
            value = "".join(f"{round(t.value / half) * leading / 2:.3f}pt" if t in lengths else tinycss2.serialize([t])
                            for t in decl.value).strip()
            scaled.append(f"{decl.lower_name}: {value}")
        if scaled:
            out.append(f"{selector} {{ {'; '.join(scaled)}; }}")
    return "\n".join(out) + "\n" if out else ""


# --- the EPUB's fonts -------------------------------------------------------------------------------------

SAFE_CHARACTERS = "".join(chr(c) for c in range(0x20, 0x7F)) + "\u00a0\u00ad\u2010\u2013\u2014\u2018\u2019\u201c\u201d\u2026"


def nearest(face: Face, bold: bool, italic: bool) -> FontFile:
    """The file of `face` a reader would use for bold/italic text (italic first, then weight)."""
    want = 700 if bold else 400
    same = [f for f in face.files if f.italic == italic] or list(face.files)
    return min(same, key=lambda f: (abs(f.weight - want), f.weight))


# The OpenType features a text always needs where the face has them (shaping, marks, kerning,
# standard ligatures), and those CSS properties ask for by name (font-variant-*).
BASE_FEATURES = ("ccmp", "locl", "mark", "mkmk", "kern", "liga", "clig", "calt", "rlig", "rclt", "rvrn",
                 "init", "medi", "fina", "isol", "curs", "abvm", "blwm", "abvs", "blws", "pres", "psts",
                 "akhn", "rphf", "blwf", "half", "pstf", "vatu", "cjct", "nukt", "ltra", "ltrm", "rtla", "rtlm")
CSS_FEATURES = {"small-caps": ("smcp",), "all-small-caps": ("smcp", "c2sc"), "petite-caps": ("pcap",),
                "all-petite-caps": ("pcap", "c2pc"), "unicase": ("unic",), "titling-caps": ("titl",),
                "oldstyle-nums": ("onum",), "lining-nums": ("lnum",), "proportional-nums": ("pnum",),
                "tabular-nums": ("tnum",), "diagonal-fractions": ("frac",), "stacked-fractions": ("afrc",),
                "ordinal": ("ordn",), "slashed-zero": ("zero",), "discretionary-ligatures": ("dlig",),
                "historical-ligatures": ("hlig",), "contextual": ("calt",), "super": ("sups",), "sub": ("subs",),
                "historical-forms": ("hist",)}


def css_features(css_texts) -> tuple[str, ...]:
    """The OpenType features stylesheets may switch on: BASE_FEATURES, those their font-variant
    keywords name and every tag a font-feature-settings gives."""
    import re as _re
    found = set(BASE_FEATURES)
    for text in css_texts:
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        for value in _re.findall(r"font-variant(?:-[a-z]+)?\s*:([^;}]*)", text):
            for keyword in value.split():
                found.update(CSS_FEATURES.get(keyword.strip().lower(), ()))
        for settings in _re.findall(r"font-feature-settings\s*:([^;}]*)", text):
            found.update(_re.findall(r"[\"']([A-Za-z0-9 ]{4})[\"']", settings))
    return tuple(sorted(found))


def subset(file: FontFile, text: str, features: tuple[str, ...] | None = None) -> tuple[bytes, str]:
    """The font cut down to the glyphs `text` needs (and plain ASCII, for what a reader adds),
    with the OpenType features `features` (None: every one) and the glyphs they reach (small
    capitals, old-style figures); the name table is kept whole (the licence, the copyright).
    Returns (bytes, ".otf"|".ttf"). Reproducible: the font's own timestamps are kept.

    Kept in the build's cache by the font file's bytes and the characters and features asked
    for: after an edit the EPUB's text rarely needs a character it did not (fontTools takes
    about a second a font to cut one down, the EPUB's longest step after a one-word edit)."""
    from imprint import cache

    chars = "".join(sorted(set(text + SAFE_CHARACTERS)))
    fingerprint = cache.file_digest(file.path)
    if fingerprint is None:
        return _subset(file, chars, features)
    key = cache.digest("font subset", cache.toolchain(), fingerprint, chars, features)
    return tuple(cache.current().remember("font-subset", key, lambda: _subset(file, chars, features)))


def _subset(file: FontFile, chars: str, features: tuple[str, ...] | None) -> tuple[bytes, str]:
    import io
    import logging

    from fontTools import subset as ft
    from fontTools.ttLib import TTFont

    options = ft.Options()
    options.layout_features = ["*"] if features is None else list(features)
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    options.flavor = None
    options.drop_tables += ["FFTM"]         # FontForge's timestamps: nothing a reader uses
    font = TTFont(str(file.path), recalcTimestamp=False, lazy=False)
    font.flavor = None
    subsetter = ft.Subsetter(options)
    subsetter.populate(text=chars)
    logger = logging.getLogger("fontTools.subset")
    level = logger.level
    logger.setLevel(logging.ERROR)          # "table X not subset; dropped": tables no reader needs
    try:
        subsetter.subset(font)
    finally:
        logger.setLevel(level)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue(), ".otf" if ("CFF " in font or "CFF2" in font) else ".ttf"
