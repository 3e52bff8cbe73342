"""Organisation-wide settings: Get-OrganizationConfig and the accepted domains."""

from __future__ import annotations

from analyzer.exchange.datasets.spec import AD_OBJECT, Column, DatasetSpec, boolean, text

ORGANIZATION_CONFIG = DatasetSpec(
    "organization_config",
    "Get-OrganizationConfig",
    (".OrganizationConfig",),
    (frozenset({"DefaultAuthenticationPolicy", "OrganizationId"}),),
    (
        text("Name"),
        Column("DefaultAuthenticationPolicy", unset_is_a_value=True),  # $null: no organisation-wide policy
        boolean("CustomerFeedbackEnabled"),  # the Customer Experience Improvement Program (the STIGs want it off)
        boolean("MapiHttpEnabled"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Name"),
    per_server=False,
    description="Organization-wide settings",
)

ACCEPTED_DOMAIN = DatasetSpec(
    "accepted_domain",
    "Get-AcceptedDomain",
    (".AcceptedDomain",),
    (frozenset({"DomainName", "DomainType", "Default"}),),
    (
        text("Name"),
        text("DomainName"),
        text("DomainType"),  # Authoritative, InternalRelay, ExternalRelay
        boolean("Default"),
        *AD_OBJECT,
    ),
    identity=("Guid", "DistinguishedName", "Identity", "DomainName"),
    per_server=False,
    description="The domains the organisation accepts mail for",
    label=("DomainName", "Name", "identity"),
)
