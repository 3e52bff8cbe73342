"""The verdict rules of docs/pop-imap-pack.md as a table: checks in, (status, why, why in Japanese) out, exactly.
The pack's own tests reach these through whole scans; here every rule and its boundary is one row."""

from __future__ import annotations

from typing import Any

import pytest

from analyzer.engine.loader import Rule
from analyzer.engine.verdicts import DatasetHealth, _disabled_status, _enabled_status, compute_verdicts
from analyzer.model import Finding, RuleResult


def _c(outcome: str, role: str = "required", measures: str = "servers", intent: str = "enabled", failing: int = 0,
       evaluated: int = 1, rule_id: str = "R") -> dict[str, Any]:  # fmt: skip
    return {"rule_id": rule_id, "outcome": outcome, "role": role, "measures": measures, "intent": intent,
            "failing": failing, "evaluated": evaluated}  # fmt: skip


_NOT_READY = ("not_ready", "a required or advisory check failed", "必須または推奨のチェックが不合格です")
_NONE_ENABLED = ("not_ready", "no mailbox in scope is enabled", "対象のメールボックスがどれも有効になっていません")
_UNKNOWN = ("unknown", "a required check could not be evaluated", "必須のチェックを評価できませんでした")
_READY = ("ready", "every required check passed", "必須のチェックはすべて合格しました")


def _partial(counts: str, counts_ja: str) -> tuple[str, str, str]:
    return ("partial", f"the servers are ready, but some mailboxes in scope cannot connect ({counts})",
            f"サーバーは準備完了ですが、接続できない対象メールボックスがあります ({counts_ja})")  # fmt: skip


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([_c("pass"), _c("pass", "advisory")], _READY),
        ([_c("pass"), _c("fail", "advisory")], _NOT_READY),  # advisory failures count
        ([_c("pass"), _c("fail", "information")], _READY),  # information never does
        ([_c("not_evaluated", "information")], _READY),
        ([_c("pass"), _c("not_evaluated")], _UNKNOWN),
        ([_c("pass"), _c("error")], _UNKNOWN),
        ([_c("pass"), _c("not_evaluated", "advisory")], _READY),  # listed as not checked, never unknown
        ([_c("not_evaluated"), _c("fail", "advisory")], _NOT_READY),  # bad news stands over missing data
        ([_c("pass"), _c("fail", measures="mailboxes", failing=3, evaluated=3, rule_id="U")], _NONE_ENABLED),
        ([_c("pass"), _c("fail", measures="mailboxes", failing=2, evaluated=3, rule_id="U")],
         _partial("U: 2 of 3 mailboxes", "U: 3 件中 2 件")),
        ([_c("pass"), _c("fail", measures="mailboxes", failing=0, evaluated=0, rule_id="U")],
         _partial("U: 0 of 0 mailboxes", "U: 0 件中 0 件")),  # nothing evaluated is not "none enabled"
        ([_c("fail", "advisory", "mailboxes", failing=3, evaluated=3, rule_id="A")],
         _partial("A: 3 of 3 mailboxes", "A: 3 件中 3 件")),  # an advisory mailbox check counts a subset, never the whole scope
        ([_c("fail", measures="mailboxes", failing=3, evaluated=3, rule_id="U"), _c("not_evaluated")], _NONE_ENABLED),
        ([_c("fail", measures="mailboxes", failing=1, evaluated=3, rule_id="U"), _c("not_evaluated")], _UNKNOWN),
        ([_c("fail", measures="mailboxes", failing=1, evaluated=2, rule_id="U"),
          _c("fail", "advisory", "mailboxes", failing=4, evaluated=9, rule_id="A")],
         _partial("U: 1 of 2 mailboxes; A: 4 of 9 mailboxes", "U: 2 件中 1 件; A: 9 件中 4 件")),
        ([_c("fail", measures="mailboxes", failing=2, evaluated=2, rule_id="U"),
          _c("fail", measures="mailboxes", failing=1, evaluated=2, rule_id="V")],
         _partial("U: 2 of 2 mailboxes; V: 1 of 2 mailboxes", "U: 2 件中 2 件; V: 2 件中 1 件")),  # every required scope check must be all-failing
        ([], _READY),
    ],
)  # fmt: skip
def test_the_enabled_verdict_rules(checks: list[dict[str, Any]], expected: tuple[str, str, str]) -> None:
    assert _enabled_status(checks) == expected


