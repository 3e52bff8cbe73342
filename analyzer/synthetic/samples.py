"""Sample bundles: small organisations to try exaudit on, and large ones for benchmarks. All synthetic.

    healthy-2019   two Exchange 2019 servers, everything as the POP3/IMAP4 procedure wants it, with a manifest
    mistakes-2016  two Exchange 2016 servers with the usual mistakes (services stopped, PlainTextLogin, an
                   expired self-signed certificate, disabled users, settings exported for one server only)
    mixed-formats  one Exchange 2019 server exported the ways admins really do: Export-Csv, `| fl > file.txt`,
                   ConvertTo-Json
    large          like healthy-2019 with as many mailboxes as asked (CLIXML, or CSV for the mailboxes)

Certificates are real X.509 certificates made here, so every run makes new key material; everything else is
deterministic.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from analyzer.exchange.sources import SYNTHETIC_NOTE, sha256_of
from analyzer.readers.psvalues import PSDateTime
from analyzer.synthetic import exchange_objects as ex
from analyzer.synthetic import stig_sample
from analyzer.synthetic.cas_mailbox import TYPE_NAMES as CAS_TYPE_NAMES
from analyzer.synthetic.cas_mailbox import cas_mailbox
from analyzer.synthetic.clixml_writer import ClixmlWriter
from analyzer.synthetic.text_writers import CsvStyle, convert_to_json, export_csv, format_list

SCENARIOS = ("healthy-2019", "mistakes-2016", "mistakes-2016-after", "mixed-formats", "stig-2019", "stig-2016", "large")
EXPORTED_AT = "2026-11-02T09:00:00Z"
NOTE = "SYNTHETIC sample bundle made by exaudit (analyzer/synthetic/samples.py); no real organisation.\n"


def clixml_bytes(objects: Iterable[ex.ExchangeObject], *, utf16: bool = True) -> bytes:
    """Remote-session flavour, UTF-16LE with BOM as Windows PowerShell's Export-Clixml writes it by default."""
    text = io.StringIO()
    writer = ClixmlWriter(text, deserialized=True)
    for type_names, props, extended in objects:
        writer.write_object(type_names, props, to_string=str(props.get("Name", "")) or None, extended=extended)
    writer.close()
    content = text.getvalue().replace("\n", "\r\n")
    return b"\xff\xfe" + content.encode("utf-16-le") if utf16 else content.encode("utf-8")


