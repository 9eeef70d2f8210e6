from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockerfix.refactor.images.build import Builder, BuildError, BuildResult, find_builder
from dockerfix.refactor.images.image import Image, load_image

INSTALL_HINT = "apt-get install -y buildah busybox-static"


def _unavailable(reason: str) -> None:
    # On CI a missing builder is a broken setup, not a reason to pass quietly with the build tests skipped.
    if "CI" in os.environ:
        pytest.fail(f"build tests cannot run and CI is set: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def builder() -> Iterator[Builder]:
    """A buildah builder with a private store and the test base image ``localhost/dockerfix-base`` loaded.

    Skips when buildah cannot build here; fails instead when the CI variable is set.
    """
    found = find_builder("buildah")
    if found is None:
        _unavailable(f"buildah is missing or cannot use a private store here ({INSTALL_HINT})")
    assert found is not None
    try:
        found.check()
    except (BuildError, OSError, subprocess.CalledProcessError) as exc:
        found.close()
        _unavailable(f"buildah cannot build the test base image here ({INSTALL_HINT}): {exc}")
    yield found
    found.close()


@dataclass
class ContextBuilds:
    """Builds Dockerfiles from one build context directory, which a test may fill by hand too (symlinks, modes)."""

    builder: Builder
    context: Path

    def __call__(
        self,
        dockerfile: str,
        files: Mapping[str, bytes | str] | None = None,
        *,
        name: str = "Dockerfile",
        cache: bool = False,
    ) -> tuple[BuildResult, Image]:
        """Write ``files`` (relative path -> content) and ``dockerfile`` as ``name`` into the context, build it,
        and return the BuildResult with the loaded Image."""
        for rel, content in (files or {}).items():
            target = self.context / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        (self.context / name).write_text(dockerfile)
        result = self.builder.build(self.context / name, self.context, cache=cache)
        return result, load_image(result.archive)


@pytest.fixture
def build_image(builder: Builder, tmp_path: Path) -> ContextBuilds:
    """``build_image(dockerfile_text, files={"app/x": b"..."})``: one fresh build context per test."""
    context = tmp_path / "context"
    context.mkdir()
    return ContextBuilds(builder, context)
