"""Prove a Dockerfile rewrite keeps the image: build both, compare them, and report what each layer stores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from dockerfix.refactor.images.build import Builder, BuildResult
from dockerfix.refactor.units import human_bytes
from dockerfix.refactor.images.image import Difference, Image, LayerStats, compare_images, layer_stats, load_image

# Longest created_by shown in a table cell; the JSON report keeps it whole.
_COMMAND_WIDTH = 70


@dataclass(frozen=True)
class VerifyResult:
    builder: str
    original: BuildResult
    fixed: BuildResult
    original_stats: LayerStats
    fixed_stats: LayerStats
    differences: tuple[Difference, ...]

    @property
    def identical(self) -> bool:
        return not self.differences

    @property
    def saved_bytes(self) -> int:
        return self.original_stats.total_bytes - self.fixed_stats.total_bytes


def verify(dockerfile_a: Path, dockerfile_b: Path, context: Path, builder: Builder,
           build_args: Mapping[str, str] | None = None) -> VerifyResult:
    """Build ``dockerfile_a`` (the original) and ``dockerfile_b`` (the rewrite) from one context, without cache,
    with the same ``build_args``."""
    original = builder.build(dockerfile_a, context, cache=False, build_args=build_args)
    fixed = builder.build(dockerfile_b, context, cache=False, build_args=build_args)
    image_a, image_b = load_image(original.archive), load_image(fixed.archive)
    return VerifyResult(
        builder.name, original, fixed, layer_stats(image_a), layer_stats(image_b), tuple(compare_images(image_a, image_b))
    )


def layers_report(image: Image, stats: LayerStats | None = None) -> dict[str, Any]:
    """Everything ``dockerfix layers --format json`` prints: plain, JSON-serialisable values only."""
    stats = stats or layer_stats(image)
    return {
        "image": image.source,
        "tags": list(image.tags),
        "total_bytes": stats.total_bytes,
        "efficiency": stats.efficiency,
        "wasted_bytes": stats.wasted_bytes,
        "layers": [
            {
                "index": layer.index,
                "digest": layer.digest,
                "created_by": layer.created_by,
                "bytes": layer.file_bytes,
                "tar_bytes": layer.tar_bytes,
                "entries": layer.entries,
            }
            for layer in stats.layers
        ],
        "duplicates": [
            {"path": d.path, "layers": list(d.layers), "sizes": list(d.sizes), "bytes": d.total_bytes}
            for d in stats.duplicates
        ],
    }


def verify_report(result: VerifyResult) -> dict[str, Any]:
    def side(build: BuildResult, stats: LayerStats) -> dict[str, Any]:
        return {
            "archive": str(build.archive),
            "total_bytes": stats.total_bytes,
            "efficiency": stats.efficiency,
            "wasted_bytes": stats.wasted_bytes,
            "layers": [{"created_by": s.created_by, "bytes": s.file_bytes} for s in stats.layers],
        }

    return {
        "builder": result.builder,
        "identical": result.identical,
        "saved_bytes": result.saved_bytes,
        "differences": [
            {"path": d.path, "field": d.field, "text": d.text} for d in result.differences
        ],
        "original": side(result.original, result.original_stats),
        "fixed": side(result.fixed, result.fixed_stats),
    }


def _short(command: str) -> str:
    command = " ".join(command.split())
    command = command.removesuffix(" # buildkit")  # BuildKit marks the history of the steps it ran
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c ", "RUN /bin/sh -c "):
        if command.startswith(prefix):
            command = command[len(prefix) :]
            break
    return command if len(command) <= _COMMAND_WIDTH else command[: _COMMAND_WIDTH - 1] + "…"


def _layers_table(stats: LayerStats, title: str) -> Table:
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("bytes", justify="right")
    table.add_column("created by")
    for layer in stats.layers:
        table.add_row(str(layer.index), human_bytes(layer.file_bytes), _short(layer.created_by))
    return table


def render_layers(image: Image, console: Console, stats: LayerStats | None = None, *, limit: int = 20) -> None:
    stats = stats or layer_stats(image)
    console.print(_layers_table(stats, f"Layers of {image.source}"))
    console.print(
        f"total {human_bytes(stats.total_bytes)}, efficiency {stats.efficiency:.1%}, "
        f"wasted {human_bytes(stats.wasted_bytes)} (dive's definitions)"
    )
    if stats.duplicates:
        table = Table(title="Files stored more than once")
        table.add_column("bytes", justify="right")
        table.add_column("layers")
        table.add_column("path")
        for dup in stats.duplicates[:limit]:
            table.add_row(human_bytes(dup.total_bytes), ",".join(map(str, dup.layers)), dup.path)
        console.print(table)
        if len(stats.duplicates) > limit:
            console.print(f"… and {len(stats.duplicates) - limit} more")


def render_verify(result: VerifyResult, console: Console, *, limit: int = 50) -> None:
    console.print(_layers_table(result.original_stats, "original"))
    console.print(_layers_table(result.fixed_stats, "fixed"))
    for label, stats in (("original", result.original_stats), ("fixed", result.fixed_stats)):
        console.print(
            f"{label}: {human_bytes(stats.total_bytes)}, efficiency {stats.efficiency:.1%}, "
            f"wasted {human_bytes(stats.wasted_bytes)}"
        )
    if result.identical:
        console.print(f"[green]same image[/green]; the rewrite saves {human_bytes(result.saved_bytes)}")
        return
    console.print(f"[red]{len(result.differences)} difference(s)[/red]:", highlight=False)
    for diff in result.differences[:limit]:
        console.print(f"  {diff.text}", highlight=False, markup=False)
    if len(result.differences) > limit:
        console.print(f"  … and {len(result.differences) - limit} more")
