"""Select-Object and ConvertTo-Json subsets (issue 17, item 3): a dataset recognised from values only its objects
hold when the type name and the signature columns are gone; nested JSON objects shown as PowerShell prints them;
Edge derived from ServerRole; a record of no dataset reported as having no type name. Files are synthetic, in
the shapes `Get-PopSettings | Select-Object … | ConvertTo-Json` and `Export-Csv -NoTypeInformation` write."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from analyzer.exchange.bundle import Bundle, load_bundle
from analyzer.pipeline import ScanOptions, scan
from analyzer.readers.json import convert_value
from analyzer.synthetic import exchange_objects as ex
from analyzer.synthetic.samples import clixml_bytes


def _load(tmp_path: Path, name: str, text: str) -> Bundle:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_bundle([tmp_path], split_large=False)


def test_a_pop_settings_subset_in_json_is_recognised_by_its_protocol_name(tmp_path: Path) -> None:
    subset = {"ProtocolName": "POP3", "Server": "EX01", "LoginType": "SecureLogin", "SSLBindings": ["0.0.0.0:995"]}
    bundle = _load(tmp_path, "pop.json", json.dumps([subset]))
    rows = bundle.datasets["pop_settings"].frame
    assert rows["LoginType"].tolist() == ["SecureLogin"]
    assert rows["server_key"].tolist() == ["EX01"]


def test_an_imap_subset_in_csv_without_a_type_line_is_recognised_too(tmp_path: Path) -> None:
    text = '"ProtocolName","Server","LoginType"\r\n"IMAP4","EX02","PlainTextLogin"\r\n'
    bundle = _load(tmp_path, "imap.csv", text)
    assert bundle.datasets["imap_settings"].frame["LoginType"].tolist() == ["PlainTextLogin"]


def test_services_selected_by_name_and_status_are_the_service_dataset(tmp_path: Path) -> None:
    services = [
        {"Name": "MSExchangePOP3", "Status": 4, "MachineName": "EX01"},
        {"Name": "MSExchangeIMAP4BE", "Status": 1, "MachineName": "EX01"},
    ]
    bundle = _load(tmp_path, "services.json", json.dumps(services))
    frame = bundle.datasets["service"].frame
    assert dict(zip(frame["Name"], frame["Status"], strict=True)) == {
        "MSExchangePOP3": "Running",
        "MSExchangeIMAP4BE": "Stopped",
    }


def test_a_record_of_no_dataset_is_reported_as_having_no_type_name(tmp_path: Path) -> None:
    bundle = _load(tmp_path, "other.json", json.dumps([{"Colour": "blue"}]))
    messages = [p.message for p in bundle.problems]
    assert any("a type no dataset uses: ['no type name']" in m for m in messages), messages
    assert not any("'None'" in m for m in messages)


def test_nested_objects_are_shown_as_powershell_prints_them() -> None:
    lossy: dict[str, str] = {}
    smtp = {"Local": "user", "Domain": "contoso.com", "Address": "user@contoso.com", "IsValidAddress": True}
    proxy = {
        "AddressString": "user@contoso.com",
        "IsPrimaryAddress": True,
        "ProxyAddressString": "SMTP:user@contoso.com",
    }
    binding = {"Address": "0.0.0.0", "AddressFamily": 2, "Port": 995}
    binding6 = {"Address": "::", "AddressFamily": 23, "Port": 993}
    assert convert_value(smtp, "p", lossy) == "user@contoso.com"
    assert convert_value([proxy], "p", lossy) == ["SMTP:user@contoso.com"]
    assert convert_value([binding, binding6], "p", lossy) == ["0.0.0.0:995", "[::]:993"]
    assert convert_value({"IsUnlimited": True, "Value": None}, "p", lossy) == "Unlimited"
    assert convert_value({"IsUnlimited": False, "Value": 2000}, "p", lossy) == 2000
    assert convert_value({"value": 4, "Value": "Running"}, "p", lossy) == "Running"  # an enum with its name
    assert convert_value({"value": 4, "Value": 4}, "p", lossy) == {"value": 4, "Value": 4}  # no name: left alone
    assert convert_value({"Major": 15, "Minor": 1}, "p", lossy) == {"Major": 15, "Minor": 1}  # no printed form
    assert convert_value("@{Name=x; Value=y}", "p", lossy) == "@{Name=x; Value=y}" and "-Depth" in lossy["p"]


def test_edge_is_derived_from_server_role_when_is_edge_server_was_not_selected(tmp_path: Path) -> None:
    servers = [
        {"Name": "EX01", "AdminDisplayVersion": "Version 15.2 (Build 1544.4)", "ServerRole": "Mailbox",
         "IsClientAccessServer": True},
        {"Name": "EDGE1", "AdminDisplayVersion": "Version 15.2 (Build 1544.4)", "ServerRole": "Edge",
         "IsClientAccessServer": False},
    ]  # fmt: skip
    bundle = _load(tmp_path, "servers.json", json.dumps(servers))
    frame = bundle.datasets["exchange_server"].frame
    assert dict(zip(frame["Name"], frame["IsEdgeServer"], strict=True)) == {"EX01": False, "EDGE1": True}


def test_an_object_where_one_value_belongs_is_unreadable_and_named_by_the_rules_reading_it(tmp_path: Path) -> None:
    """ConvertTo-Json writes an Exchange value type it has no printed form for as the object of its properties;
    shown as Python prints a dict it would never match a certificate name, so it is a located unreadable cell."""
    settings = {
        "ProtocolName": "POP3",
        "Server": "EX01",
        "LoginType": {"value": 2, "Value": "SecureLogin"},
        "X509CertificateName": {"Domain": "mail.contoso.com", "IsValid": True},
        "SSLBindings": ["0.0.0.0:995"],
        "UnencryptedOrTLSBindings": ["0.0.0.0:110"],
    }
    (tmp_path / "servers.xml").write_bytes(clixml_bytes([ex.exchange_server("EX01", "contoso.com", "2019")]))
    bundle = _load(tmp_path, "pop.json", json.dumps([settings]))
    [problem] = bundle.problems
    assert (problem.line, "an object with the properties Domain, IsValid" in problem.message) == (1, True)
    frame = bundle.datasets["pop_settings"].frame
    assert frame["LoginType"].tolist() == ["SecureLogin"] and frame["X509CertificateName"].isna().all()
    result = scan(ScanOptions([tmp_path], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC)))
    [certificate] = [r for r in result.results if r.rule_id == "POP-CRT-001"]
    assert certificate.outcome == "not_evaluated"
    assert certificate.reason is not None and certificate.reason.startswith(
        "pop_settings.X509CertificateName could not be read: an object with the properties Domain, IsValid"
    ), certificate.reason
