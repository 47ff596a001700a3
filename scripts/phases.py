#!/usr/bin/env python3
"""One build with a timeline of its phases: when each started and ended, in which thread.

    python scripts/phases.py --book PATH [--out DIR] [--no-cache]

Prints, as the build goes, `start -> end (seconds) phase [thread]` for pandoc's runs, the
loading of the book, the checks, the HTML, the typesetting (the chapters' jobs and the join
inside it), the EPUB, the printer's preflight and the writing of the files, in seconds since
this script started (Python's start-up included). Run it twice around an edit (scripts/
benchmark.py's edit inserts a word near the middle) to see where an edit build's time goes.
The phases of the typesetting processes themselves are not here: they are child processes.
"""

from __future__ import annotations

import argparse
import functools
import sys
import threading
import time
from pathlib import Path

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            end = time.perf_counter()
            print(f"{started - T0:7.2f} -> {end - T0:7.2f} ({end - started:6.2f}) {name} "
                  f"[{threading.current_thread().name}]", file=sys.stderr, flush=True)
    return wrapper


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", required=True)
    parser.add_argument("--out", default="dist")
    parser.add_argument("--no-cache", action="store_true")
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
    code = cli.main(["--book", args.book, "--out", args.out, "-q"] + (["--no-cache"] if args.no_cache else []))
    print(f"total {time.perf_counter() - T0:.2f} s, exit {code}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
