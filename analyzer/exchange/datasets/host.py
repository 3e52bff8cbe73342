"""Facts read on each server itself by the collection script (`exauditFact` tags each object): the installed
build of ExSetup.exe, the PowerShell execution policy, registry values, IIS bindings and OWA's SSL setting.
The script writes each into the server's folder, which attributes it."""

from __future__ import annotations

from analyzer.exchange import values as v
from analyzer.exchange.datasets.spec import Column, DatasetSpec, boolean, optional_text, text

EXSETUP = DatasetSpec(
    "exsetup",
    "ExSetup.exe's VersionInfo on each server (the collection script's ExSetup.xml)",
    (".FileVersionInfo",),
    (frozenset({"FileVersion", "ProductVersion", "FileName"}),),
    # FileVersion is the build with its security update (15.02.1544.014), which AdminDisplayVersion lacks.
    (text("FileName"), text("FileVersion"), text("ProductVersion")),
    identity=("FileName",),
    run_on_server=True,
    description="The installed build of each server, with its security update (ExSetup.exe)",
    label=("FileVersion", "FileName"),
)

EXECUTION_POLICY = DatasetSpec(
    "execution_policy",
    "Get-ExecutionPolicy -List on each server",
    (),  # PSCustomObjects: by their columns
    (frozenset({"Scope", "ExecutionPolicy"}),),
    # The first scope with a policy other than Undefined (MachinePolicy, UserPolicy, Process, CurrentUser,
    # LocalMachine) is the one in force.
    (Column("Scope", v.EXECUTION_POLICY_SCOPE.parse), Column("ExecutionPolicy", v.EXECUTION_POLICY.parse)),
    identity=("Scope",),
    run_on_server=True,
    description="PowerShell execution policy of each server, per scope",
    label=("Scope",),
)

REGISTRY_VALUE = DatasetSpec(
    "registry_value",
    "Get-ItemProperty on each server (SchUseStrongCrypto; the POP3 and IMAP4 services' Start)",
    (),
    (frozenset({"exauditFact", "Key", "Present", "Value"}),),
    (text("Key"), text("Name"), boolean("Present"), optional_text("Value")),  # no Value: not set
    identity=("Key", "Name"),
    run_on_server=True,
    description="Registry values the baselines read, as found on each server (Present false: not set)",
    label=("Name", "Key"),
)

WEB_BINDING = DatasetSpec(
    "web_binding",
    "Get-WebBinding on each server",
    (".ConfigurationElement#bindings#binding",),
    (frozenset({"protocol", "bindingInformation"}),),
    (text("protocol"), text("bindingInformation"), text("sslFlags"), text("ItemXPath")),
    identity=("bindingInformation", "protocol"),
    identity_within="ItemXPath",  # ItemXPath names the site: every binding of a site shares it
    run_on_server=True,
    description="IIS site bindings of each server (protocol, address:port:host)",
    label=("bindingInformation", "protocol"),
)

OWA_SSL = DatasetSpec(
    "owa_ssl",
    "Get-WebConfigurationProperty system.webServer/security/access sslFlags (Default Web Site/owa)",
    (),
    (frozenset({"Location", "Filter", "SslFlags"}),),
    (text("Location"), text("Filter"), text("SslFlags")),  # SslFlags: Ssl, Ssl128, SslNegotiateCert, …
    identity=("Location",),
    run_on_server=True,
    description="Whether IIS requires SSL for Outlook on the web, per server",
    label=("Location",),
)
