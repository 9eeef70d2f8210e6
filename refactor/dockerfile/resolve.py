"""Resolve what each instruction sees: its stage, ARG/ENV values, WORKDIR, USER, SHELL, VOLUMEs.

Values follow the builder: ARGs before the first FROM are only visible to FROM lines and to a stage
that re-declares them; ENV values are expanded with the environment before the instruction; a
relative WORKDIR is joined to the previous one. What the Dockerfile cannot tell (variables and
WORKDIR/USER inherited from an external base image, ARGs without a default) is None: unknown.
ARG defaults are taken as the values, i.e. the analysis assumes `--build-arg` does not override them;
transforms say so in their explanation. ARGs are scoped to their stage: a child stage (`FROM parent`) inherits only
ENV values. An ARG whose name the base image's ENV may set is unknown (the image's ENV wins over the ARG), unless
the base image's ENV names are known (``base_env``) and do not include it.

Such a value the Dockerfile gives, which only an unknown base image's ENV could replace, is kept apart as an
``Assumed`` value: ``State.env`` still says unknown (None), so every caller that reads ``env``/``expand`` keeps
refusing, and only a caller that can name the assumption ("the base image 'x' does not set ENV P") in an unsafe
fix asks ``State.expand_assuming`` or ``assuming``. A value derived from one (``ENV P=$P``, ``ARG B=$A/x``) carries
its assumptions along.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Optional

from dockerfix.refactor.dockerfile.parse import Dockerfile, Instruction
from dockerfix.refactor.dockerfile.words import Noting, Unknown, expand, split_words


UNKNOWN = "\x00unknown"  # a USER whose value the Dockerfile does not give
FROM_BASE = ("its value comes from the base image's ENV, which is not known here (read it with --base-image or "
             "--local-bases)")


@dataclass(frozen=True)
class Assumed:
    """A value together with the assumptions it rests on (none: certain)."""

    value: str
    assumptions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Why:
    """Why a value is unknown, as words to follow the word that has it; ``base`` names the variable of the base
    image's ENV the value comes from, when that is the reason."""

    text: str
    base: str | None = None

    def __str__(self) -> str:
        return self.text


def assuming(
    read: Callable[[Mapping[str, str | None]], str | None], env: Mapping[str, str | None],
    assumed: Mapping[str, Assumed], base_env_known: bool, from_base: Mapping[str, str],
) -> Assumed | Why:
    """``read`` (an expansion) over ``env`` with the assumed values filled in: the value and the assumptions of the
    names it read, or why it stays unknown. ``from_base``: names set from a variable only the base's ENV gives."""
    noted = Noting({**env, **{k: v.value for k, v in assumed.items() if k in env and env[k] is None}})
    got = read(noted)
    if got is None:
        # The expansion stops at the first unknown name: the last one it looked up.
        last = noted.read[-1] if noted.read else None
        if last is not None and last not in env and not base_env_known:
            return Why(f"uses ${last}: {FROM_BASE}", last)
        if last is not None and env.get(last) is None and last in from_base:
            return Why(f"uses ${last}, which is set from ${from_base[last]}: {FROM_BASE}", from_base[last])
        return Why("has a value the Dockerfile does not give")
    used = {n for n in noted.read if n in assumed and n in env and env[n] is None}
    return Assumed(got, frozenset(x for n in used for x in assumed[n].assumptions))


def _expand_or_none(raw: str, env: Mapping[str, str | None], escape: str) -> str | None:
    try:
        return expand(raw, env, escape)
    except Unknown:
        return None


