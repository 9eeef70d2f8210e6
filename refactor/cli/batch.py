"""Processing many files: one result per file, failures isolated, a process pool when it pays."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockerfix.refactor.errors import DockerfixError

POOL_THRESHOLD = 64  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class Options:
    selected: tuple[str, ...]
    unsafe: bool = False
    write: bool = False  # fix in place (not with --diff, never in check)
    context: str | None = None
    keep_output: bool = False  # keep the fixed text in the result (for --verify, which writes later)
    bases: Mapping[str, Any] | None = None  # base image facts by reference (cli.bases)


@dataclass
class Item:
    transform: str
    line: int
    message: str
    fixable: bool
    safe: bool
    applied: bool
    details: list[str] = field(default_factory=list)
    saving: int | None = None
    saving_partial: bool = False
    col: int = 1


@dataclass
class FileResult:
    path: str  # as displayed (relative to the current directory when possible)
    items: list[Item] = field(default_factory=list)
    diff: str = ""
    changed: bool = False
    written: bool = False
    error: str | None = None
    output: str | None = None  # the fixed text, for stdin and --verify
    abspath: str = ""  # where the file is, for grouping by repository
    digest: str = ""  # with keep_output: sha256 of the file as read, so a later write can check it is unchanged
    verified: str | None = None  # fix --verify: what building before and after showed, in one sentence


def display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def unified_diff(old: str, new: str, name: str) -> str:
    """A diff that `git apply` accepts: a/ b/ prefixes, CRLF kept, missing final newline marked."""
    if old == new:
        return ""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    out: list[str] = []
    for line in difflib.unified_diff(a, b, f"a/{name}", f"b/{name}", n=3):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
            continue
        if line.startswith("@@"):
            out.append(line)
            continue
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def process_text(text: str, name: str, opts: Options, path: Path | None = None) -> tuple[FileResult, str]:
    from dockerfix.refactor.engine import run

    context = Path(opts.context) if opts.context else None
    result = run(text, opts.selected, opts.unsafe, path=path, context=context, name=name, bases=opts.bases)
    items = []
    lines = text.splitlines()
    for f in result.findings:
        applied = result.was_fixed(f)
        src = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        col = len(src) - len(src.lstrip()) + 1
        items.append(Item(f.transform, f.line, f.message, f.fixable, f.safe, applied, list(f.details), f.saving,
                          f.saving_partial, col))
    fr = FileResult(name, items, unified_diff(text, result.output, name.lstrip("/")), result.changed)
    return fr, result.output


def process_file(path_str: str, opts: Options) -> FileResult:
    from dockerfix.refactor.cli import files

    path = Path(path_str)
    name = display(path)
    where = os.path.abspath(path)
    try:
        snap = files.read(path)
        fr, output = process_text(snap.text, name, opts, path)
        fr.abspath = where
        if opts.keep_output:
            fr.output, fr.digest = output, snap.digest
        if opts.write and fr.changed:
            fr.written = files.write(snap, output)
        return fr
    except DockerfixError as exc:
        return FileResult(name, error=str(exc), abspath=where)
    except RecursionError:
        return FileResult(name, error="input too deeply nested to analyse", abspath=where)
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop a batch
        return FileResult(name, error=f"internal error ({type(exc).__name__}: {exc}); please report", abspath=where)


def _worker(args: tuple[str, Options]) -> FileResult:
    return process_file(*args)


def _chunk(work: list[tuple[str, Options]]) -> list[FileResult]:
    return [process_file(*w) for w in work]


def _ignore_sigint() -> None:
    # Workers finish the file they are writing; the parent decides when to stop (Ctrl-C reaches the whole group).
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_many(
    paths: Sequence[Path], opts: Options, progress: Callable[[FileResult], None] | None = None, jobs: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[FileResult]:
    """Results in input order, each as soon as it and the ones before it are done; a pool over all cores when
    there are many files. When `stop()` turns true no new file is started, and the files already being processed
    (perhaps written) still give their results."""
    work = [(str(p), opts) for p in paths]
    jobs = jobs or os.cpu_count() or 1
    stopped = stop or (lambda: False)
    if len(work) < POOL_THRESHOLD or jobs < 2:
        for w in work:
            if stopped():
                return
            r = _worker(w)
            if progress:
                progress(r)
            yield r
        return
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, min(16, len(work) // (jobs * 8)))
    chunks = [work[i : i + size] for i in range(0, len(work), size)]
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint)
    try:
        futures = [pool.submit(_chunk, c) for c in chunks]
        for n, fut in enumerate(futures):
            if stopped():
                for later in futures[n:]:
                    later.cancel()
                # What already started still finishes (its files may be written): report it.
                for later in futures[n:]:
                    if not later.cancelled():
                        for r in later.result():
                            if progress:
                                progress(r)
                            yield r
                return
            for r in fut.result():
                if progress:
                    progress(r)
                yield r
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
