"""Who may administer: role groups and their members (the collection script exports members per group)."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, DatasetSpec, text, text_list

ROLE_GROUP = DatasetSpec(
    "role_group",
    "Get-RoleGroup",
    (".RoleGroup",),
    (frozenset({"RoleGroupType", "Roles", "ManagedBy"}),),
    (text("Name"), text("RoleGroupType"), text_list("Roles"), text_list("Members"), text_list("ManagedBy"), *AD_OBJECT),
    identity=("Guid", "DistinguishedName", "Identity", "Name"),
    per_server=False,
    description="Role groups (RBAC) and the roles they grant",
)

ROLE_GROUP_MEMBER = DatasetSpec(
    "role_group_member",
    "Get-RoleGroupMember -Identity <each group> (with the group's name, as the collection script exports it)",
    (),
    (frozenset({"RoleGroup", "RecordType"}),),
    (
        text("RoleGroup"),
        text("Name"),
        text("RecordType"),
        text("PrimarySmtpAddress"),
        text("Identity"),
        text("DistinguishedName"),
    ),
    identity=("DistinguishedName", "Identity", "Name"),
    identity_within="RoleGroup",  # one person can be a member of several groups
    per_server=False,
    description="The members of each role group",
    label=("Name", "Identity"),
)
