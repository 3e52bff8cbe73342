"""The datasets exaudit knows: how each is recognised, which cmdlet supplies it, and its canonical columns.

Column names are the PowerShell property names users already know (`PopEnabled`, `LoginType`); columns the
tool derives are lower-case (`server_key`, `identity`, `source_file`). A dataset is recognised from the
records' type names (suffix match, either flavour) or, when a format carries none (CSV without `#TYPE`,
Format-List text, JSON, Select-Object output), from a signature of columns only it has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzer.exchange import values as v
from analyzer.exchange.cells import (
    Parser,
    as_datetime,
    as_int,
    as_text,
    as_text_list,
    flags_list,
)


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


def _s(name: str, *aliases: str) -> Column:
    return Column(name, as_text, "string", aliases)


def _machine(value: Any) -> str | None:
    """Get-Service's MachineName `.` (or `localhost`) names no machine: the one it ran on, found elsewhere."""
    text = as_text(value)
    return None if text is None or text.strip() in (".", "localhost") else text


def _b(name: str, *aliases: str) -> Column:
    return Column(name, v.parse_bool, "boolean", aliases)


def _i(name: str, *aliases: str) -> Column:
    return Column(name, as_int, "Int64", aliases)


def _list(name: str, parse: Parser = as_text_list) -> Column:
    return Column(name, parse, "object", multi_valued=True)


def _object(name: str, parse: Parser) -> Column:
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


_POP_IMAP_COLUMNS: tuple[Column, ...] = (
    _s("Name"),
    _s("Server"),
    Column("LoginType", v.parse_login_type),
    _s("X509CertificateName"),
    _list("UnencryptedOrTLSBindings", v.parse_bindings),
    _list("SSLBindings", v.parse_bindings),
    _list("InternalConnectionSettings", v.parse_connection_settings),
    _list("ExternalConnectionSettings", v.parse_connection_settings),
    _b("ProtocolLogEnabled"),
    _b("EnableGSSAPIAndNTLMAuth"),
    _s("ExtendedProtectionPolicy"),
    _i("ProxyTargetPort"),
    _s("Identity"),
    _s("DistinguishedName"),
    _s("Guid"),
)


def _protocol_settings(name: str, cmdlet: str, type_name: str, own_column: str, protocol: str) -> DatasetSpec:
    """Get-PopSettings and Get-ImapSettings return the same shape; `own_column` exists for one protocol only."""
    return DatasetSpec(
        name,
        f"{cmdlet} -Server <each server>",
        (f".{type_name}",),
        (frozenset({"LoginType", "X509CertificateName", "UnencryptedOrTLSBindings", own_column}),),
        _POP_IMAP_COLUMNS,
        identity=("Guid", "DistinguishedName", "Identity"),
        server_fields=("Server", "Identity", "DistinguishedName"),
        description=f"{protocol} service settings per server",
        label=("Server", "identity"),  # their Name is "1": the server is what an admin recognises
    )


DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        "exchange_server",
        "Get-ExchangeServer",
        (".ExchangeServer",),
        (frozenset({"IsClientAccessServer", "AdminDisplayVersion", "ServerRole"}),),
        (
            _s("Name"),
            _s("Fqdn"),
            _object("AdminDisplayVersion", v.parse_server_version),
            Column("ServerRole", flags_list(v.SERVER_ROLE), "object"),
            _b("IsClientAccessServer"),
            _b("IsMailboxServer"),
            _b("IsEdgeServer"),
            _b("IsHubTransportServer"),
            _s("Site"),
            _s("Edition"),
            _s("ExchangeVersion"),
            _s("DistinguishedName"),
            _s("Guid"),
        ),
        identity=("Guid", "DistinguishedName", "Fqdn", "Name"),
        server_fields=("Fqdn", "Name"),
        description="Exchange servers: version, roles, Client Access",
    ),
    DatasetSpec(
        "service",
        "Get-Service (run on each server) or Get-CimInstance Win32_Service",
        (".ServiceController", "Win32_Service"),
        (frozenset({"ServiceName", "Status", "StartType"}), frozenset({"Name", "State", "StartMode", "SystemName"})),
        (
            _s("Name", "ServiceName"),
            _s("DisplayName", "Caption"),
            Column("Status", v.SERVICE_STATUS.parse, "string", ("State",)),
            Column("StartType", v.SERVICE_START_MODE.parse, "string", ("StartMode",)),
            Column("MachineName", _machine, "string", ("SystemName",)),
        ),
        identity=("Name",),
        server_fields=("MachineName", "SystemName"),  # SystemName: Win32_Service
        run_on_server=True,
        description="Windows services of each server",
    ),
    DatasetSpec(
        "cas_mailbox",
        "Get-CASMailbox -ResultSize Unlimited",
        (".CASMailbox",),
        (frozenset({"PopEnabled", "ImapEnabled"}),),
        (
            _s("Name"),
            _s("DisplayName"),
            _s("PrimarySmtpAddress"),
            _s("SamAccountName"),
            _b("PopEnabled"),
            _b("ImapEnabled"),
            _b("PopUseProtocolDefaults"),
            _b("ImapUseProtocolDefaults"),
            _b("MAPIEnabled"),
            _b("OWAEnabled"),
            _b("ActiveSyncEnabled"),
            _s("ServerName"),
            _list("EmailAddresses"),
            _s("Identity"),
            _s("DistinguishedName"),
            _s("Guid", "ExchangeGuid", "ExchangeObjectId"),
        ),
        identity=("Guid", "DistinguishedName", "Identity", "PrimarySmtpAddress", "Name"),
        per_server=False,
        description="Client access settings of every mailbox",
    ),
    DatasetSpec(
        "mailbox",
        "Get-Mailbox -ResultSize Unlimited",
        (".Mailbox",),
        (frozenset({"RecipientTypeDetails", "PrimarySmtpAddress", "Database"}),),
        (
            _s("Name"),
            _s("DisplayName"),
            _s("PrimarySmtpAddress"),
            _s("RecipientTypeDetails"),
            _s("Database"),
            _s("ServerName"),
            _s("Identity"),
            _s("DistinguishedName"),
            _s("Guid", "ExchangeGuid", "ExchangeObjectId"),
        ),
        identity=("Guid", "DistinguishedName", "Identity", "PrimarySmtpAddress", "Name"),
        per_server=False,
        description="Mailboxes and their kind (user, shared, room, …)",
    ),
    DatasetSpec(
        "user",
        "Get-User -ResultSize Unlimited",
        (".User",),
        (frozenset({"AuthenticationPolicy", "UserPrincipalName", "WindowsEmailAddress"}),),
        (
            _s("Name"),
            _s("UserPrincipalName"),
            _s("WindowsEmailAddress"),
            _s("RecipientTypeDetails"),
            Column("AuthenticationPolicy", unset_is_a_value=True),  # $null: the organisation's default applies
            _s("Identity"),
            _s("DistinguishedName"),
            _s("Guid"),
        ),
        identity=("Guid", "DistinguishedName", "Identity", "UserPrincipalName"),
        per_server=False,
        description="Users and their own authentication policy (Set-User -AuthenticationPolicy)",
        label=("WindowsEmailAddress", "UserPrincipalName", "Name"),
    ),
    _protocol_settings("pop_settings", "Get-PopSettings", "Pop3AdConfiguration", "MessageRetrievalSortOrder", "POP3"),
    _protocol_settings(
        "imap_settings", "Get-ImapSettings", "Imap4AdConfiguration", "ShowHiddenFoldersEnabled", "IMAP4"
    ),
    DatasetSpec(
        "exchange_certificate",
        "Get-ExchangeCertificate -Server <each server>",
        (".ExchangeCertificate",),
        # A pasted `fl` of a few properties may lack Thumbprint and Subject: its names and expiry still identify it.
        (frozenset({"Thumbprint", "Services", "NotAfter", "Subject"}), frozenset({"CertificateDomains", "NotAfter"})),
        (
            _s("Thumbprint"),
            _s("Subject"),
            _s("Issuer"),
            Column("CertificateDomains", as_text_list, "object", multi_valued=True),
            Column("Services", flags_list(v.ALLOWED_SERVICES), "object"),
            Column("Status", v.CERTIFICATE_STATUS.parse, "string"),
            _b("HasPrivateKey"),
            _b("IsSelfSigned"),
            Column("NotBefore", as_datetime, "datetime64[ns, UTC]"),
            Column("NotAfter", as_datetime, "datetime64[ns, UTC]"),
            _i("PublicKeySize"),
            _s("SignatureAlgorithm"),
            _s("Identity"),
        ),
        identity=("Thumbprint",),
        # Without -Server the cmdlet lists the certificates of the server the session ran on: PSComputerName
        # names it, though only a known Exchange server is taken (it may be a load-balanced namespace).
        server_fields=("Identity", "PSComputerName"),
        description="Certificates of each server",
    ),
    DatasetSpec(
        "server_component_state",
        "Get-ServerComponentState -Identity <each server>",
        (".ServerComponentStatePresentationObject",),
        (frozenset({"Component", "State", "ServerFqdn"}),),
        (_s("Component"), Column("State", v.COMPONENT_STATE.parse, "string"), _s("ServerFqdn"), _s("Identity")),
        identity=("Component",),
        server_fields=("ServerFqdn", "Identity"),
        description="Component states (PopProxy, ImapProxy, ServerWideOffline, …)",
    ),
    DatasetSpec(
        "receive_connector",
        "Get-ReceiveConnector",
        (".ReceiveConnector",),
        (frozenset({"Bindings", "AuthMechanism", "PermissionGroups", "TransportRole"}),),
        (
            _s("Name"),
            _s("Server"),
            _list("Bindings", v.parse_bindings),
            _s("TransportRole"),
            Column("AuthMechanism", flags_list(v.RECEIVE_AUTH_MECHANISMS), "object"),
            Column("PermissionGroups", flags_list(v.PERMISSION_GROUPS), "object"),
            _b("RequireTLS"),
            _b("Enabled"),
            _s("Fqdn"),
            _s("Identity"),
            _s("DistinguishedName"),
            _s("Guid"),
        ),
        identity=("Guid", "DistinguishedName", "Identity"),
        server_fields=("Server", "Identity", "DistinguishedName"),
        description="SMTP receive connectors (client submission on 587)",
    ),
    DatasetSpec(
        "authentication_policy",
        "Get-AuthenticationPolicy",
        (".AuthPolicy", ".AuthenticationPolicy"),
        (frozenset({"BlockLegacyAuthPop", "BlockLegacyAuthImap"}),),
        (
            _s("Name"),
            _b("BlockLegacyAuthPop"),  # not AllowBasicAuthPop: Exchange Online's, with the opposite meaning
            _b("BlockLegacyAuthImap"),
            _s("Identity"),
            _s("DistinguishedName"),
            _s("Guid"),
        ),
        identity=("Guid", "DistinguishedName", "Identity", "Name"),
        per_server=False,
        description="Authentication policies (Exchange 2019 CU2+ and SE)",
    ),
    DatasetSpec(
        "organization_config",
        "Get-OrganizationConfig",
        (".OrganizationConfig",),
        (frozenset({"DefaultAuthenticationPolicy", "OrganizationId"}),),
        (
            _s("Name"),
            Column("DefaultAuthenticationPolicy", unset_is_a_value=True),  # $null: no organisation-wide policy
            _s("Identity"),
            _s("DistinguishedName"),
            _s("Guid"),
        ),
        identity=("Guid", "DistinguishedName", "Name"),
        per_server=False,
        description="Organization-wide settings",
    ),
)
BY_NAME = {spec.name: spec for spec in DATASETS}


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
