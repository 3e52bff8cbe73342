"""Synthetic Get-CASMailbox objects with the property set and value forms of a remote Exchange session.

No public real export of Get-CASMailbox exists; the shape follows input-formats.md (depth-1 serialization: most
Exchange types arrive as strings; multi-valued properties as MultiValuedProperty lists) and the real
Exchange Online Format-List excerpt in tests/data/real/imapsync__imapsync.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from analyzer.readers.psvalues import PSDateTime, PSList
from analyzer.synthetic.exchange_objects import organisation

TYPE_NAMES = (
    "Microsoft.Exchange.Data.Directory.Management.CASMailbox",
    "Microsoft.Exchange.Data.Directory.Management.ADPresentationObject",
    "Microsoft.Exchange.Data.Directory.ADObject",
    "Microsoft.Exchange.Data.Directory.ADRawEntry",
    "Microsoft.Exchange.Data.ConfigurableObject",
    "System.Object",
)
_MULTI_VALUED = (
    "Microsoft.Exchange.Data.MultiValuedProperty`1[[System.String, mscorlib, Version=4.0.0.0, "
    "Culture=neutral, PublicKeyToken=b77a5c561934e089]]",
    "Microsoft.Exchange.Data.MultiValuedPropertyBase",
    "System.Object",
)
_PROXY_ADDRESSES = (
    "Microsoft.Exchange.Data.ProxyAddressCollection",
    "Microsoft.Exchange.Data.ProxyAddressBaseCollection`1[[Microsoft.Exchange.Data.ProxyAddress, "
    "Microsoft.Exchange.Data, Version=15.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]",
    "Microsoft.Exchange.Data.MultiValuedProperty`1[[Microsoft.Exchange.Data.ProxyAddress, "
    "Microsoft.Exchange.Data, Version=15.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]",
    "Microsoft.Exchange.Data.MultiValuedPropertyBase",
    "System.Object",
)
_ADMIN_GROUP = "/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
_EPOCH = datetime(2023, 5, 1, 8, 0, 0, tzinfo=UTC)


def _strings(values: list[str], type_names: tuple[str, ...] = _MULTI_VALUED) -> PSList:
    items = PSList(type_names)
    items.extend(values)
    return items


def cas_mailbox(
    index: int,
    *,
    servers: int = 2,
    pop_enabled: bool = True,
    imap_enabled: bool = True,
    domain: str = "contoso.com",
    server_names: tuple[str, ...] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Properties and extended members of mailbox number `index` (deterministic), in the organisation of `domain`
    whose mailbox servers are `server_names` (EXCH01, EXCH02, … when not given)."""
    alias = f"user{index:06d}"
    names = server_names or tuple(f"EXCH{n + 1:02d}" for n in range(servers))
    server = names[index % len(names)]
    org, dcs = organisation(domain)
    admin_group = f"/o={org}{_ADMIN_GROUP}"
    guid = uuid.UUID(int=(index * 2654435761) % (1 << 128) | (1 << 127))
    dn = f"CN={alias},OU=Users,OU={org},{dcs}"
    changed = PSDateTime(_EPOCH + timedelta(minutes=index), "Utc")
    props: dict[str, Any] = {
        "ExternalDirectoryObjectId": "",
        "EmailAddresses": _strings(
            [
                f"SMTP:{alias}@{domain}",
                f"smtp:{alias}@{org.lower()}.mail.onmicrosoft.com",
                f"X500:/o={org}/cn={alias}",
            ],
            _PROXY_ADDRESSES,
        ),
        "LegacyExchangeDN": f"{admin_group}/cn=Recipients/cn={alias}",
        "LinkedMasterAccount": "",
        "PrimarySmtpAddress": f"{alias}@{domain}",
        "SamAccountName": alias,
        "ServerLegacyDN": f"{admin_group}/cn=Configuration/cn=Servers/cn={server}",
        "ServerName": server.lower(),
        "DisplayName": f"User {index:06d}",
        "ActiveSyncAllowedDeviceIDs": _strings([]),
        "ActiveSyncBlockedDeviceIDs": _strings([]),
        "ActiveSyncMailboxPolicy": "Default",
        "ActiveSyncMailboxPolicyIsDefaulted": True,
        "ActiveSyncDebugLogging": False,
        "ActiveSyncEnabled": True,
        "HasActiveSyncDevicePartnership": False,
        "ActiveSyncSuppressReadReceipt": False,
        "ExternalImapSettings": None,
        "InternalImapSettings": None,
        "ExternalPopSettings": None,
        "InternalPopSettings": None,
        "ExternalSmtpSettings": None,
        "InternalSmtpSettings": None,
        "OWAEnabled": True,
        "OWAforDevicesEnabled": True,
        "OwaMailboxPolicy": None,
        "PopEnabled": pop_enabled,
        "PopUseProtocolDefaults": True,
        "PopMessagesRetrievalMimeFormat": "BestBodyFormat",
        "PopEnableExactRFC822Size": False,
        "PopProtocolLoggingEnabled": False,
        "PopSuppressReadReceipt": False,
        "PopForceICalForCalendarRetrievalOption": False,
        "ImapEnabled": imap_enabled,
        "ImapUseProtocolDefaults": True,
        "ImapMessagesRetrievalMimeFormat": "BestBodyFormat",
        "ImapEnableExactRFC822Size": False,
        "ImapProtocolLoggingEnabled": False,
        "ImapSuppressReadReceipt": False,
        "ImapForceICalForCalendarRetrievalOption": False,
        "MAPIEnabled": True,
        "MapiHttpEnabled": None,
        "UniversalOutlookEnabled": True,
        "OutlookMobileEnabled": True,
        "MAPIBlockOutlookNonCachedMode": False,
        "MAPIBlockOutlookVersions": "",
        "MAPIBlockOutlookRpcHttp": False,
        "MAPIBlockOutlookExternalConnectivity": False,
        "EwsEnabled": None,
        "EwsAllowOutlook": None,
        "EwsAllowMacOutlook": None,
        "EwsAllowEntourage": None,
        "EwsApplicationAccessPolicy": None,
        "EwsAllowList": None,
        "EwsBlockList": None,
        "ShowGalAsDefaultView": True,
        "SmtpClientAuthenticationDisabled": None,
        "HasOnlineArchive": False,
        "ECPEnabled": True,
        "PopMessageDeleteEnabled": True,
        "Name": alias,
        "AdminDisplayName": "",
        "DistinguishedName": dn,
        "Identity": f"{domain}/{org}/Users/{alias}",
        "Guid": guid,
        "ObjectCategory": f"{domain}/Configuration/Schema/Person",
        "ObjectClass": _strings(["top", "person", "organizationalPerson", "user"]),
        "WhenChanged": PSDateTime((_EPOCH + timedelta(minutes=index)).astimezone(), "Local"),
        "WhenCreated": PSDateTime((_EPOCH - timedelta(days=400)).astimezone(), "Local"),
        "WhenChangedUTC": changed,
        "WhenCreatedUTC": PSDateTime(_EPOCH - timedelta(days=400), "Utc"),
        "OrganizationId": "",
        "Id": f"{domain}/{org}/Users/{alias}",
        "OriginatingServer": f"DC01.{domain}",
        "IsValid": True,
        "ObjectState": "Unchanged",
        "ExchangeVersion": "0.10 (14.0.100.0)",
        "ExchangeObjectId": guid,
    }
    extended = {
        "PSComputerName": f"{names[0].lower()}.{domain}",
        "RunspaceId": uuid.UUID("4f1d6ed3-81ee-4120-9d38-b803867135e5"),
        "PSShowComputerName": False,
    }
    return props, extended
