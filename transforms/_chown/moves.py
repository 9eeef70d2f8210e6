"""Moving a pure account step above the COPY that needs its names (what the maintainers of many images do by hand).

`COPY --chown=app` looks the name up in the stage's /etc/passwd when the COPY runs, so a COPY before the RUN that
creates `app` cannot name it; when the Dockerfile does not write both numeric ids, the fix moves that RUN (its whole
text, with the comment lines right above it) to just before the first COPY (or RUN that gets a chown) that needs
it, together with every account step between, in their order (a useradd without -u takes the next free id: the
order of the account steps decides the ids, so none may stay behind or be passed over). Moving a step changes the
order of the layers (the history and the cache), never the final filesystem, when it is *neutral*:

- it is a pure account step (accounts.py): it reads and writes only the account files, the skeleton, the homes
  and the mail and log files listed there;
- it runs the same way at both places: the same variables (the whole ENV/ARG state: PATH picks the program), the
  same USER (root), SHELL, WORKDIR and VOLUMEs;
- no step it jumps over touches any of those paths: each COPY/ADD has a known destination that is not at, under or
  above one of them, makes no missing directory above a home, and writes through no symlink (proven from the
  Dockerfile and the base image's paths; a base that was not read makes the fix unsafe); each RUN is analysed and
  runs only mkdir, rm, rmdir, touch, ln, cp, mv, chmod, numeric chown/chgrp, test, cd, echo, printf, true, set, sleep
  with static words naming none of those paths, without redirects or --mount. Anything else may read or write the
  account files: a package install (it may add system users and take the next free id), an account step that is
  not a pure one (it cannot move along), `id`, `su`, `chown name`, a script.
- the WORKDIR, when no step has made it yet (buildah creates it at the next RUN), is one of those paths too.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import DIR, MISSING, SYMLINK
from dockerfix.refactor.dockerfile.facts import copy_args, walk
from dockerfix.refactor.dockerfile.model import Edit
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import value
from dockerfix.transforms._chown import accounts, proofs
from dockerfix.transforms._chown.owners import created_later
from dockerfix.transforms._chown.paths import kind_at

_PATH_CMDS = frozenset("mkdir rm rmdir touch ln cp mv chmod chown chgrp test [ cd".split())
_QUIET_CMDS = frozenset("echo printf true : set sleep".split())
_OWNER_FIRST = frozenset(("chmod", "chown", "chgrp"))


@dataclass
class Move:
    step: int  # the account RUN
    at: int  # the instruction it now runs before
    names: list[tuple[str, str]]  # (name, kind) it makes
    edits: list[Edit] = field(default_factory=list)
    detail: str = ""
    assumptions: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)


class NoMove(Exception):
    """Why the account step cannot move; ``hint`` says what the user could change."""

    def __init__(self, why: str, hint: str = "") -> None:
        super().__init__(why)
        self.hint = hint


def creator(a: Analysis, j: int, idx: int, name: str, kind: str) -> int | None:
    """The first step after ``j`` up to the chown (``idx``) that creates ``name``."""
    return next((k for k, acc in created_later(a, j + 1, idx) if acc.name == name and acc.kind == kind), None)


def plan(a: Analysis, j: int, idx: int, needed: list[tuple[str, str]]) -> Move:
    """The move of the account step that makes every ``needed`` (name, kind) to just before instruction ``j``."""
    steps = {creator(a, j, idx, n, kind) for n, kind in needed}
    names = " and ".join(dict.fromkeys(f"`{n}`" for n, _ in needed))
    if None in steps:
        raise NoMove(f"no analysed step between line {a.instructions[j].line} and the chown creates {names}",
                     f"create {names} with useradd/adduser above line {a.instructions[j].line}, or write the "
                     "numeric ids in the COPY")
    last = max(k for k in steps if k is not None)
    hint = _hint(a, j, last)
    if last == idx:
        raise NoMove("the account is made in the RUN of the chown itself",
                     f"make it in a RUN of its own above line {a.instructions[j].line}, or give its ids")
    # Every account step up to the last one needed moves, in its order: their order decides the ids they take.
    group = sorted({k for k, _ in created_later(a, j + 1, last)} | {last})
    merged = accounts.Step(last)
    for k in group:
        step = accounts.pure_step(a, k)
        if isinstance(step, str):
            raise NoMove(f"the RUN at line {a.instructions[k].line} does more than make accounts ({step})", hint)
        why = _context(a, j, k)
        if why:
            raise NoMove(why, hint)
        merged.accounts += step.accounts
        merged.paths += [p for p in step.paths if p not in merged.paths]
        merged.homes += step.homes
    move = Move(last, j, [(acc.name, acc.kind) for acc in merged.accounts])
    why = _between(a, j, last, merged, move, skip=set(group))
    if why:
        raise NoMove(why, hint)
    move.edits = _edits(a, j, group)
    lines = ", ".join(str(a.instructions[k].line) for k in group)
    move.detail = (f"line{'s' if len(group) > 1 else ''} {lines}: RUN moved above line {a.instructions[j].line} (it "
                   "only makes accounts, runs the same way there, and no step it moves over touches the account files "
                   "or the homes)")
    return move


def _hint(a: Analysis, j: int, k: int) -> str:
    text = " ".join(a.instructions[k].logical.split())
    text = text if len(text) <= 50 else text[:47] + "..."
    return (f"move `{text}` (line {a.instructions[k].line}) above line {a.instructions[j].line} if the steps in between "
            "do not change accounts, or give the uid and "
            "the gid in the Dockerfile (`useradd -u UID` after `groupadd -g GID`, or `adduser -u UID -G` a group "
            "made by `addgroup -g GID`)")


def _context(a: Analysis, j: int, k: int) -> str | None:
    """Why the step would not run the same way before ``j`` as at ``k``."""
    old, new = a.state(k), a.state(j)
    line = a.instructions[k].line
    if old.env != new.env:
        return f"a variable has another value at line {a.instructions[j].line} than at line {line} (ENV or ARG between)"
    if not (old.root_or_base_default and new.root_or_base_default and old.user == new.user):
        return f"USER differs at line {a.instructions[j].line} or is not root"
    if old.shell != new.shell:
        return "SHELL differs between the two places"
    if old.workdir != new.workdir:
        return "WORKDIR differs between the two places (buildah creates it at the next RUN)"
    if old.volumes != new.volumes:
        return "a VOLUME is declared between the two places"
    return None


def _between(a: Analysis, j: int, k: int, step: accounts.Step, move: Move, skip: set[int]) -> str | None:
    """Why a step from ``j`` up to ``k`` (but the moved ones, ``skip``) may touch what the account steps read or
    write."""
    guarded = list(step.paths)
    wd = a.state(j).workdir
    if wd and kind_at(a, j, wd).kind != DIR:
        guarded.append(wd)  # buildah makes a WORKDIR at the next RUN: the moved step would make it earlier
    for s in range(j, k):
        if s in skip:
            continue
        ins = a.instructions[s]
        tag = f"line {ins.line}"
        if ins.keyword in ("COPY", "ADD"):
            ca = copy_args(ins, a.state(s), a.df.escape)
            if ca is None or ca.dest is None:
                return f"{tag}: the {ins.keyword} destination is not known"
            why = _path_ok(a, s, ca.dest, guarded, step.homes, move)
            if why:
                return f"{tag}: the {ins.keyword} {why}"
            if kind_at(a, s, ca.dest).kind != MISSING:
                tree = proofs.tree_clean(a, s, ca.dest)
                if tree.kind is None and tree.base_unknown:
                    _assume(move, f"nothing below {ca.dest} is a symlink in the base image {_image(a, s)!r}")
                elif tree.kind is None:
                    return f"{tag}: the {ins.keyword} may write through a symlink below {ca.dest} ({tree.why})"
                move.defaults += [d for d in tree.defaults if d not in move.defaults]
        elif ins.keyword == "RUN":
            why = _run_ok(a, s, guarded, step.homes, move)
            if why:
                return f"{tag}: {why}"
    return None


def _run_ok(a: Analysis, s: int, guarded: list[str], homes: list[str], move: Move) -> str | None:
    ins = a.instructions[s]
    if ins.flags:
        return f"the RUN has --{ins.flags[0].name}"
    if accounts.exec_argv(a, s) is not None:
        return "the RUN makes accounts too (the order decides the ids)"
    rs = a.run_script(s)
    if rs is None:
        return "the RUN cannot be analysed"
    st = a.state(s)
    if not st.root_or_base_default:
        return "the RUN runs as a non-root USER"
    for cmd, cwd in walk(rs.script, rs.env, st.workdir):
        name = posixpath.basename(cmd.name)
        if name in accounts.TOOLS:
            return "the RUN makes accounts too (the order decides the ids)"
        if name in ("apt-get", "apt", "apk", "dnf", "yum", "microdnf", "zypper", "dpkg", "rpm", "pacman"):
            return "the RUN installs packages, which may add accounts"
        if cmd.name != name and not cmd.name.startswith(("/usr/bin/", "/bin/")) or \
                name not in _PATH_CMDS | _QUIET_CMDS:
            return f"the RUN runs `{cmd.name}`, which may read or write the account files"
        if cmd.redirected:
            return f"`{name}` in the RUN has a redirect"
        if name in _QUIET_CMDS:
            continue
        first = True
        for w in cmd.args:
            v = value(w, rs.env)
            if v is None:
                return f"a word of `{name}` in the RUN has a value the Dockerfile does not give"
            if v.startswith("-"):
                continue
            if name in _OWNER_FIRST and first:
                first = False
                if name != "chmod" and not v.replace(":", "").replace(".", "").isdigit():
                    return f"`{name} {v}` looks the name up in the account files"
                continue
            p = join(cwd, v)
            if p is None:
                return f"`{name}` names {v!r} in a directory the analysis does not know"
            why = _path_ok(a, s, p, guarded, homes, move)
            if why:
                return f"`{name}` in the RUN {why}"
    return None


def _path_ok(a: Analysis, s: int, p: str, guarded: list[str], homes: list[str], move: Move) -> str | None:
    """Why a step at ``s`` that names ``p`` may touch a guarded path (at, under or above it, through a symlink above
    it, or by making a missing directory above a home)."""
    for g in guarded:
        if is_under(p, g) or is_under(g, p):
            return f"names {p}, {'which is' if p == g else 'at, under or above'} {g}, which the account step reads or writes"
    cur = posixpath.dirname(p)
    above: list[str] = []
    while cur != "/":
        above.append(cur)
        cur = posixpath.dirname(cur)
    for d in above:
        k = kind_at(a, s, d)
        if k.kind == SYMLINK or (k.kind is None and not k.base_unknown):
            return f"names {p}, and {d} may be a symlink ({k.why or 'it is one'})"
        if k.kind is None:
            _assume(move, f"{d} is no symlink in the base image {_image(a, s)!r}")
        move.defaults += [x for x in k.defaults if x not in move.defaults]
        if k.kind != DIR and any(is_under(h, d) for h in homes):
            return f"may make {d}, above the home"
    return None


def _image(a: Analysis, s: int) -> str:
    facts = a.base(s)
    return facts.image if facts is not None else "?"


def _assume(move: Move, what: str) -> None:
    if what not in move.assumptions:
        move.assumptions.append(what)


def _block_start(a: Analysis, k: int) -> int:
    """Where the comment lines right above instruction ``k`` start (its own line when there are none)."""
    ins = a.instructions[k]
    text = a.df.text
    floor = a.instructions[k - 1].line_next if k > 0 else 0
    start = ins.line_start
    while start > floor:
        prev = text.rfind("\n", floor, start - 1) + 1
        prev = max(prev, floor)
        line = text[prev:start].strip()
        if not line.startswith("#"):
            break
        start = prev
    return start


def _edits(a: Analysis, j: int, group: list[int]) -> list[Edit]:
    out: list[Edit] = []
    blocks: list[str] = []
    for k in group:
        ins = a.instructions[k]
        start = _block_start(a, k)
        block = a.df.text[start : ins.line_next]
        blocks.append(block if block.endswith("\n") else block + a.df.newline)
        out.append(Edit(start, ins.line_next, ""))
    at = _block_start(a, j)
    return out + [Edit(at, at, "".join(blocks))]


def respell(a: Analysis, j: int, idx: int, user: tuple[str | None, str | None], group: tuple[str | None, str | None],
            basis, pending: list[Move] | None = None) -> tuple[str | None, str | None, Move | None]:  # type: ignore[no-untyped-def]
    """The owner to write at step ``j`` (a COPY, or a RUN that gets a chown appended) once an account step moves
    above it: one planned for an earlier step of this fix (``basis.moves``, or ``pending`` in the same step), or a
    new one. Each of ``user``/``group`` is (name or None, how it is written without a move or None); raises NoMove."""
    known = list(basis.moves) + list(pending or [])
    needed = [(n, kind) for (n, spelled), kind in ((user, "user"), (group, "group")) if n and spelled is None]
    covered = [x for x in needed if any(x in m.names and m.at <= j < m.step for m in known)]
    move = None
    rest = [x for x in needed if x not in covered]
    if rest and known:
        raise NoMove("another account step already moves for this chown", "")
    if rest:
        move = plan(a, j, idx, rest)
    # Once the step runs first, the names it makes exist at the COPY: written as names, not as numbers.
    made = move.names if move is not None else [x for m in known for x in m.names]
    u = user[0] if (user[0], "user") in made else user[1] or user[0]
    g = group[0] if (group[0], "group") in made else group[1] or group[0]
    return u, g, move


def commit(basis, move: Move | None) -> tuple[list[Edit], list[str]]:  # type: ignore[no-untyped-def]
    """Record a planned move in the fix's basis: its edits and details (nothing when there is none)."""
    if move is None:
        return [], []
    basis.moves.append(move)
    basis.use(move.defaults)
    basis.assumptions.extend(x for x in move.assumptions if x not in basis.assumptions)
    return list(move.edits), [move.detail]


def advice(no: NoMove) -> str:
    """What the finding says when the step cannot move: what the user could change, and why it is not done here."""
    if no.hint:
        return f"; to fix it, {no.hint}; not moved automatically: {no}"
    return f"; not moved: {no}"
