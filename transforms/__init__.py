"""The transforms, one module each, registered by name.

A module `transforms/chown_layer.py` is the transform `chown-layer`. It must define `NAME`, `SUMMARY`,
`SAFE` (whether its fixes are safe; an unsafe transform runs only when selected by name) and
`check(analysis) -> Iterable[Finding]`; its module docstring is what `dockerfix explain NAME` prints. Modules are imported only when selected, so a
transform's heavy dependencies (libcst) cost nothing to runs that do not use it.

Transforms may import ``dockerfix.refactor.dockerfile``, ``dockerfix.refactor.context`` and ``errors``; never the
engine, images or CLI.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from types import ModuleType


def names() -> list[str]:
    return list(_names())


@lru_cache(maxsize=1)
def _names() -> tuple[str, ...]:
    found = [m.name.replace("_", "-") for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    return tuple(sorted(found))


@lru_cache(maxsize=None)
def load(name: str) -> ModuleType:
    if name not in _names():
        raise KeyError(name)
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    if getattr(module, "NAME", None) != name:
        raise RuntimeError(f"transform module for {name!r} does not declare NAME = {name!r}")
    return module
