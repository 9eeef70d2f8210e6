"""Read container image archives without a daemon, flatten them and compare them.

Two archive kinds are understood:

* docker-archive (``docker save``, ``buildah push IMG docker-archive:FILE``): ``manifest.json`` names the config
  file and the layer tars, which may be gzip-compressed;
* OCI image layout, as a tar (``oci-archive:``) or as a directory: ``index.json`` and ``blobs/<alg>/<hex>``.

Sizes: ``Layer.file_bytes`` is the sum of the sizes of the regular files stored in the layer (what dive calls the
layer size, and what the layer statistics use); ``Layer.tar_bytes`` is the size of the uncompressed layer tar,
headers and padding included. The first is what a Dockerfile change can save; the second also moves with the
number of entries.

The data model is in ``records``, flattening and comparing in ``compare``, layer statistics in ``layerstats``; their
public names are importable from here too.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from pathlib import Path
from typing import IO, Any, cast

from dockerfix.refactor.images.compare import compare_configs, compare_images, compare_trees, flatten
from dockerfix.refactor.images.layerstats import Duplicate, LayerStat, LayerStats, layer_stats
from dockerfix.refactor.images.records import (
    BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, OPAQUE, OPAQUE_MARKER, SYMLINK, WHITEOUT, WHITEOUT_PREFIX, Difference,
    Entry, FileRecord, HistoryEntry, Image, ImageConfig, ImageError, Layer,
)

__all__ = [
    "BLOCK", "CHAR", "DIR", "FIFO", "FILE", "HARDLINK", "OPAQUE", "OPAQUE_MARKER", "SYMLINK", "WHITEOUT",
    "WHITEOUT_PREFIX", "Difference", "Duplicate", "Entry", "FileRecord", "HistoryEntry", "Image", "ImageConfig",
    "ImageError", "Layer", "LayerStat", "LayerStats", "compare_configs", "compare_images", "compare_trees",
    "flatten", "layer_stats", "load_image",
]

_CHUNK = 1 << 20


def load_image(path: str | Path) -> Image:
    """Read a docker-archive or OCI archive (tar, optionally gzip-compressed) or an OCI layout directory."""
    path = Path(path)
    try:
        if path.is_dir():
            return _load(_DirSource(path), str(path))
        with tarfile.open(path, mode="r:*") as outer:
            return _load(_TarSource(outer), str(path))
    except (tarfile.TarError, OSError) as exc:
        raise ImageError(f"{path}: not a readable image archive ({exc})") from exc
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        # the JSON parsed but lacks a field or has the wrong shape: bad input, not a bug to show as a traceback
        raise ImageError(f"{path}: malformed image metadata ({exc!r})") from exc


class _DirSource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self.root / name, "rb")
        except OSError as exc:
            raise ImageError(f"{self.root}: cannot read {name}: {exc}") from exc


class _TarSource:
    def __init__(self, outer: tarfile.TarFile) -> None:
        self.outer = outer
        self.members = {posixpath.normpath(m.name): m for m in outer.getmembers()}

    def exists(self, name: str) -> bool:
        return posixpath.normpath(name) in self.members

    def open(self, name: str) -> IO[bytes]:
        member = self.members.get(posixpath.normpath(name))
        # docker save writes a symlink in place of a layer tar that an earlier entry already holds
        seen = 0
        while member is not None and member.issym() and seen < 8:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
            member = self.members.get(target)
            seen += 1
        handle = self.outer.extractfile(member) if member is not None else None
        if handle is None:
            raise ImageError(f"archive has no readable member {name}")
        return handle


def _read_json(source: _DirSource | _TarSource, name: str) -> Any:
    with source.open(name) as handle:
        try:
            return json.load(handle)
        except ValueError as exc:
            raise ImageError(f"{name} is not valid JSON: {exc}") from exc


def _blob_name(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _load(source: _DirSource | _TarSource, label: str) -> Image:
    if source.exists("manifest.json"):
        manifest = _read_json(source, "manifest.json")
        if not isinstance(manifest, list) or not manifest:
            raise ImageError(f"{label}: manifest.json lists no image")
        entry = manifest[0]
        config_name, layer_names = entry["Config"], list(entry.get("Layers") or [])
        tags = tuple(entry.get("RepoTags") or ())
    elif source.exists("index.json"):
        config_name, layer_names, tags = _oci_manifest(source, label)
    else:
        raise ImageError(f"{label}: neither manifest.json (docker-archive) nor index.json (OCI) found")

    raw_config = _read_json(source, config_name)
    history = tuple(
        HistoryEntry(str(h.get("created_by", "")), bool(h.get("empty_layer", False)))
        for h in raw_config.get("history") or ()
    )
    # History is optional; when present its non-empty entries line up with the layers in order.
    created = [h.created_by for h in history if not h.empty_layer]
    layers = []
    for index, name in enumerate(layer_names):
        with source.open(name) as handle:
            digest, tar_bytes, entries = _read_layer(handle, f"{label}: layer {name}")
        layers.append(Layer(digest, tar_bytes, entries, created[index] if index < len(created) else ""))
    return Image(label, tuple(layers), _parse_config(raw_config.get("config") or {}), history, tags)


def _oci_manifest(source: _DirSource | _TarSource, label: str) -> tuple[str, list[str], tuple[str, ...]]:
    index = _read_json(source, "index.json")
    descriptors = index.get("manifests") or []
    if not descriptors:
        raise ImageError(f"{label}: index.json lists no manifest")
    descriptor = descriptors[0]
    manifest = _read_json(source, _blob_name(descriptor["digest"]))
    # A multi-platform index nests one more level; take the first platform, as a plain pull on it would.
    while "manifests" in manifest:
        descriptor = manifest["manifests"][0]
        manifest = _read_json(source, _blob_name(descriptor["digest"]))
    for layer in manifest.get("layers") or ():
        if "zstd" in str(layer.get("mediaType", "")):
            raise ImageError(f"{label}: zstd-compressed layers are not supported")
    tag = (descriptor.get("annotations") or {}).get("org.opencontainers.image.ref.name")
    return (
        _blob_name(manifest["config"]["digest"]),
        [_blob_name(layer["digest"]) for layer in manifest.get("layers") or ()],
        (tag,) if tag else (),
    )


def _parse_config(raw: dict[str, Any]) -> ImageConfig:
    def seq(value: Any) -> tuple[str, ...] | None:
        return None if value is None else tuple(str(v) for v in value)

    healthcheck = raw.get("Healthcheck")
    return ImageConfig(
        user=raw.get("User") or "",
        env=tuple(raw.get("Env") or ()),
        cmd=seq(raw.get("Cmd")),
        entrypoint=seq(raw.get("Entrypoint")),
        working_dir=raw.get("WorkingDir") or "",
        exposed_ports=tuple(sorted(raw.get("ExposedPorts") or {})),
        volumes=tuple(sorted(raw.get("Volumes") or {})),
        labels=tuple(sorted((raw.get("Labels") or {}).items())),
        shell=seq(raw.get("Shell")),
        stop_signal=raw.get("StopSignal") or "",
        healthcheck=json.dumps(healthcheck, sort_keys=True) if healthcheck else "",
        on_build=tuple(raw.get("OnBuild") or ()),
    )


class _Measured(io.RawIOBase):
    """Counts and hashes the bytes read through it, so one pass yields the diff ID and the tar size."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.count = 0
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        self.hash.update(data)
        return n


