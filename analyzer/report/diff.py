"""Before and after: what two report.json files say differently, for a change ticket.

Findings are matched by fingerprint (rule, dataset, server key, object identity), never by file name or line.
A failing finding of the old run that the new run does not repeat is only `fixed` when the new run evaluated that
rule and the object is still there; otherwise it is `gone` (the object no longer exists) or `unresolved` (the new
run could not tell: the rule or the object's data was not evaluated).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analyzer.report.labels import labels
from analyzer.report.markdown_report import escape

# newly_evaluated: failing under a rule the old run did not have (a pack added since): not "new", so a
# `--fail-on-new` gate does not trip on a baseline pack turned on, while the findings are still listed.
CLASSES = ("new", "fixed", "still_failing", "unresolved", "gone", "newly_waived", "waiver_expired", "newly_evaluated")
_JUDGED = ("pass", "fail", "waived")


def _failing(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f["fingerprint"]: {**f, "rule_id": r["rule_id"], "severity": r["severity"]}
        for r in report["results"]
        for f in r["findings"]
        if f["outcome"] in ("fail", "waived")  # a waived finding still fails: it is accepted, not fixed
    }


def _answer_changes(protocol: str, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """One answer's changes for the organisation and each server ({} for a run that did not judge it)."""
    changes = []
    if before.get("status") != after.get("status"):
        changes.append({"protocol": protocol, "scope": "organisation", "old": before.get("status"),
                        "new": after.get("status")})  # fmt: skip
    servers_before, servers_after = before.get("servers", {}), after.get("servers", {})
    for server in sorted(set(servers_before) | set(servers_after)):
        if servers_before.get(server) != servers_after.get(server):
            changes.append({"protocol": protocol, "scope": server, "old": servers_before.get(server),
                            "new": servers_after.get(server)})  # fmt: skip
    return changes


def _verdict_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    protocols = sorted(set(old["verdicts"]) | set(new["verdicts"]))
    return [c for p in protocols for c in _answer_changes(p, old["verdicts"].get(p, {}), new["verdicts"].get(p, {}))]


def _safety_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The safety answer's changes, as the readiness ones; a baseline from before safety existed has none."""
    changes = []
    for protocol in sorted(set(old["verdicts"]) & set(new["verdicts"])):
        before, after = old["verdicts"][protocol].get("safety"), new["verdicts"][protocol].get("safety")
        if before is not None and after is not None:
            changes.extend(_answer_changes(protocol, before, after))
    return changes


