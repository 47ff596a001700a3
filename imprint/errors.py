"""Findings (what the checks say) and the one exception base for user-facing errors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1        # the build or check found errors (or warnings under --strict)
    USAGE = 2           # bad command line
    BAD_INPUT = 3       # the book cannot be read: missing, malformed manuscript or metadata
    TEMPLATE = 4        # a template or stylesheet is broken
    LIMIT = 5           # a time or memory limit stopped the build
    TOOL = 6            # an external tool (pandoc, WeasyPrint, EPUBCheck) failed
    INTERNAL = 70


@dataclass(frozen=True)
class Location:
    """Where a finding points: a file, and a line and column when known (1-based)."""

    file: Path | str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [str(self.file) if self.file else "<book>"]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)


class ImprintError(Exception):
    """A problem the user can fix. Printed as one `file:line:col: message` line, no traceback."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, where: Location | None = None, hint: str | None = None,
                 exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.where = where or Location()
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class ManuscriptError(ImprintError):
    exit_code = ExitCode.BAD_INPUT


class MetadataError(ImprintError):
    exit_code = ExitCode.BAD_INPUT


class TemplateError(ImprintError):
    exit_code = ExitCode.TEMPLATE


class ToolError(ImprintError):
    exit_code = ExitCode.TOOL


class LimitError(ImprintError):
    exit_code = ExitCode.LIMIT


class BuildFailed(ImprintError):
    """Raised when checks found errors; the findings themselves carry the detail."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, message: str, *, findings=(), **kwargs):
        super().__init__(message, **kwargs)
        self.findings = list(findings)


SEVERITIES = ("error", "warning", "info")


class InterruptedAfterWriting(KeyboardInterrupt):
    """Ctrl-C or SIGTERM arrived while the outputs were being moved into place, and was held
    until they all were: the build is complete, every new output is in place."""

    def __init__(self, written):
        super().__init__("interrupted after writing")
        self.written = list(written)


@dataclass(frozen=True)
class Finding:
    """One thing a check found: a stable code, a severity, a place, a message and a hint."""

    code: str
    severity: str
    message: str
    where: Location = Location()
    hint: str | None = None
    edition: str | None = None
    page: int | None = None
    # A layout finding's words as set (the block's first, the line's): what imprint/checks/
    # origins.py finds again in the manuscript to give it its file, line and column.
    anchor: tuple = dataclasses.field(default=(), compare=False, repr=False)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def with_edition(self, edition: str) -> "Finding":
        return dataclasses.replace(self, edition=edition)

    def format(self) -> str:
        where = str(self.where)
        if self.page is not None:
            where += f" (page {self.page}{', ' + self.edition if self.edition else ''})"
        text = f"{where}: {self.severity}: {self.code} {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": str(self.where.file) if self.where.file else None,
            "line": self.where.line,
            "column": self.where.column,
            "edition": self.edition,
            "page": self.page,
            "message": self.message,
            "hint": self.hint,
        }


def count(findings, severity: str) -> int:
    return sum(1 for f in findings if f.severity == severity)


def summary(findings) -> str:
    """'2 errors, 1 warning' — the one line a run ends with."""
    e, w = count(findings, "error"), count(findings, "warning")
    return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"


def fails(findings, strict: bool = False) -> bool:
    return any(f.severity == "error" or (strict and f.severity == "warning") for f in findings)


REPEATS_SHOWN = 20


def condensed(findings, shown: int = REPEATS_SHOWN) -> list:
    """The findings to print, each code's first `shown` only, then one line per code saying how
    many more there are (a 2,000-column table is not 8,000 lines; --verbose prints them all)."""
    seen: dict[str, int] = {}
    out: list = []
    for f in findings:
        seen[f.code] = seen.get(f.code, 0) + 1
        if seen[f.code] <= shown:
            out.append(f)
    for code, n in seen.items():
        if n > shown:
            out.append(f"… and {n - shown:,} more {code} findings (--verbose prints every one)")
    return out
