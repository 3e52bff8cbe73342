"""Records of one file → rows of canonical columns, per dataset, with provenance and the object's own server.

Every cell is parsed by its column's parser. A cell the export did not really keep (a lossy value) or could not
be read is left empty and said so: the column is marked lossy, or a problem names the file, line and reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from analyzer.exchange import servers
from analyzer.exchange.catalog import DATASETS, DatasetSpec, recognise
from analyzer.exchange.certificates import certificate_properties
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


def projection() -> frozenset[str]:
    """Every property name any dataset reads: what the CLIXML reader needs to decode, nothing more."""
    names = {name for spec in DATASETS for column in spec.columns for name in (column.name, *column.aliases)}
    names.update(name for spec in DATASETS for signature in spec.signatures for name in signature)
    names.update(_ATTRIBUTION_PROPERTIES)
    names.update({"RawData", "SerializationData", "Services", "Status", "SystemName", "State", "StartMode"})
    return frozenset(names)


@dataclass
class RowBatch:
    """The rows one file contributes to one dataset."""

    spec: DatasetSpec
    rows: list[dict[str, Any]] = field(default_factory=list)
    lossy: dict[str, str] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    _problem_counts: dict[str, int] = field(default_factory=dict)

    def problem(self, column: str, problem: InputProblem) -> None:
        """Record a cell problem; after a few per column, only count, so one bad column cannot flood a report."""
        count = self._problem_counts.get(column, 0) + 1
        self._problem_counts[column] = count
        if count <= MAX_PROBLEMS_PER_COLUMN:
            self.problems.append(problem)

    def summarise(self, path: str) -> None:
        for column, count in self._problem_counts.items():
            if count > MAX_PROBLEMS_PER_COLUMN:
                self.problems.append(
                    InputProblem(
                        path, 0, f"{self.spec.name}.{column}: {count - MAX_PROBLEMS_PER_COLUMN} more unreadable cells"
                    )
                )


def own_server(spec: DatasetSpec, properties: dict[str, Any]) -> tuple[str | None, str | None]:
    """The server an object names itself, and which field said so; PSComputerName only for output that ran
    on the server itself."""
    lookup = {name.lower(): value for name, value in properties.items()}
    fields = spec.server_fields + (("PSComputerName",) if spec.run_on_server else ())
    for name in fields:
        text = text_of(lookup.get(name.lower()))
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


def _identity(spec: DatasetSpec, row: dict[str, Any], lookup: dict[str, Any]) -> str | None:
    for name in spec.identity:
        value = row.get(name) if name in row else text_of(lookup.get(name.lower()))
        text = text_of(value)
        if text:
            return text.lower() if name in ("Guid", "Thumbprint", "PrimarySmtpAddress") else text
    return None


def normalise(records: Iterable[Record], *, path: str, fmt: str) -> Iterator[tuple[str, RowBatch]]:
    """Rows per dataset for the records of one file. Records of no known dataset are counted under ''."""
    batches: dict[str, RowBatch] = {}
    recognised: dict[tuple[tuple[str, ...], frozenset[str]], DatasetSpec | None] = {}
    unknown = RowBatch(DatasetSpec("", "", (), (), (), ()))
    for record in records:
        key = (record.type_names, frozenset(record.properties))
        if key not in recognised:
            recognised[key] = recognise(record.type_names, list(record.properties))
        spec = recognised[key]
        if spec is None:
            unknown.rows.append({"type": record.type_name, "source_line": record.source.line})
            continue
        batch = batches.setdefault(spec.name, RowBatch(spec))
        batch.rows.append(_row(spec, record, batch, path))
    for name, batch in batches.items():
        batch.summarise(path)
        yield name, batch
    if unknown.rows:
        yield "", unknown


def _row(spec: DatasetSpec, record: Record, batch: RowBatch, path: str) -> dict[str, Any]:
    properties = dict(record.properties)
    if spec.name == "exchange_certificate":
        try:
            properties = certificate_properties(properties)
        except (ValueError, KeyError, TypeError, IndexError) as error:  # nrbf and cryptography raise these
            batch.problem(
                "RawData", InputProblem(path, record.source.line, f"certificate could not be decoded: {error}")
            )
    lookup = {name.lower(): value for name, value in properties.items()}
    lossy = {name.lower(): reason for name, reason in record.lossy.items()}
    row: dict[str, Any] = {}
    for column in spec.columns:
        found = next(
            ((name, lookup[name.lower()]) for name in (column.name, *column.aliases) if name.lower() in lookup), None
        )
        if found is None:
            continue
        source_name, raw = found
        reason = lossy.get(source_name.lower())
        if reason is not None:
            batch.lossy.setdefault(column.name, f"{reason} (first at {path}:{record.source.line})")
            row[column.name] = None
            continue
        try:
            row[column.name] = column.parse(raw)
        except ValueError as error:
            row[column.name] = None
            batch.problem(column.name, InputProblem(path, record.source.line, f"{spec.name}.{column.name}: {error}"))
    server_name, attributed_by = own_server(spec, properties) if spec.per_server else (None, None)
    row["identity"] = _identity(spec, row, lookup)
    row["server_name"] = server_name
    row["attributed_by"] = attributed_by
    row["source_file"] = path
    row["source_line"] = record.source.line
    row["source_index"] = record.source.index
    return row
