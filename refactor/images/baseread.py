"""Read the facts a fix needs about a base image from the image itself, without running it.

What is read (into ``dockerfile.basefacts.BaseFacts``, ``read=True``):

* the config: Env, Volumes, User, WorkingDir;
* the flattened filesystem (layers applied in order, whiteouts and opaque directories honoured, by
  ``images.image.load_image`` and ``flatten``): the kind of every path (dir, file, symlink with its target, other),
  its owner and mode. Every path is indexed, so ``complete_paths`` is True and a path that is not listed is missing.
  Parent directories a layer tar does not list are added as directories with unknown owner and mode;
* the contents of /etc/passwd and /etc/group only (accounts by name, groups by name), found through symlinks;
* which commands a RUN can find on the config's PATH (``TOOLS``; a busybox applet link counts, as it resolves to
  the busybox binary), following symlinks inside the image.

Memory stays bounded on large images: the layers are streamed and only metadata is kept, never file contents
except for the two account files. What was read is cached as JSON under ``$XDG_CACHE_HOME/dockerfix/bases`` (else
``~/.cache/dockerfix/bases``), keyed by the digest of the image config, which names every layer's content: a
changed image has another key and is read again (``images.basecache``).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from dockerfix.refactor.dockerfile import basefacts as bf
from dockerfix.refactor.images import image as img
from dockerfix.refactor.images.basecache import load_cached, store_cached

TOOLS = ("sh", "find", "xargs", "chown", "chmod", "cp", "mv", "mkdir", "rm", "ln", "stat", "id", "getent",
         "useradd", "adduser", "groupadd", "addgroup")
# What BuildKit and buildah put in a RUN's environment when the image config has no PATH.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ACCOUNT_FILES = ("/etc/passwd", "/etc/group")
_MAX_ACCOUNT_FILE = 16 << 20
_KINDS = {img.FILE: bf.FILE, img.DIR: bf.DIR, img.SYMLINK: bf.SYMLINK}


class BaseReadError(Exception):
    """An archive cannot be read as an image."""


# ------------------------------------------------------------------------------------- archive index (small)


class _Archive:
    """The members of a docker-archive / OCI archive (tar) or OCI layout directory, opened by name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar: tarfile.TarFile | None = None
        self.members: dict[str, tarfile.TarInfo] = {}
        if not path.is_dir():
            self.tar = tarfile.open(path, mode="r:*")
            self.members = {posixpath.normpath(m.name): m for m in self.tar.getmembers()}

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()

    def open(self, name: str) -> IO[bytes]:
        if self.tar is None:
            return open(self.path / name, "rb")
        member = self.members.get(posixpath.normpath(name))
        handle = self.tar.extractfile(member) if member is not None else None  # follows the archive's symlinks
        if handle is None:
            raise BaseReadError(f"{self.path}: archive has no readable member {name}")
        return handle

    def exists(self, name: str) -> bool:
        return (self.path / name).is_file() if self.tar is None else posixpath.normpath(name) in self.members

    def json(self, name: str) -> Any:
        with self.open(name) as handle:
            return json.loads(handle.read())


@contextmanager
def _archive(path: Path) -> Iterator[_Archive]:
    archive = _Archive(path)
    try:
        yield archive
    finally:
        archive.close()


