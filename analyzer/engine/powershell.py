"""Values put into PowerShell remediation commands: quoted so that nothing in them is interpreted.

PowerShell's tokenizer takes five characters as a single quote — `'` and U+2018, U+2019, U+201A, U+201B
(`CharExtensions.IsSingleQuote`) — and inside a single-quoted string any of them, doubled, stands for itself
(`CodeGeneration.EscapeSingleQuotedStringContent` doubles each one). Doubling only the ASCII quote, as most code
does, lets a display name such as `x’; Remove-Mailbox …` close the string and run a second command.

A value that holds a character a reader cannot see (a bidirectional override, a zero-width space, a control or a
line break; `analyzer.hidden_chars`) cannot be checked by eye before it runs: such a command is made inert — each
line a PowerShell comment, the hidden characters shown as `<U+202E>` — with a first line that says why.
"""

from __future__ import annotations

import re

import pandas as pd

from analyzer.hidden_chars import HIDDEN, HIDDEN_CLASS, escaped

SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_QUOTE = re.compile(f"([{SINGLE_QUOTES}])")
_QUOTE_PATTERN = _QUOTE.pattern
INERT_MARK = "# exaudit: not offered for copy-paste"


def quote(text: str) -> str:
    """`text` as a PowerShell single-quoted string literal."""
    return "'" + _QUOTE.sub(r"\1\1", text) + "'"


def quote_column(column: pd.Series) -> pd.Series:
    """`quote` for a string column."""
    return "'" + column.str.replace(_QUOTE_PATTERN, r"\1\1", regex=True) + "'"


def has_hidden(column: pd.Series) -> pd.Series:
    """Per row, whether the string column holds a hidden character."""
    return column.str.contains(HIDDEN_CLASS, regex=True, na=False)


def shown(text: str) -> str:
    """`text` with each hidden character written as `<U+XXXX>`."""
    return HIDDEN.sub(lambda match: escaped(match.group()), text)


def inert(commands: str, found: list[str]) -> str:
    """Commands (one a line) shown as text only: a warning line naming the hidden characters `found` in their
    values, then each line commented out. The values must already be `shown`."""
    body = "\n".join(f"# {line}" for line in commands.split("\n"))
    return f"{INERT_MARK}: a value in it holds hidden characters ({', '.join(found)}); check the object by hand\n{body}"


def is_inert(command: str | None) -> bool:
    return command is not None and command.startswith(INERT_MARK)
