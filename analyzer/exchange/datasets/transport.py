"""Mail transport: receive connectors (per server) and send connectors (organisation-wide)."""

from __future__ import annotations

from analyzer.exchange import values as v
from analyzer.exchange.cells import flags_list
from analyzer.exchange.datasets.spec import Column, DatasetSpec, boolean, text, text_list

RECEIVE_CONNECTOR = DatasetSpec(
    "receive_connector",
    "Get-ReceiveConnector",
    (".ReceiveConnector",),
    (frozenset({"Bindings", "AuthMechanism", "PermissionGroups", "TransportRole"}),),
    (
        text("Name"),
        text("Server"),
        text_list("Bindings", v.parse_bindings),
        text("TransportRole"),
        Column("AuthMechanism", flags_list(v.RECEIVE_AUTH_MECHANISMS), "object"),
        Column("PermissionGroups", flags_list(v.PERMISSION_GROUPS), "object"),
        boolean("RequireTLS"),
        boolean("Enabled"),
        text("Fqdn"),
        text("Identity"),
        text("DistinguishedName"),
        text("Guid"),
    ),
    identity=("Guid", "DistinguishedName", "Identity"),
    server_fields=("Server", "Identity", "DistinguishedName"),
    description="SMTP receive connectors (client submission on 587)",
)

SEND_CONNECTOR = DatasetSpec(
    "send_connector",
    "Get-SendConnector",
    (".SmtpSendConnectorConfig",),
    (frozenset({"SmartHosts", "DNSRoutingEnabled", "AddressSpaces"}),),
    (
        text("Name"),
        boolean("Enabled"),
        text_list("AddressSpaces"),  # SMTP:*;1 — the internet-facing connector sends to *
        text_list("SmartHosts"),
        boolean("DNSRoutingEnabled"),
        text("TlsAuthLevel"),  # EncryptionOnly, CertificateValidation, DomainValidation, or unset
        text("TlsDomain"),
        boolean("RequireTLS"),
        boolean("IgnoreSTARTTLS"),
        boolean("DomainSecureEnabled"),
        text("ProtocolLoggingLevel"),
        text_list("SourceTransportServers"),
        text("Identity"),
        text("DistinguishedName"),
        text("Guid"),
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="SMTP send connectors: where mail to other organisations goes, and how",
)
