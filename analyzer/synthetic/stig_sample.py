"""The `stig-2019` and `stig-2016` samples: an Exchange 2019 (or 2016) organisation with a Mailbox server and an
Edge server, exported as the collection script does, with a known mix of settings the DISA STIGs pass and fail —
every CAT I item that an export can decide fails once — and a site plan (policy file) that gives some of the values
the STIGs leave to the site. The 2016 organisation is the 2019 one on Exchange 2016, with what only the 2016 STIGs
read: the POP3 and IMAP4 services' registry Start values and a database availability group.

Organisation-wide settings read on the Mailbox server sit at the top; each server's own exports, the Edge server's
organisation-wide settings among them, in a folder named after it."""

from __future__ import annotations

from typing import Any

from analyzer.exchange.catalog import BY_NAME
from analyzer.synthetic import exchange_objects as ex
from analyzer.synthetic.exchange_objects import ExchangeObject

DOMAIN = "contoso.mil"
TEN_MB = "10 MB (10,485,760 bytes)"

# Values only the 2019 STIGs ask for (the IIS certificate's issuer for OWA, the audit-log role's members).
_ONLY_2019 = ("  trusted_issuers:", "  audit_log_role_members:")


def plan(version: str) -> str:
    """The site plan beside the sample of `version`: its STIGs' packs, its build, and only the values they ask."""
    text = PLAN.replace("stig-exchange-2019-", f"stig-exchange-{version}-").replace(
        "approved_build: 15.2.1544.4", "approved_build: {}.{}.{}.{}".format(*ex.VERSIONS[version])
    )
    if version == "2019":
        return text
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(_ONLY_2019))


PLAN = """\
# The site's Email Domain Security Plan, as far as exaudit needs it (synthetic). Values it leaves out stay
# not_reviewed in the report until the plan gives them.
plan: {name: Contoso Email Domain Security Plan, version: "3.1", approver: J. Doe (ISSM), date: 2026-10-01}
packs: [stig-exchange-2019-mailbox, stig-exchange-2019-edge]
params:
  approved_issuers: '^CN=contoso\\.mil Issuing CA'
  trusted_issuers: '^CN=contoso\\.mil Issuing CA'
  approved_build: 15.2.1544.4
  internet_send_connectors: [Internet, EdgeSync - Default-First-Site-Name to Internet]
  smart_hosts: [relay.contoso.mil]
  internet_receive_connectors: [Default internal receive connector EDGE01]
  audit_log_role_members: [Auditor1]
  internal_send_connectors: [EdgeSync - Inbound to Default-First-Site-Name]
  internal_smtp_domain: contoso.mil
  # The STIGs want POP3 and IMAP4 off: the POP3/IMAP4 pack then judges them as meant to be off.
  pop3_intended: disabled
  imap4_intended: disabled
"""


def _obj(dataset: str, props: dict[str, Any], extended: dict[str, Any] | None = None) -> ExchangeObject:
    """An object of `dataset` as a remote session exports it: a type name ending like the cmdlet's own."""
    suffix = BY_NAME[dataset].type_suffixes[0]
    return (f"Microsoft.Exchange.Data.Directory.SystemConfiguration{suffix}", "System.Object"), props, extended or {}


def _fact(fact: str, server: str, **props: Any) -> ExchangeObject:
    """A host fact as the collection script writes it: a PSCustomObject tagged with its export, run on the server."""
    fqdn = f"{server.lower()}.{DOMAIN}"
    return ("System.Management.Automation.PSCustomObject",), props, {"exauditFact": fact, "PSComputerName": fqdn}


def _receive(server: str, name: str, *, auth: str, groups: str, banner: str | None, timeout: str,
             secure: bool = False, port: int = 25) -> ExchangeObject:  # fmt: skip
    return _obj("receive_connector", {
        "Name": name, "Server": server, "Identity": f"{server}\\{name}", "TransportRole": "FrontendTransport",
        "Bindings": ex._strings([f"0.0.0.0:{port}"]), "AuthMechanism": auth, "PermissionGroups": groups, "Banner": banner,
        "Enabled": True, "MaxMessageSize": TEN_MB, "MaxHopCount": 60, "MaxRecipientsPerMessage": 5000,
        "MaxInboundConnection": "5000", "ConnectionTimeout": timeout, "TarpitInterval": "00:00:05",
        "ChunkingEnabled": True, "DomainSecureEnabled": secure, "Guid": ex._guid("connector", server, name),
    })  # fmt: skip


