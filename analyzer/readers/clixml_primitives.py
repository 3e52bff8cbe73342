"""Values of CLIXML primitive elements (MS-PSRP 2.2.5.1) and PowerShell's `_xHHHH_` string escaping (2.2.5.3.2)."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from analyzer.readers.psvalues import DateTimeKind, PSDateTime, PSSecureString, PSTimeSpan

# ---------------------------------------------------------------------------------------------------------
# String decoding (MS-PSRP 2.2.5.3.2): XmlConvert.DecodeName semantics.

_ESCAPE = re.compile(r"_[xX]([0-9A-Fa-f]{4})_")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _join_pair(match: re.Match[str]) -> str:
    pair = match.group()
    return chr(0x10000 + ((ord(pair[0]) - 0xD800) << 10) + (ord(pair[1]) - 0xDC00))


def decode_string(text: str | None) -> str:
    """Undo PowerShell's `_xHHHH_` escaping in one left-to-right pass; join surrogate halves, keep lone ones."""
    if not text:
        return ""
    if "_x" not in text and "_X" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _SURROGATE_PAIR.sub(_join_pair, decoded) if max(decoded) >= "\ud800" else decoded


def encode_string(text: str) -> str:
    """PowerShell's EncodeString: the inverse of `decode_string`, used by tests and benchmarks to write CLIXML."""
    out: list[str] = []
    for index, char in enumerate(text):
        code = ord(char)
        if code > 0xFFFF:  # astral characters are written as two escaped surrogate halves
            code -= 0x10000
            out.append(f"_x{0xD800 + (code >> 10):04X}__x{0xDC00 + (code & 0x3FF):04X}_")
        elif code <= 0x1F or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            out.append(f"_x{code:04X}_")
        elif char == "_" and text[index + 1 : index + 2] in ("x", "X"):
            out.append("_x005F_")
        else:
            out.append(char)
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------
# Primitive values (MS-PSRP 2.2.5.1).

_DT = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,7})\d*)?)?(Z|[+-]\d\d:\d\d)?")
_TS = re.compile(r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,7})\d*)?S)?)?")
_INT_RANGES: dict[str, tuple[int, int]] = {
    "By": (0, 0xFF),
    "SB": (-0x80, 0x7F),
    "U16": (0, 0xFFFF),
    "I16": (-0x8000, 0x7FFF),
    "U32": (0, 0xFFFFFFFF),
    "I32": (-0x80000000, 0x7FFFFFFF),
    "U64": (0, 0xFFFFFFFFFFFFFFFF),
    "I64": (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
}
_FLOAT_WORDS = {"INF": float("inf"), "-INF": float("-inf"), "NaN": float("nan")}
PRIMITIVE_TYPE_NAMES: dict[str, str] = {
    "S": "System.String",
    "C": "System.Char",
    "B": "System.Boolean",
    "DT": "System.DateTime",
    "TS": "System.TimeSpan",
    "By": "System.Byte",
    "SB": "System.SByte",
    "U16": "System.UInt16",
    "I16": "System.Int16",
    "U32": "System.UInt32",
    "I32": "System.Int32",
    "U64": "System.UInt64",
    "I64": "System.Int64",
    "Sg": "System.Single",
    "Db": "System.Double",
    "D": "System.Decimal",
    "BA": "System.Byte[]",
    "G": "System.Guid",
    "URI": "System.Uri",
    "Version": "System.Version",
    "SemanticVersion": "System.Management.Automation.SemanticVersion",
    "XD": "System.Xml.XmlDocument",
    "SBK": "System.Management.Automation.ScriptBlock",
    "SS": "System.Security.SecureString",
    "PR": "System.Management.Automation.ProgressRecord",
}


def parse_datetime(text: str) -> PSDateTime:
    """XmlConvert RoundtripKind text → PSDateTime with kind and the 100 ns digit."""
    match = _DT.fullmatch(text.strip())
    if not match:
        raise ValueError(f"expected a DateTime like 2019-04-01T09:30:15.1234567+09:00, got {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    digits = (fraction or "").ljust(7, "0")
    kind: DateTimeKind
    if zone is None:
        tz, kind = None, "Unspecified"
    elif zone == "Z":
        tz, kind = UTC, "Utc"
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        tz, kind = timezone(sign * offset), "Local"
    value = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), int(digits[:6]), tzinfo=tz
    )
    return PSDateTime(value, kind, int(digits[6]))


def parse_timespan(text: str) -> PSTimeSpan:
    """xs:duration as written for TimeSpan (`P1DT2H3M4.5S`, `-P1D`, `PT0S`) → exact ticks."""
    match = _TS.fullmatch(text.strip())
    if not match or text.strip() in ("P", "-P") or text.strip().endswith("T"):
        raise ValueError(f"expected a TimeSpan like PT9.0269026S or P1DT2H, got {text!r}")
    negative, days, hours, minutes, seconds, fraction = match.groups()
    ticks = ((int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes or 0)) * 60 + int(seconds or 0)
    ticks = ticks * 10_000_000 + int((fraction or "").ljust(7, "0"))
    return PSTimeSpan(-ticks if negative else ticks)


def _integer(tag: str) -> Callable[[str], int]:
    low, high = _INT_RANGES[tag]

    def parse(text: str) -> int:
        value = int(text.strip())
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range for <{tag}>")
        return value

    return parse


def _boolean(text: str) -> bool:
    word = text.strip()
    if word in ("true", "1"):
        return True
    if word in ("false", "0"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _floating(text: str) -> float:
    word = text.strip()
    if word in _FLOAT_WORDS:
        return _FLOAT_WORDS[word]
    if "_" in word:  # Python's float() accepts digit separators; XmlConvert does not
        raise ValueError(f"expected a number, got {text!r}")
    return float(word)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"expected a decimal number, got {text!r}") from None


def _bytes(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as error:
        raise ValueError(f"invalid base64: {error}") from None


def _char(text: str) -> str:
    return chr(_integer("U16")(text))


# Text of these tags is decoded before conversion; the converters receive the raw text otherwise.
STRING_TAGS = frozenset({"S", "URI", "Version", "SemanticVersion", "XD", "SBK"})
CONVERTERS: dict[str, Callable[[str], Any]] = {
    "C": _char,
    "B": _boolean,
    "DT": parse_datetime,
    "TS": parse_timespan,
    **{tag: _integer(tag) for tag in _INT_RANGES},
    "Sg": _floating,
    "Db": _floating,
    "D": _decimal,
    "BA": _bytes,
    "G": lambda text: uuid.UUID(text.strip()),
    "SS": lambda _text: PSSecureString(),
}
CONTAINERS = frozenset({"LST", "IE", "STK", "QUE", "DCT"})
INTEGER_TAGS = frozenset(_INT_RANGES)
