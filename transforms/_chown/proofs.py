"""Proofs about paths that a COPY --chown needs, built on ``paths.kind_at``: no directory made above the target, no
symlink from the target down to the destination, nothing unknown below a tree's destination."""

from __future__ import annotations

import posixpath

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import DIR, FILE, MISSING, SYMLINK
from dockerfix.refactor.dockerfile.resolve import is_under, join, normalize
from dockerfix.transforms._chown.paths import ALL, EXISTS, Kind, _apply, _words, chain, events, kind_at


def nothing_made_above(a: Analysis, at: int, top: str) -> Kind:
    """Proof that a COPY into ``top`` or below it creates no directory above ``top`` on either builder: --chown
    gives the directories it creates the new owner, and `chown -R top` re-owns none above ``top``.

    When ``top`` exists at that COPY on both builders (the base image has it, or a mkdir, a RUN in it, an earlier COPY
    made it), every directory above it exists too, and a symlink among them changes nothing: the builder writes into
    ``top`` through it, and `chown -R top` re-owns the same tree through it. Otherwise (absent, made by a WORKDIR no
    RUN has used yet, which buildah creates only then: at this COPY, with the new owner), its parent must exist.
    A directory above ``top`` that only the base image may make a symlink is assumed not to be one (a step could
    reach ``top`` by another name, which ``aliases`` would not know): unknown with ``base_unknown``, ``why`` being
    the assumption."""
    image = a.base(at).image if a.base(at) is not None else "?"  # type: ignore[union-attr]
    vague = [d for d in _above(top) if kind_at(a, at, d).kind in (None, EXISTS) and kind_at(a, at, d).base_unknown]
    links = f"{vague[0]} is not a symlink in the base image {image!r}" if vague else ""
    k = kind_at(a, at, top)
    if k.kind in (DIR, EXISTS):  # whether ``top`` itself is a symlink is for ``no_links``
        return Kind(None, (), links, True) if links else Kind(DIR, k.defaults)
    parent = posixpath.dirname(top)
    p = kind_at(a, at, parent)
    if p.kind in (DIR, EXISTS):
        return Kind(None, (), links, True) if links else Kind(DIR, p.defaults)
    if p.kind is None and p.base_unknown:
        if vague and vague[0] == parent:
            return Kind(None, (), f"{parent} is a directory (not a symlink) in the base image {image!r}", True)
        return Kind(None, (), f"{parent} exists in the base image {image!r}{', and ' + links if links else ''}", True)
    why = p.why or f"{parent} is {_words(p.kind) if p.kind else 'unknown'}"
    if p.kind == SYMLINK:
        why = f"{parent} is a symlink, whose target is not known to exist"
    return Kind(p.kind, (), why, False)


def _above(top: str) -> list[str]:
    parts = [p for p in normalize(top).split("/") if p]
    return ["/" + "/".join(parts[:n]) for n in range(1, len(parts))]


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


def aliases(a: Analysis, at: int, top: str, depth: int = 0) -> list[str] | None:
    """Other names by which a step just before ``at`` may reach ``top``'s tree: through a symlink above ``top``
    (`/usr/src -> /srv/src` makes /srv/src/app a name of /usr/src/app), or a symlink into it (`ln -s /data /d`).
    None when a directory above ``top`` may be a symlink to a place not known (only the base image not being read
    does not count: that is the base's facts, assumed where the fix needs them)."""
    key = ("chown-layer:aliases", at, top, depth)
    if key not in a.memo:
        a.memo[key] = _aliases(a, at, top, depth)
    return a.memo[key]  # type: ignore[return-value]


def _aliases(a: Analysis, at: int, top: str, depth: int) -> list[str] | None:
    if depth > 8:
        return None
    out: list[str] = []
    parts = [p for p in normalize(top).split("/") if p]
    for n in range(1, len(parts)):
        above = "/" + "/".join(parts[:n])
        k = kind_at(a, at, above)
        if k.kind == SYMLINK:
            target = link_target(a, at, above)
            if target is None:
                return None
            alias = join(target, "/".join(parts[n:])) or "/"
            more = aliases(a, at, alias, depth + 1)
            if more is None:
                return None
            out += [alias] + more
        elif k.kind in (None, EXISTS) and not k.base_unknown:
            return None
    for link, target in links_into(a, at, top):
        if is_under(target, top):
            out.append(link)  # the link names a directory of the tree
        else:
            out.append(join(link, posixpath.relpath(top, target)) or "/")
    return [p for p in dict.fromkeys(out) if p != top]


def link_target(a: Analysis, at: int, path: str) -> str | None:
    """Where the symlink ``path`` points just before ``at`` (an absolute path), when the base image's paths or the
    `ln -s` that made it say; None when not known."""
    path = normalize(path)
    facts = a.base(at)
    info = facts.path(path) if facts is not None else None
    target = info.target if info is not None and info.kind == SYMLINK else None
    for j in chain(a, at):
        for ev in events(a, j):
            if ev.kind in ("link", "copylink") and ev.path == path:
                target = ev.target if ev.kind == "link" else None
            elif _apply(ev, path, SYMLINK) != SYMLINK:
                target = None
    if not target:
        return None
    return normalize(target if target.startswith("/") else posixpath.join(posixpath.dirname(path), target))


def links_into(a: Analysis, at: int, top: str) -> list[tuple[str, str]]:
    """The symlinks just before ``at`` whose known target is ``top``, lies below it or above it: (link, target).
    From the base image's paths and the steps' `ln -s`; a link whose target is not known is not listed."""
    facts = a.base(at)
    key = ("chown-layer:base-links", id(facts))
    if key not in a.memo:
        a.memo[key] = {p: info.target for p, info in (facts.paths.items() if facts is not None else ())
                       if info.kind == SYMLINK and info.target}
    found: dict[str, str | None] = dict(a.memo[key])  # type: ignore[call-overload]
    for j in chain(a, at):
        for ev in events(a, j):
            if ev.kind == "link" and ev.path != ALL and ev.target:
                found[ev.path] = ev.target
    out: list[tuple[str, str]] = []
    for p, raw in found.items():
        t = normalize(raw if raw.startswith("/") else posixpath.join(posixpath.dirname(p), raw))  # type: ignore[union-attr]
        if not (is_under(t, top) or is_under(top, t)) or kind_at(a, at, p).kind != SYMLINK:
            continue
        real = link_target(a, at, p)
        if real is not None:
            out.append((p, real))
    return out
