"""The datasets the hardening baselines read, from real exports (Microsoft CSS-Exchange's HealthChecker test data,
tests/data/real/PROVENANCE.md) and from the shapes other formats give them; and a scan tells what is missing only
for the datasets its rules read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analyzer.exchange.bundle import load_bundle
from analyzer.exchange.catalog import BY_NAME, recognise
from analyzer.exchange.datasets import DATASETS
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
        type_name = "Microsoft.Exchange.Data" + spec.type_suffixes[0]
        assert recognise([type_name], []) is spec, spec.name
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
