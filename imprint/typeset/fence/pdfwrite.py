"""How pydyf and WeasyPrint write a PDF, changed: for speed (pydyf's compression level and its
page references) and for print files (every colour painted as CMYK, whole fonts' ToUnicode
maps completed, subset tags taken off whole fonts, an output intent added).

The pydyf patches are `speed` patches (imprint/typeset/fence/__init__.py): switched off when
the installed pydyf is not the one they were written for. The zlib level changes only how
the streams are compressed (their content is the same); remembering page references changes
nothing in the bytes.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from contextlib import contextmanager

from imprint.processes import Memo
from imprint.typeset import fence


class DefaultLevelZlib:
    """pydyf's zlib with the library's default compression level in place of its level 9:
    a third of the time for content streams, files 2 % larger (measured on *The Wealth of
    Nations*: 60 pages' content 0.105 -> 0.034 s, 177.6 -> 181.1 KB)."""

    def __getattr__(self, name):
        return getattr(zlib, name)

    @staticmethod
    def compressobj(*args, level=zlib.Z_DEFAULT_COMPRESSION, **kwargs):
        return _Remembered(zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, *args, **kwargs))


# A large stream (a font file, a picture) compressed once, by its bytes' digest: the editions
# of a job, the layouts of a book's parts and a --watch session's edits (processes.Memo) embed
# the same faces and pictures again and again. The bytes written are the same.
BIG_STREAM = 64 * 1024
STREAMS = Memo("streams", 64)


class _Remembered:
    """A zlib compressor as pydyf uses it (one compress(), then flush()) that takes a large
    stream's compressed bytes from STREAMS when it was compressed before."""

    def __init__(self, compressor):
        self.compressor, self.whole = compressor, None

    def compress(self, data) -> bytes:
        if self.whole is not None:                  # more than one piece: not as pydyf writes
            raise RuntimeError("imprint's remembered compression takes one piece of data")
        if len(data) < BIG_STREAM:
            self.whole = False
            return self.compressor.compress(data)
        key = (len(data), hashlib.blake2b(data, digest_size=20).digest())
        found = STREAMS.get(key)
        if found is None:
            found = self.compressor.compress(data) + self.compressor.flush()
            STREAMS[key] = found
        self.whole = True
        return found

    def flush(self, *args) -> bytes:
        return b"" if self.whole else self.compressor.flush(*args)


_ORIGINAL: dict = {}


def patch_pydyf():
    """Two changes to how pydyf writes: streams compressed at zlib's default level instead of 9
    (DefaultLevelZlib), and page references remembered. pydyf rebuilds the tuple of every page
    reference on each access, and WeasyPrint's PDF/UA tagging reads it once per structure
    element: quadratic in pages. It is remembered per page count (pages are only ever
    appended); the bytes written are the same. Nothing when the fence switched it off."""
    if not fence.on("pydyf"):
        return
    import pydyf

    if getattr(pydyf.PDF, "_imprint_memo", False):
        return
    _ORIGINAL.update(zlib=pydyf.zlib, page_references=pydyf.PDF.page_references)
    pydyf.zlib = DefaultLevelZlib()
    original = pydyf.PDF.page_references.fget

    def page_references(self):
        memo = self.__dict__.get("_imprint_page_references")
        count = len(self.pages["Kids"])
        if memo is None or memo[0] != count:
            memo = (count, original(self))
            self.__dict__["_imprint_page_references"] = memo
        return memo[1]

    pydyf.PDF.page_references = property(page_references)
    pydyf.PDF._imprint_memo = True


def unpatch_pydyf():
    """Undo patch_pydyf (tests that write with the speed patches off)."""
    import pydyf

    if not getattr(pydyf.PDF, "_imprint_memo", False):
        return
    pydyf.zlib, pydyf.PDF.page_references = _ORIGINAL["zlib"], _ORIGINAL["page_references"]
    del pydyf.PDF._imprint_memo


@contextmanager
def painted_as(paint: str):
    """While writing a CMYK file, paint every colour WeasyPrint sets as DeviceCMYK.

    The one layout carries the design's sRGB colours (the download PDF wants them); WeasyPrint
    sets every fill and stroke colour through Stream.set_color, so converting there removes
    the cause of RGB operators in PDF/X-1a files instead of repairing them afterwards.
    Neutral colours become black ink only (K), never a four-colour grey. The patch is
    process-wide while it lasts: jobs run one per process, never in threads.
    """
    if paint != "cmyk":
        yield
        return
    from tinycss2.color5 import Color
    from weasyprint.pdf.stream import Stream

    original = Stream.set_color

    def set_color(self, color, stroke=False):
        if color.space != "device-cmyk" and not color.space.startswith("--"):
            color = Color("device-cmyk", rgb_to_cmyk(*color.to("srgb").coordinates), color.alpha)
        return original(self, color, stroke)

    Stream.set_color = set_color
    try:
        yield
    finally:
        Stream.set_color = original


