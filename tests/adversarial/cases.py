"""The adversarial corpus: bundles a hostile customer or a broken transfer could send, each with what a scan must
do with it. Most must be made at run time (symlinks, FIFOs, permissions, zips, bombs), so each case is a function
that builds its bundle from the `healthy-2019` sample — ready for both protocols when read whole — and breaks one
thing: the second Get-CASMailbox export, which the verdicts need. Whatever breaks it, neither verdict may be
`ready` or `partial`, and the problem must say what happened.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "healthy-2019"
SECOND = "more/Get-CASMailbox-2.xml"  # where the second mailbox export sits in a folder bundle
GOOD_NEWS = ("ready", "partial", "disabled")


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]  # given an empty folder, makes the bundle and returns the path to scan
    problem: str  # a substring of the problem the scan must report
    exit_code: int = 0
    never: tuple[str, ...] = GOOD_NEWS  # statuses neither verdict may have
    drop_file_capabilities: bool = False  # run as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH
    extra_args: tuple[str, ...] = field(default=())


def second_export() -> bytes:
    return (SAMPLE / "Get-CASMailbox.xml").read_bytes()


def _folder(into: Path) -> Path:
    bundle = into / "bundle"
    shutil.copytree(SAMPLE, bundle)
    (bundle / "manifest.json").unlink()  # the manifest's hashes would flag every change on their own
    (bundle / "more").mkdir()
    return bundle


def _with_second(into: Path, data: bytes) -> Path:
    bundle = _folder(into)
    (bundle / SECOND).write_bytes(data)
    return bundle


def _prompt_clixml(into: Path) -> Path:
    return _with_second(
        into, b"PS C:\\> Get-CASMailbox -ResultSize Unlimited | Export-Clixml x.xml\r\n" + second_export()
    )


def _prompt_csv(into: Path) -> Path:
    bundle = _folder(into)
    rows = '#TYPE Deserialized.Microsoft.Exchange.Data.Directory.Management.CASMailbox\r\n"Name","PopEnabled"\r\n"x","True"\r\n'
    (bundle / "more" / "Get-CASMailbox-2.csv").write_text("PS C:\\> Get-CASMailbox | Export-Csv x.csv\r\n" + rows)
    return bundle


def _empty(into: Path) -> Path:
    return _with_second(into, b"")


def _cut_before_first_object(into: Path) -> Path:
    data = second_export()
    return _with_second(into, data[: data.index(b"<Obj")] + b'<Obj RefId="0"><TN')


def _symlink_outside(into: Path) -> Path:
    bundle = _folder(into)
    outside = into / "elsewhere.xml"
    outside.write_bytes(second_export())
    (bundle / SECOND).symlink_to(outside)
    return bundle


def _symlink_broken(into: Path) -> Path:
    bundle = _folder(into)
    (bundle / SECOND).symlink_to(bundle / "nothing-here.xml")
    return bundle


def _symlink_loop(into: Path) -> Path:
    bundle = _folder(into)
    (bundle / SECOND).symlink_to(bundle / SECOND)
    return bundle


def _symlink_folder_loop(into: Path) -> Path:
    bundle = _with_second(into, second_export())
    (bundle / "more" / "again").symlink_to(bundle, target_is_directory=True)
    (bundle / SECOND).unlink()
    (bundle / "more" / "Get-CASMailbox-2.lnk").symlink_to(into / "missing")
    return bundle


def _fifo(into: Path) -> Path:
    bundle = _folder(into)
    os.mkfifo(bundle / SECOND)
    return bundle


def _unreadable_file(into: Path) -> Path:
    bundle = _with_second(into, second_export())
    (bundle / SECOND).chmod(0o000)
    return bundle


def _unreadable_folder(into: Path) -> Path:
    bundle = _with_second(into, second_export())
    (bundle / "more").chmod(0o000)
    return bundle


def _zip_of(bundle: Path, extra: Callable[[zipfile.ZipFile], None]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bundle.rglob("*")):
            if path.is_file() and path.name != "manifest.json":
                archive.write(path, path.relative_to(bundle).as_posix())
        extra(archive)
    return buffer.getvalue()


def _zip_bundle(into: Path, extra: Callable[[zipfile.ZipFile], None]) -> Path:
    target = into / "bundle.zip"
    target.write_bytes(_zip_of(SAMPLE, extra))
    return target


def _zip_bad_crc(into: Path) -> Path:
    target = _zip_bundle(into, lambda z: z.writestr(SECOND, second_export(), zipfile.ZIP_STORED))
    data = bytearray(target.read_bytes())
    at = data.index(b"<Obj", data.index(SECOND.encode()))
    data[at + 1] ^= 0x20  # one byte of the stored member changes; its CRC no longer fits
    target.write_bytes(bytes(data))
    return target


def _zip_encrypted(into: Path) -> Path:
    target = _zip_bundle(into, lambda z: z.writestr(SECOND, second_export(), zipfile.ZIP_STORED))
    data = bytearray(target.read_bytes())
    name = SECOND.encode()
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # set bit 0 (encrypted) in the local and central headers
        at = data.index(name) if header == b"PK\x03\x04" else data.rindex(name)
        start = data.rindex(header, 0, at)
        flag_at = start + (6 if header == b"PK\x03\x04" else 8)
        (flags,) = struct.unpack_from("<H", data, flag_at)
        struct.pack_into("<H", data, flag_at, flags | 1)
    target.write_bytes(bytes(data))
    return target


def _zip_duplicate(into: Path) -> Path:
    """A second member with the name of the first mailbox export: today's readers would let one hide the other."""
    doctored = second_export().replace(b">true</B>", b">false</B>")

    def add(archive: zipfile.ZipFile) -> None:
        with warnings.catch_warnings():  # zipfile warns of the duplicate it is asked to write
            warnings.simplefilter("ignore", UserWarning)
            archive.writestr("Get-CASMailbox.xml", doctored)

    return _zip_bundle(into, add)


