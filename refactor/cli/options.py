"""The settings of one `check`/`fix` run, gathered from the command line and the configuration file.

Every option of `check` and `fix` lands in `Settings`; `validate` turns the ones that name paths into one-line
errors before any file is read (a missing `--context`, `--pr-body` into a missing folder, a `--patch-dir` that is
a file). A new option is a field here and a parameter in main.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dockerfix.refactor.errors import DockerfixError

# Names ruff users know; `text` and `full` are the same output.
OUTPUT_FORMATS = ("full", "concise", "text", "json", "sarif", "github")


@dataclass
class Settings:
    mode: str  # check | fix | diff (fix --diff or fix --patch-dir: write nothing)
    paths: list[str] = field(default_factory=lambda: ["."])
    select: str | None = None
    ignore: str | None = None
    unsafe_fixes: bool | None = None
    exclude: list[str] = field(default_factory=list)
    output_format: str = "full"
    preview: bool = True
    exit_zero: bool = False
    quiet: bool = False
    context: Path | None = None
    pr_body: Path | None = None
    patch_dir: Path | None = None
    statistics: bool = False
    show_fixes: bool = False
    stdin_filename: str | None = None
    config: Path | None = None
    no_color: bool = False
    force_exclude: bool = False
    verify: bool = False
    builder: str | None = None
    print_diff: bool = False  # fix --diff (fix --patch-dir alone writes the patches only)
    base_image: list[str] = field(default_factory=list)  # --base-image [NAME=]PATH, repeatable
    local_bases: bool = False  # --local-bases: read base images from a local daemon or store

    @property
    def fmt(self) -> str:
        return "full" if self.output_format == "text" else self.output_format

    @property
    def text(self) -> bool:
        return self.fmt in ("full", "concise")


def no_color(flag: bool) -> bool:
    """--no-color, or NO_COLOR set to anything non-empty (https://no-color.org)."""
    return flag or bool(os.environ.get("NO_COLOR"))


def validate(s: Settings) -> None:
    if s.output_format not in OUTPUT_FORMATS:
        raise DockerfixError(f"unknown output format {s.output_format!r} (known: {', '.join(OUTPUT_FORMATS)})")
    if s.context is not None and not s.context.is_dir():
        raise DockerfixError(f"--context {s.context}: " + ("not a directory" if s.context.exists() else "no such directory"))
    if s.pr_body is not None:
        parent = s.pr_body.parent
        if s.pr_body.is_dir():
            raise DockerfixError(f"--pr-body {s.pr_body}: is a directory")
        if not parent.is_dir():
            raise DockerfixError(f"--pr-body {s.pr_body}: folder {parent} does not exist")
    if s.patch_dir is not None and s.patch_dir.exists() and not s.patch_dir.is_dir():
        raise DockerfixError(f"--patch-dir {s.patch_dir}: exists and is not a directory")
    if s.stdin_filename is not None and s.paths not in ([], ["-"], ["."]):
        raise DockerfixError("--stdin-filename reads stdin: give no paths (or -)")
    if s.verify and s.mode != "fix":
        raise DockerfixError("--verify builds before writing: use it with fix, without --diff/--patch-dir")
