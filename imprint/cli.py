"""Command line -> library calls -> one line per problem and an exit code. No work is done here."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
from pathlib import Path

from imprint import pipeline
from imprint import proof
from imprint.specs.editions import EDITIONS, TRIM_FORMS, parse_trim
from imprint.specs.profiles import PROFILES
from imprint.errors import BuildFailed, ExitCode, ImprintError, condensed, fails, summary
from imprint.processes import DEFAULT_MEMORY_MB, DEFAULT_SECONDS, Limits

DESCRIPTION = """Build the editions of a book from one Markdown manuscript with footnotes.

A book is a folder holding book.yaml (metadata) and Markdown files, or a single Markdown
file with YAML front matter. Outputs go to DIR/<slug>.pdf, DIR/<slug>.epub,
DIR/<slug>-print.pdf (print interior), DIR/<slug>-cover.pdf (wrap cover) and
DIR/<slug>.report.json; a failed build leaves DIR untouched."""

EPILOG = """commands:
  build (default)   build the editions:            python build.py [--book PATH] [--out DIR] [--edition NAME]...
  check             run the manuscript checks only: python build.py check [--book PATH] [--strict]
  preflight         check the written print files:  python build.py preflight [--book PATH] [--out DIR] [--profile NAME]
  proof             the proof sheet DIR/<slug>-proof.html: python build.py proof [--book PATH] [--out DIR] [--edition NAME]

