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
- A COPY with several sources copies them in order: each path comes from the last source that sends it, and a
  directory source sends only what the context holds below it (`COPY requirements.txt src ./` takes
  requirements.txt from the first source unless src/ has one too).
- `.dockerignore` decides what COPY can see (moby/patternmatcher rules; see refactor/context/buildcontext.py).
- buildah creates a WORKDIR's directory only when a later step needs it, so only a step that ran in a
  directory (or created it) proves that it exists; a base image's directories are known only from the facts
  read from it.

What the fix does, for a RUN whose commands include a dependency install (pip/pip3/`python -m pip`/
`uv pip` with `-r`/`-c` files or a local project, poetry, uv sync, pipenv, pdm, npm ci/install, yarn,
pnpm) that runs after a COPY/ADD from the context in the same stage that brings more than the install reads
(a directory, a wildcard); a COPY that brings only what it reads (`COPY package*.json ./`) already keeps it
cached, and the file is left alone:
1. The install and the instructions between are reordered: ENV/ARG/LABEL/EXPOSE/WORKDIR/USER/SHELL and
   the other settings stay where they are, so the install still sees the same environment; the COPYs
   between the first directory COPY and the install move below the install (they must give the same
   destination and flags at the new place), a COPY that brings only files the install reads moves
   above it instead.
2. Before the install, a new `COPY` brings just the files it reads (requirements files and every file
   they include with -r/-c, pyproject.toml + poetry.lock/uv.lock/pdm.lock, Pipfile + Pipfile.lock,
   package.json + the lockfile, .npmrc/.yarnrc/.yarnrc.yml/poetry.toml when present, and the files and
   folders that options and variables name: `--find-links`/`-f`, `--cert`, `--client-cert`, a `file:`
   index, PIP_FIND_LINKS, PIP_CERT, SSL_CERT_FILE and the like), at the paths the whole COPY would give
   them, with its --chown/--chmod/--link; a folder is copied as a whole.
3. An install that reads only those files moves as it is (pip -r, npm ci, yarn/pnpm --frozen-lockfile,
   pipenv, an install that already has --no-root/--no-install-project/--no-self). An install that also
   builds the project is split: a deps-only command first (`poetry install --no-root`,
   `uv sync --no-install-project`, `pdm install --no-self`, `pip install -r FILE` with the pip options
   of the original when setup.py/setup.cfg/pyproject.toml take the dependencies from FILE), and the
   original command after the whole COPY (pip gets `--no-deps`). Other commands of the RUN go with the
   part they belong to: setup commands that read no project file (`pip install poetry`, `apt-get`,
   `poetry config`, `useradd`, `chmod`/`mkdir`/`rm` of paths no moved COPY writes, `cd`) go first; what
   follows the install stays after the whole COPY. A RUN between the whole COPY and the install made only
   of such setup commands stays where it is, before the new COPYs.
4. The project is where `poetry -C/--directory/--project`, `uv --directory/--project` or `pdm -p/--project`
   says; setup.py is read for the common idioms that take install_requires from one requirements file
   (`f.read().splitlines()`, `[r.strip() for r in f.readlines()]`, `Path(…).read_text()`, comment and blank
   lines filtered out, `line.split('#')[0]`), and the result must be what pip reads from that file.

