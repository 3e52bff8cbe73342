"""A bundle — folders and zips holding one organisation's exports — read into typed, attributed datasets.

For every input the bundle records SHA-256, size, format, encoding, dataset, record count and problems.
Rows are attributed to a server from the object's own fields first; then from a manifest; then from a
per-server folder or a server name in the file name; then, if the bundle has exactly one Exchange server, that
one; otherwise they stay unattributed and the report says so. The same dataset from several files is merged:
duplicates are dropped, the richer format wins a conflict (CLIXML > JSON > CSV > Format-List > Format-Table),
and the conflict is reported.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from analyzer.errors import InputError
from analyzer.exchange import servers
from analyzer.exchange.catalog import BY_NAME, DatasetSpec
from analyzer.exchange.collection import CollectionOutcome, collection_outcome
from analyzer.exchange.columnar import read_table
from analyzer.exchange.dates import (
    DateSettings,
    Decision,
    DeferredDate,
    Fallback,
    LocalDate,
    order_from_known,
    settings_from_manifest,
)
from analyzer.exchange.manifest import MANIFEST, Manifests, read_manifests
from analyzer.exchange.normalise import RowBatch, normalise, projection, read_whole
from analyzer.exchange.sources import SourceFile, Unread, collect, is_documentation, sha256_of
from analyzer.exchange.split_read import SplitReader
from analyzer.exchange.unread import datasets_of_content, datasets_of_unread
from analyzer.exchange.values import ServerVersion
from analyzer.memory import collector_paused, release_after
from analyzer.model import InputProblem, Record
from analyzer.readers.clixml import ClixmlReader
from analyzer.readers.csv import CsvReader
from analyzer.readers.dispatch import ExportReader, open_export

NO_RECORDS = "holds no records"
RICHNESS = {"clixml": 5, "json": 4, "csv": 3, "format-list": 2, "format-list+table": 2, "format-table": 1}
RESULT_SIZE_DEFAULT = 1000  # Get-Mailbox and Get-CASMailbox stop there without -ResultSize Unlimited


@dataclass
class InputFile:
    """What the report says about one input file."""

    path: str
    sha256: str
    size: int
    format: str
    encoding: str | None = None
    datasets: list[str] = field(default_factory=list)
    records: int = 0
    complete: bool = True
    problems: list[InputProblem] = field(default_factory=list)
    date_order: str | None = None  # how its dates' day/month order was decided, when they needed one


@dataclass
class Dataset:
    """One dataset of the bundle: a frame of canonical and provenance columns, and what is known to be missing."""

    name: str
    spec: DatasetSpec
    frame: pd.DataFrame
    lossy: dict[str, str] = field(default_factory=dict)
    incomplete_sources: list[str] = field(default_factory=list)
    unread_sources: list[str] = field(default_factory=list)  # inputs not read that would have supplied it
    local_time: dict[str, str] = field(default_factory=dict)  # date columns in the exporter's local time, and why
    unreadable: dict[str, str] = field(default_factory=dict)  # columns with unreadable cells: the first one
    reasons: dict[str, str] = field(default_factory=dict)  # an untrusted source → why
    # Canonical columns some input carried at all: a setting whose $null is a value (no banner) is still unknown
    # where no export had the property (a Select-Object that left it out).
    exported: frozenset[str] = frozenset()

    def described_sources(self, words: Callable[[str], str] = str) -> list[str]:
        """The untrusted sources, each with why (worded by `words`: Japanese, for one), for a rule's reason."""
        return [f"{s} ({words(self.reasons[s])})" if s in self.reasons else s for s in self.untrusted_sources]

    @property
    def untrusted_sources(self) -> list[str]:
        """Inputs that make the dataset incomplete: damaged or cut off, and those not read at all."""
        return self.incomplete_sources + self.unread_sources


@dataclass(frozen=True)
class UnreadInput:
    """An input that was not read, or read as nothing, and the datasets it would have supplied: their verdicts
    cannot be vouched for."""

    path: str
    reason: str
    datasets: tuple[str, ...]


