"""Recognising which dataset a record belongs to. The datasets themselves are declared in
`analyzer/exchange/datasets/` (one block per cmdlet, by family) and re-exported here.

Column names are the PowerShell property names users already know (`PopEnabled`, `LoginType`); columns the
tool derives are lower-case (`server_key`, `identity`, `source_file`). A dataset is recognised from the
records' type names (suffix match, either flavour) or, when a format carries none (CSV without `#TYPE`,
Format-List text, JSON, Select-Object output), from a signature of columns only it has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analyzer.exchange import values as v
from analyzer.exchange.datasets import BY_NAME, DATASETS, Column, DatasetSpec

__all__ = ["BY_NAME", "DATASETS", "NO_TYPE_NAME", "Column", "DatasetSpec", "may_recognise_by_values", "recognise",
           "recognise_by_values"]  # fmt: skip


NO_TYPE_NAME = "no type name"
_PROTOCOL_DATASETS = {"pop3": "pop_settings", "imap4": "imap_settings"}


_STATUS_NAMES = frozenset({"status", "state", "starttype", "startmode"})


def may_recognise_by_values(property_names: Iterable[str]) -> bool:
    """Whether records with these properties could be recognised by `recognise_by_values` at all: decided once
    per set of names, so that the records of an unrelated export are not looked at one by one."""
    lowered = {name.lower() for name in property_names}
    return "protocolname" in lowered or (bool({"name", "servicename"} & lowered) and bool(_STATUS_NAMES & lowered))


def recognise_by_values(properties: Mapping[str, Any]) -> DatasetSpec | None:
    """A record with no type name and none of the signatures' columns (a `Select-Object` subset, JSON of a few
    properties) is still recognised from values only one dataset's objects hold: `ProtocolName` POP3 or IMAP4
    (Get-PopSettings, Get-ImapSettings), an Exchange service's name beside its status (Get-Service)."""
    lowered = {name.lower(): value for name, value in properties.items()}
    protocol = (v.text_of(lowered.get("protocolname")) or "").strip().lower()
    if protocol in _PROTOCOL_DATASETS:
        return BY_NAME[_PROTOCOL_DATASETS[protocol]]
    name = (v.text_of(lowered.get("name", lowered.get("servicename"))) or "").strip().lower()
    if name.startswith("msexchange") and _STATUS_NAMES & set(lowered):
        return BY_NAME["service"]
    return None


def recognise(type_names: Sequence[str], property_names: Sequence[str]) -> DatasetSpec | None:
    """The dataset a record belongs to: by type name first (most specific first), then by column signature."""
    lowered = [name.lower() for name in type_names]
    for type_name in lowered:
        for spec in DATASETS:
            if any(type_name.endswith(suffix.lower()) for suffix in spec.type_suffixes):
                return spec
    present = {name.lower() for name in property_names}
    for spec in DATASETS:
        if any({name.lower() for name in signature} <= present for signature in spec.signatures):
            return spec
    return None