def _send(name: str, *, smart_hosts: list[str], dns: bool, tls: str | None, tls_domain: str | None,
          secure: bool, require_tls: bool = False, size: str = TEN_MB) -> ExchangeObject:  # fmt: skip
    return _obj("send_connector", {
        "Name": name, "Identity": name, "Enabled": True, "AddressSpaces": ex._strings(["SMTP:*;1"]),
        "SmartHosts": ex._strings(smart_hosts), "DNSRoutingEnabled": dns, "TlsAuthLevel": tls, "TlsDomain": tls_domain,
        "RequireTLS": require_tls,
        "DomainSecureEnabled": secure, "MaxMessageSize": size, "ConnectionInactivityTimeOut": "00:10:00",
        "Guid": ex._guid("send", name),
    })  # fmt: skip


def _transport_service(server: str, *, connectivity: bool) -> ExchangeObject:
    return _obj("transport_service", {
        "Name": server, "Identity": server, "ConnectivityLogEnabled": connectivity, "MessageTrackingLogEnabled": True,
        "MessageTrackingLogSubjectLoggingEnabled": False, "MaxOutboundConnections": "1000",
        "MaxPerDomainOutboundConnections": "20", "TransientFailureRetryCount": 6, "ExternalDNSAdapterEnabled": True,
        "ExternalDNSAdapterGuid": str(ex._guid("adapter", server)), "InternalDNSAdapterEnabled": True,
        "InternalDNSAdapterGuid": str(ex._guid("adapter", server)), "Guid": ex._guid("transport", server),
    })  # fmt: skip


def _filters(*, reputation: bool) -> dict[str, list[ExchangeObject]]:
    """The anti-spam agents' configurations (the same four cmdlets on either role)."""
    return {
        "Get-ContentFilterConfig.xml": [_obj("content_filter_config", {"Name": "ContentFilterConfig", "Enabled": True,
                                             "SCLRejectEnabled": True, "QuarantineMailbox": f"spam@{DOMAIN}"})],
        "Get-SenderFilterConfig.xml": [_obj("sender_filter_config", {"Name": "SenderFilterConfig", "Enabled": True,
                                            "BlankSenderBlockingEnabled": True, "Action": "Reject",
                                            "BlockedDomains": ex._strings([]), "BlockedDomainsAndSubdomains": ex._strings([])})],
        "Get-SenderIdConfig.xml": [_obj("sender_id_config", {"Name": "SenderIdConfig", "Enabled": True,
                                        "SpoofedDomainAction": "StampStatus", "TempErrorAction": "StampStatus"})],
        "Get-SenderReputationConfig.xml": [_obj("sender_reputation_config", {"Name": "SenderReputationConfig",
                                                "Enabled": reputation, "SrlBlockThreshold": 7, "SenderBlockingEnabled": True})],
    }  # fmt: skip


def _agents(*names: str) -> list[ExchangeObject]:
    return [
        _obj("transport_agent", {"Identity": name, "Enabled": True, "Priority": i}) for i, name in enumerate(names, 1)
    ]


def _event_levels(server: str, raised: str | None) -> list[ExchangeObject]:
    categories = ["MSExchange ADAccess\\General", "MSExchange ADAccess\\Topology", "MSExchangeTransport\\SmtpReceive"]
    return [_obj("event_log_level", {"Identity": f"{server}\\{c}", "Name": c,
                                     "EventLevel": "Low" if c == raised else "Lowest"}) for c in categories]  # fmt: skip


def _host(server: str, *, policy: str, starts: dict[str, str] | None = None) -> dict[str, list[ExchangeObject]]:
    """Execution policy and registry values; `starts`: service → its registry Start value (the 2016 STIGs read)."""
    services = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\"
    return {
        "Get-ExecutionPolicy.xml": [_fact("execution_policy", server, Scope=scope, ExecutionPolicy=value)
                                    for scope, value in (("MachinePolicy", "Undefined"), ("UserPolicy", "Undefined"),
                                                         ("LocalMachine", policy))],
        "Registry.xml": [_fact("registry", server, Key="HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
                               Name="SchUseStrongCrypto", Present=True, Value="1"),
                         *(_fact("registry", server, Key=services + name, Name="Start", Present=True, Value=start)
                           for name, start in (starts or {}).items())],
    }  # fmt: skip


