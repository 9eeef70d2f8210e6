"""Python project metadata read with tomllib: the errors every Python reader raises, and what poetry, uv, pdm
and pipenv install from pyproject.toml and Pipfile.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from dockerfix.refactor.context.pipcall import is_local

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

Reader = Callable[[str], "str | None"]  # path -> text, None when the file is not there


class Unsupported(Exception):
    """The dependency inputs cannot be known statically; the message says why."""


def load_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unsupported(f"{name} is not valid TOML ({exc})") from None



# ------------------------------------------------------------------------------- poetry, uv, pdm, pipenv


def local_pep508(specs: Iterable[Any]) -> str | None:
    for s in specs:
        if isinstance(s, str) and (is_local(s) or s.lstrip().startswith("-e")):
            return s
    return None


def project_tables(data: dict[str, Any]) -> list[Any]:
    project = data.get("project", {})
    specs: list[Any] = list(project.get("dependencies", []) or [])
    for group in (project.get("optional-dependencies", {}) or {}).values():
        specs.extend(group or [])
    for group in (data.get("dependency-groups", {}) or {}).values():
        specs.extend(group or [])
    return specs


def poetry_package_mode(text: str) -> bool:
    """Whether `poetry install` also installs the project itself; raises for path dependencies."""
    data = load_toml(text, "pyproject.toml")
    poetry = data.get("tool", {}).get("poetry")
    if poetry is None and "project" not in data:
        raise Unsupported("pyproject.toml has neither [tool.poetry] nor [project]")
    poetry = poetry or {}
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values()]
    for table in tables:
        for name, spec in (table or {}).items():
            for s in spec if isinstance(spec, list) else [spec]:
                if isinstance(s, dict) and ("path" in s or s.get("develop")):
                    what = f"the local path {s['path']}" if "path" in s else "installed in develop (editable) mode"
                    raise Unsupported(f"the dependency {name} is {what}, which needs the source")
    local = local_pep508(project_tables(data))
    if local:
        raise Unsupported(f"the dependency {local!r} is a local path, which needs the source")
    return bool(poetry.get("package-mode", True))


def uv_is_package(text: str) -> bool:
    """Whether `uv sync` also installs the project itself; raises for workspaces and path sources."""
    data = load_toml(text, "pyproject.toml")
    uv = data.get("tool", {}).get("uv", {}) or {}
    if "workspace" in uv:
        raise Unsupported("the project is a uv workspace, whose members need their sources")
    for name, src in (uv.get("sources", {}) or {}).items():
        for s in src if isinstance(src, list) else [src]:
            if isinstance(s, dict) and ("path" in s or s.get("workspace") or s.get("editable")):
                raise Unsupported(f"the source of {name} is a local path or workspace member, which needs the source")
    return _is_package(data, project_tables(data), uv.get("package"))


def pdm_is_package(text: str) -> bool:
    data = load_toml(text, "pyproject.toml")
    pdm = data.get("tool", {}).get("pdm", {}) or {}
    specs = project_tables(data)
    for group in (pdm.get("dev-dependencies", {}) or {}).values():
        specs.extend(group or [])
    return _is_package(data, specs, pdm.get("distribution"))


def _is_package(data: dict[str, Any], specs: list[Any], setting: object) -> bool:
    """uv and pdm: the tool's own setting decides, else a build system makes the project a package."""
    local = local_pep508(specs)
    if local:
        raise Unsupported(f"the dependency {local!r} is a local path, which needs the source")
    return bool(setting) if setting is not None else "build-system" in data


def check_pipfile(text: str) -> None:
    data = load_toml(text, "Pipfile")
    for section, table in data.items():
        if section in ("source", "requires", "pipenv", "scripts") or not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if isinstance(spec, dict) and ("path" in spec or spec.get("editable") or
                                           str(spec.get("file", "")).startswith(("file:", ".", "/"))):
                raise Unsupported(f"the Pipfile entry {name} is a local path, which needs the source")
