"""Build Dockerfiles with a real builder and no daemon of our own, and export the result as a docker-archive.

Two builders: docker (BuildKit) when a daemon answers ``docker info``, else buildah with a private store in a
temporary directory (``--root``/``--runroot``; overlay when the kernel lets us mount it, vfs otherwise) and chroot
isolation, since the default OCI runtime fails here ("cgroups in hybrid mode not supported").

Every build uses ``--layers`` (without it buildah squashes everything into one layer and hides duplication) and
``--no-cache`` unless asked otherwise: the layer cache matches COPY by content and would reuse a layer across
different ``--chown`` values, which would make two different Dockerfiles look like one image.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dockerfix.refactor.images.baseimage import BASE_IMAGE, PATH_ENV, Rootfs, build_rootfs

LOG_TAIL_LINES = 40
DEFAULT_TIMEOUT = 900.0
_POLICY = '{"default": [{"type": "insecureAcceptAnything"}]}\n'


class BuildError(RuntimeError):
    """A build or export failed; the message ends with the tail of the builder's output."""

    def __init__(self, message: str, log: str = "") -> None:
        self.log = log
        tail = "\n".join(log.rstrip().splitlines()[-LOG_TAIL_LINES:])
        super().__init__(f"{message}\n--- last lines of the builder output ---\n{tail}" if tail else message)


@dataclass(frozen=True)
class Step:
    text: str  # the instruction as the builder printed it, e.g. "RUN pip install -r requirements.txt"
    cached: bool


@dataclass(frozen=True)
class BuildResult:
    archive: Path  # docker-archive of the built image
    tag: str
    log: str
    steps: tuple[Step, ...]
    seconds: float

    @property
    def cached_steps(self) -> tuple[str, ...]:
        return tuple(step.text for step in self.steps if step.cached)


class Builder(Protocol):
    name: str

    def ensure_base(self) -> str:
        """Make the test base image available as ``localhost/dockerfix-base`` and return that name."""
        ...

    def check(self) -> None:
        """Build a one-step RUN on the base image; raise BuildError when this builder cannot run builds here."""
        ...

    def build(
        self,
        dockerfile: Path,
        context: Path,
        *,
        cache: bool = False,
        out: Path | None = None,
        build_args: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BuildResult: ...

    def close(self) -> None: ...


def cache_dir() -> Path:
    """Where the base image archive is kept between sessions: $XDG_CACHE_HOME/dockerfix, else under /tmp."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    path = Path(xdg) / "dockerfix" if xdg else Path(tempfile.gettempdir()) / f"dockerfix-cache-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def find_builder(preferred: str | None = None, *, cache: Path | None = None) -> Builder | None:
    """A usable builder: ``preferred`` ("docker" or "buildah") only, or docker then buildah; None if none works."""
    if preferred not in (None, "docker", "buildah"):
        raise ValueError(f"unknown builder {preferred!r}: expected 'docker' or 'buildah'")
    for name in [preferred] if preferred else ["docker", "buildah"]:
        builder = _docker(cache) if name == "docker" else _buildah(cache)
        if builder is not None:
            return builder
    return None


def _run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 120.0,
         stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command with stdout and stderr merged, as the log a user would have seen."""
    try:
        # Without input, give the child an empty stdin: CI runs with none, and a builder must never wait on it.
        proc = subprocess.run(  # noqa: PLW1510 - the callers read the exit code
            list(argv), input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env) if env is not None else None,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raw = exc.output
        output = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
        raise BuildError(f"{argv[0]} {argv[1] if len(argv) > 1 else ''} timed out after {timeout:.0f} s", output) from exc
    except OSError as exc:
        raise BuildError(f"cannot run {argv[0]}: {exc}") from exc
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(errors="replace"), "")


def _mounts_under(path: Path) -> list[str]:
    root = str(path.resolve())
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[4].replace("\\040", " ") for line in lines if len(line.split()) > 4]
    return [p for p in points if p == root or p.startswith(root + "/")]


def _remove_tree(path: Path) -> None:
    # A leftover mount (a RUN's bind of /dev or /proc, an overlay) would make rmtree reach outside our directory.
    if _mounts_under(path):
        return
    shutil.rmtree(path, ignore_errors=True)


_STEP = re.compile(r"^(?:\[\d+/\d+\] )?STEP \d+/\d+: (.*)$")


