"""The collection script (`analyzer/exchange/collect.ps1`), tested as far as a machine without PowerShell allows:
it parses under a real PowerShell grammar (tree-sitter-powershell); every command it runs reads and changes
nothing; each Exchange cmdlet is called only with parameters that exist on every Exchange version the script runs
it on (Microsoft's cmdlet reference, `tests/data/exchange-cmdlets/parameters.json`); it keeps to Windows PowerShell
2.0 outside -Resume; and the manifest it writes has exactly the keys and statuses the analyzer reads. What only a
Windows lab can show is in docs/collect-lab-test.md."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_powershell as tsp
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.exchange import dates
from analyzer.exchange import manifest as manifest_module
from analyzer.exchange.manifest import STATUSES
from analyzer.synthetic import collection

SCRIPT = Path(dates.__file__).parent / "collect.ps1"
FACTS = json.loads((Path(__file__).parents[1] / "data" / "exchange-cmdlets" / "parameters.json").read_text())
ALL_VERSIONS = frozenset(FACTS["versions"])
MODERN = frozenset({"2013", "2016", "2019"})  # what `if ($modern ...)` selects: AdminDisplayVersion major 15

FORBIDDEN = {"Set", "New", "Remove", "Enable", "Disable", "Start", "Stop", "Restart", "Move", "Add", "Clear",
             "Install", "Update", "Mount", "Dismount", "Suspend", "Resume", "Import"}  # fmt: skip
# Local only: objects in memory, .NET types, a module's commands, and the collector's own background job.
ALLOWED_EXCEPTIONS = {"Add-Type", "Add-Member", "Add-PSSnapin", "Import-Module", "Stop-Job"}
COMMAND = re.compile(r"(?<![\w-])([A-Za-z]+)-([A-Za-z][A-Za-z0-9]*)(?![\w-])")

# PowerShell's own commands the script may run: each reads, or acts only on this machine's memory and files.
POWERSHELL_READS = {"Get-Command", "Get-Date", "Get-Content", "Get-Culture", "Get-Item", "Get-ItemProperty",
                    "Get-ExecutionPolicy", "Get-WmiObject", "Get-WebBinding", "Get-WebConfigurationProperty",
                    "Test-Path", "Join-Path", "Select-Object", "Where-Object", "ForEach-Object", "Sort-Object",
                    "Export-Clixml", "ConvertFrom-Json", "Write-Host", "Write-Warning", "Invoke-Command", "Wait-Job",
                    "Receive-Job", "Stop-Job", "Import-Module", "Add-Member", "Add-Type"}  # fmt: skip
# Exchange cmdlets run without parameters, each only where the shell has it (Save-IfAvailable / Test-Cmdlet).
EXCHANGE_WITHOUT_PARAMETERS = {"Get-AuthenticationPolicy", "Get-AdminAuditLogConfig", "Get-RpcClientAccess",
                               "Get-DatabaseAvailabilityGroup", "Get-EdgeSubscription", "Get-MobileDeviceMailboxPolicy",
                               "Get-RoleGroup", "Get-TransportService", "Get-TransportServer"}  # fmt: skip
_PARSER = ts.Parser(ts.Language(tsp.language()))


def _script() -> str:
    result = CliRunner().invoke(app, ["collect-script"])
    assert result.exit_code == 0
    return result.stdout


def _tree(text: str) -> tuple[ts.Tree, bytes]:
    source = text.encode("utf-8")
    return _PARSER.parse(source), source


def _nodes(node: ts.Node, kind: str) -> Iterator[ts.Node]:
    if node.type == kind:
        yield node
    for child in node.children:
        yield from _nodes(child, kind)


def _syntax_errors(text: str) -> list[str]:
    tree, source = _tree(text)
    found: list[str] = []

    def walk(node: ts.Node) -> None:
        if node.type == "ERROR" or node.is_missing:
            found.append(f"line {node.start_point.row + 1}: {source[node.start_byte : node.end_byte][:60]!r}")
            return
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return found


def _text(node: ts.Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8")


# -- Syntax -------------------------------------------------------------------------------------------------------


def test_the_script_parses_with_a_powershell_grammar() -> None:
    assert _syntax_errors(_script()) == []


def test_the_grammar_gap_the_script_writes_around_is_still_there() -> None:
    """`Select-Object a, b` is valid PowerShell that tree-sitter-powershell 0.25 rejects; the script writes
    `Select-Object -Property @("a", "b")`, which both accept. When the grammar learns the short form this test
    fails: the workaround may go."""
    assert _syntax_errors("Get-Mailbox | Select-Object Name, Guid\n")
    assert _syntax_errors('Get-Mailbox | Select-Object -Property @("Name", "Guid")\n') == []
    assert not re.search(r"Select-Object\s+(?!-)[A-Za-z@\"]", _code(_script()))  # the script keeps to the long form


# -- Only commands that read ---------------------------------------------------------------------------------------


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


def _commands(script: str) -> set[str]:
    """Every Verb-Noun word in the script's code, strings included (commands built from text are seen too)."""
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


