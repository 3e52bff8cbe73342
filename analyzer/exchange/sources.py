"""The files of a bundle: folders walked in a stable order, zip members extracted safely, each file hashed.

Nothing is passed over silently: whatever is not read — a symlink leaving the bundle, a FIFO, a folder that
cannot be listed, a zip member whose name leaves the extraction folder, is duplicated, encrypted or damaged, an
archive that would expand past a size or ratio limit (a zip bomb) — becomes an `Unread` with its reason, which
the bundle turns into a problem and, where it would have held data, into a verdict that cannot be vouched for.
"""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import os
import shutil
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from analyzer.model import InputProblem

MAX_EXPANDED_BYTES = 8 << 30
MAX_MEMBERS = 10_000  # a bundle holds a few hundred exports; a hundred thousand tiny members only cost time
MAX_RATIO = 200  # compressed:expanded beyond this, for members over a few MB, is a bomb, not an export
_SMALL_MEMBER = 4 << 20
_SKIPPED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8
# What reading a damaged member can raise: zipfile's own errors, and the decompressors' (fuzz/bundle.py found
# zlib.error, which is none of the others).
_MEMBER_ERRORS = (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, NotImplementedError, zlib.error,
                  lzma.LZMAError)  # fmt: skip


@dataclass(frozen=True)
class SourceFile:
    """One file to read: where it is on disk now, and the name the report shows (`bundle.zip!EXCH01/x.xml`)."""

    path: Path
    display: str
    relative: str  # relative to its bundle root, `/`-separated: what a manifest names
    root: int = 0  # which of the given folders and zips it came from: each may have its own manifest


def shown_path(path: Path | str) -> str:
    """A path as report text: bytes of a file name that are not UTF-8 (Python keeps them as lone surrogates, which
    no UTF-8 report can hold) written as `\\xff` escapes."""
    text = str(path)
    if text.isprintable() or not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Unread:
    """An entry of the bundle that was not read as an export, and why. `export_like` is False for what is known
    not to be an export (documentation, images, desktop clutter): listed, it degrades nothing."""

    display: str
    relative: str
    reason: str
    export_like: bool = True


_DOCUMENTATION_SUFFIXES = {".md", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".docx", ".doc", ".rtf", ".htm",
                           ".html", ".xlsx", ".pptx", ".log"}  # fmt: skip


SYNTHETIC_NOTE = "README-SYNTHETIC.txt"  # what `exaudit samples` puts in every bundle it writes


def is_documentation(relative: str) -> bool:
    """A file a person put beside the exports to be read by people: README*, Markdown, images, office files."""
    name = PurePosixPath(relative).name.lower()
    return name.startswith("readme") or PurePosixPath(name).suffix in _DOCUMENTATION_SUFFIXES


class _Walk:
    """A folder's files in a stable order. Nothing is passed over silently: a folder that cannot be listed, a FIFO,
    socket or device, and a symlink each become an `Unread`. A symlink that is broken, loops or leaves the bundle
    is refused (its data is missing: it degrades what it would supply); one whose target stays inside the bundle
    is only listed, since the walk reads that target where it stands — following it would read it twice, or not
    at all, depending on the order the folder lists its entries in."""

    def __init__(self, root: Path, label: str, unread: list[Unread]) -> None:
        self.root = root
        self.label = label
        self.real_root = root.resolve()
        self.unread = unread
        self.files: list[Path] = []

    def refuse(self, path: Path, reason: str, *, export_like: bool = True) -> None:
        self.unread.append(Unread(self.shown(path), self.relative(path), reason, export_like))

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def shown(self, path: Path) -> str:
        relative = self.relative(path)
        return self.label if relative == "." else f"{self.label}/{shown_path(relative)}"

    def visit(self, folder: Path) -> None:
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            self.refuse(folder, f"folder cannot be read: {error.strerror or error}")
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    self.link(path)
                elif entry.is_dir(follow_symlinks=False):
                    self.visit(path)
                elif not entry.is_file(follow_symlinks=False):
                    self.refuse(path, "not a regular file (a FIFO, socket or device): not read")
                elif entry.name.lower() in _SKIPPED_NAMES:
                    self.refuse(path, "ignored: a file Windows or macOS keeps in folders", export_like=False)
                else:
                    self.files.append(path)
            except OSError as error:
                self.refuse(path, f"cannot be examined: {error.strerror or error}")

    def link(self, path: Path) -> None:
        try:
            target = path.resolve(strict=True)
        except RuntimeError:
            self.refuse(path, "symlink that loops: not read")
            return
        except OSError:
            self.refuse(path, "symlink whose target does not exist: not read")
            return
        if not target.is_relative_to(self.real_root):
            self.refuse(path, "symlink to a place outside the bundle: refused")
        elif not (target.is_file() or target.is_dir()):
            self.refuse(path, "symlink to something that is not a regular file: not read")
        else:
            inside = target.relative_to(self.real_root).as_posix()  # the root itself is "."
            self.refuse(path, f"symlink to {inside} inside the bundle: read there, not twice", export_like=False)


