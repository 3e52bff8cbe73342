"""Synthetic Exchange objects, shaped like the real exports in tests/data/real (for the cmdlets with no public
real export — Get-PopSettings, Get-ImapSettings, Get-CASMailbox — like input-formats.md describes them).

Each function returns (type names, properties, extended members) for `ClixmlWriter.write_object` or the text
writers. Values are the readers' Python forms, so the same object can be written in every format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from analyzer.exchange.certificates import x500_name
from analyzer.readers.psvalues import PSEnum, PSList, PSObject

ExchangeObject = tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]


def organisation(domain: str) -> tuple[str, str]:
    """The organisation of `domain`, named after its first label, and the domain as DN parts: `Contoso`,
    `DC=contoso,DC=com`."""
    return domain.split(".", maxsplit=1)[0].capitalize(), ",".join(f"DC={part}" for part in domain.split("."))


def _group(domain: str) -> str:
    """The administrative group's DN in the organisation of `domain`."""
    org, dcs = organisation(domain)
    return (f"CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN={org},"
            f"CN=Microsoft Exchange,CN=Services,CN=Configuration,{dcs}")  # fmt: skip


VERSIONS = {
    "2013": (15, 0, 1497, 2),
    "2016": (15, 1, 2507, 6),
    "2019": (15, 2, 1544, 4),
    "SE": (15, 2, 2562, 17),
}


def _guid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "exaudit-synthetic/" + "/".join(map(str, parts)))


def _strings(
    values: list[str], type_name: str = "Microsoft.Exchange.Data.MultiValuedProperty`1[[System.String]]"
) -> PSList:
    items = PSList((type_name,))
    items.extend(values)
    return items


def _remoting(endpoint: str) -> dict[str, Any]:
    return {"PSComputerName": endpoint, "RunspaceId": _guid("runspace", endpoint), "PSShowComputerName": False}


def exchange_server(
    name: str, domain: str, version: str, *, edge: bool = False, endpoint: str | None = None
) -> ExchangeObject:
    major, minor, build, revision = VERSIONS[version]
    role_value, role_name = (
        (64, "Edge") if edge else ((6, "Mailbox, ClientAccess") if version == "2013" else (2, "Mailbox"))
    )
    fqdn = f"{name.lower()}.{domain}"
    admin_version = PSObject(
        ("Microsoft.Exchange.Data.ServerVersion", "System.Object"),
        f"Version {major}.{minor} (Build {build}.{revision})",
        {"Major": major, "Minor": minor, "Build": build, "Revision": revision},
    )
    props = {
        "Name": name,
        "Fqdn": fqdn,
        "Domain": domain,
        "AdminDisplayVersion": admin_version,
        "ServerRole": PSEnum("Microsoft.Exchange.Data.Directory.SystemConfiguration.ServerRole", role_name, role_value),
        "IsClientAccessServer": not edge,
        "IsMailboxServer": not edge,
        "IsEdgeServer": edge,
        "IsHubTransportServer": not edge,
        "Site": f"{domain}/Configuration/Sites/Default-First-Site-Name",
        "Edition": PSEnum("Microsoft.Exchange.Data.ServerEditionType", "Standard", 1),
        "ExchangeVersion": "0.1 (8.0.535.0)",
        "DistinguishedName": f"CN={name},CN=Servers,{_group(domain)}",
        "Guid": _guid("server", name),
    }
    return (
        ("Microsoft.Exchange.Data.Directory.Management.ExchangeServer", "System.Object"),
        props,
        _remoting(endpoint or fqdn),
    )


def service(name: str, display: str, status: str, start: str | None, *, ran_on: str | None = None) -> ExchangeObject:
    """Get-Service on a server: MachineName is `.`; through Invoke-Command, PSComputerName is the server. Without
    `start`, no StartType (a ServiceController of .NET before 4.6.1, as Exchange 2010's servers have)."""
    statuses = {"Stopped": 1, "Running": 4}
    starts = {"Automatic": 2, "Manual": 3, "Disabled": 4}
    props = {
        "Name": name,
        "ServiceName": name,
        "DisplayName": display,
        "MachineName": ".",
        "Status": PSEnum("System.ServiceProcess.ServiceControllerStatus", status, statuses[status]),
    }
    if start is not None:
        props["StartType"] = PSEnum("System.ServiceProcess.ServiceStartMode", start, starts[start])
    extended = _remoting(ran_on) if ran_on else {}
    return ("System.ServiceProcess.ServiceController", "System.Object"), props, extended


def protocol_services(
    version: str, *, pop: tuple[str, str], imap: tuple[str, str], ran_on: str | None = None
) -> list[ExchangeObject]:
    """The POP3/IMAP4 services of a server, with the back-end services from Exchange 2013 on."""
    found = [
        service("MSExchangePop3", "Microsoft Exchange POP3", *pop, ran_on=ran_on),
        service("MSExchangeImap4", "Microsoft Exchange IMAP4", *imap, ran_on=ran_on),
    ]
    if VERSIONS[version][0] >= 15:
        found += [
            service("MSExchangePOP3BE", "Microsoft Exchange POP3 Backend", *pop, ran_on=ran_on),
            service("MSExchangeIMAP4BE", "Microsoft Exchange IMAP4 Backend", *imap, ran_on=ran_on),
        ]
    found.append(service("MSExchangeTransport", "Microsoft Exchange Transport", "Running", "Automatic", ran_on=ran_on))
    return found


