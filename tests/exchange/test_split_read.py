"""A large CLIXML file read in two processes gives exactly what a read in one go gives: rows, lines, record
indices, problems and damage — and whatever stands in the way falls back to reading here (split_read)."""

from __future__ import annotations

import io
import os
import re
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.errors import InputError
from analyzer.exchange import split_read
from analyzer.exchange.bundle import load_bundle
from analyzer.exchange.normalise import FileRead, projection, read_whole
from analyzer.exchange.split_read import SplitReader
from analyzer.readers.clixml import ClixmlReader, PreScan
from analyzer.readers.clixml_parts import before_cut, find_cut
from analyzer.synthetic.cas_mailbox import TYPE_NAMES, cas_mailbox
from analyzer.synthetic.clixml_writer import ClixmlWriter
from analyzer.synthetic.samples import healthy_2019
from tests.conftest import REAL_CLIXML
from tests.exchange.same_read import assert_same_read

# What the property test does to a file at a random place: cut it there, or put something in.
EDITS = (
    "cut",
    "<",
    "</Obj>",
    '<Obj RefId="0">',
    '<!-- <TN RefId="0"><T>X</T></TN> -->',
    '<Ref N="Name" RefId="0" />',
    "\n",
    "&amp;",
    "<S>",
    "\xe9",
)


@pytest.fixture(scope="module")
def splitter() -> Iterator[SplitReader]:
    reader = SplitReader(min_bytes=0)  # every file is worth cutting here
    yield reader
    reader.close()


def mailboxes(count: int) -> str:
    """A synthetic Get-CASMailbox export as PowerShell lays it out: one TN list, then TNRefs."""
    out = io.StringIO()
    writer = ClixmlWriter(out, deserialized=True)
    for index in range(count):
        props, extended = cas_mailbox(index)
        writer.write_object(TYPE_NAMES, props, to_string=props["Name"], extended=extended)
    writer.close()
    return out.getvalue()


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8", bom: bytes = b"", name: str = "cas.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(bom + text.encode(encoding))
    return path


def whole(path: Path) -> FileRead:
    read = read_whole(iter(ClixmlReader(path, properties=projection())), str(path), "clixml")
    return summarised(read, path)


def in_two(path: Path, splitter: SplitReader) -> tuple[FileRead | None, str]:
    read = splitter.read(ClixmlReader(path, properties=projection()), str(path))
    how = next((how for shown, how in reversed(splitter.log) if shown == str(path)), "")
    return (summarised(read, path) if read is not None else None), how


def summarised(read: FileRead, path: Path) -> FileRead:
    for batch in read.batches.values():
        batch.summarise(str(path))
    return read


def test_a_synthetic_export_is_read_in_two_processes_with_the_same_rows(tmp_path: Path, splitter: SplitReader) -> None:
    path = write(tmp_path, mailboxes(60))
    split, how = in_two(path, splitter)
    assert how == "two processes"
    assert split is not None
    one_go = whole(path)
    assert_same_read(split, one_go)
    frame = split.batches["cas_mailbox"].frame()
    assert list(frame["source_index"]) == list(range(60))  # indices continue across the cut
    assert frame["source_line"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b""), ("utf-8", b"\xef\xbb\xbf")],
    ids=["utf-16le-bom", "utf-16be-bom", "utf-16le-no-bom", "utf-8-bom"],
)
def test_each_encoding_powershell_writes_is_cut_on_a_character_boundary(
    tmp_path: Path, splitter: SplitReader, encoding: str, bom: bytes
) -> None:
    path = write(tmp_path, mailboxes(40).replace("\n", "\r\n"), encoding=encoding, bom=bom)
    split, how = in_two(path, splitter)
    assert how == "two processes"
    assert split is not None
    assert_same_read(split, whole(path))


def test_cell_problems_are_capped_over_the_whole_file_not_per_part(tmp_path: Path, splitter: SplitReader) -> None:
    text = re.sub(r'<B N="PopEnabled">true</B>', '<S N="PopEnabled">maybe</S>', mailboxes(50))
    path = write(tmp_path, text)
    split, how = in_two(path, splitter)
    assert how == "two processes" and split is not None
    one_go = whole(path)
    assert_same_read(split, one_go)
    assert any("30 more unreadable cells" in p.message for p in split.batches["cas_mailbox"].problems)


