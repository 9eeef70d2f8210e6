"""Finding Dockerfiles under the paths a user names, and nothing else.

A file is a candidate by its name (`Dockerfile`, `Containerfile`, `Dockerfile.*`, `Containerfile.*`,
`*.Dockerfile`, `*.dockerfile`, `*.containerfile`), minus `*.dockerignore` (BuildKit's per-Dockerfile ignore
file) and names with a source or data extension (`dockerfile.go`, `Dockerfile.md`). A candidate found in a
directory is then read: it is skipped when its first instruction is not a Dockerfile keyword (a Python
`from x import y` is not a FROM either) or it holds template syntax (`{{ … }}`, `{% … %}`, `<%= … %>`).
Skipped files are counted; a file the user names explicitly is an error instead (unless `force_exclude`).

Inside a git work tree the repository's own view decides (`git ls-files -co --exclude-standard`, so the root's
and every nested `.gitignore` and `.git/info/exclude` apply, whatever the working directory; repositories
nested inside it are outside that view, as for git); repositories below a plain folder are each listed by git,
concurrently. Elsewhere, or without git, a walk honours every `.gitignore` from the repository root (or the
named folder) down. Only
directories and candidate names are ever matched against ignore rules. VCS and dependency folders are skipped,
and symlinks leading out of the named roots are not followed.
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"})
KEYWORDS = frozenset(
    "from arg run cmd label maintainer expose env add copy entrypoint volume user workdir onbuild stopsignal "
    "healthcheck shell".split()
)
# Extensions that make `dockerfile.go`, `Dockerfile.md`, `Dockerfile.dockerignore` something else.
NOT_DOCKERFILE_EXT = frozenset(
    "dockerignore go py pyc rs js mjs cjs ts tsx jsx java kt rb php c h cc cpp hpp cs swift scala lua pl sh bash zsh "
    "ps1 bat md rst txt adoc html css json yml yaml toml xml ini cfg lock orig rej patch diff swp bak png svg".split()
)
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|<%=?.*?%>|\{\{-?\s*$")
_READ_BYTES = 64 * 1024
Progress = Callable[[int], None]


def named_like(name: str) -> bool:
    """Named by the Dockerfile conventions (before the exceptions below)."""
    low = name.lower()
    return (low in ("dockerfile", "containerfile") or low.startswith(("dockerfile.", "containerfile."))
            or low.endswith((".dockerfile", ".containerfile")))


def is_dockerfile(name: str) -> bool:
    """A Dockerfile by its name alone (the conventions, minus ignore files and source/data files)."""
    low = name.lower()
    if low in ("dockerfile", "containerfile") or low.endswith((".dockerfile", ".containerfile")):
        return True
    return named_like(name) and low.rsplit(".", 1)[1] not in NOT_DOCKERFILE_EXT


def not_a_dockerfile(name: str, data: bytes) -> str | None:
    """Why a file is not a Dockerfile, or None. Reads only what the first instruction and templates need."""
    low = name.lower()
    if not is_dockerfile(name):
        ext = low.rsplit(".", 1)[-1] if "." in low else ""
        return f"not a Dockerfile (a .{ext} file)" if ext else "not a Dockerfile name"
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    first: str | None = None
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if first is None:
            first = s
        if _TEMPLATE.search(s) and (s.startswith(("{{", "{%", "<%")) or not s.lower().startswith(("run ", "cmd "))):
            return "not a Dockerfile (template syntax)"
    if first is None:
        return None  # empty or only comments: the parser will say what it is
    word = first.split(None, 1)[0].lower()
    if word not in KEYWORDS:
        return f"not a Dockerfile (starts with {first.split(None, 1)[0][:30]!r}, not an instruction)"
    if word == "from" and not _from_line(first):
        return "not a Dockerfile (its first line is not a FROM instruction)"
    return None


def _from_line(line: str) -> bool:
    words = [w for w in line.split()[1:] if not w.startswith("--")]
    return len(words) == 1 or (len(words) == 3 and words[1].lower() == "as") or line.rstrip().endswith("\\")


@dataclass
class Found:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # found in a folder, not a Dockerfile
    rejected: list[tuple[Path, str]] = field(default_factory=list)  # named explicitly, not a Dockerfile


def find(paths: Sequence[str], exclude: Sequence[str] = (), *, force_exclude: bool = False,
         progress: Progress | None = None, use_git: bool = True) -> Found:
    """Dockerfiles under `paths`, in a stable order; explicit files as given, directories searched."""
    found = Found()
    seen: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            key = os.path.abspath(p)
            if key in seen:
                continue
            seen.add(key)
            if force_exclude and _excluded(str(p), p.name, exclude):
                continue
            why = _check_explicit(p)
            if why is None:
                found.files.append(p)
            elif force_exclude:
                found.skipped.append((p, why))
            else:
                found.rejected.append((p, why))
            continue
        root = os.path.realpath(p)
        for f in _candidates(p, exclude, use_git):
            key = os.path.abspath(f)
            if key in seen:
                continue
            seen.add(key)
            why = _check_content(f, root=root)
            if why is None:
                found.files.append(f)
            else:
                found.skipped.append((f, why))
            if progress:
                progress(len(found.files))
    return found


def discover(paths: Sequence[str], exclude: Sequence[str] = ()) -> Iterator[Path]:
    """The Dockerfiles `find` accepts (explicit files always, as before)."""
    found = find(paths, exclude)
    yield from found.files
    for p, _why in found.rejected:
        yield p


def _check_explicit(path: Path) -> str | None:
    if not path.is_file():
        return None  # missing, a FIFO, a dangling link: reading it gives the precise error
    low = path.name.lower()
    if "." in low and low.rsplit(".", 1)[1] in NOT_DOCKERFILE_EXT and not is_dockerfile(path.name):
        return not_a_dockerfile(path.name, b"")
    return _check_content(path, by_name=False)


def _check_content(path: Path, by_name: bool = True, root: str | None = None) -> str | None:
    """Why a candidate is not a Dockerfile (None: it is, or reading it will give the error). With `root`, a
    symlink leading outside it is reported as such (found in a folder: skipped)."""
    if by_name and not is_dockerfile(path.name):
        return not_a_dockerfile(path.name, b"")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            return None  # reading it again later gives the one-line error
        if root is not None and not _inside(os.path.realpath(path), root):
            return "a symlink leading outside the folder searched"
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return None
    try:
        data = os.read(fd, _READ_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)
    if b"\x00" in data:
        return None  # binary: an error the user should see, not a silent skip
    return not_a_dockerfile(path.name if by_name else "Dockerfile", data)


def _excluded(rel: str, name: str, exclude: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(name, pat) for pat in exclude)


def git_root(directory: Path) -> Path | None:
    """The work tree holding `directory` (the nearest folder above with a `.git`), or None."""
    d = Path(os.path.abspath(directory))
    for c in [d, *d.parents]:
        if os.path.exists(os.path.join(c, ".git")):
            return c
    return None


@dataclass(frozen=True)
class _Repo:
    path: Path  # a repository met while walking a plain folder: listed by git, concurrently with the others


def _candidates(top: Path, exclude: Sequence[str], use_git: bool) -> Iterator[Path]:
    git = shutil.which("git") if use_git else None
    items = list(_items(top, exclude, git))
    if not any(isinstance(i, _Repo) for i in items):
        yield from items  # type: ignore[misc]
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        futures = {i: pool.submit(_git_listed, git, i.path) for i in items if isinstance(i, _Repo)}  # type: ignore[arg-type]
        for i in items:
            if not isinstance(i, _Repo):
                yield i
                continue
            listed = futures[i].result()
            if listed is None:  # not a usable work tree after all: walk it
                yield from _walk(i.path, os.path.realpath(i.path), exclude,
                                 _inherited_specs(i.path, git_root(i.path)), None)
            else:
                yield from _filter_listed(i.path, os.path.realpath(i.path), listed, exclude)


def _items(top: Path, exclude: Sequence[str], git: str | None) -> Iterator[Path | _Repo]:
    repo = git_root(top)
    if repo is not None and git:
        yield _Repo(top)
        return
    yield from _walk(top, os.path.realpath(top), exclude, _inherited_specs(top, repo), git)


# Only names that can be candidates leave git: `**` matches across folders, icase as the conventions do.
_GIT_PATHSPECS = [":(glob,icase)**/dockerfile", ":(glob,icase)**/dockerfile.*", ":(glob,icase)**/*.dockerfile",
                  ":(glob,icase)**/containerfile", ":(glob,icase)**/containerfile.*", ":(glob,icase)**/*.containerfile"]


def _git_listed(git: str, directory: Path) -> list[str] | None:
    """The candidate names git lists below `directory`: tracked ones and untracked ones it does not ignore.
    Repositories nested in it (submodules, clones inside a work tree) are outside its view, as for git."""
    try:
        proc = subprocess.run([git, "-C", str(directory), "ls-files", "-co", "--exclude-standard", "-z", "--",
                               *_GIT_PATHSPECS], capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return sorted(set(n for n in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if n))


def _filter_listed(top: Path, root: str, listed: list[str], exclude: Sequence[str]) -> Iterator[Path]:
    for rel in listed:
        parts = rel.split("/")
        if not named_like(parts[-1]) or any(p in SKIP_DIRS for p in parts[:-1]):
            continue
        if _excluded(rel, parts[-1], exclude):
            continue
        yield top / rel


def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


Spec = tuple[str, "_Rules"]  # (folder the .gitignore lives in, its compiled rules)


class _Rules:
    """One .gitignore, with pathspec's exact git semantics, compiled once per distinct content."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        import pathspec

        try:
            self.spec: Any = pathspec.GitIgnoreSpec.from_lines(lines)
        except Exception:  # noqa: BLE001 - a malformed .gitignore ignores nothing, as for git
            self.spec = None

    def check(self, rel: str) -> bool | None:
        return None if self.spec is None else self.spec.check_file(rel).include  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=256)
