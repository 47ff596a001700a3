"""What an edit's build reuses, and that reusing it changes nothing: the long notes' probe
layout (longnotes._probe) comes from the build cache when the edit left the notes alone, and
a `--watch` session warms its own process once after its first build, so the processes an
edit forks start warm. No timings are asserted (scripts/benchmark.py measures them): only
which work was reused and that the outputs are those of a build made from nothing."""

from __future__ import annotations

from types import SimpleNamespace

from conftest import run_cli, write_book
from imprint import cache
from imprint import watch
from imprint.typeset import engine
from test_cache import outputs

METADATA = """\
title: Probed Book
author: Test Author
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000131
date: 2020-01-01
css: notes.css
"""

LONG_NOTE = " ".join(
    f"The orchard's ledger for the year {1800 + k} records the rents, the tithes and the wages of "
    f"the pickers, who came in from the valley villages each autumn and went home in the snow."
    for k in range(24))

TEXT = f"""\
# First Chapter

The apple sits on the table.[^long] Nothing else happens here, and the afternoon goes on
without a word from anyone in the house, while the clock in the hall counts the hours.

The river runs past the mill, and the miller counts the sacks.

[^long]: {LONG_NOTE}
"""


def build(book, out, *extra) -> None:
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", *extra)
    assert result.code == 0, result.err


def probe_entries(out) -> dict[str, int]:
    """The probe entries of this output folder's cache: path -> inode (a hit leaves the file,
    a store replaces it)."""
    folder = cache.folder_for(out, None) / "probe"
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*.pickle")} if folder.is_dir() else {}


def test_an_edit_that_leaves_the_long_notes_alone_reuses_their_probe(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPRINT_WORKERS", "1")
    book = write_book(tmp_path / "book", TEXT, METADATA)
    (book / "notes.css").write_text(".footnote { font-size: 8.5pt; }\n")
    out = tmp_path / "out"
    build(book, out)
    first = probe_entries(out)
    assert len(first) == 1                  # the long note was laid out alone, once, and kept

    text = book / "text.md"
    text.write_text(text.read_text().replace("the miller counts", "the miller weighs"))
    build(book, out)
    assert probe_entries(out) == first      # the same entry, not laid out and stored again
    fresh = tmp_path / "fresh"
    build(book, fresh, "--no-cache")
    assert outputs(out)["probed-book.pdf"] == outputs(fresh)["probed-book.pdf"]

    # A file the probe read changed (the book's stylesheet sets the notes): laid out again.
    (book / "notes.css").write_text(".footnote { font-size: 9.5pt; }\n")
    build(book, out)
    again = probe_entries(out)
    assert again.keys() == first.keys() and again != first
    fresh2 = tmp_path / "fresh2"
    build(book, fresh2, "--no-cache")
    assert outputs(out)["probed-book.pdf"] == outputs(fresh2)["probed-book.pdf"]

    # The note itself changed: another probe.
    text.write_text(text.read_text().replace("valley villages", "hill villages"))
    build(book, out)
    assert len(probe_entries(out)) == 2


def test_a_watch_session_warms_its_process_once_after_its_first_build(tmp_path, monkeypatch):
    look = object()
    warmed, patterns, builds = [], [], []
    monkeypatch.setattr(engine, "warm_up", lambda look=None: warmed.append(look))
    monkeypatch.setattr(engine, "load_hyphenation", lambda lang: patterns.append(lang))

    def fake_build(book, out, settings=None, progress=None):
        builds.append(settings.parts)
        return SimpleNamespace(findings=[], written=[], book=SimpleNamespace(
            look=look, metadata=SimpleNamespace(lang="de", title="T")))

    def fake_watch(build_once, *args, **kwargs):
        for _ in range(3):                  # the first build and two saves
            assert build_once()[0]
        return 0

    from imprint import pipeline
    from imprint.settings import Settings
    monkeypatch.setattr(pipeline, "build", fake_build)
    monkeypatch.setattr(watch, "watch", fake_watch)
    args = SimpleNamespace(book=tmp_path, out=tmp_path / "out", verbose=False, quiet=True, port=0, open=False)
    assert watch.run(args, Settings.from_environment({}), lambda *a: None, open("/dev/null", "w"),
                     open("/dev/null", "w")) == 0
    assert builds == ["always"] * 3
    assert warmed == [look] and patterns == ["de"]


def test_the_warm_up_reads_the_books_patterns_for_the_processes_it_forks(tmp_path, monkeypatch):
    import pyphen

    from imprint.manuscript import look as looks
    book = SimpleNamespace(look=looks.default(), metadata=SimpleNamespace(lang="de"))
    html = ('<html lang="de"><body><p style="width: 5em; hyphens: auto">'
            "Donaudampfschifffahrtsgesellschaftskapitän Rechtsschutzversicherungsgesellschaften</p></body></html>")
    made, real = [], pyphen.HyphDict.__init__

    def recorded(self, path):
        made.append(path)
        real(self, path)

    monkeypatch.setattr(pyphen.HyphDict, "__init__", recorded)
    monkeypatch.setattr(pyphen, "hdcache", {})
    engine.render(html, tmp_path, book_root=tmp_path)
    assert made                             # cold: the layout reads the patterns itself
    monkeypatch.setattr(pyphen, "hdcache", {})
    assert watch.warm(book)
    made.clear()
    document, _, _ = engine.render(html, tmp_path, book_root=tmp_path)
    assert len(document.pages) >= 1
    assert made == []                       # warm: the patterns the warm-up read were taken


def test_a_warm_up_that_fails_only_costs_its_time(monkeypatch):
    def fail(look=None):
        raise RuntimeError("no face")
    monkeypatch.setattr(engine, "warm_up", fail)
    assert watch.warm(SimpleNamespace(look=None, metadata=SimpleNamespace(lang="en"))) is False
