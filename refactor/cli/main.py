"""The `dockerfix` command line (typer + rich).

Exit codes, for every command: 0 success / nothing to fix, 1 fixes available (check, fix --diff) or
images differ (verify), 2 an error (bad input, unreadable file, build failure, bad option).
"""

# No `from __future__ import annotations` here: typer reads the parameter annotations at run time,
# and the option types are defined inside _build_app so that typer is imported only when needed.
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

from dockerfix.refactor import __version__ as VERSION


def main() -> None:
    # `--version` answers before typer and rich are imported: it is the start-up cost users feel.
    if sys.argv[1:] == ["--version"]:
        print(f"dockerfix {VERSION}")
        return
    app = _build_app()
    app()


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class BuilderName(str, Enum):
    docker = "docker"
    buildah = "buildah"
    all = "all"


class Network(str, Enum):
    none = "none"
    host = "host"


def _build_app():  # type: ignore[no-untyped-def]
    import typer

    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        help="Rewrite Dockerfiles so images stop storing files twice and dependency installs stay cached.",
    )

    def version_cb(value: bool) -> None:
        if value:
            print(f"dockerfix {VERSION}")
            raise typer.Exit()

    @app.callback()
    def _root(
        version: Annotated[bool, typer.Option("--version", callback=version_cb, is_eager=True,
                                              help="Print the version and exit.")] = False,
    ) -> None:
        pass

    Paths = Annotated[list[str], typer.Argument(help="Dockerfiles or directories to search; - for stdin.")]
    Select = Annotated[Optional[str], typer.Option("--select", help="Only these transforms (comma-separated).")]
    Ignore = Annotated[Optional[str], typer.Option("--ignore", help="Skip these transforms (comma-separated).")]
    Unsafe = Annotated[Optional[bool], typer.Option("--unsafe-fixes/--no-unsafe-fixes",
                                                    help="Also apply fixes marked unsafe.")]
    Exclude = Annotated[Optional[list[str]], typer.Option("--exclude", help="Glob of paths to skip (repeatable).")]
    Fmt = Annotated[Format, typer.Option("--format", help="Output format.")]
    Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no summary.")]
    Context = Annotated[Optional[Path], typer.Option("--context", help="Build context (default: the Dockerfile's folder).")]
    PrBody = Annotated[Optional[Path], typer.Option("--pr-body", help="Write a Markdown PR description to this file.")]
    BaseImage = Annotated[Optional[list[str]], typer.Option("--base-image", help="[NAME=]PATH: read base image NAME (default: the names the archive records) from this docker-archive or OCI archive (repeatable).")]
    LocalBases = Annotated[bool, typer.Option("--local-bases", help="Read base images from a local Docker daemon or buildah/podman store.")]

    @app.command()
    def check(
        paths: Paths,
        select: Select = None,
        ignore: Ignore = None,
        unsafe_fixes: Unsafe = None,
        exclude: Exclude = None,
        format: Fmt = Format.text,
        preview: Annotated[bool, typer.Option("--preview/--no-preview", help="Show the diff of the fixes.")] = True,
        exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when fixes are available.")] = False,
        quiet: Quiet = False,
        context: Context = None,
        pr_body: PrBody = None,
        base_image: BaseImage = None,
        local_bases: LocalBases = False,
    ) -> None:
        """Report what can be fixed, with a preview of the diff. Writes nothing."""
        code = _execute(paths, select, ignore, unsafe_fixes, exclude, format, context, quiet, pr_body,
                        mode="check", preview=preview, bases=(base_image, local_bases))
        raise typer.Exit(0 if exit_zero and code == 1 else code)

    @app.command()
    def fix(
        paths: Paths,
        diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff (git apply accepts it); write nothing.")] = False,
        select: Select = None,
        ignore: Ignore = None,
        unsafe_fixes: Unsafe = None,
        exclude: Exclude = None,
        format: Fmt = Format.text,
        quiet: Quiet = False,
        context: Context = None,
        pr_body: PrBody = None,
        base_image: BaseImage = None,
        local_bases: LocalBases = False,
    ) -> None:
        """Apply the fixes in place (atomic writes; unchanged files are not touched)."""
        code = _execute(paths, select, ignore, unsafe_fixes, exclude, format, context, quiet, pr_body,
                        mode="diff" if diff else "fix", preview=False, bases=(base_image, local_bases))
        raise typer.Exit(code)

    @app.command()
    def explain(
        name: Annotated[Optional[str], typer.Argument(help="A transform name; omit to list them all.")] = None,
    ) -> None:
        """Say what a transform does, the Docker behaviour it relies on, and when it refuses."""
        from dockerfix import transforms

        if name is None:
            for n in transforms.names():
                mod = transforms.load(n)
                print(f"{n:<16} {'safe' if mod.SAFE else 'unsafe'}  {mod.SUMMARY}")
            return
        try:
            mod = transforms.load(name)
        except KeyError:
            print(f"dockerfix: unknown transform {name!r} (known: {', '.join(transforms.names())})", file=sys.stderr)
            raise typer.Exit(2) from None
        print(f"{name} ({'safe' if mod.SAFE else 'unsafe, opt-in'})\n")
        print((mod.__doc__ or "").strip())

    @app.command()
    def verify(
        dockerfile: Annotated[Path, typer.Argument(help="The Dockerfile to fix and verify.")],
        context: Context = None,
        builder: Annotated[Optional[BuilderName], typer.Option(
            "--builder", help="docker (BuildKit), buildah, or all (every builder that answers, each proof reported)."
        )] = None,
        network: Annotated[Network, typer.Option(
            "--network", help="What RUN steps see: none (no network, the default) or host.")] = Network.none,
        build_arg: Annotated[Optional[list[str]], typer.Option(
            "--build-arg", help="KEY=VALUE passed to both builds; repeatable.")] = None,
        unsafe_fixes: Unsafe = None,
        format: Fmt = Format.text,
    ) -> None:
        """Build the original and the fixed Dockerfile and compare both images path by path."""
        from dockerfix.refactor.cli.verify_cmd import verify_command

        raise typer.Exit(verify_command(dockerfile, context, builder.value if builder else None,
                                        bool(unsafe_fixes), format.value, network.value, build_arg or []))

    @app.command()
    def layers(
        archive: Annotated[Path, typer.Argument(help="A docker-archive or OCI archive (.tar).")],
        format: Fmt = Format.text,
    ) -> None:
        """Per-layer bytes, files stored more than once, and efficiency of an image archive."""
        from dockerfix.refactor.cli.verify_cmd import layers_command

        raise typer.Exit(layers_command(archive, format.value))

    return app


