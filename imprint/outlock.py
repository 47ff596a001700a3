"""One build at a time into an output folder.

Two builds writing into one folder at once could leave a mixed set (one's PDF, the other's
EPUB and report), both exiting 0. A build holds an exclusive lock (fcntl.flock) for the
output folder from its start to its end; another build into the same folder waits for it,
saying so on stderr, for at most WAIT_SECONDS, then stops with exit code 5 (a time limit).

The lock file is kept in the user's cache (`<cache root>/locks/<digest of the folder>.lock`),
not in the output folder: that folder holds only the outputs, and a lock file cannot be
deleted safely once made (a build waiting on the old file would lock a file no longer
named). The cache root unwritable, the system's temporary folder holds it instead.
A lock held by a process that died is released by the kernel with its last descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

from imprint import cache
from imprint import outjournal
from imprint.errors import ExitCode, ImprintError, Location

WAIT_SECONDS = 900.0
POLL_SECONDS = 0.2


def lock_path(out: Path) -> Path:
    name = cache.digest("output-lock", str(Path(out).resolve()))[:24] + ".lock"
    for folder in (cache.cache_root() / "locks", Path(tempfile.gettempdir()) / "imprint-locks"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder / name
        except OSError:
            continue
    raise ImprintError("cannot make a lock file for the output folder (the cache and temporary folders are "
                       "not writable)", where=Location(out), hint="set IMPRINT_CACHE to a writable folder",
                       exit_code=ExitCode.TOOL)


@contextlib.contextmanager
def output_lock(out: Path, wait: float | None = None, stream=None):
    """Hold the output folder's lock for the block; wait for another build holding it."""
    wait = WAIT_SECONDS if wait is None else wait
    path = lock_path(out)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        deadline, said = time.monotonic() + wait, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            if not said:
                print(f"waiting for another build into {out} to finish…", file=stream or sys.stderr, flush=True)
                said = True
            if time.monotonic() >= deadline:
                raise ImprintError(f"another build into this folder has been running for over {wait:g} s; "
                                   "nothing was written", where=Location(out),
                                   hint="wait for it to end, or choose another --out", exit_code=ExitCode.LIMIT)
            time.sleep(POLL_SECONDS)
        yield path
    finally:
        os.close(fd)            # releases the lock


def check_writable(out: Path) -> None:
    """Before any work: the output folder (or the folder it will be made in) can be written."""
    target = Path(out)
    while not target.exists() and not target.is_symlink() and target != target.parent:
        target = target.parent
    problem = None
    if not target.is_dir():
        problem = "is not a folder" if target == Path(out) else f"cannot be made: {target} is not a folder"
    elif not os.access(target, os.W_OK | os.X_OK):
        problem = "cannot be written" if target == Path(out) else f"cannot be made: {target} cannot be written"
    if problem:
        raise ImprintError(f"the output folder {problem}; nothing was built", where=Location(out),
                           hint="choose another --out, or fix its permissions", exit_code=ExitCode.USAGE)


def locked_output(function):
    """Decorator for build(book_path, out, ...): the call holds the lock of `out`, and finds
    there a whole set of outputs: what a killed build left is finished or undone first
    (imprint/outjournal.py), and said on stderr."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        out = Path(kwargs["out"] if "out" in kwargs else args[1])
        check_writable(out)
        with output_lock(out):
            done = outjournal.recover(out)
            if done:
                print(done, file=sys.stderr, flush=True)
            return function(*args, **kwargs)
    return wrapper
