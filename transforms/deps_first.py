"""deps-first: a dependency install after `COPY . .` reinstalls everything whenever any source file changes.

Docker behaviour this relies on:
- A step is rebuilt when anything it depends on changed, and so is every step after it. A COPY depends
  on the content of what it copies, so after `COPY . .` any edit reruns the install below it. Copying
  only the files the install reads, installing, then copying the rest keeps the install cached.
- COPY/ADD do not depend on ENV, ARG, USER, SHELL, LABEL, EXPOSE and the other settings, except through
  variables in their own arguments and WORKDIR for a relative destination. A COPY of a file whose
  parent directories are missing creates them the way the COPY that would have created them does
  (same `--chown`/`--chmod`), and a later COPY of a directory sets the mode and owner of existing
  subdirectories from the context (it leaves the destination directory itself alone). So copying a
  few files first, with the flags of the COPY that brings them, and the whole COPY after, ends with the
  same files, modes and owners.
- `.dockerignore` decides what COPY can see (moby/patternmatcher rules; see refactor/context.py).

What the fix does, for a RUN whose commands include a dependency install (pip/pip3/`python -m pip`/
`uv pip` with `-r`/`-c` files or a local project, poetry, uv sync, pipenv, pdm, npm ci/install, yarn,
pnpm) that runs after a COPY/ADD of a directory from the context in the same stage:
1. The install and the instructions between are reordered: ENV/ARG/LABEL/EXPOSE/WORKDIR/USER/SHELL and
   the other settings stay where they are, so the install still sees the same environment; the COPYs
   between the first directory COPY and the install move below the install (they must give the same
   destination and flags at the new place), a COPY that brings only files the install reads moves
   above it instead.
2. Before the install, a new `COPY` brings just the files it reads (requirements files and every file
   they include with -r/-c, pyproject.toml + poetry.lock/uv.lock/pdm.lock, Pipfile + Pipfile.lock,
   package.json + the lockfile, .npmrc/.yarnrc/.yarnrc.yml/poetry.toml when present), at the paths the
   whole COPY would give them, with its --chown/--chmod/--link.
3. An install that reads only those files moves as it is (pip -r, npm ci, yarn/pnpm --frozen-lockfile,
   pipenv, an install that already has --no-root/--no-install-project/--no-self). An install that also
   builds the project is split: a deps-only command first (`poetry install --no-root`,
   `uv sync --no-install-project`, `pdm install --no-self`, `pip install -r FILE` with the pip options
   of the original when setup.py/setup.cfg/pyproject.toml take the dependencies from FILE), and the
   original command after the whole COPY (pip gets `--no-deps`). Other commands of the RUN go with the
   part they belong to: setup commands that read no project file (`pip install poetry`, `apt-get`,
   `rm` outside the copied files, `cd`) go first; what follows the install stays after the whole COPY.

It refuses (reports, no fix) when: an instruction between the COPY and the install is a RUN (it may read
the copied files) or a VOLUME; a COPY would change meaning at its new place (it uses a variable or a
relative destination that the instructions it crosses change); a WORKDIR crossed would create the COPY's
destination first with another owner (non-root USER, or --chown/--chmod on the COPY); a file the install
reads cannot be read from the build context (missing, excluded by .dockerignore, a symlink) or comes from
another stage; a requirements file installs a local path (`-e .`, `./pkg`, `file:`, `../x`) or finds links
in a local folder; the project's dependencies are a list in pyproject.toml/setup.cfg/setup.py (installing
them first would need a copy of that list in the Dockerfile) or are computed (dynamic, setup.py code
other than reading one requirements file unchanged, another build backend, extras); setup.py is never
run, only read with libcst; a poetry/uv/pdm/npm/yarn/pnpm project has path/workspace dependencies,
package.json runs install scripts (preinstall/install/postinstall/prepare) without `--ignore-scripts`, or
the lockfile the tool needs is missing; the whole COPY would write where the install writes or reads
(node_modules, .venv, caches and config in HOME, system directories); the RUN has a bind mount, is in
exec or heredoc form and needs splitting, cannot be parsed, or runs an unknown command before the install.

The fix is marked unsafe when the image can differ in a detail: `pip install .` split in two marks the
dependencies as requested by the user (a REQUESTED file in their .dist-info, which `pip install .` does
not write), and an install that may rewrite its lockfile (npm install, yarn/pnpm without a frozen
lockfile, pipenv install without --deploy, uv sync without --frozen/--locked) would have its rewrite
replaced by the context's copy. The analysis assumes ARG defaults are not overridden by --build-arg, the
base image's default user is root, and the files in the context are what the install reads.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from dockerfix.refactor.context import buildcontext as ctxmod
from dockerfix.refactor.context import nodedeps
from dockerfix.refactor.context import pydeps
from dockerfix.refactor.dockerfile.analysis import Analysis, RunScript
from dockerfix.refactor.dockerfile.facts import copy_args, created_paths
from dockerfix.refactor.dockerfile.model import Edit, Finding, Fix
from dockerfix.refactor.dockerfile.parse import Instruction
from dockerfix.refactor.dockerfile.resolve import State, is_under, join
from dockerfix.refactor.dockerfile.shell import Command, value
from dockerfix.refactor.dockerfile.words import split_words

NAME = "deps-first"
SUMMARY = "copy the dependency manifests and install before `COPY . .`, so source edits keep the install cached"
SAFE = True

_TOOLS = re.compile(r"\b(pip[0-9.]*|python[0-9.]*|uv|poetry|pipenv|pdm|npm|yarn|pnpm)\b")
# Instructions that change only settings or metadata: a COPY does not depend on them except through
# variables in its own arguments and WORKDIR, both checked.
CROSSABLE = frozenset("ENV ARG LABEL EXPOSE WORKDIR USER SHELL STOPSIGNAL HEALTHCHECK CMD ENTRYPOINT MAINTAINER "
                      "ONBUILD".split())
# Where installers write or read outside the project: a COPY must not bring files there.
SYSTEM_DIRS = ("/etc", "/bin", "/sbin", "/lib", "/lib64", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64",
               "/usr/include", "/usr/share", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib",
               "/usr/local/include", "/usr/local/share", "/usr/local/etc", "/opt/conda", "/.pnpm-store")
# Names in HOME that pip, npm, yarn, pnpm, poetry, uv, pipenv and pdm read or write.
HOME_NAMES = (".cache", ".local", ".config", ".npm", ".npmrc", ".yarn", ".yarnrc", ".yarnrc.yml", ".pnpm-store",
              ".pip", ".pydistutils.cfg", ".netrc", ".pypirc", ".gitconfig", ".ssh", ".condarc", ".node-gyp")
# Environment variables naming directories the tools write to.
DIR_VARS = ("PIP_TARGET", "PIP_PREFIX", "PIP_CACHE_DIR", "PIP_SRC", "VIRTUAL_ENV", "npm_config_cache",
            "NPM_CONFIG_CACHE", "npm_config_prefix", "NPM_CONFIG_PREFIX", "YARN_CACHE_FOLDER", "PNPM_HOME",
            "npm_config_store_dir", "UV_CACHE_DIR", "UV_TOOL_DIR", "UV_PYTHON_INSTALL_DIR", "POETRY_CACHE_DIR",
            "POETRY_VIRTUALENVS_PATH", "POETRY_HOME", "WORKON_HOME", "PIPENV_CACHE_DIR", "PDM_CACHE_DIR",
            "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")
# Files and variables that point pip/npm at other inputs; refused when set (they may name copied files).
INPUT_VARS = ("PIP_CONFIG_FILE", "PIP_CONSTRAINT", "PIP_REQUIREMENT", "PIPENV_PIPFILE", "NPM_CONFIG_USERCONFIG",
              "npm_config_userconfig", "UV_CONSTRAINT", "UV_OVERRIDE", "UV_CONFIG_FILE", "POETRY_PYPROJECT")
BASE_DIRS = frozenset("/ /bin /etc /home /opt /root /srv /tmp /usr /usr/bin /usr/lib /usr/local /usr/local/bin "
                      "/usr/local/lib /usr/local/share /usr/share /var /var/lib /var/log /var/cache".split())
_PKG_MANAGERS = frozenset("apt-get apt apk yum dnf microdnf".split())
_SAFE_NAME = re.compile(r"^[\w@%+=:,./-]+$")


class Refuse(Exception):
    pass


@dataclass
class Install:
    """A dependency install command of the RUN and what it needs."""

    cmd: int  # index in the top-level command list
    label: str  # the command as written, for messages
    tool: str
    inputs: list[str] = field(default_factory=list)  # absolute image paths that must be copied first
    optional: list[str] = field(default_factory=list)  # copied first when the context has them
    outputs: list[str] = field(default_factory=list)  # absolute paths it writes
    first_ops: list[tuple[int, int, str]] | None = None  # edits (script offsets) for the deps-only command
    later_ops: list[tuple[int, int, str]] = field(default_factory=list)  # edits for the command after the COPY
    unsafe: list[str] = field(default_factory=list)

    @property
    def split(self) -> bool:
        return self.first_ops is not None


@dataclass
class Writer:
    """A COPY/ADD of the stage, and where it puts what."""

    index: int
    ins: Instruction
    dest: str | None
    cmap: ctxmod.CopyMap | None  # None: not from the context (--from, heredoc) or not readable
    error: str | None = None

    def writes(self, path: str, ctx: ctxmod.Context) -> bool:
        if self.cmap is not None:
            return self.cmap.writes(path, ctx)
        return self.dest is None or is_under(path, self.dest) or is_under(self.dest, path)


@dataclass
class Cmd:
    command: Command
    words: list[str | None]  # static values (None: unknown)
    cwd: str | None  # the working directory the command runs in


def check(a: Analysis) -> Iterator[Finding]:
    for idx, ins in enumerate(a.instructions):
        # A `RUN <<EOF` keeps its script in the heredoc body, not in the arguments.
        if ins.keyword != "RUN" or not (_TOOLS.search(ins.args) or any(_TOOLS.search(h.body) for h in ins.heredocs)):
            continue
        finding = _check_run(a, idx)
        if finding is not None:
            yield finding


def _check_run(a: Analysis, r: int) -> Finding | None:
    ins = a.instructions[r]
    stage = a.resolved.stage_of(r)
    if stage is None:
        return None
    busting = [j for j in range(stage.first + 1, r) if _busting(a, j)]
    if not busting:
        return None
    b = busting[0]
    try:
        cmds = _commands(a, r)
        if cmds is None:
            return None  # no dependency install in this RUN
        return _plan(a, r, b, cmds)
    except Refuse as exc:
        return Finding(NAME, ins.line, f"not fixed: {exc}", None,
                       [f"line {ins.line}: the dependency install runs after the COPY at line "
                        f"{a.instructions[b].line}, so every source change reinstalls the dependencies"])


# ------------------------------------------------------------------------------------------ reading the RUN


def _busting(a: Analysis, j: int) -> bool:
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


def _commands(a: Analysis, r: int) -> list[Cmd] | None:
    """The RUN's top-level commands, or None when none of them is a dependency install."""
    ins = a.instructions[r]
    st = a.state(r)
    if ins.json_args is not None:
        words: list[str | None] = list(ins.json_args)
        fake = Command([], 0, 0, True, None)
        cmd = Cmd(fake, words, st.workdir)
        return [cmd] if _is_deps_install(words) else None
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
            if _is_deps_install([w if w is not None else "" for w in words]):
                raise Refuse("the dependency install sits inside a compound command (if, pipe, subshell, ||)")
            continue
        out.append(Cmd(c, words, cwd))
        if posixpath.basename(c.name) == "cd":
            target = words[1] if len(words) > 1 else None
            cwd = join(cwd, target) if target is not None else None
        if _is_deps_install([w if w is not None else "" for w in words]):
            found = True
    return out if found else None


