"""The one exception type dockerfix raises on bad input."""

from __future__ import annotations


class DockerfixError(Exception):
    """Bad input or an unusable file: the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)
