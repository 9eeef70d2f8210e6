"""``--base-image NAME=PATH`` and ``--local-bases``: read the base images the Dockerfiles name, once per run, and
hand the facts to the engine through the batch options."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from dockerfix.refactor.errors import DockerfixError


def parse_archives(values: Sequence[str] | None) -> dict[str, Path]:
    """``NAME=PATH`` values, or a bare ``PATH`` named by the image names the archive records."""
    out: dict[str, Path] = {}
    for value in values or ():
        name, sep, path = value.partition("=")
        if not sep:
            out.update((n, Path(value)) for n in _recorded_names(Path(value)))
            continue
        if not name.strip() or not path:
            raise DockerfixError(f"--base-image {value!r}: expected NAME=PATH (an image reference and an archive)")
        out[name.strip()] = Path(path)
    return out


def _recorded_names(path: Path) -> list[str]:
    from dockerfix.refactor.images.baseread import BaseReadError, archive_names

    if not path.exists():
        raise DockerfixError(f"--base-image {path}: no such file")
    try:
        names = archive_names(path)
    except BaseReadError as exc:
        raise DockerfixError(f"--base-image {' '.join(str(exc).split())}") from None
    if not names:
        raise DockerfixError(f"--base-image {path}: the archive records no image name; give it as NAME={path}")
    return names


def references(texts: Iterable[str]) -> list[str]:
    """The external base images of the stages, ARGs expanded; unparsable files are left to the batch to report."""
    from dockerfix.refactor.dockerfile.analysis import analyse_text

    refs: list[str] = []
    for text in texts:
        try:
            stages = analyse_text(text).resolved.stages
        except (DockerfixError, RecursionError):
            continue
        refs += [s.base for s in stages if s.parent is None and s.base]
    return list(dict.fromkeys(refs))


def _texts(files: Iterable[Path | str]) -> Iterable[str]:
    from dockerfix.refactor.cli import files as files_mod

    for path in files:
        try:
            yield files_mod.read(Path(path)).text
        except DockerfixError:
            continue


def attach(opts, sources: Iterable[Path | str], base_images: Sequence[str] | None, local: bool, *,  # type: ignore[no-untyped-def]
           texts: bool = False):
    """``opts`` with the facts of the base images of ``sources`` (file paths, or Dockerfile texts when ``texts``).
    Nothing is read, and nothing imported, unless an archive was named or ``local`` is set."""
    if not base_images and not local:
        return opts
    from dockerfix.refactor.images.baselocal import read_bases

    archives = parse_archives(base_images)
    refs = references(sources if texts else _texts(sources))  # type: ignore[arg-type]
    table = read_bases(refs, archives, docker=local, buildah=local)
    return dataclasses.replace(opts, bases=table)
