"""Each server's own outcome under a rule (what a per-server checklist needs): the worst of its findings and of the
organisation-wide ones, a pass without any, not_evaluated where its rows may be missing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.engine.server_outcomes import server_outcomes
from analyzer.model import Finding, RuleResult

ROOT = Path(__file__).resolve().parents[2]


def _finding(server: str | None, outcome: str) -> Finding:
    return Finding(fingerprint="f", rule_id="R", outcome=outcome, object="o", server=server, dataset="d", field="x",
                   observed="", expected="", message="", remediation=None, source_file=None, source_line=None)  # fmt: skip


def test_a_server_gets_its_own_findings_and_the_organisations() -> None:
    result = RuleResult("R", "fail", None, (_finding("A", "fail"), _finding("B", "waived")), 3, scope=("A", "B", "C"))
    assert server_outcomes(result) == {"A": "fail", "B": "waived", "C": "pass"}
    organisation = RuleResult("R", "fail", None, (_finding(None, "fail"),), 1, scope=("A", "B"))
    assert server_outcomes(organisation) == {"A": "fail", "B": "fail"}


def test_a_server_whose_rows_may_be_missing_is_not_judged_never_passed() -> None:
    result = RuleResult("R", "fail", None, (_finding("A", "fail"),), 1, scope=("A", "B"), absent=("B",))
    assert server_outcomes(result) == {"A": "fail", "B": "not_evaluated"}
    # Not evaluated only because B's rows are missing: A, whose rows the rule judged without a finding, passes.
    partly = RuleResult("R", "not_evaluated", "no rows for B", (), 1, scope=("A", "B"), absent=("B",))
    assert server_outcomes(partly) == {"A": "pass", "B": "not_evaluated"}
    unjudged = RuleResult("R", "not_evaluated", "no data", (), 0, scope=("A", "B"))
    assert server_outcomes(unjudged) == {"A": "not_evaluated", "B": "not_evaluated"}
    for outcome in ("not_reviewed", "not_applicable", "error"):
        assert server_outcomes(RuleResult("R", outcome, "why", (), 0, scope=("A",))) == {"A": outcome}


def test_report_json_gives_each_servers_outcome(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "samples" / "stig-2019", tmp_path / "stig-2019")
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "stig-2019"), "--policy",
                                      str(ROOT / "samples" / "stig-2019.plan.yaml"), "--as-of", "2026-11-27", "-f",
                                      "json", "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    by_rule = {r["rule_id"]: r["servers"] for r in report["results"]}
    assert by_rule["EX19-MB-000236"] == {"EXCH01": "fail"}  # a Mailbox rule speaks for the Mailbox server only
    assert by_rule["EX19-ED-000235"] == {"EDGE01": "fail"}
    assert by_rule["EX19-ED-000026"] == {"EDGE01": "pass"}  # every event-log category at Lowest on the Edge server
    assert by_rule["EX19-MB-000048"] == {"EXCH01": "not_reviewed"}  # a manual item waits for a person on each
    assert by_rule["EXS-VER-001"] == {"EDGE01": "fail", "EXCH01": "fail"}  # the version rule speaks for both
    assert dt.date.fromisoformat(report["as_of"][:10]) == dt.date(2026, 11, 27)


def test_a_server_with_no_export_of_a_rules_dataset_is_not_passed_in_its_own_outcome(tmp_path: Path) -> None:
    """The mistakes-2016 sample exported Get-PopSettings for EX16A only (as Microsoft's procedure runs it): under
    every rule that reads the settings, EX16B's own outcome is not_evaluated, whatever EX16A's is."""
    shutil.copytree(ROOT / "samples" / "mistakes-2016", tmp_path / "mistakes-2016")
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "mistakes-2016"), "--as-of", "2026-11-27", "-f", "json",
                                      "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    by_rule = {r["rule_id"]: r for r in report["results"]}
    assert by_rule["POP-SEC-002"]["servers"] == {"EX16A": "pass", "EX16B": "not_evaluated"}
    assert by_rule["POP-SEC-001"]["servers"] == {"EX16A": "fail", "EX16B": "not_evaluated"}
    assert by_rule["POP-SVC-001"]["servers"] == {"EX16A": "fail", "EX16B": "pass"}  # services were exported for both


def test_the_html_report_shows_each_servers_outcome_where_they_differ(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "samples" / "mistakes-2016", tmp_path / "mistakes-2016")
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "mistakes-2016"), "--as-of", "2026-11-27", "-f", "html",
                                      "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    card = page[page.index('id="rule-POP-SEC-002"') :]
    card = card[: card.index("</article>")]
    assert 'By server: <span class="outcome-pass">EX16A pass</span> · <span class="outcome-not_evaluated">EX16B' in card
    everywhere = page[page.index('id="rule-EXS-VER-001"') :]
    assert "By server" not in everywhere[: everywhere.index("</article>")]  # the same on every server: not repeated


def test_a_server_whose_settings_were_not_exported_is_never_called_secure_or_ready(tmp_path: Path) -> None:
    """mistakes-2016-after: the POP3 settings were exported for EX16A only. EX16B's own POP3 answers are unknown,
    not the 'secure' and 'ready' that nothing was checked for (it was called secure before per-server outcomes)."""
    result = CliRunner().invoke(app, ["scan", str(ROOT / "samples" / "mistakes-2016-after"), "--as-of", "2025-06-01",
                                      "-f", "json", "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    pop3 = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["verdicts"]["pop3"]
    assert pop3["servers"]["EX16B"] == "unknown" and pop3["safety"]["servers"]["EX16B"] == "unknown"
    assert pop3["servers"]["EX16A"] == "ready"


def test_the_organisation_is_never_called_secure_while_a_servers_settings_were_not_read(tmp_path: Path) -> None:
    """healthy-2019 with EXCH02's Get-PopSettings left out (and no manifest to say it was meant to be there): every
    safety check passes on EXCH01, but POP3 safety is unknown, naming EXCH02 — it was 'secure' before."""
    bundle = tmp_path / "healthy"
    shutil.copytree(ROOT / "samples" / "healthy-2019", bundle)
    (bundle / "EXCH02" / "Get-PopSettings.xml").unlink()
    (bundle / "manifest.json").unlink()
    result = CliRunner().invoke(app, ["scan", str(bundle), "--as-of", "2025-06-01", "-f", "json", "--out",
                                      str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    safety = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["verdicts"]["pop3"]["safety"]
    assert safety["servers"] == {"EXCH01": "secure", "EXCH02": "unknown"}
    assert safety["status"] == "unknown" and "not on EXCH02" in safety["summary"]
