"""Shared check for damaged-input tests: reading to the end may only end in the project's own located error."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from analyzer.errors import InputError


def assert_only_located_errors(
    reader: Callable[[Path], Iterable[Any]], content: bytes, *, must_fail: bool = False
) -> None:
    """Reading `content` to the end either succeeds or ends in the project's located error. With `must_fail` (a
    structured document cut short: CLIXML, JSON) it must end in that error: a reader that swallows the damage and
    reports a shorter, complete-looking file fails here."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged"
        path.write_bytes(content)
        problem: InputError | None = None
        try:
            for _record in reader(path):
                pass
        except InputError as error:
            problem = error
        assert problem is not None or not must_fail, f"{len(content)} bytes of a structured document read as whole"
        if problem is not None:
            assert problem.path == str(path)
            assert problem.line >= 0
            assert str(problem).startswith(f"{path}:{problem.line}: " if problem.line else f"{path}: ")
