"""Certificates as Exchange shows them (issue 17, item 4): Subject and Issuer rendered the way .NET's
X500DistinguishedName renders them, so the same certificate from CLIXML (RawData) and from `Format-List` text is
one certificate; no warning from the cryptography package; attribution by the session's server only when it is a
known Exchange server. The certificates are made here (synthetic); the real CSS-Exchange exports are read too."""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from cryptography import x509

from analyzer.exchange.bundle import load_bundle
from analyzer.exchange.certificates import from_der, x500_name
from analyzer.readers.clixml import read_clixml
from analyzer.readers.text import TextReader
from analyzer.synthetic import exchange_objects as ex
from analyzer.synthetic.samples import clixml_bytes

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "microsoft__CSS-Exchange"
A = x509.NameAttribute
O = x509.NameOID  # noqa: E741 - the cryptography module's own short name


def _certificate(subject: x509.Name, names: list[str]) -> bytes:
    return ex.self_signed_der(names[0], names, not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), subject=subject)


SUBJECT = x509.Name(
    [
        A(O.COUNTRY_NAME, "US"),
        A(O.STATE_OR_PROVINCE_NAME, "WA"),
        A(O.LOCALITY_NAME, "Redmond"),
        A(O.ORGANIZATION_NAME, "Contoso, Ltd."),
        A(O.ORGANIZATIONAL_UNIT_NAME, 'IT "Mail"'),
        A(O.EMAIL_ADDRESS, "pki@contoso.com"),
        A(O.COMMON_NAME, "mail.contoso.com"),
    ]
)


def test_names_are_rendered_as_exchange_shows_them() -> None:
    assert x500_name(SUBJECT) == (
        'CN=mail.contoso.com, E=pki@contoso.com, OU="IT ""Mail""", O="Contoso, Ltd.", L=Redmond, S=WA, C=US'
    )
    assert SUBJECT.rfc4514_string() != x500_name(SUBJECT)  # RFC 4514 writes ST= and backslash escapes
    multi = x509.Name([x509.RelativeDistinguishedName([A(O.COMMON_NAME, "a"), A(O.ORGANIZATIONAL_UNIT_NAME, "b")])])
    assert x500_name(multi) == "CN=a + OU=b"
    other = x509.Name([A(x509.ObjectIdentifier("1.2.3.4"), "x"), A(O.COMMON_NAME, " padded ")])
    assert x500_name(other) == 'CN=" padded ", OID.1.2.3.4=x'


def test_the_same_certificate_from_clixml_and_from_text_is_one_certificate(tmp_path: Path) -> None:
    der = _certificate(SUBJECT, ["mail.contoso.com"])
    thumbprint = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    (tmp_path / "EX01").mkdir()
    clixml = ex.exchange_certificate("EX01", "contoso.com", der, services="IMAP, POP")
    (tmp_path / "EX01" / "certificates.xml").write_bytes(clixml_bytes([clixml]))
    text = (
        "\r\n\r\n"
        f"Thumbprint         : {thumbprint}\r\n"
        f"Subject            : {x500_name(SUBJECT)}\r\n"
        f"Issuer             : {x500_name(SUBJECT)}\r\n"
        "CertificateDomains : {mail.contoso.com}\r\n"
        "Services           : IMAP, POP\r\n"
        "Status             : Valid\r\n"
        f"Identity           : ex01.contoso.com\\{thumbprint}\r\n"
        "NotAfter           : 1/1/2030 9:00:00 AM\r\n"  # local time in Tokyo: the same moment as 00:00 UTC
        "\r\n\r\n"
    )
    (tmp_path / "EX01" / "certificates.txt").write_text(text, encoding="utf-8")
    bundle = load_bundle([tmp_path], split_large=False)
    messages = [p.message for p in bundle.problems]
    assert any("duplicate of" in m and "merged" in m for m in messages), messages
    assert not any("different" in m for m in messages), messages
    [row] = bundle.datasets["exchange_certificate"].frame.to_dict("records")
    assert row["Subject"] == x500_name(SUBJECT) and row["source_format"] == "clixml"


def test_dates_more_than_any_time_zone_apart_are_still_a_conflict(tmp_path: Path) -> None:
    der = _certificate(SUBJECT, ["mail.contoso.com"])
    thumbprint = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    (tmp_path / "certificates.xml").write_bytes(
        clixml_bytes([ex.exchange_certificate("EX01", "contoso.com", der, services="IMAP, POP")])
    )
    text = (
        f"\r\n\r\nThumbprint : {thumbprint}\r\nSubject    : {x500_name(SUBJECT)}\r\nServices   : IMAP, POP\r\n"
        f"Identity   : ex01.contoso.com\\{thumbprint}\r\nNotAfter   : 25/01/2030 9:00:00 PM\r\n\r\n"
    )
    (tmp_path / "certificates.txt").write_text(text, encoding="utf-8")
    messages = [p.message for p in load_bundle([tmp_path], split_large=False).problems]
    assert any("different NotAfter" in m for m in messages), messages


