"""Run one generated case: write its context, fix it with dockerfix (safe fixes only, through the Python API),
and when the text changed, build the original and the fixed Dockerfile with a builder and compare the images.

Classes (per builder): ``unchanged`` (no fix applied, nothing built), ``identical``, ``different``,
``fixed-fails`` (the original builds, the fixed one does not), ``original-fails`` (the original does not build:
the case says nothing about the fix), ``nondeterministic`` (the images differ, but so do two builds of the
original: a flaw of the generator, not of the fix). Independent of the builder: ``error`` (dockerfix raised) and
``not-idempotent`` (fix(fix(x)) != fix(x)).

dockerfix is imported from whatever is installed, so this runs against any checkout.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockerfix.refactor import engine
from dockerfix.refactor.images.build import Builder, BuildError
from dockerfix.refactor.images.image import compare_images, load_image

CLASSES = ("unchanged", "identical", "different", "fixed-fails", "original-fails", "nondeterministic")
BAD = ("different", "fixed-fails", "nondeterministic")


def write_context(case: dict[str, Any], directory: Path) -> Path:
    """Write the case's files (modes, symlinks, hard links) and its Dockerfile into ``directory``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    links = []
    for rel, spec in sorted(case["files"].items()):
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if "symlink" in spec:
            target.symlink_to(spec["symlink"])
        elif "hardlink" in spec:
            links.append((target, directory / spec["hardlink"]))
        else:
            target.write_text(spec["text"])
            target.chmod(spec["mode"])
    for target, source in links:
        os.link(source, target)
    (directory / "Dockerfile").write_text(case["dockerfile"])
    return directory


@dataclass
class Fixed:
    """What dockerfix made of a case (no builds)."""

    text: str
    output: str = ""
    applied: list[str] = field(default_factory=list)
    error: str | None = None
    idempotent: bool = True

    @property
    def changed(self) -> bool:
        return self.error is None and self.output != self.text

    @property
    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.text.splitlines(True), self.output.splitlines(True),
                                            "Dockerfile", "Dockerfile.fixed"))


def fix(case: dict[str, Any], context: Path) -> Fixed:
    """dockerfix fix (safe fixes only) on the case, and the same again on its output (idempotence).

    The test base image's facts are known, as `dockerfix verify` and `--local-bases` read them from the builder's
    store: the fixes that rest on proven base-image facts are exercised too, not only the ones that need none."""
    from tests.testbases import table

    text = case["dockerfile"]
    selected = engine.select(None, None)
    bases = table()
    try:
        result = engine.run(text, selected, path=context / "Dockerfile", context=context, bases=bases)
        again = engine.run(result.output, selected, path=context / "Dockerfile", context=context, bases=bases)
    except Exception:  # noqa: BLE001 - any exception on generated, valid input is a finding
        return Fixed(text, error=traceback.format_exc(limit=6))
    applied = [f"{f.transform}: {f.message}" for f in result.applied]
    return Fixed(text, result.output, applied, idempotent=again.output == result.output)


@dataclass
class Outcome:
    cls: str
    details: str = ""  # image differences or the end of the failed build's log
    seconds: float = 0.0


def _forget(builder: Builder, tag: str) -> None:
    """Remove a built image so long runs do not fill the store (both builders have ``run``)."""
    runner = getattr(builder, "run", None)
    if runner is not None:
        runner("rmi", "--force", tag)


def _build(builder: Builder, context: Path, name: str) -> tuple[Any, str | None]:
    try:
        result = builder.build(context / name, context)
    except BuildError as exc:
        return None, str(exc)
    try:
        image = load_image(result.archive)
    finally:
        result.archive.unlink(missing_ok=True)
        _forget(builder, result.tag)
    return (image, result.seconds), None


def build_and_compare(fixed: Fixed, context: Path, builder: Builder) -> Outcome:
    """Build both Dockerfiles in ``context`` (the fixed one as Dockerfile.fixed) and classify."""
    if not fixed.changed:
        return Outcome("unchanged")
    (context / "Dockerfile.fixed").write_text(fixed.output)
    # Dockerfile.fixed must see the same ignore file as Dockerfile: a Dockerfile.dockerignore would not carry over.
    ignore = context / "Dockerfile.dockerignore"
    if ignore.exists():
        shutil.copyfile(ignore, context / "Dockerfile.fixed.dockerignore")
    original, err = _build(builder, context, "Dockerfile")
    if original is None:
        return Outcome("original-fails", err or "")
    rewritten, err = _build(builder, context, "Dockerfile.fixed")
    if rewritten is None:
        return Outcome("fixed-fails", err or "", original[1])
    differences = compare_images(original[0], rewritten[0])
    seconds = original[1] + rewritten[1]
    if differences:
        again, _ = _build(builder, context, "Dockerfile")
        if again is None or compare_images(original[0], again[0]):
            return Outcome("nondeterministic", "\n".join(str(d) for d in differences), seconds)
        return Outcome("different", "\n".join(str(d) for d in differences), seconds)
    return Outcome("identical", "", seconds)


def save(case: dict[str, Any], fixed: Fixed, outcome: Outcome | None, builder: str, folder: Path) -> Path:
    """Write a finding as a folder that can become a regression test: case.json, Dockerfile, Dockerfile.fixed,
    ctx/ (the build context as built), fix.diff, and images.txt (the differences) or build.log."""
    cls = outcome.cls if outcome else ("error" if fixed.error else "not-idempotent")
    out = folder / builder / cls / case["id"]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_context(case, out / "ctx")
    (out / "case.json").write_text(json.dumps(case, indent=1, sort_keys=True) + "\n")
    (out / "Dockerfile").write_text(fixed.text)
    (out / "Dockerfile.fixed").write_text(fixed.output)
    (out / "fix.diff").write_text(fixed.diff + "".join(f"# applied: {a}\n" for a in fixed.applied))
    if fixed.error:
        (out / "error.txt").write_text(fixed.error)
    if outcome is not None and outcome.details:
        (out / ("build.log" if cls == "fixed-fails" else "images.txt")).write_text(outcome.details + "\n")
    return out
