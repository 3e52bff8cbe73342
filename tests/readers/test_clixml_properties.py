"""Property-based tests: escaping round-trips, and damaged real files only ever give located errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.errors import InputError
from analyzer.readers.clixml import decode_string, encode_string, read_clixml
from tests.conftest import CSS

SEED_FILES = [
    CSS / "Diagnostics__HealthChecker__Tests__DataCollection__E19__Exchange__GetServiceMitigation.xml",
    CSS / "Shared__Tests__E19CU11AdminDisplayVersion.xml",
    CSS / "Admin__MonitorExchangeAuthCertificate__ConfigurationAction__Tests__Data__NewExchangeAuthCertificate.xml",
]
SEEDS = [path.read_bytes() for path in SEED_FILES]


@given(st.text())
def test_any_string_survives_escaping(text: str) -> None:
    assert decode_string(encode_string(text)) == text


@given(st.text(alphabet=st.sampled_from(["_", "x", "X", "0", "0", "5", "F", "D", "8", "a"])))
def test_escaping_round_trip_on_escape_like_text(text: str) -> None:
    assert decode_string(encode_string(text)) == text


def _read_all(content: bytes) -> None:
    """Read a damaged file to the end: only the project's own located error may come out."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.xml"
        path.write_bytes(content)
        problem: InputError | None = None
        try:
            for _record in read_clixml(path):
                pass
        except InputError as error:
            problem = error
        if problem is not None:
            assert problem.path == str(path)
            assert problem.line >= 0
            assert str(problem).startswith(f"{path}:{problem.line}: ")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_byte_mutations_give_only_located_errors(seed: bytes, flips: list[tuple[float, int]]) -> None:
    content = bytearray(seed)
    for where, byte in flips:
        content[int(where * len(content))] = byte
    _read_all(bytes(content))


@settings(max_examples=100, deadline=None)
@given(seed=st.sampled_from(SEEDS), cut=st.floats(0, 1))
def test_truncations_give_only_located_errors(seed: bytes, cut: float) -> None:
    _read_all(seed[: int(cut * len(seed))])


@settings(max_examples=100, deadline=None)
@given(seed=st.sampled_from(SEEDS), where=st.floats(0, 1), junk=st.binary(min_size=1, max_size=40))
def test_insertions_give_only_located_errors(seed: bytes, where: float, junk: bytes) -> None:
    at = int(where * len(seed))
    _read_all(seed[:at] + junk + seed[at:])
