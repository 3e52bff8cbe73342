"""Turning the bytes of an export into text: the one place that decides which encoding a file is in.

PowerShell writes exports as UTF-8 with or without a BOM, UTF-16LE/BE with a BOM (Windows PowerShell's
`Unicode` default for Export-Clixml and `>`), UTF-32, and occasionally UTF-16 without a BOM. UTF-16 without a
BOM is recognised from the NUL bytes of ASCII characters, which is reliable for XML, CSV and list text whose
first characters are ASCII.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Longest BOM first: the UTF-32LE BOM starts with the UTF-16LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32LE with BOM"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32BE with BOM"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE with BOM"),
)

SNIFF_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What the first bytes say: the Python codec, a label for reports, and how many BOM bytes to skip."""

    codec: str
    label: str
    bom_length: int


def sniff_unicode(head: bytes) -> Sniffed:
    """Recognise a BOM or BOM-less UTF-16/32 from a file's first bytes; anything else is taken as UTF-8."""
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return Sniffed(codec, label, len(bom))
    sample = head[:256]
    if len(sample) >= 4:
        if sample[0] and not sample[1] and not sample[2] and not sample[3]:
            return Sniffed("utf-32-le", "UTF-32LE without BOM", 0)
        if not sample[0] and not sample[1] and not sample[2] and sample[3]:
            return Sniffed("utf-32-be", "UTF-32BE without BOM", 0)
    if len(sample) >= 2:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        # ASCII text in UTF-16 has a NUL in every other byte; require most of them to avoid binary noise.
        if odd_nuls >= half * 0.6 and even_nuls == 0:
            return Sniffed("utf-16-le", "UTF-16LE without BOM", 0)
        if even_nuls >= half * 0.6 and odd_nuls == 0:
            return Sniffed("utf-16-be", "UTF-16BE without BOM", 0)
    return Sniffed("utf-8", "UTF-8", 0)


class Utf8Stream:
    """A read-only byte stream that presents a file's content as UTF-8, without its BOM.

    UTF-8 input passes through untouched; any other Unicode encoding is decoded incrementally, so a file of
    hundreds of MB never sits in memory. Decoding errors surface as UnicodeDecodeError from `read`.
    """

    def __init__(self, raw: BinaryIO, sniffed: Sniffed, *, start: int = 0, end: int | None = None) -> None:
        """`start` and `end` (byte offsets of the file, `start` on a character boundary) read only that part."""
        self._raw = raw
        self._raw.seek(max(start, sniffed.bom_length))
        self._left = None if end is None else max(0, end - self._raw.tell())  # bytes of the part not yet read
        self._passthrough = sniffed.codec == "utf-8"
        self._decoder = None if self._passthrough else codecs.getincrementaldecoder(sniffed.codec)("strict")
        self._pending = b""
        self._eof = False
        self._failed: UnicodeDecodeError | None = None
        self.lines_read = 0  # line ends handed over so far (counted when decoding; UTF-8 passes through)
        self._codec = sniffed.codec

    # Enough of the file protocol for pyarrow and `with`.
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._raw.closed

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Utf8Stream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _read_raw(self, size: int) -> bytes:
        if self._left is None:
            return self._raw.read(size)
        chunk = self._raw.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(chunk)
        return chunk

    def read(self, size: int = -1) -> bytes:
        if self._passthrough:
            return self._read_raw(size)
        assert self._decoder is not None
        want = size if size > 0 else 1 << 62
        if self._failed is not None and not self._pending:
            raise self._failed
        # Decoded pieces are joined once: growing one bytes object per 64 KB read copied it again each time.
        pieces, have = [self._pending], len(self._pending)
        while have < want and not self._eof and self._failed is None:
            chunk = self._read_raw(max(1 << 16, want - have) if size > 0 else -1)
            self._eof = not chunk
            try:
                piece = self._decoder.decode(chunk, final=self._eof).encode("utf-8")
            except UnicodeDecodeError as error:
                # Hand over the text before the bad bytes first and fail at the next read, so that a reader
                # keeps every record that stands before the damage.
                piece = self._good_prefix(error)
                self._failed = error
            pieces.append(piece)
            have += len(piece)
        pending = b"".join(pieces) if len(pieces) > 1 else pieces[0]
        out, self._pending = pending[:want], pending[want:]
        self.lines_read += out.count(b"\n")
        return out

    def _good_prefix(self, error: UnicodeDecodeError) -> bytes:
        """The text before the bad bytes, as UTF-8. `error.object` is the decoder's buffer (what an earlier read
        left of a character, then this chunk), which starts on a character boundary."""
        return bytes(error.object[: error.start]).decode(self._codec).encode("utf-8")


# ---------------------------------------------------------------------------------------------------------
# Whole-file decisions for text formats (CSV, list/table text, JSON): Unicode first, then legacy code pages.

LEGACY_JAPANESE = "cp932"
LEGACY_WESTERN = "cp1252"
_QUESTION_RUN = re.compile(rb"[A-Za-z0-9]\?+[A-Za-z0-9]|\?{2,}")


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """The codec chosen for a whole file, a label for reports, and a warning when the bytes have lost text."""

    codec: str
    label: str
    bom_length: int = 0
    lossy: str | None = None


_JAPANESE_CHARACTER = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
_ASCII_BYTES = bytes(range(0x80))


