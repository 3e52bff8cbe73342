"""Worker processes started as Windows starts them: `batch` and the split read of a large CLIXML file give the same
results under `spawn` (Windows, macOS, and exaudit's choice everywhere) and `forkserver` (Linux's default from
Python 3.14) as without worker processes at all (analyzer/processes.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer import processes
from analyzer.batch import BundleOutcome, discover, make_jobs, run_batch, scan_bundle
from analyzer.exchange.split_read import SplitReader
from analyzer.pipeline import ScanOptions
from tests.exchange.same_read import assert_same_read
from tests.exchange.test_split_read import in_two, mailboxes, whole, write

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
METHODS = [m for m in ("spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]


@pytest.fixture(params=METHODS)
def start_method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    method: str = request.param
    monkeypatch.setattr(processes, "START_METHOD", method)
    return method


def _without_timing(outcome: BundleOutcome) -> BundleOutcome:
    return dataclasses.replace(outcome, seconds=0.0)


def test_forkserver_is_tested_where_python_has_it() -> None:
    assert "spawn" in METHODS and (sys.platform == "win32" or "forkserver" in METHODS)


def test_batch_workers_give_what_scanning_in_this_process_gives(
    tmp_path: Path, start_method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")  # the workers inherit it
    customers = tmp_path / "customers"
    for name in ("healthy-2019", "mistakes-2016", "mixed-formats"):
        shutil.copytree(SAMPLES / name, customers / name)
    options = ScanOptions(paths=[], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    jobs = make_jobs(discover([customers]), tmp_path / "workers", options, ("json", "csv"), "en")
    in_workers = run_batch(jobs, 2, lambda _outcome: None)
    here = make_jobs(discover([customers]), tmp_path / "here", options, ("json", "csv"), "en")
    in_process = sorted((scan_bundle(job) for job in here), key=lambda o: o.name)  # no process started
    assert [o.status for o in in_workers] == ["scanned"] * 3, [o.error for o in in_workers]
    assert [_without_timing(o) for o in in_workers] == [_without_timing(o) for o in in_process]
    for outcome in in_workers:
        for report in ("report.json", "findings.csv"):
            made_by_worker = (tmp_path / "workers" / outcome.name / report).read_bytes()
            assert made_by_worker == (tmp_path / "here" / outcome.name / report).read_bytes()


def test_the_split_read_in_a_worker_process_gives_the_rows_of_a_read_in_one_go(
    tmp_path: Path, start_method: str
) -> None:
    path = write(tmp_path, mailboxes(80).replace("\n", "\r\n"), encoding="utf-16-le", bom=b"\xff\xfe")
    splitter = SplitReader(min_bytes=0)
    try:
        split, how = in_two(path, splitter)
    finally:
        splitter.close()
    assert how == "two processes", how
    assert split is not None
    assert_same_read(split, whole(path))


def test_the_command_started_as_a_script_runs_its_workers(tmp_path: Path) -> None:
    """`python -m analyzer batch`: a spawned worker imports the main module again, which must not run the command
    a second time."""
    customers = tmp_path / "customers"
    for name in ("healthy-2019", "mistakes-2016"):
        shutil.copytree(SAMPLES / name, customers / name)
    batch = subprocess.run([sys.executable, "-m", "analyzer", "batch", str(customers), "--jobs", "2", "--out",
                            str(tmp_path / "batch"), "-f", "json"], capture_output=True, text=True, check=False)  # fmt: skip
    assert batch.returncode == 0, batch.stdout + batch.stderr
    assert "died" not in batch.stdout + batch.stderr
    assert sorted(p.name for p in (tmp_path / "batch").iterdir() if p.is_dir()) == ["healthy-2019", "mistakes-2016"]
