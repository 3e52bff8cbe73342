"""Unit vectors for every item of input-formats.md §1 and §5, written as small CLIXML documents."""

from __future__ import annotations

import codecs
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from analyzer.errors import InputError
from analyzer.model import Record
from analyzer.readers.clixml import ClixmlReader, decode_string, parse_datetime, read_clixml
from analyzer.readers.psvalues import PSDict, PSEnum, PSList, PSObject, PSSecureString, PSTimeSpan

NS = 'xmlns="http://schemas.microsoft.com/powershell/2004/04"'


def doc(body: str, ns: str = NS) -> str:
    return f'<Objs Version="1.1.0.1" {ns}>\n{body}\n</Objs>'


def write(tmp_path: Path, text: str | bytes, name: str = "export.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def read(tmp_path: Path, body: str, **kwargs: object) -> list[Record]:
    return list(read_clixml(write(tmp_path, doc(body)), **kwargs))  # type: ignore[arg-type]


def props(tmp_path: Path, members: str) -> dict[str, object]:
    [record] = read(tmp_path, f'<Obj RefId="0"><TN RefId="0"><T>X.Y</T></TN><Props>{members}</Props></Obj>')
    return dict(record.properties)


# -- §1.4 string decoding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("line1_x000D__x000A_line2", "line1\r\nline2"),
        ("_x005F_x005F_", "_x005F_"),  # one pass, no recursion
        ("_xD83C__xDFB5_", "\U0001f3b5"),  # a surrogate pair becomes one code point
        ("a_xD83C_b", "a\ud83cb"),  # a lone surrogate is kept, not an error
        ("_x005G_", "_x005G_"),  # invalid hex stays literal
        ("_x000d_", "\r"),  # hex is case-insensitive
        ("_X000A_", "\n"),
        ("snake_x_case", "snake_x_case"),
        ("", ""),
        (None, ""),
    ],
)
def test_decode_string(raw: str | None, expected: str) -> None:
    assert decode_string(raw) == expected


def test_string_elements_and_member_names_are_decoded(tmp_path: Path) -> None:
    values = props(tmp_path, '<S N="Tab_x0009_Name">a_x0009_b</S><S N="Empty" /><S N="Blank"> </S><S N="E2"></S>')
    assert values == {"Tab\tName": "a\tb", "Empty": "", "Blank": " ", "E2": ""}


# -- §1.2 primitives ---------------------------------------------------------------------------------------


def test_every_primitive_tag(tmp_path: Path) -> None:
    guid = "0b2a8c7e-1f4e-4a5b-9c3d-2e1f0a9b8c7d"
    values = props(
        tmp_path,
        f"""<C N="c">97</C><B N="t">true</B><B N="f">false</B><B N="one">1</B>
        <By N="by">255</By><SB N="sb">-128</SB><U16 N="u16">65535</U16><I16 N="i16">-32768</I16>
        <U32 N="u32">4294967295</U32><I32 N="i32">-5</I32><U64 N="u64">18446744073709551615</U64>
        <I64 N="i64">-9223372036854775808</I64><Sg N="sg">1.5</Sg><Db N="db">1E+20</Db>
        <Db N="inf">INF</Db><Db N="ninf">-INF</Db><D N="d">12.50</D><BA N="ba">AAEC/w==</BA>
        <G N="g">{guid}</G><URI N="uri">http://x/_x0041_</URI><Version N="v">15.2.1118.7</Version>
        <SemanticVersion N="sv">7.4.0-preview.1</SemanticVersion><XD N="xd">&lt;a/&gt;</XD>
        <SBK N="sbk">Get-Date</SBK><Nil N="nil" /><SS N="ss">01000000d08c9ddf0115d1118c7a00c04fc297eb</SS>""",
    )
    assert values["c"] == "a"
    assert (values["t"], values["f"], values["one"]) == (True, False, True)
    assert (values["by"], values["sb"], values["u16"], values["i16"]) == (255, -128, 65535, -32768)
    assert (values["u32"], values["i32"]) == (4294967295, -5)
    assert (values["u64"], values["i64"]) == (2**64 - 1, -(2**63))
    assert (values["sg"], values["db"]) == (1.5, 1e20)
    assert (values["inf"], values["ninf"]) == (float("inf"), float("-inf"))
    assert values["d"] == Decimal("12.50")
    assert values["ba"] == b"\x00\x01\x02\xff"
    assert values["g"] == uuid.UUID(guid)
    assert values["uri"] == "http://x/A"
    assert (values["v"], values["sv"]) == ("15.2.1118.7", "7.4.0-preview.1")
    assert values["xd"] == "<a/>"  # kept as text, never parsed
    assert values["sbk"] == "Get-Date"
    assert values["nil"] is None
    assert isinstance(values["ss"], PSSecureString)
    assert "d08c" not in repr(values["ss"]) and "d08c" not in str(values["ss"])


