"""Which files each `--format` writes, and writing them. report.json is the canonical form; the others are views
of it, so every format says the same thing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from analyzer.report import csv_report, html_report, junit_report, markdown_report
from analyzer.report.json_report import dumps

Renderer = Callable[[dict[str, Any]], dict[str, bytes]]

RENDERERS: dict[str, Renderer] = {
    "json": lambda report: {"report.json": dumps(report).encode("utf-8")},
    "html": html_report.render,
    "csv": csv_report.render,
    "md": markdown_report.render,
    "junit": junit_report.render,
}


def write_reports(report: dict[str, Any], formats: list[str], folder: Path) -> list[Path]:
    """Write report.json and the files of every format asked for; the paths written, in a stable order."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in ["json", *(f for f in formats if f != "json")]:
        for filename, content in RENDERERS[name](report).items():
            target = folder / filename
            target.write_bytes(content)
            written.append(target)
    return written
