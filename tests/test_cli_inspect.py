"""`exaudit inspect` on real and damaged files: output, JSON, located errors on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app
from tests.conftest import CSS

SERVICES = CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__OS__GetService.xml"
VERSION = CSS / "Shared__Tests__E19CU11AdminDisplayVersion.xml"
runner = CliRunner()


def test_inspect_summarises_a_real_export() -> None:
    result = runner.invoke(app, ["inspect", str(SERVICES)])
    assert result.exit_code == 0, result.output
    assert "format:   clixml" in result.stdout
    assert "encoding: UTF-8 with BOM" in result.stdout
    assert "records: 254" in result.stdout
    assert "System.ServiceProcess.ServiceController × 254" in result.stdout
    assert "AJRouter" in result.stdout


def test_inspect_json_writes_every_record() -> None:
    result = runner.invoke(app, ["inspect", "--json", str(SERVICES), str(VERSION)])
    assert result.exit_code == 0
    documents = json.loads(result.stdout)
    assert [len(d["records"]) for d in documents] == [254, 1]
    pop3 = next(r for r in documents[0]["records"] if r["properties"]["ServiceName"] == "MSExchangePop3")
    assert pop3["properties"]["Status"] == {"enum": "Stopped", "value": 1}
    assert pop3["properties"]["StartType"] == {"enum": "Manual", "value": 3}
    assert pop3["source"]["file"] == str(SERVICES)
    assert documents[1]["records"][0]["to_string"] == "Version 15.2 (Build 986.5)"


def test_truncated_file_shows_what_was_read_and_exits_2(tmp_path: Path) -> None:
    content = SERVICES.read_bytes()
    damaged = tmp_path / "services.xml"
    damaged.write_bytes(content[: len(content) // 2])
    result = runner.invoke(app, ["inspect", "--json", str(damaged)])
    assert result.exit_code == 2
    [document] = json.loads(result.stdout)
    assert document["complete"] is False
    assert 100 < len(document["records"]) < 254
    line = document["problem"]["line"]
    assert f"{damaged}:{line}: damaged or truncated XML" in result.stderr

    table = runner.invoke(app, ["inspect", str(damaged)])
    assert table.exit_code == 2
    assert "INCOMPLETE" in table.stdout


def test_unrecognised_and_missing_files_are_located_errors(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = runner.invoke(app, ["inspect", str(text), str(tmp_path / "missing.xml"), str(VERSION)])
    assert result.exit_code == 2
    assert f"{text}:0: format not recognised" in result.stderr
    assert f"{tmp_path / 'missing.xml'}:0: no such file" in result.stderr
    assert "Version 15.2 (Build 986.5)" in result.stdout  # the good file is still shown


def test_doctype_is_refused_with_a_located_error(tmp_path: Path) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_text('<!DOCTYPE Objs [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Objs><S>&x;</S></Objs>')
    result = runner.invoke(app, ["inspect", str(evil)])
    assert result.exit_code == 2
    assert f"{evil}:1: DOCTYPE" in result.stderr
    assert "root:" not in result.stdout


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "inspect", str(VERSION)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Microsoft.Exchange.Data.ServerVersion" in done.stdout
    version = subprocess.run(
        [sys.executable, "-m", "analyzer", "--version"], capture_output=True, text=True, check=False
    )
    assert version.stdout.startswith("exaudit ")
