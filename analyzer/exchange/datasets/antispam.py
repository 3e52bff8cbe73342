"""Anti-spam and anti-malware: the filter agents' configurations (on Edge servers, and on Mailbox servers once
Install-AntiSpamAgents.ps1 has run — their absence is itself what a baseline judges), the transport agents and
the malware engine's updates."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import (
    AD_OBJECT,
    Column,
    DatasetSpec,
    boolean,
    duration,
    integer,
    optional_text,
    text,
    text_list,
)


def _filter_config(name: str, noun: str, own: tuple[str, ...], columns: tuple[Column, ...], what: str) -> DatasetSpec:
    """Get-<noun> returns one <noun> object; `own` are columns only it has (beside Enabled)."""
    return DatasetSpec(
        name,
        f"Get-{noun}",
        (f".{noun}",),
        (frozenset({"Enabled", *own}),),
        (text("Name"), boolean("Enabled"), *columns, *AD_OBJECT),
        identity=("Guid", "DistinguishedName", "Identity", "Name"),
        per_server=False,  # an organisation singleton (on an Edge server, that server's own)
        description=what,
    )


CONTENT_FILTER_CONFIG = _filter_config(
    "content_filter_config", "ContentFilterConfig", ("SCLRejectThreshold", "QuarantineMailbox"),
    (boolean("SCLRejectEnabled"), integer("SCLRejectThreshold"), boolean("SCLDeleteEnabled"),
     boolean("SCLQuarantineEnabled"), optional_text("QuarantineMailbox"), boolean("ExternalMailEnabled")),
    "Content filter agent: spam confidence thresholds and actions",
)  # fmt: skip
SENDER_FILTER_CONFIG = _filter_config(
    "sender_filter_config", "SenderFilterConfig", ("BlankSenderBlockingEnabled",),
    (boolean("BlankSenderBlockingEnabled"), text_list("BlockedSenders"), text_list("BlockedDomains"),
     text_list("BlockedDomainsAndSubdomains"), text("Action"), boolean("ExternalMailEnabled")),
    "Sender filter agent: blocked senders and domains",
)  # fmt: skip
SENDER_ID_CONFIG = _filter_config(
    "sender_id_config", "SenderIdConfig", ("SpoofedDomainAction", "TempErrorAction"),
    (text("SpoofedDomainAction"), text("TempErrorAction"), boolean("ExternalMailEnabled")),
    "Sender ID agent: what is done with spoofed and unverifiable senders",
)  # fmt: skip
SENDER_REPUTATION_CONFIG = _filter_config(
    "sender_reputation_config", "SenderReputationConfig", ("SrlBlockThreshold",),
    (integer("SrlBlockThreshold"), boolean("SenderBlockingEnabled"), boolean("OpenProxyDetectionEnabled"),
     integer("SenderBlockingPeriod"), boolean("ExternalMailEnabled")),
    "Sender reputation agent: the block threshold and open-proxy detection",
)  # fmt: skip
RECIPIENT_FILTER_CONFIG = _filter_config(
    "recipient_filter_config", "RecipientFilterConfig", ("RecipientValidationEnabled",),
    (boolean("RecipientValidationEnabled"), boolean("BlockListEnabled"), text_list("BlockedRecipients"),
     boolean("ExternalMailEnabled")),
    "Recipient filter agent: recipient validation and blocked recipients",
)  # fmt: skip

TRANSPORT_AGENT = DatasetSpec(
    "transport_agent",
    "Get-TransportAgent (on each transport server)",
    (".TransportAgentObject",),  # not confirmed from a real export; the columns recognise it too
    (frozenset({"Identity", "Enabled", "Priority"}),),
    (text("Identity"), boolean("Enabled"), integer("Priority")),  # Identity: the agent's name ("Malware Agent")
    identity=("Identity",),
    description="Transport agents of each server: which are enabled, in which order",
    label=("Identity",),
)

MALWARE_FILTERING_SERVER = DatasetSpec(
    "malware_filtering_server",
    "Get-MalwareFilteringServer -Identity <each server>",
    (".MalwareFilteringServer",),  # not confirmed from a real export; the columns recognise it too
    (frozenset({"UpdateFrequency", "DeferAttempts"}),),
    (
        text("Name"),
        integer("UpdateFrequency"),  # minutes between engine and definition updates; 0: never
        duration("UpdateTimeout"),
        integer("DeferAttempts"),
        boolean("BypassFiltering"),
        text("PrimaryUpdatePath"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    server_fields=("Name", "Identity"),
    description="The anti-malware engine of each Mailbox server: how often it updates",
)
