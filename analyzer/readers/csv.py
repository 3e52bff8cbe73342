"""Export-Csv files from Windows PowerShell 5.1 and PowerShell 7 (input-formats.md §2).

pandas' C parser does the tokenising. A vectorised pass over the bytes (numpy) adds what pandas cannot see:
the line each row starts on (quoted fields may hold newlines), which fields were `$null` rather than `""`
(only files that quote every value tell them apart), and which columns hold a collection flattened to its
.NET type name (`System.Object[]`), a value that lost its data. Values stay strings; the dataset layer types them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analyzer.errors import InputError
from analyzer.model import InputProblem, Record, SourceRef
from analyzer.readers.encoding import LEGACY_WESTERN, TextEncoding, load_text

_QUOTE, _NEWLINE, _CR = 0x22, 0x0A, 0x0D
_DELIMITERS = (",", ";", "\t")
_DESERIALIZED = re.compile(r"^(?:Deserialized\.)+", re.IGNORECASE)
# A whole cell that is the type name of a collection: Export-Csv wrote ToString() of a collection.
LOSSY_CELL = re.compile(
    r"(?:Deserialized\.)*(?:System\.[\w.`]+\[\]|System\.Collections\.[\w.`]+(?:\[.*\])?"
    r"|Microsoft\.Exchange\.[\w.]+(?:MultiValuedProperty`1\[.*\]|Collection))"
)
_PANDAS_LINE = re.compile(r"line (\d+)")


@dataclass
class CsvTable:
    """One Export-Csv file, read: a frame of strings (NaN where the file said `$null`) and what is known of it."""

    path: str
    frame: pd.DataFrame
    lines: np.ndarray[Any, np.dtype[np.int64]]
    encoding: TextEncoding
    delimiter: str
    type_name: str | None
    deserialized: bool
    nulls_distinguished: bool
    lossy_columns: dict[str, str] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)


def _first_line(body: bytes) -> bytes:
    end = body.find(b"\n")
    return body if end < 0 else body[: end + 1]


_QUOTED_FIELD = r'"(?:[^"]|"")*"'


def _header_style(header: str) -> tuple[str, bool]:
    """The delimiter (the most frequent of , ; tab outside quotes) and whether every header name is quoted,
    as Windows PowerShell and PowerShell 7's default `-UseQuotes Always` write it."""
    line = header.rstrip("\r\n")
    outside = re.sub(_QUOTED_FIELD, "", line)
    delimiter = max(_DELIMITERS, key=lambda d: (outside.count(d), d == ","))
    separator = re.escape(delimiter)
    all_quoted = re.fullmatch(f"{_QUOTED_FIELD}(?:{separator}{_QUOTED_FIELD})*", line) is not None
    return delimiter, all_quoted


_CHUNK = 1 << 20
IntArray = np.ndarray[Any, np.dtype[np.intp]]


