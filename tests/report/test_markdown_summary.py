"""summary.md section by section, from the golden scan's report.json changed one fact at a time: the lines each
section adds for degraded inputs, waivers, long lists of objects and unjudged rules (the golden sample has none)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from analyzer.report.markdown_report import OBJECTS_PER_RULE, escape, render

GOLDEN_REPORT = Path(__file__).resolve().parents[1] / "data" / "golden" / "mistakes-2016-en" / "report.json"


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    report: dict[str, Any] = json.loads(GOLDEN_REPORT.read_text("utf-8"))
    return report


def _lines(report: dict[str, Any], language: str = "en") -> list[str]:
    return render(report, language)["summary.md"].decode("utf-8").split("\n")


def _section(lines: list[str], heading: str) -> list[str]:
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def test_inputs_that_degrade_a_verdict_are_listed_once_under_the_verdicts(golden: dict[str, Any]) -> None:
    report = copy.deepcopy(golden)
    report["verdicts"]["pop3"]["degraded_inputs"] = ["b.xml:3: cut short", "a.xml: not read *x*"]
    report["verdicts"]["imap4"]["degraded_inputs"] = ["a.xml: not read *x*"]
    section = _section(_lines(report), "## Verdicts")
    assert section[-6:] == [
        "",
        "Damaged or incomplete inputs behind this verdict:",
        "",
        "- a.xml: not read \\*x\\*",
        "- b.xml:3: cut short",
        "",
    ]
    assert "Damaged or incomplete inputs behind this verdict:" not in _lines(golden)


def test_a_verdict_with_no_server_shows_a_dash(golden: dict[str, Any]) -> None:
    report = copy.deepcopy(golden)
    report["verdicts"]["pop3"]["servers"] = {}
    [row] = [line for line in _lines(report) if line.startswith("| POP3 |")]
    assert row.split(" | ")[4] == "— |"  # the servers column, the row's last


def test_waivers_each_on_a_line_with_ticket_and_expiry_only_when_given(golden: dict[str, Any]) -> None:
    report = copy.deepcopy(golden)
    report["waivers"] = [
        {"id": "W1", "rule": "POP-*", "ticket": "CHG-1|2", "expires": "2027-03-31", "status": "active", "matched": 3,
         "reason": "migration *pending*"},
        {"id": "W2", "rule": "IMAP-SEC-004", "ticket": None, "expires": None, "status": "stale", "matched": 0,
         "reason": "fixed"},
    ]  # fmt: skip
    assert _section(_lines(report), "## Waivers (accepted risks)") == [
        "## Waivers (accepted risks)",
        "",
        "- W1 CHG-1\\|2 (POP-\\*, until 2027-03-31): active, 3 — migration \\*pending\\*",
        "- W2 (IMAP-SEC-004): stale — matches nothing, 0 — fixed",
        "",
    ]
    assert "## Waivers (accepted risks)" not in _lines(golden)


@pytest.mark.parametrize("failing", [OBJECTS_PER_RULE, OBJECTS_PER_RULE + 1, OBJECTS_PER_RULE + 5])
def test_a_rule_lists_its_first_objects_and_counts_the_rest(golden: dict[str, Any], failing: int) -> None:
    report = copy.deepcopy(golden)
    result = next(r for r in report["results"] if r["rule_id"] == "POP-USR-001")
    result["findings"] = [dict(result["findings"][0], message=f"user{i:02d}") for i in range(failing)]
    lines = _lines(report)
    start = lines.index(next(line for line in lines if line.startswith("### POP-USR-001 ")))
    listed = lines[start + 2 : lines.index("", start + 2)]
    assert listed[:OBJECTS_PER_RULE] == [f"- user{i:02d}" for i in range(OBJECTS_PER_RULE)]
    more = failing - OBJECTS_PER_RULE
    assert listed[OBJECTS_PER_RULE:] == (
        [f"- … and {more} more (findings.csv / report.json list them all)"] if more else []
    )


def test_failing_rules_run_from_critical_to_info(golden: dict[str, Any]) -> None:
    headings = [line for line in _lines(golden) if line.startswith("### ")]
    severities = [line.split("(")[1].split(")")[0] for line in headings]
    rank = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=rank.index) and severities[-1] == "info"


def test_an_unjudged_rule_without_a_reason_says_so(golden: dict[str, Any]) -> None:
    report = copy.deepcopy(golden)
    result = next(r for r in report["results"] if r["outcome"] == "not_evaluated")
    result["reason"] = None
    section = _section(_lines(report), "## Not evaluated, and why")
    assert f"- {result['rule_id']}: some objects could not be judged" in section


def test_the_file_ends_with_one_newline_and_counts_are_grouped(golden: dict[str, Any]) -> None:
    report = copy.deepcopy(golden)
    report["inputs"][0]["records"] = 1234567
    text = render(report)["summary.md"].decode("utf-8")
    assert text.endswith("|\n") and not text.endswith("\n\n")
    assert "| 1,234,567 |" in text


def test_escaping_keeps_entities_and_markup_as_text() -> None:
    assert escape("a & b &lt; <i>x</i>") == "a &amp; b &amp;lt; &lt;i\\>x&lt;/i\\>"
    assert escape("*bold* _x_ `c` [l](u) | ~s~ \\") == "\\*bold\\* \\_x\\_ \\`c\\` \\[l\\](u) \\| \\~s\\~ \\\\"
    assert escape("two\nlines\t here") == "two lines here"
