"""Recognise an export's format from its content, never from its file name."""

from __future__ import annotations

from pathlib import Path

from analyzer.readers.encoding import SNIFF_BYTES, sniff_unicode

CLIXML = "clixml"


def detect_format(path: Path) -> str | None:
    """The format name of the file at `path`, or None when its content matches no known export format."""
    with path.open("rb") as raw:
        head = raw.read(SNIFF_BYTES)
    sniffed = sniff_unicode(head)
    text = head[sniffed.bom_length :].decode(sniffed.codec, errors="ignore").lstrip()
    if text.startswith("#< CLIXML"):
        text = text.partition("\n")[2].lstrip()
    if text.startswith("<") and "Objs" in text[:512]:
        return CLIXML
    return None
