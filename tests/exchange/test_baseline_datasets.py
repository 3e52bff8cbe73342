"""The datasets the hardening baselines read, from real exports (Microsoft CSS-Exchange's HealthChecker test data,
tests/data/real/PROVENANCE.md) and from the shapes other formats give them; and a scan tells what is missing only
for the datasets its rules read."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from analyzer.engine.evaluate import Evidence, evaluate_rule
from analyzer.engine.loader import load_rule
from analyzer.engine.ruletests import run_case
from analyzer.exchange import values as v
from analyzer.exchange.bundle import load_bundle
from analyzer.exchange.catalog import BY_NAME, recognise
from analyzer.exchange.datasets import DATASETS
from analyzer.readers.psvalues import PSTimeSpan
from analyzer.synthetic.exchange_objects import ExchangeObject
from analyzer.synthetic.samples import clixml_bytes
from tests.conftest import CSS

E16 = "Diagnostics__HealthChecker__Tests__DataCollection__E16__Exchange__"
E19 = "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__"


def _bundle(tmp_path: Path, prefix: str, *names: str) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name in ("GetExchangeServer", *names):
        shutil.copy(CSS / f"{prefix}{name}.xml", folder / f"{name}.xml")
    return folder


@pytest.mark.parametrize(("prefix", "server"), [(E16, "SOLO-E16A"), (E19, "SOLO-E19A")])
def test_owa_virtual_directories_are_read_with_their_sign_in_methods_and_server(
    tmp_path: Path, prefix: str, server: str
) -> None:
    bundle = load_bundle([_bundle(tmp_path, prefix, "GetOwaVirtualDirectory")])
    assert not bundle.problems
    [row] = bundle.datasets["owa_virtual_directory"].frame.to_dict("records")
    assert row["server_key"] == server and row["Name"] == "owa (Default Web Site)"
    assert str(row["InternalUrl"]).startswith("https://") and str(row["InternalUrl"]).endswith("/owa")
    for method in ("FormsAuthentication", "WindowsAuthentication", "BasicAuthentication"):
        assert row[method] in (True, False), method


def test_send_connectors_accepted_domains_and_organisation_flags_from_real_exports(tmp_path: Path) -> None:
    bundle = load_bundle([_bundle(tmp_path, E19, "GetSendConnector", "GetAcceptedDomain", "GetOrganizationConfig")])
    assert not bundle.problems
    send = bundle.datasets["send_connector"].frame.set_index("Name")
    assert "Mail to O365" in send.index
    connector = send.loc["Mail to O365"]
    assert connector["DNSRoutingEnabled"] is not pd.NA and not connector["DNSRoutingEnabled"]  # false, not unknown
    assert connector["SmartHosts"] == ["microsoft-com.mail.protection.outlook.com"]
    assert all(isinstance(spaces, list) and spaces for spaces in send["AddressSpaces"])
    domains = bundle.datasets["accepted_domain"].frame
    assert list(domains["Default"]).count(True) == 1 and domains["DomainName"].notna().all()
    organisation = bundle.datasets["organization_config"].frame.iloc[0]
    assert organisation["CustomerFeedbackEnabled"] == True  # noqa: E712 - the export says true
    server = bundle.datasets["exchange_server"].frame.iloc[0]
    assert server["ErrorReportingEnabled"] == True  # noqa: E712


def test_each_dataset_is_recognised_by_its_type_name_and_by_its_columns_alone() -> None:
    """Export-Csv without #TYPE, Format-List text and JSON carry no type name: the signature must find the dataset,
    and no two datasets may share one."""
    for spec in DATASETS:
        for suffix in spec.type_suffixes:
            assert recognise(["Deserialized.Microsoft.Exchange.Data" + suffix], []) is spec, spec.name
        for signature in spec.signatures:
            assert recognise([], sorted(signature)) is spec, (spec.name, signature)
    signatures = [signature for spec in DATASETS for signature in spec.signatures]
    assert len(set(signatures)) == len(signatures)


def test_a_scan_tells_what_is_missing_only_for_the_datasets_its_rules_read(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analyzer.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", "--demo", "-f", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "owa_virtual_directory" not in report["missing_datasets"]  # no rule of the pack reads it
    assert all("owa_virtual_directory" not in row for row in report["coverage"].values())
    assert "user" in report["missing_datasets"]  # read by the pack's authentication rules
    sample = Path(__file__).resolve().parents[2] / "samples" / "healthy-2019"
    inspected = CliRunner().invoke(app, ["inspect", str(sample), "--json"])
    assert inspected.exit_code == 0, inspected.output
    assert json.loads(inspected.output)["missing_datasets"]["owa_virtual_directory"] == (
        BY_NAME["owa_virtual_directory"].cmdlet  # inspect, which runs no rules, names every dataset the bundle lacks
    )


@pytest.mark.parametrize(
    ("parse", "given", "expected"),
    [(v.parse_size, "36 MB (37,748,736 bytes)", 37_748_736.0), (v.parse_size, "Unlimited", math.inf),
     (v.parse_size, "1.5 GB (1\u00a0610\u00a0612\u00a0736 bytes)", 1_610_612_736.0), (v.parse_size, None, None),
     (v.parse_limit, "Unlimited", math.inf), (v.parse_limit, 5000, 5000.0), (v.parse_limit, "5000", 5000.0),
     (v.parse_duration, "00:10:00", 600.0), (v.parse_duration, "30.00:00:00", 2_592_000.0),
     (v.parse_duration, "-00:00:05.5", -5.5), (v.parse_duration, "Unlimited", math.inf),
     (v.parse_duration, PSTimeSpan(36_000_000_000), 3600.0)],
)  # fmt: skip
def test_sizes_limits_and_durations_become_numbers_with_unlimited_as_infinity(
    parse: Callable[[object], float | None], given: object, expected: float | None
) -> None:
    assert parse(given) == expected


@pytest.mark.parametrize(
    ("parse", "given"),
    [(v.parse_size, "36 MB"), (v.parse_limit, "5,000"), (v.parse_limit, "lots"), (v.parse_duration, "10 minutes"),
     (v.parse_duration, "00:61")],
)  # fmt: skip
def test_a_quantity_that_is_not_one_is_refused_not_guessed(parse: Callable[[object], float | None], given: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse(given)


def test_receive_connector_limits_from_a_real_export(tmp_path: Path) -> None:
    bundle = load_bundle([_bundle(tmp_path, E19, "GetReceiveConnector")])
    frame = bundle.datasets["receive_connector"].frame
    assert set(frame["MaxMessageSize"]) == {37_748_736.0} and set(frame["MaxHopCount"]) == {60}
    assert set(frame["ConnectionTimeout"]) == {600.0} and set(frame["TarpitInterval"]) == {0.0, 5.0}
    assert set(frame["MaxInboundConnection"]) == {5000.0}


# Synthetic, to the documented Format-List shape (no public paste of `Get-MailboxDatabase | fl` was found).
FORMAT_LIST = """\

