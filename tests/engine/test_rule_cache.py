"""The rule cache: a later run takes validated rules from it instead of validating again, and nothing in it can
stand in for a rule file it was not made from (rule_cache)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.engine import loader, rule_cache
from analyzer.engine.loader import RuleError, load_rules
from analyzer.pipeline import packaged_rules


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own, and no rule already loaded in this process."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(rule_cache.CACHE_ENV, str(folder))
    monkeypatch.setattr(loader, "_LOADED", {})
    return folder


def _forget_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a new run starts: nothing loaded, and validating would fail the test."""
    monkeypatch.setattr(loader, "_LOADED", {})

    def refuse(path: Path) -> dict[str, object]:
        raise AssertionError(f"{path} was validated again")

    monkeypatch.setattr(loader, "_validated", refuse)


def test_a_second_run_takes_every_shipped_rule_from_the_cache_unchanged(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_rules([packaged_rules()])
    assert len(list(cache.glob("*.json"))) == len(first)
    _forget_this_process(monkeypatch)
    again = load_rules([packaged_rules()])
    assert again == first


def test_an_edited_rule_is_validated_again(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = tmp_path / "rule.yaml"
    shutil.copy(next(packaged_rules().rglob("*.yaml")), rule)
    load_rules([rule])
    monkeypatch.setattr(loader, "_LOADED", {})
    rule.write_text(rule.read_text(encoding="utf-8").replace("severity: ", "severity: urgentish\nx: ", 1))
    with pytest.raises(RuleError, match="unknown key 'x'"):
        load_rules([rule])


def test_a_damaged_or_forged_entry_is_never_used(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = tmp_path / "rule.yaml"
    shutil.copy(next(packaged_rules().rglob("*.yaml")), rule)
    (expected,) = load_rules([rule])
    (entry,) = cache.glob("*.json")
    stored = json.loads(entry.read_text(encoding="utf-8"))
    forged = {**stored, "data": {**stored["data"], "severity": "info", "title": "forged"}}
    for content in ("{ not json", json.dumps([1, 2]), json.dumps({**forged, "key": "0" * 64})):
        entry.write_text(content, encoding="utf-8")
        monkeypatch.setattr(loader, "_LOADED", {})
        (rule_read,) = load_rules([rule])
        assert rule_read == expected
        assert json.loads(entry.read_text(encoding="utf-8")) == stored  # validated and stored afresh


def test_an_entry_is_bound_to_the_exaudit_version(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = tmp_path / "rule.yaml"
    shutil.copy(next(packaged_rules().rglob("*.yaml")), rule)
    before = rule_cache.key(rule.read_bytes())
    monkeypatch.setattr(rule_cache, "__version__", "99.0")
    rule_cache._deciding_digest.cache_clear()
    try:
        assert rule_cache.key(rule.read_bytes()) != before
    finally:
        monkeypatch.undo()
        rule_cache._deciding_digest.cache_clear()


def test_off_writes_nothing_and_an_unusable_folder_stops_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "_LOADED", {})
    monkeypatch.setenv(rule_cache.CACHE_ENV, "off")
    first = load_rules([packaged_rules()])
    assert rule_cache.folder() is None
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("x", encoding="utf-8")
    monkeypatch.setenv(rule_cache.CACHE_ENV, str(blocked / "rules"))
    monkeypatch.setattr(loader, "_LOADED", {})
    assert load_rules([packaged_rules()]) == first


def test_data_json_cannot_hold_unchanged_is_not_stored(cache: Path) -> None:
    rule_cache.store(b"a", {"when": __import__("datetime").date(2026, 1, 1)})
    rule_cache.store(b"b", {"tests": [{1: "a number as a key"}]})
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_a_scan_with_rules_from_the_cache_writes_the_same_report(tmp_path: Path) -> None:
    reports = []
    for run, setting in enumerate(("off", str(tmp_path / "cache"), str(tmp_path / "cache"))):
        out = tmp_path / f"run{run}"
        env = {**os.environ, rule_cache.CACHE_ENV: setting, "SOURCE_DATE_EPOCH": "1795000000"}
        command = ["scan", "--demo", "--as-of", "2026-11-27", "-f", "json", "--out", str(out)]
        done = subprocess.run([sys.executable, "-m", "analyzer", *command],
                              env=env, capture_output=True, text=True, cwd=tmp_path, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        reports.append((out / "report.json").read_bytes())
    assert reports[0] == reports[1] == reports[2]
    # The demo runs the default pack: its rules are cached, the baseline packs' only once a scan asks for them.
    assert len(list((tmp_path / "cache").glob("*.json"))) == len(load_rules([packaged_rules() / "pop-imap"]))


def test_a_changed_dataset_declaration_is_a_new_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Which columns a rule may name is decided by the dataset declarations: another one, another key."""
    from importlib import resources

    before = rule_cache.key(b"rule")
    spec = resources.files("analyzer.exchange.datasets") / "servers.py"
    original = spec.read_bytes()
    real_read_bytes = type(spec).read_bytes

    def edited(self: object) -> bytes:
        data = real_read_bytes(self)  # type: ignore[arg-type]
        return data + b"\n# a column more" if data == original else data

    monkeypatch.setattr(type(spec), "read_bytes", edited)
    rule_cache._deciding_digest.cache_clear()
    try:
        assert rule_cache.key(b"rule") != before
    finally:
        monkeypatch.undo()
        rule_cache._deciding_digest.cache_clear()


def test_a_scan_whose_rules_and_packs_come_from_the_cache_imports_neither_yaml_nor_jsonschema(tmp_path: Path) -> None:
    probe = ("import sys\nfrom analyzer.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('jsonschema', 'yaml') if m in sys.modules))")  # fmt: skip
    env = {**os.environ, rule_cache.CACHE_ENV: str(tmp_path / "cache")}
    imported = []
    for run in range(2):
        done = subprocess.run([sys.executable, "-c", probe, "scan", "--demo", "-f", "json", "--quiet", "--out",
                               str(tmp_path / f"out{run}")], env=env, capture_output=True, text=True, cwd=tmp_path,
                              check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        imported.append(done.stdout.strip().splitlines()[-1])
    assert imported == ["['jsonschema', 'yaml']", "[]"]  # validated on the first run only
