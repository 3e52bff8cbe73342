"""Value parsers at their edges, called directly: every range bound, every refusal with its exact message, enum
flags by bit, and the whole-file text loader's re-encoding. Each assertion here once let a planted bug through
(docs/testing.md, mutation testing)."""

from __future__ import annotations

import codecs
import re
from decimal import Decimal
from pathlib import Path

import pytest

from analyzer.exchange import values as v
from analyzer.readers import clixml_primitives as p
from analyzer.readers.encoding import Sniffed, Utf8Stream, load_text
from analyzer.readers.psvalues import PSObject


def _exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


_BOUNDS = [("By", 0, 255), ("SB", -128, 127), ("U16", 0, 65535), ("I16", -32768, 32767), ("U32", 0, 2**32 - 1),
           ("I32", -(2**31), 2**31 - 1), ("U64", 0, 2**64 - 1), ("I64", -(2**63), 2**63 - 1)]  # fmt: skip


@pytest.mark.parametrize(("tag", "low", "high"), _BOUNDS)
def test_each_integer_tag_takes_its_whole_range_and_nothing_past_it(tag: str, low: int, high: int) -> None:
    parse = p.CONVERTERS[tag]
    assert parse(f" {low} ") == low and parse(str(high)) == high
    for outside in (low - 1, high + 1):
        with pytest.raises(ValueError, match=_exactly(f"{outside} is out of range for <{tag}>")):
            parse(str(outside))


def test_a_char_is_a_utf16_code_unit() -> None:
    assert p.CONVERTERS["C"]("0") == "\x00" and p.CONVERTERS["C"]("65535") == "\uffff"
    with pytest.raises(ValueError, match=r"^65536 is out of range for <U16>$"):
        p.CONVERTERS["C"]("65536")


def test_decimals_and_their_refusal() -> None:
    assert p.CONVERTERS["D"](" 79228162514264337593543950335 ") == Decimal("79228162514264337593543950335")
    with pytest.raises(ValueError, match=_exactly("expected a decimal number, got '1,5'")):
        p.CONVERTERS["D"]("1,5")


@pytest.mark.parametrize("text", ["P", "-P", " P ", "PT", "P1DT", "-PT", "p1d", "P1d"])
def test_a_timespan_with_no_quantity_or_a_dangling_t_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=_exactly(f"expected a TimeSpan like PT9.0269026S or P1DT2H, got {text!r}")):
        p.parse_timespan(text)


def test_timespans_read_to_the_tick() -> None:
    assert p.parse_timespan("-P1DT0.0000001S").ticks == -(864_000_000_000 + 1)
    assert p.parse_timespan("PT0S").ticks == 0


_FLAGS = v.EnumSpec("Test.Flags", {0: "Nothing", 1: "A", 2: "B", 8: "D"}, flags=True)
_NO_ZERO = v.EnumSpec("Test.Flags", {1: "A", 2: "B"}, flags=True)


@pytest.mark.parametrize(
    ("spec", "number", "name"),
    [
        (_FLAGS, 0, "Nothing"),
        (_NO_ZERO, 0, "None"),  # what .NET prints for a flags value of 0 without a name for it
        (_FLAGS, 3, "A, B"),
        (_FLAGS, 11, "A, B, D"),
        (_FLAGS, 4, "Unknown(0x4)"),
        (_FLAGS, 0x35, "A, Unknown(0x34)"),
        (v.EnumSpec("Test.Plain", {0: "Off", 1: "On"}), 7, "Unknown(7)"),
    ],
)
def test_enum_numbers_are_named_bit_by_bit(spec: v.EnumSpec, number: int, name: str) -> None:
    assert spec.name_of(number) == name


def test_sizes_and_unlimited_exactly() -> None:
    assert v.parse_byte_size(1024) == 1024
    assert v.parse_byte_size(None) is None
    with pytest.raises(ValueError, match=_exactly("expected a size like '500 MB (524,288,000 bytes)', got 'True'")):
        v.parse_byte_size(True)  # a bool is not a size, though Python counts it an int
    with pytest.raises(ValueError, match=r"got ''$"):
        v.parse_byte_size("")
    assert v.is_unlimited(PSObject(("Unlimited",), None, {"IsUnlimited": True}))
    assert not v.is_unlimited(PSObject(("Unlimited",), None, {"IsUnlimited": False}))
    assert not v.is_unlimited(PSObject(("Unlimited",), None, {"isunlimited": True}))  # property names as written
    assert v.is_unlimited(" UNLIMITED ") and not v.is_unlimited(None) and not v.is_unlimited("")


@pytest.mark.parametrize(
    ("bom", "codec", "label"),
    [(codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE with BOM"), (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE with BOM"),
     (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32LE with BOM"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32BE with BOM")],
)  # fmt: skip
def test_wide_unicode_text_is_handed_over_as_utf8(tmp_path: Path, bom: bytes, codec: str, label: str) -> None:
    text = '"Name","PopEnabled"\r\n"山田","True"\r\n'
    path = tmp_path / "x.csv"
    path.write_bytes(bom + text.encode(codec))
    loaded = load_text(path)
    assert (bytes(loaded.body), loaded.codec, loaded.encoding.label) == (text.encode("utf-8"), "utf-8", label)
    path.write_bytes(bom + text.encode(codec)[:-1])  # one byte short of the last character
    with pytest.raises(ValueError, match="^" + re.escape(f"not valid {label}: truncated data at byte ")):
        load_text(path)


