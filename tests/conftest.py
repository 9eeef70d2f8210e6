from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockerfix.refactor.images.build import Builder, BuildError, BuildResult, find_builder
from dockerfix.refactor.images.builder import DEBIAN_ROOTFS_ENV, debian_rootfs
from dockerfix.refactor.images.image import Image, load_image

ROOT = Path(__file__).resolve().parents[1]
# Every build test runs on both: buildah (what this machine has) and docker with BuildKit (what users run).
BUILDERS = ("buildah", "docker")
INSTALL_HINT = {
    "buildah": "apt-get install -y buildah busybox-static",
    "docker": "a Docker daemon with BuildKit: eval \"$(tests/builders/dockerd.sh start /tmp/dfd)\" after "
              "tests/builders/dockerd.sh install",
}


def _unavailable(reason: str) -> None:
    # On CI a missing builder is a broken setup, not a reason to pass quietly with the build tests skipped.
    if "CI" in os.environ:
        pytest.fail(f"build tests cannot run and CI is set: {reason}", pytrace=False)
    pytest.skip(reason)


def open_builder(name: str) -> Builder:
    """A working builder ``name`` with the test base image loaded; skips (fails on CI) when it cannot build here."""
    found = find_builder(name)
    if found is None:
        what = "no Docker daemon answers `docker info`" if name == "docker" else \
            "buildah is missing or cannot use a private store here"
        _unavailable(f"{name}: {what} ({INSTALL_HINT[name]})")
    assert found is not None
    try:
        found.check()
    except (BuildError, OSError, subprocess.CalledProcessError) as exc:
        found.close()
        _unavailable(f"{name} cannot build the test base image here ({INSTALL_HINT[name]}): {exc}")
    return found


@pytest.fixture(scope="session", params=BUILDERS)
def builder(request: pytest.FixtureRequest) -> Iterator[Builder]:
    """A builder with a private store (buildah) or private tags (docker) and ``localhost/dockerfix-base`` loaded.

    Parametrized: every test that uses it runs as ``[buildah]`` and ``[docker]``. Skips when that builder cannot
    build here; fails instead when the CI variable is set.
    """
    found = open_builder(request.param)
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


@pytest.fixture(scope="session")
def debian_rootfs_tar() -> Path:
    """The Debian bookworm minbase rootfs of tests/builders/debian-base.sh: built once, cached between runs."""
    explicit = os.environ.get(DEBIAN_ROOTFS_ENV)
    if explicit:
        if not Path(explicit).is_file():
            _unavailable(f"{DEBIAN_ROOTFS_ENV}={explicit} is not a file")
        return Path(explicit)
    script = ROOT / "tests" / "builders" / "debian-base.sh"
    out = debian_rootfs().parent
    if shutil.which("debootstrap") is None and not debian_rootfs().is_file():
        _unavailable("the Debian test base needs debootstrap (apt-get install -y debootstrap) and root")
    # The script writes the stubs with this interpreter's dockerfix (this checkout's); python3 on PATH may have none.
    env = {**os.environ, "DOCKERFIX_PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(script), str(out)], capture_output=True, text=True, timeout=900, check=False,
                          env=env)
    if proc.returncode != 0:
        _unavailable(f"tests/builders/debian-base.sh failed: {proc.stderr.strip()[-500:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def debian_build_image(builder: Builder, debian_rootfs_tar: Path, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> ContextBuilds:
    """Like ``build_image``, for Dockerfiles ``FROM localhost/dockerfix-debian`` (bash, GNU coreutils and findutils,
    useradd, stub pip/npm/poetry/uv/git); parametrized by builder through ``builder``."""
    monkeypatch.setenv(DEBIAN_ROOTFS_ENV, str(debian_rootfs_tar))
    builder.ensure_debian()
    context = tmp_path / "context"
    context.mkdir()
    return ContextBuilds(builder, context)


# On CI, hypothesis draws the same examples every run (derandomize), so a run's verdict depends on the code, not on
# luck; on a laptop it keeps exploring new examples.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if "CI" in os.environ:
    _hypothesis_settings.load_profile("ci")
