"""The distribution installs one import name, dockerfix, and claims no generic top-level module."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # --no-isolation: the build backend (setuptools) is already installed; no download needed.
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, cwd=out)
    (found,) = out.glob("dockerfix-*.whl")
    return found


def test_wheel_holds_only_dockerfix(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"dockerfix", next(t for t in tops if t.endswith(".dist-info"))}, tops
    assert "dockerfix/refactor/engine.py" in names
    assert "dockerfix/transforms/chown_layer.py" in names
    assert "dockerfix/refactor/dockerfile/parse.py" in names


def test_wheel_holds_every_module_of_the_tree(wheel: Path) -> None:
    # The package list in pyproject.toml is explicit: a new sub-package left out of it installs without its modules.
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("refactor", "transforms"):
        for module in (ROOT / folder).rglob("*.py"):
            rel = module.relative_to(ROOT).as_posix()
            assert f"dockerfix/{rel}" in names, f"{rel} is missing from the wheel"


def test_wheel_entry_point(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        entry = next(n for n in z.namelist() if n.endswith("entry_points.txt"))
        assert "dockerfix = dockerfix.refactor.cli.main:main" in z.read(entry).decode()


@pytest.mark.parametrize("module", ["refactor", "transforms"])
def test_no_generic_top_level_module(module: str, tmp_path: Path) -> None:
    # Run outside the checkout, so the folders of the source tree are not on sys.path.
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr
    ok = subprocess.run([sys.executable, "-c", "import dockerfix.refactor.engine, dockerfix.transforms"], cwd=tmp_path)
    assert ok.returncode == 0
