"""One exception family. Every error knows where it happened, so the CLI can print `file:line: message`."""

from __future__ import annotations


class ExauditError(Exception):
    """Base of every error the project raises on purpose. The CLI catches this once and exits 2."""


class InputError(ExauditError):
    """An input file is damaged, unsafe or not what it claims to be.

    `line` is 1-based; 0 means the problem concerns the file as a whole (e.g. it is empty), and is not printed.
    """

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message