def _rules(lines: tuple[str, ...]) -> _Rules:
    return _Rules(lines)  # many repositories share the same templates


def _spec(directory: str) -> _Rules | None:
    f = os.path.join(directory, ".gitignore")
    try:
        with open(f, encoding="utf-8", errors="replace") as fh:
            lines = tuple(fh.read().splitlines())
    except OSError:
        return None
    return _rules(lines) if lines else None


def _inherited_specs(top: Path, repo: Path | None) -> list[Spec]:
    """The .gitignore files of the folders from the repository root down to (not including) `top`."""
    if repo is None:
        return []
    specs: list[Spec] = []
    here = Path(os.path.abspath(top))
    chain = [p for p in reversed(here.parents) if p == repo or repo in p.parents]
    for d in chain:
        s = _spec(str(d))
        if s is not None:
            specs.append((str(d), s))
    exclude_file = repo / ".git" / "info" / "exclude"
    if exclude_file.is_file():
        specs.insert(0, (str(repo), _rules(tuple(exclude_file.read_text("utf-8", "replace").splitlines()))))
    return specs


def _walk(top: Path, root: str, exclude: Sequence[str], inherited: list[Spec],
          git: str | None) -> Iterator[Path | _Repo]:
    top_s = str(top).rstrip(os.sep) or os.sep
    stack: list[tuple[str, list[Spec]]] = [(top_s, inherited)]
    while stack:
        directory, specs = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        if any(e.name == ".gitignore" for e in entries):
            spec = _spec(directory)
            if spec is not None:
                specs = [*specs, (directory, spec)]
        subdirs: list[str] = []
        for e in entries:
            is_dir = e.is_dir(follow_symlinks=True)
            if is_dir:
                if e.name in SKIP_DIRS:
                    continue
            elif not named_like(e.name):
                continue  # only candidates are ever matched against the rules
            rel = os.path.relpath(e.path, top_s)
            if _excluded(rel, e.name, exclude) or _ignored(e.path, is_dir, specs):
                continue
            if is_dir and e.is_symlink() and not _inside(os.path.realpath(e.path), root):
                continue  # leads outside the tree the user named (files: see _check_content)
            if is_dir:
                if git and os.path.exists(os.path.join(e.path, ".git")):
                    yield _Repo(Path(e.path))  # a repository below a plain folder: its own view decides
                    continue
                subdirs.append(e.path)
            else:
                yield Path(e.path)
        stack.extend((d, specs) for d in reversed(subdirs))


def _ignored(path: str, is_dir: bool, specs: list[Spec]) -> bool:
    ignored = False
    for base, spec in specs:
        prefix = base.rstrip(os.sep) + os.sep
        rel = path[len(prefix):] if path.startswith(prefix) else os.path.relpath(path, base)
        rel = rel.replace(os.sep, "/")
        if is_dir:
            rel += "/"
        include = spec.check(rel)
        if include is not None:
            ignored = include  # a deeper .gitignore overrides (including `!pattern`)
    return ignored
