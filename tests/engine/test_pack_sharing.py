"""One rule for a check the 2016 and the 2019 STIG ask alike: each STIG's pack takes it (`shares:`), a scan running
one STIG judges only that STIG's servers with it, and a bundle mixing versions shows each server under its own
STIG — never a 2019 server in the 2016 STIG's answer, nor the other way round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.engine.packs import narrowed, pack_rules, packaged_packs, shared_rules
from analyzer.pipeline import packaged_rules
from analyzer.synthetic import exchange_objects as ex
from analyzer.synthetic.samples import clixml_bytes, stig

SHARED = "EX19-MB-000016"  # administrator audit logging: the 2019 item V-259648 and the 2016 item V-228354
MB16, MB19 = "stig-exchange-2016-mailbox", "stig-exchange-2019-mailbox"
ED16, ED19 = "stig-exchange-2016-edge", "stig-exchange-2019-edge"


def _packs() -> dict[str, Any]:
    return {pack.name: pack for pack in packaged_packs(packaged_rules())}


def test_a_pack_takes_the_rules_it_shares_narrowed_to_its_own_servers_and_items() -> None:
    packs = _packs()
    alone = {rule.id: rule for rule in pack_rules(packs[MB16], list(packs.values()))}
    rule = alone[SHARED]
    assert [c["vuln_id"] for c in rule.controls] == ["V-228354"]
    assert rule.applies_to["products"] == ["Exchange 2016"]
    both = {r.id: r for r in narrowed(shared_rules([packs[MB16]], list(packs.values())), [packs[MB16], packs[MB19]])}
    assert [c["vuln_id"] for c in both[SHARED].controls] == ["V-259648", "V-228354"]
    assert both[SHARED].applies_to["products"] == ["Exchange 2016", "Exchange 2019", "Exchange Server SE"]


def _mixed_bundle(folder: Path) -> Path:
    """The stig-2016 sample with its Edge server on Exchange 2019: a Mailbox server of 2016, an Edge server of 2019."""
    stig(folder, "2016")
    (folder / "manifest.json").unlink()  # its hash of Get-ExchangeServer.xml would flag the file rewritten below
    servers = [ex.exchange_server("EXCH01", "contoso.mil", "2016"), ex.exchange_server("EDGE01", "contoso.mil", "2019",
                                                                                       edge=True)]  # fmt: skip
    (folder / "Get-ExchangeServer.xml").write_bytes(clixml_bytes(servers))
    return folder


def _scan(tmp_path: Path, bundle: Path, *packs: str) -> dict[str, Any]:
    out = tmp_path / f"out-{len(packs)}"
    options = [option for pack in packs for option in ("--pack", pack)]
    result = CliRunner().invoke(app, ["scan", str(bundle), *options, "--as-of", "2026-11-27", "-f", "json", "--out",
                                      str(out), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def test_a_bundle_mixing_versions_shows_each_server_under_its_own_stig(tmp_path: Path) -> None:
    bundle = _mixed_bundle(tmp_path / "mixed")
    # Each version's STIG for its own role: the 2016 Mailbox STIG judges EXCH01 only, the 2019 Edge STIG EDGE01 only.
    report = _scan(tmp_path, bundle, MB16, ED19)
    results = {r["rule_id"]: r for r in report["results"]}
    assert results[SHARED]["servers"] == {"EXCH01": "pass"}
    assert [c["vuln_id"] for c in results[SHARED]["controls"]] == ["V-228354"]
    assert results["EX19-ED-000053"]["servers"] == {"EDGE01": "fail"}  # execution policy Unrestricted on EDGE01
    assert [c["vuln_id"] for c in results["EX19-ED-000053"]["controls"]] == ["V-259589", "V-259634"]
    frameworks = {view["framework"] for view in report["frameworks"]}
    assert frameworks == {
        "DISA STIG Microsoft Exchange 2016 Mailbox Server",
        "DISA STIG Microsoft Exchange 2019 Edge Server",
    }

    # Every STIG: a shared rule judges both servers' versions, and each STIG's item takes only its own servers' outcome.
    report = _scan(tmp_path, bundle, MB16, MB19, ED16, ED19)
    results = {r["rule_id"]: r for r in report["results"]}
    assert results["EX19-ED-000053"]["servers"] == {"EDGE01": "fail"}
    controls = {(view["framework"].split()[4], c["vuln_id"]): c["outcome"] for view in report["frameworks"]
                for c in view["controls"]}  # fmt: skip
    assert controls[("2019", "V-259589")] == "fail"  # EDGE01 is a 2019 Edge server
    assert controls[("2016", "V-221216")] == "not_applicable"  # the same check; no 2016 Edge server in the bundle
    assert controls[("2016", "V-228354")] == "pass"  # EXCH01 is a 2016 Mailbox server
    assert controls[("2019", "V-259648")] == "not_applicable"
    # The 2016 pack's own rules judge only EXCH01: the Malware Agent the 2016 STIG wants disabled is enabled there.
    assert results["EX16-MB-002880"]["servers"] == {"EXCH01": "fail"}
