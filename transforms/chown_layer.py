"""chown-layer: a later `RUN chown -R` / `chgrp -R` / `chmod -R` stores every file under its paths again.

Docker behaviour this relies on (docs/builder-semantics.md has each with its source):
- A layer stores every file a step created or changed, whole; changing only the owner or mode of a
  file from an earlier layer stores it again. A chown inside the step that created the files is free.
- `COPY --chown=U:G` / `ADD --chown=U:G` write the files with that owner in the same layer. USER does
  not affect COPY/ADD. Names in --chown are looked up in the stage's /etc/passwd at that point (buildah
  rejects an unknown name, BuildKit silently uses 0); `--chown=user` without a group takes the user's
  primary group.
- Directories that `COPY --chown` creates get the new owner (BuildKit, buildah); existing ones keep theirs.
  BuildKit creates a WORKDIR at once, buildah only when a later RUN needs it.
- The builder follows symlinks in a COPY destination; `chown -R` never follows one; GNU `chmod -R`
  follows a symlink named on its command line. root's chown clears setuid/setgid bits.

What the fix does:
1. COPY/ADD before the step whose destination lies under a target path get `--chown` (an existing
   one is replaced by the owner the step would have given).
2. RUN steps (as root) that create paths under a target (mkdir, git clone, python -m venv, cp, mv,
   tar -C, unzip -d, pip install --target, curl -o, wget -O, touch, ln, install) get the ownership in
   the same step, appended as `&& chown -R U:G PATH` (a fresh path) or as a `find` (a path that
   already had content).
3. The step itself is kept but changes only what is still wrong:
   `find PATH \\( ! -user U -o ! -group G -o -perm -4000 -o -perm -2000 \\) -exec chown -h U:G {} +`
   (and `find PATH ! -type l ! -perm MODE -exec chmod MODE {} +` for chmod).
When nothing can move into an earlier step, there is no fix (a `find` alone would change the same
files): the finding says why, and `check` does not fail for it.

Facts a fix rests on, and where each comes from. A fix is safe only when every one is proven by the
Dockerfile or read from the base image (or is a documented default of a well-known base, listed below,
which its details name); a fact that is only assumed makes the fix unsafe, and its details say which;
where a step cannot be given the owner, it is left alone with the reason.
- Every directory above a target exists, as a real directory, where a COPY gets --chown: proven by the
  steps before it in this stage and the stages it builds on (mkdir, COPY, a WORKDIR once a RUN ran,
  rm/mv/ln undo it), or by the base image's paths.
- No path from the target down to the COPY destination is a symlink (a link from a parent stage, mv,
  `cd x && ln -s`, the build context or the base image): same sources. A chmod target must be proven
  not to be a symlink, else the step is refused.
- A user/group named in --chown exists at that COPY (an analysed useradd/adduser/groupadd before it, also in
  exec form `RUN ["useradd", ...]`, or the base image's /etc/passwd and /etc/group), else its numeric id
  from the Dockerfile is written, else the RUN that makes it is moved above the COPY when that is neutral
  (it only makes accounts, runs with the same ENV/ARG, USER, SHELL, WORKDIR and VOLUMEs there, and no step
  it moves over touches the account files, /etc/skel, the homes or what is above them, or installs packages;
  account steps between move along in their order: transforms/_chown/moves.py; the layer order and history
  change, the image does not),
  else the COPY is left alone and the finding says what to move or which ids to write. For `--chown=user`,
  its primary group must be known the same way.
- A variable's value in this stage: ENV and ARG of this stage (ARGs do not cross FROM; an ARG whose name
  the base image's ENV may set is unknown unless the base's ENV names are known); `--build-arg` is
  assumed not to override ARG defaults used in COPY owners (the kept `find` uses the step's own words).
- The targets lie outside every VOLUME: this Dockerfile's and the base image's (unknown: assumption).
- A path that gets an appended chown still exists, as a file or directory, when its RUN ends (a later
  rm/mv, a `||` fallback, a condition: left alone).
- No step between the earliest changed step and the chown sees the owners: `cp -a`/`-p`, `mv`, hard
  links, `tar -c`, `rsync`, `find`, `ls`, `git`, a non-root USER, `su`/`runuser`/`gosu`/`setpriv`/`sudo`,
  a script or an unanalysable RUN. Ownership only moves into steps after the last such step. Assumed
  (documented): other root commands read contents only, and a command changes only the paths it names.
- The kept step's `find` exists: read from the base image, or a documented default; a step that removes
  it refuses; unknown: assumption. The steps without USER run as root: the base's default user.

It refuses (reports, no fix) when: a target path or owner uses a variable whose value is unknown, the
step runs as a non-root USER or through sudo, a target is `/` or lies in a declared VOLUME, a --mount
covers a target, a COPY writes a directory into an ancestor of a target (its files under the target
cannot get an owner without re-owning the rest), a chmod mode is not octal or a plain `who+perm` list,
the chown itself runs only under a condition (if, pipe, subshell, next to `||`), the owner is empty
(`chown -R :`), `cd` goes where the analysis cannot follow (`cd` alone, `cd -`, `cd -P`, `popd`), or
the RUN cannot be parsed (shell errors, JSON form, a non-POSIX SHELL, a Windows escape).
"""

