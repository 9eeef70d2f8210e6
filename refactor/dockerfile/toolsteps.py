"""Tool writes that need more than one command: a venv activated in the step, or put first in PATH by `ENV`.

- `. X/bin/activate` (or `source`): the step read X's activate script, so X exists; the `pip install` after it
  writes into X. X is returned for the activate command.
- A bare `pip install …` (or `python -m pip install …`) at step j with `ENV PATH=X/bin:$PATH` in effect, where an
  earlier step of the stage created X with `python -m venv`/`virtualenv` and no step in between may remove it
  (every RUN in between is read, and none runs rm/rmdir/mv on X, above it, or on a path whose value is unknown):
  X exists, and pip is X's own. X is returned.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from dockerfix.refactor.dockerfile import toolwrites
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import Created, created_paths
from dockerfix.refactor.dockerfile.resolve import env_pairs, is_under, join, normalize
from dockerfix.refactor.dockerfile.shell import Command, value
from dockerfix.refactor.dockerfile.words import Unknown, expand

_REMOVERS = ("rm", "rmdir", "mv", "unlink")


def created(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> list[Created]:
    """Venvs that `cmd` (a command of the RUN at index j) activates or installs into through PATH."""
    name = posixpath.basename(cmd.name)
    if name in (".", "source") and len(cmd.args) == 1:
        v = value(cmd.args[0], env)
        p = join(cwd, v) if v is not None else None
        if p is not None and p.endswith("/bin/activate"):
            venv = posixpath.dirname(posixpath.dirname(p))
            if venv not in ("/", "/usr", "/usr/local"):
                return [Created(venv, None, cmd)]
        return []
    pip = toolwrites.pip_call(cmd, env)
    if pip is None or "/" in cmd.name or pip.has("-t", "--target", "--prefix", "--user", "--root", "--dry-run"):
        return []
    venv = path_venv(a, j)
    if venv is None or not venv_exists(a, j, venv):
        return []
    return [Created(venv, None, cmd)]


def path_venv(a: Analysis, j: int) -> str | None:
    """X when the first PATH entry at instruction j is X/bin, as the Dockerfile's ENV says; else None."""
    st = a.state(j)
    if "PATH" not in st.env:
        return None
    known = st.env["PATH"]
    if known is not None:
        first = known.split(":", 1)[0]
    else:
        first = _first_entry_of_last_env(a, j)
        if first is None:
            return None
    if not first.startswith("/") or posixpath.basename(normalize(first)) != "bin":
        return None
    venv = posixpath.dirname(normalize(first))
    return None if venv in ("/", "/usr", "/usr/local") else venv


def _first_entry_of_last_env(a: Analysis, j: int) -> str | None:
    stage = a.resolved.stage_of(j)
    first = stage.first + 1 if stage else 0
    for k in range(j - 1, first - 1, -1):
        ins = a.instructions[k]
        if ins.keyword != "ENV":
            continue
        pairs = [p for p in env_pairs(ins, a.df.escape) if p[0] == "PATH"]
        if not pairs:
            continue
        raw = pairs[-1][1]
        head = _raw_first_entry(raw)
        if head is None:
            return None
        try:
            return expand(head, a.state(k).env, a.df.escape)
        except Unknown:
            return None
    return None


def _raw_first_entry(raw: str) -> str | None:
    """The raw text before the first `:` of an ENV value, with an open quote closed again; None without a `:`."""
    quote = ""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        if ch == ":":
            return raw[:i] + quote
        i += 1
    return None


def venv_exists(a: Analysis, j: int, venv: str) -> bool:
    """An earlier step of the stage made `venv` with python -m venv/virtualenv, and nothing since may remove it."""
    stage = a.resolved.stage_of(j)
    first = stage.first + 1 if stage else 0
    for k in range(j - 1, first - 1, -1):
        ins = a.instructions[k]
        if ins.keyword != "RUN":
            continue
        rs = a.run_script(k)
        if rs is None:
            return False
        made = False
        cwd = a.state(k).workdir
        for c in rs.script.commands:
            name = posixpath.basename(c.name)
            if name in _REMOVERS:
                for w in c.args:
                    if w.raw.startswith("-"):
                        continue
                    v = value(w, rs.env)
                    p = join(cwd, v) if v is not None else None
                    if p is None or is_under(venv, p):
                        return False
            if c.top and name == "cd":
                v = value(c.args[0], rs.env) if c.args else None
                cwd = join(cwd, v) if v is not None else None
            is_venv = (name.startswith("python") and len(c.args) >= 2 and c.args[0].raw == "-m"
                       and c.args[1].raw == "venv") or name == "virtualenv"
            if is_venv and c.top and rs.script.errexit and any(x.path == venv for x in created_paths(c, rs.env, cwd)):
                made = True
        if made:
            return True
    return False


def activates_known_venv(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> bool:
    """`cmd` sources X/bin/activate, or runs X/bin/pip (X/bin/python -m pip) install, of a venv `python -m venv`/
    `virtualenv` made in this stage (earlier in this step, or in an earlier step not followed by one that may remove
    it): the venv template's activate sets variables and defines `deactivate`; its pip is pip. Neither reads a
    file's owner."""
    if posixpath.basename(cmd.name) in (".", "source"):
        found = created(a, j, cmd, env, cwd)
        if not found:
            return False
        venv = found[0].path
    else:
        # `X/bin/pip install …`, `X/bin/python -m pip install …`: the venv's own pip, as a bare `pip` would be.
        pip = toolwrites.pip_call(cmd, env)
        if pip is None or pip.exe_dir is None:
            return False
        venv = pip.exe_dir
    rs = a.run_script(j)
    if rs is not None:
        for c in rs.script.top:
            if c.start >= cmd.start:
                break
            name = posixpath.basename(c.name)
            is_venv = (name.startswith("python") and len(c.args) >= 2 and c.args[0].raw == "-m"
                       and c.args[1].raw == "venv") or name == "virtualenv"
            if is_venv and any(x.path == venv for x in created_paths(c, rs.env, a.state(j).workdir)):
                return True
    return venv_exists(a, j, venv)
