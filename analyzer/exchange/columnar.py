"""Rows of a table-shaped export (Export-Csv) normalised a column at a time: the same rows, problems and
lossy notes as `normalise` gives record by record, without a dict per record.

Every row of a CSV file has the same columns, so the dataset and the plan are decided once per slice, and each
cell is parsed once per distinct value of its column (an Exchange export repeats `True`, `False` and a handful
of server names hundreds of thousands of times). Problems are put in row order, as the record path finds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyzer.exchange.catalog import NO_TYPE_NAME, Column, DatasetSpec, may_recognise_by_values, recognise
from analyzer.exchange.cells import as_text
from analyzer.exchange.normalise import (
    LONE_SURROGATE,
    FileRead,
    Plan,
    RowBatch,
    all_storable,
    first_identity,
    normalise,
    own_server,
    plan_for,
    replace_surrogates,
    storable,
    storable_text,
    typed_values,
)
from analyzer.model import CodedColumn, Codes, ColumnSlice, InputProblem

# Parsed values that may be shared between cells: immutable, so one object can stand in many rows.
_SHAREABLE = (type(None), bool, int, float, str)


def read_table(slices: Iterable[ColumnSlice], path: str) -> FileRead:
    """A file's rows per dataset, as `read_whole` gives them for its records."""
    read = FileRead()
    for name, batch in normalise_slices(slices, path=path):
        read.batches[name] = batch
        read.records += batch.count
    return read


def normalise_slices(slices: Iterable[ColumnSlice], *, path: str) -> Iterator[tuple[str, RowBatch]]:
    batches: dict[str, RowBatch] = {}
    unknown = RowBatch(DatasetSpec("", "", (), (), (), ()))
    for piece in slices:
        spec = recognise(piece.type_names, list(piece.columns))
        if spec is None and not may_recognise_by_values(piece.columns):
            unknown.count += len(piece)
            unknown.type_names.add(piece.type_names[0] if piece.type_names else NO_TYPE_NAME)
            continue
        if spec is None:  # perhaps recognised by its values: record by record, as any other export
            for name, rows in normalise(piece.records(), path=path, fmt="csv"):
                target = unknown if name == "" else batches.setdefault(name, RowBatch(rows.spec))
                target.absorb(rows, 0)
            continue
        batch = batches.get(spec.name)
        if batch is None:
            batch = batches[spec.name] = RowBatch(spec)
        if spec.name == "exchange_certificate" or spec.has_dates:  # the record path decodes each certificate and
            # defers culture-written dates to the file's day/month order
            for _name, rows in normalise(piece.records(), path=path, fmt="csv"):
                batch.absorb(rows, 0)
            continue
        batch.append_columns(_columns(spec, piece, batch, path), len(piece))
    yield from batches.items()
    if unknown.count:
        yield "", unknown


def _columns(spec: DatasetSpec, piece: ColumnSlice, batch: RowBatch, path: str) -> dict[str, Any]:
    rows = len(piece)
    plan = plan_for(spec, list(piece.columns))
    batch.exported.update(column.name for column, _source in plan.columns)
    out: dict[str, Any] = {name: [None] * rows for name in batch.template}
    parsed: dict[str, _Parsed] = {}
    lossy = {name.lower(): reason for name, reason in piece.lossy.items()}
    problems: list[tuple[int, int, str, InputProblem]] = []
    for position, (column, source) in enumerate(plan.columns):
        coded = piece.columns[source]
        reason = lossy.get(source.lower())
        if reason is not None:
            present = np.flatnonzero(coded.codes >= 0)
            if len(present):
                batch.lossy.setdefault(column.name, f"{reason} (first at {path}:{piece.lines[present[0]]})")
        cells = parsed[column.name] = _Parsed.of(column, coded, skip_present=reason is not None)
        for row, message in cells.failures():
            problem = InputProblem(path, piece.lines[row], f"{spec.name}.{column.name}: {message}")
            problems.append((row, position, column.name, problem))
        out[column.name] = cells.typed()
    for _row, _position, name, problem in sorted(problems, key=lambda entry: entry[:2]):
        batch.problem(name, problem)
    if spec.per_server:
        out["server_name"], out["attributed_by"] = _servers(plan, piece)
    out["identity"] = _identities(plan, piece, parsed)
    out["source_file"] = [path] * rows
    out["source_line"] = np.asarray(piece.lines, dtype=np.int64)
    out["source_index"] = np.arange(piece.first, piece.first + rows, dtype=np.int64)
    return out


