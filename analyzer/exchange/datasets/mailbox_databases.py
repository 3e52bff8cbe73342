"""Mailbox databases (organisation-wide from Active Directory): logging, retention, quotas, mounting."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, DatasetSpec, boolean, duration, size, text, text_list

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
        text_list("DatabaseCopies"),  # DB01\EXCH01, DB01\EXCH02: one entry per copy, the active one included
        text("ReplicationType"),  # Remote once the database has a copy on another server
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,  # a database may have copies on several servers; `Server` names the active one
    description="Mailbox databases: circular logging, deleted-item retention, quotas",
)
