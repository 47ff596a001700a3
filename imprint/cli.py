"""Command line -> library calls -> one line per problem and an exit code. No work is done here."""

from __future__ import annotations

import argparse
import difflib
import signal
import sys
import threading
import traceback
from pathlib import Path

from imprint import pipeline
from imprint import proof
from imprint import watch
from imprint.settings import Settings
from imprint.specs.editions import EDITIONS, TRIM_FORMS, parse_trim
from imprint.specs.profiles import PROFILES
from imprint.errors import BuildFailed, ExitCode, ImprintError, InterruptedAfterWriting, condensed, fails, summary
from imprint.processes import AUTO, BASE_MEMORY_MB, DEFAULT_SECONDS, WORKER_MEMORY_MB, Limits

DESCRIPTION = """Build the editions of a book from one Markdown manuscript with footnotes.

A book is a folder holding book.yaml (metadata) and Markdown files, or a single Markdown
file with YAML front matter. Outputs go to DIR/<slug>.pdf, DIR/<slug>.epub,
DIR/<slug>-print.pdf (print interior), DIR/<slug>-cover.pdf (wrap cover) and
DIR/<slug>.report.json; a failed build leaves DIR untouched."""

USAGE = "python build.py [COMMAND] [BOOK] [--out DIR] [options]"

EPILOG = """commands (BOOK: a folder or a .md file, default: book; --book BOOK says the same):
  build (default)   build the editions:            python build.py BOOK [--out DIR] [--edition NAME]...
  check             run the manuscript checks only: python build.py check BOOK [--strict]
  preflight         check the written print files:  python build.py preflight BOOK [--out DIR] [--profile NAME]
  proof             the proof sheet DIR/<slug>-proof.html: python build.py proof BOOK [--out DIR] [--edition NAME]
  `python build.py COMMAND --help` lists a command's options.

  python build.py book/ --out dist              every default edition of book/ into dist/
  python build.py book/ --watch                 rebuild on every save; the preview's URL on its own line

environment: IMPRINT_CACHE (the cache folder), and as defaults of a build's settings
IMPRINT_PARTS (auto, always, never: set a long book chapter by chapter), IMPRINT_CHUNKS (on, off:
set a chapter again only from an edit on) and IMPRINT_WORKERS (typesetting processes at a time).

exit codes: 0 success; 1 findings (errors, or warnings with --strict); 2 bad command line;
3 unreadable book (manuscript or metadata); 4 broken template; 5 time or memory limit;
6 an external tool failed; 70 internal error (please report it, with --debug output)."""

COMMANDS = ("build", "check", "preflight", "proof")