def _defined_functions(script: str) -> set[str]:
    tree, source = _tree(script)
    return {_text(n.child_by_field_name("function_name") or n.children[1], source) for n in _nodes(tree.root_node,
                                                                                                  "function_statement")}  # fmt: skip


def _unknown_commands(script: str) -> list[str]:
    tree, source = _tree(script)
    known = _defined_functions(script) | POWERSHELL_READS | set(FACTS["cmdlets"]) | EXCHANGE_WITHOUT_PARAMETERS
    names = {_text(n, source) for n in _nodes(tree.root_node, "command_name")}
    return sorted(name for name in names if name not in known)


def test_every_command_the_script_runs_is_one_known_to_read() -> None:
    assert _unknown_commands(_script()) == []
    assert _unknown_commands(_script() + "\nClear-Host\n") == ["Clear-Host"]  # the check sees a new command


# -- Parameters that exist on every version the script runs them on ---------------------------------------------


_NEEDS_MODERN = re.compile(r"\$modern(\s+-and\s+.*)?", re.DOTALL)


def _versions_at(node: ts.Node, source: bytes) -> frozenset[str]:
    """The Exchange versions a command runs on: Exchange 2013 and later inside the first block of an
    `if ($modern)` or `if ($modern -and …)`, every version elsewhere (an `else` or an `-or` selects 2010 too)."""
    versions = ALL_VERSIONS
    child, parent = node, node.parent
    while parent is not None:
        if parent.type == "if_statement" and child.type == "statement_block":
            condition = _text(parent.children[2], source)
            first_block = next(c for c in parent.children if c.type == "statement_block")
            if child == first_block and _NEEDS_MODERN.fullmatch(condition):
                versions = versions & MODERN
        child, parent = parent, parent.parent
    return versions


def _guarded(node: ts.Node, source: bytes) -> bool:
    """Run through Save-IfAvailable: only where the shell has the cmdlet."""
    parent = node.parent
    while parent is not None:
        if parent.type == "command" and _text(parent.children[0], source) == "Save-IfAvailable":
            return True
        parent = parent.parent
    return False


def _parameter_gaps(script: str) -> list[str]:
    tree, source = _tree(script)
    gaps = []
    for command in _nodes(tree.root_node, "command"):
        name = _text(command.children[0], source)
        facts = FACTS["cmdlets"].get(name)
        if facts is None:
            continue
        versions = _versions_at(command, source)
        applicable = frozenset(facts["applicable"])
        if _guarded(command, source):
            versions &= applicable
        elif not versions <= applicable:
            gaps.append(f"{name} runs on {sorted(versions - applicable)}, where it does not exist")
        for parameter in _nodes(command, "command_parameter"):
            if parameter.parent is None or parameter.parent.parent != command:
                continue  # a parameter of a command nested in this one's script block
            wanted = _text(parameter, source).lstrip("-").rstrip(":")
            known = {key.lower(): set(value) for key, value in facts["parameters"].items()}
            has = known.get(wanted.lower())
            if has is None or not versions <= has:
                gaps.append(f"{name} -{wanted} on {sorted(versions - (has or set()))}")
    return sorted(gaps)


def test_each_exchange_cmdlet_has_its_parameters_on_every_version_it_runs_on() -> None:
    assert _parameter_gaps(_script()) == []


@pytest.mark.parametrize(
    ("planted", "gap"),
    [
        # Get-IPBlockListProvider has no -Server (the first draft of this script used one).
        ("Save-Export 'x' 'y' '' { Get-IPBlockListProvider -Server $name }", "Get-IPBlockListProvider -Server"),
        ("Save-Export 'x' 'y' '' { Get-RemoteDomain -ResultSize Unlimited }", "Get-RemoteDomain -ResultSize"),
        ("Save-Export 'x' 'y' '' { Get-ServerComponentState -Identity $name }", "Get-ServerComponentState runs on"),
    ],
)
def test_the_parameter_check_catches_what_an_exchange_version_lacks(planted: str, gap: str) -> None:
    gaps = _parameter_gaps(_script() + "\n" + planted + "\n")
    assert any(g.startswith(gap) for g in gaps), gaps


def test_no_command_is_built_from_text_with_parameters() -> None:
    """Commands made with [scriptblock]::Create are invisible to the parameter check: they hold none."""
    built = re.findall(r"\[scriptblock\]::Create\(([^)]*)\)", _code(_script()))
    assert built, "the script builds the anti-spam and virtual-directory commands from their names"
    assert [text for text in built if re.search(r"\s-[A-Za-z]", text)] == []


# -- Where it runs ---------------------------------------------------------------------------------------------


def test_it_stops_outside_the_exchange_shell_and_resolves_the_output_folder_first() -> None:
    code = _code(_script())
    check = code.index("Get-Command Get-ExchangeServer")
    assert "exit 2" in code[check : code.index("}", check)]
    resolved = code.index("GetUnresolvedProviderPathFromPSPath($OutputFolder)")
    assert resolved < code.index("[System.IO.")  # no .NET call sees a relative path (it resolves from the process)


