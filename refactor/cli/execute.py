"""One `check` or `fix` run: settings → files → results as they come → outputs, patches and PR bodies.

Results stream: each file's lines are printed when it is done (a progress bar below them on a terminal), so a
`fix` reports every file it writes as it writes it. Ctrl-C stops cleanly: no new file is started, the files in
progress finish (their writes are atomic), what was written is listed, and the exit code is 130.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from pathlib import Path
from typing import Any

from dockerfix.refactor.cli import batch, output
from dockerfix.refactor.cli.console import clear_early_status, console
from dockerfix.refactor.cli.options import Settings, validate
from dockerfix.refactor.errors import DockerfixError

INTERRUPTED = 130


class _Stop:
    """The first Ctrl-C asks the batch to stop after the files in progress; a second one stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: Any = None

    def __enter__(self) -> _Stop:
        self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._old)

    def __call__(self) -> bool:
        return self.requested


def execute(s: Settings) -> int:
    err = console(stderr=True, no_color=s.no_color)
    out = console(no_color=s.no_color)
    try:
        return _execute(s, out, err)
    except DockerfixError as exc:
        clear_early_status()
        err.print(f"dockerfix: {exc}", markup=False, highlight=False)
        return 2
    except KeyboardInterrupt:
        clear_early_status()
        err.print("dockerfix: interrupted", markup=False, highlight=False)
        return INTERRUPTED
    finally:
        clear_early_status()


def _execute(s: Settings, out: Any, err: Any) -> int:
    from dockerfix.refactor.cli import config
    from dockerfix.refactor.cli.bases import attach

    validate(s)
    cfg = config.load_file(s.config) if s.config else config.load(Path.cwd())
    if s.paths == ["-"] or s.stdin_filename is not None:
        return _stdin(s, _options(s, cfg), out, err)
    # The status shows before the transforms load and while the files are searched: output within a moment.
    status = None if s.quiet or not err.is_terminal else err.status("finding files…", spinner="dots")
    clear_early_status()
    if status is not None:
        status.start()
    try:
        opts = _options(s, cfg)
        files, skipped, rejected = _discover(s, [*cfg.exclude, *s.exclude], status)
        opts = attach(opts, files, s.base_image, s.local_bases)
    finally:
        if status is not None:
            status.stop()
    if not files and not rejected:
        if s.force_exclude:
            return 0  # pre-commit passed only files that are not Dockerfiles
        extra = f" ({len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped: not Dockerfiles)" if skipped else ""
        raise DockerfixError(f"no Dockerfiles found{extra}")
    builders: list[Any] = []
    if s.verify and files:
        from dockerfix.refactor.cli import files as files_mod
        from dockerfix.refactor.cli.verifying import builder_bases, open_builders

        builders = open_builders(s)
        try:
            read = builder_bases(builders[0], list(_readable_texts(files_mod, files)), list(files))
        except BaseException:
            for b in builders:
                b.close()
            raise
        # What the user named with --base-image wins over what the builder's store holds.
        opts = dataclasses.replace(opts, bases={**read, **(opts.bases or {})})
    stop = _Stop()
    with stop:
        try:
            results = _run_batch(s, files, opts, out, err, stop)
        except BaseException:
            for b in builders:
                b.close()
            raise
        if s.verify and not stop():
            from dockerfix.refactor.cli.verifying import verify_and_write

            results = verify_and_write(results, s, err, stop, builders)
            if s.text and not s.statistics:
                for r in results:
                    output.result(r, out, err, s)
        else:
            for b in builders:
                b.close()
    results = [batch.FileResult(output.display_path(p), error=why) for p, why in rejected] + results
    for r in results[: len(rejected)]:
        err.print(f"{r.path}: error: {r.error}", markup=False, highlight=False)
    return _finish(s, results, skipped, out, err, interrupted=stop(), total=len(files))


def _readable_texts(files_mod: Any, paths: list[Path]) -> Any:
    # A file that cannot be read is reported by the batch itself; here it only names no base image.
    for path in paths:
        try:
            yield files_mod.read(path).text
        except DockerfixError:
            continue


def _options(s: Settings, cfg: Any) -> batch.Options:
    from dockerfix.refactor import engine

    selected = tuple(engine.select(_names(s.select) or cfg.select or None, _names(s.ignore) or cfg.ignore))
    unsafe = cfg.unsafe_fixes if s.unsafe_fixes is None else s.unsafe_fixes
    return batch.Options(selected, unsafe, write=(s.mode == "fix" and not s.verify),
                         context=str(s.context) if s.context else None, keep_output=s.verify)


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in value.split(",") if n.strip()] if value else []


