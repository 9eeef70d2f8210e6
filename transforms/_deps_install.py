"""deps-first: what each install reads and writes, per tool (pip, poetry, uv, pipenv, pdm, npm, yarn, pnpm), and how
it is split when it also builds the project.
"""

from __future__ import annotations

import posixpath
import re

from dockerfix.refactor.context import nodedeps
from dockerfix.refactor.context import pydeps
from dockerfix.refactor.dockerfile.resolve import State, is_under, join
from dockerfix.transforms._deps_inputs import UV_PATH_OPTS, env_paths, option_paths, pip_option_paths
from dockerfix.transforms._deps_plan import (
    Cmd, Install, Plan, Refuse, UNKNOWN_CWD, cmd_label, earlier_commands, join_or_refuse, project_reader,
    read_path, unsupported,
)
from dockerfix.transforms._deps_run import (
    TOOL_VALUE_OPTS, is_deps_install, is_neutral, options, pip_outputs, project_dir,
)


def analyse_installs(plan: Plan) -> None:
    """Find the installs, and the prefix of the RUN that can run before the whole COPY (`deps_end`)."""
    st = plan.a.state(plan.r)
    allowed = True  # every command so far reads no project file
    last_install = -1
    for k, c in enumerate(plan.cmds):
        words = c.words
        name = posixpath.basename(words[0]) if words and words[0] is not None else ""
        if is_deps_install([w if w is not None else "" for w in words]):
            if not allowed:
                raise Refuse(f"`{cmd_label(plan, c)}` runs after `{cmd_label(plan, plan.cmds[k - 1])}`, which may "
                             "need the source")
            if any(w is None for w in words):
                raise Refuse(f"`{cmd_label(plan, c)}` uses a variable or wildcard whose value is unknown")
            # The same install already ran before the whole COPY (`COPY pyproject.toml uv.lock ./` + `uv sync`):
            # this one is the half that needs the source, or runs again on purpose.
            inst = None if _ran_before(plan, c) else _install(plan, k, c, [w for w in words if w is not None], st)
            if inst is None:  # nothing to install first, or already split earlier: this one needs the source
                allowed = False
                continue
            inst.optional += [p for p in env_paths(st, c.cwd) if p not in inst.optional]
            plan.installs.append(inst)
            last_install = k
            continue
        if allowed and (name == "cd" or is_neutral(plan, c)):
            continue
        allowed = False
    if not plan.installs:
        return
    # The part that runs first ends with the last install and the setup-like commands right after it (cleanup).
    end = last_install
    for k in range(last_install + 1, len(plan.cmds)):
        c = plan.cmds[k]
        name = posixpath.basename(c.words[0]) if c.words and c.words[0] is not None else ""
        if name == "cd" or not is_neutral(plan, c):
            break
        end = k
    plan.deps_end = end


def _ran_before(plan: Plan, c: Cmd) -> bool:
    return any(words == c.words and cwd == c.cwd for words, cwd in earlier_commands(plan))


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
    package = unsupported(lambda: is_package(pyproject), label)
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
               and None not in words and project_dir(words, cwd) == project  # type: ignore[arg-type]
               for words, cwd in earlier_commands(plan))


def _pip_already_split(plan: Plan, files: list[str]) -> bool:
    """An earlier RUN of the stage already installs from these requirement files, without a project: this
    install is the half that needs the source (`pip install -r r.txt`, `COPY . .`, `pip install -r r.txt .`)."""
    for words, cwd in earlier_commands(plan):
        call = pydeps.pip_call([w for w in words if w is not None]) if None not in words else None
        if call is not None and not call.projects and set(files) <= {join(cwd, p) or p for _, p in call.requirements}:
            return True
    return False


