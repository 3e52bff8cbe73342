"""DISA's XCCDF benchmarks read as published (analyzer/baselines/xccdf.py), and the project's fact table checked
against them: every Vuln ID, STIG ID and CAT the rule packs will be written from is the benchmark's own."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from analyzer.baselines.xccdf import Benchmark, read_xccdf
from analyzer.errors import InputError

REFERENCE = Path(__file__).parent / "data" / "reference"
STIG = REFERENCE / "stig"
FILES = {
    "2019-mailbox": "U_MS_Exchange_2019_Mailbox_Server_STIG_V1R1_Manual-xccdf.xml",
    "2019-edge": "U_MS_Exchange_2019_Edge_Server_STIG_V1R1_Manual-xccdf.xml",
    "2016-mailbox": "U_MS_Exchange_2016_Mailbox_Server_STIG_V2R6_Manual-xccdf.xml",
    "2016-edge": "U_MS_Exchange_2016_Edge_Transport_Server_STIG_V2R5_Manual-xccdf.xml",
}


@pytest.fixture(scope="module")
def benchmarks() -> dict[str, Benchmark]:
    return {name: read_xccdf(STIG / file) for name, file in FILES.items()}


def test_each_benchmark_is_read_with_its_release_and_every_vuln(benchmarks: dict[str, Benchmark]) -> None:
    shape = {name: (b.version, b.date, len(b.rules)) for name, b in benchmarks.items()}
    assert shape == {"2019-mailbox": ("V1R1", "17 Jan 2024", 68), "2019-edge": ("V1R1", "17 Jan 2024", 68),
                     "2016-mailbox": ("V2R6", "24 Jan 2024", 64), "2016-edge": ("V2R5", "24 Jan 2024", 68)}  # fmt: skip
    rule = benchmarks["2019-mailbox"].by_vuln()["V-259645"]
    assert (rule.stig_id, rule.severity, rule.cat) == ("EX19-MB-000006", "medium", "II")
    assert re.fullmatch(r"SV-259645r\d+_rule", rule.rule_id) and "EncryptionRequired" in rule.check
    for benchmark in benchmarks.values():
        assert all(r.vuln_id.startswith("V-") and r.cat in ("I", "II", "III") and r.check for r in benchmark.rules)
        assert len({r.vuln_id for r in benchmark.rules}) == len(benchmark.rules)


def _fact_rows(section: str) -> list[list[str]]:
    """The rows of one table of the fact table (from its heading to the next heading)."""
    text = (REFERENCE / "compliance-sources.md").read_text(encoding="utf-8")
    start = text.index(section)
    end = text.find("\n#", start + len(section))
    rows = [line.split("|")[1:-1] for line in text[start:end].splitlines() if line.startswith("| V-")]
    return [[cell.strip() for cell in row] for row in rows]


@pytest.mark.parametrize(
    ("section", "name", "columns"),
    [("### 1a.", "2019-mailbox", (0, 1, 2)), ("### 1b.", "2019-edge", (0, 1, 2)),
     ("### 2a.", "2016-mailbox", (0, 1, 2)), ("### 2b.", "2016-edge", (0, 1, 2)),
     ("### 2a.", "2019-mailbox", (3, 4, 5)), ("### 2b.", "2019-edge", (3, 4, 5))],
)  # fmt: skip
def test_the_fact_tables_identifiers_are_the_benchmarks(
    benchmarks: dict[str, Benchmark], section: str, name: str, columns: tuple[int, int, int]
) -> None:
    by_vuln = benchmarks[name].by_vuln()
    vuln, stig, cat = columns
    rows = [row for row in _fact_rows(section) if row[vuln].startswith("V-")]
    assert rows
    for row in rows:
        vuln_id = row[vuln].split()[0]  # "V-259680 (removed in latest)"
        assert vuln_id in by_vuln, (section, vuln_id)
        fact = (row[stig].split()[0], row[cat].split()[0])  # "III (removed in 2019 V2)"
        assert fact == (by_vuln[vuln_id].stig_id, by_vuln[vuln_id].cat), (section, vuln_id)
    if section.startswith("### 1"):  # §1 lists every Vuln of the 2019 benchmark
        assert {row[vuln].split()[0] for row in rows} == set(by_vuln)


def test_the_zip_disa_distributes_is_read_too(tmp_path: Path) -> None:
    archive = tmp_path / "U_MS_Exchange_2019_Mailbox_Server_V1R1_STIG.zip"
    with zipfile.ZipFile(archive, "w") as sink:
        sink.writestr("U_MS_Exchange_2019_Mailbox_Server_STIG_V1R1_Manual-xccdf.xml",
                      (STIG / FILES["2019-mailbox"]).read_bytes())  # fmt: skip
        sink.writestr("U_MS_Exchange_2019_Mailbox_Server_STIG_V1R1_Readme.pdf", b"%PDF-")
    assert read_xccdf(archive).by_vuln().keys() == read_xccdf(STIG / FILES["2019-mailbox"]).by_vuln().keys()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Benchmark xmlns="http://checklists.nist.gov/xccdf/1.1">&a;</Benchmark>',
      "a DOCTYPE is refused"),
     (b"<Benchmark><Group id='V-1'/>", "not well-formed XML"),
     (b'<Objs xmlns="http://schemas.microsoft.com/powershell/2004/04"/>', "expected an XCCDF 1.1 <Benchmark>")],
)  # fmt: skip
def test_a_file_that_is_not_a_benchmark_is_a_located_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad-xccdf.xml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_xccdf(path)
    empty_zip = tmp_path / "empty.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as sink:
        sink.writestr("readme.txt", "no benchmark")
    empty_zip.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match=r"expected one \*xccdf.xml in the zip, found 0"):
        read_xccdf(empty_zip)