from __future__ import annotations

import posixpath
import re

from dockerfix.refactor.dockerfile import knownbases
from dockerfix.refactor.context.scripts import run_created
from dockerfix.refactor.dockerfile.analysis import Analysis, RunScript
from dockerfix.refactor.dockerfile.basefacts import DIR, FILE, MISSING
from dockerfix.refactor.dockerfile.facts import certain, copy_args, walk
from dockerfix.refactor.dockerfile.model import Edit, Finding, Fix
from dockerfix.refactor.dockerfile.resolve import UNKNOWN, is_under, join
from dockerfix.refactor.dockerfile.shell import Command, SWord, value
from dockerfix.transforms._chown import paths, readers
from dockerfix.transforms._chown.edits import OCTAL, estimate, quote, replace_op
from dockerfix.transforms._chown.model import Basis, Op, Refuse, _stage_range, _targets, _written_before, _wrote_under
from dockerfix.transforms._chown.steps import _copy_edit, _run_edit

NAME = "chown-layer"
SUMMARY = "move a later `RUN chown -R`/`chmod -R` into COPY --chown and the steps that create the files"
SAFE = True

_TEXT_FILTER = re.compile(r"\b(chown|chgrp|chmod)\b")
_SYMBOLIC = re.compile(r"^[ugoa]+\+[rwx]+(,[ugoa]+\+[rwx]+)*$")
_OK_OPTS = set("RvcfhP")
_OK_LONG = {"--recursive", "--verbose", "--changes", "--silent", "--quiet", "--no-dereference", "--preserve-root",
            "--no-preserve-root"}


def check(a: Analysis):  # type: ignore[no-untyped-def]
    for idx, ins in enumerate(a.instructions):
        if ins.keyword == "RUN" and _TEXT_FILTER.search(ins.logical) and ("R" in ins.logical or "--rec" in ins.logical):
            finding = _check_run(a, idx)
            if finding is not None:
                yield finding


def _check_run(a: Analysis, idx: int) -> Finding | None:
    ins = a.instructions[idx]
    rs = a.run_script(idx)
    if rs is None:
        if re.search(r"\bch(own|grp|mod)\b\W+(-\w*R|--recursive)", ins.logical):
            return Finding(NAME, ins.line, "not fixed: this RUN cannot be analysed (JSON form, heredoc feeding a "
                           "command, a non-POSIX shell or a shell syntax error); its recursive chown/chmod is left as is")
        return None
    try:
        ops = _ops(a, idx, rs)
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


def _ops(a: Analysis, idx: int, rs: RunScript) -> list[Op]:
    ops: list[Op] = []
    for cmd, cwd in walk(rs.script, rs.env, a.state(idx).workdir):
        name = posixpath.basename(cmd.name)
        if name == "sudo" and any(posixpath.basename(w.raw) in ("chown", "chgrp", "chmod") for w in cmd.args[:3]):
            if any(_recursive_flag(w.raw) for w in cmd.args):
                raise Refuse("the recursive chown/chmod runs through sudo (as a non-root user)")
        if name not in ("chown", "chgrp", "chmod"):
            continue
        op = _parse_op(cmd, name, rs.env, cwd)
        if op is None:
            continue
        if not certain(rs.script, cmd) or cmd.redirected:
            raise Refuse(f"this `{name} -R` runs only under a condition (inside if, a pipe or a subshell, next to ||) "
                         "or has a redirect")
        ops.append(op)
    return ops


