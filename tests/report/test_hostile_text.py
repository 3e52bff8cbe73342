"""Values from a customer's export reach people through the console and the reports. An ESC in a display name must
not reach a terminal, NUL must not reach HTML, and `[/]` must not be taken as console markup; report.json keeps
the exact value (JSON escapes controls itself)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.report.visible import visible
from analyzer.synthetic.cas_mailbox import TYPE_NAMES, cas_mailbox
from analyzer.synthetic.samples import clixml_bytes

runner = CliRunner()
ADDRESS = '<S N="PrimarySmtpAddress">user000001@contoso.com</S>'
HOSTILE = "us_x0000_er_x001B_]0;pwned_x0007_[/]@contoso.com"  # NUL, an OSC title sequence, BEL, rich markup


def test_visible_shows_controls_as_pictures_and_leaves_text_alone() -> None:
    assert visible("a\x00b\x1bc\x7fd\x9be") == "a\u2400b\u241bc\u2421d\ufffde"
    assert visible("tab\tline\nreturn\r") == "tab\tline\nreturn\r"
    assert visible("メール user@contoso.com") == "メール user@contoso.com"
    assert visible(None) == ""


def test_no_report_and_no_console_line_carries_a_control_character(tmp_path: Path) -> None:
    objects = [(TYPE_NAMES, *cas_mailbox(index, pop_enabled=index != 1)) for index in range(3)]
    text = clixml_bytes(objects, utf16=False).decode()
    assert ADDRESS in text
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "Get-CASMailbox.xml").write_text(text.replace(ADDRESS, f'<S N="PrimarySmtpAddress">{HOSTILE}</S>'))
    out = tmp_path / "out"
    result = runner.invoke(app, ["scan", str(bundle), "--out", str(out), "-f", "html,csv,json,md,junit",
                                 "--as-of", "2026-11-27"])  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    shown = {"console": result.output.encode()} | {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(shown) >= {"console", "report.html", "summary.md", "findings.csv", "junit.xml", "report.json"}
    for name, data in shown.items():
        assert b"\x00" not in data and b"\x07" not in data, name
        assert b"\x1b]" not in data, name  # rich's own colours may use ESC [, a value's OSC never reaches output
    for name in ("console", "summary.md", "findings.csv", "report.html"):
        text = shown[name].decode()
        assert "us\u2400er\u241b" in text and "pwned\u2407" in text, name  # shown, not obeyed
    report = json.loads(shown["report.json"])
    objects_seen = {f["object"] for r in report["results"] for f in r["findings"]}
    assert "us\x00er\x1b]0;pwned\x07[/]@contoso.com" in objects_seen  # exact in the machine format


def test_inspect_shows_a_value_that_looks_like_console_markup(tmp_path: Path) -> None:
    export = tmp_path / "cas.csv"
    export.write_text('"Name","PopEnabled"\r\n"[/]","[bold]x"\r\n', encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(export)])
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[bold]x" in result.output
    bundle = runner.invoke(app, ["inspect", str(tmp_path)])
    assert bundle.exit_code == 0, bundle.output
