"""Export-Csv, Format-List/Format-Table text and ConvertTo-Json: real captures and synthetic fixtures."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyzer.errors import InputError
from analyzer.readers.csv import read_csv_table
from analyzer.readers.detect import detect_format
from analyzer.readers.dispatch import open_export
from analyzer.readers.encoding import choose_encoding
from analyzer.readers.json import JsonReader
from analyzer.readers.psvalues import PSDateTime
from analyzer.readers.text import read_text
from tests.conftest import DATA, REAL

SYNTHETIC = DATA / "synthetic"
CAS_CSV_51 = SYNTHETIC / "synthetic-ps51-export-csv-utf16le-type-semicolon.csv"
CAS_CSV_7 = SYNTHETIC / "synthetic-ps7-export-csv-utf8-asneeded.csv"
FL_CP932 = SYNTHETIC / "synthetic-ps51-format-list-cp932-japanese.txt"
FL_WRAPPED = SYNTHETIC / "synthetic-ps51-format-list-wrapped-120.txt"
TABLE = SYNTHETIC / "synthetic-ps51-format-table-services.txt"
JSON_51 = SYNTHETIC / "synthetic-ps51-convertto-json-utf16.json"
REAL_LIST = REAL / "imapsync__imapsync" / "issues__310__Get-CASMailbox_EXO_fl_PARTIAL.txt"
REAL_TABLE = REAL / "webprofusion__certify" / "issues__303__Get-ExchangeCertificate_table.txt"
REAL_JSON = REAL / "cisagov__ScubaGear" / "PowerShell__ScubaGear__Sample-Reports__ProviderSettingsExport.json"


# -- Encoding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (codecs.BOM_UTF8 + "é".encode(), "UTF-8 with BOM"),
        (codecs.BOM_UTF16_LE + "a,b".encode("utf-16-le"), "UTF-16LE with BOM"),
        ("Name,Value\r\n".encode("utf-16-be"), "UTF-16BE without BOM"),
        ("名前,値".encode(), "UTF-8"),
        ("表示名 : 山田 太郎".encode("cp932"), "cp932 (Japanese ANSI code page, chosen by evidence)"),
        ("Müller, Jörg".encode("cp1252"), "cp1252 (Western ANSI code page, chosen by evidence)"),
        (b"plain", "ASCII"),
    ],
)
def test_encoding_choice(data: bytes, label: str) -> None:
    assert choose_encoding(data).label == label


def test_ascii_export_that_lost_characters_is_flagged() -> None:
    # What Windows PowerShell 5.1's Export-Csv (ASCII by default) makes of "山田 太郎" and "Müller".
    chosen = choose_encoding(b'"DisplayName"\r\n"?? ??"\r\n"M?ller"\r\n')
    assert chosen.lossy is not None and "-Encoding UTF8" in chosen.lossy
    assert choose_encoding(b'"Question"\r\n"Why?"\r\n').lossy is None


def test_encoding_override(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes("Name : Müller\r\n".encode("cp1252"))
    [record] = open_export(path, encoding="latin-1")
    assert record.properties["Name"] == "Müller"
    assert open_export(path, encoding="latin-1").encoding == "iso8859-1 (given with --encoding)"
    with pytest.raises(InputError, match="unknown encoding"):
        list(open_export(path, encoding="no-such-codec"))


# -- Detection by content -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (CAS_CSV_51, "csv"),
        (CAS_CSV_7, "csv"),
        (FL_CP932, "text"),
        (FL_WRAPPED, "text"),
        (TABLE, "text"),
        (JSON_51, "json"),
        (REAL_LIST, "text"),
        (REAL_TABLE, "text"),
        (REAL_JSON, "json"),
        (REAL / "microsoft__CSS-Exchange" / "Shared__Tests__E19CU11AdminDisplayVersion.xml", "clixml"),
    ],
)
def test_format_is_detected_from_content(path: Path, expected: str, tmp_path: Path) -> None:
    assert detect_format(path) == expected
    renamed = tmp_path / "export.dat"  # the extension plays no part
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == expected


# -- Export-Csv ------------------------------------------------------------------------------------------------


def test_windows_powershell_csv_utf16_semicolon_with_type_line() -> None:
    table = read_csv_table(CAS_CSV_51)
    assert table.encoding.label == "UTF-16LE with BOM"
    assert table.delimiter == ";"
    assert table.type_name == "Microsoft.Exchange.Data.Directory.Management.CASMailbox"
    assert table.deserialized is True
    assert table.nulls_distinguished is True
    frame = table.frame
    assert list(frame["DisplayName"]) == ["山田 太郎", "佐藤 花子", "Müller, Jörg", 'O\'Brien "Ops"', "plain user"]
    assert list(frame["PopEnabled"]) == ["True", "False", "True", "True", "True"]  # strings: typing comes later
    assert frame["EwsEnabled"].isna().all()  # $null: nothing between the delimiters
    assert (frame["ExternalImapSettings"] == "").all()  # an empty string: "" in the file
    assert list(table.lines) == [3, 4, 5, 6, 7]
    assert "EmailAddresses" in table.lossy_columns
    assert "MultiValuedProperty" in table.lossy_columns["EmailAddresses"]


def test_powershell7_csv_as_needed_quotes_cannot_tell_null_from_empty() -> None:
    table = read_csv_table(CAS_CSV_7)
    assert (table.type_name, table.delimiter, table.encoding.label) == (None, ",", "UTF-8")
    assert table.nulls_distinguished is False
    assert list(table.frame["DisplayName"])[2:4] == ["Müller, Jörg", 'O\'Brien "Ops"']
    assert (table.frame["EwsEnabled"] == "").all()
    assert "EmailAddresses" in table.lossy_columns


def test_csv_embedded_crlf_tab_delimiter_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b'#TYPE Selected.System.Management.Automation.PSCustomObject\r\n"Name"\t"Banner"\t"N"\r\n'
                     b'"a"\t"line1\r\nline2"\t"1"\r\n"b"\t"=cmd|x"\t""\r\n\r\n"c"\t"x"\t\r\n')  # fmt: skip
    table = read_csv_table(path)
    assert table.delimiter == "\t"
    assert table.type_name == "Selected.System.Management.Automation.PSCustomObject"
    assert list(table.frame["Banner"]) == ["line1\r\nline2", "=cmd|x", "x"]  # the CR survives
    assert list(table.lines) == [3, 5, 7]
    assert table.frame["N"].isna().tolist() == [False, False, True]
    records = list(open_export(path))
    assert records[2].properties["N"] is None and records[1].properties["N"] == ""
    assert records[0].source.line == 3


def test_csv_with_an_uneven_row_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('"A","B"\r\n"1","2"\r\n"1","2","3"\r\n')
    with pytest.raises(InputError, match="not a well-formed CSV row") as caught:
        read_csv_table(path)
    assert caught.value.line == 3


def test_csv_without_header_is_located(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("#TYPE System.Object\r\n\r\n")
    with pytest.raises(InputError, match="no header line"):
        read_csv_table(path)


# -- Format-List ----------------------------------------------------------------------------------------------


def test_format_list_cp932_with_japanese_names() -> None:
    export = read_text(FL_CP932)
    assert export.kind == "format-list"
    assert export.encoding.startswith("cp932")
    first, second = export.records
    assert first.properties["DisplayName"] == "山田 太郎"
    assert second.properties["DisplayName"] == "佐藤 花子"
    assert first.properties["EmailAddresses"] == ["SMTP:user0@contoso.com", "smtp:u0@contoso.onmicrosoft.com"]
    assert first.properties["WhenChangedUTC"] == "2024/03/01 8:30:15"  # ja-JP culture, kept as written
    assert first.properties["EwsEnabled"] == ""  # Format-List prints nothing for $null
    assert first.source.line == 3 and second.source.line == 15


def test_format_list_wrapped_value_is_joined_without_newline() -> None:
    [record] = read_text(FL_WRAPPED).records
    assert record.properties["Banner"] == "The Microsoft Exchange POP3 service is ready. " * 6
    assert record.properties["X509CertificateName"] == "mail.contoso.com"


def test_format_list_embedded_newline_wide_labels_and_truncated_collection(tmp_path: Path) -> None:
    path = tmp_path / "fl.txt"
    text = (
        "\r\n\r\n表示名       : 山田\r\n"  # a wide label: 6 cells + 7 spaces of padding
        "Banner       : first line\r\n"
        "               second line\r\n"
        "Addresses    : {a@x, b@x, c@x, d@x...}\r\n"
        "Empty        : \r\n"
        "Braces       : {}\r\n\r\n"
        "表示名       : 佐藤\r\n"
        "Addresses    : {e@x}\r\n\r\n\r\n"
    )
    path.write_text(text, encoding="utf-8")
    first, second = read_text(path).records
    assert first.properties == {
        "表示名": "山田",
        "Banner": "first line\nsecond line",
        "Addresses": ["a@x", "b@x", "c@x", "d@x"],
        "Empty": "",
        "Braces": [],
    }
    assert "Addresses" in first.lossy and "Addresses" not in second.lossy
    assert second.properties["Addresses"] == ["e@x"]


def test_powershell7_unicode_ellipsis_and_ansi_codes(tmp_path: Path) -> None:
    path = tmp_path / "fl7.txt"
    path.write_text("\x1b[32;1mName   : \x1b[0mpop\n\x1b[32;1mServers: \x1b[0m{a, b, c, d…}\n", encoding="utf-8")
    [record] = read_text(path).records
    assert record.properties == {"Name": "pop", "Servers": ["a", "b", "c", "d"]}
    assert "Servers" in record.lossy


def test_real_exchange_online_list_capture_reports_prompt_noise_and_cut_end() -> None:
    export = read_text(REAL_LIST)
    [record] = export.records
    assert record.properties["PrimarySmtpAddress"] == "username@domain.com"
    assert record.properties["EmailAddresses"] == ["smtp:username@domain.onmicrosoft.com", "SMTP:username@domain.com"]
    assert record.properties["ActiveSyncAllowedDeviceIDs"] == []
    assert record.properties["ActiveSyncEnabled"] == "True"
    assert "ExternalImapSettings" in record.lossy  # the excerpt ends in the middle of the record
    messages = [(p.line, p.message) for p in export.problems]
    assert messages[0][0] == 1 and "prompt line skipped" in messages[0][1]
    assert messages[1][0] == 2 and "not part of a list or table" in messages[1][1]
    assert any("ends inside a record" in m for _l, m in messages)


# -- Format-Table ---------------------------------------------------------------------------------------------


def test_format_table_columns_and_cut_cells() -> None:
    export = read_text(TABLE)
    assert export.kind == "format-table"
    rows = [r.properties for r in export.records]
    assert [r["Name"] for r in rows] == ["MSExchangeImap4", "MSExchangeIMAP4BE", "MSExchangePop3", "MSExchangePOP3BE"]
    assert [r["Status"] for r in rows] == ["Stopped", "Stopped", "Running", "Running"]
    assert rows[0]["DisplayName"] == "Microsoft Exchange IMAP4"
    assert rows[3]["DisplayName"].endswith("...")
    assert "DisplayName" in export.records[3].lossy and "DisplayName" not in export.records[0].lossy


def test_real_certificate_tables_with_prompts() -> None:
    export = read_text(REAL_TABLE)
    assert [r.properties["Thumbprint"] for r in export.records][:2] == [
        "5E4325D6195B5E2932EAE402F515172DC827D083",
        "8E309044815B47A130C6151644263D781DF839C0",
    ]
    assert [r.properties["Services"] for r in export.records] == [
        "IP.WS.",
        "....SF",
        "....S.",
        "IP....",
        "....SF",
        "....S.",
    ]
    assert not export.lossy_columns  # a services mask full of dots is not a cut cell
    assert [p.line for p in export.problems] == [1, 9]


def test_table_with_wide_characters_and_right_aligned_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text(
        "名前       Count Note\n----       ----- ----\n山田太郎       7 a b\n佐藤       12345 c\n", encoding="utf-8"
    )
    rows = [r.properties for r in read_text(path).records]
    assert rows == [{"名前": "山田太郎", "Count": "7", "Note": "a b"}, {"名前": "佐藤", "Count": "12345", "Note": "c"}]


# -- ConvertTo-Json -------------------------------------------------------------------------------------------


def test_windows_powershell_json_utf16_dates_and_numeric_enums() -> None:
    reader = JsonReader(JSON_51)
    records = list(reader)
    assert reader.encoding == "UTF-16LE with BOM"
    assert [r.properties["Name"] for r in records][:2] == ["MSExchangeImap4", "MSExchangeIMAP4BE"]
    assert records[0].properties["Status"] == 1 and records[2].properties["StartType"] == 2
    assert [r.source.line for r in records] == [2, 8, 14, 20]


def test_json_dates_wrappers_single_object_and_depth_cut(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(
        '{\n    "WhenChanged":  {\n        "value":  "\\/Date(1554078615123)\\/",\n        "DisplayHint":  2,\n'
        '        "DateTime":  "Monday, April 1, 2019 9:30:15 AM"\n    },\n    "Iso":  "2019-04-01T09:30:15.1234567+09:00",\n'
        '    "Settings":  "System.Collections.Hashtable",\n    "Nested":  "@{a=1; b=2}",\n    "Text":  "plain"\n}',
        encoding="utf-8",
    )
    [record] = JsonReader(path)
    changed = record.properties["WhenChanged"]
    assert isinstance(changed, PSDateTime)
    assert changed.value == datetime(2019, 4, 1, 0, 30, 15, 123000, tzinfo=UTC)
    iso = record.properties["Iso"]
    assert isinstance(iso, PSDateTime) and iso.kind == "Local" and iso.extra_ticks == 7
    assert set(record.lossy) == {"Settings", "Nested"}
    assert record.properties["Text"] == "plain"


def test_real_scubagear_json() -> None:
    reader = JsonReader(REAL_JSON)
    [record] = reader
    assert record.properties["module_version"] == "1.8.0"
    assert isinstance(record.properties["timestamp_zulu"], PSDateTime)
    assert "tenant_isolation" in reader.lossy_columns  # '@{inbound=True; outbound=True}': -Depth cut it


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ('[{"a": 1},\n{"a": 2', "damaged JSON"),
        ('[{"a": 1}\n{"a": 2}]', "expected ','"),
        ('[{"a": 1},', "not closed"),
        ('{"a": 1} trailing', "unexpected text"),
    ],
)
def test_damaged_json_gives_located_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        list(JsonReader(path))


def test_large_json_array_streams_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    body = ",\n".join(f'{{"Name": "user{i}", "Size": {i * 1000003}}}' for i in range(20_000))
    path.write_text(f"[\n{body}\n]")
    records = list(JsonReader(path))
    assert len(records) == 20_000
    assert records[-1].properties == {"Name": "user19999", "Size": 19999 * 1000003}
    assert records[-1].source.line == 20_001


def test_csv_header_with_an_unbalanced_quote_is_a_located_error(tmp_path: Path) -> None:
    """Found by the fuzz test: a quote put before the header made pyarrow read other columns and type some as
    booleans, and the lossy-column scan then crashed."""
    path = tmp_path / "bad-header.csv"
    path.write_bytes(b'"' + CAS_CSV_7.read_bytes())
    with pytest.raises(InputError, match="header line is not valid CSV") as caught:
        read_csv_table(path)
    assert caught.value.line == 1
