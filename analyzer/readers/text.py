"""Text captured from Format-List and Format-Table (`| fl > file.txt`, input-formats.md §3).

Format-List: `Label<padding> : value`, the padding counted in display cells (East Asian wide characters take
two); continuation lines are indented by the label width + 3. A long value is spread over lines as PowerShell's
GenerateLines does it: word-wrapped (the break's space kept at the line's end) when the session's language is
en, fr, de, it, pt or es, cut at the width otherwise (`_rejoined`). Records are separated by blank lines.

Format-Table: a header row, a row of dashes, then one row per object. Columns are found from the positions no
row uses (PowerShell puts one space between columns), each tied to its run of dashes; cells cut with `...` or
`…` are flagged.

Both: `{a, b, c...}` collections become lists, a cut one flagged; prompt lines and stray text are reported as
problems, never silently dropped; ANSI colour codes are removed. Values stay strings; typing happens later.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.errors import InputError
from analyzer.model import InputProblem, Record, SourceRef
from analyzer.readers.encoding import load_text

FORMAT_LIST = "format-list"
FORMAT_TABLE = "format-table"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PROMPT = re.compile(r"^(?:\[PS\]\s*)?(?:PS\s+)?[A-Za-z]:\\[^>]*>|^PS [^>]*>")
_LABEL = re.compile(r"^(\S.*?) ?: (.*)$|^(\S.*?) ?:$")
_DASHES = re.compile(r"^[ -]*-[ -]*$")
_ELLIPSES = ("...", "…")
_TRUNCATED = "cut off by PowerShell's display width or $FormatEnumerationLimit; export with Export-Clixml for all of it"


def cell_width(text: str) -> int:
    """Display cells, as PowerShell counts them: East Asian wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def cut_cells(text: str, start: int, end: int | None) -> str:
    """The characters of `text` that occupy display cells [start, end)."""
    if text.isascii():
        return text[start:end]
    out: list[str] = []
    position = 0
    for char in text:
        width = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if position >= start and (end is None or position + width <= end):
            out.append(char)
        position += width
    return "".join(out)


def parse_collection(text: str) -> tuple[Any, bool]:
    """`{a, b, c...}` → (['a', 'b', 'c'], truncated). Anything else is returned unchanged. Items are split on
    ', ', so an item that itself contains ', ' cannot be told apart (a limit of the format). An opening brace
    with no closing one is a line cut where it was copied (PowerShell always closes the list): the whole items
    are kept, the cut one is dropped, and the value is marked truncated."""
    if len(text) > 1 and text[0] == "{" and "}" not in text:
        return text[1:].split(", ")[:-1], True
    if len(text) < 2 or text[0] != "{" or text[-1] != "}":
        return text, False
    inner = text[1:-1]
    truncated = inner.endswith(_ELLIPSES)
    if truncated:
        inner = inner.removesuffix("...").removesuffix("…")
    return ([] if not inner else inner.split(", ")), truncated


@dataclass
class _Line:
    number: int
    text: str


@dataclass
class _ListEntry:
    name: str
    line: int
    parts: list[str]
    widths: list[int]  # display cells of the physical line each part ended
    cut: bool = False


@dataclass
class TextExport:
    """Records read from a text export, with what the reader noticed."""

    path: str
    kind: str | None
    encoding: str
    records: list[Record] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    lossy_columns: dict[str, str] = field(default_factory=dict)
    count: int = 0  # records made so far: the next one's index


def read_text(path: str | Path, *, encoding: str | None = None) -> TextExport:
    """The whole export at once (for tests and small files); `TextReader` streams it."""
    reader = TextReader(path, encoding=encoding)
    records = list(reader)
    reader.export.records = records
    return reader.export


def _lines(text: str) -> Iterator[_Line]:
    """The lines of the text, numbered from 1, without `\\r` and terminal colour codes; made one at a time."""
    start, number = 0, 1
    while True:
        end = text.find("\n", start)
        raw = text[start:] if end < 0 else text[start:end]
        yield _Line(number, _ANSI.sub("", raw).rstrip("\r") if "\x1b" in raw else raw.rstrip("\r"))
        if end < 0:
            return
        start, number = end + 1, number + 1


def _kind_of(block: list[_Line]) -> str | None:
    if _PROMPT.match(block[0].text):
        return None
    if len(block) >= 2 and _DASHES.match(block[1].text) and not _LABEL.match(block[0].text):
        return FORMAT_TABLE
    return FORMAT_LIST if _LABEL.match(block[0].text) else None


def _blocks(lines: Iterable[_Line]) -> Iterator[list[_Line]]:
    """Runs of non-blank lines; a prompt line always starts a run of its own."""
    current: list[_Line] = []
    for line in lines:
        if not line.text.strip():
            if current:
                yield current
            current = []
        elif _PROMPT.match(line.text):
            if current:
                yield current
            yield [line]
            current = []
        else:
            current.append(line)
    if current:
        yield current


