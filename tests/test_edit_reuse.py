"""What an edit of the text does not change is not made again: the EPUB's font subsets (kept
by the font's bytes and the characters asked for) and the ebook cover typeset from the
metadata (kept with every file it read)."""

from __future__ import annotations

import pytest

from conftest import METADATA
from imprint import cache
from imprint.editions import cover
from imprint.manuscript import look as looks
from imprint.manuscript.load import load
from imprint.typeset import engine


def _refuse(*args, **kwargs):
    raise AssertionError("made again")


def test_a_font_subset_is_cut_once_for_the_same_characters(tmp_path, monkeypatch):
    file = looks.nearest(looks.default().main, False, False)
    with cache.using(cache.Cache(tmp_path / "cache")):
        first = looks.subset(file, "Revolution", ("kern",))
        assert first[0][:4] in (b"OTTO", b"\x00\x01\x00\x00") and len(first[0]) > 1000
        with monkeypatch.context() as mp:
            mp.setattr(looks, "_subset", _refuse)
            assert looks.subset(file, "noitulov eR", ("kern",)) == first      # the same characters, any order
        with monkeypatch.context() as mp:
            mp.setattr(looks, "_subset", _refuse)
            with pytest.raises(AssertionError, match="made again"):
                looks.subset(file, "Revolution \u00e9", ("kern",))              # a new character
            with pytest.raises(AssertionError, match="made again"):
                looks.subset(file, "Revolution", ("kern", "smcp"))             # other features
    assert looks.subset(file, "Revolution", ("kern",)) == first                # no cache: cut the same


def test_the_ebook_cover_is_set_once_while_the_metadata_stays(tiny_book, monkeypatch):
    book_path = tiny_book("# One\n\nText.\n")
    store = cache.Cache(book_path.parent / "cache")
    with cache.using(store):
        first = cover.ebook_cover_jpeg(load(book_path))
        assert first[:3] == b"\xff\xd8\xff"
        (book_path / "text.md").write_text("# One\n\nOther text.\n")          # the text edited
        with monkeypatch.context() as mp:
            mp.setattr(engine, "render", _refuse)
            assert cover.ebook_cover_jpeg(load(book_path)) == first
        (book_path / "book.yaml").write_text(METADATA.replace("title:", "title: Another", 1))
        with monkeypatch.context() as mp:
            mp.setattr(engine, "render", _refuse)
            with pytest.raises(AssertionError, match="made again"):
                cover.ebook_cover_jpeg(load(book_path))                        # the title changed


def test_the_bundled_faces_are_read_without_their_character_maps(monkeypatch):
    """Every build reads the bundled faces' names and styles; their character maps (part of
    imprint, 0.6 s of fontTools) are not decoded for it. A book's own font is read whole."""
    from fontTools.ttLib.tables import _c_m_a_p

    monkeypatch.setattr(_c_m_a_p.table__c_m_a_p, "getBestCmap", _refuse)
    faces = looks.bundled.__wrapped__()             # not the process's remembered answer
    assert looks.DEFAULT_MAIN in faces and all(face.files for face in faces.values())
    with pytest.raises(ValueError, match="made again"):
        looks.read_font(faces[looks.DEFAULT_MAIN].files[0].path)


def test_what_the_fonts_draw_is_read_once_per_font_file(tmp_path, monkeypatch):
    """The glyph check (G101) holds the text to every character the fonts have: read from the
    cache in the next build, not decoded from each file again."""
    from imprint.checks import glyphs
    from imprint.house import STYLES

    files = sorted((STYLES / "fonts").rglob("*.otf"))[:3]
    with cache.using(cache.Cache(tmp_path / "cache")):
        first = glyphs._files_chars(files)
        assert ord("a") in first and len(first) > 200
        monkeypatch.setattr(glyphs, "_face_chars", _refuse)
        assert glyphs._files_chars(files) == first
        other = tmp_path / "other.otf"
        other.write_bytes(files[0].read_bytes() + b"\0")          # another file's bytes: read
        with pytest.raises(AssertionError, match="made again"):
            glyphs._files_chars([other])


def test_the_print_cover_is_set_once_while_the_metadata_and_page_count_stay(tiny_book, monkeypatch):
    from imprint.specs import editions, profiles

    book_path = tiny_book("# One\n\nText.\n")
    edition = editions.for_printer(editions.PRINT, profiles.KDP)
    trim = editions.trim("6x9")
    store = cache.Cache(book_path.parent / "cache")
    with cache.using(store):
        first = cover.print_cover(load(book_path), profiles.KDP, trim, 120, edition)
        assert first[0][:5] == b"%PDF-"
        (book_path / "text.md").write_text("# One\n\nOther text.\n")          # the text edited
        with monkeypatch.context() as mp:
            mp.setattr(engine, "render", _refuse)
            again = cover.print_cover(load(book_path), profiles.KDP, trim, 120, edition)
        assert again[0] == first[0] and again[2] == first[2] and again[1] == first[1]
        with monkeypatch.context() as mp:
            mp.setattr(engine, "render", _refuse)
            with pytest.raises(AssertionError, match="made again"):
                cover.print_cover(load(book_path), profiles.KDP, trim, 140, edition)   # a wider spine
        (book_path / "book.yaml").write_text(METADATA.replace("title:", "title: Another", 1))
        with monkeypatch.context() as mp:
            mp.setattr(engine, "render", _refuse)
            with pytest.raises(AssertionError, match="made again"):
                cover.print_cover(load(book_path), profiles.KDP, trim, 120, edition)   # the title changed
    (book_path / "book.yaml").write_text(METADATA)
    with cache.using(cache.Cache(None)):           # no cache: set anew, the same bytes as kept
        assert cover.print_cover(load(book_path), profiles.KDP, trim, 120, edition)[0] == first[0]
