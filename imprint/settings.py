"""A build's every option -> one frozen value, made once (by the command line, or from the
environment's defaults) and handed down to every stage.

The environment variables IMPRINT_PARTS, IMPRINT_CHUNKS and IMPRINT_WORKERS are read here and
nowhere else, as the defaults of a Settings made by `from_environment()`; a build takes its
Settings as an argument and makes it current (`using`) for its stages, which ask `current()`.

`key()` is what of a Settings can change an output: it is part of every cache key (the whole
build's in pipeline.memoized, the parts' in jobs/pool.py and jobs/resetting.py). Fields
marked `output=False` (the cache folder, the number of workers, the fork policy) change how a
build runs, never what it writes.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imprint.processes import Limits

PARTS = ("auto", "always", "never")
FORKS = ("auto", "never")


def _run_only(default):
    return field(default=default, metadata={"output": False})


@dataclass(frozen=True)
class Settings:
    editions: tuple[str, ...] | None = None     # None: the default editions
    strict: bool = False                        # warnings fail the build
    profile: Any = None                         # printer name or PrinterProfile; None: the metadata's, else KDP
    trim: str | None = None                     # trim name; None: the metadata's, else 6x9
    limits: Limits = Limits()                   # per typesetting job
    allow_remote_images: bool = False
    validate: bool = False                      # EPUBCheck on every EPUB
    parts: str = "auto"                         # set a long book chapter by chapter: auto, always, never
    chunks: bool = True                         # set a chapter again only from where an edit changed it
    cache: Path | bool | None = _run_only(None)  # a folder, False for none, None for the user's cache
    workers: int | None = _run_only(None)       # typesetting processes at a time; None: one per core
    fork: str = _run_only("auto")               # forked helpers (writers, EPUB, cover, preflight): auto or never

    def __post_init__(self):
        if self.parts not in PARTS:
            raise ValueError(f"parts must be one of {', '.join(PARTS)}, not {self.parts!r}")
        if self.fork not in FORKS:
            raise ValueError(f"fork must be one of {', '.join(FORKS)}, not {self.fork!r}")
        if self.editions is not None and not isinstance(self.editions, tuple):
            object.__setattr__(self, "editions", tuple(self.editions))

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)

    def key(self) -> tuple:
        """What can change an output, for cache keys."""
        return tuple((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                     if f.metadata.get("output", True))

    def layout_key(self) -> tuple:
        """What can change how a typesetting job's pages are made (the parts' cache keys)."""
        return ("parts", self.parts, "chunks", self.chunks)

    def worker_count(self) -> int:
        return self.workers if self.workers and self.workers > 0 else (os.cpu_count() or 1)

    @classmethod
    def from_environment(cls, environ=None, **given) -> "Settings":
        """Settings with the environment's defaults (IMPRINT_PARTS, IMPRINT_CHUNKS, IMPRINT_WORKERS),
        then what is `given`. The only place these variables are read."""
        env = os.environ if environ is None else environ
        parts = env.get("IMPRINT_PARTS", "auto").strip().lower()
        chunks = env.get("IMPRINT_CHUNKS", "on").strip().lower() not in ("off", "0", "no", "never")
        workers = env.get("IMPRINT_WORKERS", "").strip()
        defaults = dict(parts=parts if parts in PARTS else "auto", chunks=chunks,
                        workers=int(workers) if workers.isdigit() and int(workers) > 0 else None)
        return cls(**{**defaults, **given})


_current: contextvars.ContextVar[Settings | None] = contextvars.ContextVar("imprint_settings", default=None)


def current() -> Settings:
    """The Settings of the build in progress; outside a build, the environment's defaults."""
    value = _current.get()
    return value if value is not None else Settings.from_environment()


@contextlib.contextmanager
def using(settings: Settings):
    token = _current.set(settings)
    try:
        yield settings
    finally:
        _current.reset(token)
