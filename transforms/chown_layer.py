"""chown-layer: a later `RUN chown -R` / `chgrp -R` / `chmod -R` stores every file under its paths again.

Docker behaviour this relies on (docs/builder-semantics.md has each with its source):
- A layer stores every file a step created or changed, whole; changing only the owner or mode of a
  file from an earlier layer stores it again. A chown inside the step that created the files is free.
- `COPY --chown=U:G` / `ADD --chown=U:G` write the files with that owner in the same layer. USER does
  not affect COPY/ADD. Names in --chown are looked up in the stage's /etc/passwd at that point (buildah
  rejects an unknown name, BuildKit silently uses 0); `--chown=user` without a group takes the user's
  primary group.
- COPY/ADD from the build context write 0:0 without --chown; `COPY --from` keeps the owners the files have in
  the other stage, so a chown that sets only the user or the group gives such a COPY no --chown.
- Directories that `COPY --chown` creates get the new owner (BuildKit, buildah); existing ones keep theirs.
  BuildKit creates a WORKDIR at once, buildah only when a later RUN needs it.
- The builder follows symlinks in a COPY destination; `chown -R` never follows one; GNU `chmod -R`
  follows a symlink named on its command line. root's chown clears setuid/setgid bits and file capabilities
  (`security.capability`, which `setcap` sets) on every file, even when the owner stays the same.

What the fix does:
1. COPY/ADD before the step whose destination lies under a target path get `--chown` (an existing
   one is replaced by the owner the step would have given).
2. RUN steps (as root) that create paths under a target (mkdir, git clone, python -m venv, cp, mv,
   tar -C, unzip -d, pip install --target, curl -o, wget -O, touch, ln, install) get the ownership in
   the same step, appended as `&& chown -R U:G PATH` (a fresh path) or as a `find` (a path that
   already had content).
   For `chmod -R`, a COPY of step 1 gets `--chmod=OCTAL` instead (or as well) where every builder the file's
   syntax allows gives the same final modes (transforms/_chown/modes.py states the rules): octal only (buildah
   1.28 rejects symbolic; BuildKit from Dockerfile 1.14), only where every directory the COPY creates or touches
   lies under the target (BuildKit 0.21+ gives those directories the mode, buildah 1.28 and BuildKit 0.13 only
   the copied subdirectories: the kept step settles them either way); a symbolic mode as the octal it gives the
   one context file copied to a file path. The classic builder rejects --chmod: without a `# syntax=` of 1.2+ or
   another BuildKit/buildah-only feature in the file, the fix assumes BuildKit or buildah (unsafe), and a fix that
   is safe without the --chmod drops it.
3. The step itself is kept but changes only what is still wrong:
   `find PATH \\( ! -user U -o ! -group G -o -perm -4000 -o -perm -2000 \\) -exec chown -h U:G {} +`
   (and `find PATH ! -type l ! -perm MODE -exec chmod MODE {} +` for chmod; for a symbolic mode a test of the
   permission bits that selects exactly what it changes, transforms/_chown/symbolic.py states which modes).
   A COPY saves only the files the kept steps leave alone (their build-context modes, or its --chmod): one whose
   files would all be changed again is left as is, and a fix that then moves nothing is reported, not offered
   (transforms/_chown/gain.py); without the build context its files count and the estimate is partial.
4. Unsafe, only when 1-3 move nothing: a root RUN whose code the analysis cannot read (`curl … | sh`, a script
   not from the build context, a program it cannot follow, a JSON-form RUN) is the reason no earlier step may
   take the ownership. It then runs as the owner: `USER U:G` before it, the user it ran as after it (the spelling
   of the USER in effect; over a base whose User is empty, `USER root` only when a later USER of the stage sets
   the config anyway), so earlier steps take the ownership and what it writes under the target already has it.
   Only for a `chown -R U:G` whose user and group exist at that step (or are numeric), a step known to run as
   root (USER root/0, or the base's default user read or documented as root), not the chown's own RUN, and not
   a step that also runs a command the analysis knows to see owners (`cp -a`, `su`, …), nor a step whose WORKDIR
   may not exist yet (buildah makes it at that step, as the user it runs as). Its details say what it
   assumes: the step writes nothing outside the target (there its files would get the owner, or could not be
   written), does not archive, copy or act on the owners it sees (now the owner's), needs no root rights, and
   $HOME-dependent files it writes (~/.gitconfig, caches) move to the owner's home. USER sets the user and
   group of RUN steps only, and is part of the image config. Where 1-3 move something, that safe fix is the
   one offered, and its details name the wrap and what it would add.
When nothing can move into an earlier step (not even with 4), there is no fix (a `find` alone would change the
same files): the finding says why (and why 4 was not offered), and `check` does not fail for it.

Facts a fix rests on, and where each comes from. A fix is safe only when every one is proven by the
Dockerfile or read from the base image (or is a documented default of a well-known base, listed below,
which its details name); a fact that is only assumed makes the fix unsafe, and its details say which;
where a step cannot be given the owner, it is left alone with the reason.
- A COPY that gets --chown creates no directory above a target: the target exists there on both builders
  (a symlink above it then changes nothing: the COPY writes through it into the tree `chown -R` re-owns
  through it), or its parent does; a WORKDIR no RUN has used yet does not count (buildah creates it and
  its missing parents at that COPY, with the new owner). Proven by the steps before it in this stage and
  the stages it builds on (mkdir, COPY, a RUN in the directory; rm/mv/ln undo it), or by the base image's
  paths; where only the base image is not known (`WORKDIR`/`mkdir -p` of a path it may have), assumed.
- No path from the target down to the COPY destination is a symlink (a link from a parent stage, mv,
  `cd x && ln -s`, the build context or the base image): same sources. A chmod target must be proven
  not to be a symlink: where only an unread base image could hold one (the Dockerfile makes none there), that
  is an assumption (unsafe); where a step makes or may make one, the step is refused.
- A user/group named in --chown exists at that COPY (an analysed useradd/adduser/groupadd before it, also in
  exec form `RUN ["useradd", ...]`, or the base image's /etc/passwd and /etc/group), else its numeric id
  from the Dockerfile is written, else the RUN that makes it is moved above the COPY when that is neutral
  (it only makes accounts, runs with the same ENV/ARG, USER, SHELL, WORKDIR and VOLUMEs there, and no step
  it moves over touches the account files, /etc/skel, the homes or what is above them, or installs packages;
  account steps between move along in their order: transforms/_chown/moves.py; the layer order and history
  change, the image does not),
  else the COPY is left alone and the finding says what to move or which ids to write. For `--chown=user`,
  its primary group must be known the same way.
- A variable's value in this stage: ENV and ARG of this stage (ARGs do not cross FROM). An ENV the
  stage sets to a literal is certain whatever the base. An ENV of the base image wins over an ARG of the
  same name (buildah; BuildKit uses the ARG), so a chown path or owner, or a COPY destination that gets
  --chown, resting on an ARG (or an ENV set from one, `ENV P=$P`) whose name the base's ENV may set is
  certain only when the base's ENV names are known (read, or documented below); over an unknown base it
  is an assumption, named ("the base image 'x' does not set ENV P"). A value that only the base's ENV
  gives (`$NB_USER`) is refused, saying so; so is a VOLUME whose path is unknown. `--build-arg` is
  assumed not to override ARG defaults used in COPY owners (the kept `find` uses the step's own words).
- The targets lie outside every VOLUME: this Dockerfile's and the base image's (unknown: assumption).
- A path that gets an appended chown still exists, as a file or directory, when its RUN ends (a later
  rm/mv, a `||` fallback, a condition: left alone).
- No step between the earliest changed step and the chown sees the owners: `cp -a`/`-p`, `mv`, hard
  links, `tar -c`, `rsync`, `find`, `ls`, `git`, a non-root USER, `su`/`runuser`/`gosu`/`setpriv`/`sudo`,
  a script or an unanalysable RUN (a listing such as `ls -l`/`stat` whose output only reaches the build log,
  not redirected, piped or substituted, sees them harmlessly); a path through a known symlink above or into
  a target names it too (one above it whose target is not known: every path may). Ownership only moves
  into steps after the last such step. Assumed (documented): other root commands read contents only, and
  a command changes only the paths it names.
- No file under a target carries file capabilities: a `setcap` under it refuses the fix; files from the base
  image or package installs are assumed (documented) to carry none there.
- The kept step's `find` exists: read from the base image, or a documented default; a step that removes
  it refuses; unknown: assumption. The steps without USER run as root: the base's default user.

It refuses (reports, no fix) when: a target path or owner uses a variable whose value is unknown (an
ARG without default, one the RUN sets, or one only the base image's ENV gives when it is not read), the
step runs as a non-root USER or through sudo, a target is `/` or lies in a declared VOLUME, a --mount
covers a target, a COPY writes a directory into an ancestor of a target (its files under the target
cannot get an owner without re-owning the rest), a chmod mode is not octal or a symbolic mode that GNU
and busybox chmod apply alike whatever the umask (s/t, `ugo=rwX`, `+w`),
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
from dockerfix.refactor.dockerfile.shell import Command
from dockerfix.transforms._chown import caps, gain, modes, paths, proofs, readers, userwrap
from dockerfix.transforms._chown import ops as ops_mod
from dockerfix.transforms._chown.edits import estimate, replace_op
from dockerfix.transforms._chown.model import Basis, Op, Refuse, _stage_range, _targets, _written_before, _wrote_under
from dockerfix.transforms._chown.steps import _copy_edit, _run_edit

NAME = "chown-layer"
SUMMARY = "move a later `RUN chown -R`/`chmod -R` into COPY --chown and the steps that create the files"
SAFE = True

_TEXT_FILTER = re.compile(r"\b(chown|chgrp|chmod)\b")
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
            if any(ops_mod.recursive_flag(w.raw) for w in cmd.args):
                raise Refuse("the recursive chown/chmod runs through sudo (as a non-root user)")
        if name not in ("chown", "chgrp", "chmod"):
            continue
        op = ops_mod.parse_op(cmd, name, rs, cwd, lambda: proofs.unknown_cwd(a, idx))
        if op is None:
            continue
        if not certain(rs.script, cmd) or cmd.redirected:
            raise Refuse(f"this `{name} -R` runs only under a condition (inside if, a pipe or a subshell, next to ||) "
                         "or has a redirect")
        ops.append(op)
    return ops


def _user(state) -> str:  # type: ignore[no-untyped-def]
    return "(a value the Dockerfile does not give)" if state.user == UNKNOWN else str(state.user)


def _made_here(op: Op, rs: RunScript, a: Analysis, idx: int) -> bool:
    """True when the step itself created every target just before: that chown costs nothing."""
    created: list[str] = []
    for cmd, cwd in walk(rs.script, rs.env, a.state(idx).workdir):
        if cmd is op.cmd:
            break
        holds = lambda m: paths.requirements_hold(a, idx, m)  # noqa: E731
        created.extend(c.path for c in run_created(a, idx, cmd, rs.env, cwd, holds))
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
    basis.assumptions.extend(dict.fromkeys(x for op in ops for x in op.assumptions))
    _check_volumes(a, idx, targets, basis)
    for op in ops:
        if op.kind == "chmod":
            for _, t in op.paths:
                k = paths.kind_at(a, idx, t, before_cmd=op.cmd)
                if k.kind not in (DIR, FILE, MISSING) and k.plain_if_base:
                    # Only the unread base could hold a link there: the Dockerfile makes none (unsafe).
                    basis.assumptions.append(f"{t} is not a symlink in the base image {a.base(idx).image!r}")  # type: ignore[union-attr]
                elif k.kind not in (DIR, FILE, MISSING):
                    what = "is a symlink" if k.kind == "symlink" else f"may be a symlink ({k.why or 'not known'})"
                    raise Refuse(f"{t} {what}: `chmod -R` follows a symlink it is given, `find` does not")
                basis.use(k.defaults)
    _check_find(a, idx, basis)
    if any(op.kind != "chmod" for op in ops):
        caps.check(a, idx, targets)
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
    safe_basis = Basis(list(basis.defaults), list(basis.assumptions))
    edits, details, touched = _take(a, idx, ops, targets, basis, limit, limit_why)
    touched = modes.keep_safe(a, idx, touched, edits, details, basis, ops)
    verb = "/".join(f"{n} -R" for n in dict.fromkeys(op.kind for op in ops))
    where = ", ".join(targets)
    wrap, no_wrap = userwrap.offer(a, idx, ops, targets, limit)
    if wrap is not None:
        # Unsafe: the steps that would see the owners run as the owner (transforms/_chown/userwrap.py).
        try:
            w_edits, w_details, w_touched = _take(a, idx, ops, targets, safe_basis, wrap.limit, wrap.limit_why,
                                                  wrap.steps)
        except Refuse as why:
            w_edits, w_details, w_touched, no_wrap = [], [], [], f"running the steps as the owner is not offered: {why}"
        if w_touched and not touched:
            basis, touched = safe_basis, w_touched + wrap.steps
            edits, details = w_edits + wrap.edits, sorted(w_details + wrap.details, key=_line_of)
            basis.assumptions.extend(wrap.assumptions)
        elif set(w_touched) - set(touched):
            details.append(userwrap.alternative(a, wrap, sorted(set(w_touched) - set(touched))))
        elif not touched and no_wrap is None:
            no_wrap = userwrap.moves_nothing(a, wrap)
    if not touched:
        why = "; ".join(d.split(": ", 1)[1] for d in details if " left as is: " in d)
        if not why and not any(_wrote_under(_written_before(a, idx), t) for t in targets):
            # Nothing the analysis follows wrote there: do not claim files are stored twice.
            return Finding(NAME, ins.line, f"not fixed: no earlier step that the analysis follows writes under "
                           f"{where}; `{verb}` re-owns what the base image, package installs or unread programs put "
                           "there, which only those steps could own", None, details + ([no_wrap] if no_wrap else []))
        why = why or "no earlier step of this stage writes under the target"
        return Finding(NAME, ins.line, f"not fixed: `{verb}` stores every file under {where} again, but no earlier "
                       f"step can take the ownership ({why}); a `find` alone would change the same files",
                       None, details + ([no_wrap] if no_wrap else []))
    no_gain, kept, touched = gain.judge(a, touched, ops, edits, details)
    if no_gain:
        return Finding(NAME, ins.line, f"not fixed: {no_gain}", None, details)
    for op in ops:
        edits.extend(replace_op(rs, op))
    moved = len(touched)
    kinds = {op.kind == "chmod" for op in ops}
    what = {frozenset([True]): "the mode", frozenset([False]): "ownership"}.get(frozenset(kinds), "ownership and mode")
    message = (f"`{verb}` stores every file under {where} again in a new layer; {what} moved into "
               f"{moved} earlier step{'s' if moved != 1 else ''}, the step now changes only what is still wrong")
    details.append(f"line {ins.line}: kept as a `find` that changes only paths still wrong "
                   "(base-image files, steps not analysed, directories the builder created)")
    if not base_user:
        basis.assumptions.append(f"the base image {a.base(idx).image!r} runs as root by default")  # type: ignore[union-attr]
    for d in basis.defaults:
        details.append(f"relies on a documented default ({d})")
    for why in basis.assumptions:
        details.append(f"unsafe: assumes {why}")
    saving, partial = estimate(a, touched, kept)
    return Finding(NAME, ins.line, message, Fix(edits, not basis.assumptions), details, saving=saving,
                   saving_partial=partial)


def _take(a: Analysis, idx: int, ops: list[Op], targets: list[str], basis: Basis, limit: int, limit_why: str,
          skip: tuple[int, ...] | list[int] = ()) -> tuple[list[Edit], list[str], list[int]]:
    """The edits of the steps after ``limit`` that take the ownership, their details, and the steps edited."""
    edits: list[Edit] = []
    details: list[str] = []
    touched: list[int] = []
    for j in _stage_range(a, idx):
        other = a.instructions[j]
        if other.keyword not in ("COPY", "ADD", "RUN") or j in skip:
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
    return edits, details, touched


def _line_of(detail: str) -> int:
    m = re.match(r"line (\d+):", detail)
    return int(m.group(1)) if m else 0


def _first_cmd(ops: list[Op]) -> Command:
    return min((op.cmd for op in ops), key=lambda c: c.start)


def _check_volumes(a: Analysis, idx: int, targets: list[str], basis: Basis) -> None:
    state = a.state(idx)
    facts = a.base(idx)
    base_vols = facts.volumes if facts is not None else None
    if state.unknown_volumes:
        raise Refuse(f"the VOLUME {state.unknown_volumes[0]} has a path the Dockerfile does not give, and may cover "
                     "the target (the classic builder and buildah discard later changes there)")
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
