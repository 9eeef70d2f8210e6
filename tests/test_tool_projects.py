"""`uv sync` into the project's .venv: proven only with every directory above the project known to hold no
pyproject.toml and no variable that moves the environment (refactor/dockerfile/toolwrites.uv_project_venv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.dockerfile.shell import analyse
from dockerfix.refactor.dockerfile.toolwrites import uv_project_venv
from dockerfix.refactor.engine import run

from .testbases import table

NAME = ["chown-layer"]
HEAD = "FROM localhost/dockerfix-base\n"
COPY = "WORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
CHOWN = "RUN chown -R 1000:1000 /app\n"


def _fix(tmp_path: Path, text: str) -> str:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    (tmp_path / "uv.lock").write_text("version = 1\n")
    return run(text, NAME, context=tmp_path, path=tmp_path / "Dockerfile", bases=table()).output


@pytest.mark.parametrize(
    "script, cwd, found",
    [
        ("uv sync", "/app", ("/app/.venv", ["/"])),
        ("uv sync --frozen --no-dev --extra cli -p 3.12", "/srv/app", ("/srv/app/.venv", ["/srv", "/"])),
        ("uv sync --link-mode=copy --no-install-project", "/", ("/.venv", [])),
        ("uv sync --project /x", "/app", None),
        ("uv sync --directory /x", "/app", None),
        ("uv sync --active", "/app", None),
        ("uv sync --dry-run", "/app", None),
        ("uv sync --script s.py", "/app", None),
        ("uv pip install x", "/app", None),
        ("uv sync", None, None),
    ],
)
def test_uv_project_venv(script: str, cwd: str | None, found: tuple[str, list[str]] | None) -> None:
    assert uv_project_venv(analyse(script).commands[0], {"PATH": "/bin"}, cwd) == found


@pytest.mark.parametrize("name", ["UV_PROJECT", "UV_PROJECT_ENVIRONMENT", "UV_WORKING_DIRECTORY", "UV_NEW_THING"])
def test_uv_variables_that_may_move_it(name: str) -> None:
    assert uv_project_venv(analyse("uv sync").commands[0], {name: None}, "/app") is None
    assert uv_project_venv(analyse("uv sync").commands[0], {"UV_COMPILE_BYTECODE": "1"}, "/app") is not None


def test_fixed(tmp_path: Path) -> None:
    before = f"{HEAD}{COPY}RUN uv sync --frozen --no-install-project\n{CHOWN}"
    after = _fix(tmp_path, before)
    assert "RUN uv sync --frozen --no-install-project && chown -R 1000:1000 /app/.venv\n" in after
    assert _fix(tmp_path, after) == after  # idempotent
    (finding,) = run(before, NAME, context=tmp_path, path=tmp_path / "Dockerfile", bases=table()).findings
    assert finding.saving_partial  # the environment's size is not known without building
    assert any("RUN creates /app/.venv" in d for d in finding.details)


@pytest.mark.parametrize(
    "text",
    [
        # An ancestor's pyproject.toml may make /app a workspace member: the .venv is the root's.
        f"{HEAD}COPY pyproject.toml /pyproject.toml\n{COPY}RUN uv sync --frozen\n{CHOWN}",
        f"{HEAD}{COPY}RUN touch /pyproject.toml && uv sync --frozen\n{CHOWN}",
        f"{HEAD}ENV UV_PROJECT=/x\n{COPY}RUN uv sync --frozen\n{CHOWN}",
        f"{HEAD}ARG UV_PROJECT_ENVIRONMENT\n{COPY}RUN uv sync --frozen\n{CHOWN}",
        f"{HEAD}{COPY}RUN uv sync --project /app --frozen\n{CHOWN}",
        # uv uses the physical working directory: through a link its ancestors are others.
        f"{HEAD}RUN mkdir /srv && ln -s /srv /app\n{COPY}RUN uv sync --frozen\n{CHOWN}",
        # The base image was not read: its ENV or its files above /app are not known.
        f"FROM python:3.12-slim\n{COPY}RUN uv sync --frozen\n{CHOWN}",
    ],
)
def test_step_unchanged(tmp_path: Path, text: str) -> None:
    out = _fix(tmp_path, text)
    assert ".venv" not in out
    step = next(line for line in text.splitlines() if "uv sync" in line)
    assert step in out.splitlines()