_DISABLED = ("disabled", "no client can connect", "どのクライアントも接続できません")
_EXPOSED = ("exposed", "clients can still connect", "クライアントはまだ接続できます")
_MISSING = ("unknown", "the data to tell is missing", "判断するためのデータがありません")


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([_c("pass", intent="disabled")], _DISABLED),
        ([_c("pass", intent="disabled"), _c("fail", intent="disabled")], _DISABLED),  # one way off is off
        ([_c("fail", intent="disabled"), _c("fail", "advisory", intent="disabled")], _EXPOSED),
        ([_c("fail", intent="disabled"), _c("not_evaluated", intent="disabled")], _MISSING),
        ([_c("not_evaluated", intent="disabled")], _MISSING),
        ([], _MISSING),
        ([_c("pass", intent="any")], _MISSING),  # only checks of the disabled intent decide
        ([_c("pass", "information", intent="disabled")], _MISSING),
        ([_c("fail", "information", intent="disabled")], _MISSING),
        ([_c("fail", intent="disabled"), _c("pass", "information", intent="disabled")], _EXPOSED),
    ],
)
def test_the_disabled_verdict_rules(checks: list[dict[str, Any]], expected: tuple[str, str, str]) -> None:
    assert _disabled_status(checks) == expected


# -- compute_verdicts over hand-made rules and results: which checks take part, server states, degraded inputs --


def _rule(rule_id: str, role: str = "required", measures: str = "servers", intent: str = "enabled",
          protocols: tuple[str, ...] = ("pop3",), dataset: str = "service", column: str = "Status",
          answers: tuple[str, ...] | None = None, severity: str = "high") -> Rule:  # fmt: skip
    check = {"each": {"dataset": dataset}, "assert": {"column": column, "eq": "Running"}}
    verdict: dict[str, Any] = {"protocols": list(protocols), "role": role, "measures": measures, "intent": intent}
    if answers is not None:
        verdict["answers"] = list(answers)
    return Rule(rule_id, f"title {rule_id}", severity, check, "why", {"text": "fix"}, "x.yaml", verdict=verdict,
                texts_ja={"title": f"題 {rule_id}"})  # fmt: skip


def _finding(rule_id: str, outcome: str, server: str | None) -> Finding:
    return Finding(f"{rule_id}-{server}", rule_id, outcome, server or "org", server, "service", "Status", "", "", "m",
                   None, None, None)  # fmt: skip


def _result(
    rule_id: str, outcome: str, *findings: Finding, evaluated: int = 2, reason: str | None = None
) -> RuleResult:
    return RuleResult(rule_id, outcome, reason, tuple(findings), evaluated)


def test_server_states_follow_their_own_findings() -> None:
    rules = [_rule("A"), _rule("B", role="advisory"), _rule("I", role="information")]
    results = [
        _result("A", "fail", _finding("A", "fail", "EX1"), _finding("A", "not_evaluated", "EX2")),
        _result("B", "fail", _finding("B", "not_evaluated", "EX3"), _finding("B", "fail", "GONE")),
        _result("I", "fail", _finding("I", "fail", "EX4")),  # information never changes a state
    ]
    verdict = compute_verdicts(rules, results, ["EX1", "EX2", "EX3", "EX4"], {})["pop3"]
    assert verdict["servers"] == {"EX1": "not_ready", "EX2": "unknown", "EX3": "ready", "EX4": "ready"}
    assert verdict["status"] == "not_ready" and verdict["intent"] == "enabled"
    assert [c["rule_id"] for c in verdict["checks"]] == ["A", "B", "I"]
    assert verdict["checks"][0] == {"rule_id": "A", "title": "title A", "role": "required", "intent": "enabled",
                                    "measures": "servers", "outcome": "fail", "reason": None, "reason_ja": None, "failing": 1,
                                    "evaluated": 2}  # fmt: skip


