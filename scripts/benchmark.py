#!/usr/bin/env python3
"""Books -> a table of build times: the bare `pandoc + weasyprint` baseline next to our cold,
one-paragraph-edit and no-change builds of every edition, pages per second and peak memory.

    python scripts/benchmark.py                      # the essay + every ../shared/corpus/*/book.md
    python scripts/benchmark.py --corpus DIR --book PATH --json out.json

Every measurement runs in a fresh Python process that starts the commands as its children,
so `getrusage(RUSAGE_CHILDREN)` counts exactly that measurement: CPU seconds (user + system
of every child) and `ru_maxrss` (the largest single child process). The peak of the whole
process tree (a build's worker processes together) is sampled from /proc every 0.1 s.
Builds run on a temporary copy of the book; the manuscript is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"


# --- one measurement, in a fresh process -------------------------------------------------

def _pss(pid: int) -> int | None:
    """The process's proportional set size in bytes: its resident pages, each page shared
    with other processes (a forked child's copy-on-write pages) counted as its share."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _tree_rss(root_pid: int) -> int:
    """Memory of root_pid's descendants (not root itself), read from /proc: the sum of their
    proportional set sizes (so pages forked children share are not counted twice), or of
    their resident sizes where the kernel gives no smaps_rollup."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            pid, ppid = int(entry.name), int(fields[1])
            children.setdefault(ppid, []).append(pid)
            rss[pid] = int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, list(children.get(root_pid, []))
    while todo:
        pid = todo.pop()
        pss = _pss(pid)
        total += pss if pss is not None else rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def measure_here(commands: list[list[str]], cwd: str | None, env_extra: dict) -> dict:
    """Run the commands one after another as children of this process; report what they cost."""
    env = dict(os.environ, **env_extra)
    peak = [0]
    done = threading.Event()

    def sample():
        me = os.getpid()
        while not done.is_set():
            if os.path.isdir("/proc"):
                peak[0] = max(peak[0], _tree_rss(me))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    codes, stderr = [], ""
    for cmd in commands:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        codes.append(proc.returncode)
        # Progress lines in full; of the findings (one per line, "path: ..."), a count.
        lines = proc.stderr.splitlines()
        findings = [line for line in lines if line.startswith("/")]
        stderr += "\n".join(line for line in lines if not line.startswith("/"))
        stderr += f"\n({len(findings)} finding lines)\n" if findings else ""
        if proc.returncode not in (0, 1):        # 1 = the build ran but found problems
            break
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024,
            "tree_peak_mb": peak[0] / 2**20 if peak[0] else None, "codes": codes, "stderr": stderr[-50000:]}


def measure(commands: list[list[str]], cwd: Path | None = None, env: dict | None = None) -> dict:
    """One measurement in a fresh interpreter, so RUSAGE_CHILDREN holds nothing else."""
    spec = json.dumps({"commands": commands, "cwd": str(cwd) if cwd else None, "env": env or {}})
    proc = subprocess.run([sys.executable, __file__, "_measure"], input=spec, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"measurement failed: {proc.stderr}")
    return json.loads(proc.stdout)


# --- the books and what is done to them ----------------------------------------------------

def find_books(args) -> list[tuple[str, Path]]:
    books = [("essay", ROOT / "book")] if not args.no_essay else []
    corpus = Path(args.corpus)
    if corpus.is_dir() and not args.no_corpus:
        books += [(p.parent.name, p) for p in sorted(corpus.glob("*/book.md"))]
    books += [(Path(b).stem if Path(b).is_file() else Path(b).name, Path(b)) for b in args.book]
    if args.only:
        books = [b for b in books if b[0] in args.only]
    return books


def copy_book(source: Path, into: Path) -> Path:
    """A private copy of the book (a folder, or a single Markdown file) to edit freely."""
    if source.is_dir():
        target = into / "book"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*"))
        return target
    into.mkdir(parents=True, exist_ok=True)
    target = into / source.name
    shutil.copyfile(source, target)
    return target


def manuscript_files(book: Path) -> list[Path]:
    if book.is_file():
        return [book]
    import yaml  # only to read the manuscript list, as the build does
    meta = next((book / n for n in ("book.yaml", "book.yml", "metadata.yaml", "metadata.yml") if (book / n).is_file()))
    listed = (yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("manuscript")
    return [book / n for n in listed] if listed else sorted(book.glob("*.md"))


PLAIN = re.compile(r"^[A-Za-z“‘\"'(]")    # a line that starts a plain paragraph


def edit_one_paragraph(book: Path, word: str = "(edited)") -> str:
    """Insert a word into the plain paragraph nearest the middle of the manuscript; say where."""
    files = manuscript_files(book)
    lines = [(f, i, line) for f in files for i, line in enumerate(f.read_text(encoding="utf-8").split("\n"))]
    body_start = 0
    if lines and lines[0][2].strip() == "---":          # skip YAML front matter
        body_start = next(k for k in range(1, len(lines)) if lines[k][2].strip() in ("---", "...")) + 1
    candidates = [k for k in range(body_start, len(lines)) if PLAIN.match(lines[k][2]) and len(lines[k][2]) > 80
                  and not lines[k][2].startswith("[^")]
    k = min(candidates, key=lambda c: abs(c - (body_start + len(lines)) // 2))
    file, index, line = lines[k]
    first_space = line.index(" ")
    text = file.read_text(encoding="utf-8").split("\n")
    text[index] = line[:first_space] + f" {word}" + line[first_space:]
    file.write_text("\n".join(text), encoding="utf-8")
    return f"{file.name}:{index + 1}"


def _cpu_of(pid: int) -> float:
    """CPU seconds of a running process and of its children it has waited for (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def measure_watch(build: list[str], book: Path, timeout: float = 600) -> dict:
    """A `--watch` session (a warm process, as a user runs it): its first build (the cache's
    no-change build), a first edit (WeasyPrint imported again, like any first save), then the
    measured edit: seconds from the save to the `built:` line (watchfiles' wait included: it
    hands the changes over once none has come for 50 ms, its `step`, at most 300 ms after the
    first, imprint/watch.py's `debounce`) and the session's CPU seconds meanwhile (its own and
    its workers')."""
    import queue
    errors = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([*build, "--watch", "--port", "0"], stdout=subprocess.PIPE, stderr=errors,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)],
                     daemon=True).start()

    def built() -> str:
        deadline = time.perf_counter() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.perf_counter()))
            except queue.Empty:
                raise RuntimeError(f"no build ended within {timeout:.0f} s") from None
            if line is None:
                errors.seek(0)
                raise RuntimeError(f"the watch session ended (exit {proc.wait()}): {errors.read()[-300:]!r}")
            if line.startswith(("built:", "Error")):
                return line.strip()

    try:
        built()
        edit_one_paragraph(book, "(saved)")
        built()
        time.sleep(0.5)
        cpu0, t0 = _cpu_of(proc.pid), time.perf_counter()
        edit_one_paragraph(book, "(saved again)")
        result = built()
        wall = time.perf_counter() - t0
        return {"wall": wall, "cpu": _cpu_of(proc.pid) - cpu0, "result": result}
    finally:
        proc.send_signal(__import__("signal").SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        errors.close()


def baseline_commands(book: Path, work: Path) -> list[list[str]]:
    """`pandoc book.md -s -o book.html && weasyprint book.html book.pdf`, with the pandoc of pypandoc-binary."""
    import pypandoc
    pandoc = pypandoc.get_pandoc_path()
    html, pdf = work / "baseline.html", work / "baseline.pdf"
    if book.is_dir():
        meta = next(book / n for n in ("book.yaml", "book.yml", "metadata.yaml", "metadata.yml") if (book / n).is_file())
        source = [f"--metadata-file={meta}", *map(str, manuscript_files(book))]
    else:
        source = [str(book)]
    return [[pandoc, *source, "-s", "-o", str(html)],
            [sys.executable, "-m", "weasyprint", str(html), str(pdf)]]


def pdf_pages(path: Path) -> int | None:
    try:
        import pypdfium2
        return len(pypdfium2.PdfDocument(str(path)))
    except Exception:
        return None


def build_pages(out: Path, stderr: str) -> int | None:
    """Pages of the PDF edition: from the report, or from the -v progress when the build failed its checks."""
    for report in out.glob("*.report.json"):
        editions = json.loads(report.read_text()).get("editions", {})
        for name in ("pdf", "print"):
            if editions.get(name, {}).get("pages"):
                return editions[name]["pages"]
    found = re.findall(r"\b(?:pdf|print): (\d+) pages", stderr)
    return int(found[0]) if found else None


def bench_book(name: str, source: Path, args) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        work = Path(tmp)
        row: dict = {"book": name}
        if not args.no_baseline:
            base = measure(baseline_commands(source, work))
            row["baseline"] = base
            row["baseline_pages"] = pdf_pages(work / "baseline.pdf")
        book = copy_book(source, work / "src")
        out, cache = work / "out", work / "cache"
        build = [sys.executable, str(ROOT / "build.py"), "--book", str(book), "--out", str(out), "--cache", str(cache),
                 "-v", *args.build_arg]
        for stage in ("cold", "edit", "nochange"):
            if stage == "cold":
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(cache, ignore_errors=True)
            if stage == "edit":
                row["edited"] = edit_one_paragraph(book)
            row[stage] = measure([build], cwd=ROOT)
            if stage == "cold":
                row["pages"] = build_pages(out, row[stage]["stderr"])
            print(f"  {name} {stage}: {row[stage]['wall']:.2f} s (exit {row[stage]['codes'][-1]})", file=sys.stderr)
        if args.watch:
            try:
                row["watch"] = measure_watch(build, book)
                print(f"  {name} watch edit: {row['watch']['wall']:.2f} s", file=sys.stderr)
            except Exception as error:           # a measurement left out, said so
                print(f"  {name} watch edit: not measured ({error!r})", file=sys.stderr)
        return row


# --- the table -----------------------------------------------------------------------------

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "–"


def table(rows: list[dict]) -> str:
    head = ["book", "pages", "baseline s", "cold s", "edit s", "no-change s", "pages/s", "peak MB",
            "cold/base", "edit/cold", "nochange/cold"]
    watched = any("watch" in r for r in rows)
    if watched:
        head += ["watch edit s", "watch edit/cold"]
    lines = [head]
    for r in rows:
        base = r.get("baseline")
        peak = max((r[s]["tree_peak_mb"] or r[s]["maxrss_mb"]) for s in ("cold", "edit", "nochange"))
        failed = "" if r["cold"]["codes"][-1] == 0 else " (!)"
        lines.append([
            r["book"] + failed, str(r.get("pages") or "?"),
            f"{base['wall']:.1f}" if base else "–", f"{r['cold']['wall']:.1f}", f"{r['edit']['wall']:.1f}",
            f"{r['nochange']['wall']:.2f}",
            f"{r['pages'] / r['cold']['wall']:.1f}" if r.get("pages") else "?",
            f"{peak:.0f}",
            ratio(r["cold"]["wall"], base["wall"] if base else None),
            ratio(r["edit"]["wall"], r["cold"]["wall"]), ratio(r["nochange"]["wall"], r["cold"]["wall"]),
        ] + ([f"{r['watch']['wall']:.1f}" if "watch" in r else "–",
              ratio(r["watch"]["wall"], r["cold"]["wall"]) if "watch" in r else "–"] if watched else []))
    cpu = [["book", "baseline cpu s", "cold cpu s", "edit cpu s", "no-change cpu s", "baseline pages",
            "baseline pages/s", "baseline peak MB", "largest process MB (cold)"]
           + (["watch edit cpu s", "edit/cold cpu", "watch edit/cold cpu"] if watched else ["edit/cold cpu"])]
    for r in rows:
        base = r.get("baseline")
        cpu.append([r["book"], f"{base['cpu']:.1f}" if base else "–", f"{r['cold']['cpu']:.1f}",
                    f"{r['edit']['cpu']:.1f}", f"{r['nochange']['cpu']:.2f}", str(r.get("baseline_pages") or "–"),
                    f"{r['baseline_pages'] / base['wall']:.1f}" if base and r.get("baseline_pages") else "–",
                    f"{(base['tree_peak_mb'] or base['maxrss_mb']):.0f}" if base else "–",
                    f"{r['cold']['maxrss_mb']:.0f}"]
                   + ([f"{r['watch']['cpu']:.1f}" if "watch" in r else "–"] if watched else [])
                   + [ratio(r["edit"]["cpu"], r["cold"]["cpu"])]
                   + ([ratio(r["watch"]["cpu"], r["cold"]["cpu"]) if "watch" in r else "–"] if watched else []))
    return _format(lines) + "\n\n" + _format(cpu)


def _format(lines) -> str:
    widths = [max(len(row[i]) for row in lines) for i in range(len(lines[0]))]
    fmt = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
    return "\n".join([fmt(lines[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [fmt(r) for r in lines[1:]])


def main(argv=None) -> int:
    if (argv or sys.argv[1:])[:1] == ["_measure"]:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(measure_here(spec["commands"], spec["cwd"], spec["env"])))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="folder of */book.md (default: ../shared/corpus)")
    p.add_argument("--book", action="append", default=[], help="another book (folder or .md), repeatable")
    p.add_argument("--only", action="append", help="measure only these books (by name), repeatable")
    p.add_argument("--no-essay", action="store_true", help="leave out the essay in book/")
    p.add_argument("--no-corpus", action="store_true", help="leave out the corpus")
    p.add_argument("--no-baseline", action="store_true", help="skip the bare pandoc + weasyprint run")
    p.add_argument("--build-arg", action="append", default=[], help="extra argument for build.py, repeatable")
    p.add_argument("--json", type=Path, help="also write every measurement here")
    p.add_argument("--watch", action="store_true",
                   help="also measure an edit in a `build.py --watch` session (a warm process), its own columns")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    rows = []
    for name, source in find_books(args):
        print(f"measuring {name} ({source})", file=sys.stderr)
        rows.append(bench_book(name, source, args))
    print(f"machine: {os.cpu_count()} cores, {_memory_gib()} GiB; python {sys.version.split()[0]}; "
          f"load average at the start: {load:.1f}, at the end: {os.getloadavg()[0]:.1f}")
    print(table(rows))
    print("\nwall-clock seconds; peak MB = the whole process tree's memory (proportional set size: pages a"
          " forked child shares counted once), sampled every 0.1 s;"
          " (!) = the build ran to the end but exited non-zero (findings), see --json")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def _memory_gib() -> str:
    try:
        return f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f}"
    except (ValueError, OSError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
