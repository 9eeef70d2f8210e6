"""The builder's own word lexer for instruction arguments (COPY paths, ENV values, --chown values).

This is not bash: BuildKit's `shell.Lex` splits on unquoted blanks, honours '…' and "…", treats the
file's escape character (\\ or `) as the escape, and expands only $VAR, ${VAR} and the ${VAR:-x},
${VAR-x}, ${VAR:+x}, ${VAR+x} forms. No library implements these rules (shlex and bashlex follow
POSIX sh), so it is written here, small and limited to what the transforms need.

An expansion whose variable is unknown (an ARG without default, or a variable that may come from
the base image) makes the whole word unknown: a transform that needs it must refuse. ``Noting`` tells which
names an expansion read, so a caller can learn which (assumed) values a result rests on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Word:
    raw: str  # the text as written
    start: int  # offset in the string that was split
    end: int


class Unknown(Exception):
    """A variable with no value the analysis can know."""


class Noting(Mapping[str, Optional[str]]):
    """A view of an environment that notes the names an expansion looked up, in order."""

    def __init__(self, env: Mapping[str, str | None]) -> None:
        self._env = env
        self.read: list[str] = []

    def __getitem__(self, name: str) -> str | None:
        self.read.append(name)
        return self._env[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.read.append(name)
        return name in self._env

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


_PLAIN = re.compile(r"[^ \t\r\n]+")


def split_words(text: str, escape: str = "\\") -> list[Word]:
    """Split on unquoted blanks, keeping each word's raw text and position."""
    if "'" not in text and '"' not in text and escape not in text:
        # Nothing quoted or escaped (most arguments): a regex split is exact and far faster.
        return [Word(m.group(), m.start(), m.end()) for m in _PLAIN.finditer(text)]
    words: list[Word] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        start = i
        quote = ""
        while i < n:
            ch = text[i]
            if quote:
                if ch == escape and quote == '"' and i + 1 < n:
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
            elif ch == escape and i + 1 < n:
                i += 2
                continue
            elif ch in "'\"":
                quote = ch
            elif ch in " \t\r\n":
                break
            i += 1
        words.append(Word(text[start:i], start, i))
    return words


def expand(raw: str, env: Mapping[str, str | None], escape: str = "\\") -> str:
    """Unquote and expand one word as the builder does; raise Unknown for unknown variables."""
    out: list[str] = []
    i, n = 0, len(raw)
    quote = ""
    while i < n:
        ch = raw[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
            i += 1
            continue
        if ch == escape and i + 1 < n:
            nxt = raw[i + 1]
            if quote == '"' and nxt not in ('"', "$", escape):
                out.append(ch)
            out.append(nxt)
            i += 2
            continue
        if ch == '"':
            quote = "" if quote else '"'
            i += 1
            continue
        if ch == "'" and not quote:
            quote = "'"
            i += 1
            continue
        if ch == "$":
            value, i = _expand_var(raw, i, env, escape)
            out.append(value)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _lookup(name: str, env: Mapping[str, str | None]) -> str | None:
    """Return the value, None when unset; raise Unknown when set to an unknown value."""
    if name not in env:
        # Not declared in the Dockerfile: it may come from the base image.
        raise Unknown(name)
    value = env[name]
    if value is None:
        raise Unknown(name)
    return value


def _expand_var(raw: str, i: int, env: Mapping[str, str | None], escape: str) -> tuple[str, int]:
    n = len(raw)
    if i + 1 >= n:
        return "$", i + 1
    if raw[i + 1] == "{":
        close = raw.find("}", i + 2)
        if close < 0:
            raise Unknown(raw[i:])
        body = raw[i + 2 : close]
        name_end = 0
        while name_end < len(body) and (body[name_end].isalnum() or body[name_end] == "_"):
            name_end += 1
        name, rest = body[:name_end], body[name_end:]
        if not name:
            raise Unknown(body)
        if not rest:
            return _lookup(name, env) or "", close + 1
        colon = rest.startswith(":")
        op = rest[1:2] if colon else rest[:1]
        word = rest[2:] if colon else rest[1:]
        if op not in ("-", "+"):
            raise Unknown(body)
        # ${V:-x} with V unknown is unknown too (_lookup raises): only declared, known values decide.
        value = _lookup(name, env)
        is_set = value is not None and (value != "" or not colon)
        if op == "-":
            return (value if is_set else expand(word, env, escape)) or "", close + 1
        return (expand(word, env, escape) if is_set else ""), close + 1
    j = i + 1
    while j < n and (raw[j].isalnum() or raw[j] == "_"):
        j += 1
    if j == i + 1:
        return "$", i + 1
    return _lookup(raw[i + 1 : j], env) or "", j
