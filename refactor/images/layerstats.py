"""What each layer stores and how much of it is stored twice, computed as dive computes it."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dockerfix.refactor.images.compare import _apply, _Tree
from dockerfix.refactor.images.records import DIR, FILE, OPAQUE, WHITEOUT, Entry, Image, Layer


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
