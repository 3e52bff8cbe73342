"""A whole number past what a 64-bit column holds (a typed `<U64>`, or any digits in text) is an unreadable
cell at its line, not a crash of the scan (found by the column-versus-record property test: an OverflowError
when the rows were typed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analyzer.exchange.bundle import load_bundle
from analyzer.exchange.cells import as_int
from analyzer.synthetic.exchange_objects import protocol_settings
from analyzer.synthetic.samples import clixml_bytes
from analyzer.synthetic.text_writers import CsvStyle, export_csv

TOO_BIG = 2**63  # one past Int64's largest


@pytest.mark.parametrize("value", [TOO_BIG, -(2**63) - 1, str(TOO_BIG), "99999999999999999999"])
def test_as_int_refuses_what_a_64_bit_column_cannot_hold(value: int | str) -> None:
    with pytest.raises(ValueError, match="outside the range of a 64-bit integer"):
        as_int(value)


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), "1,995", " 0 ", None, ""])
def test_as_int_keeps_everything_in_range(value: int | str | None) -> None:
    assert as_int(value) == (int(str(value).replace(",", "")) if str(value or "").strip() else None)


def _settings(proxy_port: object) -> list[tuple[tuple[str, ...], dict[str, object], dict[str, object]]]:
    good = protocol_settings("pop", "EXCH01", "contoso.com")
    bad = protocol_settings("pop", "EXCH02", "contoso.com")
    bad[1]["ProxyTargetPort"] = proxy_port
    return [good, bad]


@pytest.mark.parametrize("kind", ["clixml", "csv"])
def test_an_out_of_range_port_is_a_located_problem_and_the_other_rows_stay(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    if kind == "clixml":
        text = clixml_bytes(_settings(TOO_BIG), utf16=False).decode()
        written = f'<I64 N="ProxyTargetPort">{TOO_BIG}</I64>'  # the writer knows no unsigned type
        assert written in text
        path = folder / "Get-PopSettings.xml"
        path.write_text(text.replace(written, f'<U64 N="ProxyTargetPort">{TOO_BIG}</U64>'), encoding="utf-8")
    else:
        objects = _settings(str(TOO_BIG))
        path = folder / "Get-PopSettings.csv"
        path.write_text(export_csv([(list(t), {**p, **e}) for t, p, e in objects], CsvStyle()), encoding="utf-8-sig")
    bundle = load_bundle([folder])
    frame = bundle.datasets["pop_settings"].frame.set_index("Server")
    assert frame.loc["EXCH01", "ProxyTargetPort"] == 1995
    assert frame.loc["EXCH02", "ProxyTargetPort"] is pd.NA
    problems = [p for p in bundle.problems if "ProxyTargetPort" in p.message]
    assert len(problems) == 1 and "outside the range of a 64-bit integer" in problems[0].message
    line = path.read_text(encoding="utf-8-sig").splitlines()[problems[0].line - 1]
    assert ("EXCH02" in line) if kind == "csv" else line.strip().startswith("<Obj")  # the row; the object
    assert problems[0].line > 3  # not the first object's