def _recursive_flag(raw: str) -> bool:
    return raw == "--recursive" or (raw.startswith("-") and not raw.startswith("--") and "R" in raw)


def _parse_op(cmd: Command, name: str, env, cwd: str | None) -> Op | None:  # type: ignore[no-untyped-def]
    # GNU and busybox getopt permute: options may follow the owner (`chown app:app -R /srv`), except after `--`.
    # For chmod, a word like `-w` is a mode, so only the words before the mode are options.
    rest: list[SWord] = []
    recursive = False
    ended = False
    for w in cmd.args:
        raw = w.raw
        if ended or not raw.startswith("-") or raw == "-" or (name == "chmod" and rest):
            rest.append(w)
            continue
        if raw == "--":
            ended = True
            continue
        if name == "chmod" and not _recursive_flag(raw) and raw[1:2] in "rwxXst":
            rest.append(w)  # `chmod -x`: a mode, not an option
            continue
        if raw.startswith("--"):
            if raw == "--recursive":
                recursive = True
            elif raw not in _OK_LONG:
                if not recursive and not any(_recursive_flag(x.raw) for x in cmd.args):
                    return None
                raise Refuse(f"`{name}` option {raw} is not handled")
        else:
            letters = set(raw[1:])
            if "R" in letters:
                recursive = True
            if not letters <= _OK_OPTS:
                if not any(_recursive_flag(x.raw) for x in cmd.args):
                    return None
                raise Refuse(f"`{name}` option {raw} is not handled (-L/-H follow symlinks)")
    if not recursive:
        return None
    if len(rest) < 2:
        raise Refuse(f"`{name} -R` has no path")
    spec, words = rest[0], rest[1:]
    op = Op(cmd, name)
    if name == "chmod":
        mode = value(spec, env)
        if mode is None or not (OCTAL.match(mode) or _SYMBOLIC.match(mode)):
            raise Refuse(f"chmod mode {spec.raw!r} is not octal or a plain who+perm list")
        op.mode = mode
    else:
        _owner(op, spec, env)
    for w in words:
        v = value(w, env)
        p = join(cwd, v) if v is not None else None
        if p is None:
            raise Refuse(f"the path {w.raw!r} has a value the Dockerfile does not give")
        if p == "/":
            raise Refuse("the target is the whole filesystem (/)")
        op.paths.append((w, p))
    return op


def _owner(op: Op, spec: SWord, env) -> None:  # type: ignore[no-untyped-def]
    owner = value(spec, env)
    if owner is None:
        raise Refuse(f"the owner {spec.raw!r} has a value the Dockerfile does not give")
    if op.kind == "chgrp":
        if not owner:
            raise Refuse(f"`chgrp -R {spec.raw}` names no group")
        op.group, op.group_raw = owner, _requote(spec.raw, owner)
        return
    if ":" not in owner and "." in owner and not owner.replace(".", "").isdigit():
        # GNU chown reads `a.b` as user.group only when no user is named `a.b`: ambiguous statically.
        raise Refuse(f"`{spec.raw}` may be a user name with a dot or the old user.group form")
    sep = ":" if ":" in owner else "." if "." in owner else ":"
    user, has_sep, group = owner.partition(sep)
    if has_sep and not group and user:
        raise Refuse(f"`{spec.raw}` (owner with the login group) needs the passwd file to know the group")
    if not user and not group:
        raise Refuse(f"`chown -R {spec.raw}` changes no owner")
    raw = spec.raw
    if len(raw) >= 2 and raw[0] == raw[-1] == '"' and '"' not in raw[1:-1] and "\\" not in raw:
        # `"app:app"`, `"${U}:${G}"`: split inside the quotes and quote each part.
        raw_user, _, raw_group = _split_raw(raw[1:-1], sep)
        raw_user, raw_group = (f'"{raw_user}"' if raw_user else ""), (f'"{raw_group}"' if raw_group else "")
    elif any(ch in raw for ch in "'\"\\"):
        raw_user, raw_group = quote(user) if user else "", quote(group) if group else ""
    else:
        raw_user, _, raw_group = _split_raw(raw, sep)
    op.user, op.group = user or None, group or None
    op.user_raw, op.group_raw = raw_user or None, raw_group or None