@dataclass
class Bundle:
    inputs: list[InputFile]
    datasets: dict[str, Dataset]
    servers: pd.DataFrame
    problems: list[InputProblem]
    manifest: dict[str, Any] | None = None
    unread: list[UnreadInput] = field(default_factory=list)
    absent: dict[str, str] = field(default_factory=dict)  # datasets the bundle lacks, and why (the manifest's word)
    failed_for: dict[tuple[str, str], str] = field(default_factory=dict)  # (dataset, SERVER) whose export failed

    def coverage(self, wanted: Collection[str] | None = None) -> pd.DataFrame:
        """Server × dataset: rows per server for every per-server dataset (0 = not exported for it) — of those
        `wanted` (what the rules of a scan read) and those the bundle holds, when given."""
        shown = BY_NAME if wanted is None else {*wanted, *self.datasets}
        names = [spec.name for spec in BY_NAME.values() if spec.per_server and spec.name in shown]
        keys = list(self.servers["server_key"]) if len(self.servers) else []
        table = pd.DataFrame(0, index=pd.Index(keys, name="server"), columns=names)
        for name in names:
            dataset = self.datasets.get(name)
            if dataset is None:
                continue
            counts = dataset.frame["server_key"].dropna().value_counts()
            for key, count in counts.items():
                if key not in table.index:
                    table.loc[key] = 0
                table.loc[key, name] = int(count)
        return table


FileProgress = Callable[[int, int, str], None]  # (files done, files in all, the file being read)


def load_bundle(
    paths: Sequence[Path],
    *,
    encoding: str | None = None,
    progress: FileProgress | None = None,
    split_large: bool = True,
    dates: DateSettings | None = None,
) -> Bundle:
    """Read every file of the bundle. Raises InputError only when nothing at all could be read. With
    `split_large`, a large CLIXML file is read in two processes (`split_read`). `dates` is what the user said
    of the exporting machine's dates (--culture, --date-format); the manifest's record comes before it."""
    for given in paths:  # a mistyped path must not quietly shrink the bundle
        if not given.exists() and not given.is_symlink():
            raise InputError(str(given), 0, "no such file or folder")
    problems: list[InputProblem] = []
    not_read: list[Unread] = []
    with tempfile.TemporaryDirectory(prefix="exaudit-") as scratch:
        files = collect(list(paths), Path(scratch), problems, not_read)
        manifests = read_manifests(files, problems)
        collected = collection_outcome(manifests)
        inputs: list[InputFile] = []
        batches: list[tuple[InputFile, SourceFile, RowBatch]] = []
        unread = [
            UnreadInput(u.display, u.reason, datasets_of_unread(u.relative, None, manifests.entry_for(u.relative)))
            for u in not_read
            if u.export_like and not is_documentation(u.relative)
        ]
        unread.extend(UnreadInput(shown, reason, datasets) for shown, reason, datasets in collected.failed)
        # Hashing runs beside the parse: hashlib releases the GIL, so it costs no wall time on a second core.
        split = SplitReader.start([f.path for f in files]) if split_large else None
        try:
            with collector_paused(), ThreadPoolExecutor(1, thread_name_prefix="exaudit-sha256") as hasher:
                digests = {source.path: hasher.submit(_digest, source.path) for source in files}
                for done, source in enumerate(files):
                    if progress:
                        progress(done, len(files), source.display)
                    if source.relative.lower() == MANIFEST:
                        continue
                    entry, batch_list = _read_one(source, encoding, manifests, collected, digests[source.path], split)
                    inputs.append(entry)
                    batches.extend((entry, source, batch) for batch in batch_list)
                    unread.extend(_if_unread(entry, source, bool(batch_list), manifests))
                    problems.extend(entry.problems)
        finally:
            if split is not None:
                split.close()
        for root, missing, listed in manifests.missing(files):
            shown = manifests.shown(root, missing)
            problems.append(InputProblem(shown, 0, "listed in the manifest but not in the bundle"))
            supplies = datasets_of_unread(missing, None, listed)
            unread.append(UnreadInput(shown, "listed in the manifest but not in the bundle", supplies))
    if not any(entry.records for entry in inputs) and all(e.format in ("unrecognised", DOCUMENTATION) for e in inputs):
        ignored = [InputProblem(entry.path, 0, entry.format) for entry in inputs if entry.format == DOCUMENTATION]
        raise _nothing_read(paths, problems + ignored)
    release_after(sum(entry.size for entry in inputs))  # the reading's transients, before the tables are joined
    manifest = manifests.first
    _resolve_dates(batches, manifest, dates, problems)
    datasets = _build_datasets(batches, manifests, problems)
    server_table = _server_table(datasets)
    _flag_unknown_servers(datasets, server_table, problems)
    _flag_result_size(datasets, problems)
    for item in unread:  # a rule over these datasets must not pass on what was read without it
        for name in item.datasets:
            if name in datasets:
                datasets[name].unread_sources.append(item.path)
                datasets[name].reasons.setdefault(item.path, f"not read: {item.reason}")
    absent = {name: reason for name, reason in collected.absent.items() if name not in datasets}
    return Bundle(inputs, datasets, server_table, problems, manifest, unread, absent, collected.failed_for)


