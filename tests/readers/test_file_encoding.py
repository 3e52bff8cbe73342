"""How a whole text file's encoding is chosen when it is read in chunks (`choose_file_encoding`): the same answer
as for the whole bytes (`choose_encoding`), wherever in the file the telling bytes stand."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from analyzer.readers.encoding import SNIFF_BYTES, TextEncoding, choose_encoding, choose_file_encoding

CHUNK = 1 << 22  # what choose_file_encoding reads at a time
_LOSSY = ("the file is pure ASCII and has '?' where letters stood: probably Windows PowerShell 5.1's default ASCII "
          "encoding, which replaced every non-ASCII character by '?' (not recoverable; export again with -Encoding "
          "UTF8)")  # fmt: skip
_UTF8 = TextEncoding("utf-8", "UTF-8", 0)
_ASCII = TextEncoding("utf-8", "ASCII", 0)


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'"Name"\r\n"user1"\r\n', _ASCII),
        (b'"Name"\r\n"Fran?ois"\r\n', TextEncoding("utf-8", "ASCII", 0, _LOSSY)),
        (b"what? yes\r\n", _ASCII),  # a question mark between words is punctuation, not a lost letter
        ('"Name"\r\n"山田"\r\n'.encode(), _UTF8),
        (codecs.BOM_UTF8 + b"x", TextEncoding("utf-8", "UTF-8 with BOM", 3)),
        (codecs.BOM_UTF16_LE + "x".encode("utf-16-le"), TextEncoding("utf-16-le", "UTF-16LE with BOM", 2)),
        (b"\xe9 abc\r\n", TextEncoding("cp1252", "cp1252 (Western ANSI code page, chosen by evidence)")),
        (
            "山田太郎,営業部\r\n".encode("cp932"),
            TextEncoding("cp932", "cp932 (Japanese ANSI code page, chosen by evidence)"),
        ),
        ("x,é".encode()[:-1], TextEncoding("cp1252", "cp1252 (Western ANSI code page, chosen by evidence)")),
        (b"", _ASCII),
    ],
)
def test_small_files_are_judged_as_their_whole_bytes_would_be(tmp_path: Path, data: bytes,
                                                              expected: TextEncoding) -> None:  # fmt: skip
    assert choose_file_encoding(_file(tmp_path, data)) == expected
    assert choose_encoding(data) == expected


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (b"plain\r\n", _ASCII),
        (b'"Fran?ois"\r\n', TextEncoding("utf-8", "ASCII", 0, _LOSSY)),  # the lost letters only past the first chunk
        ('"山田"\r\n'.encode(), _UTF8),
        (b'"caf\xe9"\r\n', TextEncoding("cp1252", "cp1252 (Western ANSI code page, chosen by evidence)")),
    ],
)
def test_what_tells_may_stand_past_the_first_chunk(tmp_path: Path, tail: bytes, expected: TextEncoding) -> None:
    data = b"a" * (CHUNK + 100) + b"\r\n" + tail
    assert choose_file_encoding(_file(tmp_path, data)) == expected


def test_a_character_split_across_two_chunks_is_still_utf8(tmp_path: Path) -> None:
    character = "山".encode()
    data = b"\xc3\xa9" + b"a" * (CHUNK - 3) + character + b"\r\n"  # its three bytes straddle the chunk boundary
    assert choose_file_encoding(_file(tmp_path, data)) == _UTF8


def test_a_file_ending_inside_a_character_is_not_utf8(tmp_path: Path) -> None:
    data = b"\xc3\xa9" + b"a" * CHUNK + "山".encode()[:2]
    assert choose_file_encoding(_file(tmp_path, data)).codec != "utf-8"  # a legacy code page, by evidence


def test_an_encoding_given_is_taken_whatever_the_bytes(tmp_path: Path) -> None:
    path = _file(tmp_path, "山田".encode())
    assert choose_file_encoding(path, "shift_jis") == TextEncoding("shift_jis", "shift_jis (given with --encoding)", 0)
    assert SNIFF_BYTES >= 4  # enough for any BOM


_CP932 = TextEncoding("cp932", "cp932 (Japanese ANSI code page, chosen by evidence)")
_CP1252 = TextEncoding("cp1252", "cp1252 (Western ANSI code page, chosen by evidence)")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # one Japanese character (2 bytes) among 4 non-ASCII bytes: exactly half the bytes are Japanese → cp932
        ("あ".encode("cp932") + b"\xb1\xb2 x", _CP932),
        # the same character among 5: less than half → the Western code page
        ("あ".encode("cp932") + b"\xb1\xb2\xb3 x", _CP1252),
    ],
)
def test_japanese_is_chosen_when_at_least_half_the_non_ascii_bytes_are_japanese(data: bytes,
                                                                               expected: TextEncoding) -> None:  # fmt: skip
    assert choose_encoding(data) == expected


def test_a_byte_cp1252_does_not_define_is_named_as_lost() -> None:
    data = b"caf\xe9 \x81 x"  # 0x81 has no character in cp1252, and this is neither UTF-8 nor Japanese
    assert choose_encoding(data) == TextEncoding(
        "cp1252", "cp1252 (Western ANSI code page, chosen by evidence)", 0,
        "byte 0x81 at offset 5 is undefined in cp1252 and was replaced",
    )  # fmt: skip


def test_an_encoding_given_as_utf8_still_skips_a_bom() -> None:
    assert choose_encoding(codecs.BOM_UTF8 + b"x", "UTF8") == TextEncoding("utf-8", "utf-8 (given with --encoding)", 3)
    assert choose_encoding(b"x", "utf-8") == TextEncoding("utf-8", "utf-8 (given with --encoding)", 0)
    assert choose_encoding(codecs.BOM_UTF8 + b"x", "cp1252").bom_length == 0  # a BOM is only UTF-8's
