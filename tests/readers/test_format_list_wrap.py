"""Format-List values spread over lines, rejoined exactly (issue 17, item 2).

The files are written by `text_writers.format_list`, whose line breaking is a port of PowerShell's
StringManipulationHelper.GenerateLines (ComplexWriter.cs): word wrap for en, fr, de, it, pt and es sessions, a cut
at the width for every other language. The reader must give back each value exactly, at widths 80, 120 and 160,
whatever the length of the line a value was broken on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.readers.text import read_text
from analyzer.synthetic.text_writers import format_list, generate_lines

DN = (
    "CN=EX16A,CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,"
    "CN=First Organization,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=fabrikam,DC=com"
)
DOMAINS = [f"host{n}.mail.fabrikam.com" for n in range(12)]
VALUES = {
    "DistinguishedName": DN,
    "Banner": "The Microsoft Exchange POP3 service is ready. " * 5 + "Welcome.",
    "CertificateDomains": DOMAINS,
    "RawToken": "A1B2C3D4" * 40,  # one word longer than any line: cut mid-word in every culture
    "DisplayName": "受付 窓口 " * 30 + "終わり",  # wide characters: two cells each
    "Note": "first line\nsecond line",
}
WIDTHS = (80, 120, 160)
LANGUAGES = {"word-wrap (en)": "en", "word-wrap (de)": "de", "cut (ja)": "ja", "cut (nl)": "nl"}


def _read_back(tmp_path: Path, text: str) -> Mapping[str, object]:
    path = tmp_path / "fl.txt"
    path.write_text(text, encoding="utf-8")
    [record] = read_text(path).records
    return record.properties


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES.values(), ids=LANGUAGES.keys())
def test_every_value_comes_back_exactly(tmp_path: Path, width: int, language: str) -> None:
    text = format_list([(["X"], VALUES)], width=width, wrap_language=language, enumeration_limit=100)
    assert len(text.splitlines()) > len(VALUES) + 4  # the values did wrap
    properties = _read_back(tmp_path, text)
    for name, value in VALUES.items():
        assert properties[name] == value, name


def test_the_two_families_break_lines_differently() -> None:
    """The port itself, against what GenerateLines does: the space stays at the end of a word-wrapped line."""
    words = "The Microsoft Exchange POP3 service is ready."
    assert generate_lines(words, 20, word_wrap=True) == ["The Microsoft ", "Exchange POP3 ", "service is ready."]
    assert generate_lines(words, 20, word_wrap=False) == ["The Microsoft Exchan", "ge POP3 service is r", "eady."]
    assert generate_lines("abcdefghij klm", 4, word_wrap=True) == ["abcd", "efgh", "ij ", "klm"]
    assert generate_lines("受付受付受", 5, word_wrap=False) == ["受付", "受付", "受"]  # one cell short: a wide char
    assert generate_lines("one\ntwo", 20, word_wrap=True) == ["one", "two"]
    assert generate_lines("co\u00adoperation", 3, word_wrap=True) == ["co-", "operation"[:3], "rat", "ion"]


def test_a_word_wrapped_line_short_of_the_width_is_not_taken_for_a_newline(tmp_path: Path) -> None:
    """The issue's case: a DistinguishedName wrapped at its spaces, each line shorter than the file's widest,
    was rejoined with a line break and no longer matched."""
    text = format_list([(["X"], {"DistinguishedName": DN, "Wide": "x" * 200})], width=120, wrap_language="en")
    lines = text.splitlines()
    assert any(line.endswith(" ") and len(line) < max(map(len, lines)) for line in lines)
    assert _read_back(tmp_path, text)["DistinguishedName"] == DN


def test_a_file_that_lost_its_trailing_spaces_still_rejoins_word_wraps(tmp_path: Path) -> None:
    """Pasted into a web page or an issue tracker, the spaces at line ends are gone: a line the next word would
    not have fitted on is a word wrap; a short line followed by one that would have fitted is a newline."""
    values = {"DistinguishedName": DN, "Note": "first line\nsecond line"}
    text = format_list([(["X"], values)], width=80, wrap_language="en")
    stripped = "\r\n".join(line.rstrip() for line in text.split("\r\n"))
    properties = _read_back(tmp_path, stripped)
    assert properties["DistinguishedName"] == DN
    assert properties["Note"] == "first line\nsecond line"


_WORD = st.text(st.sampled_from("abcXYZ019=,.()受付"), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(_WORD, min_size=1, max_size=40),
    gaps=st.lists(st.sampled_from([" ", " ", " ", "  "]), min_size=40, max_size=40),
    width=st.sampled_from(WIDTHS),
    language=st.sampled_from(["en", "ja"]),
)
def test_any_single_line_value_round_trips(
    tmp_path_factory: pytest.TempPathFactory, words: list[str], gaps: list[str], width: int, language: str
) -> None:
    value = "".join(word + gap for word, gap in zip(words, gaps, strict=False)).rstrip(" ")
    text = format_list(
        [(["X"], {"Name": "x", "Value": value, "Filler": "z" * 400})], width=width, wrap_language=language
    )
    path = tmp_path_factory.mktemp("wrap") / "fl.txt"
    path.write_text(text, encoding="utf-8")
    [record] = read_text(path).records
    assert record.properties["Value"] == value