exit codes: 0 success; 1 findings (errors, or warnings with --strict); 2 bad command line;
3 unreadable book (manuscript or metadata); 4 broken template; 5 time or memory limit;
6 an external tool failed; 70 internal error (please report it, with --debug output)."""


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--book", type=Path, default=Path("book"), metavar="PATH",
                        help="the book: a folder with book.yaml, or a .md file with front matter (default: book)")
    common.add_argument("--strict", action="store_true", help="treat warnings as errors")
    common.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    common.add_argument("-v", "--verbose", action="store_true", help="also print progress and every finding's hint")
    common.add_argument("--debug", action="store_true", help="show tracebacks (for reporting bugs)")

    p = argparse.ArgumentParser(prog="build.py", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    sub = p.add_subparsers(dest="command", metavar="{build,check,preflight,proof}")
    b = sub.add_parser("build", parents=[common], help="build the editions (the default)",
                       description="Build the chosen editions into --out.")
    c = sub.add_parser("check", parents=[common], help="run the manuscript checks only",
                       description="Run the manuscript checks; exit 1 on errors (or warnings with --strict).")
    f = sub.add_parser("preflight", parents=[common], help="check the written print interior and cover",
                       description="Re-open DIR/<slug>-print.pdf and -cover.pdf and check every rule of the "
                                   "printer profile; exit 1 on errors (or warnings with --strict).")
    pr = sub.add_parser("proof", parents=[common], help="write the proof: every spread with its layout findings marked",
                        description="Typeset one paged edition and write DIR/<slug>-proof.html: every spread as an "
                                    "image, each finding marked on its page, the counts per check at the top. "
                                    "Exit 1 when the layout has errors (the proof is written all the same).")
    paged = sorted(n for n, e in EDITIONS.items() if e.kind == "pdf")
    pr.add_argument("--edition", choices=paged, default=None, metavar="NAME",
                    help=f"the paged edition to proof: {', '.join(paged)} (default: {proof.default_edition()})")
    for target in (p, b, f, pr):
        target.add_argument("--out", type=Path, default=Path("dist"), metavar="DIR",
                            help="output folder (default: dist)")
        target.add_argument("--profile", choices=sorted(PROFILES), metavar="NAME",
                            help=f"printer profile: {', '.join(PROFILES)} (default: the metadata's, else kdp)")
        target.add_argument("--trim", type=_trim, metavar="SIZE",
                            help=f"trim size: {TRIM_FORMS} (default: the metadata's, else 6x9)")
    for target in (p, b):
        target.add_argument("--edition", action="append", choices=sorted(EDITIONS), metavar="NAME",
                            help=f"edition to build, repeatable: {', '.join(sorted(EDITIONS))} "
                                 f"(default: {', '.join(n for n, e in EDITIONS.items() if e.default)})")
    for target in (p, b, pr):
        target.add_argument("--time-limit", type=_positive(float), default=DEFAULT_SECONDS, metavar="SECONDS",
                            help=f"stop a typesetting job after this long (default: {DEFAULT_SECONDS:g}; 0: no limit)")
        target.add_argument("--memory-limit", type=_positive(int), default=DEFAULT_MEMORY_MB, metavar="MB",
                            help=f"memory a typesetting job may use (default: {DEFAULT_MEMORY_MB}; 0: no limit)")
    for target in (p, b):
        target.add_argument("--allow-remote-images", action="store_true",
                            help="fetch http(s) images named in the manuscript for the PDF editions "
                                 "(off: a build never uses the network; the EPUB never holds them)")
        target.add_argument("--cache", type=Path, metavar="DIR",
                            help="keep the build cache here (default: ~/.cache/imprint, or $IMPRINT_CACHE)")
        target.add_argument("--no-cache", dest="cache", action="store_false",
                            help="build everything afresh and keep no cache")
        target.add_argument("--validate", action="store_true",
                            help="also run EPUBCheck on every EPUB built (about 10 s; its errors fail the build)")
        target.add_argument("--watch", action="store_true",
                            help="rebuild on every change and serve a live preview on localhost")
        target.add_argument("--port", type=int, default=8000, help="the preview's port with --watch (default: 8000)")
        target.add_argument("--open", action="store_true", help="open the preview in a browser with --watch")
    del c
    return p


def _trim(text: str) -> str:
    if parse_trim(text) is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a trim size: use {TRIM_FORMS}")
    return text


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError("must be 0 (no limit) or more")
        return value
    return parse


def _terminated(signum, frame):
    raise KeyboardInterrupt     # unwinds like Ctrl-C: temporary files go, outputs stay as they were


def main(argv=None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(args_list)
    except SystemExit as exit_:
        return ExitCode.USAGE if exit_.code not in (0, None) else ExitCode.OK
    command = args.command or "build"
    out = sys.stdout
    err = sys.stderr

    def say(message: str):
        if args.verbose:
            print(message, file=err)

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        if command == "check":
            book, findings = pipeline.run_checks(args.book)
            report(findings, args, err)
            print(summary(findings), file=err if fails(findings, args.strict) else out)
            return ExitCode.FINDINGS if fails(findings, args.strict) else ExitCode.OK
        if command == "preflight":
            checked = pipeline.run_preflight(args.book, args.out, profile=args.profile, trim=args.trim)
            report(checked.findings, args, err)
            failed = fails(checked.findings, args.strict)
            print(f"preflight ({checked.profile}, {checked.pages} pages): {summary(checked.findings)}",
                  file=err if failed else out)
            return ExitCode.FINDINGS if failed else ExitCode.OK
        if command == "proof":
            done = proof.proof(args.book, args.out, args.edition, progress=say, profile=args.profile, trim=args.trim,
                               limits=Limits(seconds=args.time_limit or None, memory_mb=args.memory_limit or None))
            report(done.findings, args, err)
            print(f"proof: {done.path} ({done.edition} edition, {done.pages} pages): {summary(done.findings)}",
                  file=out)
            return ExitCode.FINDINGS if fails(done.findings, args.strict) else ExitCode.OK
        limits = Limits(seconds=args.time_limit or None, memory_mb=args.memory_limit or None)
        if args.watch:
            from imprint import watch
            return watch.run(args, report, out, err)
        from imprint.watch import Progress
        with Progress(err, verbose=args.verbose, quiet=args.quiet) as progress:
            result = pipeline.build(args.book, args.out, args.edition, strict=args.strict, progress=progress,
                                    profile=args.profile, trim=args.trim, limits=limits,
                                    allow_remote_images=args.allow_remote_images, cache=args.cache,
                                    validate=args.validate)
    except BuildFailed as failure:
        report(failure.findings, args, err)
        print(f"Error: {failure.message}; nothing was written", file=err)
        return failure.exit_code
    except ImprintError as error:
        print(" ".join(str(error).split()), file=err)       # one line, whatever the message holds
        if args.debug:
            traceback.print_exc()
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=err)
        return 130
    except Exception:  # a bug in imprint, not a user mistake
        if args.debug:
            traceback.print_exc()
        else:
            print("internal error: imprint failed unexpectedly; run again with --debug and report it", file=err)
        return ExitCode.INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    report(result.findings, args, err)
    if not args.quiet:
        for r in result.editions:
            pages = f", {r.pages} page{'s' * (r.pages != 1)}" if r.pages else ""
            notes = f", {r.notes} notes" if r.notes is not None else ""
            print(f"{r.edition}: {args.out / r.file}{pages}{notes}", file=out)
        print(f"built {len(result.editions)} edition(s): {summary(result.findings)}", file=out)
    return ExitCode.OK


def report(findings, args, stream):
    shown = [f for f in findings if f.severity != "info" or args.verbose]   # the record is in the report JSON
    for f in shown if args.verbose else condensed(shown):
        line = f if isinstance(f, str) else f.format() if args.verbose else f.format().split(" (hint: ")[0]
        print(line, file=stream)
