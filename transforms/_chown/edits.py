"""Text of the rewritten steps: the kept `find`, the in-place replacement of `chown -R`, and the saving estimate."""

from __future__ import annotations

import re

from dockerfix.refactor.dockerfile.analysis import Analysis, RunScript
from dockerfix.refactor.dockerfile.facts import copy_args
from dockerfix.refactor.dockerfile.model import Edit
from dockerfix.transforms._chown.symbolic import predicate

OCTAL = re.compile(r"^[0-7]{3,4}$")
_ADDS = re.compile(r"^[ugoa]+\+[rwx]+(,[ugoa]+\+[rwx]+)*$")


def context_of(a: Analysis):  # type: ignore[no-untyped-def]
    """The build context (refactor/context/buildcontext.py), loaded once per analysis; None when there is none."""
    if a.context is None or not a.context.is_dir():
        return None
    key = "chown-layer:context"
    if key not in a.memo:
        from dockerfix.refactor.context import buildcontext as context

        a.memo[key] = context.load(a.context, a.path)
    return a.memo[key]


def estimate(a: Analysis, touched: list[int], kept: dict[int, list[str]] | None = None) -> tuple[int | None, bool]:
    """Bytes no longer stored twice: the context files of the COPY/ADD that now carry the owner (of a COPY in
    ``kept``, only the files listed there: those the kept steps leave alone, transforms/_chown/gain.py).

    Content that RUN steps or other stages make is not known without building: it makes the
    estimate partial ("+ unknown").
    """
    ctx = context_of(a)
    if ctx is None:
        return None, bool(touched)
    total, partial = 0, False
    for j in touched:
        ins = a.instructions[j]
        ca = copy_args(ins, a.state(j), a.df.escape) if ins.keyword in ("COPY", "ADD") else None
        if ca is None or ins.flag("from") is not None:
            partial = True
            continue
        if kept is not None and j in kept:
            total += ctx.bytes(kept[j])  # type: ignore[attr-defined]
            continue
        for src in ca.sources:
            size = ctx.size(src)  # type: ignore[attr-defined]
            if size is None:
                partial = True
            else:
                total += size
    return total, partial


def quote(path: str) -> str:
    return path if re.fullmatch(r"[\w@%+=:,./-]+", path) else "'" + path.replace("'", "'\\''") + "'"


def find_tail(kind: str, user: str | None, group: str | None, mode: str | None) -> str:
    """The part of `find PATHS …` that selects what is still wrong and fixes it."""
    if kind == "chmod":
        mode = mode or ""
        # A `who+perm` list selects what lacks a bit; any other symbolic mode gets a test of the bits it changes.
        test = f"! -perm {mode}" if OCTAL.match(mode) else f"! -perm -{mode}" if _ADDS.match(mode) else predicate(mode)
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


def replace_op(rs: RunScript, op) -> list[Edit]:
    """Turn `chown -R OWNER PATHS` into `find PATHS … -exec chown -h OWNER {} +`, in place.

    Only the command name through the owner word is replaced, and the tail inserted after the last
    path, so a continuation or a comment line between the paths stays where it was.
    """
    cmd = op.cmd
    paths_words = [w for w, _ in op.paths]
    head_start, _ = rs.raw_span(cmd.start, cmd.start + 1)
    first_path_start = rs.to_raw(paths_words[0].start)
    _, last_end = rs.raw_span(paths_words[-1].start, paths_words[-1].end)
    tail = find_tail(op.kind, op.user_raw if op.user else None, op.group_raw if op.group else None, op.mode)
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
