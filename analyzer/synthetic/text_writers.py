"""Write objects the way PowerShell's Export-Csv, Format-List, Format-Table and ConvertTo-Json do
(input-formats.md §2–§4), for fixtures, the cross-format parity tests and the benchmarks.

Objects are (type names, properties) pairs whose values are the readers' Python forms (str, bool, int, None,
PSEnum, PSDateTime, UUID, lists, PSObject). The files carry no marker of their own: callers name them
`synthetic-…` and keep them apart from real exports.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal

from analyzer.readers.psvalues import PSDateTime, PSEnum, PSList, PSObject

Obj = tuple[Sequence[str], Mapping[str, Any]]
Culture = Literal["en-US", "ja-JP", "de-DE"]


def culture_datetime(value: PSDateTime, culture: Culture) -> str:
    """DateTime.ToString() in the current culture, as Export-Csv and Format-List print it."""
    v = value.value
    if culture == "ja-JP":
        return f"{v.year:04d}/{v.month:02d}/{v.day:02d} {v.hour}:{v.minute:02d}:{v.second:02d}"
    if culture == "de-DE":
        return f"{v.day:02d}.{v.month:02d}.{v.year:04d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    hour = v.hour % 12 or 12
    return f"{v.month}/{v.day}/{v.year:04d} {hour}:{v.minute:02d}:{v.second:02d} {'AM' if v.hour < 12 else 'PM'}"


def to_string(value: Any, culture: Culture = "en-US") -> str:
    """LanguagePrimitives' ToString of a scalar, as the text formats show it."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, PSEnum):
        return value.name
    if isinstance(value, PSDateTime):
        return culture_datetime(value, culture)
    if isinstance(value, PSObject):
        return value.to_string or ""
    return str(value)


def cells(text: str) -> int:
    """Display width: East Asian wide and full-width characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


# -- Export-Csv -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvStyle:
    delimiter: str = ","
    quotes: Literal["always", "as-needed"] = "always"
    type_line: bool = True  # Windows PowerShell writes #TYPE unless -NoTypeInformation
    culture: Culture = "en-US"


def _csv_cell(value: Any, style: CsvStyle) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):  # Export-Csv writes a collection's type name: its items are lost
        names = value.type_names if isinstance(value, PSList) and value.type_names else ("System.Object[]",)
        return names[0]
    return to_string(value, style.culture)


def _csv_quote(text: str | None, style: CsvStyle) -> str:
    if text is None:
        return ""  # $null: nothing between the delimiters, even with -UseQuotes Always
    needs = style.quotes == "always" or any(c in text for c in (style.delimiter, "\n", '"'))
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if needs else text


def export_csv(objects: Sequence[Obj], style: CsvStyle = CsvStyle()) -> str:
    """The text of an Export-Csv file (CRLF line ends); the caller chooses the encoding."""
    names = list(dict.fromkeys(name for _types, props in objects for name in props))
    lines: list[str] = []
    if style.type_line and objects:
        lines.append(f"#TYPE {objects[0][0][0]}")
    lines.append(style.delimiter.join(_csv_quote(name, style) for name in names))
    for _types, props in objects:
        lines.append(style.delimiter.join(_csv_quote(_csv_cell(props.get(name), style), style) for name in names))
    return "\r\n".join(lines) + "\r\n"


# -- Format-List ----------------------------------------------------------------------------------------------


def _list_value(value: Any, culture: Culture, limit: int, ellipsis: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        shown = [to_string(item, culture) for item in value[:limit]]
        return "{" + ", ".join(shown) + (ellipsis if len(value) > limit else "") + "}"
    return to_string(value, culture)


# Port of StringManipulationHelper.GenerateLines (PowerShell/PowerShell, src/System.Management.Automation/
# FormatAndOutput/common/ComplexWriter.cs; the same code in Windows PowerShell 5.1): Format-List word-wraps only
# when the current culture's two-letter language is one of these; every other culture is cut at the width.
WORD_WRAP_LANGUAGES = frozenset({"en", "fr", "de", "it", "pt", "es"})
_SOFT_HYPHEN, _HARD_HYPHEN, _NO_BREAK_SPACE = "\u00ad", "\u2011", "\u00a0"


def _words(line: str) -> list[tuple[str, str]]:
    """GetWords: (word, delimiter) pairs. Space, tab and soft hyphen break; a hard hyphen and a no-break space
    end a word with no delimiter (PowerShell drops them)."""
    words: list[tuple[str, str]] = []
    current = ""
    for char in line:
        if char in (" ", "\t", _SOFT_HYPHEN):
            words.append((current, char))
            current = ""
        elif char in (_HARD_HYPHEN, _NO_BREAK_SPACE):
            words.append((current, ""))
            current = ""
        else:
            current += char
    words.append((current, ""))
    return words


def _cut_lines(line: str, room: int) -> list[str]:
    """GenerateLinesWithoutWordWrap for one line: cut at `room` display cells, wherever that falls."""
    pieces: list[str] = []
    current, used = "", 0
    for char in line:
        width = cells(char)
        if used + width > room:
            pieces.append(current)
            current, used = "", 0
        current += char
        used += width
    pieces.append(current)
    return pieces


def _word_wrapped_lines(line: str, room: int) -> list[str]:
    """GenerateLinesWithWordWrap for one line: each word keeps its delimiter at its end; a word that does not fit
    starts a new line; a word wider than a whole line is cut a character at a time."""
    pieces: list[str] = []
    current, left = "", room
    for bare, delimiter in _words(line):
        # A soft hyphen shows as `-` only where the line breaks; space and tab stay at the word's end.
        shown = ("-" if cells(bare) + 1 == left else "") if delimiter == _SOFT_HYPHEN else delimiter
        word = bare + shown
        # A word that fits a line is placed whole; a longer one a character at a time.
        for part in word if cells(word) > room else (word,):
            size = cells(part)
            if size > left:
                pieces.append(current)
                current, left = part, room - size
            else:
                current += part
                left -= size
    pieces.append(current)
    return pieces


def generate_lines(value: str, room: int, *, word_wrap: bool) -> list[str]:
    """The physical lines of one Format-List value in a field of `room` cells, newlines inside it honoured."""
    lines: list[str] = []
    for line in value.replace("\r", "").split("\n"):
        if cells(line) <= room:
            lines.append(line)
        else:
            lines.extend(_word_wrapped_lines(line, room) if word_wrap else _cut_lines(line, room))
    return lines


def format_list(
    objects: Sequence[Obj],
    *,
    width: int | None = 120,
    ps7: bool = False,
    culture: Culture = "en-US",
    enumeration_limit: int = 4,
    wrap_language: str | None = None,
) -> str:
    """`Format-List * | Out-File`: labels padded to the widest label, ` : `, continuation lines indented.
    `width` None gives PowerShell 7's unwrapped list output. Long values are word-wrapped or cut as the
    culture's language (or `wrap_language`) makes PowerShell do it."""
    word_wrap = (wrap_language or culture[:2]) in WORD_WRAP_LANGUAGES
    ellipsis = "…" if ps7 else "..."
    out: list[str] = ["", ""]
    for _types, props in objects:
        label_width = max((cells(name) for name in props), default=0)
        indent = " " * (label_width + 3)
        for name, value in props.items():
            text = _list_value(value, culture, enumeration_limit, ellipsis)
            physical = generate_lines(text, width - label_width - 3, word_wrap=word_wrap) if width else text.split("\n")
            label = name + " " * (label_width - cells(name))
            out.append(f"{label} : {physical[0]}")
            out.extend(indent + rest for rest in physical[1:])
        out.append("")
    out.extend(["", ""])
    return "\r\n".join(out)


