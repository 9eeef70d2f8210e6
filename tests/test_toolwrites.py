"""Where package tools write, as far as one command proves it (refactor/dockerfile/toolwrites.py)."""

from __future__ import annotations

import pytest

from dockerfix.refactor.dockerfile.facts import created_paths
from dockerfix.refactor.dockerfile.shell import analyse
from dockerfix.refactor.dockerfile.resolve import join
from dockerfix.refactor.dockerfile.toolwrites import created, unproven

ENV = {"V": "/opt/venv", "HOME": "/root", "U": None}


def _created(script: str, env: dict | None = None, cwd: str | None = "/w") -> list[str]:  # type: ignore[type-arg]
    """toolwrites' answer, or facts' for the commands toolwrites leaves to it (None)."""
    out: list[str] = []
    for cmd in analyse(script).commands:
        tool = created(cmd, env or ENV, cwd)
        if tool is None:
            out += [c.path for c in created_paths(cmd, env or ENV, cwd)]
        else:
            out += [p for v, _ in tool if (p := join(cwd, v)) is not None]
    return out


@pytest.mark.parametrize(
    "script, paths",
    [
        # An explicit interpreter: pip lives in the environment, so the environment exists.
        ("/opt/venv/bin/pip install -r requirements.txt", ["/opt/venv"]),
        ("/opt/venv/bin/pip3 install flask", ["/opt/venv"]),
        ("$V/bin/python -m pip install flask", ["/opt/venv"]),
        ("/opt/venv/bin/python3.11 -m pip install --no-cache-dir -r r.txt", ["/opt/venv"]),
        ("/usr/local/bin/pip install flask", []),  # the system prefix: its site-packages are not named
        ("/opt/venv/bin/pip install --dry-run flask", []),
        ("/opt/venv/bin/pip freeze", []),
        ("$U/bin/pip install flask", []),
        # --prefix / --user: only with --ignore-installed and a requirement on the command line.
        ("pip install --prefix /install -I flask", ["/install"]),
        ("pip install --prefix=/install --ignore-installed flask", ["/install"]),
        ("pip install --prefix /install flask", []),
        ("pip install --prefix /install -I -r requirements.txt", []),
        ("pip install --user -I flask", []),  # PYTHONUSERBASE may come from the base image
        ("pip install --root /r -I flask", []),
        # --target stays with facts.created_paths.
        ("pip install --target /opt/lib pkg", ["/opt/lib"]),
        ("pip install flask", []),
        ("uv venv /opt/uvenv", ["/opt/uvenv"]),
        ("uv venv --python 3.12 .venv", ["/w/.venv"]),
        ("uv venv", []),
        ("uv venv --directory /p .venv", []),
        ("uv sync --frozen", []),
        ("uv pip install flask", []),
        ("npm ci", []),
        ("poetry install --no-root", []),
    ],
)
def test_tool_writes(script: str, paths: list[str]) -> None:
    assert _created(script) == paths


def test_user_base_and_uv_environment_from_env() -> None:
    env = {"PYTHONUSERBASE": "/opt/user", "UV_PROJECT_ENVIRONMENT": "/opt/uv"}
    assert _created("pip install --user -I flask", env) == ["/opt/user"]
    assert _created("uv sync --locked", env) == ["/opt/uv"]
    assert _created("uv sync --dry-run", env) == []
    assert _created("uv sync", {"UV_PROJECT_ENVIRONMENT": ".venv"}) == []  # relative to a root uv discovers


@pytest.mark.parametrize(
    "script, word",
    [
        ("npm ci", "node_modules"),
        ("npm install --omit=dev", "node_modules"),
        ("poetry install", "poetry"),
        ("uv sync", "workspace root"),
        ("pip install --prefix /i flask", "--ignore-installed"),
        ("pip install -r requirements.txt", "PATH"),
    ],
)
def test_unproven_tools_say_why(script: str, word: str) -> None:
    cmd = analyse(script).commands[0]
    why = unproven(cmd, ENV)
    assert why is not None and word in why


def test_proven_tools_have_no_excuse() -> None:
    for script in ("/opt/venv/bin/pip install x", "echo hi", "mkdir /x"):
        assert unproven(analyse(script).commands[0], ENV) is None


def test_pip_prefix_skips_what_is_installed_and_an_empty_file_writes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Measured with the pip of the test environment: why --prefix needs -I and a requirement on the command line."""
    import subprocess
    import sys

    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check"]
    (tmp_path / "empty.txt").write_text("")
    done = subprocess.run([*pip, "--prefix", str(tmp_path / "p1"), "pip"], capture_output=True)
    assert done.returncode == 0 and not (tmp_path / "p1").exists()  # "already satisfied": nothing written
    done = subprocess.run([*pip, "-I", "--prefix", str(tmp_path / "p2"), "-r", str(tmp_path / "empty.txt")],
                          capture_output=True)
    assert done.returncode == 0 and not (tmp_path / "p2").exists()
