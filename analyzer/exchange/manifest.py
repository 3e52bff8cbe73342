"""The manifests of a bundle and what the collection script recorded in them.

Each folder or zip given to a scan may hold a `manifest.json` at its top (an organisation's bundle, and one per
Edge server collected with `-EdgeLocal`). A manifest lists the files it wrote (`files`: path, cmdlet, server,
SHA-256) and, from version 2 of the script, every cmdlet × server it ran (`results`) with its status:

* `ok` / `empty` — the cmdlet answered, with objects or with none. An empty answer is a dataset with no rows
  (no authentication policy exists), not a missing export.
* `partial` — objects came back with errors: what came back is read, and the dataset is incomplete.
* `failed` — nothing usable came back: the datasets it would have supplied cannot be vouched for, and a rule that
  needs one that is absent says the cmdlet failed, with its error.
* `unavailable` / `skipped` — the cmdlet does not exist on that Exchange version or role, or was run elsewhere
  (an Edge server): a reason for absent data, not a problem.

Files of cmdlets no dataset reads (collected for rule packs this version does not have) are kept, hashed and
listed, but not parsed — unless their content shows a dataset's type names, whatever the manifest says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from analyzer.exchange.catalog import BY_NAME
from analyzer.exchange.sources import SourceFile
from analyzer.model import InputProblem

MANIFEST = "manifest.json"
STATUSES = ("ok", "empty", "partial", "failed", "unavailable", "skipped")
_WMI_SERVICES = "win32_service"


def datasets_of_cmdlet(cmdlet: str) -> tuple[str, ...]:
    """The datasets a cmdlet's output supplies (`Get-PopSettings -Server X` → pop_settings); none for a cmdlet
    exaudit does not read yet."""
    if _WMI_SERVICES in cmdlet.lower():  # Get-WmiObject / Get-CimInstance Win32_Service
        return ("service",)
    wanted = (cmdlet.split() or [""])[0].lower()
    return tuple(name for name, spec in BY_NAME.items() if spec.cmdlet.split()[0].lower() == wanted)


@dataclass(frozen=True)
class CollectionResult:
    """One cmdlet × server outcome as the collection script recorded it."""

    root: int
    path: str  # relative to its bundle root, `/`-separated, as the script named the file
    cmdlet: str
    server: str
    status: str
    objects: int
    errors: tuple[str, ...]  # the first few messages
    error_count: int = 0

    @property
    def what(self) -> str:
        return f"{self.cmdlet} for {self.server}" if self.server else self.cmdlet

    @property
    def first_error(self) -> str:
        return self.errors[0] if self.errors else "no message recorded"


@dataclass
class Manifests:
    """Every manifest of the bundle, looked up by a file's bundle root and relative path."""

    by_root: dict[int, dict[str, Any]] = field(default_factory=dict)
    prefixes: dict[int, str] = field(default_factory=dict)  # how a root's files are shown: `bundle.zip!`
    files: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    results: list[CollectionResult] = field(default_factory=list)

    @property
    def first(self) -> dict[str, Any] | None:
        """The manifest of the first root that has one: its culture and organisation speak for the bundle."""
        return self.by_root[min(self.by_root)] if self.by_root else None

    def entry(self, source: SourceFile) -> dict[str, Any] | None:
        return self.files.get((source.root, source.relative.lower()))

    def entry_for(self, relative: str) -> dict[str, Any] | None:
        """A file's entry in any manifest, for an input known only by its relative path."""
        wanted = relative.lower()
        return next((entry for (_root, path), entry in self.files.items() if path == wanted), None)

    def shown(self, root: int, relative: str) -> str:
        return self.prefixes.get(root, "") + relative

    def missing(self, present: Iterable[SourceFile]) -> list[tuple[int, str, dict[str, Any]]]:
        """Files a manifest lists that the bundle does not hold."""
        here = {(source.root, source.relative.lower()) for source in present}
        return [(root, path, entry) for (root, path), entry in sorted(self.files.items()) if (root, path) not in here]


def read_manifests(files: list[SourceFile], problems: list[InputProblem]) -> Manifests:
    """The top-level `manifest.json` of each bundle root; an unreadable one is a problem and is not used."""
    manifests = Manifests()
    for source in files:
        if source.relative.lower() != MANIFEST:
            continue
        manifest = _load(source, problems)
        if manifest is None:
            continue
        manifests.by_root[source.root] = manifest
        manifests.prefixes[source.root] = source.display[: len(source.display) - len(source.relative)]
        for entry in manifest.get("files", []):
            if isinstance(entry, dict):
                relative = str(entry.get("path", "")).replace("\\", "/").lower()
                manifests.files[(source.root, relative)] = entry
        manifests.results.extend(_results(manifest, source, problems))
    return manifests


def _load(source: SourceFile, problems: list[InputProblem]) -> dict[str, Any] | None:
    try:
        manifest = json.loads(source.path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(InputProblem(source.display, 0, f"manifest not readable: {error}"))
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", []), list):
        problems.append(InputProblem(source.display, 0, "manifest has no 'files' list"))
        return None
    if not isinstance(manifest.get("results", []), list):
        problems.append(InputProblem(source.display, 0, "manifest's 'results' is not a list: results not used"))
        manifest = {**manifest, "results": []}
    return manifest


def _results(manifest: dict[str, Any], source: SourceFile, problems: list[InputProblem]) -> list[CollectionResult]:
    read: list[CollectionResult] = []
    for number, item in enumerate(manifest.get("results", [])):
        try:
            read.append(_result(item, source.root))
        except ValueError as error:
            problems.append(InputProblem(source.display, 0, f"results[{number}]: {error}; this entry is not used"))
    return read


def _result(item: Any, root: int) -> CollectionResult:
    if not isinstance(item, dict):
        raise ValueError("expected an object")
    cmdlet, server, path, status = (item.get(key) for key in ("cmdlet", "server", "path", "status"))
    if not isinstance(cmdlet, str) or not cmdlet.strip():
        raise ValueError("expected a 'cmdlet' name")
    if status not in STATUSES:
        raise ValueError(f"'status' {status!r} is not one of {', '.join(STATUSES)}")
    objects = item.get("objects", 0)
    if not isinstance(objects, int) or isinstance(objects, bool) or objects < 0:
        raise ValueError(f"'objects' {objects!r} is not a count")
    errors = item.get("errors") or []
    if not isinstance(errors, list) or not all(isinstance(error, str) for error in errors):
        raise ValueError("'errors' is not a list of messages")
    count = item.get("error_count", len(errors))
    if not isinstance(count, int) or isinstance(count, bool) or count < len(errors):
        raise ValueError(f"'error_count' {count!r} is not a count of at least the errors listed")
    relative = str(PurePosixPath(str(path).replace("\\", "/"))) if isinstance(path, str) and path else ""
    return CollectionResult(root, relative, cmdlet.strip(), str(server or ""), status, objects, tuple(errors), count)
