"""findings.csv and results.csv: plain text in a fixed column order that Excel opens cleanly and safely.

UTF-8 with a BOM, so Excel shows Japanese names instead of mojibake; CRLF rows and RFC 4180 quoting from the
standard csv module; and every cell that a spreadsheet would read as a formula (`= + - @`, tab, CR, NUL first)
neutralised with a leading `'` — the cells hold values from customers' files (CWE-1236, OWASP ASVS 1.2.10).
No exception is made for numbers: a negative number becomes text, which Excel shows as written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from analyzer.report.controls import labels
from analyzer.report.visible import visible

FINDING_COLUMNS = (
    "rule_id", "severity", "outcome", "server", "object", "dataset", "field", "observed", "expected", "message",
    "remediation", "source_file", "source_line", "fingerprint", "message_ja", "waiver", "controls",
)  # fmt: skip
RESULT_COLUMNS = (
    "rule_id", "title", "severity", "tags", "outcome", "reason", "evaluated", "failing", "not_evaluated", "controls",
)  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a NUL is shown as ␀ before this is looked at


def neutralise(value: Any) -> str:
    """A cell as plain text no spreadsheet evaluates, its control characters shown (NUL as ␀, ESC as ␛, …)."""
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_table(sink: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """The table to a text stream (opened with newline=""), BOM first."""
    sink.write("\ufeff")
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise(cell) for cell in row] for row in rows)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    write_table(buffer, header, rows)
    return buffer.getvalue().encode("utf-8")


def write(report: dict[str, Any], folder: Path) -> list[Path]:
    """findings.csv and results.csv written row by row: a million findings never sit in memory as one string."""
    written = []
    for name, header, rows in (("findings.csv", FINDING_COLUMNS, _finding_rows(report)),
                               ("results.csv", RESULT_COLUMNS, _result_rows(report))):  # fmt: skip
        target = folder / name
        with target.open("w", encoding="utf-8", newline="") as sink:
            write_table(sink, header, rows)
        written.append(target)
    return written


def _waiver(waiver_id: str | None, waivers: dict[str, dict[str, Any]]) -> str:
    """The waiver a waived finding cites, in one cell: id, ticket, expiry and reason."""
    if waiver_id is None:
        return ""
    waiver = waivers[waiver_id]  # a finding cites a waiver of the same report
    parts = [waiver_id, waiver.get("ticket"), f"until {waiver['expires']}" if waiver.get("expires") else None]
    return ", ".join(p for p in parts if p) + f": {waiver['reason']}"


def _finding_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    waivers = {w["id"]: w for w in report["waivers"]}
    for result in report["results"]:
        controls = labels(result["controls"])
        for finding in result["findings"]:
            source = finding["source"]
            yield [result["rule_id"], result["severity"], finding["outcome"], finding["server"], finding["object"],
                   finding["dataset"], finding["field"], finding["observed"], finding["expected"], finding["message"],
                   finding["remediation"], source["file"], source["line"], finding["fingerprint"],
                   finding["message_ja"], _waiver(finding["waiver"], waivers), controls]  # fmt: skip


def _result_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    for result in report["results"]:
        outcomes = [finding["outcome"] for finding in result["findings"]]
        counts = [outcomes.count("fail"), outcomes.count("not_evaluated")]
        yield [result["rule_id"], result["title"], result["severity"], ", ".join(result["tags"]), result["outcome"],
               result["reason"], result["evaluated"], *counts, labels(result["controls"])]  # fmt: skip


def render(report: dict[str, Any]) -> dict[str, bytes]:
    return {
        "findings.csv": table(FINDING_COLUMNS, _finding_rows(report)),
        "results.csv": table(RESULT_COLUMNS, _result_rows(report)),
    }
