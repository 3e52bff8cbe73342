"""Regular expressions from rules and parameters, run only on a linear-time engine (RE2).

A pattern comes from a rule file or `--param`, and runs over every mailbox of an export a customer sent: Python's
backtracking `re` can take exponential time on a pattern such as `(a+)+$`. RE2 cannot, and refuses what would
need backtracking (lookaround, back-references) — so such a pattern is refused before anything is read, naming
the construct, rather than quietly run on a slower engine.
"""

from __future__ import annotations

import functools
import re

import re2

_CONSTRUCTS = (
    (re.compile(r"\(\?<?[=!]"), "lookaround ((?=, (?!, (?<=, (?<!)"),
    (re.compile(r"\\[1-9]|\(\?P=|\\k<"), "back-references (\\1, (?P=name))"),
    (re.compile(r"\(\?>|[*+?}][+]"), "atomic groups and possessive quantifiers"),
)


class PatternError(ValueError):
    """A pattern RE2 cannot run; the message names the construct when it is a known one."""


def _compile(pattern: str, case_sensitive: bool = False) -> re2._Regexp:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False  # RE2 would print its own message to stderr
    try:
        return re2.compile(pattern, options=options)
    except re2.error as error:
        detail = error.args[0].decode("utf-8", "replace") if error.args and isinstance(error.args[0], bytes) else error
        named = next((name for finder, name in _CONSTRUCTS if finder.search(pattern)), None)
        unsupported = f"uses {named}, which " if named else ""
        raise PatternError(
            f"regular expression {pattern!r} {unsupported}cannot run in linear time (RE2): {detail}"
        ) from None


# Cached by assignment rather than by decorator, so that a mutation tool can still reach the function body.
compile_linear = functools.cache(_compile)
