"""The operations chown-layer reads from a RUN, what a fix rests on, and the helpers its steps share."""

from __future__ import annotations

from dataclasses import dataclass, field

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.resolve import is_under
from dockerfix.refactor.dockerfile.shell import Command, SWord
from dockerfix.transforms._chown import accounts, owners, paths


@dataclass(eq=False)  # identity: the same command is one operation
class Op:
    cmd: Command
    kind: str  # chown, chgrp, chmod
    user: str | None = None  # resolved; None: unchanged
    group: str | None = None
    user_raw: str | None = None
    group_raw: str | None = None
    mode: str | None = None
    paths: list[tuple[SWord, str]] = field(default_factory=list)  # raw word, resolved absolute path
    assumptions: list[str] = field(default_factory=list)  # what its owner and paths rest on (an unknown base's ENV)


class Refuse(Exception):
    pass


@dataclass
class Basis:
    """What a fix rests on besides the Dockerfile: documented defaults (fine) and assumptions (unsafe)."""

    defaults: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    moves: list = field(default_factory=list)  # account steps this fix moves up (moves.Move)

    def use(self, defaults) -> None:  # type: ignore[no-untyped-def]
        self.defaults.extend(d for d in defaults if d not in self.defaults)


def _stage_range(a: Analysis, idx: int) -> range:
    stage = a.resolved.stage_of(idx)
    first = stage.first + 1 if stage else 0
    return range(first, idx)


def _written_before(a: Analysis, idx: int) -> list[str]:
    """Paths that steps of this stage (and the stages it builds on) wrote into before ``idx`` (``paths.ALL``: any)."""
    key = ("chown-layer:written", idx)
    if key not in a.memo:
        # An "unknown" event (a COPY whose sources cannot be read) may write anything at or below its path.
        a.memo[key] = [e.path + "/\x00" if e.kind == "unknown" and e.path != paths.ALL else e.path
                       for j in paths.chain(a, idx) for e in paths.events(a, j) if e.kind not in ("lazy", "rm")]
    return a.memo[key]  # type: ignore[return-value]


def _wrote_under(written: list[str], p: str) -> bool:
    for w in written:
        if w == paths.ALL:
            return True
        if w.endswith("/\x00"):
            base = w[:-2]
            if is_under(base, p) or (is_under(p, base) and p != base):
                return True
        elif is_under(w, p):
            return True
    return False


def _targets(ops: list[Op]) -> list[str]:
    out: list[str] = []
    for op in ops:
        for _, p in op.paths:
            if p not in out:
                out.append(p)
    return out


def _covering(ops: list[Op], path: str) -> list[Op]:
    return [op for op in ops if any(is_under(path, p) for _, p in op.paths)]


def _final_owner(ops: list[Op], start_user: str, start_group: str) -> tuple[str, str]:
    user, group = start_user, start_group
    for op in ops:
        if op.kind == "chmod":
            continue
        if op.user is not None:
            user = op.user
        if op.group is not None:
            group = op.group
    return user, group


def _spell(a: Analysis, name: str | None, kind: str, at: int, idx: int, basis: Basis) -> str | None:
    """How to write an owner at instruction ``at``: the name when it is proven to exist there, else its numeric id
    when the Dockerfile gives it; None when neither."""
    if name is None or name.isdigit():
        return name
    found = owners.user(a, at, name) if kind == "user" else owners.group(a, at, name)
    if found.exists:
        basis.use(found.defaults)
        return name
    later = owners.later_id(a, at, idx, name, kind)
    if later is None and found.base_unknown and not owners.created_later(a, at, idx) and not _unread_between(a, at, idx):
        basis.assumptions.append(f"the {kind} {name} exists in the base image {a.base(at).image!r}")  # type: ignore[union-attr]
        return name
    return later


def _unread_between(a: Analysis, at: int, idx: int) -> bool:
    """A RUN from ``at`` to the chown that the analysis cannot read (it may create accounts)."""
    return any(a.instructions[j].keyword == "RUN" and a.run_script(j) is None and accounts.exec_argv(a, j) is None
               for j in range(at, idx + 1))
