"""`exaudit diff`: findings matched by fingerprint across runs, classified honestly, and pipeline exit codes."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.report.diff import compare, markdown

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _scan(bundle: Path, out: Path) -> dict[str, Any]:
    result = runner.invoke(
        app, ["scan", str(bundle), "--out", str(out), "-f", "json", "--quiet", "--as-of", "2026-11-27"]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("before")
    shutil.copytree(ROOT / "samples" / "mistakes-2016", folder / "bundle")
    return _scan(folder / "bundle", folder / "out")


def test_the_same_state_under_other_file_names_is_no_change(tmp_path: Path, before: dict[str, Any]) -> None:
    bundle = tmp_path / "renamed"
    shutil.copytree(ROOT / "samples" / "mistakes-2016", bundle)
    for path in sorted(bundle.rglob("*.xml")):
        path.rename(path.with_name("export-" + path.name.upper()))
    difference = compare(before, _scan(bundle, tmp_path / "out"))
    failing = sum(f["outcome"] == "fail" for r in before["results"] for f in r["findings"])
    assert difference["summary"] == {
        "new": 0, "fixed": 0, "still_failing": failing, "unresolved": 0, "gone": 0, "newly_waived": 0, "waiver_expired": 0, "newly_evaluated": 0,
    }  # fmt: skip
    assert difference["verdicts"] == [] and difference["evaluability"] == []


def test_missing_data_leaves_old_failures_unresolved_never_fixed(tmp_path: Path, before: dict[str, Any]) -> None:
    bundle = tmp_path / "partial"
    shutil.copytree(ROOT / "samples" / "mistakes-2016", bundle)
    (bundle / "pop-settings.xml").unlink()
    difference = compare(before, _scan(bundle, tmp_path / "out"))
    unresolved = {f["rule_id"] for f in difference["findings"]["unresolved"]}
    assert "POP-SEC-001" in unresolved and difference["summary"]["fixed"] == 0
    assert {"rule_id": "POP-SEC-001", "old": "fail", "new": "not_evaluated"} in difference["evaluability"]
    assert not [c for c in difference["verdicts"] if c["new"] == "ready"]  # no data is never "ready"


def test_fixed_gone_and_new_are_told_apart(before: dict[str, Any]) -> None:
    after = copy.deepcopy(before)
    users = next(r for r in after["results"] if r["rule_id"] == "POP-USR-001")
    enabled, deleted = users["findings"][0], users["findings"][1]  # user000007 now enabled; user000011 deleted
    users["findings"] = users["findings"][2:]
    after["objects"]["cas_mailbox"].remove(deleted["object_key"])
    imap = next(r for r in after["results"] if r["rule_id"] == "IMAP-USR-001")
    imap["findings"].append(dict(imap["findings"][0], fingerprint="f" * 20, object="user000042@contoso.com",
                                 message="user000042@contoso.com: ImapEnabled is False; expected True"))  # fmt: skip
    difference = compare(before, after)
    assert [f["object"] for f in difference["findings"]["fixed"]] == [enabled["object"]]
    assert [f["object"] for f in difference["findings"]["gone"]] == [deleted["object"]]
    assert [f["object"] for f in difference["findings"]["new"]] == ["user000042@contoso.com"]
    text = markdown(difference)
    assert "New 1, fixed 1," in text and "### New (1)" in text and "### Gone (1)" in text


def test_cli_formats_fail_on_new_and_bad_input(tmp_path: Path, before: dict[str, Any]) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    after = copy.deepcopy(before)
    users = next(r for r in after["results"] if r["rule_id"] == "POP-USR-001")
    users["findings"].append(dict(users["findings"][0], fingerprint="e" * 20, object="user000099@contoso.com"))
    old.write_text(json.dumps(before), encoding="utf-8")
    new.write_text(json.dumps(after), encoding="utf-8")
    same = runner.invoke(app, ["diff", str(old), str(old), "--fail-on-new"])
    assert same.exit_code == 0 and "new 0, fixed 0" in same.stdout
    changed = runner.invoke(app, ["diff", str(old), str(new), "--fail-on-new", "-f", "json"])
    assert changed.exit_code == 1 and json.loads(changed.stdout)["summary"]["new"] == 1
    broken = tmp_path / "broken.json"
    broken.write_text('{"tool": ', encoding="utf-8")
    result = runner.invoke(app, ["diff", str(old), str(broken)])
    assert result.exit_code == 2 and f"{broken}:1: not an exaudit report.json" in result.output


def test_a_waived_failure_is_newly_waived_never_fixed_and_its_return_is_waiver_expired(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - rule: POP-SEC-001\n    reason: until the migration\n    ticket: CHG-1\n",
                       encoding="utf-8")  # fmt: skip
    bundle = ROOT / "samples" / "mistakes-2016"
    plain = _scan(bundle, tmp_path / "plain")
    result = runner.invoke(app, ["scan", str(bundle), "--out", str(tmp_path / "w"), "-f", "json", "--quiet",
                                 "--as-of", "2026-11-27", "--waivers", str(waivers)])  # fmt: skip
    assert result.exit_code == 0, result.output
    accepted = json.loads((tmp_path / "w" / "report.json").read_text(encoding="utf-8"))
    forward = compare(plain, accepted)
    assert [(f["rule_id"], f["waiver"]) for f in forward["findings"]["newly_waived"]] == [("POP-SEC-001", "W1")]
    assert forward["summary"]["fixed"] == 0
    backward = compare(accepted, plain)
    assert [f["rule_id"] for f in backward["findings"]["waiver_expired"]] == ["POP-SEC-001"]


def test_scan_with_a_baseline_writes_the_comparison_and_gates_on_new_failures(
    tmp_path: Path, before: dict[str, Any]
) -> None:
    baseline = tmp_path / "old.json"
    baseline.write_text(json.dumps(before), encoding="utf-8")
    args = ["scan", str(ROOT / "samples" / "mistakes-2016"), "--as-of", "2026-11-27", "-f", "json", "--quiet"]
    same = runner.invoke(app, [*args, "--out", str(tmp_path / "a"), "--baseline", str(baseline), "--fail-on-new"])
    assert same.exit_code == 0, same.output
    assert json.loads((tmp_path / "a" / "diff.json").read_text(encoding="utf-8"))["summary"]["new"] == 0
    assert (tmp_path / "a" / "diff.md").read_text(encoding="utf-8").startswith("## Before and after")
    older = copy.deepcopy(before)  # a baseline from before user000011 was disabled
    users = next(r for r in older["results"] if r["rule_id"] == "POP-USR-001")
    users["findings"] = [f for f in users["findings"] if f["object"] != "User 000011 <user000011@fabrikam.com>"]
    baseline.write_text(json.dumps(older), encoding="utf-8")
    gated = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--baseline", str(baseline), "--fail-on-new"])
    assert gated.exit_code == 1
    difference = json.loads((tmp_path / "b" / "diff.json").read_text(encoding="utf-8"))
    assert [f["object"] for f in difference["findings"]["new"]] == ["User 000011 <user000011@fabrikam.com>"]
    shown = runner.invoke(
        app, [*args[:-3], "-f", "html", "--quiet", "--out", str(tmp_path / "h"), "--baseline", str(baseline)]
    )
    assert shown.exit_code == 0, shown.output
    html = (tmp_path / "h" / "report.html").read_text(encoding="utf-8")
    assert '<section id="before-after"' in html and "<h3>new (1)</h3>" in html
    assert "POP-USR-001 — User 000011 &lt;user000011@fabrikam.com&gt;: PopEnabled is False; expected True" in html
    alone = runner.invoke(app, [*args, "--out", str(tmp_path / "c"), "--fail-on-new"])
    assert alone.exit_code == 2 and "--baseline" in alone.output


def test_the_same_mailboxes_as_clixml_or_reordered_csv_have_the_same_keys(tmp_path: Path) -> None:
    from analyzer.synthetic.samples import write_sample

    write_sample("large", tmp_path / "xml", mailboxes=300, mailbox_format="clixml")
    write_sample("large", tmp_path / "csv", mailboxes=300, mailbox_format="csv")
    assert (tmp_path / "csv" / "Get-CASMailbox.csv").exists() and (tmp_path / "xml" / "Get-CASMailbox.xml").exists()
    exported = tmp_path / "csv" / "Get-CASMailbox.csv"  # and in the opposite order (one record per line here)
    type_line, header, *rows = exported.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    exported.write_text(type_line + header + "".join(reversed(rows)), encoding="utf-8-sig")
    as_xml, as_csv = _scan(tmp_path / "xml", tmp_path / "xml-out"), _scan(tmp_path / "csv", tmp_path / "csv-out")
    assert len(as_xml["objects"]["cas_mailbox"]) == 300
    assert as_xml["objects"]["cas_mailbox"] == as_csv["objects"]["cas_mailbox"]
    difference = compare(as_xml, as_csv)
    assert difference["summary"]["new"] == difference["summary"]["fixed"] == difference["summary"]["gone"] == 0


def test_the_before_and_after_samples_show_exactly_what_the_change_fixed(
    tmp_path: Path, before: dict[str, Any]
) -> None:
    after = _scan(ROOT / "samples" / "mistakes-2016-after", tmp_path / "after")
    difference = compare(before, after)
    fixed = sorted((f["rule_id"], f["object"]) for f in difference["findings"]["fixed"])
    assert fixed == [
        ("POP-CRT-002", "EX16A"),  # the expired certificate was replaced (by a new self-signed one)
        ("POP-SVC-001", "EX16A"),  # POP3 started and set to Automatic
        ("POP-SVC-002", "EX16A"),
        ("POP-USR-001", "User 000007 <user000007@fabrikam.com>"),  # POP3 given back to one user
    ]
    assert difference["summary"]["new"] == 0 and difference["summary"]["unresolved"] == 0
    still = {(f["rule_id"], f["object"]) for f in difference["findings"]["still_failing"]}
    assert ("POP-CRT-004", "EX16A") in still  # still self-signed
    assert ("POP-USR-001", "User 000011 <user000011@fabrikam.com>") in still


def _brief_finding(rule_id: str, message: str) -> dict[str, Any]:
    return {"fingerprint": rule_id + message, "rule_id": rule_id, "message": message}


def test_the_comparison_paragraph_is_exactly_this() -> None:
    fixed = [_brief_finding("POP-USR-001", f"user{i:02d}: PopEnabled is False | *shown*") for i in range(3)]
    difference: dict[str, Any] = {
        "old": {"as_of": "2026-11-01T00:00:00Z"},
        "new": {"as_of": "2026-11-27T00:00:00Z"},
        "summary": {
            "new": 1,
            "fixed": 3,
            "still_failing": 5,
            "unresolved": 0,
            "gone": 0,
            "newly_waived": 1,
            "waiver_expired": 0,
            "newly_evaluated": 0,
        },
        "findings": {
            "new": [_brief_finding("CAS-ROLE-002", "EX01: no <b>Client Access</b>")],
            "fixed": fixed,
            "still_failing": [],
            "unresolved": [],
            "gone": [],
            "newly_waived": [_brief_finding("POP-SET-001", "EX02: PlainTextLogin")],
            "waiver_expired": [],
            "newly_evaluated": [],
        },
        "verdicts": [
            {"protocol": "pop3", "scope": "organisation", "old": "not_ready", "new": "ready"},
            {"protocol": "imap4", "scope": "EX_01|x", "old": "partial", "new": None},
        ],
    }
    assert markdown(difference, listed=2) == (
        "## Before and after\n"
        "\n"
        "Before: evaluated as of 2026-11-01T00:00:00Z; after: 2026-11-27T00:00:00Z. New 1, fixed 3, still failing 5, "
        "unresolved 0, gone 0, newly waived 1, waiver expired 0, newly evaluated 0.\n"
        "\n"
        "- POP3 readiness organisation: not ready → ready\n"
        "- IMAP4 readiness EX\\_01\\|x: partial → —\n"
        "\n"
        "### New (1)\n"
        "\n"
        "- CAS-ROLE-002: EX01: no &lt;b\\>Client Access&lt;/b\\>\n"
        "\n"
        "### Fixed (3)\n"
        "\n"
        "- POP-USR-001: user00: PopEnabled is False \\| \\*shown\\*\n"
        "- POP-USR-001: user01: PopEnabled is False \\| \\*shown\\*\n"
        "- … and 1 more (diff.json lists them all)\n"
        "\n"
        "### Newly waived (1)\n"
        "\n"
        "- POP-SET-001: EX02: PlainTextLogin\n"
    )
    japanese = markdown(difference, listed=2, language="ja")
    assert japanese.startswith("## 変更前と変更後\n\n変更前: 2026-11-01T00:00:00Z 時点の評価。")
    assert "新規 1、修正済み 3、未修正 5" in japanese and "- POP3 準備状況 組織: 未準備 → 準備完了\n" in japanese
    assert "### 修正済み (3)" in japanese and "- … ほか 1 件 (すべて diff.json にあります)" in japanese
    assert "… and" not in markdown(difference, listed=3)
    difference["findings"]["fixed"] = [_brief_finding("POP-USR-001", f"u{i}") for i in range(21)]
    default = markdown(difference)
    assert (
        default.count("- POP-USR-001") == 20 and "- … and 1 more (diff.json lists them all)\n" in default
    )  # twenty unless told otherwise


def test_an_old_failure_in_a_dataset_the_new_run_never_read_is_unresolved(before: dict[str, Any]) -> None:
    after = copy.deepcopy(before)
    users = next(r for r in after["results"] if r["rule_id"] == "POP-USR-001")
    gone = users["findings"].pop(0)
    del after["objects"]["cas_mailbox"]  # the rule ran, but no CAS mailbox object was read at all
    difference = compare(before, after)
    assert gone["fingerprint"] in {f["fingerprint"] for f in difference["findings"]["unresolved"]}
    assert difference["summary"]["fixed"] == difference["summary"]["gone"] == 0


def test_verdict_changes_name_the_protocol_the_scope_and_both_states(before: dict[str, Any]) -> None:
    after = copy.deepcopy(before)
    old_pop = before["verdicts"]["pop3"]
    after["verdicts"]["pop3"] = dict(old_pop, status="ready", servers={"EX16A": "ready", "EX16C": "ready"})
    del after["verdicts"]["imap4"]  # the new run judged no IMAP4 at all
    changes = compare(before, after)["verdicts"]
    imap = before["verdicts"]["imap4"]
    assert changes == [
        {"protocol": "imap4", "scope": "organisation", "old": imap["status"], "new": None},
        *({"protocol": "imap4", "scope": server, "old": state, "new": None}
          for server, state in sorted(imap["servers"].items())),
        {"protocol": "pop3", "scope": "organisation", "old": old_pop["status"], "new": "ready"},
        {"protocol": "pop3", "scope": "EX16A", "old": old_pop["servers"]["EX16A"], "new": "ready"},
        {"protocol": "pop3", "scope": "EX16B", "old": old_pop["servers"]["EX16B"], "new": None},
        {"protocol": "pop3", "scope": "EX16C", "old": None, "new": "ready"},
    ]  # fmt: skip
    assert compare(after, before)["verdicts"][0] == {"protocol": "imap4", "scope": "organisation", "old": None,
                                                     "new": imap["status"]}  # fmt: skip


def test_a_failure_waived_in_both_runs_is_still_failing_and_briefs_keep_the_severity(before: dict[str, Any]) -> None:
    old = copy.deepcopy(before)
    result = next(r for r in old["results"] if r["rule_id"] == "POP-SEC-001")
    result["findings"][0]["outcome"] = "waived"
    difference = compare(old, copy.deepcopy(old))
    [carried] = [f for f in difference["findings"]["still_failing"] if f["rule_id"] == "POP-SEC-001"]
    assert carried["outcome"] == "waived" and carried["severity"] == result["severity"]
    assert difference["summary"]["newly_waived"] == 0


def test_a_report_without_object_keys_is_refused_by_name(before: dict[str, Any]) -> None:
    old = copy.deepcopy(before)
    del old["objects"]
    with pytest.raises(
        ValueError, match=r"^the new report has no object keys: scan again with this version of exaudit$"
    ):
        compare(before, old)


def test_an_old_failure_the_new_run_could_not_judge_is_unresolved_and_classes_run_in_rule_and_object_order(
    before: dict[str, Any],
) -> None:
    after = copy.deepcopy(before)
    users = next(r for r in after["results"] if r["rule_id"] == "POP-USR-001")
    unjudged = users["findings"][0]
    unjudged["outcome"] = "not_evaluated"  # the rule ran, but not for this mailbox
    imap = next(r for r in after["results"] if r["rule_id"] == "IMAP-USR-001")
    for number, fingerprint in ((2, "a" * 20), (1, "b" * 20)):  # fingerprints in the opposite order to objects
        imap["findings"].append(dict(imap["findings"][0], fingerprint=fingerprint, object=f"new{number}@contoso.com"))
    difference = compare(before, after)
    assert unjudged["fingerprint"] in [f["fingerprint"] for f in difference["findings"]["unresolved"]]
    assert unjudged["fingerprint"] not in [f["fingerprint"] for f in difference["findings"]["fixed"]]
    assert [f["object"] for f in difference["findings"]["new"]] == ["new1@contoso.com", "new2@contoso.com"]
    assert difference["old"] == {"generated_at": before["generated_at"], "as_of": before["as_of"]}
    assert difference["new"] == {"generated_at": after["generated_at"], "as_of": after["as_of"]}


def test_fixed_findings_are_listed_by_rule_and_object_not_by_fingerprint(before: dict[str, Any]) -> None:
    old = copy.deepcopy(before)
    imap = next(r for r in old["results"] if r["rule_id"] == "IMAP-USR-001")
    objects = sorted(f["object"] for f in imap["findings"])
    for finding in imap["findings"]:  # the later object gets the earlier fingerprint
        finding["fingerprint"] = "0" * 19 + str(9 - objects.index(finding["object"]))
    new = copy.deepcopy(old)
    next(r for r in new["results"] if r["rule_id"] == "IMAP-USR-001")["findings"] = []
    fixed = [f["object"] for f in compare(old, new)["findings"]["fixed"] if f["rule_id"] == "IMAP-USR-001"]
    assert fixed == objects and len(objects) == 2


def test_fingerprints_are_the_same_in_every_version() -> None:
    """Reports of earlier runs are compared by these keys: a change here would make every finding `new`."""
    import pandas as pd

    from analyzer.engine.fingerprints import fingerprint, fingerprints, object_key, object_keys

    assert fingerprint("POP-SET-001", "pop_settings", "ex01", "EX01\\POP3") == "63cba6faedbfc20e55ea"
    assert fingerprint("POP-USR-001", "cas_mailbox", None, "User1@Contoso.com") == "eeb1739cf7cf6c9079ba"
    assert object_key("cas_mailbox", None, "user1@contoso.com") == "620fbd668edf5693b94b"
    servers = pd.Series(["ex01", None], dtype="string")
    identities = pd.Series(["EX01\\POP3", None], dtype="string")
    assert fingerprints("POP-SET-001", "pop_settings", servers, identities) == [
        "63cba6faedbfc20e55ea", fingerprint("POP-SET-001", "pop_settings", None, None)]  # fmt: skip
    assert object_keys("cas_mailbox", pd.Series([None], dtype="string"), pd.Series(["USER1@contoso.com"])) == [
        "620fbd668edf5693b94b"]  # fmt: skip


def test_the_comparison_adds_up_and_states_what_did_not_change(before: dict[str, Any], tmp_path: Path) -> None:
    """The bundled pair: every failing row of either run is in one class, the totals say so, and answers that did
    not change are stated as unchanged; a safety change is reported beside the readiness ones."""
    after = _scan(ROOT / "samples" / "mistakes-2016-after", tmp_path / "out")
    difference = compare(before, after)
    counts, totals = difference["summary"], difference["totals"]
    assert (
        counts["new"] + counts["still_failing"] + counts["newly_waived"] + counts["waiver_expired"] == totals["after"]
    )
    assert counts["fixed"] + counts["gone"] + counts["unresolved"] + counts["still_failing"] == totals["before"]
    assert (counts["fixed"], totals["before"], totals["after"]) == (4, 21, 17)
    assert {(u["protocol"], u["answer"]) for u in difference["unchanged"]} == {
        ("pop3", "safety"), ("imap4", "readiness"), ("imap4", "safety")}  # fmt: skip
    # POP3's services and certificate were fixed; what is left is EX16B's settings, never exported: unknown.
    assert {"protocol": "pop3", "scope": "organisation", "old": "not_ready", "new": "unknown"} in difference["verdicts"]
    text = markdown(difference)
    assert "Failing rows: 21 → 17" in text and "- POP3 safety: at risk (unchanged)" in text
    secure = copy.deepcopy(after)
    secure["verdicts"]["pop3"]["safety"] = dict(after["verdicts"]["pop3"]["safety"], status="secure")
    changed = compare(before, secure)
    assert {"protocol": "pop3", "scope": "organisation", "old": "at_risk", "new": "secure"} in changed["safety"]
    assert ("pop3", "safety") not in {(u["protocol"], u["answer"]) for u in changed["unchanged"]}


POP_OFF_RULE = """\
id: HOUSE-POP-001
title: No mailbox has POP3 on
severity: medium
check:
  each: {dataset: cas_mailbox}
  assert: {column: PopEnabled, eq: false}
