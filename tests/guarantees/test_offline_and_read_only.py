"""What an auditor relies on: a scan opens no network connection and leaves every input exactly as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.cli import app

ROOT = Path(__file__).resolve().parents[2]


class _NoNetwork(Exception):
    pass


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise _NoNetwork("a scan tried to open a network connection")


def _state(folder: Path) -> dict[str, tuple[str, int, int]]:
    return {
        str(path.relative_to(folder)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
            path.stat().st_mode,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("sample", ["mistakes-2016", "mixed-formats", "healthy-2019"])
def test_a_scan_is_offline_and_leaves_its_inputs_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "samples" / sample, bundle)
    zipped = Path(shutil.make_archive(str(tmp_path / "zipped"), "zip", bundle))  # zips are unpacked elsewhere
    before = _state(tmp_path)  # the bundle folder and the zip
    for name in ("socket", "create_connection", "getaddrinfo", "socketpair"):
        monkeypatch.setattr(socket, name, _refuse)
    with pytest.raises(_NoNetwork):  # the trap is armed
        socket.create_connection(("192.0.2.1", 443))
    out = tmp_path / "out"
    for target in (bundle, zipped):
        result = CliRunner().invoke(
            app, ["scan", str(target), "--out", str(out), "-f", "html,csv,json,md,junit", "--quiet",
                  "--as-of", "2026-11-27"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    after = {k: v for k, v in _state(tmp_path).items() if not k.startswith("out" + os.sep)}
    assert after == before  # same bytes, modification times and modes; nothing written beside them


_SITECUSTOMIZE = """
import json, os, sys
_log = os.environ.get("EXAUDIT_AUDIT_LOG")
_NETWORK = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.sendto",
            "socket.sendmsg", "urllib.Request", "http.client.connect"}
def _record(event, args):
    if _log and event in _NETWORK:
        with open(_log, "a", encoding="utf-8") as sink:
            sink.write(json.dumps([os.getpid(), event, repr(args)[:200]]) + "\\n")
sys.addaudithook(_record)
"""


def _audited(tmp_path: Path, *args: str) -> tuple[int, list[list[Any]], str]:
    """Run `args` with an audit hook in every Python process of the run — the split read's worker and batch's
    workers too (a sitecustomize module on PYTHONPATH) — recording each network event to a file. The hook cannot
    be removed and sees a call before any `except` in exaudit could hide it."""
    import json
    import subprocess
    import sys

    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    log = tmp_path / "network-events.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), str(ROOT)]), "EXAUDIT_AUDIT_LOG": str(log)}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, check=False, env=env)
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done.returncode, events, done.stderr


def test_the_network_audit_sees_a_connection(tmp_path: Path) -> None:
    """The trap is armed: a child that tries to connect is recorded, however it handles the error."""
    code, events, _err = _audited(tmp_path, "-c", "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 443), 0.01)\n"
                                  "except OSError:\n    pass")  # fmt: skip
    assert code == 0 and "socket.connect" in [event for _pid, event, _args in events]


@pytest.mark.parametrize("command", ["scan", "batch"])
def test_no_network_event_is_raised_in_a_whole_run(tmp_path: Path, command: str) -> None:
    """Every process of a run — the scan, the worker reading half of a large CLIXML file, batch's workers — makes
    no connection and no name lookup. (10,000 mailboxes make a CLIXML file above the 32 MB from which a second
    process reads half of it.)"""
    from analyzer.synthetic.samples import write_sample

    customers = tmp_path / "customers"
    for name in ("mistakes-2016", "mixed-formats"):
        shutil.copytree(ROOT / "samples" / name, customers / name)
    if command == "batch":
        args = ["batch", str(customers), "--jobs", "2"]
    else:
        write_sample("large", customers / "large", mailboxes=10_000, mailbox_format="clixml")
        args = ["scan", str(customers / "large")]
    code, events, stderr = _audited(tmp_path, "-m", "analyzer", *args, "--out", str(tmp_path / "out"), "--as-of",
                                    "2026-11-27")  # fmt: skip
    assert code in (0, 1), stderr[-2000:]
    assert events == []