def test_a_required_server_check_without_data_leaves_no_server_ready() -> None:
    rules = [_rule("A"), _rule("M", measures="mailboxes", dataset="cas_mailbox", column="PopEnabled")]
    results = [_result("A", "pass"), _result("M", "not_evaluated", reason="no cas_mailbox data", evaluated=0)]
    verdict = compute_verdicts(rules, results, ["EX1"], {})["pop3"]
    assert verdict["servers"] == {"EX1": "ready"}  # a mailbox check says nothing about one server
    assert verdict["status"] == "unknown"
    results = [_result("A", "error", reason="boom", evaluated=0), _result("M", "pass")]
    assert compute_verdicts(rules, results, ["EX1", "EX2"], {})["pop3"]["servers"] == {"EX1": "unknown",
                                                                                      "EX2": "unknown"}  # fmt: skip


def test_only_checks_of_the_protocol_and_intent_take_part_and_not_applicable_ones_are_left_out() -> None:
    rules = [_rule("P"), _rule("Q", protocols=("imap4",)), _rule("OFF", intent="disabled"), _rule("ANY", intent="any"),
             _rule("NA")]  # fmt: skip
    results = [_result("P", "pass"), _result("Q", "fail", _finding("Q", "fail", "EX1")), _result("OFF", "fail"),
               _result("ANY", "pass"), _result("NA", "not_applicable")]  # fmt: skip
    verdicts = compute_verdicts(rules, results, ["EX1"], {"imap4": "enabled"})
    assert [c["rule_id"] for c in verdicts["pop3"]["checks"]] == ["P", "ANY", "NA"]
    assert verdicts["pop3"]["status"] == "ready" and verdicts["imap4"]["status"] == "not_ready"
    off = compute_verdicts(rules, results, ["EX1"], {"pop3": "disabled"})["pop3"]
    assert [c["rule_id"] for c in off["checks"]] == ["OFF", "ANY"] and off["status"] == "exposed"
    assert compute_verdicts([_rule("Q", protocols=("imap4",))], [_result("Q", "pass")], [], {}).keys() == {"imap4"}


def test_advisory_checks_without_data_are_listed_as_not_checked() -> None:
    rules = [_rule("A"), _rule("B", role="advisory"), _rule("C", role="advisory")]
    results = [_result("A", "pass"), _result("B", "not_evaluated", reason="no data"), _result("C", "pass")]
    verdict = compute_verdicts(rules, results, ["EX1"], {})["pop3"]
    assert verdict["not_checked"] == ["B"] and verdict["status"] == "ready"


def test_a_damaged_input_turns_good_news_unknown_and_is_named() -> None:
    rules = [_rule("A"), _rule("I", role="information", dataset="exchange_server", column="Name")]
    results = [_result("A", "pass"), _result("I", "pass")]
    health = {"service": DatasetHealth(("EX1/services.xml",), {"Status": "values lost", "Other": "x"}, ("u: unread",)),
              "exchange_server": DatasetHealth(("servers.xml",))}  # fmt: skip
    verdict = compute_verdicts(rules, results, ["EX1"], {}, health)["pop3"]
    assert verdict["status"] == "unknown"
    assert verdict["summary"] == "every required check passed, but an input it depends on is damaged, cut off or lossy"
    assert verdict["summary_ja"].startswith("必須のチェックはすべて合格しました。ただし、")
    assert verdict["degraded_inputs"] == ["EX1/services.xml: service incomplete (damaged or cut off)",
                                          "service.Status: values lost", "u: unread"]  # fmt: skip
    assert verdict["servers"] == {"EX1": "unknown"}  # services are per server: no server can be vouched for
    failing = [_result("A", "fail", _finding("A", "fail", "EX1")), _result("I", "pass")]
    bad = compute_verdicts(rules, failing, ["EX1"], {}, health)["pop3"]
    assert bad["status"] == "not_ready" and bad["degraded_inputs"]  # bad news stands, and the damage is named
    assert bad["servers"] == {"EX1": "not_ready"}  # damage makes no failing server look merely unknown


