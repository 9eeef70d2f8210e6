"""Where `pip install PROJECT` takes the dependencies from: pyproject.toml, setup.py (read with libcst, never
run), setup.cfg.
"""

from __future__ import annotations

import configparser
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dockerfix.refactor.context.pymeta import Reader, Unsupported, load_toml
from dockerfix.refactor.context.reqfiles import plain_requirements
from dockerfix.refactor.context.setupeval import FAIL, Evaluator

@dataclass
class ProjectDeps:
    files: list[str]  # project-relative files whose lines are the dependencies (empty: none declared)
    metadata: list[str]  # the metadata files read



def project_deps(read: Reader, extras: str = "") -> ProjectDeps:
    """Where `pip install PROJECT` takes the dependencies from; `read` takes project-relative paths."""
    if extras:
        raise Unsupported(f"it installs the extras {extras}, whose dependencies are not in a requirements file")
    meta: list[str] = []
    pyproject = read("pyproject.toml")
    data: dict[str, Any] = {}
    if pyproject is not None:
        meta.append("pyproject.toml")
        data = load_toml(pyproject, "pyproject.toml")
        project = data.get("project")
        backend = str(data.get("build-system", {}).get("build-backend", "setuptools.build_meta:__legacy__"))
        if isinstance(project, dict):
            if "dependencies" not in project.get("dynamic", []):
                if project.get("dependencies"):
                    raise Unsupported("the dependencies are a list in pyproject.toml [project]; installing them "
                                      "first would need a copy of that list in the Dockerfile, which goes stale")
                return ProjectDeps([], meta)
            dyn = data.get("tool", {}).get("setuptools", {}).get("dynamic", {}).get("dependencies")
            if backend.startswith("setuptools") and isinstance(dyn, dict) and "file" in dyn:
                files = [dyn["file"]] if isinstance(dyn["file"], str) else list(dyn["file"])
                for f in files:
                    text = read(f)
                    if text is None:
                        raise Unsupported(f"cannot read {f}, which [tool.setuptools.dynamic] names")
                    plain_requirements(text, f)
                return ProjectDeps([posixpath.normpath(f) for f in files], meta)
            if not backend.startswith("setuptools"):
                raise Unsupported(f"the dependencies are dynamic, computed by the build backend {backend}")
        elif "poetry" in data.get("tool", {}) and backend.startswith("poetry"):
            deps = {k for k in data["tool"]["poetry"].get("dependencies", {}) if k.lower() != "python"}
            if deps:
                raise Unsupported("the dependencies are a list in pyproject.toml [tool.poetry]; installing them "
                                  "first would need a copy of that list in the Dockerfile, which goes stale")
            return ProjectDeps([], meta)
        elif not backend.startswith("setuptools"):
            raise Unsupported(f"the build backend {backend} decides the dependencies")
    setup_py = read("setup.py")
    if setup_py is not None:
        meta.append("setup.py")
        found = setup_py_deps(setup_py, read)
        if found is not None:
            return ProjectDeps(found, meta)
    setup_cfg = read("setup.cfg")
    if setup_cfg is not None:
        meta.append("setup.cfg")
        cfg = configparser.ConfigParser(interpolation=None)
        try:
            cfg.read_string(setup_cfg)
        except configparser.Error as exc:
            raise Unsupported(f"setup.cfg cannot be read ({exc.__class__.__name__})") from None
        value = cfg.get("options", "install_requires", fallback="").strip()
        if value.startswith("file:"):
            raise Unsupported("setup.cfg reads install_requires with `file:`, which dockerfix does not follow")
        if setuptools_lines([value]):
            raise Unsupported("the dependencies are a list in setup.cfg; installing them first would need a copy "
                              "of that list in the Dockerfile, which goes stale")
    if not meta:
        raise Unsupported("the project has no pyproject.toml, setup.py or setup.cfg in the build context")
    return ProjectDeps([], meta)


def setuptools_lines(values: Iterable[str]) -> list[str]:
    """What setuptools makes of install_requires strings (yield_lines, drop_comment, join_continuation)."""
    lines: list[str] = []
    for v in values:
        for line in v.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                lines.append(line)
    out: list[str] = []
    pending = ""
    for line in lines:
        line = line.partition(" #")[0].strip()
        if line.endswith("\\"):
            # join_continuation drops the character before the backslash too (`goo\` + `dly` is `godly`), and
            # a continued last line altogether.
            pending += line[:-2].strip()
            continue
        out.append((pending + line).strip())
        pending = ""
    return [x for x in out if x]



def setup_py_deps(text: str, read: Reader) -> list[str] | None:
    """The files setup.py reads install_requires from; None when setup() has no install_requires.

    The install_requires value is computed from the files' text with a tiny interpreter of the common
    idioms (open/read/splitlines/readlines, pathlib, comprehensions with str tests); the result must be
    exactly what pip reads from the same file, or the reading is refused.
    """
    import libcst as cst  # noqa: PLC0415 - costs ~0.2 s; only projects with a setup.py need it

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        raise Unsupported("setup.py is not valid Python") from None
    ev = Evaluator(module, read, cst)
    call = ev.setup_call()
    if call is None:
        raise Unsupported("setup.py has no setup(…) call dockerfix can find")
    value_node = None
    for arg in call.args:
        if arg.star:
            raise Unsupported("setup.py passes **arguments to setup(), which hide install_requires")
        if arg.keyword is not None and arg.keyword.value == "install_requires":
            value_node = arg.value
    if value_node is None:
        return None
    value = ev.eval(value_node, {})
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unsupported(FAIL)
    deps = setuptools_lines(value)
    if not ev.opened:
        if deps:
            raise Unsupported("the dependencies are a list in setup.py; installing them first would need a copy of "
                              "that list in the Dockerfile, which goes stale")
        return []
    if len(ev.opened) != 1:
        raise Unsupported("setup.py builds install_requires from several files")
    rel = ev.opened[0]
    file_text = read(rel)
    assert file_text is not None
    pip_view = plain_requirements(file_text, rel)
    if sorted(_norm(d) for d in deps) != sorted(_norm(d) for d in pip_view):
        raise Unsupported(f"setup.py changes the lines of {rel} (filters or edits them), so `pip install -r {rel}` "
                          "would install something else")
    return [rel]


def _norm(spec: str) -> str:
    return re.sub(r"\s+", "", spec)
