"""Which datasets an input that could not be read would have supplied.

A verdict must not be `ready` on data it never saw: when the second of two Get-CASMailbox exports is unreadable,
the first alone says nothing about the users in the second. So each unread input is tied to the datasets it
would have held — from the manifest's cmdlet for it, from type names or a `#TYPE` line in its first bytes, from
its file name — and, when none of those tells, to every dataset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from analyzer.exchange.catalog import BY_NAME, DatasetSpec
from analyzer.exchange.manifest import datasets_of_cmdlet

EVERY_DATASET: tuple[str, ...] = tuple(BY_NAME)
_SNIFF_BYTES = 64 << 10

# Words of file names that name a dataset, beyond the cmdlet's own noun (`Get-CASMailbox` → `casmailbox`).
_NAME_WORDS: dict[str, tuple[str, ...]] = {
    "service": ("service", "win32service"),
    "pop_settings": ("pop",),
    "imap_settings": ("imap",),
    "exchange_certificate": ("certificate", "cert"),
    "server_component_state": ("componentstate", "component"),
    "receive_connector": ("connector",),
    "authentication_policy": ("authpolicy",),
    "organization_config": ("orgconfig",),
    # The collection script's host-fact files (Registry.xml, ExSetup.xml, OwaSslFlags.xml).
    "exsetup": ("exsetup",),
    "registry_value": ("registry",),
    "owa_ssl": ("sslflags",),
}


def _noun(spec: DatasetSpec) -> str:
    verb_noun = spec.cmdlet.split()[0]
    return verb_noun.split("-", 1)[-1].lower()


_WORDS: list[tuple[str, str]] = sorted(
    ((word, name) for name, spec in BY_NAME.items() for word in (_noun(spec), *_NAME_WORDS.get(name, ()))),
    key=lambda pair: -len(pair[0]),
)


_TYPE_PATTERNS = {
    name: re.compile(
        "|".join(rf"<T>[^<]*{re.escape(s)}</T>|#TYPE [^\r\n]*{re.escape(s)}\b" for s in spec.type_suffixes)
    )
    for name, spec in BY_NAME.items()
    if spec.type_suffixes  # PSCustomObjects (host facts) carry no type name of their own
}


def _by_file_name(relative: str) -> tuple[str, ...]:
    """The dataset whose longest word the file name holds (`Get-CASMailbox.xml` is not the mailbox dataset)."""
    stem = re.sub(r"[^a-z0-9]", "", PurePosixPath(relative).stem.lower())
    for word, name in _WORDS:
        if word in stem:
            return (name,)
    return ()


def datasets_of_content(path: Path | None) -> tuple[str, ...]:
    """Datasets whose type names appear in the file's first bytes (a CLIXML `<T>` or a CSV `#TYPE` line), else
    whose recognising columns all do (a CSV header, Format-List labels)."""
    if path is None:
        return ()
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError:
        return ()
    text = head.replace(b"\x00", b"").decode("latin-1")  # UTF-16 text loses its zero bytes; type names are ASCII
    typed = tuple(name for name, pattern in _TYPE_PATTERNS.items() if pattern.search(text))
    if typed:
        return typed
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9]*", text))  # column or property names (a CSV header, `fl` labels)
    return tuple(name for name, spec in BY_NAME.items() if any(signature <= words for signature in spec.signatures))


def datasets_of_unread(relative: str, path: Path | None, manifest_entry: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The datasets an unread input would have supplied; every dataset when nothing tells."""
    cmdlet = (manifest_entry or {}).get("cmdlet")
    found = datasets_of_cmdlet(cmdlet) if isinstance(cmdlet, str) else ()
    return found or datasets_of_content(path) or _by_file_name(relative) or EVERY_DATASET