Name                          : DB01
Server                        : EX1
CircularLoggingEnabled        : False
RetainDeletedItemsUntilBackup : True
MountAtStartup                : True
ProhibitSendReceiveQuota      : Unlimited
ProhibitSendQuota             : 2 GB (2,147,483,648 bytes)
IssueWarningQuota             : 1.899 GB (2,039,480,320 bytes)
DeletedItemRetention          : 14.00:00:00
MailboxRetention              : 30.00:00:00
EdbFilePath                   : D:\\DB01\\DB01.edb

Name                          : DB02
Server                        : EX1
CircularLoggingEnabled        : True
RetainDeletedItemsUntilBackup : False
MountAtStartup                : True
ProhibitSendReceiveQuota      : 10 GB (10,737,418,240 bytes)
ProhibitSendQuota             : Unlimited
IssueWarningQuota             : Unlimited
DeletedItemRetention          : 14.00:00:00
MailboxRetention              : 30.00:00:00
EdbFilePath                   : D:\\DB02\\DB02.edb

"""

QUOTA_RULE = """\
id: TEST-QUOTA-001
title: The receive quota never blocks mail
severity: low
message: "{Name}: receive quota {ProhibitSendReceiveQuota} bytes, send quota {ProhibitSendQuota}"
check:
  each: {dataset: mailbox_database}
  assert: {any: [{column: ProhibitSendReceiveQuota, unlimited: true}, {column: ProhibitSendReceiveQuota, ge: {param: floor}}]}
params:
  floor: {type: number, default: 21474836480}
rationale: A database quota that blocks receiving loses mail.
remediation: {text: Raise or remove the quota.}
tests:
  - name: unlimited passes
    data: {mailbox_database: [{Name: DB01, ProhibitSendReceiveQuota: Unlimited}]}
    expect: {outcome: pass}
  - name: a limit under the floor fails
    data: {mailbox_database: [{Name: DB02, ProhibitSendReceiveQuota: "10 GB (10,737,418,240 bytes)"}]}
    expect: {outcome: fail, failing: [DB02]}
