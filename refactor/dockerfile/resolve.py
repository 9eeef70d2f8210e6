"""Resolve what each instruction sees: its stage, ARG/ENV values, WORKDIR, USER, SHELL, VOLUMEs.

Values follow the builder: ARGs before the first FROM are only visible to FROM lines and to a stage
that re-declares them; ENV values are expanded with the environment before the instruction; a
relative WORKDIR is joined to the previous one. What the Dockerfile cannot tell (variables and
WORKDIR/USER inherited from an external base image, ARGs without a default) is None: unknown.
ARG defaults are taken as the values, i.e. the analysis assumes `--build-arg` does not override them;
transforms say so in their explanation. ARGs are scoped to their stage: a child stage (`FROM parent`) inherits only
ENV values. An ARG whose name the base image's ENV may set is unknown (the image's ENV wins over the ARG), unless
the base image's ENV names are known (``base_env``) and do not include it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Optional

from dockerfix.refactor.dockerfile.parse import Dockerfile, Instruction
from dockerfix.refactor.dockerfile.words import Unknown, expand, split_words


UNKNOWN = "\x00unknown"  # a USER whose value the Dockerfile does not give


@dataclass
class State:
    stage: int
    env: dict[str, str | None]
    workdir: str | None  # None: unknown (inherited from an external base image)
    user: str | None  # None: the base image's default user (root for nearly all bases)
    shell: list[str] | None  # None: the default /bin/sh -c
    volumes: tuple[str, ...] = ()
    env_set: frozenset[str] = frozenset()  # names set by ENV: an ARG of the same name does not override them
    base_env_known: bool = False  # the external base image's ENV names are known (read, or documented defaults)

    def expand(self, raw: str, escape: str = "\\") -> str | None:
        try:
            return expand(raw, self.env, escape)
        except Unknown:
            return None

    def path(self, raw: str, escape: str = "\\") -> str | None:
        """Resolve a path argument against WORKDIR; None when any part is unknown."""
        value = self.expand(raw, escape)
        if value is None:
            return None
        return join(self.workdir, value)

    @property
    def runs_as_root(self) -> bool | None:
        """True/False when USER says; None when inherited from the base image or unknown."""
        if self.user is None or self.user == UNKNOWN:
            return None
        name = self.user.split(":", 1)[0]
        return name in ("root", "0")

    @property
    def root_or_base_default(self) -> bool:
        """Root, or no USER in the Dockerfile (the base image's default: root for nearly all bases)."""
        return self.user is None or self.runs_as_root is True


@dataclass
class Stage:
    index: int
    name: str | None
    base: str | None
    parent: int | None  # index of the stage this one is built FROM, if any
    first: int  # index of the FROM instruction
    last: int  # index of its last instruction


@dataclass
class Resolved:
    df: Dockerfile
    stages: list[Stage]
    states: list[State]  # the state before each instruction
    global_args: dict[str, str | None] = field(default_factory=dict)

    def stage_of(self, index: int) -> Stage | None:
        st = self.states[index].stage
        return self.stages[st] if st >= 0 else None


def join(base: str | None, path: str) -> str | None:
    if path.startswith("/"):
        return normalize(path)
    if base is None:
        return None
    return normalize(posixpath.join(base, path))


def normalize(path: str) -> str:
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def is_under(path: str, root: str) -> bool:
    return path == root or root == "/" or path.startswith(root.rstrip("/") + "/")


BaseEnv = Callable[[str], Optional[Mapping[str, Optional[str]]]]


def resolve(df: Dockerfile, base_env: BaseEnv | None = None) -> Resolved:
    """``base_env(ref)`` gives the ENV of an external base image (values None where unknown), or None when unknown."""
    esc = df.escape
    stages: list[Stage] = []
    states: list[State] = []
    global_args: dict[str, str | None] = {}
    ends: list[State] = []
    cur = State(stage=-1, env={}, workdir=None, user=None, shell=None)
    for idx, ins in enumerate(df.instructions):
        kw = ins.keyword
        if kw == "FROM":
            if stages:
                stages[-1].last = idx - 1
                ends.append(cur)
            cur = _from(ins, idx, stages, ends, global_args, esc, base_env)
            states.append(cur)
            continue
        states.append(cur)
        if cur.stage < 0:
            if kw == "ARG":
                for name, value in _arg_pairs(ins, cur, esc):
                    global_args[name] = value
            continue
        cur = step(ins, cur, global_args, esc)
    if stages:
        stages[-1].last = len(df.instructions) - 1
    return Resolved(df, stages, states, global_args)


def _from(
    ins: Instruction, idx: int, stages: list[Stage], ends: list[State], global_args: dict[str, str | None], esc: str,
    base_env: BaseEnv | None = None,
) -> State:
    words = [w.raw for w in split_words(ins.args, esc)]
    base = None
    if words:
        try:
            base = expand(words[0], global_args, esc)
        except Unknown:
            base = None
    name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
    parent = None
    if base is not None:
        for st in stages:
            if st.name is not None and st.name == base.lower():
                parent = st.index
    stages.append(Stage(len(stages), name, base, parent, idx, idx))
    if parent is not None:
        end = ends[parent]
        # Only ENV is part of the image; ARG values stay in their stage.
        env = {k: v for k, v in end.env.items() if k in end.env_set}
        return replace(end, stage=len(stages) - 1, env=env)
    known = base_env(base) if base_env is not None and base is not None else None
    if base is not None and base.lower() == "scratch":
        known = {}
    if known is None:
        return State(stage=len(stages) - 1, env={}, workdir=None, user=None, shell=None)
    return State(stage=len(stages) - 1, env=dict(known), workdir=None, user=None, shell=None,
                 env_set=frozenset(known), base_env_known=True)


def _arg_pairs(ins: Instruction, cur: State, esc: str) -> list[tuple[str, str | None]]:
    pairs = []
    for w in split_words(ins.args, esc):
        name, eq, raw = w.raw.partition("=")
        pairs.append((name, cur.expand(raw, esc) if eq else None))
    return pairs


def step(ins: Instruction, cur: State, global_args: dict[str, str | None], esc: str) -> State:
    """The state after `ins` has run."""
    kw = ins.keyword
    if kw == "ARG":
        env = dict(cur.env)
        for name, value in _arg_pairs(ins, cur, esc):
            if value is None and name in global_args:
                value = global_args[name]
            if name not in cur.env_set:
                # The base image's ENV may set the name, and it wins over the ARG: unknown unless its names are known.
                env[name] = value if cur.base_env_known else None
        return replace(cur, env=env)
    if kw == "ENV":
        env = dict(cur.env)
        names = set(cur.env_set)
        for name, value in env_pairs(ins, esc):
            env[name] = cur.expand(value, esc)
            names.add(name)
        return replace(cur, env=env, env_set=frozenset(names))
    if kw == "WORKDIR":
        value = cur.expand(ins.args.strip(), esc)
        return replace(cur, workdir=None if value is None else join(cur.workdir, value))
    if kw == "USER":
        user = cur.expand(ins.args.strip(), esc)
        return replace(cur, user=UNKNOWN if user is None else user)
    if kw == "SHELL":
        return replace(cur, shell=ins.json_args)
    if kw == "VOLUME":
        vols = ins.json_args if ins.json_args is not None else [w.raw for w in split_words(ins.args, esc)]
        resolved = tuple(p for p in (cur.path(v, esc) if not v.startswith("[") else None for v in vols) if p)
        return replace(cur, volumes=cur.volumes + resolved)
    return cur


def env_pairs(ins: Instruction, esc: str) -> list[tuple[str, str]]:
    """ENV/LABEL pairs as raw (unexpanded) values; the legacy `ENV key value` form too."""
    words = split_words(ins.args, esc)
    if not words:
        return []
    if "=" not in words[0].raw:
        rest = ins.args[words[0].end :].strip()
        return [(words[0].raw, rest)]
    return [(w.raw.partition("=")[0], w.raw.partition("=")[2]) for w in words]
