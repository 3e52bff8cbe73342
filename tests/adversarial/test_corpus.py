"""Runs every case of the adversarial corpus (`cases.py`) as a user would — `python -m analyzer scan` in its own
process — under a time limit and an address-space limit, and checks what the case promises: the exit code, the
problem, no verdict with good news, and no traceback.

CI runs as root, and root reads any file whatever its mode. The permission cases therefore run the scan with the
capabilities that bypass file modes dropped (`setpriv`), keeping uid 0: switching to another user would fail where
the clone or the virtual environment sits under a home folder closed to others.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adversarial.cases import CASES, Case

TIME_LIMIT_S = 60
MEMORY_LIMIT = 2 << 30  # address space: pandas and pyarrow reserve far more than they touch
_DROP = "-dac_override,-dac_read_search"


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _command(case: Case, bundle: Path, out: Path) -> list[str]:
    scan = [sys.executable, "-m", "analyzer", "scan", str(bundle), "--out", str(out), "-f", "json",
            "--as-of", "2026-11-05", *case.extra_args]  # fmt: skip
    if not case.drop_file_capabilities or os.geteuid() != 0:
        return scan
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("setpriv (util-linux) is needed to run the permission cases as root")
    return [setpriv, f"--inh-caps={_DROP}", f"--bounding-set={_DROP}", *scan]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_adversarial_bundle_never_gives_good_news(case: Case, tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    bundle = case.build(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run(_command(case, bundle, out), capture_output=True, text=True, timeout=TIME_LIMIT_S,
                          preexec_fn=_limited, check=False, cwd=tmp_path)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == case.exit_code, done.stderr[-2000:]
    report = json.loads((out / "report.json").read_text("utf-8"))
    problems = [f"{p['file']}: {p['message']}" for p in report["problems"]]
    assert any(case.problem in p for p in problems), problems
    statuses = {protocol: verdict["status"] for protocol, verdict in report["verdicts"].items()}
    assert statuses and not set(statuses.values()) & set(case.never), (statuses, problems)
    for verdict in report["verdicts"].values():  # each verdict names what it could not read
        assert any("not read" in line for line in verdict["degraded_inputs"]), verdict["degraded_inputs"]


def test_the_sample_the_cases_break_is_ready_when_whole(tmp_path: Path) -> None:
    """Without this, a case could pass only because the sample itself was never ready."""
    from tests.adversarial.cases import SAMPLE

    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(SAMPLE), "--out", str(out), "-f", "json",
                           "--as-of", "2026-11-05"], capture_output=True, text=True, timeout=TIME_LIMIT_S, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert {p: v["status"] for p, v in report["verdicts"].items()} == {"pop3": "ready", "imap4": "ready"}
