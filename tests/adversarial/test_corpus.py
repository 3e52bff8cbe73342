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
import time
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


def _peak_rss_mb(code: str, *args: str) -> float:
    """Peak resident memory of a child that runs `code` (the reading alone, in a process of its own)."""
    probe = code + "\nimport resource\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=TIME_LIMIT_S,
                          check=True)  # fmt: skip
    return int(done.stdout.split()[-1]) / 1024


_READ_TEXT = (
    "import sys\nfrom pathlib import Path\nfrom analyzer.readers.text import TextReader\n"
    "print(sum(1 for _ in TextReader(Path(sys.argv[1]))))"
)


def test_a_format_list_file_is_read_in_flat_memory(tmp_path: Path) -> None:
    """Records stream a block at a time: 300,000 one-line records cost about what 30,000 do (it was ~1 KB each)."""
    peaks = []
    for count in (30_000, 300_000):
        path = tmp_path / f"list-{count}.txt"
        path.write_text("".join(f"\nName : svc{i}\n" for i in range(count)))
        peaks.append(_peak_rss_mb(_READ_TEXT, str(path)))
    assert peaks[1] - peaks[0] < 60, peaks


def test_a_csv_of_a_hundred_thousand_columns_is_refused_at_its_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f'"C{i}"' for i in range(100_000)) + "\n" + ",".join('"v"' for _ in range(100_000)) + "\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "analyzer", "inspect", str(path)], capture_output=True, text=True,
                          timeout=TIME_LIMIT_S, preexec_fn=_limited, check=False)  # fmt: skip
    assert done.returncode == 2 and f"{path}:1: the header names 100,000 columns" in done.stderr, done.stderr
    assert time.perf_counter() - started < 10  # it took 46 s and 1.5 GB
