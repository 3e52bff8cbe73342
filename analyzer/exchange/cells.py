"""How one cell of an export becomes a typed value: text, integers, booleans, dates, lists and enum names (dates
written in a culture are finished by `dates`, once their file's order is known). Each parser takes whatever a
reader produced (a CLIXML primitive, a PSObject, the text of a CSV or Format-List cell) and raises ValueError
with the reason when the value cannot be what its column holds; the normaliser turns that into a located,
unreadable cell.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from analyzer.exchange import values as v
from analyzer.exchange.dates import LocalText, in_range
from analyzer.readers.psvalues import PSDateTime, PSObject
from analyzer.readers.text import parse_collection

Parser = Callable[[Any], Any]


def as_text(value: Any) -> str | None:
    """A single value as the shell shows it. An object or list of values here is refused rather than shown as
    Python would print it: ConvertTo-Json writes an Exchange value type it does not know as the object of its
    properties, and that text would silently never match anything."""
    if type(value) is str:  # the common case first: most cells are plain strings
        return value
    if isinstance(value, dict):
        names = ", ".join(list(value)[:6])
        raise ValueError(
            f"an object with the properties {names} where one value was expected (written by "
            "ConvertTo-Json for a type it does not know); export with Export-Clixml to keep it whole"
        )
    if isinstance(value, list):
        raise ValueError(f"a list of {len(value)} values where one value was expected")
    return v.text_of(value)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # what a column of nullable 64-bit integers holds


def as_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value  # a <U64> may still be past what Int64 holds
    else:
        text = (v.text_of(value) or "").strip().replace(",", "")
        if text == "":
            return None
        number = int(text)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise ValueError(f"{number} is outside the range of a 64-bit integer")
    return number


def as_datetime(value: Any) -> datetime | LocalText | None:
    """An aware UTC datetime from a value that carries its moment (CLIXML, JSON, ISO 8601 text with an offset);
    text without a zone (what Export-Csv and Format-List write, in the exporting culture and local time) comes
    back as `LocalText`, made a moment once its file's day/month order is decided (`dates.resolve`)."""
    if value is None:
        return None
    if isinstance(value, PSDateTime):
        value = value.value
    if isinstance(value, datetime):
        try:
            return in_range(value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))
        except OverflowError:  # year 1 or 9999 moved across midnight by its offset
            raise ValueError(f"{value!s} is outside the dates exaudit can compare (1678 to 2262)") from None
    text = (v.text_of(value) or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)  # ISO 8601, `Z` included
    except ValueError:
        return LocalText(text)
    return in_range(parsed.astimezone(UTC)) if parsed.tzinfo else LocalText(text)


def as_text_list(value: Any) -> list[str] | None:
    """A multi-valued property as a list of strings."""
    if value is None:
        return None
    if isinstance(value, list):
        return [v.text_of(item) or "" for item in value]
    if isinstance(value, PSObject) and isinstance(value.value, list):
        return [v.text_of(item) or "" for item in value.value]
    text = (v.text_of(value) or "").strip()
    parsed, _truncated = parse_collection(text)
    if isinstance(parsed, list):
        return parsed
    return [] if text == "" else [text]


def flags_list(spec: v.EnumSpec) -> Parser:
    """A flags enum as the list of its names (`["IMAP", "POP", "IIS", "SMTP"]`), for `contains` conditions."""

    def parse(value: Any) -> list[str] | None:
        if isinstance(value, list):  # some exports list the flags
            value = ", ".join(v.text_of(item) or "" for item in value)
        name = spec.parse(value)
        return None if name is None else [part for part in name.split(", ") if part and part != "None"]

    return parse
