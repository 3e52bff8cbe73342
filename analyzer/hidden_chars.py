"""Characters a reader cannot see: controls, bidirectional overrides, zero-width and other format characters.

A value in a customer's export may hold any of them. Shown raw, a right-to-left override reorders what a reviewer
reads (`exe.txt` can show as `txt.exe`), a zero-width space makes two different names look the same, and a
control character can drive a terminal. This module names them once, for the reports (which show them as
visible escapes) and for remediation commands (which are not offered for copy-paste when a value holds one).

The set is Unicode's Cc (controls), Cf (format), Zl and Zp (line and paragraph separators) and Cs (lone
surrogates), written out as ranges so that nothing is computed at start-up; `tests/report/test_hostile_text.py`
checks it against `unicodedata` of the running Python.
"""

from __future__ import annotations

import re

# Cc, Cf, Zl, Zp and Cs of Unicode 15 (Python 3.11–3.13), as code point ranges.
HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)

HIDDEN_CLASS = "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in HIDDEN_RANGES) + "]"
HIDDEN = re.compile(HIDDEN_CLASS)

# Bidirectional embeddings, overrides and isolates: the characters that reorder text on screen.
BIDI_CONTROLS = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def hidden_characters(text: str) -> list[str]:
    """The distinct hidden characters in `text`, in order of appearance, as `U+XXXX`."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in HIDDEN.findall(text)))


def escaped(character: str) -> str:
    """One hidden character as a visible escape: `<U+202E>`."""
    return f"<U+{ord(character):04X}>"
