"""Exchange value parsers, server keys, certificates and dataset recognition."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from analyzer.exchange import values as v
from analyzer.exchange.catalog import recognise
from analyzer.exchange.cells import flags_list
from analyzer.exchange.certificates import certificate_properties, covers, from_der
from analyzer.exchange.servers import server_from_distinguished_name, server_from_identity, server_key
from analyzer.readers.clixml import read_clixml
from analyzer.readers.psvalues import PSEnum, PSObject
from analyzer.synthetic.exchange_objects import self_signed_der
from tests.conftest import CSS


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("Version 8.3 (Build 83.6)", "Exchange 2007"),
        ("Version 14.3 (Build 123.4)", "Exchange 2010"),
        ("Version 15.0 (Build 1497.2)", "Exchange 2013"),
        ("Version 15.1 (Build 2375.7)", "Exchange 2016"),
        ("Version 15.2 (Build 986.5)", "Exchange 2019"),
        ("Version 15.2 (Build 2561.1)", "Exchange 2019"),
        ("Version 15.2 (Build 2562.17)", "Exchange Server SE"),
        ("15.2.1544.4", "Exchange 2019"),
    ],
)
def test_server_version_products(text: str, product: str) -> None:
    version = v.parse_server_version(text)
    assert version is not None and version.product == product


def test_server_version_is_comparable_and_read_from_typed_objects() -> None:
    typed = PSObject(("Microsoft.Exchange.Data.ServerVersion",), "Version 15.2 (Build 986.5)",
                     {"Major": 15, "Minor": 2, "Build": 986, "Revision": 5})  # fmt: skip
    assert v.parse_server_version(typed) == v.ServerVersion(15, 2, 986, 5)
    assert v.parse_server_version("Version 15.1 (Build 2507.6)") < v.parse_server_version(typed)  # type: ignore[operator]
    with pytest.raises(ValueError, match="Exchange version"):
        v.parse_server_version("0.1 (8.0.535.0)")  # ExchangeVersion is an object version, not a product build


@pytest.mark.parametrize(
    ("spec", "given", "expected"),
    [
        (v.SERVER_ROLE, "Mailbox", "Mailbox"),
        (v.SERVER_ROLE, "Mailbox, ClientAccess", "Mailbox, ClientAccess"),
        (v.SERVER_ROLE, 6, "Mailbox, ClientAccess"),
        (v.SERVER_ROLE, "64", "Edge"),
        (v.SERVER_ROLE, PSEnum("x.ServerRole", "Mailbox", 2), "Mailbox"),
        (v.SERVICE_START_MODE, "Auto", "Automatic"),
        (v.SERVICE_START_MODE, 3, "Manual"),
        (v.SERVICE_STATUS, "Start Pending", "StartPending"),
        (v.SERVICE_STATUS, "running", "Running"),
        (v.ALLOWED_SERVICES, 27, "IMAP, POP, IIS, SMTP"),
        (v.ALLOWED_SERVICES, "IMAP, POP, IIS, SMTP", "IMAP, POP, IIS, SMTP"),
        (v.ALLOWED_SERVICES, 0, "None"),
        (v.SERVICE_STATUS, 99, "Unknown(99)"),
        # The Client Frontend connector's defaults, as text and as the number Export-Csv of the raw value gives.
        (
            v.RECEIVE_AUTH_MECHANISMS,
            "Tls, Integrated, BasicAuth, BasicAuthRequireTLS",
            "Tls, Integrated, BasicAuth, BasicAuthRequireTLS",
        ),
        (v.RECEIVE_AUTH_MECHANISMS, 15, "Tls, Integrated, BasicAuth, BasicAuthRequireTLS"),
        (v.PERMISSION_GROUPS, "anonymoususers, exchangeusers", "AnonymousUsers, ExchangeUsers"),
        (v.PERMISSION_GROUPS, 2, "ExchangeUsers"),
    ],
)
def test_enums_by_name_or_number(spec: v.EnumSpec, given: object, expected: str) -> None:
    assert spec.parse(given) == expected


def test_unknown_enum_name_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="not a ServiceStartMode"):
        v.SERVICE_START_MODE.parse("Sometimes")


def test_login_type_numbers_are_kept_not_guessed() -> None:
    assert v.parse_login_type("securelogin") == "SecureLogin"
    assert v.parse_login_type(PSEnum("x.LoginOptions", "PlainTextLogin", 1)) == "PlainTextLogin"
    assert v.parse_login_type(2) == "Number(2)"
    with pytest.raises(ValueError, match="not a LoginType"):
        v.parse_login_type("Kerberos")


def test_bindings_and_connection_settings() -> None:
    assert v.parse_bindings(["0.0.0.0:995", "[::]:995"]) == [v.Binding("0.0.0.0", 995), v.Binding("[::]", 995)]
    assert v.parse_bindings("{[::]:110, 0.0.0.0:110}") == [v.Binding("[::]", 110), v.Binding("0.0.0.0", 110)]
    assert v.parse_bindings("") == []
    [ssl, tls, plain] = (
        v.parse_connection_settings(["mail.contoso.com:993:SSL", "mail.contoso.com:143:TLS", "h:143"]) or []
    )
    assert (ssl.host, ssl.port, ssl.encryption) == ("mail.contoso.com", 993, "SSL")
    assert (tls.encryption, plain.encryption) == ("TLS", None)
    with pytest.raises(ValueError, match="IP binding"):
        v.parse_binding("nonsense")


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("49.5 GB (53,150,121,984 bytes)", 53_150_121_984),
        ("49,5 GB (53.150.121.984 bytes)", 53_150_121_984),  # de-DE separators
        ("500 MB (524 288 000 bytes)", 524_288_000),
        ("6672B", 6672),  # Exchange 2007
    ],
)
def test_byte_quantified_sizes(text: str, size: int) -> None:
    assert v.parse_byte_size(text) == size


def test_unlimited() -> None:
    assert v.parse_byte_size("Unlimited") is None and v.is_unlimited("Unlimited")
    assert v.is_unlimited(PSObject(("x.Unlimited",), "Unlimited", {"IsUnlimited": True}))
    assert not v.is_unlimited("2 GB (2,147,483,648 bytes)")


@pytest.mark.parametrize("spelling", ["EXCH01", "Exch01.contoso.com", "exch01.contoso.com", " exch01 "])
def test_server_spellings_share_one_key(spelling: str) -> None:
    assert server_key(spelling) == "EXCH01"


def test_server_names_from_identity_and_distinguished_name() -> None:
    assert server_from_identity("EXCH02\\1") == "EXCH02"
    assert server_from_identity("Solo-E19A.Solo.com\\C3EDCF18") == "Solo-E19A.Solo.com"
    assert (
        server_from_distinguished_name(
            "CN=1,CN=POP3,CN=Protocols,CN=EXCH02,CN=Servers,CN=Exchange Administrative Group"
        )
        == "EXCH02"
    )
    assert server_key(".") is None and server_key("") is None and server_key(None) is None


def test_certificates_decoded_from_real_local_export() -> None:
    """A local-shell export keeps only RawData and SerializationData; both are decoded."""
    records = list(
        read_clixml(
            CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__GetExchangeCertificate.xml"
        )
    )
    decoded = [certificate_properties(r.properties) for r in records]
    for facts in decoded:
        assert facts["Identity"].endswith("\\" + facts["Thumbprint"])  # SHA-1 of RawData is the thumbprint
        assert facts["HasPrivateKey"] is True and facts["Status"] == 1
    default = next(f for f in decoded if f["Subject"] == "CN=Solo-E19A")
    assert v.ALLOWED_SERVICES.parse(default["Services"]) == "IMAP, POP, IIS, SMTP"  # 27, the default certificate
    assert default["IsSelfSigned"] is True and default["PublicKeySize"] == 2048
    assert default["CertificateDomains"] == ["Solo-E19A", "Solo-E19A.Solo.com"]
    assert default["NotAfter"] == dt.datetime(2024, 12, 3, 22, 45, 58, tzinfo=dt.UTC)
    assert default["SignatureAlgorithm"] == "sha1"


def test_certificate_from_generated_der_and_wildcards() -> None:
    der = self_signed_der(
        "*.contoso.com", ["*.contoso.com", "contoso.com"], not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )
    facts = from_der(der)
    assert facts["IsSelfSigned"] and facts["SignatureAlgorithm"] == "sha256"
    assert covers("mail.contoso.com", facts["CertificateDomains"])
    assert not covers("a.b.contoso.com", facts["CertificateDomains"])  # a wildcard covers one label
    assert covers("CONTOSO.com.", facts["CertificateDomains"])


@pytest.mark.parametrize(
    ("types", "props", "dataset"),
    [
        (("Microsoft.Exchange.Data.Directory.SystemConfiguration.Pop3AdConfiguration",), (), "pop_settings"),
        (("Microsoft.Exchange.Data.Directory.SystemConfiguration.Imap4AdConfiguration",), (), "imap_settings"),
        (("Microsoft.Exchange.Data.Directory.Management.CASMailbox",), (), "cas_mailbox"),
        (("Microsoft.Exchange.Data.Directory.Management.Mailbox",), (), "mailbox"),
        (("Deserialized.Microsoft.Exchange.Data.Directory.Management.User",), (), "user"),
        (("Microsoft.Exchange.Data.Directory.Management.MailUser",), ("AuthenticationPolicy",), None),
        ((), ("Name", "UserPrincipalName", "WindowsEmailAddress", "AuthenticationPolicy"), "user"),
        ((), ("Name", "UserPrincipalName", "WindowsEmailAddress", "PrimarySmtpAddress"), None),
        (("Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_Service",), (), "service"),
        ((), ("Name", "State", "StartMode", "SystemName"), "service"),
        ((), ("PopEnabled", "ImapEnabled", "Name"), "cas_mailbox"),
        (
            (),
            ("LoginType", "X509CertificateName", "UnencryptedOrTLSBindings", "MessageRetrievalSortOrder"),
            "pop_settings",
        ),
        (
            ("Selected.System.Management.Automation.PSCustomObject",),
            ("Thumbprint", "Services", "NotAfter", "Subject"),
            "exchange_certificate",
        ),
    ],
)
def test_recognition_by_type_name_or_signature(
    types: tuple[str, ...], props: tuple[str, ...], dataset: str | None
) -> None:
    spec = recognise(types, props)
    assert (spec.name if spec else None) == dataset


def test_unknown_types_are_not_recognised() -> None:
    assert recognise(("System.IO.FileInfo",), ("Length", "FullName")) is None


def test_receive_connector_flags_become_lists_for_contains_conditions() -> None:
    assert flags_list(v.RECEIVE_AUTH_MECHANISMS)("Tls, BasicAuthRequireTLS") == ["Tls", "BasicAuthRequireTLS"]
    assert flags_list(v.PERMISSION_GROUPS)(0) == []
    assert flags_list(v.RECEIVE_AUTH_MECHANISMS)(["Tls", "BasicAuthRequireTLS"]) == ["Tls", "BasicAuthRequireTLS"]
    assert flags_list(v.RECEIVE_AUTH_MECHANISMS)(PSEnum("x", "Tls, Integrated", 0)) == ["Tls", "Integrated"]
    assert flags_list(v.RECEIVE_AUTH_MECHANISMS)(None) is None
    with pytest.raises(ValueError, match=r"^'' is not a AuthMechanisms value$"):
        flags_list(v.RECEIVE_AUTH_MECHANISMS)(["Tls", None])  # a null in the list is no flag name
    assert flags_list(v.RECEIVE_AUTH_MECHANISMS)("None") == []  # the flags value 0 by its name


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        # en-US (Export-Csv and Format-List on a US server): month first, 12-hour clock
        ("11/20/2022 9:27:45 AM", "month-first", dt.datetime(2022, 11, 20, 9, 27, 45)),
        ("2/3/2024 11:05:00 PM", "month-first", dt.datetime(2024, 2, 3, 23, 5)),
        ("12/31/2030 12:00:00 AM", "month-first", dt.datetime(2030, 12, 31, 0, 0)),
        # en-GB and en-AU: day first; the same text month-first is another day
        ("12/02/2018 1:53:00 PM", "day-first", dt.datetime(2018, 2, 12, 13, 53)),
        ("12/02/2018 1:53:00 PM", "month-first", dt.datetime(2018, 12, 2, 13, 53)),
        ("20/11/2022 09:27:45", "day-first", dt.datetime(2022, 11, 20, 9, 27, 45)),
        # de-DE: day first, dotted, 24-hour
        ("20.11.2022 09:27:45", "day-first", dt.datetime(2022, 11, 20, 9, 27, 45)),
        ("03.02.2024 23:05:00", "day-first", dt.datetime(2024, 2, 3, 23, 5)),
        # ja-JP: year first with slashes; ko-KR and zh-TW put the designator before the time
        ("2022/11/20 9:27:45", None, dt.datetime(2022, 11, 20, 9, 27, 45)),
        ("2018-02-12 오후 1:53:00", None, dt.datetime(2018, 2, 12, 13, 53)),
        ("2018/2/12 上午 12:05:00", None, dt.datetime(2018, 2, 12, 0, 5)),
        # en-CA: ISO-like with a.m./p.m.; fi-FI: dots between the time's parts too; hu-HU: dotted year first
        ("2022-11-20 9:27:45 AM", None, dt.datetime(2022, 11, 20, 9, 27, 45)),
        ("2022-11-20 9:27:45 p.m.", None, dt.datetime(2022, 11, 20, 21, 27, 45)),
        ("20.11.2022 9.27.45", "day-first", dt.datetime(2022, 11, 20, 9, 27, 45)),
        ("2018. 02. 12. 13:53:00", None, dt.datetime(2018, 2, 12, 13, 53)),
        # nl-NL dashes, day first; two-digit years as .NET reads them (00–49 → 2000s)
        ("1-3-2024 08:00:00", "day-first", dt.datetime(2024, 3, 1, 8)),
        ("01/03/49 08:00:00", "day-first", dt.datetime(2049, 3, 1, 8)),
        ("01/03/50 08:00:00", "day-first", dt.datetime(1950, 3, 1, 8)),
    ],
)
def test_culture_dates_are_read_to_the_exact_moment(text: str, order: str | None, expected: dt.datetime) -> None:
    """Each layout pinned to its value under its order: a month-first date read day-first (or the reverse)
    fails here."""
    from analyzer.exchange.dates import read_local

    assert read_local(text).moment(order) == expected


def test_text_without_a_zone_waits_for_its_files_order() -> None:
    """A culture-written date is never made a moment on its own: `as_datetime` hands it on as LocalText."""
    from analyzer.exchange.cells import as_datetime
    from analyzer.exchange.dates import LocalText

    assert as_datetime("20/11/2022 09:27:45") == LocalText("20/11/2022 09:27:45")
    assert as_datetime(" 2022-11-20 09:27:45 ") == LocalText("2022-11-20 09:27:45")  # ISO-like, but local time
    assert as_datetime("2022-11-20T09:27:45+09:00") == dt.datetime(2022, 11, 20, 0, 27, 45, tzinfo=dt.UTC)


# -- Each parser at its edges: every form a value arrives in, every refusal with its exact message -----------------


def _exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("as is ", "as is "),
        (None, None),
        (PSEnum("x.LoginType", "SecureLogin", 3), "SecureLogin"),
        (PSObject(("x",), "shown", {}, 5), "shown"),  # ToString first
        (PSObject(("x",), None, {}, 5), "5"),  # else the object's own value
        (PSObject(("x",), None, {}), None),
        (True, "True"),
        (False, "False"),
        (995, "995"),
    ],
)
def test_the_text_a_value_shows(value: object, text: str | None) -> None:
    assert v.text_of(value) == text


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(True, True), (False, False), (None, None), ("True", True), ("false", False), (" TRUE ", True), ("1", True),
     ("$true", True), ("0", False), ("$False", False), (" FALSE ", False), ("", None), ("  ", None), (1, True),
     (0, False)],
)  # fmt: skip
def test_booleans_in_every_spelling(value: object, parsed: bool | None) -> None:
    assert v.parse_bool(value) is parsed


def test_a_boolean_that_is_neither_is_refused() -> None:
    with pytest.raises(ValueError, match=_exactly("expected True or False, got 'yes'")):
        v.parse_bool(" yes ")


@pytest.mark.parametrize(
    ("value", "name"),
    [("securelogin", "SecureLogin"), (" PlainTextAuthentication ", "PlainTextAuthentication"),
     (PSEnum("x.LoginType", "PlainTextLogin", 1), "PlainTextLogin"), ("2", "Number(2)"), (3, "Number(3)"),
     ("-1", "Number(-1)"), ("", None), (None, None)],
)  # fmt: skip
def test_login_types_by_name_any_case_and_numbers_kept(value: object, name: str | None) -> None:
    assert v.parse_login_type(value) == name


def test_a_login_type_that_only_looks_like_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^'X5' is not a LoginType"):
        v.parse_login_type("X5")


def test_an_unknown_login_type_is_refused() -> None:
    message = "'Kerberos' is not a LoginType (PlainTextLogin, PlainTextAuthentication or SecureLogin)"
    with pytest.raises(ValueError, match=_exactly(message)):
        v.parse_login_type(" Kerberos ")


def test_bindings_in_each_form() -> None:
    assert v.parse_bindings("{0.0.0.0:995, [::]:995}") == [v.Binding("0.0.0.0", 995), v.Binding("[::]", 995)]
    assert v.parse_bindings("0.0.0.0:110 [fe80::1%4]:110") == [v.Binding("0.0.0.0", 110), v.Binding("[fe80::1%4]", 110)]
    assert v.parse_bindings(["10.0.0.1:993"]) == [v.Binding("10.0.0.1", 993)]
    assert v.parse_bindings("{}") == [] and v.parse_bindings(None) is None
    assert str(v.Binding("[::]", 995)) == "[::]:995"
    with pytest.raises(
        ValueError, match=_exactly("expected an IP binding like 0.0.0.0:995 or [::]:995, got '0.0.0.0'")
    ):
        v.parse_bindings("0.0.0.0")
    with pytest.raises(ValueError, match=_exactly("expected an IP binding like 0.0.0.0:995 or [::]:995, got '::995'")):
        v.parse_binding("::995")


def test_connection_settings_in_each_form() -> None:
    assert v.parse_connection_settings("{mail.contoso.com:993:ssl, mail.contoso.com:143:TLS, x:110}") == [
        v.ConnectionSetting("mail.contoso.com", 993, "SSL"), v.ConnectionSetting("mail.contoso.com", 143, "TLS"),
        v.ConnectionSetting("x", 110, None),
    ]  # fmt: skip
    assert v.parse_connection_settings([" ", "a:995:", ""]) == [v.ConnectionSetting("a", 995, None)]
    assert v.parse_connection_settings("{X1.contoso.com:995:SSL}") == [
        v.ConnectionSetting("X1.contoso.com", 995, "SSL")
    ]
    assert v.parse_connection_settings(PSObject(("x",), None, {})) == []  # an object that shows no text
    assert v.parse_connection_settings(None) is None and v.parse_connection_settings("{}") == []
    assert str(v.ConnectionSetting("a", 1, None)) == "a:1" and str(v.ConnectionSetting("a", 1, "SSL")) == "a:1:SSL"
    for bad, message in (("a:b", "expected host:port[:SSL|TLS], got 'a:b'"),
                         ("a:1:2:3", "expected host:port[:SSL|TLS], got 'a:1:2:3'"),
                         ("a", "expected host:port[:SSL|TLS], got 'a'"),
                         ("a:1:STARTTLS", "unknown encryption 'STARTTLS' in 'a:1:STARTTLS'")):  # fmt: skip
        with pytest.raises(ValueError, match=_exactly(message)):
            v.parse_connection_settings(bad)


@pytest.mark.parametrize(
    "value",
    [
        PSObject(("System.Version",), None, {"Major": 15, "Minor": 2, "Build": 1544, "Revision": 4}),  # no ToString
        {"Major": 15, "Minor": 2, "Build": 1544, "Revision": 4},  # ConvertTo-Json's object
        {"Major": "15", "Minor": "2", "Build": "1544", "Revision": "4"},
        "Version 15.2 (Build 1544.4)",
        "version 15.2 (build 1544.4)",
        " 15.2.1544.4 ",
    ],
)
def test_a_server_version_in_every_form(value: object) -> None:
    assert v.parse_server_version(value) == v.ServerVersion(15, 2, 1544, 4)


def test_a_server_version_that_is_empty_or_unreadable() -> None:
    assert v.parse_server_version(None) is None and v.parse_server_version("  ") is None
    assert v.parse_server_version(PSObject(("x",), None, {})) is None  # an object that shows nothing
    with pytest.raises(ValueError, match=re.escape("got \"{'Major': 15}\"") + "$"):
        v.parse_server_version({"Major": 15})  # a partial object is no version
    message = "expected an Exchange version like 'Version 15.2 (Build 986.5)', got '15.2'"
    with pytest.raises(ValueError, match=_exactly(message)):
        v.parse_server_version("15.2")


@pytest.mark.parametrize(
    ("version", "product"),
    [((15, 2, 2561, 0), "Exchange 2019"), ((15, 2, 2562, 0), "Exchange Server SE"), ((15, 1, 1, 1), "Exchange 2016"),
     ((15, 0, 1, 1), "Exchange 2013"), ((15, 3, 1, 1), "Exchange 15.3"), ((14, 3, 1, 1), "Exchange 2010"),
     ((8, 3, 1, 1), "Exchange 2007"), ((16, 0, 1, 1), "Exchange 16.0")],
)  # fmt: skip
def test_each_build_names_its_product(version: tuple[int, int, int, int], product: str) -> None:
    assert v.ServerVersion(*version).product == product
    assert str(v.ServerVersion(*version)) == ".".join(map(str, version))


@pytest.mark.parametrize(
    ("value", "number"),
    [(None, None), ("", None), ("  ", None), (" 1,234 ", 1234), (42, 42), (2**63 - 1, 2**63 - 1),
     (-(2**63), -(2**63)), (PSObject(("x",), "995", {}), 995)],
)  # fmt: skip
def test_integers_in_every_form(value: object, number: int | None) -> None:
    from analyzer.exchange.cells import as_int

    assert as_int(value) == number


def test_integers_a_column_cannot_hold_or_that_are_no_integers_are_refused() -> None:
    from analyzer.exchange.cells import as_int

    with pytest.raises(ValueError, match=_exactly(f"{2**63} is outside the range of a 64-bit integer")):
        as_int(2**63)
    with pytest.raises(ValueError, match=_exactly(f"{-(2**63) - 1} is outside the range of a 64-bit integer")):
        as_int(str(-(2**63) - 1))
    with pytest.raises(ValueError, match="invalid literal"):
        as_int(True)  # a boolean is no count


def test_dates_in_every_form_and_at_the_edges_of_a_column() -> None:
    from analyzer.exchange.cells import as_datetime
    from analyzer.exchange.dates import LocalText
    from analyzer.readers.psvalues import PSDateTime

    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert as_datetime(None) is None and as_datetime("  ") is None
    assert as_datetime(PSDateTime(dt.datetime(2026, 1, 1, 9, tzinfo=tokyo), "Local", 0)) == dt.datetime(
        2026, 1, 1, 0, tzinfo=dt.UTC)  # fmt: skip
    assert as_datetime(dt.datetime(2026, 1, 1, 9)) == dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)  # no zone: UTC
    assert as_datetime("2026-01-01T09:00:00Z") == dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    assert as_datetime("1677-09-23T00:00:00Z") == dt.datetime(1677, 9, 23, tzinfo=dt.UTC)
    assert as_datetime("2262-04-10T00:00:00Z") == dt.datetime(2262, 4, 10, tzinfo=dt.UTC)
    for outside, day in (("1677-09-22T23:59:59Z", "1677-09-22"), ("2262-04-10T00:00:01Z", "2262-04-10")):
        with pytest.raises(
            ValueError, match=_exactly(f"{day} is outside the dates exaudit can compare (1678 to 2262)")
        ):
            as_datetime(outside)
    east = dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # moved to UTC: before year 1
    with pytest.raises(ValueError, match=_exactly(f"{east!s} is outside the dates exaudit can compare (1678 to 2262)")):
        as_datetime(east)
    assert as_datetime(" soon ") == LocalText("soon")  # refused when its file's dates are read (test_culture_dates)
    assert as_datetime(PSObject(("x",), None, {})) is None  # an object that shows no text


def test_a_date_without_a_zone_is_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from analyzer.exchange.cells import as_datetime

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert as_datetime(dt.datetime(2026, 1, 1, 9)) == dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
        for aware in (
            "2026-01-01T09:00:00+09:00",
            dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=9))),
        ):
            moment = as_datetime(aware)
            assert isinstance(moment, dt.datetime) and moment.tzinfo is dt.UTC  # UTC, not the machine's zone
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("value", "items"),
    [(None, None), (["a", None, 3], ["a", "", "3"]), (PSObject(("x",), None, {}, ["p", None]), ["p", ""]),
     (PSObject(("x",), None, {}), []),
     ("{IMAP, POP}", ["IMAP", "POP"]), ("  ", []), ("single", ["single"])],
)  # fmt: skip
def test_multi_valued_properties_become_lists(value: object, items: list[str] | None) -> None:
    from analyzer.exchange.cells import as_text_list

    assert as_text_list(value) == items


_STATE = v.EnumSpec("Test.Namespace.State", {0: "Off", 1: "On", -1: "Unknown"})


@pytest.mark.parametrize(
    ("value", "name"),
    [(PSEnum("x", "on", 1), "On"), (PSEnum("x", "", 1), "On"), (PSEnum("x", "5", 5), "Unknown(5)"),
     (PSEnum("x", "-1", -1), "Unknown"), (1, "On"), (" 0 ", "Off"), ("-1", "Unknown"), ("7", "Unknown(7)"),
     ("", None), ("   ", None), (None, None)],
)  # fmt: skip
def test_an_enum_by_enum_name_number_or_text(value: object, name: str | None) -> None:
    assert _STATE.parse(value) == name


def test_an_enum_value_it_does_not_know_is_refused_by_its_short_type_name() -> None:
    for value, shown in ((True, "'True'"), ("On, Off", "'On, Off'"), ("-x", "'-x'"), ("X5", "'X5'"),
                         (PSEnum("x", "X1", 1), "'X1'")):  # fmt: skip
        with pytest.raises(ValueError, match=_exactly(f"{shown} is not a State value")):
            _STATE.parse(value)
