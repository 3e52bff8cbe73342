"""Export-Csv files from Windows PowerShell 5.1 and PowerShell 7 (input-formats.md §2).

pyarrow's CSV reader does the tokenising (multithreaded, with quoted newlines). It also tells `$null` from
`""`: an unquoted empty field is null, a quoted one an empty string — which only files that quote every value
(Windows PowerShell, and PowerShell 7's default `-UseQuotes Always`) can say, so only they are read that way.
Columns whose cells are a collection's .NET type name (`System.Object[]`) lost their items and are flagged.
Each row keeps the line it starts on, even when a quoted value spans lines. Values stay strings; the dataset
layer types them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analyzer.errors import InputError
from analyzer.model import InputProblem, Record, SourceRef
from analyzer.readers.encoding import TextEncoding, load_text

_QUOTE, _NEWLINE = 0x22, 0x0A
_DELIMITERS = (",", ";", "\t")
_DESERIALIZED = re.compile(r"^(?:Deserialized\.)+", re.IGNORECASE)
# A whole cell that is the type name of a collection: Export-Csv wrote ToString() of a collection.
LOSSY_CELL = re.compile(
    r"(?:Deserialized\.)*(?:System\.[\w.`]+\[\]|System\.Collections\.[\w.`]+(?:\[.*\])?"
    r"|Microsoft\.Exchange\.[\w.]+(?:MultiValuedProperty`1\[.*\]|Collection))"
)
_TYPE_NAME_STARTS = ("System.", "Microsoft.", "Deserialized.")
_LOSSY_CHECKS_PER_COLUMN = 1000
_ARROW_ROW = re.compile(r"got \d+: (.+)$", re.DOTALL)
_QUOTED_FIELD = r'"(?:[^"]|"")*"'
_CHUNK = 1 << 18  # 256 KiB: the passes over one chunk stay in the CPU cache
IntArray = np.ndarray[Any, np.dtype[np.intp]]


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


def _header_style(header: str) -> tuple[str, list[str], bool]:
    """The delimiter (the most frequent of , ; tab outside quotes), the column names, and whether every name
    is quoted, as Windows PowerShell and PowerShell 7's default `-UseQuotes Always` write them."""
    line = header.rstrip("\r\n")
    outside = re.sub(_QUOTED_FIELD, "", line)
    delimiter = max(_DELIMITERS, key=lambda d: (outside.count(d), d == ","))
    names = next(csv.reader([line], delimiter=delimiter), [])
    separator = re.escape(delimiter)
    all_quoted = re.fullmatch(f"{_QUOTED_FIELD}(?:{separator}{_QUOTED_FIELD})*", line) is not None
    return delimiter, names, all_quoted


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
    try:
        header = _first_line(body).decode(codec)
    except UnicodeDecodeError:
        raise InputError(display, 1 + line_offset, f"the header line is not valid {codec} text") from None
    if not header.strip():
        raise InputError(display, 1 + line_offset, "no header line: expected the property names of Export-Csv")
    try:
        delimiter, names, all_quoted = _header_style(header)
    except csv.Error as error:
        raise InputError(display, 1 + line_offset, f"the header line is not valid CSV: {error}") from None
    if len({name.lower() for name in names}) != len(names):
        raise InputError(display, 1 + line_offset, "the header names a column twice; PowerShell never writes that")
    arrow = _parse(display, body, delimiter, names, all_quoted, codec=codec, line_offset=line_offset)
    if _column_names(arrow) != names:  # pyarrow read the header differently: unbalanced quotes or a bare CR in it
        raise InputError(display, 1 + line_offset, "the header line is not valid CSV (unbalanced quotes?)")
    table = CsvTable(
        display,
        arrow.to_pandas(),
        _row_lines(body, arrow.num_rows) + line_offset,
        loaded.encoding,
        delimiter,
        type_name,
        deserialized,
        all_quoted,
    )
    if loaded.encoding.lossy:
        table.problems.append(InputProblem(display, 0, loaded.encoding.lossy))
    _find_lossy_columns(table, arrow)
    return table


