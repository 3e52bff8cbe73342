"""Two answers per protocol, per server and for the organisation, computed from rule results: readiness (can
clients connect) and safety (is the access secure).

Nothing here knows a rule id: a rule takes part through its `verdict` metadata — the protocols it speaks for,
its role (required, advisory, information), the intent it checks (enabled, disabled, any), what it measures
(servers, mailboxes, organisation) and the answers it feeds (`answers`: readiness, safety; readiness when left
out). One check may feed both: an expired certificate stops clients that validate it and is a risk too.

With POP3/IMAP4 meant to be available:
  ready      every required check passed (and every in-scope mailbox is enabled);
  partial    the servers are ready but some in-scope mailboxes are not enabled;
  not_ready  a required or advisory check failed, or no in-scope mailbox is enabled;
  unknown    nothing failed, but a required check could not be evaluated.
With them meant to be off: `disabled` when the checks of that intent pass, `exposed` when they fail, `unknown`
without the data. Advisory checks without data are listed as not checked and never make a verdict unknown.

Safety: `at_risk` when a check that feeds it failed (clear-text passwords on an unencrypted port, no SSL binding,
an expired, invalid or weak certificate, an unsupported Exchange version, Windows authentication without Extended
Protection), `unknown` when none failed but one could not be evaluated, `secure` when every one passed; each
check's role is irrelevant here — any failure is a risk.

A verdict that would be `ready`, `partial` or `disabled` becomes `unknown` when an input one of its checks reads
was damaged, cut off, not read at all (unreadable, refused, a symlink leaving the bundle, …) or lost values in a
column the check uses: the good news cannot be vouched for. Bad news
stands (what failed, failed on the data that was read), and the damaged inputs are named either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzer.engine.loader import Rule
from analyzer.exchange.catalog import BY_NAME
from analyzer.model import RuleResult

PROTOCOLS = ("pop3", "imap4")
_GOOD_NEWS = ("ready", "partial", "disabled", "secure")
_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
_REASONS_SHOWN = 3
_UNITS = {"servers": (" servers", " 台"), "mailboxes": (" mailboxes", " 件")}


def answers(rule: Rule) -> tuple[str, ...]:
    """The answers a rule's result feeds: readiness unless its metadata says otherwise."""
    return tuple(rule.verdict.get("answers", ("readiness",)))


@dataclass(frozen=True)
class DatasetHealth:
    """What is wrong with one dataset's inputs: files cut off or damaged, columns whose values were lost, and
    inputs that were not read at all but would have supplied it (each a line that says why)."""

    incomplete_sources: tuple[str, ...] = ()
    lossy_columns: Mapping[str, str] = field(default_factory=dict)
    unread: tuple[str, ...] = ()


def _columns(node: Any) -> Iterator[str]:
    """Every column a rule's check names, wherever it sits in the condition tree."""
    if isinstance(node, dict):
        if isinstance(node.get("column"), str):
            yield node["column"]
        for value in node.values():
            yield from _columns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _columns(item)


def _degraded_inputs(rules: Sequence[Rule], health: Mapping[str, DatasetHealth]) -> dict[str, set[str]]:
    """Per dataset, why the data behind these rules cannot be fully trusted: damaged inputs and lossy columns."""
    lines: dict[str, set[str]] = {}
    for rule in rules:
        used = set(_columns(rule.check))
        for dataset in rule.datasets():
            state = health.get(dataset)
            if state is None:
                continue
            found = lines.setdefault(dataset, set())
            found.update(f"{source}: {dataset} incomplete (damaged or cut off)" for source in state.incomplete_sources)
            found.update(f"{dataset}.{c}: {reason}" for c, reason in state.lossy_columns.items() if c in used)
            found.update(state.unread)
    return {dataset: found for dataset, found in lines.items() if found}


def _check(rule: Rule, result: RuleResult) -> dict[str, Any]:
    failing = [f for f in result.findings if f.outcome == "fail"]
    return {
        "rule_id": rule.id,
        "title": rule.title,
        "role": rule.verdict["role"],
        "intent": rule.verdict.get("intent", "any"),
        "measures": rule.verdict.get("measures", "servers"),
        "outcome": result.outcome,
        "reason": result.reason,
        "reason_ja": result.reason_ja,
        "failing": len(failing),
        "evaluated": result.evaluated,
    }


