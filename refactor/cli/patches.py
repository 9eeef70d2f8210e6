"""`fix --patch-dir DIR`: one patch and one PR description per git repository among the paths.

`DIR/<repo>.patch` holds paths relative to that repository's root, so `git apply` works from there;
`DIR/<repo>.md` is the PR body for the same files. Files outside any repository are grouped under the folder
that was named (the current directory for named files). Names that collide get `-2`, `-3`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from dockerfix.refactor.cli.batch import FileResult
from dockerfix.refactor.cli.discover import git_root
from dockerfix.refactor.errors import DockerfixError


def group(results: Sequence[FileResult], paths: Sequence[str]) -> dict[Path, list[FileResult]]:
    """Results by the root their patch applies from (a repository root, else the named folder)."""
    named = [Path(os.path.abspath(p)) for p in paths if os.path.isdir(p)]
    roots: dict[Path, list[FileResult]] = {}
    cache: dict[str, Path | None] = {}
    for r in results:
        where = Path(r.abspath or os.path.abspath(r.path))
        folder = str(where.parent)
        if folder not in cache:
            cache[folder] = git_root(where.parent)
        root = cache[folder]
        if root is None:
            inside = [n for n in named if n == where.parent or n in where.parents]
            root = max(inside, key=lambda n: len(n.parts)) if inside else Path.cwd()
        roots.setdefault(root, []).append(r)
    return roots


def relative(r: FileResult, root: Path) -> FileResult:
    """The same result with its path, and its diff's a/ b/ names, relative to `root`."""
    rel = os.path.relpath(r.abspath or os.path.abspath(r.path), root).replace(os.sep, "/")
    diff = r.diff
    if diff:
        lines = diff.split("\n")
        lines[0], lines[1] = f"--- a/{rel}", f"+++ b/{rel}"
        diff = "\n".join(lines)
    return dataclasses.replace(r, path=rel, diff=diff)


def write_patches(results: Sequence[FileResult], directory: Path, paths: Sequence[str],
                  skipped: Sequence[tuple[Path, str]] = ()) -> list[str]:
    """Write the patches and PR bodies; one line per repository saying what was written."""
    from dockerfix.refactor.cli.prbody import pr_body

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DockerfixError(f"--patch-dir {directory}: cannot create: {exc.strerror}") from None
    lines: list[str] = []
    used: set[str] = set()
    for root, group_results in sorted(group(results, paths).items()):
        rel = [relative(r, root) for r in group_results]
        name = _unique(root.name or "root", used)
        skipped_here = sum(1 for p, _ in skipped if root == Path(os.path.abspath(p)).parent
                           or root in Path(os.path.abspath(p)).parents)
        patch = "".join(r.diff for r in rel)
        try:
            if patch:
                (directory / f"{name}.patch").write_text(patch, encoding="utf-8", newline="")
            (directory / f"{name}.md").write_text(pr_body(rel, skipped_here, verified=any(r.verified for r in rel)),
                                                  encoding="utf-8")
        except OSError as exc:
            raise DockerfixError(f"--patch-dir {directory}: cannot write: {exc.strerror}") from None
        changed = sum(1 for r in rel if r.changed)
        if patch:
            lines.append(f"{root}: {directory / (name + '.patch')} ({changed} file{'s' if changed != 1 else ''} "
                         f"changed; git apply it from there), {directory / (name + '.md')}")
        else:
            lines.append(f"{root}: nothing to change; {directory / (name + '.md')}")
    return lines


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}-{n}"
    used.add(candidate)
    return candidate
