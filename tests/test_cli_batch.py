"""`exaudit batch`: one report set per bundle (identical to `exaudit scan` of that bundle), a deterministic
portfolio, and a batch that goes on when a bundle fails — even when its worker process dies."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.batch import BundleJob, BundleOutcome, discover, make_jobs, run_batch
from analyzer.cli import app
from analyzer.pipeline import ScanOptions

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
ENV = {"SOURCE_DATE_EPOCH": "1790000000"}


@pytest.fixture(scope="module")
def customers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A consultant's folder: three bundles as folders, one as a zip, one empty folder, one stray file."""
    root = tmp_path_factory.mktemp("customers")
    shutil.copytree(SAMPLES / "mistakes-2016", root / "contoso")
    shutil.copytree(SAMPLES / "mixed-formats", root / "fabrikam")
    shutil.copytree(SAMPLES / "mistakes-2016-after", root / "株式会社サンプル")
    with zipfile.ZipFile(root / "tailspin.zip", "w") as archive:
        for path in sorted((SAMPLES / "healthy-2019").rglob("*")):
            archive.write(path, path.relative_to(SAMPLES / "healthy-2019"))
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("call the customer")
    return root


def _batch(customers: Path, out: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["batch", str(customers), "--out", str(out), "--as-of", "2026-11-27", *args], env=ENV)
    return result.exit_code, result.output


def _portfolio(out: Path) -> list[dict[str, str]]:
    text = (out / "portfolio.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_each_bundle_gets_the_reports_scan_would_write_and_a_failed_one_does_not_stop_the_rest(
    tmp_path: Path, customers: Path
) -> None:
    code, output = _batch(customers, tmp_path / "out", "--jobs", "2")
    assert code == 2, output  # the empty folder could not be scanned
    rows = {row["bundle"]: row for row in _portfolio(tmp_path / "out")}
    assert sorted(rows) == ["contoso", "empty", "fabrikam", "tailspin", "株式会社サンプル"]
    assert rows["empty"]["status"] == "failed"
    assert "nothing in the bundle could be read" in rows["empty"]["error"]
    assert rows["contoso"]["pop3"] == "not_ready" and rows["tailspin"]["pop3"] == "ready"
    assert rows["contoso"]["report"] == "contoso/report.html"
    assert "notes.txt" in output  # the stray file is named, not dropped silently
    document = json.loads((tmp_path / "out" / "portfolio.json").read_text())
    assert [item["path"] for item in document["ignored"]] == [str(customers / "notes.txt")]
    for name, source in (("contoso", customers / "contoso"), ("tailspin", customers / "tailspin.zip")):
        alone = tmp_path / f"alone-{name}"
        result = runner.invoke(app, ["scan", str(source), "--out", str(alone), "--as-of", "2026-11-27"], env=ENV)
        assert result.exit_code == 0
        for report in ("report.json", "report.html", "findings.csv"):
            assert (tmp_path / "out" / name / report).read_bytes() == (alone / report).read_bytes(), (name, report)
        assert int(rows[name]["rules_fail"]) == json.loads((alone / "report.json").read_text())["summary"]["fail"]


