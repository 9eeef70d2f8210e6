"""deps-first: the plan's data (the RUN's commands, the installs, the COPYs of the stage) and where each file the
install reads comes from.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from dockerfix.refactor.context import buildcontext as ctxmod
from dockerfix.refactor.context import pydeps
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import copy_args
from dockerfix.refactor.dockerfile.parse import Instruction
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import Command, value


# Instructions that change only settings or metadata: a COPY does not depend on them except through
# variables in its own arguments and WORKDIR, both checked.
CROSSABLE = frozenset("ENV ARG LABEL EXPOSE WORKDIR USER SHELL STOPSIGNAL HEALTHCHECK CMD ENTRYPOINT MAINTAINER "
                      "ONBUILD".split())
# Files and variables that point pip/npm at other inputs; refused when set (they may name copied files).
INPUT_VARS = ("PIP_CONFIG_FILE", "PIP_CONSTRAINT", "PIP_REQUIREMENT", "PIPENV_PIPFILE", "NPM_CONFIG_USERCONFIG",
              "npm_config_userconfig", "UV_CONSTRAINT", "UV_OVERRIDE", "UV_CONFIG_FILE", "POETRY_PYPROJECT")


class Refuse(Exception):
    pass


class NotBusting(Exception):
    """The COPY taken for the whole COPY brings only files the install reads: it keeps the install cached already."""


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
    assumed: list[str] = field(default_factory=list)  # facts the fix relies on that were not read (unsafe)
    defaults: list[str] = field(default_factory=list)  # documented defaults of a well-known base it relies on
    setup_runs: list[int] = field(default_factory=list)  # RUNs between the whole COPY and the install, kept in place


@dataclass
class NewCopy:
    writer: Writer
    dest_dir: str  # absolute image directory
    rels: list[str]  # context files, or one context directory copied into dest_dir
    is_dir: bool = False


def has_bind_mount(ins: Instruction) -> bool:
    """`RUN --mount=type=bind` (the default type) may read the build context."""
    for f in ins.flags:
        if f.name == "mount" and f.value is not None:
            opts = dict(p.partition("=")[::2] for p in f.value.split(","))
            if opts.get("type", "bind") == "bind":
                return True
    return False


def make_writer(a: Analysis, j: int, ctx: ctxmod.Context) -> Writer:
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


def provider(plan: Plan, path: str) -> tuple[Writer, str] | None:
    """The COPY that last writes `path` before the install, and the context file it takes it from."""
    for w in reversed(plan.writers):
        if w.cmap is not None:
            rel = w.cmap.locate(path, plan.ctx)
            if rel is not None:
                return w, rel
            continue
        if w.writes(path, plan.ctx):
            if w.error:
                raise Refuse(w.error)
            raise Refuse(f"{path} comes from the {w.ins.keyword} at line {w.ins.line}, not from the build context")
    return None


def read_path(plan: Plan, path: str) -> str | None:
    found = provider(plan, path)
    if found is None:
        return None
    w, rel = found
    if plan.ctx.linked(rel):
        raise Refuse(f"{rel} is a symlink in the build context")
    return plan.ctx.read(rel)


def cmd_label(plan: Plan, c: Cmd) -> str:
    if not c.command.words:
        return " ".join(w or "?" for w in c.words)
    rs = plan.a.run_script(plan.r)
    text = rs.script.text[c.command.start : c.command.end] if rs else ""
    text = " ".join(text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def earlier_commands(plan: Plan) -> Iterator[tuple[list[str | None], str | None]]:
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


UNKNOWN_CWD = ("the working directory of the install is unknown (WORKDIR from the base image, or a cd to an unknown "
                "path)")


def unsupported(fn, label: str):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except pydeps.Unsupported as exc:
        raise Refuse(f"{label}: {exc}") from None


def project_reader(plan: Plan, project: str) -> pydeps.Reader:
    return lambda rel: read_path(plan, posixpath.normpath(posixpath.join(project, rel)))


def join_or_refuse(cwd: str | None, path: str, what: str) -> str:
    full = join(cwd, path)
    if full is None:
        raise Refuse(f"{what} is relative to an unknown directory")
    return full
