"""Damaged inputs: every sample file of every format cut short, bit-flipped or emptied. A scan never crashes, and a
structured export (CLIXML, JSON) that was cut short never leaves a verdict ready on the data it lost."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from functools import cache
from pathlib import Path

import pytest

from analyzer.pipeline import ScanOptions, scan

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ("mistakes-2016", "mixed-formats")  # every format; benchmarks/ could run the wider matrix
AS_OF = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
# Which protocols' verdicts read each dataset (the rest are organisation-wide or advisory).
_READ_BY = {"pop_settings": {"pop3"}, "imap_settings": {"imap4"}, "service": {"pop3", "imap4"},
            "cas_mailbox": {"pop3", "imap4"}}  # fmt: skip


def _files(sample: str) -> list[Path]:
    folder = ROOT / "samples" / sample
    return [p for p in sorted(folder.rglob("*")) if p.suffix in (".xml", ".csv", ".txt", ".json")
            and p.name not in ("manifest.json", "README-SYNTHETIC.txt")]  # fmt: skip


def _variants(data: bytes, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    cut = data[: rng.randrange(len(data) // 4, len(data) - 1)]
    flipped = bytearray(data)
    flipped[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return [("cut", cut), ("flip", bytes(flipped)), ("empty", b"")]


@cache
def _datasets_read_from(sample: str) -> dict[str, list[str]]:
    """Which datasets each file of the whole sample supplies (one scan per sample, shared by its files' tests)."""
    baseline = scan(ScanOptions([ROOT / "samples" / sample], as_of=AS_OF))
    return {item.path: item.datasets for item in baseline.bundle.inputs}


_CASES = [(sample, index, path) for sample in SAMPLES for index, path in enumerate(_files(sample))]


@pytest.mark.parametrize(
    ("sample", "index", "path"), _CASES, ids=[p.relative_to(ROOT / "samples").as_posix() for _s, _i, p in _CASES]
)
def test_damaged_files_never_crash_a_scan_nor_leave_it_ready(tmp_path: Path, sample: str, index: int,
                                                             path: Path) -> None:  # fmt: skip
    original = ROOT / "samples" / sample
    datasets = _datasets_read_from(sample)
    for kind, content in _variants(path.read_bytes(), seed=index):
        bundle = tmp_path / f"{path.stem}-{kind}"
        shutil.rmtree(bundle, ignore_errors=True)
        shutil.copytree(original, bundle)
        (bundle / "manifest.json").unlink(missing_ok=True)
        (bundle / path.relative_to(original)).write_bytes(content)
        result = scan(ScanOptions([bundle], as_of=AS_OF))  # any exception fails the test
        crashed = [r.rule_id for r in result.results if r.outcome == "error"]
        assert crashed == [], (path.name, kind, crashed)  # a rule over damaged data is not_evaluated, not error
        shown = f"{bundle.name}/{path.relative_to(original).as_posix()}"  # named from the bundle root
        damaged = next(i for i in result.bundle.inputs if i.path == shown)
        assert kind != "empty" or damaged.problems, f"{path.name}: an empty file must be an input problem"
        structured = path.suffix in (".xml", ".json")
        if kind == "cut" and structured:
            assert damaged.problems, f"{path.name} cut to {len(content)} bytes went unnoticed"
            for dataset in datasets.get(str(path), []):
                for protocol in _READ_BY.get(dataset, set()) & set(result.verdicts):
                    status = result.verdicts[protocol]["status"]
                    assert status not in ("ready", "partial"), (path.name, len(content), protocol, status)
