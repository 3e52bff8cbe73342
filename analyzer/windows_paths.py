"""What Windows will not take in a path exaudit writes: reserved device names and paths of 260 characters or more.

Our own table, not `PureWindowsPath.is_reserved` (deprecated in Python 3.13, and it differs between versions).
A name is reserved when the part before its first dot, without trailing spaces and dots, is a DOS device name —
`CON`, `aux.xml`, `Com1.zip`, `LPT¹` — whatever the case.
"""

from __future__ import annotations

import os
import sys

if sys.platform == "win32":
    import winreg

_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")]
)
MAX_PATH = 260  # characters, with the terminating NUL: a path may have 259
ON_WINDOWS = os.name == "nt"


def is_reserved(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" .").upper() in _DEVICES


def long_paths_enabled() -> bool:
    """Whether this Windows lets programs that declare it (Python does) use paths past MAX_PATH."""
    if sys.platform == "win32":
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
                return bool(winreg.QueryValueEx(key, "LongPathsEnabled")[0])
        except OSError:
            return False
    return True


def too_long(length: int) -> bool:
    """Whether Windows (without long paths) refuses an absolute path of `length` characters."""
    return ON_WINDOWS and length >= MAX_PATH and not long_paths_enabled()