def protocol_settings(
    protocol: str,
    server: str,
    domain: str,
    *,
    login_type: str = "SecureLogin",
    certificate_name: str | None = None,
    endpoint: str | None = None,
    protocol_log: bool = False,
) -> ExchangeObject:
    """Get-PopSettings / Get-ImapSettings of one server, as a remote session serializes them (depth 1)."""
    pop = protocol == "pop"
    plain_port, ssl_port = (110, 995) if pop else (143, 993)
    fqdn = f"mail.{domain}"
    props: dict[str, Any] = {
        "Name": "1",
        "Server": server,
        "LoginType": login_type,
        "X509CertificateName": certificate_name if certificate_name is not None else fqdn,
        "UnencryptedOrTLSBindings": _strings([f"[::]:{plain_port}", f"0.0.0.0:{plain_port}"]),
        "SSLBindings": _strings([f"[::]:{ssl_port}", f"0.0.0.0:{ssl_port}"]),
        "InternalConnectionSettings": _strings(
            [f"{server.lower()}.{domain}:{ssl_port}:SSL", f"{server.lower()}.{domain}:{plain_port}:TLS"]
        ),
        "ExternalConnectionSettings": _strings([]),
        "ProtocolLogEnabled": protocol_log,
        "EnableGSSAPIAndNTLMAuth": True,
        "ExtendedProtectionPolicy": "None",
        "ProxyTargetPort": 1995 if pop else 1993,
        ("MessageRetrievalSortOrder" if pop else "ShowHiddenFoldersEnabled"): "Ascending" if pop else False,
        "Identity": f"{server}\\1",
        "DistinguishedName": f"CN=1,CN={'POP3' if pop else 'IMAP4'},CN=Protocols,CN={server},CN=Servers,{_group(domain)}",
        "Guid": _guid(protocol, server),
    }
    type_name = "Microsoft.Exchange.Data.Directory.SystemConfiguration." + (
        "Pop3AdConfiguration" if pop else "Imap4AdConfiguration"
    )
    return (type_name, "System.Object"), props, _remoting(endpoint or f"{server.lower()}.{domain}")


def self_signed_der(
    common_name: str,
    names: list[str],
    *,
    not_after: dt.datetime,
    key_size: int = 2048,
    subject: x509.Name | None = None,
) -> bytes:
    """A real certificate (DER) with a fresh key, deterministic apart from the key material, signed with
    SHA-256 (OpenSSL 3 refuses to sign with SHA-1, so a weak signature is tested from text exports); its subject
    is `CN=common_name` unless a whole `subject` is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = subject or x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(int(_guid("serial", common_name).int >> 2))
        .not_valid_before(not_after - dt.timedelta(days=5 * 365))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
    )
    certificate = builder.sign(key, hashes.SHA256())
    return certificate.public_bytes(serialization.Encoding.DER)


def exchange_certificate(
    server: str, domain: str, der: bytes, *, services: str, status: str = "Valid", endpoint: str | None = None
) -> ExchangeObject:
    """A certificate as a remote session or Select-Object exports it: readable properties and RawData."""
    certificate = x509.load_der_x509_certificate(der)
    thumbprint = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    props = {
        "Thumbprint": thumbprint,
        "Subject": x500_name(certificate.subject),  # as Exchange shows it
        "Issuer": x500_name(certificate.issuer),
        "Services": services,
        "Status": status,
        "HasPrivateKey": True,
        "IsSelfSigned": certificate.issuer == certificate.subject,
        "RawData": der,
        "Identity": f"{server.lower()}.{domain}\\{thumbprint}",
    }
    return (
        ("Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate", "System.Object"),
        props,
        _remoting(endpoint or f"{server.lower()}.{domain}"),
    )


def component_state(server: str, domain: str, component: str, state: str = "Active") -> ExchangeObject:
    values = {"Active": 0, "Inactive": 1, "Draining": 2}
    props = {
        "ServerFqdn": f"{server.lower()}.{domain}",
        "Component": component,
        "State": PSEnum("Microsoft.Exchange.Data.ServiceState", state, values[state]),
        "Identity": server,
    }
    return (
        ("Microsoft.Exchange.Data.Directory.Management.ServerComponentStatePresentationObject", "System.Object"),
        props,
        {},
    )


def receive_connector(
    server: str, domain: str, name: str, port: int, *, auth: str, groups: str, require_tls: bool = False
) -> ExchangeObject:
    props = {
        "Name": f"{name} {server}",
        "Server": server,
        "Bindings": _strings([f"[::]:{port}", f"0.0.0.0:{port}"]),
        "TransportRole": "FrontendTransport",
        "AuthMechanism": auth,
        "PermissionGroups": groups,
        "RequireTLS": require_tls,
        "Enabled": True,
        "Fqdn": f"{server.lower()}.{domain}",
        "Identity": f"{server}\\{name} {server}",
        "DistinguishedName": f"CN={name} {server},CN=SMTP Receive Connectors,CN=Protocols,CN={server},CN=Servers,{_group(domain)}",
        "Guid": _guid("connector", server, name),
    }
    return ("Microsoft.Exchange.Data.Directory.SystemConfiguration.ReceiveConnector", "System.Object"), props, {}


def organization_config(name: str, *, default_policy: str | None = None) -> ExchangeObject:
    props = {
        "Name": name,
        "DefaultAuthenticationPolicy": default_policy,
        "OrganizationId": "",
        "Identity": name,
        "Guid": _guid("organization", name),
    }
    return ("Microsoft.Exchange.Data.Directory.Management.OrganizationConfig", "System.Object"), props, {}
