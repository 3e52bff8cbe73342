"""Exchange value forms → plain Python values, whichever format delivered them.

A value may arrive typed (CLIXML local shell: PSEnum, PSObject with properties), as its ToString (remote
sessions serialize Exchange types at depth 1, Export-Csv and Format-List print ToString), or as a number
(ConvertTo-Json writes enums as numbers). Each parser accepts all of these. A value it cannot read raises
ValueError with the reason; the dataset layer records that as a problem of the cell, never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analyzer.readers.psvalues import PSEnum, PSObject, PSTimeSpan


def text_of(value: Any) -> str | None:
    """The string a value shows: ToString for objects, the name for enums, None for null."""
    if type(value) is str:  # the common case first: most cells are plain strings
        return value
    if value is None:
        return None
    if isinstance(value, PSEnum):
        return value.name
    if isinstance(value, PSObject):
        return (
            value.to_string if value.to_string is not None else (str(value.value) if value.value is not None else None)
        )
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


_BOOLEAN_TEXT = {"True": True, "False": False, "true": True, "false": False}


def parse_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    known = _BOOLEAN_TEXT.get(value) if type(value) is str else None  # Export-Csv's spelling, without a strip
    if known is not None:
        return known
    text = str(value).strip()
    if text == "":
        return None
    if text.lower() in ("true", "1", "$true"):
        return True
    if text.lower() in ("false", "0", "$false"):
        return False
    raise ValueError(f"expected True or False, got {text!r}")


# -- Enums: given by name (any case) or number; flags as comma lists ------------------------------------------


@dataclass(frozen=True)
class EnumSpec:
    """An enum's names by number. `flags` enums combine names; numbers absent from the table are kept as
    `Unknown(n)` rather than guessed."""

    type_name: str
    names: dict[int, str]
    flags: bool = False
    aliases: tuple[tuple[str, str], ...] = ()

    def name_of(self, number: int) -> str:
        if not self.flags:
            return self.names.get(number, f"Unknown({number})")
        if number == 0:
            return self.names.get(0, "None")
        parts = [name for bit, name in sorted(self.names.items()) if bit and number & bit == bit]
        rest = number & ~sum(bit for bit in self.names if number & bit == bit)
        if rest:
            parts.append(f"Unknown(0x{rest:X})")
        return ", ".join(parts)

    def canonical(self, text: str) -> str:
        lowered = {name.lower(): name for name in self.names.values()}
        lowered.update({alias.lower(): name for alias, name in self.aliases})
        pieces = [piece.strip() for piece in text.split(",")] if self.flags else [text.strip()]
        out = []
        for piece in pieces:
            if piece.lower() not in lowered:
                raise ValueError(f"{piece!r} is not a {self.type_name.rsplit('.', 1)[-1]} value")
            out.append(lowered[piece.lower()])
        return ", ".join(out)

    def parse(self, value: Any) -> str | None:
        """The enum value's name (flags: comma-joined names), from a PSEnum, a name or a number."""
        if value is None:
            return None
        if isinstance(value, PSEnum):
            return (
                self.canonical(value.name)
                if value.name and not value.name.lstrip("-").isdigit()
                else self.name_of(value.value)
            )
        if isinstance(value, int) and not isinstance(value, bool):
            return self.name_of(value)
        text = str(value).strip()
        if text == "":
            return None
        if text.lstrip("-").isdigit():
            return self.name_of(int(text))
        return self.canonical(text)