def _is_deps_install(words: list[str]) -> bool:
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


# ------------------------------------------------------------------------------------------------ the plan


@dataclass
class Plan:
    a: Analysis
    r: int
    b: int
    cmds: list[Cmd]
    ctx: ctxmod.Context
    writers: list[Writer]
    installs: list[Install] = field(default_factory=list)
    deps_end: int = -1  # last top-level command index of the part that runs before the whole COPY
    outputs: list[str] = field(default_factory=list)


def _plan(a: Analysis, r: int, b: int, cmds: list[Cmd]) -> Finding | None:
    ins = a.instructions[r]
    if a.context is None:
        raise Refuse("there is no build context to read the dependency files from (the Dockerfile came from stdin; "
                     "pass --context)")
    for j in range(b + 1, r):
        other = a.instructions[j]
        if other.keyword in ("COPY", "ADD") or other.keyword in CROSSABLE:
            continue
        raise Refuse(f"the {other.keyword} at line {other.line} runs between the COPY at line "
                     f"{a.instructions[b].line} and the install" + (" and may use the copied files"
                                                                    if other.keyword == "RUN" else ""))
    for f in ins.flags:
        if f.name == "mount" and f.value is not None:
            opts = dict(p.partition("=")[::2] for p in f.value.split(","))
            if opts.get("type", "bind") == "bind":
                raise Refuse("the RUN has a bind mount, which may read the build context")
    st = a.state(r)
    for var in INPUT_VARS:
        if var in st.env:
            raise Refuse(f"{var} is set, so the install reads a file dockerfix does not follow")
    ctx = ctxmod.load(a.context, a.path)
    stage = a.resolved.stage_of(r)
    assert stage is not None
    writers = [_writer(a, j, ctx) for j in range(stage.first + 1, r) if a.instructions[j].keyword in ("COPY", "ADD")]
    plan = Plan(a, r, b, cmds, ctx, writers)
    _analyse_installs(plan)
    if not plan.installs:
        return None
    return _build(plan)


