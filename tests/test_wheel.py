"""The wheel users install: built as pip builds it (the pinned build backend, in isolation), it holds the package,
its rule packs, samples and report templates and nothing else of the repository, builds without a warning, and
works installed on its own — not from this source tree."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The repository's files as a release would take them: tracked, and new ones not yet committed, but nothing ignored.
LISTED = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a copy, so the build leaves no build/ or egg-info in the working tree
    files = subprocess.run([*LISTED, "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        target = source / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name.decode()).is_file():
            target.write_bytes((ROOT / name.decode()).read_bytes())
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(source)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("exaudit-*.whl")
    return found, built.stdout + built.stderr


def test_the_wheel_builds_without_a_warning(wheel: tuple[Path, str]) -> None:
    _path, log = wheel
    assert "warning" not in log.lower() and "!!" not in log, log


def test_the_wheel_holds_the_package_its_packs_samples_and_templates_and_nothing_else(wheel: tuple[Path, str]) -> None:
    path, _log = wheel
    names = [PurePosixPath(n) for n in zipfile.ZipFile(path).namelist()]
    assert {n.parts[0] for n in names if not n.parts[0].endswith(".dist-info")} == {"analyzer"}
    shipped = {str(n) for n in names}
    tracked = subprocess.run(LISTED, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        if name.startswith(("rules/", "samples/")):
            assert "analyzer/" + name in shipped, name
    for template in (ROOT / "analyzer" / "report" / "templates").iterdir():
        assert f"analyzer/report/templates/{template.name}" in shipped
    assert "analyzer/exchange/collect.ps1" in shipped and "analyzer/engine/rule.schema.json" in shipped
    # Nothing of the repository beyond the package: no tests, benchmarks, docs, fuzz targets or caches.
    assert not [n for n in shipped if "__pycache__" in n or n.endswith((".pyc", ".orig", ".rej"))]
    assert not [n for n in shipped if n.split("/")[1] in ("tests", "benchmarks", "docs", "fuzz", "reports")]
    packaged_from_repository = {n for n in tracked if n.startswith(("analyzer/", "rules/", "samples/"))}
    in_wheel = {n.removeprefix("analyzer/") if n.startswith(("analyzer/rules/", "analyzer/samples/")) else n
                for n in shipped if not n.startswith("exaudit-")}  # fmt: skip
    generated = in_wheel - packaged_from_repository
    assert not generated, generated  # every file in the wheel is a tracked file


def test_the_installed_wheel_scans_on_its_own(wheel: tuple[Path, str], tmp_path: Path) -> None:
    """Installed into a folder of its own, with the dependencies of this environment but not its source tree."""
    path, _log = wheel
    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
                                str(target), str(path)], capture_output=True, text=True, check=False)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    # The dependencies' folder as a plain path entry: its .pth files (this checkout's editable install) stay unread.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *site.getsitepackages()])}
    probe = "import analyzer, json, sys; print(json.dumps(analyzer.__file__))"
    where = subprocess.run([sys.executable, "-S", "-c", probe], env=env, cwd=tmp_path, capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert Path(json.loads(where.stdout)).is_relative_to(target)
    scan = subprocess.run([sys.executable, "-S", "-m", "analyzer", "scan", "--demo", "-f", "json,html",
                           "--out", str(tmp_path / "out")], env=env, cwd=tmp_path, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert scan.returncode == 0, scan.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    default_pack = [p for p in (ROOT / "rules" / "pop-imap").rglob("*.yaml") if p.name != "pack.yaml"]
    assert len(report["results"]) == len(default_pack)  # a scan that names no pack runs the default one
    shipped = {p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*.yaml")}
    assert shipped == {p.relative_to(target / "analyzer" / "rules").as_posix()
                       for p in (target / "analyzer" / "rules").rglob("*.yaml")}  # fmt: skip
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000
