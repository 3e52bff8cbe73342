"""The files of a bundle, read in-process so that each guard is pinned exactly: every entry not read is an `Unread`
with the path the report shows, the name a manifest would use and the reason; nothing is written outside the
extraction folder; the order is stable."""

from __future__ import annotations

import io
import os
import stat
import struct
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from analyzer.exchange import sources
from analyzer.exchange.sources import MAX_MEMBERS, SourceFile, Unread, collect, extract_zip, is_documentation
from analyzer.model import InputProblem


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _set_flag(data: bytes, bit: int) -> bytes:
    """Set a general-purpose flag bit in every local and central header."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            (flags,) = struct.unpack_from("<H", out, start + offset)
            struct.pack_into("<H", out, start + offset, flags | bit)
            start += 4
    return bytes(out)


def _extract(tmp_path: Path, data: bytes) -> tuple[list[SourceFile], list[Unread], Path]:
    """Extract `data` as `b.zip` in a folder of its own, into `into` beside it."""
    archive = Path(tempfile.mkdtemp(dir=tmp_path)) / "b.zip"
    archive.write_bytes(data)
    unread: list[Unread] = []
    return extract_zip(archive, archive.parent / "into", unread), unread, archive


def test_members_are_extracted_under_names_of_ours_in_a_stable_order(tmp_path: Path) -> None:
    data = _zip({"Zeta/b.XML": b"2", "alpha/a.xml": b"1", "c.a-b": b"3", "d.verylongsuffix": b"4", "e": b"5",
                 "f.-x": b"6", "g.abcdefg": b"7", "h.abcdefgh": b"8", "x_1.xml": b"9", "xz.xml": b"10",
                 "山田.xml": b"11"})  # fmt: skip
    files, unread, archive = _extract(tmp_path, data)
    assert unread == []
    into = archive.parent / "into"
    assert files == [
        SourceFile(into / "m000000.xml", f"{archive}!alpha/a.xml", "alpha/a.xml"),
        SourceFile(into / "m000001", f"{archive}!c.a-b", "c.a-b"),  # a suffix that is not letters and digits
        SourceFile(into / "m000002", f"{archive}!d.verylongsuffix", "d.verylongsuffix"),  # longer than 8
        SourceFile(into / "m000003", f"{archive}!e", "e"),
        SourceFile(into / "m000004", f"{archive}!f.-x", "f.-x"),
        SourceFile(into / "m000005.abcdefg", f"{archive}!g.abcdefg", "g.abcdefg"),  # 8 with its dot: kept
        SourceFile(into / "m000006", f"{archive}!h.abcdefgh", "h.abcdefgh"),
        SourceFile(into / "m000007.xml", f"{archive}!x_1.xml", "x_1.xml"),  # `_` sorts before letters in lower case
        SourceFile(into / "m000008.xml", f"{archive}!xz.xml", "xz.xml"),
        SourceFile(into / "m000009.xml", f"{archive}!Zeta/b.XML", "Zeta/b.XML"),  # sorted ignoring case
        SourceFile(into / "m000010.xml", f"{archive}!山田.xml", "山田.xml"),  # a name zip marked as UTF-8
    ]
    assert [f.path.read_bytes() for f in files] == [b"1", b"3", b"4", b"5", b"6", b"7", b"8", b"9", b"10", b"2", b"11"]
    assert sorted(p.name for p in into.iterdir()) == [f.path.name for f in files]


def test_each_refused_member_is_listed_with_its_reason(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../up.xml", b"x")
        archive.writestr("dup.xml", b"1")
        archive.writestr("DUP.xml", b"2")
        archive.writestr("pop", b"file beside a folder")
        archive.writestr("pop/settings.xml", b"inside")
        archive.writestr("imap/", b"")  # a folder member: not a file, not refused
        archive.writestr("IMAP", b"file beside a folder member")
        link = zipfile.ZipInfo("link.xml")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("ok.xml", b"fine")
    files, unread, path = _extract(tmp_path, buffer.getvalue())
    assert [f.relative for f in files] == ["ok.xml", "pop/settings.xml"]
    assert unread == [
        Unread(f"{path}!../up.xml", "../up.xml", "refused: the member's path leaves the archive or names nothing"),
        Unread(
            f"{path}!dup.xml",
            "dup.xml",
            "refused: the archive holds 2 members named dup.xml; which one is meant cannot be told, so none is read",
        ),
        Unread(
            f"{path}!DUP.xml",
            "DUP.xml",
            "refused: the archive holds 2 members named DUP.xml; which one is meant cannot be told, so none is read",
        ),
        Unread(f"{path}!IMAP", "IMAP", "refused: a file beside a folder of the same name"),
        Unread(f"{path}!link.xml", "link.xml", "refused: a symlink stored in the archive"),
        Unread(f"{path}!pop", "pop", "refused: a file beside a folder of the same name"),
    ]


def test_a_backslash_name_is_listed_with_forward_slashes(tmp_path: Path) -> None:
    files, unread, path = _extract(tmp_path, _zip({"a\\..\\..\\x.xml": b"z", "EX01\\pop.xml": b"p"}))
    assert [f.relative for f in files] == ["EX01/pop.xml"]
    assert unread == [Unread(f"{path}!a/../../x.xml", "a/../../x.xml",
                             "refused: the member's path leaves the archive or names nothing")]  # fmt: skip


@pytest.mark.parametrize("name", ["/abs.xml", "C:/x.xml", "c:x.xml", ".", "./", "a/..", "x\0.xml"])
def test_names_that_leave_the_folder_or_name_nothing(tmp_path: Path, name: str) -> None:
    assert sources._safe_member_name(name) is None
    assert sources._safe_member_name("a/./b//c.xml") == PurePosixPath("a/b/c.xml")


def test_a_folder_entry_written_with_a_backslash_is_a_folder(tmp_path: Path) -> None:
    files, unread, _path = _extract(tmp_path, _zip({"EX01\\": b"", "EX01\\pop.xml": b"p"}))
    assert [f.relative for f in files] == ["EX01/pop.xml"] and unread == []


def test_a_member_exactly_at_the_bomb_ratio_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_RATIO", 1)  # stored members expand exactly 1:1
    data = _zip({"big.xml": os.urandom((4 << 20) + 1)}, zipfile.ZIP_STORED)
    files, unread, _path = _extract(tmp_path, data)
    assert [f.relative for f in files] == ["big.xml"] and unread == []
    assert files[0].path.stat().st_size == (4 << 20) + 1


def test_an_encrypted_member_is_not_read(tmp_path: Path) -> None:
    files, unread, path = _extract(tmp_path, _set_flag(_zip({"s.xml": b"secret"}), 0x1))
    assert files == [] and unread == [Unread(f"{path}!s.xml", "s.xml", "not read: the member is encrypted")]


def test_one_member_with_a_bombs_ratio_is_refused_and_one_just_under_the_size_is_read(tmp_path: Path) -> None:
    small = 4 << 20  # at or under 4 MiB a high ratio is only a very repetitive export
    files, unread, path = _extract(tmp_path, _zip({"a.xml": b"\0" * small}))
    assert [f.relative for f in files] == ["a.xml"] and unread == []
    files, unread, path = _extract(tmp_path, _zip({"big.xml": b"\0" * (small + 1), "ok.xml": b"k"}))
    assert [f.relative for f in files] == ["ok.xml"]
    assert unread == [Unread(f"{path}!big.xml", "big.xml", "refused: compression ratio of a zip bomb")]


def test_a_whole_archive_that_would_expand_like_a_bomb_is_refused_before_writing(tmp_path: Path) -> None:
    files, unread, path = _extract(tmp_path, _zip({f"m/{i:02d}.xml": b"\0" * (1 << 20) for i in range(8)}))
    assert files == [] and not (path.parent / "into").exists()
    [refused] = unread
    assert refused.display == str(path) and refused.relative == "b.zip"
    assert refused.reason.startswith("refused: would expand to 8,388,608 bytes from ")
    assert refused.reason.endswith(" (a zip bomb)")


def test_the_total_size_limit_holds_whatever_the_ratio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _zip({"a.xml": os.urandom(3000), "b.xml": os.urandom(3000)}, zipfile.ZIP_STORED)
    monkeypatch.setattr(sources, "MAX_EXPANDED_BYTES", 6000)
    assert [f.relative for f in _extract(tmp_path, data)[0]] == ["a.xml", "b.xml"]
    monkeypatch.setattr(sources, "MAX_EXPANDED_BYTES", 5999)
    files, [refused], _path = _extract(tmp_path, data)
    assert files == [] and refused.reason == "refused: would expand to 6,000 bytes from 6,000 (a zip bomb)"


def test_the_member_count_limit_is_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_MEMBERS", 5)
    assert len(_extract(tmp_path, _zip({f"{i}.xml": b"" for i in range(5)}))[0]) == 5
    files, unread, path = _extract(tmp_path, _zip({f"{i}.xml": b"" for i in range(6)}))
    assert files == [] and not (path.parent / "into").exists()
    assert unread == [Unread(str(path), "b.zip", "refused: 6 members; a bundle of exports holds far fewer (limit 5)")]
    assert MAX_MEMBERS == 10_000


def test_a_damaged_member_is_listed_and_leaves_no_file(tmp_path: Path) -> None:
    data = bytearray(_zip({"a.xml": b"<Objs>aaaa</Objs>", "b.xml": b"fine"}, zipfile.ZIP_STORED))
    data[data.find(b"aaaa")] ^= 0x01  # the stored bytes no longer match their CRC-32
    files, unread, path = _extract(tmp_path, bytes(data))
    assert [f.relative for f in files] == ["b.xml"]
    assert unread == [Unread(f"{path}!a.xml", "a.xml", "member could not be extracted: Bad CRC-32 for file 'a.xml'")]
    assert sorted(p.name for p in (path.parent / "into").iterdir()) == ["m000001.xml"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 cut off in transfer", "not a readable zip file: File is not a zip file"),
        (b"", "not a readable zip file: File is not a zip file"),
    ],
)
def test_an_archive_that_cannot_be_opened_is_one_unread_entry(tmp_path: Path, data: bytes, reason: str) -> None:
    files, unread, path = _extract(tmp_path, data)
    assert files == [] and unread == [Unread(str(path), "b.zip", reason)]


def test_names_without_the_utf8_flag_in_neither_utf8_nor_cp932_stay_as_zip_reads_them(tmp_path: Path) -> None:
    raw = b"\x81\x20.xml"  # not UTF-8, and 0x81 0x20 is no cp932 character
    data = _zip({"ab.xml": b"x"}).replace(b"ab.xml", raw)
    files, unread, _path = _extract(tmp_path, data)
    assert [f.relative for f in files] == [raw.decode("cp437")] and unread == []


def _walk(root: Path) -> tuple[list[SourceFile], list[Unread], list[InputProblem]]:
    problems: list[InputProblem] = []
    unread: list[Unread] = []
    return collect([root], root.parent / "scratch", problems, unread), unread, problems


def test_a_folder_is_walked_in_a_stable_order_and_what_is_not_read_is_said(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    (root / "EX01").mkdir(parents=True)
    (root / "b.xml").write_text("b")
    (root / "A.xml").write_text("a")
    (root / "x_1.xml").write_text("x")
    (root / "xz.xml").write_text("x")
    (root / "EX01" / "pop.xml").write_text("p")
    (root / "Thumbs.db").write_bytes(b"\0")
    os.mkfifo(root / "pipe.xml")
    os.symlink(root / "b.xml", root / "inside.xml")
    os.symlink(root / "EX01", root / "folder-link")
    os.symlink(tmp_path, root / "outside")
    os.symlink(root / "gone.xml", root / "broken.xml")
    os.symlink(root / "loop.xml", root / "loop.xml")
    os.symlink(root / "pipe.xml", root / "to-pipe.xml")
    files, unread, problems = _walk(root)
    assert [(f.relative, f.display) for f in files] == [
        ("A.xml", f"{root.name}/A.xml"), ("b.xml", f"{root.name}/b.xml"), ("EX01/pop.xml", f"{root.name}/EX01/pop.xml"),
        ("x_1.xml", f"{root.name}/x_1.xml"), ("xz.xml", f"{root.name}/xz.xml"),  # `_` before letters, in lower case
    ]  # fmt: skip
    said = {u.relative: (u.reason, u.export_like, u.display) for u in unread}
    assert said == {
        "Thumbs.db": ("ignored: a file Windows or macOS keeps in folders", False, f"{root.name}/Thumbs.db"),
        "pipe.xml": ("not a regular file (a FIFO, socket or device): not read", True, f"{root.name}/pipe.xml"),
        "inside.xml": ("symlink to b.xml inside the bundle: read there, not twice", False, f"{root.name}/inside.xml"),
        "folder-link": ("symlink to EX01 inside the bundle: read there, not twice", False, f"{root.name}/folder-link"),
        "outside": ("symlink to a place outside the bundle: refused", True, f"{root.name}/outside"),
        "broken.xml": ("symlink whose target does not exist: not read", True, f"{root.name}/broken.xml"),
        "loop.xml": ("symlink that loops: not read", True, f"{root.name}/loop.xml"),
        "to-pipe.xml": ("symlink to something that is not a regular file: not read", True, f"{root.name}/to-pipe.xml"),
    }
    assert problems == [InputProblem(u.display, 0, u.reason) for u in unread]


def test_a_symlink_to_the_bundle_itself_is_listed_as_the_root(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    os.symlink(root, root / "self")
    _files, unread, _problems = _walk(root)
    assert [u.reason for u in unread] == ["symlink to . inside the bundle: read there, not twice"]


class _Unexaminable:
    """A directory entry whose type cannot be found out (a file vanishing mid-walk, a network share hiccup)."""

    def __init__(self, entry: os.DirEntry[str]) -> None:
        self.path, self.name = entry.path, entry.name

    def is_symlink(self) -> bool:
        raise OSError(5, "Input/output error", self.path)


class _Listing:
    def __init__(self, entries: list[object]) -> None:
        self.entries = entries

    def __enter__(self) -> list[object]:
        return self.entries

    def __exit__(self, *_exc: object) -> None:
        return None


def test_a_folder_that_cannot_be_listed_or_an_entry_that_cannot_be_examined_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bundle"
    (root / "locked").mkdir(parents=True)
    (root / "odd.xml").write_text("x")
    (root / "fine.xml").write_text("x")
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        with real_scandir(path) as listing:
            return _Listing([_Unexaminable(e) if e.name == "odd.xml" else e for e in listing])

    monkeypatch.setattr(os, "scandir", scandir)
    files, unread, _problems = _walk(root)
    assert [f.relative for f in files] == ["fine.xml"]
    assert sorted(unread, key=lambda u: u.relative) == [
        Unread(f"{root.name}/locked", "locked", "folder cannot be read: Permission denied"),
        Unread(f"{root.name}/odd.xml", "odd.xml", "cannot be examined: Input/output error"),
    ]


def test_collect_says_what_it_was_given_that_does_not_exist_and_reads_a_lone_file(tmp_path: Path) -> None:
    lone = tmp_path / "pop.xml"
    lone.write_text("<Objs/>")
    problems: list[InputProblem] = []
    unread: list[Unread] = []
    files = collect([lone, tmp_path / "missing"], tmp_path / "scratch", problems, unread)
    assert files == [SourceFile(lone, "pop.xml", "pop.xml")]  # named as in the bundle, not where it sits here
    assert problems == [InputProblem(str(tmp_path / "missing"), 0, "no such file or folder")] and unread == []


@pytest.mark.parametrize(("name", "data"), [("cut.ZIP", b"not a zip at all"), ("cut.bin", b"PK\x03\x04 truncated")])
def test_a_zip_by_name_or_by_first_bytes_is_read_as_a_damaged_zip(tmp_path: Path, name: str, data: bytes) -> None:
    given = tmp_path / name
    given.write_bytes(data)
    problems: list[InputProblem] = []
    unread: list[Unread] = []
    assert collect([given], tmp_path / "scratch", problems, unread) == []
    assert unread == [Unread(name, name, "not a readable zip file: File is not a zip file")]
    assert problems == [InputProblem(name, 0, "not a readable zip file: File is not a zip file")]


def test_a_file_that_cannot_be_opened_is_not_taken_for_a_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "pop.xml"
    locked.write_text("<Objs/>")
    real_open = Path.open

    def refusing_open(self: Path, *args: object, **kwargs: object) -> object:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refusing_open)
    problems: list[InputProblem] = []
    unread: list[Unread] = []
    assert collect([locked], tmp_path / "scratch", problems, unread) == [SourceFile(locked, "pop.xml", "pop.xml")]
    assert unread == [] and problems == []  # the reader then says it cannot be read, as for any export


def test_two_zips_extract_into_their_own_folders(tmp_path: Path) -> None:
    for name in ("one.zip", "two.zip"):
        (tmp_path / name).write_bytes(_zip({"pop.xml": name.encode()}))
    problems: list[InputProblem] = []
    files = collect([tmp_path / "one.zip", tmp_path / "two.zip"], tmp_path / "s", problems, [])
    assert [f.path for f in files] == [tmp_path / "s/zip0/m000000.xml", tmp_path / "s/zip1/m000000.xml"]
    assert [f.path.read_bytes() for f in files] == [b"one.zip", b"two.zip"] and problems == []


def test_a_file_name_that_is_not_utf8_is_shown_escaped() -> None:
    assert sources.shown_path("EX01/pop.xml") == "EX01/pop.xml"
    assert sources.shown_path(Path("caf\udce9.xml")) == "caf\\xe9.xml"
    assert sources.shown_path("tab\there") == "tab\there"  # not printable, but no undecodable byte
    assert sources.shown_path("a\udc80") == "a\\x80"  # the lowest byte that is not UTF-8 on its own
    assert sources.shown_path("a\udcff") == "a\\xff"  # and the highest


@pytest.mark.parametrize(
    ("name", "documentation"),
    [("README.txt", True), ("docs/readme", True), ("notes.MD", True), ("shot.png", True), ("scan.log", True),
     ("pop.xml", False), ("readme-not/pop.xml", False), ("report.csv", False), ("md", False)],
)  # fmt: skip
def test_documentation_beside_the_exports_is_told_apart(name: str, documentation: bool) -> None:
    assert is_documentation(name) is documentation


def test_a_member_longer_than_its_header_says_is_not_extracted(tmp_path: Path) -> None:
    data = bytearray(_zip({"a.xml": b"x" * 100_000, "b.xml": b"fine"}))
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # a.xml's headers come first
        struct.pack_into("<I", data, data.find(signature) + size_offset, 10)  # declare 10 bytes
    files, unread, path = _extract(tmp_path, bytes(data))
    assert [f.relative for f in files] == ["b.xml"]
    assert unread == [Unread(f"{path}!a.xml", "a.xml", "member could not be extracted: Bad CRC-32 for file 'a.xml'")]
    assert sorted(p.name for p in (path.parent / "into").iterdir()) == ["m000001.xml"]  # nothing of a.xml is left


def test_each_path_given_adds_its_own_problems_once(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for folder in (first, second):
        folder.mkdir()
        os.mkfifo(folder / "pipe.xml")
    problems: list[InputProblem] = []
    unread: list[Unread] = []
    collect([first, second], tmp_path / "scratch", problems, unread)
    reason = "not a regular file (a FIFO, socket or device): not read"
    assert problems == [
        InputProblem("one/pipe.xml", 0, reason),
        InputProblem("two/pipe.xml", 0, reason),
    ]


def test_reports_name_files_from_the_bundle_root_never_by_where_they_sit_on_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consultant's folders (`/home/k.sato/customers/contoso/…`) are not the customer's business and mean nothing
    to them: a folder is named by its own name, a zip and its members as `name.zip!member`, the current folder by
    its name; two roots of one name (`before/EX01`, `after/EX01`) by the path as given, so they stay apart."""
    for folder in ("customers/contoso/EX01", "before/EX01", "after/EX01"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "pop.xml").write_text("<Objs/>")
    with zipfile.ZipFile(tmp_path / "customers" / "bundle.zip", "w") as archive:
        archive.writestr("EX02/imap.xml", "<Objs/>")
    monkeypatch.chdir(tmp_path / "customers" / "contoso")

    def shown(*given: Path) -> list[str]:
        return [f.display for f in collect(list(given), tmp_path / "scratch", [], [])]

    assert shown(tmp_path / "customers/contoso/EX01") == ["EX01/pop.xml"]
    assert shown(Path(".")) == ["contoso/EX01/pop.xml"]
    assert shown(tmp_path / "customers/bundle.zip") == ["bundle.zip!EX02/imap.xml"]
    assert shown(Path("../../before/EX01"), Path("../../after/EX01")) == [
        "../../before/EX01/pop.xml",
        "../../after/EX01/pop.xml",
    ]
