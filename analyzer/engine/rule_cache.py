"""Validated rule files (and pack.yaml files) kept between runs, so a scan parses and validates a pack once per
version, not every time.

An entry is the rule file's data as it was after validation, stored as JSON (never pickle: reading the cache must
not run code) under a key made of the file's bytes and of everything that decides whether it is valid — the rule
schema and the loader's code. An edited rule, another exaudit version or a changed loader misses the cache and is
validated again. Where the cache lives: `EXAUDIT_CACHE_DIR`, else the user's cache folder (platformdirs); `off`
turns it off. Safe to delete at any time; an entry that cannot be read or written is ignored.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from analyzer import __version__

CACHE_ENV = "EXAUDIT_CACHE_DIR"
_FORMAT = 1  # of an entry; raised when its layout changes

# What decides whether a rule file is valid: the schema, the code that checks what the schema cannot, and the
# datasets and columns a rule may name (every declaration under analyzer/exchange/datasets/).
_DECIDING = (("analyzer.engine", "rule.schema.json"), ("analyzer.engine", "loader.py"),
             ("analyzer.engine", "conditions.py"), ("analyzer.engine", "linear_regex.py"),
             ("analyzer.exchange", "catalog.py"), ("analyzer.engine", "rule_cache.py"),
             ("analyzer.engine", "pack.schema.json"), ("analyzer.engine", "packs.py"))  # fmt: skip
_DECIDING_PACKAGES = ("analyzer.exchange.datasets",)


def folder() -> Path | None:
    """Where entries are kept, or None when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    import platformdirs  # only here: most commands never look for the cache

    return Path(platformdirs.user_cache_dir("exaudit", appauthor=False)) / "rules"


@functools.cache
def _deciding_digest() -> bytes:
    digest = hashlib.sha256(f"{__version__}\0{_FORMAT}".encode())
    for package, name in _DECIDING:
        digest.update(b"\0" + (resources.files(package) / name).read_bytes())
    for package in _DECIDING_PACKAGES:
        modules = sorted((item for item in resources.files(package).iterdir() if item.name.endswith(".py")),
                         key=lambda item: item.name)  # fmt: skip
        for module in modules:
            digest.update(b"\0" + module.name.encode() + b"\0" + module.read_bytes())
    return digest.digest()


def key(content: bytes, kind: str = "rule") -> str:
    """`kind`: what the bytes are — a rule file or a pack file — validated by different schemas."""
    return hashlib.sha256(_deciding_digest() + kind.encode() + b"\0" + content).hexdigest()


def _folder_of(kind: str) -> Path | None:
    """Rule entries at the top of the cache folder, other kinds (pack files) in a sub-folder each."""
    where = folder()
    return where if where is None or kind == "rule" else where / f"{kind}s"


def fetch(content: bytes, kind: str = "rule") -> dict[str, Any] | None:
    """The validated data of a file of this kind with these bytes, if an earlier run stored it."""
    where = _folder_of(kind)
    if where is None:
        return None
    name = key(content, kind)
    try:
        entry = json.loads((where / f"{name}.json").read_bytes())
    except (OSError, ValueError):
        return None  # absent, unreadable or damaged: validated again and stored afresh
    if not isinstance(entry, dict) or entry.get("key") != name or not isinstance(entry.get("data"), dict):
        return None
    data: dict[str, Any] = entry["data"]
    return data


def store(content: bytes, data: dict[str, Any], kind: str = "rule") -> None:
    """Keep the validated data, when JSON holds it unchanged (YAML can hold dates and non-text keys)."""
    where = _folder_of(kind)
    if where is None:
        return
    name = key(content, kind)
    try:
        text = json.dumps({"key": name, "data": data}, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return
    if json.loads(text)["data"] != data:
        return
    with contextlib.suppress(OSError):
        where.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: two scans at once never read half an entry.
        handle, temporary = tempfile.mkstemp(dir=where, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as sink:
                sink.write(text)
            os.replace(temporary, where / f"{name}.json")
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
