"""What a killed build leaves in TMPDIR goes with the next build (imprint/scratch.py `_sweep`):
kill -9 runs no `finally`, and the test suite's killed builds had left hundreds of
imprint-build-* folders in /tmp. A folder is removed only when the build whose process id
its name holds is gone and the folder has been untouched for an hour."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from imprint import scratch


def gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_builds_folder_goes_and_a_running_ones_stays(tmp_path, monkeypatch):
    old = time.time() - 2 * scratch.STALE_SECONDS
    dead, alive = gone_pid(), os.getppid()
    made = {}
    for label, pid, when in (("dead-old", dead, old), ("dead-new", dead, None), ("alive-old", alive, old)):
        folder = tmp_path / f"imprint-build-{pid}-{label}"
        (folder / "weasyprint-x").mkdir(parents=True)
        if when:
            os.utime(folder, (when, when))
        made[label] = folder
    other = tmp_path / "imprint-build-12345678"            # not a name of ours with a process id
    other.mkdir()
    os.utime(other, (old, old))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with scratch.own_tempdir() as folder:
        assert os.path.basename(folder).startswith(f"imprint-build-{os.getpid()}-")
    assert not made["dead-old"].exists()
    assert made["dead-new"].exists() and made["alive-old"].exists() and other.exists()
    assert not os.path.exists(folder)