def test_nan_is_read(tmp_path: Path) -> None:
    value = props(tmp_path, '<Db N="x">NaN</Db>')["x"]
    assert isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ('<By N="x">256</By>', "out of range"),
        ('<I32 N="x">abc</I32>', "<I32>"),
        ('<B N="x">yes</B>', "true or false"),
        ('<DT N="x">yesterday</DT>', "DateTime"),
        ('<TS N="x">P</TS>', "TimeSpan"),
        ('<G N="x">not-a-guid</G>', "<G>"),
        ('<BA N="x">###</BA>', "base64"),
        ('<I32 N="x" />', "empty"),
        ('<Db N="x">1_000</Db>', "number"),
        ('<Bogus N="x">1</Bogus>', "unknown element <Bogus>"),
    ],
)
def test_bad_primitive_is_a_located_error(tmp_path: Path, members: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        props(tmp_path, members)
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{tmp_path / 'export.xml'}:2: ")


# -- DateTime and TimeSpan -----------------------------------------------------------------------------------


def test_datetime_kinds_and_seven_digit_fractions() -> None:
    local = parse_datetime("2019-04-01T09:30:15.1234567+09:00")
    assert local.kind == "Local"
    assert local.value == datetime(2019, 4, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=9)))
    assert local.extra_ticks == 7
    assert local.isoformat() == "2019-04-01T09:30:15.1234567+09:00"
    utc = parse_datetime("2021-09-28T17:32:01Z")
    assert (utc.kind, utc.value, utc.extra_ticks) == ("Utc", datetime(2021, 9, 28, 17, 32, 1, tzinfo=UTC), 0)
    assert utc.isoformat() == "2021-09-28T17:32:01Z"
    unspecified = parse_datetime("0001-01-01T00:00:00")
    assert unspecified.kind == "Unspecified" and unspecified.value.tzinfo is None
    assert unspecified.isoformat() == "0001-01-01T00:00:00"
    assert parse_datetime("2020-01-01T00:00:00.5-05:30").isoformat() == "2020-01-01T00:00:00.5-05:30"
    east = parse_datetime("2020-01-01T23:59-10:45")  # two-digit hours of an offset; no seconds written
    assert east.value == datetime(2020, 1, 1, 23, 59, 0, tzinfo=timezone(-timedelta(hours=10, minutes=45)))


@pytest.mark.parametrize(
    ("text", "ticks"),
    [
        ("PT9.0269026S", 90_269_026),
        ("P1DT2H3M4.5S", ((24 + 2) * 3600 + 3 * 60 + 4) * 10_000_000 + 5_000_000),
        ("-P1D", -864_000_000_000),
        ("PT0S", 0),
        ("PT1M", 600_000_000),
    ],
)
def test_timespans(tmp_path: Path, text: str, ticks: int) -> None:
    value = props(tmp_path, f'<TS N="x">{text}</TS>')["x"]
    assert value == PSTimeSpan(ticks)


# -- §1.3 complex objects ------------------------------------------------------------------------------------

ENUM_TN = "<T>System.Enum</T><T>System.ValueType</T><T>System.Object</T>"


