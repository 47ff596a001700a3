"""One folder per check code under tests/checks/: a minimal broken book and the exact
finding lines `build.py check` prints for it (paths relative to the folder, no hints)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT

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


def test_every_code_is_documented_in_the_readme():
    from imprint.codes import all_codes
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [code for code in all_codes() if f"| {code} |" not in readme]
    assert missing == []