def _nothing_read(paths: Sequence[Path], problems: list[InputProblem]) -> InputError:
    """The error of a bundle with nothing readable: the one problem when there is one, else the first three."""
    if len(problems) == 1:
        return InputError(problems[0].path, problems[0].line, problems[0].message)
    shown = "; ".join(str(p) for p in problems[:3]) + ("; …" if len(problems) > 3 else "")
    where = str(paths[0]) if paths else "."
    return InputError(where, 0, "nothing in the bundle could be read as an export" + (f": {shown}" if shown else ""))


def _if_unread(entry: InputFile, source: SourceFile, read_some: bool, manifests: Manifests) -> list[UnreadInput]:
    """The input as unread when it yielded no dataset's rows because it could not be opened, parsed or recognised,
    or was empty or damaged; documentation is told apart and degrades nothing (its problem says it was ignored)."""
    if read_some or (entry.format != "unrecognised" and entry.complete and entry.size):
        return []  # rows for a dataset, or read to its end: an empty result, or records no dataset uses
    if entry.format == "unrecognised" and is_documentation(source.relative):
        entry.format, entry.problems = DOCUMENTATION, []  # listed with its hash; nothing is wrong with it
        return []
    reason = entry.problems[-1].message if entry.problems else "nothing could be read"
    datasets = datasets_of_unread(source.relative, source.path, manifests.entry(source))
    return [UnreadInput(source.display, reason, datasets)]


def _read_one(
    source: SourceFile,
    encoding: str | None,
    manifests: Manifests,
    collected: CollectionOutcome,
    digest: Future[str],
    split: SplitReader | None,
) -> tuple[InputFile, list[RowBatch]]:
    entry = InputFile(source.display, "", source.path.stat().st_size, "unrecognised")
    key = (source.root, source.relative.lower())
    later = collected.for_later.get(key)
    if later is not None and not datasets_of_content(source.path):
        entry.format = FOR_LATER  # hashed and listed; parsing it would only say no dataset uses its records
        batches: list[RowBatch] = []
    else:
        batches = _parse_into(entry, source, encoding, split)
        batches.extend(_as_collected(entry, source, batches, collected))
    entry.sha256 = digest.result()
    expected = (manifests.entry(source) or {}).get("sha256")
    if isinstance(expected, str) and expected.lower() != entry.sha256:
        entry.problems.insert(
            0, InputProblem(source.display, 0, "SHA-256 differs from the manifest: changed since export")
        )
    return entry, batches


FOR_LATER = "not read: for rule packs this version does not have"
DOCUMENTATION = "ignored: documentation or an image, not an export"


def _as_collected(
    entry: InputFile, source: SourceFile, batches: list[RowBatch], collected: CollectionOutcome
) -> list[RowBatch]:
    """What the collection script's record adds to a file read: an answer recorded as empty is its datasets with
    no rows (not a missing export); one recorded as partial leaves its datasets incomplete."""
    key = (source.root, source.relative.lower())
    partial = collected.partial.get(key)
    if partial is not None:
        entry.complete = False
        entry.problems.append(InputProblem(source.display, 0, partial))
    empty = collected.empty.get(key, ())
    if not empty or entry.records or not entry.complete or entry.format == "unrecognised":
        return []
    entry.problems = [p for p in entry.problems if p.message != NO_RECORDS]
    entry.datasets.extend(empty)
    return [RowBatch(BY_NAME[name]) for name in empty if not any(b.spec.name == name for b in batches)]


