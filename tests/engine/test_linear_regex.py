"""Patterns from rules and parameters run on RE2 only: what it refuses is named, and its matching is as documented."""

from __future__ import annotations

import time

import pytest

from analyzer.engine.linear_regex import PatternError, compile_linear


@pytest.fixture(autouse=True)
def _compiled_afresh() -> None:
    """Each test compiles its patterns itself, not from what an earlier test left in the cache."""
    compile_linear.cache_clear()


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        ("^(a+)+(?=b)", "lookaround"),
        ("x(?!y)", "lookaround"),
        ("(?<=a)b", "lookaround"),
        ("(?<!a)b", "lookaround"),
        (r"(a)\1", "back-references"),
        ("(?P<n>a)(?P=n)", "back-references"),
        (r"(?P<n>a)\k<n>", "back-references"),
        ("(?>ab)", "atomic groups"),
        ("a++", "atomic groups"),
        ("a{2}+", "atomic groups"),
    ],
)
def test_a_construct_re2_cannot_run_is_refused_by_name(pattern: str, named: str) -> None:
    with pytest.raises(PatternError) as refused:
        compile_linear(pattern)
    message = str(refused.value)
    assert message.startswith(f"regular expression {pattern!r} uses {named}")
    assert "cannot run in linear time (RE2): " in message
    assert not message.rstrip().endswith(":")  # RE2's own reason follows


def test_a_pattern_that_is_simply_wrong_is_refused_without_a_construct_named(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PatternError) as refused:
        compile_linear("(unclosed")
    assert capfd.readouterr().err == ""  # RE2's own logging stays off: the message is ours, once
    assert str(refused.value).startswith("regular expression '(unclosed' cannot run in linear time (RE2): missing )")


def test_matching_ignores_case_unless_asked() -> None:
    assert compile_linear("^contoso\\.com$").search("CONTOSO.com") is not None
    assert compile_linear("^contoso\\.com$", case_sensitive=True).search("CONTOSO.com") is None
    assert compile_linear("^contoso\\.com$", case_sensitive=True).search("contoso.com") is not None


def test_a_nested_quantifier_runs_in_linear_time() -> None:
    subject = "a" * 26 + "b"  # Python's backtracking `re` needs 2**26 steps here: seconds; RE2 microseconds
    started = time.perf_counter()
    assert compile_linear("^(a+)+$").search(subject) is None
    assert compile_linear("^(a+)+$").search("a" * 100_000) is not None
    assert time.perf_counter() - started < 0.5
