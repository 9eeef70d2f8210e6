"""The pipeline: parse → resolve → shell analysis → fixes → apply edits → render, until nothing changes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockerfix import transforms
from dockerfix.refactor.dockerfile.analysis import Analysis, analyse_text
from dockerfix.refactor.dockerfile.basefacts import BaseTable
from dockerfix.refactor.dockerfile.model import Finding, apply_edits
from dockerfix.refactor.dockerfile.parse import Dockerfile
from dockerfix.refactor.errors import DockerfixError

MAX_ROUNDS = 8
_SUPPRESS = re.compile(r"#\s*dockerfix:\s*ignore=([\w,\- ]+)")
_SUPPRESS_FILE = re.compile(r"#[ \t]*dockerfix:[ \t]*ignore-file\b")  # within one line


@dataclass
class Result:
    path: str
    source: str
    output: str
    findings: list[Finding]  # what the original file has
    applied: list[Finding]  # the fixes that produced `output`
    fixed: frozenset[int] = frozenset()  # indexes into `findings` of those a fix was applied for

    @property
    def changed(self) -> bool:
        return self.output != self.source

    def was_fixed(self, finding: Finding) -> bool:
        return any(finding is f for i, f in enumerate(self.findings) if i in self.fixed)


def find(analysis: Analysis, selected: Sequence[str]) -> list[Finding]:
    if _SUPPRESS_FILE.search(analysis.df.text):
        return []
    suppressed = _suppressions(analysis.df)
    out: list[Finding] = []
    for name in selected:
        module = transforms.load(name)
        for f in module.check(analysis):
            if name in suppressed.get(f.line, ()) or "all" in suppressed.get(f.line, ()):
                continue
            out.append(f)
    return sorted(out, key=lambda f: (f.line, f.transform))


def _suppressions(df: Dockerfile) -> dict[int, set[str]]:
    """`# dockerfix: ignore=NAME,…` on the line before an instruction (or at its end) silences it."""
    marks: dict[int, set[str]] = {}
    for i, ln in enumerate(df.lines):
        m = _SUPPRESS.search(df.text[ln.start : ln.end])
        if m:
            names = {n.strip() for n in m.group(1).split(",") if n.strip()}
            marks.setdefault(i + 2, set()).update(names)  # the next line
            marks.setdefault(i + 1, set()).update(names)  # the same line
    return marks


def run(
    text: str,
    selected: Sequence[str],
    unsafe: bool = False,
    path: Path | None = None,
    context: Path | None = None,
    name: str = "-",
    bases: BaseTable | None = None,
) -> Result:
    """Find and apply fixes until a fixed point; the output parses and is stable.

    ``bases`` holds what was read of external base images (see ``dockerfile.basefacts``); without it every base
    image fact is unknown or comes from the documented defaults."""
    analysis = analyse_text(text, path, context, bases)
    findings = find(analysis, selected)
    applied: list[Finding] = []
    fixed: set[int] = set()
    current = text
    pending = findings
    # Every round turns at least one finding into a fix, so the number of instructions bounds the rounds.
    for _ in range(MAX_ROUNDS + len(analysis.instructions)):
        chosen: list[Finding] = []
        for f in pending:
            if f.fix is None or not (f.fix.safe or unsafe) or not f.fix.edits:
                continue
            if any(f.fix.overlaps(c.fix) for c in chosen if c.fix):
                continue
            chosen.append(f)
        if not chosen:
            break
        edits = [e for f in chosen for e in f.fix.edits]  # type: ignore[union-attr]
        nxt = apply_edits(current, edits)
        if nxt == current:
            break
        applied.extend(chosen)
        fixed.update(_originals(findings, text, chosen, current, fixed))
        current = nxt
        pending = find(analyse_text(current, path, context, bases), selected)
    else:
        raise DockerfixError("fixes did not reach a fixed point (internal error; please report)")
    # Every output has been parsed and analysed again by the last round: it parses and nothing is left to fix.
    return Result(name, text, current, findings, applied, frozenset(fixed))


def _originals(findings: list[Finding], text: str, chosen: list[Finding], current: str, taken: set[int]) -> set[int]:
    """Which of the original findings the fixes chosen in a round stand for: the same object in the first round;
    later, a finding of the same transform on an instruction line whose text is still the original's (a finding
    whose step an earlier round rewrote is left unmatched: it is not reported as fixed)."""
    old_lines, cur_lines = text.splitlines(), current.splitlines()

    def line(lines: list[str], n: int) -> str | None:
        return lines[n - 1] if 0 < n <= len(lines) else None

    out: set[int] = set()
    for c in chosen:
        for i, f in enumerate(findings):
            if i in taken or i in out:
                continue
            same = f is c or (f.transform == c.transform and line(old_lines, f.line) is not None
                              and line(old_lines, f.line) == line(cur_lines, c.line))
            if same:
                out.add(i)
                break
    return out


def select(select_: Iterable[str] | None, ignore: Iterable[str] | None) -> list[str]:
    known = transforms.names()
    # Transforms whose fixes are unsafe by nature (SAFE = False) are opt-in: they run only when selected by name.
    chosen = list(select_) if select_ else [n for n in known if transforms.load(n).SAFE]
    for n in list(chosen) + list(ignore or ()):
        if n not in known:
            raise DockerfixError(f"unknown transform {n!r} (known: {', '.join(known)})")
    return [n for n in chosen if n not in set(ignore or ())]