It refuses (reports, no fix) when: an instruction between the COPY and the install is a VOLUME or a RUN
with a command that may read or change the copied files (or with a bind mount); a RUN kept in place would
create a COPY's destination first, or creates an account that a moved `COPY --chown=NAME` would see; a COPY would change meaning at its new place (it uses a variable or a
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
exec or heredoc form and needs splitting, cannot be parsed, or runs an unknown command before the install;
a command inside a pipeline, subshell, `{ }` group, if, for, while or case is not a setup command that
reads no project file (the RUN is not taken apart there); a folder the install reads also gets files from
another COPY source, or an option or variable naming an input has a value the Dockerfile does not give
(an ARG default, or an ENV set from one, over a base image whose ENV is not known counts as not given: the
base's ENV of that name would win, and it does not take such an assumption); a directory the install runs
in is not proven to exist before the whole COPY.

The fix is marked unsafe when the image can differ in a detail: `pip install .` split in two marks the
dependencies as requested by the user (a REQUESTED file in their .dist-info, which `pip install .` does
not write), and an install that may rewrite its lockfile (npm install, yarn/pnpm without a frozen
lockfile, pipenv install without --deploy, uv sync without --frozen/--locked) would have its rewrite
replaced by the context's copy; and when it relies on a base-image directory known only from defaults,
not read from the image (the assumption is named). The analysis assumes ARG defaults are not overridden by
--build-arg, the base image's default user is root, and the files in the context are what the install reads.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from dockerfix.refactor.context import buildcontext as ctxmod
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.model import Finding
from dockerfix.transforms._deps_checks import (
    check_cds, check_collisions, check_dir_input, check_new_dirs, check_stable, check_workdirs,
)
from dockerfix.transforms._deps_edits import make_edits
from dockerfix.transforms._deps_install import analyse_installs
from dockerfix.transforms._deps_plan import (
    CROSSABLE, Cmd, INPUT_VARS, NewCopy, NotBusting, Plan, Refuse, Writer, has_bind_mount, make_writer, provider,
)
from dockerfix.transforms._deps_run import check_nested, check_setup_runs, is_busting, run_commands


NAME = "deps-first"
SUMMARY = "copy the dependency manifests and install before `COPY . .`, so source edits keep the install cached"
SAFE = True
_TOOLS = re.compile(r"\b(pip[0-9.]*|python[0-9.]*|uv|poetry|pipenv|pdm|npm|yarn|pnpm)\b")
_SAFE_NAME = re.compile(r"^[\w@%+=:,./-]+$")


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
    busting = [j for j in range(stage.first + 1, r) if is_busting(a, j)]
    if not busting:
        return None
    b = busting[0]
    try:
        cmds = run_commands(a, r)
        if cmds is None:
            return None  # no dependency install in this RUN
        for b in busting:
            try:
                return _plan(a, r, b, cmds)
            except NotBusting:
                continue  # `COPY package*.json ./`: the next COPY may be the whole one
        return None
    except Refuse as exc:
        return Finding(NAME, ins.line, f"not fixed: {exc}", None,
                       [f"line {ins.line}: the dependency install runs after the COPY at line "
                        f"{a.instructions[b].line}, so every source change reinstalls the dependencies"])


def _plan(a: Analysis, r: int, b: int, cmds: list[Cmd]) -> Finding | None:
    ins = a.instructions[r]
    if a.context is None:
        raise Refuse("there is no build context to read the dependency files from (the Dockerfile came from stdin; "
                     "pass --context)")
    setup_runs: list[int] = []
    for j in range(b + 1, r):
        other = a.instructions[j]
        if other.keyword in ("COPY", "ADD") or other.keyword in CROSSABLE:
            continue
        if other.keyword == "RUN":
            setup_runs.append(j)  # kept in place when it reads none of the copied files (check_setup_runs)
            continue
        raise Refuse(f"the {other.keyword} at line {other.line} runs between the COPY at line "
                     f"{a.instructions[b].line} and the install" + (" and may use the copied files"
                                                                    if other.keyword == "RUN" else ""))
    if has_bind_mount(ins):
        raise Refuse("the RUN has a bind mount, which may read the build context")
    st = a.state(r)
    for var in INPUT_VARS:
        if var in st.env:
            raise Refuse(f"{var} is set, so the install reads a file dockerfix does not follow")
    ctx = ctxmod.load(a.context, a.path)
    stage = a.resolved.stage_of(r)
    assert stage is not None
    writers = [make_writer(a, j, ctx) for j in range(stage.first + 1, r)
               if a.instructions[j].keyword in ("COPY", "ADD")]
    plan = Plan(a, r, b, cmds, ctx, writers)
    check_nested(plan)
    check_setup_runs(plan, setup_runs)
    analyse_installs(plan)
    if not plan.installs:
        return None
    return _build(plan)


def _build(plan: Plan) -> Finding:
    a = plan.a
    r, b = plan.r, plan.b
    st = a.state(r)
    moved = [w for w in plan.writers if w.index >= b]
    # Every file the install reads, and where it comes from.
    needed: list[str] = []
    for inst in plan.installs:
        for p in inst.inputs:
            if p in needed:
                continue
            if provider(plan, p) is None:
                raise Refuse(f"{p} is not copied from the build context before the install"
                             + (f" ({plan.ctx.ignore_file} may exclude it)" if plan.ctx.ignore is not None else ""))
            needed.append(p)
        for p in inst.optional:
            if p not in needed and provider(plan, p) is not None:
                needed.append(p)
    if _brings_only(plan, b, needed):
        raise NotBusting
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
        w, rel = provider(plan, p)  # type: ignore[misc]
        if w.index < b or w in up:
            continue
        if plan.ctx.linked(rel):
            raise Refuse(f"{rel} is a symlink in the build context")
        if not _SAFE_NAME.match(rel):
            raise Refuse(f"the file name {rel!r} would need quoting")
        if plan.ctx.kind(rel) == "dir":
            check_dir_input(plan, p, w, rel)
            news.append(NewCopy(w, p, [rel], is_dir=True))
            continue
        d = posixpath.dirname(p)
        for n in news:
            if n.writer is w and n.dest_dir == d and not n.is_dir:
                n.rels.append(rel)
                break
        else:
            news.append(NewCopy(w, d, [rel]))
    for w in down + up:
        if w.cmap is None and w.error:
            raise Refuse(w.error)
        check_stable(a, w, r)
    check_workdirs(plan, down + up)
    made = news + [NewCopy(w, posixpath.dirname(s.target), [s.rel]) for w in up for s in w.cmap.sources]  # type: ignore[union-attr]
    check_new_dirs(plan, down, made)
    check_collisions(plan, down, needed, st)
    check_cds(plan, news, up)
    return make_edits(NAME, plan, up, down, news, needed)


def _brings_only(plan: Plan, b: int, needed: list[str]) -> bool:
    """The COPY at `b` brings only what the install reads (`COPY package*.json ./`, `COPY wheels ./wheels/`
    for `--find-links ./wheels`), so it busts no cache the install does not need."""
    w = next(w for w in plan.writers if w.index == b)
    return w.cmap is not None and all(s.target in needed or (s.kind != "dir" and s.alt in needed)
                                      for s in w.cmap.sources)
