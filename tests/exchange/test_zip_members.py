"""Zip bundles read member by member: names as the archiving tool wrote them, refusals with reasons, limits that
hold for the whole archive."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from analyzer.exchange.sources import MAX_MEMBERS, Unread, extract_zip

JAPANESE_NAME = "サーバー/メールボックス.xml"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _rename(data: bytes, placeholder: str, raw: bytes, *, utf8_flag: bool) -> bytes:
    """Put raw name bytes where an ASCII placeholder of the same length stands, in the local and central headers,
    with the UTF-8 flag as given: how Windows' own zip tools (cp932 on Japanese Windows) write names."""
    assert len(placeholder.encode()) == len(raw)
    out = bytearray(data.replace(placeholder.encode(), raw))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            (flags,) = struct.unpack_from("<H", out, start + flag_offset)
            struct.pack_into("<H", out, start + flag_offset, (flags | 0x800) if utf8_flag else (flags & ~0x800))
            start += 4
    return bytes(out)


def _extract(tmp_path: Path, data: bytes) -> tuple[list[str], list[Unread]]:
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(data)
    unread: list[Unread] = []
    files = extract_zip(archive, tmp_path / "x", unread)
    return [f.relative for f in files], unread


def test_names_written_in_cp932_without_the_utf8_flag_are_read_as_japanese(tmp_path: Path) -> None:
    raw = JAPANESE_NAME.encode("cp932")
    placeholder = "a" * len(raw)
    data = _rename(_zip({placeholder: b"<Objs/>"}), placeholder, raw, utf8_flag=False)
    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[0] != JAPANESE_NAME  # zipfile alone shows cp437 mojibake
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(data)
    unread: list[Unread] = []
    [member] = extract_zip(archive, tmp_path / "x", unread)
    assert not unread and member.relative == JAPANESE_NAME and member.display == f"{archive}!{JAPANESE_NAME}"
    assert member.path.read_bytes() == b"<Objs/>"


def test_utf8_names_without_the_flag_are_read_as_utf8(tmp_path: Path) -> None:
    raw = JAPANESE_NAME.encode("utf-8")
    placeholder = "a" * len(raw)
    files, _unread = _extract(tmp_path, _rename(_zip({placeholder: b"x"}), placeholder, raw, utf8_flag=False))
    assert files == [JAPANESE_NAME]


def test_a_flagged_name_beside_unflagged_utf8_names_is_read_as_written(tmp_path: Path) -> None:
    raw = JAPANESE_NAME.encode("utf-8")
    placeholder = "a" * len(raw)
    data = bytearray(_zip({placeholder: b"x", "山田.xml": b"y"}).replace(placeholder.encode(), raw))
    for signature, flag_offset, name_offset in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            if data[start + name_offset : start + name_offset + len(raw)] == raw:  # only the renamed member
                (flags,) = struct.unpack_from("<H", data, start + flag_offset)
                struct.pack_into("<H", data, start + flag_offset, flags & ~0x800)
            start += 4
    files, unread = _extract(tmp_path, bytes(data))
    assert sorted(files) == sorted([JAPANESE_NAME, "山田.xml"]) and unread == []


def test_a_name_marked_utf8_that_is_not_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    data = _rename(_zip({"ab.xml": b"x"}), "ab", b"\xff\xfe", utf8_flag=True)
    files, unread = _extract(tmp_path, data)
    archive = tmp_path / "bundle.zip"
    assert files == [] and unread == [
        Unread(str(archive), "bundle.zip", "not a readable zip file: a member name marked UTF-8 is not")
    ]


def test_members_that_name_nothing_or_leave_the_folder_are_refused(tmp_path: Path) -> None:
    entries = {".": b"x", "a/../../x.xml": b"z", "..\\x.xml": b"z", "a\\..\\..\\y.xml": b"z",
               "C:/x.xml": b"z", "/abs.xml": b"z", "ok/./fine.xml": b"k"}  # fmt: skip
    files, unread = _extract(tmp_path, _zip(entries))
    assert files == ["ok/fine.xml"]
    assert len(unread) == len(entries) - 1
    assert all("leaves the archive or names nothing" in u.reason for u in unread)
    assert not (tmp_path / "x.xml").exists() and not (tmp_path.parent / "x.xml").exists()


def test_duplicate_names_hide_nothing_both_are_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pop.xml", b"SecureLogin")
        archive.writestr("POP.xml", b"PlainTextLogin")  # the same file on Windows
        archive.writestr("other.xml", b"o")
    files, unread = _extract(tmp_path, buffer.getvalue())
    assert files == ["other.xml"]
    assert sorted(u.relative for u in unread) == ["POP.xml", "pop.xml"]
    assert all("members named" in u.reason for u in unread)


def test_many_members_each_under_the_limit_are_a_bomb_together(tmp_path: Path) -> None:
    entries = {f"m/{i:03d}.xml": b"\0" * (1 << 20) for i in range(64)}  # 64 MiB from ~64 KiB
    files, unread = _extract(tmp_path, _zip(entries))
    assert files == [] and len(unread) == 1 and "a zip bomb" in unread[0].reason
    assert not (tmp_path / "x").exists()


def test_a_hundred_thousand_members_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(MAX_MEMBERS + 1):
            archive.writestr(f"{i}", b"")
    files, unread = _extract(tmp_path, buffer.getvalue())
    assert files == [] and "members" in unread[0].reason
    assert not (tmp_path / "x").exists()