def _digest(path: Path) -> str:
    """The file's SHA-256; empty when it cannot be read (the parse reports why, at the file)."""
    try:
        return sha256_of(path)
    except OSError:
        return ""


def _parse_into(
    entry: InputFile, source: SourceFile, encoding: str | None, split: SplitReader | None
) -> list[RowBatch]:
    """Read one file into row batches, noting on `entry` its format, records and problems."""
    try:
        if source.path.stat().st_size == 0:
            raise InputError(source.display, 0, "the file is empty")
        # Decode only what some dataset reads (CLIXML and CSV; the other formats are small).
        reader: ExportReader = open_export(source.path, encoding=encoding, properties=projection())
    except InputError as error:
        entry.problems.append(InputProblem(source.display, error.line, error.message))
        return []
    except OSError as error:
        entry.problems.append(InputProblem(source.display, 0, f"cannot be read: {error.strerror or error}"))
        return []
    entry.format, entry.encoding = reader.format, reader.encoding
    read = split.read(reader, source.display) if split is not None and isinstance(reader, ClixmlReader) else None
    if read is None and isinstance(reader, CsvReader):
        read = read_table(reader.slices(), source.display)
    elif read is None:
        read = read_whole(iter(reader), source.display, reader.format)
    batches = list(read.batches.values())
    for batch in batches:
        batch.summarise(source.display)
    entry.records = read.records
    entry.problems.extend(_relocate(p, source) for p in reader.problems)
    for stop in read.damage:
        entry.complete = False
        entry.problems.append(InputProblem(source.display, stop.line, f"{stop.message} (records before it kept)"))
    for batch in batches:
        if batch.spec.name == "":
            entry.problems.append(
                InputProblem(
                    source.display,
                    0,
                    f"{batch.count} record(s) of a type no dataset uses: {sorted(batch.type_names)[:3]}",
                )
            )
        else:
            entry.datasets.append(batch.spec.name)
            entry.problems.extend(_relocate(p, source) for p in batch.problems)
    if not entry.records and entry.complete:
        entry.problems.append(InputProblem(source.display, 0, NO_RECORDS))
    return [b for b in batches if b.spec.name]


def _relocate(problem: InputProblem, source: SourceFile) -> InputProblem:
    """Problems name the file as the report shows it (zip members as `archive!member`)."""
    return InputProblem(source.display, problem.line, problem.message)


# -- Culture dates ----------------------------------------------------------------------------------------------


def _date_settings(
    manifest: dict[str, Any] | None, given: DateSettings | None, problems: list[InputProblem]
) -> tuple[DateSettings | None, DateSettings | None]:
    """The manifest's record of the exporting culture (its zone kept even when the user names the culture)."""
    try:
        recorded = settings_from_manifest(manifest)
    except ValueError as error:
        problems.append(InputProblem(MANIFEST, 0, f"culture: {error}"))
        recorded = None
    if recorded is not None and recorded.order is None and given is not None:
        return recorded, replace(given, zone=recorded.zone)
    return recorded, recorded or given


def _exact_dates(batches: list[tuple[InputFile, SourceFile, RowBatch]]) -> dict[tuple[str, str, str], datetime]:
    """Dates of objects from exports that carry them exactly (no culture text), by dataset, identity, column."""
    exact: dict[tuple[str, str, str], datetime] = {}
    for _entry, _source, batch in batches:
        columns = [c.name for c in batch.spec.columns if c.dtype.startswith("datetime")]
        if not columns or batch.deferred_dates:
            continue
        frame = batch.frame()
        for column in columns:
            for identity, moment in zip(frame["identity"], frame[column], strict=True):
                if isinstance(identity, str) and not pd.isna(moment):
                    exact[(batch.spec.name, identity, column)] = moment.to_pydatetime()
    return exact


