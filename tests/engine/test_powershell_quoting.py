"""Remediation commands: no value can leave its quoted string, and no hidden character is offered for pasting.

The oracle (`read_single_quoted` in fuzz/harness.py, shared with the `remediation` fuzz target) reads a
single-quoted literal by PowerShell's documented rule, written from the language's own definition rather than
from the code under test: any of `'`, U+2018, U+2019, U+201A, U+201B opens and closes the
string (`IsSingleQuote`), and inside it two quote characters in a row stand for the second one. A grammar that
knows only the ASCII quote cannot catch the curly-quote escape, so none is used.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.engine.evaluate import _render_column, render, render_commands
from analyzer.engine.powershell import INERT_MARK, is_inert, quote, quote_column
from tests.conftest import fuzz_harness

_HARNESS = fuzz_harness()
POWERSHELL_SINGLE_QUOTES = frozenset(_HARNESS.POWERSHELL_SINGLE_QUOTES)
read_single_quoted: Callable[[str], tuple[str, str]] = _HARNESS.read_single_quoted


QUOTE_HEAVY = st.text(alphabet=st.sampled_from(["'", "\u2018", "\u2019", "\u201a", "\u201b", "a", ";", " ", "$"]))


@settings(max_examples=400)
@given(st.one_of(st.text(), QUOTE_HEAVY))
def test_any_value_reads_back_as_itself_and_nothing_follows(value: str) -> None:
    literal = quote(value)
    assert read_single_quoted(literal) == (value, "")


@settings(max_examples=200)
@given(st.lists(st.one_of(st.text(), QUOTE_HEAVY), min_size=1, max_size=20))
def test_the_column_path_quotes_exactly_as_the_single_value_path(values: list[str]) -> None:
    column = pd.Series(values, dtype="string")
    assert quote_column(column).tolist() == [quote(v) for v in values]


HOSTILE = "x\u2019; Remove-Mailbox -Identity * -Confirm:$false; Write-Output \u2019"


def test_a_curly_quote_cannot_end_the_identity_in_a_command() -> None:
    command = render("Set-CASMailbox -Identity {Name} -PopEnabled $true", {"Name": HOSTILE}, quote=True)
    prefix = "Set-CASMailbox -Identity "
    assert command.startswith(prefix)
    value, rest = read_single_quoted(command[len(prefix) :])
    assert value == HOSTILE
    assert rest == " -PopEnabled $true"


def test_each_kind_of_single_quote_is_doubled_as_itself() -> None:
    for mark in POWERSHELL_SINGLE_QUOTES:
        assert quote(f"a{mark}b") == f"'a{mark}{mark}b'"


def test_the_vectorised_renderer_quotes_curly_quotes_too() -> None:
    rows = pd.DataFrame({"Name": pd.Series([HOSTILE, "plain"], dtype="string")})
    commands = _render_column("Set-User -Identity {Name}", rows, {}, quote=True).tolist()
    assert commands[1] == "Set-User -Identity 'plain'"
    value, rest = read_single_quoted(commands[0][len("Set-User -Identity ") :])
    assert (value, rest) == (HOSTILE, "")


def test_a_value_with_a_bidi_override_is_shown_as_text_with_a_warning() -> None:
    name = "admin\u202egnp.exe"
    command = render_commands("Set-CASMailbox -Identity {Name} -PopEnabled $true", [{"Name": name}])
    assert is_inert(command)
    lines = command.split("\n")
    assert lines[0].startswith(INERT_MARK) and "U+202E" in lines[0]
    assert lines[1] == "# Set-CASMailbox -Identity 'admin<U+202E>gnp.exe' -PopEnabled $true"
    assert all(line.startswith("#") for line in lines)  # pasted, it runs nothing
    assert "\u202e" not in command


def test_zero_width_and_line_breaks_in_values_make_a_command_inert_in_both_paths() -> None:
    names = ["a\u200bb", "c\nSet-Mailbox x", "plain\u2019"]
    rows = pd.DataFrame({"Name": pd.Series(names, dtype="string")})
    vectorised = _render_column("Set-User -Identity {Name}", rows, {}, quote=True).tolist()
    one_by_one = [render_commands("Set-User -Identity {Name}", [{"Name": n}]) for n in names]
    assert vectorised == one_by_one
    assert [is_inert(c) for c in vectorised] == [True, True, False]
    two = render_commands("Set-User -Identity {Name}", [{"Name": "a\u202eb\u200bc"}]).split("\n")[0]
    assert "(U+202E, U+200B)" in two  # every hidden character is named, in order
    assert "U+200B" in vectorised[0] and "U+000A" in vectorised[1]
    assert vectorised[1].split("\n")[1:] == ["# Set-User -Identity 'c<U+000A>Set-Mailbox x'"]


def test_several_commands_of_one_finding_are_one_a_line_and_inert_together() -> None:
    rows = [{"Name": "ok"}, {"Name": "bad\u2066"}, {"Name": "ok"}]
    command = render_commands("Get-User {Name}", rows)
    assert command.split("\n")[1:] == ["# Get-User 'ok'", "# Get-User 'bad<U+2066>'"]
    assert render_commands("Get-User {Name}", [{"Name": "a"}, {"Name": "b"}]) == "Get-User 'a'\nGet-User 'b'"