def test_reading_every_real_certificate_raises_no_warning() -> None:
    files = sorted(glob.glob(str(REAL / "*Certificat*.xml")))
    assert len(files) >= 8
    decoded = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecation warning from cryptography fails here
        for path in files:
            for record in read_clixml(path):
                raw = record.properties.get("RawData")
                if isinstance(raw, bytes):
                    facts = from_der(raw)
                    assert re.match(r"^(?:[A-Z]+|OID\.[0-9.]+)=", facts["Subject"]), facts["Subject"]
                    decoded += 1
    assert decoded >= 20


def _session_bundle(tmp_path: Path, endpoint: str, *, with_servers: bool) -> list[str | None]:
    der = ex.self_signed_der("ex01", ["ex01.contoso.com"], not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    certificate = ex.exchange_certificate("EX01", "contoso.com", der, services="IIS", endpoint=endpoint)
    types, props, extra = certificate
    props = {k: v for k, v in props.items() if k != "Identity"}  # a local export: no SERVER\\Thumbprint identity
    (tmp_path / "certificates.xml").write_bytes(clixml_bytes([(types, props, extra)]))
    if with_servers:
        servers = [ex.exchange_server(name, "contoso.com", "2019") for name in ("EX01", "EX02")]
        (tmp_path / "servers.xml").write_bytes(clixml_bytes(servers))
    frame = load_bundle([tmp_path], split_large=False).datasets["exchange_certificate"].frame
    return [*frame["server_key"], *frame["attributed_by"]]


def test_the_sessions_server_attributes_a_certificate_only_when_it_is_a_known_exchange_server(
    tmp_path: Path,
) -> None:
    assert _session_bundle(tmp_path / "a", "ex02.contoso.com", with_servers=True) == ["EX02", "PSComputerName"]
    # A load-balanced namespace is no server: the row is left to the other ways (here: none, so unattributed).
    key, attributed_by = _session_bundle(tmp_path / "b", "mail.contoso.com", with_servers=True)
    assert pd.isna(key) and attributed_by == "unattributed"


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()


PASTE = REAL.parent / "win-acme__win-acme" / "issues__2191__Get-ExchangeCertificate_fl.txt"


def test_a_real_pasted_certificate_is_read_as_the_shell_printed_it(tmp_path: Path) -> None:
    """A `Get-ExchangeCertificate | fl` pasted into a public issue thread (Exchange 2013, a Canadian
    `yyyy-MM-dd h:mm:ss tt` date layout, a line cut where it was copied, the shell's prompt after it)."""
    (tmp_path / "EX01").mkdir()
    (tmp_path / "EX01" / PASTE.name).write_bytes(PASTE.read_bytes())
    (tmp_path / "servers.xml").write_bytes(clixml_bytes([ex.exchange_server("EX01", "contoso.com", "2013")]))
    bundle = load_bundle([tmp_path], split_large=False)
    assert [(p.line, p.message.split(":")[0]) for p in bundle.problems] == [(16, "prompt line skipped")]
    dataset = bundle.datasets["exchange_certificate"]
    [row] = dataset.frame.to_dict("records")
    assert row["Thumbprint"] == "77C182F6C186AB53EA6B9AC890F84415319B6ACD"
    assert row["Subject"] == "CN=autodiscover.unitedfloral.ca" and row["Issuer"] == "CN=R3, O=Let's Encrypt, C=US"
    assert len(row["CertificateDomains"]) == 5 and row["Services"] == ["SMTP"] and row["Status"] == "DateInvalid"
    # Year first, so no culture is needed; the clock reads as written and is kept as the machine's local time.
    assert row["NotAfter"].replace(tzinfo=None) == dt.datetime(2022, 11, 20, 9, 27, 45)
    assert row["NotBefore"].replace(tzinfo=None) == dt.datetime(2022, 8, 22, 10, 27, 46)
    assert "local time" in dataset.local_time["NotAfter"]
    assert (row["server_key"], row["attributed_by"]) == ("EX01", "path")
    [record] = list(TextReader(PASTE))
    assert "AccessRules" in record.lossy  # `{…, System.Security.AccessC` has no closing brace: the line was cut
    assert record.properties["AccessRules"] == ["System.Security.AccessControl.CryptoKeyAccessRule"] * 3
