"""Shared paths for the tests."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
REAL_CLIXML = sorted(REAL.glob("**/*.xml"))
CSS = REAL / "microsoft__CSS-Exchange"
