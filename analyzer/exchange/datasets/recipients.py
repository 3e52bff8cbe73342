"""Mailboxes and users: Get-CASMailbox, Get-Mailbox and Get-User, organisation-wide."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, Column, DatasetSpec, boolean, optional_text, text, text_list

CAS_MAILBOX = DatasetSpec(
    "cas_mailbox",
    "Get-CASMailbox -ResultSize Unlimited",
    (".CASMailbox",),
    (frozenset({"PopEnabled", "ImapEnabled"}),),
    (
        text("Name"),
        text("DisplayName"),
        text("PrimarySmtpAddress"),
        text("SamAccountName"),
        boolean("PopEnabled"),
        boolean("ImapEnabled"),
        boolean("PopUseProtocolDefaults"),
        boolean("ImapUseProtocolDefaults"),
        boolean("MAPIEnabled"),
        boolean("OWAEnabled"),
        boolean("ActiveSyncEnabled"),
        text("ServerName"),
        text_list("EmailAddresses"),
        text("Identity"),
        text("DistinguishedName"),
        text("Guid", "ExchangeGuid", "ExchangeObjectId"),
    ),
    identity=("Guid", "DistinguishedName", "Identity", "PrimarySmtpAddress", "Name"),
    per_server=False,
    description="Client access settings of every mailbox",
)

MAILBOX = DatasetSpec(
    "mailbox",
    "Get-Mailbox -ResultSize Unlimited",
    (".Mailbox",),
    (frozenset({"RecipientTypeDetails", "PrimarySmtpAddress", "Database"}),),
    (
        text("Name"),
        text("DisplayName"),
        text("PrimarySmtpAddress"),
        text("RecipientTypeDetails"),
        text("Database"),
        text("ServerName"),
        optional_text("ForwardingAddress"),  # a recipient in the organisation the mailbox's mail also goes to
        optional_text("ForwardingSmtpAddress"),  # an SMTP address, possibly outside the organisation
        boolean("DeliverToMailboxAndForward"),
        text("Identity"),
        text("DistinguishedName"),
        text("Guid", "ExchangeGuid", "ExchangeObjectId"),
    ),
    identity=("Guid", "DistinguishedName", "Identity", "PrimarySmtpAddress", "Name"),
    per_server=False,
    description="Mailboxes, their kind (user, shared, room, …) and where their mail is forwarded",
)

USER = DatasetSpec(
    "user",
    "Get-User -ResultSize Unlimited",
    (".User",),
    (frozenset({"AuthenticationPolicy", "UserPrincipalName", "WindowsEmailAddress"}),),
    (
        text("Name"),
        text("UserPrincipalName"),
        text("WindowsEmailAddress"),
        text("RecipientTypeDetails"),
        Column("AuthenticationPolicy", unset_is_a_value=True),  # $null: the organisation's default applies
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "UserPrincipalName"),
    per_server=False,
    description="Users and their own authentication policy (Set-User -AuthenticationPolicy)",
    label=("WindowsEmailAddress", "UserPrincipalName", "Name"),
)
