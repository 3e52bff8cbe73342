"""Giving freed memory back between the stages of a scan.

A scan's stages allocate through three allocators — pyarrow's mimalloc pool (strings), glibc malloc (numpy,
lxml) and Python's own object arenas — and each keeps what was freed for its own later use. Without a hand-back
between stages, the transients of one stage stack on those of the one before and the peak RSS grows with them;
at 500,000 mailboxes that made a few hundred MB of difference.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pyarrow as pa


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library already loaded into this process. Not `ctypes.util.find_library`: on Linux it runs
    ldconfig in a subprocess, a fork of this process at its largest (measured: a sampled 1.27 GB "peak" at
    500,000 mailboxes, the fork's copy-on-write pages counted twice)."""
    try:
        library = ctypes.CDLL(None)
    except OSError:
        return None
    return library if hasattr(library, "malloc_trim") else None  # glibc only; musl and macOS have none


def release_unused(*, collect: bool = True) -> None:
    """Collect cycles (unless told not to: a full collection walks every live object), then return free pages
    of pyarrow's pool and of the C heap to the operating system."""
    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


# Below this many bytes of input the hand-back saves a few MB and costs a full collection each time (it walks every
# live object: ~25 ms in a test process, three a scan). Measured, whole scan's peak RSS with and without: 3 MB of
# CSV (2,000 mailboxes) 175 → 179 MB; 15 MB of CSV 210 → 222 MB; 44 MB of CLIXML 180 → 194 MB.
HAND_BACK_FROM = 16 * 1024 * 1024


def release_after(input_bytes: int) -> None:
    """`release_unused` after a stage that read `input_bytes`, when that is enough for the hand-back to matter."""
    if input_bytes >= HAND_BACK_FROM:
        release_unused()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused meanwhile. A scan's stages make millions of short-lived objects
    (records while reading, finding tuples while evaluating) and each automatic collection walks all live ones
    again — measured: a third of the evaluation's time, a quarter of a 10,000-mailbox scan. They hold no
    cycles that matter: reference counting frees them, and `release_unused` collects what is left after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
