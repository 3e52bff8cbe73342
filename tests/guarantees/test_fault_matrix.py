"""The fault matrix of issue 9, per format: cuts at every line boundary (the structural boundaries of what
PowerShell writes), wrong encodings given, an unreadable file, a zip with a traversal member and a zip bomb.
Each gives a located problem and never a crash, a write outside the scan's own folders, or a verdict made
ready by data that could not be read."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from analyzer.exchange.sources import MAX_RATIO
from analyzer.pipeline import ScanOptions, scan
from analyzer.readers.clixml import ClixmlReader
from analyzer.readers.csv import CsvReader
from analyzer.readers.json import JsonReader
from analyzer.readers.text import TextReader
from tests.readers.damage import assert_only_located_errors

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
AS_OF = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
# One file per format, from the samples; small enough to cut at every line.
PER_FORMAT: dict[str, tuple[Callable[[Path], Iterable[Any]], Path]] = {
    "clixml": (ClixmlReader, SAMPLES / "mistakes-2016" / "pop-settings.xml"),
    "csv": (CsvReader, SAMPLES / "mixed-formats" / "casmailbox.csv"),
    "text": (TextReader, SAMPLES / "mixed-formats" / "pop.txt"),
    "json": (JsonReader, SAMPLES / "mixed-formats" / "exchangeserver.json"),
}


def _line_ends(data: bytes) -> list[int]:
    """Offsets just after each line break, whatever the encoding (UTF-16 breaks are two bytes)."""
    width = 2 if data[:2] in (b"\xff\xfe", b"\xfe\xff") else 1
    step = b"\n\x00" if data[:2] == b"\xff\xfe" else b"\x00\n" if data[:2] == b"\xfe\xff" else b"\n"
    ends, at = [], data.find(step)
    while at >= 0:
        if at % width == 0:
            ends.append(at + len(step))
        at = data.find(step, at + 1)
    return ends


@pytest.mark.parametrize("fmt", sorted(PER_FORMAT))
def test_cut_at_every_line_boundary_and_mid_line_gives_only_located_errors(fmt: str) -> None:
    reader, path = PER_FORMAT[fmt]
    assert path.is_file(), path
    data = path.read_bytes()
    ends = _line_ends(data)
    assert len(ends) > 10, "the sample is big enough to have structure"
    cuts = sorted({*ends, *(max(1, end - 3) for end in ends), 1, 2, 3, len(data) - 1})
    structured = fmt in ("clixml", "json")  # their end is marked: a cut before it can always be told
    closing = len(data.rstrip()) if structured else len(data)
    for cut in cuts:
        assert_only_located_errors(reader, data[:cut], must_fail=structured and cut < closing)


def _structured_cuts() -> list[tuple[str, int, int]]:
    """(format, line, offset) for a cut after every line of each structured sample but its last (the closing tag
    or bracket: what comes after it is only white space)."""
    cases = []
    for fmt in ("clixml", "json"):
        ends = _line_ends(PER_FORMAT[fmt][1].read_bytes())
        cases += [(fmt, line, ends[line - 1]) for line in range(1, len(ends))]
    return cases


@pytest.mark.parametrize(("fmt", "line", "cut"), _structured_cuts(), ids=str)
def test_a_structured_export_cut_after_any_line_keeps_its_verdicts_from_being_ready(
    tmp_path: Path, fmt: str, line: int, cut: int
) -> None:
    _reader, path = PER_FORMAT[fmt]
    sample = path.parent
    bundle = tmp_path / "cut"
    shutil.copytree(sample, bundle)
    (bundle / "manifest.json").unlink(missing_ok=True)
    (bundle / path.relative_to(sample)).write_bytes(path.read_bytes()[:cut])
    result = scan(ScanOptions([bundle], as_of=AS_OF))
    assert [r.rule_id for r in result.results if r.outcome == "error"] == []
    damaged = next(i for i in result.bundle.inputs if i.path.endswith(path.name))
    assert damaged.problems, damaged
    assert not damaged.complete or damaged.format == "unrecognised", damaged  # `[` alone is no recognisable JSON
    protocols = {"pop-settings.xml": ["pop3"], "exchangeserver.json": ["pop3", "imap4"]}[path.name]
    for protocol in protocols:
        assert result.verdicts[protocol]["status"] not in ("ready", "partial"), protocol


# The files of mixed-formats that the given encoding cannot read as they are (UTF-8 CSV and JSON, UTF-16 text with
# a BOM): each must say so; silent acceptance of a wrong encoding is the failure this guards against.
_MISREAD = {
    "utf-16": {"casmailbox.csv", "certificates.csv", "exchangeserver.json", "services.csv"},
    "cp932": {"casmailbox.csv", "imap.txt", "pop.txt"},
    "utf-8": {"imap.txt", "pop.txt"},
    "latin-1": {"casmailbox.csv", "imap.txt", "pop.txt"},
    "ascii": {"casmailbox.csv", "imap.txt", "pop.txt"},
}


@pytest.mark.parametrize("given", list(_MISREAD))
def test_a_wrong_encoding_given_is_a_problem_at_each_file_it_misreads_never_a_crash(given: str) -> None:
    result = scan(ScanOptions([SAMPLES / "mixed-formats"], as_of=AS_OF, encoding=given))
    assert result.bundle.inputs
    flagged = {Path(item.path).name for item in result.bundle.inputs if item.problems}
    assert _MISREAD[given] <= flagged, (given, flagged)
    for item in result.bundle.inputs:
        for problem in item.problems:
            assert problem.path == item.path and problem.line >= 0
    assert [r.rule_id for r in result.results if r.outcome == "error"] == []  # damaged data is no rule's crash


def test_an_xml_declaration_that_lies_about_the_encoding_is_a_located_problem(tmp_path: Path) -> None:
    body = (SAMPLES / "mistakes-2016" / "pop-settings.xml").read_bytes()
    text = body.decode("utf-16") if body[:2] in (b"\xff\xfe", b"\xfe\xff") else body.decode("utf-8-sig")
    lying = tmp_path / "pop-settings.xml"
    lying.write_bytes(('<?xml version="1.0" encoding="utf-16"?>\n' + text).encode("utf-8"))
    assert_only_located_errors(ClixmlReader, lying.read_bytes())


def _scan_as_nobody(bundle: Path) -> str:
    """Scan in a child that cannot read the file. As root (how CI runs) a mode cannot stop a read, so the child
    drops to user nobody — after a first scan of a sample has imported every module a scan needs, since the
    interpreter's own files may not be readable by nobody."""
    code = (
        "import datetime as dt, json, os, sys\n"
        "from pathlib import Path\n"
        "from analyzer.pipeline import ScanOptions, scan\n"
        "when = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)\n"
        "scan(ScanOptions([Path(sys.argv[2])], as_of=when))\n"
        "if os.geteuid() == 0:\n"
        "    os.setgid(65534); os.setuid(65534)\n"
        "r = scan(ScanOptions([Path(sys.argv[1])], as_of=when))\n"
        "print(json.dumps({'problems': [[i.path, [p.message for p in i.problems]] for i in r.bundle.inputs],\n"
        "                  'verdicts': {k: v['status'] for k, v in r.verdicts.items()}}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(bundle), str(SAMPLES / "healthy-2019")],
                          capture_output=True, text=True, check=False, cwd=bundle)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_an_unreadable_file_is_a_problem_and_its_verdict_is_not_ready() -> None:
    folder = Path(tempfile.mkdtemp(prefix="exaudit-unreadable-"))  # pytest's tmp_path is closed to other users
    try:
        bundle = folder / "bundle"
        shutil.copytree(SAMPLES / "healthy-2019", bundle)
        (bundle / "manifest.json").unlink()
        for path in [folder, bundle, *bundle.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        secret = bundle / "EXCH01" / "Get-PopSettings.xml"
        assert secret.is_file()
        secret.chmod(0o000)
        report = json.loads(_scan_as_nobody(bundle))
    finally:
        shutil.rmtree(folder)
    problems = dict(report["problems"])
    assert any("cannot be read: Permission denied" in m for m in problems["bundle/EXCH01/Get-PopSettings.xml"])
    assert report["verdicts"]["pop3"] not in ("ready", "partial")
    # IMAP4's verdict reads POP3's settings too (CAS-ROLE-002: each Client Access server has both), so it cannot be
    # vouched for either; the adversarial corpus (tests/adversarial/) covers every other way a file goes unread.
    assert report["verdicts"]["imap4"] == "unknown"


def _zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_without_expanding_it(tmp_path: Path) -> None:
    bomb = tmp_path / "bundle.zip"
    bomb.write_bytes(_zip({"Get-CASMailbox.xml": b"\0" * (256 << 20),
                           "pop-settings.xml": (SAMPLES / "mistakes-2016" / "pop-settings.xml").read_bytes()}))  # fmt: skip
    assert bomb.stat().st_size < (1 << 20)  # 256 MB of zeros in a few hundred KB: a ratio far above MAX_RATIO
    result = scan(ScanOptions([bomb], as_of=AS_OF))
    refused = [p for p in result.bundle.problems if p.path.endswith("!Get-CASMailbox.xml")]
    assert refused and "zip bomb" in refused[0].message, MAX_RATIO
    assert any(i.path.endswith("!pop-settings.xml") and i.records for i in result.bundle.inputs)


def test_a_traversal_member_is_refused_and_nothing_lands_outside(tmp_path: Path) -> None:
    work = tmp_path / "deep" / "deeper"
    work.mkdir(parents=True)
    archive = work / "bundle.zip"
    pop = (SAMPLES / "mistakes-2016" / "pop-settings.xml").read_bytes()
    archive.write_bytes(_zip({"../../escaped.xml": pop, "/abs.xml": pop, "C:/win.xml": pop, "ok/pop.xml": pop}))
    before = set(tmp_path.rglob("*"))
    result = scan(ScanOptions([archive], as_of=AS_OF))
    assert set(tmp_path.rglob("*")) == before  # scratch space lives outside and is gone
    refused = sorted(p.path.rsplit("!", 1)[1] for p in result.bundle.problems if "leaves the archive" in p.message)
    assert refused == ["../../escaped.xml", "/abs.xml", "C:/win.xml"]
    assert [i.path.rsplit("!", 1)[1] for i in result.bundle.inputs] == ["ok/pop.xml"]
