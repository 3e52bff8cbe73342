"""Build a wheelhouse for an air-gapped machine: exaudit's wheel and every dependency, for a named platform and
Python version, so that `pip install --no-index --find-links WHEELHOUSE exaudit` needs no network there.

Run on a connected machine from a checkout (only Python and pip are needed):

    python scripts/wheelhouse.py --target windows-x64 --python 3.12 --out wheelhouse-win

`--check` resolves an existing wheelhouse offline instead (no index, no other links), as the air-gapped machine will.
pip evaluates environment markers (`tzdata; sys_platform == 'win32'`) for the machine it runs on, not for the target,
so after pip's own resolution every wheel's requirements are evaluated for the target here and what is missing is
fetched too. A SHA256SUMS file lets the receiving side check what crossed the air gap.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

try:
    from packaging import markers, requirements, utils
except ImportError:  # pip carries its own copy
    from pip._vendor.packaging import markers, requirements, utils  # type: ignore[no-redef]

Requirement = requirements.Requirement

ROOT = Path(__file__).resolve().parents[1]
_NOT_SOURCE = (
    ".git",
    ".venv",
    "build",
    "dist",
    "reports",
    "out",
    "__pycache__",
    "*.egg-info",
    ".*_cache",
    "node_modules",
)

# pip's --platform tags and the marker values of each target. pip adds the older macOS versions a macOS tag implies,
# but not the older glibc versions of a manylinux_2_N tag: those are listed (glibc 2.28 and older: RHEL 8 and later).
_GLIBC_2_28_AND_OLDER = [f"manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)] + ["manylinux2014_x86_64"]
TARGETS: dict[str, tuple[list[str], dict[str, str]]] = {
    "windows-x64": (["win_amd64"], {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                                    "platform_machine": "AMD64"}),
    "linux-x86_64": (_GLIBC_2_28_AND_OLDER, {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                                             "platform_machine": "x86_64"}),
    "macos-arm64": (["macosx_14_0_arm64"], {"sys_platform": "darwin", "platform_system": "Darwin",
                                            "os_name": "posix", "platform_machine": "arm64"}),
}  # fmt: skip


def _pip(*args: str, offline: bool = False) -> None:
    env = dict(os.environ)
    if offline:  # nothing but the wheelhouse: no configured index, links or constraints
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    print("+ pip " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, env=env)


def _platform_args(target: str, python: str) -> list[str]:
    platforms, _markers = TARGETS[target]
    tags = [arg for platform in platforms for arg in ("--platform", platform)]
    return [*tags, "--python-version", python, "--implementation", "cp", "--only-binary=:all:"]


def _environment(target: str, python: str) -> dict[str, str]:
    environment = {key: str(value) for key, value in markers.default_environment().items()}
    environment.update(TARGETS[target][1])
    environment.update(python_version=python, python_full_version=f"{python}.0", implementation_name="cpython",
                       platform_python_implementation="CPython")  # fmt: skip
    return environment


def _requirements(wheel: Path) -> Iterator[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        for line in archive.read(metadata).decode("utf-8").splitlines():
            if line.startswith("Requires-Dist:"):
                yield Requirement(line.removeprefix("Requires-Dist:").strip())


def missing(wheelhouse: Path, target: str, python: str) -> list[str]:
    """Requirements of the wheels here that apply on the target and that no wheel here satisfies."""
    environment = _environment(target, python)
    have: dict[str, list[str]] = {}
    for wheel in wheelhouse.glob("*.whl"):
        name, version, _build, _tags = utils.parse_wheel_filename(wheel.name)
        have.setdefault(utils.canonicalize_name(name), []).append(str(version))
    wanted = []
    for wheel in sorted(wheelhouse.glob("*.whl")):
        for requirement in _requirements(wheel):
            # Only what installing the package needs: requirements behind an extra are not installed.
            if requirement.marker and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
            versions = have.get(utils.canonicalize_name(requirement.name), [])
            if not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
                wanted.append(str(Requirement(f"{requirement.name}{requirement.specifier}")))
    return sorted(set(wanted))


def build(target: str, python: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        # Built from a copy: setuptools leaves a build/ folder in the tree it builds.
        source = Path(scratch) / "source"
        shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
        _pip("wheel", "--no-deps", "--wheel-dir", scratch, str(source))
        (own,) = Path(scratch).glob("exaudit-*.whl")
        _pip("download", "--dest", str(out), *_platform_args(target, python), str(own))
    for _round in range(5):
        needed = missing(out, target, python)
        if not needed:
            break
        _pip("download", "--dest", str(out), *_platform_args(target, python), *needed)
    else:
        raise SystemExit(f"still missing after five rounds: {', '.join(needed)}")
    sums = "".join(f"{hashlib.sha256(w.read_bytes()).hexdigest()}  {w.name}\n" for w in sorted(out.glob("*.whl")))
    (out / "SHA256SUMS").write_text(sums, encoding="utf-8", newline="\n")
    print(f"{out}: {len(list(out.glob('*.whl')))} wheels for {target}, Python {python}")


def check(target: str, python: str, wheelhouse: Path) -> None:
    """What the air-gapped machine will do: resolve exaudit from the wheelhouse alone."""
    needed = missing(wheelhouse, target, python)
    if needed:
        raise SystemExit(f"{wheelhouse}: no wheel for {', '.join(needed)} on {target}")
    with tempfile.TemporaryDirectory() as scratch:
        _pip("download", "--no-index", "--find-links", str(wheelhouse), "--dest", scratch,
             *_platform_args(target, python), "exaudit", offline=True)  # fmt: skip
    print(f"{wheelhouse}: complete for {target}, Python {python}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=sorted(TARGETS), required=True)
    parser.add_argument("--python", default=f"{sys.version_info.major}.{sys.version_info.minor}",
                        help="the Python version of the air-gapped machine, e.g. 3.12 (default: this one)")  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="the wheelhouse folder")
    parser.add_argument("--check", action="store_true", help="resolve an existing wheelhouse offline")
    args = parser.parse_args()
    (check if args.check else build)(args.target, args.python, args.out)


if __name__ == "__main__":
    main()
