"""Framework views: the results regrouped by the baseline controls rules name (`controls:`), so an assessor sees
a STIG or CIS benchmark item by item — counts by outcome and category, the share of decidable items that pass, and
the open items, most severe first."""

from __future__ import annotations

from collections import Counter
from typing import Any

from analyzer.model import WORST_FIRST, worst

# When several rules decide one control, its outcome is the worst of theirs.
_DECIDED = ("pass", "fail", "waived")  # what an export settled; the share of these that pass is the headline
_CAT_ORDER = {"I": 0, "II": 1, "III": 2}


def _control_key(control: dict[str, Any]) -> tuple[Any, ...]:
    return (_CAT_ORDER.get(control.get("cat", ""), 3), control.get("level") or 0, control["id"])


def _control_outcome(result: dict[str, Any], control: dict[str, Any], products: dict[str, str]) -> str:
    """The rule's outcome as far as the control goes: where the rule also judged servers of products the control is
    not about (one rule for a 2016 and a 2019 STIG item), the worst of its own servers' outcomes — not applicable
    when the bundle has none of them."""
    wanted = control.get("products")
    servers = result.get("servers") or {}
    if not wanted or all(products.get(server) in wanted for server in servers):
        return str(result["outcome"])
    own = [outcome for server, outcome in servers.items() if products.get(server) in wanted]
    return worst(own) if own else "not_applicable"


def framework_views(results: list[dict[str, Any]], servers: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per framework and version: each control with the rules that decide it and its outcome, and the counts.
    `servers` (report.json's) tells each server's product, for controls about some products only."""
    products = {server["server_key"]: server.get("product") or "" for server in servers or ()}
    grouped: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for result in results:
        for control in result.get("controls", []):
            controls = grouped.setdefault((control["framework"], control["version"]), {})
            entry = controls.setdefault(control["id"], {**control, "rules": [], "outcomes": []})
            entry["rules"].append(result["rule_id"])
            entry["outcomes"].append(_control_outcome(result, control, products))
    views = []
    for (framework, version), controls in sorted(grouped.items()):
        items = []
        for entry in sorted(controls.values(), key=_control_key):
            outcomes = entry.pop("outcomes")
            items.append({**{k: v for k, v in entry.items() if k not in ("framework", "version")},
                          "outcome": worst(outcomes)})  # fmt: skip
        counts = Counter(item["outcome"] for item in items)
        by_cat: dict[str, Counter[str]] = {}
        for item in items:
            if item.get("cat"):
                by_cat.setdefault(item["cat"], Counter())[item["outcome"]] += 1
        decided = sum(counts[o] for o in _DECIDED)
        views.append({
            "framework": framework,
            "version": version,
            "controls": items,
            "counts": {outcome: counts[outcome] for outcome in WORST_FIRST if counts[outcome]},
            "by_cat": {cat: dict(by_cat[cat]) for cat in sorted(by_cat, key=lambda c: _CAT_ORDER.get(c, 3))},
            "decided": decided,
            "passing_share": round(counts["pass"] / decided, 4) if decided else None,
        })  # fmt: skip
    return views


def with_coverage(views: list[dict[str, Any]], rulesets: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each view with what part of its baseline the packs hold (`coverage` in pack.yaml), so a partial pack's
    results are never read as the whole benchmark."""
    by_framework = {(s.get("framework"), s.get("framework_version")): s for s in rulesets if s.get("coverage")}
    for view in views:
        found = by_framework.get((view["framework"], view["version"]))
        if found:
            view.update({key: found[key] for key in ("coverage", "coverage_ja") if key in found})
    return views
