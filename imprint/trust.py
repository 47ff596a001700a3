"""Whether what this process reads may be trusted: a file or folder of this user's that no one
else can write (the build cache's entries, imprint/cache.py; the record of what a build wrote,
imprint/outjournal.py, which names files to remove)."""

from __future__ import annotations

import os


def untrusted(st: os.stat_result) -> str | None:
    """Why a file or folder with this status may not be trusted, or None."""
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return "belongs to another user"
    if st.st_mode & 0o022:
        return "can be written by other users"
    return None
