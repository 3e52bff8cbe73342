"""The templates' precompiled modules: current, used only while they match, and rendering what the template
renders when compiled from its source."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import jinja2
import pytest

from analyzer.batch import BundleOutcome, portfolio_rows
from analyzer.pipeline import ScanOptions, packaged_demo, scan
from analyzer.report import html_report, portfolio, precompiled
from analyzer.report.json_report import build

FOLDER = Path(precompiled.__file__).parent


@pytest.mark.parametrize("template", precompiled.TEMPLATES)
def test_each_module_is_what_the_template_compiles_to(template: str) -> None:
    written = (FOLDER / f"{precompiled.module_name(template)}.py").read_text(encoding="utf-8")
    made_with = re.search(r"jinja2:(\S+)'", written)
    assert made_with is not None
    source = html_report.template_source(template)
    if made_with.group(1) == jinja2.__version__:
        # After editing a template: python -m analyzer.report.precompiled
        assert written == precompiled.generate(html_report.environment(), template, source)
        assert precompiled.namespace(template, source) is not None
    else:  # another Jinja2 is installed: its own compiler is used, never the module made by another
        assert precompiled.namespace(template, source) is None


def test_a_template_edited_in_place_is_compiled_from_its_source() -> None:
    source = html_report.template_source("report.html.j2")
    assert precompiled.namespace("report.html.j2", source + "<!-- edited -->") is None
    assert precompiled.namespace("no-such.html.j2", source) is None


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build(scan(ScanOptions([packaged_demo()], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))))


def _compiled_from_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precompiled, "namespace", lambda template, source: None)
    monkeypatch.setattr(html_report, "environment", html_report.environment.__wrapped__)  # a new one, uncached
    monkeypatch.setattr(portfolio, "environment", html_report.environment)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_report_renders_the_same_either_way(
    report: dict[str, Any], language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert precompiled.namespace("report.html.j2", html_report.template_source("report.html.j2")) is not None
    ahead = html_report.render(report, language)["report.html"]
    _compiled_from_source(monkeypatch)
    assert html_report.render(report, language)["report.html"] == ahead


def test_the_portfolio_renders_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = [
        BundleOutcome("customer-a", "a", "scanned", verdicts={"pop3": "ready", "imap4": "not_ready"},
                      summary={"pass": 30, "fail": 2}, failing_by_severity={"high": 2}, failing_findings=5,
                      input_files=9, servers=2, reports=["customer-a/report.html"]),
        BundleOutcome("customer-b <b>", "b.zip", "failed", error="b.zip: not a zip file"),
    ]  # fmt: skip
    rows = portfolio_rows(outcomes)
    ignored = [(Path("notes.txt"), "not_a_bundle")]
    ahead = portfolio.render(rows, ignored, "2026-11-27T00:00:00Z")["portfolio.html"]
    _compiled_from_source(monkeypatch)
    assert portfolio.render(rows, ignored, "2026-11-27T00:00:00Z")["portfolio.html"] == ahead