def _japanese_evidence(text: str) -> int:
    """Characters that only make sense in Japanese text: kana and common CJK ideographs."""
    return len(_JAPANESE_CHARACTER.findall(text))


def _ascii(question_marks: bool) -> TextEncoding:
    lossy = None
    if question_marks:
        lossy = (
            "the file is pure ASCII and has '?' where letters stood: probably Windows PowerShell 5.1's "
            "default ASCII encoding, which replaced every non-ASCII character by '?' (not recoverable; "
            "export again with -Encoding UTF8)"
        )
    return TextEncoding("utf-8", "ASCII", 0, lossy)


def choose_file_encoding(path: Path, override: str | None = None) -> TextEncoding:
    """`choose_encoding` for a file, reading it in chunks: the whole file is held only when it is neither
    Unicode nor ASCII nor UTF-8, since a legacy code page is judged on all of its text."""
    with path.open("rb") as raw:
        head = raw.read(SNIFF_BYTES)
        sniffed = sniff_unicode(head)
        if override or sniffed.codec != "utf-8" or sniffed.bom_length:
            return choose_encoding(head, override)
        raw.seek(0)
        ascii_only, question_marks = True, False
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := raw.read(1 << 22):
                if ascii_only and chunk.isascii():  # a run of ? across a chunk boundary is found in one of them
                    question_marks = question_marks or (b"?" in chunk and _QUESTION_RUN.search(chunk) is not None)
                    continue
                ascii_only = False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raw.seek(0)
            return choose_encoding(raw.read())
    return _ascii(question_marks) if ascii_only else TextEncoding("utf-8", "UTF-8", 0)


def choose_encoding(data: bytes | bytearray, override: str | None = None) -> TextEncoding:
    """Decide how to decode a whole text export.

    Order: an explicit override; a BOM; UTF-16/32 without BOM; strict UTF-8; then a legacy code page chosen by
    evidence — cp932 when the bytes decode as Shift-JIS into Japanese text, otherwise cp1252. Pure ASCII with
    `?` standing where letters were is flagged: Windows PowerShell 5.1's Export-Csv writes ASCII by default and
    replaces every other character by `?`, which no decoder can undo.
    """
    if override:
        try:
            codec = codecs.lookup(override).name
        except LookupError:
            raise ValueError(f"unknown encoding {override!r}") from None
        bom = codecs.BOM_UTF8 if codec == "utf-8" and data.startswith(codecs.BOM_UTF8) else b""
        return TextEncoding(codec, f"{codec} (given with --encoding)", len(bom))
    sniffed = sniff_unicode(bytes(data[:SNIFF_BYTES]))
    if sniffed.codec != "utf-8" or sniffed.bom_length:
        return TextEncoding(sniffed.codec, sniffed.label, sniffed.bom_length)
    if data.isascii():
        return _ascii(b"?" in data and _QUESTION_RUN.search(data) is not None)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return TextEncoding("utf-8", "UTF-8", 0)
    try:
        japanese = data.decode(LEGACY_JAPANESE)
    except UnicodeDecodeError:
        japanese = ""
    non_ascii = len(data.translate(None, _ASCII_BYTES))
    # A Japanese character takes two bytes in cp932: most non-ASCII bytes must belong to such characters.
    if japanese and _japanese_evidence(japanese) * 2 >= non_ascii * 0.5:
        return TextEncoding(LEGACY_JAPANESE, "cp932 (Japanese ANSI code page, chosen by evidence)")
    try:
        data.decode(LEGACY_WESTERN)
    except UnicodeDecodeError as error:
        return TextEncoding(
            LEGACY_WESTERN,
            "cp1252 (Western ANSI code page, chosen by evidence)",
            0,
            f"byte 0x{data[error.start]:02X} at offset {error.start} is undefined in cp1252 and was replaced",
        )
    return TextEncoding(LEGACY_WESTERN, "cp1252 (Western ANSI code page, chosen by evidence)")


@dataclass(frozen=True, slots=True)
class LoadedText:
    """A text export's bytes, BOM removed and re-encoded as UTF-8 when the file was UTF-16/32, so every reader
    can work on an ASCII-compatible byte string; `codec` decodes `body`. A bytearray, so that a caller can drop
    a leading line in place (`del body[:n]` moves a pointer; slicing a 750 MB bytes object copies it)."""

    body: bytearray
    codec: str
    encoding: TextEncoding


def load_text(path: Path, override: str | None = None) -> LoadedText:
    """Read a whole text export read-only and choose its encoding. Raises ValueError with the reason when the
    bytes cannot be what they claim (bad UTF-16, an unknown --encoding)."""
    with path.open("rb") as raw:
        data = bytearray(os.fstat(raw.fileno()).st_size)  # read straight into it: bytearray(raw.read()) is 2×
        data[raw.readinto(data) :] = b""  # in case the file shrank meanwhile
        data += raw.read()  # or grew
    chosen = choose_encoding(data, override)
    if chosen.codec.startswith(("utf-16", "utf-32")):
        try:
            text = data[chosen.bom_length :].decode(chosen.codec)
        except UnicodeDecodeError as error:
            raise ValueError(f"not valid {chosen.label}: {error.reason} at byte {error.start}") from None
        del data
        return LoadedText(bytearray(text.encode("utf-8")), "utf-8", chosen)
    del data[: chosen.bom_length]
    return LoadedText(data, chosen.codec, chosen)
