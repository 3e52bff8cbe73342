"""High availability: database availability groups and the copies of each database."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, DatasetSpec, integer, text, text_list

DATABASE_AVAILABILITY_GROUP = DatasetSpec(
    "database_availability_group",
    "Get-DatabaseAvailabilityGroup",
    (".DatabaseAvailabilityGroup",),
    (frozenset({"WitnessServer", "DatacenterActivationMode"}),),
    (
        text("Name"),
        text_list("Servers"),  # the member servers
        text("WitnessServer"),
        text("DatacenterActivationMode"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="Database availability groups and their member servers",
)

MAILBOX_DATABASE_COPY_STATUS = DatasetSpec(
    "mailbox_database_copy_status",
    "Get-MailboxDatabaseCopyStatus -Server <each server>",
    (".DatabaseCopyStatusEntry",),  # not confirmed from a real export; the columns recognise it too
    (frozenset({"CopyQueueLength", "ReplayQueueLength", "ContentIndexState"}),),
    (
        text("Name"),  # DATABASE\\SERVER
        text("DatabaseName"),
        text("MailboxServer"),
        text("Status"),  # Mounted, Healthy, Failed, …
        integer("CopyQueueLength"),
        integer("ReplayQueueLength"),
        text("ContentIndexState"),
        integer("ActivationPreference"),
        text("Identity"),
    ),
    identity=("Name", "Identity"),
    server_fields=("MailboxServer",),
    description="Each copy of each mailbox database, per server: its status and queues",
    label=("Name", "Identity"),
)
