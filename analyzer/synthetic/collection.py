"""Bundles as the collection script (`analyzer/exchange/collect.ps1`, version 2) writes them — synthetic.

The manifest's keys and the result statuses here are the script's own: a test reads them out of the script's text
and compares, so the analyzer's tests cannot drift from what the script really writes. Objects of the read-only
host queries carry the script's `exauditFact` tag, as they come back from Invoke-Command.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from analyzer.exchange.sources import sha256_of
from analyzer.synthetic.exchange_objects import ExchangeObject

COLLECTOR_VERSION = "2.0"
RESULT_KEYS = ("path", "cmdlet", "server", "command", "status", "objects", "errors", "error_count", "seconds")
MANIFEST_KEYS = ("collector", "culture", "organization", "exported_at", "powershell_version", "exchange_version",
                 "servers", "files", "results")  # fmt: skip
NOT_WRITTEN = ("failed", "unavailable", "skipped")  # statuses whose export the script does not keep


def result(
    path: str, cmdlet: str, server: str = "", status: str = "ok", *, objects: int = 0, errors: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One entry of `results`, as Write-Result records it (at most five messages, with their count)."""
    return {
        "path": path,
        "cmdlet": cmdlet,
        "server": server,
        "command": f"{cmdlet} -Server $name" if server else cmdlet,
        "status": status,
        "objects": objects,
        "errors": list(errors[:5]),
        "error_count": len(errors),
        "seconds": 1,
    }


def manifest(folder: Path, results: list[dict[str, Any]], *, organization: str = "Contoso") -> dict[str, Any]:
    """The manifest Write-Manifest writes for `results` over the files now in `folder`."""
    files = [
        {"path": r["path"], "cmdlet": r["cmdlet"], "server": r["server"], "sha256": sha256_of(folder / r["path"])}
        for r in results
        if r["status"] not in NOT_WRITTEN and (folder / r["path"]).is_file()
    ]
    return {
        "collector": {
            "version": COLLECTOR_VERSION,
            "sha256": None,
            "command_line": ".\\exaudit-collect.ps1",
            "edge_local": False,
        },
        "culture": {},
        "organization": organization,
        "exported_at": dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "powershell_version": "5.1.17763.5830",
        "exchange_version": "Version 15.2 (Build 1544.4)",
        "servers": [],
        "files": files,
        "results": results,
    }


def tagged(objects: list[ExchangeObject], fact: str) -> list[ExchangeObject]:
    """Host-query objects with the note property the script's remote block adds (`exauditFact`)."""
    return [(types, props, {**extended, "exauditFact": fact}) for types, props, extended in objects]


def wmi_service(name: str, state: str, start_mode: str, server: str) -> ExchangeObject:
    """A Win32_Service as Get-WmiObject returns it through Invoke-Command (deserialized ManagementObject)."""
    types = (
        "Deserialized.System.Management.ManagementObject#root\\cimv2\\Win32_Service",
        "Deserialized.System.Management.ManagementObject",
        "Deserialized.System.Management.ManagementBaseObject",
        "Deserialized.System.ComponentModel.Component",
        "Deserialized.System.MarshalByRefObject",
        "Deserialized.System.Object",
    )
    props = {"Name": name, "State": state, "StartMode": start_mode, "DelayedAutoStart": False, "SystemName": server}
    return types, props, {"PSComputerName": f"{server.lower()}.contoso.com", "exauditFact": "win32_service"}
