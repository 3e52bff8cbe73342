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
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analyzer.errors import InputError
from analyzer.model import CodedColumn, ColumnSlice, InputProblem, Record
from analyzer.readers.encoding import Sniffed, TextEncoding, Utf8Stream, choose_file_encoding

_QUOTE, _NEWLINE, _CR = 0x22, 0x0A, 0x0D
_ROWS_PER_SLICE = 8192
_MAX_HEAD = 16 << 20  # a header line longer than this is not Export-Csv's
# Each column costs pandas and pyarrow ~0.2 ms and ~10 KB whatever it holds: 100,000 columns took 40 s and 1.5 GB.
MAX_COLUMNS = 5_000
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


def _first_line(body: bytes | bytearray) -> bytes | bytearray:
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


def read_csv_table(
    path: str | Path, *, encoding: str | None = None, properties: Collection[str] | None = None
) -> CsvTable:
    """Read an Export-Csv file. Damage that stops reading raises a located InputError. With `properties`, only
    the columns of those names (any case) are converted: a Get-CASMailbox export has ~85, a scan reads ~20.

    The file is never held whole: pyarrow reads it itself (UTF-16/32 through a decoding stream), and a second,
    chunked pass finds the line each row starts on."""
    display, source = str(path), Path(path)
    try:
        chosen = choose_file_encoding(source, encoding)
    except ValueError as error:
        raise InputError(display, 0, str(error)) from None
    try:
        return _read_table(display, source, chosen, properties)
    except UnicodeError as error:  # a stream that stops decoding (also utf-16 without a BOM under --encoding)
        raise InputError(display, 0, f"not valid {chosen.label}: {getattr(error, 'reason', error)}") from None


def _stream(source: Path, chosen: TextEncoding) -> BinaryIO:
    """The file as an ASCII-compatible byte stream after its BOM: Unicode files as UTF-8 (decoded on the way),
    others as they are (pyarrow decodes the code page itself)."""
    raw = source.open("rb")
    if _transcoded(chosen):
        return cast(BinaryIO, Utf8Stream(raw, Sniffed(chosen.codec, chosen.label, chosen.bom_length)))
    raw.seek(chosen.bom_length)
    return raw


def _wide(chosen: TextEncoding) -> bool:
    return chosen.codec.replace("_", "-").startswith(("utf-16", "utf-32"))


def _transcoded(chosen: TextEncoding) -> bool:
    """Unicode files are presented as UTF-8 (UTF-8 itself passes through untouched)."""
    return _wide(chosen) or chosen.codec.replace("_", "-").startswith("utf-8")


def _head(source: Path, chosen: TextEncoding) -> bytes:
    """The first two lines (the #TYPE line and the header, or the header and a row)."""
    stream = _stream(source, chosen)
    try:
        head = b""
        while head.count(b"\n") < 2 and len(head) < _MAX_HEAD:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            head += chunk
        return head
    finally:
        stream.close()


def _read_table(display: str, source: Path, chosen: TextEncoding, properties: Collection[str] | None) -> CsvTable:
    codec = "utf-8" if _transcoded(chosen) else chosen.codec
    head = _head(source, chosen)
    type_name, deserialized, line_offset = None, False, 0
    first = _first_line(head)
    if first.startswith(b"#TYPE"):  # Windows PowerShell's default; PowerShell 7 with -IncludeTypeInformation
        declared = first[5:].decode(codec, "replace").strip().removeprefix("CSV:")
        deserialized = bool(_DESERIALIZED.match(declared))
        type_name = _DESERIALIZED.sub("", declared) or None
        head, line_offset = head[len(first) :], 1
    try:
        header = _first_line(head).decode(codec)
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
    if len(names) > MAX_COLUMNS:
        raise InputError(display, 1 + line_offset, f"the header names {len(names):,} columns; an Exchange object has "
                         f"a few hundred properties at most (limit {MAX_COLUMNS:,})")  # fmt: skip
    wanted = {name.lower() for name in properties} if properties is not None else None
    kept = names if wanted is None else [name for name in names if name.lower() in wanted] or names[:1]
    options = _Options(delimiter, names, kept, all_quoted, codec, line_offset)
    try:
        arrow = _parse(display, source, chosen, options)
    except KeyError:  # pyarrow's header lacks a column the header line names (pa.ArrowKeyError)
        arrow = None
    # pyarrow read the header differently: unbalanced quotes or a bare CR in it
    if arrow is None or _column_names(arrow) != kept:
        raise InputError(display, 1 + line_offset, "the header line is not valid CSV (unbalanced quotes?)")
    table = CsvTable(
        display,
        arrow.to_pandas(),
        _row_lines(source, chosen, arrow.num_rows, line_offset),
        chosen,
        delimiter,
        type_name,
        deserialized,
        all_quoted,
    )
    if chosen.lossy:
        table.problems.append(InputProblem(display, 0, chosen.lossy))
    _find_lossy_columns(table, arrow)
    return table


@dataclass(frozen=True)
class _Options:
    delimiter: str
    names: list[str]
    kept: list[str]
    all_quoted: bool
    codec: str
    line_offset: int


