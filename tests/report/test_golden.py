"""Golden files: every report format for a fixed bundle, evaluation date and generation time, compared byte for
byte with the copies in tests/data/golden/. A change to any report shows up here as a diff to review; when it is
intended, regenerate with `EXAUDIT_UPDATE_GOLDEN=1 python -m pytest tests/report/test_golden.py` — the run then
fails with "golden files rewritten; review and rerun", so an update can never pass unseen — review the diff and
commit. Any other value of the variable is an error, not an update."""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden"
FILES = ("report.json", "report.html", "findings.csv", "results.csv", "summary.md", "junit.xml")


# The POP3/IMAP4 sample alone, and the STIG sample with its site plan (both baseline packs and the default one).
@pytest.mark.parametrize(("sample", "language"), [("mistakes-2016", "en"), ("mistakes-2016", "ja"),
                                                  ("stig-2019", "en"), ("stig-2019", "ja"),
                                                  ("stig-2016", "en"), ("stig-2016", "ja")])  # fmt: skip
def test_reports_match_the_golden_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: str, language: str
) -> None:
    shutil.copytree(ROOT / "samples" / sample, tmp_path / sample)
    plan = ROOT / "samples" / f"{sample}.plan.yaml"
    policy = ["--policy", str(shutil.copy(plan, tmp_path / plan.name))] if plan.exists() else []
    monkeypatch.chdir(tmp_path)  # input paths in the reports are then relative and the same on every machine
    result = CliRunner().invoke(
        app,
        ["scan", sample, *policy, "--as-of", "2026-11-27", "--out", "out", "--quiet", "--lang", language,
         "-f", "html,csv,json,md,junit"],
        env={"SOURCE_DATE_EPOCH": "1795000000"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected_dir = GOLDEN / f"{sample}-{language}"
    if _updating():
        rewritten = []
        for name in FILES:
            golden, produced = expected_dir / name, (tmp_path / "out" / name).read_bytes()
            if not golden.exists() or golden.read_bytes() != produced:
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_bytes(produced)
                rewritten.append(name)
        pytest.fail(f"golden files rewritten ({', '.join(rewritten) or 'none changed'}); review and rerun")
    for name in FILES:
        produced = (tmp_path / "out" / name).read_bytes()
        golden = expected_dir / name
        if produced != golden.read_bytes():
            diff = difflib.unified_diff(golden.read_text("utf-8-sig").splitlines(),
                                        produced.decode("utf-8-sig").splitlines(), "golden", "produced", lineterm="", n=1)  # fmt: skip
            pytest.fail(f"{name} differs from {golden}:\n" + "\n".join(list(diff)[:40]))


def _updating() -> bool:
    """Only `EXAUDIT_UPDATE_GOLDEN=1` updates; a stray value (`0`, `false`, `yes`) must not silently rewrite."""
    value = os.environ.get("EXAUDIT_UPDATE_GOLDEN")
    if value is None:
        return False
    if value != "1":
        pytest.fail(f"EXAUDIT_UPDATE_GOLDEN={value!r}: set it to exactly 1 to rewrite the golden files, or unset it")
    return True
