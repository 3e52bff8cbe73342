"""ConvertTo-Json output from Windows PowerShell 5.1 and PowerShell 7 (input-formats.md §4).

A top-level array is read element by element from a text stream, so a large export never sits in memory as one
Python structure. Dates (`\\/Date(ms)\\/` from 5.1, ISO 8601 from 7) become PSDateTime; 5.1's
`{"value": …, "DisplayHint": …}` wrappers are unwrapped; enums stay numbers (the dataset layer names them), and
an enum written as `{"value": 4, "Value": "Running"}` becomes its name; Unlimited<T> becomes `Unlimited` or its
limit;
values cut off by `-Depth` (`System.Collections.Hashtable`, `@{a=1; b=2}`, collection type names) are flagged.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from analyzer.errors import InputError
from analyzer.model import InputProblem, Record, SourceRef
from analyzer.readers.clixml_primitives import parse_datetime
from analyzer.readers.csv import LOSSY_CELL
from analyzer.readers.encoding import SNIFF_BYTES, choose_encoding
from analyzer.readers.psvalues import PSDateTime

_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?(?:Z|[+-]\d\d:\d\d)?")
_HASHTABLE_TEXT = re.compile(r"@\{.*\}", re.DOTALL)
_WRAPPER_KEYS = frozenset({"value", "DisplayHint", "DateTime"})
_READ_CHUNK = 1 << 16
_DEPTH_LIMIT = 100  # ConvertTo-Json allows at most 100 levels


def convert_value(value: Any, path: str, lossy: dict[str, str], depth: int = 0) -> Any:
    """The reader's form of one decoded JSON value; `path` names the top-level property it belongs to."""
    if isinstance(value, str):
        date = _MS_DATE.fullmatch(value)
        if date:
            return _from_milliseconds(int(date.group(1)), date.group(2))
        if _ISO_DATE.fullmatch(value):
            return parse_datetime(value)
        if _HASHTABLE_TEXT.fullmatch(value) or LOSSY_CELL.fullmatch(value):
            lossy.setdefault(path, f"holds {value[:80]!r}: ConvertTo-Json's -Depth cut the value off here")
        return value
    if isinstance(value, dict):
        if depth > _DEPTH_LIMIT:
            raise ValueError(f"nested deeper than {_DEPTH_LIMIT} levels")
        if "value" in value and set(value) <= _WRAPPER_KEYS and len(value) > 1:
            return convert_value(value["value"], path, lossy, depth + 1)  # Windows PowerShell's ETS wrapper
        if _is_named_number(value):
            return value["Value"]  # an enum written as its number beside its name: the name, as the shell prints it
        if value.get("IsUnlimited") is False and set(value) == {"IsUnlimited", "Value"}:
            return convert_value(value["Value"], path, lossy, depth + 1)  # Unlimited<T> holding a limit
        shown = shown_as_text(value)
        if shown is not None:
            return shown
        return {key: convert_value(item, path, lossy, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth > _DEPTH_LIMIT:
            raise ValueError(f"nested deeper than {_DEPTH_LIMIT} levels")
        return [convert_value(item, path, lossy, depth + 1) for item in value]
    return value


def shown_as_text(value: dict[str, Any]) -> str | None:
    """What PowerShell prints for an Exchange value type that ConvertTo-Json wrote as an object of its
    properties: SmtpAddress → its address, ProxyAddress → `SMTP:user@domain`, IPBinding → `0.0.0.0:995`
    (`[::]:995`), Unlimited<T> → `Unlimited`. None for any other object."""
    if isinstance(value.get("ProxyAddressString"), str):
        return str(value["ProxyAddressString"])
    if isinstance(value.get("Address"), str) and "IsValidAddress" in value:  # SmtpAddress
        return str(value["Address"])
    if isinstance(value.get("Address"), str) and isinstance(value.get("Port"), int) and "AddressFamily" in value:
        address = value["Address"]
        return f"[{address}]:{value['Port']}" if ":" in address else f"{address}:{value['Port']}"
    if value.get("IsUnlimited") is True and set(value) <= {"IsUnlimited", "Value"}:
        return "Unlimited"
    return None


def _is_named_number(value: dict[str, Any]) -> bool:
    number, name = value.get("value"), value.get("Value")
    return len(value) == 2 and isinstance(number, int) and not isinstance(number, bool) and isinstance(name, str)


def _from_milliseconds(milliseconds: int, offset: str | None) -> PSDateTime:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=milliseconds)
    if offset is None:
        return PSDateTime(moment, "Utc")
    sign = -1 if offset[0] == "-" else 1
    zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return PSDateTime(moment.astimezone(zone), "Local")


class JsonReader:
    """Iterates a ConvertTo-Json file: one record per element of a top-level array, or one for an object."""

    format = "json"

    def __init__(self, path: str | Path, *, encoding: str | None = None) -> None:
        self.path = Path(path)
        self.display = str(path)
        with self.path.open("rb") as raw:
            head = raw.read(SNIFF_BYTES)
        try:
            # The head decides for Unicode files; a legacy code page needs the whole file to judge.
            self.chosen = choose_encoding(head if head.isascii() or encoding else self.path.read_bytes(), encoding)
        except ValueError as error:
            raise InputError(self.display, 0, str(error)) from None
        self.problems: list[InputProblem] = []
        self.lossy_columns: dict[str, str] = {}

    @property
    def encoding(self) -> str:
        return self.chosen.label

    def _chunks(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.chosen.codec)("strict")
        with self.path.open("rb") as raw:
            raw.seek(self.chosen.bom_length)
            while chunk := raw.read(_READ_CHUNK):
                yield decoder.decode(chunk)
            yield decoder.decode(b"", final=True)

    def __iter__(self) -> Iterator[Record]:
        try:
            yield from self._records()
        except UnicodeError as error:  # UnicodeDecodeError, or utf-16 without a BOM when --encoding said utf-16
            raise InputError(
                self.display, 0, f"not valid {self.chosen.label}: {getattr(error, 'reason', error)}"
            ) from None
        except _Damaged as damage:
            raise InputError(self.display, damage.line, damage.message) from None

    def _records(self) -> Iterator[Record]:
        cursor = _Cursor(self._chunks())
        cursor.skip_space()
        if cursor.at_end():
            raise _Damaged(0, "the file is empty; expected ConvertTo-Json output")
        if cursor.peek() != "[":  # a single object: ConvertTo-Json of one object is small
            line = cursor.line
            value = cursor.decode_next()
            cursor.skip_space()
            if not cursor.at_end():
                raise _Damaged(cursor.line, "unexpected text after the JSON value")
            yield self._record(value, line, 0)
            return
        cursor.advance()
        index = 0
        while True:
            cursor.skip_space()
            if cursor.at_end():
                raise _Damaged(cursor.line, "the array is not closed: the file is truncated")
            if cursor.peek() == "]":
                return
            if index:
                if cursor.peek() != ",":
                    raise _Damaged(cursor.line, f"expected ',' or ']' between array elements, found {cursor.peek()!r}")
                cursor.advance()
                cursor.skip_space()
                if cursor.at_end():
                    raise _Damaged(cursor.line, "the array is not closed: the file is truncated")
            line = cursor.line
            yield self._record(cursor.decode_next(), line, index)
            index += 1

    def _record(self, value: Any, line: int, index: int) -> Record:
        source = SourceRef(self.display, line, index)
        lossy: dict[str, str] = {}
        try:
            if isinstance(value, dict):
                properties = {key: convert_value(item, key, lossy) for key, item in value.items()}
                record = Record((), None, properties, source, lossy=lossy)
            else:
                record = Record((), None, {}, source, value=convert_value(value, "(value)", lossy), lossy=lossy)
        except (ValueError, OverflowError, RecursionError) as error:
            raise InputError(self.display, line, f"unreadable value: {error}") from None
        for name, reason in lossy.items():
            self.lossy_columns.setdefault(name, f"{reason} (first at line {line})")
        return record


class _Damaged(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Cursor:
    """A window on a stream of text chunks, with the line number of its position, for decoding a JSON array
    one element at a time."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self._decoder = json.JSONDecoder(parse_int=_whole_number)
        self._buffer = ""
        self._position = 0
        self._ended = False
        self.line = 1

    def _fill(self) -> bool:
        if self._ended:
            return False
        more = next(self._chunks, None)
        if more is None:
            self._ended = True
            return False
        self._buffer = self._buffer[self._position :] + more
        self._position = 0
        return True

    def skip_space(self) -> None:
        while True:
            buffer, position = self._buffer, self._position
            while position < len(buffer) and buffer[position] in " \t\r\n":
                self.line += buffer[position] == "\n"
                position += 1
            self._position = position
            if position < len(buffer) or not self._fill():
                return

    def at_end(self) -> bool:
        return self._position >= len(self._buffer) and not self._fill()

    def peek(self) -> str:
        return self._buffer[self._position]

    def advance(self) -> None:
        self._position += 1

    def decode_next(self) -> Any:
        """The JSON value at the position; more text is read while it is merely incomplete."""
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._position)
            except json.JSONDecodeError as error:
                if self._fill():
                    continue
                line = self.line + self._buffer.count("\n", self._position, error.pos)
                raise _Damaged(line, f"damaged JSON: {error.msg}") from None
            except RecursionError:
                raise _Damaged(self.line, "damaged JSON: nested too deeply") from None
            if end < len(self._buffer) or not self._fill():  # a number may go on in the next chunk
                break
        self.line += self._buffer.count("\n", self._position, end)
        self._position = end
        return value


_INT_DIGITS = 4000  # below Python's 4,300-digit limit on int() of text (a ValueError, not a JSON error)


def _whole_number(text: str) -> int | str:
    """A JSON integer; one too long for Python to convert stays text, and the dataset typing refuses it as a
    located unreadable cell rather than crashing the read."""
    return int(text) if len(text) <= _INT_DIGITS else text
