"""Shared paths for the tests."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
REAL_CLIXML = sorted(REAL.glob("**/*.xml"))
CSS = REAL / "microsoft__CSS-Exchange"


@functools.cache
def fuzz_harness() -> ModuleType:
    """fuzz/harness.py as a module (it is not a package; its targets run as scripts), loaded once."""
    spec = importlib.util.spec_from_file_location("fuzz_harness", Path(__file__).parents[1] / "fuzz" / "harness.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
