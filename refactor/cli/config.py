"""Settings from `[tool.dockerfix]` in pyproject.toml or from `.dockerfix.toml`, found upward from a folder.

Command-line options override the file. Keys: select, ignore, unsafe-fixes, exclude.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from dockerfix.refactor.errors import DockerfixError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class Config:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    unsafe_fixes: bool = False
    exclude: list[str] = field(default_factory=list)
    source: Path | None = None


def load(start: Path) -> Config:
    start = start.resolve()
    for d in [start, *start.parents]:
        own = d / ".dockerfix.toml"
        if own.is_file():
            return _from(own, _read(own))
        py = d / "pyproject.toml"
        if py.is_file():
            table = _read(py).get("tool", {}).get("dockerfix")
            if table is not None:
                return _from(py, table)
    return Config()


def load_file(path: Path) -> Config:
    """`--config FILE`: a pyproject.toml (its [tool.dockerfix] table) or a .dockerfix.toml-style file."""
    if not path.is_file():
        raise DockerfixError(f"--config {path}: no such file")
    data = _read(path)
    if path.name == "pyproject.toml":
        return _from(path, data.get("tool", {}).get("dockerfix", {}))
    return _from(path, data)


def _read(path: Path) -> dict:  # type: ignore[type-arg]
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DockerfixError(f"{path}: invalid configuration: {exc}") from None


def _from(path: Path, table: dict) -> Config:  # type: ignore[type-arg]
    known = {"select", "ignore", "unsafe-fixes", "exclude"}
    unknown = set(table) - known
    if unknown:
        raise DockerfixError(f"{path}: unknown key(s) in dockerfix settings: {', '.join(sorted(unknown))}")

    def names(key: str) -> list[str]:
        v = table.get(key, [])
        if isinstance(v, str):
            v = [s.strip() for s in v.split(",") if s.strip()]
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise DockerfixError(f"{path}: {key} must be a list of strings")
        return v

    unsafe = table.get("unsafe-fixes", False)
    if not isinstance(unsafe, bool):
        raise DockerfixError(f"{path}: unsafe-fixes must be true or false")
    return Config(names("select"), names("ignore"), unsafe, names("exclude"), path)
