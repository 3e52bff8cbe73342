"""A report set is written whole or not at all, into a folder checked before the scan; errors end in a located
line and exit 2; an unexpected exception ends in one line, a traceback file and exit 3."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import pipeline
from analyzer.cli import app
from analyzer.report import html_report, output

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "healthy-2019"
ARGS = ["scan", str(SAMPLE), "--as-of", "2026-11-05", "-f", "html,csv,json"]


def _scan(out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, [*ARGS, "--out", str(out), *extra])
    return result.exit_code, result.output


def test_an_out_that_is_a_file_stops_before_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "reports"
    target.write_text("mine")
    monkeypatch.setattr(pipeline, "scan", lambda *a, **k: pytest.fail("the scan ran"))
    code, text = _scan(target)
    assert code == 2 and "--out must be a folder" in text and target.read_text() == "mine"
    assert ":0:" not in text  # a whole-file message has no line number


def test_a_failed_write_leaves_the_previous_complete_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "reports"
    assert _scan(out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert output.MARKER in before

    def full_disk(*_args: object, **_kwargs: object) -> dict[str, bytes]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(html_report, "render", full_disk)
    code, text = _scan(out, "--param", "pop3_intended=disabled")
    assert code == 2 and "No space left on device" in text and "Traceback" not in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging folder left either


def test_a_report_of_a_set_not_completely_written_is_refused_by_diff(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert _scan(out)[0] == 0
    report = out / "report.json"
    good = runner.invoke(app, ["diff", str(report), str(report)])
    assert good.exit_code == 0, good.output
    (out / output.MARKER).unlink()
    (out / ".exaudit-partial-x").mkdir()  # what a run killed while writing leaves
    cut = runner.invoke(app, ["diff", str(report), str(report)])
    assert cut.exit_code == 2 and "did not finish" in cut.output
    (out / ".exaudit-partial-x").rmdir()
    assert _scan(out)[0] == 0
    report.write_text(report.read_text().replace('"fail"', '"pass"', 1))
    changed = runner.invoke(app, ["diff", str(report), str(report)])
    assert changed.exit_code == 2 and "changed since the scan wrote it" in changed.output


def test_files_of_an_earlier_set_that_this_run_does_not_write_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert _scan(out)[0] == 0
    assert (out / "report.html").exists()
    assert _scan(out, "-f", "json")[0] == 0
    assert not (out / "report.html").exists()  # never an older report.html beside a newer report.json
    assert json.loads((out / output.MARKER).read_text())["files"].keys() == {"report.json"}


def test_a_symlink_at_a_reports_path_is_replaced_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "report.html").symlink_to(victim)
    assert _scan(out)[0] == 0
    assert victim.read_text() == "keep me"
    assert not (out / "report.html").is_symlink() and b"<html" in (out / "report.html").read_bytes()


def test_a_report_held_open_by_another_program_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "reports"
    real_replace = os.replace

    def locked(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if str(target).endswith("findings.csv"):
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        real_replace(source, target)

    monkeypatch.setattr("analyzer.report.output.os.replace", locked)
    code, text = _scan(out)
    assert code == 2 and "findings.csv" in text and "open in another program" in text and "Traceback" not in text
    assert not (out / output.MARKER).exists()  # the set is not claimed complete


def test_an_unexpected_exception_is_one_line_a_file_and_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("server_key")

    monkeypatch.setattr(pipeline, "scan", broken)
    code, text = _scan(tmp_path / "reports")
    assert code == 3
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("internal error: KeyError: 'server_key'; details in ")
    details = Path(lines[0].rsplit("details in ", 1)[1])
    assert "Traceback" in details.read_text() and "Traceback" not in text
    details.unlink()


def test_a_read_only_out_folder_stops_before_the_scan(tmp_path: Path) -> None:
    """As root a mode stops nothing, so the scan runs with the capabilities that bypass file modes dropped."""
    import shutil
    import subprocess
    import sys

    out = tmp_path / "reports"
    out.mkdir()
    out.chmod(0o555)
    command = [sys.executable, "-m", "analyzer", *ARGS, "--out", str(out)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to drop root's file capabilities"
        drop = "-dac_override,-dac_read_search"
        command = [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "cannot write the reports here: Permission denied" in done.stderr and "Traceback" not in done.stderr
    assert list(out.iterdir()) == []


def test_the_output_folder_checks_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same checks as the read-only test above, in this process (where a mutation tool can see them)."""
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(output.OutputError, match=r"file: --out must be a folder; this is a file"):
        output.check_output_folder(a_file)
    with pytest.raises(output.OutputError) as under_a_file:
        output.check_output_folder(a_file / "below" / "reports")  # a parent is a file
    assert (
        str(under_a_file.value) == f"{a_file / 'below' / 'reports'}: cannot write the reports here: {a_file} is a "
        "file, not a folder"
    )
    deep = tmp_path / "new" / "deeper" / "reports"
    output.check_output_folder(deep)
    assert not (tmp_path / "new").exists()  # checked, not created: a failed scan leaves no empty folder

    def refused(*_args: object, **_kwargs: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("analyzer.report.output.tempfile.mkdtemp", refused)
    with pytest.raises(output.OutputError, match=r"reports: cannot write the reports here: Permission denied"):
        output.check_output_folder(tmp_path / "reports")


def test_the_marker_lists_every_file_of_the_set_with_its_digest(tmp_path: Path) -> None:
    import hashlib

    out = tmp_path / "reports"
    assert _scan(out)[0] == 0
    listed = json.loads((out / output.MARKER).read_text())["files"]
    on_disk = {p.name for p in out.iterdir()} - {output.MARKER}
    assert set(listed) == on_disk == {"report.json", "report.html", "findings.csv", "results.csv"}
    assert all(listed[name] == hashlib.sha256((out / name).read_bytes()).hexdigest() for name in listed)
    assert not [p for p in out.iterdir() if p.name.startswith(".exaudit-partial-")]  # the staging folder is gone


def test_check_complete_in_process(tmp_path: Path) -> None:
    """Each answer of `check_complete`, called directly (where a mutation tool can see it)."""
    report = tmp_path / "report.json"
    report.write_text("{}")
    output.check_complete(report)  # no marker, no unfinished run beside it: taken as it is (exaudit 0.1)
    marker = tmp_path / output.MARKER
    marker.write_text("{}")  # a marker that lists nothing vouches for nothing and refuses nothing
    output.check_complete(report)
    import hashlib

    marker.write_text(json.dumps({"files": {"report.json": hashlib.sha256(b"{}").hexdigest()}}))
    output.check_complete(report)
    report.write_text("{} ")
    with pytest.raises(output.OutputError) as changed:
        output.check_complete(report)
    assert str(changed.value) == f"{report}: changed since the scan wrote it (SHA-256 differs from {output.MARKER})"
    for damaged in ("{not json", "[1, 2]", '{"files": ["report.json"]}'):
        marker.write_text(damaged)
        with pytest.raises(output.OutputError) as unreadable:
            output.check_complete(report)
        assert str(unreadable.value) == f"{marker}: completion marker not readable; run the scan again"
    marker.unlink()
    (tmp_path / ".exaudit-partial-x1").mkdir()
    with pytest.raises(output.OutputError) as unfinished:
        output.check_complete(report)
    assert str(unfinished.value) == f"{report}: the scan that wrote this folder did not finish; run it again"


def test_discarding_a_staging_folder_already_gone_is_quiet(tmp_path: Path) -> None:
    staging = output.staging_folder(tmp_path / "reports")
    (staging / "report.json").write_text("{}")
    output.discard(staging)
    assert not staging.exists()
    output.discard(staging)  # a second time, or after the folder was removed by hand: no error


def test_a_previous_marker_that_lists_nothing_or_odd_names_removes_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's own file")
    (tmp_path / "notes.txt").write_text("outside the reports folder")
    for marker in ("{}", "[1]", '{"files": {"../notes.txt": "x", "a\\\\b": "y", "7": 1}}', '{"files": ["notes.txt"]}'):
        (folder / output.MARKER).write_text(marker)
        staging = output.staging_folder(folder)
        (staging / "report.json").write_text("{}")
        assert output.publish(staging, folder, ["report.json"]) == [folder / "report.json"]
        assert sorted(p.name for p in folder.iterdir()) == [output.MARKER, "notes.txt", "report.json"]
        assert (tmp_path / "notes.txt").exists()  # a marker never reaches out of its folder


def test_the_write_probe_and_the_staging_folder_are_made_where_the_reports_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str | None, str | None]] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(prefix: str | None = None, dir: str | Path | None = None) -> str:
        made.append((prefix, str(dir)))
        return real_mkdtemp(prefix=prefix, dir=dir)

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    deep = tmp_path / "a" / "b" / "reports"
    staging = output.staging_folder(deep)  # checks, creates every missing folder, then stages inside
    assert made == [(".exaudit-partial-", str(tmp_path)), (".exaudit-partial-", str(deep))]
    assert staging.parent == deep and staging.name.startswith(".exaudit-partial-")
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # the probe left nothing behind


