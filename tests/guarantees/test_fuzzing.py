"""The fuzz harnesses in `fuzz/` run from a fresh clone, every input they ever crashed on stays fixed, and a short
hypothesis run mutates the shipped rules (the readers' own runs are in tests/readers)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.engine.loader import RuleError, load_rule
from tests.conftest import fuzz_harness, require

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "fuzz"
REGRESSIONS = ROOT / "tests" / "data" / "fuzz-regressions"
SHIPPED_RULES = sorted((ROOT / "rules").rglob("*.yaml"))


HARNESS = fuzz_harness()
REGRESSION_INPUTS = sorted(p for p in REGRESSIONS.rglob("*") if p.is_file())


def test_every_regression_input_belongs_to_a_target() -> None:
    assert REGRESSION_INPUTS, "the crashes found so far are kept as regression inputs"
    assert {p.parent.name for p in REGRESSION_INPUTS} <= set(HARNESS.TARGETS)


@pytest.mark.parametrize("path", REGRESSION_INPUTS, ids=lambda p: f"{p.parent.name}/{p.name[:40]}")
def test_inputs_that_once_crashed_now_pass_their_harness(path: Path) -> None:
    one_input = HARNESS.one_input_for(HARNESS.TARGETS[path.parent.name])
    one_input(path.read_bytes())  # raises on anything its harness counts as a crash


@pytest.mark.parametrize("target", sorted(HARNESS.TARGETS))
def test_each_harness_runs_under_atheris_from_its_seeds(tmp_path: Path, target: str) -> None:
    require("atheris", "the test extra installs it on Linux")
    corpus = tmp_path / "corpus"
    try:
        completed = subprocess.run(
            [sys.executable, str(FUZZ / f"{target}.py"), "-runs=300", f"-artifact_prefix={tmp_path}/", str(corpus)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as stuck:  # seen once under heavy load: keep what it printed, to find out why
        output = stuck.stderr.decode(errors="replace") if isinstance(stuck.stderr, bytes) else str(stuck.stderr)
        pytest.fail(f"{target}: 300 runs did not finish in 300 s; its last output:\n{output[-3000:]}")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert re.search(r"^Done \d+ runs in", completed.stderr, re.MULTILINE), completed.stderr[
        -3000:
    ]  # it ran to the end
    assert not list(tmp_path.glob("crash-*")) and "ERROR: libFuzzer" not in completed.stderr  # and found no crash
    # libFuzzer keeps one corpus file per distinct input: samples that share a file (the STIG samples' Edge exports)
    # count once.
    seeds = {hashlib.sha1(path.read_bytes()).hexdigest() for path in HARNESS.seed_files(HARNESS.TARGETS[target].seeds)}
    assert len(list(corpus.iterdir())) >= len(seeds) > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_rule_files_give_only_a_located_rule_error(tmp_path_factory: pytest.TempPathFactory,
                                                           data: st.DataObject) -> None:  # fmt: skip
    text = data.draw(st.sampled_from(SHIPPED_RULES)).read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["cut", "insert", "delete"]))
        if action == "cut":
            text = text[:where]
        elif action == "insert":
            piece = data.draw(st.sampled_from(["\n", ":", " ", "- ", "{", "[", "&a", "*a", "!!python/object:os.system",
                                               "\t", "'", '"', "\x00", "id: X", "  ", "ー", "1e9999"]))  # fmt: skip
            text = text[:where] + piece + text[where:]
        else:
            text = text[:where] + text[where + data.draw(st.integers(1, 30)) :]
    path = tmp_path_factory.mktemp("rule") / "rule.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    error: RuleError | None = None
    try:
        load_rule(path)
    except RuleError as raised:
        error = raised
    assert error is None or (error.line > 0 and str(error).startswith(f"{path}:{error.line}:{error.column}: "))