def _web(server: str) -> dict[str, list[ExchangeObject]]:
    """IIS as the collection script reads it: the two Exchange sites' bindings and OWA's SSL flags."""
    sites = (
        ("Default Web Site", 1, (("http", "*:80:"), ("https", "*:443:"))),
        ("Exchange Back End", 2, (("http", "*:81:"), ("https", "*:444:"))),
    )
    return {
        "Get-WebBinding.xml": [_fact("web_binding", server, protocol=protocol, bindingInformation=binding, sslFlags="0",
                                    ItemXPath=f"/system.applicationHost/sites/site[@name='{site}' and @id='{number}']")
                               for site, number, bindings in sites for protocol, binding in bindings],
        "OwaSslFlags.xml": [_fact("owa_ssl", server, Location="Default Web Site/owa",
                                  Filter="system.webServer/security/access", SslFlags="Ssl,Ssl128")],
    }  # fmt: skip


def mailbox_server_files(leaf: bytes, version: str = "2019") -> dict[str, list[ExchangeObject]]:
    """EXCH01's own exports: POP3 services left Manual (the Exchange default; Start 3 in the registry), OWA with
    forms sign-in, one receive connector without TLS (the CAT I item), no banner set, a raised event-log level."""
    server, fqdn = "EXCH01", f"exch01.{DOMAIN}"
    services = ex.protocol_services(version, pop=("Stopped", "Manual"), imap=("Stopped", "Disabled"), ran_on=fqdn)
    starts = {"MSExchangePOP3": "3", "MSExchangeIMAP4": "4"} if version == "2016" else None
    owa = _obj("owa_virtual_directory", {
        "Name": "owa (Default Web Site)", "Server": server, "Identity": f"{server}\\owa (Default Web Site)",
        "InternalUrl": f"https://mail.{DOMAIN}/owa", "ExternalUrl": f"https://mail.{DOMAIN}/owa",
        "FormsAuthentication": True, "WindowsAuthentication": False, "BasicAuthentication": True})  # fmt: skip
    return {
        "Get-Service.xml": services,
        "Get-ExchangeCertificate.xml": [ex.exchange_certificate(server, DOMAIN, leaf, services="IMAP, POP, IIS, SMTP")],
        "Get-PopSettings.xml": [ex.protocol_settings("pop", server, DOMAIN, endpoint=fqdn, protocol_log=True)],
        "Get-ImapSettings.xml": [ex.protocol_settings("imap", server, DOMAIN, endpoint=fqdn, protocol_log=True)],
        "Get-RpcClientAccess.xml": [_obj("rpc_client_access", {"Name": "RpcClientAccess", "Server": server,
                                         "Identity": server, "EncryptionRequired": True, "BlockedClientVersions": ""})],
        "Get-OwaVirtualDirectory.xml": [owa],
        "Get-OutlookAnywhere.xml": [_obj("outlook_anywhere", {
            "Name": "Rpc (Default Web Site)", "Server": server, "Identity": f"{server}\\Rpc (Default Web Site)",
            "InternalHostname": f"mail.{DOMAIN}", "ExternalHostname": f"mail.{DOMAIN}",
            "InternalClientAuthenticationMethod": "Ntlm", "ExternalClientAuthenticationMethod": "Negotiate",
            "InternalClientsRequireSsl": True, "ExternalClientsRequireSsl": True})],
        "Get-TransportService.xml": [_transport_service(server, connectivity=True)],
        "Get-EventLogLevel.xml": _event_levels(server, "MSExchange ADAccess\\Topology"),
        "Get-ReceiveConnector.xml": [
            _receive(server, f"Default Frontend {server}", auth="Tls, Integrated, BasicAuth, BasicAuthRequireTLS",
                     groups="AnonymousUsers, ExchangeServers, ExchangeLegacyServers", banner=None, timeout="00:10:00"),
            _receive(server, f"Client Frontend {server}", auth="Tls, Integrated, BasicAuth, BasicAuthRequireTLS",
                     groups="ExchangeUsers", banner="220 SMTP Server Ready", timeout="00:10:00", port=587),
            _receive(server, "Scanner Relay", auth="Integrated", groups="AnonymousUsers",
                     banner="220 SMTP Server Ready", timeout="00:10:00"),
        ],
        "Get-TransportAgent.xml": _agents("Transport Rule Agent", "Malware Agent", "Content Filter Agent"),
        "Get-MalwareFilteringServer.xml": [_obj("malware_filtering_server", {"Name": server, "Identity": server,
                                                "UpdateFrequency": 60, "DeferAttempts": 3, "BypassFiltering": False})],
        **_host(server, policy="RemoteSigned", starts=starts),
        **_web(server),
    }  # fmt: skip


