"""The build cache keeps within its size limit, least recently used entries removed first,
without walking every entry on every build: a walk when the builds since the last one stored
a tenth of the limit, or when PRUNE_EVERY seconds have passed (a --watch session's edit
spent 0.1 s walking 4,700 entries for the two it stored)."""

from __future__ import annotations

import os
import time

from imprint import cache


def entries(folder):
    return sorted(p.name for p in folder.rglob("*.pickle"))


def stored(store, key, size=1000):
    store.store("part", key, os.urandom(size))


def test_prune_removes_the_least_recently_used_past_the_limit(tmp_path):
    store = cache.Cache(tmp_path / "cache", limit=3500)
    for n, key in enumerate(["a1", "b2", "c3", "d4", "e5"]):
        stored(store, key)
        os.utime(store._path("part", key), (1_000_000 + n, 1_000_000 + n))
    store.prune()           # no tally yet: walked
    assert entries(tmp_path / "cache") == ["c3.pickle", "d4.pickle", "e5.pickle"]
    assert (tmp_path / "cache" / cache.PRUNED).read_text() == "0"


def test_a_build_that_stored_little_does_not_walk_the_cache_again_at_once(tmp_path):
    store = cache.Cache(tmp_path / "cache", limit=100_000)
    stored(store, "a1", 3000)
    store.prune()                           # walked: the tally starts
    store.limit = 2000                      # now a1 is past it, but little was stored since
    stored(store, "b2", 50)
    os.utime(store._path("part", "a1"), (1_000_000, 1_000_000))
    store.prune()
    assert entries(tmp_path / "cache") == ["a1.pickle", "b2.pickle"]
    tally = tmp_path / "cache" / cache.PRUNED
    assert 50 <= int(tally.read_text()) < 100           # the bytes stored since the walk
    stored(store, "c3", 200)                # a tenth of the limit stored since: walked again
    store.prune()
    assert entries(tmp_path / "cache") == ["b2.pickle", "c3.pickle"]
    assert tally.read_text() == "0"


def test_the_cache_is_walked_again_once_prune_every_has_passed(tmp_path):
    store = cache.Cache(tmp_path / "cache", limit=100_000)
    stored(store, "a1")
    store.prune()
    store.limit = 1100
    stored(store, "b2", 10)                 # little stored since: only the time walks it
    os.utime(store._path("part", "a1"), (1_000_000, 1_000_000))
    tally = tmp_path / "cache" / cache.PRUNED
    old = time.time() - cache.PRUNE_EVERY - 5
    os.utime(tally, (old, old))             # the last walk was longer ago than PRUNE_EVERY
    store.prune()
    assert entries(tmp_path / "cache") == ["b2.pickle"]


def test_the_tally_is_this_users_alone_and_never_written_through_a_link(tmp_path):
    store = cache.Cache(tmp_path / "cache")
    stored(store, "a1")
    store.prune()
    tally = tmp_path / "cache" / cache.PRUNED
    assert tally.stat().st_mode & 0o077 == 0
    tally.unlink()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("the user's")
    tally.symlink_to(elsewhere)
    stored(store, "b2")
    store.prune()
    assert elsewhere.read_text() == "the user's"
