"""report.html: one self-contained file a consultant can hand over — verdicts first, then the evidence.

Nothing is fetched: CSS and JavaScript are inline and a Content-Security-Policy allows only those two blocks (by
hash), so the page makes no network request even if a value slipped through. Every value from an export goes
through Jinja2's autoescape. The page reads fully without JavaScript; with it, filters and copy buttons appear.
Large results stay light: a rule lists its first `ROWS_PER_RULE` findings and says how many more the CSV holds.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import MutableMapping
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import markupsafe

from analyzer.engine.powershell import is_inert
from analyzer.exchange.catalog import BY_NAME
from analyzer.japanese import in_japanese
from analyzer.report import precompiled
from analyzer.report.labels import labels, number, report_title, timestamp
from analyzer.report.visible import visible

ROWS_PER_RULE = 200
SEVERITIES = ("critical", "high", "medium", "low", "info")
_OUTCOME_ORDER = ("fail", "error", "not_evaluated", "not_reviewed", "waived", "pass", "not_applicable")


class _Templates(jinja2.BaseLoader):
    """The package's templates, each from its precompiled module while that matches the source."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, None]:
        return template_source(template), None, None

    def load(
        self, environment: jinja2.Environment, name: str, globals: MutableMapping[str, Any] | None = None
    ) -> jinja2.Template:
        compiled = precompiled.namespace(name, template_source(name))
        if compiled is None:
            return super().load(environment, name, globals)
        return environment.template_class.from_module_dict(environment, compiled, globals or {})


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=_Templates(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_shown,
    )


def _shown(value: Any) -> Any:
    """What a template prints: text with its control characters shown (not allowed in HTML); markup the
    templates made themselves (already escaped) as it is."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return visible(value)
    return value


def template_source(name: str) -> str:
    return (resources.files("analyzer.report") / "templates" / name).read_text("utf-8")


def csp_hash(block: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii") + "'"


def _chart(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Bars of the outcome counts for an inline SVG: widths in per cent of the largest."""
    largest = max(counts.values(), default=0) or 1
    return [{"name": k, "count": v, "width": round(100 * v / largest, 1)} for k, v in counts.items()]


def _rules(report: dict[str, Any]) -> list[dict[str, Any]]:
    severity = {name: i for i, name in enumerate(SEVERITIES)}
    outcome = {name: i for i, name in enumerate(_OUTCOME_ORDER)}
    # Each framework is named in the filter by its place in report.json's list (its name has spaces).
    framework = {(view["framework"], view["version"]): f"f{i}" for i, view in enumerate(report.get("frameworks", []))}
    shown = []
    for result in report["results"]:
        findings = result["findings"]
        servers = sorted({f["server"] for f in findings if f["server"]})
        frameworks = sorted({framework[(c["framework"], c["version"])] for c in result.get("controls", [])})
        own = result.get("servers", {})  # each server's own outcome: shown where the servers differ
        by_server = own if len(set(own.values())) > 1 else {}
        shown.append({**result, "shown": findings[:ROWS_PER_RULE], "total": len(findings), "servers": servers,
                      "frameworks": frameworks, "by_server": by_server})  # fmt: skip
    return sorted(shown, key=lambda r: (outcome.get(r["outcome"], 9), severity[r["severity"]], r["rule_id"]))


def _inventory(report: dict[str, Any]) -> dict[str, Any]:
    rows: Counter[str] = Counter()
    for item in report["inputs"]:
        for dataset in (item["dataset"] or "").split(", "):
            if dataset:
                rows[dataset] += item["records"]
    return {
        "servers": report["servers"],
        "records": dict(sorted(rows.items())),
    }


def _coverage(report: dict[str, Any]) -> dict[str, Any]:
    datasets = sorted({name for row in report["coverage"].values() for name in row})
    return {
        "datasets": [{"name": name, "cmdlet": BY_NAME[name].cmdlet} for name in datasets],
        "servers": sorted(report["coverage"].items()),
    }


def render(report: dict[str, Any], language: str = "en", comparison: dict[str, Any] | None = None) -> dict[str, bytes]:
    words = labels(language)
    japanese = language == "ja"
    env = environment()
    style, script = template_source("report.css"), template_source("report.js")
    summary = {k: v for k, v in report["summary"].items() if v}
    severity_fail = Counter(r["severity"] for r in report["results"] if r["outcome"] == "fail")
    rules = _rules(report)
    titles = {r["rule_id"]: (r.get("title_ja") if japanese else None) or r["title"] for r in report["results"]}
    context = {
        "lang": language,
        "t": words,
        "title": report_title(report, language),
        "titles": titles,
        "when": lambda text: timestamp(text, language),
        "num": lambda value: number(int(value)),
        "inert": is_inert,  # a command whose values hold hidden characters: text only, no copy button
        "message": lambda finding: (finding.get("message_ja") if japanese else None) or finding["message"],
        "said": in_japanese if japanese else str,  # a text reading the bundle produced (an input problem), worded
        "report": report,
        "comparison": comparison,
        "waivers": {w["id"]: w for w in report["waivers"]},
        "style": style,
        "script": script,
        "csp": f"default-src 'none'; style-src {csp_hash(style)}; script-src {csp_hash(script)}; img-src data:; "
        "base-uri 'none'; form-action 'none'",
        "chart": _chart(summary),
        "failing_by_severity": [(s, severity_fail.get(s, 0)) for s in SEVERITIES],
        "rules": rules,
        "not_evaluated": [r for r in rules if r["outcome"] == "not_evaluated"],
        "not_reviewed": [r for r in rules if r["outcome"] == "not_reviewed"],
        "servers": sorted({s for r in rules for s in r["servers"]}),
        "tags": sorted({t for r in rules for t in r["tags"]}),
        "severities": SEVERITIES,
        "inventory": _inventory(report),
        "coverage": _coverage(report),
        "rows_per_rule": ROWS_PER_RULE,
    }
    html = env.get_template("report.html.j2").render(context)
    return {"report.html": html.encode("utf-8")}