def _bundle_order(
    dataset: str,
    exact: dict[tuple[str, str, str], datetime],
    recorded: DateSettings | None,
    given: DateSettings | None,
) -> Fallback:
    """The order the rest of the bundle gives one file's dates: the same objects' exact dates, then the
    manifest's culture, then --culture / --date-format."""

    def order(read: Sequence[tuple[DeferredDate, LocalDate]]) -> Decision | None:
        pairs = [
            (local, exact[key]) for item, local in read if (key := (dataset, item.identity or "", item.column)) in exact
        ]
        return order_from_known(pairs) or (recorded and recorded.decision()) or (given and given.decision()) or None

    return order


def _resolve_dates(
    batches: list[tuple[InputFile, SourceFile, RowBatch]],
    manifest: dict[str, Any] | None,
    given: DateSettings | None,
    problems: list[InputProblem],
) -> None:
    """Each file's culture dates, its day/month order decided by its own values, then by the same objects in
    an exact export, then by the manifest's culture, then by --culture / --date-format."""
    if not any(batch.deferred_dates for _e, _s, batch in batches):
        return
    recorded, settings = _date_settings(manifest, given, problems)
    exact = _exact_dates(batches)
    for entry, _source, batch in batches:
        if not batch.deferred_dates:
            continue
        before = len(batch.problems)
        batch.resolve_dates(entry.path, settings, _bundle_order(batch.spec.name, exact, recorded, given))
        entry.date_order = entry.date_order or batch.date_order
        entry.problems.extend(batch.problems[before:])
        problems.extend(batch.problems[before:])


# -- Attribution and merging ------------------------------------------------------------------------------------


def _known_servers(batches: list[tuple[InputFile, SourceFile, RowBatch]]) -> dict[str, str]:
    """Server key → best display name (an FQDN when one is known), from Get-ExchangeServer rows."""
    known: dict[str, str] = {}
    for _entry, _source, batch in batches:
        if batch.spec.name != "exchange_server":
            continue
        frame = batch.frame()
        for fqdn_cell, name_cell in zip(frame["Fqdn"], frame["Name"], strict=True):
            fqdn, plain = (None if _missing(fqdn_cell) else fqdn_cell), (None if _missing(name_cell) else name_cell)
            name = fqdn or plain
            key = servers.server_key(plain or name)
            if key:
                known[key] = str(name) if "." in str(name or "") or key not in known else known[key]
    return known


def _hint_from_location(source: SourceFile, known: Collection[str]) -> str | None:
    """A known server named by a folder of the path or as a token of the file name."""
    parts = PurePosixPath(source.relative).parts
    for folder in parts[:-1]:
        key = servers.server_key(folder)
        if key in known:
            return key
    # Server names may hold hyphens (SOLO-E19A), so a name counts where no letter or digit touches it.
    file_name = parts[-1].upper()
    matches = [key for key in known if re.search(rf"(?<![A-Z0-9]){re.escape(key)}(?![A-Z0-9])", file_name)]
    return matches[0] if len(matches) == 1 else None


def _edge_servers(batches: list[tuple[InputFile, SourceFile, RowBatch]]) -> set[str]:
    """Keys of the Edge servers Get-ExchangeServer lists."""
    found: set[str] = set()
    for _entry, _source, batch in batches:
        if batch.spec.name == "exchange_server":
            frame = batch.frame()
            edge = _edge_from_roles(frame).fillna(False).to_numpy(dtype=bool)
            found.update(key for name in frame.loc[edge, "Name"] if (key := servers.server_key(name)))
    return found


def _file_server(source: SourceFile, manifests: Manifests, known: Collection[str]) -> tuple[str, str] | None:
    """The server a file was exported on, and what says so: its manifest entry, else a known server named by a
    folder of its path or in its file name."""
    manifest_server = (manifests.entry(source) or {}).get("server")
    if isinstance(manifest_server, str) and servers.server_key(manifest_server):
        return manifest_server, "manifest"
    location = _hint_from_location(source, known)
    return (location, "path") if location else None