def _wide(char: str) -> bool:
    return not char.isascii() and unicodedata.east_asian_width(char) in "WF"


def _rejoined(entry: _ListEntry, wrap_width: int, trailing_kept: bool) -> str:
    """The value PowerShell spread over physical lines (ComplexWriter.cs, GenerateLines). A word wrap keeps the
    space or tab it broke at as the line's last character: the next line follows directly, at any line length.
    A cut (a word longer than the line, or a culture that does not word-wrap) fills the line to the width, one
    cell short when the next character is wide. Any other line break was a newline in the value — unless the
    file lost its trailing spaces (pasted into a web page), where a line the next word would not have fitted
    on is taken as a word wrap whose space was stripped."""
    text = entry.parts[0]
    for previous, width, part in zip(entry.parts, entry.widths, entry.parts[1:], strict=False):
        if (
            previous.endswith((" ", "\t"))
            or width >= wrap_width
            or (width == wrap_width - 1 and part[:1] and _wide(part[0]))
        ):
            text += part
        elif not trailing_kept and width + 1 + cell_width(_first_word(part)) > wrap_width:
            text += " " + part
        else:
            text += "\n" + part
    return text


def _first_word(part: str) -> str:
    """The first word of a line with the delimiter that followed it, as GenerateLines measured it."""
    head, space, _rest = part.partition(" ")
    return head + space


def _read_list_record(
    export: TextExport, block: list[_Line], wrap_width: int, trailing_kept: bool, *, last: bool
) -> None:
    entries: list[_ListEntry] = []
    indent = 0
    for line in block:
        match = _LABEL.match(line.text)
        if match and not line.text.startswith(" "):
            name = (match.group(1) or match.group(3)).rstrip()
            value = match.group(2) or ""
            separator = line.text.find(" : ")
            separator = separator if separator >= 0 else len(line.text) - 2
            indent = cell_width(line.text[:separator]) + 3  # where the value starts, in display cells
            entries.append(_ListEntry(name, line.number, [value], [cell_width(line.text)]))
        elif line.text.startswith(" ") and entries:
            spaces = len(line.text) - len(line.text.lstrip(" "))
            entries[-1].parts.append(line.text[min(spaces, indent) :])  # the value may itself start with spaces
            entries[-1].widths.append(cell_width(line.text))
        elif not line.text.startswith(" ") and line is block[-1] and last:
            # The file ends inside a record: a label with no ` : ` (the rest of the output is missing).
            entries.append(_ListEntry(line.text.strip(), line.number, [""], [0], cut=True))
        else:
            export.problems.append(
                InputProblem(
                    export.path, line.number, f"expected 'Name : value' or a continuation line: {line.text[:80]}"
                )
            )
    if not entries:
        return
    properties: dict[str, Any] = {}
    lossy: dict[str, str] = {}
    for entry in entries:
        value, truncated = parse_collection(_rejoined(entry, wrap_width, trailing_kept))
        properties[entry.name] = value
        if truncated:
            lossy[entry.name] = f"collection {_TRUNCATED}"
        if entry.cut:
            lossy[entry.name] = "the file ends before this value"
            export.problems.append(
                InputProblem(export.path, entry.line, f"the file ends inside a record: {entry.name!r} has no value")
            )
    _add_record(export, properties, lossy, entries[0].line)


@dataclass(frozen=True)
class _Column:
    name: str
    start: int
    end: int | None
    right_aligned: bool  # numbers are right-aligned: a cut cell then starts with the ellipsis


def _occupied_runs(rows: list[str]) -> list[list[int]]:
    """Runs of display cells that some row uses; PowerShell leaves one free cell between columns."""
    width = max(cell_width(row) for row in rows)
    used = [False] * (width + 1)
    for row in rows:
        position = 0
        for char in row:
            size = 2 if not char.isascii() and unicodedata.east_asian_width(char) in "WF" else 1
            if char != " ":
                used[position : position + size] = [True] * size
            position += size
    runs: list[list[int]] = []
    for cell, busy in enumerate(used):
        if busy and runs and runs[-1][1] == cell:
            runs[-1][1] = cell + 1
        elif busy:
            runs.append([cell, cell + 1])
    return runs


def _columns(header: str, dashes: str, rows: list[str]) -> list[_Column]:
    """Each run of dashes is a column; runs of used cells without dashes (a value with spaces, a number wider
    than its label) join the column they touch."""
    dash_runs = [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]
    spans: list[list[int]] = []
    for start, end in _occupied_runs([header, dashes, *rows]):
        if any(d_start < end and start < d_end for d_start, d_end in dash_runs) or not spans:
            spans.append([start, end])
        else:
            spans[-1][1] = end
    columns: list[_Column] = []
    for number, (start, end) in enumerate(spans):
        dash_start = next((d for d, e in dash_runs if start <= d < end), start)
        last = number == len(spans) - 1
        columns.append(_Column(cut_cells(header, start, end).strip(), start, None if last else end, dash_start > start))
    return columns


