"""Read container image archives without a daemon, flatten them and compare them.

Two archive kinds are understood:

* docker-archive (``docker save``, ``buildah push IMG docker-archive:FILE``): ``manifest.json`` names the config
  file and the layer tars, which may be gzip-compressed;
* OCI image layout, as a tar (``oci-archive:``) or as a directory: ``index.json`` and ``blobs/<alg>/<hex>``.

Sizes: ``Layer.file_bytes`` is the sum of the sizes of the regular files stored in the layer (what dive calls the
layer size, and what the layer statistics use); ``Layer.tar_bytes`` is the size of the uncompressed layer tar,
headers and padding included. The first is what a Dockerfile change can save; the second also moves with the
number of entries.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

# Kinds of Entry. "whiteout" and "opaque" only occur inside a layer; flattening turns "hardlink" into "file".
FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO = "file", "dir", "symlink", "hardlink", "char", "block", "fifo"
WHITEOUT, OPAQUE = "whiteout", "opaque"

_CHUNK = 1 << 20


class ImageError(Exception):
    """The archive is not an image this module can read."""


@dataclass(frozen=True)
class Entry:
    """One member of one layer tar. For whiteouts ``path`` is the path being deleted; for opaque markers it is
    the directory whose lower contents are hidden."""

    path: str
    kind: str
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    sha256: str | None = None
    link: str | None = None  # symlink target as stored; for hard links the absolute path linked to
    device: tuple[int, int] | None = None
    xattrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Layer:
    digest: str  # sha256 of the uncompressed tar, i.e. the diff ID
    tar_bytes: int
    entries: tuple[Entry, ...]
    created_by: str = ""

    @property
    def file_bytes(self) -> int:
        return sum(e.size for e in self.entries if e.kind == FILE)


@dataclass(frozen=True)
class HistoryEntry:
    created_by: str
    empty_layer: bool


@dataclass(frozen=True)
class ImageConfig:
    user: str = ""
    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    working_dir: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    shell: tuple[str, ...] | None = None
    stop_signal: str = ""
    healthcheck: str = ""  # JSON text, compared as a whole
    on_build: tuple[str, ...] = ()

    @property
    def env_map(self) -> dict[str, str]:
        return dict(item.partition("=")[::2] for item in self.env)


@dataclass(frozen=True)
class Image:
    source: str
    layers: tuple[Layer, ...]
    config: ImageConfig
    history: tuple[HistoryEntry, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileRecord:
    """The state of one path in the flattened image."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    size: int = 0
    sha256: str | None = None
    link: str | None = None  # symlink target
    hardlink: str | None = None  # for a file stored as a hard link: the path it was linked to
    device: tuple[int, int] | None = None
    xattrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Difference:
    path: str  # "" for a config difference
    field: str  # "uid", "mode", "missing", "config User", ...
    a: Any = None
    b: Any = None
    text: str = ""

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------------------------------- reading


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


# ------------------------------------------------------------------------------------------------ flattening


@dataclass
class _Tree:
    """Flattened state while applying layers; ``children`` lets a whiteout drop a subtree without a full scan."""

    records: dict[str, FileRecord] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)

    def put(self, record: FileRecord) -> None:
        old = self.records.get(record.path)
        if old is not None and old.kind == DIR and record.kind != DIR:
            self.remove_below(record.path)  # a non-directory in an upper layer hides the whole lower directory
        self.records[record.path] = record
        path = record.path
        while path != "/":
            parent = posixpath.dirname(path)
            self.children.setdefault(parent, set()).add(path)
            path = parent

    def remove(self, path: str) -> None:
        self.remove_below(path)
        self.records.pop(path, None)
        self.children.get(posixpath.dirname(path), set()).discard(path)

    def remove_below(self, path: str) -> None:
        for child in self.children.pop(path, set()):
            self.remove_below(child)
            self.records.pop(child, None)

    def subtree(self, path: str) -> Iterator[FileRecord]:
        if path in self.records:
            yield self.records[path]
        for child in self.children.get(path, ()):
            yield from self.subtree(child)