def parse_buildah_steps(log: str) -> tuple[Step, ...]:
    """Steps in order, each marked cached when buildah printed "--> Using cache" for it."""
    steps: list[list[object]] = []
    for line in log.splitlines():
        match = _STEP.match(line)
        if match:
            steps.append([match.group(1).strip(), False])
        elif line.startswith("--> Using cache") and steps:
            steps[-1][1] = True
    return tuple(Step(str(text), bool(cached)) for text, cached in steps)


_BK_STEP = re.compile(r"^#(\d+) \[(?:[^\]]*\s)?\d+/\d+\] (.*)$")
_BK_CACHED = re.compile(r"^#(\d+) CACHED\s*$")


def parse_buildkit_steps(log: str) -> tuple[Step, ...]:
    """Steps of a BuildKit ``--progress=plain`` log; cached ones are those with a "#N CACHED" line."""
    order: list[str] = []
    text: dict[str, str] = {}
    cached: set[str] = set()
    for line in log.splitlines():
        match = _BK_STEP.match(line)
        if match and match.group(1) not in text:
            order.append(match.group(1))
            text[match.group(1)] = match.group(2).strip()
        elif (hit := _BK_CACHED.match(line)) is not None:
            cached.add(hit.group(1))
    return tuple(Step(text[i], i in cached) for i in order)


