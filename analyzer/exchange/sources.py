"""The files of a bundle: folders walked in a stable order, zip members extracted safely, each file hashed.

A zip member whose name would land outside the extraction folder (`../x`, an absolute path) is refused, and so
is an archive that would expand past a size or ratio limit (a zip bomb); both become problems, not crashes.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from analyzer.model import InputProblem

MAX_EXPANDED_BYTES = 8 << 30
MAX_RATIO = 200  # compressed:expanded beyond this, for members over a few MB, is a bomb, not an export
_SMALL_MEMBER = 4 << 20
_SKIPPED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class SourceFile:
    """One file to read: where it is on disk now, and the name the report shows (`bundle.zip!EXCH01/x.xml`)."""

    path: Path
    display: str
    relative: str  # relative to its bundle root, `/`-separated: what a manifest names


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*"), key=lambda p: str(p.relative_to(root)).lower()):
        if path.is_file() and not path.is_symlink() and path.name.lower() not in _SKIPPED_NAMES:
            yield path


def _safe_member_name(name: str) -> PurePosixPath | None:
    member = PurePosixPath(name.replace("\\", "/"))
    if member.is_absolute() or ".." in member.parts or (member.parts and ":" in member.parts[0]):
        return None
    return member


def extract_zip(archive: Path, into: Path, problems: list[InputProblem]) -> list[SourceFile]:
    """Extract the members that are safe to extract; report the rest."""
    extracted: list[SourceFile] = []
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        problems.append(InputProblem(str(archive), 0, f"not a readable zip file: {error}"))
        return extracted
    with bundle:
        members = [info for info in bundle.infolist() if not info.is_dir()]
        expanded = sum(info.file_size for info in members)
        if expanded > MAX_EXPANDED_BYTES:
            problems.append(InputProblem(str(archive), 0, f"refused: would expand to {expanded:,} bytes"))
            return extracted
        for info in sorted(members, key=lambda i: i.filename.lower()):
            display = f"{archive}!{info.filename}"
            name = _safe_member_name(info.filename)
            if name is None:
                problems.append(InputProblem(display, 0, "refused: the member's path leaves the archive"))
                continue
            if info.file_size > _SMALL_MEMBER and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                problems.append(InputProblem(display, 0, "refused: compression ratio of a zip bomb"))
                continue
            target = into.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with bundle.open(info) as source, target.open("wb") as sink:
                    copied = 0
                    while chunk := source.read(1 << 20):
                        copied += len(chunk)
                        if copied > info.file_size:  # the header lied about the size
                            raise zipfile.BadZipFile("member larger than its header says")
                        sink.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
                problems.append(InputProblem(display, 0, f"member could not be extracted: {error}"))
                target.unlink(missing_ok=True)
                continue
            extracted.append(SourceFile(target, display, str(name)))
    return extracted


def collect(paths: list[Path], scratch: Path, problems: list[InputProblem]) -> list[SourceFile]:
    """Every file of the bundle, in a stable order. `scratch` receives extracted zip members."""
    files: list[SourceFile] = []
    for number, given in enumerate(paths):
        if given.is_dir():
            files.extend(SourceFile(p, str(p), str(p.relative_to(given).as_posix())) for p in _walk(given))
        elif given.is_file() and zipfile.is_zipfile(given):
            files.extend(extract_zip(given, scratch / f"zip{number}", problems))
        elif given.is_file():
            files.append(SourceFile(given, str(given), given.name))
        else:
            problems.append(InputProblem(str(given), 0, "no such file or folder"))
    return files
