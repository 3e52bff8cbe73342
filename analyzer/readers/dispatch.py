"""Choosing the reader for a file by its content, and the interface every reader offers."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Protocol

from analyzer.errors import InputError
from analyzer.model import InputProblem, Record
from analyzer.readers.clixml import ClixmlReader
from analyzer.readers.csv import CsvReader
from analyzer.readers.detect import CLIXML, CSV, JSON, TEXT, detect_format
from analyzer.readers.json import JsonReader
from analyzer.readers.text import TextReader


class ExportReader(Protocol):
    """What every reader offers. `problems` and `lossy_columns` are complete once iteration has ended."""

    format: str

    @property
    def encoding(self) -> str: ...

    @property
    def problems(self) -> list[InputProblem]: ...

    @property
    def lossy_columns(self) -> dict[str, str]: ...

    def __iter__(self) -> Iterator[Record]: ...


def open_export(path: Path, *, encoding: str | None = None, properties: Collection[str] | None = None) -> ExportReader:
    """The reader for the file's format, found from its content. Raises InputError for anything else.
    `properties` narrows what the CLIXML and CSV readers decode to the named properties (any case)."""
    if not path.is_file():
        raise InputError(str(path), 0, "no such file" if not path.exists() else "not a regular file")
    found = detect_format(path)
    if found == CLIXML:
        return ClixmlReader(path, properties=properties)
    if found == CSV:
        return CsvReader(path, encoding=encoding, properties=properties)
    if found == JSON:
        return JsonReader(path, encoding=encoding)
    if found == TEXT:
        return TextReader(path, encoding=encoding)
    raise InputError(
        str(path), 0, "format not recognised: expected Export-Clixml, Export-Csv, Format-List/Table text or JSON"
    )
