"""Proofs about paths that a COPY --chown needs, built on ``paths.kind_at``: real directories above the target,
no symlink from the target down to the destination, nothing unknown below a tree's destination."""

from __future__ import annotations

import posixpath

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import DIR, FILE, MISSING, SYMLINK
from dockerfix.refactor.dockerfile.resolve import is_under, join, normalize
from dockerfix.transforms._chown.paths import ALL, EXISTS, Kind, _words, chain, events, kind_at


def real_dir(a: Analysis, at: int, path: str) -> Kind:
    """Proof that ``path`` and every directory above it are real directories (no symlinks) before ``at``."""
    defaults: list[str] = []
    parts = [p for p in normalize(path).split("/") if p]
    cur = "/"
    for part in [""] + parts:
        cur = join(cur, part) if part else "/"  # type: ignore[assignment]
        k = kind_at(a, at, cur)
        if k.kind != DIR:
            return Kind(k.kind, (), k.why or f"{cur} is {_words(k.kind) if k.kind else 'unknown'}", k.base_unknown)
        defaults += k.defaults
    return Kind(DIR, tuple(dict.fromkeys(defaults)))


def no_links(a: Analysis, at: int, top: str, dest: str) -> Kind:
    """Proof that no path from ``top`` down to ``dest`` (both included) is a symlink before ``at``: a COPY into
    ``dest`` then writes under ``top`` and nowhere else. Once a path is absent, the ones below it are too."""
    defaults: list[str] = []
    rel = posixpath.relpath(dest, top) if dest != top else "."
    cur = top
    for part in [""] + ([] if rel == "." else rel.split("/")):
        cur = join(cur, part) if part else top  # type: ignore[assignment]
        k = kind_at(a, at, cur)
        if k.kind is None or k.kind == SYMLINK:
            return Kind(None, (), k.why or f"{cur} is a symlink", k.base_unknown)
        if k.kind == EXISTS:
            # `mkdir -p` or a COPY into a path of unknown kind follows a symlink there: it may still be one.
            return Kind(None, (), f"{cur} exists but may be a symlink to a directory", k.base_unknown)
        defaults += k.defaults
        if k.kind == MISSING:
            break
        if k.kind == FILE and cur != dest:
            return Kind(None, (), f"{cur} is a file")
    return Kind(DIR, tuple(dict.fromkeys(defaults)))


def tree_clean(a: Analysis, at: int, dest: str) -> Kind:
    """Proof that nothing below ``dest`` is a symlink (or unknown) before ``at``: a COPY of a tree into ``dest`` then
    cannot write through an existing link. Known below ``dest``: what the steps before named, and the base image's
    paths when it lists them all."""
    probe = kind_at(a, at, join(dest, "\x01probe") or "/")
    if probe.kind != MISSING:
        return Kind(None, (), probe.why or f"what lies below {dest} is not known", probe.base_unknown)
    defaults = list(probe.defaults)
    seen: set[str] = set()
    for j in chain(a, at):
        for ev in events(a, j):
            p = ev.path[:-2] if ev.path.endswith("/\x00") else ev.path
            if p != ALL and p != dest and is_under(p, dest) and p not in seen:
                seen.add(p)
    facts = a.base(at)
    if facts is not None and facts.complete_paths:
        seen.update(p for p in facts.paths if p != dest and is_under(p, dest))
    for p in sorted(seen):
        k = kind_at(a, at, p)
        if k.kind is None or k.kind == SYMLINK:
            return Kind(None, (), k.why or f"{p} is a symlink", k.base_unknown)
        defaults += k.defaults
    return Kind(DIR, tuple(dict.fromkeys(defaults)))
