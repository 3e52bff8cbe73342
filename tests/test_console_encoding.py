"""Output redirected under a Windows code page: Python then encodes standard output and error in the system's code
page (cp932 on Japanese Windows, cp1252 on Western), not UTF-8. A character the code page cannot hold is replaced;
the run never ends in a UnicodeEncodeError (it did: a Japanese scan piped under cp932 died on '·' with exit 3), and
JSON on standard output escapes what the code page cannot hold, so it stays the same JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(encoding: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONIOENCODING=encoding, PYTHONUTF8="0")
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, env=env, check=False)


@pytest.mark.parametrize("encoding", ["cp932", "cp1252"])
def test_a_japanese_scan_piped_under_a_windows_code_page_finishes(tmp_path: Path, encoding: str) -> None:
    done = _run(encoding, "scan", "--demo", "--lang", "ja", "--as-of", "2026-11-27", "--out", str(tmp_path))
    stdout, stderr = done.stdout.decode(encoding), done.stderr.decode(encoding)
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert stdout.startswith("IMAP4 ") and str(tmp_path / "report.json") in stdout
    if encoding == "cp932":  # Japanese survives in its own code page; only what cp932 lacks is replaced
        assert "準備状況: 未準備" in stdout and "安全性: リスクあり" in stdout
    else:
        assert "?" in stdout


@pytest.mark.parametrize("encoding", ["cp932", "cp1252"])
def test_json_on_standard_output_is_the_same_json_under_any_code_page(tmp_path: Path, encoding: str) -> None:
    report = tmp_path / "a"
    assert _run("utf-8", "scan", "--demo", "--lang", "ja", "--as-of", "2026-11-27", "-f", "json",
                "--out", str(report)).returncode == 0  # fmt: skip
    done = _run(encoding, "diff", str(report / "report.json"), str(report / "report.json"), "-f", "json")
    assert done.returncode == 0, done.stderr.decode(encoding)
    text = done.stdout.decode(encoding)
    assert text.isascii()  # every character the code page might lack is a JSON escape
    utf8 = _run("utf-8", "diff", str(report / "report.json"), str(report / "report.json"), "-f", "json")
    assert json.loads(text) == json.loads(utf8.stdout.decode("utf-8"))
