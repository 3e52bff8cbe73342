"""Damaged CSV, text and JSON exports only ever give the project's own located error."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.readers.csv import CsvReader
from analyzer.readers.json import JsonReader
from analyzer.readers.text import TextReader
from tests.conftest import DATA, REAL
from tests.readers.damage import assert_only_located_errors

SYNTHETIC = DATA / "synthetic"
SEEDS: dict[Any, list[bytes]] = {
    CsvReader: [p.read_bytes() for p in sorted(SYNTHETIC.glob("synthetic-*.csv"))],
    TextReader: [p.read_bytes() for p in sorted(SYNTHETIC.glob("synthetic-*.txt"))]
    + [p.read_bytes() for p in sorted(REAL.glob("*/*.txt"))],
    JsonReader: [p.read_bytes() for p in sorted(SYNTHETIC.glob("synthetic-*.json"))],
}
READERS = st.sampled_from(sorted(SEEDS, key=lambda reader: reader.__name__))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), reader=READERS)
def test_mutations_give_only_located_errors(data: st.DataObject, reader: type) -> None:
    seed = bytearray(data.draw(st.sampled_from(SEEDS[reader])))
    for _ in range(data.draw(st.integers(1, 6))):
        if not seed:
            break
        where = data.draw(st.integers(0, len(seed) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip":
            seed[where] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del seed[where:]
        elif action == "insert":
            seed[where:where] = data.draw(
                st.sampled_from([b'"', b",", b";", b"\r\n", b"{", b"}", b"[", b" : ", b"\x00", b"---"])
            )
        else:
            del seed[where : where + data.draw(st.integers(1, 20))]
    assert_only_located_errors(reader, bytes(seed))
