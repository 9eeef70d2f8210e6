"""`fix --verify`: build each changed file before and after the fix, and write only what proved the same.

Every build goes through `build_and_compare`, the one place that calls the image API (`images.build` and
`images.verify`); a change there is a change of this one function. The outcome of each file is one sentence
that goes into the output and the PR body.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockerfix.refactor.cli import batch, files
from dockerfix.refactor.cli.options import Settings
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.units import human_bytes


@dataclass(frozen=True)
class Outcome:
    identical: bool | None  # None: could not build
    sentence: str


def build_and_compare(original: Path, fixed_text: str, context: Path, builder: Any) -> Outcome:
    """Build the file as it is and as fixed, from one context without cache, and compare both images."""
    from dockerfix.refactor.images.build import BuildError
    from dockerfix.refactor.images.verify import verify

    try:
        with tempfile.TemporaryDirectory(prefix="dockerfix-verify-") as tmp:
            fixed = Path(tmp) / "Dockerfile.fixed"
            fixed.write_text(fixed_text, encoding="utf-8")
            result = verify(original, fixed, context, builder)
    except BuildError as exc:
        return Outcome(None, f"not verified: the build failed ({str(exc).splitlines()[0] if str(exc) else 'no message'})")
    name = type(builder).__name__.replace("Builder", "").lower() or "the builder"
    if result.identical:
        saved = f"; the fixed image is {human_bytes(result.saved_bytes)} smaller" if result.saved_bytes > 0 else ""
        return Outcome(True, f"verified: built before and after with {name}, and the images are the same (every "
                             f"path's content, type, mode, owner and link target, and the config){saved}")
    first = result.differences[0]
    return Outcome(False, f"not written: built before and after with {name}, and the images differ "
                          f"({len(result.differences)} difference{'s' if len(result.differences) != 1 else ''}, "
                          f"first: {first})")


def open_builders(s: Settings) -> list[Any]:
    """The builders `fix --verify` uses (every one that answers with --builder all); a one-line error when none."""
    from dockerfix.refactor.images.build import find_builder, find_builders

    if s.builder == "all":
        builders = find_builders()
    else:
        one = find_builder(s.builder)
        builders = [one] if one is not None else []
    if not builders:
        raise DockerfixError("--verify: no usable builder (docker with BuildKit, or buildah); "
                             "on Debian: apt-get install -y buildah")
    return builders


def builder_bases(builder: Any, texts: list[str], dockerfiles: list[Path] = ()) -> Any:  # type: ignore[assignment]
    """Facts about the base images the Dockerfiles name, read (never run) from the store ``builder`` builds from:
    a builder is at hand, so what a fix rests on about them is proven instead of assumed."""
    from dockerfix.refactor.cli.bases import references
    from dockerfix.refactor.images.baselocal import read_bases
    from dockerfix.refactor.images.builder import ensure_bases_if_used

    for path in dockerfiles:
        ensure_bases_if_used(builder, path)
    refs = references(texts)
    if builder.name == "buildah":
        return read_bases(refs, {}, buildah=True, buildah_store=builder.store())
    return read_bases(refs, {}, docker=True)


def verify_and_write(results: list[batch.FileResult], s: Settings, err: Any,
                     stop: Callable[[], bool], builders: list[Any]) -> list[batch.FileResult]:
    """Build each changed file on ``builders`` before and after; write it only when every image is the same.
    Closes the builders."""
    todo = [r for r in results if r.changed and not r.error and r.output is not None]
    try:
        for n, r in enumerate(todo, 1):
            if stop():
                break
            path = Path(r.abspath)
            context = s.context or path.parent
            if err.is_terminal and not s.quiet:
                err.print(f"building {r.path} before and after ({n}/{len(todo)})…", markup=False, highlight=False)
            # With --builder all, a file is written only when every builder gives the same image before and after.
            outcomes = [build_and_compare(path, r.output or "", context, b) for b in builders]
            r.verified = "; ".join(o.sentence for o in outcomes)
            if all(o.identical for o in outcomes):
                try:
                    snap = files.read(path)
                    if snap.digest != r.digest:
                        raise DockerfixError("changed on disk since it was read; not overwritten")
                    r.written = files.write(snap, r.output or "")
                except DockerfixError as exc:
                    r.error = str(exc)
    finally:
        for b in builders:
            b.close()
    return results
    builder = find_builder(s.builder)
    if builder is None:
        raise DockerfixError("--verify: no usable builder (docker with BuildKit, or buildah); "
                             "on Debian: apt-get install -y buildah")
    try:
        for n, r in enumerate(todo, 1):
            if stop():
                break
            path = Path(r.abspath)
            context = s.context or path.parent
            if err.is_terminal and not s.quiet:
                err.print(f"building {r.path} before and after ({n}/{len(todo)})…", markup=False, highlight=False)
            outcome = build_and_compare(path, r.output or "", context, builder)
            r.verified = outcome.sentence
            if outcome.identical:
                try:
                    snap = files.read(path)
                    if snap.digest != r.digest:
                        raise DockerfixError("changed on disk since it was read; not overwritten")
                    r.written = files.write(snap, r.output or "")
                except DockerfixError as exc:
                    r.error = str(exc)
    finally:
        builder.close()
    return results
