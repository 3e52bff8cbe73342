"""The servers themselves: Get-ExchangeServer, their Windows services, certificates and component states."""

from __future__ import annotations

from analyzer.exchange import values as v
from analyzer.exchange.cells import as_datetime, as_text_list, flags_list
from analyzer.exchange.datasets.spec import Column, DatasetSpec, boolean, integer, machine, text, typed

EXCHANGE_SERVER = DatasetSpec(
    "exchange_server",
    "Get-ExchangeServer",
    (".ExchangeServer",),
    (frozenset({"IsClientAccessServer", "AdminDisplayVersion", "ServerRole"}),),
    (
        text("Name"),
        text("Fqdn"),
        typed("AdminDisplayVersion", v.parse_server_version),
        Column("ServerRole", flags_list(v.SERVER_ROLE), "object"),
        boolean("IsClientAccessServer"),
        boolean("IsMailboxServer"),
        boolean("IsEdgeServer"),
        boolean("IsHubTransportServer"),
        text("Site"),
        text("Edition"),
        text("ExchangeVersion"),
        boolean("ErrorReportingEnabled"),  # sends error reports to Microsoft (the STIGs want it off)
        boolean("CustomerFeedbackEnabled"),
        text("DistinguishedName"),
        text("Guid"),
    ),
    identity=("Guid", "DistinguishedName", "Fqdn", "Name"),
    server_fields=("Fqdn", "Name"),
    description="Exchange servers: version, roles, Client Access",
)

SERVICE = DatasetSpec(
    "service",
    "Get-Service (run on each server) or Get-CimInstance Win32_Service",
    (".ServiceController", "Win32_Service"),
    (frozenset({"ServiceName", "Status", "StartType"}), frozenset({"Name", "State", "StartMode", "SystemName"})),
    (
        text("Name", "ServiceName"),
        text("DisplayName", "Caption"),
        Column("Status", v.SERVICE_STATUS.parse, "string", ("State",)),
        Column("StartType", v.SERVICE_START_MODE.parse, "string", ("StartMode",)),
        Column("MachineName", machine, "string", ("SystemName",)),
    ),
    identity=("Name",),
    server_fields=("MachineName", "SystemName"),  # SystemName: Win32_Service
    run_on_server=True,
    description="Windows services of each server",
)

EXCHANGE_CERTIFICATE = DatasetSpec(
    "exchange_certificate",
    "Get-ExchangeCertificate -Server <each server>",
    (".ExchangeCertificate",),
    # A pasted `fl` of a few properties may lack Thumbprint and Subject: its names and expiry still identify it.
    (frozenset({"Thumbprint", "Services", "NotAfter", "Subject"}), frozenset({"CertificateDomains", "NotAfter"})),
    (
        text("Thumbprint"),
        text("Subject"),
        text("Issuer"),
        Column("CertificateDomains", as_text_list, "object", multi_valued=True),
        Column("Services", flags_list(v.ALLOWED_SERVICES), "object"),
        Column("Status", v.CERTIFICATE_STATUS.parse, "string"),
        boolean("HasPrivateKey"),
        boolean("IsSelfSigned"),
        Column("NotBefore", as_datetime, "datetime64[ns, UTC]"),
        Column("NotAfter", as_datetime, "datetime64[ns, UTC]"),
        integer("PublicKeySize"),
        text("SignatureAlgorithm"),
        text("Identity"),
    ),
    identity=("Thumbprint",),
    # Without -Server the cmdlet lists the certificates of the server the session ran on: PSComputerName
    # names it, though only a known Exchange server is taken (it may be a load-balanced namespace).
    server_fields=("Identity", "PSComputerName"),
    description="Certificates of each server",
)

SERVER_COMPONENT_STATE = DatasetSpec(
    "server_component_state",
    "Get-ServerComponentState -Identity <each server>",
    (".ServerComponentStatePresentationObject",),
    (frozenset({"Component", "State", "ServerFqdn"}),),
    (text("Component"), Column("State", v.COMPONENT_STATE.parse, "string"), text("ServerFqdn"), text("Identity")),
    identity=("Component",),
    server_fields=("ServerFqdn", "Identity"),
    description="Component states (PopProxy, ImapProxy, ServerWideOffline, …)",
)
