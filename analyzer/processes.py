"""How exaudit starts worker processes (the split read of a large file, `batch`): one start method on every platform.

`spawn` is what Windows and macOS use, and the only method Windows has: a worker starts a fresh interpreter and
imports what it needs, so nothing may rely on state inherited from the parent. Using it on Linux too means the code
path users on Windows take is the one tested everywhere; and `fork` could hang a process that already runs threads
(pyarrow's and the BLAS's behind pandas). The tests run both users of it under `spawn` and `forkserver` (Linux's
default from Python 3.14) and compare the results.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

START_METHOD = "spawn"


def context() -> BaseContext:
    return multiprocessing.get_context(START_METHOD)
