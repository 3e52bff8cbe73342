"""Small immutable records shared by every stage. Imports nothing else from the package."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record came from: the file, the 1-based line its object starts on, and its 0-based position."""

    path: str
    line: int
    index: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Record:
    """One top-level object of an export, whatever the file format.

    `type_names` are most specific first with every leading `Deserialized.` removed; `deserialized` keeps
    the flavour (the object came through a remote session). `properties` merges adapted and extended
    members (extended ones win, as in PowerShell's member lookup) and keeps the file's order.
    `value` holds the payload of a top-level primitive, container or extended primitive.
    """

    type_names: tuple[str, ...]
    to_string: str | None
    properties: Mapping[str, Any]
    source: SourceRef
    deserialized: bool = False
    value: Any = None
    stream: str | None = None
    # Property name → why its value here is incomplete (a collection flattened to its type name, a list cut
    # off by Format-List, …). A rule must not pass on such a value.
    lossy: Mapping[str, str] = field(default_factory=dict)

    @property
    def type_name(self) -> str | None:
        return self.type_names[0] if self.type_names else None


Codes = np.ndarray[Any, np.dtype[np.intp]]


@dataclass(frozen=True, slots=True)
class CodedColumn:
    """One column of consecutive rows as codes into its distinct values, -1 where the cell is missing. An
    Exchange export repeats `True`, `False` and a few server names down a column, so each distinct value is
    held, and later parsed, once."""

    codes: Codes
    values: Sequence[Any]

    def value_at(self, row: int) -> Any:
        code = int(self.codes[row])
        return None if code < 0 else self.values[code]

    def tolist(self) -> list[Any]:
        lookup = (*self.values, None)  # code -1 indexes the last entry: a missing cell is None
        return [lookup[code] for code in self.codes.tolist()]


@dataclass(frozen=True, slots=True)
class ColumnSlice:
    """Consecutive rows of a table-shaped export (Export-Csv), each column coded by its distinct values: the
    same records, handed over a column at a time so they can be normalised a column at a time.

    `first` is the record index of the first row; `lossy` names the columns whose non-empty cells are not the
    whole value (see `Record.lossy`)."""

    path: str
    type_names: tuple[str, ...]
    deserialized: bool
    first: int
    lines: list[int]
    columns: dict[str, CodedColumn]
    lossy: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)

    def records(self) -> Iterator[Record]:
        names = list(self.columns)
        cells = [column.tolist() for column in self.columns.values()]
        for offset, values in enumerate(zip(*cells, strict=True)):
            properties = dict(zip(names, values, strict=True))
            lossy = {name: reason for name, reason in self.lossy.items() if properties.get(name) is not None}
            source = SourceRef(self.path, self.lines[offset], self.first + offset)
            yield Record(self.type_names, None, properties, source, self.deserialized, lossy=lossy)


@dataclass(frozen=True, slots=True)
class InputProblem:
    """Something in an input that a reader could not take at face value, without stopping the read."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


# not_evaluated: the data a rule needs is missing; not_reviewed: a person's judgement or the site's value is.
OUTCOMES = ("pass", "fail", "not_evaluated", "not_reviewed", "not_applicable", "error", "waived")
# Where several outcomes make one (the parts of a check, a server's findings, the rules of a control): worst first.
WORST_FIRST = ("fail", "error", "not_evaluated", "not_reviewed", "waived", "pass", "not_applicable")


def worst(outcomes: Iterable[str]) -> str:
    """The worst of the outcomes; one this order does not know counts as worst of all."""
    return min(outcomes, key=lambda outcome: WORST_FIRST.index(outcome) if outcome in WORST_FIRST else -1)


class Finding(NamedTuple):
    """One object a rule judged badly (`fail`) or could not judge (`not_evaluated`). A NamedTuple: immutable, and
    cheap to build by the hundred thousand (a row rule over a large organisation).

    `fingerprint` identifies the same finding in a later export of the same state: rule, dataset, server key and
    object identity — never a file name or line number.
    """

    fingerprint: str
    rule_id: str
    outcome: str
    object: str
    server: str | None
    dataset: str
    field: str
    observed: str
    expected: str
    message: str
    remediation: str | None
    source_file: str | None
    source_line: int | None
    message_ja: str | None = None  # the rule's Japanese message, when it has one
    object_key: str | None = None  # the object's own identity across runs (fingerprints.object_key)
    waiver: str | None = None  # the id of the waiver that accepted this failure (outcome "waived")
    observed_ja: str | None = None  # the observation in Japanese, where the engine words it (not a value read)


@dataclass(frozen=True, slots=True)
class RuleResult:
    """A rule's outcome over the bundle, with its findings and how many objects it looked at."""

    rule_id: str
    outcome: str
    reason: str | None
    findings: tuple[Finding, ...]
    evaluated: int = 0
    reason_ja: str | None = None  # the reason in Japanese, where the engine words it (values stay as read)
    scope: tuple[str, ...] = ()  # the servers the result speaks for (server keys)
    absent: tuple[str, ...] = ()  # those of them whose rows may be missing: none exported, or an input damaged
