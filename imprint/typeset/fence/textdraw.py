"""Each line of text drawn once per layout, however many editions are written from it.

WeasyPrint draws a text box by laying its line out again with Pango and walking its glyphs
in Python (`draw_first_line`): a third of writing a PDF. The PDF and the print edition are
written from one layout, so the second write would walk the same glyphs again. While
`recorded()` is active, the first drawing of each plain text box is kept as a tape of the
calls it made on the PDF stream (text matrix, font and size, glyph strings, rise) and of the
glyph widths and Unicode mappings it taught the font; a later write of the same box plays
the tape through the same stream methods instead. The stream's own state (the current
font, text objects run together) still decides what is written, so the bytes are those of
drawing it again (tests/test_textdraw.py checks both editions written in turn against the
files drawn afresh). Boxes WeasyPrint draws specially (decorations, ellipsis, emoji and
bitmap fonts, missing glyphs) are always drawn the usual way, as is any box whose fonts
this write has not met yet.
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import islice

from imprint.typeset import fence

_ACTIVE = [False]
_NOTDEF = [0]
COUNTS = {"recorded": 0, "replayed": 0}      # text boxes, since the process started


@contextmanager
def recorded():
    """Record and replay text drawing while writing several editions of one layout (nothing
    when the fence switched it off)."""
    if not fence.on("textdraw"):
        yield
        return
    install()
    _ACTIVE[0] = True
    try:
        yield
    finally:
        _ACTIVE[0] = False


class _Tape:
    __slots__ = ("matrix", "ops", "fonts")

    def __init__(self, matrix):
        self.matrix, self.ops, self.fonts = matrix, [], set()


class _Recorder:
    """Stands in for the stream in draw_first_line: passes every call on, keeps a tape."""

    def __init__(self, stream, tape):
        self._stream, self._tape, self._fonts, self._font = stream, tape, [], None
        self.replayable = True

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def set_text_matrix(self, *values):
        self._tape.ops.append(("matrix", values))
        self._stream.set_text_matrix(*values)

    def add_font(self, pango_font):
        font, size = self._stream.add_font(pango_font)
        key = next(k for k, v in self._stream._fonts.items() if v is font)
        self._fonts.append((font, key, len(font.to_unicode), len(font.widths)))
        self._tape.fonts.add(key)
        self._font = (font, key)
        return font, size

    def set_font_size(self, name, size):
        if self._font is None or name != self._font[0].hash:
            self.replayable = False
        else:
            self._tape.ops.append(("size", self._font[1], size))
        self._stream.set_font_size(name, size)

    def show_text(self, text):
        self._tape.ops.append(("show", text))
        self._stream.show_text(text)

    def set_text_rise(self, rise):
        self._tape.ops.append(("rise", rise))
        self._stream.set_text_rise(rise)

    def learned(self) -> bool:
        """Add what the drawing taught each font to the tape; False if it cannot be replayed."""
        for font, key, unicode_from, widths_from in self._fonts:
            if font.svg or font.png or font.bitmap:
                return False
            self._tape.ops.append(("learn", key, _added(font.to_unicode, unicode_from),
                                   _added(font.widths, widths_from)))
        return self.replayable


def _added(mapping: dict, before: int) -> list:
    """The items added to `mapping` since it had `before` of them (dicts keep insertion order)."""
    new = len(mapping) - before
    return list(islice(reversed(mapping.items()), new))[::-1] if new else []


def _replay(stream, tape) -> None:
    fonts = stream._fonts
    for op in tape.ops:
        kind = op[0]
        if kind == "show":
            stream.show_text(op[1])
        elif kind == "size":
            stream.set_font_size(fonts[op[1]].hash, op[2])
        elif kind == "matrix":
            stream.set_text_matrix(*op[1])
        elif kind == "rise":
            stream.set_text_rise(op[1])
        else:       # "learn": the glyph widths and Unicode mappings the first drawing added
            font = fonts[op[1]]
            for glyph, text in op[2]:
                font.to_unicode.setdefault(glyph, text)
            for glyph, width in op[3]:
                font.widths.setdefault(glyph, width)


DECORATIONS = {"underline", "overline", "line-through"}


def install() -> None:
    import weasyprint.draw as draw
    from weasyprint.draw import text
    from weasyprint.pdf import fonts

    if getattr(text, "_imprint_tapes", False):
        return
    draw_first_line, draw_text = text.draw_first_line, text.draw_text
    unused_glyph = fonts.Font.get_unused_glyph_id

    def get_unused_glyph_id(self, codepoint):
        _NOTDEF[0] += 1
        return unused_glyph(self, codepoint)

    def recording_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
        if not _ACTIVE[0] or text_overflow == "ellipsis" or block_ellipsis != "none" \
                or isinstance(stream, _Recorder):
            return draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        tape, notdef = _Tape(tuple(matrix.values)), _NOTDEF[0]
        recorder = _Recorder(stream, tape)
        emojis = draw_first_line(recorder, textbox, text_overflow, block_ellipsis, matrix)
        if not emojis and _NOTDEF[0] == notdef and recorder.learned():
            textbox._imprint_tape = tape
            COUNTS["recorded"] += 1
        return emojis

    def replaying_draw_text(stream, textbox, offset_x, text_overflow, *rest):
        tape = getattr(textbox, "_imprint_tape", None) if _ACTIVE[0] else None
        if tape is not None and rest == ("none",) and text_overflow != "ellipsis":
            style = textbox.style
            if (style["visibility"] == "visible" and not DECORATIONS & set(style["text_decoration_line"] or ())
                    and tape.matrix == (1, 0, 0, -1, textbox.position_x, textbox.position_y + textbox.baseline)
                    and tape.fonts <= stream._fonts.keys()):
                stream.set_color(style["color"])
                stream.begin_text()
                _replay(stream, tape)
                stream.end_text()
                COUNTS["replayed"] += 1
                return None
        return draw_text(stream, textbox, offset_x, text_overflow, *rest)

    text.draw_first_line = recording_draw_first_line
    draw.draw_text = replaying_draw_text
    fonts.Font.get_unused_glyph_id = get_unused_glyph_id
    text._imprint_tapes = True
