"""`COPY --chmod=OCTAL` for a later `chmod -R`: the COPY writes its files with their final mode, once.

Builder behaviour this rests on (docs/builder-semantics.md, "COPY --chmod"; tests/test_chmod_build.py):
- `--chmod=OCTAL` gives every file the COPY writes exactly that mode (buildah 1.28, BuildKit 0.13). Directories
  differ between versions: on buildah 1.28 and BuildKit 0.13 a directory copied from below the source gets the
  mode, the directories the COPY creates get 0755 and an existing destination keeps its mode; BuildKit 0.21+ gives
  created directories and an existing destination the mode too (moby/moby#49851, moby/buildkit#5943), with dockerd's
  umask on created ones (moby/buildkit#6801). So --chmod is added only where every directory the COPY creates or
  touches lies under the chmod target, whose parent exists: the kept `find … ! -perm MODE -exec chmod MODE` then
  sets each of them to MODE on every version, and nothing outside the target changes. An existing directory above
  the files is left alone: BuildKit's copy (tonistiigi/fsutil copy.MkdirAll) changes only directories it creates;
  moby/buildkit#5943 reports an existing destination named with a trailing slash changed on Docker 28.3, which is
  why a symbolic mode (below) is used only with a destination naming the file itself.
- Only octal: buildah 1.28 rejects a symbolic --chmod, BuildKit accepts one only from Dockerfile 1.14.
- The classic builder (DOCKER_BUILDKIT=0) rejects --chmod ("the --chmod option requires BuildKit"). The fix is safe
  only when the file is already built by BuildKit or buildah: it declares `# syntax=docker/dockerfile:1` (1.2 or
  later, which has --chmod) or uses a flag or heredoc the classic builder rejects; otherwise the fix is unsafe and
  says it assumes BuildKit or buildah.
- A symbolic mode (`g+w`, `a+rx`, `g=u`, `a-w`: transforms/_chown/symbolic.py) changes each file's own mode: the
  octal is computed from the source's mode in the build context. The kept `find` changes only what the mode
  would change, so it cannot settle a directory --chmod gave another mode: the COPY must then touch no directory
  at all (one regular file to a file path whose directory exists). After an octal chmod (or over an existing
  --chmod) every file's mode is known; a symbolic mode after it is used only when its X gives directories the
  same bits as files (copied directories get the --chmod value too, and the kept step applies the mode to them). A source with setuid/setgid/sticky bits is refused
  (buildah drops them on COPY, BuildKit keeps them).
- Modes with setuid/setgid/sticky digits are refused: root's chown clears setuid/setgid, so the order against a
  chown would matter.
- Several chmods on one path: --chmod only when the kept `find`s, in order, leave a file of the final mode alone
  (`chmod -R 700 && chmod -R g+w` would flip it to 700 and back, storing it again: no saving, no edit).
- A step between the COPY and the chmod that sees the modes (plain `cp` keeps them, `test`/`[` reads them) would
  see the final ones earlier: the COPY is left as is.
"""

from __future__ import annotations

import posixpath
import re
import stat

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import FILE, MISSING
from dockerfix.refactor.dockerfile.facts import walk
from dockerfix.refactor.dockerfile.model import Edit
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import value
from dockerfix.transforms._chown import gain, paths, proofs, symbolic
from dockerfix.transforms._chown.model import Basis, Op

_OCTAL = re.compile(r"^0?[0-7]{3}$")
_ANY_OCTAL = re.compile(r"^[0-7]{3,4}$")
# `docker/dockerfile:1`, `:1.2` and later, `:labs`, `-upstream`, a digest: frontends with COPY --chmod (1.2+).
_SYNTAX = re.compile(r"^(?:docker\.io/)?docker/dockerfile(?:-upstream)?:(?P<v>1|1\.(?P<minor>\d+)(?:[.-][\w.-]*)?|"
                     r"1-labs|labs|latest)(?:@sha256:[0-9a-f]+)?$")
