"""A CLIXML file damaged after N objects keeps all N: libxml2 drops the events of the chunk in which it meets the
damage, so the reader reads again up to the damaged line (issue: 187 of 300 were kept while the message said
"records before it kept"). And the back-reference pre-scan takes linear time on any value."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from analyzer.errors import InputError
from analyzer.readers.clixml import ClixmlReader

OBJECTS = 1000
_OBJECT = (
    '  <Obj RefId="{i}">\n    <TN RefId="{i}">\n      <T>System.ServiceProcess.ServiceController</T>\n    </TN>\n'
    '    <Props>\n      <S N="Name">svc{i}</S>\n      <S N="Status">Running</S>\n    </Props>\n  </Obj>\n'
)
WHOLE = (
    '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">\n'
    + "".join(_OBJECT.format(i=i) for i in range(OBJECTS))
    + "</Objs>\n"
)
DAMAGE = {"junk": b"<<<", "invalid UTF-8": b"\xff", "cut": None}


def _kept(path: Path) -> tuple[int, InputError | None]:
    count = 0
    try:
        for _record in ClixmlReader(path):
            count += 1
    except InputError as error:
        return count, error
    return count, None


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("kind", list(DAMAGE))
def test_every_object_closed_before_the_damage_is_kept(tmp_path: Path, kind: str, encoding: str) -> None:
    data = WHOLE.encode("utf-8")
    path = tmp_path / "services.xml"
    for step in range(1, 24):
        at = len(data) * step // 24
        closed = data[:at].count(b"\n  </Obj>")
        insert = DAMAGE[kind]
        damaged = data[:at] if insert is None else data[:at] + insert + data[at:]
        if encoding == "utf-16":  # Windows PowerShell 5.1 writes UTF-16; damage as bytes of that file
            prefix = data[:at].decode("utf-8", "replace").encode("utf-16-le")
            rest = b"" if insert is None else insert + data[at:].decode("utf-8").encode("utf-16-le")
            damaged = b"\xff\xfe" + prefix + rest
        path.write_bytes(damaged)
        kept, error = _kept(path)
        assert error is not None, (kind, step)
        assert kept == closed, (kind, encoding, step, kept, closed, str(error))


@pytest.mark.parametrize("start", [b"Ref ", b":Ref ", b"<TNRef "])
def test_the_back_reference_pre_scan_is_linear_in_a_hostile_value(tmp_path: Path, start: bytes) -> None:
    """A value full of `Ref ` made the pre-scan quadratic (128 KB: 21 s); now it is a fraction of a second."""
    escaped = start.replace(b"<", b"&lt;")
    seconds = []
    for size in (32 << 10, 256 << 10):
        path = tmp_path / f"ref-{size}.xml"
        value = escaped * (size // len(escaped))
        path.write_bytes(WHOLE.encode().replace(b'<S N="Name">svc0<', b'<S N="Name">' + value + b"<", 1))
        started = time.perf_counter()
        assert _kept(path) == (OBJECTS, None)
        seconds.append(time.perf_counter() - started)
    assert seconds[1] < 2.0, seconds


def test_the_pre_scan_finds_references_with_or_without_a_namespace_prefix_and_nothing_in_text(tmp_path: Path) -> None:
    """What a later <Ref>/<TNRef> needs: after `<` or a prefix's `:`, object references and type-list references
    told apart; `Ref RefId="9"` written in a value is text, not a reference."""
    path = tmp_path / "refs.xml"
    path.write_text(
        '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04" xmlns:ps="x">'
        '<Obj RefId="0"><TN RefId="0"><T>A</T></TN><Props><S N="Note">see Ref RefId="9" there</S>'
        '<ps:Ref N="Other" RefId="3" /><Ref N="Again" RefId = "4"/></Props></Obj>'
        '<Obj RefId="1"><TNRef RefId="0" /><ps:TNRef RefId="7" /></Obj></Objs>',
        encoding="utf-8",
    )
    scan = ClixmlReader(path).pre_scan()
    assert scan.needed_objects == frozenset({"3", "4"}) and scan.needed_types == frozenset({"0", "7"})
