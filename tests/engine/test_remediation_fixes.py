"""Fixes that fix (issue 19, item 5): every remediation command changes the state its rule checks.

Each rule's checked properties (the columns of its assertion) are mapped to the cmdlet and parameter that set them;
a command must hold one of them, and a command that only reads (Get-… | Format-List) is no fix. Settings the POP3
and IMAP4 services read only when they start (Set-PopSettings, Set-ImapSettings) come with a restart of the
front-end and back-end services. Where no one command fixes it (a certificate to renew, import and enable), the
commands are the steps in order."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_powershell as tsp

from analyzer.engine.loader import Rule, load_rules
from analyzer.engine.verdicts import _columns
from analyzer.pipeline import ScanOptions, scan

RULES = load_rules([Path(__file__).resolve().parents[2] / "rules" / "pop-imap"])

# What sets each checked property: a parameter (`-LoginType`) or a cmdlet (`Start-Service`). A property with more
# than one way lists them all; a command needs one.
SETTERS: dict[str, tuple[str, ...]] = {
    "LoginType": ("-LoginType",),
    "UnencryptedOrTLSBindings": ("-UnencryptedOrTLSBindings", "-LoginType"),  # SecureLogin makes them TLS-only
    "SSLBindings": ("-SSLBindings",),
    "ExternalConnectionSettings": ("-ExternalConnectionSettings",),
    "InternalConnectionSettings": ("-InternalConnectionSettings",),
    "ProtocolLogEnabled": ("-ProtocolLogEnabled",),
    "EnableGSSAPIAndNTLMAuth": ("-EnableGSSAPIAndNTLMAuth",),
    "ExtendedProtectionPolicy": ("-ExtendedProtectionPolicy",),
    "StartType": ("-StartupType",),
    "Status": ("Start-Service", "Stop-Service", "Restart-Service", "Enable-ExchangeCertificate"),
    "State": ("-State",),
    "PopEnabled": ("-PopEnabled",),
    "ImapEnabled": ("-ImapEnabled",),
    "BlockLegacyAuthPop": ("-BlockLegacyAuthPop", "-AuthenticationPolicy"),
    "BlockLegacyAuthImap": ("-BlockLegacyAuthImap", "-AuthenticationPolicy"),
    "HasPrivateKey": ("Import-ExchangeCertificate",),
    "NotAfter": ("New-ExchangeCertificate", "Import-ExchangeCertificate"),
    "IsSelfSigned": ("New-ExchangeCertificate -GenerateRequest",),
    "PublicKeySize": ("-KeySize",),
    "SignatureAlgorithm": ("New-ExchangeCertificate -GenerateRequest",),
}
RESTARTS = {"Set-PopSettings": ("MSExchangePOP3", "MSExchangePOP3BE"),
            "Set-ImapSettings": ("MSExchangeIMAP4", "MSExchangeIMAP4BE")}  # fmt: skip
CHANGING = re.compile(r"\b(Set|Enable|New|Import|Start|Stop|Restart)-[A-Za-z]+")


def _checked(rule: Rule) -> set[str]:
    check = rule.check
    judged = (check.get("join") or {}).get("assert") or check.get("assert") or check.get("count")
    return set(_columns(judged))


def _commanded() -> list[Rule]:
    return [rule for rule in RULES if rule.remediation.get("command")]


@pytest.mark.parametrize("rule", _commanded(), ids=lambda rule: rule.id)
def test_the_command_sets_what_the_rule_checks(rule: Rule) -> None:
    command = rule.remediation["command"]
    assert CHANGING.search(command), f"{rule.id}: the command only reads"
    checked = _checked(rule)
    setters = [setter for column in checked for setter in SETTERS.get(column, ())]
    assert any(setter in command for setter in setters), f"{rule.id}: nothing in the command sets {sorted(checked)}"


@pytest.mark.parametrize("rule", _commanded(), ids=lambda rule: rule.id)
def test_protocol_settings_are_followed_by_a_restart_of_both_services(rule: Rule) -> None:
    command = rule.remediation["command"]
    for cmdlet, services in RESTARTS.items():
        if cmdlet in command:
            restart = command[command.index(cmdlet) :]
            assert "Restart-Service" in restart and all(s in restart for s in services), rule.id


def test_every_checked_property_of_a_commanded_rule_has_a_known_setter() -> None:
    """The table above covers the pack: a rule that checks something new needs its setter named here."""
    unknown = {column for rule in _commanded() for column in _checked(rule)} - set(SETTERS)
    assert unknown == set()


def test_the_meta_test_catches_a_command_that_only_reads() -> None:
    [expired] = [rule for rule in RULES if rule.id == "POP-CRT-002"]
    reading = "Get-ExchangeCertificate -Server {server} | Format-List Thumbprint,NotAfter"
    assert not CHANGING.search(reading)
    assert not any(setter in reading for column in _checked(expired) for setter in SETTERS[column])


def test_every_rendered_command_parses_as_powershell() -> None:
    """The commands as a report shows them — values quoted, steps on their lines — parse under a PowerShell grammar
    (tree-sitter-powershell; no PowerShell runs here)."""
    parser = ts.Parser(ts.Language(tsp.language()))
    samples = Path(__file__).resolve().parents[2] / "samples"
    commands = {
        finding.remediation
        for sample in ("mistakes-2016", "mixed-formats", "healthy-2019")
        for result in scan(ScanOptions([samples / sample], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))).results
        for finding in result.findings
        if finding.remediation
    }
    assert len(commands) >= 10

    def broken(node: ts.Node) -> bool:
        return node.type == "ERROR" or node.is_missing or any(broken(child) for child in node.children)

    assert [command for command in commands if broken(parser.parse(command.encode("utf-8")).root_node)] == []