def test_a_folder_that_cannot_be_created_or_written_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "mkdir", full_disk)
    with pytest.raises(output.OutputError) as refused:
        output.staging_folder(tmp_path / "new")
    assert str(refused.value) == f"{tmp_path / 'new'}: cannot write the reports here: No space left on device"


def test_publish_names_a_locked_report_and_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "reports"
    for raised, expected in (
        (PermissionError(errno.EACCES, "Permission denied", str(folder / "findings.csv")),
         f"{folder / 'findings.csv'}: cannot replace this report: it is open in another program (Excel locks a CSV it "
         "shows) or not writable; close it and run again"),
        (OSError(errno.ENOSPC, "No space left on device"), f"{folder}: cannot write the reports: No space left on device"),
    ):  # fmt: skip
        staging = output.staging_folder(folder)
        (staging / "findings.csv").write_text("x")

        def failing_replace(*_args: object, error: OSError = raised) -> None:
            raise error

        monkeypatch.setattr(os, "replace", failing_replace)
        with pytest.raises(output.OutputError) as refused:
            output.publish(staging, folder, ["findings.csv"])
        assert str(refused.value) == expected
        assert not staging.exists()  # the staging folder is removed whatever happened
        monkeypatch.undo()


def test_the_marker_is_written_the_same_way_every_time(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    staging = output.staging_folder(folder)
    for name in ("report.json", "findings.csv"):
        (staging / name).write_bytes(name.encode())
    output.publish(staging, folder, ["report.json", "findings.csv"])
    import hashlib

    digest = {name: hashlib.sha256(name.encode()).hexdigest() for name in ("findings.csv", "report.json")}
    assert (folder / output.MARKER).read_bytes() == (
        '{\n  "files": {\n'
        f'    "findings.csv": "{digest["findings.csv"]}",\n'
        f'    "report.json": "{digest["report.json"]}"\n'
        "  }\n}\n"
    ).encode()


def test_a_file_of_the_previous_set_already_removed_by_hand_is_no_error(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    staging = output.staging_folder(folder)
    (staging / "summary.md").write_text("old")
    (staging / "report.json").write_text("old")
    output.publish(staging, folder, ["summary.md", "report.json"])
    (folder / "summary.md").unlink()  # the user deleted it since
    staging = output.staging_folder(folder)
    (staging / "report.json").write_text("new")
    output.publish(staging, folder, ["report.json"])
    assert sorted(p.name for p in folder.iterdir()) == [output.MARKER, "report.json"]