def rgb_to_cmyk(r: float, g: float, b: float) -> tuple[float, float, float, float]:
    """Uncalibrated sRGB -> CMYK with full grey-component replacement: greys are black ink only."""
    r, g, b = (min(1.0, max(0.0, v)) for v in (r, g, b))
    k = 1 - max(r, g, b)
    if k >= 1:
        return (0.0, 0.0, 0.0, 1.0)
    c, m, y = ((1 - v - k) / (1 - k) for v in (r, g, b))
    return tuple(round(v, 4) for v in (c, m, y, k))


def reading_right_to_left(finisher=None):
    """A finisher that also tells PDF viewers the pages read right to left (ViewerPreferences
    /Direction /R2L: a two-page view shows each spread as the book bound on the right opens),
    after `finisher`, if any."""
    import pydyf

    def finish(document, pdf):
        if finisher is not None:
            finisher(document, pdf)
        prefs = pdf.catalog.get("ViewerPreferences") or pydyf.Dictionary()
        prefs["Direction"] = "/R2L"
        pdf.catalog["ViewerPreferences"] = prefs

    return finish


def print_finisher(full_fonts: bool, paint: str, output_intent):
    """Finish the PDF object tree before WeasyPrint writes it (its documented `finisher` hook)."""
    import pydyf

    def finish(document, pdf):
        used = {}
        for font in document.fonts.values():
            used.setdefault(font.name, {}).update(font.to_unicode)
        for obj in pdf.objects:
            if not isinstance(obj, pydyf.Dictionary):
                continue
            if full_fonts:
                if obj.get("Type") == "/Font" and obj.get("BaseFont") in used and obj.get("ToUnicode"):
                    complete_to_unicode(pdf.objects[int(obj["ToUnicode"].split()[0])], used[obj["BaseFont"]])
                # A whole font embedded under a subset tag (ABCDEF+Name) reads as a subset to
                # printers' preflight; without the tag the name says what the file holds.
                for key in ("BaseFont", "FontName"):
                    name = obj.get(key)
                    if isinstance(name, bytes) and re.match(rb"/[A-Z]{6}\+", name):
                        obj[key] = b"/" + name[8:]
            if paint == "cmyk":
                # WeasyPrint lists Lab colour spaces in every page's resources; a CMYK file
                # never uses them, and PDF/X-1a allows none.
                for key in ("lab-d50", "lab-d65"):
                    obj.pop(key, None)
        if isinstance(output_intent, tuple) and "OutputIntents" not in pdf.catalog:
            identifier, registry, info = output_intent
            intent = pydyf.Dictionary({
                "Type": "/OutputIntent", "S": "/GTS_PDFX",
                "OutputConditionIdentifier": pydyf.String(identifier),
                "OutputCondition": pydyf.String(info),
                "RegistryName": pydyf.String(registry), "Info": pydyf.String(info)})
            pdf.add_object(intent)
            pdf.catalog["OutputIntents"] = pydyf.Array([intent.reference])

    return finish


def complete_to_unicode(stream, shaped: dict):
    """Add the glyphs the text was shaped with to a whole font's ToUnicode map.

    For whole fonts WeasyPrint maps only the glyphs of the font's cmap, so glyphs reached
    through OpenType features (small capitals, ligatures) would copy and search as nothing;
    the shaping knew their text, so the map takes it from there.
    """
    lines = stream.stream
    start = next(i for i, line in enumerate(lines) if line == b"endcodespacerange") + 1
    end = lines.index(b"endcmap")
    mapping = {}
    for line in lines[start:end]:
        match = re.fullmatch(rb"<([0-9a-f]{4})> <([0-9a-f]*)>", line)
        if match:
            mapping[int(match[1], 16)] = match[2]
    for glyph, text in shaped.items():
        mapping[glyph] = "".join(ch.encode("utf-16-be").hex() for ch in text).encode()
    body, items = [], sorted(mapping.items())
    for i in range(0, len(items), 100):
        batch = items[i:i + 100]
        body.append(f"{len(batch)} beginbfchar".encode())
        body += [b"<%04x> <%s>" % (glyph, text) for glyph, text in batch]
        body.append(b"endbfchar")
    stream.stream = lines[:start] + body + lines[end:]
