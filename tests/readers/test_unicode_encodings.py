"""Every Unicode encoding PowerShell writes — UTF-8, UTF-16 and UTF-32, little- and big-endian, each with and without
its BOM — read from a real export re-encoded into it, gives exactly the records of the original. (PowerShell 5.1's
`-Encoding UTF32` writes UTF-32LE with a BOM, `BigEndianUnicode` UTF-16BE; BOM-less forms come from .NET writers
and from files re-saved by editors.)"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from analyzer.readers.clixml import ClixmlReader
from analyzer.readers.csv import CsvReader
from analyzer.readers.dispatch import open_export
from analyzer.readers.json import JsonReader
from analyzer.readers.text import TextReader
from tests.conftest import DATA, REAL

ENCODINGS = {
    "utf-8": (b"", "utf-8"), "utf-8-bom": (codecs.BOM_UTF8, "utf-8"),
    "utf-16-le": (b"", "utf-16-le"), "utf-16-le-bom": (codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-16-be": (b"", "utf-16-be"), "utf-16-be-bom": (codecs.BOM_UTF16_BE, "utf-16-be"),
    "utf-32-le": (b"", "utf-32-le"), "utf-32-le-bom": (codecs.BOM_UTF32_LE, "utf-32-le"),
    "utf-32-be": (b"", "utf-32-be"), "utf-32-be-bom": (codecs.BOM_UTF32_BE, "utf-32-be"),
}  # fmt: skip
CSS = REAL / "microsoft__CSS-Exchange"
EXPORTS: dict[str, tuple[Path, Callable[[Path], Iterable[Any]]]] = {
    "clixml": (
        CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__GetExchangeServer.xml",
        ClixmlReader,
    ),
    "format-table": (REAL / "webprofusion__certify" / "issues__303__Get-ExchangeCertificate_table.txt", TextReader),
    "format-list": (REAL / "imapsync__imapsync" / "issues__310__Get-CASMailbox_EXO_fl_PARTIAL.txt", TextReader),
    "json": (
        REAL / "cisagov__ScubaGear" / "PowerShell__ScubaGear__Sample-Reports__ProviderSettingsExport.json",
        JsonReader,
    ),
    # No public real Export-Csv file is kept; this one is synthetic, made to PowerShell 5.1's documented shape.
    "csv": (DATA / "synthetic" / "synthetic-ps51-export-csv-utf16le-type-semicolon.csv", CsvReader),
}


def _text(path: Path) -> str:
    raw = path.read_bytes()
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            return raw.decode(codec)
    return raw.decode("utf-8")


def _records(reader: Iterable[Any]) -> list[tuple[Any, ...]]:
    return [(r.type_names, r.to_string, repr(dict(r.properties)), r.source.line, r.source.index) for r in reader]


@pytest.mark.parametrize("export", list(EXPORTS))
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_real_export_reads_the_same_in_every_unicode_encoding(tmp_path: Path, export: str, encoding: str) -> None:
    source, reader = EXPORTS[export]
    text = _text(source)
    if export == "clixml":  # the XML declaration, if any, must not contradict the new encoding
        assert not text.lstrip().startswith("<?xml")
    expected = _records(reader(source))
    assert expected, source
    bom, codec = ENCODINGS[encoding]
    copy = tmp_path / source.name
    copy.write_bytes(bom + text.encode(codec))
    assert _records(reader(copy)) == expected
    opened = open_export(copy)  # found from the content, whatever the encoding
    assert type(opened) is reader
    assert opened.encoding in _labels(encoding), (opened.encoding, encoding)


def _labels(encoding: str) -> set[str]:
    """What the reader must report: the encoding and whether a BOM was there (pure ASCII UTF-8 may say ASCII)."""
    if encoding == "utf-8":
        return {"UTF-8", "ASCII"}
    name = encoding.removesuffix("-bom").upper()
    name = name[:-3] + name[-2:] if name[-3:] in ("-LE", "-BE") else name  # UTF-16-LE → UTF-16LE
    return {f"{name} with BOM"} if encoding.endswith("-bom") else {f"{name} without BOM"}