def _parse(display: str, source: Path, chosen: TextEncoding, options: _Options) -> pa.Table:
    read = pacsv.ReadOptions(encoding=options.codec, block_size=1 << 20, skip_rows=options.line_offset)
    parse = pacsv.ParseOptions(delimiter=options.delimiter, newlines_in_values=True, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(options.names, pa.string()),
        include_columns=options.kept if options.kept != options.names else [],  # [] is every column
        # "NA", "null" and "" are data; only an unquoted empty field, in an all-quoted file, is $null.
        null_values=[""],
        strings_can_be_null=options.all_quoted,
        quoted_strings_can_be_null=False,
    )
    # UTF-8 and code-page files go to pyarrow by name: its own threads read them, skipping a UTF-8 BOM, and never
    # call back into Python. UTF-16/32 arrive through the decoding stream.
    stream: BinaryIO | None = _stream(source, chosen) if _wide(chosen) else None
    try:
        given: Any = stream if stream is not None else str(source)
        return pacsv.read_csv(given, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        # Only now is the text held whole: the error names the bad row's text, not its number.
        with _stream(source, chosen) as again:
            body = again.read()
        line = _error_line(body, str(error))
        raise InputError(display, line, _error_text(error)) from None
    finally:
        if stream is not None:
            stream.close()


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


def _error_line(body: bytes | bytearray, message: str) -> int:
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


def _row_lines(source: Path, chosen: TextEncoding, rows: int, line_offset: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The line each data row starts on, from a pass over the stream: the lines of the non-blank records, less
    the #TYPE line and the header. Should the count disagree with pyarrow's (it cannot for input pyarrow
    accepted), rows are numbered consecutively rather than mislabelled."""
    stream = _stream(source, chosen)
    try:
        lines = _record_lines(iter(lambda: stream.read(_CHUNK), b""))
    finally:
        stream.close()
    data_lines = lines[1 + line_offset :]
    if len(data_lines) != rows:
        return np.arange(rows, dtype=np.int64) + 2 + line_offset
    return data_lines


def _record_lines(chunks: Iterator[bytes]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The line numbers on which the non-blank records start, found with quote parity: a newline after an odd
    number of quotes is inside a quoted value. Chunk by chunk, so that memory stays flat."""
    ends: list[IntArray] = []  # offsets of the newlines that end records
    ranks: list[IntArray] = []  # which newline of the file each of those is (0-based)
    carriage: list[np.ndarray[Any, np.dtype[np.bool_]]] = []  # whether a CR stands before it
    carry, offset, newlines_before, last = 0, 0, 0, 0
    for chunk in chunks:
        block = np.frombuffer(chunk, dtype=np.uint8)
        quotes = np.flatnonzero(block == _QUOTE)
        found = np.flatnonzero(block == _NEWLINE)
        # The quotes before each newline, by binary search over the quotes' positions (3× faster than a running
        # count over every byte of the file).
        outside = ((np.searchsorted(quotes, found) + carry) & 1) == 0
        kept = found[outside]
        ends.append(kept + offset)
        ranks.append(np.flatnonzero(outside) + newlines_before)
        before = np.where(kept > 0, block[np.maximum(kept - 1, 0)], last)
        carriage.append(before == _CR)
        carry = (carry + len(quotes)) & 1
        offset, newlines_before, last = offset + len(block), newlines_before + len(found), int(block[-1])
    record_ends = np.concatenate(ends) if ends else np.empty(0, np.intp)
    starts = np.concatenate(([0], record_ends + 1))
    stops = np.concatenate((record_ends, [offset]))
    crs = np.concatenate([*carriage, [last == _CR]]) if carriage else np.array([last == _CR])
    lengths = stops - starts - crs
    lines = np.concatenate(([1], np.concatenate(ranks) + 2 if ranks else np.empty(0, np.intp)))
    record_lines: np.ndarray[Any, np.dtype[np.int64]] = lines[lengths > 0].astype(np.int64)
    return record_lines


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


def _coded(cells: pd.Series) -> CodedColumn:
    codes, values = pd.factorize(cells, use_na_sentinel=True)  # NaN, where the file said $null: code -1
    return CodedColumn(codes, values.tolist())


class CsvReader:
    """Iterates an Export-Csv file as records, for callers that want records rather than a frame."""

    format = "csv"

    def __init__(
        self, path: str | Path, *, encoding: str | None = None, properties: Collection[str] | None = None
    ) -> None:
        self.table = read_csv_table(path, encoding=encoding, properties=properties)

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
        for piece in self.slices():
            yield from piece.records()

    def slices(self) -> Iterator[ColumnSlice]:
        """The rows a slice at a time, each column coded by its distinct values (pandas' factorize, in C): not
        cell by cell, and not all at once — 20 columns of 500,000 rows as Python objects would be most of a GB."""
        table = self.table
        type_names = (table.type_name,) if table.type_name else ()
        names = [str(name) for name in table.frame.columns]
        frame, lines = table.frame, table.lines.tolist()
        for first in range(0, len(frame), _ROWS_PER_SLICE):
            part = frame.iloc[first : first + _ROWS_PER_SLICE]
            columns = {name: _coded(part[name]) for name in names}
            yield ColumnSlice(table.path, type_names, table.deserialized, first, lines[first : first + len(part)],
                              columns, dict(table.lossy_columns))  # fmt: skip