def _walk(root: Path, label: str, unread: list[Unread]) -> list[SourceFile]:
    walk = _Walk(root, label, unread)
    walk.visit(root)
    files = sorted(walk.files, key=lambda p: walk.relative(p).lower())
    return [SourceFile(p, walk.shown(p), walk.relative(p)) for p in files]


def root_labels(paths: list[Path]) -> list[str]:
    """How reports name each folder, zip or file given: by its own name, as it sits in the bundle, not where it sits
    on this machine (an absolute path means nothing to the customer reading the report and tells them the
    consultant's folders). Two given with one name are told apart by the path as given."""
    names = [shown_path(p.resolve().name or p) for p in paths]  # "." is named after the current folder
    counts = Counter(name.lower() for name in names)
    return [name if counts[name.lower()] == 1 else shown_path(p) for name, p in zip(names, paths, strict=True)]


def _safe_member_name(name: str) -> PurePosixPath | None:
    """The member's path inside the extraction folder, or None when it would leave it or name nothing."""
    member = PurePosixPath(name.replace("\\", "/"))  # drops empty and `.` parts: `a/./b//c` is `a/b/c`
    parts = member.parts
    if member.is_absolute() or ".." in parts or not parts or (":" in parts[0]) or "\0" in name:
        return None
    return member


def _suffix(name: PurePosixPath) -> str:
    suffix = name.suffix.lower()
    return suffix if len(suffix) <= 8 and suffix[1:].isalnum() else ""


def _is_folder(info: zipfile.ZipInfo) -> bool:
    """ZipInfo.is_dir fails on an empty name (fuzz/bundle.py); a folder member's name ends with a slash."""
    return info.filename.endswith(("/", "\\"))


def _names_encoding(infos: list[zipfile.ZipInfo]) -> str:
    """How the archiving tool wrote the names that lack the UTF-8 flag: zipfile reads them as cp437, but Japanese
    Windows writes cp932 and some tools write UTF-8 without saying so. One encoding per archive: the first of
    UTF-8, cp932 that reads every such name; else cp437."""
    raw = [i.filename.encode("cp437") for i in infos if not i.flag_bits & _UTF8_FLAG and not i.filename.isascii()]
    for encoding in ("utf-8", "cp932"):
        try:
            for name in raw:
                name.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "cp437"


def _member_name(info: zipfile.ZipInfo, encoding: str) -> str:
    if info.flag_bits & _UTF8_FLAG or info.filename.isascii():
        return info.filename
    return info.filename.encode("cp437").decode(encoding)


def _refusal(info: zipfile.ZipInfo, name: PurePosixPath | None, seen: dict[str, int], folders: set[str]) -> str | None:
    """Why a member is not extracted, or None."""
    if name is None:
        return "refused: the member's path leaves the archive or names nothing"
    if seen[str(name).lower()] > 1:
        return (f"refused: the archive holds {seen[str(name).lower()]} members named {name}; which one is meant "
                "cannot be told, so none is read")  # fmt: skip
    if str(name).lower() in folders:
        return "refused: a file beside a folder of the same name"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "refused: a symlink stored in the archive"
    if info.flag_bits & 0x1:
        return "not read: the member is encrypted"
    if info.file_size > _SMALL_MEMBER and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return "refused: compression ratio of a zip bomb"
    return None