def _ca_and_leaf(domain: str, servers: list[str], not_after: dt.datetime) -> tuple[bytes, bytes]:
    """A private CA and a leaf certificate for mail.<domain>, signed by it (so not self-signed)."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"{domain} Issuing CA")])
    start = not_after - dt.timedelta(days=730)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(not_after + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names = [f"mail.{domain}", f"autodiscover.{domain}", *(f"{s.lower()}.{domain}" for s in servers)]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"mail.{domain}")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(2)
        .not_valid_before(start)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca.public_bytes(serialization.Encoding.DER), leaf.public_bytes(serialization.Encoding.DER)


# The first mailboxes of a sample are not users: Get-CASMailbox lists them too, Get-Mailbox says what they are.
NON_USER_KINDS = ("SharedMailbox", "RoomMailbox", "EquipmentMailbox", "DiscoveryMailbox")


def _mailboxes(count: int, *, disabled_pop: set[int], disabled_imap: set[int], domain: str,
               servers: list[str]) -> list[ex.ExchangeObject]:  # fmt: skip
    """Mailboxes of the organisation of `domain`, spread over its `servers`."""
    objects: list[ex.ExchangeObject] = []
    for index in range(count):
        props, extended = cas_mailbox(index, pop_enabled=index not in disabled_pop, imap_enabled=index not in disabled_imap,
                                      domain=domain, server_names=tuple(servers))  # fmt: skip
        objects.append((CAS_TYPE_NAMES, props, extended))
    return objects


def _mailbox_kinds(cas_objects: list[ex.ExchangeObject]) -> list[ex.ExchangeObject]:
    """Get-Mailbox for the same mailboxes as Get-CASMailbox: same GUID, name and address, and their kind."""
    found: list[ex.ExchangeObject] = []
    for index, (_types, props, _extended) in enumerate(cas_objects):
        kind = NON_USER_KINDS[index] if index < len(NON_USER_KINDS) else "UserMailbox"
        mailbox = {"Name": props["Name"], "DisplayName": props["DisplayName"], "PrimarySmtpAddress": props["PrimarySmtpAddress"],
                   "RecipientTypeDetails": kind, "Database": "DB01", "Identity": props["Identity"],
                   "DistinguishedName": props["DistinguishedName"], "Guid": props["Guid"]}  # fmt: skip
        found.append((("Microsoft.Exchange.Data.Directory.Management.Mailbox", "System.Object"), mailbox, {}))
    return found


def _contoso_2019_manifest(entries: list[dict[str, Any]], version: str = "2019") -> dict[str, Any]:
    """The manifest the collection script writes for the synthetic Exchange 2019 organisation (or the same one on
    another version; hashes added later)."""
    major, minor, build, revision = ex.VERSIONS[version]
    return {
        "synthetic": True,
        "organization": "Contoso",
        "exported_at": EXPORTED_AT,
        "powershell_version": "5.1.17763.5830",
        "exchange_version": f"Version {major}.{minor} (Build {build}.{revision})",
        "files": entries,
    }


def _write(folder: Path, files: dict[str, bytes], manifest: dict[str, Any] | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (folder / SYNTHETIC_NOTE).write_text(NOTE, encoding="utf-8", newline="\n")
    if manifest is not None:  # hashes from disk: large files are streamed there rather than held in `files`
        manifest["files"] = [{**entry, "sha256": sha256_of(folder / entry["path"])} for entry in manifest["files"]]
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8", newline="\n")


def _stream_mailboxes(target: Path, count: int, mailbox_format: str, servers: int) -> None:
    """Write a Get-CASMailbox export of `count` objects straight to disk (hundreds of MB at scale)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8-sig" if mailbox_format == "csv" else "utf-8", newline="") as out:
        if mailbox_format == "csv":
            batch: list[tuple[list[str], dict[str, Any]]] = []
            for index in range(count):
                props, extended = cas_mailbox(index, servers=servers)
                batch.append((["Deserialized." + CAS_TYPE_NAMES[0]], {**props, **extended}))
            out.write(export_csv(batch, CsvStyle()))
            return
        writer = ClixmlWriter(out, deserialized=True)
        for index in range(count):
            props, extended = cas_mailbox(index, servers=servers)
            writer.write_object(CAS_TYPE_NAMES, props, to_string=props["Name"], extended=extended)
        writer.close()


def healthy_2019(folder: Path, *, mailboxes: int = 40, mailbox_format: str = "clixml") -> None:
    domain, names = "contoso.com", ["EXCH01", "EXCH02"]
    _ca, leaf = _ca_and_leaf(domain, names, dt.datetime(2028, 6, 30, tzinfo=dt.UTC))
    files: dict[str, bytes] = {
        "Get-ExchangeServer.xml": clixml_bytes(ex.exchange_server(n, domain, "2019") for n in names)
    }
    entries = [{"path": "Get-ExchangeServer.xml", "cmdlet": "Get-ExchangeServer"}]
    for name in names:
        fqdn = f"{name.lower()}.{domain}"
        per_server = {
            "Get-Service.xml": ex.protocol_services(
                "2019", pop=("Running", "Automatic"), imap=("Running", "Automatic"), ran_on=fqdn
            ),
            "Get-PopSettings.xml": [
                ex.protocol_settings("pop", name, domain, endpoint=f"exch01.{domain}", protocol_log=True)
            ],
            "Get-ImapSettings.xml": [
                ex.protocol_settings("imap", name, domain, endpoint=f"exch01.{domain}", protocol_log=True)
            ],
            "Get-ExchangeCertificate.xml": [
                ex.exchange_certificate(name, domain, leaf, services="IMAP, POP, IIS, SMTP")
            ],
            "Get-ServerComponentState.xml": [
                ex.component_state(name, domain, c)
                for c in ("ServerWideOffline", "PopProxy", "ImapProxy", "FrontendTransport")
            ],
            "Get-ReceiveConnector.xml": [
                ex.receive_connector(
                    name,
                    domain,
                    "Client Frontend",
                    587,
                    auth="Tls, Integrated, BasicAuth, BasicAuthRequireTLS",
                    groups="ExchangeUsers",
                    require_tls=True,
                )
            ],
        }
        for file_name, objects in per_server.items():
            relative = f"{name}/{file_name}"
            files[relative] = clixml_bytes(objects)
            entries.append({"path": relative, "cmdlet": file_name.removesuffix(".xml"), "server": name})
    mailbox_file = "Get-CASMailbox.csv" if mailbox_format == "csv" else "Get-CASMailbox.xml"
    _stream_mailboxes(folder / mailbox_file, mailboxes, mailbox_format, len(names))
    entries.append({"path": mailbox_file, "cmdlet": "Get-CASMailbox"})
    # Get-Mailbox for the first mailboxes (a sample of the organisation, up to 200), to tell users from the rest.
    first = _mailboxes(min(mailboxes, 200), disabled_pop=set(), disabled_imap=set(), domain=domain, servers=names)
    files["Get-Mailbox.xml"] = clixml_bytes(_mailbox_kinds(first))
    files["Get-OrganizationConfig.xml"] = clixml_bytes([ex.organization_config("Contoso")])
    entries += [
        {"path": "Get-Mailbox.xml", "cmdlet": "Get-Mailbox"},
        {"path": "Get-OrganizationConfig.xml", "cmdlet": "Get-OrganizationConfig"},
    ]
    _write(folder, files, _contoso_2019_manifest(entries))