def _unchanged(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The organisation's answers that did not change, said so rather than left out."""
    same = []
    for protocol in sorted(set(old["verdicts"]) & set(new["verdicts"])):
        before, after = old["verdicts"][protocol], new["verdicts"][protocol]
        if before["status"] == after["status"]:
            same.append({"protocol": protocol, "answer": "readiness", "status": after["status"]})
        if "safety" in before and "safety" in after and before["safety"]["status"] == after["safety"]["status"]:
            same.append({"protocol": protocol, "answer": "safety", "status": after["safety"]["status"]})
    return same


def _carried(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """The class of a finding that fails (or is waived) in the new run."""
    if new["outcome"] == "waived":
        return "newly_waived" if old is None or old["outcome"] == "fail" else "still_failing"
    if old is not None and old["outcome"] == "waived":
        return "waiver_expired"  # accepted before, failing again: the waiver expired or was withdrawn
    return "still_failing" if old is not None else "new"


def _classify(
    finding: dict[str, Any], new_results: dict[str, Any], not_judged: set[str], objects: dict[str, set[str]]
) -> str:
    """Why an old failure is not failing any more."""
    result = new_results.get(finding["rule_id"])
    if result is None or result["outcome"] not in _JUDGED or finding["fingerprint"] in not_judged:
        return "unresolved"  # the rule did not run, could not be evaluated, or not for this object
    present = objects.get(finding["dataset"])
    if present is None:
        return "unresolved"  # the new run read no such data at all
    return "fixed" if finding.get("object_key") in present else "gone"


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The classes of every failing finding of either run, verdict changes and rules that became (un)evaluable."""
    if "objects" not in new:
        raise ValueError("the new report has no object keys: scan again with this version of exaudit")
    before, after = _failing(old), _failing(new)
    new_results = {r["rule_id"]: r for r in new["results"]}
    not_judged = {f["fingerprint"] for r in new["results"] for f in r["findings"] if f["outcome"] == "not_evaluated"}
    objects = {dataset: set(keys) for dataset, keys in new["objects"].items()}
    classes: dict[str, list[dict[str, Any]]] = {name: [] for name in CLASSES}
    old_outcomes = {r["rule_id"]: r["outcome"] for r in old["results"]}
    for fingerprint, finding in sorted(after.items(), key=lambda item: (item[1]["rule_id"], item[1]["object"])):
        unknown_before = finding["rule_id"] not in old_outcomes
        classes["newly_evaluated" if unknown_before else _carried(before.get(fingerprint), finding)].append(finding)
    for fingerprint, finding in sorted(before.items(), key=lambda item: (item[1]["rule_id"], item[1]["object"])):
        if fingerprint not in after:
            classes[_classify(finding, new_results, not_judged, objects)].append(finding)
    evaluability = [
        {"rule_id": rule_id, "old": old_outcomes.get(rule_id), "new": result["outcome"]}
        for rule_id, result in sorted(new_results.items())
        if (old_outcomes.get(rule_id) == "not_evaluated") != (result["outcome"] == "not_evaluated")
    ]
    # Every failing row of either run is in exactly one class: the after run's rows in the classes they carry
    # into, the before run's other rows in fixed, gone or unresolved.
    carried = ("new", "still_failing", "newly_waived", "waiver_expired", "newly_evaluated")
    assert sum(len(classes[name]) for name in carried) == len(after)
    assert sum(len(classes[name]) for name in CLASSES if name not in carried) == len(set(before) - set(after))
    return {
        "old": {"generated_at": old["generated_at"], "as_of": old["as_of"]},
        "new": {"generated_at": new["generated_at"], "as_of": new["as_of"]},
        "totals": {"before": len(before), "after": len(after)},
        "summary": {name: len(items) for name, items in classes.items()},
        "findings": {name: [_brief(f) for f in items] for name, items in classes.items()},
        "verdicts": _verdict_changes(old, new),
        "safety": _safety_changes(old, new),
        "unchanged": _unchanged(old, new),
        "evaluability": evaluability,
    }


def _brief(finding: dict[str, Any]) -> dict[str, Any]:
    keys = ("fingerprint", "rule_id", "severity", "outcome", "server", "object", "message", "message_ja", "waiver")
    return {key: finding.get(key) for key in keys}


def markdown(difference: dict[str, Any], listed: int = 20, language: str = "en") -> str:
    """The before/after paragraph for a change ticket, in `language`; values are escaped like the Markdown
    report's."""
    t, japanese = labels(language), language == "ja"
    counts, totals = difference["summary"], difference.get("totals")
    separator = "、" if japanese else ", "
    when = t["diff_when"].format(old=difference["old"]["as_of"], new=difference["new"]["as_of"])
    tally = separator.join(f"{t['classes'][name]} {counts[name]}" for name in CLASSES)
    lines = [f"## {t['before_after']}", "", f"{when} {_capital(tally)}{t['full_stop']}", ""]
    if totals:
        lines.insert(3, f"{_capital(t['failing_rows'])}: {totals['before']} → {totals['after']}")
    lines += [f"- {line}" for line in answer_lines(difference, language, escape)]
    for name in ("new", "fixed", "unresolved", "gone", "newly_waived", "waiver_expired", "newly_evaluated"):
        items = difference["findings"][name]
        if items:
            lines += ["", f"### {_capital(t['classes'][name])} ({len(items)})", ""]
            lines += [f"- {f['rule_id']}: {escape(_message(f, japanese))}" for f in items[:listed]]
            if len(items) > listed:
                lines.append(f"- {t['diff_more'].format(n=len(items) - listed)}")
    return "\n".join(lines) + "\n"


def answer_lines(difference: dict[str, Any], language: str = "en", value: Callable[[str], str] = str) -> list[str]:
    """A line per answer that changed or stayed: `POP3 readiness EX16A: not ready → ready`, `IMAP4 safety:
    at risk (unchanged)`; `value` escapes what came from the data (a server's name)."""
    t = labels(language)
    lines = []
    for answer, states, changes in (("readiness", t["status"], difference["verdicts"]),
                                    ("safety", t["safety_status"], difference.get("safety", []))):  # fmt: skip
        lines += [
            f"{c['protocol'].upper()} {t[answer]} {_scope(t, c['scope'], value)}: {_state(states, c['old'])} → "
            f"{_state(states, c['new'])}"
            for c in changes
        ]
    for same in difference.get("unchanged", []):
        states = t["safety_status"] if same["answer"] == "safety" else t["status"]
        lines.append(
            f"{same['protocol'].upper()} {t[same['answer']]}: {_state(states, same['status'])} ({t['unchanged']})"
        )
    return lines


def _scope(t: dict[str, Any], scope: str, value: Callable[[str], str]) -> str:
    """The organisation in the report's language; a server's name as it is (escaped by `value`)."""
    return str(t["organisation"]) if scope == "organisation" else value(scope)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _state(words: dict[str, str], state: str | None) -> str:
    return words.get(state, state) if state else "—"


def _message(finding: dict[str, Any], japanese: bool) -> str:
    return str((finding.get("message_ja") if japanese else None) or finding["message"])
