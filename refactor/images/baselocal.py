"""Find the base images a Dockerfile names where they are at hand, and read them (``images.baseread``).

Sources, in this order: an archive the user named for the reference; a local Docker daemon; a buildah/podman
store. Nothing is ever run from the image: a daemon image is exported with ``docker save``, a store image with
``buildah push … docker-archive:``, both to a temporary file, and only when the cache (keyed by the image ID, which
``docker image inspect`` / ``buildah inspect`` report) has no entry for it.

The daemon and the store are consulted only when asked (``docker=True`` / ``buildah=True``), and cheaply: without
a daemon socket that accepts a connection, or without an image store on disk, no command is started at all. A
reference that cannot be found or read is left out (unknown); only an archive the user named explicitly that
cannot be read is an error.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockerfix.refactor.dockerfile.basefacts import BaseFacts
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.images.basecache import CachedBases, cached, load_cached

if TYPE_CHECKING:
    import subprocess

# The archive reader, subprocess, tempfile and socket are imported only when there is something to read: where
# no daemon and no store are at hand, --local-bases must cost (almost) nothing.

DOCKER_SOCKET = "/var/run/docker.sock"
_POLICY = '{"default": [{"type": "insecureAcceptAnything"}]}\n'
_INSPECT_TIMEOUT = 30.0
_EXPORT_TIMEOUT = 1800.0


def normal_reference(ref: str) -> str:
    """``python`` → ``docker.io/library/python:latest``, as the Docker CLI expands a short name."""
    name, digest = ref.split("@", 1) if "@" in ref else (ref, "")
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if not digest and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def read_bases(
    references: Iterable[str],
    archives: Mapping[str, Path] | None = None,
    *,
    docker: bool = False,
    buildah: bool = False,
    buildah_store: Sequence[str] = (),
    cache: Path | None = None,
) -> CachedBases:
    """Facts for each reference that could be read, by reference as written (a read-only mapping that pickles
    as cache keys, for worker processes).

    ``archives`` maps a reference (as written after FROM, or its normal form) to a docker-archive or OCI archive;
    ``buildah_store`` holds global buildah options (``--root``, ``--runroot``, ``--storage-driver``) for a store
    other than the default one. Raises DockerfixError when a named archive is unreadable."""
    named = {normal_reference(k): Path(v) for k, v in (archives or {}).items()}
    for ref, path in named.items():
        if not path.exists():
            raise DockerfixError(f"--base-image {ref}={path}: no such file")
    wanted = [r for r in dict.fromkeys(references) if r and r.lower() != "scratch"]
    out = CachedBases({}, cache)
    docker_ok = docker and docker_available()
    buildah_ok = buildah and buildah_available(buildah_store)
    for ref in wanted:
        archive = named.get(normal_reference(ref))
        if archive is not None:
            from dockerfix.refactor.images.baseread import BaseReadError, archive_key, read_archive

            try:
                key = archive_key(archive)
                found: tuple[str, BaseFacts] | None = (key, read_archive(archive, ref, cache=cache, key=key))
            except BaseReadError as exc:
                raise DockerfixError(f"--base-image {ref}: {' '.join(str(exc).split())}") from None
        else:
            found = _from_docker(ref, cache) if docker_ok else None
            if found is None and buildah_ok:
                found = _from_buildah(ref, buildah_store, cache)
        if found is not None:
            out.add(ref, found[0], found[1], cached(found[0], cache))
    return out


def _run(argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[bytes] | None:
    import subprocess

    try:
        return subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                              env=dict(env) if env is not None else None, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


# ---------------------------------------------------------------------------------------------------- docker


def docker_available() -> bool:
    """Whether a Docker daemon may answer, decided without starting the docker client when it cannot: the
    client must be installed, and a local socket must accept a connection (a remote DOCKER_HOST or a docker
    context is trusted to answer, since the user configured it)."""
    if shutil.which("docker") is None:
        return False
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        return True
    if not host and (os.environ.get("DOCKER_CONTEXT") or _current_context()):
        return True
    path = host[len("unix://"):] if host else DOCKER_SOCKET
    if not os.path.exists(path):
        return False
    import socket

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.05)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _current_context() -> str | None:
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        context = json.loads(config.read_text("utf-8")).get("currentContext")
    except (OSError, ValueError, AttributeError):
        return None
    return context if isinstance(context, str) and context not in ("", "default") else None


def _from_docker(ref: str, cache: Path | None) -> tuple[str, BaseFacts] | None:
    proc = _run(["docker", "image", "inspect", ref], _INSPECT_TIMEOUT)
    if proc is None or proc.returncode != 0:
        return None
    try:
        key = str(json.loads(proc.stdout)[0]["Id"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    hit = load_cached(key, ref, "docker daemon", cache=cache)
    if hit is not None:
        return key, hit
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dockerfix-base-") as tmp:
        archive = Path(tmp) / "image.tar"
        # save by ID, not by name: the tag may have moved since the inspect
        proc = _run(["docker", "save", "-o", str(archive), key], _EXPORT_TIMEOUT)
        if proc is None or proc.returncode != 0:
            return None
        return _read_exported(archive, ref, "docker daemon", cache, key)


def _read_exported(archive: Path, ref: str, source: str, cache: Path | None, key: str) -> tuple[str, BaseFacts] | None:
    from dockerfix.refactor.images.baseread import BaseReadError, read_archive

    try:
        return key, read_archive(archive, ref, source, cache=cache, key=key)
    except BaseReadError:
        return None


# --------------------------------------------------------------------------------------------------- buildah


def _storage_roots() -> list[Path]:
    """Where buildah and podman keep images by default (storage.conf's graphroot, else the built-in path)."""
    roots: list[Path] = []
    confs = [os.environ.get("CONTAINERS_STORAGE_CONF", "")]
    if os.getuid() != 0:
        confs.append(str(Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "containers/storage.conf"))
    confs.append("/etc/containers/storage.conf")
    for conf in filter(None, confs):
        try:
            lines = Path(conf).read_text("utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition("=")
            if key.strip() in ("graphroot", "rootless_storage_path") and value.strip().strip('"'):
                roots.append(Path(os.path.expandvars(value.strip().strip('"'))))
    if os.getuid() == 0:
        roots.append(Path("/var/lib/containers/storage"))
    else:
        roots.append(Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "containers/storage")
    return roots


def buildah_available(store: Sequence[str] = ()) -> bool:
    """Whether a buildah store may hold images: buildah is installed and the store has an image list."""
    if shutil.which("buildah") is None:
        return False
    roots = [Path(store[store.index("--root") + 1])] if "--root" in store[:-1] else _storage_roots()
    return any(any(root.glob("*-images/images.json")) for root in roots)


def _buildah_env(tmp: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # buildah 1.28 takes $DOCKER_CONFIG/config.json as its auth file and fails every command when that file is
    # missing (a docker client config with plugins only): the store is local, no auth is needed.
    if "DOCKER_CONFIG" in env and not (Path(env["DOCKER_CONFIG"]) / "config.json").is_file():
        del env["DOCKER_CONFIG"]
    if tmp is not None:
        env["TMPDIR"] = tmp  # buildah stages the export under TMPDIR
    return env


def _from_buildah(ref: str, store: Sequence[str], cache: Path | None) -> tuple[str, BaseFacts] | None:
    base = ["buildah", *store]
    proc = _run([*base, "inspect", "--type", "image", ref], _INSPECT_TIMEOUT, env=_buildah_env())
    if proc is None or proc.returncode != 0:
        return None
    try:
        image_id = str(json.loads(proc.stdout)["FromImageID"])
    except (ValueError, KeyError, TypeError):
        return None
    key = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
    hit = load_cached(key, ref, "buildah store", cache=cache)
    if hit is not None:
        return key, hit
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dockerfix-base-") as tmp:
        policy, archive = Path(tmp) / "policy.json", Path(tmp) / "image.tar"
        policy.write_text(_POLICY)
        proc = _run([*base, "push", "--quiet", "--signature-policy", str(policy), key.removeprefix("sha256:"),
                     f"docker-archive:{archive}"], _EXPORT_TIMEOUT, env=_buildah_env(tmp))
        if proc is None or proc.returncode != 0:
            return None
        return _read_exported(archive, ref, "buildah store", cache, key)