def test_enums_i32_i64_and_flags(tmp_path: Path) -> None:
    values = props(
        tmp_path,
        f"""<Obj N="Status" RefId="1"><TN RefId="1"><T>System.ServiceProcess.ServiceControllerStatus</T>{ENUM_TN}</TN>
        <ToString>Running</ToString><I32>4</I32></Obj>
        <Obj N="Recipient" RefId="2"><TN RefId="2"><T>Deserialized.Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails</T>{ENUM_TN}</TN>
        <ToString>UserMailbox</ToString><I64>1</I64></Obj>
        <Obj N="Attributes" RefId="3"><TN RefId="3"><T>System.IO.FileAttributes</T>{ENUM_TN}</TN>
        <ToString>ReadOnly, Archive</ToString><I32>33</I32></Obj>
        <S N="Truncated">Stopped</S>""",
    )
    assert values["Status"] == PSEnum("System.ServiceProcess.ServiceControllerStatus", "Running", 4)
    assert values["Recipient"] == PSEnum(
        "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails", "UserMailbox", 1
    )
    attributes = values["Attributes"]
    assert isinstance(attributes, PSEnum)
    assert attributes.flags == ("ReadOnly", "Archive") and attributes.value == 33
    assert values["Truncated"] == "Stopped"  # an enum at depth 0 arrives as its string


def test_containers(tmp_path: Path) -> None:
    values = props(
        tmp_path,
        """<Obj N="lst" RefId="1"><TN RefId="1"><T>System.Object[]</T></TN><LST><S>a</S><I32>1</I32><Nil /></LST></Obj>
        <Obj N="ie" RefId="2"><TN RefId="2"><T>System.Collections.Generic.IEnumerable</T></TN><IE><S>x</S></IE></Obj>
        <Obj N="stk" RefId="3"><TN RefId="3"><T>System.Collections.Stack</T></TN><STK><S>top</S><S>bottom</S></STK></Obj>
        <Obj N="que" RefId="4"><TN RefId="4"><T>System.Collections.Queue</T></TN><QUE><S>front</S></QUE></Obj>
        <Obj N="dct" RefId="5"><TN RefId="5"><T>System.Collections.Hashtable</T></TN><DCT>
          <En><S N="Key">k</S><I32 N="Value">1</I32></En>
          <En><I32 N="Value">2</I32><S N="Key">k</S></En>
          <En><Obj N="Key" RefId="6"><TNRef RefId="1" /><LST><S>list</S></LST></Obj><Nil N="Value" /></En>
        </DCT></Obj>
        <Obj N="empty" RefId="7"><TNRef RefId="1" /><LST /></Obj>""",
    )
    lst = values["lst"]
    assert isinstance(lst, PSList) and lst == ["a", 1, None]
    assert lst.type_names == ("System.Object[]",) and lst.kind == "LST"
    assert values["ie"] == ["x"] and values["stk"] == ["top", "bottom"] and values["que"] == ["front"]
    dct = values["dct"]
    assert isinstance(dct, PSDict)
    assert dct == [("k", 1), ("k", 2), (["list"], None)]  # duplicate and unhashable keys survive
    assert values["empty"] == []


def test_extended_members_psobject_nesting_and_property_sets(tmp_path: Path) -> None:
    [record] = read(
        tmp_path,
        """<Obj RefId="0"><TN RefId="0"><T>Deserialized.Deserialized.Microsoft.Exchange.Data.Directory.Management.CASMailbox</T></TN>
        <ToString>alice</ToString>
        <Props><S N="Name">adapted</S><Obj N="Server" RefId="1"><TN RefId="1"><T>Microsoft.Exchange.Data.Directory.ADObjectId</T></TN>
          <ToString>EXCH01</ToString><Props><S N="Name">EXCH01</S></Props></Obj></Props>
        <MS><S N="PSComputerName">exch01.contoso.com</S><S N="Name">extended</S>
          <MS N="Set"><B N="Flag">true</B></MS></MS></Obj>""",
    )
    assert record.type_names == ("Microsoft.Exchange.Data.Directory.Management.CASMailbox",)
    assert record.deserialized is True
    assert record.to_string == "alice"
    assert record.properties["Name"] == "extended"  # extended members win, as in PowerShell
    assert record.properties["PSComputerName"] == "exch01.contoso.com"
    assert record.properties["Set"] == {"Flag": True}
    server = record.properties["Server"]
    assert isinstance(server, PSObject) and str(server) == "EXCH01" and server.properties == {"Name": "EXCH01"}


def test_extended_primitive(tmp_path: Path) -> None:
    values = props(
        tmp_path,
        '<Obj N="x" RefId="1"><TN RefId="1"><T>System.String</T></TN><ToString>abc</ToString><S>abc</S>'
        '<MS><S N="Note">n</S></MS></Obj>',
    )
    value = values["x"]
    assert isinstance(value, PSObject) and value.value == "abc" and value.properties == {"Note": "n"}


