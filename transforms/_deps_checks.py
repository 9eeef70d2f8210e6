"""deps-first: the checks that the reordered Dockerfile gives the same image: COPYs that keep their meaning,
directories created with the same owners, no COPY writing where the install writes.
"""

from __future__ import annotations

import posixpath

from dockerfix.refactor.context import buildcontext as ctxmod
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import DIR
from dockerfix.refactor.dockerfile.facts import copy_args, created_paths
from dockerfix.refactor.dockerfile.resolve import State, is_under, join
from dockerfix.refactor.dockerfile.words import split_words
from dockerfix.transforms._deps_plan import NewCopy, Plan, Refuse, Writer


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


def check_stable(a: Analysis, w: Writer, r: int) -> None:
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
    """`path` is a directory before the first whole COPY: made by an earlier step of the stage (or of the stages it
    is built on), or a directory of the base image by the facts read from it.

    A WORKDIR alone is no proof: buildah creates its directory only when a later step needs it, so only a RUN that
    ran in it (or below it) counts. A fact that comes from defaults instead of the image is recorded in
    `plan.assumed`, which makes the fix unsafe with the assumption named; a documented default of a well-known base
    (``knownbases``) is recorded in `plan.defaults` and named in the details, the fix staying safe.
    """
    if path == "/":
        return True
    a = plan.a
    stage = a.resolved.stage_of(plan.r)
    end = plan.b
    while stage is not None:
        if _made_in(a, stage.first + 1, end, path):
            return True
        if stage.parent is None:
            break
        stage = a.resolved.stages[stage.parent]
        end = stage.last + 1
    base = a.base(plan.r)
    info = base.path(path) if base is not None else None
    if info is None or info.kind != DIR:
        return False
    if base is not None and not base.read and base.source.startswith("known base"):
        # A documented default of a well-known base (knownbases): the fix stays safe and names it, as chown-layer does.
        note = f"{base.source}: {path} exists"
        if note not in plan.defaults:
            plan.defaults.append(note)
        return True
    assumed = base.assumed() if base is not None else None
    if assumed is not None:
        note = f"{path} is taken to exist in the base image: {assumed}"
        if note not in plan.assumed:
            plan.assumed.append(note)
    return True


def _made_in(a: Analysis, first: int, end: int, path: str) -> bool:
    """A step in [first, end) makes the directory `path`: a COPY into it or below it, a RUN in it or creating it."""
    for j in range(first, end):
        ins = a.instructions[j]
        if ins.keyword in ("COPY", "ADD"):
            ca = copy_args(ins, a.state(j), a.df.escape)
            if ca is not None and ca.dest is not None and (is_under(ca.dest, path) and ca.dest != path or
                                                           ca.dest == path and ca.dest_is_dir):
                return True
        elif ins.keyword == "RUN":
            wd = a.state(j).workdir
            if wd is not None and is_under(wd, path):
                return True  # the RUN runs there, so every builder has made it by then
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


def check_workdirs(plan: Plan, down: list[Writer]) -> None:
    """A WORKDIR now before a COPY must not create that COPY's destination with other owners."""
    a = plan.a
    for j in range(plan.b + 1, plan.r):
        ins = a.instructions[j]
        if ins.keyword == "WORKDIR":
            x = a.after(j).workdir
        elif j in plan.setup_runs:
            x = a.state(j).workdir  # a RUN creates the directory it runs in, on every builder
        else:
            continue
        if x is None:
            raise Refuse(f"the {ins.keyword} at line {ins.line} is unknown" if ins.keyword == "WORKDIR" else
                         f"the RUN at line {ins.line} runs in an unknown directory")
        for w in down:
            if w.index > j or w.dest is None:
                continue
            if not (is_under(x, w.dest) or is_under(w.dest, x)) or _exists_before(plan, w.dest):
                continue
            chown, chmod = _owner_flags(w, a)
            if chown is not None or chmod is not None or a.state(j).runs_as_root is False:
                raise Refuse(f"the {ins.keyword} at line {ins.line} would create {w.dest} before the {w.ins.keyword} at line "
                             f"{w.ins.line}, with another owner or mode (a step that makes {w.dest} before that "
                             f"{w.ins.keyword}, e.g. `RUN mkdir -p {w.dest}`, makes the fix possible)")


def check_new_dirs(plan: Plan, down: list[Writer], news: list[NewCopy]) -> None:
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


def check_collisions(plan: Plan, down: list[Writer], needed: list[str], st: State) -> None:
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
    for j in plan.setup_runs:
        srs = a.run_script(j)
        for cmd in srs.script.commands if srs is not None else []:
            for c in created_paths(cmd, a.state(j).env, a.state(j).workdir):
                paths.append((c.path, f"the RUN at line {a.instructions[j].line} creates it"))
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


def check_cds(plan: Plan, news: list[NewCopy], up: list[Writer]) -> None:
    made = [n.dest_dir for n in news] + [w.dest for w in up if w.dest]
    start = plan.cmds[0].cwd
    for c in plan.cmds[: plan.deps_end + 1]:
        if c.cwd is None or c.cwd == start:
            continue
        if not any(is_under(m, c.cwd) for m in made) and not _exists_before(plan, c.cwd):
            raise Refuse(f"the install runs in {c.cwd}, which no step before the whole COPY is known to create (and "
                         "the base image's files are not known: create it with a WORKDIR and a RUN first, or let "
                         "dockerfix read the base image)")


def check_rest_cleanup(plan: Plan, down: list[Writer]) -> None:
    """Cleanup after the part that stays would leave the install's files in the earlier layer."""
    for c in plan.cmds[plan.deps_end + 1 :]:
        if c.words and c.words[0] == "rm":
            for w in c.command.args:
                raw = w.raw
                if raw.startswith("/") and not any(d.dest and is_under(raw, d.dest) for d in down):
                    raise Refuse(f"the RUN removes {raw} after the commands that stay below the whole COPY; moving the "
                                 "install would keep those files in an earlier layer")


def check_dir_input(plan: Plan, path: str, provider_writer: Writer, rel: str) -> None:
    """A folder the install reads (`--find-links ./wheels`) is copied first as a whole: no other COPY source may
    add files to it, or the install would see fewer of them."""
    for w in plan.writers:
        if w.index < plan.b:
            continue  # already there before the new COPY, as before the whole COPY
        if w.cmap is None:
            if w.writes(path, plan.ctx):
                raise Refuse(f"the {w.ins.keyword} at line {w.ins.line} also writes into {path}, which the install reads")
            continue
        for s in w.cmap.sources:
            single = ctxmod.CopyMap(w.cmap.dest, [s])
            if w is provider_writer and single.locate(path, plan.ctx) == rel:
                continue
            if single.writes(path, plan.ctx):
                raise Refuse(f"{path}, which the install reads, also gets files from {s.rel or '.'} (the "
                             f"{w.ins.keyword} at line {w.ins.line}); copying {rel} first would not bring them")