def test_a_reference_across_the_cut_is_read_here_after_the_first_part(tmp_path: Path, splitter: SplitReader) -> None:
    text = mailboxes(40)
    text = text.replace('<S N="Name">user000039</S>', '<Ref N="Name" RefId="0" />')
    path = write(tmp_path, text)
    split, how = in_two(path, splitter)
    assert how.startswith("second part read here") and "names no earlier object" in how
    assert split is not None
    assert_same_read(split, whole(path))


def test_with_the_worker_ready_each_process_pre_scans_one_part(
    tmp_path: Path, splitter: SplitReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The references of the whole file are the union of both parts' pre-scans: a reference from the second part
    to an object of the first still keeps that object here (else the second part could not be read here)."""
    text = mailboxes(40).replace('<S N="Name">user000039</S>', '<Ref N="Name" RefId="0" />')
    path = write(tmp_path, text, encoding="utf-16-le", bom=b"\xff\xfe")
    splitter.worker_pid()  # ready

    def whole_file_pre_scan(reader: ClixmlReader) -> PreScan:
        if reader._scan is None:  # not adopted from the parts' pre-scans
            raise AssertionError("the whole file was pre-scanned in this process")
        return reader._scan

    monkeypatch.setattr(ClixmlReader, "pre_scan", whole_file_pre_scan)
    split, how = in_two(path, splitter)
    monkeypatch.undo()
    assert how.startswith("second part read here") and "names no earlier object" in how
    assert split is not None
    assert_same_read(split, whole(path))


def test_the_pre_scans_of_two_ranges_make_the_whole_files(tmp_path: Path) -> None:
    text = mailboxes(30).replace('<S N="Name">user000029</S>', '<Ref N="Name" RefId="0" />')
    path = write(tmp_path, text)
    cut = find_cut(path, ClixmlReader(path).sniffed, path.stat().st_size)
    assert cut is not None
    reader = ClixmlReader(path)
    first, second = reader.pre_scan_range(0, cut.offset), reader.pre_scan_range(cut.offset, None)
    assert second.needed_objects == frozenset({"0"}) and not first.needed_objects
    assert first.union(second) == reader.pre_scan()
    # Only the range from the file's start can hold a DOCTYPE; a later one is searched for references alone.
    doctype = write(tmp_path, '<!DOCTYPE x [<!ENTITY a "b">]>\n' + text, name="doctype.xml")
    with pytest.raises(InputError, match=r"doctype\.xml:1: DOCTYPE/ENTITY"):
        ClixmlReader(doctype).pre_scan_range(0, 100)
    assert ClixmlReader(doctype).pre_scan_range(40, None).doctype_line is None


def test_damage_after_the_cut_sends_the_file_to_a_read_in_one_go(tmp_path: Path, splitter: SplitReader) -> None:
    data = mailboxes(40).encode()
    path = tmp_path / "cut-off.xml"
    path.write_bytes(data[: int(len(data) * 0.9)])
    split, how = in_two(path, splitter)
    assert split is None and how.startswith("read in one go: the second part stopped: damaged or truncated XML")
    one_go = whole(path)
    assert one_go.damage and 20 < one_go.records < 40


def test_millions_of_lines_before_the_second_part_are_counted_without_a_giant_text_node(tmp_path: Path) -> None:
    path = write(tmp_path, mailboxes(20))
    reader = ClixmlReader(path, properties=projection())
    cut = find_cut(path, reader.sniffed, path.stat().st_size)
    assert cut is not None
    _first, second = cut.parts()
    known = before_cut(path, reader.sniffed, cut.offset)
    assert known.type_lists
    reader.start_after(reader.pre_scan(), known.type_lists)
    far = list(reader.part(replace(second, blank_lines=12_000_000)))  # libxml2 refuses text nodes over 10 MB
    assert 5 < len(far) < 20
    assert all(a.source.line > 12_000_000 for a in far)


def test_damage_before_the_cut_sends_the_file_to_a_read_in_one_go(tmp_path: Path, splitter: SplitReader) -> None:
    text = mailboxes(40)
    at = text.index("</Props>", len(text) // 5)
    path = write(tmp_path, text[:at] + "</Prop>" + text[at + len("</Props>") :])
    split, how = in_two(path, splitter)
    assert split is None and how.startswith("read in one go: the first part stopped")


def test_a_cut_inside_a_nested_object_is_refused_by_the_parser(tmp_path: Path, splitter: SplitReader) -> None:
    # Without whitespace between elements, `><Obj` also stands before nested objects: the first candidate
    # after the middle is one, and the first part's parser must refuse it.
    text = re.sub(r">\s+<", "><", mailboxes(40))
    path = write(tmp_path, text)
    cut = find_cut(path, ClixmlReader(path).sniffed, path.stat().st_size)
    assert cut is not None
    nested = text.encode()[cut.offset :].startswith(b'<Obj N="')
    split, how = in_two(path, splitter)
    if nested:
        assert split is None and "first part stopped" in how
    else:
        assert split is not None and how == "two processes"
        assert_same_read(split, whole(path))


def test_a_type_list_inside_a_comment_does_not_fool_the_second_part(tmp_path: Path, splitter: SplitReader) -> None:
    text = mailboxes(40)
    at = text.index('<Obj RefId="', len(text) // 4)
    fake = '<!-- <TN RefId="0"><T>Fake.Type</T></TN> -->\n  '
    path = write(tmp_path, text[:at] + fake + text[at:])
    split, how = in_two(path, splitter)
    assert how == "second part read here: a type list before the cut is not what the worker took"
    assert split is not None
    assert_same_read(split, whole(path))
    assert split.batches["cas_mailbox"].count == 40


def test_a_dead_worker_leaves_the_second_part_to_this_process(tmp_path: Path) -> None:
    path = write(tmp_path, mailboxes(40))
    splitter = SplitReader(min_bytes=0)
    try:
        os.kill(splitter.worker_pid(), signal.SIGKILL)
        split, how = in_two(path, splitter)
    finally:
        splitter.close()
    assert how.startswith("second part read here: the worker failed")
    assert split is not None
    assert_same_read(split, whole(path))


REAL_MANY_OBJECTS = [p for p in REAL_CLIXML if p.stat().st_size > 100_000]


@pytest.mark.parametrize("path", REAL_MANY_OBJECTS, ids=lambda p: p.name[-60:])
def test_real_exports_read_in_two_give_what_a_read_in_one_go_gives(path: Path, splitter: SplitReader) -> None:
    split, how = in_two(path, splitter)
    one_go = whole(path)
    if split is None:  # a real file may defeat the cut; then it is read in one go, as the log says
        assert how.startswith("read in one go")
        return
    assert_same_read(split, one_go)


def test_each_real_export_is_split_or_says_why_not(splitter: SplitReader) -> None:
    hows = {path.name: in_two(path, splitter)[1] for path in REAL_MANY_OBJECTS}
    ways = ("two processes", "read in one go: no top-level object", "second part read here: <Ref RefId=")
    assert all(how.startswith(ways) for how in hows.values()), hows
    # Services and component states refer to no other object; connectors and servers do (shared sub-objects),
    # and single-object files have nothing to cut.
    splittable = [name for name in hows if "GetService" in name or "ServerComponentState" in name]
    assert len(splittable) >= 5 and all(hows[name] == "two processes" for name in splittable), hows


def test_a_bundle_loads_the_same_with_its_large_files_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    healthy_2019(tmp_path / "bundle", mailboxes=300)  # UTF-16LE files, as Windows PowerShell writes them
    one_go = load_bundle([tmp_path / "bundle"], split_large=False)
    used: list[str] = []
    real_read = SplitReader.read

    def spied(self: SplitReader, reader: ClixmlReader, display: str) -> FileRead | None:
        result = real_read(self, reader, display)
        used.extend(shown for shown, how in self.log[-1:] if shown == display and how == "two processes")
        return result

    monkeypatch.setattr(split_read, "MIN_SPLIT_BYTES", 0)
    monkeypatch.setattr(SplitReader, "read", spied)
    split = load_bundle([tmp_path / "bundle"])
    assert any(name.endswith("Get-CASMailbox.xml") for name in used), used
    assert [vars(i) for i in split.inputs] == [vars(i) for i in one_go.inputs]
    assert split.problems == one_go.problems
    assert list(split.datasets) == list(one_go.datasets)
    for name, dataset in one_go.datasets.items():
        pd.testing.assert_frame_equal(split.datasets[name].frame, dataset.frame)


def test_only_a_large_clixml_file_starts_a_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clixml = write(tmp_path, mailboxes(3))
    csv = tmp_path / "cas.csv"
    csv.write_text('"Name","PopEnabled"\n"user1","True"\n', encoding="utf-8")
    monkeypatch.setattr(split_read, "MIN_SPLIT_BYTES", 1)
    monkeypatch.setattr(split_read, "_cores", lambda: 2)
    assert SplitReader.worth_it([clixml]) and not SplitReader.worth_it([csv])
    monkeypatch.setattr(split_read, "MIN_SPLIT_BYTES", clixml.stat().st_size + 1)
    assert not SplitReader.worth_it([clixml])
    monkeypatch.setattr(split_read, "MIN_SPLIT_BYTES", 1)
    monkeypatch.setattr(split_read, "_cores", lambda: 1)
    assert not SplitReader.worth_it([clixml])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(2, 12),
    edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(EDITS)), max_size=3),
    compact=st.booleans(),
)
def test_damaged_and_odd_files_read_in_two_are_read_as_in_one_go_or_not_split(
    tmp_path: Path, count: int, edits: list[tuple[float, str]], compact: bool
) -> None:
    """Whatever is done to the file, a read in two parts gives what a read in one go gives, or declines."""
    text = mailboxes(count)
    if compact:
        text = re.sub(r">\s+<", "><", text)
    data = text.encode()
    for where, edit in edits:
        at = int(where * len(data))
        data = data[:at] if edit == "cut" else data[:at] + edit.encode() + data[at:]
    path = tmp_path / "edited.xml"
    path.write_bytes(data)
    with ThreadPoolExecutor(1) as pool:
        splitter = SplitReader(min_bytes=0, pool=pool)
        split, how = in_two(path, splitter)
    if split is None:
        assert how == "" or how.startswith("read in one go")
        return
    assert how == "two processes" or how.startswith("second part read here")
    assert_same_read(split, whole(path))


def test_a_root_tag_over_two_lines_keeps_the_line_numbers(tmp_path: Path, splitter: SplitReader) -> None:
    # Found by fuzz/split_read.py: the root's start tag, put before the second part, carried its line end along.
    text = mailboxes(30).replace('<Objs Version="1.1.0.1" xmlns=', '<Objs Version="1.1.0.1"\r\n      xmlns=', 1)
    path = write(tmp_path, text)
    split, how = in_two(path, splitter)
    assert how == "two processes" and split is not None
    assert_same_read(split, whole(path))


def test_a_platform_that_cannot_start_a_process_reads_in_one_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    write(bundle, mailboxes(20))
    one_go = load_bundle([bundle], split_large=False)

    def no_processes(*_args: object, **_kwargs: object) -> None:
        raise NotImplementedError("This platform lacks a functioning sem_open implementation")

    monkeypatch.setattr(split_read, "MIN_SPLIT_BYTES", 0)
    monkeypatch.setattr(split_read, "_cores", lambda: 2)
    assert SplitReader.worth_it([bundle / "cas.xml"])
    monkeypatch.setattr(split_read, "ProcessPoolExecutor", no_processes)
    assert SplitReader.start([bundle / "cas.xml"]) is None
    read = load_bundle([bundle])
    pd.testing.assert_frame_equal(read.datasets["cas_mailbox"].frame, one_go.datasets["cas_mailbox"].frame)
