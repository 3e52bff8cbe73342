"""Waivers: accepted risks that keep their findings visible, with a reason, an owner, a ticket and an expiry.

A waiver turns matching failing findings into `waived`; a rule whose failures are all waived is `waived`. Waivers
never change a readiness verdict (it lists how many of its failing checks' findings are waived instead). A waiver
is judged against the scan's evaluation date in UTC: from the day after `expires` it no longer applies and is
reported as expired; one that matches nothing is reported as stale. Nothing about a waiver is silent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from analyzer.engine.loader import read_validated
from analyzer.model import Finding, RuleResult


@dataclass(frozen=True)
class Waiver:
    id: str  # W1, W2 … in file order: what findings and reports refer to
    rule: str
    reason: str
    server: str | None = None
    object: str | None = None
    ticket: str | None = None
    approved_by: str | None = None
    created: str | None = None
    expires: str | None = None
    source: str = ""  # file:line

    def expired(self, as_of: dt.datetime) -> bool:
        return self.expires is not None and as_of.astimezone(dt.UTC).date() > dt.date.fromisoformat(self.expires)

    def matches(self, finding: Finding) -> bool:
        def glob(pattern: str | None, value: str | None) -> bool:
            return pattern is None or (value is not None and fnmatchcase(value.lower(), pattern.lower()))

        return (
            glob(self.rule, finding.rule_id) and glob(self.server, finding.server) and glob(self.object, finding.object)
        )


@cache
def waiver_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((resources.files("analyzer.engine") / "waivers.schema.json").read_text("utf-8"))
    return schema


def load_waivers(path: Path) -> list[Waiver]:
    data, error = read_validated(path, waiver_schema(), "waiver file")
    waivers = []
    for index, entry in enumerate(data["waivers"]):
        for field in ("created", "expires"):
            if field in entry:
                try:
                    dt.date.fromisoformat(entry[field])
                except ValueError:
                    raise error(("waivers", index, field), f"{entry[field]!r} is not a date") from None
        line = error(("waivers", index), "").line  # the entry's line, for reports that cite the waiver
        waivers.append(Waiver(id=f"W{index + 1}", source=f"{path}:{line}", **entry))
    return waivers


def apply_waivers(
    results: list[RuleResult], waivers: list[Waiver], as_of: dt.datetime
) -> tuple[list[RuleResult], list[dict[str, Any]]]:
    """The results with matching failures waived, and each waiver's status (active, expired, stale) and matches."""
    active = [w for w in waivers if not w.expired(as_of)]
    matched = dict.fromkeys((w.id for w in waivers), 0)
    changed = []
    for result in results:
        findings = []
        for finding in result.findings:
            waiver = next((w for w in active if finding.outcome == "fail" and w.matches(finding)), None)
            if waiver is not None:
                matched[waiver.id] += 1
            findings.append(finding if waiver is None else finding._replace(outcome="waived", waiver=waiver.id))
        outcome = result.outcome
        if outcome == "fail" and not any(f.outcome == "fail" for f in findings):
            outcome = "waived"
        changed.append(dataclasses.replace(result, outcome=outcome, findings=tuple(findings)))
    statuses = [
        {**{k: v for k, v in dataclasses.asdict(w).items() if v is not None}, "matched": matched[w.id],
         "status": "expired" if w.expired(as_of) else ("stale" if not matched[w.id] else "active")}
        for w in waivers
    ]  # fmt: skip
    return changed, statuses
