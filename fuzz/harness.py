"""What every fuzz target shares: a scratch file per process, the rule that only the project's own located error
may escape, seeding the working corpus from the repository's fixtures, and the libFuzzer command line.

A target is `python fuzz/<target>.py [libFuzzer options] [CORPUS…]`. With no corpus folder it uses
`fuzz/corpus/<target>/` (not committed); the first corpus folder always gets the fixtures the target names and the
kept regression inputs that it does not hold yet. Crashes go to
`fuzz/crashes/`; once fixed, such an input moves to `tests/data/fuzz-regressions/<target>/`, where a test replays it.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "fuzz"
REGRESSIONS = ROOT / "tests" / "data" / "fuzz-regressions"
# Seeds above this size slow every execution and add little the smaller ones do not reach.
MAX_SEED_BYTES = 32 * 1024

OneInput = Callable[[bytes], None]


@dataclass(frozen=True)
class Target:
    module: str  # the module under test; atheris instruments it
    reader: str  # the callable in it that takes a path and yields what it read
    file_name: str  # the scratch file's name (the loader looks at the suffix)
    seeds: tuple[str, ...]  # globs under the repository root
    measured: tuple[str, ...]  # the modules whose line coverage the corpus is judged by
    check: str = "located_errors"  # what counts as a crash: a key of CHECKS
    dictionary: str = ""  # the target whose fuzz/<name>.dict it uses, when not its own


TARGETS = {
    "clixml_reader": Target(
        "analyzer.readers.clixml", "ClixmlReader", "export.xml",
        ("tests/data/real/**/*.xml", "samples/**/*.xml", "fuzz/seeds/clixml_reader/*"),
        ("analyzer/readers/clixml.py", "analyzer/readers/clixml_primitives.py", "analyzer/readers/psvalues.py"),
    ),
    "csv_reader": Target(
        "analyzer.readers.csv", "CsvReader", "export.csv", ("tests/data/synthetic/*.csv", "samples/**/*.csv"),
        ("analyzer/readers/csv.py", "analyzer/readers/encoding.py"),
    ),
    "text_reader": Target(
        "analyzer.readers.text", "TextReader", "export.txt",
        ("tests/data/synthetic/*.txt", "tests/data/real/**/*.txt", "samples/**/*.txt"),
        ("analyzer/readers/text.py", "analyzer/readers/encoding.py"),
    ),
    "json_reader": Target(
        "analyzer.readers.json", "JsonReader", "export.json",
        ("tests/data/synthetic/*.json", "tests/data/real/**/*.json", "samples/mixed-formats/**/*.json"),
        ("analyzer/readers/json.py", "analyzer/readers/encoding.py"),
    ),
    "rule_loader": Target(
        "analyzer.engine.loader", "load_rule", "rule.yaml", ("rules/**/*.yaml",), ("analyzer/engine/loader.py",)
    ),
    # A CLIXML file read in two parts must give what a read in one go gives, or decline: any difference is a crash.
    "split_read": Target(
        "analyzer.exchange.split_read", "SplitReader", "export.xml",
        ("fuzz/seeds/split_read/*", "fuzz/seeds/clixml_reader/*"),
        ("analyzer/readers/clixml_parts.py", "analyzer/exchange/split_read.py"), check="split_same_as_whole",
        dictionary="clixml_reader",
    ),
    # A CSV file normalised a column at a time must give what it gives record by record: any difference is a crash.
    "csv_columnar": Target(
        "analyzer.exchange.columnar", "read_table", "export.csv",
        ("tests/data/synthetic/*.csv", "samples/**/*.csv", "fuzz/seeds/csv_columnar/*"),
        ("analyzer/exchange/columnar.py", "analyzer/exchange/normalise.py"), check="columns_same_as_records",
    ),
    # A bundle as a zip: structure, names and sizes of members are the input; only located errors may escape.
    "bundle": Target(
        "analyzer.exchange.sources", "load_bundle", "bundle.zip", ("fuzz/seeds/bundle/*",),
        ("analyzer/exchange/sources.py", "analyzer/exchange/bundle.py", "analyzer/exchange/unread.py"),
        check="bundle_loads_or_says_why",
    ),
    # A value put into a remediation command must read back as itself, or the command must be inert.
    "remediation": Target(
        "analyzer.engine.powershell", "quote", "value.txt", ("fuzz/seeds/remediation/*",),
        ("analyzer/engine/powershell.py", "analyzer/hidden_chars.py"), check="remediation_reads_back",
    ),
}  # fmt: skip


def scratch_file(name: str) -> Path:
    """A file this process rewrites for every input; on tmpfs where there is one, so the disk is not worn."""
    shm = Path("/dev/shm")  # noqa: S108  (mkdtemp below makes a private folder in it)
    folder = Path(tempfile.mkdtemp(prefix="exaudit-fuzz-", dir=shm if shm.is_dir() else None))
    return folder / name


def only_located_errors(target: Target) -> OneInput:
    """A function that writes each input to a file and reads it to the end with the target's reader. The project's
    `ExauditError` is the expected outcome for bad input, provided it names the file and a line; anything else
    propagates and libFuzzer records it as a crash."""
    from analyzer.errors import ExauditError  # imported late, after the target module was instrumented

    produce = getattr(importlib.import_module(target.module), target.reader)

    def read(path: Path) -> Iterable[Any]:
        result = produce(path)
        return result if isinstance(result, Iterable) else [result]

    path = scratch_file(target.file_name)

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        try:
            for _item in read(path):
                pass
        except ExauditError as error:
            text = str(error)
            if not text.startswith(f"{path}:"):
                raise AssertionError(f"error does not name the file: {text!r}") from error

    return one_input


class _Inline(Executor):
    """Runs each task at once, in this thread: the second part is read where atheris sees it, and a worker's
    exception is a bug here (no process can die), not a reason to fall back."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the caller, as a pool would
            future.set_exception(error)
        return future


