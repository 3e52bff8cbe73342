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
