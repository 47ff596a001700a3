"""A piece of work (a typesetting job, or any call) -> its result, computed in a child process under
a wall-clock time limit and a memory limit (a LimitError, exit code 5, when either is exceeded).

`run_limited(job, limits)` is safe to call from several threads at once (each call starts
and waits for its own process), which is how parallel builds run jobs side by side. The
job runs as `job.run()` (imprint/jobs/job.py), or a given `call()` in a forked child.
"""

from __future__ import annotations

import errno
import multiprocessing
import signal
import time
import traceback
from dataclasses import dataclass

from imprint.errors import ImprintError, LimitError, Location, ToolError

# Defaults with room for the largest corpus book (Wealth of Nations, 486 pages, 824 notes):
# its job (PDF and print interior) peaked at 936 MB of address space (742 MB resident) and
# took 180 s of CPU, 3 to 6 minutes on a 2-core machine busy with other builds.
DEFAULT_SECONDS = 1800.0
DEFAULT_MEMORY_MB = 3072

@dataclass(frozen=True)
class Limits:
    """Per typesetting job: wall-clock seconds and address-space megabytes (None = unlimited)."""

    seconds: float | None = DEFAULT_SECONDS
    memory_mb: int | None = DEFAULT_MEMORY_MB
    # fork: the child starts at once with everything imported; spawn elsewhere.
    start_method: str = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


# --- the typesetting job in a child process ------------------------------------------------

_memory_cap_mb: int | None = None      # the memory limit this process runs under (a child, after _apply)


def allocation_failure(err: BaseException) -> bool:
    """Whether an exception is most likely an allocation that failed: a MemoryError, ENOMEM,
    a C library's "out of memory", CPython's SystemError for a C call that failed without
    setting an exception (what a failed malloc inside cairo, Pango or HarfBuzz looks like), or,
    in a process under a memory limit, an exception with no message at all."""
    if isinstance(err, MemoryError):
        return True
    if isinstance(err, OSError) and err.errno == errno.ENOMEM:
        return True
    text = str(err).strip().lower()
    if isinstance(err, SystemError) and "without exception set" in text:
        return True
    if any(words in text for words in ("out of memory", "cannot allocate memory", "memory allocation failed",
                                       "failed to allocate")):
        return True
    return not text and _memory_cap_mb is not None


def _apply(limits: Limits) -> None:
    """In the child: cap its address space and, as a backstop, its CPU time; die with the parent."""
    import resource
    global _memory_cap_mb
    if limits.memory_mb:
        _memory_cap_mb = limits.memory_mb
        cap = limits.memory_mb * 2**20
        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            resource.setrlimit(which, (cap, hard))
    if limits.seconds:
        cpu = int(limits.seconds) + 30
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or cpu < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
    die_with_parent()


DECISIONS: list[tuple[str, bool]] = []      # (where, forked?) of this process, newest last (tests read it)


def may_fork(policy: str = "auto", where: str = "") -> bool:
    """Whether this process forks a helper (the one place every fork is decided): where the
    build's fork policy (Settings.fork) allows it and the system has fork.

    It does not depend on which threads run: a forked helper only lays out, reads and writes
    bytes handed back through a pipe; it never prints, logs to the terminal or touches a lock
    another thread of the build may hold (the progress display runs without a thread,
    imprint/watch.py). So a build on a terminal, under --watch or in a test forks exactly
    as the same build anywhere else."""
    import os
    decided = policy != "never" and hasattr(os, "fork")
    DECISIONS.append((where, decided))
    del DECISIONS[:-1000]
    return decided


def die_with_parent() -> None:
    """Linux: SIGKILL this process when the process that started it dies."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(job, limits: Limits, conn, call=None) -> None:
    # The parent's handlers (e.g. the CLI's SIGTERM -> KeyboardInterrupt) do not belong here.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _apply(limits)
        message = ("ok", call() if call is not None else job.run())
    except MemoryError:
        message = ("memory", None)
    except ImprintError as err:
        message = ("error", (type(err), err.message, err.where, err.hint, err.exit_code))
    except RecursionError:
        message = ("error", (ToolError, "the text is nested too deeply to lay out", Location(job.book_file),
                             "look for deeply nested lists, quotes or HTML elements", None))
    except BaseException as err:            # a bug: hand the traceback to the parent
        message = ("memory", None) if allocation_failure(err) else ("crash", traceback.format_exc())
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory", None))
    except Exception:               # the result did not pickle: a bug, reported as one
        conn.send(("crash", traceback.format_exc()))
    finally:
        conn.close()


def run_limited(job, limits: Limits | None = None):
    """job.run() in a child process under `limits`; returns its Layout.

    Raises LimitError when the job runs out of time or memory, the job's own ImprintError
    when it fails on bad input, ToolError when the process is killed from outside.
    """
    return start_limited(job, limits).result()


class Started:
    """A child process at work (start_limited); result() waits for it and returns its value."""

    def __init__(self, job, limits: Limits, call=None):
        self.job, self.limits = job, limits
        ctx = multiprocessing.get_context(limits.start_method if call is None else "fork")
        self.receive, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child, args=(job, limits, send, call), name="imprint-typeset", daemon=True)
        self.started = time.monotonic()
        self.process.start()
        send.close()

    def result(self):
        return _finish(self.job, self.limits, self.process, self.receive, self.started)

    def cancel(self) -> None:
        """Stop the child, its result no longer wanted."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.receive.close()


