"""How a baseline control a rule decides is named in reports: the framework's own identifiers, nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def label(control: dict[str, Any]) -> str:
    """`DISA STIG … Mailbox Server V2R3 EX19-MB-000006 V-259645 CAT II`, `CIS … v1.0.0 1.2.3 L1`."""
    parts = [control["framework"], control["version"], control["id"], control.get("vuln_id")]
    parts += [
        f"CAT {control['cat']}" if control.get("cat") else None,
        f"L{control['level']}" if control.get("level") else None,
    ]
    return " ".join(str(part) for part in parts if part)


def labels(controls: Iterable[dict[str, Any]]) -> str:
    """Every control of a rule in one cell."""
    return "; ".join(label(control) for control in controls)