class UsageError(Exception):
    """A bad command line: one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("book_arg", nargs="?", default=None, metavar="BOOK",
                        help="the book: a folder with book.yaml, or a .md file with front matter (default: book)")
    common.add_argument("--book", type=Path, default=None, metavar="PATH", help="the book, as BOOK says it")
    common.add_argument("--strict", action="store_true", help="treat warnings as errors")
    common.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    common.add_argument("-v", "--verbose", action="store_true", help="also print progress and every finding's hint")
    common.add_argument("--debug", action="store_true", help="show tracebacks (for reporting bugs)")

    p = _Parser(prog="build.py", usage=USAGE, description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="{build,check,preflight,proof}", parser_class=_Parser)
    b = sub.add_parser("build", parents=[common], help="build the editions (the default)", usage=USAGE,
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c = sub.add_parser("check", parents=[common], help="run the manuscript checks only",
                       usage="python build.py check [BOOK] [options]",
                       description="Run the manuscript checks; exit 1 on errors (or warnings with --strict).")
    f = sub.add_parser("preflight", parents=[common], help="check the written print interior and cover",
                       usage="python build.py preflight [BOOK] [--out DIR] [options]",
                       description="Re-open DIR/<slug>-print.pdf and -cover.pdf and check every rule of the "
                                   "printer profile; exit 1 on errors (or warnings with --strict).")
    pr = sub.add_parser("proof", parents=[common], help="write the proof: every spread with its layout findings marked",
                        usage="python build.py proof [BOOK] [--out DIR] [options]",
                        description="Typeset one paged edition and write DIR/<slug>-proof.html: every spread as an "
                                    "image, each finding marked on its page, the counts per check at the top. "
                                    "Exit 1 when the layout has errors (the proof is written all the same).")
    paged = sorted(n for n, e in EDITIONS.items() if e.kind == "pdf")
    pr.add_argument("--edition", choices=paged, default=None, metavar="NAME",
                    help=f"the paged edition to proof: {', '.join(paged)} (default: {proof.default_edition()})")
    for target in (b, f, pr):
        target.add_argument("--out", type=Path, default=Path("dist"), metavar="DIR",
                            help="output folder (default: dist)")
        target.add_argument("--profile", choices=sorted(PROFILES), metavar="NAME",
                            help=f"printer profile: {', '.join(PROFILES)} (default: the metadata's, else kdp)")
        target.add_argument("--trim", type=_trim, metavar="SIZE",
                            help=f"trim size: {TRIM_FORMS} (default: the metadata's, else 6x9)")
    b.add_argument("--edition", action="append", choices=sorted(EDITIONS), metavar="NAME",
                   help=f"edition to build, repeatable: {', '.join(sorted(EDITIONS))} "
                        f"(default: {', '.join(n for n, e in EDITIONS.items() if e.default)})")
    for target in (b, pr):
        target.add_argument("--time-limit", type=_positive(float, most=MOST_SECONDS), default=DEFAULT_SECONDS, metavar="SECONDS",
                            help=f"stop the build this long after it starts, whatever it is doing "
                                 f"(default: {DEFAULT_SECONDS:g}; 0: no limit)")
        target.add_argument("--memory-limit", type=_positive(int, AUTO, most=MOST_MB), default=AUTO, metavar="MB",
                            help=f"memory all the build's processes may hold together (default: auto, "
                                 f"{BASE_MEMORY_MB} + {WORKER_MEMORY_MB} per typesetting process at once; "
                                 f"0: no limit)")
    b.add_argument("--allow-remote-images", action="store_true",
                   help="fetch http(s) images named in the manuscript for the PDF editions "
                        "(off: a build never uses the network; the EPUB never holds them)")
    b.add_argument("--cache", type=Path, metavar="DIR",
                   help="keep the build cache here (default: ~/.cache/imprint, or $IMPRINT_CACHE); "
                        "a folder another user owns or may write to is not used")
    b.add_argument("--no-cache", dest="cache", action="store_false",
                   help="build everything afresh and keep no cache")
    b.add_argument("--validate", action="store_true",
                   help="also run EPUBCheck on every EPUB built (about 10 s; its errors fail the build)")
    b.add_argument("--watch", action="store_true",
                   help="rebuild on every change and serve a live preview on localhost (its URL printed "
                        "on a line of its own); every other option applies to each build")
    b.add_argument("--port", type=int, default=8000, help="the preview's port with --watch (default: 8000)")
    b.add_argument("--open", action="store_true", help="open the preview in a browser with --watch")
    del c
    return p


def _arguments(p: argparse.ArgumentParser, args_list: list[str]) -> list[str]:
    """The command line with its command first: `build` put in when none is named (the
    first word that is not an option, or an option's value, is the command or the book)."""
    if args_list and args_list[0] in COMMANDS:
        return args_list
    build = _subparser(p, "build")
    takes_value = {s for a in build._actions for s in a.option_strings if a.nargs != 0}
    i = 0
    while i < len(args_list):
        word = args_list[i]
        if word == "--":
            break
        if word.startswith("-") and word != "-":
            i += 2 if word in takes_value else 1
            continue
        if word in COMMANDS:        # options before the command: they belong to it
            return [word] + args_list[:i] + args_list[i + 1:]
        break
    return ["build"] + args_list


def _subparser(p: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def _unknown(p: argparse.ArgumentParser, command: str, extra: list[str]) -> str:
    """The message for words the command line does not take: an unknown option named, with
    the nearest real one; a word that is no command and no book."""
    word = extra[0]
    if word.startswith("-"):
        name = word.split("=", 1)[0]
        options = [s for a in _subparser(p, command)._actions for s in a.option_strings if s.startswith("--")]
        near = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
        return f"unknown option {name}" + (f" (did you mean {near[0]}?)" if near else
                                           f" (python build.py {command} --help lists the options)")
    return f"unexpected argument {word!r}: give one book (python build.py {command} --help)"


def _trim(text: str) -> str:
    if parse_trim(text) is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a trim size: use {TRIM_FORMS}")
    return text


# Above these the clocks and pandoc's runtime cannot hold the number (Python's select: "timestamp too
# large", an internal error; pandoc's -M: "size outside allowed range", said as a manuscript problem).
MOST_SECONDS = 10 ** 8          # three years
MOST_MB = 2 ** 30               # a petabyte


def _positive(kind, word: str | None = None, most=None):
    def parse(text: str):
        if word is not None and text.strip().lower() == word:
            return word
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):     # nan, inf: 0 is "no limit"
            raise argparse.ArgumentTypeError(f"not a number: {text!r} (0: no limit)")
        if value < 0:
            raise argparse.ArgumentTypeError("must be 0 (no limit) or more")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"at most {most} (0: no limit)")
        return value
    return parse