def edge_server_files(leaf: bytes) -> dict[str, list[ExchangeObject]]:
    """EDGE01's own exports, its organisation-wide settings among them: a receive connector without TLS (CAT I)
    and without domain security, the send connector into the organisation without a TLS domain (CAT I), DNS routing
    to the internet, sender ID only stamping spoofed mail, an IP Allow list entry."""
    server = "EDGE01"
    return {
        "Get-Service.xml": [ex.service("MSExchangeTransport", "Microsoft Exchange Transport", "Running", "Automatic",
                                       ran_on=f"edge01.{DOMAIN}")],
        "Get-ExchangeCertificate.xml": [ex.exchange_certificate(server, DOMAIN, leaf, services="SMTP")],
        "Get-TransportConfig.xml": [_obj("transport_config", {"Name": "Transport Settings", "Identity": "Transport Settings",
                                         "MaxReceiveSize": TEN_MB, "MaxSendSize": TEN_MB, "MaxRecipientEnvelopeLimit": "5000",
                                         "Guid": ex._guid("transport-config", server)})],
        "Get-SendConnector.xml": [
            _send("EdgeSync - Inbound to Default-First-Site-Name", smart_hosts=["--"], dns=False, tls="DomainValidation",
                  tls_domain=None, secure=False),
            _send("EdgeSync - Default-First-Site-Name to Internet", smart_hosts=[], dns=True, tls="DomainValidation",
                  tls_domain=None, secure=True),
        ],
        "Get-ReceiveConnector.xml": [
            _receive(server, f"Default internal receive connector {server}", auth="BasicAuth",
                     groups="AnonymousUsers, ExchangeServers, Partners", banner="220 SMTP Server Ready", timeout="00:05:00"),
        ],
        "Get-TransportService.xml": [_transport_service(server, connectivity=False)],
        "Get-EventLogLevel.xml": _event_levels(server, None),
        "Get-TransportAgent.xml": _agents("Connection Filtering Agent", "Content Filter Agent", "Sender Id Agent",
                                          "Sender Filter Agent", "Recipient Filter Agent", "Protocol Analysis Agent"),
        "Get-RecipientFilterConfig.xml": [_obj("recipient_filter_config", {"Name": "RecipientFilterConfig",
                                               "Enabled": True, "RecipientValidationEnabled": False})],
        "Get-IPAllowListConfig.xml": [_obj("ip_allow_list_config", {"Name": "IPAllowListConfig", "Enabled": True})],
        "Get-IPAllowListEntry.xml": [_obj("ip_allow_list_entry", {"IPRange": "192.0.2.25", "IsMachineGenerated": False,
                                          "Comment": "partner relay", "Identity": "1"})],
        "Get-IPBlockListProvider.xml": [_obj("ip_block_list_provider", {"Name": "Block list", "Identity": "Block list",
                                             "LookupDomain": "bl.contoso.mil", "Enabled": True})],
        "Get-AcceptedDomain.xml": [_obj("accepted_domain", {"Name": DOMAIN, "Identity": DOMAIN, "DomainName": DOMAIN,
                                        "DomainType": "Authoritative", "Default": True})],
        "Get-OrganizationConfig.xml": [_obj("organization_config", {"Name": "Edge", "Identity": "Edge",
                                            "CustomerFeedbackEnabled": False, "DefaultAuthenticationPolicy": None, "Guid": ex._guid("org", server)})],
        **_filters(reputation=True),
        **_host(server, policy="Unrestricted"),
    }  # fmt: skip


def _member(group: str, name: str) -> ExchangeObject:
    """Get-RoleGroupMember's answer as the collection script saves it: with the group's name added."""
    props = {
        "RoleGroup": group,
        "Name": name,
        "RecordType": "User",
        "DistinguishedName": f"CN={name},OU=Admins,DC=contoso,DC=mil",
    }
    return ("System.Management.Automation.PSCustomObject",), props, {}


def _server(name: str, *, edge: bool, error_reporting: bool, version: str) -> ExchangeObject:
    """Get-ExchangeServer -Status's answer for one server (error reporting is among what -Status adds)."""
    type_names, props, extended = ex.exchange_server(name, DOMAIN, version, edge=edge)
    return type_names, {**props, "ErrorReportingEnabled": error_reporting}, extended


