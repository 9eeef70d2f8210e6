"""Measured with the real tools, where they are installed: why `npm ci`, `uv sync` into the project's .venv and
`poetry install` with an in-project venv prove no path (refactor/dockerfile/toolwrites.py, docs/builder-semantics.md).

Each runs offline in a temporary directory. uv and poetry come with the test extras, npm from the system (`.ci/run`
installs it); a tool that is not installed skips its test on a laptop and fails it on CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (CI must measure with every tool)")
        pytest.skip(f"{name} is not installed")
    return found


def _run(args: list[str], cwd: Path, **env: str) -> int:
    # The tools' own temporary files (uv leaves lock files in $TMPDIR) stay inside the test's folder.
    tmp = cwd / ".tmp"
    tmp.mkdir(exist_ok=True)
    return subprocess.run(args, cwd=cwd, capture_output=True, env={**os.environ, "TMPDIR": str(tmp), **env}).returncode


def test_npm_ci_writes_node_modules_only_for_a_package_left_after_omitting(tmp_path: Path) -> None:
    npm = _tool("npm")
    dep = tmp_path / "dep"
    dep.mkdir()
    (dep / "package.json").write_text('{"name": "dep", "version": "1.0.0"}')
    assert _run([npm, "pack", "--silent", "--pack-destination", str(tmp_path)], dep) == 0
    tgz = "file:" + str(tmp_path / "dep-1.0.0.tgz")

    def project(name: str, manifest: dict, sub: str = "") -> Path:  # type: ignore[type-arg]
        root = tmp_path / name
        (root / sub).mkdir(parents=True)
        (root / sub / "package.json").write_text(json.dumps(manifest))
        assert _run([npm, "install", "--package-lock-only", "--offline"], root) == 0
        return root

    def ci(where: Path, *flags: str, **env: str) -> bool:
        shutil.rmtree(where / "node_modules", ignore_errors=True)
        assert _run([npm, "ci", "--offline", *flags], where, **env) == 0
        return (where / "node_modules").exists()

    plain = {"name": "x", "version": "1.0.0"}
    assert not ci(project("none", plain))
    dev = project("dev", {**plain, "devDependencies": {"dep": tgz}})
    assert ci(dev) and not ci(dev, "--omit=dev") and not ci(dev, NODE_ENV="production")
    assert not ci(dev, npm_config_dry_run="true")
    prod = project("prod", {**plain, "dependencies": {"dep": tgz}})
    assert ci(prod, "--omit=dev")
    # A workspace member: npm runs at the workspace root, whose node_modules it writes.
    ws = project("ws", {**plain, "workspaces": ["app"]}, "")
    (ws / "app").mkdir()
    (ws / "app" / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "dependencies": {"dep": tgz}}))
    assert _run([npm, "install", "--package-lock-only", "--offline"], ws) == 0
    assert _run([npm, "ci", "--offline"], ws / "app") == 0
    assert (ws / "node_modules").exists() and not (ws / "app" / "node_modules").exists()


def test_uv_sync_makes_the_venv_of_the_workspace_root(tmp_path: Path) -> None:
    uv = _tool("uv")
    env = {"UV_CACHE_DIR": str(tmp_path / "cache"), "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.8"\n')
    assert _run([uv, "sync"], app, **env) == 0
    assert (app / ".venv" / "pyvenv.cfg").exists()  # made without any dependency
    shutil.rmtree(app / ".venv")
    (app / "uv.lock").unlink()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "root"\nversion = "0"\nrequires-python = ">=3.8"\n'
                                             '[tool.uv.workspace]\nmembers = ["app"]\n')
    assert _run([uv, "sync"], app, **env) == 0
    assert (tmp_path / ".venv").exists() and not (app / ".venv").exists()


def test_poetry_in_project_venv_yields_to_one_in_its_cache(tmp_path: Path) -> None:
    poetry = _tool("poetry")
    env = {"POETRY_CACHE_DIR": str(tmp_path / "cache"), "POETRY_CONFIG_DIR": str(tmp_path / "config")}
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\nversion = "0.1.0"\ndescription = ""\n'
                                             'authors = []\npackage-mode = false\n\n[tool.poetry.dependencies]\n'
                                             'python = ">=3.8"\n')
    assert _run([poetry, "install"], tmp_path, POETRY_VIRTUALENVS_IN_PROJECT="true", **env) == 0
    assert (tmp_path / ".venv").exists()
    shutil.rmtree(tmp_path / ".venv")
    assert _run([poetry, "install"], tmp_path, POETRY_VIRTUALENVS_CREATE="false",
                POETRY_VIRTUALENVS_IN_PROJECT="true", **env) == 0
    assert not (tmp_path / ".venv").exists()
    assert _run([poetry, "lock"], tmp_path, **env) == 0  # makes an environment for the project in the cache
    assert _run([poetry, "install"], tmp_path, POETRY_VIRTUALENVS_IN_PROJECT="true", **env) == 0
    assert not (tmp_path / ".venv").exists()
