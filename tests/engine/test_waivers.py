"""Waivers: accepted failures stay visible as `waived`, expire on time, never touch a verdict, and a bad waiver
file is a located error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.engine.loader import RuleError
from analyzer.engine.waivers import load_waivers
from analyzer.pipeline import ScanOptions, packaged_demo, scan

ROOT = Path(__file__).resolve().parents[2]
WAIVERS = """\
waivers:
  - rule: POP-SEC-001
    server: ex16a
    reason: POP3 stays PlainTextLogin on EX16A until the migration
    ticket: CHG-1234
    approved_by: j.smith
    expires: "2027-03-31"
  - rule: "*-USR-001"
    object: "USER000007@*"
    reason: Shared desk account
    expires: "2026-11-26"
  - rule: CAS-ROLE-001
    reason: nothing fails here
"""
runner = CliRunner()


def _scan(waivers: Path | None, as_of: str = "2026-11-27") -> Any:
    when = dt.datetime.fromisoformat(as_of).replace(tzinfo=dt.UTC)
    return scan(ScanOptions([packaged_demo()], as_of=when, waivers=waivers))


@pytest.fixture
def waivers(tmp_path: Path) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVERS, encoding="utf-8")
    return path


def test_waivers_match_expire_and_go_stale_without_touching_verdicts(waivers: Path) -> None:
    raw, waived = _scan(None), _scan(waivers)
    outcome = {r.rule_id: r for r in waived.results}
    assert outcome["POP-SEC-001"].outcome == "waived"
    (finding,) = outcome["POP-SEC-001"].findings
    assert (finding.outcome, finding.waiver, finding.server) == ("waived", "W1", "EX16A")
    assert outcome["POP-USR-001"].outcome == "fail"  # W2 expired the day before the evaluation date
    assert {w["id"]: (w["status"], w["matched"]) for w in waived.waivers} == {
        "W1": ("active", 1), "W2": ("expired", 0), "W3": ("stale", 0),
    }  # fmt: skip
    assert waived.waivers[0]["source"] == f"{waivers}:2"
    assert {p: v["status"] for p, v in waived.verdicts.items()} == {p: v["status"] for p, v in raw.verdicts.items()}
    safety = {p: v["safety"]["status"] for p, v in waived.verdicts.items()}
    assert (
        safety == {p: v["safety"]["status"] for p, v in raw.verdicts.items()} == {"pop3": "at_risk", "imap4": "at_risk"}
    )
    check = next(c for c in waived.verdicts["pop3"]["safety"]["checks"] if c["rule_id"] == "POP-SEC-001")
    assert (check["outcome"], check["waived"]) == ("fail", 1)


def test_a_waiver_applies_through_its_expiry_day(waivers: Path) -> None:
    on_the_day = {r.rule_id: r.outcome for r in _scan(waivers, "2027-03-31").results}
    after = {r.rule_id: r.outcome for r in _scan(waivers, "2027-04-01").results}
    assert (on_the_day["POP-SEC-001"], after["POP-SEC-001"]) == ("waived", "fail")


def test_exit_codes_reports_and_no_waivers(tmp_path: Path, waivers: Path) -> None:
    rule = ROOT / "rules" / "pop-imap" / "pop-plaintext-security.yaml"
    base = ["scan", "--demo", "--rules", str(rule), "--as-of", "2026-11-27", "--fail-on", "high", "--quiet"]
    assert runner.invoke(app, [*base, "--out", str(tmp_path / "raw")]).exit_code == 1
    out = tmp_path / "waived"
    waived = runner.invoke(app, [*base, "--out", str(out), "--waivers", str(waivers), "-f", "html,csv,md,json"])
    assert waived.exit_code == 0, waived.output
    ignored = runner.invoke(app, [*base, "--out", str(tmp_path / "x"), "--waivers", str(waivers), "--no-waivers"])
    assert ignored.exit_code == 1
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["waived"] == 1 and report["summary"]["fail"] == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "waived by W1 (CHG-1234), until 2027-03-31: POP3 stays PlainTextLogin on EX16A until the migration" in html
    assert "stale — matches nothing" in html
    assert "W1, CHG-1234, until 2027-03-31: POP3 stays" in (out / "findings.csv").read_text(encoding="utf-8-sig")
    assert "- W2 (\\*-USR-001, until 2026-11-26): expired" in (out / "summary.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("reason: nothing fails here", "reasn: nothing fails here", "unknown key 'reasn'; did you mean 'reason'?"),
        ('expires: "2027-03-31"', 'expires: "2027-02-30"', "'2027-02-30' is not a date"),
        ('expires: "2027-03-31"', "expires: 31.03.2027", "does not match"),
    ],
)
def test_a_bad_waiver_file_is_a_located_error(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(WAIVERS.replace(old, new), encoding="utf-8")
    with pytest.raises(RuleError, match=message) as caught:
        load_waivers(path)
    assert str(caught.value).startswith(f"{path}:") and caught.value.line > 1
    result = runner.invoke(app, ["scan", "--demo", "--waivers", str(path), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2 and f"{path}:" in result.output


def _finding(rule: str, outcome: str, obj: str, server: str = "EX1") -> Any:
    from analyzer.model import Finding

    return Finding(
        f"{rule}-{obj}", rule, outcome, obj, server, "cas_mailbox", "PopEnabled", "", "", "", None, None, None
    )


def test_a_waiver_touches_only_failing_findings_and_cites_the_first_that_matches() -> None:
    from analyzer.engine.waivers import Waiver, apply_waivers
    from analyzer.model import RuleResult

    broad = Waiver(id="W1", rule="POP-*", reason="first in the file")
    narrow = Waiver(id="W2", rule="POP-USR-001", object="a@*", reason="second, narrower")
    results = [
        RuleResult("POP-USR-001", "not_evaluated", "some objects could not be judged", (
            _finding("POP-USR-001", "fail", "a@contoso.com"),
            _finding("POP-USR-001", "not_evaluated", "b@contoso.com"),
        ), evaluated=2),
        RuleResult("POP-SEC-001", "not_evaluated", "no data", (), evaluated=0),
    ]  # fmt: skip
    changed, statuses = apply_waivers(results, [broad, narrow], dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    first, second = changed[0].findings
    assert (first.outcome, first.waiver) == ("waived", "W1")  # the first matching waiver, not the last
    assert (second.outcome, second.waiver) == ("not_evaluated", None)  # what could not be judged is not accepted
    assert changed[0].outcome == "not_evaluated" and changed[1].outcome == "not_evaluated"
    assert {s["id"]: s["matched"] for s in statuses} == {"W1": 1, "W2": 0}


def test_a_rule_whose_every_failure_is_waived_is_waived_and_one_left_keeps_it_failing() -> None:
    from analyzer.engine.waivers import Waiver, apply_waivers
    from analyzer.model import RuleResult

    waiver = Waiver(id="W1", rule="POP-USR-001", object="a@*", reason="shared desk")
    one = [RuleResult("POP-USR-001", "fail", None, (_finding("POP-USR-001", "fail", "a@c.com"),), 1)]
    two = [RuleResult("POP-USR-001", "fail", None, (_finding("POP-USR-001", "fail", "a@c.com"),
                                                     _finding("POP-USR-001", "fail", "z@c.com")), 2)]  # fmt: skip
    when = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    assert apply_waivers(one, [waiver], when)[0][0].outcome == "waived"
    assert apply_waivers(two, [waiver], when)[0][0].outcome == "fail"


def test_a_waiver_for_one_server_leaves_the_others_and_counts_every_match() -> None:
    from analyzer.engine.waivers import Waiver, apply_waivers
    from analyzer.model import RuleResult

    waiver = Waiver(id="W1", rule="POP-USR-001", server="ex1", reason="migration")
    findings = (_finding("POP-USR-001", "fail", "a@c.com", "EX1"), _finding("POP-USR-001", "fail", "b@c.com", "EX1"),
                _finding("POP-USR-001", "fail", "c@c.com", "EX2"))  # fmt: skip
    changed, statuses = apply_waivers([RuleResult("POP-USR-001", "fail", None, findings, 3)], [waiver],
                                      dt.datetime(2026, 11, 27, tzinfo=dt.UTC))  # fmt: skip
    assert [f.outcome for f in changed[0].findings] == ["waived", "waived", "fail"]
    assert statuses[0]["matched"] == 2


def test_expiry_is_judged_in_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """20:00 UTC on the expiry day is still that day in UTC, but already the next day in Tokyo."""
    import time

    from analyzer.engine.waivers import Waiver

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        waiver = Waiver(id="W1", rule="*", reason="r", expires="2027-03-31")
        assert not waiver.expired(dt.datetime(2027, 3, 31, 20, 0, tzinfo=dt.UTC))
        assert waiver.expired(dt.datetime(2027, 4, 1, 0, 0, tzinfo=dt.UTC))
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_waiver_file_that_cannot_be_read_or_has_a_bad_created_date_says_so(tmp_path: Path) -> None:
    binary = tmp_path / "waivers.yaml"
    binary.write_bytes(b"waivers:\n  - rule: \xff\n")
    with pytest.raises(RuleError) as unreadable:
        load_waivers(binary)
    assert str(unreadable.value).startswith(f"{binary}: cannot read the waiver file: 'utf-8' codec can't decode")
    bad = tmp_path / "created.yaml"
    bad.write_text(WAIVERS.replace("approved_by: j.smith", 'approved_by: j.smith\n    created: "2026-02-30"'))
    with pytest.raises(RuleError) as caught:
        load_waivers(bad)
    assert str(caught.value) == f"{bad}:7:14: '2026-02-30' is not a date (at $.waivers[0].created)"
