"""The collection script is read-only: no state-changing verb appears as a command anywhere in it."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app

FORBIDDEN = {"Set", "New", "Remove", "Enable", "Disable", "Start", "Stop", "Restart", "Move", "Add", "Clear",
             "Install", "Update", "Mount", "Dismount", "Suspend", "Resume", "Import"}  # fmt: skip
ALLOWED_EXCEPTIONS = {"Add-Type", "Add-Member", "Add-PSSnapin", "Import-Module"}
COMMAND = re.compile(r"(?<![\w-])([A-Za-z]+)-([A-Za-z][A-Za-z0-9]*)(?![\w-])")


def _code(script: str) -> str:
    """The script without comments: block comments, then `#` to the end of a line outside strings."""
    without_blocks = re.sub(r"<#.*?#>", "", script, flags=re.DOTALL)
    lines = []
    for line in without_blocks.splitlines():
        quote = None
        end = len(line)
        for position, char in enumerate(line):
            if char in "\"'" and quote in (None, char):
                quote = None if quote else char
            elif char == "#" and quote is None:
                end = position
                break
        lines.append(line[:end])
    return "\n".join(lines)


def _script() -> str:
    result = CliRunner().invoke(app, ["collect-script"])
    assert result.exit_code == 0
    return result.stdout


def _commands(script: str) -> set[str]:
    """Every Verb-Noun word in the script's code, spelt as written (PowerShell ignores case in command names)."""
    return {f"{verb}-{noun}" for verb, noun in COMMAND.findall(_code(script))}


def _state_changing(commands: set[str]) -> list[str]:
    forbidden = {verb.lower() for verb in FORBIDDEN}
    allowed = {name.lower() for name in ALLOWED_EXCEPTIONS}
    return sorted(c for c in commands if c.split("-")[0].lower() in forbidden and c.lower() not in allowed)


def test_the_script_uses_no_state_changing_verb() -> None:
    commands = _commands(_script())
    assert _state_changing(commands) == []
    # The check itself finds commands: the script's real work is visible to it.
    assert {"Get-ExchangeServer", "Get-PopSettings", "Get-ImapSettings", "Invoke-Command", "Export-Clixml"} <= commands


def test_the_verb_check_would_catch_a_state_change_in_any_case() -> None:
    for tampering, command in (("Set-PopSettings -LoginType SecureLogin", "Set-PopSettings"),
                               ("set-PopSettings -LoginType SecureLogin", "set-PopSettings"),
                               ("REMOVE-MAILBOX x", "REMOVE-MAILBOX"), ("  $x | stop-Service", "stop-Service")):  # fmt: skip
        assert _state_changing(_commands(_script() + "\n" + tampering + "\n")) == [command]


def test_the_script_covers_every_server_and_states_permissions(tmp_path: Path) -> None:
    script = _script()
    assert "foreach ($server in $servers)" in script
    for needed in ("Get-PopSettings -Server $name", "Get-ImapSettings -Server $name", "Get-ExchangeCertificate -Server $name",
                   "Get-ServerComponentState -Identity $name", "Get-CASMailbox -ResultSize Unlimited",
                   "Get-Mailbox -ResultSize Unlimited", "Get-ReceiveConnector", "Get-AuthenticationPolicy",
                   "Get-OrganizationConfig", "Win32_Service", "manifest.json", "View-Only Organization Management",
                   "Exchange 2007"):  # fmt: skip
        assert needed in script, needed
    target = tmp_path / "collect.ps1"
    assert CliRunner().invoke(app, ["collect-script", "--out", str(target)]).exit_code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_manifest_records_every_culture_fact_the_date_reader_uses() -> None:
    """The manifest's `culture` is what decides a text export's day/month order and zone (dates.py): each key
    settings_from_manifest reads is written by the script, from the session's DateTimeFormat and zone."""
    import inspect

    from analyzer.exchange import dates

    script = (Path(dates.__file__).parent / "collect.ps1").read_text(encoding="utf-8")
    read = set(re.findall(r'recorded\.get\("(\w+)"\)', inspect.getsource(dates.settings_from_manifest)))
    assert read == {"name", "short_date_pattern", "long_time_pattern", "am_designator", "pm_designator",
                    "calendar", "time_zone_id"}  # fmt: skip
    for key in read:
        assert re.search(rf"^\s+{key} = \[string\]", script, re.M), key
    assert "culture = $culture" in script
