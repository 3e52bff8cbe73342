"""What is logged and who may see it: admin audit logging, diagnostic event levels, RPC encryption, remote domains."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, DatasetSpec, boolean, duration, text, text_list

ADMIN_AUDIT_LOG_CONFIG = DatasetSpec(
    "admin_audit_log_config",
    "Get-AdminAuditLogConfig",
    (".AdminAuditLogConfig",),
    (frozenset({"AdminAuditLogEnabled", "AdminAuditLogParameters"}),),
    (
        text("Name"),
        boolean("AdminAuditLogEnabled"),
        text_list("AdminAuditLogCmdlets"),
        text_list("AdminAuditLogParameters"),
        text_list("AdminAuditLogExcludedCmdlets"),
        duration("AdminAuditLogAgeLimit"),
        text("LogLevel"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="Administrator audit logging: on or off, and which cmdlets and parameters it records",
)

EVENT_LOG_LEVEL = DatasetSpec(
    "event_log_level",
    "Get-EventLogLevel -Server <each server>",
    (".EventCategoryObject",),  # not confirmed from a real export; the columns recognise it too
    (frozenset({"EventLevel", "Identity"}),),
    (text("Identity"), text("EventLevel"), text("Name")),  # Identity: `Service\Category`; EventLevel Lowest … Expert
    identity=("Identity",),
    description="Diagnostic logging level of each event category, per server (attributed by the file's folder)",
    label=("Identity",),
)

RPC_CLIENT_ACCESS = DatasetSpec(
    "rpc_client_access",
    "Get-RpcClientAccess",
    (".ExchangeRpcClientAccess",),  # not confirmed from a real export; the columns recognise it too
    (frozenset({"EncryptionRequired", "BlockedClientVersions"}),),
    (
        text("Name"),
        text("Server"),
        boolean("EncryptionRequired"),
        text("BlockedClientVersions"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Server"),
    server_fields=("Server", "Identity"),
    description="RPC client access (MAPI) settings of each Mailbox server: is encryption required",
    label=("Server", "identity"),
)

REMOTE_DOMAIN = DatasetSpec(
    "remote_domain",
    "Get-RemoteDomain",
    (".DomainContentConfig",),
    (frozenset({"DomainName", "AutoForwardEnabled", "AllowedOOFType"}),),
    (
        text("Name"),
        text("DomainName"),
        boolean("AutoForwardEnabled"),
        boolean("AutoReplyEnabled"),
        text("AllowedOOFType"),
        boolean("DeliveryReportEnabled"),
        boolean("NDREnabled"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "DomainName"),
    per_server=False,
    description="Remote domains: automatic forwarding, replies and reports to other organisations",
    label=("DomainName", "Name", "identity"),
)