def organisation_files(mailboxes: list[ExchangeObject], version: str = "2019") -> dict[str, list[ExchangeObject]]:
    """What the Mailbox server's shell reads about the organisation: a single Edge subscription (the CAT I
    redundancy item), a database with one copy, replies and NDRs to the internet, a larger send limit; on 2016, a
    database availability group (the 2016 STIG asks only that one exists)."""
    dag = {"Get-DatabaseAvailabilityGroup.xml": [_obj("database_availability_group", {
        "Name": "DAG01", "Identity": "DAG01", "Servers": ex._strings(["EXCH01"]), "WitnessServer": f"fs01.{DOMAIN}",
        "DatacenterActivationMode": "DagOnly", "Guid": ex._guid("dag", "DAG01")})]} if version == "2016" else {}  # fmt: skip
    mailbox = [_obj("mailbox", {"Name": name, "DisplayName": name.capitalize(), "PrimarySmtpAddress": f"{name}@{DOMAIN}",
                                "RecipientTypeDetails": "UserMailbox", "Database": "DB01", "ForwardingAddress": None,
                                "ForwardingSmtpAddress": forward, "Guid": ex._guid("mailbox", name)})
               for name, forward in (("ann", None), ("bob", "smtp:bob@example.com"))]  # fmt: skip
    return {
        "Get-ExchangeServer.xml": [_server("EXCH01", edge=False, error_reporting=False, version=version),
                                   _server("EDGE01", edge=True, error_reporting=True, version=version)],
        "Get-CASMailbox.xml": mailboxes,
        "Get-OrganizationConfig.xml": [_obj("organization_config", {"Name": "Contoso", "Identity": "Contoso",
                                            "CustomerFeedbackEnabled": False, "DefaultAuthenticationPolicy": None, "Guid": ex._guid("org", "Contoso")})],
        "Get-AdminAuditLogConfig.xml": [_obj("admin_audit_log_config", {"Name": "Admin Audit Log Settings",
                                             "AdminAuditLogEnabled": True, "AdminAuditLogParameters": ex._strings(["*"]),
                                             "AdminAuditLogCmdlets": ex._strings(["*"])})],
        "Get-RemoteDomain.xml": [_obj("remote_domain", {"Name": "Default", "Identity": "Default", "DomainName": "*",
                                      "AutoForwardEnabled": False, "AutoReplyEnabled": True, "AllowedOOFType": "External",
                                      "DeliveryReportEnabled": False, "NDREnabled": True})],
        "Get-TransportConfig.xml": [_obj("transport_config", {"Name": "Transport Settings", "Identity": "Transport Settings",
                                         "MaxReceiveSize": TEN_MB, "MaxSendSize": "25 MB (26,214,400 bytes)",
                                         "MaxRecipientEnvelopeLimit": "5000", "InternalSMTPServers": ex._strings(["10.0.0.10"]),
                                         "Guid": ex._guid("transport-config", "Contoso")})],
        "Get-SendConnector.xml": [_send("Internet", smart_hosts=["relay.contoso.mil"], dns=False, tls="DomainValidation",
                                        tls_domain="relay.contoso.mil", secure=False, require_tls=True)],
        "Get-MailboxDatabase.xml": [_obj("mailbox_database", {
            "Name": "DB01", "Identity": "DB01", "Server": "EXCH01", "CircularLoggingEnabled": False,
            "RetainDeletedItemsUntilBackup": True, "MountAtStartup": True, "ProhibitSendReceiveQuota": "Unlimited",
            "ProhibitSendQuota": "2 GB (2,147,483,648 bytes)", "EdbFilePath": "D:\\DB01\\DB01.edb",
            "LogFolderPath": "E:\\DB01", "DatabaseCopies": ex._strings(["DB01\\EXCH01"]), "ReplicationType": "None"})],
        "Get-EdgeSubscription.xml": [_obj("edge_subscription", {"Name": "EDGE01", "Identity": "EDGE01",
                                          "Site": f"{DOMAIN}/Configuration/Sites/Default-First-Site-Name", "Domain": DOMAIN})],
        "Get-Mailbox.xml": mailbox,
        "Get-RoleGroupMember.xml": [_member("Records Management", name) for name in ("Auditor1", "Contractor7")],
        **_filters(reputation=False),
        **dag,
    }  # fmt: skip


def stig_files(
    leaf: bytes, mailboxes: list[ExchangeObject], version: str = "2019"
) -> dict[str, tuple[str | None, list[ExchangeObject]]]:
    """Every file of the bundle: relative path → (the server it was exported on, or None; its objects). `leaf` is
    the servers' certificate, `mailboxes` the organisation's Get-CASMailbox objects."""
    found: dict[str, tuple[str | None, list[ExchangeObject]]] = {}
    parts = (("", None, organisation_files(mailboxes, version)), ("EXCH01/", "EXCH01", mailbox_server_files(leaf, version)),
             ("EDGE01/", "EDGE01", edge_server_files(leaf)))  # fmt: skip
    for prefix, server, objects in parts:
        for name, items in objects.items():
            found[prefix + name] = (server, items)
    return found