def test_damage_to_a_dataset_no_judged_check_reads_changes_nothing() -> None:
    rules = [_rule("A"), _rule("NA", dataset="cas_mailbox", column="PopEnabled")]
    results = [_result("A", "pass"), _result("NA", "not_applicable")]
    health = {"cas_mailbox": DatasetHealth(("cas.xml",))}
    verdict = compute_verdicts(rules, results, ["EX1"], {}, health)["pop3"]
    assert (verdict["status"], verdict["degraded_inputs"], verdict["servers"]) == ("ready", [], {"EX1": "ready"})


def test_mailbox_data_damage_leaves_server_states_alone() -> None:
    rules = [_rule("A"), _rule("M", measures="mailboxes", dataset="cas_mailbox", column="PopEnabled")]
    results = [_result("A", "pass"), _result("M", "pass")]
    health = {"cas_mailbox": DatasetHealth(("cas.xml",))}
    verdict = compute_verdicts(rules, results, ["EX1"], {}, health)["pop3"]
    assert verdict["status"] == "unknown" and verdict["servers"] == {"EX1": "ready"}


def test_a_rule_that_leaves_intent_and_measures_out_checks_any_intent_on_servers() -> None:
    rule = _rule("A")
    rule.verdict.pop("intent")
    rule.verdict.pop("measures")
    [check] = compute_verdicts([rule], [_result("A", "pass")], ["EX1"], {})["pop3"]["checks"]
    assert (check["intent"], check["measures"]) == ("any", "servers")


def test_a_server_already_not_ready_stays_so_when_a_later_check_has_no_data_and_findings_on_unknown_servers_are_skipped(
) -> None:  # fmt: skip
    rules = [_rule("F"), _rule("A"), _rule("G")]
    results = [_result("F", "fail", _finding("F", "fail", "EX1")), _result("A", "not_evaluated", evaluated=0),
               _result("G", "fail", _finding("G", "fail", None), _finding("G", "fail", "GONE"),
                       _finding("G", "fail", "EX2"))]  # fmt: skip
    verdict = compute_verdicts(rules, results, ["EX1", "EX2", "EX3"], {})["pop3"]
    assert verdict["servers"] == {"EX1": "not_ready", "EX2": "not_ready", "EX3": "unknown"}


def test_a_lossy_column_named_anywhere_in_a_check_degrades_it() -> None:
    rule = _rule("A")
    rule.check["assert"] = {"all": [{"column": "Name", "eq": "x"}, {"any": [{"column": "Status", "eq": "Running"}]}]}
    health = {"service": DatasetHealth(lossy_columns={"Status": "values lost"})}
    verdict = compute_verdicts([rule], [_result("A", "pass")], ["EX1"], {}, health)["pop3"]
    assert verdict["status"] == "unknown" and verdict["degraded_inputs"] == ["service.Status: values lost"]


def test_a_check_with_no_data_for_a_server_already_failing_keeps_it_not_ready() -> None:
    rules = [_rule("F"), _rule("A")]
    results = [
        _result("F", "fail", _finding("F", "fail", "EX1")),
        _result("A", "fail", _finding("A", "not_evaluated", "EX1")),
    ]
    assert compute_verdicts(rules, results, ["EX1"], {})["pop3"]["servers"] == {"EX1": "not_ready"}


def test_with_the_protocol_meant_off_a_check_that_does_not_apply_does_not_hide_exposure() -> None:
    rules = [_rule("OFF", intent="disabled"), _rule("NA", intent="disabled")]
    results = [_result("OFF", "fail"), _result("NA", "not_applicable")]
    assert compute_verdicts(rules, results, ["EX1"], {"pop3": "disabled"})["pop3"]["status"] == "exposed"


def test_a_rule_without_verdict_metadata_takes_no_part() -> None:
    rule = _rule("X")
    rule.verdict.clear()
    assert compute_verdicts([rule, _rule("A")], [_result("X", "fail"), _result("A", "pass")], [], {}).keys() == {"pop3"}
    assert compute_verdicts([rule], [_result("X", "fail")], [], {}) == {}


# -- The safety answer ------------------------------------------------------------------------------------------


