#!/usr/bin/env python3
"""One build with a timeline of its phases: when each started and ended, in which thread.

    python scripts/phases.py --book PATH [--out DIR] [--no-cache]

Prints, as the build goes, `start -> end (seconds) phase [thread]` for pandoc's runs, the
loading of the book, the checks, the HTML, the typesetting (the chapters' jobs and the join
inside it), the EPUB, the printer's preflight and the writing of the files, in seconds since
this script started (Python's start-up included). Run it twice around an edit (scripts/
benchmark.py's edit inserts a word near the middle) to see where an edit build's time goes.
The typesetting processes' own phases (laying out, inspecting, writing the editions) are
printed too, marked [child PID]: they are forked from this one.

    python scripts/phases.py --book COPY --watch [--out DIR]

builds as a `--watch` session does (one process, parts always): a first build, an edit and a
build (the session's first edit), then the timeline of a second edit's build alone.
COPY is edited (scripts/benchmark.py's one-paragraph edit): give it a copy of a book.
"""

from __future__ import annotations

import argparse
import functools
import sys
import os
import threading
import time
from pathlib import Path

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


PID = os.getpid()
QUIET = False


def timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            end = time.perf_counter()
            if not QUIET:
                where = threading.current_thread().name if os.getpid() == PID else f"child {os.getpid()}"
                print(f"{started - T0:7.2f} -> {end - T0:7.2f} ({end - started:6.2f}) {name} "
                      f"[{where}]", file=sys.stderr, flush=True)
    return wrapper


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", required=True)
    parser.add_argument("--out", default="dist")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--watch", action="store_true",
                        help="time a second edit's build in one process, as `build.py --watch` builds")
    parser.add_argument("--no-warm", action="store_true",
                        help="with --watch: leave out the session's warm-up after its first build (to measure it)")
    parser.add_argument("--no-learnt", action="store_true",
                        help="with --watch: the typesetting children do not hand back what they learnt "
                             "(processes.Memo: the paragraphs' breaks, the spreads' search), to measure it")
    args = parser.parse_args(argv)

    from imprint.jobs import resetting
    from imprint import cli
    from imprint.manuscript import load
    from imprint import checks
    from imprint.manuscript import pandoc
    from imprint.jobs import chapters
    from imprint import pipeline
    from imprint.editions import preflight
    from imprint.html import render

    pandoc._run_pandoc = timed("pandoc", pandoc._run_pandoc)
    load.load = pipeline.load = timed("load (pandoc included)", load.load)
    checks.check = timed("checks", checks.check)
    render.body_html = timed("HTML of the text", render.body_html)
    pipeline.typeset_paged = timed("typesetting, all of it", pipeline.typeset_paged)
    resetting.typeset_chapters = timed("chapters", resetting.typeset_chapters)
    chapters._join_all = timed("join", chapters._join_all)
    pipeline.build_epub = timed("EPUB", pipeline.build_epub)
    preflight.preflight = timed("preflight", preflight.preflight)
    pipeline.write_outputs = timed("writing the files", pipeline.write_outputs)
    from imprint.jobs import job as jobs_job
    from imprint.typeset import longnotes
    from imprint.jobs import join
    jobs_job.run_job = timed("a typesetting job, all of it", jobs_job.run_job)
    longnotes.settle = timed("  laying out (notes settled)", longnotes.settle)
    jobs_job._write_editions = timed("  writing the editions", jobs_job._write_editions)
    join.join = timed("  joining the PDF", join.join)
    for name in ("_open", "_page_digests", "_structure", "_positions", "check_cover"):
        setattr(preflight, name, timed(f"  preflight: {name}", getattr(preflight, name)))
    if args.watch:
        return watch_edits(args)
    code = cli.main(["--book", args.book, "--out", args.out, "-q"] + (["--no-cache"] if args.no_cache else []))
    print(f"total {time.perf_counter() - T0:.2f} s, exit {code}", file=sys.stderr)
    return code


def watch_edits(args) -> int:
    """Build, edit, build, edit, build in this one process with a `--watch` session's Settings;
    the timeline of the last build only."""
    global QUIET, T0
    from imprint import pipeline, settings as settings_module, watch
    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark import edit_one_paragraph

    from imprint import processes
    build_settings = watch.watch_settings(settings_module.Settings.from_environment())
    processes.keep_learnt(not args.no_learnt)     # as the session does (imprint/watch.py run)
    QUIET = True
    mark = f"{os.getpid() % 1000}"           # new words each run: never an edit the cache has seen
    for word in (None, f"(saved {mark})", f"(saved again {mark})"):
        if word is not None:
            edit_one_paragraph(Path(args.book), word)
        if word and word.startswith("(saved again"):
            QUIET = False
            T0 = time.perf_counter()
            cpu = time.process_time() + sum(os.times()[2:4])
        result = pipeline.build(args.book, args.out, settings=build_settings)
        if word is None and not args.no_warm:
            watch.warm(result.book)         # as the session does after its first build (imprint/watch.py)
    print(f"total {time.perf_counter() - T0:.2f} s, CPU {time.process_time() + sum(os.times()[2:4]) - cpu:.2f} s "
          f"(this process and its children waited for)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
