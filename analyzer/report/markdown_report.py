"""summary.md: what a change ticket needs — verdicts, counts, the failing rules with their objects, the inputs.

Every value from an export is escaped: a display name like `*x* | <img src=…>` must not turn into formatting, a
table cell break or HTML in the ticket system that renders it.
"""

from __future__ import annotations

import re
from typing import Any

OBJECTS_PER_RULE = 10  # the ticket gets the first few; the CSV has them all
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]|~>])")  # emphasis, code, links, table cells, strikethrough


def escape(value: Any) -> str:
    """Text that renders as itself in CommonMark and GitHub tables: one line, no markup, no HTML. Only what can
    start markup inside a line is escaped (every value sits after `- ` or inside a table cell), so the raw text
    stays readable in ticket systems that show Markdown unrendered."""
    text = "" if value is None else " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _INLINE_MARKUP.sub(r"\\\1", text)


def _verdicts(report: dict[str, Any]) -> list[str]:
    if not report["verdicts"]:
        return []
    lines = ["## Verdicts", "", "| protocol | verdict | intended | servers | why |", "| --- | --- | --- | --- | --- |"]
    for protocol, verdict in sorted(report["verdicts"].items()):
        servers = ", ".join(f"{escape(name)}: {state}" for name, state in sorted(verdict["servers"].items()))
        lines.append(f"| {protocol.upper()} | **{verdict['status']}** | {verdict['intent']} | {servers or '—'} | "
                     f"{escape(verdict['summary'])} |")  # fmt: skip
    damaged = sorted({line for verdict in report["verdicts"].values() for line in verdict["degraded_inputs"]})
    if damaged:
        lines += ["", "Damaged or incomplete inputs behind these verdicts:", ""]
        lines += [f"- {escape(line)}" for line in damaged]
    return [*lines, ""]


def _counts(report: dict[str, Any]) -> list[str]:
    summary = report["summary"]
    names = [name for name in summary if summary[name]]
    return ["## Rules", "", "| " + " | ".join(names) + " |", "|" + " --- |" * len(names),
            "| " + " | ".join(str(summary[name]) for name in names) + " |", ""]  # fmt: skip


def _failing(report: dict[str, Any]) -> list[str]:
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    failing = sorted((r for r in report["results"] if r["outcome"] == "fail"),
                     key=lambda r: (order[r["severity"]], r["rule_id"]))  # fmt: skip
    if not failing:
        return []
    lines = ["## Failing rules", ""]
    for result in failing:
        bad = [f for f in result["findings"] if f["outcome"] == "fail"]
        lines.append(f"### {result['rule_id']} ({result['severity']}): {escape(result['title'])}")
        lines.append("")
        lines += [f"- {escape(f['message'])}" for f in bad[:OBJECTS_PER_RULE]]
        if len(bad) > OBJECTS_PER_RULE:
            lines.append(f"- … and {len(bad) - OBJECTS_PER_RULE} more (findings.csv / report.json list them all)")
        lines.append("")
    return lines


def _not_evaluated(report: dict[str, Any]) -> list[str]:
    skipped = [r for r in report["results"] if r["outcome"] == "not_evaluated"]
    if not skipped:
        return []
    lines = ["## Not evaluated", ""]
    lines += [f"- {r['rule_id']}: {escape(r['reason'] or 'some objects could not be judged')}" for r in skipped]
    return [*lines, ""]


def _inputs(report: dict[str, Any]) -> list[str]:
    lines = ["## Inputs", "", "| file | SHA-256 | format | records | problems |", "| --- | --- | --- | --- | --- |"]
    for item in report["inputs"]:
        lines.append(f"| {escape(item['path'])} | `{item['sha256']}` | {escape(item['format'])} | {item['records']} | "
                     f"{len(item['problems'])} |")  # fmt: skip
    return [*lines, ""]


def render(report: dict[str, Any]) -> dict[str, bytes]:
    tool = report["tool"]
    head = [
        "# exaudit report",
        "",
        f"{tool['name']} {tool['version']}, generated {report['generated_at']}, evaluated as of {report['as_of']}.",
        "",
    ]
    body = head + _verdicts(report) + _counts(report) + _failing(report) + _not_evaluated(report) + _inputs(report)
    return {"summary.md": ("\n".join(body).rstrip("\n") + "\n").encode("utf-8")}