def _execute(paths, select, ignore, unsafe_fixes, exclude, fmt, context, quiet, pr_body, mode, preview, bases=(None, False)):  # type: ignore[no-untyped-def]
    from dockerfix.refactor.cli import batch
    from dockerfix.refactor.cli import config
    from dockerfix.refactor import engine
    from dockerfix.refactor.cli import report
    from dockerfix.refactor.cli.bases import attach
    from dockerfix.refactor.cli.discover import discover
    from dockerfix.refactor.errors import DockerfixError

    err = _console(stderr=True)
    try:
        cfg = config.load(Path.cwd())
        sel = _names(select) or cfg.select or None
        ign = _names(ignore) or cfg.ignore
        selected = tuple(engine.select(sel, ign))
    except DockerfixError as exc:
        err.print(f"dockerfix: {exc}", markup=False, highlight=False)
        return 2
    unsafe = cfg.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    opts = batch.Options(selected, unsafe, write=(mode == "fix"), context=str(context) if context else None)
    results: list[batch.FileResult] = []
    if paths == ["-"]:
        text = sys.stdin.buffer.read()
        try:
            from dockerfix.refactor.dockerfile.parse import decode

            fr, output = batch.process_text(decode(text), "-", attach(opts, [decode(text)], *bases, texts=True))
        except DockerfixError as exc:
            err.print(f"-: {exc}", markup=False, highlight=False)
            return 2
        if mode == "fix":
            sys.stdout.write(output)
            return 0
        results.append(fr)
    else:
        files = list(discover(paths, [*cfg.exclude, *(exclude or [])]))
        if not files:
            err.print("dockerfix: no Dockerfiles found", markup=False, highlight=False)
            return 2
        show_progress = not quiet and fmt == Format.text and err.is_terminal and len(files) > 1
        try:
            opts = attach(opts, files, *bases)
        except DockerfixError as exc:
            err.print(f"dockerfix: {exc}", markup=False, highlight=False)
            return 2
        results = _run_batch(files, opts, show_progress, err)
    out = _console()
    if fmt == Format.json:
        sys.stdout.write(report.to_json(results) + "\n")
    elif fmt == Format.sarif:
        sys.stdout.write(report.to_sarif(results) + "\n")
    elif fmt == Format.github:
        sys.stdout.write(report.to_github(results))
    elif mode == "diff":
        for r in results:
            if r.diff:
                sys.stdout.write(r.diff)
        _errors(results, err)
        if not quiet:
            _summary(results, err, mode)
    else:
        _text(results, out, err, mode, preview)
        if not quiet and (len(results) > 1 or mode == "fix"):
            _summary(results, err, mode)
    if pr_body is not None:
        pr_body.write_text(report.pr_body(results), encoding="utf-8")
    if any(r.error for r in results):
        return 2
    if mode in ("check", "diff"):
        available = any(i.fixable for r in results for i in r.items) if mode == "check" else any(r.changed for r in results)
        return 1 if available else 0
    return 0


