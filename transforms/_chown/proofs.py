"""Proofs about paths that a COPY --chown needs, built on ``paths.kind_at``: no directory made above the target, no
symlink from the target down to the destination, nothing unknown below a tree's destination."""

from __future__ import annotations

import posixpath

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import DIR, FILE, MISSING, SYMLINK
from dockerfix.refactor.dockerfile.resolve import is_under, join, normalize
from dockerfix.transforms._chown.paths import ALL, EXISTS, Kind, _words, chain, events, kind_at


def nothing_made_above(a: Analysis, at: int, top: str) -> Kind:
    """Proof that a COPY into ``top`` or below it creates no directory above ``top`` on either builder: --chown
    gives the directories it creates the new owner, and `chown -R top` re-owns none above ``top``.

    When ``top`` exists at that COPY on both builders (the base image has it, or a mkdir, a RUN in it, an earlier COPY
    made it), every directory above it exists too, and a symlink among them changes nothing: the builder writes into
    ``top`` through it, and `chown -R top` re-owns the same tree through it. Otherwise (absent, made by a WORKDIR no
    RUN has used yet, which buildah creates only then: at this COPY, with the new owner), its parent must exist."""
    k = kind_at(a, at, top)
    if k.kind in (DIR, EXISTS):  # whether ``top`` itself is a symlink is for ``no_links``
        return Kind(DIR, k.defaults)
    parent = posixpath.dirname(top)
    p = kind_at(a, at, parent)
    if p.kind in (DIR, EXISTS):
        return Kind(DIR, p.defaults)
    why = p.why or f"{parent} is {_words(p.kind) if p.kind else 'unknown'}"
    if p.kind == SYMLINK:
        why = f"{parent} is a symlink, whose target is not known to exist"
    return Kind(p.kind, (), why, p.base_unknown)


def no_links(a: Analysis, at: int, top: str, dest: str) -> Kind:
    """Proof that no path from ``top`` down to ``dest`` (both included) is a symlink before ``at``: a COPY into
    ``dest`` then writes under ``top`` and nowhere else. Once a path is absent, the ones below it are too."""
    defaults: list[str] = []
    rel = posixpath.relpath(dest, top) if dest != top else "."
    cur = top
    for part in [""] + ([] if rel == "." else rel.split("/")):
        cur = join(cur, part) if part else top  # type: ignore[assignment]
        k = kind_at(a, at, cur)
        if k.kind in (None, SYMLINK, EXISTS):  # EXISTS: a directory, or a symlink to one
            return Kind(None, (), k.why or f"{cur} is {_words(k.kind or SYMLINK)}", k.base_unknown)
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


def unknown_cwd(a: Analysis, idx: int) -> str:
    """Why a relative path's working directory is not known, and what the user could change."""
    if a.state(idx).workdir is not None:
        return "the working directory a `cd` before it goes to is not known"
    workdirs = [j for j in chain(a, idx) if a.instructions[j].keyword == "WORKDIR"]
    base = a.base(idx)
    if workdirs:
        ins = a.instructions[workdirs[-1]]
        if a.state(workdirs[-1]).expand(ins.args.strip(), a.df.escape) is None:
            return f"the WORKDIR at line {ins.line} has a value the Dockerfile does not give"
        return f"the WORKDIR at line {ins.line} is relative to the base image's, which is not known"
    return (f"the working directory comes from the base image{f' {base.image!r}' if base else ''}, whose WORKDIR is "
            "not known; write the path in full or set WORKDIR")
