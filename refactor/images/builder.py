"""What the two builders share: results, errors, the Builder protocol, running a command, reading step logs, and the
test base images a Dockerfile may name.

Every build uses layers (buildah needs ``--layers``; without it everything is squashed into one layer and the
duplication is hidden) and ``--no-cache`` unless asked otherwise: the layer cache matches COPY by content and would
reuse a layer across different ``--chown`` values, which would make two different Dockerfiles look like one image.
RUN steps get no network unless the builder was made with ``network="host"``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dockerfix.refactor.images.baseimage import BASE_IMAGE, BUSYBOX, PATH_ENV

LOG_TAIL_LINES = 40
DEFAULT_TIMEOUT = 900.0
NETWORKS = ("none", "host")

# The realistic test base: Debian bookworm minbase with stub tools, from tests/builders/debian-base.sh.
DEBIAN_IMAGE = "localhost/dockerfix-debian"
DEBIAN_ROOTFS_ENV = "DOCKERFIX_DEBIAN_ROOTFS"


class BuildError(RuntimeError):
    """A build or export failed; the message ends with the tail of the builder's output."""

    def __init__(self, message: str, log: str = "") -> None:
        self.log = log
        self.summary = message
        tail = "\n".join(log.rstrip().splitlines()[-LOG_TAIL_LINES:])
        super().__init__(f"{message}\n--- last lines of the builder output ---\n{tail}" if tail else message)


class MissingPieceError(BuildError):
    """Something a build needs is not there (a base image that cannot be pulled or found, busybox for the test
    base, the Debian rootfs): ``summary`` is one line that says what."""


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
    network: str

    def ensure_base(self) -> str:
        """Make the test base image available as ``localhost/dockerfix-base`` and return that name."""
        ...

    def ensure_debian(self) -> str:
        """Make the Debian test base available as ``localhost/dockerfix-debian`` and return that name."""
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


def debian_rootfs() -> Path:
    """The Debian rootfs tar: $DOCKERFIX_DEBIAN_ROOTFS, else where tests/builders/debian-base.sh caches it."""
    explicit = os.environ.get(DEBIAN_ROOTFS_ENV)
    if explicit:
        return Path(explicit)
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "dockerfix" / "debian-bookworm" / "rootfs.tar"


def debian_key(tar: Path) -> str:
    """A cheap identity of the Debian rootfs: its stamp (recipe and size) when there, else size and mtime."""
    stamp = tar.with_name(tar.name + ".ok")
    try:
        text = stamp.read_text() if stamp.is_file() else f"{tar.stat().st_size} {tar.stat().st_mtime_ns}"
    except OSError as exc:
        raise MissingPieceError(f"the Debian test base {tar} cannot be read: {exc.strerror}") from exc
    return hashlib.sha256((text + PATH_ENV).encode()).hexdigest()[:16]


def need_debian_rootfs() -> Path:
    tar = debian_rootfs()
    if not tar.is_file():
        raise MissingPieceError(
            f"the Debian test base {tar} is missing: run tests/builders/debian-base.sh (or set {DEBIAN_ROOTFS_ENV})")
    return tar


def need_busybox() -> None:
    if not BUSYBOX.is_file():
        raise MissingPieceError(f"the test base needs {BUSYBOX}: apt-get install -y busybox-static")


def run_command(argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 120.0,
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


def remove_tree(path: Path) -> None:
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
    """Steps of a BuildKit ``--progress=plain`` log; cached ones are those with a "#N CACHED" line.

    A FROM is never counted as cached: BuildKit prints CACHED for a base image it resolved before, which says
    nothing about the build's own steps (buildah prints nothing for it)."""
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
    return tuple(Step(text[i], i in cached and not text[i].startswith("FROM ")) for i in order)


# Lines a builder prints when a FROM image is neither local nor pullable (buildah 1.28, BuildKit 0.13 in Docker 26).
_MISSING_BASE = re.compile(
    r"failed to resolve source metadata for (\S+): |pull access denied for ([^,\s]+)|"
    r"creating build container: .*?(?:initializing source|reading manifest|pinging container registry)"
    r" (?:docker://)?(\S+?)[:\s]|repository (\S+) not found|"
    r"(?:Error: )?(?:creating build container: )?(\S+): image not known"
)


def missing_base(log: str) -> str | None:
    """The base image name when the log says a FROM image cannot be pulled or found, else None."""
    for line in log.splitlines():
        match = _MISSING_BASE.search(line)
        if match:
            return next(g for g in match.groups() if g)
    return None


def fail_build(builder: str, dockerfile: Path, proc: subprocess.CompletedProcess[str]) -> BuildError:
    base = missing_base(proc.stdout)
    if base is not None:
        return MissingPieceError(f"{builder}: base image {base} of {dockerfile.name} cannot be pulled or found",
                                 proc.stdout)
    return BuildError(f"{builder} build of {dockerfile} failed (exit {proc.returncode})", proc.stdout)


def build_flags(cache: bool, build_args: Mapping[str, str] | None) -> list[str]:
    """The options docker build and buildah bud share."""
    flags = [] if cache else ["--no-cache"]
    for key, value in (build_args or {}).items():
        flags += ["--build-arg", f"{key}={value}"]
    return flags


def probe(builder: Builder, directory: Path) -> None:
    """One tiny build on the test base: raises BuildError when builds cannot run here."""
    builder.ensure_base()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nRUN true\n")
    builder.build(directory / "Dockerfile", directory, cache=False).archive.unlink(missing_ok=True)


def ensure_bases_if_used(builder: Builder, dockerfile: Path) -> None:
    """Load a test base image only for Dockerfiles that name it: a user's build needs nothing of ours."""
    try:
        text = dockerfile.read_text("utf-8", "replace")
    except OSError:
        text = BASE_IMAGE  # the build will report the unreadable file itself
    if BASE_IMAGE in text:
        builder.ensure_base()
    if DEBIAN_IMAGE in text:
        builder.ensure_debian()


_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)(?:[ \t]+AS[ \t]+(\S+))?", re.IGNORECASE | re.MULTILINE)


def from_images(text: str) -> list[str]:
    """The images a Dockerfile's FROM lines pull: not scratch, not an earlier stage, not one built from an ARG."""
    stages: set[str] = set()
    images: list[str] = []
    for match in _FROM.finditer(text):
        name, alias = match.group(1), match.group(2)
        if name.lower() not in stages and name != "scratch" and "$" not in name and name not in images:
            images.append(name)
        if alias:
            stages.add(alias.lower())
    return images
