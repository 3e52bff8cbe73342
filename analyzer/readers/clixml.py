"""Streaming, hardened reader for Export-Clixml files (MS-PSRP 2.2.5 serialization).

One `Record` per top-level object, decoded while lxml parses, so memory stays flat however many objects a file
holds. Back-references (`<Ref RefId>`) may point at any earlier object of the file, so a cheap first pass
collects the RefIds that are actually referenced, and only those objects are kept after their top-level
object is done. A projection (`properties=`) skips decoding the members nobody asked for; skipped subtrees are
still searched for type-name lists and referenced objects so later `<TNRef>` and `<Ref>` elements resolve.

Hardening: no DTD, no entities, no network, comments and PIs dropped, a DOCTYPE rejected before parsing, and
object nesting capped (PowerShell itself refuses more than 50 levels).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from analyzer.errors import InputError
from analyzer.model import Record, SourceRef
from analyzer.readers.encoding import SNIFF_BYTES, Sniffed, Utf8Stream, sniff_unicode
from analyzer.readers.psvalues import (
    DateTimeKind,
    PSDateTime,
    PSDict,
    PSEnum,
    PSList,
    PSObject,
    PSSecureString,
    PSTimeSpan,
)

MAX_NESTING = 100
_DESERIALIZED = "deserialized."
_PREFIX = b"#< CLIXML"

# Hardened parser settings, spelled out even where they match lxml's current defaults (input-formats.md §5).
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


class _Damaged(Exception):
    """A value or structure error inside one object; turned into a located InputError by the caller."""

    def __init__(self, element: Any, message: str) -> None:
        super().__init__(message)
        self.line = getattr(element, "sourceline", None) or 0
        self.message = message


# ---------------------------------------------------------------------------------------------------------
# String decoding (MS-PSRP 2.2.5.3.2): XmlConvert.DecodeName semantics.

_ESCAPE = re.compile(r"_[xX]([0-9A-Fa-f]{4})_")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _join_pair(match: re.Match[str]) -> str:
    high, low = match.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def decode_string(text: str | None) -> str:
    """Undo PowerShell's `_xHHHH_` escaping in one left-to-right pass; join surrogate halves, keep lone ones."""
    if not text:
        return ""
    if "_x" not in text and "_X" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _SURROGATE_PAIR.sub(_join_pair, decoded) if "\ud800" <= max(decoded) else decoded


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

