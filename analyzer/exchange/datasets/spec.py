"""What a dataset declaration is made of: canonical columns (with how each is read and typed) and the dataset spec
(cmdlet, how it is recognised, identity, which server an object belongs to). The declarations themselves sit in the
family modules beside this one, one small block per cmdlet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.exchange import values as v
from analyzer.exchange.cells import Parser, as_int, as_text, as_text_list


@dataclass(frozen=True)
class Column:
    """A canonical column: its PowerShell property name, other names the same fact goes by, how to read it,
    and the pandas dtype it gets. `multi_valued` columns are lost by Export-Csv (a type name). `unset_is_a_value`:
    $null is a setting in its own right (no default policy), so an all-null column is not "not exported"."""

    name: str
    parse: Parser = as_text
    dtype: str = "string"
    aliases: tuple[str, ...] = ()
    multi_valued: bool = False
    unset_is_a_value: bool = False


def text(name: str, *aliases: str) -> Column:
    return Column(name, as_text, "string", aliases)


def optional_text(name: str) -> Column:
    """Text whose $null is a setting (no banner, no forwarding address), not a property left out of the export."""
    return Column(name, as_text, "string", unset_is_a_value=True)


def machine(value: Any) -> str | None:
    """Get-Service's MachineName `.` (or `localhost`) names no machine: the one it ran on, found elsewhere."""
    text = as_text(value)
    return None if text is None or text.strip() in (".", "localhost") else text


def boolean(name: str, *aliases: str) -> Column:
    return Column(name, v.parse_bool, "boolean", aliases)


def integer(name: str, *aliases: str) -> Column:
    return Column(name, as_int, "Int64", aliases)


def text_list(name: str, parse: Parser = as_text_list) -> Column:
    return Column(name, parse, "object", multi_valued=True)


def size(name: str) -> Column:
    """ByteQuantifiedSize (or Unlimited<…>) in bytes; Unlimited is infinity."""
    return Column(name, v.parse_size, "Float64")


def limit(name: str) -> Column:
    """Unlimited<int> as a number; Unlimited is infinity."""
    return Column(name, v.parse_limit, "Float64")


def duration(name: str) -> Column:
    """TimeSpan or EnhancedTimeSpan (or Unlimited<…>) in seconds; Unlimited is infinity."""
    return Column(name, v.parse_duration, "Float64")


def typed(name: str, parse: Parser) -> Column:
    return Column(name, parse, "object")


@dataclass(frozen=True)
class DatasetSpec:
    """How a dataset is recognised and what it holds.

    `server_fields` are the object's own fields that say which server it belongs to, in order of trust;
    `run_on_server` marks output produced on the server itself (Get-Service, CIM), whose PSComputerName is
    that server — for Exchange cmdlets PSComputerName names the shell's endpoint instead and is never used.
    """

    name: str
    cmdlet: str
    type_suffixes: tuple[str, ...]
    signatures: tuple[frozenset[str], ...]
    columns: tuple[Column, ...]
    identity: tuple[str, ...]
    server_fields: tuple[str, ...] = ()
    per_server: bool = True
    run_on_server: bool = False
    # Read on a Mailbox server about Edge servers (Get-EdgeSubscription): rules for Edge servers read the
    # organisation's rows of it, where other organisation-wide data exported on an Edge server is that server's own.
    about_edge: bool = False
    identity_within: str | None = None  # the identity names an object only within this column (a group's member)
    description: str = ""
    label: tuple[str, ...] = (
        "PrimarySmtpAddress",
        "Name",
        "Thumbprint",
        "Component",
        "identity",
    )  # what a finding names
    column_index: dict[str, Column] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        index = {}
        for column in self.columns:
            for name in (column.name, *column.aliases):
                index[name.lower()] = column
        object.__setattr__(self, "column_index", index)

    def column(self, name: str) -> Column | None:
        return self.column_index.get(name.lower())

    @property
    def has_dates(self) -> bool:
        return any(column.dtype.startswith("datetime") for column in self.columns)


# What every Active Directory object an Exchange cmdlet returns carries: how it is named, where it sits, its GUID.
AD_OBJECT: tuple[Column, ...] = (text("Identity"), text("DistinguishedName"), text("Guid"))
