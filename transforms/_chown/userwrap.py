"""USER around a step: run a root RUN whose code the analysis cannot read as the chown's owner (an unsafe fix).

Such a step (a script not from the build context, `curl … | sh`, a program the analysis cannot follow) may see the
owners under the targets, so no earlier step may take the ownership. As the owner, it sees the owner's files as its
own and writes what it makes under the targets with that owner, as the later `chown -R` would have set it; the kept
`find` settles the rest. The maintainers' own fix for this is `USER owner` before the step and `USER root` after it.

Docker behaviour this relies on: USER sets the user and group of later RUN steps (not of COPY/ADD); `USER u:g` runs
with that uid and gid, so the files the step creates get them (umask and modes are the same); USER is part of the
image config, so the line that restores the user must give the config the same value the original had. buildah
1.28 makes a WORKDIR not used yet (and its missing parents) at the next RUN, owned by the user that RUN runs as
(docs/builder-semantics.md): a step whose WORKDIR is not proven to exist before it is not wrapped.

It is unsafe by nature, and what can differ is named in the fix's details: files the step writes outside the
targets are owned by the owner instead of root (or cannot be written), the step may need root rights or act
differently as non-root, and $HOME (with files such as ~/.gitconfig, caches) is the owner's home instead of root's.
It is offered only when the user before the step is known to be root (an explicit `USER root`/`USER 0`, or the base
image's default user read or documented as root), the owner is a `user:group` both proven to exist at that step
(or numeric), and the restoring line reproduces the user exactly: the spelling of the USER in effect, or, when the
base image's default is root with an empty User, `USER root` only when a later USER of the stage sets the config
anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockerfix.refactor.context.scripts import script_reads
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import walk
from dockerfix.refactor.dockerfile.model import Edit
from dockerfix.refactor.dockerfile.resolve import UNKNOWN
from dockerfix.refactor.dockerfile.basefacts import DIR
from dockerfix.transforms._chown import owners, paths, readers
from dockerfix.transforms._chown.model import Op

_ROOT = ("root", "0", "0:0", "root:root", "root:0", "0:root")
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# What readers.command_reads says of code it cannot follow (as opposed to a known command that reads owners).
_UNREAD = ("the analysis cannot read", "is not static")


@dataclass
class Wrap:
    steps: list[int] = field(default_factory=list)  # RUN steps that now run as the owner
    limit: int = -1  # the last step before them that may still see the owners (-1: none)
    limit_why: str = ""
    edits: list[Edit] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


def offer(a: Analysis, idx: int, ops: list[Op], targets: list[str], limit: int) -> tuple[Wrap | None, str | None]:
    """Wrap the readers from ``limit`` backwards while each can run as the owner; (None, why) when the first cannot.

    ``limit`` is the last step of the stage before the chown (``idx``) that may see the owners under ``targets``."""
    if limit < 0:
        return None, None
    if limit == idx:
        return None, "the code the analysis cannot read runs in the chown's own RUN, which USER cannot split"
    owner, why = _owner(a, limit, ops)
    if owner is None:
        return None, f"line {a.instructions[limit].line}: RUN not run as the owner (unsafe alternative): {why}"
    wrap = Wrap()
    restores: dict[int, str] = {}
    j = limit
    while j >= 0:
        ins = a.instructions[j]
        why = _not_wrappable(a, j, targets) or _owner(a, j, ops)[1]
        restore, rwhy, extra = _restore(a, j)
        if why is None and restore is None:
            why = rwhy
        if why is not None:
            if not wrap.steps:
                return None, f"line {ins.line}: RUN not run as the owner {owner} (unsafe alternative): {why}"
            wrap.limit, wrap.limit_why = j, f"the RUN at line {ins.line}: {readers.step_reads(a, j, targets)}"
            break
        wrap.steps.insert(0, j)
        restores[j] = restore or ""
        reason = readers.step_reads(a, j, targets)
        wrap.details.insert(0, f"line {ins.line}: RUN now runs as USER {owner} (`USER {owner}` before it, "
                            f"`USER {restore}` after it): as root, {reason}, which would see the new owners earlier")
        wrap.assumptions.insert(0, f"the RUN at line {ins.line} builds the same as USER {owner} as it did as root: it "
                                f"writes nothing outside {', '.join(targets)} (there its files would be owned by "
                                f"{owner}, not root, or could not be written), does not archive, copy or act on the "
                                f"owners it sees under the target (now {owner}, not root), needs no root rights (as "
                                "non-root it may fail or act differently), and the files it writes under $HOME "
                                f"(~/.gitconfig, caches) move from root's home to the home of user "
                                f"{owner.split(':')[0]}" + extra)
        j = _previous_reader(a, idx, j, targets)
    for j in wrap.steps:
        # Adjacent steps share one pair of USER lines.
        wrap.edits += _edits(a, j, owner, restores[j], j - 1 not in restores, j + 1 not in restores)
    return wrap, None


def alternative(a: Analysis, wrap: Wrap, gained: list[int]) -> str:
    """The detail that names the unsafe wrap a safe fix stands in for (one fix per finding: the safe one wins)."""
    lines = ", ".join(str(a.instructions[j].line) for j in gained)
    steps = ", ".join(str(a.instructions[j].line) for j in wrap.steps)
    first = a.instructions[wrap.steps[0]].line
    return (f"line {first}: not run as the owner while a safe fix exists (unsafe alternative, left to you): with "
            f"USER lines around line{'s' if len(wrap.steps) > 1 else ''} {steps}, line{'s' if len(gained) > 1 else ''} "
            f"{lines} would take the ownership too")


def moves_nothing(a: Analysis, wrap: Wrap) -> str:
    """Why the wrap is not offered when the steps it frees take nothing: an earlier reader it cannot wrap."""
    steps = ", ".join(str(a.instructions[j].line) for j in wrap.steps)
    return (f"line {a.instructions[wrap.steps[0]].line}: not run as the owner (unsafe alternative): with USER lines "
            f"around line{'s' if len(wrap.steps) > 1 else ''} {steps} no earlier step takes the ownership either "
            f"({wrap.limit_why or 'none writes under the target'})")


def _previous_reader(a: Analysis, idx: int, j: int, targets: list[str]) -> int:
    stage = a.resolved.stage_of(idx)
    first = stage.first + 1 if stage else 0
    for k in range(j - 1, first - 1, -1):
        if readers.step_reads(a, k, targets):
            return k
    return -1


def _not_wrappable(a: Analysis, j: int, targets: list[str]) -> str | None:
    """Why RUN ``j`` is not a root step whose only reason to see the owners is code the analysis cannot read."""
    st = a.state(j)
    if st.user == UNKNOWN:
        return "the USER in effect there has a value the Dockerfile does not give"
    if not st.root_or_base_default:
        return f"it runs as USER {st.user}, not as root"
    if st.user is None:
        facts = a.base(j)
        if facts is None or facts.user is None:
            return "the base image's default user is not known"
        if facts.user not in ("",) + _ROOT:
            return f"the base image's default user is {facts.user}, not root"
    made = _workdir_made_here(a, j)
    if made:
        return made
    rs = a.run_script(j)
    if rs is None:
        return None  # JSON form, a non-POSIX shell: code the analysis cannot read
    unread = False
    for cmd, cwd in walk(rs.script, rs.env, st.workdir):
        why = readers.command_reads(cmd, rs.env, cwd, targets)
        if not why:
            continue
        read, inner = script_reads(a, j, cmd, rs.env, cwd, targets, readers.command_reads)
        if read:
            if inner:
                return f"its script was read, and {inner}"
            continue
        if any(s in why for s in _UNREAD) and cmd.name not in readers.RUNNERS:
            unread = True
            continue
        return f"{why}: a command the analysis knows, not code it cannot read"
    return None if unread else "it does not run code the analysis cannot read"


def _workdir_made_here(a: Analysis, j: int) -> str | None:
    """buildah 1.28 creates a WORKDIR not made yet (and its missing parents) at the next RUN, owned by the user that
    RUN runs as (measured: tests/test_chown_userwrap.py): as the owner, they would no longer be root's."""
    st = a.state(j)
    facts = a.base(j)
    w = st.workdir if st.workdir is not None else (facts.workdir or "/") if facts and facts.workdir is not None \
        else None
    if w is None:
        return "its WORKDIR is not known, and buildah creates a missing one at this step as the user it runs as"
    k = paths.kind_at(a, j, w)
    if k.kind != DIR:
        return (f"the WORKDIR {w} is not known to exist before it ({k.why or _words(k.kind)}): buildah creates it and "
                "its missing parents at this step, owned by the user the step runs as")
    return None