def _names(value):
    return [n.strip() for n in value.split(",") if n.strip()] if value else []


def _console(stderr: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _run_batch(files, opts, show_progress, err):  # type: ignore[no-untyped-def]
    from dockerfix.refactor.cli import batch

    if not show_progress:
        return list(batch.process_many(files, opts))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("dockerfix", total=len(files))
        return list(batch.process_many(files, opts, progress=lambda _r: progress.advance(task)))


def _errors(results, err):  # type: ignore[no-untyped-def]
    for r in results:
        if r.error:
            err.print(f"{r.path}: error: {r.error}", markup=False, highlight=False)


def _text(results, out, err, mode, preview):  # type: ignore[no-untyped-def]
    from rich.markup import escape
    from rich.syntax import Syntax

    from dockerfix.refactor.units import human_bytes

    for r in results:
        if r.error:
            err.print(f"[bold]{escape(r.path)}[/]: [red]error[/]: {escape(r.error)}")
            continue
        for i in r.items:
            if mode == "fix":
                mark = "[green]fixed[/]" if i.applied else ("[yellow]unsafe, not applied[/]" if i.fixable else "[dim]not fixed[/]")
            else:
                mark = "[green]\\[*][/]" if i.safe else ("[yellow]\\[unsafe][/]" if i.fixable else "")
            saving = ""
            if i.saving:
                saving = f" [cyan](saves ≈ {human_bytes(i.saving)}{' + unknown' if i.saving_partial else ''})[/]"
            out.print(f"[bold]{escape(r.path)}[/]:{i.line}: [magenta]{i.transform}[/] {escape(i.message)}{saving} {mark}")
            for d in i.details:
                out.print(f"    [dim]{escape(d)}[/]")
        if preview and r.diff and mode == "check":
            out.print(Syntax(r.diff, "diff", theme="ansi_dark", background_color="default"))


def _summary(results, err, mode):  # type: ignore[no-untyped-def]
    from dockerfix.refactor.cli.report import summary
    from dockerfix.refactor.units import human_bytes

    s = summary(results)
    verb = {"check": "would change", "diff": "would change", "fix": "changed"}[mode]
    per = ", ".join(f"{k}: {v}" for k, v in s["fixes_per_transform"].items()) or "none"
    line = (f"{s['scanned']} file{'s' if s['scanned'] != 1 else ''} scanned, {s['changed']} {verb}, "
            f"{s['refused']} finding{'s' if s['refused'] != 1 else ''} not fixable, {s['failed']} failed; fixes: {per}")
    if s["estimated_saving_bytes"]:
        line += f"; ≈ {human_bytes(s['estimated_saving_bytes'])} no longer stored twice"
    if not err.is_terminal or s["scanned"] < 2:
        err.print(line, markup=False, highlight=False)
        return
    from rich.table import Table

    table = Table(title="dockerfix summary", show_header=False, title_justify="left")
    table.add_row("files scanned", str(s["scanned"]))
    table.add_row(verb, str(s["changed"]))
    table.add_row("findings not fixable", str(s["refused"]))
    table.add_row("failed", str(s["failed"]))
    for name, count in s["fixes_per_transform"].items():
        table.add_row(f"fixes: {name}", str(count))
    if s["estimated_saving_bytes"]:
        table.add_row("≈ no longer stored twice", human_bytes(s["estimated_saving_bytes"]))
    err.print(table)


if __name__ == "__main__":
    main()
