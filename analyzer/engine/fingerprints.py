"""Stable identities for findings and the objects they are about, so two runs can be compared.

Built from the rule id, the dataset, the server key and the object's identity — never a file name, a line number
or a mailbox's database, so the same state exported again, in another format or order, gives the same keys, and
a mailbox move is no change (mailbox rows carry no server key). An object key is a fingerprint with no rule.
"""

from __future__ import annotations

import hashlib

import pandas as pd

_LENGTH = 20


def fingerprint(rule_id: str, dataset: str, server: str | None, identity: str | None) -> str:
    key = "|".join((rule_id, dataset, (server or "").upper(), (identity or "").lower()))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:_LENGTH]


def object_key(dataset: str, server: str | None, identity: str | None) -> str:
    return fingerprint("", dataset, server, identity)


def fingerprints(rule_id: str, dataset: str, server: pd.Series, identity: pd.Series) -> list[str]:
    """`fingerprint` for whole columns (a rule can fail a hundred thousand mailboxes)."""
    keys = f"{rule_id}|{dataset}|" + server.astype("string").fillna("").str.upper() + "|"
    keys = keys + identity.astype("string").fillna("").str.lower()
    sha256 = hashlib.sha256
    return [sha256(key.encode("utf-8")).hexdigest()[:_LENGTH] for key in keys.tolist()]


def object_keys(dataset: str, server: pd.Series, identity: pd.Series) -> list[str]:
    return fingerprints("", dataset, server, identity)
