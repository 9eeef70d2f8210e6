"""The tree reads as the pipeline: imports only go down the layers, and no module grows past a few hundred lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lowest first; a module may import only from its own layer or lower ones.
LAYERS = [
    ("dockerfix.refactor.errors", "dockerfix.refactor.units", "dockerfix.refactor"),
    ("dockerfix.refactor.dockerfile",),
    ("dockerfix.refactor.context",),
    ("dockerfix.transforms",),
    ("dockerfix.refactor.engine",),
    ("dockerfix.refactor.images",),
    ("dockerfix.refactor.cli",),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "dockerfix." + ".".join(parts)


def _layer(name: str) -> int:
    best, level = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and len(p) > best:
                best, level = len(p), i
    return level


def _sources() -> list[Path]:
    return sorted([*ROOT.glob("refactor/**/*.py"), *ROOT.glob("transforms/**/*.py")])


def _imports(path: Path) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return [n for n in out if n.startswith("dockerfix")]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_go_down(path: Path) -> None:
    here = _layer(_module_name(path))
    assert here >= 0
    upward = [n for n in _imports(path) if _layer(n) > here]
    assert not upward, f"{path.relative_to(ROOT)} imports from a higher layer: {upward}"


def test_every_package_says_what_it_holds() -> None:
    for init in [*ROOT.glob("refactor/**/__init__.py"), ROOT / "transforms/__init__.py"]:
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "import" in doc.lower(), f"{init.relative_to(ROOT)} lacks a docstring saying what it may import"


def test_no_module_grows_past_500_lines() -> None:
    # Small modules that each hold one idea: a module past this size is split along its seams.
    modules = [*ROOT.glob("refactor/**/*.py"), *ROOT.glob("transforms/**/*.py"), *ROOT.glob("tests/**/*.py"),
               *ROOT.glob("bench/*.py")]
    long = {str(p.relative_to(ROOT)): n for p in modules if (n := len(p.read_text().splitlines())) > 500}
    assert not long, long
