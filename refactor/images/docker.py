"""docker with BuildKit, against the daemon ``docker info`` reaches (``DOCKER_HOST`` from the environment).

Builds run ``docker build --network=none`` (or host) ``--no-cache --progress=plain``; the image is exported with
``docker save`` (a docker-archive) and every tag this builder made is removed on ``close()``. The test base images
are made with ``docker import`` from the same rootfs tars as buildah's, tagged once per rootfs (``:k-<key>``) so
a daemon that lives longer than one session imports each only once.

A ``# syntax=docker/dockerfile:…`` directive makes BuildKit fetch that frontend image from a registry; the daemon's
built-in frontend already reads heredocs and ``COPY --link``, so such a directive is set aside (the Dockerfile is
built from a copy without it, the build log says so). Any other frontend cannot be built here.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockerfix.refactor.images.baseimage import BASE_IMAGE, PATH_ENV, build_rootfs
from dockerfix.refactor.images.builder import (
    DEBIAN_IMAGE, DEFAULT_TIMEOUT, BuildError, BuildResult, MissingPieceError, build_flags, debian_key,
    ensure_bases_if_used, fail_build, need_busybox, need_debian_rootfs, parse_buildkit_steps, probe, remove_tree,
    run_command,
)

# A directive line before the first instruction: `# syntax=IMAGE` (BuildKit parser/directives.go).
_SYNTAX = re.compile(r"^#[ \t]*syntax[ \t]*=[ \t]*(\S+)[ \t]*\r?$", re.IGNORECASE)
_BUILTIN_FRONTEND = re.compile(r"^(?:docker\.io/)?docker/dockerfile(?::1(?:[.\-][\w.\-]*)?|:latest)?(?:@\S+)?$")


def without_syntax_directive(text: str) -> tuple[str, str | None]:
    """``text`` with a ``# syntax=docker/dockerfile:1…`` directive line emptied, and that frontend's name."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped.startswith("#"):
            break  # directives only come before the first instruction, blank line or other comment
        match = _SYNTAX.match(stripped)
        if match:
            if not _BUILTIN_FRONTEND.match(match.group(1)):
                raise MissingPieceError(f"docker: the frontend {match.group(1)} (from `# syntax=`) needs a registry")
            lines[i] = "#\n"  # keep the line numbers of the builder's messages
            return "".join(lines), match.group(1)
    return text, None


@dataclass
class DockerBuilder:
    """docker with BuildKit, against whatever daemon ``docker info`` reaches; images are tagged per builder."""

    workdir: Path
    cache: Path
    executable: str = "docker"
    network: str = "none"
    name: str = field(default="docker", init=False)
    _serial: int = field(default=0, init=False)
    _base: str | None = field(default=None, init=False)
    _debian: str | None = field(default=None, init=False)
    _tags: list[str] = field(default_factory=list, init=False)

    def run(self, *args: str, timeout: float = 120.0, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        return run_command([self.executable, *args], env=env, timeout=timeout, stdin=stdin)

    def _must(self, what: str, *args: str, timeout: float = 120.0, stdin: bytes | None = None) -> str:
        proc = self.run(*args, timeout=timeout, stdin=stdin)
        if proc.returncode != 0:
            raise BuildError(f"docker {what} failed (exit {proc.returncode})", proc.stdout)
        return proc.stdout

    def _import(self, image: str, key: str, source: str, cmd: str | None, stdin: bytes | None = None) -> str:
        keyed = f"{image}:k-{key}"
        if self.run("image", "inspect", keyed).returncode != 0:
            changes = ["--change", f"ENV PATH={PATH_ENV}"] + (["--change", f'CMD ["{cmd}"]'] if cmd else [])
            self._must("import", "import", *changes, source, keyed, stdin=stdin, timeout=600)
        self._must("tag", "tag", keyed, image)
        return image

    def ensure_base(self) -> str:
        if self._base is None:
            need_busybox()
            rootfs = build_rootfs()
            self._base = self._import(BASE_IMAGE, rootfs.key, "-", None, stdin=rootfs.tar)
        return self._base

    def ensure_debian(self) -> str:
        if self._debian is None:
            tar = need_debian_rootfs()
            self._debian = self._import(DEBIAN_IMAGE, debian_key(tar), str(tar), "/bin/bash")
        return self._debian

    def check(self) -> None:
        probe(self, self.workdir / "probe")

    def build(
        self,
        dockerfile: Path,
        context: Path,
        *,
        cache: bool = False,
        out: Path | None = None,
        build_args: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BuildResult:
        ensure_bases_if_used(self, dockerfile)
        self._serial += 1
        # The daemon may be shared: make the tag unique to this builder's directory, not just to this process.
        suffix = hashlib.sha256(str(self.workdir).encode()).hexdigest()[:8]
        tag = f"localhost/dockerfix-build-{suffix}-{self._serial}"
        out = out or self.workdir / "out" / f"build-{self._serial}.tar"
        source, note = self._dockerfile_to_build(dockerfile)
        argv = ["build", "--progress=plain", f"--network={self.network}", "-f", str(source), "-t", tag]
        argv += build_flags(cache, build_args)
        started = time.monotonic()
        proc = self.run(*argv, str(context), timeout=timeout)
        if proc.returncode != 0:
            raise fail_build("docker", dockerfile, proc)
        self._tags.append(tag)
        out.parent.mkdir(parents=True, exist_ok=True)
        self._must("save", "save", "-o", str(out), tag, timeout=600)
        log = note + proc.stdout
        return BuildResult(out, tag, log, parse_buildkit_steps(proc.stdout), time.monotonic() - started)

    def _dockerfile_to_build(self, dockerfile: Path) -> tuple[Path, str]:
        try:
            text = dockerfile.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return dockerfile, ""  # the build reports it
        stripped, frontend = without_syntax_directive(text)
        if frontend is None:
            return dockerfile, ""
        copy = self.workdir / "dockerfiles" / str(self._serial) / dockerfile.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(stripped, "utf-8")
        ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
        if ignore.is_file():  # BuildKit reads <Dockerfile>.dockerignore next to the Dockerfile first
            shutil.copyfile(ignore, copy.with_name(ignore.name))
        return copy, f"dockerfix: `# syntax={frontend}` set aside: built with the daemon's built-in frontend\n"

    def close(self) -> None:
        if self._tags:
            self.run("rmi", "--force", *self._tags)
            self._tags.clear()
        remove_tree(self.workdir)


def find_docker(cache: Path, network: str) -> DockerBuilder | None:
    executable = shutil.which("docker")
    # `docker info` exits non-zero when no daemon answers, even though it prints the client section.
    if executable is None or run_command([executable, "info"], timeout=30).returncode != 0:
        return None
    return DockerBuilder(Path(tempfile.mkdtemp(prefix="dockerfix-docker-")), cache, executable, network)
