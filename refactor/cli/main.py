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
    _early_status()
    app = _build_app()
    app()


def _early_status() -> None:
    """On a terminal, `check` and `fix` say "finding files…" before typer and rich load (a few hundred ms on a
    busy machine); the rich status that follows takes over the same line."""
    import os

    args = sys.argv[1:]
    if not args or args[0] not in ("check", "fix") or os.environ.get("TERM") == "dumb":
        return
    if any(a in ("-q", "--quiet", "--help", "-") or a.startswith("--stdin-filename") for a in args[1:]):
        return
    try:
        if not sys.stderr.isatty():
            return
        sys.stderr.write("finding files…\r")
        sys.stderr.flush()
    except (OSError, UnicodeError, ValueError):
        return
    from dockerfix.refactor.cli import console

    console.EARLY_STATUS = True


class Format(str, Enum):
    full = "full"
    concise = "concise"
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


class BuilderName(str, Enum):
    docker = "docker"
    buildah = "buildah"
    all = "all"


class Network(str, Enum):
    none = "none"
    host = "host"


def _build_app():  # type: ignore[no-untyped-def]
    import typer
    import typer.core

    # typer 0.15 escapes "[required]" and "[default: …]" for rich whenever rich is importable, even with
    # rich_markup_mode=None, so plain help showed a literal "\\[required]". Help is plain click text here.
    typer.core.rich = None  # type: ignore[attr-defined]
    app = typer.Typer(
        add_completion=True,
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

    Paths = Annotated[Optional[list[str]], typer.Argument(
        help="Dockerfiles or directories to search (default: the current directory); - for stdin.")]
    Select = Annotated[Optional[str], typer.Option("--select", help="Only these transforms (comma-separated).")]
    Ignore = Annotated[Optional[str], typer.Option("--ignore", help="Skip these transforms (comma-separated).")]
    Unsafe = Annotated[Optional[bool], typer.Option("--unsafe-fixes/--no-unsafe-fixes",
                                                    help="Also apply fixes marked unsafe.")]
    Exclude = Annotated[Optional[list[str]], typer.Option("--exclude", help="Glob of paths to skip (repeatable).")]
    ForceExclude = Annotated[bool, typer.Option(
        "--force-exclude", help="Apply --exclude and skip non-Dockerfiles even for files named on the command line "
        "(for pre-commit).")]
    Fmt = Annotated[Format, typer.Option("--output-format", "--format",
                                         help="full (= text), concise, json, sarif or github.")]
    Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no summary.")]
    Context = Annotated[Optional[Path], typer.Option("--context", help="Build context (default: the Dockerfile's folder).")]
    PrBody = Annotated[Optional[Path], typer.Option("--pr-body", help="Write a Markdown PR description to this file.")]
    Stats = Annotated[bool, typer.Option("--statistics", help="Show counts per transform instead of each finding.")]
    StdinName = Annotated[Optional[str], typer.Option(
        "--stdin-filename", help="Read stdin; report it under this name (and take its folder as the context).")]
    Config = Annotated[Optional[Path], typer.Option(
        "--config", help="Settings file (pyproject.toml or .dockerfix.toml) instead of the one found upward.")]
    BaseImage = Annotated[Optional[list[str]], typer.Option("--base-image", help="[NAME=]PATH: read base image NAME (default: the names the archive records) from this docker-archive or OCI archive (repeatable).")]
    LocalBases = Annotated[bool, typer.Option("--local-bases", help="Read base images from a local Docker daemon or buildah/podman store.")]
    NoColor = Annotated[bool, typer.Option("--no-color", help="No colours or styles (also when NO_COLOR is set).")]

    @app.command()
    def check(
        paths: Paths = None,
        select: Select = None,
        ignore: Ignore = None,
        unsafe_fixes: Unsafe = None,
        exclude: Exclude = None,
        force_exclude: ForceExclude = False,
        output_format: Fmt = Format.full,
        preview: Annotated[bool, typer.Option("--preview/--no-preview", help="Show the diff of the fixes.")] = True,
        exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when fixes are available.")] = False,
        statistics: Stats = False,
        show_fixes: Annotated[bool, typer.Option("--show-fixes", help="Accepted for ruff habits: check lists "
                                                 "every fix already.")] = False,
        quiet: Quiet = False,
        context: Context = None,
        pr_body: PrBody = None,
        stdin_filename: StdinName = None,
        config: Config = None,
        no_color: NoColor = False,
        base_image: BaseImage = None,
        local_bases: LocalBases = False,
    ) -> None:
        """Report what can be fixed, with a preview of the diff. Writes nothing."""
        from dockerfix.refactor.cli.execute import execute
        from dockerfix.refactor.cli.options import Settings

        s = Settings("check", paths or ["."], select, ignore, unsafe_fixes, exclude or [], output_format.value,
                     preview, exit_zero, quiet, context, pr_body, None, statistics, show_fixes, stdin_filename, config,
                     no_color, force_exclude, base_image=base_image or [], local_bases=local_bases)
        raise typer.Exit(execute(s))

    @app.command()
    def fix(
        paths: Paths = None,
        diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff (git apply accepts it); write nothing.")] = False,
        patch_dir: Annotated[Optional[Path], typer.Option(
            "--patch-dir", help="Write DIR/REPO.patch and DIR/REPO.md for each git repository; write nothing else.")] = None,
        verify: Annotated[bool, typer.Option(
            "--verify", help="Build each changed file before and after; write only files whose images are the same.")] = False,
        builder: Annotated[Optional[BuilderName], typer.Option("--builder", help="For --verify: docker or buildah.")] = None,
        select: Select = None,
        ignore: Ignore = None,
        unsafe_fixes: Unsafe = None,
        exclude: Exclude = None,
        force_exclude: ForceExclude = False,
        output_format: Fmt = Format.full,
        statistics: Stats = False,
        show_fixes: Annotated[bool, typer.Option("--show-fixes", help="List each fix applied, with its details.")] = False,
        quiet: Quiet = False,
        context: Context = None,
        pr_body: PrBody = None,
        stdin_filename: StdinName = None,
        config: Config = None,
        no_color: NoColor = False,
        base_image: BaseImage = None,
        local_bases: LocalBases = False,
    ) -> None:
        """Apply the fixes in place (atomic writes; unchanged files are not touched)."""
        from dockerfix.refactor.cli.execute import execute
        from dockerfix.refactor.cli.options import Settings

        mode = "diff" if diff or patch_dir is not None else "fix"
        s = Settings(mode, paths or ["."], select, ignore, unsafe_fixes, exclude or [], output_format.value,
                     False, False, quiet, context, pr_body, patch_dir, statistics, show_fixes, stdin_filename, config,
                     no_color, force_exclude, verify, builder.value if builder else None,
                     base_image=base_image or [], local_bases=local_bases)
        s.print_diff = diff
        raise typer.Exit(execute(s))

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
        output_format: Annotated[ReportFormat, typer.Option("--output-format", "--format", help="text or json.")] = ReportFormat.text,
        no_color: NoColor = False,
    ) -> None:
        """Build the original and the fixed Dockerfile and compare both images path by path."""
        from dockerfix.refactor.cli.verify_cmd import verify_command

        _plain_consoles(no_color)
        if context is not None and not context.is_dir():
            print(f"dockerfix: --context {context}: no such directory", file=sys.stderr)
            raise typer.Exit(2)
        raise typer.Exit(verify_command(dockerfile, context, builder.value if builder else None,
                                        bool(unsafe_fixes), output_format.value, network.value, build_arg or []))

    @app.command()
    def layers(
        archive: Annotated[Path, typer.Argument(help="A docker-archive or OCI archive (.tar).")],
        output_format: Annotated[ReportFormat, typer.Option("--output-format", "--format", help="text or json.")] = ReportFormat.text,
        no_color: NoColor = False,
    ) -> None:
        """Per-layer bytes, files stored more than once, and efficiency of an image archive."""
        from dockerfix.refactor.cli.verify_cmd import layers_command

        _plain_consoles(no_color)
        raise typer.Exit(layers_command(archive, output_format.value))

    return app


def _plain_consoles(flag: bool) -> None:
    """verify and layers print through verify_cmd's consoles: give them the ones that honour --no-color/NO_COLOR."""
    from dockerfix.refactor.cli import verify_cmd
    from dockerfix.refactor.cli.console import console

    verify_cmd._console = lambda stderr=False: console(stderr=stderr, no_color=flag)  # type: ignore[assignment]


if __name__ == "__main__":
    main()