def test_the_portfolio_does_not_depend_on_the_number_of_workers(tmp_path: Path, customers: Path) -> None:
    for jobs in ("1", "2"):
        _batch(customers, tmp_path / jobs, "--jobs", jobs, "--lang", "ja", "--quiet")
    for name in ("portfolio.json", "portfolio.csv", "portfolio.html"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
    html = (tmp_path / "1" / "portfolio.html").read_text()
    assert "未準備" in html and 'href="株式会社サンプル/report.html"' in html
    assert "フォルダーでも zip でもない" in html  # notes.txt, in Japanese
    assert "http://" not in html and "https://" not in html


def test_fail_on_is_reached_by_any_bundle(tmp_path: Path, customers: Path) -> None:
    only_good = tmp_path / "good"
    only_good.mkdir()
    shutil.copy(customers / "tailspin.zip", only_good)
    assert _batch(only_good, tmp_path / "a")[0] == 0
    assert _batch(only_good, tmp_path / "b", "--fail-on", "info")[0] == 1  # healthy-2019 fails info rules
    assert _batch(only_good, tmp_path / "c", "--fail-on", "critical")[0] == 0


def test_a_broken_rule_stops_the_batch_before_any_bundle(tmp_path: Path, customers: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: X\n")
    code, output = _batch(customers, tmp_path / "out", "--rules", str(bad))
    assert code == 2
    assert f"{bad}:" in output
    assert not (tmp_path / "out").exists()


def test_discovery_names_bundles_safely_and_uniquely(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        (root / "acme").mkdir(parents=True)
    (first / "a b;c").mkdir()
    (first / ".git").mkdir()
    (first / "x.zip").write_bytes(b"")
    (first / "portfolio.csv").mkdir()
    found = discover([first, second])
    assert [name for name, _ in found.bundles] == ["a_b_c", "acme", "portfolio.csv-bundle", "x", "acme-2"]
    assert [(p.name, why) for p, why in found.ignored] == [(".git", "hidden")]


def _dies_on_bravo(job: BundleJob) -> BundleOutcome:
    if job.name == "bravo":
        os._exit(9)  # what the kernel's OOM killer does to a worker, as far as the pool can tell
    return BundleOutcome(job.name, str(job.source), "scanned")


def test_a_worker_that_dies_fails_only_its_own_bundle(tmp_path: Path) -> None:
    for name in ("alpha", "bravo", "charlie", "delta"):
        (tmp_path / name).mkdir()
    jobs = make_jobs(discover([tmp_path]), tmp_path / "out", ScanOptions([]), ["json"], "en")
    seen: list[str] = []
    outcomes = run_batch(jobs, 2, lambda o: seen.append(o.name), worker=_dies_on_bravo)
    assert [(o.name, o.status) for o in outcomes] == [
        ("alpha", "scanned"), ("bravo", "failed"), ("charlie", "scanned"), ("delta", "scanned")
    ]  # fmt: skip
    assert "worker process died" in outcomes[1].error
    assert sorted(seen) == ["alpha", "bravo", "charlie", "delta"]


def test_a_folder_without_bundles_is_an_error_not_an_empty_portfolio(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("x")
    code, output = _batch(tmp_path / "in", tmp_path / "out")
    assert code == 2
    assert "no bundle to scan" in output and "notes.txt" in output
    assert not (tmp_path / "out").exists()


def test_a_bug_in_one_bundle_is_exit_3_and_the_others_are_scanned(
    tmp_path: Path, customers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst code of any bundle: one that fails through a bug is 3 (2 means bad input), and says so."""
    from analyzer import batch

    jobs = make_jobs(discover([customers]), tmp_path / "out", ScanOptions([]), ["json"], "en")
    fabrikam = next(job for job in jobs if job.name == "fabrikam")

    def buggy(options: ScanOptions) -> object:
        raise KeyError("server_key")

    monkeypatch.setattr(batch, "scan", buggy)
    outcome = batch.scan_bundle(fabrikam)
    assert outcome.status == "failed" and outcome.internal and outcome.error == "internal error: KeyError: 'server_key'"
    monkeypatch.undo()

    real_run = batch.run_batch

    def with_one_bug(jobs: list[BundleJob], workers: int, done: object, **_: object) -> list[BundleOutcome]:
        outcomes = [o for o in real_run(jobs, workers, lambda _o: None) if o.name != "fabrikam"]
        return sorted([*outcomes, outcome], key=lambda o: o.name)

    monkeypatch.setattr(batch, "run_batch", with_one_bug)
    result = runner.invoke(app, ["batch", str(customers), "--out", str(tmp_path / "out")], env=ENV)
    assert result.exit_code == 3, result.output
    assert (tmp_path / "out" / "contoso" / "report.json").exists()