def test_exports_stream_to_disk_and_errors_are_collected_from_the_error_stream() -> None:
    code = _code(_script())
    assert re.search(r"& \$Query 2>&1 \| ForEach-Object \{.*?\} \| Export-Clixml", code, re.DOTALL)
    assert not re.search(r"=\s*& \$Query", code)  # never the whole answer in memory first


def test_outside_resume_the_script_keeps_to_windows_powershell_2() -> None:
    code = _code(_script())
    resume = re.search(r"function Read-EarlierRun \{.*?\n\}", code, re.DOTALL)
    assert resume is not None
    rest = code.replace(resume.group(0), "")
    newer = [r"\[pscustomobject\]", r"\[ordered\]", r"-NotePropertyName", r"ConvertTo-Json\b", r"Get-CimInstance",
             r"\$PSCommandPath", r"\s-in\s", r"\s-notin\s", r"\.ForEach\(", r"\.Where\(", r"Get-FileHash",
             r"Compress-Archive", r" -Raw\b"]  # fmt: skip
    assert [pattern for pattern in newer if re.search(pattern, rest, re.IGNORECASE)] == []
    assert "Get-Command ConvertFrom-Json" in code  # -Resume says so on 2.0 instead of failing


def test_the_script_states_what_it_needs_and_what_comes_next(tmp_path: Path) -> None:
    script = _script()
    for needed in ("foreach ($server in $chosen)", "Get-PopSettings -Server $name", "Get-ImapSettings -Server $name",
                   "Get-ExchangeCertificate -Server $name", "Get-ServerComponentState -Identity $name",
                   "Get-CASMailbox -ResultSize Unlimited", "Get-Mailbox -ResultSize Unlimited", "Win32_Service",
                   "manifest.json", "View-Only Organization Management", "local administrator", "Unblock-File",
                   "AllSigned", "-EdgeLocal", "-Resume", "exaudit scan", "Exchange 2007", "Exchange Server SE",
                   "-TimeoutSeconds", "-ThrottleLimit"):  # fmt: skip
        assert needed in script, needed
    target = tmp_path / "collect.ps1"
    assert CliRunner().invoke(app, ["collect-script", "--out", str(target)]).exit_code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")


# -- The manifest it writes is the one the analyzer reads -----------------------------------------------------------


def _hashtable_keys(code: str, after: str) -> set[str]:
    """The keys of the first `@{ … }` literal after `after` (keys written `name = value`)."""
    start = code.index("@{", code.index(after))
    depth, end = 0, start
    for end in range(start + 1, len(code)):
        depth += {"{": 1, "}": -1}.get(code[end], 0)
        if depth == 0:
            break
    body = code[start + 2 : end]
    flat = re.sub(r"@\{[^{}]*\}", "", body)  # nested literals' keys are not this one's
    return set(re.findall(r"(?:^|[;\n])\s*([a-z_]+)\s*=", flat))


def test_the_results_and_manifest_keys_are_those_the_analyzer_and_its_tests_use() -> None:
    code = _code(_script())
    assert _hashtable_keys(code, "$script:Results += @{\n        path") == set(collection.RESULT_KEYS)
    assert _hashtable_keys(code, "$manifest = @{") == set(collection.MANIFEST_KEYS)
    colours = _hashtable_keys(code, "$colour = @{").union(re.findall(r"(\w+) = \"\w+\"", code[code.index("$colour"):
                                                                                            code.index("}[$Status]")]))  # fmt: skip
    assert colours == set(STATUSES)
    written = set(re.findall(r'\$status = "(\w+)"', code)) | set(re.findall(r'"(unavailable|skipped|failed)" "', code))
    assert written <= set(STATUSES) and {"ok", "empty", "partial", "failed", "unavailable", "skipped"} <= written
    reader = inspect.getsource(manifest_module._result)
    read = set(re.findall(r'item\.get\("(\w+)"', reader)) | set(re.findall(r'for key in \(([^)]*)\)', reader)[0][1:-1]
                                                                        .replace('"', "").split(", "))  # fmt: skip
    assert read <= set(collection.RESULT_KEYS) and {"cmdlet", "status", "errors", "error_count"} <= read


def test_the_manifest_records_every_culture_fact_the_date_reader_uses() -> None:
    """The manifest's `culture` is what decides a text export's day/month order and zone (dates.py): each key
    settings_from_manifest reads is written by the script, from the session's DateTimeFormat and zone."""
    script = SCRIPT.read_text(encoding="utf-8")
    read = set(re.findall(r'recorded\.get\("(\w+)"\)', inspect.getsource(dates.settings_from_manifest)))
    assert read == {"name", "short_date_pattern", "long_time_pattern", "am_designator", "pm_designator",
                    "calendar", "time_zone_id"}  # fmt: skip
    for key in read:
        assert re.search(rf"^\s+{key} = \[string\]", script, re.M), key
    assert "culture = $culture" in script and "utc_offset = " in script
