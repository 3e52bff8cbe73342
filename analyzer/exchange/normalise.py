"""Records of one file → rows of canonical columns, per dataset, with provenance and the object's own server.

Every cell is parsed by its column's parser. A cell the export did not really keep (a lossy value) or could not
be read is left empty and said so: the column is marked lossy, or a problem names the file, line and reason.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from analyzer.errors import InputError
from analyzer.exchange import servers
from analyzer.exchange.catalog import (
    BY_NAME,
    DATASETS,
    NO_TYPE_NAME,
    Column,
    DatasetSpec,
    may_recognise_by_values,
    recognise,
    recognise_by_values,
)
from analyzer.exchange.certificates import certificate_properties
from analyzer.exchange.dates import DateSettings, DeferredDate, Fallback, LocalText, resolve
from analyzer.exchange.values import text_of
from analyzer.model import InputProblem, Record

# Derived columns every dataset frame has, besides its canonical ones.
PROVENANCE_COLUMNS = ("identity", "server_name", "attributed_by", "source_file", "source_line", "source_index")
# Properties that attribute an object to its server, read even when no dataset column wants them.
_ATTRIBUTION_PROPERTIES = (
    "Server",
    "Identity",
    "DistinguishedName",
    "ServerFqdn",
    "Fqdn",
    "MachineName",
    "PSComputerName",
)
MAX_PROBLEMS_PER_COLUMN = 20


@functools.cache
def projection() -> frozenset[str]:
    """Every property name any dataset reads: what the CLIXML reader needs to decode, nothing more."""
    names = {name for spec in DATASETS for column in spec.columns for name in (column.name, *column.aliases)}
    names.update(name for spec in DATASETS for signature in spec.signatures for name in signature)
    names.update(_ATTRIBUTION_PROPERTIES)
    names.update({"RawData", "SerializationData", "Services", "Status", "SystemName", "State", "StartMode"})
    names.add("ProtocolName")  # recognises a Select-Object subset of POP/IMAP settings (recognise_by_values)
    return frozenset(names)


# Rows are kept as column lists until this many, then turned into a typed frame (pyarrow strings, nullable
# booleans): a Python object per cell costs ~10× the typed cell, and at 500,000 mailboxes that decides the peak.
CHUNK_ROWS = 8_192
_DTYPES: dict[str, Any] = {"boolean": pd.BooleanDtype(), "Int64": pd.Int64Dtype(), "string": pd.StringDtype(),
                           "Float64": pd.Float64Dtype()}  # fmt: skip


def typed_values(dtype: str, values: Sequence[Any]) -> Any:
    """Parsed cells as a column of `dtype`: nullable booleans and integers, pyarrow strings, UTC datetimes; for
    "object" (lists and the like) whatever a frame infers. Built directly, without a Series to convert: on the
    few rows of a settings file, the Series cost more than the typing."""
    if dtype in _DTYPES:
        return pd.array(values, dtype=_DTYPES[dtype])
    if dtype.startswith("datetime64"):
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True).array
    if dtype == "int64":
        return np.asarray(values, dtype=np.int64)
    return pd.Series(values).array


_PROVENANCE_DTYPES = dict.fromkeys(PROVENANCE_COLUMNS, "string") | {"source_line": "int64", "source_index": "int64"}


def _typed(dtype: str, values: Any) -> Any:
    # An ExtensionArray came from `typed_values` already (a datetime column too: not converted a second time).
    return values if isinstance(values, ExtensionArray) else typed_values(dtype, values)


def typed_frame(spec: DatasetSpec, columns: Mapping[str, Any]) -> pd.DataFrame:
    """A frame of the spec's canonical and provenance columns, each with its dtype: from lists of parsed cells,
    or from columns already typed (`typed_values`), which stay as they are. Each column is typed before the
    frame is made: a column set into a frame costs more than the typing itself for the small files."""
    dtypes = {column.name: column.dtype for column in spec.columns} | _PROVENANCE_DTYPES
    return pd.DataFrame({name: _typed(dtypes[name], values) for name, values in columns.items()})


@dataclass
class RowBatch:
    """The rows one file contributes to one dataset, stored column-wise and compacted as they come."""

    spec: DatasetSpec
    lossy: dict[str, str] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    count: int = 0
    type_names: set[str] = field(default_factory=set)  # for records of no dataset: what they were
    deferred_dates: list[DeferredDate] = field(default_factory=list)  # culture dates, read once the file is
    local_time: dict[str, str] = field(default_factory=dict)  # date columns left in local time, and why
    exported: set[str] = field(default_factory=set)  # canonical columns some record of the file carried at all
    date_order: str | None = None  # how the file's day/month order was decided, when its dates needed one
    _path: str = ""  # the file, once `summarise` has named it
    _problem_counts: dict[str, int] = field(default_factory=dict)
    _problem_columns: list[str] = field(default_factory=list)  # the column of each kept problem, in order
    _names: tuple[str, ...] = ()
    _open: list[tuple[Any, ...]] = field(default_factory=list)  # rows not yet typed, as tuples in _names order
    _frames: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._names = (*(c.name for c in self.spec.columns), *PROVENANCE_COLUMNS)
        self._pick = operator.itemgetter(*self._names)
        self.template: dict[str, Any] = dict.fromkeys(self._names)  # a new row starts as a copy: every key present

    def append(self, row: dict[str, Any]) -> None:
        """A row made from `template` (so it has every column)."""
        self._open.append(self._pick(row))
        self.count += 1
        if len(self._open) >= CHUNK_ROWS:
            self._compact()

    def _columns(self) -> dict[str, list[Any]]:
        columns = [list(values) for values in zip(*self._open, strict=True)] or [[] for _ in self._names]
        return dict(zip(self._names, columns, strict=True))

    def _compact(self) -> None:
        if self._open:
            self._frames.append(typed_frame(self.spec, self._columns()))
            self._open = []

    def frame(self) -> pd.DataFrame:
        """Every row so far as one typed frame (call once reading is done); culture dates not yet resolved by
        the bundle are resolved from the file's own evidence."""
        if self.deferred_dates:
            self.resolve_dates(self._path, None)
        self._compact()
        if not self._frames:
            return typed_frame(self.spec, self._columns())
        frame = self._frames[0] if len(self._frames) == 1 else pd.concat(self._frames, ignore_index=True)
        self._frames = [frame]
        return frame

    def resolve_dates(self, path: str, settings: DateSettings | None, fallback: Fallback | None = None) -> None:
        """Make the file's culture dates moments (`dates.resolve`) and put them in their rows."""
        deferred, self.deferred_dates = self.deferred_dates, []
        if not deferred:
            return
        resolution = resolve(deferred, path, settings, fallback)
        for column, line, message in resolution.problems:
            where = f"{self.spec.name}.{column}: " if column else ""
            self.problem(column or "(dates)", InputProblem(path, line, f"{where}{message}"))
        for column, reason in resolution.lossy.items():
            self.lossy.setdefault(column, reason)
        for column, reason in resolution.local_time.items():
            self.local_time.setdefault(column, reason)
        self.date_order = resolution.order
        if resolution.values:
            self._compact()
            frame = self._frames[0] if len(self._frames) == 1 else pd.concat(self._frames, ignore_index=True)
            for column in {column for column, _index in resolution.values}:
                found = {index: moment for (name, index), moment in resolution.values.items() if name == column}
                moments = pd.to_datetime(frame["source_index"].map(found), utc=True)
                frame[column] = moments.where(moments.notna(), frame[column])
            self._frames = [frame]

    def problem(self, column: str, problem: InputProblem) -> None:
        """Record a cell problem; after a few per column, only count, so one bad column cannot flood a report."""
        count = self._problem_counts.get(column, 0) + 1
        self._problem_counts[column] = count
        if count <= MAX_PROBLEMS_PER_COLUMN:
            self.problems.append(problem)
            self._problem_columns.append(column)

    def append_columns(self, columns: Mapping[str, Any], count: int) -> None:
        """`count` rows given column by column (every canonical and provenance column)."""
        self._compact()
        self._frames.append(typed_frame(self.spec, columns))
        self.count += count

    def take_frames(self) -> list[pd.DataFrame]:
        """The rows so far as typed frames, handed over: the batch keeps its counts and problems, not its rows."""
        self._compact()
        frames, self._frames = self._frames, []
        return frames

    def append_frame(self, frame: pd.DataFrame, index_offset: int) -> None:
        """Rows of a later part of the file (counted by `absorb`), their record indices moved on by the offset."""
        if len(frame):
            self._compact()
            self._frames.append(frame.assign(source_index=frame["source_index"] + index_offset))

    def absorb(self, later: RowBatch, index_offset: int) -> None:
        """Append the rows that a later part of the same file gave, its record indices counted from
        `index_offset`: the result is what reading the file in one go would have given (before `summarise`).
        Rows `later` no longer holds (`take_frames`) follow with `append_frame`."""
        for frame in later.take_frames():
            self.append_frame(frame, index_offset)
        self.deferred_dates.extend(replace(d, index=d.index + index_offset) for d in later.deferred_dates)
        self.count += later.count
        self.type_names |= later.type_names
        self.exported |= later.exported
        for column, reason in later.lossy.items():
            self.lossy.setdefault(column, reason)
        for column, problem in zip(later._problem_columns, later.problems, strict=True):
            self.problem(column, problem)
        for column, count in later._problem_counts.items():  # those it counted without keeping
            self._problem_counts[column] += count - min(count, MAX_PROBLEMS_PER_COLUMN)

    def unreadable(self) -> dict[str, str]:
        """Each column with unreadable cells, and its first one as a located problem."""
        first: dict[str, str] = {}
        for column, problem in zip(self._problem_columns, self.problems, strict=True):
            if column not in first:
                where = f"{problem.path}:{problem.line}" if problem.line else problem.path
                first[column] = f"{problem.message.removeprefix(f'{self.spec.name}.{column}: ')} (first at {where})"
        return first

    def summarise(self, path: str) -> None:
        """Once the file is read: one problem per column for the cell problems beyond those kept."""
        self._path = path
        for column, count in self._problem_counts.items():
            if count > MAX_PROBLEMS_PER_COLUMN:
                self.problems.append(
                    InputProblem(
                        path, 0, f"{self.spec.name}.{column}: {count - MAX_PROBLEMS_PER_COLUMN} more unreadable cells"
                    )
                )
                self._problem_columns.append(column)

    # Sent between processes by dataset name: a spec holds the column parsers, which belong to this process.
    def __getstate__(self) -> dict[str, Any]:
        self._compact()
        state = {name: value for name, value in self.__dict__.items() if name not in ("spec", "_pick", "template")}
        return {**state, "spec": self.spec.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        name = state.pop("spec")
        self.__dict__.update(state)
        self.spec = BY_NAME[name] if name else DatasetSpec("", "", (), (), (), ())
        self.__post_init__()


@dataclass
class FileRead:
    """The rows one file gave, per dataset, its record count, and the damage that stopped it, if any."""

    batches: dict[str, RowBatch] = field(default_factory=dict)
    records: int = 0
    damage: list[InputError] = field(default_factory=list)
    _offset: int = 0  # the record index where the part last joined starts

    def append_frame(self, name: str, frame: pd.DataFrame) -> None:
        """A frame of the part last joined, sent after it."""
        self.batches[name].append_frame(frame, self._offset)

    def add(self, records: Iterator[Record], path: str, fmt: str) -> None:
        """Read `records` to their end or to damage, appending their rows after those already here. Their
        record indices are taken as they are: a reader that goes on to a later part goes on counting."""
        counted = _Counter(records, self.damage)
        for name, batch in normalise(counted, path=path, fmt=fmt):
            if name in self.batches:
                self.batches[name].absorb(batch, 0)
            else:
                self.batches[name] = batch
        self.records += counted.count
        self._unknown_last()

    def join(self, later: FileRead) -> None:
        """Append a later part's rows, whose record indices start at 0 (frames it no longer holds follow with
        `append_frame`)."""
        for name, batch in later.batches.items():
            if name in self.batches:
                self.batches[name].absorb(batch, self.records)
            else:
                shifted = RowBatch(batch.spec)
                shifted.absorb(batch, self.records)
                self.batches[name] = shifted
        self._offset = self.records
        self.records += later.records
        self.damage.extend(later.damage)
        self._unknown_last()

    def _unknown_last(self) -> None:
        """Records of no dataset stay after every dataset, as a read in one go has them (a later part may bring
        a dataset the earlier one did not have; found by fuzz/split_read.py)."""
        if "" in self.batches:
            self.batches[""] = self.batches.pop("")


class _Counter:
    """The records until damage: damage ends the stream and is kept; the records before it are not lost."""

    def __init__(self, records: Iterator[Record], damage: list[InputError]) -> None:
        self._records = records
        self._damage = damage
        self.count = 0

    def __iter__(self) -> Iterator[Record]:
        try:
            for record in self._records:
                self.count += 1
                yield record
        except InputError as error:
            self._damage.append(error)


def read_whole(records: Iterator[Record], path: str, fmt: str) -> FileRead:
    read = FileRead()
    read.add(records, path, fmt)
    return read


@dataclass(frozen=True)
class Plan:
    """Where each canonical column, server field and identity comes from, for one set of property names:
    resolved once per distinct set (an export has one or a few), not once per record."""

    columns: tuple[tuple[Column, str], ...]  # (column, the record's property that feeds it)
    server_fields: tuple[tuple[str, str], ...]  # (field as the catalog names it, the record's property)
    identity: tuple[tuple[str, bool], ...]  # (column name, True) or (property name, False)


def plan_for(spec: DatasetSpec, names: Iterable[str]) -> Plan:
    actual: dict[str, str] = {}
    for name in names:
        actual[name.lower()] = name  # as a dict comprehension would: the last spelling wins
    columns = []
    for column in spec.columns:
        source = next((actual[n.lower()] for n in (column.name, *column.aliases) if n.lower() in actual), None)
        if source is not None:
            columns.append((column, source))
    fields = spec.server_fields + (("PSComputerName",) if spec.run_on_server else ())
    found = {column.name for column, _source in columns}
    identity = tuple(
        (name, True) if name in found else (actual[name.lower()], False)
        for name in spec.identity
        if name in found or name.lower() in actual
    )
    return Plan(tuple(columns), tuple((f, actual[f.lower()]) for f in fields if f.lower() in actual), identity)


def own_server(fields: tuple[tuple[str, str], ...], properties: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The server an object names itself, and which field said so; PSComputerName only for output that ran
    on the server itself (the plan leaves it out otherwise)."""
    for name, source in fields:
        text = text_of(properties.get(source))
        if not text:
            continue
        if name == "Identity":
            found = servers.server_from_identity(text)
        elif name == "DistinguishedName":
            found = servers.server_from_distinguished_name(text)
        elif name == "MachineName" and text.strip() in (".", "localhost"):
            found = None
        else:
            found = text
        if found and servers.server_key(found):
            return found, name
    return None, None


# .NET strings may hold a lone UTF-16 surrogate (PowerShell writes it as `_xD800_`, JSON as `\ud800`); the readers
# keep it, but no UTF-8 table or report can: it is shown as U+FFFD and said so.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE = "a lone UTF-16 surrogate (half of a character) is shown as U+FFFD"
_MAY_HOLD_SURROGATES = (str, list)


def storable(value: Any) -> bool:
    """Whether UTF-8 can hold the value (a string, or a list of them, without a lone surrogate)."""
    if type(value) is str:
        return value.isascii() or _LONE_SURROGATE.search(value) is None
    return all(storable(item) for item in value) if type(value) is list else True


def all_storable(texts: Iterable[str]) -> bool:
    """Whether UTF-8 can hold every one of these strings: one search over them all, in C."""
    joined = "".join(texts)
    return joined.isascii() or _LONE_SURROGATE.search(joined) is None


def replace_surrogates(value: Any) -> Any:
    if type(value) is str:
        return _LONE_SURROGATE.sub("\ufffd", value)
    return [replace_surrogates(item) for item in value] if type(value) is list else value


def storable_text(text: str | None) -> str | None:
    """The text with any lone surrogate shown as U+FFFD (a derived column: its source cell says so)."""
    return text if text is None or storable(text) else replace_surrogates(text)


_LOWERED_IDENTITIES = frozenset({"Guid", "Thumbprint", "PrimarySmtpAddress"})  # the same whatever their case


def first_identity(candidates: Iterable[tuple[str, Any]]) -> str | None:
    """The first (field, value) with text, as the identity column holds it."""
    for name, value in candidates:
        text = text_of(value)
        if text:
            return text.lower() if name in _LOWERED_IDENTITIES else text
    return None


def _identity(plan: Plan, row: dict[str, Any], properties: Mapping[str, Any]) -> str | None:
    return first_identity((name, row.get(name) if column else properties.get(name)) for name, column in plan.identity)


def normalise(records: Iterable[Record], *, path: str, fmt: str) -> Iterator[tuple[str, RowBatch]]:
    """Rows per dataset for the records of one file (or part of one: call `summarise` on each batch once the
    whole file is read). Records of no known dataset are counted under ''."""
    batches: dict[str, RowBatch] = {}
    recognised: dict[tuple[tuple[str, ...], frozenset[str]], DatasetSpec | bool] = {}  # True: by its values
    plans: dict[tuple[str, tuple[str, ...]], Plan] = {}
    unknown = RowBatch(DatasetSpec("", "", (), (), (), ()))
    for record in records:
        key = (record.type_names, frozenset(record.properties))
        if key not in recognised:
            names = list(record.properties)
            recognised[key] = recognise(record.type_names, names) or may_recognise_by_values(names)
        found = recognised[key]
        spec = found if isinstance(found, DatasetSpec) else recognise_by_values(record.properties) if found else None
        if spec is None:
            unknown.count += 1
            unknown.type_names.add(record.type_name or NO_TYPE_NAME)
            continue
        batch = batches.get(spec.name)
        if batch is None:
            batch = batches[spec.name] = RowBatch(spec)
        batch.append(_row(spec, record, batch, path, plans))
    yield from batches.items()
    if unknown.count:
        yield "", unknown


def _row(
    spec: DatasetSpec, record: Record, batch: RowBatch, path: str, plans: dict[tuple[str, tuple[str, ...]], Plan]
) -> dict[str, Any]:
    properties = record.properties
    if spec.name == "exchange_certificate":
        try:
            properties = certificate_properties(dict(properties))
        except (ValueError, KeyError, TypeError, IndexError) as error:  # nrbf and cryptography raise these
            batch.problem(
                "RawData", InputProblem(path, record.source.line, f"certificate could not be decoded: {error}")
            )
    names = tuple(properties)
    plan = plans.get((spec.name, names))
    if plan is None:
        plan = plans[(spec.name, names)] = plan_for(spec, names)
        batch.exported.update(column.name for column, _source in plan.columns)
    lossy = {name.lower(): reason for name, reason in record.lossy.items()} if record.lossy else None
    row = batch.template.copy()
    deferred: list[tuple[str, str]] = []
    for column, source in plan.columns:
        if lossy is not None:
            reason = lossy.get(source.lower())
            if reason is not None:
                batch.lossy.setdefault(column.name, f"{reason} (first at {path}:{record.source.line})")
                continue
        try:
            value = column.parse(properties[source])
        except ValueError as error:
            batch.problem(column.name, InputProblem(path, record.source.line, f"{spec.name}.{column.name}: {error}"))
            continue
        if type(value) is LocalText:  # a culture-written date: its file's day/month order decides it
            deferred.append((column.name, value.text))
            continue
        if type(value) in _MAY_HOLD_SURROGATES and not storable(value):
            value = replace_surrogates(value)
            batch.problem(
                column.name, InputProblem(path, record.source.line, f"{spec.name}.{column.name}: {LONE_SURROGATE}")
            )
        row[column.name] = value
    server_name, attributed_by = own_server(plan.server_fields, properties) if spec.per_server else (None, None)
    row["identity"] = storable_text(_identity(plan, row, properties))
    for name, text in deferred:
        batch.deferred_dates.append(DeferredDate(name, record.source.index, record.source.line, row["identity"], text))
    row["server_name"] = storable_text(server_name)
    row["attributed_by"] = attributed_by
    row["source_file"] = path
    row["source_line"] = record.source.line
    row["source_index"] = record.source.index
    return row