"""


def test_a_format_list_export_of_databases_is_typed_and_judged(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "databases.txt").write_text(FORMAT_LIST, encoding="utf-8")
    bundle = load_bundle([folder])
    frame = bundle.datasets["mailbox_database"].frame.set_index("Name")
    assert frame.loc["DB01", "ProhibitSendReceiveQuota"] == math.inf
    assert frame.loc["DB02", "ProhibitSendReceiveQuota"] == 10_737_418_240.0
    assert frame.loc["DB01", "DeletedItemRetention"] == 14 * 86_400.0
    assert frame.loc["DB02", "CircularLoggingEnabled"] == True  # noqa: E712 - a nullable boolean
    rule_file = tmp_path / "quota.yaml"
    rule_file.write_text(QUOTA_RULE, encoding="utf-8")
    rule = load_rule(rule_file)
    assert [run_case(rule, case).detail for case in rule.tests] == ["pass as expected", "fail as expected"]
    result = evaluate_rule(rule, Evidence(bundle.datasets, bundle.servers, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), {}))
    assert result.outcome == "fail" and [f.object for f in result.findings] == ["DB02"]
    # Whole numbers without ".0", Unlimited by its name: what an admin reads in the report.
    assert result.findings[0].message == "DB02: receive quota 10737418240 bytes, send quota Unlimited"


def _fact(type_name: str, fact: str, **props: object) -> tuple[tuple[str, ...], dict[str, object], dict[str, object]]:
    """An object as the collection script's host facts come back over remoting, tagged with its export."""
    return (type_name,), dict(props), {"exauditFact": fact}


def test_host_facts_as_the_collection_script_writes_them_are_read_per_server(tmp_path: Path) -> None:
    bundle_folder = tmp_path / "bundle"
    shutil.copytree(Path(__file__).resolve().parents[2] / "samples" / "healthy-2019", bundle_folder)
    server = bundle_folder / "EXCH01"
    files = {
        "ExSetup.xml": [_fact("System.Diagnostics.FileVersionInfo", "exsetup", FileName="C:\\Exchange\\Bin\\ExSetup.exe",
                              FileVersion="15.02.1544.014", ProductVersion="15.02.1544.014")],
        "Get-ExecutionPolicy.xml": [_fact("System.Management.Automation.PSCustomObject", "execution_policy",
                                          Scope=scope, ExecutionPolicy=policy)
                                    for scope, policy in (("MachinePolicy", "Undefined"), ("LocalMachine", 1))],
        "Registry.xml": [_fact("Selected.System.String", "registry", Key="HKLM:\\SYSTEM\\CurrentControlSet\\Services"
                               "\\MSExchangePOP3", Name="Start", Present=True, Value="4")],
        "Get-WebBinding.xml": [_fact("Microsoft.IIs.PowerShell.Framework.ConfigurationElement#bindings#binding",
                                     "web_binding", protocol=protocol, bindingInformation=binding, sslFlags="0",
                                     ItemXPath="/system.applicationHost/sites/site[@name='Default Web Site' and @id='1']")
                               for protocol, binding in (("https", "*:443:"), ("http", "*:80:"))],
        "OwaSslFlags.xml": [_fact("Selected.System.String", "owa_ssl", Location="Default Web Site/owa",
                                  Filter="system.webServer/security/access", SslFlags="Ssl,Ssl128")],
    }  # fmt: skip
    for name, objects in files.items():
        (server / name).write_bytes(clixml_bytes(objects))
    bundle = load_bundle([bundle_folder])
    assert not [p for p in bundle.problems if "EXCH01" in p.path], bundle.problems
    for dataset in ("exsetup", "execution_policy", "registry_value", "web_binding", "owa_ssl"):
        frame = bundle.datasets[dataset].frame
        assert set(frame["server_key"]) == {"EXCH01"}, dataset
    policies = bundle.datasets["execution_policy"].frame.set_index("Scope")["ExecutionPolicy"]
    assert dict(policies) == {"MachinePolicy": "Undefined", "LocalMachine": "RemoteSigned"}  # 1 is RemoteSigned
    assert bundle.datasets["exsetup"].frame.iloc[0]["FileVersion"] == "15.02.1544.014"
    # Every binding of a site names the site in ItemXPath: each is its own object, not a duplicate of the first.
    assert sorted(bundle.datasets["web_binding"].frame["bindingInformation"]) == ["*:443:", "*:80:"]
    registry = bundle.datasets["registry_value"].frame.iloc[0]
    assert (registry["Name"], registry["Present"], registry["Value"]) == ("Start", True, "4")


