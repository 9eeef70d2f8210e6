"""The cache of what was read of base images, and the table of facts handed to the engine.

One JSON file per image under ``$XDG_CACHE_HOME/dockerfix/bases`` (else ``~/.cache/dockerfix/bases``), named by the
digest of the image config: a changed image has another name and is read again. A file that cannot be used is
ignored (and rewritten by the next read). This module imports nothing heavy, so that asking for local base images
where there are none stays cheap.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from dockerfix.refactor.dockerfile import basefacts as bf

FORMAT = 1  # of the cache files; a new format reads every image again


def cache_root(cache: Path | None = None) -> Path:
    if cache is not None:
        return cache
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dockerfix" / "bases"


def cached(key: str, cache: Path | None = None) -> bool:
    """Whether a cache file exists for ``key``."""
    return _cache_file(key, cache).is_file()


def _cache_file(key: str, cache: Path | None) -> Path:
    return cache_root(cache) / (key.replace(":", "-").replace("/", "_") + ".json")


def load_cached(key: str, image_ref: str, source: str, *, cache: Path | None = None) -> bf.BaseFacts | None:
    """The facts cached under ``key``, or None when there are none or the file cannot be used."""
    try:
        data = json.loads(_cache_file(key, cache).read_text("utf-8"))
        if data["format"] != FORMAT or data["key"] != key:
            return None
        accounts = data["accounts"]
        return bf.BaseFacts(
            image=image_ref, source=source, read=True, env=dict(data["env"]), volumes=frozenset(data["volumes"]),
            user=str(data["user"]), workdir=str(data["workdir"]),
            accounts=None if accounts is None else {a[0]: bf.Account(a[0], int(a[1]), int(a[2]), a[3]) for a in accounts},
            groups=None if data["groups"] is None else {str(k): int(v) for k, v in data["groups"].items()},
            paths={p[0]: bf.PathInfo(p[1], p[2], p[3], p[4], p[5]) for p in data["paths"]},
            complete_paths=bool(data["complete_paths"]), tools={str(k): bool(v) for k, v in data["tools"].items()},
        )
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def store_cached(key: str, facts: bf.BaseFacts, *, cache: Path | None = None) -> bool:
    """Write the cache file atomically; a cache that cannot be written is not an error (returns False)."""
    data = {
        "format": FORMAT, "key": key, "env": dict(facts.env or {}), "volumes": sorted(facts.volumes or ()),
        "user": facts.user, "workdir": facts.workdir,
        "accounts": None if facts.accounts is None else [[a.name, a.uid, a.gid, a.home] for a in facts.accounts.values()],
        "groups": None if facts.groups is None else dict(facts.groups),
        "paths": [[p, i.kind, i.target, i.uid, i.gid, i.mode] for p, i in facts.paths.items()],
        "complete_paths": facts.complete_paths, "tools": dict(facts.tools),
    }
    target = _cache_file(key, cache)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(data, separators=(",", ":")), "utf-8")
        os.replace(partial, target)
    except OSError:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        return False
    return True


_MEMO: dict[tuple[str, str | None], bf.BaseFacts] = {}  # per process: (key, cache) -> facts


class CachedBases(Mapping[str, bf.BaseFacts]):
    """Facts by reference that travel to worker processes as cache keys rather than as facts: pickling the
    facts of a large image takes longer than reading them back from the cache once per process."""

    def __init__(self, entries: Mapping[str, tuple[str, str]], cache: Path | None = None,
                 pinned: Mapping[str, bf.BaseFacts] | None = None) -> None:
        self._entries = dict(entries)  # reference -> (cache key, source)
        self._cache = cache
        self._pinned = dict(pinned or {})  # facts whose cache file could not be written travel as they are
        self._facts: dict[str, bf.BaseFacts] = dict(self._pinned)

    def add(self, ref: str, key: str, facts: bf.BaseFacts, stored: bool) -> None:
        self._entries[ref] = (key, facts.source)
        self._facts[ref] = facts
        if stored:
            _MEMO[(key, str(self._cache))] = facts
        else:
            self._pinned[ref] = facts

    def __getitem__(self, ref: str) -> bf.BaseFacts:
        facts = self._facts.get(ref)
        if facts is None:
            key, source = self._entries[ref]
            memo = _MEMO.get((key, str(self._cache)))
            if memo is None:
                memo = load_cached(key, ref, source, cache=self._cache)
                if memo is None:  # the cache file went away since: nothing known
                    return bf.unknown(ref)
                _MEMO[(key, str(self._cache))] = memo
            facts = self._facts[ref] = memo if (memo.image, memo.source) == (ref, source) else replace(
                memo, image=ref, source=source)
        return facts

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self._entries, self._cache, self._pinned))