def test_an_encoding_given_that_the_file_cannot_be_is_a_clear_refusal(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"abc")  # three bytes cannot be UTF-16 text, whatever the order
    with pytest.raises(
        ValueError, match=_exactly("not valid utf-16 (given with --encoding): truncated data at byte 2")
    ):
        load_text(path, "utf-16")


def test_a_stream_hands_over_the_text_before_bad_bytes_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    good = "<Objs>\n<S>山田</S>\n".encode("utf-16-le")
    path.write_bytes(codecs.BOM_UTF16_LE + good + b"\x00\xdc" + "tail".encode("utf-16-le"))  # a lone low surrogate
    with path.open("rb") as raw, Utf8Stream(raw, Sniffed("utf-16-le", "UTF-16LE with BOM", 2)) as stream:
        assert stream.readable() and not stream.seekable()  # what pyarrow asks of a file it is handed
        assert stream.read(1 << 20) == "<Objs>\n<S>山田</S>\n".encode()
        with pytest.raises(UnicodeDecodeError):
            stream.read(1 << 20)
    path.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xdc")  # bad from its first character: nothing to hand over
    with path.open("rb") as raw, Utf8Stream(raw, Sniffed("utf-16-le", "UTF-16LE with BOM", 2)) as stream:
        assert stream.read(1 << 20) == b""
        with pytest.raises(UnicodeDecodeError):
            stream.read(1 << 20)


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("plain", "plain"),
        ("\x00\x1f \x7f\x9f\xa0", "_x0000__x001F_ _x007F__x009F_\xa0"),  # C0 and C1 controls; space and NBSP kept
        ("a_xb_Xc_y", "a_x005F_xb_x005F_Xc_y"),  # an underscore that would start an escape is escaped itself
        ("\U0001f600", "_xD83D__xDE00_"),  # astral: two escaped surrogate halves
        ("\U00010000\U0010ffff", "_xD800__xDC00__xDBFF__xDFFF_"),
        ("\ud800 \udfff", "_xD800_ _xDFFF_"),  # lone halves
        ("\uffff\ue000", "\uffff\ue000"),
    ],
)
def test_strings_are_escaped_as_powershell_writes_them_and_read_back(text: str, encoded: str) -> None:
    assert p.encode_string(text) == encoded
    assert p.decode_string(encoded) == text


def test_booleans_and_bytes_as_xml_writes_them() -> None:
    assert [p.CONVERTERS["B"](text) for text in ("true", " 1 ", "false", "0")] == [True, True, False, False]
    with pytest.raises(ValueError, match=_exactly("expected true or false, got 'True'")):
        p.CONVERTERS["B"]("True")  # XML booleans are lower case
    assert p.CONVERTERS["BA"]("AQID\n  BA==") == b"\x01\x02\x03\x04"  # base64 wrapped over lines
    with pytest.raises(ValueError, match=r"^invalid base64: "):
        p.CONVERTERS["BA"]("AQ*D")


@pytest.mark.parametrize(("codec", "bom"), [("utf-8", b""), ("utf-16-le", codecs.BOM_UTF16_LE)])
def test_a_stream_reads_only_the_part_it_is_given(tmp_path: Path, codec: str, bom: bytes) -> None:
    text = "<Obj>1</Obj>\n<Obj>2</Obj>\n<Obj>3</Obj>\n"
    path = tmp_path / "x.xml"
    path.write_bytes(bom + text.encode(codec))
    width = len("<Obj>1</Obj>\n".encode(codec))
    sniffed = Sniffed(codec, codec, len(bom))
    with path.open("rb") as raw, Utf8Stream(raw, sniffed, start=len(bom) + width, end=len(bom) + 2 * width) as part:
        assert part.read(5) == b"<Obj>"  # no more than asked, from the part's start
        assert part.read() == b"2</Obj>\n"
    with path.open("rb") as raw, Utf8Stream(raw, sniffed, start=len(bom) + 2 * width) as rest:
        assert rest.read(1 << 20) == b"<Obj>3</Obj>\n"
    with path.open("rb") as raw, Utf8Stream(raw, sniffed, start=len(bom) + width, end=0) as empty:
        assert empty.read() == b""  # an end before the start is an empty part
    with path.open("rb") as raw, Utf8Stream(raw, sniffed, start=0, end=len(bom) + width) as first:
        assert first.read() == b"<Obj>1</Obj>\n"  # the BOM is never part of the text
    with path.open("rb") as raw, Utf8Stream(raw, sniffed) as whole:
        assert whole.read(7) == b"<Obj>1<" and whole.lines_read == 0
        whole.read()
        assert whole.lines_read == (0 if codec == "utf-8" else 3)  # counted when decoding; UTF-8 passes through
