"""deps-first: the text of the rewrite: the new COPYs, the moved instructions, the RUN split in two.
"""

from __future__ import annotations

import posixpath

from dockerfix.refactor.dockerfile.analysis import Analysis, RunScript
from dockerfix.refactor.dockerfile.facts import copy_args
from dockerfix.refactor.dockerfile.model import Edit, Finding, Fix
from dockerfix.refactor.dockerfile.parse import Instruction
from dockerfix.transforms._deps_checks import check_rest_cleanup
from dockerfix.transforms._deps_plan import CROSSABLE, NewCopy, Plan, Refuse, Writer


def _block_start(a: Analysis, ins: Instruction) -> int:
    """Where an instruction's own comment lines above it begin (they move with it)."""
    df = a.df
    prev_end = 0
    for other in df.instructions:
        if other.line_next <= ins.line_start:
            prev_end = max(prev_end, other.line_next)
    start = ins.line_start
    lines = [ln for ln in df.lines if prev_end <= ln.start < ins.line_start]
    for ln in reversed(lines):
        content = df.text[ln.start : ln.end].strip()
        if not content.startswith("#"):
            break
        start = ln.start
    return start


def _ending(text: str, nl: str) -> str:
    return text if text.endswith("\n") else text + nl


def _apply_local(source: str, start: int, end: int, ops: list[tuple[int, int, str]]) -> str:
    out = []
    pos = start
    for s, e, t in sorted(ops):
        out.append(source[pos:s])
        out.append(t)
        pos = e
    out.append(source[pos:end])
    return "".join(out)