def _apply(tree: _Tree, layer: Layer) -> None:
    # Whiteouts and opaque markers hide only what lower layers hold, never their own layer's entries, whatever the
    # order inside the tar (OCI image spec, "Whiteouts"): so apply them all before this layer's additions.
    for entry in layer.entries:
        if entry.kind == WHITEOUT:
            tree.remove(entry.path)
        elif entry.kind == OPAQUE:
            tree.remove_below(entry.path)
    for entry in layer.entries:
        if entry.kind in (WHITEOUT, OPAQUE):
            continue
        if entry.kind == HARDLINK:
            target = tree.records.get(entry.link or "")
            if target is not None and target.kind == FILE:
                # A hard link shares the target's inode: its content, and its owner and mode too.
                tree.put(
                    FileRecord(
                        entry.path, FILE, target.mode, target.uid, target.gid, target.size, target.sha256,
                        hardlink=target.hardlink or target.path, xattrs=target.xattrs,
                    )
                )
            else:  # dangling: keep it visible as what it is
                tree.put(FileRecord(entry.path, HARDLINK, entry.mode, entry.uid, entry.gid, hardlink=entry.link))
            continue
        tree.put(
            FileRecord(
                entry.path, entry.kind, entry.mode, entry.uid, entry.gid, entry.size, entry.sha256,
                link=entry.link, device=entry.device, xattrs=entry.xattrs,
            )
        )


def flatten(image: Image) -> dict[str, FileRecord]:
    """Apply the layers in order; returns the final records keyed by absolute path, sorted by path."""
    tree = _Tree()
    for layer in image.layers:
        _apply(tree, layer)
    return dict(sorted(tree.records.items()))


# ------------------------------------------------------------------------------------------------ comparing

_FIELDS = ("kind", "mode", "uid", "gid", "size", "sha256", "link", "hardlink", "device", "xattrs")


def _show(field_name: str, value: Any) -> str:
    if field_name == "mode" and isinstance(value, int):
        return oct(value)
    if field_name == "sha256" and isinstance(value, str):
        return value[:12]
    if isinstance(value, str):
        return repr(value)
    return str(value)


def compare_images(a: Image, b: Image, *, a_name: str = "original", b_name: str = "fixed") -> list[Difference]:
    """Every observable difference between two images: files (mtimes ignored) first, by path, then config."""
    return compare_trees(flatten(a), flatten(b), a_name=a_name, b_name=b_name) + compare_configs(
        a.config, b.config
    )


def compare_trees(
    a: dict[str, FileRecord], b: dict[str, FileRecord], *, a_name: str = "original", b_name: str = "fixed"
) -> list[Difference]:
    out: list[Difference] = []
    for path in sorted(a.keys() | b.keys()):
        left, right = a.get(path), b.get(path)
        if right is None:
            out.append(Difference(path, "missing", text=f"{path}: missing in {b_name}"))
            continue
        if left is None:
            out.append(Difference(path, "missing", text=f"{path}: missing in {a_name}"))
            continue
        if left.kind != right.kind:  # the other fields of two different kinds say nothing more
            out.append(Difference(path, "kind", left.kind, right.kind, f"{path}: kind {left.kind} != {right.kind}"))
            continue
        for name in _FIELDS[1:]:
            x, y = getattr(left, name), getattr(right, name)
            if x != y:
                out.append(Difference(path, name, x, y, f"{path}: {name} {_show(name, x)} != {_show(name, y)}"))
    return out


_CONFIG_FIELDS = (
    ("User", "user"),
    ("Cmd", "cmd"),
    ("Entrypoint", "entrypoint"),
    ("WorkingDir", "working_dir"),
    ("ExposedPorts", "exposed_ports"),
    ("Volumes", "volumes"),
    ("Shell", "shell"),
    ("StopSignal", "stop_signal"),
    ("Healthcheck", "healthcheck"),
    ("OnBuild", "on_build"),
)


def compare_configs(a: ImageConfig, b: ImageConfig) -> list[Difference]:
    out: list[Difference] = []
    for label, name in _CONFIG_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            out.append(Difference("", f"config {label}", x, y, f"config {label} {_show_config(x)} != {_show_config(y)}"))
    # Env and Labels are compared per key: the order of ENV lines does not change what a process sees.
    for label, left, right in (("Env", a.env_map, b.env_map), ("Labels", dict(a.labels), dict(b.labels))):
        for key in sorted(left.keys() | right.keys()):
            x, y = left.get(key), right.get(key)
            if x != y:
                out.append(
                    Difference("", f"config {label}", x, y, f"config {label}[{key}] {_show_config(x)} != {_show_config(y)}")
                )
    return out