def extract_zip(archive: Path, into: Path, unread: list[Unread], label: str | None = None) -> list[SourceFile]:
    """Extract the members that are safe to extract; add the rest to `unread` with the reason. Reports name the
    archive `label` (by default, as given)."""
    extracted: list[SourceFile] = []
    label = shown_path(archive) if label is None else label
    try:
        bundle = zipfile.ZipFile(archive)
    except UnicodeDecodeError:
        unread.append(Unread(label, archive.name, "not a readable zip file: a member name marked UTF-8 is not"))
        return extracted
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        unread.append(Unread(label, archive.name, f"not a readable zip file: {error}"))
        return extracted
    with bundle:
        infos = bundle.infolist()
        if len(infos) > MAX_MEMBERS:
            reason = f"refused: {len(infos):,} members; a bundle of exports holds far fewer (limit {MAX_MEMBERS:,})"
            unread.append(Unread(label, archive.name, reason))
            return extracted
        encoding = _names_encoding(infos)
        named = [(info, _member_name(info, encoding)) for info in infos]
        members = [(info, text) for info, text in named if not _is_folder(info)]
        safe = [(info, text, _safe_member_name(text)) for info, text in members]
        seen = Counter(str(name).lower() for _info, _text, name in safe if name is not None)
        folders = {str(parent).lower() for _i, _t, name in safe if name for parent in name.parents if parent.parts}
        folder_names = (_safe_member_name(text) for info, text in named if _is_folder(info))
        folders |= {str(folder).lower() for folder in folder_names if folder is not None}
        refusals = {id(info): _refusal(info, name, seen, folders) for info, _text, name in safe}
        # Many members each under the per-member limit can still expand a thousandfold together.
        kept = [info for info, _text, _name in safe if refusals[id(info)] is None]
        expanded, packed = sum(i.file_size for i in kept), sum(i.compress_size for i in kept)
        if expanded > MAX_EXPANDED_BYTES or (expanded > _SMALL_MEMBER and expanded > MAX_RATIO * max(packed, 1)):
            reason = f"refused: would expand to {expanded:,} bytes from {packed:,} (a zip bomb)"
            unread.append(Unread(label, archive.name, reason))
            return extracted
        into.mkdir(parents=True, exist_ok=True)
        for number, (info, text, name) in enumerate(sorted(safe, key=lambda item: item[1].replace("\\", "/").lower())):
            # Windows PowerShell 5.1's Compress-Archive separates folders with `\`: shown as every other tool's `/`.
            as_written = text.replace("\\", "/")
            display = f"{label}!{as_written}"
            refusal = refusals[id(info)]
            if refusal is not None or name is None:
                unread.append(Unread(display, as_written, refusal or "refused"))
                continue
            # On disk under a name of ours: a member's own name may be too long, reserved or clash with a folder.
            # Reports show `display`; the manifest and attribution use `relative`.
            target = into / f"m{number:06d}{_suffix(name)}"
            try:
                # zipfile yields no more than the header's size (then the CRC check fails), so the limits above,
                # judged on the headers, hold for what is written.
                with bundle.open(info) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
            except _MEMBER_ERRORS as error:
                unread.append(Unread(display, str(name), f"member could not be extracted: {error}"))
                with contextlib.suppress(OSError):
                    target.unlink(missing_ok=True)
                continue
            extracted.append(SourceFile(target, display, str(name)))
    return extracted


def _looks_like_zip(path: Path) -> bool:
    """A zip by name or first bytes that zipfile cannot open (cut off in transfer): read as a damaged zip, not as
    an export in an unknown format."""
    try:
        with path.open("rb") as stream:
            start = stream.read(4)
    except OSError:
        return False
    return path.suffix.lower() == ".zip" or start == b"PK\x03\x04"


def collect(paths: list[Path], scratch: Path, problems: list[InputProblem], unread: list[Unread]) -> list[SourceFile]:
    """Every file of the bundle, in a stable order. `scratch` receives extracted zip members; what is not read
    is added to `unread` (and, as a problem, to `problems`)."""
    files: list[SourceFile] = []
    for number, (given, label) in enumerate(zip(paths, root_labels(paths), strict=True)):
        first_unread = len(unread)
        if given.is_dir():
            files.extend(replace(f, root=number) for f in _walk(given, label, unread))
        elif given.is_file() and (zipfile.is_zipfile(given) or _looks_like_zip(given)):
            extracted = extract_zip(given, scratch / f"zip{number}", unread, label)
            files.extend(replace(f, root=number) for f in extracted)
        elif given.is_file():
            files.append(SourceFile(given, label, given.name, number))
        else:
            problems.append(InputProblem(shown_path(given), 0, "no such file or folder"))
        problems.extend(InputProblem(u.display, 0, u.reason) for u in unread[first_unread:])
    return files
