"""Rows of a table-shaped export (Export-Csv) normalised a column at a time: the same rows, problems and
lossy notes as `normalise` gives record by record, without a dict per record.

Every row of a CSV file has the same columns, so the dataset and the plan are decided once per slice, and each
cell is parsed once per distinct value of its column (an Exchange export repeats `True`, `False` and a handful
of server names hundreds of thousands of times). Problems are put in row order, as the record path finds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from analyzer.exchange.catalog import Column, DatasetSpec, recognise
from analyzer.exchange.normalise import (
    LONE_SURROGATE,
    FileRead,
    Plan,
    RowBatch,
    first_identity,
    normalise,
    own_server,
    plan_for,
    replace_surrogates,
    storable,
    storable_text,
)
from analyzer.model import ColumnSlice, InputProblem

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
        if spec is None:
            unknown.count += len(piece)
            unknown.type_names.add(str(piece.type_names[0] if piece.type_names else None))
            continue
        batch = batches.get(spec.name)
        if batch is None:
            batch = batches[spec.name] = RowBatch(spec)
        if spec.name == "exchange_certificate":  # each row's certificate is decoded: the record path does that
            for _name, rows in normalise(piece.records(), path=path, fmt="csv"):
                batch.absorb(rows, 0)
            continue
        batch.append_columns(_columns(spec, piece, batch, path), len(piece))
    yield from batches.items()
    if unknown.count:
        yield "", unknown


def _columns(spec: DatasetSpec, piece: ColumnSlice, batch: RowBatch, path: str) -> dict[str, list[Any]]:
    rows = len(piece)
    plan = plan_for(spec, list(piece.columns))
    out: dict[str, list[Any]] = {name: [None] * rows for name in batch.template}
    lossy = {name.lower(): reason for name, reason in piece.lossy.items()}
    problems: list[tuple[int, int, str, InputProblem]] = []
    for position, (column, source) in enumerate(plan.columns):
        raw = piece.columns[source]
        reason = lossy.get(source.lower())
        if reason is not None:
            first = next((row for row, value in enumerate(raw) if value is not None), None)
            if first is not None:
                batch.lossy.setdefault(column.name, f"{reason} (first at {path}:{piece.lines[first]})")
        for row, message in _parse_column(column, raw, out[column.name], skip_present=reason is not None):
            problem = InputProblem(path, piece.lines[row], f"{spec.name}.{column.name}: {message}")
            problems.append((row, position, column.name, problem))
    for _row, _position, name, problem in sorted(problems, key=lambda entry: entry[:2]):
        batch.problem(name, problem)
    if spec.per_server:
        names, out["attributed_by"] = _servers(plan, piece)
        out["server_name"] = [storable_text(name) for name in names]
    else:
        out["server_name"], out["attributed_by"] = [None] * rows, [None] * rows
    out["identity"] = [storable_text(text) for text in _identities(plan, piece, out)]
    out["source_file"] = [path] * rows
    out["source_line"] = list(piece.lines)
    out["source_index"] = list(range(piece.first, piece.first + rows))
    return out


def _parse_column(column: Column, raw: list[Any], into: list[Any], *, skip_present: bool) -> Iterator[tuple[int, str]]:
    """Parse each cell into `into`, once per distinct value; yields (row, reason) for each cell that cannot be
    read. With `skip_present` (a lossy column), cells that hold something stay empty."""
    parsed: dict[Any, Any] = {}
    failed: dict[Any, str] = {}
    for row, value in enumerate(raw):
        if skip_present and value is not None:
            continue
        remembered = value is None or type(value) is str  # what a CSV cell holds; anything else, every time
        if remembered and value in parsed:
            into[row] = parsed[value]
            continue
        if remembered and value in failed:
            yield row, failed[value]
            continue
        try:
            result = column.parse(value)
        except ValueError as error:
            if remembered:
                failed[value] = str(error)
            yield row, str(error)
            continue
        if not storable(result):  # a lone surrogate: not from a decoded CSV, but from any other slice
            into[row] = replace_surrogates(result)
            yield row, LONE_SURROGATE
            continue
        into[row] = result
        if remembered and isinstance(result, _SHAREABLE):
            parsed[value] = result


def _servers(plan: Plan, piece: ColumnSlice) -> tuple[list[Any], list[Any]]:
    """The server each row names itself, and which field said so: decided once per distinct combination."""
    sources = [source for _field, source in plan.server_fields]
    decided: dict[tuple[Any, ...], tuple[str | None, str | None]] = {}
    names, fields = [], []
    for values in zip(*(piece.columns[source] for source in sources), strict=True) if sources else ():
        found = decided.get(values)
        if found is None:
            found = decided[values] = own_server(plan.server_fields, dict(zip(sources, values, strict=True)))
        names.append(found[0])
        fields.append(found[1])
    if not sources:
        return [None] * len(piece), [None] * len(piece)
    return names, fields


def _identities(plan: Plan, piece: ColumnSlice, out: dict[str, list[Any]]) -> list[str | None]:
    """Per row, the first identity field with text: a parsed column, or the export's own property."""
    candidates = [(name, out[name] if is_column else piece.columns[name]) for name, is_column in plan.identity]
    return [first_identity((name, values[row]) for name, values in candidates) for row in range(len(piece))]
