"""Property-based tests: escaping round-trips, and damaged real files only ever give located errors."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.readers.clixml import decode_string, encode_string, read_clixml
from tests.conftest import CSS
from tests.readers.damage import assert_only_located_errors

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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_byte_mutations_give_only_located_errors(seed: bytes, flips: list[tuple[float, int]]) -> None:
    content = bytearray(seed)
    for where, byte in flips:
        content[int(where * len(content))] = byte
    assert_only_located_errors(read_clixml, bytes(content))


@settings(max_examples=100, deadline=None)
@given(seed=st.sampled_from(SEEDS), cut=st.floats(0, 1))
def test_truncations_give_only_located_errors(seed: bytes, cut: float) -> None:
    at = int(cut * len(seed))
    # Before the closing </Objs> (UTF-16 or UTF-8, whitespace after it aside), a cut is always damage to report.
    closing = max(seed.rfind(b"</Objs>"), seed.rfind("</Objs>".encode("utf-16-le")))
    assert closing > 0
    assert_only_located_errors(read_clixml, seed[:at], must_fail=at <= closing)


@settings(max_examples=100, deadline=None)
@given(seed=st.sampled_from(SEEDS), where=st.floats(0, 1), junk=st.binary(min_size=1, max_size=40))
def test_insertions_give_only_located_errors(seed: bytes, where: float, junk: bytes) -> None:
    at = int(where * len(seed))
    assert_only_located_errors(read_clixml, seed[:at] + junk + seed[at:])
