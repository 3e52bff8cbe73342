"""Every dataset exaudit knows, one declaration per cmdlet, grouped by family:

- servers.py: Get-ExchangeServer, Get-Service, Get-ExchangeCertificate, Get-ServerComponentState
- recipients.py: Get-CASMailbox, Get-Mailbox, Get-User
- client_access.py: Get-PopSettings, Get-ImapSettings, Get-AuthenticationPolicy, Get-OwaVirtualDirectory,
  Get-OutlookAnywhere, the other virtual directories (EWS, ECP, MAPI, ActiveSync, Autodiscover),
  Get-MobileDeviceMailboxPolicy
- organisation.py: Get-OrganizationConfig, Get-AcceptedDomain
- transport.py: Get-ReceiveConnector, Get-SendConnector, Get-TransportConfig, Get-TransportService
- mailbox_databases.py: Get-MailboxDatabase
- auditing.py: Get-AdminAuditLogConfig, Get-EventLogLevel, Get-RpcClientAccess, Get-RemoteDomain
- availability.py: Get-DatabaseAvailabilityGroup, Get-MailboxDatabaseCopyStatus
- edge.py: Get-EdgeSubscription, Get-AttachmentFilterEntry, Get-IPBlockListProvider, Get-IPAllowListEntry,
  Get-IPAllowListConfig
- permissions.py: Get-RoleGroup, Get-RoleGroupMember
- antispam.py: the five anti-spam agents' configurations, Get-TransportAgent, Get-MalwareFilteringServer
- host.py: what the collection script reads on each server (ExSetup.exe's build, execution policy, registry
  values, IIS bindings, OWA's SSL flags)

spec.py says what a declaration holds; catalog.py recognises records. To add a dataset: declare it in its family
(cmdlet, type name suffix, a signature of columns only it has, typed columns, identity, which server it belongs
to), add it to DATASETS below, and give it a test that reads a real or documented export.
"""

from __future__ import annotations

from analyzer.exchange.datasets import (
    antispam,
    auditing,
    availability,
    client_access,
    edge,
    host,
    mailbox_databases,
    organisation,
    permissions,
    recipients,
    servers,
    transport,
)
from analyzer.exchange.datasets.spec import Column, DatasetSpec

# The order recognition tries them in: a record matching two signatures goes to the first.
DATASETS: tuple[DatasetSpec, ...] = (
    servers.EXCHANGE_SERVER,
    servers.SERVICE,
    recipients.CAS_MAILBOX,
    recipients.MAILBOX,
    recipients.USER,
    client_access.POP_SETTINGS,
    client_access.IMAP_SETTINGS,
    servers.EXCHANGE_CERTIFICATE,
    servers.SERVER_COMPONENT_STATE,
    transport.RECEIVE_CONNECTOR,
    client_access.AUTHENTICATION_POLICY,
    organisation.ORGANIZATION_CONFIG,
    client_access.OWA_VIRTUAL_DIRECTORY,
    organisation.ACCEPTED_DOMAIN,
    transport.SEND_CONNECTOR,
    transport.TRANSPORT_CONFIG,
    transport.TRANSPORT_SERVICE,
    mailbox_databases.MAILBOX_DATABASE,
    auditing.ADMIN_AUDIT_LOG_CONFIG,
    auditing.RPC_CLIENT_ACCESS,
    auditing.REMOTE_DOMAIN,
    client_access.OUTLOOK_ANYWHERE,
    antispam.CONTENT_FILTER_CONFIG,
    antispam.SENDER_FILTER_CONFIG,
    antispam.SENDER_ID_CONFIG,
    antispam.SENDER_REPUTATION_CONFIG,
    antispam.RECIPIENT_FILTER_CONFIG,
    antispam.MALWARE_FILTERING_SERVER,
    host.EXSETUP,
    host.REGISTRY_VALUE,
    host.WEB_BINDING,
    host.OWA_SSL,
    host.EXECUTION_POLICY,
    client_access.WEB_SERVICES_VIRTUAL_DIRECTORY,
    client_access.ECP_VIRTUAL_DIRECTORY,
    client_access.MAPI_VIRTUAL_DIRECTORY,
    client_access.ACTIVESYNC_VIRTUAL_DIRECTORY,
    client_access.AUTODISCOVER_VIRTUAL_DIRECTORY,
    client_access.MOBILE_DEVICE_MAILBOX_POLICY,
    availability.DATABASE_AVAILABILITY_GROUP,
    availability.MAILBOX_DATABASE_COPY_STATUS,
    edge.EDGE_SUBSCRIPTION,
    edge.ATTACHMENT_FILTER_ENTRY,
    edge.IP_BLOCK_LIST_PROVIDER,
    edge.IP_ALLOW_LIST_ENTRY,
    edge.IP_ALLOW_LIST_CONFIG,
    permissions.ROLE_GROUP,
    permissions.ROLE_GROUP_MEMBER,
    # Last: their signatures are the smallest (two or three common names).
    antispam.TRANSPORT_AGENT,
    auditing.EVENT_LOG_LEVEL,
)
BY_NAME = {spec.name: spec for spec in DATASETS}

__all__ = ["BY_NAME", "DATASETS", "Column", "DatasetSpec"]
