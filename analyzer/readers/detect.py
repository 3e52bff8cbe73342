"""Recognise an export's format from its content, never from its file name."""

from __future__ import annotations

import re
from pathlib import Path

from analyzer.readers.encoding import SNIFF_BYTES, sniff_unicode

CLIXML = "clixml"
CSV = "csv"
JSON = "json"
TEXT = "text"  # Format-List or Format-Table; the text reader tells which

_JSON_START = re.compile(r"[\[{]\s*(?:[\"{\[\]}0-9-]|true|false|null)")
_LIST_LINE = re.compile(r"^\S[^\r\n]*? : ", re.MULTILINE)
_DASH_ROW = re.compile(r"^-+(?: +-+)*\s*$", re.MULTILINE)
_QUOTED_HEADER = re.compile(r'^"[^"\r\n]*"(?:[,;\t]"[^"\r\n]*")*\r?$', re.MULTILINE)
_PLAIN_HEADER = re.compile(r"^[\w .-]+(?:[,;\t][\w .-]+)+\r?$")


def detect_format(path: Path) -> str | None:
    """The format name of the file at `path`, or None when its content matches no known export format."""
    with path.open("rb") as raw:
        head = raw.read(SNIFF_BYTES)
    sniffed = sniff_unicode(head)
    codec = sniffed.codec if sniffed.codec != "utf-8" else "utf-8"
    text = head[sniffed.bom_length :].decode(codec, errors="replace").lstrip()
    if text.startswith("#< CLIXML"):
        text = text.partition("\n")[2].lstrip()
    if text.startswith("<") and "Objs" in text[:512]:
        return CLIXML
    if _JSON_START.match(text):
        return JSON
    first_line = text.split("\n", 1)[0]
    if first_line.startswith("#TYPE") or _QUOTED_HEADER.match(first_line):
        return CSV
    if _LIST_LINE.search(text) or _DASH_ROW.search(text):
        return TEXT
    if _PLAIN_HEADER.match(first_line):  # PowerShell 7 with -UseQuotes AsNeeded/Never and no #TYPE line
        return CSV
    return None