def test_refs_and_tnrefs_across_top_level_objects_and_cycles(tmp_path: Path) -> None:
    records = read(
        tmp_path,
        """<Obj RefId="0"><TN RefId="0"><T>Microsoft.Exchange.Data.Directory.ADObjectId</T></TN><ToString>contoso.com</ToString>
          <Props><S N="Name">contoso.com</S><Ref N="DomainId" RefId="0" /></Props></Obj>
        <Obj RefId="1"><TNRef RefId="0" /><ToString>x</ToString>
          <Props><Ref N="Domain" RefId="0" /><Obj N="Child" RefId="2"><TNRef RefId="0" /><Props><Ref N="Parent" RefId="2" /></Props></Obj></Props></Obj>
        <Ref RefId="2" />""",
    )
    first, second, third = records
    assert second.type_names == first.type_names  # TNRef across top-level objects
    domain = second.properties["Domain"]
    assert isinstance(domain, PSObject)
    assert domain.properties["DomainId"] is domain  # a self-referencing ADObjectId: a real cycle
    child = second.properties["Child"]
    assert isinstance(child, PSObject) and child.properties["Parent"] is child
    assert third.properties is child.properties  # a top-level <Ref> to an earlier nested object


def test_top_level_primitives_keep_their_order_and_stream(tmp_path: Path) -> None:
    records = read(
        tmp_path,
        '<S>first</S><Obj RefId="0" S="error"><TN RefId="0"><T>System.Management.Automation.ErrorRecord</T></TN>'
        '<ToString>boom</ToString></Obj><I32>5</I32><Obj RefId="1"><TNRef RefId="0" /><LST><S>a</S></LST></Obj>'
        "<Nil />",
    )
    assert [r.value for r in records] == ["first", None, 5, ["a"], None]
    assert [r.type_name for r in records] == [
        "System.String",
        "System.Management.Automation.ErrorRecord",
        "System.Int32",
        "System.Management.Automation.ErrorRecord",
        None,
    ]
    assert records[1].stream == "error" and records[1].to_string == "boom"
    assert [r.source.index for r in records] == [0, 1, 2, 3, 4]


def test_documents_without_namespace(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        doc('<Obj RefId="0"><TN RefId="0"><T>A</T></TN><Props><I32 N="n">1</I32></Props></Obj>', ns=""),
    )
    [record] = read_clixml(path)
    assert record.properties == {"n": 1}


# -- Projection ----------------------------------------------------------------------------------------------


def test_projection_decodes_only_requested_members_but_keeps_refs_and_type_lists(tmp_path: Path) -> None:
    body = """<Obj RefId="0"><TN RefId="0"><T>Microsoft.Exchange.Data.Directory.Management.CASMailbox</T></TN>
      <Props><S N="Name">a</S><I32 N="Big">1</I32>
        <Obj N="Skipped" RefId="1"><TN RefId="1"><T>Microsoft.Exchange.Data.MultiValuedProperty</T></TN><LST><S>x</S></LST></Obj>
      </Props><MS><S N="PSComputerName">ex1</S></MS></Obj>
    <Obj RefId="2"><TNRef RefId="0" /><Props><S N="Name">b</S><Ref N="Big" RefId="1" />
      <Obj N="Other" RefId="3"><TNRef RefId="1" /><LST /></Obj></Props></Obj>"""
    first, second = read(tmp_path, body, properties=["name", "BIG"])
    assert first.properties == {"Name": "a", "Big": 1}  # case-insensitive, as PowerShell property names
    assert second.properties["Big"] == ["x"]  # a Ref into a skipped member still resolves
    assert second.type_names == first.type_names
    assert "Other" not in second.properties and "PSComputerName" not in second.properties


# -- Encodings and envelope -----------------------------------------------------------------------------------

