"""buildah with a private store in a temporary directory (``--root``/``--runroot``; overlay when the kernel lets us
mount it, vfs otherwise) and chroot isolation, since the default OCI runtime fails here ("cgroups in hybrid mode
not supported").

Chroot isolation refuses ``--network`` other than host, so ``network="none"`` runs the whole ``buildah bud`` in a
new, empty network namespace (``unshare --net``) after pulling the FROM images it does not have yet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockerfix.refactor.images.baseimage import BASE_IMAGE, PATH_ENV, Rootfs, build_rootfs
from dockerfix.refactor.images.builder import (
    DEBIAN_IMAGE, DEFAULT_TIMEOUT, BuildError, BuildResult, MissingPieceError, build_flags, debian_key,
    ensure_bases_if_used, fail_build, from_images, need_busybox, need_debian_rootfs, parse_buildah_steps, probe,
    remove_tree, run_command,
)

_POLICY = '{"default": [{"type": "insecureAcceptAnything"}]}\n'


_RUNTIME_FLAKE = "sealing memfd copy: Device or resource busy"

@dataclass
class BuildahBuilder:
    """buildah with a private store under ``workdir``; ``close()`` removes the store."""

    workdir: Path
    driver: str  # "overlay" or "vfs"
    cache: Path
    executable: str = "buildah"
    network: str = "host"
    name: str = field(default="buildah", init=False)
    policy: Path = field(init=False)
    _serial: int = field(default=0, init=False)
    _base: str | None = field(default=None, init=False)
    _debian: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        for sub in ("root", "run", "tmp", "out"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        # A policy of our own, so pulls and pushes work where /etc/containers/policy.json is missing.
        self.policy = self.workdir / "policy.json"
        self.policy.write_text(_POLICY)

    def store(self) -> tuple[str, ...]:
        """The options that point buildah at this builder's private store (also what a reader of it needs)."""
        return ("--root", str(self.workdir / "root"), "--runroot", str(self.workdir / "run"),
                "--storage-driver", self.driver)

    def argv(self, *args: str) -> list[str]:
        return [self.executable, *self.store(), *args]

    def run(self, *args: str, timeout: float = 120.0, isolate_network: bool = False) -> subprocess.CompletedProcess[str]:
        argv = self.argv(*args)
        if isolate_network:
            argv = ["unshare", "--net", *argv]
        # buildah stages copies under TMPDIR; keep them inside the private directory too.
        env = {**os.environ, "TMPDIR": str(self.workdir / "tmp")}
        # buildah 1.28 takes $DOCKER_CONFIG/config.json as its auth file and fails every command when that file is
        # missing (a docker client config with plugins only, as tests/builders/dockerd.sh sets up).
        if "DOCKER_CONFIG" in env and not (Path(env["DOCKER_CONFIG"]) / "config.json").is_file():
            del env["DOCKER_CONFIG"]
        return run_command(argv, env=env, timeout=timeout)

    def _must(self, what: str, *args: str, timeout: float = 120.0) -> str:
        proc = self.run(*args, timeout=timeout)
        if proc.returncode != 0:
            raise BuildError(f"buildah {what} failed (exit {proc.returncode})", proc.stdout)
        return proc.stdout

    def push(self, image: str, archive: Path) -> None:
        """Export ``image`` as a docker-archive at ``archive`` (replaced if it exists)."""
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.unlink(missing_ok=True)  # docker-archive refuses to write into an existing file
        self._must("push", "push", "--signature-policy", str(self.policy), image,
                   f"docker-archive:{archive}:{image}", timeout=600)

    def ensure_base(self) -> str:
        if self._base is not None:
            return self._base
        need_busybox()
        rootfs = build_rootfs()
        archive = self.cache / f"base-{rootfs.key}.tar"
        loaded = archive.is_file() and self.run(
            "pull", "--signature-policy", str(self.policy), f"docker-archive:{archive}"
        ).returncode == 0
        if not loaded:
            self._create_base(rootfs)
            partial = archive.with_name(f"{archive.name}.{os.getpid()}.partial")
            self.push(BASE_IMAGE, partial)
            os.replace(partial, archive)  # atomic, so a concurrent session never reads half an archive
        self._base = BASE_IMAGE
        return self._base

    def _create_base(self, rootfs: Rootfs) -> None:
        tar = self.workdir / "tmp" / "rootfs.tar"
        tar.write_bytes(rootfs.tar)
        try:
            self._import(tar, BASE_IMAGE, f"dockerfix base image (rootfs {rootfs.key})")
        finally:
            tar.unlink(missing_ok=True)

    def _import(self, tar: Path, image: str, created_by: str, cmd: str | None = None) -> None:
        container = self._must("from", "from", "scratch").strip().splitlines()[-1]
        try:
            # `buildah add` of a tar keeps its owners and modes; `buildah copy` of a folder would reset them to 0:0.
            self._must("add", "add", container, str(tar), "/", timeout=600)
            self._must("config", "config", "--env", f"PATH={PATH_ENV}", *(["--cmd", cmd] if cmd else []),
                       "--created-by", created_by, container)
            self._must("commit", "commit", "--format", "docker", "--quiet", container, image, timeout=600)
        finally:
            self.run("rm", container)

    def ensure_debian(self) -> str:
        if self._debian is None:
            tar = need_debian_rootfs()
            self._import(tar, DEBIAN_IMAGE, f"dockerfix Debian base (rootfs {debian_key(tar)})", "/bin/bash")
            self._debian = DEBIAN_IMAGE
        return self._debian

    def check(self) -> None:
        probe(self, self.workdir / "tmp" / "probe")

    def _pull_missing(self, dockerfile: Path) -> None:
        """With no network for the build, pull the FROM images the store lacks first (with the network)."""
        try:
            text = dockerfile.read_text("utf-8", "replace")
        except OSError:
            return
        for image in from_images(text):
            if self.run("inspect", "--type", "image", image).returncode == 0:
                continue
            pulled = self.run("pull", "--signature-policy", str(self.policy), image, timeout=600)
            if pulled.returncode != 0:
                raise MissingPieceError(f"buildah: base image {image} of {dockerfile.name} cannot be pulled or found",
                                        pulled.stdout)

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
        isolate = self.network == "none"
        if isolate:
            self._pull_missing(dockerfile)
        self._serial += 1
        tag = f"localhost/dockerfix-build-{self._serial}"
        out = out or self.workdir / "out" / f"build-{self._serial}.tar"
        argv = ["bud", "--layers", "--isolation", "chroot", "--format", "docker",
                "--signature-policy", str(self.policy), "-f", str(dockerfile), "-t", tag]
        argv += build_flags(cache, build_args)
        started = time.monotonic()
        proc = self.run(*argv, str(context), timeout=timeout, isolate_network=isolate)
        if proc.returncode != 0 and _RUNTIME_FLAKE in proc.stdout:
            # The OCI runtime of buildah 1.28 sometimes fails to seal its memfd copy on a busy machine ("Device or
            # resource busy") before the step's command runs: a failure of the runtime, not of the Dockerfile.
            # The same build is run once more; any other failure, or the same one twice, is reported.
            proc = self.run(*argv, str(context), timeout=timeout, isolate_network=isolate)
        if proc.returncode != 0:
            raise fail_build("buildah", dockerfile, proc)
        self.push(tag, out)
        return BuildResult(out, tag, proc.stdout, parse_buildah_steps(proc.stdout), time.monotonic() - started)

    def close(self) -> None:
        self.run("rm", "--all")
        self.run("rmi", "--all", "--force")
        remove_tree(self.workdir)