rationale: The house baseline turns POP3 off.
remediation: {text: Turn POP3 off.}
tests:
  - name: "off"
    data: {cas_mailbox: [{Name: a, PopEnabled: false}]}
    expect: {outcome: pass}
  - name: "on"
    data: {cas_mailbox: [{Name: a, PopEnabled: true}]}
    expect: {outcome: fail, failing: [a]}
"""


def test_findings_of_a_pack_the_baseline_did_not_run_are_newly_evaluated_not_new(tmp_path: Path) -> None:
    from analyzer.pipeline import packaged_rules

    house = tmp_path / "house"
    house.mkdir()
    (house / "pop-off.yaml").write_text(POP_OFF_RULE, encoding="utf-8")
    common = ["--demo", "--as-of", "2026-11-27", "-f", "json"]
    assert runner.invoke(app, ["scan", *common, "--out", str(tmp_path / "old")]).exit_code == 0
    args = ["scan", *common, "--out", str(tmp_path / "new"), "--rules", str(packaged_rules() / "pop-imap"),
            "--rules", str(house), "--baseline", str(tmp_path / "old" / "report.json"), "--fail-on-new"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output  # nothing new under the rules both runs had
    difference = json.loads((tmp_path / "new" / "diff.json").read_text(encoding="utf-8"))
    newly = difference["findings"]["newly_evaluated"]
    assert newly and {f["rule_id"] for f in newly} == {"HOUSE-POP-001"}
    assert difference["summary"]["new"] == 0
    assert "Newly evaluated" in (tmp_path / "new" / "diff.md").read_text(encoding="utf-8")
