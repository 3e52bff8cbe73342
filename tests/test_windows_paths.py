"""Paths as Windows makes and takes them: zips whose folders are separated by `\\` (Windows PowerShell 5.1's
Compress-Archive), member names Windows reserves, report folders every platform can create, output paths past
Windows' limit said before anything is written, and files written with the same line ends on every platform."""

from __future__ import annotations

import ast
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import windows_paths
from analyzer.batch import discover
from analyzer.cli import app
from analyzer.exchange.sources import Unread, extract_zip
from analyzer.report.output import OutputError, check_output_folder

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "healthy-2019"
runner = CliRunner()


def _zip(target: Path, separator: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(SAMPLE.rglob("*")):
            if path.is_file():
                archive.writestr(separator.join(path.relative_to(SAMPLE).parts), path.read_bytes())
    return target


def test_a_zip_with_backslash_separators_reads_as_the_same_bundle_with_slashes(tmp_path: Path) -> None:
    reports = {}
    for kind, separator in (("slash", "/"), ("backslash", "\\")):
        archive = _zip(tmp_path / kind / "exaudit.zip", separator)
        out = tmp_path / f"out-{kind}"
        result = runner.invoke(app, ["scan", str(archive), "--as-of", "2026-11-27", "-f", "json", "--out", str(out)],
                               env={"SOURCE_DATE_EPOCH": "1795000000"})  # fmt: skip
        assert result.exit_code == 0, result.output
        reports[kind] = (out / "report.json").read_text(encoding="utf-8")
    assert reports["backslash"] == reports["slash"]
    report = json.loads(reports["backslash"])
    assert {s["Name"] for s in report["servers"]} == {"EXCH01", "EXCH02"}  # attributed by their folders
    assert "exaudit.zip!EXCH01/Get-Service.xml" in {i["path"] for i in report["inputs"]}


def test_member_names_windows_reserves_are_read_under_names_of_ours(tmp_path: Path) -> None:
    service = (SAMPLE / "EXCH01" / "Get-Service.xml").read_bytes()
    names = ["CON.xml", "EXCH01\\aux.xml", "EXCH02/Get-Service.xml.", "LPT1 /nul", "com¹.xml"]
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as sink:
        for name in names:
            sink.writestr(name, service)
    unread: list[Unread] = []
    files = extract_zip(archive, tmp_path / "x", unread)
    assert not unread
    assert sorted(f.relative for f in files) == sorted(n.replace("\\", "/") for n in names)
    assert all(f.path.name.startswith("m") and not windows_paths.is_reserved(f.path.name) for f in files)


@pytest.mark.parametrize(
    ("name", "reserved"),
    [("CON", True), ("con", True), ("aux.xml", True), ("Nul.tar.gz", True), ("COM1", True), ("lpt9.txt", True),
     ("COM¹", True), ("CON .xml", True), ("CONIN$", True), ("CONSOLE", False), ("COM10", False), ("xcon", False),
     ("Contoso", False), ("", False)],
)  # fmt: skip
def test_the_reserved_device_names(name: str, reserved: bool) -> None:
    assert windows_paths.is_reserved(name) is reserved


def test_report_folders_of_a_batch_are_names_every_platform_can_create(tmp_path: Path) -> None:
    for name in ("CON", "Contoso", "contoso", "x" * 200, "trailing. ", "com1.zip"):
        if name.endswith(".zip"):
            with zipfile.ZipFile(tmp_path / name, "w") as archive:
                archive.writestr("a.txt", "x")
        else:
            (tmp_path / name).mkdir()
    names = [name for name, _path in discover([tmp_path]).bundles]
    assert len({n.lower() for n in names}) == len(names)  # one folder each where case is ignored
    assert not [n for n in names if windows_paths.is_reserved(n) or len(n) > 64 or n.endswith((".", " "))]
    assert "CON-bundle" in names and "com1-bundle" in names


def test_an_output_path_past_windows_limit_is_refused_before_the_scan_on_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / ("folder-" * 30)
    check_output_folder(deep)  # not Windows: nothing to say
    monkeypatch.setattr(windows_paths, "ON_WINDOWS", True)
    monkeypatch.setattr(windows_paths, "long_paths_enabled", lambda: False)
    with pytest.raises(OutputError, match=r"up to \d{3} characters; Windows refuses 260 or more"):
        check_output_folder(deep)
    result = runner.invoke(app, ["scan", "--demo", "--out", str(deep)])
    assert result.exit_code == 2 and "choose a shorter --out" in result.output
    assert not deep.exists()
    check_output_folder(tmp_path / "short")
    monkeypatch.setattr(windows_paths, "long_paths_enabled", lambda: True)
    check_output_folder(deep)


def _text_writes_without_newline(tree: ast.AST) -> list[int]:
    """Lines that open a file for text writing or call write_text without saying which line ends to write."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        keywords = {k.arg for k in node.keywords}
        if called == "write_text" and "newline" not in keywords:
            lines.append(node.lineno)
        if called in ("open", "fdopen") and "newline" not in keywords:
            modes: list[object] = [
                a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            modes += [k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)]
            if any(isinstance(m, str) and ("w" in m or "a" in m) and "b" not in m for m in modes):
                lines.append(node.lineno)
    return lines


def test_every_text_file_exaudit_writes_says_its_line_ends() -> None:
    """Python writes `\\r\\n` for `\\n` in text mode on Windows unless told: reports would differ by platform."""
    unsaid = {str(path.relative_to(ROOT)): lines for path in sorted((ROOT / "analyzer").rglob("*.py"))
              if (lines := _text_writes_without_newline(ast.parse(path.read_text(encoding="utf-8"))))}  # fmt: skip
    assert not unsaid
    assert _text_writes_without_newline(ast.parse("p.write_text('x')\nopen(p, 'w')\nopen(p, 'wb')")) == [1, 2]