# Flags only BuildKit or buildah accept: the classic builder rejects them.
_NEW_FLAGS = {"RUN": {"mount", "network", "security"}, "COPY": {"chmod", "link", "parents", "exclude"},
              "ADD": {"chmod", "link", "checksum", "keep-git-dir", "exclude"}}
CREATED = "--chmod would give a directory it creates outside the target the mode on BuildKit 0.21+"
_TEST = re.compile(r"(^|[\s;&|(!])(\[\[?|test)\s")
MODE_READERS = frozenset("cp test [ [[ stat".split())


def builder_basis(a: Analysis) -> tuple[bool, str | None]:
    """(--chmod may be written, the assumption it rests on): no assumption when the file is already built by BuildKit
    or buildah; False when its `# syntax=` names a frontend not known to have --chmod."""
    for d in a.df.directives:
        if d.name == "syntax":
            m = _SYNTAX.match(d.value.strip())
            if m is None or (m.group("minor") is not None and int(m.group("minor")) < 2):
                return False, f"the file's frontend `# syntax={d.value.strip()}` is not known to accept COPY --chmod"
            return True, None
    for ins in a.instructions:
        if any(f.name in _NEW_FLAGS.get(ins.keyword, ()) for f in ins.flags) or \
                ins.keyword in ("RUN", "COPY", "ADD") and ins.heredocs:
            return True, None
    return True, "the file is built with BuildKit or buildah: the classic builder rejects COPY --chmod"


def copy_chmod(a: Analysis, j: int, ins, ca, covering: list[Op], idx: int,  # type: ignore[no-untyped-def]
               basis: Basis) -> tuple[list[Edit], list[str], str | None]:
    """The `--chmod` edit for the COPY at ``j`` that the chmod operations in ``covering`` reach, with its notes; no
    edit, and why, when it cannot carry the mode (the assumption it rests on goes into ``basis``). The caller has
    proven the directories above each target and that no symlink lies from a target down to the destination."""
    tag = f"line {ins.line}: {ins.keyword}"
    chmods = [op for op in covering if op.kind == "chmod"]
    if not chmods:
        return [], [], None
    mode, why = _final_mode(a, j, ins, ca, chmods)
    if mode is None:
        return _left(tag, why)
    if not _settled(int(mode, 8), chmods):
        return _left(tag, f"the kept steps would change files of mode {mode} again (`chmod "
                     f"{' then '.join(op.mode or '' for op in chmods)}`), so --chmod would save nothing")
    ok, assumed = builder_basis(a)
    if not ok:
        return _left(tag, assumed or "")
    reader = _mode_reader(a, j, idx, [t for op in chmods for _, t in op.paths], chmods)
    if reader:
        return _left(tag, f"{reader}, which would see the final modes earlier")
    flag = f"--chmod={mode}"
    existing = ins.flag("chmod")
    if existing is not None:
        text = a.df.text[existing.start : existing.end]
        if text == flag:
            return [], [], None
        if "\n" in text:
            return _left(tag, "its --chmod flag spans a line continuation")
        edit, note = Edit(existing.start, existing.end, flag), f"{tag}: --chmod replaced by {flag}"
    else:
        at = ins.raw(ins.args_offset)
        edit, note = Edit(at, at, flag + " "), f"{tag} gets {flag}"
    if assumed:
        if assumed not in basis.assumptions:
            basis.assumptions.append(assumed)
        a.memo.setdefault((_UNPROVEN, idx), {})[j] = edit  # type: ignore[index]
    return [edit], [f"{note} (its files land under {ca.dest}, the kept step sets their directories)"], None


_UNPROVEN = "chown-layer:chmod-unproven"