def _stdin(s: Settings, opts: batch.Options, out: Any, err: Any) -> int:
    import dataclasses

    from dockerfix.refactor.cli.bases import attach
    from dockerfix.refactor.dockerfile.parse import decode

    name = s.stdin_filename or "-"
    path = Path(name) if s.stdin_filename else None
    if path is not None and opts.context is None:
        opts = dataclasses.replace(opts, context=str(path.parent))
    try:
        source = decode(sys.stdin.buffer.read())
        opts = attach(opts, [source], s.base_image, s.local_bases, texts=True)
        fr, text = batch.process_text(source, name, opts, path)
    except DockerfixError as exc:
        err.print(f"{name}: {exc}", markup=False, highlight=False)
        return 2
    if s.mode == "fix":
        sys.stdout.write(text)
        return 0
    if s.text and not s.statistics:
        if s.mode == "check":
            output.result(fr, out, err, s)
        elif s.print_diff:
            sys.stdout.write(fr.diff)
    return _finish(s, [fr], [], out, err)


def _discover(s: Settings, exclude: list[str],
              status: Any) -> tuple[list[Path], list[tuple[Path, str]], list[tuple[Path, str]]]:
    from dockerfix.refactor.cli.discover import find

    progress = None if status is None else (lambda n: status.update(f"finding files… {n} Dockerfiles"))
    found = find(s.paths, exclude, force_exclude=s.force_exclude, progress=progress)
    return found.files, found.skipped, found.rejected


def _run_batch(s: Settings, files: list[Path], opts: batch.Options, out: Any, err: Any,
               stop: _Stop) -> list[batch.FileResult]:
    stream = s.text and not s.statistics and not s.verify
    results: list[batch.FileResult] = []

    def show(r: batch.FileResult) -> None:
        if not stream:
            return
        if s.mode != "diff":
            output.result(r, out, err, s)
            return
        if r.error:
            err.print(f"{r.path}: error: {r.error}", markup=False, highlight=False)
        if s.print_diff and r.diff:
            sys.stdout.write(r.diff)
            sys.stdout.flush()

    if s.quiet or not err.is_terminal or len(files) < 2 or not s.text:
        for r in batch.process_many(files, opts, stop=stop):
            results.append(r)
            show(r)
        return results
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("dockerfix", total=len(files))
        for r in batch.process_many(files, opts, stop=stop):
            results.append(r)
            show(r)
            progress.advance(task)
    return results


def _finish(s: Settings, results: list[batch.FileResult], skipped: list[tuple[Path, str]], out: Any, err: Any,
            interrupted: bool = False, total: int = 0) -> int:
    from dockerfix.refactor.cli import report

    if s.fmt == "json":
        sys.stdout.write(report.to_json(results, skipped) + "\n")
    elif s.fmt == "sarif":
        sys.stdout.write(report.to_sarif(results) + "\n")
    elif s.fmt == "github":
        sys.stdout.write(report.to_github(results))
    elif s.statistics:
        output.statistics(results, out)
    if not s.quiet and s.text:
        if len(results) > 1 or s.mode == "fix" or skipped or interrupted:
            output.summary(results, err, s.mode, len(skipped))
        output.unsafe_hint(results, err, s)
    if s.pr_body is not None:
        from dockerfix.refactor.cli.prbody import pr_body

        s.pr_body.write_text(pr_body(results, len(skipped), verified=s.verify), encoding="utf-8")
    if s.patch_dir is not None:
        from dockerfix.refactor.cli.patches import write_patches

        for line in write_patches(results, s.patch_dir, s.paths, skipped):
            if not s.quiet:
                err.print(line, markup=False, highlight=False)
    if interrupted:
        written = [r.path for r in results if r.written]
        err.print(f"dockerfix: interrupted after {len(results)} of {total} files; "
                  f"{len(written)} written{': ' + ', '.join(written) if written else ''}", markup=False,
                  highlight=False)
        return INTERRUPTED
    if any(r.error for r in results):
        return 2
    if s.mode == "check":
        available = any(i.fixable for r in results for i in r.items)
        return 0 if s.exit_zero or not available else 1
    if s.mode == "diff":
        return 1 if any(r.changed for r in results) else 0
    return 0