def _show_config(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return repr(value)


# ---------------------------------------------------------------------------------------------- layer stats


@dataclass(frozen=True)
class LayerStat:
    index: int
    digest: str
    created_by: str
    file_bytes: int  # sum of regular file sizes stored in the layer
    tar_bytes: int
    entries: int


@dataclass(frozen=True)
class Duplicate:
    """A path stored by more than one layer (a deletion counts as one of them, as in dive)."""

    path: str
    layers: tuple[int, ...]
    sizes: tuple[int, ...]

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)


@dataclass(frozen=True)
class LayerStats:
    layers: tuple[LayerStat, ...]
    total_bytes: int
    efficiency: float
    wasted_bytes: int
    duplicates: tuple[Duplicate, ...]  # only those with bytes, largest first

    @property
    def user_bytes(self) -> int:
        """Bytes above the first layer (dive's "user size": everything but the base)."""
        return sum(layer.file_bytes for layer in self.layers[1:])


def layer_stats(image: Image) -> LayerStats:
    per_layer = tuple(
        LayerStat(i, layer.digest, layer.created_by, layer.file_bytes, layer.tar_bytes, len(layer.entries))
        for i, layer in enumerate(image.layers)
    )
    efficiency, wasted, duplicates = _dive_efficiency(image.layers)
    shown = tuple(sorted((d for d in duplicates if d.total_bytes), key=lambda d: (-d.total_bytes, d.path)))
    return LayerStats(per_layer, sum(s.file_bytes for s in per_layer), efficiency, wasted, shown)


def _dive_efficiency(layers: Iterable[Layer]) -> tuple[float, int, list[Duplicate]]:
    """Efficiency and wasted bytes exactly as dive computes them, so the numbers can be checked against it.

    dive (wagoodman/dive, dive/filetree/efficiency.go `Efficiency`, and dive/image/analysis.go `Analyze`) visits
    the leaf nodes of every layer's own tree (entries with no child in that layer; whiteouts are leaves, opaque
    markers are dropped but leave their directory behind as an empty leaf). Per path it sums the sizes it saw
    (tar header sizes: regular files only, links and directories are 0) and keeps the smallest. A whiteout's size
    is 0 for a file and, for a directory, the total size of what it deletes from the layers below.
        efficiency   = sum over paths of smallest size / sum over paths of summed sizes   (1.0 when nothing)
        wasted bytes = sum of the *summed* sizes of every path seen in two or more layers
    So wasted bytes counts every copy, the first one too: a 1 MB file stored twice wastes 2 MB, not 1 MB, and a
    deleted file counts its original size as waste. One deviation: dive ignores opaque markers when it sizes a
    deleted directory; here the lower state honours them.
    """
    tree = _Tree()
    seen: dict[str, list[tuple[int, int]]] = {}
    for index, layer in enumerate(layers):
        nodes: dict[str, Entry | None] = {}
        for entry in layer.entries:
            if entry.kind == OPAQUE:
                nodes.setdefault(entry.path, None)  # dive creates the directory node and drops the marker
            else:
                nodes[entry.path] = entry
        parents = {posixpath.dirname(p) for p in nodes}
        parents |= {a for p in list(parents) for a in _ancestors(p)}
        for path in sorted(nodes):
            if path in parents:
                continue
            node = nodes[path]
            if node is None or node.kind != WHITEOUT:
                size = node.size if node is not None and node.kind == FILE else 0
            else:
                lower = tree.records.get(path)
                size = sum(r.size for r in tree.subtree(path) if r.kind == FILE) if lower and lower.kind == DIR else 0
            seen.setdefault(path, []).append((index, size))
        _apply(tree, layer)
    minimum = sum(min(size for _, size in copies) for copies in seen.values())
    discovered = sum(size for copies in seen.values() for _, size in copies)
    duplicates = [
        Duplicate(path, tuple(i for i, _ in copies), tuple(s for _, s in copies))
        for path, copies in seen.items()
        if len(copies) > 1
    ]
    efficiency = 1.0 if discovered == 0 else minimum / discovered
    return efficiency, sum(d.total_bytes for d in duplicates), duplicates


def _ancestors(path: str) -> Iterator[str]:
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        yield path
