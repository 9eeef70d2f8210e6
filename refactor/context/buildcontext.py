"""The build context as the builder sees it: files minus what `.dockerignore` excludes, and where COPY puts them.

`.dockerignore` follows moby/patternmatcher (what BuildKit and the classic builder use), not gitignore:
patterns are relative to the context root (a leading `/` is dropped, `*.pyc` matches only at the root),
`*` and `?` stop at `/`, `**` matches any number of directories, `!` re-includes, the last matching
pattern wins, and a pattern that matches a directory matches everything below it. BuildKit prefers
`<Dockerfile name>.dockerignore` next to the Dockerfile over the one at the context root.

Nothing here writes to the context or follows a symlink out of it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.dockerfile.resolve import is_under, normalize

if TYPE_CHECKING:
    import pathspec

_GLOB = re.compile(r"[*?\[]")
_ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tzst|tar\.(gz|bz2|xz|zst|lz4))$")


class ContextError(Exception):
    """The context cannot answer (a source is missing, escapes the context, or is a remote URL)."""


def _pattern_regex(pattern: str) -> str:
    """A Docker ignore pattern as a regex over slash paths, matching the path or anything below it."""
    out = ["^"]
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                    out.append("(.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(ch)  # unterminated: the regex fails to compile, as Go's does for the builder
            else:
                # Go's regexp (patternmatcher) and filepath.Match (COPY) negate a class with `^` only; `[!a]`
                # is the set of `!` and `a`, not fnmatch's negation.
                out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("(/.*)?$")
    return "".join(out)


def read_ignore(text: str, name: str = ".dockerignore") -> pathspec.PathSpec:
    """The patterns of an ignore file; raises DockerfixError for a pattern the builder rejects (it fails the build)."""
    # Imported here: pathspec pulls in asyncio (~30 ms), which only contexts with an ignore file need.
    import pathspec
    from pathspec.pattern import RegexPattern

    patterns: list[RegexPattern] = []
    for n, raw in enumerate(text.splitlines()):
        line = raw.lstrip("\ufeff") if n == 0 else raw
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        include = True  # "matches" means excluded from the context
        shown = line
        if line.startswith("!"):
            include = False
            line = line[1:].strip()
        if not line:
            # patternmatcher: `illegal exclusion pattern: "!"`.
            raise DockerfixError(f"{name}: the pattern {shown!r} names no path; the builder rejects it")
        line = posixpath.normpath(line)
        if len(line) > 1 and line.startswith("/"):
            line = line.lstrip("/") or "/"
        try:
            rx = re.compile(_pattern_regex(line))
        except re.error:
            raise DockerfixError(f"{name}: the pattern {shown!r} is malformed; the builder rejects it") from None
        patterns.append(RegexPattern(rx, include))
    return pathspec.PathSpec(patterns)


@dataclass
class Context:
    root: Path
    ignore: pathspec.PathSpec | None = None
    ignore_file: str | None = None  # which file the patterns came from, for messages
    exceptions: bool = False  # the ignore file has `!` patterns, so an excluded directory may still send files
    _cache: dict[str, str | None] = field(default_factory=dict)

    def excluded(self, rel: str) -> bool:
        return bool(rel) and self.ignore is not None and self.ignore.match_file(rel)

    def _path(self, rel: str) -> Path | None:
        if rel.startswith("/") or rel == ".." or rel.startswith("../"):
            return None
        return self.root / rel if rel else self.root

    def kind(self, rel: str) -> str | None:
        """'file', 'dir' or 'link' for a path present in the context and not excluded; else None."""
        p = self._path(rel)
        if p is None:
            return None
        try:
            if p.is_symlink():
                k = "link"
            elif p.is_dir():
                k = "dir"
            elif p.is_file():
                k = "file"
            else:
                return None
        except OSError:
            return None
        if not self.excluded(rel):
            return k
        # An excluded directory still sends the children an exception (`!`) re-includes.
        return "dir" if k == "dir" and self._any_included_below(rel) else None

    def _any_included_below(self, rel: str, limit: int = 20000) -> bool:
        p = self._path(rel)
        if p is None or not self.exceptions:
            return False
        count = 0
        for child in p.rglob("*"):
            count += 1
            if count > limit:
                return True  # too many to tell: assume something is sent
            r = child.relative_to(self.root).as_posix()
            if not self.excluded(r):
                return True
        return False

    def has(self, rel: str) -> bool:
        """Anything at `rel` or below it is sent to the builder."""
        return self.kind(rel) is not None

    def linked(self, rel: str) -> bool:
        """`rel` or one of its parent directories is a symlink (COPY would copy the link, not the file)."""
        parts = [p for p in rel.split("/") if p]
        for i in range(1, len(parts) + 1):
            p = self._path("/".join(parts[:i]))
            if p is not None and p.is_symlink():
                return True
        return False

    def read(self, rel: str) -> str | None:
        """The text of a regular file the builder would send; None when absent, excluded, a link or not UTF-8."""
        if rel in self._cache:
            return self._cache[rel]
        text = None
        if self.kind(rel) == "file" and not self.linked(rel):
            p = self._path(rel)
            try:
                text = p.read_bytes().decode("utf-8") if p is not None else None
            except (OSError, UnicodeDecodeError):
                text = None
        self._cache[rel] = text
        return text

    def glob(self, pattern: str) -> list[str]:
        """Context paths a COPY source with wildcards matches (each component matched like filepath.Match)."""
        parts = [p for p in pattern.split("/") if p and p != "."]
        found = [""]
        for part in parts:
            nxt: list[str] = []
            for base in found:
                if not _GLOB.search(part):
                    cand = f"{base}/{part}" if base else part
                    if self._path(cand) is not None and self._path(cand).exists():  # type: ignore[union-attr]
                        nxt.append(cand)
                    continue
                try:
                    rx = re.compile(_pattern_regex(part).replace("(/.*)?$", "$"))
                except re.error:
                    return []  # a malformed pattern: the builder's COPY fails, nothing is copied
                d = self._path(base)
                if d is None or not d.is_dir():
                    continue
                for child in sorted(d.iterdir()):
                    if rx.match(child.name):
                        nxt.append(f"{base}/{child.name}" if base else child.name)
            found = nxt
        return [f for f in found if self.has(f)]


    def files(self, source: str) -> list[str] | None:
        """Regular files a COPY source sends (a directory: all files below it); None when unknowable."""
        if is_remote(source) or source.startswith("<<") or "$" in source:
            return None
        rel = source.strip("/")
        rel = "" if rel in (".", "") else rel.removeprefix("./")
        tops = self.glob(rel) if _GLOB.search(rel) else [rel]
        out: list[str] = []
        for top in tops:
            k = self.kind(top) if top else "dir"
            if k == "file":
                out.append(top)
            elif k == "dir":
                base = self._path(top)
                for child in sorted(base.rglob("*")) if base is not None else ():
                    r = child.relative_to(self.root).as_posix()
                    if child.is_file() and not child.is_symlink() and not self.excluded(r):
                        out.append(r)
        return out

    def size(self, source: str) -> int | None:
        found = self.files(source)
        if found is None:
            return None
        return self.bytes(found)

    def bytes(self, files: list[str]) -> int:
        """The total size of these context files (paths relative to the root)."""
        return sum((self.root / f).stat().st_size for f in files)


def load(root: Path, dockerfile: Path | None = None) -> Context:
    candidates = []
    if dockerfile is not None:
        candidates.append(dockerfile.parent / (dockerfile.name + ".dockerignore"))
    candidates.append(root / ".dockerignore")
    for c in candidates:
        try:
            # The builder reads patterns as bytes; undecodable bytes stay as the surrogates Path uses for them.
            text = c.read_bytes().decode("utf-8", "surrogateescape")
        except OSError:
            continue
        spec = read_ignore(text, c.name)
        return Context(root, spec, c.name, exceptions=any(p.include is False for p in spec.patterns))
    return Context(root)


@dataclass
class Source:
    rel: str  # context-relative path ("" is the root)
    kind: str  # "dir", "file" or "link"
    target: str  # absolute image path: where a directory's contents go, or the file's path
    alt: str | None = None  # a single file copied to a destination without "/" lands here if that is a directory


@dataclass
class CopyMap:
    """Where one COPY/ADD from the context puts things, as far as the context says."""

    dest: str
    sources: list[Source]

    def locate(self, path: str, ctx: Context) -> str | None:
        """The context path this COPY writes at image path `path`, or None.

        The builder copies the sources in order, so the last source that sends something at `path` wins; a
        directory source sends only what the context holds below it, so one without `path` leaves an earlier
        source's file in place (`COPY requirements.txt src ./` takes /app/requirements.txt from the first source
        unless the context has src/requirements.txt).
        """
        for s in reversed(self.sources):
            if s.kind == "dir" and is_under(path, s.target):
                rel = posixpath.relpath(path, s.target)
                found = s.rel if rel == "." else (f"{s.rel}/{rel}" if s.rel else rel)
                if ctx.has(found):
                    return found
            elif s.kind != "dir" and (path == s.target or path == s.alt):
                return s.rel
        return None

    def writes(self, path: str, ctx: Context) -> bool:
        """This COPY writes `path` or something below it."""
        for s in self.sources:
            for target in (s.target, s.alt):
                if target is None:
                    continue
                if is_under(target, path):
                    return True  # it creates `target` (and directories above it) inside `path`
                if s.kind == "dir" and is_under(path, target):
                    rel = posixpath.relpath(path, target)
                    if ctx.has(f"{s.rel}/{rel}" if s.rel else rel):
                        return True
        return False


def is_remote(src: str) -> bool:
    return "://" in src or src.startswith("git@")


def copy_map(sources: list[str], dest: str, dest_is_dir: bool, ctx: Context, add: bool) -> CopyMap:
    """Map expanded COPY/ADD sources onto the image; raises ContextError when the context cannot tell."""
    out: list[Source] = []
    expanded: list[str] = []
    for raw in sources:
        if is_remote(raw):
            raise ContextError(f"{raw} is fetched from the network")
        if ".." in raw.split("/"):
            raise ContextError(f"{raw} points outside the build context")
        rel = normalize("/" + raw).lstrip("/")
        if _GLOB.search(rel):
            matches = ctx.glob(rel)
            if not matches:
                raise ContextError(f"no file in the build context matches {raw}")
            expanded.extend(matches)
        else:
            expanded.append(rel)
    many = len(expanded) > 1 or dest_is_dir
    for rel in expanded:
        kind = ctx.kind(rel)
        if kind is None:
            raise ContextError(f"{rel or '.'} is not in the build context"
                               + (f" (or {ctx.ignore_file} excludes it)" if ctx.ignore is not None else ""))
        if add and kind == "file" and _ARCHIVE.search(rel):
            raise ContextError(f"ADD extracts the archive {rel}")
        if kind == "dir":
            out.append(Source(rel, kind, dest))
        elif many:
            out.append(Source(rel, kind, posixpath.join(dest, posixpath.basename(rel))))
        else:
            # `COPY file /dest`: a file at /dest, or /dest/file when /dest is already a directory.
            out.append(Source(rel, kind, dest, posixpath.join(dest, posixpath.basename(rel))))
    return CopyMap(dest, out)
