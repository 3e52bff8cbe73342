"""What an Edge Transport server holds for itself: its subscription to the organisation, attachment filtering and
IP allow and block lists (on a Mailbox server only with the anti-spam agents installed)."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, DatasetSpec, boolean, text

EDGE_SUBSCRIPTION = DatasetSpec(
    "edge_subscription",
    "Get-EdgeSubscription",
    (".EdgeSubscription",),
    (frozenset({"Site", "Domain", "Name"}),),
    (text("Name"), text("Site"), text("Domain"), *AD_OBJECT),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,  # one object per subscribed Edge server, read on a Mailbox server
    about_edge=True,
    description="Edge subscriptions: which Edge servers are synchronised with the organisation",
)

# Recognised by type name only: Type, Name and Identity alone would claim unrelated exports.
ATTACHMENT_FILTER_ENTRY = DatasetSpec(
    "attachment_filter_entry",
    "Get-AttachmentFilterEntry",
    (".AttachmentFilterEntrySpecification",),  # not confirmed from a real export
    (),
    (text("Name"), text("Type"), text("Identity")),  # Type: FileName or ContentType; Identity: `FileName:*.exe`
    identity=("Identity", "Name"),
    description="Attachment filter entries of each Edge server (file names and content types blocked)",
    label=("Identity", "Name"),
)

IP_BLOCK_LIST_PROVIDER = DatasetSpec(
    "ip_block_list_provider",
    "Get-IPBlockListProvider",
    (".IPBlockListProvider",),
    (frozenset({"LookupDomain", "RejectionResponse"}),),
    (text("Name"), text("LookupDomain"), boolean("Enabled"), text("RejectionResponse"), *AD_OBJECT),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="IP block list providers (real-time block lists) the connection filter asks",
)

IP_ALLOW_LIST_ENTRY = DatasetSpec(
    "ip_allow_list_entry",
    "Get-IPAllowListEntry -Server <each server>",
    (".IPAllowListEntry",),
    (frozenset({"IPRange", "ExpirationTime", "IsMachineGenerated"}),),
    (text("Identity"), text("IPRange"), text("ExpirationTime"), boolean("IsMachineGenerated"), text("Comment")),
    identity=("Identity", "IPRange"),
    description="IP allow list entries of each server (an empty list is what the baselines ask for)",
    label=("IPRange", "Identity"),
)

# Recognised by type name only: its columns (Enabled, ExternalMailEnabled, InternalMailEnabled) are every agent's.
IP_ALLOW_LIST_CONFIG = DatasetSpec(
    "ip_allow_list_config",
    "Get-IPAllowListConfig",
    (".IPAllowListConfig",),
    (),
    (text("Name"), boolean("Enabled"), boolean("ExternalMailEnabled"), boolean("InternalMailEnabled"), *AD_OBJECT),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="Whether the IP allow list is used",
)
