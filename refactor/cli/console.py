"""The rich consoles every command prints through: no colour and no styles (bold, dim) under --no-color/NO_COLOR."""

from __future__ import annotations

import sys
from typing import Any

EARLY_STATUS = False  # main() wrote "finding files…" on the terminal before anything was imported


def clear_early_status() -> None:
    global EARLY_STATUS
    if EARLY_STATUS:
        EARLY_STATUS = False
        try:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def console(stderr: bool = False, no_color: bool = False) -> Any:
    from rich.console import Console

    from dockerfix.refactor.cli.options import no_color as plain

    if plain(no_color):
        # color_system=None renders no escape codes at all; rich's own NO_COLOR support keeps bold and dim.
        return Console(stderr=stderr, highlight=False, soft_wrap=True, color_system=None, no_color=True)
    return Console(stderr=stderr, highlight=False, soft_wrap=True)
