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
from dockerfix.transforms._deps_inputs import env_paths, pip_option_paths
from dockerfix.transforms._deps_plan import Cmd, Plan, Refuse, cmd_label, has_bind_mount


_PKG_MANAGERS = frozenset("apt-get apt apk yum dnf microdnf".split())
_ACCOUNT_TOOLS = frozenset("useradd adduser groupadd addgroup".split())
# Options of the account tools that take a value; the home directory options are read.
_ACCOUNT_VALUE_OPTS = frozenset("-u --uid -g --gid -G --groups -d --home-dir -h --home -s --shell -c --comment -k --skel "
                                "-K --key -e --expiredate -f --inactive -p --password -b --base-dir -Z --selinux-user "
                                "--firstuid --lastuid --ingroup".split())
_CHMOD_FLAGS = frozenset("-R -v -f -c --recursive --verbose --silent --quiet --changes".split())


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
    pos = tool_positionals(words)
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


# Options of poetry, uv, pdm and pipenv that take a value, wherever they stand (`poetry -C svc install`), and the
# ones among them that name the project's directory (uv's `-p` is --python; pdm's is --project).
TOOL_VALUE_OPTS = frozenset("-C --directory -P --project --with --without --only -E --extras -G --group -p "
                            "--categories --python --package --extra --no-group --only-group --index-url "
                            "--default-index --index --venv -L --lockfile -f --find-links --extra-index-url "
                            "--config-file --cache-dir --color".split())
_PROJECT_OPTS = {"poetry": ("-C", "--directory", "-P", "--project"), "uv": ("--directory", "--project"),
                 "pdm": ("-p", "--project")}


def tool_positionals(words: list[str]) -> list[str]:
    """The subcommand and other positional words of a poetry/uv/pdm/pipenv command line."""
    out = []
    i = 1
    while i < len(words):
        w = words[i]
        if w.startswith("-"):
            if "=" not in w and w in TOOL_VALUE_OPTS:
                i += 1
        else:
            out.append(w)
        i += 1
    return out


def project_dir(words: list[str], cwd: str | None) -> str | None:
    """The project a poetry/uv/pdm command works on: its -C/--directory/--project option, else its directory."""
    opts, _ = options(words[1:], TOOL_VALUE_OPTS)
    project = cwd
    for opt in _PROJECT_OPTS.get(posixpath.basename(words[0]), ()):
        if opt in opts:
            project = join(cwd, opts[opt])
    return project


def options(args: list[str], with_value: set[str]) -> tuple[dict[str, str], set[str]]:
    opts: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(args):
        w = args[i]
        if w.startswith("-"):
            name, eq, val = w.partition("=")
            if eq:
                opts[name] = val
            elif w in with_value and i + 1 < len(args):
                opts[w] = args[i + 1]
                i += 1
            else:
                flags.add(w)
        i += 1
    return opts, flags



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
    if name in _ACCOUNT_TOOLS:
        return _account_setup(plan, c, name)
    if name in ("chmod", "mkdir"):
        return _path_setup(plan, c, name)
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
        # `pip install poetry` with `--find-links ./wheels` or PIP_FIND_LINKS reads files, maybe the COPY's.
        reads = pip_option_paths(pip, c.cwd, " ".join(clean)) + env_paths(plan.a.state(plan.r), c.cwd)
        if any(_moved_writes(plan, p) for p in reads):
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


def _moved_writes(plan: Plan, path: str) -> bool:
    """A COPY from the whole COPY on (they move below the install) writes `path` or something below it."""
    return any(w.writes(path, plan.ctx) for w in plan.writers if w.index >= plan.b)


def _account_setup(plan: Plan, c: Cmd, name: str) -> bool:
    """`useradd -u 1000 app`: writes /etc/passwd and /etc/group (a system directory no COPY may write) and
    maybe a home directory, and reads nothing of the project. A moved COPY that names an account in --chown
    would see the account at its new place, where it did not before."""
    words = c.words
    if any(w is None for w in words):
        return False
    home_opt: str | None = None
    base = "/home"
    positional: list[str] = []
    i = 1
    while i < len(words):
        w = words[i] or ""
        if w in _ACCOUNT_VALUE_OPTS and i + 1 < len(words):
            if w in ("-d", "--home-dir", "-h", "--home"):
                home_opt = words[i + 1]
            elif w in ("-b", "--base-dir"):
                base = words[i + 1] or base
            i += 2
            continue
        if w.startswith("-"):
            if w.startswith(("--home-dir=", "--home=")):
                home_opt = w.split("=", 1)[1]
            i += 1
            continue
        positional.append(w)
        i += 1
    if not positional:
        return False
    for w in plan.writers:
        chown = w.ins.flag("chown")
        if w.index >= plan.b and chown is not None and not re.fullmatch(r"\d+(:\d+)?", chown.value or ""):
            raise Refuse(f"`{' '.join(x or '' for x in words)}` creates an account, and the {w.ins.keyword} at line "
                         f"{w.ins.line} names one in --chown: at its place after the install it would see the new "
                         "account (use numeric ids in --chown to make the fix possible)")
    if name in ("useradd", "adduser"):
        home = home_opt or posixpath.join(base, positional[0] if name == "adduser" else positional[-1])
        if not home.startswith("/"):
            return False
        plan.outputs.append(home)
    return True


def _path_setup(plan: Plan, c: Cmd, name: str) -> bool:
    """`chmod +x /usr/local/bin/entrypoint.sh`, `mkdir -p /data`: they touch only the paths they name, which no
    moved COPY may write."""
    words = c.words
    if any(w is None for w in words):
        return False
    args = [w for w in words[1:] if w is not None]
    if name == "chmod":
        args = [w for w in args if w not in _CHMOD_FLAGS]
        paths = args[1:]
    else:
        paths, skip = [], False
        for w in args:
            if skip:
                skip = False
            elif w in ("-m", "--mode"):
                skip = True
            elif not w.startswith("-"):
                paths.append(w)
    if not paths:
        return False
    for p in paths:
        if any(ch in p for ch in "*?[") or p.startswith("~"):
            return False
        full = join(c.cwd, p)
        if full is None or _moved_writes(plan, full):
            return False
        if name == "mkdir":
            plan.outputs.append(full)
    return True


def check_setup_runs(plan: Plan, runs: list[int]) -> None:
    """RUNs between the whole COPY and the install stay where they are, so they now run before the files of that
    COPY arrive: each of their commands must be setup that reads and changes none of those files."""
    a = plan.a
    b_line = a.instructions[plan.b].line
    for j in runs:
        ins = a.instructions[j]
        where = f"the RUN at line {ins.line} runs between the COPY at line {b_line} and the install"
        if has_bind_mount(ins):
            raise Refuse(f"{where} with a bind mount, which may read the build context")
        rs = a.run_script(j)
        if rs is None or ins.json_args is not None:
            raise Refuse(f"{where} and cannot be analysed (exec form, a shell syntax error or a non-POSIX SHELL)")
        st = a.state(j)
        for c in rs.script.commands:
            cmd = Cmd(c, [value(w, st.env) for w in c.words], st.workdir if c.top else None)
            if not is_neutral(plan, cmd):
                text = " ".join(rs.script.text[c.start : c.end].split())
                text = text if len(text) <= 70 else text[:67] + "..."
                raise Refuse(f"{where}, and `{text}` may read or change the files that COPY brings (move it below "
                             "the install, or above the COPY, to make the fix possible)")
        plan.setup_runs.append(j)