def _attribute_origin(batch: RowBatch, source: SourceFile, manifests: Manifests, edge: set[str]) -> None:
    """Organisation-wide settings exported on an Edge server (the path or the manifest names it) keep that server as
    their origin: an Edge server's Get-TransportConfig describes that server, not the organisation. Exported on any
    other server, they are the organisation's, the same object wherever they were read (no server)."""
    origin = _file_server(source, manifests, edge)
    if origin is not None and servers.server_key(origin[0]) in edge:
        frame = batch.frame()
        frame["server_name"], frame["attributed_by"] = origin


def _attribute(
    batches: list[tuple[InputFile, SourceFile, RowBatch]],
    manifests: Manifests,
    problems: list[InputProblem],
) -> dict[str, str]:
    known = _known_servers(batches)
    edge = _edge_servers(batches)
    for entry, source, batch in batches:
        if not batch.spec.per_server:
            _attribute_origin(batch, source, manifests, edge)
            continue
        frame = batch.frame()
        by_session = (frame["attributed_by"] == "PSComputerName").fillna(False).to_numpy(dtype=bool)
        if by_session.any():  # a session's endpoint counts only when it is a known Exchange server
            unknown = ~frame["server_name"].map(lambda name: servers.server_key(name) in known).to_numpy(dtype=bool)
            frame.loc[by_session & unknown, ["server_name", "attributed_by"]] = None
        orphans = (frame["server_name"].isna() | (frame["server_name"] == "")).to_numpy(dtype=bool)
        if not orphans.any():
            continue  # every row named its server (a masked assignment costs a millisecond even when empty)
        named = _file_server(source, manifests, known)
        fallback: tuple[str | None, str]
        if named is not None:
            fallback = named
        elif len(known) == 1:
            fallback = (next(iter(known)), "only server in the bundle")
        else:
            fallback = (None, "unattributed")
        frame.loc[orphans, "server_name"] = fallback[0]
        frame.loc[orphans, "attributed_by"] = fallback[1]
        unattributed = int(orphans.sum()) if fallback[0] is None else 0
        if unattributed:
            problems.append(
                InputProblem(
                    entry.path,
                    0,
                    f"{unattributed} {batch.spec.name} row(s) could not be attributed to a "
                    "server: name the server in the folder or file name, or export with a manifest",
                )
            )
    return known


def _build_datasets(
    batches: list[tuple[InputFile, SourceFile, RowBatch]],
    manifests: Manifests,
    problems: list[InputProblem],
) -> dict[str, Dataset]:
    known = _attribute(batches, manifests, problems)
    by_name: dict[str, list[tuple[InputFile, RowBatch]]] = {}
    for entry, _source, batch in batches:
        by_name.setdefault(batch.spec.name, []).append((entry, batch))
    datasets: dict[str, Dataset] = {}
    for name, parts in by_name.items():
        spec = BY_NAME[name]
        frames = []
        lossy: dict[str, str] = {}
        local_time: dict[str, str] = {}
        unreadable: dict[str, str] = {}
        exported: set[str] = set()
        for entry, batch in parts:
            exported |= batch.exported
            frame = batch.frame()
            frame["source_format"] = entry.format
            frames.append(frame)
            for column, reason in batch.lossy.items():
                lossy.setdefault(column, reason)
            for column, reason in batch.local_time.items():
                local_time.setdefault(column, reason)
            for column, problem in batch.unreadable().items():
                unreadable.setdefault(column, problem)
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        keys = {name: servers.server_key(name) for name in frame["server_name"].dropna().unique()}
        frame["server_key"] = frame["server_name"].map(keys).astype("string")  # per distinct name, not per row
        frame["server_fqdn"] = frame["server_key"].map(lambda k: known.get(k) if isinstance(k, str) else None)
        if name == "exchange_server":  # the product and build as plain text, for rules and reports
            versions = frame["AdminDisplayVersion"]
            frame["product"] = versions.map(lambda v: v.product if isinstance(v, ServerVersion) else None).astype(
                "string"
            )
            frame["version"] = versions.map(lambda v: str(v) if isinstance(v, ServerVersion) else None).astype("string")
            frame["IsEdgeServer"] = _edge_from_roles(frame)
        frame = _merge_duplicates(spec, frame, problems)
        incomplete = sorted({e.path for e, _b in parts if not e.complete})
        reasons = {e.path: e.problems[-1].message for e, _b in parts if not e.complete and e.problems}
        datasets[name] = Dataset(
            name,
            spec,
            frame.reset_index(drop=True),
            lossy,
            incomplete,
            local_time=local_time,
            unreadable=unreadable,
            reasons=reasons,
            exported=frozenset(exported),
        )
    return datasets


