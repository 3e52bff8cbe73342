"""Shared paths for the tests."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
REAL_CLIXML = sorted(REAL.glob("**/*.xml"))
CSS = REAL / "microsoft__CSS-Exchange"

# The suite writes no rule cache into the user's cache folder (and no test sees one a run before it left); the rule
# cache's own tests give it a folder (tests/engine/test_rule_cache.py).
os.environ["EXAUDIT_CACHE_DIR"] = "off"


@functools.cache
def fuzz_harness() -> ModuleType:
    """fuzz/harness.py as a module (it is not a package; its targets run as scripts), loaded once."""
    spec = importlib.util.spec_from_file_location("fuzz_harness", Path(__file__).parents[1] / "fuzz" / "harness.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def require(module: str, why: str) -> ModuleType:
    """An optional test dependency (psrpcore, atheris): skipped on a developer's machine without it, but a failure
    under CI (`CI=true`), where `.ci/run` installs it — a test that quietly stops running is no test."""
    import pytest

    try:
        return importlib.import_module(module)
    except ImportError as error:
        message = f"needs {module} ({why}): {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