_DT = re.compile(
    r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,7})\d*)?)?(Z|[+-]\d\d:\d\d)?"
)
_TS = re.compile(
    r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,7})\d*)?S)?)?"
)
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
_PRIMITIVE_TYPE_NAMES: dict[str, str] = {
    "S": "System.String", "C": "System.Char", "B": "System.Boolean", "DT": "System.DateTime",
    "TS": "System.TimeSpan", "By": "System.Byte", "SB": "System.SByte", "U16": "System.UInt16",
    "I16": "System.Int16", "U32": "System.UInt32", "I32": "System.Int32", "U64": "System.UInt64",
    "I64": "System.Int64", "Sg": "System.Single", "Db": "System.Double", "D": "System.Decimal",
    "BA": "System.Byte[]", "G": "System.Guid", "URI": "System.Uri", "Version": "System.Version",
    "SemanticVersion": "System.Management.Automation.SemanticVersion", "XD": "System.Xml.XmlDocument",
    "SBK": "System.Management.Automation.ScriptBlock", "SS": "System.Security.SecureString",
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
        tz, kind = timezone.utc, "Utc"
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
_STRING_TAGS = frozenset({"S", "URI", "Version", "SemanticVersion", "XD", "SBK"})
_CONVERTERS: dict[str, Callable[[str], Any]] = {
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
_CONTAINERS = frozenset({"LST", "IE", "STK", "QUE", "DCT"})
_INTEGER_TAGS = frozenset(_INT_RANGES)


def _local(tag: Any) -> str:
    if not isinstance(tag, str):  # comments and PIs are removed; entities are rejected earlier
        return ""
    return tag.rpartition("}")[2]


# ---------------------------------------------------------------------------------------------------------
# The decoder: one instance per file; TN and Ref maps live for the whole file (one serializer wrote it).


class _Decoder:
    def __init__(self, needed_refs: frozenset[str] | None, projection: frozenset[str] | None) -> None:
        self.type_lists: dict[str, tuple[tuple[str, ...], bool]] = {}
        self.objects: dict[str, Any] = {}
        self.needed_refs = needed_refs  # None: keep every object (pre-scan could not decide)
        self.projection = projection
        self._tag_cache: dict[Any, str] = {}

    # -- dispatch ------------------------------------------------------------------------------------
    def local(self, tag: Any) -> str:
        try:
            return self._tag_cache[tag]
        except KeyError:
            name = self._tag_cache[tag] = _local(tag)
            return name

    def value(self, element: Any, depth: int) -> Any:
        tag = self.local(element.tag)
        if tag == "S":
            return decode_string(element.text)
        if tag == "Nil":
            return None
        if tag == "Obj":
            return self.obj(element, depth + 1, None)
        if tag == "Ref":
            return self.ref(element)
        if tag in _STRING_TAGS:
            return decode_string(element.text)
        converter = _CONVERTERS.get(tag)
        if converter is not None:
            text = element.text
            if text is None:
                raise _Damaged(element, f"<{tag}> is empty; expected a value")
            try:
                return converter(text)
            except (ValueError, OverflowError) as error:
                raise _Damaged(element, f"<{tag}>: {error}") from None
        if tag in _CONTAINERS:
            return self.container(element, (), depth + 1)
        if tag == "PR":
            return {self.local(child.tag): decode_string(child.text) for child in element}
        raise _Damaged(element, f"unknown element <{tag}>")

    def ref(self, element: Any) -> Any:
        ref_id = element.get("RefId")
        try:
            return self.objects[ref_id]
        except KeyError:
            raise _Damaged(element, f"<Ref RefId={ref_id!r}> names no earlier object") from None

    def type_names(self, element: Any) -> tuple[tuple[str, ...], bool]:
        if self.local(element.tag) == "TNRef":
            ref_id = element.get("RefId")
            try:
                return self.type_lists[ref_id]
            except KeyError:
                raise _Damaged(element, f"<TNRef RefId={ref_id!r}> names no earlier <TN>") from None
        names: list[str] = []
        deserialized = False
        for child in element:
            name = decode_string(child.text)
            while name[:13].lower() == _DESERIALIZED:
                name, deserialized = name[13:], True
            names.append(name)
        entry = (tuple(names), deserialized)
        ref_id = element.get("RefId")
        if ref_id is not None:
            self.type_lists[ref_id] = entry
        return entry

    # -- complex objects -----------------------------------------------------------------------------
    def obj(self, element: Any, depth: int, projection: frozenset[str] | None) -> Any:
        if depth > MAX_NESTING:
            raise _Damaged(element, f"objects nested deeper than {MAX_NESTING} levels")
        type_names: tuple[str, ...] = ()
        deserialized = False
        to_string: str | None = None
        payload = container = props = extended = None
        for child in element:
            tag = self.local(child.tag)
            if tag == "TN" or tag == "TNRef":
                type_names, deserialized = self.type_names(child)
            elif tag == "ToString":
                to_string = decode_string(child.text)
            elif tag == "Props":
                props = child
            elif tag == "MS":
                extended = child
            elif tag in _CONTAINERS:
                container = child
            else:
                payload = child
        ref_id = element.get("RefId")
        keep = ref_id is not None and (self.needed_refs is None or ref_id in self.needed_refs)

        if container is not None and props is None and extended is None:
            items = self.container(container, type_names, depth)
            if keep:
                self.objects[ref_id] = items
            return items
        if (
            payload is not None
            and props is None
            and extended is None
            and "System.Enum" in type_names
            and self.local(payload.tag) in _INTEGER_TAGS
        ):
            number = self.value(payload, depth)
            enum = PSEnum(type_names[0], to_string if to_string is not None else str(number), number)
            if keep:
                self.objects[ref_id] = enum
            return enum

        result = PSObject(type_names, to_string, {}, None, deserialized)
        if keep:  # registered before its members are decoded, so a member may refer back to it (cycles)
            self.objects[ref_id] = result
        if container is not None:
            result.value = self.container(container, type_names, depth)
        elif payload is not None:
            result.value = self.value(payload, depth)
        if props is not None:
            self.members(props, result.properties, depth, projection)
        if extended is not None:
            self.members(extended, result.properties, depth, projection)
        return result

    def container(self, element: Any, type_names: tuple[str, ...], depth: int) -> Any:
        if depth > MAX_NESTING:
            raise _Damaged(element, f"objects nested deeper than {MAX_NESTING} levels")
        kind = self.local(element.tag)
        if kind == "DCT":
            pairs = PSDict(type_names)
            for entry in element:
                key_element = value_element = None
                for part in entry:
                    role = part.get("N")
                    if role == "Key":
                        key_element = part
                    elif role == "Value":
                        value_element = part
                if key_element is None or value_element is None:
                    raise _Damaged(entry, "dictionary entry <En> needs a Key and a Value")
                pairs.append((self.value(key_element, depth), self.value(value_element, depth)))
            return pairs
        items = PSList(type_names, kind)
        items.extend(self.value(child, depth) for child in element)
        return items

    def members(
        self, element: Any, into: dict[str, Any], depth: int, projection: frozenset[str] | None
    ) -> None:
        for child in element:
            name = decode_string(child.get("N"))
            if projection is not None and name.lower() not in projection:
                if len(child):
                    self.register_skipped(child, depth)
                continue
            if self.local(child.tag) == "MS":  # a property set (MS inside MS)
                nested: dict[str, Any] = {}
                self.members(child, nested, depth + 1, None)
                into[name] = nested
            else:
                into[name] = self.value(child, depth)

    def register_skipped(self, element: Any, depth: int) -> None:
        """A member the projection skips may still define a <TN> or an object that a later <Ref> needs."""
        for inner in element.iter("{*}TN", "{*}Obj"):
            if self.local(inner.tag) == "TN":
                ref_id = inner.get("RefId")
                if ref_id is not None and ref_id not in self.type_lists:
                    self.type_names(inner)
            else:
                ref_id = inner.get("RefId")
                if ref_id is not None and ref_id not in self.objects and (
                    self.needed_refs is None or ref_id in self.needed_refs
                ):
                    self.obj(inner, depth + 1, None)


# ---------------------------------------------------------------------------------------------------------
# Pre-scan: which RefIds are referenced, and is there a DOCTYPE.

_REF_PATTERN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Ref\s[^>]*?\bRefId\s*=\s*[\"']([^\"']*)[\"']")
_DOCTYPE_PATTERN = re.compile(rb"<!DOCTYPE|<!ENTITY")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class _PreScan:
    needed_refs: frozenset[str] | None
    doctype_line: int | None


def _pre_scan(stream: Utf8Stream) -> _PreScan:
    needed: set[str] = set()
    exact = True
    carry = b""
    lines_before = 0
    while True:
        chunk = stream.read(_CHUNK)
        data = carry + chunk
        if not chunk:
            cut = len(data)
        else:  # keep a possibly unfinished tag for the next round
            cut = data.rfind(b"<")
            cut = len(data) if cut < 0 or len(data) - cut > 65536 else cut
        block = data[:cut]
        doctype = _DOCTYPE_PATTERN.search(block)
        if doctype:
            return _PreScan(None, lines_before + block.count(b"\n", 0, doctype.start()) + 1)
        for match in _REF_PATTERN.finditer(block):
            ref_id = match.group(1)
            if ref_id.isdigit():
                needed.add(ref_id.decode("ascii"))
            else:  # an odd attribute value (entity, spaces): keep every object rather than guess
                exact = False
        lines_before += block.count(b"\n")
        carry = data[cut:]
        if not chunk:
            break
    return _PreScan(frozenset(needed) if exact else None, None)


# ---------------------------------------------------------------------------------------------------------
# Public API.


class ClixmlReader:
    """Reads one Export-Clixml file. Iterating yields records; damage raises a located `InputError` after
    every record before it has been yielded, so callers keep what could be read."""

    def __init__(self, path: str | Path, *, properties: Collection[str] | None = None) -> None:
        self.path = Path(path)
        self.display_path = str(path)
        self.projection = frozenset(name.lower() for name in properties) if properties is not None else None
        with self.path.open("rb") as raw:
            head = raw.read(SNIFF_BYTES)
        self.sniffed: Sniffed = sniff_unicode(head)
        self.records_read = 0

    @property
    def encoding(self) -> str:
        return self.sniffed.label

    def _error(self, line: int, message: str) -> InputError:
        return InputError(self.display_path, line, message)

    def _open(self, raw: BinaryIO) -> tuple[Utf8Stream, int]:
        """A UTF-8 view of the file, positioned after a `#< CLIXML` line if there is one."""
        stream = Utf8Stream(raw, self.sniffed)
        start = stream.read(len(_PREFIX))
        if start == _PREFIX:
            rest = b""
            while b"\n" not in rest:
                more = stream.read(1)
                if not more:
                    break
                rest += more
            return stream, 1
        raw.seek(0)
        stream = Utf8Stream(raw, self.sniffed)
        return stream, 0

    def __iter__(self) -> Iterator[Record]:
        try:
            yield from self._records()
        except UnicodeDecodeError as error:
            raise self._error(0, f"not valid {self.sniffed.label}: {error.reason}") from None

    def _records(self) -> Iterator[Record]:
        with self.path.open("rb") as raw:
            stream, line_offset = self._open(raw)
            scan = _pre_scan(stream)
            if scan.doctype_line is not None:
                raise self._error(
                    scan.doctype_line + line_offset,
                    "DOCTYPE/ENTITY declarations are not allowed in CLIXML (PowerShell prohibits DTDs); "
                    "refusing to parse",
                )
            raw.seek(0)
            stream, line_offset = self._open(raw)
            if not stream.read(1):
                raise self._error(0, "the file is empty; expected an Export-Clixml document")
            raw.seek(0)
            stream, line_offset = self._open(raw)
            decoder = _Decoder(scan.needed_refs, self.projection)
            yield from self._parse(stream, decoder, line_offset)

    def _parse(self, stream: Utf8Stream, decoder: _Decoder, line_offset: int) -> Iterator[Record]:
        parser_events = etree.iterparse(
            stream, events=("end",), tag="{*}Obj", encoding="utf-8", **_PARSER_OPTIONS
        )
        root: Any = None
        done: Any = None  # the last top-level element already turned into a record
        try:
            for _event, element in parser_events:
                if root is None:
                    root = self._check_root(element.getroottree().getroot(), line_offset)
                if element.getparent() is not root:
                    continue
                pending = []
                previous = element.getprevious()
                while previous is not None and previous is not done:
                    pending.append(previous)
                    previous = previous.getprevious()
                for earlier in reversed(pending):
                    yield self._record(earlier, decoder, line_offset)
                yield self._record(element, decoder, line_offset)
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del root[0]
                done = element
        except etree.LxmlError as error:
            line = getattr(error, "lineno", 0) or 0
            message = getattr(error, "msg", None) or str(error)
            raise self._error(line + line_offset, f"damaged or truncated XML: {message}") from None
        if root is None:
            root = self._check_root(parser_events.root, line_offset)
        for remaining in list(root):
            if remaining is not done:
                yield self._record(remaining, decoder, line_offset)

    def _check_root(self, root: Any, line_offset: int) -> Any:
        if root.getroottree().docinfo.doctype:  # defence in depth; the pre-scan already refuses these
            raise self._error(1 + line_offset, "DOCTYPE declarations are not allowed in CLIXML")
        if _local(root.tag) != "Objs":
            raise self._error(
                (root.sourceline or 1) + line_offset,
                f"root element is <{_local(root.tag)}>; expected <Objs> (is this an Export-Clixml file?)",
            )
        return root

    def _record(self, element: Any, decoder: _Decoder, line_offset: int) -> Record:
        line = (element.sourceline or 0) + line_offset
        index = self.records_read
        try:
            tag = decoder.local(element.tag)
            if tag == "Obj":
                # An object that a later <Ref> needs is decoded whole, never projected.
                ref_id = element.get("RefId")
                whole = decoder.needed_refs is None or ref_id in decoder.needed_refs
                value = decoder.obj(element, 0, None if whole else decoder.projection)
            else:
                value = decoder.value(element, 0)
        except _Damaged as damage:
            raise self._error(damage.line + line_offset, damage.message) from None
        except RecursionError:
            raise self._error(line, "objects nested too deeply") from None
        self.records_read += 1
        source = SourceRef(self.display_path, line, index)
        stream = element.get("S")
        if isinstance(value, PSObject):
            return Record(
                value.type_names, value.to_string, value.properties, source, value.deserialized, value.value, stream
            )
        if isinstance(value, (PSList, PSDict)):
            return Record(value.type_names, None, {}, source, False, value, stream)
        if isinstance(value, PSEnum):
            return Record((value.type_name,), value.name, {}, source, False, value, stream)
        type_name = _PRIMITIVE_TYPE_NAMES.get(decoder.local(element.tag), "")
        return Record((type_name,) if type_name else (), None, {}, source, False, value, stream)


def read_clixml(path: str | Path, *, properties: Collection[str] | None = None) -> Iterator[Record]:
    """Yield the records of an Export-Clixml file; see `ClixmlReader`."""
    return iter(ClixmlReader(path, properties=properties))
