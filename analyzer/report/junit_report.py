"""junit.xml: one test case per rule, so a CI system shows the audit natively.

fail → <failure> (type = severity, the findings' messages as text); not_evaluated and not_reviewed → <skipped>
with the reason;
error → <error>; pass and not_applicable → a passing case (not_applicable says so in system-out). Follows the
Jenkins/xUnit `junit-10.xsd`, which the tests validate against. Built with lxml, so every value is escaped.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from analyzer.report.visible import visible

_LISTED = 50  # findings written into one failure's text; report.json has them all
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0 at all


def _clean(value: Any) -> str:
    """XML 1.0 text: control characters shown (`visible`); what XML still cannot carry becomes U+FFFD."""
    return _XML_UNSAFE.sub("\ufffd", visible(value))


def _case(parent: etree._Element, result: dict[str, Any], classname: str) -> None:
    case = etree.SubElement(parent, "testcase", name=_clean(f"{result['rule_id']} {result['title']}"),
                            classname=classname, time="0")  # fmt: skip
    outcome = result["outcome"]
    if outcome == "fail":
        bad = [f for f in result["findings"] if f["outcome"] == "fail"]
        lines = [f"{f['message']} [{_where(f['source'])}]" for f in bad[:_LISTED]]
        if len(bad) > _LISTED:
            lines.append(f"… and {len(bad) - _LISTED} more")
        summary = _clean(f"{len(bad)} finding(s): {bad[0]['message'] if bad else ''}")
        failure = etree.SubElement(case, "failure", type=result["severity"], message=summary)
        failure.text = _clean("\n".join(lines))
    elif outcome == "not_evaluated":
        etree.SubElement(case, "skipped", message=_clean(result["reason"] or "some objects could not be judged"))
    elif outcome == "not_reviewed":
        etree.SubElement(case, "skipped", message=_clean(f"not reviewed: {result['reason']}"))
    elif outcome == "error":
        etree.SubElement(case, "error", type="rule error", message=_clean(result["reason"]))
    elif outcome == "waived":
        waived = [f for f in result["findings"] if f["outcome"] == "waived"]
        note = (
            f"waived: {len(waived)} accepted finding(s), waiver(s) {', '.join(sorted({f['waiver'] for f in waived}))}"
        )
        etree.SubElement(case, "system-out").text = _clean(note)
    elif outcome == "not_applicable":
        etree.SubElement(case, "system-out").text = _clean(f"not applicable: {result['reason'] or ''}".strip())


def render(report: dict[str, Any]) -> dict[str, bytes]:
    results = report["results"]
    counts = {
        "tests": str(len(results)),
        "failures": str(sum(r["outcome"] == "fail" for r in results)),
        "errors": str(sum(r["outcome"] == "error" for r in results)),
        "skipped": str(sum(r["outcome"] in ("not_evaluated", "not_reviewed") for r in results)),
    }
    totals = {k: v for k, v in counts.items() if k != "skipped"}  # junit-10.xsd has no `skipped` on testsuites
    suites = etree.Element("testsuites", attrib={"name": "exaudit", "time": "0", **totals})
    suite = etree.SubElement(
        suites, "testsuite", attrib={"name": "exaudit", "timestamp": report["generated_at"], "time": "0", **counts}
    )
    properties = etree.SubElement(suite, "properties")
    etree.SubElement(properties, "property", name="as_of", value=report["as_of"])
    etree.SubElement(properties, "property", name="exaudit_version", value=report["tool"]["version"])
    for protocol, verdict in sorted(report["verdicts"].items()):
        etree.SubElement(properties, "property", name=f"verdict.{protocol}", value=verdict["status"])
        etree.SubElement(properties, "property", name=f"safety.{protocol}", value=verdict["safety"]["status"])
    for result in results:
        tags = result["tags"]
        _case(suite, result, "exaudit." + ("security" if "security" in tags else "readiness" if tags else "rules"))
    return {"junit.xml": etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True)}


def _where(source: dict[str, Any]) -> str:
    return f"{source['file']}:{source['line']}" if source["line"] else str(source["file"])
