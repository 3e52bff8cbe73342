"""Reading one large Export-Clixml file in two processes: the first part here, the second in a worker.

Parsing is most of a scan's time and one core does it; a second core halves it. The file is cut before a
top-level object near its middle (`clixml_parts`); this process reads the first part while a worker process reads
the second, and the rows of both are joined in file order. The result is the same as a read in one go — rows,
lines, record indices and problems — and whatever stands in the way of that falls back:
- a reference (`<Ref>`) to an object before the cut, a type list the worker took wrongly, a dead worker: the
  second part is read here, continuing from the first, so references resolve;
- damage anywhere, or a cut the first part's parser refuses (it fell inside an object): the file is read again
  in one go, which reports the damage where such a read does. A damaged large file costs one read more.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from analyzer import processes
from analyzer.errors import InputError
from analyzer.exchange.normalise import FileRead, read_whole
from analyzer.memory import collector_paused, release_unused
from analyzer.readers.clixml import ClixmlReader, PreScan
from analyzer.readers.clixml_parts import Cut, Part, before_cut, find_cut
from analyzer.readers.detect import CLIXML, detect_format

# Below this a worker's start-up (~0.4 s of imports) costs about what it saves.
MIN_SPLIT_BYTES = 32 << 20
LATE_WORKER_SHARE = 0.6
# From this size the pre-scan of half the file (~0.5 GB/s, UTF-8 or UTF-16) outlasts a worker's start-up: each
# process then pre-scans one half even if the worker is still starting.
SHARED_PRE_SCAN_BYTES = 384 << 20  # of the file this process reads when the worker has not started yet
_UNRESOLVED_REF = re.compile(r"<Ref RefId=.*> names no earlier object$")


@dataclass(frozen=True)
class _Declined:
    """Why the worker did not read the second part; `damaged`: the part itself is, so the file is read in one
    go to locate that damage exactly as such a read does."""

    reason: str
    damaged: bool = False


@dataclass(frozen=True)
class _SecondPart:
    """What the worker sends back: the rows of the second part and the given type lists it used."""

    read: FileRead  # counts, problems and damage; the rows follow a frame at a time
    type_lists: dict[str, tuple[tuple[str, ...], bool]]
    frames: int


def _read_second_part(
    path: str, display: str, properties: frozenset[str] | None, scan: PreScan, part: Part, offset: int
) -> _SecondPart | _Declined:
    """In the worker: the second part's rows, or why it could not read them alone."""
    reader = ClixmlReader(path, properties=properties)
    known = before_cut(reader.path, reader.sniffed, offset)
    if known.type_lists is None:
        return _Declined("a <TN> before the cut does not end")
    try:
        reader.start_after(scan, known.type_lists)
    except InputError as error:
        return _Declined(error.message)
    with collector_paused():
        read = read_whole(iter(reader.part(replace(part, blank_lines=known.lines))), display, reader.format)
    if read.damage:
        message = read.damage[0].message
        # A reference to an object before the cut only fails here; any other stop is damage in the part.
        return _Declined(message, damaged=not _UNRESOLVED_REF.match(message))
    # The rows stay here until taken a frame at a time (`_next_frame`): pickled whole, they would stand twice
    # in each process at once — measured, that alone put 500,000 mailboxes over 1 GB.
    _HELD[:] = [(name, frame) for name, batch in read.batches.items() for frame in batch.take_frames()]
    return _SecondPart(read, reader.type_lists_used(), len(_HELD))


def _pre_scan_after(path: str, offset: int) -> PreScan:
    """In the worker: what the bytes from `offset` on reference."""
    return ClixmlReader(path).pre_scan_range(offset, None)


_HELD: list[tuple[str, pd.DataFrame]] = []  # in the worker: frames of the part last read, not yet taken


def _next_frame() -> tuple[str, pd.DataFrame]:
    """The next held frame; the memory of the one sent before is handed back as this process shrinks."""
    release_unused(collect=False)
    return _HELD.pop(0)


def _drop_held() -> None:
    _HELD.clear()
    release_unused(collect=False)


def _ready() -> int:
    """A first task for the worker, so that its start-up overlaps the reading of the other files. Its imports
    are done by now (they came with this function): out of the collector's sight, as in the main process."""
    if multiprocessing.parent_process() is not None:  # only in a worker process, never in the caller's
        gc.freeze()
    return os.getpid()


