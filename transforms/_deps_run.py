"""deps-first: reading the RUN: which COPY busts the cache, the RUN's top-level commands, which of them install
dependencies, and which are setup that reads no project file.
"""

from __future__ import annotations

import posixpath
import re

from dockerfix.refactor.context import buildcontext as ctxmod
from dockerfix.refactor.context import nodedeps
from dockerfix.refactor.context import pydeps
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import copy_args
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import Command, value
from dockerfix.transforms._deps_plan import Cmd, Plan, Refuse, cmd_label


_PKG_MANAGERS = frozenset("apt-get apt apk yum dnf microdnf".split())


def is_busting(a: Analysis, j: int) -> bool:
    """A COPY/ADD from the context with a directory (or wildcard) source: any source edit invalidates it."""
    ins = a.instructions[j]
    if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or ins.heredocs:
        return False
    ca = copy_args(ins, a.state(j), a.df.escape)
    if ca is None:
        return False
    for src in ca.sources:
        s = a.state(j).expand(src, a.df.escape)
        if s is None or any(ch in s for ch in "*?["):
            return True
        if ctxmod.is_remote(s):
            continue
        rel = posixpath.normpath("/" + s).lstrip("/")
        if a.context is None:
            if s.endswith("/") or rel in ("", "."):
                return True
            continue
        p = a.context / rel if rel else a.context
        if p.is_dir():
            return True
    return False


def run_commands(a: Analysis, r: int) -> list[Cmd] | None:
    """The RUN's top-level commands, or None when none of them is a dependency install."""
    ins = a.instructions[r]
    st = a.state(r)
    if ins.json_args is not None:
        words: list[str | None] = list(ins.json_args)
        fake = Command([], 0, 0, True, None)
        cmd = Cmd(fake, words, st.workdir)
        return [cmd] if is_deps_install(words) else None
    rs = a.run_script(r)
    if rs is None:
        if re.search(r"\b(pip[0-9.]*|pip)\s+install\b|\b(npm\s+(ci|i|install)|poetry\s+install|uv\s+sync|pipenv\s+"
                     r"(install|sync)|pdm\s+(install|sync)|yarn\s+install|pnpm\s+(i|install))\b", ins.args):
            raise Refuse("the RUN cannot be analysed (a shell syntax error, a non-POSIX SHELL, a heredoc that is "
                         "not the script, or a Windows image)")
        return None
    out: list[Cmd] = []
    found = False
    cwd = st.workdir
    for c in rs.script.commands:
        words = [value(w, st.env) for w in c.words]
        if not c.top:
            if is_deps_install([w if w is not None else "" for w in words]):
                raise Refuse("the dependency install sits inside a compound command (if, pipe, subshell, ||)")
            continue
        out.append(Cmd(c, words, cwd))
        if posixpath.basename(c.name) == "cd":
            target = words[1] if len(words) > 1 else None
            cwd = join(cwd, target) if target is not None else None
        if is_deps_install([w if w is not None else "" for w in words]):
            found = True
    return out if found else None


def is_deps_install(words: list[str]) -> bool:
    # `words` is never empty: a shell command always has a name, and an exec-form RUN matched _TOOLS.
    pip = pydeps.pip_call(words)
    if pip is not None:
        return bool(pip.requirements) or (bool(pip.projects) and not pip.no_deps)
    node = nodedeps.node_call(words)
    if node is not None:
        return not node.global_ and not node.packages
    tool = posixpath.basename(words[0])
    pos = [w for w in words[1:] if not w.startswith("-")]
    sub = pos[0] if pos else ""
    if tool == "poetry":
        return sub == "install" and "--only-root" not in words
    if tool == "uv":
        return sub == "sync"
    if tool == "pipenv":
        return sub == "sync" or (sub == "install" and len(pos) == 1)
    if tool == "pdm":
        return sub in ("install", "sync")
    return False


def is_neutral(plan: Plan, c: Cmd) -> bool:
    """A setup command that reads no project file and writes nowhere the whole COPY writes."""
    words = c.words
    if not words or words[0] is None or c.command.redirected:
        return False
    name = posixpath.basename(words[0])
    args = words[1:]
    if name in ("true", ":"):
        return True
    if name == "set":
        return all(w is not None and re.fullmatch(r"[-+][euxo]+|pipefail", w) for w in args)
    if name in ("echo", "printf"):
        return True
    if name in _PKG_MANAGERS:
        return all(w is not None and "/" not in w and not re.search(r"\.(deb|rpm|apk)$", w) for w in args)
    if name == "rm":
        raws = [w.raw for w in c.command.args]
        paths = [w for w in raws if not w.startswith("-")]
        if not paths or any(not p.startswith("/") or "$" in p or "`" in p for p in paths):
            return False
        return not any(w.dest is not None and (is_under(p, w.dest) or is_under(w.dest, p))
                       for p in paths for w in plan.writers if w.index >= plan.b)
    if any(w is None for w in words):
        return False
    clean = [w for w in words if w is not None]
    pip = pydeps.pip_call(clean)
    if pip is not None:
        if pip.requirements or pip.projects or pip.local_files or pip.vcs_editable:
            return False
        plan.outputs.extend(pip_outputs(pip, c.cwd))
        return True
    node = nodedeps.node_call(clean)
    if node is not None:
        return node.global_ and all(not pydeps.is_local(p) and not p.startswith(("file:", "link:")) for p in node.packages)
    if name == "corepack":
        return bool(args) and (args[0] == "enable" or (args[0] in ("prepare", "install") and ("-g" in args or
                                                                                              "--global" in args
                                                                                              or args[0] == "prepare"
                                                                                              and len(args) > 1)))
    if name == "poetry":
        return bool(args) and args[0] == "config" and "--local" not in args
    if re.fullmatch(r"python[0-9.]*", name) and args[:2] == ["-m", "venv"] or name == "virtualenv":
        return True  # where it creates the venv is checked against the COPYs with the other outputs
    return False


def pip_outputs(pip: pydeps.PipCall, cwd: str | None) -> list[str]:
    out = []
    for opt in ("-t", "--target", "--prefix", "--root", "--src", "--cache-dir", "--log", "--log-file", "--report"):
        for v in pip.options.get(opt, []):
            p = join(cwd, v)
            if p is None:
                raise Refuse(f"the pip option {opt} {v} is relative to an unknown directory")
            out.append(p)
    return out


def check_nested(plan: Plan) -> None:
    """Commands inside a pipeline, subshell, `{ }` group, if, for, while or case are not in the RUN's top-level
    list, so the RUN moves whole with them only when none of them reads or changes the project's files."""
    a = plan.a
    rs = a.run_script(plan.r)
    if rs is None:
        return
    st = a.state(plan.r)
    for c in rs.script.commands:
        if c.top:
            continue
        cmd = Cmd(c, [value(w, st.env) for w in c.words], None)
        if not is_neutral(plan, cmd):
            raise Refuse(f"`{cmd_label(plan, cmd)}` runs inside a pipeline, subshell, group, if, for, while or case, "
                         "which deps-first does not take apart, and it may use the source (put it in a RUN of its "
                         "own to make the fix possible)")
