"""The README's set-up commands and CI stay in step: CI must run what users are told to run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:1200]
    main_job, tests = _readme_commands()[:2]
    assert main_job in head and tests in head
    assert "pip install ." in main_job and "exaudit " in main_job
    assert "pytest" in tests


def test_ci_runs_every_step_of_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    steps = _readme_commands()[1].split(" && ")
    for step in steps:
        assert step in ci, f".ci/run does not run {step!r}"


def test_readme_main_job_scans_the_packaged_demo() -> None:
    assert _readme_commands()[0].endswith("exaudit scan --demo")


def test_the_installed_version_is_the_one_written_in_the_package() -> None:
    # pyproject.toml reads analyzer.__version__ when the package is built; an install that predates a version
    # bump would report another number than the reports it writes.
    from importlib.metadata import version

    from analyzer import __version__

    assert version("exaudit") == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_command_starts_without_the_heavy_libraries() -> None:
    """`exaudit --version` and `--help` start in a blink: the command module imports no data or report library
    (each command imports what it uses when it runs). Checked in a fresh interpreter, by what it loaded."""
    import subprocess
    import sys

    heavy = ("pandas", "pyarrow", "numpy", "lxml", "jsonschema", "jinja2", "yaml", "cryptography")
    code = f"import sys, analyzer.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    version = subprocess.run(
        [sys.executable, "-m", "analyzer", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("exaudit ")