def _large_clixml(path: Path) -> bool:
    try:
        return path.stat().st_size >= MIN_SPLIT_BYTES and detect_format(path) == CLIXML
    except OSError:
        return False  # the read reports it


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SplitReader:
    """A worker process for the second parts of the bundle's large CLIXML files. `log` says, per file tried,
    how it was read in the end (for tests and for anyone wondering where the time went)."""

    def __init__(self, min_bytes: int | None = None, pool: Executor | None = None) -> None:
        """`pool`: where the second parts are read (a spawned process unless given; tests give a thread)."""
        self.min_bytes = MIN_SPLIT_BYTES if min_bytes is None else min_bytes
        self._pool = pool or ProcessPoolExecutor(max_workers=1, mp_context=processes.context())
        self._started = self._pool.submit(_ready)
        self.log: list[tuple[str, str]] = []

    @classmethod
    def start(cls, paths: list[Path]) -> SplitReader | None:
        """A reader with its worker starting, when the bundle has a file worth it and the platform can start a
        process (some sandboxes cannot: no working sem_open, no /dev/shm); otherwise None, and files are read
        in one go."""
        if not cls.worth_it(paths):
            return None
        try:
            return cls()
        except (OSError, NotImplementedError, RuntimeError):
            return None

    @staticmethod
    def worth_it(paths: list[Path]) -> bool:
        """Two cores and a CLIXML file large enough: only then is a worker started (an idle one would still
        take a core for its start-up)."""
        return _cores() >= 2 and any(_large_clixml(path) for path in paths)

    def worker_pid(self) -> int:
        return self._started.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def read(self, reader: ClixmlReader, display: str) -> FileRead | None:
        """The file read in two parts; None when it is to be read in one go instead."""
        size = reader.path.stat().st_size
        if size < self.min_bytes:
            return None
        found = self._scan_and_cut(reader, size)
        if found is None:
            return None  # a DOCTYPE: the read in one go refuses it at its line
        scan, cut = found
        if cut is None:
            self.log.append((display, "read in one go: no top-level object to cut before near the middle"))
            return None
        first, second = cut.parts()
        later = self._submit(_read_second_part, str(reader.path), display, reader.projection, scan, second, cut.offset)
        read = read_whole(iter(reader.part(first)), display, reader.format)
        if read.damage:
            self._drop_held()
            self.log.append((display, f"read in one go: the first part stopped: {read.damage[0].message}"))
            return None
        answer = _second_part(later)
        outcome = self._join(read, answer, reader) if isinstance(answer, _SecondPart) else answer
        if outcome is None:
            self.log.append((display, "two processes"))
            return read
        if outcome.damaged:
            self.log.append((display, f"read in one go: the second part stopped: {outcome.reason}"))
            return None
        # Read here, after the first part, as a read in one go would: references resolve to the first part.
        lines = before_cut(reader.path, reader.sniffed, cut.offset).lines
        read.add(iter(reader.part(replace(second, blank_lines=lines))), display, reader.format)
        if read.damage:  # never reported from a part: a read in one go says where it is
            self.log.append((display, f"read in one go: the second part stopped here: {read.damage[0].message}"))
            return None
        self.log.append((display, f"second part read here: {outcome.reason}"))
        return read

    def _scan_and_cut(self, reader: ClixmlReader, size: int) -> tuple[PreScan, Cut | None] | None:
        """The whole file's pre-scan and where to cut it; None for a DOCTYPE. With the worker ready, each process
        pre-scans one part (the pre-scan reads every byte: a UTF-16 file of 760 MB takes 1.5 s), as for a file
        large enough to be worth waiting for it. Otherwise a worker still starting (a smaller file, early in the
        bundle) gets time to start while this process pre-scans the whole file, and the smaller part if it is still
        not ready — measured at 10,000 mailboxes (46 MB), it was ready ~0.4 s after this process began its part."""
        if self._started.done() or size >= SHARED_PRE_SCAN_BYTES:
            cut = find_cut(reader.path, reader.sniffed, size, 0.5)
            if cut is None:
                return PreScan(None, None, None), None
            later = self._submit(_pre_scan_after, str(reader.path), cut.offset)
            try:
                scan = reader.pre_scan_range(0, cut.offset)
            except InputError:
                return None
            try:
                rest = later.result()
            except Exception:  # a dead or failing worker: this process scans the rest too
                rest = reader.pre_scan_range(cut.offset, None)
            reader.adopt_scan(scan := scan.union(rest))
            return scan, cut
        try:
            scan = reader.pre_scan()
        except InputError:
            return None
        return scan, find_cut(reader.path, reader.sniffed, size, 0.5 if self._started.done() else LATE_WORKER_SHARE)

    def _join(self, read: FileRead, later: _SecondPart, reader: ClixmlReader) -> _Declined | None:
        """Append the worker's rows to the first part's; why not, if they cannot be trusted or do not arrive."""
        if not _agree(later.type_lists, reader.type_lists()):
            self._drop_held()
            return _Declined("a type list before the cut is not what the worker took")
        try:
            frames = [self._pool.submit(_next_frame).result() for _ in range(later.frames)]
        except Exception as error:  # the worker died while sending: the part is read here after all
            return _Declined(f"the worker failed: {error!r}")
        read.join(later.read)
        for name, frame in frames:
            read.append_frame(name, frame)
        return None

    def _drop_held(self) -> None:
        """Let the worker free rows that will not be taken (it runs tasks in order: after its current one)."""
        with contextlib.suppress(RuntimeError):  # the worker is gone, and its rows with it
            self._pool.submit(_drop_held)

    def _submit(self, *call: Any) -> Future[Any]:
        try:
            return self._pool.submit(*call)
        except RuntimeError as error:  # BrokenProcessPool: the worker died earlier
            failed: Future[Any] = Future()
            failed.set_exception(error)
            return failed


def _second_part(future: Future[_SecondPart | _Declined]) -> _SecondPart | _Declined:
    try:
        return future.result()
    except Exception as error:  # a dead or failing worker: the second part is read here instead
        return _Declined(f"the worker failed: {error!r}")


def _agree(used: dict[str, Any], seen: dict[str, Any]) -> bool:
    """Each type list the worker used from before the cut is the one the first part's reader decoded."""
    return all(seen.get(ref_id) == names for ref_id, names in used.items())