def _zip_traversal(into: Path) -> Path:
    return _zip_bundle(into, lambda z: z.writestr("more/../../Get-CASMailbox-2.xml", second_export()))


def _zip_symlink_member(into: Path) -> Path:
    def add(archive: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo(SECOND)
        info.external_attr = 0o120777 << 16  # a symlink, as Info-ZIP stores one
        archive.writestr(info, "/etc/passwd")

    return _zip_bundle(into, add)


def _zip_file_beside_folder(into: Path) -> Path:
    def add(archive: zipfile.ZipFile) -> None:
        archive.writestr("more", second_export())
        archive.writestr(SECOND, second_export())

    return _zip_bundle(into, add)


CASES: tuple[Case, ...] = (
    Case("clixml-after-a-prompt-line", _prompt_clixml, "format not recognised"),
    Case("csv-after-a-prompt-line", _prompt_csv, "format not recognised"),
    Case("empty-file", _empty, "the file is empty"),
    Case("cut-before-its-first-object", _cut_before_first_object, "Get-CASMailbox-2.xml"),
    Case("symlink-leaving-the-bundle", _symlink_outside, "symlink to a place outside the bundle: refused"),
    Case("symlink-broken", _symlink_broken, "symlink whose target does not exist"),
    Case("symlink-to-itself", _symlink_loop, "symlink that loops"),
    Case("symlink-folder-loop", _symlink_folder_loop, "symlink to . inside the bundle: read there, not twice"),
    Case("fifo", _fifo, "not a regular file (a FIFO, socket or device)"),
    Case("file-permission-denied", _unreadable_file, "cannot be read: Permission denied", drop_file_capabilities=True),
    Case(
        "folder-permission-denied",
        _unreadable_folder,
        "folder cannot be read: Permission denied",
        drop_file_capabilities=True,
    ),
    Case("zip-bad-crc", _zip_bad_crc, "member could not be extracted"),
    Case("zip-encrypted-member", _zip_encrypted, "the member is encrypted"),
    Case("zip-duplicate-names", _zip_duplicate, "members named Get-CASMailbox.xml"),
    Case("zip-interior-traversal", _zip_traversal, "leaves the archive"),
    Case("zip-symlink-member", _zip_symlink_member, "a symlink stored in the archive"),
    Case("zip-file-beside-folder", _zip_file_beside_folder, "a file beside a folder of the same name"),
)
