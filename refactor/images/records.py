"""The data model of a container image as dockerfix reads it: layers of entries, the config, flattened records
and differences. No I/O here; ``image`` reads archives into these, ``compare`` and ``layerstats`` work on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

# Kinds of Entry. "whiteout" and "opaque" only occur inside a layer; flattening turns "hardlink" into "file".
FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO = "file", "dir", "symlink", "hardlink", "char", "block", "fifo"
WHITEOUT, OPAQUE = "whiteout", "opaque"


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