class _Structure:
    """Where rows and fields start and end, found on the bytes with quote parity: a delimiter or newline after
    an odd number of quotes is inside a quoted field. One pass in chunks that fit the CPU cache."""

    def __init__(self, body: bytes, delimiter: str) -> None:
        data = self.data = np.frombuffer(body, dtype=np.uint8)
        delimiter_byte = ord(delimiter)
        newlines: list[IntArray] = []
        outside_newlines: list[IntArray] = []
        delimiters: list[IntArray] = []
        parity = np.empty(min(_CHUNK, len(data)), dtype=np.uint8)
        carry = 0
        for start in range(0, len(data), _CHUNK):
            block = data[start : start + _CHUNK]
            counts = parity[: len(block)]
            # uint8 wraps at 256, an even number, so the parity of the running count survives.
            np.cumsum(block == _QUOTE, dtype=np.uint8, out=counts)
            counts += carry
            carry = int(counts[-1])
            counts &= 1
            found = np.flatnonzero(block == _NEWLINE)
            newlines.append(found + start)
            outside_newlines.append(found[counts[found] == 0] + start)
            found = np.flatnonzero(block == delimiter_byte)
            delimiters.append(found[counts[found] == 0] + start)
        empty: IntArray = np.empty(0, dtype=np.intp)
        self.all_newlines = np.concatenate(newlines) if newlines else empty
        self.newlines = np.concatenate(outside_newlines) if outside_newlines else empty
        self.delimiters = np.concatenate(delimiters) if delimiters else empty

    def record_bounds(self) -> tuple[IntArray, IntArray]:
        """Start and end offsets of the non-blank records (header first), as pandas with skip_blank_lines sees
        them; an end excludes the CR of a CRLF."""
        size = len(self.data)
        starts = np.concatenate(([0], self.newlines + 1))
        ends = np.concatenate((self.newlines, [size]))
        has_cr = (ends > starts) & (self.data[np.maximum(ends - 1, 0)] == _CR)
        ends = ends - has_cr
        keep = ends > starts
        return starts[keep], ends[keep]

    def line_numbers(self, starts: IntArray) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.searchsorted(self.all_newlines, starts).astype(np.int64) + 1

    def field_grid(self, starts: IntArray, ends: IntArray, columns: int) -> tuple[IntArray, IntArray] | None:
        """Start and end offsets of every field, as (record × column) arrays, or None when some record does not
        have exactly `columns` fields (then the caller says what it could not check)."""
        records = len(starts)
        if columns < 1 or len(self.delimiters) != records * (columns - 1):
            return None
        inner = self.delimiters.reshape(records, columns - 1)
        # Delimiters are sorted, so each record's block lies inside it when its first and last ones do.
        if columns > 1 and (np.any(inner[:, 0] < starts) or np.any(inner[:, -1] > ends)):
            return None
        field_starts = np.empty((records, columns), dtype=np.intp)
        field_starts[:, 0] = starts
        field_starts[:, 1:] = inner + 1
        field_ends = np.empty((records, columns), dtype=np.intp)
        field_ends[:, :-1] = inner
        field_ends[:, -1] = ends
        return field_starts, field_ends


def read_csv_table(path: str | Path, *, encoding: str | None = None) -> CsvTable:
    """Read an Export-Csv file. Damage that stops reading raises a located InputError."""
    display = str(path)
    try:
        loaded = load_text(Path(path), encoding)
    except ValueError as error:
        raise InputError(display, 0, str(error)) from None
    body, codec = loaded.body, loaded.codec
    type_name, deserialized, line_offset = None, False, 0
    first = _first_line(body)
    if first.startswith(b"#TYPE"):  # Windows PowerShell's default; PowerShell 7 with -IncludeTypeInformation
        declared = first[5:].decode(codec, "replace").strip().removeprefix("CSV:")
        deserialized = bool(_DESERIALIZED.match(declared))
        type_name = _DESERIALIZED.sub("", declared) or None
        body, line_offset = body[len(first) :], 1
    header = _first_line(body).decode(codec, "replace")
    if not header.strip():
        raise InputError(display, 1 + line_offset, "no header line: expected the property names of Export-Csv")
    delimiter, all_quoted = _header_style(header)
    frame = _parse_frame(display, body, delimiter, loaded.encoding, codec=codec, line_offset=line_offset)
    table = CsvTable(
        display, frame, np.empty(0, np.int64), loaded.encoding, delimiter, type_name, deserialized, all_quoted
    )
    if loaded.encoding.lossy:
        table.problems.append(InputProblem(display, 0, loaded.encoding.lossy))
    _annotate(table, body, line_offset)
    return table


def _parse_frame(
    display: str, body: bytes, delimiter: str, chosen: TextEncoding, *, codec: str, line_offset: int
) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.BytesIO(body),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,  # "NA", "null" and "" are data, not missing values
            na_filter=False,
            encoding=codec,
            encoding_errors="replace" if chosen.lossy and codec == LEGACY_WESTERN else "strict",
            engine="c",
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as error:
        found = _PANDAS_LINE.search(str(error))
        line = int(found.group(1)) + line_offset if found else 0
        raise InputError(display, line, f"not a well-formed CSV row: {str(error).strip()}") from None
    except UnicodeDecodeError as error:
        raise InputError(display, 0, f"not valid {chosen.label}: {error.reason}") from None