def _writer(a: Analysis, j: int, ctx: ctxmod.Context) -> Writer:
    ins = a.instructions[j]
    st = a.state(j)
    ca = copy_args(ins, st, a.df.escape)
    dest = ca.dest if ca else None
    if ins.flag("from") is not None or ins.heredocs or ca is None or dest is None:
        return Writer(j, ins, dest, None)
    for name in ("parents", "exclude"):
        if ins.flag(name) is not None:
            return Writer(j, ins, dest, None, f"the {ins.keyword} at line {ins.line} uses --{name}")
    srcs = [st.expand(s, a.df.escape) for s in ca.sources]
    if any(s is None for s in srcs):
        return Writer(j, ins, dest, None, f"a source of the {ins.keyword} at line {ins.line} uses an unknown variable")
    try:
        cmap = ctxmod.copy_map([s for s in srcs if s is not None], dest, ca.dest_is_dir, ctx, ins.keyword == "ADD")
    except ctxmod.ContextError as exc:
        return Writer(j, ins, dest, None, f"the {ins.keyword} at line {ins.line}: {exc}")
    return Writer(j, ins, dest, cmap)


def _provider(plan: Plan, path: str) -> tuple[Writer, str] | None:
    """The COPY that last writes `path` before the install, and the context file it takes it from."""
    for w in reversed(plan.writers):
        if w.cmap is not None:
            rel = w.cmap.locate(path)
            if rel is not None and plan.ctx.has(rel):
                return w, rel
            continue
        if w.writes(path, plan.ctx):
            if w.error:
                raise Refuse(w.error)
            raise Refuse(f"{path} comes from the {w.ins.keyword} at line {w.ins.line}, not from the build context")
    return None


def _read(plan: Plan, path: str) -> str | None:
    found = _provider(plan, path)
    if found is None:
        return None
    w, rel = found
    if plan.ctx.linked(rel):
        raise Refuse(f"{rel} is a symlink in the build context")
    return plan.ctx.read(rel)


def _analyse_installs(plan: Plan) -> None:
    """Find the installs, and the prefix of the RUN that can run before the whole COPY (`deps_end`)."""
    st = plan.a.state(plan.r)
    allowed = True  # every command so far reads no project file
    last_install = -1
    for k, c in enumerate(plan.cmds):
        words = c.words
        name = posixpath.basename(words[0]) if words and words[0] is not None else ""
        if _is_deps_install([w if w is not None else "" for w in words]):
            if not allowed:
                raise Refuse(f"`{_label(plan, c)}` runs after `{_label(plan, plan.cmds[k - 1])}`, which may need the "
                             "source")
            if any(w is None for w in words):
                raise Refuse(f"`{_label(plan, c)}` uses a variable or wildcard whose value is unknown")
            inst = _install(plan, k, c, [w for w in words if w is not None], st)
            if inst is None:  # nothing to install first, or already split earlier: this one needs the source
                allowed = False
                continue
            plan.installs.append(inst)
            last_install = k
            continue
        if allowed and (name == "cd" or _neutral(plan, c)):
            continue
        allowed = False
    if not plan.installs:
        return
    # The part that runs first ends with the last install and the setup-like commands right after it (cleanup).
    end = last_install
    for k in range(last_install + 1, len(plan.cmds)):
        c = plan.cmds[k]
        name = posixpath.basename(c.words[0]) if c.words and c.words[0] is not None else ""
        if name == "cd" or not _neutral(plan, c):
            break
        end = k
    plan.deps_end = end