def mistakes_2016(folder: Path, *, after_change: bool = False) -> None:
    """The 2016 organisation with mistakes; `after_change` is the same organisation after a change ticket: POP3
    started on EX16A, user000007 given POP3 back, and EX16A's expired certificate replaced by a new self-signed
    one (still self-signed, so that finding stays)."""
    domain, names = "fabrikam.com", ["EX16A", "EX16B"]
    expiry = dt.datetime(2028 if after_change else 2025, 3, 1, tzinfo=dt.UTC)
    expired = ex.self_signed_der("ex16a", ["ex16a", f"ex16a.{domain}"], not_after=expiry)
    current = ex.self_signed_der(f"mail.{domain}", [f"mail.{domain}"], not_after=dt.datetime(2029, 1, 1, tzinfo=dt.UTC))
    files = {
        "exchange-servers.xml": clixml_bytes(ex.exchange_server(n, domain, "2016") for n in names),
        # Get-Service run on each server, saved in a folder named after it (MachineName is '.').
        "EX16A/services.xml": clixml_bytes(
            ex.protocol_services(
                "2016",
                pop=("Running", "Automatic") if after_change else ("Stopped", "Manual"),
                imap=("Running", "Automatic"),
            )
        ),
        "EX16B/services.xml": clixml_bytes(
            [
                o
                for o in ex.protocol_services("2016", pop=("Running", "Automatic"), imap=("Running", "Automatic"))
                if o[1]["Name"] != "MSExchangeIMAP4BE"
            ]
            + [ex.service("MSExchangeIMAP4BE", "Microsoft Exchange IMAP4 Backend", "Stopped", "Automatic")]
        ),
        # Microsoft's procedure runs `Get-PopSettings | fl`: only the server the shell was connected to.
        "pop-settings.xml": clixml_bytes(
            [
                ex.protocol_settings(
                    "pop", "EX16A", domain, login_type="PlainTextLogin", certificate_name=f"ex16a.{domain}"
                )
            ]
        ),
        "imap-settings.xml": clixml_bytes(
            [ex.protocol_settings("imap", n, domain, login_type="SecureLogin") for n in names]
        ),
        "certificates-EX16A.xml": clixml_bytes(
            [ex.exchange_certificate("EX16A", domain, expired, services="IMAP, POP, IIS, SMTP")]
        ),
        "certificates-EX16B.xml": clixml_bytes(
            [ex.exchange_certificate("EX16B", domain, current, services="IMAP, POP, IIS, SMTP")]
        ),
        "component-state.xml": clixml_bytes(
            [ex.component_state(n, domain, c) for n in names for c in ("ServerWideOffline", "PopProxy")]
            + [
                ex.component_state("EX16A", domain, "ImapProxy"),
                ex.component_state("EX16B", domain, "ImapProxy", "Inactive"),
            ]
        ),
        # Mailboxes 0-3 are shared/room/equipment/discovery (POP3 off on the shared one); 7 and 11 are users without POP3.
        "cas-mailboxes.xml": clixml_bytes(
            cas := _mailboxes(
                30,
                disabled_pop={0, 11} if after_change else {0, 7, 11},
                disabled_imap={7, 20},
                domain=domain,
                servers=names,
            )
        ),
        "mailboxes.xml": clixml_bytes(_mailbox_kinds(cas)),
    }
    _write(folder, files, None)


