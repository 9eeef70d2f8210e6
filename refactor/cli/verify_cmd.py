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


def verify_command(dockerfile: Path, context: Path | None, builder_name: str | None, unsafe: bool, fmt: str) -> int:
    from dockerfix.refactor.cli import files
    from dockerfix.refactor.images.build import BuildError, find_builder
    from dockerfix.refactor.engine import run, select
    from dockerfix.refactor.images.verify import render_verify, verify, verify_report

    err = _console(stderr=True)
    try:
        snap = files.read(dockerfile)
        context = context or dockerfile.parent
        result = run(snap.text, select(None, None), unsafe, path=dockerfile, context=context)
    except DockerfixError as exc:
        err.print(f"{dockerfile}: error: {exc}", markup=False)
        return 2
    if not result.changed:
        err.print(f"{dockerfile}: nothing to fix, so nothing to verify", markup=False)
        return 0
    builder = find_builder(builder_name)
    if builder is None:
        err.print("dockerfix verify: no usable builder (docker with BuildKit, or buildah); "
                  "on Debian: apt-get install -y buildah", markup=False)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="dockerfix-verify-") as tmp:
            fixed = Path(tmp) / "Dockerfile.fixed"
            fixed.write_text(result.output, encoding="utf-8")
            outcome = verify(dockerfile, fixed, context, builder)
    except BuildError as exc:
        err.print(f"dockerfix verify: cannot build: {exc}", markup=False)
        return 2
    finally:
        builder.close()
    if fmt == "json":
        report = verify_report(outcome)
        report["transforms"] = sorted({f.transform for f in result.applied})
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        render_verify(outcome, _console())
    return 0 if outcome.identical else 1


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