def _label(plan: Plan, c: Cmd) -> str:
    if not c.command.words:
        return " ".join(w or "?" for w in c.words)
    rs = plan.a.run_script(plan.r)
    text = rs.script.text[c.command.start : c.command.end] if rs else ""
    text = " ".join(text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def _neutral(plan: Plan, c: Cmd) -> bool:
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
        plan.outputs.extend(_pip_outputs(pip, c.cwd))
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


def _pip_outputs(pip: pydeps.PipCall, cwd: str | None) -> list[str]:
    out = []
    for opt in ("-t", "--target", "--prefix", "--root", "--src", "--cache-dir", "--log", "--log-file", "--report"):
        for v in pip.options.get(opt, []):
            p = join(cwd, v)
            if p is None:
                raise Refuse(f"the pip option {opt} {v} is relative to an unknown directory")
            out.append(p)
    return out


def _earlier_commands(plan: Plan) -> Iterator[tuple[list[str | None], str | None]]:
    """The top-level commands of the stage's RUNs before the first whole COPY, with their working directories."""
    a = plan.a
    stage = a.resolved.stage_of(plan.r)
    assert stage is not None
    for j in range(stage.first + 1, plan.b):
        if a.instructions[j].keyword != "RUN":
            continue
        rs = a.run_script(j)
        if rs is None:
            continue
        cwd = a.state(j).workdir
        for c in rs.script.top:
            words = [value(w, a.state(j).env) for w in c.words]
            if words and words[0] == "cd" and len(words) > 1 and words[1] is not None:
                cwd = join(cwd, words[1])
            yield words, cwd


def _locked_project(
    plan, c, inst: Install, read, flags: set[str], project: str, *, lock: str, flag: str,  # type: ignore[no-untyped-def]
    is_package, optional: list[str], outputs: list[str],
) -> bool:
    """poetry, uv and pdm: pyproject.toml plus a lock file; a project that is a package is split with `flag`.

    False when the Dockerfile already holds the deps-only half of that split.
    """
    label, tool = inst.label, inst.tool
    pyproject = read("pyproject.toml")
    if pyproject is None:
        raise Refuse(f"{label}: cannot read pyproject.toml from the build context")
    if read(lock) is None:
        verb = "sync" if tool == "uv" else "install"
        raise Refuse(f"{label}: there is no {lock}, so the {verb} resolves versions itself")
    package = _unsupported(lambda: is_package(pyproject), label)
    inst.inputs = [f"{project}/pyproject.toml", f"{project}/{lock}"]
    inst.optional = [f"{project}/{name}" for name in optional]
    inst.outputs = [join(project, out) or f"{project}/{out}" for out in outputs]
    if package and flag not in flags:
        if _already_split(plan, tool, flag, project):
            return False
        inst.first_ops = _append_flag(c, " " + flag)
    return True


def _already_split(plan: Plan, tool: str, flag: str, project: str) -> bool:
    """An earlier RUN of the stage already has the deps-only half (`poetry install --no-root`, …)."""
    return any(words and words[0] is not None and posixpath.basename(words[0]) == tool and flag in words
               and cwd == project for words, cwd in _earlier_commands(plan))


def _pip_already_split(plan: Plan, files: list[str]) -> bool:
    """An earlier RUN of the stage already installs from these requirement files, without a project: this
    install is the half that needs the source (`pip install -r r.txt`, `COPY . .`, `pip install -r r.txt .`)."""
    for words, cwd in _earlier_commands(plan):
        call = pydeps.pip_call([w for w in words if w is not None]) if None not in words else None
        if call is not None and not call.projects and set(files) <= {join(cwd, p) or p for _, p in call.requirements}:
            return True
    return False


_UNKNOWN_CWD = ("the working directory of the install is unknown (WORKDIR from the base image, or a cd to an unknown "
                "path)")


def _install(plan: Plan, k: int, c: Cmd, words: list[str], st: State) -> Install | None:
    cwd = c.cwd
    label = _label(plan, c)
    pip = pydeps.pip_call(words)
    if pip is not None:
        return _pip(plan, k, c, pip, label, st)
    node = nodedeps.node_call(words)
    if node is not None:
        return _node(plan, k, c, node, label, st)
    tool = posixpath.basename(words[0])
    opts, flags = _options(words[1:], {"-C", "--directory", "-P", "--project", "--with", "--without", "--only", "-E",
                                       "--extras", "-G", "--group", "-p", "--categories", "--python", "--package",
                                       "--extra", "--no-group", "--only-group", "--index-url", "--default-index",
                                       "--index", "--venv", "-L", "--lockfile"})
    project = cwd
    for opt in ("-C", "--directory", "-P", "--project", "-p"):
        if opt in opts:
            project = join(cwd, opts[opt])
    if project is None:
        raise Refuse(_UNKNOWN_CWD)
    read = _project_reader(plan, project)
    inst = Install(k, label, tool)
    if tool == "poetry":
        if not _locked_project(plan, c, inst, read, flags, project, lock="poetry.lock", flag="--no-root",
                               is_package=pydeps.poetry_package_mode, optional=["poetry.toml"], outputs=[".venv"]):
            return None
    elif tool == "uv":
        if "--package" in opts or "--all-packages" in flags:
            raise Refuse(f"{label}: it syncs workspace packages, which need their sources")
        venv = st.env.get("UV_PROJECT_ENVIRONMENT") or ".venv"
        if not _locked_project(plan, c, inst, read, flags, project, lock="uv.lock", flag="--no-install-project",
                               is_package=pydeps.uv_is_package, optional=[".python-version", "uv.toml"],
                               outputs=[venv]):
            return None
        if not inst.first_ops and not ({"--frozen", "--locked"} & flags):
            inst.unsafe.append(f"`{label}` without --frozen/--locked may rewrite uv.lock, and the COPY after it "
                               "would put the context's copy back")
    elif tool == "pipenv":
        pipfile = read("Pipfile")
        if pipfile is None:
            raise Refuse(f"{label}: cannot read Pipfile from the build context")
        _unsupported(lambda: pydeps.check_pipfile(pipfile), label)
        inst.inputs = [f"{project}/Pipfile"]
        inst.optional = [f"{project}/Pipfile.lock"]
        inst.outputs = [f"{project}/.venv"]
        sync = "sync" in words[1:3]
        if read("Pipfile.lock") is not None and not sync and not ({"--deploy", "--ignore-pipfile"} & flags):
            inst.unsafe.append(f"`{label}` without --deploy may lock again and rewrite Pipfile.lock, and the COPY "
                               "after it would put the context's copy back")
    else:  # pdm, the last of the tools _is_deps_install accepts
        if not _locked_project(plan, c, inst, read, flags, project, lock="pdm.lock", flag="--no-self",
                               is_package=pydeps.pdm_is_package, optional=["pdm.toml", ".pdm-python"],
                               outputs=[".venv", "__pypackages__", ".pdm-python"]):
            return None
    return inst


def _options(args: list[str], with_value: set[str]) -> tuple[dict[str, str], set[str]]:
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


def _unsupported(fn, label: str):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except pydeps.Unsupported as exc:
        raise Refuse(f"{label}: {exc}") from None


def _project_reader(plan: Plan, project: str) -> pydeps.Reader:
    return lambda rel: _read(plan, posixpath.normpath(posixpath.join(project, rel)))


def _append_flag(c: Cmd, text: str) -> list[tuple[int, int, str]]:
    if not c.command.words:
        raise Refuse("the install is in exec form and would need to be split")
    end = c.command.words[-1].end
    return [(end, end, text)]


def _pip(plan: Plan, k: int, c: Cmd, pip: pydeps.PipCall, label: str, st: State) -> Install | None:
    cwd = c.cwd
    if pip.vcs_editable:
        raise Refuse(f"{label}: the editable install {pip.vcs_editable[0]} clones into ./src")
    if pip.local_files:
        raise Refuse(f"{label}: it installs the local file {pip.local_files[0]}")
    if "--group" in pip.options:
        raise Refuse(f"{label}: --group reads dependency groups from pyproject.toml")
    inst = Install(k, label, "pip", outputs=_pip_outputs(pip, cwd))
    for v in pip.options.get("--config-file", []):  # uv pip: a uv.toml it reads
        inst.optional.append(_join_or_refuse(cwd, v, f"{label}: --config-file {v}"))
    read = lambda path: _read(plan, path)  # noqa: E731
    req_paths: list[str] = []
    for _, path in pip.requirements:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
            continue
        full = join(cwd, path)
        if full is None:
            raise Refuse(_UNKNOWN_CWD)
        req_paths.append(full)
        inst.inputs.extend(p for p in _unsupported(lambda: pydeps.requirement_files(full, read, st.env, pip.uv), label)
                           if p not in inst.inputs)
    if len(pip.projects) > 1:
        raise Refuse(f"{label}: it installs several local projects")
    if pip.projects:
        first, last, path, extras = pip.projects[0]
        deps = pydeps.ProjectDeps([], [])
        project = join(cwd, path)
        if not pip.no_deps:
            if project is None:
                raise Refuse(_UNKNOWN_CWD)
            deps = _unsupported(lambda: pydeps.project_deps(_project_reader(plan, project), extras), label)
        # What the deps-only half installs from: the files the project takes its dependencies from, or else the
        # requirement options as given (URLs too, so that a split made earlier is recognised).
        files = ([posixpath.normpath(posixpath.join(project or "", f)) for f in deps.files] if deps.files
                 else [join(cwd, p) or p for _, p in pip.requirements])
        if not pip.requirements and not deps.files:
            return None  # nothing to install first: the project has no dependencies
        if _pip_already_split(plan, files):
            return None
        if not c.command.words:
            raise Refuse(f"{label}: the install is in exec form and would need to be split")
        if not deps.files:
            # The project itself needs the source: the requirements go first, the whole command after the COPY.
            inst.first_ops = _drop_word(c, first, last)
        else:
            extra = []
            for f in files:
                if f not in inst.inputs:
                    inst.inputs.append(f)
                if f not in req_paths:
                    rel = posixpath.relpath(f, cwd) if cwd is not None and is_under(f, cwd) else f
                    extra.append(f"-r {rel}")
            words = c.command.words
            # words[0] is the command name; pip_call indexes words the same way.
            start, end = words[first].start, words[last].end
            inst.first_ops = [(start, end, " ".join(extra))] if extra else _drop_word(c, first, last)
            at = words[pip.install_at].end
            inst.later_ops = [(at, at, " --no-deps")]
            inst.unsafe.append(f"`pip install -r` marks the dependencies as requested (a REQUESTED file in their "
                               f".dist-info), which `{label}` does not")
    return inst


def _join_or_refuse(cwd: str | None, path: str, what: str) -> str:
    full = join(cwd, path)
    if full is None:
        raise Refuse(f"{what} is relative to an unknown directory")
    return full


def _drop_word(c: Cmd, first: int, last: int) -> list[tuple[int, int, str]]:
    words = c.command.words
    start = words[first - 1].end if first > 0 else words[first].start
    return [(start, words[last].end, "")]


def _node(plan: Plan, k: int, c: Cmd, call: nodedeps.NodeCall, label: str, st: State) -> Install:
    cwd = c.cwd
    project = join(cwd, call.project) if call.project else cwd
    if project is None:
        raise Refuse(_UNKNOWN_CWD)
    if {"--workspace", "-w", "--filter", "-F"} & set(call.options) or {"-r", "--recursive", "--workspaces"} & call.flags:
        raise Refuse(f"{label}: it installs workspace packages, which need their sources")
    if "--lockfile-dir" in call.options:
        raise Refuse(f"{label}: pnpm reads the lockfile from --lockfile-dir {call.options['--lockfile-dir']}, "
                     "outside the project")
    d = project
    while d != "/":
        d = posixpath.dirname(d)
        base = d.rstrip("/")
        if nodedeps.declares_workspace(_read(plan, f"{base}/package.json"), _read(plan, f"{base}/pnpm-workspace.yaml")):
            raise Refuse(f"{label}: {d} holds a workspace, which {call.tool} takes the project in {project} to belong to")
    read = _project_reader(plan, project)
    found = _unsupported(lambda: nodedeps.inputs(call, read, st.env), label)
    inst = Install(k, label, call.tool)
    inst.inputs = [f"{project}/{f}" for f in found.required]
    inst.optional = [f"{project}/{f}" for f in found.optional]
    inst.outputs = [f"{project}/{o}" for o in found.outputs]
    for opt in ("--cache", "--cache-folder", "--store-dir", "--modules-folder", "--global-folder", "--modules-dir",
                "--virtual-store-dir"):
        if opt in call.options:
            p = join(cwd, call.options[opt])
            if p is None:
                raise Refuse(f"{label}: {opt} is relative to an unknown directory")
            inst.outputs.append(p)
    for opt in ("--userconfig", "--globalconfig", "--use-yarnrc"):  # config files it reads
        if opt in call.options:
            inst.optional.append(_join_or_refuse(cwd, call.options[opt], f"{label}: {opt} {call.options[opt]}"))
    if found.lockfile and not call.frozen:
        inst.unsafe.append(f"`{label}` may rewrite {found.lockfile}, and the COPY after it would put the context's "
                           "copy back (use a frozen-lockfile install to make this safe)")
    return inst


# -------------------------------------------------------------------------------------------- the rewrite


@dataclass
class NewCopy:
    writer: Writer
    dest_dir: str  # absolute image directory
    rels: list[str]  # context files


def _build(plan: Plan) -> Finding:
    a = plan.a
    r, b = plan.r, plan.b
    ins = a.instructions[r]
    st = a.state(r)
    moved = [w for w in plan.writers if w.index >= b]
    # Every file the install reads, and where it comes from.
    needed: list[str] = []
    for inst in plan.installs:
        for p in inst.inputs:
            if p in needed:
                continue
            if _provider(plan, p) is None:
                raise Refuse(f"{p} is not copied from the build context before the install"
                             + (f" ({plan.ctx.ignore_file} may exclude it)" if plan.ctx.ignore is not None else ""))
            needed.append(p)
        for p in inst.optional:
            if p not in needed and _provider(plan, p) is not None:
                needed.append(p)
    # A COPY after the first whole COPY that brings only files the install reads moves above it instead.
    up: list[Writer] = []
    for w in moved:
        if w.index == b or w.cmap is None:
            continue
        targets = [s.target for s in w.cmap.sources]
        if all(s.kind == "file" for s in w.cmap.sources) and all(t in needed for t in targets):
            up.append(w)
    down = [w for w in moved if w not in up]
    news: list[NewCopy] = []
    for p in needed:
        w, rel = _provider(plan, p)  # type: ignore[misc]
        if w.index < b or w in up:
            continue
        if plan.ctx.linked(rel):
            raise Refuse(f"{rel} is a symlink in the build context")
        if not _SAFE_NAME.match(rel):
            raise Refuse(f"the file name {rel!r} would need quoting")
        d = posixpath.dirname(p)
        for n in news:
            if n.writer is w and n.dest_dir == d:
                n.rels.append(rel)
                break
        else:
            news.append(NewCopy(w, d, [rel]))
    for w in down + up:
        if w.cmap is None and w.error:
            raise Refuse(w.error)
        _check_stable(a, w, r)
    _check_workdirs(plan, down + up)
    made = news + [NewCopy(w, posixpath.dirname(s.target), [s.rel]) for w in up for s in w.cmap.sources]  # type: ignore[union-attr]
    _check_new_dirs(plan, down, made)
    _check_collisions(plan, down, needed, st)
    _check_cds(plan, news, up)
    return _edits(plan, up, down, news, needed)


def _check_stable(a: Analysis, w: Writer, r: int) -> None:
    """The COPY means the same below the instructions it crosses: same variables, same destination."""
    ins = w.ins
    before, after = a.state(w.index), a.state(r)
    esc = a.df.escape
    words = list(ins.json_args) if ins.json_args is not None else [x.raw for x in split_words(ins.args, esc)]
    words += [f.value or "" for f in ins.flags]
    for raw in words:
        x, y = before.expand(raw, esc), after.expand(raw, esc)
        if x is None or y is None or x != y:
            raise Refuse(f"the {ins.keyword} at line {ins.line} uses `{raw}`, whose value the instructions between it "
                         "and the install change or do not give")
    ca_before, ca_after = copy_args(ins, before, esc), copy_args(ins, after, esc)
    if ca_before is None or ca_after is None or ca_before.dest != ca_after.dest or ca_before.dest is None:
        raise Refuse(f"the destination of the {ins.keyword} at line {ins.line} would change below the WORKDIR it "
                     "crosses")


def _exists_before(plan: Plan, path: str) -> bool:
    """`path` is a directory before the first whole COPY (a base directory, or made by an earlier step)."""
    if path in BASE_DIRS:
        return True
    a = plan.a
    stage = a.resolved.stage_of(plan.r)
    assert stage is not None
    for j in range(stage.first + 1, plan.b):
        ins = a.instructions[j]
        if ins.keyword == "WORKDIR":
            wd = a.after(j).workdir
            if wd is not None and is_under(wd, path):
                return True
        elif ins.keyword in ("COPY", "ADD"):
            ca = copy_args(ins, a.state(j), a.df.escape)
            if ca is not None and ca.dest is not None and (is_under(ca.dest, path) and ca.dest != path or
                                                           ca.dest == path and ca.dest_is_dir):
                return True
        elif ins.keyword == "RUN":
            rs = a.run_script(j)
            if rs is None:
                continue
            for cmd in rs.script.commands:
                if any(is_under(c.path, path) for c in created_paths(cmd, a.state(j).env, a.state(j).workdir)):
                    return True
    return False


def _owner_flags(w: Writer, a: Analysis) -> tuple[str | None, str | None]:
    st = a.state(w.index)
    out = []
    for name in ("chown", "chmod"):
        f = w.ins.flag(name)
        out.append(None if f is None else st.expand(f.value or "", a.df.escape))
    return out[0], out[1]


def _check_workdirs(plan: Plan, down: list[Writer]) -> None:
    """A WORKDIR now before a COPY must not create that COPY's destination with other owners."""
    a = plan.a
    for j in range(plan.b + 1, plan.r):
        ins = a.instructions[j]
        if ins.keyword != "WORKDIR":
            continue
        x = a.after(j).workdir
        if x is None:
            raise Refuse(f"the WORKDIR at line {ins.line} is unknown")
        for w in down:
            if w.index > j or w.dest is None:
                continue
            if not (is_under(x, w.dest) or is_under(w.dest, x)) or _exists_before(plan, w.dest):
                continue
            chown, chmod = _owner_flags(w, a)
            if chown is not None or chmod is not None or a.state(j).runs_as_root is False:
                raise Refuse(f"the WORKDIR at line {ins.line} would create {w.dest} before the {w.ins.keyword} at line "
                             f"{w.ins.line}, with another owner or mode")


def _check_new_dirs(plan: Plan, down: list[Writer], news: list[NewCopy]) -> None:
    """Directories a new COPY creates first get the owner and mode the COPY that made them would give."""
    a = plan.a
    for n in news:
        d = n.dest_dir
        while not _exists_before(plan, d) and d != "/":
            for w in down:
                if w.dest is None or not (is_under(w.dest, d)):
                    continue
                # `w` creates `d` with its own --chown/--chmod (a directory from the context gets the
                # context's metadata later, whoever created it).
                if _owner_flags(w, a) != _owner_flags(n.writer, a):
                    raise Refuse(f"the new COPY would create {d} before the {w.ins.keyword} at line {w.ins.line}, "
                                 "which gives it other --chown/--chmod flags")
                break
            d = posixpath.dirname(d)


def _homes(plan: Plan, st: State, down: list[Writer]) -> list[str]:
    home = st.env.get("HOME")
    if "HOME" in st.env:
        if home is None:
            raise Refuse("HOME is set to a value the Dockerfile does not give")
        return [home]
    if st.runs_as_root is not False:
        return ["/root"]
    # A non-root user's home is in /etc/passwd: it may be anywhere, the project directory included.
    homes = ["/root"] + [w.dest for w in down if w.dest] + [c.cwd for c in plan.cmds if c.cwd]
    for w in down:
        if w.dest and w.dest.startswith("/home/"):
            homes.append("/".join(w.dest.split("/")[:3]))
    return list(dict.fromkeys(homes))


def _check_collisions(plan: Plan, down: list[Writer], needed: list[str], st: State) -> None:
    a = plan.a
    paths: list[tuple[str, str]] = []
    for inst in plan.installs:
        paths += [(p, f"`{inst.label}` writes there") for p in inst.outputs]
    paths += [(p, "the install writes there") for p in plan.outputs]
    paths += [(p, "installers write there") for p in SYSTEM_DIRS]
    for var in DIR_VARS:
        if var in st.env:
            v = st.env[var]
            if v is None:
                raise Refuse(f"{var} is set to a value the Dockerfile does not give")
            p = join(st.workdir, v)
            if p is None:
                raise Refuse(f"{var} is relative to an unknown directory (the WORKDIR of the base image)")
            paths.append((p, f"{var} points there"))
    # Venvs made earlier in the stage (their pip writes into them) and whatever the moved commands create.
    stage = a.resolved.stage_of(plan.r)
    assert stage is not None
    for j in range(stage.first + 1, plan.b):
        srs = a.run_script(j) if a.instructions[j].keyword == "RUN" else None
        for cmd in srs.script.commands if srs is not None else []:
            if not (cmd.name.startswith("python") or posixpath.basename(cmd.name) == "virtualenv"):
                continue
            for c in created_paths(cmd, a.state(j).env, a.state(j).workdir):
                paths.append((c.path, f"the venv made at line {a.instructions[j].line} is where pip installs"))
    for cmd in plan.cmds[: plan.deps_end + 1]:
        if cmd.command.words:
            for c in created_paths(cmd.command, st.env, cmd.cwd):
                paths.append((c.path, "the install step creates it"))
        exe = cmd.words[0] if cmd.words else None
        if exe is not None and "/bin/" in exe:
            venv = posixpath.dirname(posixpath.dirname(exe))
            if venv not in ("/", "/usr", "/usr/local"):
                paths.append((venv, "the install writes into that environment"))
    for h in _homes(plan, st, down):
        paths += [(f"{h}/{n}", "installers read or write it in HOME") for n in HOME_NAMES]
    for w in down:
        for p, why in paths:
            if p in needed:
                continue
            if w.writes(p, plan.ctx):
                where = f"{w.ins.keyword} at line {w.ins.line}"
                raise Refuse(f"the {where} writes {p}, and {why}: the order of the two matters"
                             + (f" (add it to {plan.ctx.ignore_file or '.dockerignore'} if the image does not need it)"
                                if w.cmap is not None else ""))


def _check_cds(plan: Plan, news: list[NewCopy], up: list[Writer]) -> None:
    made = [n.dest_dir for n in news] + [w.dest for w in up if w.dest]
    start = plan.cmds[0].cwd
    for c in plan.cmds[: plan.deps_end + 1]:
        if c.cwd is None or c.cwd == start:
            continue
        if not any(is_under(m, c.cwd) for m in made) and not _exists_before(plan, c.cwd):
            raise Refuse(f"the install runs in {c.cwd}, which only the whole COPY creates")


def _block_start(a: Analysis, ins: Instruction) -> int:
    """Where an instruction's own comment lines above it begin (they move with it)."""
    df = a.df
    prev_end = 0
    for other in df.instructions:
        if other.line_next <= ins.line_start:
            prev_end = max(prev_end, other.line_next)
    start = ins.line_start
    lines = [ln for ln in df.lines if prev_end <= ln.start < ins.line_start]
    for ln in reversed(lines):
        content = df.text[ln.start : ln.end].strip()
        if not content.startswith("#"):
            break
        start = ln.start
    return start


def _ending(text: str, nl: str) -> str:
    return text if text.endswith("\n") else text + nl


def _apply_local(source: str, start: int, end: int, ops: list[tuple[int, int, str]]) -> str:
    out = []
    pos = start
    for s, e, t in sorted(ops):
        out.append(source[pos:s])
        out.append(t)
        pos = e
    out.append(source[pos:end])
    return "".join(out)


def _raw_ops(rs: RunScript, ops: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out = []
    for s, e, t in ops:
        if s == e:
            at = rs.raw_span(s - 1, s)[1] if s > 0 else rs.to_raw(0)
            out.append((at, at, t))
        else:
            rs_s, rs_e = rs.raw_span(s, e)
            if "\n" in rs.source[rs_s:rs_e]:
                raise Refuse("the part of the install to change spans a line continuation")
            out.append((rs_s, rs_e, t))
    return out


def _edits(plan: Plan, up: list[Writer], down: list[Writer], news: list[NewCopy], needed: list[str]) -> Finding:
    a = plan.a
    src = a.df.text
    nl = a.df.newline
    r, b = plan.r, plan.b
    ins = a.instructions[r]
    edits: list[Edit] = []
    details: list[str] = []
    pieces: list[str] = []
    # New COPYs of the files the install reads, written like the COPY that brings them.
    for n in news:
        w = n.writer
        flags = []
        for name in ("chown", "chmod", "link"):
            f = w.ins.flag(name)
            if f is not None:
                text = src[f.start : f.end]
                if "\n" in text:
                    raise Refuse(f"the --{name} flag of the {w.ins.keyword} at line {w.ins.line} spans lines")
                flags.append(text)
        if w.ins.json_args is not None:
            raise Refuse(f"the {w.ins.keyword} at line {w.ins.line} is in JSON form")
        ca = copy_args(w.ins, a.state(w.index), a.df.escape)
        assert ca is not None and ca.dest is not None
        dest = _dest_word(ca.dest_raw, ca.dest, n.dest_dir, n.rels, w)
        line = " ".join(["COPY", *flags, *n.rels, dest])
        pieces.append(line + nl)
        details.append(f"new `{line}` before the install: the files it reads, where the {w.ins.keyword} at line "
                       f"{w.ins.line} puts them" + (", with its flags" if flags else ""))
    for w in up:
        edits.append(Edit(_block_start(a, w.ins), w.ins.line_next, ""))
        pieces.append(_ending(src[_block_start(a, w.ins) : w.ins.line_next], nl))
        details.append(f"line {w.ins.line}: `{_short(w.ins)}` moved above the install (it brings only files the install "
                       "reads)")
    rs = a.run_script(r)
    split = any(i.split for i in plan.installs)
    rest = plan.deps_end + 1 < len(plan.cmds)
    if not split and not rest:
        pieces.append(_ending(src[ins.line_start : ins.line_next], nl))
        details.append(f"line {ins.line}: the RUN moved above the whole COPY")
        later = None
    else:
        if rs is None or rs.heredoc:
            raise Refuse("the RUN would need to be split, which dockerfix does only for a plain shell-form RUN")
        if not rs.script.simple or any(c.command.connector not in (None, "&&") for c in plan.cmds):
            raise Refuse("the RUN would need to be split, and its commands are not all joined by &&")
        head = src[ins.line_start : ins.raw(ins.args_offset)]
        first_cmds = plan.cmds[: plan.deps_end + 1]
        ops = [op for i in plan.installs for op in (i.first_ops or [])]
        body_start = rs.to_raw(first_cmds[0].command.start)
        body_end = rs.raw_span(first_cmds[-1].command.start, first_cmds[-1].command.end)[1]
        first_text = head + _apply_local(src, body_start, body_end, _raw_ops(rs, ops))
        pieces.append(first_text + nl)
        # The command after the whole COPY: from the first install that needs the source (or the first
        # command that is not moved), with the cd commands that lead there.
        splits = [i.cmd for i in plan.installs if i.split]
        from_k = splits[0] if splits else plan.deps_end + 1
        _check_rest_cleanup(plan, down)
        cds = [c for c in plan.cmds[:from_k] if c.words and c.words[0] == "cd"]
        prefix = "".join(src[rs.to_raw(c.command.start) : rs.raw_span(c.command.start, c.command.end)[1]] + " && "
                         for c in cds)
        later_ops = [op for i in plan.installs for op in i.later_ops]
        tail_start = rs.to_raw(plan.cmds[from_k].command.start)
        later = head + prefix + _apply_local(src, tail_start, ins.end, _raw_ops(rs, later_ops))
        details.append(f"line {ins.line}: split: `{' '.join(first_text.split())[:90]}` runs before the whole COPY")
    for w in down:
        edits.append(Edit(_block_start(a, w.ins), w.ins.line_next, ""))
        pieces.append(_ending(src[_block_start(a, w.ins) : w.ins.line_next], nl))
        details.append(f"line {w.ins.line}: `{_short(w.ins)}` moved below the install")
    if later is not None:
        pieces.append(later + src[ins.end : ins.line_next])
        details.append(f"after the whole COPY: `{' '.join(later.split())[:90]}`")
    text = "".join(pieces)
    if not src[ins.line_start : ins.line_next].endswith("\n"):
        text = text.rstrip("\r\n")
    edits.append(Edit(ins.line_start, ins.line_next, text))
    unsafe = [u for i in plan.installs for u in i.unsafe]
    details += [f"unsafe: {u}" for u in unsafe]
    crossed = [a.instructions[j] for j in range(b + 1, r) if a.instructions[j].keyword in CROSSABLE]
    if crossed:
        details.append("kept in place: " + ", ".join(f"{c.keyword} (line {c.line})" for c in crossed)
                       + "; the install still runs after them and the COPYs do not depend on them")
    files = ", ".join(dict.fromkeys(posixpath.basename(p) for p in needed))
    message = (f"`{plan.installs[0].label}` runs after `{_short(a.instructions[b])}` (line {a.instructions[b].line}), "
               f"so every source change reinstalls the dependencies; copies {files} first and installs before the "
               "whole COPY")
    return Finding(NAME, ins.line, message, Fix(edits, not unsafe), details)


def _check_rest_cleanup(plan: Plan, down: list[Writer]) -> None:
    """Cleanup after the part that stays would leave the install's files in the earlier layer."""
    for c in plan.cmds[plan.deps_end + 1 :]:
        if c.words and c.words[0] == "rm":
            for w in c.command.args:
                raw = w.raw
                if raw.startswith("/") and not any(d.dest and is_under(raw, d.dest) for d in down):
                    raise Refuse(f"the RUN removes {raw} after the commands that stay below the whole COPY; moving the "
                                 "install would keep those files in an earlier layer")


def _short(ins: Instruction) -> str:
    text = " ".join(ins.logical.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _dest_word(raw: str, dest: str, target_dir: str, rels: list[str], w: Writer) -> str:
    """The destination of a new COPY, written like the original's (`.`, `/app`, `$APP`) plus the subdirectory."""
    if w.cmap is not None and len(rels) == 1:
        for s in w.cmap.sources:
            if s.rel == rels[0] and s.kind != "dir" and s.alt is not None and posixpath.dirname(s.target) == target_dir:
                return raw  # a single file copied to a file name: keep the name
    sub = posixpath.relpath(target_dir, dest)
    base = raw.rstrip("/")
    return f"{base}/" if sub == "." else f"{base}/{sub}/"
