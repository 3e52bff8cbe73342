"""Text from an export, shown to a person: hidden characters made visible instead of obeyed.

A value in a customer's export may hold any character. An ESC in a display name would reach the terminal of
whoever reads the console output or prints a Markdown or CSV report (escape sequences can retitle the window,
rewrite lines or set the clipboard); NUL and other controls are not allowed in HTML or XML. Each C0 control but
tab, line feed and carriage return becomes its Unicode Control Picture (␀, ␛, …), DEL becomes ␡, and a C1 control
(0x80–0x9F, among them the one-byte CSI some terminals obey) becomes U+FFFD: what was there shows, and does nothing.
Bidirectional overrides and isolates, zero-width and other format characters, line and paragraph separators
(`analyzer.hidden_chars`) become `<U+202E>`: a reviewer sees that they are there and in which order the text
really runs. JSON keeps every value exactly (it escapes controls itself).
"""

from __future__ import annotations

from typing import Any

from analyzer.hidden_chars import HIDDEN_RANGES, escaped

_FORMAT = {
    code: escaped(chr(code))
    for first, last in HIDDEN_RANGES
    for code in range(first, last + 1)
    if code > 0x9F  # the controls have their own pictures, below
}
_PICTURES = str.maketrans(
    {code: 0x2400 + code for code in range(0x20) if chr(code) not in "\t\n\r"}
    | {0x7F: 0x2421}
    | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
    | _FORMAT
)


def visible(value: Any) -> str:
    """The value as text, its hidden characters shown rather than obeyed (None is the empty string)."""
    text = "" if value is None else str(value)
    return text if text.isprintable() else text.translate(_PICTURES)
