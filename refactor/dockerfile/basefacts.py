"""What is known about a stage's external base image, and where each fact comes from.

A safe fix may rest only on proven facts. For the base image a fact is proven when it was read from the image
itself (an archive the user named, a local Docker daemon, a buildah/podman store: ``source`` says which). For a
well-known base that could not be read, a short documented table of defaults applies (``known_bases``); a fix that
relies on one of those is told so through ``assumed``, and must name the assumption. Anything else is unknown
(``None``), never guessed.

This module holds only the data model; reading images lives in ``dockerfix.refactor.images`` and the CLI passes the
result down to the analysis (``analyse_text(..., bases=...)``), so the analysis never does I/O of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The kind of a path in the base image's filesystem.
DIR = "dir"
FILE = "file"
MISSING = "missing"
SYMLINK = "symlink"  # PathInfo.target holds the link target
OTHER = "other"  # a device node, a FIFO or a dangling hard link: exists, but is neither a file nor a directory


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int  # the primary group
    home: str | None = None


@dataclass(frozen=True)
class PathInfo:
    kind: str  # DIR, FILE, MISSING, SYMLINK or OTHER
    target: str | None = None  # for SYMLINK
    uid: int | None = None
    gid: int | None = None
    mode: int | None = None


@dataclass(frozen=True)
class BaseFacts:
    """Facts about one base image. ``None`` in a field means unknown."""

    image: str  # the reference as written after FROM, ARGs expanded
    source: str  # "archive PATH", "docker daemon", "buildah store", "known base: NAME", or "unknown"
    read: bool  # True when the facts were read from the image itself (proven); False for defaults or unknown
    env: Mapping[str, str] | None = None  # the image config's Env
    volumes: frozenset[str] | None = None
    user: str | None = None  # the config's User ("" means root); None: unknown
    workdir: str | None = None  # the config's WorkingDir ("" means /); None: unknown
    accounts: Mapping[str, Account] | None = None  # from /etc/passwd, by name
    groups: Mapping[str, int] | None = None  # from /etc/group, name -> gid
    paths: Mapping[str, PathInfo] = field(default_factory=dict)  # paths looked at (lstat), absolute and normalized
    complete_paths: bool = False  # True: every path of the image is in ``paths`` (absent means MISSING)
    # e.g. {"find": True}: an executable file reached on the config's PATH (the builders' default PATH when it
    # has none), symlinks followed inside the image (busybox applet links count); absent: unknown
    tools: Mapping[str, bool] = field(default_factory=dict)

    def path(self, p: str) -> PathInfo | None:
        """What ``p`` is in the base image, or None when unknown."""
        if p in self.paths:
            return self.paths[p]
        if self.complete_paths:
            return PathInfo(MISSING)
        return None

    def has_tool(self, name: str) -> bool | None:
        return self.tools.get(name)

    def assumed(self) -> str | None:
        """The assumption a fix makes when it relies on these facts, or None when they were read from the image."""
        return None if self.read else f"facts about base image {self.image!r} come from {self.source}, not from the image"


def unknown(image: str) -> BaseFacts:
    """Nothing is known about ``image``: every field unknown."""
    return BaseFacts(image=image, source="unknown", read=False)


def scratch() -> BaseFacts:
    """``FROM scratch``: an empty filesystem and an empty config, fully known."""
    return BaseFacts(image="scratch", source="scratch", read=True, env={}, volumes=frozenset(), user="", workdir="",
                     accounts={}, groups={}, complete_paths=True, tools={})


BaseTable = Mapping[str, BaseFacts]  # image reference -> facts, as given to the analysis
