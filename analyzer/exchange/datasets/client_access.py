"""How clients reach the servers: POP3 and IMAP4 settings per server, authentication policies, Outlook on the web."""

from __future__ import annotations

from analyzer.exchange import values as v
from analyzer.exchange.cells import as_int
from analyzer.exchange.datasets.spec import (
    AD_OBJECT,
    Column,
    DatasetSpec,
    boolean,
    duration,
    integer,
    limit,
    text,
    text_list,
)

_POP_IMAP_COLUMNS: tuple[Column, ...] = (
    text("Name"),
    text("Server"),
    Column("LoginType", v.parse_login_type),
    text("X509CertificateName"),
    text_list("UnencryptedOrTLSBindings", v.parse_bindings),
    text_list("SSLBindings", v.parse_bindings),
    text_list("InternalConnectionSettings", v.parse_connection_settings),
    text_list("ExternalConnectionSettings", v.parse_connection_settings),
    boolean("ProtocolLogEnabled"),
    boolean("EnableGSSAPIAndNTLMAuth"),
    text("ExtendedProtectionPolicy"),
    integer("ProxyTargetPort"),
    *AD_OBJECT,
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


POP_SETTINGS = _protocol_settings(
    "pop_settings", "Get-PopSettings", "Pop3AdConfiguration", "MessageRetrievalSortOrder", "POP3"
)
IMAP_SETTINGS = _protocol_settings(
    "imap_settings", "Get-ImapSettings", "Imap4AdConfiguration", "ShowHiddenFoldersEnabled", "IMAP4"
)

AUTHENTICATION_POLICY = DatasetSpec(
    "authentication_policy",
    "Get-AuthenticationPolicy",
    (".AuthPolicy", ".AuthenticationPolicy"),
    (frozenset({"BlockLegacyAuthPop", "BlockLegacyAuthImap"}),),
    (
        text("Name"),
        boolean("BlockLegacyAuthPop"),  # not AllowBasicAuthPop: Exchange Online's, with the opposite meaning
        boolean("BlockLegacyAuthImap"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="Authentication policies (Exchange 2019 CU2+ and SE)",
)

OWA_VIRTUAL_DIRECTORY = DatasetSpec(
    "owa_virtual_directory",
    "Get-OwaVirtualDirectory -ADPropertiesOnly",
    (".ADOwaVirtualDirectory",),
    (frozenset({"FormsAuthentication", "WindowsAuthentication", "InternalUrl", "LogonFormat"}),),
    (
        text("Name"),
        text("Server"),
        text("InternalUrl"),  # a Uri: rules look at its scheme (https)
        text("ExternalUrl"),
        boolean("SMimeEnabled"),
        boolean("FormsAuthentication"),
        boolean("WindowsAuthentication"),
        boolean("BasicAuthentication"),
        boolean("DigestAuthentication"),
        boolean("AdfsAuthentication"),
        boolean("OAuthAuthentication"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity"),
    server_fields=("Server", "Identity", "DistinguishedName"),
    description="Outlook on the web virtual directories: URLs and sign-in methods",
    label=("Identity", "Server", "Name"),
)

OUTLOOK_ANYWHERE = DatasetSpec(
    "outlook_anywhere",
    "Get-OutlookAnywhere -ADPropertiesOnly",
    (".ADRpcHttpVirtualDirectory",),
    (frozenset({"InternalClientAuthenticationMethod", "ExternalClientAuthenticationMethod"}),),
    (
        text("Name"),
        text("Server"),
        text("InternalHostname"),
        text("ExternalHostname"),
        text("InternalClientAuthenticationMethod"),  # Basic, Ntlm, Negotiate
        text("ExternalClientAuthenticationMethod"),
        boolean("InternalClientsRequireSsl"),
        boolean("ExternalClientsRequireSsl"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity"),
    server_fields=("Server", "Identity", "DistinguishedName"),
    description="Outlook Anywhere (RPC over HTTP) of each server: host names and client authentication",
    label=("Identity", "Server", "Name"),
)


def _virtual_directory(name: str, noun: str, type_name: str, own: tuple[str, ...], what: str) -> DatasetSpec:
    """The IIS applications of Exchange (Get-<noun>VirtualDirectory -ADPropertiesOnly): URLs, sign-in methods and
    Extended Protection, one object per server; `own` are columns only this directory has."""
    return DatasetSpec(
        name,
        f"Get-{noun}VirtualDirectory -ADPropertiesOnly",
        (f".{type_name}",),
        (frozenset({"InternalUrl", *own}),) if own else (),
        (
            text("Name"),
            text("Server"),
            text("InternalUrl"),
            text("ExternalUrl"),
            text("ExtendedProtectionTokenChecking"),  # None, Allow, Require
            boolean("BasicAuthentication"),
            boolean("WindowsAuthentication"),
            boolean("OAuthAuthentication"),
            *AD_OBJECT,
        ),
        identity=("Guid", "DistinguishedName", "Identity"),
        server_fields=("Server", "Identity", "DistinguishedName"),
        description=what,
        label=("Identity", "Server", "Name"),
    )


WEB_SERVICES_VIRTUAL_DIRECTORY = _virtual_directory(
    "web_services_virtual_directory", "WebServices", "ADWebServicesVirtualDirectory", ("MRSProxyEnabled",),
    "Exchange Web Services virtual directories",
)  # fmt: skip
ECP_VIRTUAL_DIRECTORY = _virtual_directory(
    "ecp_virtual_directory", "Ecp", "ADEcpVirtualDirectory", ("AdminEnabled", "OwaOptionsEnabled"),
    "Exchange admin center (ECP) virtual directories",
)  # fmt: skip
MAPI_VIRTUAL_DIRECTORY = _virtual_directory(
    "mapi_virtual_directory", "Mapi", "ADMapiVirtualDirectory", ("IISAuthenticationMethods",),
    "MAPI over HTTP virtual directories",
)  # fmt: skip
ACTIVESYNC_VIRTUAL_DIRECTORY = _virtual_directory(
    "activesync_virtual_directory", "ActiveSync", "ADMobileVirtualDirectory", ("BadItemReportingEnabled",),
    "Exchange ActiveSync virtual directories",
)  # fmt: skip
AUTODISCOVER_VIRTUAL_DIRECTORY = _virtual_directory(
    "autodiscover_virtual_directory", "Autodiscover", "ADAutodiscoverVirtualDirectory", (),
    "Autodiscover virtual directories (recognised by type name only: no column is its own)",
)  # fmt: skip

MOBILE_DEVICE_MAILBOX_POLICY = DatasetSpec(
    "mobile_device_mailbox_policy",
    "Get-MobileDeviceMailboxPolicy",
    (".MobileMailboxPolicy",),
    (frozenset({"PasswordEnabled", "AllowSimplePassword", "MinPasswordLength"}),),
    (
        text("Name"),
        boolean("IsDefault"),
        boolean("PasswordEnabled"),
        boolean("AllowSimplePassword"),
        boolean("AlphanumericPasswordRequired"),
        Column("MinPasswordLength", as_int, "Int64", unset_is_a_value=True),  # $null: no minimum
        boolean("DeviceEncryptionEnabled"),
        boolean("RequireDeviceEncryption"),
        boolean("AllowNonProvisionableDevices"),
        integer("PasswordHistory"),
        limit("MaxPasswordFailedAttempts"),  # Unlimited: never wiped or locked
        duration("PasswordExpiration"),  # Unlimited: never expires
        duration("DevicePolicyRefreshInterval"),
        duration("MaxInactivityTimeLock"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="Mobile device mailbox policies: device passwords and encryption",
)
