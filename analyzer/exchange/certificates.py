"""Exchange certificates: the facts a rule needs, from whatever the export kept.

A local `Get-ExchangeCertificate | Export-Clixml` keeps only `RawData` (the DER certificate) as a readable
property; Services, Status and the rest sit inside `SerializationData`, a .NET BinaryFormatter (MS-NRBF) blob
(input-formats.md §6), read here with the `nrbf` package. Exports from a remote session or Select-Object carry
readable properties instead. Readable properties win; RawData fills in what they lack and is the authority for
dates, names and keys because it is the certificate itself.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import nrbf
from cryptography import x509

# CertData is a serialized certificate-store element: (property id, 1, length, bytes) records. Property 2 is
# CERT_KEY_PROV_INFO_PROP_ID: the store knows where the certificate's private key lives.
_KEY_PROVIDER_PROPERTY = 2


def _key_size(certificate: x509.Certificate) -> int | None:
    """The key's size in bits. RSA, EC and DSA keys have one; the class is not named, since touching the
    deprecated DSA class prints a warning on every scan (cryptography 46)."""
    size = getattr(certificate.public_key(), "key_size", None)
    return size if isinstance(size, int) else None


# How .NET's X500DistinguishedName names attributes in Exchange output (X509Certificate2.Subject, Windows'
# CertNameToStr): `S=` for the state, `E=` for e-mail, `OID.n.n=` for the rest.
_X500_KEYS = {
    x509.NameOID.COMMON_NAME: "CN",
    x509.NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    x509.NameOID.ORGANIZATION_NAME: "O",
    x509.NameOID.LOCALITY_NAME: "L",
    x509.NameOID.STATE_OR_PROVINCE_NAME: "S",
    x509.NameOID.COUNTRY_NAME: "C",
    x509.NameOID.EMAIL_ADDRESS: "E",
    x509.NameOID.STREET_ADDRESS: "STREET",
    x509.NameOID.DOMAIN_COMPONENT: "DC",
    x509.NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    x509.NameOID.TITLE: "T",
    x509.NameOID.GIVEN_NAME: "G",
    x509.NameOID.SURNAME: "SN",
    x509.NameOID.INITIALS: "I",
    x509.NameOID.POSTAL_CODE: "PostalCode",
}
_NEEDS_QUOTES = frozenset(',+="\n<>#;')


def _x500_value(value: str) -> str:
    """A value as CertNameToStr writes it: in double quotes (inner ones doubled) when it holds a separator or
    starts or ends with a space — never the backslash escapes of RFC 4514."""
    if value == "" or value[0] == " " or value[-1] == " " or not _NEEDS_QUOTES.isdisjoint(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def x500_name(name: x509.Name) -> str:
    """`CN=mail.contoso.com, OU=IT, O=Contoso, L=Redmond, S=WA, C=US`: the most specific part first, `, ` between
    parts and ` + ` inside a multi-valued one, as Exchange shows Subject and Issuer — so a certificate read
    from CLIXML (RawData) and from `Format-List` text is one certificate."""
    parts = []
    for rdn in reversed(name.rdns):  # a multi-valued part keeps its encoded order, as CertNameToStr does
        parts.append(
            " + ".join(
                f"{_X500_KEYS.get(a.oid, 'OID.' + a.oid.dotted_string)}={_x500_value(_text(a.value))}" for a in rdn
            )
        )
    return ", ".join(parts)


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.hex()


def from_der(raw: bytes) -> dict[str, Any]:
    """Subject, issuer, SAN names, validity, SHA-1 thumbprint, key size, signature hash, self-signed."""
    certificate = x509.load_der_x509_certificate(raw)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        domains = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        domains = []
    common_names = [attr.value for attr in certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    hash_algorithm = certificate.signature_hash_algorithm
    return {
        "Thumbprint": hashlib.sha1(raw, usedforsecurity=False).hexdigest().upper(),
        "Subject": x500_name(certificate.subject),
        "Issuer": x500_name(certificate.issuer),
        "CertificateDomains": list(dict.fromkeys([*map(str, common_names), *domains])),
        "NotBefore": certificate.not_valid_before_utc.astimezone(UTC),
        "NotAfter": certificate.not_valid_after_utc.astimezone(UTC),
        "PublicKeySize": _key_size(certificate),
        "SignatureAlgorithm": hash_algorithm.name if hash_algorithm is not None else None,
        "IsSelfSigned": certificate.issuer == certificate.subject,
    }


def _has_key_provider(cert_data: bytes) -> bool:
    position = 0
    while position + 12 <= len(cert_data):
        prop_id, _reserved, length = struct.unpack_from("<III", cert_data, position)
        if prop_id == _KEY_PROVIDER_PROPERTY:
            return True
        position += 12 + length
    return False


def from_serialization_data(blob: bytes) -> dict[str, Any]:
    """Services, Status, self-signed and private-key presence from the BinaryFormatter blob."""
    root = nrbf.loads(blob)
    if not isinstance(root, dict):
        raise ValueError("SerializationData does not hold an ExchangeCertificate")
    facts: dict[str, Any] = {}
    if "Services" in root:
        facts["Services"] = root["Services"]
    if "Status" in root:
        facts["Status"] = root["Status"]
    if isinstance(root.get("SelfSigned"), bool):
        facts["IsSelfSigned"] = root["SelfSigned"]
    if isinstance(root.get("Identity"), str):
        facts["Identity"] = root["Identity"]
    cert_data = root.get("CertData")
    if isinstance(cert_data, (list, bytes, bytearray)):
        facts["HasPrivateKey"] = _has_key_provider(bytes(cert_data))
    return facts


def certificate_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The record's properties completed from RawData and SerializationData; readable properties win for
    Services/Status, RawData for what the certificate itself says. Raises ValueError if a blob is unreadable."""
    completed = dict(properties)
    blob = properties.get("SerializationData")
    if isinstance(blob, bytes):
        for name, value in from_serialization_data(blob).items():
            completed.setdefault(name, value)
    raw = properties.get("RawData")
    if isinstance(raw, bytes):
        completed.update(from_der(raw))
    elif isinstance(raw, list) and all(isinstance(b, int) for b in raw):  # JSON writes byte arrays as numbers
        completed.update(from_der(bytes(raw)))
    if "Services" in completed and isinstance(completed["Services"], str) and completed["Services"].strip().isdigit():
        completed["Services"] = int(completed["Services"])
    return completed


def covers(host: str, names: list[str]) -> bool:
    """Whether a certificate whose subject/SAN names are `names` is valid for `host` (wildcards one label)."""
    host = host.lower().rstrip(".")
    for listed in names:
        pattern = listed.lower().rstrip(".")
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host and host.split(".", 1)[1] == pattern[2:]:
            return True
    return False
