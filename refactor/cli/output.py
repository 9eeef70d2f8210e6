"""Text output for people: one file's lines as soon as it is done, statistics, the summary and the hints.

Lines read `path:line:col: transform message`, as ruff and compilers print them (editors jump to them).
`check` lists every finding (`full`: with its details and a preview of the diff; `concise`: one line each);
`fix` prints one line per file it wrote, then what is left; `--show-fixes` lists each fix it applied.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from dockerfix.refactor.cli.batch import FileResult, Item, display
from dockerfix.refactor.cli.options import Settings
from dockerfix.refactor.units import saving


def display_path(path: Path) -> str:
    return display(path)


def _saving(i: Item) -> str:
    if not i.saving and not (i.saving_partial and i.fixable):
        return ""
    return f" [cyan](saves {saving(i.saving, i.saving_partial)})[/]"


def _line(r: FileResult, i: Item, mark: str) -> str:
    from rich.markup import escape

    return (f"[bold]{escape(r.path)}[/]:{i.line}:{i.col}: [magenta]{i.transform}[/] {escape(i.message)}"
            f"{_saving(i)}{(' ' + mark) if mark else ''}")


def result(r: FileResult, out: Any, err: Any, s: Settings) -> None:
    from rich.markup import escape

    if r.error:
        err.print(f"[bold]{escape(r.path)}[/]: [red]error[/]: {escape(r.error)}")
        return
    details = s.fmt == "full"
    if s.mode == "fix":
        applied = [i for i in r.items if i.applied]
        if r.written and applied:
            names = ", ".join(sorted({i.transform for i in applied}))
            out.print(f"[bold]{escape(r.path)}[/]: [green]fixed[/] {len(applied)} "
                      f"finding{'s' if len(applied) != 1 else ''} ({names})")
        for i in r.items:
            if i.applied and not s.show_fixes:
                continue
            if i.applied:
                mark = "[green]fixed[/]"
            else:
                mark = "[yellow]unsafe, not applied[/]" if i.fixable else "[dim]not fixed[/]"
            out.print(_line(r, i, mark))
            if details:
                for d in i.details:
                    out.print(f"    [dim]{escape(d)}[/]")
        return
    for i in r.items:
        mark = "[green]\\[*][/]" if i.safe else ("[yellow]\\[unsafe][/]" if i.fixable else "")
        out.print(_line(r, i, mark))
        if details:
            for d in i.details:
                out.print(f"    [dim]{escape(d)}[/]")
    if s.preview and details and r.diff and s.mode == "check":
        from rich.syntax import Syntax

        out.print(Syntax(r.diff, "diff", theme="ansi_dark", background_color="default"))


def statistics(results: list[FileResult], out: Any) -> None:
    """Like ruff --statistics: count, name, whether fixes are available, and what the transform does."""
    from dockerfix import transforms

    counts = Counter(i.transform for r in results for i in r.items)
    fixable = Counter(i.transform for r in results for i in r.items if i.fixable)
    width = max((len(str(c)) for c in counts.values()), default=1)
    names = max((len(n) for n in counts), default=1)
    for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        mark = "[*]" if fixable[name] == count else ("[-]" if fixable[name] else "[ ]")
        try:
            what = transforms.load(name).SUMMARY
        except KeyError:
            what = ""
        out.print(f"{count:>{width}}  {name:<{names}}  {mark} {what}", markup=False, highlight=False)


def hidden_unsafe(results: list[FileResult]) -> int:
    return sum(1 for r in results for i in r.items if i.fixable and not i.safe and not i.applied)


def unsafe_hint(results: list[FileResult], err: Any, s: Settings) -> None:
    n = hidden_unsafe(results)
    if n and not s.unsafe_fixes:
        err.print(f"{n} hidden fix{'es' if n != 1 else ''} can be enabled with the `--unsafe-fixes` option.",
                  markup=False, highlight=False)


def summary(results: list[FileResult], err: Any, mode: str, skipped: int = 0) -> None:
    from dockerfix.refactor.cli.report import summary as counts

    s = counts(results, skipped)
    verb = {"check": "would change", "diff": "would change", "fix": "changed"}[mode]
    per = ", ".join(f"{k}: {v}" for k, v in s["fixes_per_transform"].items()) or "none"
    line = (f"{s['scanned']} file{'s' if s['scanned'] != 1 else ''} scanned, {s['changed']} {verb}, "
            f"{s['refused']} finding{'s' if s['refused'] != 1 else ''} not fixable, {s['failed']} failed; fixes: {per}")
    if skipped:
        line += f"; {skipped} skipped (not Dockerfiles)"
    if s["estimated_saving_bytes"] or s["estimate_partial"]:
        line += f"; {saving(s['estimated_saving_bytes'], s['estimate_partial'])} no longer stored twice"
    if not err.is_terminal or s["scanned"] < 2:
        err.print(line, markup=False, highlight=False)
        return
    from rich.table import Table

    table = Table(title="dockerfix summary", show_header=False, title_justify="left")
    table.add_row("files scanned", str(s["scanned"]))
    table.add_row(verb, str(s["changed"]))
    table.add_row("findings not fixable", str(s["refused"]))
    table.add_row("failed", str(s["failed"]))
    if skipped:
        table.add_row("skipped (not Dockerfiles)", str(skipped))
    for name, count in s["fixes_per_transform"].items():
        table.add_row(f"fixes: {name}", str(count))
    if s["estimated_saving_bytes"] or s["estimate_partial"]:
        table.add_row("no longer stored twice", saving(s["estimated_saving_bytes"], s["estimate_partial"]))
    err.print(table)
