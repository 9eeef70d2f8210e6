"""The build context as the builder sees it: .dockerignore rules and the files a COPY source names.

.dockerignore follows Docker's patternmatcher, not gitignore: patterns are relative to the context root
(a pattern without a slash does not match at any depth), `**` matches any number of directories, `!`
re-includes, the last matching pattern wins, and a path is excluded when one of its parent directories
is. pathspec implements gitignore's rules, which differ on exactly those points, so the translation to
regular expressions is written here.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path


def _translate(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i : i + 2] == "**":
                i += 2
                if pattern[i : i + 1] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass
class Ignore:
    rules: list[tuple[re.Pattern[str], bool]] = field(default_factory=list)  # (pattern, excludes)

    @classmethod
    def parse(cls, text: str) -> Ignore:
        rules = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:].strip()
            line = posixpath.normpath(line).lstrip("/")
            if line in ("", "."):
                continue
            rules.append((_translate(line), not negate))
        return cls(rules)

    def excluded(self, rel: str) -> bool:
        """True when the builder leaves `rel` (a path relative to the context) out of the context."""
        parts = rel.split("/")
        result = False
        for pattern, excludes in self.rules:
            # A rule matches the path itself or any of its parent directories.
            for k in range(1, len(parts) + 1):
                if pattern.match("/".join(parts[:k])):
                    result = excludes
                    break
        return result


@dataclass
class BuildContext:
    root: Path
    ignore: Ignore

    @classmethod
    def open(cls, root: Path) -> BuildContext:
        try:
            text = (root / ".dockerignore").read_text("utf-8", "replace")
        except OSError:
            text = ""
        return cls(root, Ignore.parse(text))

    def files(self, source: str) -> list[str] | None:
        """Context-relative regular files a COPY source brings in; None when it cannot be known."""
        if source.startswith(("http://", "https://", "git@", "<<")) or "$" in source:
            return None
        rel = posixpath.normpath(source.lstrip("/")) if source not in (".", "./", "/") else "."
        if rel.startswith(".."):
            return None
        if any(ch in rel for ch in "*?["):
            return self._glob(rel)
        path = self.root / rel
        if path.is_dir() and not path.is_symlink():
            return self._walk("" if rel == "." else rel)
        if path.is_file() and not path.is_symlink() and not self.ignore.excluded(rel):
            return [rel]
        return []

    def _walk(self, top: str) -> list[str]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root / top):
            base = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            base = "" if base == "." else base
            dirnames.sort()
            for name in sorted(filenames):
                rel = f"{base}/{name}" if base else name
                full = self.root / rel
                if not full.is_symlink() and full.is_file() and not self.ignore.excluded(rel):
                    out.append(rel)
        return out

    def _glob(self, pattern: str) -> list[str]:
        rx = _translate(pattern)
        out = []
        for rel in self._walk(""):
            parts = rel.split("/")
            # A glob may name a directory, whose files then all come along.
            if any(rx.match("/".join(parts[:k])) for k in range(1, len(parts) + 1)):
                out.append(rel)
        return out

    def size(self, source: str) -> int | None:
        found = self.files(source)
        if found is None:
            return None
        return sum((self.root / f).stat().st_size for f in found)