def _terminated(signum, frame):
    raise KeyboardInterrupt     # unwinds like Ctrl-C: temporary files go, outputs stay as they were


def main(argv=None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    try:
        words = _arguments(p, args_list)
        args, extra = p.parse_known_args(words)
        if extra:
            raise UsageError(_unknown(p, args.command, extra))
        args.book = _book(args)
    except UsageError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return ExitCode.USAGE
    except SystemExit as exit_:               # --help
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
            done = proof.proof(args.book, args.out, args.edition, progress=say, settings=settings_of(args))
            report(done.findings, args, err)
            print(f"proof: {done.path} ({done.edition} edition, {done.pages} pages): {summary(done.findings)}",
                  file=out)
            return ExitCode.FINDINGS if fails(done.findings, args.strict) else ExitCode.OK
        settings = settings_of(args)
        if args.watch:
            return watch.run(args, settings, report, out, err)
        with watch.Progress(err, verbose=args.verbose, quiet=args.quiet) as progress:
            result = pipeline.build(args.book, args.out, settings=settings, progress=progress)
    except BuildFailed as failure:
        report(failure.findings, args, err)
        print(f"Error: {failure.message}; nothing was written", file=err)
        return failure.exit_code
    except ImprintError as error:
        print(" ".join(str(error).split()), file=err)       # one line, whatever the message holds
        if args.debug:
            traceback.print_exc()
        return error.exit_code
    except InterruptedAfterWriting as done:
        # the signal came while the outputs were being moved into place, and waited for them all
        print(f"interrupted after writing: all {len(done.written)} outputs are in place in {args.out}", file=err)
        return ExitCode.OK
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=err)
        return 130
    except MemoryError:             # in this process (the typesetting processes report their limit)
        print("the build ran out of memory; nothing was written (hint: close other programs, or build "
              "fewer editions at once with --edition)", file=err)
        return ExitCode.LIMIT
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
        for f in result.findings:           # a file taken away is said, whatever the verbosity (O101)
            if f.code == "O101":
                print(f"removed: {f.where.file} ({f.message.split(': ', 1)[-1]})", file=out)
        print(f"built {len(result.editions)} edition(s): {summary(result.findings)}", file=out)
    return ExitCode.OK


def _book(args) -> Path:
    """The book: BOOK or --book (not both), else book/. A BOOK that is not there is no command either."""
    if args.book_arg is not None and args.book is not None and Path(args.book_arg) != args.book:
        raise UsageError(f"two books: {args.book_arg!r} and --book {str(args.book)!r}; give one")
    if args.book_arg is not None and not Path(args.book_arg).exists():
        raise UsageError(f"{args.book_arg!r} is neither a command ({', '.join(COMMANDS)}) nor a book: no such "
                         f"file or folder (a book is a folder with book.yaml, or a .md file)")
    return Path(args.book_arg) if args.book_arg is not None else args.book or Path("book")


def settings_of(args) -> Settings:
    """The command line's options as the build's one Settings value (imprint/settings.py); what
    the command line does not set comes from the environment's defaults."""
    given = {"strict": args.strict}
    for name in ("profile", "trim"):
        given[name] = getattr(args, name, None)
    if getattr(args, "edition", None) and isinstance(args.edition, list):
        given["editions"] = tuple(args.edition)
    if hasattr(args, "time_limit"):
        given["limits"] = Limits(seconds=args.time_limit or None, memory_mb=args.memory_limit or None)
    for name in ("allow_remote_images", "validate", "cache"):
        if hasattr(args, name):
            given[name] = getattr(args, name)
    return Settings.from_environment(**given)


def report(findings, args, stream):
    shown = [f for f in findings if f.severity != "info" or args.verbose]   # the record is in the report JSON
    for f in shown if args.verbose else condensed(shown):
        line = f if isinstance(f, str) else f.format() if args.verbose else f.format().split(" (hint: ")[0]
        print(line, file=stream)


if __name__ == "__main__":      # python -m imprint.cli
    sys.exit(main())