SERVICE_STATUS = EnumSpec(
    "System.ServiceProcess.ServiceControllerStatus",
    {
        1: "Stopped",
        2: "StartPending",
        3: "StopPending",
        4: "Running",
        5: "ContinuePending",
        6: "PausePending",
        7: "Paused",
    },
    # Win32_Service.State spells the pending states with a space.
    aliases=tuple((f"{verb} Pending", f"{verb}Pending") for verb in ("Start", "Stop", "Continue", "Pause")),
)
SERVICE_START_MODE = EnumSpec(
    "System.ServiceProcess.ServiceStartMode",
    {0: "Boot", 1: "System", 2: "Automatic", 3: "Manual", 4: "Disabled"},
    aliases=(("Auto", "Automatic"),),  # Win32_Service.StartMode
)
SERVER_ROLE = EnumSpec(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.ServerRole",
    {0: "None", 2: "Mailbox", 4: "ClientAccess", 16: "UnifiedMessaging", 32: "HubTransport", 64: "Edge"},
    flags=True,
)
ALLOWED_SERVICES = EnumSpec(
    "Microsoft.Exchange.Management.SystemConfigurationTasks.AllowedServices",
    {0: "None", 1: "IMAP", 2: "POP", 4: "UM", 8: "IIS", 16: "SMTP", 32: "Federation", 64: "UMCallRouter"},
    flags=True,
)
# Receive connector flags (Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthMechanisms and
# Microsoft.Exchange.Data.PermissionGroups); exports show them as "Tls, Integrated" or as the number.
RECEIVE_AUTH_MECHANISMS = EnumSpec(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthMechanisms",
    {
        0: "None",
        1: "Tls",
        2: "Integrated",
        4: "BasicAuth",
        8: "BasicAuthRequireTLS",
        16: "ExchangeServer",
        32: "ExternalAuthoritative",
    },
    flags=True,
)
PERMISSION_GROUPS = EnumSpec(
    "Microsoft.Exchange.Data.PermissionGroups",
    {
        0: "None",
        1: "AnonymousUsers",
        2: "ExchangeUsers",
        4: "ExchangeServers",
        8: "ExchangeLegacyServers",
        16: "Partners",
        32: "Custom",
    },
    flags=True,
)
CERTIFICATE_STATUS = EnumSpec(
    "Microsoft.Exchange.Management.SystemConfigurationTasks.CertificateStatus",
    {
        0: "Unknown",
        1: "Valid",
        2: "Revoked",
        3: "DateInvalid",
        4: "Untrusted",
        5: "Invalid",
        6: "RevocationCheckFailure",
        7: "PendingRequest",
    },
)
COMPONENT_STATE = EnumSpec(
    "Microsoft.Exchange.Data.ServiceState",
    {0: "Active", 1: "Inactive", 2: "Draining"},
)
# LoginType's numbers are not documented: names are read, a number is kept as a number (see parse_login_type).
EXECUTION_POLICY = EnumSpec(
    "Microsoft.PowerShell.ExecutionPolicy",
    {0: "Unrestricted", 1: "RemoteSigned", 2: "AllSigned", 3: "Restricted", 4: "Bypass", 5: "Undefined"},
    aliases=(("Default", "Restricted"),),
)
EXECUTION_POLICY_SCOPE = EnumSpec(
    "Microsoft.PowerShell.ExecutionPolicyScope",
    {0: "Process", 1: "CurrentUser", 2: "LocalMachine", 3: "UserPolicy", 4: "MachinePolicy"},
)
LOGIN_TYPES = ("PlainTextLogin", "PlainTextAuthentication", "SecureLogin")


def parse_login_type(value: Any) -> str | None:
    """A LoginType name. A bare number (ConvertTo-Json) has no documented meaning, so it is returned as
    `Number(n)` — rules then see it matches no name — instead of being guessed."""
    text = text_of(value)  # an enum by its name
    if text is None or text.strip() == "":
        return None
    text = text.strip()
    if text.lstrip("-").isdigit():
        return f"Number({int(text)})"
    for name in LOGIN_TYPES:
        if text.lower() == name.lower():
            return name
    raise ValueError(f"{text!r} is not a LoginType (PlainTextLogin, PlainTextAuthentication or SecureLogin)")


# -- Bindings and connection settings ------------------------------------------------------------------------

_BINDING = re.compile(r"^\s*(\[[0-9A-Fa-f:.%\w]*\]|[^\s:]+|):(\d{1,5})\s*$")


@dataclass(frozen=True, order=True)
class Binding:
    """An IPBinding: `0.0.0.0:995`, `[::]:995`."""

    address: str
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


def parse_binding(value: Any) -> Binding:
    text = text_of(value)
    match = _BINDING.match(text or "")
    if not match:
        raise ValueError(f"expected an IP binding like 0.0.0.0:995 or [::]:995, got {text!r}")
    return Binding(match.group(1), int(match.group(2)))


def parse_bindings(value: Any) -> list[Binding] | None:
    """A list of bindings from a list, or from the text forms `{a, b}` / space- or comma-separated."""
    if value is None:
        return None
    if isinstance(value, list):
        return [parse_binding(item) for item in value]
    text = (text_of(value) or "").strip().removeprefix("{").removesuffix("}")
    return [parse_binding(part) for part in re.split(r"[,\s]+", text) if part]


@dataclass(frozen=True)
class ConnectionSetting:
    """ProtocolConnectionSettings: `mail.contoso.com:993:SSL` (encryption SSL, TLS or none)."""

    host: str
    port: int
    encryption: str | None

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" + (f":{self.encryption}" if self.encryption else "")


def parse_connection_settings(value: Any) -> list[ConnectionSetting] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else re.split(r",\s*", (text_of(value) or "").strip().strip("{}"))
    settings: list[ConnectionSetting] = []
    for item in items:
        text = (text_of(item) or "").strip()
        if not text:
            continue
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[1].isdigit():
            raise ValueError(f"expected host:port[:SSL|TLS], got {text!r}")
        encryption = parts[2].upper() if len(parts) == 3 and parts[2] else None
        if encryption not in (None, "SSL", "TLS"):
            raise ValueError(f"unknown encryption {parts[2]!r} in {text!r}")
        settings.append(ConnectionSetting(parts[0], int(parts[1]), encryption))
    return settings


# -- Versions ------------------------------------------------------------------------------------------------

_SERVER_VERSION = re.compile(r"Version\s+(\d+)\.(\d+)\s+\(Build\s+(\d+)\.(\d+)\)", re.IGNORECASE)
_DOTTED_VERSION = re.compile(r"^\s*(\d+)\.(\d+)\.(\d+)\.(\d+)\s*$")
SUBSCRIPTION_EDITION_FIRST_BUILD = 2562