def start_limited(job, limits: Limits | None = None, call=None) -> Started:
    """job.run(), or `call()` (forked: it need not pickle; `job` then only names the
    book for messages), started in a child process under `limits`; returns at once."""
    return Started(job, limits or Limits(), call)


def _finish(job, limits, process, receive, started):
    message = None
    try:
        if receive.poll(limits.seconds or None):
            try:
                message = receive.recv()
            except EOFError:                # the child died without a word
                pass
        else:
            raise LimitError(f"typesetting stopped after {limits.seconds:g} s (the time limit)",
                             where=Location(job.book_file),
                             hint="raise it with --time-limit SECONDS, or build a shorter text")
    finally:
        receive.close()
        if process.is_alive():
            process.terminate()
            process.join(5)
            if process.is_alive():
                process.kill()
        process.join()
    if message is None:
        return _died(process.exitcode, limits, job, time.monotonic() - started)
    kind, payload = message
    if kind == "ok":
        return payload
    if kind == "memory":
        raise _memory_error(limits, job)
    if kind == "error":
        cls, text, where, hint, code = payload
        raise cls(text, where=where, hint=hint, exit_code=code)
    raise RuntimeError(f"the typesetting job failed:\n{payload}")


def _memory_error(limits: Limits, job) -> LimitError:
    return LimitError(f"typesetting ran out of memory (the limit is {limits.memory_mb} MB)",
                      where=Location(job.book_file), hint="raise it with --memory-limit MB")


def _died(exitcode, limits: Limits, job, seconds: float):
    signum = -exitcode if exitcode and exitcode < 0 else None
    name = signal.Signals(signum).name if signum else f"exit code {exitcode}"
    if signum == signal.SIGXCPU:
        raise LimitError(f"typesetting used more CPU time than the time limit allows ({limits.seconds:g} s)",
                         where=Location(job.book_file), hint="raise it with --time-limit SECONDS")
    if signum in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS) and limits.memory_mb:
        # Allocation failures inside C libraries abort or crash instead of raising MemoryError.
        raise LimitError(f"typesetting was killed ({name}) after {seconds:.0f} s; most likely it ran out of "
                         f"memory (the limit is {limits.memory_mb} MB)",
                         where=Location(job.book_file), hint="raise it with --memory-limit MB")
    raise ToolError(f"the typesetting process was stopped ({name}); nothing was written",
                    where=Location(job.book_file))




# --- the memory a whole build uses --------------------------------------------------------

def tree_memory(root_pid: int) -> tuple[int, int]:
    """(total, largest) bytes of memory held now by root_pid and all its descendants, read
    from /proc: each process's proportional set size (smaps_rollup's Pss: a page a forked
    child still shares with its parent is counted once, split between them), or its resident
    size (stat's rss) where the kernel gives no smaps_rollup. (0, 0) without /proc."""
    import os

    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except (OSError, ValueError):
        return 0, 0
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(name))
            rss[int(name)] = int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    total = largest = 0
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        size = rss.get(pid, 0)
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):
                        size = int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            pass
        total, largest = total + size, max(largest, size)
        todo += children.get(pid, [])
    return total, largest


class MemorySampler:
    """The peak memory of this process and every process under it while the block runs,
    sampled from /proc every `every` seconds (a peak between samples can be missed): the peak
    of the sum over the tree, and of the largest single process."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak, self.largest, self.samples = every, 0, 0, 0
        self._done = None

    def __enter__(self):
        import os
        import threading

        self._done = threading.Event()
        me = os.getpid()

        def sample():
            while True:
                total, largest = tree_memory(me)
                self.peak, self.largest = max(self.peak, total), max(self.largest, largest)
                self.samples += 1
                if self._done.wait(self.every):
                    return

        self._thread = threading.Thread(target=sample, name="imprint-memory", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._done is not None and not self._done.is_set():
            self._done.set()
            self._thread.join()

    def __exit__(self, *exc):
        self.stop()
        return False

    def as_json(self) -> dict | None:
        if not self.peak:
            return None
        return {"tree_peak_mb": round(self.peak / 2**20, 1), "largest_process_mb": round(self.largest / 2**20, 1),
                "how": f"this process and all its workers, proportional set size summed, sampled every "
                       f"{self.every} s ({self.samples} samples)"}
