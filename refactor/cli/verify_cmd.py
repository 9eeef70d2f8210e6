"""`dockerfix verify` and `dockerfix layers`: the command-line side of refactor/verify.py."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from dockerfix.refactor.errors import DockerfixError


def _console(stderr: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def parse_build_args(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``K=V`` strings as a dict; a ``K`` with no ``=`` is refused (docker would take K from the environment, which
    would make the two builds depend on the caller's shell)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DockerfixError(f"--build-arg {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def verify_command(dockerfile: Path, context: Path | None, builder_name: str | None, unsafe: bool, fmt: str,
                   network: str = "none", build_args: list[str] | tuple[str, ...] = ()) -> int:
    """Fix ``dockerfile`` into a temporary copy, build both on one builder (or, with "all", on every builder that
    answers) and compare. Exit 0: the same image on each; 1: a difference on any; 2: cannot verify."""
    from dockerfix.refactor.cli import files
    from dockerfix.refactor.engine import run, select
    from dockerfix.refactor.images.build import BuildError, MissingPieceError, find_builder, find_builders
    from dockerfix.refactor.cli.verifying import builder_bases
    from dockerfix.refactor.images.builder import ensure_bases_if_used
    from dockerfix.refactor.images.verify import render_verify, verify, verify_report

    err = _console(stderr=True)
    try:
        args = parse_build_args(build_args)
        snap = files.read(dockerfile)
    except DockerfixError as exc:
        err.print(f"{dockerfile}: error: {exc}", markup=False)
        return 2
    context = context or dockerfile.parent
    if builder_name == "all":
        builders = find_builders(network=network)
    else:
        one = find_builder(builder_name, network=network)
        builders = [one] if one is not None else []
    if not builders:
        wanted = "docker with BuildKit, or buildah" if builder_name in (None, "all") else builder_name
        hint = ("a Docker daemon answering `docker info` (DOCKER_HOST)" if builder_name == "docker"
                else "on Debian: apt-get install -y buildah")
        network_note = "; buildah needs `unshare --net` for --network none" if builder_name != "docker" and \
            network == "none" else ""
        err.print(f"dockerfix verify: no usable builder ({wanted}): {hint}{network_note}", markup=False)
        return 2
    try:
        # The builder is at hand, so the base images it holds are read (never run): a fix that rests on facts about
        # them is then proven, not assumed. Every builder sees the same images, so the first one's store serves.
        ensure_bases_if_used(builders[0], dockerfile)
        bases = builder_bases(builders[0], [snap.text])
        result = run(snap.text, select(None, None), unsafe, path=dockerfile, context=context, bases=bases)
    except DockerfixError as exc:
        err.print(f"{dockerfile}: error: {exc}", markup=False)
        _close(builders)
        return 2
    except MissingPieceError as exc:
        err.print(f"dockerfix verify: {exc.summary}", markup=False)
        _close(builders)
        return 2
    if not result.changed:
        err.print(f"{dockerfile}: nothing to fix, so nothing to verify", markup=False)
        _close(builders)
        return 0
    outcomes = []
    try:
        with tempfile.TemporaryDirectory(prefix="dockerfix-verify-") as tmp:
            fixed = Path(tmp) / "Dockerfile.fixed"
            fixed.write_text(result.output, encoding="utf-8")
            for builder in builders:
                outcomes.append(verify(dockerfile, fixed, context, builder, build_args=args))
    except MissingPieceError as exc:
        err.print(f"dockerfix verify: {exc.summary}", markup=False)
        return 2
    except BuildError as exc:
        err.print(f"dockerfix verify: cannot build: {exc}", markup=False)
        return 2
    finally:
        _close(builders)
    transforms = sorted({f.transform for f in result.applied})
    if fmt == "json":
        reports = [verify_report(o) for o in outcomes]
        for report in reports:
            report["transforms"] = transforms
        if builder_name == "all":
            out = {"identical": all(o.identical for o in outcomes), "transforms": transforms, "proofs": reports}
        else:
            out = reports[0]
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        console = _console()
        for outcome in outcomes:
            if len(outcomes) > 1:
                console.print(f"\n[bold]{_label(outcome.builder)}[/bold]")
            render_verify(outcome, console)
        if len(outcomes) > 1:
            for outcome in outcomes:
                verdict = "same image" if outcome.identical else f"{len(outcome.differences)} difference(s)"
                console.print(f"{_label(outcome.builder)}: {verdict}", markup=False)
    return 0 if all(o.identical for o in outcomes) else 1


def _close(builders) -> None:  # type: ignore[no-untyped-def]
    for builder in builders:
        builder.close()


def _label(builder: str) -> str:
    return "docker (BuildKit)" if builder == "docker" else builder


def layers_command(archive: Path, fmt: str) -> int:
    from dockerfix.refactor.images.image import ImageError, layer_stats, load_image
    from dockerfix.refactor.images.verify import layers_report, render_layers

    try:
        image = load_image(archive)
    except (ImageError, OSError) as exc:
        _console(stderr=True).print(f"{archive}: error: {exc}", markup=False)
        return 2
    stats = layer_stats(image)
    if fmt == "json":
        sys.stdout.write(json.dumps(layers_report(image, stats), indent=2) + "\n")
    else:
        render_layers(image, _console(), stats)
    return 0