def _read_table(export: TextExport, block: list[_Line]) -> None:
    header, dashes, data = block[0].text, block[1].text, block[2:]
    columns = _columns(header, dashes, [line.text for line in data])
    for column in columns:
        if column.name.endswith(_ELLIPSES):
            export.problems.append(
                InputProblem(export.path, block[0].number, f"column header {column.name!r} is cut off")
            )
    table_width = max(cell_width(line.text) for line in block)
    for line in data:
        properties: dict[str, Any] = {}
        lossy: dict[str, str] = {}
        for column in columns:
            cell = cut_cells(line.text, column.start, column.end).strip()
            # A cut cell fills its column (the last column: the table's width) and shows the ellipsis where
            # the text was cut: at the end, or at the start when the column is right-aligned.
            if column.end is not None:
                fills = cell_width(cell) >= column.end - column.start
            else:
                fills = cell_width(line.text) >= table_width
            marked = cell.startswith(_ELLIPSES) if column.right_aligned else cell.endswith(_ELLIPSES)
            if fills and marked:
                lossy[column.name] = f"cell {_TRUNCATED}"
            value, truncated = parse_collection(cell)
            if truncated:
                lossy[column.name] = f"collection {_TRUNCATED}"
            properties[column.name] = value
        _add_record(export, properties, lossy, line.number)


def _add_record(export: TextExport, properties: dict[str, Any], lossy: dict[str, str], line: int) -> None:
    for name, reason in lossy.items():
        export.lossy_columns.setdefault(name, f"{reason} (first at line {line})")
    export.records.append(Record((), None, properties, SourceRef(export.path, line, export.count), lossy=lossy))
    export.count += 1


class TextReader:
    """Iterates a Format-List or Format-Table capture as records, a block of lines at a time: a first pass finds
    the widest line (where PowerShell wrapped values) and the kinds of block, the second makes the records, so a
    file of a million records is never held as records at once."""

    def __init__(self, path: str | Path, *, encoding: str | None = None) -> None:
        display = str(path)
        try:
            loaded = load_text(Path(path), encoding)
            self._text = loaded.body.decode(loaded.codec, "replace" if loaded.encoding.lossy else "strict")
        except (ValueError, UnicodeDecodeError) as error:
            raise InputError(display, 0, f"cannot decode the text: {error}") from None
        self.export = TextExport(display, None, loaded.encoding.label)
        if loaded.encoding.lossy:
            self.export.problems.append(InputProblem(display, 0, loaded.encoding.lossy))
        self._wrap_width = 0
        self._trailing_kept = False  # whether any line ends in a space: the file kept what PowerShell wrote
        kinds: set[str] = set()
        self._blocks = 0
        for block in _blocks(self._measured(_lines(self._text))):
            self._blocks += 1
            kind = _kind_of(block)
            if kind:
                kinds.add(kind)
        kind_name = FORMAT_TABLE if kinds == {FORMAT_TABLE} else FORMAT_LIST if kinds else None
        self.export.kind = "format-list+table" if len(kinds) > 1 else kind_name
        self.format = self.export.kind or FORMAT_LIST

    def _measured(self, lines: Iterator[_Line]) -> Iterator[_Line]:
        """The lines, passed through while noting the widest: where PowerShell wrapped values."""
        for line in lines:
            self._wrap_width = max(self._wrap_width, cell_width(line.text))
            self._trailing_kept = self._trailing_kept or line.text.endswith((" ", "\t"))
            yield line

    @property
    def encoding(self) -> str:
        return self.export.encoding

    @property
    def problems(self) -> list[InputProblem]:
        return self.export.problems

    @property
    def lossy_columns(self) -> dict[str, str]:
        return self.export.lossy_columns

    def __iter__(self) -> Iterator[Record]:
        export, display = self.export, self.export.path
        export.count = 0
        for index, block in enumerate(_blocks(_lines(self._text))):
            kind = _kind_of(block)
            if _PROMPT.match(block[0].text):  # blocks put each prompt line on its own
                line = block[0]
                export.problems.append(InputProblem(display, line.number, f"prompt line skipped: {line.text.strip()}"))
            elif kind == FORMAT_TABLE:
                _read_table(export, block)
            elif kind == FORMAT_LIST:
                _read_list_record(export, block, self._wrap_width, self._trailing_kept, last=index == self._blocks - 1)
            else:
                for line in block:
                    text = line.text.strip()[:80]
                    export.problems.append(
                        InputProblem(display, line.number, f"not part of a list or table, ignored: {text}")
                    )
            yield from export.records
            export.records.clear()
