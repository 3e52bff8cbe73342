"""Turning the bytes of an export into text: the one place that decides which encoding a file is in.

PowerShell writes exports as UTF-8 with or without a BOM, UTF-16LE/BE with a BOM (Windows PowerShell's
`Unicode` default for Export-Clixml and `>`), UTF-32, and occasionally UTF-16 without a BOM. UTF-16 without a
BOM is recognised from the NUL bytes of ASCII characters, which is reliable for XML, CSV and list text whose
first characters are ASCII.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
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

    def __init__(self, raw: BinaryIO, sniffed: Sniffed) -> None:
        self._raw = raw
        self._raw.seek(sniffed.bom_length)
        self._passthrough = sniffed.codec == "utf-8"
        self._decoder = None if self._passthrough else codecs.getincrementaldecoder(sniffed.codec)("strict")
        self._pending = b""
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        if self._passthrough:
            return self._raw.read(size)
        assert self._decoder is not None
        want = size if size > 0 else 1 << 62
        while len(self._pending) < want and not self._eof:
            chunk = self._raw.read(1 << 16 if size > 0 else -1)
            self._eof = not chunk
            self._pending += self._decoder.decode(chunk, final=self._eof).encode("utf-8")
        out, self._pending = self._pending[:want], self._pending[want:]
        return out