SIMPLE = doc('<Obj RefId="0"><TN RefId="0"><T>A</T></TN><Props><S N="s">é✓</S></Props></Obj>')


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        (SIMPLE.encode("utf-8"), "UTF-8"),
        (codecs.BOM_UTF8 + SIMPLE.encode("utf-8"), "UTF-8 with BOM"),
        (codecs.BOM_UTF16_LE + SIMPLE.encode("utf-16-le"), "UTF-16LE with BOM"),
        (codecs.BOM_UTF16_BE + SIMPLE.encode("utf-16-be"), "UTF-16BE with BOM"),
        (SIMPLE.encode("utf-16-le"), "UTF-16LE without BOM"),
        (SIMPLE.encode("utf-16-be"), "UTF-16BE without BOM"),
        (SIMPLE.replace("\n", "\r\n").encode("utf-16"), "UTF-16LE with BOM"),
    ],
)
def test_encodings(tmp_path: Path, encoded: bytes, label: str) -> None:
    reader = ClixmlReader(write(tmp_path, encoded))
    [record] = reader
    assert reader.encoding == label
    assert record.properties == {"s": "é✓"}
    assert record.source.line == 2


def test_clixml_stream_prefix_shifts_line_numbers(tmp_path: Path) -> None:
    text = "#< CLIXML\r\n" + doc('<Obj S="output" RefId="0"><TN RefId="0"><T>A</T></TN></Obj>').replace("\n", "\r\n")
    for encoded in (text.encode("utf-8"), codecs.BOM_UTF16_LE + text.encode("utf-16-le")):
        [record] = read_clixml(write(tmp_path, encoded))
        assert record.source.line == 3
        assert record.stream == "output"


# -- §5 security and damage -----------------------------------------------------------------------------------


def test_xxe_is_rejected_without_leaking(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    text = f'<?xml version="1.0"?>\n<!DOCTYPE Objs [<!ENTITY x SYSTEM "file://{secret}">]>\n' + doc(
        '<Obj RefId="0"><TN RefId="0"><T>A</T></TN><Props><S N="s">&x;</S></Props></Obj>'
    )
    path = write(tmp_path, text)
    records: list[Record] = []
    with pytest.raises(InputError, match="DOCTYPE") as caught:
        records.extend(read_clixml(path))
    assert caught.value.line == 2
    assert records == []
    assert "TOP-SECRET" not in str(caught.value)


def test_billion_laughs_is_rejected(tmp_path: Path) -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    path = write(tmp_path, f"<!DOCTYPE Objs [{entities}]>\n" + doc("<S>&a9;</S>"))
    with pytest.raises(InputError, match="DOCTYPE"):
        list(read_clixml(path))


def test_truncated_file_keeps_the_records_before_the_damage(tmp_path: Path) -> None:
    full = doc(
        "\n".join(
            f'<Obj RefId="{i}"><TN RefId="{i}"><T>A</T></TN><Props><I32 N="n">{i}</I32></Props></Obj>' for i in range(3)
        )
    )
    path = write(tmp_path, full[: full.index('<Obj RefId="2"') + 30])
    records: list[Record] = []
    with pytest.raises(InputError, match="damaged or truncated XML") as caught:
        records.extend(read_clixml(path))
    assert [r.properties["n"] for r in records] == [0, 1]
    assert caught.value.line == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (b"Name,Value\r\nx,1\r\n", "damaged or truncated XML"),
        (b"<Other><Obj RefId='0'/></Other>", "root element is <Other>"),
        (b"<Other/>", "root element is <Other>"),
        (doc('<Ref RefId="9" />').encode(), "names no earlier object"),
        (doc('<Obj RefId="0"><TNRef RefId="4" /></Obj>').encode(), "names no earlier <TN>"),
        (
            doc('<Obj RefId="0"><Props><Obj N="d"><DCT><En><S N="Key">k</S></En></DCT></Obj></Props></Obj>').encode(),
            "Key and a Value",
        ),
        (b"\xff\xfe<\x00O\x00\x00\xd8", "not valid UTF-16LE"),
    ],
)
def test_damaged_files_give_located_errors(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(read_clixml(write(tmp_path, content)))


def test_nesting_is_capped(tmp_path: Path) -> None:
    depth = 120
    nested = '<Obj N="x"><TN><T>A</T></TN><Props>' * depth + "</Props></Obj>" * depth
    with pytest.raises(InputError, match="nested deeper than 100"):
        read(tmp_path, f'<Obj RefId="0"><TN RefId="0"><T>A</T></TN><Props>{nested}</Props></Obj>')
