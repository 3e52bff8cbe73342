"""Every command against the error matrix: each bad input or usage ends in its own located message and exit 2,
never a Python traceback; a bug would end in exit 3 with one line. Run as a user runs exaudit: a process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "healthy-2019"
BATCH_OF_ONE = Path(__file__).resolve().parents[1] / "samples"

Setup = Callable[[Path], list[str]]


def _cut_zip(tmp: Path) -> list[str]:
    (tmp / "bundle.zip").write_bytes(b"PK\x03\x04" + b"\0" * 30)
    return ["scan", str(tmp / "bundle.zip")]


def _not_a_zip(tmp: Path) -> list[str]:
    (tmp / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not an export")
    return ["scan", str(tmp / "photo.jpg")]


def _big_json(tmp: Path) -> list[str]:
    (tmp / "x.json").write_text('[{"Name": "a", "ProxyTargetPort": ' + "9" * 5000 + "}]")
    return ["inspect", str(tmp / "x.json"), "--json"]


def _surrogate(tmp: Path) -> list[str]:
    (tmp / "s.xml").write_text(
        '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">\n'
        '<Obj RefId="0"><TN RefId="0"><T>X</T></TN><Props><S N="Name">a_xD800_b</S></Props></Obj>\n</Objs>\n'
    )
    return ["inspect", str(tmp / "s.xml"), "--json"]


def _bad_baseline(tmp: Path) -> list[str]:
    (tmp / "old.json").write_text("{}")
    return ["scan", str(SAMPLE), "--baseline", str(tmp / "old.json")]


def _policy_bomb(tmp: Path) -> list[str]:
    lines = [f"a0: &a0 [{', '.join(['x'] * 9)}]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)
    ]
    (tmp / "policy.yaml").write_text("params:\n" + "".join(f"  {line}\n" for line in lines))
    return ["scan", str(SAMPLE), "--policy", str(tmp / "policy.yaml")]


def _bomb_rule(tmp: Path) -> Path:
    _policy_bomb(tmp)
    rule = tmp / "rule.yaml"
    rule.write_text((tmp / "policy.yaml").read_text().replace("params:\n", "").replace("\n  ", "\n").lstrip())
    return rule


MATRIX: dict[str, tuple[Setup, int, str]] = {
    "missing path": (lambda t: ["scan", str(t / "nope")], 2, "nope: no such file or folder"),
    "cut zip": (_cut_zip, 2, "bundle.zip: not a readable zip file"),
    "not an export nor a zip": (_not_a_zip, 2, "photo.jpg: ignored: documentation or an image, not an export"),
    "unknown encoding": (lambda t: ["scan", str(SAMPLE), "--encoding", "klingon"], 2, "unknown encoding"),
    "unknown param": (
        lambda t: ["scan", str(SAMPLE), "--param", "expiry_days=3"],
        2,
        "did you mean 'expiry_warning_days'",
    ),
    "param out of range": (lambda t: ["scan", str(SAMPLE), "--param", "expiry_warning_days=-5"], 2, "from 0 to 3650"),
    "param 20 digits": (
        lambda t: ["scan", str(SAMPLE), "--param", "expiry_warning_days=" + "9" * 20],
        2,
        "from 0 to 3650",
    ),
    "regex with lookahead": (lambda t: ["scan", str(SAMPLE), "--param", "mailbox_filter=(?=a)b"], 2, "uses lookaround"),
    "invalid regex": (lambda t: ["scan", str(SAMPLE), "--param", "mailbox_filter=(ab"], 2, "cannot run in linear time"),
    "unknown tag": (lambda t: ["scan", str(SAMPLE), "--tag", "certificat"], 2, "did you mean 'certificate'"),
    "as-of year 999": (lambda t: ["scan", str(SAMPLE), "--as-of", "0999-06-01"], 2, "expected a date from 1900-01-01"),
    "out is a file": (
        lambda t: ["scan", str(SAMPLE), "--out", str(SAMPLE / "Get-Mailbox.xml")],
        2,
        "--out must be a folder",
    ),
    "bad baseline": (_bad_baseline, 2, "not an exaudit report.json"),
    "policy alias bomb": (_policy_bomb, 2, "alias bomb"),
    "batch of one bundle": (lambda t: ["batch", str(SAMPLE)], 2, "this folder is itself one bundle"),
    "diff of a missing file": (lambda t: ["diff", str(t / "a.json"), str(t / "b.json")], 2, "a.json: cannot be read"),
    "inspect of a missing file": (lambda t: ["inspect", str(t / "gone.xml")], 2, "gone.xml: no such file"),
    "inspect --json of a huge JSON number": (_big_json, 0, ""),
    "inspect --json of a lone surrogate": (_surrogate, 0, ""),
    "rules show of an unknown rule": (lambda t: ["rules", "show", "POP-NOPE-1"], 2, "POP-NOPE-1"),
    "rules validate of an alias bomb": (lambda t: ["rules", "validate", str(_bomb_rule(t))], 2, "alias bomb"),
    "collect-script into a folder": (lambda t: ["collect-script", "--out", str(t)], 2, "Is a directory"),
    "samples of an unknown scenario": (lambda t: ["samples", "nope", str(t / "s")], 2, "choose one of healthy-2019"),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_no_command_prints_a_traceback(case: str, tmp_path: Path) -> None:
    setup, code, message = MATRIX[case]
    args = setup(tmp_path)
    if args[0] in ("scan", "batch"):
        args += ["--out", str(tmp_path / "out")] if "--out" not in args else []
    done = subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=tmp_path)  # fmt: skip
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == code, (done.returncode, done.stderr[-1500:])
    assert message in done.stderr + done.stdout, done.stderr[-1500:]
    assert ":0:" not in done.stderr  # a message about a whole file carries no line number
    if case.startswith("inspect --json"):
        json.loads(done.stdout)  # valid JSON, every character written