def _reasons(pairs: list[tuple[Rule, RuleResult]], outcomes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The top reasons behind an answer, worst first: each check with the given outcomes, as its title with how
    many objects it found and on which servers (English and Japanese)."""
    chosen = sorted(
        ((rule, result) for rule, result in pairs if result.outcome in outcomes),
        key=lambda pair: (_SEVERITY_ORDER.get(pair[0].severity, 9), pair[0].id),
    )[:_REASONS_SHOWN]
    english, japanese = [], []
    for rule, result in chosen:
        failing = [f for f in result.findings if f.outcome == result.outcome]
        servers = sorted({f.server for f in failing if f.server})
        unit, unit_ja = _UNITS.get(rule.verdict.get("measures", "servers"), ("", ""))
        counted = bool(failing and result.evaluated)
        count = f"{len(failing)} of {result.evaluated}{unit}" if counted else ""
        count_ja = f"{result.evaluated}{unit_ja}中 {len(failing)}{unit_ja}" if counted else ""
        where = ", ".join(servers[:3]) + (", …" if len(servers) > 3 else "")
        detail = "; ".join(part for part in (count, where) if part)
        detail_ja = "; ".join(part for part in (count_ja, where) if part)
        if result.outcome != "fail" and result.reason and not failing:
            detail, detail_ja = result.reason, result.reason_ja or result.reason
        title_ja = rule.texts_ja.get("title") or rule.title
        english.append(f"{rule.title} ({detail})" if detail else rule.title)
        japanese.append(f"{title_ja} ({detail_ja})" if detail_ja else title_ja)
    return english, japanese


def _safety(
    pairs: list[tuple[Rule, RuleResult]], servers: Sequence[str], health: Mapping[str, DatasetHealth]
) -> dict[str, Any]:
    """The safety answer from the checks that feed it: at risk on any failure, else unknown on any check that
    could not run (or damaged input), else secure."""
    feeding = [(rule, result) for rule, result in pairs if "safety" in answers(rule)]
    in_play = [(rule, result) for rule, result in feeding if result.outcome != "not_applicable"]
    checks = [_check(rule, result) for rule, result in feeding]
    states = dict.fromkeys(servers, "secure")
    for _rule, result in in_play:
        if result.outcome in ("not_evaluated", "error") and not result.findings:
            states = {server: "unknown" if state == "secure" else state for server, state in states.items()}
        for finding in result.findings:
            if finding.server in states and finding.outcome == "fail":
                states[finding.server] = "at_risk"
            elif finding.server in states and states[finding.server] == "secure":
                states[finding.server] = "unknown"
        for server in result.absent:  # no export had its rows (or one was damaged): its safety is not known
            if states.get(server) == "secure":
                states[server] = "unknown"
    if not in_play:
        status, why, why_ja = "unknown", "no safety check applies", "適用できる安全性のチェックがありません"
    elif any(result.outcome == "fail" for _rule, result in in_play):
        status, why, why_ja = "at_risk", "a safety check failed", "安全性のチェックが不合格です"
    elif any(result.outcome in ("not_evaluated", "error") for _rule, result in in_play):
        status, why, why_ja = (
            "unknown",
            "a safety check could not be evaluated",
            "安全性のチェックを評価できませんでした",
        )
    else:
        status, why, why_ja = "secure", "every safety check passed", "安全性のチェックはすべて合格しました"
    unseen = sorted(server for server, state in states.items() if state == "unknown")
    if status == "secure" and unseen:  # the organisation is no safer than a server whose settings nobody read
        status, why = "unknown", f"every safety check passed on the servers it could read, not on {', '.join(unseen)}"
        why_ja = f"読み取れたサーバーでは安全性のチェックはすべて合格しましたが、{', '.join(unseen)} は判定できません"
    degraded = _degraded_inputs([rule for rule, _result in in_play], health)
    if degraded and status in _GOOD_NEWS:
        status, why = "unknown", f"{why}, but an input it depends on is damaged, cut off or lossy"
        why_ja = f"{why_ja}。ただし、依存する入力が破損しているか、途中で切れているか、値が失われています"
        states = {k: "unknown" if v == "secure" else v for k, v in states.items()}
    reasons, reasons_ja = _reasons(in_play, ("fail",) if status == "at_risk" else ("not_evaluated", "error"))
    return {
        "status": status,
        "summary": why,
        "summary_ja": why_ja,
        "reasons": reasons if status != "secure" else [],
        "reasons_ja": reasons_ja if status != "secure" else [],
        "servers": states,
        "checks": checks,
        "degraded_inputs": sorted(set().union(*degraded.values())),
    }


def _server_states(pairs: list[tuple[Rule, RuleResult]], servers: Sequence[str]) -> dict[str, str]:
    states = dict.fromkeys(servers, "ready")
    for rule, result in pairs:
        if rule.verdict["role"] == "information":
            continue
        whole_check_unknown = result.outcome in ("not_evaluated", "error") and not result.findings
        if rule.verdict["role"] == "required" and whole_check_unknown and rule.verdict.get("measures") != "mailboxes":
            # A server check that could not run at all (its data is missing): no server is ready on it.
            states = {server: "unknown" if state == "ready" else state for server, state in states.items()}
        for finding in result.findings:
            if finding.server is None or finding.server not in states:
                continue
            if finding.outcome == "fail":
                states[finding.server] = "not_ready"
            elif finding.outcome == "not_evaluated" and states[finding.server] == "ready":
                states[finding.server] = "unknown" if rule.verdict["role"] == "required" else "ready"
        if rule.verdict["role"] == "required" and rule.verdict.get("measures") != "mailboxes":
            for server in result.absent:  # a required server check without this server's rows
                if states.get(server) == "ready":
                    states[server] = "unknown"
    return states


def _enabled_status(checks: list[dict[str, Any]]) -> tuple[str, str, str]:
    judged = [c for c in checks if c["role"] != "information"]
    mailbox = [c for c in judged if c["measures"] == "mailboxes"]
    others = [c for c in judged if c["measures"] != "mailboxes"]
    if any(c["outcome"] == "fail" for c in others):
        return "not_ready", "a required or advisory check failed", "必須または推奨のチェックが不合格です"
    mailbox_failed = [c for c in mailbox if c["outcome"] == "fail"]
    # Only a required mailbox check (enabled per mailbox) covers the whole scope; an advisory one (a user's own
    # authentication policy) counts a subset, so its failures make the verdict partial, never "none enabled".
    scope_failed = [c for c in mailbox_failed if c["role"] == "required"]
    if scope_failed and all(c["failing"] >= c["evaluated"] > 0 for c in scope_failed):
        return "not_ready", "no mailbox in scope is enabled", "対象のメールボックスがどれも有効になっていません"
    if any(c["outcome"] in ("not_evaluated", "error") and c["role"] == "required" for c in judged):
        return "unknown", "a required check could not be evaluated", "必須のチェックを評価できませんでした"
    if mailbox_failed:
        counts = "; ".join(f"{c['rule_id']}: {c['failing']} of {c['evaluated']} mailboxes" for c in mailbox_failed)
        counts_ja = "; ".join(f"{c['rule_id']}: {c['evaluated']} 件中 {c['failing']} 件" for c in mailbox_failed)
        return (
            "partial",
            f"the servers are ready, but some mailboxes in scope cannot connect ({counts})",
            f"サーバーは準備完了ですが、接続できない対象メールボックスがあります ({counts_ja})",
        )
    return "ready", "every required check passed", "必須のチェックはすべて合格しました"


def _disabled_status(checks: list[dict[str, Any]]) -> tuple[str, str, str]:
    judged = [c for c in checks if c["role"] != "information" and c["intent"] == "disabled"]
    if any(c["outcome"] == "pass" for c in judged):
        return "disabled", "no client can connect", "どのクライアントも接続できません"
    if judged and all(c["outcome"] == "fail" for c in judged):
        return "exposed", "clients can still connect", "クライアントはまだ接続できます"
    return "unknown", "the data to tell is missing", "判断するためのデータがありません"


def compute_verdicts(
    rules: Sequence[Rule],
    results: Sequence[RuleResult],
    servers: Sequence[str],
    intents: dict[str, str],
    health: Mapping[str, DatasetHealth] | None = None,
) -> dict[str, dict[str, Any]]:
    """The verdict of each protocol; `intents` maps protocol → "enabled" or "disabled" (default enabled);
    `health` says which datasets came from damaged, cut-off or lossy inputs."""
    by_id = {rule.id: rule for rule in rules}
    verdicts: dict[str, dict[str, Any]] = {}
    for protocol in PROTOCOLS:
        intent = intents.get(protocol, "enabled")
        pairs = [
            (by_id[r.rule_id], r)
            for r in results
            if protocol in by_id[r.rule_id].verdict.get("protocols", ())
            and by_id[r.rule_id].verdict.get("intent", "any") in (intent, "any")
        ]
        if not pairs:
            continue
        safety = _safety(pairs, servers, health or {})
        pairs = [(rule, result) for rule, result in pairs if "readiness" in answers(rule)]
        checks = [_check(rule, result) for rule, result in pairs]
        in_play = [c for c in checks if c["outcome"] != "not_applicable"]
        not_checked = [c["rule_id"] for c in in_play if c["role"] == "advisory" and c["outcome"] == "not_evaluated"]
        status, why, why_ja = _enabled_status(in_play) if intent == "enabled" else _disabled_status(in_play)
        judged = [p for p in pairs if p[1].outcome != "not_applicable" and p[0].verdict["role"] != "information"]
        degraded = _degraded_inputs([rule for rule, _result in judged], health or {})
        server_states = _server_states(pairs, servers)  # a check not applicable has no finding and ran
        if degraded and status in _GOOD_NEWS:
            status, why = "unknown", f"{why}, but an input it depends on is damaged, cut off or lossy"
            why_ja = f"{why_ja}。ただし、依存する入力が破損しているか、途中で切れているか、値が失われています"
        if any(BY_NAME[name].per_server for name in degraded):  # mailbox data says nothing about one server
            server_states = {k: "unknown" if v == "ready" else v for k, v in server_states.items()}
        bad = ("fail",) if status in ("not_ready", "partial", "exposed") else ("not_evaluated", "error")
        behind = judged if bad == ("fail",) else [p for p in judged if p[0].verdict["role"] == "required"]
        reasons, reasons_ja = _reasons(behind, bad) if status not in ("ready", "disabled") else ([], [])
        verdicts[protocol] = {
            "status": status,
            "intent": intent,
            "summary": why,
            "summary_ja": why_ja,
            "reasons": reasons,
            "reasons_ja": reasons_ja,
            "safety": safety,
            "servers": server_states,
            "checks": checks,
            "not_checked": not_checked,
            "degraded_inputs": sorted(set().union(*degraded.values())),
        }
    return verdicts