@dataclass(frozen=True, order=True)
class ServerVersion:
    """An Exchange build, comparable: `Version 15.2 (Build 986.5)` is (15, 2, 986, 5)."""

    major: int
    minor: int
    build: int
    revision: int

    @property
    def product(self) -> str:
        """The product name; 15.2 builds from 2562 on are Subscription Edition."""
        if self.major == 15 and self.minor == 2:
            return "Exchange Server SE" if self.build >= SUBSCRIPTION_EDITION_FIRST_BUILD else "Exchange 2019"
        if self.major == 15:
            return {0: "Exchange 2013", 1: "Exchange 2016"}.get(self.minor, f"Exchange 15.{self.minor}")
        return {14: "Exchange 2010", 8: "Exchange 2007"}.get(self.major, f"Exchange {self.major}.{self.minor}")

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}.{self.revision}"


def parse_server_version(value: Any) -> ServerVersion | None:
    """AdminDisplayVersion (never ExchangeVersion, which is the object's schema version)."""
    if value is None:
        return None
    parts = value.properties if isinstance(value, PSObject) else value if isinstance(value, dict) else {}
    if {"Major", "Minor", "Build", "Revision"} <= parts.keys():  # typed (CLIXML) or a JSON object
        return ServerVersion(int(parts["Major"]), int(parts["Minor"]), int(parts["Build"]), int(parts["Revision"]))
    text = text_of(value) or ""
    match = _SERVER_VERSION.search(text) or _DOTTED_VERSION.match(text)
    if not match:
        if not text.strip():
            return None
        raise ValueError(f"expected an Exchange version like 'Version 15.2 (Build 986.5)', got {text!r}")
    return ServerVersion(*(int(group) for group in match.groups()))


# -- Sizes ---------------------------------------------------------------------------------------------------

_BYTES_IN_PARENS = re.compile(r"\(([\d,.\s\u00a0']+)\s*bytes\)")
_EXCHANGE_2007_SIZE = re.compile(r"^\s*(\d+)\s*B\s*$")
UNLIMITED = "Unlimited"


def parse_byte_size(value: Any) -> int | None:
    """ByteQuantifiedSize / Unlimited<ByteQuantifiedSize> → bytes; None for null *and* for Unlimited — callers
    that must tell the two apart use `is_unlimited`. The byte count in parentheses is culture-formatted."""
    if value is None or is_unlimited(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = text_of(value) or ""
    match = _BYTES_IN_PARENS.search(text) or _EXCHANGE_2007_SIZE.match(text)
    if not match:
        raise ValueError(f"expected a size like '500 MB (524,288,000 bytes)', got {text!r}")
    digits = re.sub(r"\D", "", match.group(1))
    return int(digits)


def is_unlimited(value: Any) -> bool:
    if isinstance(value, PSObject) and value.properties.get("IsUnlimited") is True:
        return True
    return (text_of(value) or "").strip().lower() == "unlimited"


# -- Quantities: sizes, limits and durations as numbers, Unlimited as infinity ---------------------------------
# One numeric column a rule can compare (`le: 10485760`), where Unlimited is larger than any limit and tells
# itself apart with the `unlimited` operator; null stays unknown.

_UNLIMITED = float("inf")


def parse_size(value: Any) -> float | None:
    """ByteQuantifiedSize or Unlimited<ByteQuantifiedSize> → bytes; Unlimited → infinity."""
    if value is not None and is_unlimited(value):
        return _UNLIMITED
    size = parse_byte_size(value)
    return None if size is None else float(size)


def parse_limit(value: Any) -> float | None:
    """An Unlimited<int> (MaxOutboundConnections, MaxRecipientEnvelopeLimit) → the number; Unlimited → infinity."""
    if value is None:
        return None
    if is_unlimited(value):
        return _UNLIMITED
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    text = (text_of(value) or "").strip()
    if not re.fullmatch(r"\d{1,18}", text):
        raise ValueError(f"expected a whole number or Unlimited, got {text!r}")
    return float(text)


# .NET's TimeSpan text: [-][d.]hh:mm:ss[.fffffff] (EnhancedTimeSpan prints the same).
_TIMESPAN = re.compile(r"^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?\s*$")


def parse_duration(value: Any) -> float | None:
    """TimeSpan, EnhancedTimeSpan or Unlimited<EnhancedTimeSpan> → seconds; Unlimited → infinity."""
    if value is None:
        return None
    if isinstance(value, PSTimeSpan):
        return value.ticks / 10_000_000
    if is_unlimited(value):
        return _UNLIMITED
    text = text_of(value) or ""
    match = _TIMESPAN.match(text)
    if not match:
        raise ValueError(f"expected a duration like '1.00:00:00' or '00:10:00', got {text!r}")
    sign, days, hours, minutes, seconds, fraction = match.groups()
    total: float = int(days or 0) * 86_400 + int(hours) * 3_600 + int(minutes) * 60 + int(seconds)
    total += int((fraction or "0").ljust(7, "0")) / 10_000_000
    return -total if sign else float(total)
