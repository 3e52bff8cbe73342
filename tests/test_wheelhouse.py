"""scripts/wheelhouse.py judges a wheelhouse for the target, not for this machine: a requirement behind a Windows
marker is needed for Windows only, one behind an extra never, and a wheel of the wrong version does not count.
(Building real wheelhouses needs the package index: .ci/run does that.)"""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "wheelhouse.py"


@pytest.fixture(scope="module")
def wheelhouse_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wheelhouse_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def wheel(folder: Path, name: str, version: str, *requires: str) -> None:
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {requirement}" for requirement in requires]
        archive.writestr(f"{name}-{version}.dist-info/METADATA", "\n".join(lines) + "\n")


def test_requirements_are_judged_for_the_target_platform_and_python(
    wheelhouse_script: ModuleType, tmp_path: Path
) -> None:
    wheel(tmp_path, "tool", "1.0", "lib>=2", "colorama; platform_system == 'Windows'",
          "backport; python_version < '3.12'", "extra-only; extra == 'test'", "tzdata; sys_platform == 'win32'")  # fmt: skip
    wheel(tmp_path, "lib", "1.5")
    wheel(tmp_path, "tzdata", "2026.1")
    missing = wheelhouse_script.missing
    assert missing(tmp_path, "windows-x64", "3.12") == ["colorama", "lib>=2"]
    assert missing(tmp_path, "linux-x86_64", "3.11") == ["backport", "lib>=2"]
    assert missing(tmp_path, "macos-arm64", "3.13") == ["lib>=2"]
    wheel(tmp_path, "lib", "2.1")
    wheel(tmp_path, "colorama", "0.4.6")
    assert missing(tmp_path, "windows-x64", "3.12") == []


def test_each_target_names_pip_platform_tags_and_markers(wheelhouse_script: ModuleType) -> None:
    args = wheelhouse_script._platform_args("linux-x86_64", "3.12")
    platforms = [args[i + 1] for i, arg in enumerate(args) if arg == "--platform"]
    # pip does not add older glibc versions itself: a wheel tagged manylinux_2_17 only (rpds-py) must be allowed.
    assert "manylinux_2_17_x86_64" in platforms and "manylinux_2_28_x86_64" in platforms
    assert args[args.index("--python-version") + 1] == "3.12" and "--only-binary=:all:" in args