def keep_safe(a: Analysis, idx: int, touched: list[int], edits: list[Edit], details: list[str],
              basis: Basis, ops: list[Op]) -> list[int]:
    """Drop the --chmod edits that rest only on the builder assumption when the rest of the fix needs none: a safe
    fix that saves less beats an unsafe one, but not one that saves nothing (transforms/_chown/gain.py). Returns the
    steps still touched (``edits``, ``details`` change in place)."""
    made: dict[int, Edit] = a.memo.get((_UNPROVEN, idx), {})  # type: ignore[assignment]
    # A --chmod the COPY's own edit dropped (its --chown stays safe without it) is in the memo but not in ``edits``.
    unproven = [j for j in touched if j in made and _find(edits, made[j]) is not None]
    _, assumed = builder_basis(a)
    others = [x for x in basis.assumptions if x != assumed]
    if not unproven or others or len(unproven) == len(touched):
        return touched
    if gain.judge(a, touched, ops, [e for e in edits if e not in [made[j] for j in unproven]], [])[0]:
        return touched
    for j in unproven:
        _drop(edits, made[j])
        line = a.instructions[j].line
        details[:] = [d for d in details if not d.startswith(f"line {line}: COPY gets --chmod")]
        details.append(f"line {line}: COPY: its mode is left to the kept step (a --chmod would assume {assumed})")
    basis.assumptions.remove(assumed)  # type: ignore[arg-type]
    return [j for j in touched if j not in unproven]


def _find(edits: list[Edit], flag: Edit) -> int | None:
    """Where a --chmod edit is among ``edits``: itself, or joined by `merged` to the --chown at the same offset."""
    for k, e in enumerate(edits):
        if e == flag or (e.start == e.end == flag.start == flag.end and flag.text in e.text):
            return k
    return None


def _drop(edits: list[Edit], flag: Edit) -> None:
    k = _find(edits, flag)
    assert k is not None
    rest = edits[k].text.replace(flag.text, "", 1) if edits[k] != flag else ""
    if rest:
        edits[k] = Edit(edits[k].start, edits[k].end, rest)
    else:
        del edits[k]


def _left(tag: str, why: str) -> tuple[list[Edit], list[str], str]:
    return [], [f"{tag}: its mode is left to the kept step: {why}"], f"which --chmod cannot carry: {why}"


def merged(edits: list[Edit]) -> list[Edit]:
    """Insertions at one offset as one edit, in order (`--chown=… --chmod=… `)."""
    out: list[Edit] = []
    for e in edits:
        if out and e.start == e.end == out[-1].start == out[-1].end:
            out[-1] = Edit(e.start, e.end, out[-1].text + e.text)
        else:
            out.append(e)
    return out


def _final_mode(a: Analysis, j: int, ins, ca,  # type: ignore[no-untyped-def]
                chmods: list[Op]) -> tuple[str | None, str]:
    if ins.keyword != "COPY":
        return None, "ADD is left alone (archives and URLs)"
    if ins.heredocs or any(s.startswith("<<") for s in ca.sources):
        return None, "a heredoc source"
    for op in chmods:
        if op.mode and _ANY_OCTAL.match(op.mode) and not _OCTAL.match(op.mode):
            return None, f"mode {op.mode} has setuid/setgid/sticky bits"
    start: int | None = None
    existing = ins.flag("chmod")
    if existing is not None:
        val = a.state(j).expand(existing.value or "", a.df.escape)
        if val is None or not _OCTAL.match(val):
            return None, f"its --chmod={existing.value} is not a plain octal mode"
        start = int(val, 8)
    octal = [i for i, op in enumerate(chmods) if _OCTAL.match(op.mode or "")]
    if octal or start is not None:
        # From the last octal on, every file's mode is known whatever it was before.
        result = _apply(0, chmods[octal[-1]:]) if octal else _apply(start or 0, chmods)
        return (f"{result:03o}" if result is not None else None), "a symbolic mode whose X gives directories other bits than files"
    return _symbolic(a, j, ins, ca, chmods)