def _edge_from_roles(frame: pd.DataFrame) -> pd.Series:
    """IsEdgeServer, or where a subset export left it out, what ServerRole implies: Edge is one of its flags."""
    roles = frame["ServerRole"].map(lambda r: "Edge" in r if isinstance(r, list) else None).astype("boolean")
    return frame["IsEdgeServer"].fillna(roles)


def _merge_duplicates(spec: DatasetSpec, frame: pd.DataFrame, problems: list[InputProblem]) -> pd.DataFrame:
    if not spec.identity_within and frame["identity"].dropna().is_unique:  # the common case, decided by pyarrow
        return frame
    # Per server: the server's own object. Organisation-wide: the organisation's (no server), or the settings of the
    # Edge server they were exported on.
    frame = frame.assign(_origin=frame["server_key"].astype("string").fillna(""))
    keys = ["_origin", "identity", *([spec.identity_within] if spec.identity_within else [])]
    # Rows without an identity, or (per server) without a server, cannot be told to be the same object.
    has_identity = frame["identity"].notna() & (frame["server_key"].notna() if spec.per_server else True)
    # Ranked on the key columns alone: reordering the whole table is only worth it when something merges.
    order = (
        frame[keys]
        .assign(_rank=frame["source_format"].map(RICHNESS).fillna(0))
        .sort_values("_rank", ascending=False, kind="stable")
    )
    duplicate = order.duplicated(subset=keys, keep="first") & has_identity.loc[order.index]
    if not duplicate.any():
        return frame.drop(columns="_origin")
    ranked = frame.loc[order.index].assign(_rank=order["_rank"])
    canonical = [c.name for c in spec.columns if c.name in frame]
    dates = {c.name for c in spec.columns if c.dtype.startswith("datetime")}
    kept = ranked[~duplicate].set_index(keys)
    labels = ranked.index[~duplicate.to_numpy()]
    label_of = {tuple(key): label for key, label in zip(kept.index, labels, strict=True)}
    for _index, row in ranked[duplicate].iterrows():
        key = tuple(row[k] for k in keys)
        winner = kept.loc[key]
        if isinstance(winner, pd.DataFrame):
            winner = winner.iloc[0]
        for column in canonical:  # what the richer export could not carry, the other one gives
            if _missing(winner[column]) and not _missing(row[column]):
                ranked.at[label_of[key], column] = row[column]
        # A date written as text is the exporter's local time: up to 14 hours from the same moment in UTC.
        local = _TEXT_FORMATS.intersection((winner["source_format"], row["source_format"]))
        differing = [c for c in canonical if _conflict(winner[c], row[c], bool(local) and c in dates)]
        if differing:
            problems.append(
                InputProblem(
                    str(row["source_file"]),
                    int(row["source_line"]),
                    f"{spec.name} {row['identity']!s} also in {winner['source_file']}:{winner['source_line']} with "
                    f"different {', '.join(differing[:5])}; kept the {winner['source_format']} value(s)",
                )
            )
        else:
            problems.append(
                InputProblem(
                    str(row["source_file"]),
                    int(row["source_line"]),
                    f"duplicate of {winner['source_file']}:{winner['source_line']}; merged",
                )
            )
    return ranked[~duplicate].drop(columns=["_rank", "_origin"]).sort_index()


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


_TEXT_FORMATS = frozenset({"csv", "format-list", "format-table", "format-list+table"})
_WIDEST_UTC_OFFSET = pd.Timedelta(hours=14)


