"""The same objects saved as CLIXML, Export-Csv, Format-List text and ConvertTo-Json read back to the same values,
for every property each format can carry; what a format cannot carry is flagged, never guessed."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from analyzer.model import Record
from analyzer.readers.dispatch import open_export
from analyzer.readers.psvalues import PSDateTime, PSEnum, PSList
from analyzer.synthetic.clixml_writer import ClixmlWriter
from analyzer.synthetic.text_writers import CsvStyle, convert_to_json, export_csv, format_list, to_string

TYPE = "Microsoft.Exchange.Data.Directory.Management.CASMailbox"


def _list(*items: str) -> PSList:
    values = PSList(("System.Object[]",))
    values.extend(items)
    return values


OBJECTS: list[tuple[list[str], dict[str, Any]]] = [
    (
        [TYPE],
        {
            "Name": "alice",
            "DisplayName": "山田 太郎",
            "Notes": "line one\nline two",
            "Tricky": 'a_x000D_b, "quoted"; semi',
            "Padded": "  leading",
            "Empty": "",
            "Missing": None,
            "PopEnabled": True,
            "ImapEnabled": False,
            "Count": -42,
            "Big": 2**40,
            "Status": PSEnum("System.ServiceProcess.ServiceControllerStatus", "Running", 4),
            "Changed": PSDateTime(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC), "Utc"),
            "Guid": uuid.UUID("0b2a8c7e-1f4e-4a5b-9c3d-2e1f0a9b8c7d"),
            "Few": _list("one"),
            "Many": _list("a", "b", "c", "d", "e"),
            "None": _list(),
        },
    ),
    (
        [TYPE],
        {
            "Name": "bob",
            "DisplayName": "Müller, Jörg",
            "Notes": "",
            "Tricky": "=1+2",
            "Padded": "x",
            "Empty": "",
            "Missing": "now set",
            "PopEnabled": False,
            "ImapEnabled": True,
            "Count": 0,
            "Big": 1,
            "Status": PSEnum("System.ServiceProcess.ServiceControllerStatus", "Stopped", 1),
            "Changed": PSDateTime(datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC), "Utc"),
            "Guid": uuid.UUID(int=7),
            "Few": _list("x", "y"),
            "Many": _list("a"),
            "None": _list(),
        },
    ),
]


def _write_all(folder: Path) -> dict[str, list[Record]]:
    text = io.StringIO()
    writer = ClixmlWriter(text, deserialized=True)
    for types, props in OBJECTS:
        writer.write_object(types, props)
    writer.close()
    files = {
        "clixml": text.getvalue().encode("utf-8"),
        "csv": b"\xef\xbb\xbf" + export_csv(OBJECTS, CsvStyle()).encode("utf-8"),
        "list": b"\xff\xfe" + format_list(OBJECTS, width=120).encode("utf-16-le"),
        "json": convert_to_json(OBJECTS, ps51=False).encode("utf-8"),
    }
    out: dict[str, list[Record]] = {}
    for name, content in files.items():
        path = folder / f"synthetic-parity.{name}"
        path.write_bytes(content)
        out[name] = list(open_export(path))
    return out


@pytest.fixture(scope="module")
def read_back(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Record]]:
    return _write_all(tmp_path_factory.mktemp("parity"))


def test_every_format_gives_every_object(read_back: dict[str, list[Record]]) -> None:
    assert {name: len(records) for name, records in read_back.items()} == dict.fromkeys(read_back, 2)
    assert [r.properties["Name"] for r in read_back["csv"]] == ["alice", "bob"]


@pytest.mark.parametrize("name", list(OBJECTS[0][1]))
def test_property_parity(read_back: dict[str, list[Record]], name: str) -> None:
    for index, (_types, props) in enumerate(OBJECTS):
        expected = props[name]
        clixml = read_back["clixml"][index].properties[name]
        csv = read_back["csv"][index]
        listed = read_back["list"][index]
        json = read_back["json"][index].properties[name]

        # CLIXML carries everything exactly.
        assert clixml == expected

        # Export-Csv: strings in the culture's ToString form; $null told apart; collections flagged lossy.
        if isinstance(expected, list):
            assert name in csv.lossy
        elif expected is None:
            assert csv.properties[name] is None
        else:
            assert csv.properties[name] == to_string(expected)
            assert name not in csv.lossy

        # Format-List: strings; $null prints as nothing; collections up to $FormatEnumerationLimit (4).
        if isinstance(expected, list):
            assert listed.properties[name] == [to_string(item) for item in expected[:4]]
            assert (name in listed.lossy) == (len(expected) > 4)
        else:
            assert listed.properties[name] == ("" if expected is None else to_string(expected))

        # ConvertTo-Json (PowerShell 7): typed JSON values; enums as numbers; dates ISO 8601.
        if isinstance(expected, PSEnum):
            assert json == expected.value
        elif isinstance(expected, PSDateTime):
            assert isinstance(json, PSDateTime) and json.value == expected.value
        elif isinstance(expected, uuid.UUID):
            assert json == str(expected)
        else:
            assert json == expected