@dataclass
class BuildahBuilder:
    """buildah with a private store under ``workdir``; ``close()`` removes the store."""

    workdir: Path
    driver: str  # "overlay" or "vfs"
    cache: Path
    executable: str = "buildah"
    name: str = field(default="buildah", init=False)
    policy: Path = field(init=False)
    _serial: int = field(default=0, init=False)
    _base: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        for sub in ("root", "run", "tmp", "out"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        # A policy of our own, so pulls and pushes work where /etc/containers/policy.json is missing.
        self.policy = self.workdir / "policy.json"
        self.policy.write_text(_POLICY)

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        argv = [
            self.executable, "--root", str(self.workdir / "root"), "--runroot", str(self.workdir / "run"),
            "--storage-driver", self.driver, *args,
        ]
        # buildah stages copies under TMPDIR; keep them inside the private directory too.
        return _run(argv, env={**os.environ, "TMPDIR": str(self.workdir / "tmp")}, timeout=timeout)

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
        container = self._must("from", "from", "--name", f"dockerfix-base-{rootfs.key}", "scratch").strip()
        try:
            # `buildah add` of a tar keeps its owners and modes; `buildah copy` of a folder would reset them to 0:0.
            self._must("add", "add", container, str(tar), "/")
            self._must("config", "config", "--env", f"PATH={PATH_ENV}",
                       "--created-by", f"dockerfix base image (rootfs {rootfs.key})", container)
            self._must("commit", "commit", "--format", "docker", "--quiet", container, BASE_IMAGE)
        finally:
            self.run("rm", container)
            tar.unlink(missing_ok=True)

    def check(self) -> None:
        _probe(self, self.workdir / "tmp" / "probe")

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
        _ensure_base_if_used(self, dockerfile)
        self._serial += 1
        tag = f"localhost/dockerfix-build-{self._serial}"
        out = out or self.workdir / "out" / f"build-{self._serial}.tar"
        argv = ["bud", "--layers", "--isolation", "chroot", "--format", "docker",
                "--signature-policy", str(self.policy), "-f", str(dockerfile), "-t", tag]
        argv += _build_flags(cache, build_args)
        started = time.monotonic()
        proc = self.run(*argv, str(context), timeout=timeout)
        if proc.returncode != 0:
            raise BuildError(f"buildah bud of {dockerfile} failed (exit {proc.returncode})", proc.stdout)
        self.push(tag, out)
        return BuildResult(out, tag, proc.stdout, parse_buildah_steps(proc.stdout), time.monotonic() - started)

    def close(self) -> None:
        self.run("rm", "--all")
        self.run("rmi", "--all", "--force")
        _remove_tree(self.workdir)


def _build_flags(cache: bool, build_args: Mapping[str, str] | None) -> list[str]:
    """The options docker build and buildah bud share."""
    flags = [] if cache else ["--no-cache"]
    for key, value in (build_args or {}).items():
        flags += ["--build-arg", f"{key}={value}"]
    return flags


def _probe(builder: Builder, directory: Path) -> None:
    """One tiny build on the test base: raises BuildError when builds cannot run here."""
    builder.ensure_base()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nRUN true\n")
    builder.build(directory / "Dockerfile", directory, cache=False).archive.unlink(missing_ok=True)


def _ensure_base_if_used(builder: Builder, dockerfile: Path) -> None:
    """Load the test base image only for Dockerfiles that name it: a user's build needs nothing of ours."""
    try:
        uses = BASE_IMAGE in dockerfile.read_text("utf-8", "replace")
    except OSError:
        uses = True  # the build will report the unreadable file itself
    if uses:
        builder.ensure_base()


def _buildah(cache: Path | None) -> BuildahBuilder | None:
    executable = shutil.which("buildah")
    if executable is None or _run([executable, "version"], timeout=30).returncode != 0:
        return None
    # overlay measured ~3x faster than vfs here (vfs copies the whole rootfs for every layer); fall back to vfs
    # where overlay cannot be mounted (rootless without fuse-overlayfs, overlay-on-overlay).
    for driver in ("overlay", "vfs"):
        workdir = Path(tempfile.mkdtemp(prefix=f"dockerfix-buildah-{driver}-"))
        builder = BuildahBuilder(workdir, driver, cache or cache_dir(), executable)
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


@dataclass
class DockerBuilder:
    """docker with BuildKit, against whatever daemon ``docker info`` reaches; images are tagged per builder."""

    workdir: Path
    cache: Path
    executable: str = "docker"
    name: str = field(default="docker", init=False)
    _serial: int = field(default=0, init=False)
    _base: str | None = field(default=None, init=False)
    _tags: list[str] = field(default_factory=list, init=False)

    def run(self, *args: str, timeout: float = 120.0, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        return _run([self.executable, *args], env=env, timeout=timeout, stdin=stdin)

    def _must(self, what: str, *args: str, timeout: float = 120.0, stdin: bytes | None = None) -> str:
        proc = self.run(*args, timeout=timeout, stdin=stdin)
        if proc.returncode != 0:
            raise BuildError(f"docker {what} failed (exit {proc.returncode})", proc.stdout)
        return proc.stdout

    def ensure_base(self) -> str:
        if self._base is not None:
            return self._base
        rootfs = build_rootfs()
        archive = self.cache / f"base-{rootfs.key}.tar"
        if not (archive.is_file() and self.run("load", "-i", str(archive), timeout=300).returncode == 0):
            self._must("import", "import", "--change", f"ENV PATH={PATH_ENV}", "-", BASE_IMAGE, stdin=rootfs.tar)
        self._base = BASE_IMAGE
        return self._base

    def check(self) -> None:
        _probe(self, self.workdir / "probe")

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
        _ensure_base_if_used(self, dockerfile)
        self._serial += 1
        # The daemon is shared: make the tag unique to this builder's directory, not just to this process.
        suffix = hashlib.sha256(str(self.workdir).encode()).hexdigest()[:8]
        tag = f"localhost/dockerfix-build-{suffix}-{self._serial}"
        out = out or self.workdir / "out" / f"build-{self._serial}.tar"
        argv = ["build", "--progress=plain", "-f", str(dockerfile), "-t", tag]
        argv += _build_flags(cache, build_args)
        started = time.monotonic()
        proc = self.run(*argv, str(context), timeout=timeout)
        if proc.returncode != 0:
            raise BuildError(f"docker build of {dockerfile} failed (exit {proc.returncode})", proc.stdout)
        self._tags.append(tag)
        out.parent.mkdir(parents=True, exist_ok=True)
        self._must("save", "save", "-o", str(out), tag, timeout=600)
        return BuildResult(out, tag, proc.stdout, parse_buildkit_steps(proc.stdout), time.monotonic() - started)

    def close(self) -> None:
        if self._tags:
            self.run("rmi", "--force", *self._tags)
        _remove_tree(self.workdir)


def _docker(cache: Path | None) -> DockerBuilder | None:
    executable = shutil.which("docker")
    # `docker info` exits non-zero when no daemon answers, even though it prints the client section.
    if executable is None or _run([executable, "info"], timeout=30).returncode != 0:
        return None
    return DockerBuilder(Path(tempfile.mkdtemp(prefix="dockerfix-docker-")), cache or cache_dir(), executable)