def find_buildah(cache: Path, network: str) -> BuildahBuilder | None:
    executable = shutil.which("buildah")
    if executable is None or run_command([executable, "version"], timeout=30).returncode != 0:
        return None
    if network == "none" and (shutil.which("unshare") is None
                              or run_command(["unshare", "--net", "true"], timeout=30).returncode != 0):
        return None  # no way to take the network away from chroot-isolated RUN steps
    # overlay measured ~3x faster than vfs here (vfs copies the whole rootfs for every layer); fall back to vfs
    # where overlay cannot be mounted (rootless without fuse-overlayfs, overlay-on-overlay).
    for driver in ("overlay", "vfs"):
        workdir = Path(tempfile.mkdtemp(prefix=f"dockerfix-buildah-{driver}-"))
        builder = BuildahBuilder(workdir, driver, cache, executable, network)
        if _probe_store(builder):
            return builder
        builder.close()
    return None


def _probe_store(builder: BuildahBuilder) -> bool:
    """Whether this storage driver can mount a layer here: add a file to a scratch container."""
    created = builder.run("from", "scratch")
    if created.returncode != 0:
        return False
    container = created.stdout.strip().splitlines()[-1]
    marker = builder.workdir / "tmp" / "probe.txt"
    marker.write_text("probe\n")
    ok = builder.run("add", container, str(marker), "/probe.txt").returncode == 0
    builder.run("rm", container)
    return ok
