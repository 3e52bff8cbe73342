"""Cutting a large Export-Clixml file in two at a top-level object, so that each part can be parsed on its own.

The cut is found by pattern, not by parsing: the bytes that stand between the root's start tag and its first
object (`\\r\\n  ` in PowerShell's output), then `<Obj`, searched for from the middle of the file. Nothing trusts
that guess: the first part is read with the root's end tag after it and the second with the root's start tag
before it, and each must then parse as a document on its own. A cut inside a nested object cannot: its parser
fails and the caller reads the file whole instead.

What a part cannot know by itself — the type-name lists (`<TN RefId>`) defined before it and the number of
lines before it — `before_cut` reads off the bytes ahead of the cut.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from analyzer.readers.encoding import Sniffed, Utf8Stream

# The encodings a cut is searched in: a code unit of one or two bytes and ASCII markup in it.
_UNIT = {"utf-8": 1, "utf-16-le": 2, "utf-16-be": 2}
_HEAD_BYTES = 1 << 16
_WINDOW_BYTES = 1 << 20
_BLANK_RUN = b"\n" * _WINDOW_BYTES
_SEARCH_LIMIT = 64 << 20  # past this from the middle without a cut, the file is not worth cutting
_ROOT_START = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*)?(<((?:[\w.-]+:)?Objs)\b[^>]*>)(\s*)<((?:[\w.-]+:)?Obj)[\s>/]")
_TYPE_LIST = re.compile(rb"<TN\s+RefId\s*=\s*[\"'](\d+)[\"']\s*>.*?</TN\s*>", re.DOTALL)
_TYPE_LIST_START = b"<TN "  # as PowerShell writes it; another spelling leaves a TNRef unknown to the part


@dataclass(frozen=True, slots=True)
class Part:
    """A byte range of the file, read with UTF-8 bytes put before and after it to make it a document.

    `blank_lines` newlines precede `before`, so that the parser counts the part's lines as they are in the file:
    its line numbers — in records and in its own error messages — are then those of a read in one go, including
    libxml2's way with lines past 65,535 (an element there reports the line of its first text)."""

    start: int
    end: int | None  # None: to the end of the file
    before: bytes = b""
    after: bytes = b""
    blank_lines: int = 0


@dataclass(frozen=True, slots=True)
class Cut:
    """Where the second part starts, and the root's tags that make each side a document."""

    offset: int
    root_start: bytes
    root_end: bytes

    def parts(self) -> tuple[Part, Part]:
        return Part(0, self.offset, after=self.root_end), Part(self.offset, None, before=self.root_start)


def find_cut(path: Path, sniffed: Sniffed, size: int, share: float = 0.5) -> Cut | None:
    """A cut before a top-level object, about `share` of the way into the file, or None when none is found."""
    unit = _UNIT.get(sniffed.codec)
    if unit is None:
        return None
    with path.open("rb") as raw:
        raw.seek(sniffed.bom_length)
        head = codecs.getincrementaldecoder(sniffed.codec)("replace").decode(raw.read(_HEAD_BYTES))
        found = _ROOT_START.match(head)
        if found is None or found.group(1).endswith("/>"):
            return None  # `#< CLIXML` output, an empty document, or not PowerShell's layout
        root_start, root_name, separator, object_name = found.groups()
        # A cut goes after the separator, so the whitespace stays with the first part; with no separator at
        # all, the `>` that ends the previous object is what is searched for.
        marker = (separator or ">") + "<" + object_name
        skip = len((separator or ">").encode(sniffed.codec))
        offset = _search(raw, marker.encode(sniffed.codec), sniffed.bom_length, unit, size, share)
    if offset is None:
        return None
    # On one line: the second part's line numbers count from the blank lines before it. A line end inside a tag
    # is a space to XML (attribute values are normalised the same way).
    one_line = root_start.replace("\r", " ").replace("\n", " ")
    return Cut(offset + skip, one_line.encode("utf-8"), f"</{root_name}>".encode())


def _search(raw: BinaryIO, marker: bytes, content_start: int, unit: int, size: int, share: float) -> int | None:
    """The first offset of `marker` from `share` of the file on, on a code-unit boundary and before a tag end."""
    middle = content_start + int((size - content_start) * share)
    position = middle - (middle - content_start) % unit
    while position < size and position - middle < _SEARCH_LIMIT:
        raw.seek(position)
        window = raw.read(_WINDOW_BYTES + len(marker) + 2 * unit)
        at = window.find(marker)
        while at >= 0:
            follows = window[at + len(marker) : at + len(marker) + unit]
            if (position + at - content_start) % unit == 0 and follows.strip(b"\x00") in (b" ", b">", b"/", b"\t"):
                return position + at
            at = window.find(marker, at + 1)
        position += _WINDOW_BYTES
    return None


@dataclass(frozen=True, slots=True)
class BeforeCut:
    """What the second part needs to know of the first: its line count and the type-name lists it defines."""

    lines: int
    type_lists: tuple[bytes, ...] | None  # each `<TN RefId=…>…</TN>` element as UTF-8; None: not knowable


def before_cut(path: Path, sniffed: Sniffed, offset: int) -> BeforeCut:
    """Read the bytes before the cut. The type lists are None if a `<TN` does not end. They are found by
    pattern, so one inside a comment or CDATA is found too: the reader of the first part, which knows, checks
    each list the second part used (`ClixmlReader.type_lists_used`)."""
    lines = 0
    found: list[bytes] | None = []
    carry = b""
    with path.open("rb") as raw:
        stream = Utf8Stream(raw, sniffed, end=offset)
        while chunk := stream.read(_WINDOW_BYTES):
            lines += chunk.count(b"\n")
            if found is None:
                continue
            data = carry + chunk
            # bytes.find, then the pattern where it points: a regex scan would stop at every `<` of the file.
            end, at = 0, data.find(_TYPE_LIST_START)
            while at >= 0:
                match = _TYPE_LIST.match(data, at)
                if match is None:
                    break  # unfinished: it goes round again with the next chunk
                found.append(match.group(0))
                end = match.end()
                at = data.find(_TYPE_LIST_START, end)
            carry = data[at:] if at >= 0 else data[max(end, len(data) - len(_TYPE_LIST_START)) :]
            if len(carry) > _WINDOW_BYTES:
                found = None
    return BeforeCut(lines, None if found is None else tuple(found))


class FramedStream:
    """A part of the file as one byte stream: its blank lines, `before`, its content as UTF-8, then `after`."""

    def __init__(self, raw: BinaryIO, sniffed: Sniffed, part: Part) -> None:
        inner = Utf8Stream(raw, sniffed, start=part.start, end=part.end)
        # The blank lines go before the root's start tag: there they are no text node (inside the root, millions
        # of them would be one, past libxml2's 10 MB limit for a text node).
        runs, rest = divmod(part.blank_lines, _WINDOW_BYTES)
        blank = [_BLANK_RUN] * runs + [b"\n" * rest]
        self._pieces: list[bytes | Utf8Stream] = [*blank, part.before, inner, part.after]

    def read(self, size: int = -1) -> bytes:
        out = b""
        while self._pieces and (size < 0 or len(out) < size):
            piece = self._pieces[0]
            want = -1 if size < 0 else size - len(out)
            if isinstance(piece, bytes):
                taken, rest = (piece, b"") if want < 0 else (piece[:want], piece[want:])
                out += taken
                if rest:
                    self._pieces[0] = rest
                else:
                    self._pieces.pop(0)
                continue
            data = piece.read(want)
            if data:
                out += data
            else:
                self._pieces.pop(0)
        return out
