"""Python forms of PowerShell serialized values that have no exact built-in equivalent.

The readers produce these; the dataset layer turns them into column values. Plain Python types are used
wherever they are exact: str, bool, int, float, Decimal, bytes, UUID, None.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

DateTimeKind = Literal["Utc", "Local", "Unspecified"]

TICKS_PER_MICROSECOND = 10


@dataclass(frozen=True, slots=True)
class PSDateTime:
    """A .NET DateTime: `value` is aware for Utc/Local (Local keeps the writer's offset), naive for Unspecified.

    .NET has 100 ns ticks; Python stops at microseconds, so the seventh fraction digit is kept in `extra_ticks`.
    """

    value: datetime
    kind: DateTimeKind
    extra_ticks: int = 0

    def isoformat(self) -> str:
        """The .NET round-trip form (`o`): seven fraction digits trimmed of trailing zeros, then Z or the offset."""
        fraction = f"{self.value.microsecond * TICKS_PER_MICROSECOND + self.extra_ticks:07d}".rstrip("0")
        v = self.value  # strftime("%Y") does not zero-pad years below 1000 on every platform
        text = f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        text += f".{fraction}" if fraction else ""
        if self.kind == "Utc":
            return text + "Z"
        if self.kind == "Local" and self.value.utcoffset() is not None:
            offset = self.value.strftime("%z")
            return f"{text}{offset[:3]}:{offset[3:]}"
        return text


@dataclass(frozen=True, slots=True)
class PSTimeSpan:
    """A .NET TimeSpan, exact to the 100 ns tick."""

    ticks: int

    @property
    def value(self) -> timedelta:
        return timedelta(microseconds=self.ticks // TICKS_PER_MICROSECOND)


@dataclass(frozen=True, slots=True)
class PSEnum:
    """An enum value: its name as PowerShell prints it and its underlying integer.

    For a flags enum `name` is comma-space joined (`ReadOnly, Archive`) and `value` is the OR of the flags.
    """

    type_name: str
    name: str
    value: int

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.name.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class PSSecureString:
    """A SecureString. Its bytes are never decoded, logged or exported; only its presence is kept."""

    def __str__(self) -> str:
        return "<SecureString>"


class PSList(list[Any]):
    """A serialized list, array, IEnumerable, stack or queue, keeping the .NET type names it was written with."""

    __slots__ = ("kind", "type_names")

    def __init__(self, type_names: tuple[str, ...] = (), kind: str = "LST") -> None:
        super().__init__()
        self.type_names = type_names
        self.kind = kind


class PSDict(list[tuple[Any, Any]]):
    """A serialized dictionary as ordered (key, value) pairs: keys need not be hashable or unique."""

    __slots__ = ("type_names",)

    def __init__(self, type_names: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.type_names = type_names


@dataclass(eq=False, slots=True)
class PSObject:
    """A complex object below the top level. Mutable and compared by identity, so back-references and cycles
    resolve to the very same object, as in PowerShell."""

    type_names: tuple[str, ...]
    to_string: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    deserialized: bool = False

    def __str__(self) -> str:
        return self.to_string if self.to_string is not None else (self.type_names[0] if self.type_names else "")


def format_timespan(ticks: int) -> str:
    """.NET's constant TimeSpan format: `[-][d.]hh:mm:ss[.fffffff]`."""
    sign = "-" if ticks < 0 else ""
    seconds, fraction = divmod(abs(ticks), 10_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    text = f"{sign}{f'{days}.' if days else ''}{hour:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{fraction:07d}" if fraction else text


def display(value: Any, limit: int = 4) -> str:
    """A short human form, close to what Format-List prints: collections as `{a, b, c...}`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, PSEnum):
        return value.name
    if isinstance(value, PSDateTime):
        return value.isoformat()
    if isinstance(value, PSTimeSpan):
        return format_timespan(value.ticks)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, PSDict):
        items = [f"[{display(k)}, {display(v)}]" for k, v in value[:limit]]
        return "{" + ", ".join(items) + ("..." if len(value) > limit else "") + "}"
    if isinstance(value, list):
        items = [display(item) for item in value[:limit]]
        return "{" + ", ".join(items) + ("..." if len(value) > limit else "") + "}"
    if isinstance(value, dict):
        return "{" + "; ".join(f"{k}={display(v)}" for k, v in list(value.items())[:limit]) + "}"
    return str(value)


def to_plain(value: Any, _seen: set[int] | None = None) -> Any:
    """A JSON-compatible form that loses nothing a reader of the JSON needs.

    Shared objects are written out once per call and then referred to by their string form, so a hostile file
    whose objects reference each other many times cannot make the output grow exponentially; cycles likewise.
    """
    seen = set() if _seen is None else _seen
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, PSEnum):
        return {"enum": value.name, "value": value.value}
    if isinstance(value, PSDateTime):
        return value.isoformat()
    if isinstance(value, PSTimeSpan):
        return format_timespan(value.ticks)
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, PSSecureString):
        return str(value)
    if isinstance(value, (PSObject, list, dict)):
        if id(value) in seen:
            return {"same_as": display(value)}
        seen.add(id(value))
        if isinstance(value, PSObject):
            plain: dict[str, Any] = {"type": value.type_names[0] if value.type_names else None}
            if value.to_string is not None:
                plain["to_string"] = value.to_string
            if value.value is not None:
                plain["value"] = to_plain(value.value, seen)
            if value.properties:
                plain["properties"] = {k: to_plain(v, seen) for k, v in value.properties.items()}
            return plain
        if isinstance(value, PSDict):
            return [[to_plain(k, seen), to_plain(v, seen)] for k, v in value]
        if isinstance(value, dict):
            return {str(k): to_plain(v, seen) for k, v in value.items()}
        return [to_plain(item, seen) for item in value]
    return str(value)  # Decimal, UUID and other exact scalars: their canonical text
