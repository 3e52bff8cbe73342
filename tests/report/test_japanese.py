"""A Japanese report is Japanese throughout: no English sentence outside values, identifiers and commands.

Two guards. Every text that reading a bundle produces — input problems, why a file was not read, how its dates were
ordered, what a verdict could not trust — has a shape in the catalogue (analyzer/japanese.py), over every sample,
every real export in tests/data/real and every case of the adversarial corpus. And every sample's Japanese HTML,
summary.md, diff.md and console output is scanned for runs of four or more English words outside code, paths,
hashes and values read from the exports.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import html
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.errors import ExauditError
from analyzer.japanese import in_japanese, japanese
from analyzer.pipeline import ScanOptions, scan
from analyzer.report.json_report import build
from tests.adversarial.cases import CASES

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ("healthy-2019", "mistakes-2016", "mixed-formats", "mistakes-2016-after")
AS_OF = "2026-11-27"
# Four or more English words in a row, with nothing but spaces and light punctuation between them.
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,;:()]+[A-Za-z][A-Za-z'’-]*){3,}")
READERS = ("clixml", "csv", "json", "format-list", "format-table", "format-list+table")  # format names: identifiers
# What a report shows as it was read or as it must be typed: never translated.
NOT_PROSE = (
    "//code|//script|//style|//*[contains(@class,'source') or contains(@class,'hash') or contains(@class,'path')]"
)


def _texts_read(report: dict[str, Any]) -> list[str]:
    """Every text of a report that reading the bundle produced."""
    texts = [p["message"] for p in report["problems"]]
    for item in report["inputs"]:
        texts += [p["message"] for p in item["problems"]]
        texts += [t for t in (item["date_order"],) if t]
        if item["format"] not in READERS:
            texts.append(item["format"])  # why a file is not read as an export: documentation, unrecognised
    for verdict in report["verdicts"].values():
        texts += verdict["degraded_inputs"]
    texts += [r["reason"] for r in report["results"] if r["reason"] and not r["reason_ja"]]
    return texts


def _bundles(tmp_path: Path) -> list[Path]:
    found = [ROOT / "samples" / name for name in SAMPLES]
    found += sorted(p for p in (ROOT / "tests" / "data" / "real").iterdir() if p.is_dir())
    for case in CASES:
        into = tmp_path / case.name
        into.mkdir()
        found.append(case.build(into))
    return found


def test_every_text_reading_a_bundle_produces_has_its_japanese(tmp_path: Path) -> None:
    untranslated: dict[str, str] = {}
    for bundle in _bundles(tmp_path):
        try:
            report = build(scan(ScanOptions([bundle], as_of=dt.datetime(2026, 11, 5, tzinfo=dt.UTC))))
        except ExauditError:  # nothing readable at all: no report is written, the console says why (exit 2)
            continue
        for text in _texts_read(report):
            if japanese(text) is None:
                untranslated.setdefault(text, bundle.name)
    assert untranslated == {}


def test_the_catalogue_keeps_values_and_words_nested_messages() -> None:
    degraded = "bundle.zip!more/x.xml: not read (refused: a symlink stored in the archive); it would supply cas_mailbox"
    assert japanese(degraded) == (
        "bundle.zip!more/x.xml: 読み取れていません (拒否しました: アーカイブに格納されたシンボリック リンクです)。"
        "cas_mailbox のデータを含むはずのファイルです"
    )
    assert japanese("month-first: '12/31/2027 12:00:00 AM' reads only that way") == (
        "月が先: '12/31/2027 12:00:00 AM' はその順でしか読めません"
    )
    # A value that looks like a message is kept as it was read: only `m_` captures are worded.
    assert japanese("prompt line skipped: [PS] C:\\> the file is empty") == (
        "プロンプト行を読み飛ばしました: [PS] C:\\> the file is empty"
    )
    assert japanese("a message no reader writes") is None
    assert in_japanese("a message no reader writes") == "a message no reader writes"
    # A nested message without a shape leaves the whole text untranslated rather than half Japanese.
    assert japanese("x.xml: not read (something new); it would supply user") is None


def _english_runs(texts: list[str]) -> list[str]:
    return sorted({run.group(0) for text in texts for run in ENGLISH_RUN.finditer(text)})


def _html_prose(path: Path) -> list[str]:
    document = html.parse(str(path)).getroot()
    for element in document.xpath(NOT_PROSE + "|//td[contains(@class,'value')]"):
        element.drop_tree()
    findings = document.xpath("//table[contains(@class,'findings')]//tr/td[3]")
    for cell in findings:  # the object column: a name as the export wrote it, before the message
        if cell.text:
            cell.text = ""
    return [str(t) for t in document.xpath("//body//text()")]


def _markdown_prose(path: Path) -> list[str]:
    return [re.sub(r"`[^`]*`", "", line) for line in path.read_text(encoding="utf-8").splitlines()]


runner = CliRunner()


@pytest.fixture(scope="module")
def japanese_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ja")
    folders: dict[str, Path] = {}
    for name in SAMPLES:
        args = ["scan", str(ROOT / "samples" / name), "--lang", "ja", "--as-of", AS_OF, "-f", "html,md,json"]
        if name == "mistakes-2016-after":
            args += ["--baseline", str(folders["mistakes-2016"] / "report.json")]
        done = runner.invoke(app, [*args, "--out", str(out / name)])
        assert done.exit_code == 0, done.output
        (out / name / "console.txt").write_text(done.output, encoding="utf-8")
        folders[name] = out / name
    return folders


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_japanese_report_has_no_english_sentence(japanese_reports: dict[str, Path], sample: str) -> None:
    folder = japanese_reports[sample]
    assert _english_runs(_html_prose(folder / "report.html")) == []
    assert _english_runs(_markdown_prose(folder / "summary.md")) == []
    if (folder / "diff.md").exists():
        assert _english_runs(_markdown_prose(folder / "diff.md")) == []
    # The console quotes findings' messages, in which values read from the exports appear as they are.
    console = (folder / "console.txt").read_text(encoding="utf-8").splitlines()
    assert _english_runs([line for line in console if "=" not in line and not line.startswith("/")]) == []


def test_the_scan_finds_the_english_it_is_meant_to_find(japanese_reports: dict[str, Path]) -> None:
    """The scan itself, on text it must flag: an English reason in a Japanese report."""
    assert _english_runs(["入力の問題: ignored: documentation or an image, not an export"]) == [
        "ignored: documentation or an image, not an export"
    ]
    english = japanese_reports["mistakes-2016"] / "report.html"
    assert _english_runs(_html_prose(english)) == []  # and passes the Japanese one
