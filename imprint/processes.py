"""A piece of work (a typesetting job, or any call) -> its result, computed in a child process under
the build's limits (a LimitError, exit code 5, when either is exceeded).

The limits bound the whole build (issue 20): `Budget` holds one deadline, the build's start
plus its time limit, and every stage and child process gets only the time that remains (a
typesetting job, pandoc, EPUBCheck); `MemorySampler`, given the budget, is the build's
watchdog: it samples the memory of the build's whole process tree (this process, its workers,
pandoc, Java) and, over the memory limit or past the deadline, kills the tree and stops the
build with a LimitError naming the limit.

`run_limited(job, limits)` is safe to call from several threads at once (each call starts
and waits for its own process), which is how parallel builds run jobs side by side. The
job runs as `job.run()` (imprint/jobs/job.py), or a given `call()` in a forked child.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import multiprocessing
import signal
import time
import traceback
from dataclasses import dataclass

from imprint.errors import ImprintError, LimitError, Location, ToolError

# Defaults with room for the largest corpus book: see README ("Limits") for the measurements.
DEFAULT_SECONDS = 1800.0
# The memory limit's default ("auto") grows with the typesetting processes that run at once.
AUTO = "auto"
BASE_MEMORY_MB = 1024           # the build's own process, pandoc, the EPUB and cover helpers
WORKER_MEMORY_MB = 768          # each typesetting process at once


def default_memory_mb(workers: int | None = None) -> int:
    import os
    return BASE_MEMORY_MB + WORKER_MEMORY_MB * max(1, workers or os.cpu_count() or 1)


DEFAULT_MEMORY_MB = AUTO
# A book set in one piece (its stylesheets use what a part cannot know, IMPRINT_PARTS=never, or
# parts that did not join) is one typesetting process holding every page: its memory grows with
# the book, not with the workers. Measured on the big book of tests/test_big_book.py set whole
# (2.8 million characters of HTML, 1,000 pages with 1,500 notes): over 2,317 MB in one process
# (it was stopped there by the limit of 2,560 MB), and on its first 8 chapters (566,000
# characters, 207 pages); see README ("Limits").
ONE_PIECE_BASE_MB = 300         # a typesetting process before its pages: WeasyPrint, fonts, the document
ONE_PIECE_MB_PER_MCHAR = 800    # and for each million characters of HTML it lays out


def one_process_mb(html_chars: int) -> int:
    """What one typesetting process laying out `html_chars` characters of HTML holds at most (an estimate)."""
    return int(ONE_PIECE_BASE_MB + ONE_PIECE_MB_PER_MCHAR * html_chars / 1_000_000)


def machine_memory_mb() -> int | None:
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return None

@dataclass(frozen=True)
class Limits:
    """For the whole build: wall-clock seconds from its start, and megabytes of memory held by
    all its processes together (None = unlimited; AUTO, the default, grows with the number of
    typesetting processes at once). A child process may also add at most twice `memory_mb` to
    the address space it starts with: a backstop for a spike between two samples of the tree."""

    seconds: float | None = DEFAULT_SECONDS
    memory_mb: int | str | None = DEFAULT_MEMORY_MB      # AUTO: default_memory_mb(workers)
    # fork: the child starts at once with everything imported; spawn elsewhere.
    start_method: str = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"

    def resolved(self, workers: int | None = None) -> "Limits":
        """These limits with an AUTO memory limit made a number for `workers` processes at once."""
        import dataclasses
        if self.memory_mb != AUTO:
            return self
        return dataclasses.replace(self, memory_mb=default_memory_mb(workers))


# --- the build's budget: one deadline, one memory bound ---------------------------------------

LIMIT_HINT = ("raise it with {option} (0: no limit), or build fewer editions at once (--edition)")


class Budget:
    """What is left of the build's limits: a deadline (time.monotonic(), the same clock in every
    process of the machine, so a forked child reads it too) and the memory bound of the tree.
    `stopped` is the LimitError that stopped the build, once one has."""

    def __init__(self, limits: Limits, started: float | None = None, where=None, workers: int | None = None):
        self.limits = limits.resolved(workers)
        self.auto = limits.memory_mb == AUTO        # the default: it may grow with the book (room_for)
        self.started = time.monotonic() if started is None else started
        self.deadline = self.started + limits.seconds if limits.seconds else None
        self.where = where
        self.stopped: LimitError | None = None

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never below 0); None without a time limit."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def wait(self, cap: float | None = None) -> float | None:
        """How long a stage may wait for a child: what remains, at most `cap`."""
        left = self.remaining()
        return cap if left is None else left if cap is None else min(cap, left)

    def time_error(self, doing: str = "the build") -> LimitError:
        return LimitError(f"{doing} stopped after {self.limits.seconds:g} s (the time limit for the whole build)",
                          where=Location(self.where),
                          hint=LIMIT_HINT.format(option="--time-limit SECONDS") + ", or build a shorter text")

    def memory_error(self, used_mb: float, largest_mb: float) -> LimitError:
        # What it had reached when stopped, not what it would have needed: half as much again, in 512s.
        suggest = -(-int(used_mb * 1.5) // 512) * 512
        return LimitError(f"the build's processes together used {used_mb:.0f} MB (the largest alone "
                          f"{largest_mb:.0f} MB), over the memory limit of {self.limits.memory_mb} MB for the whole build",
                          where=Location(self.where),
                          hint=LIMIT_HINT.format(option="--memory-limit MB") + " or with fewer typesetting "
                               f"processes (IMPRINT_WORKERS=1); stopped at {used_mb:.0f} MB, it may need more: "
                               f"try --memory-limit {suggest}")

    def room_for(self, process_mb: int) -> int | None:
        """With the default memory limit (auto), make room for one process that must hold
        `process_mb` alone (a book set in one piece): the limit becomes at least the base (the
        build's own process, pandoc, the EPUB) plus that, at most 80 % of the machine's memory.
        Returns the new limit when it was raised; a limit the user set is never changed."""
        import dataclasses
        if not self.auto or not self.limits.memory_mb:
            return None
        want = BASE_MEMORY_MB + process_mb
        machine = machine_memory_mb()
        if machine:
            want = min(want, machine * 8 // 10)
        if want <= self.limits.memory_mb:
            return None
        self.limits = dataclasses.replace(self.limits, memory_mb=want)
        return want

    def stop(self, error: LimitError) -> LimitError:
        """Record what stopped the build (the first reason wins) and return it."""
        if self.stopped is None:
            self.stopped = error
        return self.stopped

    def check(self, doing: str = "the build") -> None:
        """Raise the build's LimitError when it has been stopped or its time is up."""
        if self.stopped is not None:
            raise self.stopped
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise self.stop(self.time_error(doing))


_budget = contextvars.ContextVar("imprint_budget", default=None)
_active: list[Budget] = []          # the budgets of builds in progress: for a thread started without the build's context


def budget() -> Budget | None:
    """The budget of the build in progress in this context; in a thread started without the
    build's context (a plain ThreadPoolExecutor), the build's that started last; None outside a build."""
    value = _budget.get()
    return value if value is not None else (_active[-1] if _active else None)


@contextlib.contextmanager
def using_budget(value: Budget):
    token = _budget.set(value)
    _active.append(value)
    try:
        yield value
    finally:
        _active.remove(value)
        _budget.reset(token)


@contextlib.contextmanager
def bounded(limits: Limits, where=None, workers: int | None = None):
    """The block (a build, a proof) under `limits` as a whole: its Budget current, its watchdog
    (MemorySampler, yielded) running; a stop by either limit leaves the block as the budget's
    LimitError, whatever failed after it (a killed pandoc, a child's pipe)."""
    left = Budget(limits, where=where, workers=workers)
    try:
        with using_budget(left), MemorySampler(budget=left) as sampler:
            yield sampler
    except BuildStopped:            # the watchdog's, raised in this thread: the limit it met
        raise left.stopped from None
    except BaseException:
        if left.stopped is not None:
            raise left.stopped from None
        raise


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


def _apply(limits: Limits, seconds: float | None) -> None:
    """In the child: cap its address space and, as a backstop, its CPU time (`seconds`, what
    remains of the build's, and a margin); die with the parent."""
    import resource
    global _memory_cap_mb
    limits = limits.resolved()
    if limits.memory_mb:
        # The limit bounds what the build's processes hold together (the watchdog's sum); a
        # child may add at most twice it to the address space it starts with (a forked child
        # starts with its parent's mappings, most of them shared or never touched, and address
        # space reserved, malloc's arenas, runs ahead of memory held): a backstop for a spike
        # faster than the watchdog's samples, never the limit met first by a build within it.
        _memory_cap_mb = limits.memory_mb
        cap = 2 * limits.memory_mb * 2**20 + _address_space()
        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            resource.setrlimit(which, (cap, hard))
    if seconds is not None:
        cpu = int(seconds) + 30
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or cpu < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
    die_with_parent()


def _address_space() -> int:
    """This process's address space in bytes now (0 where /proc cannot tell)."""
    import os
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


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


class Memo(dict):
    """A process's memory of work it need not do twice (a paragraph's breaks, a spread's
    search), at most `size` entries (cleared when full). A typesetting child forked by a
    process that keeps what it learns (keep_learnt: a --watch session, whose process builds
    every edit) hands back what it learnt (`fresh`) with its result; the next edit's children
    are forked with it, and find the paragraphs and spreads the edit left as they were."""

    def __init__(self, name: str, size: int):
        super().__init__()
        self.name, self.size, self.fresh = name, size, {}
        MEMOS[name] = self

    def __setitem__(self, key, value) -> None:
        if key not in self:
            self._room(1)
        dict.__setitem__(self, key, value)
        self.fresh[key] = value

    def clear(self) -> None:
        dict.clear(self)
        self.fresh = {}

    def learn(self, found: dict) -> None:
        """Take what a child learnt (not fresh here: this process hands nothing back)."""
        self._room(sum(key not in self for key in found))
        dict.update(self, found)

    def _room(self, wanted: int) -> None:
        """Room for `wanted` new entries: the oldest tenth (or what it takes) goes when full, never all."""
        over = len(self) + wanted - self.size
        if over > 0:
            import itertools
            for key in list(itertools.islice(iter(self), max(over, self.size // 10))):
                dict.__delitem__(self, key)
                self.fresh.pop(key, None)


MEMOS: dict[str, Memo] = {}
KEEP_LEARNT = [False]


def keep_learnt(on: bool = True) -> None:
    """This process lives on past its build (--watch): its typesetting children hand back what
    they learnt (Memo), so the next build's children start with it."""
    KEEP_LEARNT[0] = on


def _learnt() -> dict | None:
    if not KEEP_LEARNT[0]:
        return None
    return {name: memo.fresh for name, memo in MEMOS.items() if memo.fresh}


def _learn(found: dict | None) -> None:
    for name, entries in (found or {}).items():
        if name in MEMOS:
            MEMOS[name].learn(entries)


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
        left = budget()         # the build's, inherited through the fork
        _apply(limits, left.remaining() if left is not None and left.deadline is not None else limits.seconds)
        for memo in MEMOS.values():     # what this process learns from here on (Memo)
            memo.fresh = {}
        message = ("ok", call() if call is not None else job.run(), _learnt())
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
        self.budget = budget()
        if self.budget is not None:         # a build stopped, or out of time, starts nothing more
            self.budget.check("typesetting")
            limits = self.budget.limits     # the build's, its memory limit a number
        self.job, self.limits = job, limits.resolved()
        self._outcome: tuple | None = None
        ctx = multiprocessing.get_context(limits.start_method if call is None else "fork")
        self.receive, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child, args=(job, limits, send, call), name="imprint-typeset", daemon=True)
        self.started = time.monotonic()
        self.process.start()
        send.close()

    def result(self):
        """The child's value, or the error it ended in: read once (its pipe is closed after),
        given again to every later call."""
        if self._outcome is None:
            try:
                self._outcome = (True, _finish(self.job, self.limits, self.process, self.receive, self.started,
                                               self.budget))
            except BaseException as err:
                self._outcome = (False, err)
        ok, value = self._outcome
        if ok:
            return value
        raise value

    def cancel(self) -> None:
        """Stop the child, its result no longer wanted."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.receive.close()


def start_limited(job, limits: Limits | None = None, call=None) -> Started:
    """job.run(), or `call()` (forked: it need not pickle; `job` then only names the
    book for messages), started in a child process under `limits`; returns at once."""
    return Started(job, (limits or Limits()).resolved(), call)


def _finish(job, limits, process, receive, started, left: Budget | None = None):
    message = None
    try:
        wait = left.wait() if left is not None else limits.seconds or None
        if receive.poll(wait):
            try:
                message = receive.recv()
            except EOFError:                # the child died without a word
                pass
        elif left is not None:
            raise left.stop(left.time_error("typesetting"))
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
    if left is not None and left.stopped is not None and (message is None or message[0] != "ok"):
        raise left.stopped          # the watchdog stopped the build (and killed this child)
    if message is None:
        return _died(process.exitcode, limits, job, time.monotonic() - started)
    kind, payload = message[:2]
    if kind == "ok":
        _learn(message[2] if len(message) > 2 else None)
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

def tree_memory(root_pid: int, skip: frozenset = frozenset()) -> tuple[int, int]:
    """(total, largest) bytes of memory held now by root_pid and all its descendants (but the
    children in `skip` and theirs: not the build's), read
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
        todo += [child for child in children.get(pid, []) if child not in skip]
    return total, largest


def descendants(root_pid: int, skip: frozenset = frozenset()) -> list[int]:
    """The processes under root_pid (children first), but those in `skip` and theirs, read
    from /proc; [] without /proc."""
    import os

    children: dict[int, list[int]] = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return []
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                children.setdefault(int(fh.read().rsplit(b")", 1)[1].split()[1]), []).append(int(name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid for pid in children.get(root_pid, []) if pid not in skip]
    while todo:
        pid = todo.pop(0)
        found.append(pid)
        todo += children.get(pid, [])
    return found


def kill_tree(root_pid: int, skip: frozenset = frozenset()) -> None:
    """SIGKILL every process under root_pid (not root_pid itself), but the children in `skip` and theirs."""
    import os

    for pid in descendants(root_pid, skip):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class BuildStopped(BaseException):
    """Raised in the build's thread by the watchdog (a BaseException: no `except Exception`
    of a stage swallows it); pipeline.build turns it into the budget's LimitError."""


def _raise_in(thread_id: int, exc) -> None:
    """Raise `exc` (a class, or None to take back one not yet raised) in another thread of this
    process at its next Python instruction (CPython's PyThreadState_SetAsyncExc)."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc is not None else None)


class MemorySampler:
    """The peak memory of this process and every process under it while the block runs,
    sampled from /proc every `every` seconds (a peak between samples can be missed): the peak
    of the sum over the tree, and of the largest single process.

    With a `budget` it is also the build's watchdog: when the tree holds more than the memory
    limit, or the deadline has passed, it records the LimitError in the budget, kills every
    process under this one (at each sample from then on: one started after goes too), and
    raises BuildStopped in the thread that entered the block. `stop()` ends the watch (before
    the outputs are written): from then on nothing is raised in that thread, and a stop that
    came first is raised by stop() itself."""

    def __init__(self, every: float = 0.2, budget: Budget | None = None):
        import threading

        self.every, self.peak, self.largest, self.samples = every, 0, 0, 0
        self.budget = budget
        self._done = None
        self._lock = threading.Lock()
        self._armed = self._interrupted = False
        self._target = None
        self._before: frozenset = frozenset()

    def __enter__(self):
        import os
        import threading

        self._done = threading.Event()
        self._target = threading.get_ident()
        self._armed = self.budget is not None
        me = os.getpid()
        # Children this process had before (a server's, a test session's) are not the build's:
        # neither counted nor killed.
        self._before = frozenset(descendants(me)) if self.budget is not None else frozenset()

        def sample():
            while True:
                total, largest = tree_memory(me, self._before)
                self.peak, self.largest = max(self.peak, total), max(self.largest, largest)
                self.samples += 1
                if self._armed:
                    self._watch(me, total, largest)
                if self._done.wait(self.every):
                    return

        self._thread = threading.Thread(target=sample, name="imprint-memory", daemon=True)
        self._thread.start()
        return self

    def _watch(self, me: int, total: int, largest: int) -> None:
        left = self.budget
        if left.stopped is None:
            if left.limits.memory_mb and total > left.limits.memory_mb * 2**20:
                left.stop(left.memory_error(total / 2**20, largest / 2**20))
            elif left.deadline is not None and time.monotonic() >= left.deadline:
                left.stop(left.time_error())
        if left.stopped is None:
            return
        with self._lock:
            if not self._armed:
                return
            kill_tree(me, self._before)
            if not self._interrupted:
                self._interrupted = True
                _raise_in(self._target, BuildStopped)

    def stop(self) -> None:
        """End the sampling (and the watch); raise the budget's LimitError if the build was stopped."""
        import threading

        if self._done is not None and not self._done.is_set():
            self._done.set()
            self._thread.join()
        with self._lock:
            self._armed, interrupted = False, self._interrupted
        if interrupted and threading.get_ident() == self._target:
            _raise_in(self._target, None)       # not raised yet: this raises it instead
        if self.budget is not None and self.budget.stopped is not None:
            # Stopped by a stage that met the deadline first (a pandoc's timeout) before the
            # watchdog did: what still runs (pandoc in another thread) goes now, not at its own timeout.
            import os
            kill_tree(os.getpid(), self._before)
            raise self.budget.stopped

    def __exit__(self, *exc):
        self.stop()
        return False

    def as_json(self) -> dict | None:
        if not self.peak:
            return None
        return {"tree_peak_mb": round(self.peak / 2**20, 1), "largest_process_mb": round(self.largest / 2**20, 1),
                "how": f"this process and all its workers, proportional set size summed, sampled every "
                       f"{self.every} s ({self.samples} samples)"}
