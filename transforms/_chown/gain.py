"""Which files a fix really stops storing twice: those of a COPY the kept steps will leave alone.

A COPY that gets --chown (or --chmod) saves its files' bytes only when the kept `find … -exec chmod` (and the kept
chown, for setuid/setgid files) does not change them again: a file copied with mode 0644 under `chmod -R ug+rwx` is
stored again by the kept step, in the same layer the original stored it in. The modes are the build context's
(COPY keeps them) or the COPY's --chmod; a fix in which no RUN step takes a change and every COPY's files would
still be changed saves nothing and is not offered.
"""

from __future__ import annotations

import re

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import copy_args
from dockerfix.refactor.dockerfile.model import Edit
from dockerfix.transforms._chown import symbolic
from dockerfix.transforms._chown.edits import context_of
from dockerfix.transforms._chown.model import Op, _covering

_CHMOD_FLAG = re.compile(r"--chmod=([0-7]{3,4})\b")


def judge(a: Analysis, touched: list[int], ops: list[Op], edits: list[Edit],
          details: list[str]) -> tuple[str | None, dict[int, list[str]], list[int]]:
    """(why the fix saves nothing, or None; the files each COPY still saves; the steps still touched). A COPY whose
    files the kept steps would all change again is left as it was (its edits and notes leave ``edits`` and
    ``details``, a note says why); one whose files are not known (no build context, --from, a URL) counts as today."""
    kept: dict[int, list[str]] = {}
    lost: list[tuple[int, str, list[int]]] = []
    for j in touched:
        ins = a.instructions[j]
        found = _left_alone(a, j, ops, edits) if ins.keyword in ("COPY", "ADD") else None
        if found is None:
            continue
        files, modes, chmods = found
        kept[j] = files
        if files or not modes:
            continue
        lost.append((j, chmods, modes))
        start, end = ins.start, ins.end
        edits[:] = [e for e in edits if not start <= e.start <= end]
        tag = f"line {ins.line}: {ins.keyword}"
        details[:] = [d for d in details if not d.startswith(tag)]
        details.append(f"{tag} left as is: the kept {chmods} would still change every file it brings (mode "
                       f"{_modes(modes)} in the build context), so --chown would save nothing")
    still = [j for j in touched if j not in {x for x, _, _ in lost}]
    if still or not lost:
        return None, kept, still
    lines = ", ".join(str(a.instructions[j].line) for j, _, _ in lost)
    modes = sorted({m for _, _, ms in lost for m in ms})
    return (f"the kept {lost[0][1]} would still change every file the COPY at line{'s' if len(lost) > 1 else ''} "
            f"{lines} bring{'' if len(lost) > 1 else 's'} (their mode in the build context is {_modes(modes)}), so "
            "the fix would store them again and save nothing; set the mode in the build context (so the files "
            "already have it), or give the COPY --chmod=OCTAL (with `# syntax=docker/dockerfile:1`)"), kept, still


def all_changed(a: Analysis, j: int, ops: list[Op]) -> bool:
    """Whether the kept steps would change every file the COPY at ``j`` brings when it gets no --chmod."""
    found = _left_alone(a, j, ops, [])
    return found is not None and not found[0] and bool(found[1])


def _modes(modes: list[int]) -> str:
    return ", ".join(f"{m:04o}" for m in sorted(set(modes)))


def _left_alone(a: Analysis, j: int, ops: list[Op],
                edits: list[Edit]) -> tuple[list[str], list[int], str] | None:
    """(the context files of the COPY at ``j`` the kept steps leave alone, the modes of those they change, the kept
    command that changes them); None when the files or their modes are not known."""
    ins = a.instructions[j]
    ca = copy_args(ins, a.state(j), a.df.escape)
    ctx = context_of(a)
    if ca is None or ca.dest is None or ins.flag("from") is not None or ctx is None:
        return None
    covering = _covering(ops, ca.dest)
    chmods = [op for op in covering if op.kind == "chmod"]
    owners = any(op.kind != "chmod" for op in covering)
    forced = _forced_mode(a, j, edits)
    if forced == -1:
        return None
    kept: list[str] = []
    changed: list[int] = []
    for src in ca.sources:
        files = ctx.files(src)
        if files is None:
            return None
        for f in files:
            try:
                mode = forced if forced is not None else (ctx.root / f).stat().st_mode & 0o7777
            except OSError:
                return None
            if _changed(mode, chmods, owners):
                changed.append(mode)
            else:
                kept.append(f)
    words = [f"`chmod {op.mode}`" for op in chmods] or ["`chown` (setuid/setgid files)"]
    return kept, changed, " then ".join(words)


def _forced_mode(a: Analysis, j: int, edits: list[Edit]) -> int | None:
    """The --chmod the fixed COPY carries (added by the fix or its own); None: none; -1: one not known."""
    ins = a.instructions[j]
    start, end = ins.start, ins.end
    for e in edits:
        if start <= e.start <= end:
            m = _CHMOD_FLAG.search(e.text)
            if m:
                return int(m.group(1), 8)
    flag = ins.flag("chmod")
    if flag is None:
        return None
    val = a.state(j).expand(flag.value or "", a.df.escape)
    return int(val, 8) if val and re.fullmatch(r"[0-7]{3,4}", val) else -1


def _changed(mode: int, chmods: list[Op], owners: bool) -> bool:
    """Whether the kept steps change a file of ``mode``: the chown's find selects setuid/setgid files, each chmod's
    find the files whose mode it changes."""
    if owners and mode & 0o6000:
        return True
    for op in chmods:
        spec = op.mode or ""
        actions = symbolic.parse(spec)
        new = int(spec, 8) if re.fullmatch(r"[0-7]{3,4}", spec) else (
            (mode & 0o7000) | symbolic.apply(mode, False, actions) if actions is not None else None)
        if new is None or new != mode:
            return True
        mode = new
    return False
