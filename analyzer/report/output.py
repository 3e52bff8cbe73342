"""Writing a report set so that a reader never sees half of one.

Every file is written into a staging folder inside the output folder first; only when all are written are they
moved into place (a rename each, on the same file system) and a completion marker written last, listing the set
with each file's SHA-256. A run that fails — a full disk, an encoding error — leaves the previous complete set
untouched, never a new `report.json` beside an older `report.html`. Before the new files move in, the marker and
the previous set's files are removed, so a run cut off in that instant leaves no marker (which `diff` refuses)
rather than a mixture. A rename replaces a symlink standing at a report's path instead of writing through it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from analyzer import windows_paths
from analyzer.errors import ExauditError

MARKER = "exaudit-complete.json"
_STAGING_PREFIX = ".exaudit-partial-"
# The longest path written below the output folder: a file of the set in the staging folder (mkdtemp adds 8).
_LONGEST_WRITTEN = f"/{_STAGING_PREFIX}{'x' * 8}/{MARKER}"


class OutputError(ExauditError):
    """The output folder cannot take the reports."""


def check_output_folder(folder: Path) -> None:
    """Fail before a scan when the reports could not be written: `folder` is a file, or cannot be created or
    written to."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: --out must be a folder; this is a file")
    longest = len(str(folder.absolute())) + len(_LONGEST_WRITTEN)
    if windows_paths.too_long(longest):
        raise OutputError(
            f"{folder}: the reports' paths here would be up to {longest} characters; Windows refuses "
            f"{windows_paths.MAX_PATH} or more unless long paths are enabled: choose a shorter --out"
        )
    # The nearest folder that exists (the root always does): what is missing below it is created when written.
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise OutputError(f"{folder}: cannot write the reports here: {existing} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=existing))
    except OSError as error:
        raise OutputError(f"{folder}: cannot write the reports here: {error.strerror or error}") from None


def staging_folder(folder: Path) -> Path:
    check_output_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{folder}: cannot write the reports here: {error.strerror or error}") from None
    return Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=folder))


def _listed_files(marker: Path) -> dict[str, Any]:
    """The files a completion marker lists with their digests; ValueError when it is not a marker of ours."""
    data = json.loads(marker.read_text("utf-8"))
    listed = data.get("files", {}) if isinstance(data, dict) else None
    if not isinstance(listed, dict):
        raise ValueError(f"{marker}: not a completion marker")
    return listed


def _previous_set(folder: Path) -> list[str]:
    """The files our last marker here lists; nothing when it is missing or not a marker of ours."""
    try:
        listed = _listed_files(folder / MARKER)
    except (OSError, ValueError):
        return []
    return [name for name in listed if "/" not in name and "\\" not in name]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def publish(staging: Path, folder: Path, names: list[str]) -> list[Path]:
    """Move the staged files `names` into `folder`, replacing the previous set; write the marker last."""
    digests = {name: _sha256(staging / name) for name in names}
    previous = _previous_set(folder)
    try:
        (folder / MARKER).unlink(missing_ok=True)
        for name in previous:
            if name not in digests:
                (folder / name).unlink(missing_ok=True)
        for name in names:
            os.replace(staging / name, folder / name)
        marker = staging / MARKER
        marker.write_text(
            json.dumps({"files": digests}, indent=2, sort_keys=True) + "\n", encoding="utf-8", newline="\n"
        )
        os.replace(marker, folder / MARKER)
    except PermissionError as error:
        raise OutputError(
            f"{error.filename or folder}: cannot replace this report: it is open in another program (Excel "
            "locks a CSV it shows) or not writable; close it and run again"
        ) from None
    except OSError as error:
        raise OutputError(f"{folder}: cannot write the reports: {error.strerror or error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in names]


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def check_complete(report_json: Path) -> None:
    """Refuse a report.json whose set was not completely written, or changed since. A report with no marker and
    no unfinished run beside it (copied by hand, or written by exaudit 0.1) is taken as it is."""
    folder = report_json.parent
    marker = folder / MARKER
    if not marker.exists():
        if folder.is_dir() and any(p.name.startswith(_STAGING_PREFIX) for p in folder.iterdir() if p.is_dir()):
            raise OutputError(f"{report_json}: the scan that wrote this folder did not finish; run it again")
        return
    try:
        listed = _listed_files(marker)
    except (OSError, ValueError):
        raise OutputError(f"{marker}: completion marker not readable; run the scan again") from None
    expected = listed.get(report_json.name)
    if expected is not None and expected != _sha256(report_json):
        raise OutputError(f"{report_json}: changed since the scan wrote it (SHA-256 differs from {MARKER})")
