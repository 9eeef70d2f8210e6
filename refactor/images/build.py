"""Build Dockerfiles with a real builder and export the result as a docker-archive.

Two builders: docker (BuildKit, module ``docker``) when a daemon answers ``docker info``, and buildah with a
private store (module ``buildah``); what they share is in ``builder``. ``find_builder`` picks one,
``find_builders`` every one that answers.
"""

from __future__ import annotations

from pathlib import Path

from dockerfix.refactor.images.builder import (
    DEBIAN_IMAGE, DEFAULT_TIMEOUT, LOG_TAIL_LINES, NETWORKS, Builder, BuildError, BuildResult, MissingPieceError,
    Step, build_flags, cache_dir, debian_rootfs, parse_buildah_steps, parse_buildkit_steps, run_command,
)

__all__ = [
    "BUILDERS", "DEBIAN_IMAGE", "DEFAULT_TIMEOUT", "LOG_TAIL_LINES", "NETWORKS", "BuildError", "BuildResult",
    "Builder", "MissingPieceError", "Step", "build_flags", "cache_dir", "debian_rootfs", "find_builder",
    "find_builders", "parse_buildah_steps", "parse_buildkit_steps", "run_command",
]

BUILDERS = ("docker", "buildah")  # the order find_builder tries them in


def _make(name: str, cache: Path | None, network: str) -> Builder | None:
    if name == "docker":
        from dockerfix.refactor.images.docker import find_docker

        return find_docker(cache or cache_dir(), network)
    from dockerfix.refactor.images.buildah import find_buildah

    return find_buildah(cache or cache_dir(), network)


def find_builder(preferred: str | None = None, *, cache: Path | None = None, network: str = "none") -> Builder | None:
    """A usable builder: ``preferred`` ("docker" or "buildah") only, or docker then buildah; None if none works.

    ``network`` is what RUN steps see: "none" (no network at all) or "host".
    """
    if preferred not in (None, *BUILDERS):
        raise ValueError(f"unknown builder {preferred!r}: expected 'docker' or 'buildah'")
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}: expected 'none' or 'host'")
    for name in [preferred] if preferred else BUILDERS:
        builder = _make(name, cache, network)
        if builder is not None:
            return builder
    return None


def find_builders(*, cache: Path | None = None, network: str = "none") -> list[Builder]:
    """Every builder that answers here, docker first."""
    found = [find_builder(name, cache=cache, network=network) for name in BUILDERS]
    return [b for b in found if b is not None]