# -- Format-Table ---------------------------------------------------------------------------------------------


def format_table(
    objects: Sequence[Obj], columns: Sequence[str], *, width: int = 120, ps7: bool = False, culture: Culture = "en-US"
) -> str:
    """`Format-Table` output: one space between columns, numbers right-aligned, a dash row under the header,
    cells cut with an ellipsis when the columns do not fit the width."""
    ellipsis = "…" if ps7 else "..."
    rows = [[_list_value(props.get(name), culture, 4, ellipsis) for name in columns] for _types, props in objects]
    numeric = [
        all(isinstance(props.get(name), int) and not isinstance(props.get(name), bool) for _t, props in objects)
        for name in columns
    ]
    widths = [max([cells(name)] + [cells(row[i]) for row in rows]) for i, name in enumerate(columns)]
    while sum(widths) + len(widths) - 1 > width:  # shrink the widest column until the table fits
        widest = widths.index(max(widths))
        widths[widest] -= 1

    def fit(text: str, size: int, right: bool) -> str:
        if cells(text) > size:
            cut = ""
            for char in text:
                if cells(cut + char) > size - cells(ellipsis):
                    break
                cut += char
            text = cut + ellipsis
        pad = " " * (size - cells(text))
        return pad + text if right else text + pad

    def row(texts: Sequence[str]) -> str:
        return " ".join(fit(text, w, right) for text, w, right in zip(texts, widths, numeric, strict=True)).rstrip()

    lines = [row(columns), row(["-" * min(w, cells(name)) for name, w in zip(columns, widths, strict=True)])]
    lines.extend(row(cells_of_row) for cells_of_row in rows)
    return "\r\n" + "\r\n".join(lines) + "\r\n\r\n"


# -- ConvertTo-Json --------------------------------------------------------------------------------------------


def _json_value(value: Any, ps51: bool, depth: int) -> Any:
    if isinstance(value, PSEnum):
        return value.value  # enums become their number (Int64-based ones aside)
    if isinstance(value, PSDateTime):
        if ps51:
            milliseconds = (
                int(value.value.astimezone(UTC).timestamp() * 1000)
                if value.value.tzinfo
                else int(value.value.replace(tzinfo=UTC).timestamp() * 1000)
            )
            return f"/Date({milliseconds})/"
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        if depth <= 0:
            return " ".join(to_string(item) for item in value)
        return [_json_value(item, ps51, depth - 1) for item in value]
    if isinstance(value, PSObject):
        if depth <= 0:
            return value.to_string or ""
        return {k: _json_value(v, ps51, depth - 1) for k, v in value.properties.items()}
    return value


def convert_to_json(objects: Sequence[Obj], *, ps51: bool = True, depth: int = 2) -> str:
    """ConvertTo-Json of the objects: one object alone, several as an array. 5.1 writes `\\/Date(ms)\\/`."""
    documents = [{k: _json_value(v, ps51, depth) for k, v in props.items()} for _types, props in objects]
    payload: Any = documents[0] if len(documents) == 1 else documents
    text = json.dumps(payload, indent=4 if ps51 else 2, ensure_ascii=False, separators=(",", ":  " if ps51 else ": "))
    return text.replace('"/Date(', '"\\/Date(').replace(')/"', ')\\/"') if ps51 else text
