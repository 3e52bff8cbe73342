"""Which files each `--format` writes, and writing them. report.json is the canonical form; the others are views
of it, so every format says the same thing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from analyzer.report import csv_report, json_report, junit_report, markdown_report, output
from analyzer.report.json_report import dumps

Renderer = Callable[[dict[str, Any], str], dict[str, bytes]]


def _html(report: dict[str, Any], language: str, comparison: dict[str, Any] | None = None) -> dict[str, bytes]:
    from analyzer.report import html_report  # noqa: PLC0415 - Jinja2 only when HTML is written (start-up)

    return html_report.render(report, language, comparison)


# JSON, CSV and JUnit are for machines and carry both languages' messages or none; HTML and Markdown are read.
RENDERERS: dict[str, Renderer] = {
    "json": lambda report, _language: {"report.json": dumps(report).encode("utf-8")},
    "html": _html,
    "csv": lambda report, _language: csv_report.render(report),
    "md": markdown_report.render,
    "junit": lambda report, _language: junit_report.render(report),
}


def write_reports(
    report: dict[str, Any],
    formats: list[str],
    folder: Path,
    language: str = "en",
    comparison: dict[str, Any] | None = None,
    extra: dict[str, bytes] | None = None,
) -> list[Path]:
    """Write report.json, the files of every format asked for and any `extra` files as one set (`output`: staged,
    then moved into place with a completion marker); the paths written, in a stable order. With a `comparison`
    (scan --baseline), the HTML report gets its before/after section."""
    staging = output.staging_folder(folder)
    names: list[str] = []
    try:
        for name in ["json", *(f for f in formats if f != "json")]:
            # The two views that grow with the findings are streamed to disk; the others are small by design.
            if name == "json":
                names.append(json_report.write(report, staging / "report.json").name)
                continue
            if name == "csv":
                names.extend(path.name for path in csv_report.write(report, staging))
                continue
            # HTML is the only view that shows a comparison inline.
            files = _html(report, language, comparison) if name == "html" else RENDERERS[name](report, language)
            for filename, content in files.items():
                (staging / filename).write_bytes(content)
                names.append(filename)
        for filename, content in (extra or {}).items():
            (staging / filename).write_bytes(content)
            names.append(filename)
    except OSError as error:
        output.discard(staging)
        raise output.OutputError(f"{folder}: cannot write the reports: {error.strerror or error}") from None
    except BaseException:
        output.discard(staging)
        raise
    return output.publish(staging, folder, names)
