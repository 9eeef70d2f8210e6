"""Finding Dockerfiles under the paths a user names.

Directories are walked honouring .gitignore files (with pathspec, git's own wildmatch rules) and
--exclude patterns; symlinks are not followed out of the named roots; VCS and dependency folders are
skipped. A file named explicitly is always taken, like ruff and black do.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"})


def is_dockerfile(name: str) -> bool:
    low = name.lower()
    return (
        low in ("dockerfile", "containerfile")
        or low.startswith("dockerfile.")
        or low.startswith("containerfile.")
        or low.endswith(".dockerfile")
        or low.endswith(".containerfile")
    )


def _gitignore(directory: Path):  # type: ignore[no-untyped-def]
    f = directory / ".gitignore"
    if not f.is_file():
        return None
    import pathspec

    try:
        lines = f.read_text("utf-8", "replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover(paths: Sequence[str], exclude: Sequence[str] = ()) -> Iterator[Path]:
    """Yield Dockerfiles in a stable order; explicit files as given, directories walked."""
    seen: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            key = os.path.abspath(p)
            if key not in seen:
                seen.add(key)
                yield p
            continue
        root = os.path.realpath(p)
        for f in _walk(p, root, exclude):
            key = os.path.abspath(f)
            if key not in seen:
                seen.add(key)
                yield f


def _excluded(rel: str, name: str, exclude: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(name, pat) for pat in exclude)


def _walk(top: Path, root: str, exclude: Sequence[str]) -> Iterator[Path]:
    # Each level keeps the .gitignore specs of the folders above it, relative to where they live.
    stack: list[tuple[Path, list[tuple[Path, object]]]] = [(top, [])]
    while stack:
        directory, specs = stack.pop()
        spec = _gitignore(directory)
        if spec is not None:
            specs = specs + [(directory, spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for e in entries:
            path = Path(e.path)
            rel = os.path.relpath(path, top)
            is_dir = e.is_dir(follow_symlinks=True)
            if is_dir and e.name in SKIP_DIRS:
                continue
            if _excluded(rel, e.name, exclude) or _ignored(path, is_dir, specs):
                continue
            if e.is_symlink():
                target = os.path.realpath(path)
                if target != root and not target.startswith(root.rstrip(os.sep) + os.sep):
                    continue  # leads outside the tree the user named
            if is_dir:
                subdirs.append(path)
            elif is_dockerfile(e.name):
                yield path
        stack.extend((d, specs) for d in reversed(subdirs))


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, object]]) -> bool:
    for base, spec in specs:
        rel = os.path.relpath(path, base).replace(os.sep, "/")
        if is_dir:
            rel += "/"
        if spec.match_file(rel):  # type: ignore[attr-defined]
            return True
    return False