def _comparable(read: Any, path: Path) -> str:
    """What two reads of a file must agree on, as text: records, damage, and per dataset the counts, lossy
    notes, problems and every cell (repr: NaN and NA compare unequal to themselves; sets are sorted)."""
    for batch in read.batches.values():
        batch.summarise(str(path))
    return repr([read.records, [(d.line, d.message) for d in read.damage],
                 [(name, b.count, sorted(b.type_names), b.lossy, b.problems, b.frame().to_dict("list"))
                  for name, b in read.batches.items()]])  # fmt: skip


def columns_same_as_records(target: Target) -> OneInput:
    """A function that normalises each CSV input a column at a time (distinct values parsed once, identities
    and servers per distinct combination) and record by record, and raises unless they agree."""
    from analyzer.errors import ExauditError
    from analyzer.exchange.columnar import read_table
    from analyzer.exchange.normalise import projection, read_whole
    from analyzer.readers.csv import CsvReader

    path = scratch_file(target.file_name)

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        try:
            by_column = read_table(CsvReader(path, properties=projection()).slices(), str(path))
        except ExauditError as error:
            if not str(error).startswith(f"{path}:"):
                raise AssertionError(f"error does not name the file: {error}") from error
            return
        by_record = read_whole(iter(CsvReader(path, properties=projection())), str(path), "csv")
        if _comparable(by_column, path) != _comparable(by_record, path):
            raise AssertionError("the file normalised by column differs from the file normalised by record")

    return one_input


def split_same_as_whole(target: Target) -> OneInput:
    """A function that reads each input in two parts and in one go, and raises unless they agree (or the split
    declines and says why)."""
    from analyzer.exchange.normalise import projection, read_whole
    from analyzer.exchange.split_read import SplitReader
    from analyzer.readers.clixml import ClixmlReader

    path = scratch_file(target.file_name)

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        splitter = SplitReader(min_bytes=0, pool=_Inline())
        split = splitter.read(ClixmlReader(path, properties=projection()), str(path))
        how = splitter.log[-1][1] if splitter.log else "read in one go"
        if "the worker failed" in how:
            raise AssertionError(how)
        if split is None:
            assert how.startswith("read in one go"), how
            return
        whole = read_whole(iter(ClixmlReader(path, properties=projection())), str(path), "clixml")
        if _comparable(split, path) != _comparable(whole, path):
            raise AssertionError(f"{how}: the read in two parts differs from the read in one go")

    return one_input


def bundle_loads_or_says_why(target: Target) -> OneInput:
    """A function that reads each input as a zip bundle: a bundle, or the project's error naming the zip."""
    from analyzer.errors import ExauditError
    from analyzer.exchange.bundle import load_bundle

    path = scratch_file(target.file_name)

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        try:
            load_bundle([path], split_large=False)
        except ExauditError as error:
            if not str(error).startswith((str(path), path.name)):  # as given, or by its name in reports
                raise AssertionError(f"error does not name the zip: {error}") from error

    return one_input


POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def read_single_quoted(literal: str) -> tuple[str, str]:
    """A PowerShell single-quoted literal at the start of `literal` by the language's rule (any of the five quote
    characters opens and closes it; two in a row stand for the second): (its value, what follows)."""
    if not literal or literal[0] not in POWERSHELL_SINGLE_QUOTES:
        raise AssertionError("not a single-quoted string")
    value, position = [], 1
    while position < len(literal):
        char = literal[position]
        if char in POWERSHELL_SINGLE_QUOTES:
            if position + 1 < len(literal) and literal[position + 1] in POWERSHELL_SINGLE_QUOTES:
                value.append(literal[position + 1])
                position += 2
                continue
            return "".join(value), literal[position + 1 :]
        value.append(char)
        position += 1
    raise AssertionError("the string is never closed")


def remediation_reads_back(_target: Target) -> OneInput:
    """A function that puts each input, as text, into a command: unless the command is made inert (hidden
    characters), the value must read back exactly and nothing may follow it but the template's own text."""
    from analyzer.engine.evaluate import render_commands
    from analyzer.engine.powershell import is_inert
    from analyzer.hidden_chars import HIDDEN

    def one_input(data: bytes) -> None:
        value = data.decode("utf-8", "replace")
        command = render_commands("Set-CASMailbox -Identity {Name} -PopEnabled $true", [{"Name": value}])
        if is_inert(command):
            lines = command.split("\n")
            assert all(line.startswith("#") for line in lines), command
            assert not HIDDEN.search(command.replace("\n", "")), "a hidden character is left in an inert command"
            return
        assert not HIDDEN.search(value), "a hidden character was offered for copy-paste"
        prefix = "Set-CASMailbox -Identity "
        assert command.startswith(prefix), command
        assert read_single_quoted(command[len(prefix) :]) == (value, " -PopEnabled $true"), command

    return one_input


CHECKS: dict[str, Callable[[Target], OneInput]] = {
    "bundle_loads_or_says_why": bundle_loads_or_says_why,
    "remediation_reads_back": remediation_reads_back,
    "located_errors": only_located_errors,
    "split_same_as_whole": split_same_as_whole,
    "columns_same_as_records": columns_same_as_records,
}


def one_input_for(target: Target) -> OneInput:
    return CHECKS[target.check](target)


def seed_files(patterns: Iterable[str]) -> list[Path]:
    found = {p for pattern in patterns for p in ROOT.glob(pattern) if p.is_file()}
    return sorted(p for p in found if p.stat().st_size <= MAX_SEED_BYTES)


def _seed(corpus: Path, seeds: list[Path], target: str) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    regressions = sorted((REGRESSIONS / target).glob("*")) if (REGRESSIONS / target).is_dir() else []
    for source in [*seeds, *regressions]:
        data = source.read_bytes()
        name = corpus / hashlib.sha1(data, usedforsecurity=False).hexdigest()
        if not name.exists():
            name.write_bytes(data)


def run(target: str) -> None:
    """Parse the libFuzzer command line, add the default corpus, dictionary and crash folder, and fuzz."""
    import atheris

    args = sys.argv[1:]
    folders = [a for a in args if not a.startswith("-")]
    if not folders:
        folders = [str(FUZZ / "corpus" / target)]
        args.append(folders[0])
    # The fixtures and kept regressions join the first corpus folder every time (named by their hash, so only
    # what is missing is added): a seed added to the repository reaches an existing corpus too.
    _seed(Path(folders[0]), seed_files(TARGETS[target].seeds), target)
    if not any(a.startswith("-artifact_prefix=") for a in args):
        crashes = FUZZ / "crashes"
        crashes.mkdir(exist_ok=True)
        args.insert(0, f"-artifact_prefix={crashes}{os.sep}{target}-")
    dictionary = FUZZ / f"{TARGETS[target].dictionary or target}.dict"
    if dictionary.is_file() and not any(a.startswith("-dict=") for a in args):
        args.insert(0, f"-dict={dictionary}")
    if not any(a.startswith("-max_len=") for a in args):
        args.insert(0, f"-max_len={MAX_SEED_BYTES}")
    atheris.Setup([sys.argv[0], *args], one_input_for(TARGETS[target]))
    atheris.Fuzz()