def _conflict(kept: Any, dropped: Any, local_time: bool = False) -> bool:
    """Both files state a value and they differ (a value one format could not carry is no conflict; a local
    time and a UTC one differ only when more than any time zone apart)."""
    if _missing(kept) or _missing(dropped):
        return False
    if local_time and not pd.isna(kept) and not pd.isna(dropped):
        return bool(abs(pd.Timestamp(kept) - pd.Timestamp(dropped)) > _WIDEST_UTC_OFFSET)
    try:
        return not bool(kept == dropped)
    except (TypeError, ValueError):
        return str(kept) != str(dropped)


def _server_table(datasets: dict[str, Dataset]) -> pd.DataFrame:
    """One row per Exchange server: key, names, version, product and roles."""
    columns = ["server_key", "Name", "Fqdn", "version", "product", "roles", "IsClientAccessServer", "IsMailboxServer",
               "IsEdgeServer", "AdminDisplayVersion"]  # fmt: skip
    dataset = datasets.get("exchange_server")
    if dataset is None:
        return pd.DataFrame(columns=columns)
    table = dataset.frame.rename(columns={"ServerRole": "roles"})[columns]
    return table.sort_values("server_key", kind="stable").reset_index(drop=True)


def _flag_result_size(datasets: dict[str, Dataset], problems: list[InputProblem]) -> None:
    for name in ("cas_mailbox", "mailbox"):
        dataset = datasets.get(name)
        if dataset is not None and len(dataset.frame) == RESULT_SIZE_DEFAULT:
            sources = sorted(set(dataset.frame["source_file"].dropna()))
            problems.append(
                InputProblem(
                    sources[0] if sources else name,
                    0,
                    f"{name} has exactly {RESULT_SIZE_DEFAULT} rows: probably cut off by the cmdlet's default "
                    f"-ResultSize; export again with {BY_NAME[name].cmdlet}",
                )
            )
            dataset.incomplete_sources.extend(sources)


def _flag_unknown_servers(
    datasets: dict[str, Dataset], server_table: pd.DataFrame, problems: list[InputProblem]
) -> None:
    """Rows that belong to a server Get-ExchangeServer did not list (an export from another organisation, or
    a Get-ExchangeServer that was filtered)."""
    if not len(server_table):
        return
    listed = set(server_table["server_key"].dropna())
    for name, dataset in sorted(datasets.items()):
        if name == "exchange_server" or not dataset.spec.per_server:
            continue
        strangers = sorted(set(dataset.frame["server_key"].dropna()) - listed)
        for key in strangers:
            first = dataset.frame[dataset.frame["server_key"] == key].iloc[0]
            problems.append(
                InputProblem(
                    str(first["source_file"]),
                    int(first["source_line"]),
                    f"{name} rows belong to server {key}, which the Get-ExchangeServer export does not list",
                )
            )


def bundle_from_records(records: Mapping[str, list[Record]], *, label: str) -> Bundle:
    """A bundle made directly from records per dataset, without files: for rule test cases and benchmarks.
    The records pass through the same normalisation, attribution and merging as exported files. A dataset given
    no records is one whose cmdlet answered with none (as the collection script records an empty answer)."""
    problems: list[InputProblem] = []
    batches: list[tuple[InputFile, SourceFile, RowBatch]] = []
    for name, items in records.items():
        entry = InputFile(f"{label}/{name}", "", 0, "clixml", records=len(items), datasets=[name])
        source = SourceFile(Path(label), entry.path, entry.path)
        if not items:
            batches.append((entry, source, RowBatch(BY_NAME[name])))
        for found, batch in normalise(iter(items), path=entry.path, fmt="clixml"):
            if found != name:  # rows that read as another dataset, or as none, would test something else
                read_as = found or "no dataset"
                message = f"{batch.count} row(s) read as {read_as}, not {name}: give the columns that identify it"
                raise InputError(entry.path, 0, message)
            batch.summarise(entry.path)
            batches.append((entry, source, batch))
            problems.extend(batch.problems)
    datasets = _build_datasets(batches, Manifests(), problems)
    return Bundle([entry for entry, _s, _b in batches], datasets, _server_table(datasets), problems)
