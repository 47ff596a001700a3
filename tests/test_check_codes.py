"""One folder per check code under tests/checks/: a minimal broken book and the exact
finding lines `build.py check` prints for it (paths relative to the folder, no hints)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

from imprint.codes import TABLE, all_codes, markdown, severities
from imprint.errors import SEVERITIES
from imprint.pipeline import run_checks

CASES = ROOT / "tests" / "checks"
FOLDERS = sorted(p for p in CASES.iterdir() if p.is_dir())


def finding_lines(folder: Path) -> list[str]:
    _, findings = run_checks(folder)
    prefix = str(folder) + "/"
    return [f.format().split(" (hint: ")[0].replace(prefix, "") for f in findings]


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_expected_findings(folder):
    expected = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert finding_lines(folder) == expected


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_folder_shows_its_code(folder):
    assert any(f" {folder.name} " in line for line in (folder / "expected.txt").read_text().splitlines())


def test_every_note_code_has_a_folder():
    from imprint.checks.notes import CODES
    assert sorted(CODES) == [p.name for p in FOLDERS if p.name in CODES]


def test_the_manuscript_is_never_rewritten():
    before = {p: p.read_bytes() for folder in FOLDERS for p in folder.iterdir()}
    for folder in FOLDERS:
        run_checks(folder)
    assert {p: p.read_bytes() for p in before} == before


def readme_table() -> str:
    """The README's table of codes: the table under its heading "## Table of codes"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Table of codes\n"):]
    start = section.index("| code | severity | meaning |")
    end = section.find("\n\n", start)
    return section[start:end if end >= 0 else None].rstrip("\n") + "\n"


def test_the_readme_table_of_codes_is_the_table():
    assert readme_table() == markdown(), "paste `python -m imprint.codes` into README.md's table of codes"


def test_every_code_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [code for code in all_codes() if f"| {code} |" not in readme]
    assert missing == []


def test_every_severity_in_the_table_is_a_severity():
    assert all(set(severities(code)) <= set(SEVERITIES) for code in TABLE)


# --- Every finding made in imprint/ against the table ---------------------------------------

CODE = re.compile(r"^[A-Z]\d{3}$")
# Findings whose code or severity is not written at the call, and where each comes from. A new
# one must be added here once its severity is shown to come from the table or from literals
# this test reads (a code and a severity side by side in a call or tuple).
DYNAMIC = {
    ("imprint/checks/pages.py", "finding"): "SEVERITIES, made from imprint.codes",
    ("imprint/checks/security.py", "judge_url"): "the (code, severity, ...) tuples of _judge_url",
    ("imprint/editions/preflight.py", "findings"): "_Report.add(code, severity, ...) literals",
    ("imprint/manuscript/sanitize.py", "findings"): "Removal(code, severity, ...) literals",
    ("imprint/pipeline.py", "epubcheck_findings"): "imprint.codes.severity",
    ("imprint/typeset/engine.py", "weasy_findings"): "imprint.codes.severity",
    ("imprint/checks/math.py", "check_math"): "imprint.codes.severity of the Q10x code math.py raises",
    ("imprint/typeset/weasylog.py", "_f"): "imprint.codes.severity of the W1xx code it is given",
    ("imprint/typeset/weasylog.py", "patches_off"): "imprint.codes.severity",
}


def sources():
    for path in sorted((ROOT / "imprint").rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def literal_pairs():
    """(file, line, code, severity) for every code and severity written side by side in imprint/:
    Finding("N101", "error", ...), report.add("P103", "error", ...), Removal("S101", "error", ...),
    ("R001", "error", ...)."""
    for name, tree in sources():
        for node in ast.walk(tree):
            items = node.args if isinstance(node, ast.Call) else node.elts if isinstance(node, ast.Tuple) else []
            values = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in items]
            for first, second in zip(values, values[1:]):
                if first and second and CODE.match(first) and second in SEVERITIES:
                    yield name, node.lineno, first, second


def dynamic_findings():
    """(file, function) of every Finding(...) whose code or severity is not a literal."""
    for name, tree in sources():
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding"
                        and not all(isinstance(a, ast.Constant) for a in node.args[:2])):
                    yield name, func.name


def test_every_finding_in_the_source_has_the_tables_code_and_severity():
    pairs = list(literal_pairs())
    assert len(pairs) > 60                                      # the scan sees the findings
    wrong = [f"{name}:{line}: {code} {sev}" + (f" (the table: {TABLE[code][0]})" if code in TABLE else " (not in the table)")
             for name, line, code, sev in pairs if code not in TABLE or sev not in severities(code)]
    assert wrong == []


def test_every_finding_made_from_variables_is_known():
    assert set(dynamic_findings()) == set(DYNAMIC)


def test_every_code_in_the_table_is_made_somewhere():
    written = set()
    for name, tree in sources():
        if name != "imprint/codes.py":
            written |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                        and CODE.match(n.value)}
    assert set(TABLE) - written == set(), "a code in the table that nothing makes"
    assert written - set(TABLE) == set(), "a code written in imprint/ is not in imprint/codes.py"


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_findings_made_have_the_tables_severity(folder):
    _, findings = run_checks(folder)
    assert findings and all(f.code in TABLE and f.severity in severities(f.code) for f in findings)