def _install(plan: Plan, k: int, c: Cmd, words: list[str], st: State) -> Install | None:
    cwd = c.cwd
    label = cmd_label(plan, c)
    pip = pydeps.pip_call(words)
    if pip is not None:
        return _pip(plan, k, c, pip, label, st)
    node = nodedeps.node_call(words)
    if node is not None:
        return _node(plan, k, c, node, label, st)
    tool = posixpath.basename(words[0])
    opts, flags = options(words[1:], TOOL_VALUE_OPTS)
    project = project_dir(words, cwd)
    if project is None:
        raise Refuse(UNKNOWN_CWD)
    read = project_reader(plan, project)
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
        inst.optional += option_paths(opts, UV_PATH_OPTS, cwd, label)
        if not inst.first_ops and not ({"--frozen", "--locked"} & flags):
            inst.unsafe.append(f"`{label}` without --frozen/--locked may rewrite uv.lock, and the COPY after it "
                               "would put the context's copy back")
    elif tool == "pipenv":
        pipfile = read("Pipfile")
        if pipfile is None:
            raise Refuse(f"{label}: cannot read Pipfile from the build context")
        unsupported(lambda: pydeps.check_pipfile(pipfile), label)
        inst.inputs = [f"{project}/Pipfile"]
        inst.optional = [f"{project}/Pipfile.lock"]
        inst.outputs = [f"{project}/.venv"]
        sync = "sync" in words[1:3]
        if read("Pipfile.lock") is not None and not sync and not ({"--deploy", "--ignore-pipfile"} & flags):
            inst.unsafe.append(f"`{label}` without --deploy may lock again and rewrite Pipfile.lock, and the COPY "
                               "after it would put the context's copy back")
    else:  # pdm, the last of the tools is_deps_install accepts
        if not _locked_project(plan, c, inst, read, flags, project, lock="pdm.lock", flag="--no-self",
                               is_package=pydeps.pdm_is_package, optional=["pdm.toml", ".pdm-python"],
                               outputs=[".venv", "__pypackages__", ".pdm-python"]):
            return None
    return inst


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
    inst = Install(k, label, "pip", outputs=pip_outputs(pip, cwd))
    for v in pip.options.get("--config-file", []):  # uv pip: a uv.toml it reads
        inst.optional.append(join_or_refuse(cwd, v, f"{label}: --config-file {v}"))
    inst.optional += pip_option_paths(pip, cwd, label)  # find-links folders, CA files, `file:` indexes
    read = lambda path: read_path(plan, path)  # noqa: E731
    req_paths: list[str] = []
    for _, path in pip.requirements:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
            continue
        full = join(cwd, path)
        if full is None:
            raise Refuse(UNKNOWN_CWD)
        req_paths.append(full)
        inst.inputs.extend(p for p in unsupported(lambda: pydeps.requirement_files(full, read, st.env, pip.uv), label)
                           if p not in inst.inputs)
    if len(pip.projects) > 1:
        raise Refuse(f"{label}: it installs several local projects")
    if pip.projects:
        first, last, path, extras = pip.projects[0]
        deps = pydeps.ProjectDeps([], [])
        project = join(cwd, path)
        if not pip.no_deps:
            if project is None:
                raise Refuse(UNKNOWN_CWD)
            deps = unsupported(lambda: pydeps.project_deps(project_reader(plan, project), extras), label)
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


def _drop_word(c: Cmd, first: int, last: int) -> list[tuple[int, int, str]]:
    words = c.command.words
    start = words[first - 1].end if first > 0 else words[first].start
    return [(start, words[last].end, "")]


def _node(plan: Plan, k: int, c: Cmd, call: nodedeps.NodeCall, label: str, st: State) -> Install:
    cwd = c.cwd
    project = join(cwd, call.project) if call.project else cwd
    if project is None:
        raise Refuse(UNKNOWN_CWD)
    if {"--workspace", "-w", "--filter", "-F"} & set(call.options) or {"-r", "--recursive", "--workspaces"} & call.flags:
        raise Refuse(f"{label}: it installs workspace packages, which need their sources")
    if "--lockfile-dir" in call.options:
        raise Refuse(f"{label}: pnpm reads the lockfile from --lockfile-dir {call.options['--lockfile-dir']}, "
                     "outside the project")
    d = project
    while d != "/":
        d = posixpath.dirname(d)
        base = d.rstrip("/")
        manifest, workspace = read_path(plan, f"{base}/package.json"), read_path(plan, f"{base}/pnpm-workspace.yaml")
        if nodedeps.declares_workspace(manifest, workspace):
            raise Refuse(f"{label}: {d} holds a workspace, which {call.tool} takes the project in {project} to belong to")
    read = project_reader(plan, project)
    found = unsupported(lambda: nodedeps.inputs(call, read, st.env), label)
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
            inst.optional.append(join_or_refuse(cwd, call.options[opt], f"{label}: {opt} {call.options[opt]}"))
    if found.lockfile and not call.frozen:
        inst.unsafe.append(f"`{label}` may rewrite {found.lockfile}, and the COPY after it would put the context's "
                           "copy back (use a frozen-lockfile install to make this safe)")
    return inst