@dataclass(frozen=True)
class _Parsed:
    """A column's cells parsed once per distinct value: `values[code]` is what a row with that code holds (the
    last entry: a missing cell), `noted` why a code's cells are not as the file has them, `fresh` the codes
    whose value is mutable (a list), so that each row gets its own, as when cells are parsed one by one."""

    column: Column
    codes: Codes  # per row, into `values` (a missing cell: the last)
    values: list[Any]
    noted: dict[int, str]  # code → why its cells are not as the file has them (unreadable, a lone surrogate)
    fresh: dict[int, Any]  # code → the cell to parse again for each row with it

    @classmethod
    def of(cls, column: Column, coded: CodedColumn, *, skip_present: bool) -> _Parsed:
        """With `skip_present` (a lossy column), cells that hold something stay empty."""
        missing = len(coded.values)
        codes = np.where(coded.codes < 0, missing, coded.codes)
        noted: dict[int, str] = {}
        if column.parse is as_text and not skip_present:  # a text cell is its own value: nothing to parse
            texts = [*coded.values, None]
            for code, text in enumerate(coded.values) if not all_storable(coded.values) else ():
                if not storable(text):
                    texts[code], noted[code] = replace_surrogates(text), LONE_SURROGATE
            return cls(column, codes, texts, noted, {})
        values: list[Any] = [None] * (missing + 1)
        fresh: dict[int, Any] = {}
        for code, cell in enumerate((*coded.values, None)):
            if skip_present and code != missing:
                continue
            try:
                result = column.parse(cell)
            except ValueError as error:
                noted[code] = str(error)
                continue
            if not storable(result):  # a lone surrogate (a decoded CSV holds none; a parser's result is kept as is)
                result = replace_surrogates(result)
                noted[code] = LONE_SURROGATE
            values[code] = result
            if not isinstance(result, _SHAREABLE):
                fresh[code] = cell
        return cls(column, codes, values, noted, fresh)

    def failures(self) -> Iterator[tuple[int, str]]:
        """(row, reason) for each cell that could not be read as it is, in row order."""
        if self.noted:
            rows = np.flatnonzero(np.isin(self.codes, list(self.noted)))
            for row, code in zip(rows.tolist(), self.codes[rows].tolist(), strict=True):
                yield row, self.noted[code]

    def typed(self) -> Any:
        """The column as a frame takes it: each distinct value typed once (as `typed_frame` types cells), then
        taken per row."""
        if self.column.dtype == "object":  # left to the frame to infer, as for rows read one by one
            cells = _object_array(self.values)[self.codes].tolist()
            for row in np.flatnonzero(np.isin(self.codes, list(self.fresh))).tolist() if self.fresh else ():
                result = self.column.parse(self.fresh[int(self.codes[row])])
                cells[row] = result if storable(result) else replace_surrogates(result)
            return cells
        return typed_values(self.column.dtype, self.values).take(self.codes)


def _object_array(values: list[Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
    array = np.empty(len(values), dtype=object)  # filled one by one: a list value must not become a dimension
    for index, value in enumerate(values):
        array[index] = value
    return array


def _groups(columns: list[Codes], rows: int) -> tuple[Codes, list[int]]:
    """Rows grouped by their combination of codes: each row's group, and the first row of each group."""
    groups = np.zeros(rows, dtype=np.intp)
    for codes in columns:
        width = int(codes.max(initial=-1)) + 2  # codes run from -1
        groups, _ = pd.factorize(groups * width + codes + 1)  # renumbered: never more groups than rows
    _, first = np.unique(groups, return_index=True)
    return groups, first.tolist()


def _servers(plan: Plan, piece: ColumnSlice) -> tuple[list[Any], list[Any]]:
    """The server each row names itself, and which field said so: decided once per distinct combination."""
    sources = [source for _field, source in plan.server_fields]
    groups, first = _groups([piece.columns[source].codes for source in sources], len(piece))
    decided = [
        own_server(plan.server_fields, {source: piece.columns[source].value_at(row) for source in sources})
        for row in first
    ]
    names = _object_array([storable_text(name) for name, _field in decided])[groups].tolist()
    fields = _object_array([field for _name, field in decided])[groups].tolist()
    return names, fields


def _identities(plan: Plan, piece: ColumnSlice, parsed: dict[str, _Parsed]) -> list[str | None]:
    """Per row, the first identity field with text: a parsed column, or the export's own property. Each
    field's text is decided once per distinct value, then the first with text is picked row by row in numpy."""
    identities = np.full(len(piece), None, dtype=object)
    undecided = np.ones(len(piece), dtype=bool)
    for name, is_column in plan.identity:
        if not undecided.any():
            break
        source: _Parsed | CodedColumn = parsed[name] if is_column else piece.columns[name]
        values = source.values if is_column else [*source.values, None]  # a coded column's -1: the last
        codes = np.where(source.codes < 0, len(values) - 1, source.codes)
        texts = np.full(len(values), None, dtype=object)
        for code in np.unique(codes[undecided]).tolist():  # only the values some undecided row holds
            texts[code] = storable_text(first_identity([(name, values[code])]))
        found = undecided & (texts != None)[codes]  # noqa: E711 - elementwise, on an object array
        identities[found] = texts[codes[found]]
        undecided &= ~found
    return identities.tolist()
