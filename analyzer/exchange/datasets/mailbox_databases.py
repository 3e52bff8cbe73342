"""Mailbox databases (organisation-wide from Active Directory): logging, retention, quotas, mounting."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, DatasetSpec, boolean, duration, size, text

MAILBOX_DATABASE = DatasetSpec(
    "mailbox_database",
    "Get-MailboxDatabase",
    (".MailboxDatabase",),
    (frozenset({"CircularLoggingEnabled", "EdbFilePath", "ProhibitSendQuota"}),),
    (
        text("Name"),
        text("Server"),
        boolean("CircularLoggingEnabled"),
        boolean("RetainDeletedItemsUntilBackup"),
        boolean("MountAtStartup"),
        size("ProhibitSendReceiveQuota"),
        size("ProhibitSendQuota"),
        size("IssueWarningQuota"),
        duration("DeletedItemRetention"),
        duration("MailboxRetention"),
        text("EdbFilePath"),
        text("LogFolderPath"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,  # a database may have copies on several servers; `Server` names the active one
    description="Mailbox databases: circular logging, deleted-item retention, quotas",
)