def _symbolic(a: Analysis, j: int, ins, ca, chmods: list[Op]) -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    if ins.flag("from") is not None or a.context is None or not a.context.is_dir():
        return None, f"`chmod {chmods[0].mode}` changes each file's own mode, which is known only for build-context files"
    if len(ca.sources) != 1 or ca.dest_is_dir or not paths.copies_one_file(a, ins, ca):
        return None, (f"`chmod {chmods[0].mode}` changes each file's own mode: --chmod would also set the directories the COPY "
                      "creates or copies (BuildKit 0.21+), which the kept step cannot undo; only one file copied to a "
                      "file path is handled")
    dest = ca.dest
    k = paths.kind_at(a, j, dest)
    if k.kind not in (MISSING, FILE):
        return None, f"{dest} may be a directory ({k.why or 'not known'})"
    parent = proofs.real_dir(a, j, posixpath.dirname(dest))
    if parent.kind is None or parent.kind != "dir":
        return None, f"{posixpath.dirname(dest)} is not known to exist as a directory, and the COPY would create it"
    try:
        st = (a.context / ca.sources[0].lstrip("/")).stat()  # type: ignore[operator]
    except OSError as exc:
        return None, f"the build context's {ca.sources[0]} cannot be read ({exc.strerror})"
    if st.st_mode & 0o7000:
        return None, f"{ca.sources[0]} has setuid/setgid/sticky bits, which buildah drops and BuildKit keeps"
    result = _apply(stat.S_IMODE(st.st_mode), chmods, one_file=True)
    return (f"{result:03o}" if result is not None else None), "a symbolic mode whose X gives directories other bits than files"


def _apply(mode: int, chmods: list[Op], one_file: bool = False) -> int | None:
    """A file's ``mode`` after the chmod operations in order (transforms/_chown/symbolic.py); None for a symbolic mode
    whose X would treat the directories the COPY brings otherwise than its files (unless it copies ``one_file``)."""
    for op in chmods:
        spec = op.mode or ""
        if _OCTAL.match(spec):
            mode = int(spec, 8)
            continue
        actions = symbolic.parse(spec)
        if actions is None or not (one_file or symbolic.dir_free(spec)):
            return None
        mode = symbolic.apply(mode, False, actions)
    return mode


def _settled(mode: int, chmods: list[Op]) -> bool:
    """Whether the kept `find`s, in order, leave a file of ``mode`` alone (else it is stored again anyway)."""
    for op in chmods:
        after = _apply(mode, [op], one_file=True)  # files: a dir-dependent X was refused for trees before
        if after is None or after != mode:
            return False
    return True


def _mode_reader(a: Analysis, j: int, idx: int, targets: list[str], chmods: list[Op]) -> str | None:
    """A command between the COPY and the chmod that sees modes under ``targets`` (plain `cp` copies them, `test`
    reads them; the owner readers are checked by the caller)."""
    first = min((op.cmd for op in chmods), key=lambda c: c.start)
    for k in range(j + 1, idx + 1):
        if a.instructions[k].keyword != "RUN":
            continue
        rs = a.run_script(k)
        if rs is None:
            return f"the RUN at line {a.instructions[k].line} cannot be analysed"
        text, cwd0 = a.instructions[k].logical, a.state(k).workdir
        if _TEST.search(text) and (any(t in text for t in targets) or cwd0 is None or any(
                is_under(cwd0, t) or is_under(t, cwd0) for t in targets if cwd0 != "/")):
            # A `[ … ]` condition is not a command of the parsed script: its text is enough to be careful.
            return f"a test at line {a.instructions[k].line} may read the modes of the paths it names"
        for cmd, cwd in walk(rs.script, rs.env, a.state(k).workdir):
            if k == idx and cmd.start >= first.start:
                break
            name = posixpath.basename(cmd.name)
            if name not in MODE_READERS:
                continue
            words = [w for w in cmd.args if not w.raw.startswith("-")]
            vals = [value(w, rs.env) for w in words]
            where = [join(cwd, v) if v is not None else None for v in vals]
            if name == "cp":
                # A copy into the targets gets its mode from the kept step; one out of them keeps its source's.
                if where and where[-1] is not None and any(is_under(where[-1], t) for t in targets):
                    continue
                where = where[:-1]
            if any(p is None or any(is_under(p, t) or is_under(t, p) for t in targets) for p in where):
                return f"`{name}` at line {a.instructions[k].line} reads the modes of the paths it names"
    return None
