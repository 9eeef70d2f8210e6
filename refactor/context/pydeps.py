"""Python dependency metadata, read statically: pip command lines, requirements files, project metadata.

Nothing is executed: `pyproject.toml` and `Pipfile` are read with tomllib, `setup.cfg` with configparser,
`setup.py` with libcst (imported only when a setup.py is read). Every reader either answers exactly or
raises `Unsupported` with the reason, which transforms show to the user.

The readers live in one module each; this module gathers what the transforms use:
- `pipcall`: pip command lines (`pip install`, `python -m pip install`, `uv pip install`);
- `reqfiles`: requirements files and the files they include;
- `projectdeps`: where `pip install PROJECT` takes the dependencies from (pyproject.toml, setup.py, setup.cfg),
  with `setupeval`, the interpreter of setup.py's idioms;
- `pymeta`: `Unsupported`, and poetry/uv/pdm/pipenv project metadata.
"""

from __future__ import annotations

from dockerfix.refactor.context.pipcall import PipCall, is_local, pip_call, split_extras
from dockerfix.refactor.context.projectdeps import ProjectDeps, project_deps, setup_py_deps, setuptools_lines
from dockerfix.refactor.context.pymeta import (
    Reader, Unsupported, check_pipfile, load_toml, pdm_is_package, poetry_package_mode, uv_is_package,
)
from dockerfix.refactor.context.reqfiles import logical_lines, plain_requirements, requirement_files

__all__ = [
    "PipCall", "ProjectDeps", "Reader", "Unsupported", "check_pipfile", "is_local", "load_toml", "logical_lines",
    "pdm_is_package", "pip_call", "plain_requirements", "poetry_package_mode", "project_deps", "requirement_files",
    "setup_py_deps", "setuptools_lines", "split_extras", "uv_is_package",
]
