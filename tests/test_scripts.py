"""The measuring scripts run from a checkout and report what they say they report: the
benchmark's cold / edit / no-change rows with the baseline beside them, and the phase
timeline of one build. No timing is asserted, only that the figures are there."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT, write_book

TEXT = "\n\n".join(f"# Chapter {n}\n\n" + " ".join(["The miller counts the sacks by the river, and the river runs on."] * 3)
                   + f"[^{n}]\n\n[^{n}]: A note on chapter {n}." for n in range(1, 4)) + "\n"


def test_the_benchmark_measures_a_book_three_ways_beside_its_baseline(tmp_path):
    book = write_book(tmp_path / "tiny", TEXT)
    figures = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--no-essay", "--no-corpus",
                           "--book", str(book), "--json", str(figures)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(figures.read_text())
    for stage in ("baseline", "cold", "edit", "nochange"):
        assert row[stage]["wall"] > 0 and row[stage]["cpu"] > 0 and row[stage]["codes"][-1] == 0, stage
    assert row["pages"] > 0 and row["baseline_pages"] > 0
    assert re.fullmatch(r"text\.md:\d+", row["edited"])
    assert "(edited)" not in (book / "text.md").read_text()
    assert re.search(r"^\| tiny +\| \d+ +\| [\d.]+ +\| [\d.]+ +\| [\d.]+ +\| [\d.]+ ", proc.stdout, re.M)


def test_the_phase_timeline_names_every_phase_of_a_build(tmp_path):
    book = write_book(tmp_path / "tiny", TEXT)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "phases.py"), "--book", str(book),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    phases = re.findall(r"^ *[\d.]+ -> +[\d.]+ \( *[\d.]+\) (.+?) \[", proc.stderr, re.M)
    for phase in ("pandoc", "load (pandoc included)", "checks", "HTML of the text", "typesetting, all of it",
                  "preflight", "writing the files"):
        assert phase in phases, (phase, proc.stderr[-2000:])
    assert re.search(r"^total [\d.]+ s, exit 0$", proc.stderr, re.M)
    assert (tmp_path / "out" / "a-tiny-book.pdf").is_file()
    # The typesetting process's own phases, marked with its PID (it is forked from the build).
    assert re.search(r"\) +laying out \(notes settled\) \[child \d+\]", proc.stderr), proc.stderr[-2000:]
    assert re.search(r"\) +writing the editions \[child \d+\]", proc.stderr), proc.stderr[-2000:]


def test_the_phase_timeline_of_a_watch_sessions_second_edit(tmp_path):
    book = write_book(tmp_path / "tiny", TEXT)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "phases.py"), "--book", str(book),
                           "--out", str(tmp_path / "out"), "--watch"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "(saved again" in (book / "text.md").read_text()          # the copy given was edited twice
    assert re.search(r"^total [\d.]+ s, CPU [\d.]+ s", proc.stderr, re.M)
    assert re.search(r"\) typesetting, all of it \[MainThread\]", proc.stderr), proc.stderr[-2000:]
