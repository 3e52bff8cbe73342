"""Every real Export-Clixml file parses, with spot checks of values known from the files themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.readers.clixml import read_clixml
from analyzer.readers.psvalues import PSEnum, PSObject
from tests.conftest import CSS, REAL_CLIXML


def test_real_corpus_is_present() -> None:
    # 62 files are listed as CLIXML in PROVENANCE.md; losing some would quietly weaken every test below.
    assert len(REAL_CLIXML) == 62


@pytest.mark.parametrize("path", REAL_CLIXML, ids=lambda p: p.name[-60:])
def test_every_real_clixml_file_parses(path: Path) -> None:
    records = list(read_clixml(path))
    assert records, "a real export holds at least one object"
    for index, record in enumerate(records):
        assert record.source.index == index
        assert record.source.line >= 2  # line 1 is <Objs>
        assert not any(name.lower().startswith("deserialized.") for name in record.type_names)


def test_e19_exchange_server() -> None:
    [server] = read_clixml(
        CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__GetExchangeServer.xml"
    )
    assert server.type_name == "Microsoft.Exchange.Data.Directory.Management.ExchangeServer"
    assert server.deserialized is False  # a local-shell export
    version = server.properties["AdminDisplayVersion"]
    assert isinstance(version, PSObject)
    assert version.to_string == "Version 15.2 (Build 986.5)"
    assert (version.properties["Major"], version.properties["Minor"], version.properties["Build"]) == (
        15,
        2,
        986,
    )
    role = server.properties["ServerRole"]
    assert role == PSEnum("Microsoft.Exchange.Data.Directory.SystemConfiguration.ServerRole", "Mailbox", 2)
    assert server.properties["IsClientAccessServer"] is True
    assert server.properties["IsEdgeServer"] is False
    assert server.properties["PSComputerName"] == "solo-e19a.solo.com"  # from MS, merged into the properties
    assert server.properties["Fqdn"] == "Solo-E19A.Solo.com"


def test_e19_pop3_service_is_stopped_and_manual() -> None:
    services = {
        r.properties["ServiceName"]: r
        for r in read_clixml(CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__OS__GetService.xml")
    }
    pop3 = services["MSExchangePop3"]
    assert pop3.properties["Status"] == PSEnum("System.ServiceProcess.ServiceControllerStatus", "Stopped", 1)
    assert pop3.properties["StartType"] == PSEnum("System.ServiceProcess.ServiceStartMode", "Manual", 3)
    assert pop3.properties["MachineName"] == "."
    assert {"MSExchangePOP3BE", "MSExchangeImap4", "MSExchangeIMAP4BE"} <= services.keys()


def test_service_back_references_resolve_to_the_same_objects() -> None:
    records = list(read_clixml(CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__OS__GetService.xml"))
    first = records[0]
    # <Ref N="RequiredServices" RefId="2" /> in MS points at the ServicesDependedOn list of the same object.
    assert first.properties["RequiredServices"] is first.properties["ServicesDependedOn"]
    # Refs across top-level objects: some service's dependants are full objects written once, referenced later.
    shared = [
        item for record in records for item in record.properties["DependentServices"] if isinstance(item, PSObject)
    ]
    assert shared


def test_monitor_auth_certificate_export_has_two_servers() -> None:
    records = list(
        read_clixml(CSS / "Admin__MonitorExchangeAuthCertificate__DataCollection__Tests__Data__GetExchangeServer.xml")
    )
    assert len(records) == 2
    assert all(r.type_name == "Microsoft.Exchange.Data.Directory.Management.ExchangeServer" for r in records)
    assert len({r.properties["Name"] for r in records}) == 2


def test_remote_session_flavour_is_recognised() -> None:
    records = list(
        read_clixml(
            CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__GetGlobalMonitoringOverride.xml"
        )
    )
    assert all(r.deserialized for r in records)
    assert all(not r.type_names[0].startswith("Deserialized.") for r in records)
