"""Rule packs: a scan runs the default packs unless told otherwise, so a baseline pack added to exaudit never changes
an existing user's results, gates or comparisons; `--pack` and a policy's `packs:` add packs by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer import pipeline
from analyzer.cli import app
from analyzer.engine.loader import RuleError
from analyzer.engine.packs import packaged_packs, read_pack, selected
from analyzer.errors import ExauditError

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
ENV = {"SOURCE_DATE_EPOCH": "1795000000"}

BASELINE_PACK = """\
name: baseline
title: A baseline that only runs when asked for
framework: DISA STIG Microsoft Exchange 2019 Mailbox Server
version: V2R3
description: For the tests.
default: false
"""

MANUAL_RULE = """\
id: BASE-001
title: Audit logs sit on a volume of their own
severity: medium
check:
  manual: {procedure: Compare the log volume with the install volume.}
rationale: A full log volume must not stop Exchange.
remediation: {text: Move the logs.}
tests:
  - name: waits
    data: {exchange_server: [{Name: EX1, IsClientAccessServer: true, AdminDisplayVersion: "Version 15.2 (Build 1544.4)"}]}
    expect: {outcome: not_reviewed}
"""


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped POP3/IMAP4 pack and a baseline pack that is not a default, as exaudit would ship them."""
    root = tmp_path / "shipped"
    shutil.copytree(ROOT / "rules" / "pop-imap", root / "pop-imap")
    (root / "baseline").mkdir()
    (root / "baseline" / "pack.yaml").write_text(BASELINE_PACK, encoding="utf-8")
    (root / "baseline" / "manual.yaml").write_text(MANUAL_RULE, encoding="utf-8")
    monkeypatch.setattr(pipeline, "packaged_rules", lambda: root)
    return root


def _scan(out: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["scan", "--demo", "--as-of", "2026-11-27", "-f", "json", "--out", str(out), *args],
                           env=ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def test_the_shipped_packs_are_listed_and_the_pop_imap_pack_is_the_default() -> None:
    packs = packaged_packs(ROOT / "rules")
    assert [(p.name, p.default) for p in packs] == [
        ("cis-exchange-2019", False),
        ("patch-currency", False),
        ("pop-imap", True),
        ("stig-exchange-2016-edge", False),
        ("stig-exchange-2016-mailbox", False),
        ("stig-exchange-2019-edge", False),
        ("stig-exchange-2019-mailbox", False),
    ]
    listed = runner.invoke(app, ["rules", "packs", "--json"])
    assert listed.exit_code == 0
    shown = {pack["name"]: pack for pack in json.loads(listed.output)}
    assert shown["pop-imap"] == {"name": "pop-imap", "default": True, "framework": None, "version": None,
                                 "rules": 42, "title": packs[2].title}  # fmt: skip
    edge, mailbox = shown["stig-exchange-2019-edge"], shown["stig-exchange-2019-mailbox"]
    assert (edge["framework"], edge["version"], edge["rules"]) == (
        "DISA STIG Microsoft Exchange 2019 Edge Server",
        "V2R2",
        65,
    )
    cis = shown["cis-exchange-2019"]
    assert (cis["framework"], cis["version"], cis["rules"]) == (
        "CIS Microsoft Exchange Server 2019 Benchmark",
        "v1.0.0",
        38,
    )
    assert (mailbox["framework"], mailbox["version"], mailbox["rules"]) == (
        "DISA STIG Microsoft Exchange 2019 Mailbox Server",
        "V2R3",
        66,
    )
    # A 2016 pack counts its own rules and those it shares with the 2019 pack (64 items in 64 rules; the Edge
    # STIG's 68 in 62: four Malware Agent items are one check, the 2019 scanner rule holds four items).
    assert [(shown[name]["version"], shown[name]["rules"]) for name in ("stig-exchange-2016-mailbox",
                                                                        "stig-exchange-2016-edge")] == [("V2R6", 64),
                                                                                                         ("V2R6", 62)]  # fmt: skip


def test_a_scan_runs_a_baseline_pack_only_when_asked(shipped: Path, tmp_path: Path) -> None:
    plain = _scan(tmp_path / "plain")
    assert [s["path"] for s in plain["rulesets"]] == ["exaudit:pop-imap"]
    assert not any(r["rule_id"] == "BASE-001" for r in plain["results"])
    asked = _scan(tmp_path / "asked", "--pack", "baseline")
    assert [s["path"] for s in asked["rulesets"]] == ["exaudit:baseline", "exaudit:pop-imap"]
    outcomes = {r["rule_id"]: r["outcome"] for r in asked["results"]}
    assert outcomes["BASE-001"] == "not_reviewed"
    policy = tmp_path / "policy.yaml"
    policy.write_text("packs: [baseline]\nparams: {}\n", encoding="utf-8")
    by_policy = _scan(tmp_path / "policy", "--policy", str(policy))
    assert by_policy["results"] == asked["results"]


def test_an_unknown_pack_stops_the_scan_with_the_nearest_name(shipped: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["scan", "--demo", "--pack", "basline", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "--pack basline: no such rule pack; did you mean 'baseline'?" in result.output
    with pytest.raises(ExauditError, match="the packs are baseline, pop-imap"):
        selected(packaged_packs(shipped), ["zzz"])


@pytest.mark.parametrize(
    ("text", "message"),
    [(BASELINE_PACK.replace("name: baseline", "name: other"), "must be its folder's name"),
     (BASELINE_PACK.replace("title: A baseline that only runs when asked for\n", ""), "'title' is required"),
     (BASELINE_PACK.replace("default: false", "default: sometimes"), "is not of type 'boolean'")],
)  # fmt: skip
def test_a_broken_pack_file_is_a_located_error(tmp_path: Path, text: str, message: str) -> None:
    folder = tmp_path / "baseline"
    folder.mkdir()
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match=message) as raised:
        read_pack(folder)
    assert raised.value.path.endswith("pack.yaml")


def test_a_partial_pack_says_so_beside_its_results(tmp_path: Path) -> None:
    report = _scan(tmp_path / "cis", "--pack", "cis-exchange-2019", "--pack", "stig-exchange-2019-mailbox")
    views = {view["framework"]: view for view in report["frameworks"]}
    cis = views["CIS Microsoft Exchange Server 2019 Benchmark"]
    assert cis["coverage"].startswith("A partial pack: 38 recommendations") and "38" in cis["coverage_ja"]
    assert "coverage" not in views["DISA STIG Microsoft Exchange 2019 Mailbox Server"]  # a whole STIG says nothing
    html = _html(tmp_path / "cis-html")
    assert "A partial pack: 38 recommendations" in html


def _html(out: Path) -> str:
    result = runner.invoke(app, ["scan", "--demo", "--as-of", "2026-11-27", "-f", "html", "--out", str(out),
                                 "--pack", "cis-exchange-2019"], env=ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    return (out / "report.html").read_text(encoding="utf-8")
