"""One key per server, however the exports spell it: `EXCH01`, `Exch01.contoso.com`, `exch01.contoso.com`,
`CN=EXCH01,CN=Servers,…`, `EXCH01\\1`. Joins use the key (the upper-cased short name); the FQDN is kept for
display where one is known."""

from __future__ import annotations

import re

_DN_SERVER = re.compile(r"CN=([^,]+),CN=Servers,", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"[\s/\\,=]")


def server_key(name: str | None) -> str | None:
    """The join key of a server name or FQDN: its first label, upper-cased. None when there is no name."""
    if name is None:
        return None
    text = name.strip().strip("{}").strip()
    if not text or text == ".":
        return None
    short = text.split(".", 1)[0]
    return short.upper() if short and not _NOT_A_NAME.search(short) else None


def server_from_distinguished_name(dn: str | None) -> str | None:
    """`CN=EXCH01,CN=Servers,CN=Exchange Administrative Group…` → `EXCH01`."""
    match = _DN_SERVER.search(dn or "")
    return match.group(1) if match else None


def server_from_identity(identity: str | None) -> str | None:
    """`EXCH01\\1` (settings), `EXCH01\\Default Frontend EXCH01` (connectors), `EXCH01\\THUMBPRINT` → `EXCH01`."""
    if not identity or "\\" not in identity:
        return None
    head = identity.split("\\", 1)[0].strip()
    return head or None