def _words(kind: str | None) -> str:
    return "buildah makes it at the next RUN" if kind == paths.LAZY else f"it is {kind or 'unknown'}"


def _owner(a: Analysis, j: int, ops: list[Op]) -> tuple[str | None, str | None]:
    """`user:group` for USER at ``j``: the one owner every chown gives, both proven to exist there (or numeric)."""
    if any(op.kind == "chgrp" for op in ops):
        return None, "`chgrp -R` keeps the files' user, which USER cannot express without running as root"
    given = {(op.user, op.group) for op in ops if op.kind == "chown"}
    if len(given) != 1:
        return None, "the chowns give different owners"
    user, group = given.pop()
    if not user or not group:
        return None, f"`chown -R {user or ''}{':' + group if group else ''}` does not name both user and group"
    for name, kind in ((user, "user"), (group, "group")):
        if not _PLAIN.match(name):
            return None, f"the {kind} {name!r} cannot be written as a USER word"
        found = owners.user(a, j, name) if kind == "user" else owners.group(a, j, name)
        if not found.exists:
            return None, f"the {kind} {name} is not known to exist at that step (USER would fail the build)"
    return f"{user}:{group}", None


def _restore(a: Analysis, j: int) -> tuple[str | None, str | None, str]:
    """The USER spelling that restores the user in effect at ``j`` exactly, why there is none, and what it assumes."""
    st = a.state(j)
    if st.user is not None:
        src = [k for k in paths.chain(a, j) if a.instructions[k].keyword == "USER"]
        raw = a.instructions[src[-1]].args.strip() if src else ""
        if not raw or not _PLAIN.match(raw.replace(":", "_", 1)):
            return None, f"the USER in effect there is spelled `{raw}`, which a restoring line cannot repeat exactly", ""
        return raw, None, ""
    facts = a.base(j)
    if facts is not None and facts.user:
        return facts.user, None, ""
    stage = a.resolved.stage_of(j)
    last = stage.last if stage else len(a.instructions) - 1
    later = [k for k in range(j + 1, last + 1) if a.instructions[k].keyword == "USER"]
    if not later:
        return None, ("the base image leaves the image's User empty, and a restoring `USER root` would set it to root "
                      "(no later USER of the stage sets it)"), ""
    return "root", None, (f"; and that the steps from there to the USER at line {a.instructions[later[0]].line} run "
                          "as `USER root` as they did as the base image's default user (uid 0)")


def _edits(a: Analysis, j: int, owner: str, restore: str, before: bool, after: bool) -> list[Edit]:
    ins = a.instructions[j]
    nl = a.df.newline
    at = ins.line_next
    edits = [Edit(ins.line_start, ins.line_start, f"USER {owner}{nl}")] if before else []
    if after:
        text = f"USER {restore}{nl}" if at > 0 and a.df.text[at - 1] == "\n" else f"{nl}USER {restore}"
        edits.append(Edit(at, at, text))
    return edits