def _normalise(name: str) -> str:
    clean = posixpath.normpath("/" + name.lstrip("/"))
    return "/" if clean in ("/", "/.") else clean


def _read_layer(handle: IO[bytes], label: str) -> tuple[str, int, tuple[Entry, ...]]:
    peekable = handle if isinstance(handle, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, handle))
    stream: IO[bytes] = peekable
    if peekable.peek(4)[:4] == b"\x28\xb5\x2f\xfd":
        raise ImageError(f"{label}: zstd-compressed layers are not supported")
    if peekable.peek(2)[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=peekable)  # type: ignore[assignment]
    measured = _Measured(stream)
    buffered = io.BufferedReader(measured, _CHUNK)
    entries: list[Entry] = []
    try:
        with tarfile.open(fileobj=buffered, mode="r|") as layer:
            for member in layer:
                entry = _entry(member, layer)
                if entry is not None:
                    entries.append(entry)
        # tarfile stops at the end-of-archive blocks; the tar's size includes everything after them too
        while buffered.read(_CHUNK):
            pass
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ImageError(f"{label}: unreadable layer tar ({exc})") from exc
    return "sha256:" + measured.hash.hexdigest(), measured.count, tuple(entries)


def _entry(member: tarfile.TarInfo, layer: tarfile.TarFile) -> Entry | None:
    path = _normalise(member.name)
    if path == "/":
        return None
    directory, base = posixpath.split(path)
    if base == OPAQUE_MARKER:
        return Entry(directory, OPAQUE)
    if base.startswith(WHITEOUT_PREFIX):
        return Entry(posixpath.join(directory, base[len(WHITEOUT_PREFIX) :]), WHITEOUT)
    xattrs = tuple(
        sorted((k[len("SCHILY.xattr.") :], v) for k, v in member.pax_headers.items() if k.startswith("SCHILY.xattr."))
    )
    size, sha256, link, device = 0, None, None, None
    if member.isreg():
        kind, size, sha256 = FILE, member.size, _sha256(layer.extractfile(member))
    elif member.isdir():
        kind = DIR
    elif member.issym():
        kind, link = SYMLINK, member.linkname
    elif member.islnk():
        kind, link = HARDLINK, _normalise(member.linkname)
    elif member.ischr() or member.isblk():
        kind, device = CHAR if member.ischr() else BLOCK, (member.devmajor, member.devminor)
    elif member.isfifo():
        kind = FIFO
    else:
        return None
    return Entry(path, kind, member.mode & 0o7777, member.uid, member.gid, size, sha256, link, device, xattrs)


def _sha256(content: IO[bytes] | None) -> str:
    digest = hashlib.sha256()
    if content is not None:
        for chunk in iter(lambda: content.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()