def _annotate(table: CsvTable, body: bytes, line_offset: int) -> None:
    """Line numbers, `$null` cells and lossy columns, from the byte structure."""
    frame, display = table.frame, table.path
    structure = _Structure(body, table.delimiter)
    starts, ends = structure.record_bounds()
    if len(starts) == len(frame) + 1:
        table.lines = structure.line_numbers(starts[1:]) + line_offset
        grid = structure.field_grid(starts, ends, frame.shape[1])
    else:  # unbalanced quotes or a bare CR confused one of the two views; say so rather than guess silently
        table.lines = np.arange(len(frame), dtype=np.int64) + 2 + line_offset
        table.problems.append(
            InputProblem(
                display, 0, "rows could not be matched to line numbers (unbalanced quotes?); lines approximate"
            )
        )
        grid = None
    if grid is None:
        table.nulls_distinguished = False
        if len(frame):
            table.problems.append(
                InputProblem(display, 0, "rows have uneven field counts: $null and collection cells not checked")
            )
            table.lossy_columns.update(dict.fromkeys(map(str, frame.columns), "field layout could not be verified"))
        return
    field_starts, field_ends = grid[0][1:], grid[1][1:]  # data rows only
    if table.nulls_distinguished:
        _apply_nulls(table, field_starts, field_ends)
    _find_lossy_columns(table, structure.data, field_starts, field_ends)


def _apply_nulls(table: CsvTable, field_starts: IntArray, field_ends: IntArray) -> None:
    """In a file that quotes every value, a field with no bytes at all (not even `""`) was `$null`."""
    empty = field_starts == field_ends
    for column in np.flatnonzero(empty.any(axis=0)):
        name = str(table.frame.columns[int(column)])
        table.frame[name] = table.frame[name].mask(empty[:, column])


_LOSSY_PREFIXES = (b"System.", b"Microsoft.", b"Deserialized.")
_LOSSY_CHECKS_PER_COLUMN = 1000


def _starting_with(data: np.ndarray[Any, np.dtype[np.uint8]], offsets: IntArray, prefix: bytes) -> IntArray:
    """Indexes of the `offsets` at which the byte string `prefix` begins: one byte position at a time, each
    on the survivors of the one before, so the cost falls off after the first byte."""
    last = len(data) - 1
    survivors = np.flatnonzero(data[np.minimum(offsets, last)] == prefix[0])
    for position in range(1, len(prefix)):
        survivors = survivors[data[np.minimum(offsets[survivors] + position, last)] == prefix[position]]
    return survivors


def _find_lossy_columns(
    table: CsvTable, data: np.ndarray[Any, np.dtype[np.uint8]], field_starts: IntArray, field_ends: IntArray
) -> None:
    """Columns where some cell is a collection's type name. Candidates are found on the bytes (the value
    starts with System., Microsoft. or Deserialized.), then confirmed on the parsed value."""
    if not field_starts.size:
        return
    value_starts = field_starts + (data[np.minimum(field_starts, len(data) - 1)] == _QUOTE)
    flat = value_starts.ravel()
    found = np.concatenate([_starting_with(data, flat, prefix) for prefix in _LOSSY_PREFIXES])
    rows, columns = np.divmod(np.sort(found), field_starts.shape[1])
    for column in np.unique(columns):
        name = str(table.frame.columns[column])
        for row in rows[columns == column][:_LOSSY_CHECKS_PER_COLUMN]:
            value = table.frame.iat[int(row), int(column)]
            if isinstance(value, str) and LOSSY_CELL.fullmatch(value):
                table.lossy_columns[name] = (
                    f"holds {value!r}, the type name of a collection, not its items (first at line "
                    f"{int(table.lines[int(row)])}); export it with Export-Clixml, or join the items with -join"
                )
                break


class CsvReader:
    """Iterates an Export-Csv file as records, for callers that want records rather than a frame."""

    format = "csv"

    def __init__(self, path: str | Path, *, encoding: str | None = None) -> None:
        self.table = read_csv_table(path, encoding=encoding)

    @property
    def encoding(self) -> str:
        return self.table.encoding.label

    @property
    def problems(self) -> list[InputProblem]:
        return self.table.problems

    @property
    def lossy_columns(self) -> dict[str, str]:
        return self.table.lossy_columns

    def __iter__(self) -> Iterator[Record]:
        table = self.table
        type_names = (table.type_name,) if table.type_name else ()
        names = [str(name) for name in table.frame.columns]
        lossy = dict(table.lossy_columns)
        for index, (values, line) in enumerate(zip(table.frame.itertuples(index=False), table.lines, strict=True)):
            properties = {name: (None if isinstance(v, float) else v) for name, v in zip(names, values, strict=True)}
            row_lossy = {name: reason for name, reason in lossy.items() if properties.get(name) is not None}
            yield Record(
                type_names,
                None,
                properties,
                SourceRef(table.path, int(line), index),
                table.deserialized,
                lossy=row_lossy,
            )
