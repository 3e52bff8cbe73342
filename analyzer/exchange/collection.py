"""What the collection script's results (manifest.py) mean for the datasets: which inputs a failure leaves
unvouched for, why a dataset may be absent, which files are legitimately empty or only partly collected, and which
files hold cmdlets no dataset reads yet."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.exchange.manifest import Manifests, datasets_of_cmdlet
from analyzer.exchange.servers import server_key

FileKey = tuple[int, str]  # a file's bundle root and lower-case relative path


@dataclass
class CollectionOutcome:
    failed: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # shown path, reason, datasets
    absent: dict[str, str] = field(default_factory=dict)  # dataset → why the bundle may have none of it
    failed_for: dict[tuple[str, str], str] = field(default_factory=dict)  # (dataset, SERVER) → the failure
    empty: dict[FileKey, tuple[str, ...]] = field(default_factory=dict)  # answered with nothing: present, no rows
    partial: dict[FileKey, str] = field(default_factory=dict)  # objects with errors: read, and incomplete
    for_later: dict[FileKey, str] = field(default_factory=dict)  # cmdlets no dataset reads yet → the cmdlet


def collection_outcome(manifests: Manifests) -> CollectionOutcome:
    out = CollectionOutcome()
    for result in manifests.results:
        datasets = datasets_of_cmdlet(result.cmdlet)
        key = (result.root, result.path.lower())
        if result.status == "failed":
            reason = f"{result.what} failed when it was collected: {result.first_error}"
            if datasets:
                out.failed.append((manifests.shown(result.root, result.path or result.cmdlet), reason, datasets))
            for name in datasets:
                out.absent.setdefault(name, reason)
                server = server_key(result.server)
                if server:
                    out.failed_for.setdefault((name, server), reason)
        elif result.status in ("unavailable", "skipped"):
            for name in datasets:
                out.absent.setdefault(name, f"{result.what} was not collected: {result.first_error}")
        elif not datasets:
            out.for_later[key] = result.cmdlet
        elif result.status == "partial":
            out.partial[key] = (
                f"the collection script recorded {result.error_count} error(s) for {result.what} "
                f"(first: {result.first_error}); the {result.objects} object(s) that came back are read"
            )
        elif result.status == "empty":
            out.empty[key] = datasets
    return out
