"""The bundle inventory as plain data: what `exaudit inspect BUNDLE` prints and `--json` writes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pandas as pd

from analyzer.exchange.bundle import Bundle
from analyzer.exchange.catalog import BY_NAME


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


_PROTOCOL_SERVICES = r"^MSExchange(POP3|IMAP4)(BE)?$"  # the services the POP3/IMAP4 question turns on


def _protocol_services(bundle: Bundle) -> dict[str, list[dict[str, Any]]]:
    """Per server, the POP3/IMAP4 front-end and back-end services as exported: name, status, start type."""
    dataset = bundle.datasets.get("service")
    if dataset is None:
        return {}
    frame = dataset.frame
    chosen = frame[frame["Name"].astype("string").str.match(_PROTOCOL_SERVICES, case=False).fillna(False)]
    found: dict[str, list[dict[str, Any]]] = {}
    for row in chosen.sort_values(["server_key", "Name"]).to_dict("records"):
        if not _plain(row.get("server_key")):
            continue
        found.setdefault(str(row["server_key"]), []).append(
            {name: _plain(row.get(name)) for name in ("Name", "Status", "StartType")}
        )
    return found


def inventory(bundle: Bundle, wanted: Collection[str] | None = None) -> dict[str, Any]:
    """`wanted`: the datasets a scan's rules read — missing datasets and coverage are told for those (and what the
    bundle holds), not for every cmdlet exaudit knows; None (inspect): for every one."""
    coverage = bundle.coverage(wanted)
    missing = {name: spec.cmdlet for name, spec in BY_NAME.items()
               if name not in bundle.datasets and (wanted is None or name in wanted)}  # fmt: skip
    attribution = {
        name: {
            str(k): int(v) for k, v in dataset.frame["attributed_by"].fillna("organisation-wide").value_counts().items()
        }
        for name, dataset in sorted(bundle.datasets.items())
    }
    services = _protocol_services(bundle)
    return {
        "inputs": [
            {
                "path": item.path,
                "sha256": item.sha256,
                "size": item.size,
                "format": item.format,
                "encoding": item.encoding,
                "datasets": item.datasets,
                "records": item.records,
                "complete": item.complete,
                "date_order": item.date_order,
                "problems": [{"line": p.line, "message": p.message} for p in item.problems],
            }
            for item in bundle.inputs
        ],
        "servers": [
            {**{k: _plain(v) for k, v in row.items()}, "services": services.get(str(row["server_key"]), [])}
            for row in bundle.servers.to_dict("records")
        ],
        "datasets": {
            name: {
                "rows": len(dataset.frame),
                "lossy_columns": dataset.lossy,
                "incomplete_sources": dataset.untrusted_sources,
            }
            for name, dataset in sorted(bundle.datasets.items())
        },
        "missing_datasets": missing,
        "coverage": {str(server): {str(k): int(v) for k, v in row.items()} for server, row in coverage.iterrows()},
        "attribution": attribution,
        "problems": [{"file": p.path, "line": p.line, "message": p.message} for p in bundle.problems],
    }
