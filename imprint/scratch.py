"""Each build's own temporary folder, removed when the build ends, whatever way it ends.

WeasyPrint's FontConfiguration makes a `weasyprint-*` folder (tempfile.mkdtemp) for the
fonts of every layout and removes it only when the object is collected, which a typesetting
process that exits (os._exit, a kill at a limit) never does: three or more folders were left
in TMPDIR by every build. Here a build sets `tempfile.tempdir` (for this process and the
processes forked from it) and TMPDIR (for programs it starts: pandoc, Java, spawned
processes) to a folder of its own, and removes that folder at the end, on success, failure
or interrupt, with whatever anyone left in it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import stat
import tempfile
import time

STALE_SECONDS = 3600


def _sweep(parent: str, prefix: str) -> None:
    """Remove the folders of builds that were killed (kill -9, a power cut: no `finally` ran):
    the folder's name holds its build's process id; a process of that id no longer running
    (or another user's folder: left alone) means nobody uses it."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid, dash, _ = name[len(prefix):].partition("-")
        if not name.startswith(prefix) or not dash or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue                    # running (or another user's process): not ours to judge
        except ProcessLookupError:
            pass
        except OSError:
            continue
        path = os.path.join(parent, name)
        with contextlib.suppress(OSError):
            info = os.stat(path, follow_symlinks=False)
            # an hour untouched too: a process id another PID namespace sharing this /tmp runs is not seen
            if info.st_uid == os.getuid() and stat.S_ISDIR(info.st_mode) and time.time() - info.st_mtime > STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def own_tempdir(prefix: str = "imprint-build-"):
    """A temporary folder for everything made while the block runs; gone afterwards (and
    what killed builds left, `_sweep`)."""
    _sweep(tempfile.gettempdir(), prefix)
    folder = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")
    saved_dir, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = folder
    os.environ["TMPDIR"] = folder
    owner = os.getpid()
    try:
        yield folder
    finally:
        if os.getpid() == owner:          # not in a forked child leaving through this block
            tempfile.tempdir = saved_dir
            if saved_env is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = saved_env
            shutil.rmtree(folder, ignore_errors=True)


def in_own_tempdir(function):
    """Decorator: the call runs inside own_tempdir()."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with own_tempdir():
            return function(*args, **kwargs)
    return wrapper
