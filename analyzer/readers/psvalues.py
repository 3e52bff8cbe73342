"""Python forms of PowerShell serialized values that have no exact built-in equivalent.

The readers produce these; the dataset layer turns them into column values. Plain Python types are used
wherever they are exact: str, bool, int, float, Decimal, bytes, UUID, None.
"""

from __future__ import annotations

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