@dataclass
class State:
    stage: int
    env: dict[str, str | None]
    workdir: str | None  # None: unknown (inherited from an external base image)
    user: str | None  # None: the base image's default user (root for nearly all bases)
    shell: list[str] | None  # None: the default /bin/sh -c
    volumes: tuple[str, ...] = ()  # resolved, assumed values included (a volume more only makes fixes refuse)
    unknown_volumes: tuple[str, ...] = ()  # VOLUME words whose path is unknown: a transform must not guess them away
    env_set: frozenset[str] = frozenset()  # names set by ENV: an ARG of the same name does not override them
    base_env_known: bool = False  # the external base image's ENV names are known (read, or documented defaults)
    # Values the Dockerfile gives to names whose ``env`` entry is None only because an unknown base image's ENV
    # could replace them (see the module docstring); never a name with a known value.
    assumed: dict[str, Assumed] = field(default_factory=dict)
    image: str | None = None  # the external base image the stage builds on (through parent stages), as FROM names it
    from_base: dict[str, str] = field(default_factory=dict)  # unknown names set from a variable only the base gives

    def expand(self, raw: str, escape: str = "\\") -> str | None:
        return _expand_or_none(raw, self.env, escape)

    def expand_assuming(self, raw: str, escape: str = "\\") -> Assumed | Why:
        """The value with the assumptions it rests on, or why it is unknown (see ``assuming``)."""
        return assuming(lambda env: _expand_or_none(raw, env, escape), self.env, self.assumed, self.base_env_known,
                        self.from_base)

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
        assumed = {k: v for k, v in end.assumed.items() if k in end.env_set}
        from_base = {k: v for k, v in end.from_base.items() if k in end.env_set}
        return replace(end, stage=len(stages) - 1, env=env, assumed=assumed, from_base=from_base)
    known = base_env(base) if base_env is not None and base is not None else None
    if base is not None and base.lower() == "scratch":
        known = {}
    if known is None:
        return State(stage=len(stages) - 1, env={}, workdir=None, user=None, shell=None, image=base)
    return State(stage=len(stages) - 1, env=dict(known), workdir=None, user=None, shell=None,
                 env_set=frozenset(known), base_env_known=True, image=base)


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
        env, assumed, from_base = dict(cur.env), dict(cur.assumed), dict(cur.from_base)
        for w in split_words(ins.args, esc):
            name, eq, raw = w.raw.partition("=")
            if name in cur.env_set:
                continue  # an ENV of this stage (or the base's) wins over the ARG
            got: Assumed | Why = cur.expand_assuming(raw, esc) if eq else Why("no default")
            if not eq and global_args.get(name) is not None:
                got = Assumed(global_args[name])  # type: ignore[arg-type]
            if isinstance(got, Assumed) and not cur.base_env_known:
                if cur.image is None:
                    got = Why("the base image is not known")
                else:
                    # The base image's ENV may set the name, and it wins over the ARG: assumed it does not.
                    why = f"the base image {cur.image!r} does not set ENV {name}"
                    got = Assumed(got.value, got.assumptions | {why})
            _set(env, assumed, from_base, name, got)
        return replace(cur, env=env, assumed=assumed, from_base=from_base)
    if kw == "ENV":
        env, assumed, from_base = dict(cur.env), dict(cur.assumed), dict(cur.from_base)
        names = set(cur.env_set)
        for name, value in env_pairs(ins, esc):
            _set(env, assumed, from_base, name, cur.expand_assuming(value, esc))
            names.add(name)
        return replace(cur, env=env, env_set=frozenset(names), assumed=assumed, from_base=from_base)
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
        known: list[str] = []
        unknown: list[str] = []
        for v in vols:
            got = cur.expand_assuming(v, esc) if not v.startswith("[") else None
            p = join(cur.workdir, got.value) if isinstance(got, Assumed) else None
            if p is None:
                unknown.append(v)
            else:
                known.append(p)
        return replace(cur, volumes=cur.volumes + tuple(known), unknown_volumes=cur.unknown_volumes + tuple(unknown))
    return cur


def _set(env: dict[str, str | None], assumed: dict[str, Assumed], from_base: dict[str, str], name: str,
         got: Assumed | Why) -> None:
    """Record a name's new value: certain in ``env``, assumed in ``assumed`` (``env`` None), or unknown (and
    whether from a variable only the base image gives)."""
    env[name] = got.value if isinstance(got, Assumed) and not got.assumptions else None
    assumed.pop(name, None)
    from_base.pop(name, None)
    if isinstance(got, Assumed) and got.assumptions:
        assumed[name] = got
    elif isinstance(got, Why) and got.base is not None:
        from_base[name] = got.base


def env_pairs(ins: Instruction, esc: str) -> list[tuple[str, str]]:
    """ENV/LABEL pairs as raw (unexpanded) values; the legacy `ENV key value` form too."""
    words = split_words(ins.args, esc)
    if not words:
        return []
    if "=" not in words[0].raw:
        rest = ins.args[words[0].end :].strip()
        return [(words[0].raw, rest)]
    return [(w.raw.partition("=")[0], w.raw.partition("=")[2]) for w in words]
