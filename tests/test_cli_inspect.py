"""`exaudit inspect` on real and damaged files: output, JSON, located errors on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
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
    assert f"{text}: format not recognised" in result.stderr
    assert f"{tmp_path / 'missing.xml'}: no such file" in result.stderr
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


SYNTHETIC = CSS.parent.parent / "synthetic"


def test_inspect_any_format_shows_format_encoding_and_lossy_columns() -> None:
    csv_file = SYNTHETIC / "synthetic-ps51-export-csv-utf16le-type-semicolon.csv"
    listing = SYNTHETIC / "synthetic-ps51-format-list-cp932-japanese.txt"
    result = runner.invoke(app, ["inspect", str(csv_file), str(listing)])
    assert result.exit_code == 0, result.output
    assert "format:   csv    encoding: UTF-16LE with BOM    records: 5" in result.stdout
    assert "Microsoft.Exchange.Data.Directory.Management.CASMailbox × 5" in result.stdout
    assert "lossy:    EmailAddresses" in result.stdout
    assert "format:   format-list    encoding: cp932" in result.stdout
    assert "山田 太郎" in result.stdout


def test_inspect_json_carries_lossy_values_and_problems() -> None:
    real_list = CSS.parent / "imapsync__imapsync" / "issues__310__Get-CASMailbox_EXO_fl_PARTIAL.txt"
    result = runner.invoke(app, ["inspect", "--json", str(real_list)])
    assert result.exit_code == 0
    [document] = json.loads(result.stdout)
    assert document["format"] == "format-list"
    assert document["problems"][0] == {"line": 1, "message": document["problems"][0]["message"]}
    assert "prompt line skipped" in document["problems"][0]["message"]
    assert "ExternalImapSettings" in document["records"][0]["lossy"]


def test_inspect_encoding_override(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes("Name : Jörg\r\n".encode("cp1252"))
    result = runner.invoke(app, ["inspect", "--json", "--encoding", "cp1252", str(path)])
    assert result.exit_code == 0
    [document] = json.loads(result.stdout)
    assert document["records"][0]["properties"] == {"Name": "Jörg"}
    assert document["encoding"] == "cp1252 (given with --encoding)"


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_inspect_bundle_shows_inventory_coverage_and_problems() -> None:
    result = runner.invoke(app, ["inspect", str(SAMPLES / "mistakes-2016")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Exchange servers" in text and "EX16A" in text and "Exchange 2016" in text
    assert "Coverage: rows per server and dataset" in text
    assert "missing: receive_connector — export it with Get-ReceiveConnector" in text
    assert "attribution of service: path 10" in text


def test_inspect_bundle_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect", "--json", str(SAMPLES / "healthy-2019")])
    assert result.exit_code == 0
    facts = json.loads(result.stdout)
    assert [s["server_key"] for s in facts["servers"]] == ["EXCH01", "EXCH02"]
    assert facts["coverage"]["EXCH02"]["pop_settings"] == 1
    assert all(len(item["sha256"]) == 64 for item in facts["inputs"])
    assert facts["attribution"]["service"] == {"PSComputerName": 10}


def test_samples_command_writes_a_bundle_labelled_synthetic(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["samples", "large", str(tmp_path / "big"), "--mailboxes", "25", "--mailbox-format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in (tmp_path / "big" / "README-SYNTHETIC.txt").read_text()
    manifest = json.loads((tmp_path / "big" / "manifest.json").read_text())
    assert manifest["synthetic"] is True
    assert {"path": "Get-CASMailbox.csv", "cmdlet": "Get-CASMailbox"}.items() <= next(
        e for e in manifest["files"] if e["path"] == "Get-CASMailbox.csv"
    ).items()
    bad = runner.invoke(app, ["samples", "nonsense", str(tmp_path / "x")])
    assert bad.exit_code == 2


def test_on_screen_the_inventory_keeps_to_what_the_default_pack_reads_and_the_bundle_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """50 datasets would make a coverage table no screen shows: the others are named in one line."""
    from analyzer import cli

    monkeypatch.setattr(cli.out, "size", (400, 100))  # a wide screen, whatever the terminal running the tests
    sample = Path(__file__).resolve().parents[1] / "samples" / "healthy-2019"
    result = CliRunner().invoke(app, ["inspect", str(sample)])
    assert result.exit_code == 0, result.output
    coverage_header = next(line for line in result.output.splitlines() if "server" in line and "service" in line)
    assert "receive_connector" in coverage_header and "owa_virtual_directory" not in coverage_header
    assert "missing: user — export it with Get-User -ResultSize Unlimited" in result.output
    flowing = " ".join(result.output.split())  # the console folds long lines
    others = flowing[flowing.index("read by no rule of the default pack") :]
    assert "owa_virtual_directory" in others and "role_group_member" in others
