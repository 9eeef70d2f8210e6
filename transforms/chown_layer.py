"""chown-layer: a later `RUN chown -R` / `chgrp -R` / `chmod -R` stores every file under its paths again.

Docker behaviour this relies on (docs/builder-semantics.md has each with its source):
- A layer stores every file a step created or changed, whole; changing only the owner or mode of a
  file from an earlier layer stores it again. A chown inside the step that created the files is free.
- `COPY --chown=U:G` / `ADD --chown=U:G` write the files with that owner in the same layer. USER does
  not affect COPY/ADD (files are 0:0 without --chown). Names in --chown are looked up in the stage's
  /etc/passwd at that point; BuildKit silently uses 0 for a name that does not exist yet, so a name is
  only written where the user exists; before that, numeric ids known from `useradd -u` are used, or
  the instruction is left alone.
- Directories that `COPY --chown` creates get the new owner in BuildKit and buildah (root in the
  classic builder); existing directories keep theirs. So a COPY is only given --chown when every
  directory above the target already exists, and the remaining step (below) catches the rest.
- root's chown clears setuid/setgid bits of regular files, even when the owner does not change.
- GNU and busybox `chown -R` do not follow symlinks and change the links themselves (`chown -h`).

What the fix does:
1. COPY/ADD before the step whose destination lies under a target path get `--chown` (an existing
   one is replaced by the owner the step would have given).
2. RUN steps (as root) that create paths under a target (mkdir, git clone, python -m venv, cp, mv,
   tar -C, unzip -d, pip install --target, curl -o, wget -O, touch, ln, install) get the ownership in
   the same step, appended as `&& chown -R U:G PATH` (a fresh path) or as a `find` (a path that
   already had content).
3. The step itself is kept but changes only what is still wrong:
   `find PATH \\( ! -user U -o ! -group G -o -perm -4000 -o -perm -2000 \\) -exec chown -h U:G {} +`
   (and `find PATH ! -type l ! -perm MODE -exec chmod MODE {} +` for chmod), so files from the base
   image, from steps the analysis could not read, and builder-created directories end up exactly as
   before, while nothing that is already right is stored again. It is never dropped: that would
   need proof that nothing else lies under the target.

It refuses (reports, no fix) when: a target path or owner uses a variable whose value is unknown, the
step runs as a non-root USER or through sudo, a target is `/` or lies in a declared VOLUME, a COPY
writes a directory into an ancestor of a target (its files under the target cannot get an owner
without re-owning the rest), a chmod mode is not octal or a plain `who+perm` list, the command sits
inside a compound command (if, pipe, subshell, `||`), or the RUN cannot be parsed (shell errors,
JSON form, a non-POSIX SHELL, a Windows escape). The fix is marked unsafe when a RUN between the
first changed instruction and the step runs as a non-root user: it would see the new owners earlier.
It assumes ARG defaults are not overridden by --build-arg for the COPY owners (the kept find step
uses the step's own variables, so an override still ends with the same owners).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockerfix.refactor.dockerfile.analysis import Analysis, RunScript
from dockerfix.refactor.context.scripts import notes as script_notes, run_created
from dockerfix.refactor.dockerfile.facts import Account, accounts_created, copy_args, created_paths
from dockerfix.refactor.dockerfile.model import Edit, Finding, Fix
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import Command, SWord, value

NAME = "chown-layer"
SUMMARY = "move a later `RUN chown -R`/`chmod -R` into COPY --chown and the steps that create the files"
SAFE = True

# Directories present in every common base image (Debian, Ubuntu, Alpine, busybox test bases).
BASE_DIRS = frozenset(
    "/ /bin /etc /home /opt /root /srv /tmp /usr /usr/bin /usr/lib /usr/local /usr/local/bin "
    "/usr/local/lib /usr/local/share /usr/share /var /var/lib /var/log /var/cache".split()
)
# Symlinks in merged-/usr Debian, Ubuntu and Fedora bases; chown -R on a symlink changes only the link.
BASE_SYMLINKS = frozenset("/bin /sbin /lib /lib32 /lib64 /libx32 /var/run /var/lock".split())
_TEXT_FILTER = re.compile(r"\b(chown|chgrp|chmod)\b")
_TAR = re.compile(r"\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst))$")
_SYMBOLIC = re.compile(r"^[ugoa]+\+[rwx]+(,[ugoa]+\+[rwx]+)*$")
_OCTAL = re.compile(r"^[0-7]{3,4}$")
_OK_OPTS = set("RvcfhP")
_OK_LONG = {"--recursive", "--verbose", "--changes", "--silent", "--quiet", "--no-dereference", "--preserve-root",
            "--no-preserve-root"}


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


class Refuse(Exception):
    pass


def check(a: Analysis):  # type: ignore[no-untyped-def]
    for idx, ins in enumerate(a.instructions):
        if ins.keyword == "RUN" and _TEXT_FILTER.search(ins.logical) and ("R" in ins.logical or "--rec" in ins.logical):
            finding = _check_run(a, idx)
            if finding is not None:
                yield finding


def _check_run(a: Analysis, idx: int) -> Finding | None:
    ins = a.instructions[idx]
    state = a.state(idx)
    rs = a.run_script(idx)
    if rs is None:
        if re.search(r"\bch(own|grp|mod)\b\W+(-\w*R|--recursive)", ins.logical):
            return Finding(NAME, ins.line, "not fixed: this RUN cannot be analysed (JSON form, heredoc feeding a "
                           "command, a non-POSIX shell or a shell syntax error); its recursive chown/chmod is left as is")
        return None
    try:
        ops = _ops(rs, rs.env, state.workdir)
    except Refuse as why:
        return Finding(NAME, ins.line, f"not fixed: {why}")
    if not ops:
        return None
    ops = [op for op in ops if not _made_here(op, rs, a, idx)]
    if not ops:
        return None
    try:
        return _plan(a, idx, rs, ops)
    except Refuse as why:
        return Finding(NAME, ins.line, f"not fixed: {why}")


def _ops(rs: RunScript, env, workdir: str | None) -> list[Op]:  # type: ignore[no-untyped-def]
    ops: list[Op] = []
    cwd = workdir
    for cmd in rs.script.commands:
        name = posixpath.basename(cmd.name)
        if cmd.top and name == "cd" and cmd.args:
            v = value(cmd.args[0], env)
            cwd = join(cwd, v) if v is not None else None
            continue
        if name == "sudo" and any(posixpath.basename(w.raw) in ("chown", "chgrp", "chmod") for w in cmd.args[:3]):
            if any(_recursive_flag(w.raw) for w in cmd.args):
                raise Refuse("the recursive chown/chmod runs through sudo (as a non-root user)")
        if name not in ("chown", "chgrp", "chmod"):
            continue
        op = _parse_op(cmd, name, env, cwd)
        if op is None:
            continue
        if not cmd.top or not rs.script.simple or cmd.redirected:
            raise Refuse(f"`{name} -R` sits inside a compound command (if, pipe, subshell, ||, redirect)")
        ops.append(op)
    return ops


def _recursive_flag(raw: str) -> bool:
    return raw == "--recursive" or (raw.startswith("-") and not raw.startswith("--") and "R" in raw)


def _parse_op(cmd: Command, name: str, env, cwd: str | None) -> Op | None:  # type: ignore[no-untyped-def]
    args = cmd.args
    i = 0
    recursive = False
    while i < len(args) and args[i].raw.startswith("-") and args[i].raw != "-":
        raw = args[i].raw
        if raw == "--":
            i += 1
            break
        if name == "chmod" and not _recursive_flag(raw) and raw[1:2] in "rwxXst":
            break  # `chmod -x`: a mode, not an option
        if raw.startswith("--"):
            if raw == "--recursive":
                recursive = True
            elif raw not in _OK_LONG:
                if not recursive and not any(_recursive_flag(w.raw) for w in args):
                    return None
                raise Refuse(f"`{name}` option {raw} is not handled")
        else:
            letters = set(raw[1:])
            if "R" in letters:
                recursive = True
            if not letters <= _OK_OPTS:
                if not any(_recursive_flag(w.raw) for w in args):
                    return None
                raise Refuse(f"`{name}` option {raw} is not handled (-L/-H follow symlinks)")
        i += 1
    if not recursive:
        return None
    rest = args[i:]
    if len(rest) < 2:
        raise Refuse(f"`{name} -R` has no path")
    spec, paths = rest[0], rest[1:]
    op = Op(cmd, name)
    if name == "chmod":
        mode = value(spec, env)
        if mode is None or not (_OCTAL.match(mode) or _SYMBOLIC.match(mode)):
            raise Refuse(f"chmod mode {spec.raw!r} is not octal or a plain who+perm list")
        op.mode = mode
    else:
        owner = value(spec, env)
        if owner is None:
            raise Refuse(f"the owner {spec.raw!r} has a value the Dockerfile does not give")
        if name == "chgrp":
            op.group, op.group_raw = owner, spec.raw
        else:
            if ":" not in owner and "." in owner and not owner.replace(".", "").isdigit():
                # GNU chown reads `a.b` as user.group only when no user is named `a.b`: ambiguous statically.
                raise Refuse(f"`{spec.raw}` may be a user name with a dot or the old user.group form")
            sep = ":" if ":" in owner else "." if "." in owner else ":"
            user, has_sep, group = owner.partition(sep)
            if has_sep and not group and user:
                raise Refuse(f"`{spec.raw}` (owner with the login group) needs the passwd file to know the group")
            raw_user, _, raw_group = _split_raw(spec.raw, sep)
            op.user, op.group = user or None, group or None
            op.user_raw = raw_user or None
            op.group_raw = raw_group or None
    for w in paths:
        v = value(w, env)
        p = join(cwd, v) if v is not None else None
        if p is None:
            raise Refuse(f"the path {w.raw!r} has a value the Dockerfile does not give")
        if p == "/":
            raise Refuse("the target is the whole filesystem (/)")
        if p in BASE_SYMLINKS:
            raise Refuse(f"{p} is a symlink in common base images: `{name} -R` changes only the link")
        op.paths.append((w, p))
    return op


def _user(state) -> str:  # type: ignore[no-untyped-def]
    from dockerfix.refactor.dockerfile.resolve import UNKNOWN

    return "(a value the Dockerfile does not give)" if state.user == UNKNOWN else str(state.user)


def _split_raw(raw: str, sep: str) -> tuple[str, str, str]:
    depth = 0
    for i, ch in enumerate(raw):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == sep and depth == 0:
            return raw[:i], sep, raw[i + 1 :]
    return raw, "", ""


def _made_here(op: Op, rs: RunScript, a: Analysis, idx: int) -> bool:
    """True when the step itself created every target just before: that chown costs nothing."""
    env = rs.env
    created: list[str] = []
    cwd = a.state(idx).workdir
    for cmd in rs.script.commands:
        if cmd is op.cmd:
            break
        created.extend(c.path for c in run_created(a, idx, cmd, env, cwd))
    if not all(any(is_under(p, c) for c in created) for _, p in op.paths):
        return False
    written = _written_before(a, idx)
    return not any(is_under(w, p) for _, p in op.paths for w in written)


def _stage_range(a: Analysis, idx: int) -> range:
    stage = a.resolved.stage_of(idx)
    first = stage.first + 1 if stage else 0
    return range(first, idx)


def _written_before(a: Analysis, idx: int) -> list[str]:
    out: list[str] = []
    for j in _stage_range(a, idx):
        out.extend(_writes(a, j))
    return out


def _writes(a: Analysis, j: int) -> list[str]:
    key = ("chown-layer:writes", j)
    if key not in a.memo:
        a.memo[key] = _compute_writes(a, j)
    return a.memo[key]  # type: ignore[return-value]


def _compute_writes(a: Analysis, j: int) -> list[str]:
    ins = a.instructions[j]
    st = a.state(j)
    if ins.keyword in ("COPY", "ADD"):
        ca = copy_args(ins, st, a.df.escape)
        return [ca.dest] if ca and ca.dest else []
    if ins.keyword == "WORKDIR":
        w = a.after(j).workdir
        return [w] if w else []
    if ins.keyword == "RUN":
        rs = a.run_script(j)
        if rs is None:
            return []
        return [c.path for cmd in rs.script.commands for c in run_created(a, j, cmd, rs.env, st.workdir)]
    return []


def _targets(ops: list[Op]) -> list[str]:
    out: list[str] = []
    for op in ops:
        for _, p in op.paths:
            if p not in out:
                out.append(p)
    return out


def _covering(ops: list[Op], path: str) -> list[Op]:
    return [op for op in ops if any(is_under(path, p) for _, p in op.paths)]


def _plan(a: Analysis, idx: int, rs: RunScript, ops: list[Op]) -> Finding:
    ins = a.instructions[idx]
    state = a.state(idx)
    if not state.root_or_base_default:
        raise Refuse(f"the step runs as USER {_user(state)}: a non-root chown cannot be moved")
    targets = _targets(ops)
    for t in targets:
        for vol in state.volumes:
            if is_under(t, vol) or is_under(vol, t):
                raise Refuse(f"{t} is in the declared VOLUME {vol}: the classic builder discards later changes there")
    for j in _stage_range(a, idx):
        rs_j = a.run_script(j) if a.instructions[j].keyword == "RUN" else None
        for cmd in rs_j.script.commands if rs_j else ():
            if posixpath.basename(cmd.name) == "ln":
                for c in created_paths(cmd, rs_j.env, a.state(j).workdir):
                    if c.path in targets:
                        raise Refuse(f"{c.path} is made a symlink at line {a.instructions[j].line}: "
                                     "`chown -R` changes only the link")
    accounts = _accounts(a, idx)
    edits: list[Edit] = []
    details: list[str] = []
    touched: list[int] = []
    for j in _stage_range(a, idx):
        other = a.instructions[j]
        if other.keyword in ("COPY", "ADD"):
            e, d = _copy_edit(a, j, ops, accounts, targets)
            edits.extend(e)
            details.extend(d)
            if e:
                touched.append(j)
        elif other.keyword == "RUN":
            e, d = _run_edit(a, j, ops, accounts)
            edits.extend(e)
            details.extend(d)
            if e:
                touched.append(j)
    for op in ops:
        edits.extend(_replace_op(rs, op))
    names = list(dict.fromkeys(op.kind for op in ops))
    verb = "/".join(f"{n} -R" for n in names)
    where = ", ".join(targets)
    moved = len(touched)
    if moved:
        message = (f"`{verb}` stores every file under {where} again in a new layer; ownership moved into "
                   f"{moved} earlier step{'s' if moved != 1 else ''}, the step now changes only what is still wrong")
    else:
        message = (f"`{verb}` stores every file under {where} again in a new layer; the step now changes only "
                   "what is still wrong")
    details.append(f"line {ins.line}: kept as a `find` that changes only paths still wrong "
                   "(base-image files, steps not analysed, directories the builder created)")
    safe = True
    if touched:
        for j in range(min(touched) + 1, idx):
            o = a.instructions[j]
            if o.keyword == "RUN" and not a.state(j).root_or_base_default:
                safe = False
                details.append(f"unsafe: the RUN at line {o.line} runs as USER {_user(a.state(j))} and would see "
                               "the new owners earlier")
                break
    saving, partial = _estimate(a, touched)
    return Finding(NAME, ins.line, message, Fix(edits, safe), details, saving=saving, saving_partial=partial)


def _estimate(a: Analysis, touched: list[int]) -> tuple[int | None, bool]:
    """Bytes no longer stored twice: the context files of the COPY/ADD that now carry the owner.

    Content that RUN steps or other stages make is not known without building: it makes the
    estimate partial ("+ unknown").
    """
    if a.context is None or not a.context.is_dir():
        return None, bool(touched)
    key = "chown-layer:context"
    if key not in a.memo:
        from dockerfix.refactor.context import buildcontext as context

        a.memo[key] = context.load(a.context, a.path)
    ctx = a.memo[key]
    total, partial = 0, False
    for j in touched:
        ins = a.instructions[j]
        ca = copy_args(ins, a.state(j), a.df.escape) if ins.keyword in ("COPY", "ADD") else None
        if ca is None or ins.flag("from") is not None:
            partial = True
            continue
        for src in ca.sources:
            size = ctx.size(src)  # type: ignore[attr-defined]
            if size is None:
                partial = True
            else:
                total += size
    return total, partial


def _accounts(a: Analysis, idx: int) -> list[tuple[int, Account]]:
    """Users and groups created by analysable RUN steps of this stage and the stages it builds on."""
    out: list[tuple[int, Account]] = []
    stage = a.resolved.stage_of(idx)
    chain: list[range] = []
    while stage is not None:
        chain.append(range(stage.first + 1, min(stage.last, idx - 1) + 1))
        stage = a.resolved.stages[stage.parent] if stage.parent is not None else None
    for rng in chain:
        for j in rng:
            out.extend((j, acct) for acct in _accounts_of(a, j))
    return out


def _accounts_of(a: Analysis, j: int) -> list[Account]:
    key = ("chown-layer:accounts", j)
    if key not in a.memo:
        rs = a.run_script(j) if a.instructions[j].keyword == "RUN" else None
        a.memo[key] = [] if rs is None else [
            acct for cmd in rs.script.commands for acct in accounts_created(cmd, rs.env)]
    return a.memo[key]  # type: ignore[return-value]


def _owner_at(name: str | None, kind: str, at: int, accounts: list[tuple[int, Account]]) -> str | None:
    """The spelling of an owner usable at instruction `at`: the name if it exists there, else the id."""
    if name is None or name.isdigit():
        return name
    made = [(j, acc) for j, acc in accounts if acc.name == name and acc.kind == kind]
    if not made:
        return name  # not created by this Dockerfile: it comes from the base image
    if any(j < at for j, _ in made):
        return name
    ids = [acc.uid if kind == "user" else acc.gid for _, acc in made]
    if kind == "group":
        ids += [acc.gid for _, acc in accounts if acc.kind == "user" and acc.name == name and acc.gid]
    known = [i for i in ids if i]
    return known[0] if known else None


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


def _parent_exists(a: Analysis, at: int, target: str) -> bool:
    parent = posixpath.dirname(target)
    if parent in BASE_DIRS:
        return True
    for j in _stage_range(a, at):
        for w in _writes(a, j):
            if is_under(w, parent):
                return True
    # The stage it builds on may have made it.
    return False


def _copy_edit(a: Analysis, j: int, ops: list[Op], accounts, targets: list[str]) -> tuple[list[Edit], list[str]]:  # type: ignore[no-untyped-def]
    ins = a.instructions[j]
    st = a.state(j)
    ca = copy_args(ins, st, a.df.escape)
    if ca is None:
        return [], []
    if ca.dest is None:
        raise Refuse(f"the destination of the {ins.keyword} at line {ins.line} ({ca.dest_raw}) cannot be resolved")
    covering = _covering(ops, ca.dest)
    if not covering:
        for t in targets:
            if is_under(t, ca.dest) and ca.dest != t and _may_write_under(a, ins, ca, t):
                raise Refuse(f"the {ins.keyword} at line {ins.line} writes into {ca.dest}, above {t}: its files under "
                             f"{t} cannot get an owner without re-owning the rest")
        return [], []
    tag = f"line {ins.line}: {ins.keyword}"
    if all(op.kind == "chmod" for op in covering):
        return [], [f"{tag} left as is: only its mode changes, which --chown cannot carry"]
    if ins.keyword == "ADD" and any(_TAR.search(s) for s in ca.sources):
        return [], [f"{tag} left as is: ADD of a local archive honours --chown only from frontend 1.17"]
    if not all(_parent_exists(a, j, t) for t in {p for op in covering for _, p in op.paths if is_under(ca.dest, p)}):
        return [], [f"{tag} left as is: a directory above the target may not exist yet, and --chown would give it the "
                    "new owner"]
    existing = ins.flag("chown")
    start_user, start_group = "0", "0"
    if existing is not None:
        val = st.expand(existing.value or "", a.df.escape)
        if val is None:
            return [], [f"{tag} left as is: its --chown value is unknown"]
        u, has_g, g = val.partition(":")
        if not has_g:
            # Without a group, the builder uses the user's numeric id as the group id.
            g = u if u.isdigit() else next((acc.uid for _, acc in accounts if acc.name == u and acc.uid), "")
            if not g:
                return [], [f"{tag} left as is: --chown={val} without a group uses the user's id, unknown here"]
        start_user, start_group = u, g
    user, group = _final_owner(covering, start_user, start_group)
    u_spell = _owner_at(user, "user", j, accounts)
    g_spell = _owner_at(group, "group", j, accounts)
    if u_spell is None or g_spell is None:
        missing = user if u_spell is None else group
        return [], [f"{tag} left as is: `{missing}` is created after it and its numeric id is not written in the "
                    "Dockerfile (BuildKit would silently use 0)"]
    flag = f"--chown={u_spell}:{g_spell}"
    if existing is not None:
        if "\n" in a.df.text[existing.start : existing.end]:
            return [], [f"{tag} left as is: its --chown flag spans a line continuation"]
        if a.df.text[existing.start : existing.end] == flag:
            return [], []
        return [Edit(existing.start, existing.end, flag)], [f"{tag}: --chown replaced by {flag} (its files land under "
                                                            f"{ca.dest})"]
    at = ins.raw(ins.args_offset)
    return [Edit(at, at, flag + " ")], [f"{tag} gets {flag} (its files land under {ca.dest})"]


def _may_write_under(a: Analysis, ins, ca, target: str) -> bool:  # type: ignore[no-untyped-def]
    """A COPY into an ancestor of the target writes under it unless every source is a plain file."""
    if ins.flag("from") is not None or a.context is None:
        return True
    rel = posixpath.relpath(target, ca.dest)
    first = rel.split("/", 1)[0]
    for src in ca.sources:
        if src.startswith("<<") or any(ch in src for ch in "*?[$"):
            return True
        p = a.context / src
        try:
            if not p.is_file():
                return True
        except OSError:
            return True
        if not ca.dest_is_dir:
            return True
        if posixpath.basename(src.rstrip("/")) == first:
            return True
    return False


def _run_edit(a: Analysis, j: int, ops: list[Op], accounts) -> tuple[list[Edit], list[str]]:  # type: ignore[no-untyped-def]
    st = a.state(j)
    ins = a.instructions[j]
    rs = a.run_script(j)
    if rs is None or not st.root_or_base_default:
        return [], []
    cwd = st.workdir
    made: list[tuple[str, str | None, list[Op]]] = []
    saw_cd = False
    for cmd in rs.script.commands:
        if cmd.top and posixpath.basename(cmd.name) == "cd":
            saw_cd = True
            v = value(cmd.args[0], rs.env) if cmd.args else None
            cwd = join(cwd, v) if v is not None else None
            continue
        for c in run_created(a, j, cmd, rs.env, cwd):
            covering = _covering(ops, c.path)
            if not covering or not cmd.top:
                continue
            if any(is_under(c.path, m[0]) for m in made):
                continue
            made.append((c.path, None if saw_cd else c.raw, covering))
    if not made:
        return [], script_notes(a, j, [p for op in ops for _, p in op.paths])
    tag = f"line {ins.line}: RUN"
    if not rs.script.errexit:
        return [], [f"{tag} left as is: its commands are not joined by && (nor `set -e`), so a path may be missing"]
    written = _written_before(a, j)
    notes = [f"{tag} creates {path}: its owner is set in the same step" for path, _, _ in made]
    pieces: list[str] = []
    # One command per operation, in the step's order, so each path sees the same sequence of changes.
    for op in dict.fromkeys(op for _, _, covering in made for op in covering):
        fresh: list[str] = []
        stale: list[str] = []
        for path, raw, covering in made:
            if op in covering:
                word = raw if raw is not None else _quote(path)
                (fresh if not any(is_under(w, path) for w in written) else stale).append(word)
        if op.kind == "chmod":
            spec, u, g = op.mode or "", None, None
        else:
            u = _owner_at(op.user, "user", j, accounts) if op.user else None
            g = _owner_at(op.group, "group", j, accounts) if op.group else None
            if (op.user and u is None) or (op.group and g is None):
                return [], [f"{tag} left as is: the owner is created after it and its id is unknown"]
            spec = (g or "") if op.kind == "chgrp" else f"{u or ''}{':' + g if g else ''}"
        if fresh:
            pieces.append(f"{op.kind} -R {spec} {' '.join(fresh)}")
        if stale:
            pieces.append(f"find {' '.join(stale)}{_find_tail(op.kind, u, g, op.mode)}")
    text = " && ".join(pieces)
    if rs.heredoc:
        return [Edit(rs.append_at, rs.append_at, text + a.df.newline)], notes
    return [Edit(rs.append_at, rs.append_at, " && " + text)], notes


def _quote(path: str) -> str:
    return path if re.fullmatch(r"[\w@%+=:,./-]+", path) else "'" + path.replace("'", "'\\''") + "'"


def _find_tail(kind: str, user: str | None, group: str | None, mode: str | None) -> str:
    """The part of `find PATHS …` that selects what is still wrong and fixes it."""
    if kind == "chmod":
        mode = mode or ""
        test = f"! -perm {mode}" if _OCTAL.match(mode) else f"! -perm -{mode}"
        return f" ! -type l {test} -exec chmod {mode} {{}} +"
    tests = []
    if user:
        tests.append(f"! -user {user}")
    if group:
        tests.append(f"! -group {group}")
    # root's chown also clears setuid/setgid: files that carry them must still be chowned.
    tests += ["-perm -4000", "-perm -2000"]
    spec = group if kind == "chgrp" else f"{user or ''}{':' + group if group else ''}"
    return f" \\( {' -o '.join(tests)} \\) -exec {kind} -h {spec} {{}} +"


def _replace_op(rs: RunScript, op: Op) -> list[Edit]:
    """Turn `chown -R OWNER PATHS` into `find PATHS … -exec chown -h OWNER {} +`, in place.

    Only the command name through the owner word is replaced, and the tail inserted after the last
    path, so a continuation or a comment line between the paths stays where it was.
    """
    cmd = op.cmd
    paths_words = [w for w, _ in op.paths]
    head_start, _ = rs.raw_span(cmd.start, cmd.start + 1)
    first_path_start = rs.to_raw(paths_words[0].start)
    _, last_end = rs.raw_span(paths_words[-1].start, paths_words[-1].end)
    tail = _find_tail(op.kind, op.user_raw if op.user else None, op.group_raw if op.group else None, op.mode)
    if "\n" not in rs.source[head_start:first_path_start]:
        return [Edit(head_start, first_path_start, "find "), Edit(last_end, last_end, tail)]
    # A continuation before the paths: replace up to the owner word only, so the line break (and any
    # comment line) stays; if the options themselves span lines, change word by word.
    before = [w for w in cmd.words if w.start < paths_words[0].start]
    owner_end = rs.raw_span(before[-1].start, before[-1].end)[1]
    if "\n" not in rs.source[head_start:owner_end]:
        return [Edit(head_start, owner_end, "find"), Edit(last_end, last_end, tail)]
    edits = [Edit(head_start, rs.raw_span(cmd.words[0].start, cmd.words[0].end)[1], "find")]
    for w in before[1:]:
        s0, e0 = rs.raw_span(w.start, w.end)
        edits.append(Edit(s0, e0, ""))
    edits.append(Edit(last_end, last_end, tail))
    return edits
