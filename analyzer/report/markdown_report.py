"""summary.md: what a change ticket needs — verdicts, counts, the failing rules with their objects, the inputs.

Every value from an export is escaped: a display name like `*x* | <img src=…>` must not turn into formatting, a
table cell break or HTML in the ticket system that renders it.
"""

from __future__ import annotations

import re
from typing import Any

from analyzer.japanese import in_japanese
from analyzer.report.labels import labels, number, report_title, timestamp
from analyzer.report.visible import visible

OBJECTS_PER_RULE = 10  # the ticket gets the first few; the CSV has them all
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]|~>])")  # emphasis, code, links, table cells, strikethrough


def escape(value: Any) -> str:
    """Text that renders as itself in CommonMark and GitHub tables: one line, no markup, no HTML. Only what can
    start markup inside a line is escaped (every value sits after `- ` or inside a table cell), so the raw text
    stays readable in ticket systems that show Markdown unrendered."""
    text = " ".join(visible(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _INLINE_MARKUP.sub(r"\\\1", text)


def _verdicts(report: dict[str, Any], t: dict[str, Any], japanese: bool) -> list[str]:
    if not report["verdicts"]:
        return []
    lines = [f"## {t['verdicts']}", "", f"| | {t['readiness']} | {t['safety']} | {t['intended']} | {t['server']} |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    reasons: list[str] = []
    for protocol, verdict in sorted(report["verdicts"].items()):
        safety = verdict["safety"]
        servers = ", ".join(
            f"{escape(name)}: {t['status'][state]} / {t['safety_status'][safety['servers'].get(name, 'unknown')]}"
            for name, state in sorted(verdict["servers"].items())
        )
        status, intent = t["status"][verdict["status"]], t["intents"][verdict["intent"]]
        risk = t["safety_status"][safety["status"]]
        lines.append(f"| {protocol.upper()} | **{status}** | **{risk}** | {intent} | {servers or '—'} |")
        key = "_ja" if japanese else ""
        for answer, label in ((verdict, t["readiness"]), (safety, t["safety"])):
            summary = escape(answer[f"summary{key}"])
            reasons.append(f"- {protocol.upper()} {label}: {summary}")
            reasons += [f"  - {escape(line)}" for line in answer[f"reasons{key}"]]
    lines += ["", *reasons]
    damaged = sorted({line for verdict in report["verdicts"].values() for line in verdict["degraded_inputs"]})
    if damaged:
        lines += ["", t["degraded"], ""]
        lines += [f"- {escape(in_japanese(line) if japanese else line)}" for line in damaged]
    return [*lines, ""]


def _counts(report: dict[str, Any], t: dict[str, Any]) -> list[str]:
    summary = report["summary"]
    names = [name for name in summary if summary[name]]
    counts = " | ".join(number(summary[n]) for n in names)
    return [f"## {t['rule_counts']}", "", "| " + " | ".join(t["outcomes"][n] for n in names) + " |",
            "|" + " --- |" * len(names), f"| {counts} |", ""]  # fmt: skip


def _failing(report: dict[str, Any], t: dict[str, Any], japanese: bool) -> list[str]:
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    failing = sorted((r for r in report["results"] if r["outcome"] == "fail"),
                     key=lambda r: (order[r["severity"]], r["rule_id"]))  # fmt: skip
    if not failing:
        return []
    lines = [f"## {t['failing_rules']}", ""]
    for result in failing:
        bad = [f for f in result["findings"] if f["outcome"] == "fail"]
        title = (result.get("title_ja") if japanese else None) or result["title"]
        lines.append(f"### {result['rule_id']} ({t['severities'][result['severity']]}): {escape(title)}")
        lines.append("")
        lines += [
            f"- {escape((f.get('message_ja') if japanese else None) or f['message'])}" for f in bad[:OBJECTS_PER_RULE]
        ]
        if len(bad) > OBJECTS_PER_RULE:
            lines.append("- " + t["and_more"].format(n=len(bad) - OBJECTS_PER_RULE))
        lines.append("")
    return lines


def _not_evaluated(report: dict[str, Any], t: dict[str, Any], japanese: bool = False) -> list[str]:
    skipped = [r for r in report["results"] if r["outcome"] == "not_evaluated"]
    if not skipped:
        return []
    lines = [f"## {t['not_evaluated']}", ""]
    for r in skipped:
        reason = (r.get("reason_ja") if japanese else None) or r["reason"] or t["some_unjudged"]
        lines.append(f"- {r['rule_id']}: {escape(reason)}")
    return [*lines, ""]


def _not_reviewed(report: dict[str, Any], t: dict[str, Any], japanese: bool = False) -> list[str]:
    waiting = [r for r in report["results"] if r["outcome"] == "not_reviewed"]
    if not waiting:
        return []
    lines = [f"## {t['not_reviewed']}", ""]
    for r in waiting:
        reason = (r.get("reason_ja") if japanese else None) or r["reason"]
        lines.append(f"- {r['rule_id']}: {escape(reason)}")
    return [*lines, ""]


def _waivers(report: dict[str, Any], t: dict[str, Any]) -> list[str]:
    if not report["waivers"]:
        return []
    lines = [f"## {t['waivers']}", ""]
    for w in report["waivers"]:
        ticket = f" {escape(w['ticket'])}" if w.get("ticket") else ""
        until = f", {t['until']} {w['expires']}" if w.get("expires") else ""
        lines.append(f"- {w['id']}{ticket} ({escape(w['rule'])}{until}): {t['waiver_status'][w['status']]}, "
                     f"{w['matched']} — {escape(w['reason'])}")  # fmt: skip
    return [*lines, ""]


def _inputs(report: dict[str, Any], t: dict[str, Any], japanese: bool = False) -> list[str]:
    lines = [f"## {t['inputs']}", "", f"| {t['file']} | SHA-256 | {t['format']} | {t['records']} | {t['problems']} |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for item in report["inputs"]:
        shape = in_japanese(item["format"]) if japanese else item["format"]  # documentation: why it was not read
        lines.append(f"| {escape(item['path'])} | `{item['sha256']}` | {escape(shape)} | "
                     f"{number(item['records'])} | {len(item['problems'])} |")  # fmt: skip
    return [*lines, ""]


def render(report: dict[str, Any], language: str = "en") -> dict[str, bytes]:
    t, tool = labels(language), report["tool"]
    head = [
        f"# {report_title(report, language)}",
        "",
        f"{t['evaluated_as_of']} {timestamp(report['as_of'], language)} · {t['generated']} "
        f"{timestamp(report['generated_at'], language)} · {tool['name']} {tool['version']}",
        "",
        *([f"> {t['synthetic_sample']}", ""] if report.get("synthetic") else []),
    ]
    body = [
        *head,
        *_verdicts(report, t, language == "ja"),
        *_counts(report, t),
        *_failing(report, t, language == "ja"),
        *_not_evaluated(report, t, language == "ja"),
        *_not_reviewed(report, t, language == "ja"),
        *_waivers(report, t),
        *_inputs(report, t, language == "ja"),
    ]
    return {"summary.md": ("\n".join(body).rstrip("\n") + "\n").encode("utf-8")}
