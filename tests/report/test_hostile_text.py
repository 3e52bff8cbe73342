"""Values from a customer's export reach people through the console and the reports. An ESC in a display name must
not reach a terminal, NUL must not reach HTML, and `[/]` must not be taken as console markup; report.json keeps
the exact value (JSON escapes controls itself)."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.engine.powershell import is_inert
from analyzer.hidden_chars import HIDDEN_RANGES
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
    assert "User 000001 <us\x00er\x1b]0;pwned\x07[/]@contoso.com>" in objects_seen  # exact in the machine format


def test_inspect_shows_a_value_that_looks_like_console_markup(tmp_path: Path) -> None:
    export = tmp_path / "cas.csv"
    export.write_text('"Name","PopEnabled"\r\n"[/]","[bold]x"\r\n', encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(export)])
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[bold]x" in result.output
    bundle = runner.invoke(app, ["inspect", str(tmp_path)])
    assert bundle.exit_code == 0, bundle.output


def test_the_hidden_character_table_is_unicodes_own() -> None:
    wanted = {"Cc", "Cf", "Zl", "Zp", "Cs"}
    expected = {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in wanted}
    listed = {c for first, last in HIDDEN_RANGES for c in range(first, last + 1)}
    assert expected <= listed
    # Unicode 15 added format characters that an older Python (3.11: Unicode 14) does not know yet.
    assert all(unicodedata.category(chr(c)) == "Cn" for c in listed - expected)


def test_bidi_overrides_and_zero_width_characters_are_shown_as_escapes() -> None:
    assert visible("a\u202eb\u2066c\u200bd\ufeffe\u2028f") == "a<U+202E>b<U+2066>c<U+200B>d<U+FEFF>e<U+2028>f"
    assert visible("\x1b") == "\u241b"  # controls keep their pictures


BIDI_GUID = "80000000-0000-0000-0000-00009e3779b1"


def test_a_value_that_reorders_text_is_escaped_everywhere_and_its_command_is_not_offered(tmp_path: Path) -> None:
    objects = [(TYPE_NAMES, *cas_mailbox(index, pop_enabled=index != 1)) for index in range(3)]
    text = clixml_bytes(objects, utf16=False).decode()
    # Mailbox 1 fails the POP3 check and its command names its identity: give it no Guid and a hostile DN.
    assert f'<G N="Guid">{BIDI_GUID}</G>' in text
    hostile_dn = "CN=evil\u202egpj.exe\u200b,OU=Users,DC=contoso,DC=com"
    text = text.replace(f'<G N="Guid">{BIDI_GUID}</G>', "").replace(f'<G N="ExchangeObjectId">{BIDI_GUID}</G>', "")
    text = text.replace("CN=user000001,OU=Users,OU=Contoso,DC=contoso,DC=com", hostile_dn)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "Get-CASMailbox.xml").write_text(
        text.replace(ADDRESS, '<S N="PrimarySmtpAddress">\u2067x\u2069@c.com</S>')
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["scan", str(bundle), "--out", str(out), "-f", "html,csv,json,md", "--as-of", "2026-11-27"]
    )
    assert result.exit_code in (0, 1), result.output
    shown = {"console": result.output} | {p.name: p.read_text("utf-8-sig") for p in out.iterdir()}
    for name in ("console", "summary.md", "findings.csv", "report.html"):
        assert not any(c in shown[name] for c in "\u202e\u200b\u2067\u2069"), name
        assert re.search(r"U\+2067.{0,6}x.{0,6}U\+2069", shown[name]), name  # each format escapes < its way
    report = json.loads(shown["report.json"])
    commands = [f["remediation"] for r in report["results"] for f in r["findings"] if f["remediation"]]
    hostile = [c for c in commands if "evil" in c]
    assert hostile, commands
    for command in hostile:
        assert is_inert(command) and "U+202E" in command.split("\n")[0]
        assert "evil<U+202E>gpj.exe<U+200B>" in command and "\u202e" not in command
    html = shown["report.html"]
    assert html.count('class="command inert"') == len(hostile)
    assert 'data-command="# exaudit' not in html  # no copy button on an inert command
