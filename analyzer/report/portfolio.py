"""The portfolio of a `batch` run: one row per bundle, as portfolio.json, portfolio.csv and portfolio.html.

Same rules as the single-bundle reports: deterministic (no timings, rows sorted by bundle), CSV cells neutralised
for Excel, HTML self-contained with autoescape and a CSP that allows only its own inline style.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.batch import IGNORED_BECAUSE
from analyzer.engine.verdicts import PROTOCOLS
from analyzer.report.csv_report import table
from analyzer.report.html_report import csp_hash, environment, template_source
from analyzer.report.labels import labels, number, timestamp


def render(rows: list[dict[str, Any]], ignored: list[tuple[Path, str]], generated_at: str, language: str = "en"
           ) -> dict[str, bytes]:  # fmt: skip
    skipped = [{"path": str(path), "why": why, "reason": IGNORED_BECAUSE[why]} for path, why in ignored]
    document = {"tool": {"name": "exaudit", "version": __version__}, "generated_at": generated_at,
                "bundles": rows, "ignored": skipped}  # fmt: skip
    header = list(rows[0]) if rows else ["bundle", "source", "status", "error"]
    style = template_source("report.css")
    html = (
        environment()
        .get_template("portfolio.html.j2")
        .render(
            lang=language,
            t=labels(language),
            rows=rows,
            protocols=[c for c in header if c in PROTOCOLS],
            ignored=skipped,
            generated=timestamp(generated_at, language),
            version=__version__,
            num=lambda value: number(int(value)),
            style=style,
            csp=f"default-src 'none'; style-src {csp_hash(style)}; base-uri 'none'; form-action 'none'",
        )
    )
    return {
        "portfolio.json": (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        "portfolio.csv": table(header, ([row[c] for c in header] for row in rows)),
        "portfolio.html": html.encode("utf-8"),
    }
