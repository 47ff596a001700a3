"""Progress messages -> a live status line on a terminal (rich), plain lines with -v, nothing
otherwise; and `--watch`: a book folder (and imprint's templates and styles) -> a rebuild on
every save (watchfiles), with a preview page on localhost that reloads when a build is done."""

from __future__ import annotations

import html
import json
import sys
import threading
import time
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from imprint.cache import FOLDER_NAME, ROOT


class Progress:
    """What the build is doing: one status line that rewrites itself on a terminal, every
    message as a line with --verbose, and nothing at all when stderr is not a terminal.

    The status line is redrawn when a message comes, by the thread that sends it: no thread
    of its own (rich's Live with auto_refresh off), so a build on a terminal forks its helpers
    exactly as a build anywhere else does (imprint/processes.py may_fork), and a forked
    helper never inherits a lock the display holds. Without rich, plain lines."""

    def __init__(self, stream=None, verbose: bool = False, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.live = not quiet and not verbose and _is_terminal(self.stream)
        self._status = None
        self._started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.verbose:          # with the seconds since the build began, to see where time goes
            print(f"{message}  [{time.perf_counter() - self._started:.1f} s]", file=self.stream)
        elif self.live:
            elapsed = time.perf_counter() - self._started
            text = f"{message.strip()}  [dim]{elapsed:.0f} s[/dim]"
            if self._status is None:
                try:
                    from rich.console import Console
                    from rich.live import Live
                    from rich.spinner import Spinner
                except ImportError:         # no rich: a plain line per message
                    self.live = False
                    print(message.strip(), file=self.stream)
                    return
                self._spinner = Spinner("dots", text)
                self._status = Live(self._spinner, console=Console(file=self.stream, stderr=True),
                                    auto_refresh=False, transient=True,
                                    redirect_stdout=False, redirect_stderr=False)
                self._status.start(refresh=True)
            self._spinner.update(text=text)
            self._status.refresh()

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- the preview -------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — preview</title>
<style>
body {{ margin: 0; font: 14px/1.4 system-ui, sans-serif; display: flex; flex-direction: column; height: 100vh; }}
header {{ padding: 6px 12px; background: #222; color: #eee; display: flex; gap: 16px; align-items: baseline; }}
header a {{ color: #9cf; }}
#state.failed {{ color: #f88; }}
pre {{ margin: 0; padding: 6px 12px; background: #fee; color: #600; max-height: 30vh; overflow: auto; }}
iframe {{ flex: 1; border: 0; width: 100%; }}
</style></head>
<body>
<header><strong>{title}</strong><span id="state">{state}</span>{links}</header>
<pre id="problems"{hidden}>{problems}</pre>
<iframe id="view" src="{view}"></iframe>
<script>
let build = {build};
async function poll() {{
  try {{
    const status = await (await fetch("/status", {{cache: "no-store"}})).json();
    if (status.build !== build) {{ location.reload(); return; }}
  }} catch (e) {{}}
  setTimeout(poll, 1000);
}}
setTimeout(poll, 1000);
</script>
</body></html>
"""


class Preview:
    """The state the preview page shows: the last build's outputs, or why the last build failed."""

    def __init__(self, out: Path, title: str = "imprint"):
        self.out = Path(out)
        self.title = title
        self.build = 0
        self.ok = False
        self.problems: list[str] = []
        self.files: list[str] = []
        self.lock = threading.Lock()

    def update(self, ok: bool, problems: list[str], files: list[str], title: str | None = None) -> None:
        with self.lock:
            self.build += 1
            self.ok = ok
            self.problems = problems
            if ok:
                self.files = files
            self.title = title or self.title

    def page(self) -> str:
        with self.lock:
            pdf = next((f for f in self.files if f.endswith(".pdf")), None)
            view = f"/files/{pdf}?build={self.build}" if pdf else "about:blank"
            links = "".join(f'<a href="/files/{html.escape(f)}">{html.escape(f)}</a>' for f in self.files)
            state = f"build {self.build}" if self.ok else \
                '<span class="failed">the last build failed; showing the one before</span>'
            return PAGE.format(title=html.escape(self.title), state=state,
                               links=links, hidden="" if self.problems else " hidden",
                               problems=html.escape("\n".join(self.problems)), view=view, build=self.build)


def serve(preview: Preview, port: int = 8000) -> ThreadingHTTPServer:
    """An HTTP server on localhost only, serving the preview page and the output files."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if not loopback_host(self.headers.get("Host"), self.server.server_address[1]):
                return self.send_error(HTTPStatus.FORBIDDEN, "this preview answers only to localhost")
            path = self.path.split("?", 1)[0]
            if path == "/":
                return self._send(preview.page().encode(), "text/html; charset=utf-8")
            if path == "/status":
                return self._send(json.dumps({"build": preview.build, "ok": preview.ok}).encode(), "application/json")
            if path.startswith("/files/"):
                name = path[len("/files/"):]
                with preview.lock:
                    allowed = name in preview.files           # only what the build wrote: no paths
                file = preview.out / name
                if allowed and file.is_file():
                    kinds = {".pdf": "application/pdf", ".epub": "application/epub+zip", ".json": "application/json"}
                    return self._send(file.read_bytes(), kinds.get(file.suffix, "application/octet-stream"))
            self.send_error(HTTPStatus.NOT_FOUND)

        def _send(self, body: bytes, kind: str):
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):      # quiet: the terminal shows the builds
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def loopback_host(host: str | None, port: int) -> bool:
    """Is this Host header a loopback name (with this server's port, or none)? A page elsewhere
    that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own name: refused."""
    if not host:
        return False
    host = host.strip().lower()
    return any(host in (name, f"{name}:{port}") for name in LOOPBACK_NAMES)


# --- watching ----------------------------------------------------------------------------

def watched_paths(book: Path) -> list[Path]:
    """The book's folder (or a single manuscript's folder) and imprint's own templates and styles."""
    book = Path(book)
    return [book if book.is_dir() else book.parent, ROOT / "templates", ROOT / "styles"]


def change_filter(out: Path, cache_folder: Path | None):
    """Ignore what builds write (outputs, cache) and editors' temporary files."""
    from watchfiles import DefaultFilter

    ignored = [Path(out).resolve()] + ([Path(cache_folder).resolve()] if cache_folder else [])
    default = DefaultFilter()

    def accept(change, path: str) -> bool:
        resolved = Path(path).resolve()
        if any(resolved == i or i in resolved.parents for i in ignored):
            return False
        if FOLDER_NAME in resolved.parts or resolved.name.startswith(".") or resolved.name.endswith("~"):
            return False
        return default(change, path)

    return accept


def watch(build_once, book: Path, out: Path, cache_folder: Path | None, *, port: int = 8000,
          open_browser: bool = False, say=print, stop: threading.Event | None = None) -> int:
    """Build now and after every change until interrupted (or `stop` is set).

    `build_once()` builds and returns (ok, problem lines, written file names, title)."""
    from watchfiles import watch as watch_changes

    preview = Preview(out)
    server = serve(preview, port)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    say("preview (Ctrl-C to stop):")
    say(url)
    # The watcher runs before the first build: a save made while a build runs (the first one
    # too) is kept by it and rebuilt after; an idle watcher hands over an empty set every
    # WAKE ms (yield_on_timeout), which is skipped.
    changed = watch_changes(*watched_paths(book), watch_filter=change_filter(out, cache_folder),
                            stop_event=stop, debounce=300, step=STEP, raise_interrupt=False, yield_on_timeout=True,
                            rust_timeout=WAKE)
    try:
        next(changed, None)     # the watcher is running from here on (a save before it: the build reads it)
        preview.update(*build_once())
        if open_browser:
            webbrowser.open(url)
        for changes in changed:
            if not changes:
                continue
            names = sorted({Path(p).name for _, p in changes})
            say(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}; rebuilding")
            preview.update(*build_once())
    finally:
        changed.close()
        server.shutdown()
        server.server_close()
    return 0


WAKE = 200      # ms: how often an idle watcher hands over (nothing), so it can be started before a build
# ms: a save is handed over once no other change came for this long (watchfiles' default 50): an
# editor's save is one write or a write and a rename, microseconds apart; a save that does come in
# two pieces further apart builds twice, the second build from the cache.
STEP = 20


def watch_settings(settings):
    """The Settings a `--watch` session builds with: the CLI's, except that `parts: auto` becomes
    `always`. An author at work edits: every book, an essay of one run-on text too, is set in
    parts, so a save lays out again only from the page before the change until the pages meet
    the old ones (jobs/resetting.py). The pages are the same as set whole (tests/test_parts_essay.py);
    a first build costs about a CPU second more on the essay (docs/speed.md), each edit about a
    quarter of a cold build. IMPRINT_PARTS=never keeps one piece."""
    import dataclasses
    return dataclasses.replace(settings, parts="always") if settings.parts == "auto" else settings


def warm(book) -> bool:
    """After a session's first build, in a thread beside the watcher (a save made meanwhile is
    seen; its build waits for the warm-up to end before it forks): lay out and write a paragraph
    in the book's faces and read its language's hyphenation patterns in this process
    (engine.warm_up, load_hyphenation), so every typesetting process forked for an edit starts
    with them (0.1-0.2 s of each edit's build otherwise: font tables, C declarations, 0.15 s of
    pattern parsing). Done once; a failure only costs that time."""
    try:
        from imprint.typeset import engine
        engine.warm_up(book.look)
        engine.load_hyphenation(book.metadata.lang)
    except Exception:       # the next build meets and reports the same problem
        return False
    return True


def run(args, settings, report, out, err) -> int:
    """`build.py --watch`: the CLI's build, with the same Settings (every limit and safety
    option a one-off build honours; parts always, `watch_settings`), again on every change,
    with the preview page."""
    from imprint import cache
    from imprint import pipeline
    from imprint.errors import BuildFailed, ImprintError, summary

    from imprint import processes
    settings = watch_settings(settings)
    warming: list[threading.Thread] = []

    def build_once():
        if warming:
            warming[0].join()       # never fork the typesetting processes while it lays out
        try:
            with Progress(err, verbose=args.verbose, quiet=args.quiet) as say:
                result = pipeline.build(args.book, args.out, settings=settings, progress=say)
        except BuildFailed as failure:
            report(failure.findings, args, err)
            print(f"Error: {failure.message}; the outputs are the last good ones", file=err)
            return False, [f.format() for f in failure.findings] + [failure.message], [], None
        except ImprintError as error:
            print(" ".join(str(error).split()), file=err)
            return False, [str(error)], [], None
        report(result.findings, args, err)
        print(f"built: {summary(result.findings)}", file=out)
        if not warming:     # beside the watcher: a save made meanwhile is seen (and waits for it)
            warming.append(threading.Thread(target=warm, args=(result.book,), name="imprint-watch-warm-up",
                                            daemon=True))
            warming[0].start()
        problems = [f.format() for f in result.findings if f.severity != "info"]
        return True, problems, [p.name for p in result.written], result.book.metadata.title

    processes.keep_learnt()     # every edit's typesetting children start with what the last ones learnt
    try:
        return watch(build_once, args.book, args.out, cache.folder_for(args.out, settings.cache), port=args.port,
                     open_browser=args.open, say=lambda message: print(message, file=out, flush=True))
    finally:
        processes.keep_learnt(False)        # a process that goes on after the session (a test) keeps nothing