def _requote(raw: str, val: str) -> str:
    return raw if not any(ch in raw for ch in "'\"\\") else quote(val)


def _user(state) -> str:  # type: ignore[no-untyped-def]
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
    created: list[str] = []
    for cmd, cwd in walk(rs.script, rs.env, a.state(idx).workdir):
        if cmd is op.cmd:
            break
        created.extend(c.path for c in run_created(a, idx, cmd, rs.env, cwd))
    if not all(any(is_under(p, c) for c in created) for _, p in op.paths):
        return False
    written = _written_before(a, idx)
    return not any(_wrote_under(written, p) for _, p in op.paths)


def _plan(a: Analysis, idx: int, rs: RunScript, ops: list[Op]) -> Finding:
    ins = a.instructions[idx]
    state = a.state(idx)
    if not state.root_or_base_default:
        raise Refuse(f"the step runs as USER {_user(state)}: a non-root chown cannot be moved")
    targets = _targets(ops)
    for flag in ins.flags:
        mount = dict(kv.partition("=")[::2] for kv in (flag.value or "").split(",")) if flag.name == "mount" else {}
        where = mount.get("target") or mount.get("dst") or mount.get("destination")
        if where and any(is_under(t, join(state.workdir or "/", where) or where) for t in targets):
            raise Refuse(f"a --mount covers {where}: the step changes the mount, not the image (BuildKit)")
    basis = Basis()
    _check_volumes(a, idx, targets, basis)
    for op in ops:
        if op.kind == "chmod":
            for _, t in op.paths:
                k = paths.kind_at(a, idx, t, before_cmd=op.cmd)
                if k.kind not in (DIR, FILE, MISSING):
                    what = "is a symlink" if k.kind == "symlink" else f"may be a symlink ({k.why or 'not known'})"
                    raise Refuse(f"{t} {what}: `chmod -R` follows a symlink it is given, `find` does not")
                basis.use(k.defaults)
    _check_find(a, idx, basis)
    # Ownership moves only into steps after the last one that may see owners under the targets.
    limit, limit_why = -1, ""
    own = readers.step_reads(a, idx, targets, before=_first_cmd(ops))
    if own:
        limit, limit_why = idx, f"the RUN itself, before the `{ops[0].kind}`: {own}"
    else:
        for j in reversed(_stage_range(a, idx)):
            why = readers.step_reads(a, j, targets)
            if why:
                limit, limit_why = j, f"the RUN at line {a.instructions[j].line}: {why}"
                break
    base_user = _base_user_root(a, idx, basis)
    edits: list[Edit] = []
    details: list[str] = []
    touched: list[int] = []
    for j in _stage_range(a, idx):
        other = a.instructions[j]
        if other.keyword not in ("COPY", "ADD", "RUN"):
            continue
        if j < limit or (j == limit and other.keyword != "RUN"):
            if other.keyword in ("COPY", "ADD") and _copy_dest_under(a, j, targets) or other.keyword == "RUN" and \
                    _run_edit(a, j, ops, idx, Basis())[0]:
                details.append(f"line {other.line}: {other.keyword} left as is: {limit_why}, which would see the new "
                               "owners earlier")
            continue
        if other.keyword in ("COPY", "ADD"):
            e, d = _copy_edit(a, j, ops, idx, targets, basis)
        else:
            e, d = _run_edit(a, j, ops, idx, basis)
        edits.extend(e)
        details.extend(d)
        if e:
            touched.append(j)
    verb = "/".join(f"{n} -R" for n in dict.fromkeys(op.kind for op in ops))
    where = ", ".join(targets)
    if not touched:
        why = "; ".join(d.split(": ", 1)[1] for d in details if " left as is: " in d) or \
            "no earlier step of this stage writes under the target"
        return Finding(NAME, ins.line, f"not fixed: `{verb}` stores every file under {where} again, but no earlier "
                       f"step can take the ownership ({why}); a `find` alone would change the same files",
                       None, details)
    for op in ops:
        edits.extend(replace_op(rs, op))
    moved = len(touched)
    message = (f"`{verb}` stores every file under {where} again in a new layer; ownership moved into "
               f"{moved} earlier step{'s' if moved != 1 else ''}, the step now changes only what is still wrong")
    details.append(f"line {ins.line}: kept as a `find` that changes only paths still wrong "
                   "(base-image files, steps not analysed, directories the builder created)")
    if not base_user:
        basis.assumptions.append(f"the base image {a.base(idx).image!r} runs as root by default")  # type: ignore[union-attr]
    for d in basis.defaults:
        details.append(f"relies on a documented default ({d})")
    for why in basis.assumptions:
        details.append(f"unsafe: assumes {why}")
    saving, partial = estimate(a, touched)
    return Finding(NAME, ins.line, message, Fix(edits, not basis.assumptions), details, saving=saving,
                   saving_partial=partial)


