"""Typesetting Jobs -> their Layouts: from the cache where the job and every file it read are
unchanged, else typeset several at a time, each in a child process under the build's time
and memory limits (imprint/processes.py)."""

from __future__ import annotations

import concurrent.futures
import multiprocessing

import contextvars
import threading

from imprint import cache
from imprint import settings
from imprint.jobs.job import Job, Layout, counting


def run_cached(jobs: list[Job], say=lambda message: None, limits=None,
               longest_first: bool = True) -> list[Layout]:
    """Every job's Layout: from the cache when the job and every file it read are unchanged,
    else typeset, several at a time in worker processes (see run_jobs)."""
    store = cache.current()
    results: list[Layout | None] = [None] * len(jobs)
    keys = [job_key(job) for job in jobs]
    todo = []
    for i, (job, key) in enumerate(zip(jobs, keys)):
        entry = store.load("part", key)
        if entry is not None and cache.unchanged(entry["resources"]):
            results[i] = entry["layout"]
        else:
            todo.append(i)
    if todo:
        names = ", ".join(jobs[i].part or "the book" for i in todo)
        say(f"typesetting {names}" + (f" ({len(jobs) - len(todo)} from the cache)" if len(todo) < len(jobs) else ""))
    for i, layout in zip(todo, run_jobs([jobs[i] for i in todo], say, limits, longest_first)):
        results[i] = layout
        deps = cache.dependencies(layout.resources)
        store.store("part", keys[i], {"resources": deps, "layout": layout})
    return results


def job_key(job: Job) -> str:
    """A typesetting job's cache key: the job, the toolchain, and the build's layout settings."""
    return cache.digest(cache.toolchain(), settings.current().layout_key(), job)


def workers() -> int:
    """The build's Settings.workers, else one per core (IMPRINT_WORKERS its default)."""
    return settings.current().worker_count()


def run_jobs(jobs: list[Job], say=lambda message: None, limits=None,
             longest_first: bool = True) -> list[Layout]:
    """Typeset the jobs, longest first (or in the order given), up to `workers()` at a time,
    each in a child process (issue 7's `limits.run_limited` when present, which also bounds
    its time and memory)."""
    runner = _limited_runner(limits)
    # The jobs at work, counted where every job's process can read it (job.alone): a part that
    # comes to write its editions with no other job beside it writes them side by side.
    running = multiprocessing.RawValue("i", 0) if workers() > 1 else None
    lock = threading.Lock()

    def counted(job):
        if running is None:
            return runner(job)
        with lock:
            running.value += 1
        try:
            return runner(job)
        finally:
            with lock:
                running.value -= 1

    with counting(running):
        if len(jobs) <= 1 or workers() == 1:
            return [counted(job) for job in jobs]
        return _run_pool(jobs, say, counted, longest_first)


def _run_pool(jobs, say, call, longest_first: bool) -> list[Layout]:
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i].html)) if longest_first else range(len(jobs))
    results: list = [None] * len(jobs)
    # run_limited starts its own child: threads only wait for them
    pool = concurrent.futures.ThreadPoolExecutor(min(workers(), len(jobs)))
    try:
        # Each thread runs in a copy of this context: the build's cache and settings go with it.
        futures = {pool.submit(contextvars.copy_context().run, call, jobs[i]): i for i in order}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            say(f"  {jobs[i].part or 'the book'}: {results[i].pages} pages")
    except BaseException as stop:
        _abandon(pool, interrupted=not isinstance(stop, Exception))
        raise
    pool.shutdown(wait=True)
    return results


def _abandon(pool, interrupted: bool) -> None:
    """A job failed or the build was interrupted: the jobs not yet started are cancelled
    (`with pool` would have laid every queued one out first). Interrupted (Ctrl-C, SIGTERM, the
    watchdog), the children at work are killed too, so their threads return at once: a SIGTERM to a build of Mutual Aid went on
    laying chapters out for a minute and more."""
    import os

    from imprint import processes

    pool.shutdown(wait=False, cancel_futures=True)
    if interrupted:
        processes.kill_tree(os.getpid())
    pool.shutdown(wait=True)


def _limited_runner(limits=None):
    """Each job in its own child process under the build's time and memory limits."""
    from imprint.processes import run_limited
    return lambda job: run_limited(job, limits)
