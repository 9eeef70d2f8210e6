"""Flatten an image's layers (whiteouts, opaque directories, hard links) and compare two images path by path and
field by field, then their configs."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dockerfix.refactor.images.records import (
    DIR, FILE, HARDLINK, OPAQUE, WHITEOUT, Difference, FileRecord, Image, ImageConfig, Layer,
)

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