def mixed_formats(folder: Path) -> None:
    domain, name = "northwind.example", "MAIL01"
    fqdn = f"{name.lower()}.{domain}"

    def plain(objects: Iterable[ex.ExchangeObject]) -> list[tuple[list[str], dict[str, Any]]]:
        return [(["Deserialized." + t[0]], {**p, **e}) for t, p, e in objects]

    _ca, leaf = _ca_and_leaf(domain, [name], dt.datetime(2027, 12, 31, tzinfo=dt.UTC))
    certificate = ex.exchange_certificate(name, domain, leaf, services="IMAP, POP, IIS, SMTP")
    certificate[1].pop("RawData")  # Select-Object of the readable properties, as admins export it to CSV
    certificate[1]["NotAfter"] = PSDateTime(dt.datetime(2027, 12, 31, tzinfo=dt.UTC), "Utc")
    services = plain(ex.protocol_services("2019", pop=("Running", "Automatic"), imap=("Stopped", "Manual")))
    boxes = plain(_mailboxes(12, disabled_pop={5}, disabled_imap=set(), domain=domain, servers=[name]))
    files = {
        "exchangeserver.json": convert_to_json(plain([ex.exchange_server(name, domain, "2019")]), ps51=False).encode(
            "utf-8"
        ),
        "services.csv": export_csv(services, CsvStyle()).encode("utf-8"),
        # As Microsoft's procedure does it: `Get-PopSettings | fl > pop.txt` in Windows PowerShell (UTF-16LE, 120 columns).
        "pop.txt": b"\xff\xfe"
        + format_list(plain([ex.protocol_settings("pop", name, domain, endpoint=fqdn)])).encode("utf-16-le"),
        "imap.txt": b"\xff\xfe"
        + format_list(plain([ex.protocol_settings("imap", name, domain, endpoint=fqdn)])).encode("utf-16-le"),
        "certificates.csv": export_csv(plain([certificate]), CsvStyle()).encode("utf-8"),
        "casmailbox.csv": b"\xef\xbb\xbf" + export_csv(boxes, CsvStyle(delimiter=";")).encode("utf-8"),
    }
    _write(folder, files, None)


def stig(folder: Path, version: str = "2019") -> None:
    """A Mailbox and an Edge server of Exchange `version` against its DISA STIGs (stig_sample.py), and the site plan
    beside the bundle (a file inside it would be read as an export)."""
    _ca, leaf = _ca_and_leaf(stig_sample.DOMAIN, ["EXCH01", "EDGE01"], dt.datetime(2028, 6, 30, tzinfo=dt.UTC))
    everyone = set(range(6))  # the STIGs want POP3 and IMAP4 off: off for every mailbox too
    mailboxes = _mailboxes(
        6, disabled_pop=everyone, disabled_imap=everyone, domain=stig_sample.DOMAIN, servers=["EXCH01"]
    )
    files, entries = {}, []
    for relative, (server, objects) in stig_sample.stig_files(leaf, mailboxes, version).items():
        files[relative] = clixml_bytes(objects)
        entries.append(
            {"path": relative, "cmdlet": PurePosixPath(relative).stem} | ({"server": server} if server else {})
        )
    _write(folder, files, _contoso_2019_manifest(entries, version))
    (folder.parent / f"{folder.name}.plan.yaml").write_text(stig_sample.plan(version), encoding="utf-8", newline="\n")


def write_sample(scenario: str, folder: Path, *, mailboxes: int = 100_000, mailbox_format: str = "clixml") -> None:
    if scenario == "healthy-2019":
        healthy_2019(folder)
    elif scenario == "mistakes-2016":
        mistakes_2016(folder)
    elif scenario == "mistakes-2016-after":
        mistakes_2016(folder, after_change=True)
    elif scenario == "mixed-formats":
        mixed_formats(folder)
    elif scenario in ("stig-2019", "stig-2016"):
        stig(folder, scenario[-4:])
    elif scenario == "large":
        healthy_2019(folder, mailboxes=mailboxes, mailbox_format=mailbox_format)
    else:
        raise ValueError(f"unknown sample {scenario!r}; choose one of {', '.join(SCENARIOS)}")