def _raw_ops(rs: RunScript, ops: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out = []
    for s, e, t in ops:
        if s == e:
            at = rs.raw_span(s - 1, s)[1] if s > 0 else rs.to_raw(0)
            out.append((at, at, t))
        else:
            rs_s, rs_e = rs.raw_span(s, e)
            if "\n" in rs.source[rs_s:rs_e]:
                raise Refuse("the part of the install to change spans a line continuation")
            out.append((rs_s, rs_e, t))
    return out


def make_edits(
    transform: str, plan: Plan, up: list[Writer], down: list[Writer], news: list[NewCopy], needed: list[str],
) -> Finding:
    a = plan.a
    src = a.df.text
    nl = a.df.newline
    r, b = plan.r, plan.b
    ins = a.instructions[r]
    edits: list[Edit] = []
    details: list[str] = []
    pieces: list[str] = []
    # New COPYs of the files the install reads, written like the COPY that brings them.
    for n in news:
        w = n.writer
        flags = []
        for name in ("chown", "chmod", "link"):
            f = w.ins.flag(name)
            if f is not None:
                text = src[f.start : f.end]
                if "\n" in text:
                    raise Refuse(f"the --{name} flag of the {w.ins.keyword} at line {w.ins.line} spans lines")
                flags.append(text)
        if w.ins.json_args is not None:
            raise Refuse(f"the {w.ins.keyword} at line {w.ins.line} is in JSON form")
        ca = copy_args(w.ins, a.state(w.index), a.df.escape)
        assert ca is not None and ca.dest is not None
        dest = _dest_word(ca.dest_raw, ca.dest, n.dest_dir, n.rels, w)
        line = " ".join(["COPY", *flags, *n.rels, dest])
        pieces.append(line + nl)
        details.append(f"new `{line}` before the install: the files it reads, where the {w.ins.keyword} at line "
                       f"{w.ins.line} puts them" + (", with its flags" if flags else ""))
    for w in up:
        edits.append(Edit(_block_start(a, w.ins), w.ins.line_next, ""))
        pieces.append(_ending(src[_block_start(a, w.ins) : w.ins.line_next], nl))
        details.append(f"line {w.ins.line}: `{_short(w.ins)}` moved above the install (it brings only files the install "
                       "reads)")
    rs = a.run_script(r)
    split = any(i.split for i in plan.installs)
    rest = plan.deps_end + 1 < len(plan.cmds)
    if not split and not rest:
        pieces.append(_ending(src[ins.line_start : ins.line_next], nl))
        details.append(f"line {ins.line}: the RUN moved above the whole COPY")
        later = None
    else:
        if rs is None or rs.heredoc:
            raise Refuse("the RUN would need to be split, which dockerfix does only for a plain shell-form RUN")
        if not rs.script.simple or any(c.command.connector not in (None, "&&") for c in plan.cmds):
            raise Refuse("the RUN would need to be split, and its commands are not all joined by &&")
        head = src[ins.line_start : ins.raw(ins.args_offset)]
        first_cmds = plan.cmds[: plan.deps_end + 1]
        ops = [op for i in plan.installs for op in (i.first_ops or [])]
        body_start = rs.to_raw(first_cmds[0].command.start)
        body_end = rs.raw_span(first_cmds[-1].command.start, first_cmds[-1].command.end)[1]
        first_text = head + _apply_local(src, body_start, body_end, _raw_ops(rs, ops))
        pieces.append(first_text + nl)
        # The command after the whole COPY: from the first install that needs the source (or the first
        # command that is not moved), with the cd commands that lead there.
        splits = [i.cmd for i in plan.installs if i.split]
        from_k = splits[0] if splits else plan.deps_end + 1
        check_rest_cleanup(plan, down)
        cds = [c for c in plan.cmds[:from_k] if c.words and c.words[0] == "cd"]
        prefix = "".join(src[rs.to_raw(c.command.start) : rs.raw_span(c.command.start, c.command.end)[1]] + " && "
                         for c in cds)
        later_ops = [op for i in plan.installs for op in i.later_ops]
        tail_start = rs.to_raw(plan.cmds[from_k].command.start)
        later = head + prefix + _apply_local(src, tail_start, ins.end, _raw_ops(rs, later_ops))
        details.append(f"line {ins.line}: split: `{' '.join(first_text.split())[:90]}` runs before the whole COPY")
    for w in down:
        edits.append(Edit(_block_start(a, w.ins), w.ins.line_next, ""))
        pieces.append(_ending(src[_block_start(a, w.ins) : w.ins.line_next], nl))
        details.append(f"line {w.ins.line}: `{_short(w.ins)}` moved below the install")
    if later is not None:
        pieces.append(later + src[ins.end : ins.line_next])
        details.append(f"after the whole COPY: `{' '.join(later.split())[:90]}`")
    text = "".join(pieces)
    if not src[ins.line_start : ins.line_next].endswith("\n"):
        text = text.rstrip("\r\n")
    edits.append(Edit(ins.line_start, ins.line_next, text))
    unsafe = [u for i in plan.installs for u in i.unsafe] + plan.assumed
    details += [f"relies on a documented default ({d})" for d in plan.defaults]
    details += [f"unsafe: {u}" for u in unsafe]
    crossed = [a.instructions[j] for j in range(b + 1, r)
               if a.instructions[j].keyword in CROSSABLE or j in plan.setup_runs]
    if crossed:
        details.append("kept in place: " + ", ".join(f"{c.keyword} (line {c.line})" for c in crossed)
                       + "; the install still runs after them and the COPYs do not depend on them"
                       + ("; the RUNs read and change none of the files the COPYs bring" if plan.setup_runs else ""))
    files = ", ".join(dict.fromkeys(posixpath.basename(p) for p in needed))
    message = (f"`{plan.installs[0].label}` runs after `{_short(a.instructions[b])}` (line {a.instructions[b].line}), "
               f"so every source change reinstalls the dependencies; copies {files} first and installs before the "
               "whole COPY")
    return Finding(transform, ins.line, message, Fix(edits, not unsafe), details)


def _short(ins: Instruction) -> str:
    text = " ".join(ins.logical.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _dest_word(raw: str, dest: str, target_dir: str, rels: list[str], w: Writer) -> str:
    """The destination of a new COPY, written like the original's (`.`, `/app`, `$APP`) plus the subdirectory."""
    if w.cmap is not None and len(rels) == 1:
        for s in w.cmap.sources:
            if s.rel == rels[0] and s.kind != "dir" and s.alt is not None and posixpath.dirname(s.target) == target_dir:
                return raw  # a single file copied to a file name: keep the name
    sub = posixpath.relpath(target_dir, dest)
    base = raw.rstrip("/")
    return f"{base}/" if sub == "." else f"{base}/{sub}/"
