"""Mail transport: receive connectors (per server) and send connectors (organisation-wide)."""

from __future__ import annotations

from analyzer.exchange import values as v
from analyzer.exchange.cells import flags_list
from analyzer.exchange.datasets.spec import (
    AD_OBJECT,
    Column,
    DatasetSpec,
    boolean,
    duration,
    integer,
    limit,
    optional_text,
    size,
    text,
    text_list,
)

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
        optional_text("Banner"),
        size("MaxMessageSize"),
        integer("MaxHopCount"),
        integer("MaxRecipientsPerMessage"),
        limit("MaxInboundConnection"),
        limit("MaxInboundConnectionPerSource"),
        duration("ConnectionTimeout"),
        duration("TarpitInterval"),
        boolean("ChunkingEnabled"),
        boolean("DomainSecureEnabled"),
        text("ProtocolLoggingLevel"),
        *AD_OBJECT,
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
        optional_text("TlsAuthLevel"),  # EncryptionOnly, CertificateValidation, DomainValidation, or unset
        optional_text("TlsDomain"),
        boolean("RequireTLS"),
        boolean("IgnoreSTARTTLS"),
        boolean("DomainSecureEnabled"),
        text("ProtocolLoggingLevel"),
        size("MaxMessageSize"),
        duration("ConnectionInactivityTimeOut"),
        text_list("SourceTransportServers"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="SMTP send connectors: where mail to other organisations goes, and how",
)

TRANSPORT_CONFIG = DatasetSpec(
    "transport_config",
    "Get-TransportConfig",
    (".TransportConfigContainer",),
    (frozenset({"MaxReceiveSize", "MaxSendSize", "MaxRecipientEnvelopeLimit"}),),
    (
        text("Name"),
        size("MaxReceiveSize"),
        size("MaxSendSize"),
        limit("MaxRecipientEnvelopeLimit"),
        text_list("InternalSMTPServers"),
        text_list("TLSReceiveDomainSecureList"),
        text_list("TLSSendDomainSecureList"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,  # an organisation singleton (on an Edge server, that server's own)
    description="Organisation-wide transport settings: message size and recipient limits",
)

TRANSPORT_SERVICE = DatasetSpec(
    "transport_service",
    "Get-TransportService",
    (".TransportServer",),  # not confirmed from a real export; the columns recognise it too
    (frozenset({"ConnectivityLogEnabled", "MessageTrackingLogEnabled", "MaxOutboundConnections"}),),
    (
        text("Name"),
        boolean("ConnectivityLogEnabled"),
        boolean("MessageTrackingLogEnabled"),
        boolean("MessageTrackingLogSubjectLoggingEnabled"),
        limit("MaxOutboundConnections"),
        limit("MaxPerDomainOutboundConnections"),
        integer("TransientFailureRetryCount"),
        text("ConnectivityLogPath"),
        text("MessageTrackingLogPath"),
        text("ReceiveProtocolLogPath"),
        text("SendProtocolLogPath"),
        optional_text("PickupDirectoryPath"),  # $null: no pickup directory
        # Which DNS servers the transport service resolves with: a network adapter's, or a list of its own.
        boolean("ExternalDNSAdapterEnabled"),
        optional_text("ExternalDNSAdapterGuid"),
        text_list("ExternalDNSServers"),
        boolean("InternalDNSAdapterEnabled"),
        optional_text("InternalDNSAdapterGuid"),
        text_list("InternalDNSServers"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    server_fields=("Name", "Identity", "DistinguishedName"),  # one object per transport server, named after it
    description="The transport service of each server: logging and connection limits",
)
