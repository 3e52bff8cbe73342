"""Bundles: real exports, every attribution rule, merging, conflicts, the 1,000-row flag, zips, unknown files."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from analyzer.engine.loader import load_rules
from analyzer.errors import InputError
from analyzer.exchange.bundle import DOCUMENTATION, load_bundle
from analyzer.pipeline import packaged_rules
from analyzer.synthetic import exchange_objects as ex
from analyzer.synthetic.cas_mailbox import TYPE_NAMES as CAS_TYPES
from analyzer.synthetic.cas_mailbox import cas_mailbox
from analyzer.synthetic.samples import clixml_bytes
from analyzer.synthetic.text_writers import CsvStyle, export_csv
from tests.conftest import CSS

DOMAIN = "contoso.com"
E16 = "Diagnostics__HealthChecker__Tests__DataCollection__E16__"
E19 = "Diagnostics__HealthChecker__Tests__DataCollection__E19__"


def _real_bundle(tmp_path: Path, prefix: str, names: list[str]) -> Path:
    folder = tmp_path / prefix.strip("_")
    folder.mkdir()
    for name in names:
        shutil.copy(CSS / f"{prefix}{name}.xml", folder)
    return folder


@pytest.mark.parametrize(
    ("prefix", "server", "product"), [(E16, "SOLO-E16A", "Exchange 2016"), (E19, "SOLO-E19A", "Exchange 2019")]
)
def test_real_exports_make_attributed_datasets(tmp_path: Path, prefix: str, server: str, product: str) -> None:
    folder = _real_bundle(
        tmp_path, prefix, ["Exchange__GetExchangeServer", "OS__GetService", "Exchange__GetServerComponentState"]
    )
    bundle = load_bundle([folder])
    [row] = bundle.servers.to_dict("records")
    assert (row["server_key"], row["product"], row["roles"], row["IsClientAccessServer"]) == (
        server,
        product,
        ["Mailbox"],
        True,
    )
    services = bundle.datasets["service"].frame.set_index("Name")
    for name in ("MSExchangePop3", "MSExchangeImap4", "MSExchangePOP3BE", "MSExchangeIMAP4BE"):
        assert (services.loc[name, "Status"], services.loc[name, "StartType"]) == ("Stopped", "Manual")
        assert services.loc[name, "server_key"] == server
        assert services.loc[name, "attributed_by"] == "only server in the bundle"  # MachineName is '.'
    components = bundle.datasets["server_component_state"].frame
    assert set(components["server_key"]) == {server} and set(components["attributed_by"]) == {"ServerFqdn"}
    assert bundle.coverage().loc[server, "service"] == len(services)
    hashes = {Path(i.path).name: i.sha256 for i in bundle.inputs}
    expected = hashlib.sha256((CSS / f"{prefix}OS__GetService.xml").read_bytes()).hexdigest()
    assert hashes[f"{prefix}OS__GetService.xml"] == expected


def test_two_real_servers_and_certificates_of_each(tmp_path: Path) -> None:
    folder = tmp_path / "monitor"
    folder.mkdir()
    for name in ("GetExchangeServer", "GetExchangeCertificate"):
        shutil.copy(CSS / f"Admin__MonitorExchangeAuthCertificate__DataCollection__Tests__Data__{name}.xml", folder)
    bundle = load_bundle([folder])
    assert list(bundle.servers["server_key"]) == ["E2K16-1", "E2K16-2"]
    certificates = bundle.datasets["exchange_certificate"].frame
    assert set(certificates["attributed_by"]) == {"Identity"}  # `E2k16-1.Contoso.lab\THUMBPRINT`
    assert set(certificates["server_key"]) <= {"E2K16-1", "E2K16-2"}
    assert certificates["NotAfter"].notna().all() and certificates["HasPrivateKey"].all()


def _write(folder: Path, relative: str, content: bytes) -> Path:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return target


def _servers(folder: Path, *names: str) -> None:
    _write(folder, "servers.xml", clixml_bytes(ex.exchange_server(n, DOMAIN, "2019") for n in names))


def test_settings_of_exch02_exported_through_a_shell_on_exch01(tmp_path: Path) -> None:
    _servers(tmp_path, "EXCH01", "EXCH02")
    settings = [ex.protocol_settings("pop", n, DOMAIN, endpoint=f"exch01.{DOMAIN}") for n in ("EXCH01", "EXCH02")]
    _write(tmp_path, "pop.xml", clixml_bytes(settings))
    frame = load_bundle([tmp_path]).datasets["pop_settings"].frame
    assert sorted(frame["server_key"]) == ["EXCH01", "EXCH02"]  # not both EXCH01, which PSComputerName names
    assert set(frame["attributed_by"]) == {"Server"}


def test_services_attributed_by_invoke_command_folder_file_name_and_manifest(tmp_path: Path) -> None:
    _servers(tmp_path, "EXCH01", "EXCH02", "EXCH03", "EXCH04")
    pop = ("Running", "Automatic")
    _write(
        tmp_path, "remote.xml", clixml_bytes(ex.protocol_services("2019", pop=pop, imap=pop, ran_on=f"exch01.{DOMAIN}"))
    )
    _write(tmp_path, "exch02/services.xml", clixml_bytes(ex.protocol_services("2019", pop=pop, imap=pop)))
    _write(tmp_path, "services-EXCH03.xml", clixml_bytes(ex.protocol_services("2019", pop=pop, imap=pop)))
    listed = _write(tmp_path, "svc4.xml", clixml_bytes(ex.protocol_services("2019", pop=pop, imap=pop)))
    _write(tmp_path, "orphan.xml", clixml_bytes(ex.protocol_services("2019", pop=pop, imap=pop)))
    manifest = {
        "files": [{"path": "svc4.xml", "server": "EXCH04", "sha256": hashlib.sha256(listed.read_bytes()).hexdigest()}]
    }
    _write(tmp_path, "manifest.json", json.dumps(manifest).encode())
    bundle = load_bundle([tmp_path])
    frame = bundle.datasets["service"].frame
    by_file = {Path(str(f)).name: group for f, group in frame.groupby("source_file")}
    assert set(by_file["remote.xml"]["attributed_by"]) == {"PSComputerName"}
    assert set(by_file["remote.xml"]["server_key"]) == {"EXCH01"}
    assert set(by_file["services.xml"]["server_key"]) == {"EXCH02"} and set(
        by_file["services.xml"]["attributed_by"]
    ) == {"path"}
    assert set(by_file["services-EXCH03.xml"]["server_key"]) == {"EXCH03"}
    assert set(by_file["svc4.xml"]["server_key"]) == {"EXCH04"} and set(by_file["svc4.xml"]["attributed_by"]) == {
        "manifest"
    }
    assert set(by_file["orphan.xml"]["attributed_by"]) == {"unattributed"}
    assert by_file["orphan.xml"]["server_key"].isna().all()
    assert any("could not be attributed" in p.message and p.path.endswith("orphan.xml") for p in bundle.problems)


def test_manifest_hash_mismatch_and_missing_file_are_problems(tmp_path: Path) -> None:
    _servers(tmp_path, "EXCH01")
    manifest = {"files": [{"path": "servers.xml", "sha256": "0" * 64}, {"path": "gone.xml", "sha256": "1" * 64}]}
    _write(tmp_path, "manifest.json", json.dumps(manifest).encode())
    messages = [p.message for p in load_bundle([tmp_path]).problems]
    assert any("SHA-256 differs from the manifest" in m for m in messages)
    assert any("listed in the manifest but not in the bundle" in m for m in messages)


def test_duplicates_merge_and_the_richer_format_wins_conflicts(tmp_path: Path) -> None:
    objects = []
    for index in range(3):
        props, extended = cas_mailbox(index)
        objects.append((CAS_TYPES, props, extended))
    _write(tmp_path, "cas.xml", clixml_bytes(objects))
    flipped = [
        (["Deserialized." + CAS_TYPES[0]], {**p, **e, "PopEnabled": index != 1})
        for index, (_t, p, e) in enumerate(objects)
    ]
    flipped[1][1]["PopEnabled"] = False  # the CSV says mailbox 1 is disabled; the CLIXML says enabled
    _write(tmp_path, "cas.csv", export_csv(flipped, CsvStyle()).encode())
    bundle = load_bundle([tmp_path])
    frame = bundle.datasets["cas_mailbox"].frame
    assert len(frame) == 3 and set(frame["source_format"]) == {"clixml"}
    assert frame["PopEnabled"].all()
    conflicts = [p for p in bundle.problems if "with different" in p.message]
    assert len(conflicts) == 1 and "PopEnabled" in conflicts[0].message and "kept the clixml" in conflicts[0].message
    assert sum("duplicate of" in p.message for p in bundle.problems) == 2


def test_exactly_1000_mailboxes_is_flagged_as_probably_cut_off(tmp_path: Path) -> None:
    objects = [(CAS_TYPES, *cas_mailbox(i)) for i in range(1000)]
    _write(tmp_path, "cas.xml", clixml_bytes(objects, utf16=False))
    bundle = load_bundle([tmp_path])
    assert any("exactly 1000 rows" in p.message and "-ResultSize Unlimited" in p.message for p in bundle.problems)
    assert bundle.datasets["cas_mailbox"].incomplete_sources


def test_zip_bundle_refuses_path_traversal_and_lists_unknown_files(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle_zip:
        bundle_zip.writestr("EXCH01/servers.xml", clixml_bytes([ex.exchange_server("EXCH01", DOMAIN, "2019")]))
        bundle_zip.writestr("notes.docx", b"PK\x03\x04 not an export")
        bundle_zip.writestr("../escape.xml", b"<Objs/>")
    bundle = load_bundle([archive])
    assert list(bundle.servers["server_key"]) == ["EXCH01"]
    paths = {i.path: i for i in bundle.inputs}
    assert paths["bundle.zip!EXCH01/servers.xml"].datasets == ["exchange_server"]
    assert paths["bundle.zip!notes.docx"].format == DOCUMENTATION and not paths["bundle.zip!notes.docx"].problems
    assert any("leaves the archive" in p.message for p in bundle.problems)
    assert not (tmp_path / "escape.xml").exists() and not (tmp_path.parent / "escape.xml").exists()


def test_damaged_file_keeps_what_it_could_read(tmp_path: Path) -> None:
    content = clixml_bytes([ex.exchange_server(n, DOMAIN, "2019") for n in ("EXCH01", "EXCH02")], utf16=False)
    _write(tmp_path, "servers.xml", content[: content.index(b"EXCH02") + 3])
    bundle = load_bundle([tmp_path])
    [entry] = bundle.inputs
    assert entry.complete is False and entry.records == 1
    assert any("records before it kept" in p.message for p in entry.problems)
    assert list(bundle.servers["server_key"]) == ["EXCH01"]


def test_a_bundle_of_nothing_readable_is_an_error_that_says_why(tmp_path: Path) -> None:
    _write(tmp_path, "empty.xml", b"")
    with pytest.raises(InputError, match=r"empty\.xml: the file is empty"):  # one problem: that one
        load_bundle([tmp_path])
    _write(tmp_path, "other.txt", b"no export here")
    with pytest.raises(InputError, match=r"nothing in the bundle could be read as an export: .*empty\.xml: the file "
                       r"is empty; .*other\.txt: format not recognised"):  # fmt: skip
        load_bundle([tmp_path])


def test_each_way_a_bundle_path_fails_has_its_own_message(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing: no such file or folder"):
        load_bundle([tmp_path / "missing"])
    cut = tmp_path / "bundle.zip"
    cut.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(InputError, match=r"bundle\.zip: not a readable zip file"):
        load_bundle([cut])
    plain = tmp_path / "notes.bin"
    plain.write_bytes(b"\x00\x01 nothing")
    with pytest.raises(InputError, match=r"notes\.bin: format not recognised"):
        load_bundle([plain])


def test_sample_bundles_load_with_the_expected_shape() -> None:
    samples = Path(__file__).resolve().parents[2] / "samples"
    healthy = load_bundle([samples / "healthy-2019"])
    assert list(healthy.servers["server_key"]) == ["EXCH01", "EXCH02"]
    pop_imap = {name for rule in load_rules([packaged_rules() / "pop-imap"]) for name in rule.datasets()}
    assert (healthy.coverage(pop_imap) > 0).all().all()  # every per-server dataset the pack reads, for every server
    assert not [p for p in healthy.problems if "SHA-256" in p.message]  # the manifest matches
    mistakes = load_bundle([samples / "mistakes-2016"])
    assert mistakes.coverage().loc["EX16B", "pop_settings"] == 0  # the seed's `Get-PopSettings | fl` covers one server
    assert set(mistakes.datasets["service"].frame["attributed_by"]) == {"path"}
    mixed = load_bundle([samples / "mixed-formats"])
    assert {i.format for i in mixed.inputs} >= {"csv", "json", "format-list"}
    assert "EmailAddresses" in mixed.datasets["cas_mailbox"].lossy
    pop = mixed.datasets["pop_settings"].frame.iloc[0]
    assert pop["LoginType"] == "SecureLogin" and pop["server_key"] == "MAIL01"


def test_three_spellings_of_one_server_join_on_one_key(tmp_path: Path) -> None:
    _write(tmp_path, "servers.xml", clixml_bytes([ex.exchange_server("EXCH01", DOMAIN, "2019")]))
    _write(tmp_path, "pop.xml", clixml_bytes([ex.protocol_settings("pop", "exch01.contoso.com", DOMAIN)]))
    _write(tmp_path, "components.xml", clixml_bytes([ex.component_state("Exch01", DOMAIN, "PopProxy")]))
    bundle = load_bundle([tmp_path])
    assert list(bundle.coverage().index) == ["EXCH01"]
    for name in ("pop_settings", "server_component_state"):
        frame = bundle.datasets[name].frame
        assert list(frame["server_key"]) == ["EXCH01"]
        assert list(frame["server_fqdn"]) == ["exch01.contoso.com"]  # the display name comes from Get-ExchangeServer


def test_win32_service_output_is_a_service_dataset(tmp_path: Path) -> None:
    _servers(tmp_path, "EXCH01", "EXCH02")
    rows = [
        (
            ["Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_Service"],
            {"Name": name, "State": state, "StartMode": mode, "SystemName": "EXCH02"},
        )
        for name, state, mode in [("MSExchangePOP3", "Running", "Auto"), ("MSExchangeIMAP4", "Stopped", "Disabled")]
    ]
    _write(tmp_path, "cim.csv", export_csv(rows, CsvStyle()).encode())
    frame = load_bundle([tmp_path]).datasets["service"].frame.set_index("Name")
    assert (
        frame.loc["MSExchangePOP3", "StartType"] == "Automatic" and frame.loc["MSExchangePOP3", "Status"] == "Running"
    )
    assert frame.loc["MSExchangeIMAP4", "StartType"] == "Disabled"
    assert set(frame["server_key"]) == {"EXCH02"} and set(frame["attributed_by"]) == {"SystemName"}


def test_a_symlink_that_stays_inside_the_bundle_is_listed_and_its_target_read_once(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(Path(__file__).resolve().parents[2] / "samples" / "healthy-2019", bundle)
    (bundle / "manifest.json").unlink()
    (bundle / "copies").mkdir()
    (bundle / "copies" / "servers.xml").symlink_to(bundle / "Get-ExchangeServer.xml")
    (bundle / "again").symlink_to(bundle / "EXCH01", target_is_directory=True)
    loaded = load_bundle([bundle])
    read = [entry.path for entry in loaded.inputs]
    assert read.count("bundle/Get-ExchangeServer.xml") == 1 and "bundle/EXCH01/Get-PopSettings.xml" in read
    assert not any("copies" in path or "again" in path for path in read)
    assert loaded.unread == []  # nothing is missing: the targets were read where they stand
    listed = {p.path: p.message for p in loaded.problems}
    assert listed["bundle/again"] == "symlink to EXCH01 inside the bundle: read there, not twice"
    assert listed["bundle/copies/servers.xml"].startswith("symlink to Get-ExchangeServer.xml inside")


def test_an_unread_input_is_tied_to_the_datasets_it_would_supply(tmp_path: Path) -> None:
    """From the manifest's cmdlet, then type names or recognising columns in its first bytes, then its name."""
    from analyzer.exchange.unread import EVERY_DATASET, datasets_of_unread

    prompt = tmp_path / "export.csv"
    prompt.write_text('PS C:\\> Get-CASMailbox | Export-Csv x.csv\r\n"Name","PopEnabled","ImapEnabled"\r\n')
    assert datasets_of_unread("export.csv", prompt, None) == ("cas_mailbox",)
    typed = tmp_path / "a.xml"
    typed.write_bytes("x<T>Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.Pop3AdConfiguration</T>"
                      .encode("utf-16-le"))  # fmt: skip
    assert datasets_of_unread("a.xml", typed, None) == ("pop_settings",)
    assert datasets_of_unread("x.bin", None, {"cmdlet": "Get-ImapSettings"}) == ("imap_settings",)
    assert datasets_of_unread("EXCH01/Get-CASMailbox-2.xml", None, None) == ("cas_mailbox",)
    assert datasets_of_unread("mailboxes.xml", None, None) == ("mailbox",)
    assert datasets_of_unread("notes.bin", None, None) == EVERY_DATASET


@pytest.mark.parametrize("sample", ["healthy-2019", "mistakes-2016", "mistakes-2016-after", "mixed-formats"])
def test_each_sample_is_one_organisation(sample: str) -> None:
    """A sample looks like the real thing: its mailboxes' addresses are in the domain of its servers, and the
    servers their mailboxes live on are servers of the bundle (not contoso.com mailboxes on fabrikam.com servers)."""
    bundle = load_bundle([Path(__file__).resolve().parents[2] / "samples" / sample])
    servers = bundle.datasets["exchange_server"].frame
    domains = {fqdn.split(".", 1)[1].lower() for fqdn in servers["Fqdn"]}
    mailboxes = bundle.datasets["cas_mailbox"].frame
    assert {address.split("@")[1].lower() for address in mailboxes["PrimarySmtpAddress"]} == domains
    if "ServerName" in mailboxes:
        assert {name.upper() for name in mailboxes["ServerName"]} <= set(bundle.servers["server_key"])