def _first_cmd(ops: list[Op]) -> Command:
    return min((op.cmd for op in ops), key=lambda c: c.start)


def _check_volumes(a: Analysis, idx: int, targets: list[str], basis: Basis) -> None:
    state = a.state(idx)
    facts = a.base(idx)
    base_vols = facts.volumes if facts is not None else None
    for t in targets:
        for vol in list(state.volumes) + sorted(base_vols or ()):
            if is_under(t, vol) or is_under(vol, t):
                raise Refuse(f"{t} is in the declared VOLUME {vol}: the classic builder and buildah discard later "
                             "changes there")
    if facts is not None and base_vols is None:
        basis.assumptions.append(f"the base image {facts.image!r} declares no VOLUME over {', '.join(targets)}")
    elif facts is not None and not facts.read:
        basis.use([f"{facts.source}: no VOLUME"])


def _check_find(a: Analysis, idx: int, basis: Basis) -> None:
    facts = a.base(idx)
    has = facts.has_tool("find") if facts is not None else None
    if has is False:
        raise Refuse(f"the base image {facts.image!r} has no `find`, which the kept step needs")  # type: ignore[union-attr]
    for j in paths.chain(a, idx):
        rs = a.run_script(j) if a.instructions[j].keyword == "RUN" else None
        for cmd in rs.script.commands if rs else ():
            words = [w.raw for w in cmd.words]
            if posixpath.basename(cmd.name) in ("rm", "unlink", "mv") and any(_names_find(w) for w in words[1:]) \
                    or "findutils" in words[1:]:
                raise Refuse(f"the RUN at line {a.instructions[j].line} may remove `find`, which the kept step needs")
    if has is None:
        basis.assumptions.append(f"`find` exists in the base image {facts.image if facts else '?'!r}")
    elif facts is not None and not facts.read:
        basis.use([f"{facts.source}: `find` exists"])


_BIN_DIRS = ("/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")


def _names_find(word: str) -> bool:
    """A word of rm/mv that may name the `find` program: `…/find`, or a glob in a directory of programs."""
    word = word.strip("'\"").rstrip("/")
    if posixpath.basename(word) == "find":
        return True
    return any(ch in word for ch in "*?[$") and posixpath.dirname(word) in _BIN_DIRS + ("",)


def _base_user_root(a: Analysis, idx: int, basis: Basis) -> bool:
    """Whether the steps without USER run as root: the base image's default user is root."""
    facts = a.base(idx)
    if facts is None or facts.user is None:
        return False
    if facts.user not in ("", "root", "0", "0:0", "root:root"):
        return False
    if not facts.read:
        basis.use([f"{facts.source}: the default user is root"])
    return True


def _copy_dest_under(a: Analysis, j: int, targets: list[str]) -> bool:
    ins = a.instructions[j]
    ca = copy_args(ins, a.state(j), a.df.escape)
    return ca is not None and ca.dest is not None and any(is_under(ca.dest, t) for t in targets)


# What `dockerfix explain chown-layer` prints ends with the well-known bases' defaults.
__doc__ = (__doc__ or "") + "\n" + knownbases.describe() + "\n"