def _blob(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _index(archive: _Archive) -> tuple[str, list[str]]:
    """The config digest (sha256 of its bytes) and the layer member names, in the order ``load_image`` uses:
    the first image of a docker-archive, the first manifest (and first platform) of an OCI index."""
    if archive.exists("manifest.json"):
        entry = archive.json("manifest.json")[0]
        config, layers = entry["Config"], list(entry.get("Layers") or ())
    else:
        manifest = archive.json(_blob(archive.json("index.json")["manifests"][0]["digest"]))
        while "manifests" in manifest:
            manifest = archive.json(_blob(manifest["manifests"][0]["digest"]))
        config, layers = _blob(manifest["config"]["digest"]), [_blob(la["digest"]) for la in manifest["layers"]]
    with archive.open(config) as handle:
        return "sha256:" + hashlib.sha256(handle.read()).hexdigest(), layers


def archive_names(path: Path) -> list[str]:
    """The image names an archive records for its first image: docker-archive ``RepoTags``, or the OCI index's
    ``io.containerd.image.name`` / a full reference in ``org.opencontainers.image.ref.name``."""
    try:
        with _archive(path) as archive:
            if archive.exists("manifest.json"):
                return [str(t) for t in archive.json("manifest.json")[0].get("RepoTags") or ()]
            notes = archive.json("index.json")["manifests"][0].get("annotations") or {}
    except (OSError, tarfile.TarError, ValueError, KeyError, IndexError, TypeError, AttributeError, BaseReadError) as exc:
        raise BaseReadError(f"{path}: not a readable image archive ({exc})") from exc
    names = [notes.get("io.containerd.image.name"), notes.get("org.opencontainers.image.ref.name")]
    # a bare ref.name is often only a tag ("3.12"), which names no image
    return list(dict.fromkeys(str(n) for n in names if n and ("/" in n or ":" in n)))


def archive_key(path: Path) -> str:
    """The config digest of an image archive, read from its small JSON files only (the cache key)."""
    try:
        with _archive(path) as archive:
            return _index(archive)[0]
    except BaseReadError:
        raise
    except (OSError, tarfile.TarError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BaseReadError(f"{path}: not a readable image archive ({exc})") from exc


# ------------------------------------------------------------------------------------------- reading facts


def read_archive(path: Path, image_ref: str, source: str | None = None, *, cache: Path | None = None,
                 key: str | None = None) -> bf.BaseFacts:
    """The facts of the image in archive ``path``, from the cache when its config digest was read before.

    ``key`` is the config digest when the caller knows it (the archive is then not opened on a cache hit)."""
    source = source or f"archive {path}"
    key = key or archive_key(path)
    cached = load_cached(key, image_ref, source, cache=cache)
    if cached is not None:
        return cached
    try:
        image = img.load_image(path)
        records = img.flatten(image)
        implied = implied_dirs(records)
        with _archive(path) as archive:
            contents = _account_files(archive, _index(archive)[1], image, records, implied)
    except img.ImageError as exc:
        raise BaseReadError(str(exc)) from exc
    except (OSError, tarfile.TarError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BaseReadError(f"{path}: not a readable image archive ({exc})") from exc
    facts = facts_from(image.config, records, implied, contents, image_ref, source)
    store_cached(key, facts, cache=cache)
    return facts


def implied_dirs(records: Mapping[str, img.FileRecord]) -> frozenset[str]:
    """Directories a layer tar never listed but that hold listed paths (the builder creates them)."""
    out: set[str] = set()
    for path in records:
        parent = posixpath.dirname(path)
        while parent != "/" and parent not in records and parent not in out:
            out.add(parent)
            parent = posixpath.dirname(parent)
    return frozenset(out)


def resolve(records: Mapping[str, img.FileRecord], path: str, depth: int = 0,
            implied: frozenset[str] = frozenset()) -> str | None:
    """The path ``path`` names once every symlink in it is followed inside the image; None when it leads
    nowhere (missing, a loop, through a non-directory). ``implied``: directories present without a record."""
    parts = [p for p in path.split("/") if p and p != "."]
    current = "/"
    for i, part in enumerate(parts):
        if part == "..":
            current = posixpath.dirname(current)
            continue
        nxt = posixpath.join(current, part)
        record = records.get(nxt)
        if record is None:
            if nxt not in implied:
                return None
            current = nxt
            continue
        if record.kind == img.SYMLINK and record.link is not None:
            if depth >= 40:
                return None
            target = record.link if record.link.startswith("/") else posixpath.join(current, record.link)
            return resolve(records, "/".join([target, *parts[i + 1:]]), depth + 1, implied)
        if i < len(parts) - 1 and record.kind != img.DIR:
            return None
        current = nxt
    return current


def _account_files(archive: _Archive, layer_names: list[str], image: img.Image,
                   records: Mapping[str, img.FileRecord], implied: frozenset[str]) -> dict[str, bytes | None]:
    """The bytes of /etc/passwd and /etc/group (None: missing; absent key: exists but could not be read),
    taken from the topmost layer that stored the final content, checked against its digest."""
    out: dict[str, bytes | None] = {}
    wanted: dict[int, dict[str, tuple[str, str]]] = {}  # layer -> member path -> (account file, sha256)
    for name in ACCOUNT_FILES:
        final = resolve(records, name, implied=implied)
        record = records.get(final) if final else None
        if final is None:  # missing, or a symlink that leads nowhere: libc reads no entries
            out[name] = None
            continue
        if record is None or record.kind != img.FILE or record.size > _MAX_ACCOUNT_FILE:
            continue
        names = {record.path, record.hardlink} - {None}
        for index in range(len(image.layers) - 1, -1, -1):
            hit = next((e.path for e in image.layers[index].entries
                        if e.path in names and e.kind == img.FILE and e.sha256 == record.sha256), None)
            if hit is not None:
                wanted.setdefault(index, {})[hit] = (name, record.sha256 or "")
                break
    for index, members in wanted.items():
        if index >= len(layer_names):
            continue
        with archive.open(layer_names[index]) as handle, tarfile.open(fileobj=handle, mode="r|*") as layer:
            left = dict(members)
            for member in layer:
                path = posixpath.normpath("/" + member.name.lstrip("/"))
                if path in left and member.isreg():
                    data = layer.extractfile(member).read()  # type: ignore[union-attr]
                    name, digest = left.pop(path)
                    if hashlib.sha256(data).hexdigest() == digest:
                        out[name] = data
                    if not left:
                        break
    return out


def _parse_passwd(text: str) -> dict[str, bf.Account]:
    accounts: dict[str, bf.Account] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or not fields[0] or fields[0][0] in "#+-":
            continue
        try:
            uid, gid = int(fields[2]), int(fields[3])
        except ValueError:
            continue
        # getpwnam returns the first entry of a name
        accounts.setdefault(fields[0], bf.Account(fields[0], uid, gid, (fields[5] or None) if len(fields) > 5 else None))
    return accounts


def _parse_group(text: str) -> dict[str, int]:
    groups: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 3 or not fields[0] or fields[0][0] in "#+-":
            continue
        try:
            groups.setdefault(fields[0], int(fields[2]))
        except ValueError:
            continue
    return groups


def facts_from(config: img.ImageConfig, records: Mapping[str, img.FileRecord], implied: frozenset[str],
               contents: Mapping[str, bytes | None], image_ref: str, source: str) -> bf.BaseFacts:
    paths: dict[str, bf.PathInfo] = {"/": bf.PathInfo(bf.DIR)}
    paths.update((p, bf.PathInfo(bf.DIR)) for p in sorted(implied))  # exists; owner and mode unknown
    for path, r in records.items():
        kind = _KINDS.get(r.kind, bf.OTHER)
        paths[path] = bf.PathInfo(kind, r.link if kind == bf.SYMLINK else None, r.uid, r.gid, r.mode)
    passwd, group = contents.get("/etc/passwd", b"?"), contents.get("/etc/group", b"?")
    accounts = None if passwd == b"?" else _parse_passwd((passwd or b"").decode("utf-8", "replace"))
    groups = None if group == b"?" else _parse_group((group or b"").decode("utf-8", "replace"))
    env = config.env_map
    tools = {t: _on_path(records, implied, env.get("PATH", DEFAULT_PATH), t) for t in TOOLS}
    return bf.BaseFacts(
        image=image_ref, source=source, read=True, env=env, volumes=frozenset(config.volumes), user=config.user,
        workdir=config.working_dir, accounts=accounts, groups=groups, paths=paths, complete_paths=True,
        tools=tools,
    )


def _on_path(records: Mapping[str, img.FileRecord], implied: frozenset[str], search: str, tool: str) -> bool:
    for directory in search.split(":"):
        if not directory.startswith("/"):
            continue  # a relative PATH entry depends on the working directory of the RUN
        final = resolve(records, posixpath.join(directory, tool), implied=implied)
        record = records.get(final) if final else None
        if record is not None and record.kind == img.FILE and record.mode & 0o111:
            return True
    return False
