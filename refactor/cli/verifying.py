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


def verify_and_write(results: list[batch.FileResult], s: Settings, err: Any,
                     stop: Callable[[], bool]) -> list[batch.FileResult]:
    from dockerfix.refactor.images.build import find_builder

    todo = [r for r in results if r.changed and not r.error and r.output is not None]
    if not todo:
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