# Synthetic, to the documented Format-List shape.
ANTISPAM_FORMAT_LIST = """\

Name                       : ContentFilterConfig
Enabled                    : True
SCLRejectEnabled           : True
SCLRejectThreshold         : 7
QuarantineMailbox          :
ExternalMailEnabled        : True

"""


def test_an_antispam_agent_pasted_as_format_list_is_recognised_by_its_columns(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "content-filter.txt").write_text(ANTISPAM_FORMAT_LIST, encoding="utf-8")
    bundle = load_bundle([folder])
    row = bundle.datasets["content_filter_config"].frame.iloc[0]
    assert (row["Enabled"], row["SCLRejectThreshold"]) == (True, 7)


@pytest.mark.parametrize(("prefix", "server"), [(E16, "SOLO-E16A"), (E19, "SOLO-E19A")])
def test_web_services_virtual_directories_from_real_exports(tmp_path: Path, prefix: str, server: str) -> None:
    bundle = load_bundle([_bundle(tmp_path, prefix, "GetWebServicesVirtualDirectory")])
    assert not bundle.problems
    [row] = bundle.datasets["web_services_virtual_directory"].frame.to_dict("records")
    assert row["server_key"] == server and row["Name"] == "EWS (Default Web Site)"
    assert str(row["InternalUrl"]).lower().endswith("/ews/exchange.asmx")
    assert row["WindowsAuthentication"] in (True, False) and row["ExtendedProtectionTokenChecking"] is not None


def test_role_group_members_as_the_collection_script_exports_them(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    members: list[ExchangeObject] = [(("Selected.Microsoft.Exchange.Data.Directory.Management.ReducedRecipient",),
                {"RoleGroup": group, "Name": name, "RecordType": "User", "PrimarySmtpAddress": f"{name}@contoso.com",
                 "Identity": name, "DistinguishedName": f"CN={name},DC=contoso,DC=com"}, {})
               for group, name in (("Organization Management", "admin"), ("Records Management", "auditor"))]  # fmt: skip
    (folder / "Get-RoleGroupMember.xml").write_bytes(clixml_bytes(members))
    frame = load_bundle([folder]).datasets["role_group_member"].frame
    assert dict(zip(frame["Name"], frame["RoleGroup"], strict=True)) == {
        "admin": "Organization Management", "auditor": "Records Management"}  # fmt: skip


def test_a_member_of_two_role_groups_is_a_member_of_both(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    members = [_fact("System.Management.Automation.PSCustomObject", "role_group_member", RoleGroup=group, Name="Admin1",
                     RecordType="User", DistinguishedName="CN=Admin1,OU=Admins,DC=contoso,DC=com")
               for group in ("Organization Management", "Records Management")]  # fmt: skip
    (folder / "role-group-members.xml").write_bytes(clixml_bytes(members))
    frame = load_bundle([folder]).datasets["role_group_member"].frame
    assert sorted(frame["RoleGroup"]) == ["Organization Management", "Records Management"]


def test_a_setting_left_unset_everywhere_is_judged_not_called_missing_from_the_export() -> None:
    """No receive connector has a banner (the Exchange default): the STIG's banner item fails, it is not
    `not_evaluated` for a column "not in the export"."""
    rule = load_rule(
        Path(__file__).resolve().parents[2] / "rules" / "stig-exchange-2019-mailbox" / "ex19-mb-000232.yaml"
    )
    server = {"Name": "EXCH01", "Fqdn": "exch01.contoso.com", "AdminDisplayVersion": "Version 15.2 (Build 1544.4)",
              "IsMailboxServer": True, "IsEdgeServer": False}  # fmt: skip
    connector = {"Name": "Default Frontend EXCH01", "Server": "EXCH01", "Identity": "EXCH01\\Default Frontend EXCH01",
                 "Bindings": "0.0.0.0:25", "AuthMechanism": "Tls", "PermissionGroups": "AnonymousUsers",
                 "TransportRole": "FrontendTransport", "Banner": None}  # fmt: skip
    case = {"name": "no banner", "data": {"exchange_server": [server], "receive_connector": [connector]},
            "expect": {"outcome": "fail", "failing": ["Default Frontend EXCH01"]}}  # fmt: skip
    assert run_case(rule, case).passed, run_case(rule, case).detail