def _parse(
    display: str, body: bytes, delimiter: str, names: list[str], all_quoted: bool, *, codec: str, line_offset: int
) -> pa.Table:
    read = pacsv.ReadOptions(encoding=codec, block_size=1 << 22)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        # "NA", "null" and "" are data; only an unquoted empty field, in an all-quoted file, is $null.
        null_values=[""],
        strings_can_be_null=all_quoted,
        quoted_strings_can_be_null=False,
    )
    try:
        return pacsv.read_csv(io.BytesIO(body), read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise InputError(display, _error_line(body, str(error)) + line_offset, _error_text(error)) from None


def _column_names(arrow: pa.Table) -> list[str] | None:
    """pyarrow decodes names lazily and raises if a header record it read across lines holds invalid UTF-8."""
    try:
        return list(arrow.column_names)
    except UnicodeDecodeError:
        return None


def _error_text(error: Exception) -> str:
    text = str(error).split("\n")[0]
    if "invalid UTF8" in text or isinstance(error, UnicodeDecodeError):
        return "not valid UTF-8 text (give the right code page with --encoding)"
    return f"not a well-formed CSV row: {text.removeprefix('CSV parse error: ')}"


def _error_line(body: bytes, message: str) -> int:
    """pyarrow names the bad row's text, not its number: find the text (or the first bad byte) in the file."""
    row = _ARROW_ROW.search(message)
    if row:
        at = body.find(row.group(1).encode("utf-8", "replace")[:200])
        return body.count(b"\n", 0, at) + 1 if at >= 0 else 0
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return body.count(b"\n", 0, error.start) + 1
    return 0


def _row_lines(body: bytes, rows: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The line each data row starts on (the header is line 1). Without blank lines or newlines inside quoted
    values that is simply row + 2; otherwise the newlines outside quotes are found on the bytes."""
    newlines = body.count(b"\n")
    trailing = body.endswith(b"\n")
    if newlines == rows + (1 if trailing else 0) and b"\n\n" not in body and b"\n\r\n" not in body:
        return np.arange(rows, dtype=np.int64) + 2
    starts, lines = _record_starts(body)
    if len(starts) != rows + 1:  # cannot happen for input pyarrow accepted; guard rather than mislabel rows
        return np.arange(rows, dtype=np.int64) + 2
    return lines[1:]


def _record_starts(body: bytes) -> tuple[IntArray, np.ndarray[Any, np.dtype[np.int64]]]:
    """Offsets and line numbers of the non-blank records, found with quote parity: a newline after an odd
    number of quotes is inside a quoted value. Done in chunks that stay in the CPU cache."""
    data = np.frombuffer(body, dtype=np.uint8)
    all_newlines: list[IntArray] = []
    outside: list[IntArray] = []
    counts = np.empty(min(_CHUNK, max(len(data), 1)), dtype=np.uint8)
    carry = 0  # parity of the quotes before the chunk
    for start in range(0, len(data), _CHUNK):
        block = data[start : start + _CHUNK]
        running = counts[: len(block)]
        np.cumsum(block == _QUOTE, dtype=np.uint8, out=running)  # wraps at 256, an even number: parity survives
        found = np.flatnonzero(block == _NEWLINE)
        all_newlines.append(found + start)
        outside.append(found[((running[found] + carry) & 1) == 0] + start)
        carry = (carry + int(running[-1])) & 1
    newlines = np.concatenate(all_newlines) if all_newlines else np.empty(0, np.intp)
    record_ends = np.concatenate(outside) if outside else np.empty(0, np.intp)
    starts = np.concatenate(([0], record_ends + 1))
    ends = np.concatenate((record_ends, [len(data)]))
    text_length = ends - starts - (data[np.maximum(ends - 1, 0)] == 0x0D)
    starts = starts[text_length > 0]  # blank lines are no records
    return starts, np.searchsorted(newlines, starts).astype(np.int64) + 1


def _find_lossy_columns(table: CsvTable, arrow: pa.Table) -> None:
    """Columns where some cell is a collection's type name: candidates by prefix (vectorised), then confirmed."""
    for name, column in zip(arrow.column_names, arrow.columns, strict=True):
        if not pa.types.is_string(column.type):
            continue
        candidate = pc.starts_with(column, _TYPE_NAME_STARTS[0])
        for prefix in _TYPE_NAME_STARTS[1:]:
            candidate = pc.or_(candidate, pc.starts_with(column, prefix))
        if not pc.any(candidate).as_py():
            continue
        rows = np.flatnonzero(candidate.to_numpy(zero_copy_only=False) == True)  # noqa: E712 - nulls are None
        for row in rows[:_LOSSY_CHECKS_PER_COLUMN]:
            value = column[int(row)].as_py()
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