def test_a_safety_only_check_makes_the_protocol_at_risk_and_leaves_readiness_alone() -> None:
    rules = [_rule("A"), _rule("S", role="information", answers=("safety",))]
    results = [_result("A", "pass"), _result("S", "fail", _finding("S", "fail", "EX1"))]
    verdict = compute_verdicts(rules, results, ["EX1", "EX2"], {})["pop3"]
    assert (verdict["status"], verdict["reasons"]) == ("ready", [])
    assert [c["rule_id"] for c in verdict["checks"]] == ["A"]  # a safety-only check is not behind readiness
    safety = verdict["safety"]
    assert (safety["status"], safety["summary"], safety["summary_ja"]) == (
        "at_risk", "a safety check failed", "安全性のチェックが不合格です")  # fmt: skip
    assert safety["servers"] == {"EX1": "at_risk", "EX2": "secure"}
    assert safety["reasons"] == ["title S (1 of 2 servers; EX1)"] and safety["reasons_ja"] == [
        "題 S (2 台中 1 台; EX1)"
    ]
    assert [c["rule_id"] for c in safety["checks"]] == ["S"]


def test_a_check_that_feeds_both_answers_fails_both() -> None:
    rules = [_rule("C", role="advisory", answers=("readiness", "safety"))]
    results = [_result("C", "fail", _finding("C", "fail", "EX1"))]
    verdict = compute_verdicts(rules, results, ["EX1"], {})["pop3"]
    assert (verdict["status"], verdict["safety"]["status"]) == ("not_ready", "at_risk")
    assert verdict["reasons"] == ["title C (1 of 2 servers; EX1)"] == verdict["safety"]["reasons"]


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (("pass", "pass"), ("secure", "every safety check passed")),
        (("pass", "not_evaluated"), ("unknown", "a safety check could not be evaluated")),
        (("fail", "not_evaluated"), ("at_risk", "a safety check failed")),
        (("not_applicable", "not_applicable"), ("unknown", "no safety check applies")),
    ],
)
def test_the_safety_answer_rules(outcomes: tuple[str, str], expected: tuple[str, str]) -> None:
    rules = [_rule("S1", answers=("safety",)), _rule("S2", answers=("safety",))]
    results = [_result(rule.id, outcome) for rule, outcome in zip(rules, outcomes, strict=True)]
    safety = compute_verdicts(rules, results, [], {})["pop3"]["safety"]
    assert (safety["status"], safety["summary"]) == expected


def test_damaged_input_makes_a_secure_answer_unknown_but_a_risk_stands() -> None:
    rules = [_rule("S", answers=("safety",))]
    damaged = {"service": DatasetHealth(incomplete_sources=("EX1/services.xml",))}
    secure = compute_verdicts(rules, [_result("S", "pass")], ["EX1"], {}, damaged)["pop3"]["safety"]
    assert (secure["status"], secure["servers"]) == ("unknown", {"EX1": "unknown"})
    assert secure["degraded_inputs"] == ["EX1/services.xml: service incomplete (damaged or cut off)"]
    risk = compute_verdicts(rules, [_result("S", "fail", _finding("S", "fail", "EX1"))], ["EX1"], {}, damaged)
    assert risk["pop3"]["safety"]["status"] == "at_risk"


def test_reasons_run_worst_first_and_stop_at_three() -> None:
    rules = [_rule(f"S{n}", answers=("safety",), severity=severity)
             for n, severity in enumerate(("low", "critical", "medium", "high"))]  # fmt: skip
    results = [_result(rule.id, "fail", _finding(rule.id, "fail", "EX1")) for rule in rules]
    reasons = compute_verdicts(rules, results, ["EX1"], {})["pop3"]["safety"]["reasons"]
    assert [line.split(" (")[0] for line in reasons] == ["title S1", "title S3", "title S2"]


def test_readiness_names_the_required_checks_it_could_not_evaluate() -> None:
    rules = [_rule("A"), _rule("B", role="advisory")]
    results = [_result("A", "not_evaluated", reason="no service data in the bundle", evaluated=0),
               _result("B", "not_evaluated", reason="no component data", evaluated=0)]  # fmt: skip
    verdict = compute_verdicts(rules, results, [], {})["pop3"]
    assert verdict["status"] == "unknown"
    assert verdict["reasons"] == ["title A (no service data in the bundle)"]  # the advisory one is "not checked"
