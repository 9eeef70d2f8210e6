"""pip-cache-mount: give `pip install` steps a BuildKit cache mount for pip's download and wheel cache.

Docker behaviour this relies on:
- `RUN --mount=type=cache,target=DIR` (BuildKit, Dockerfile frontend 1.2+) mounts a directory that is kept
  between builds on the same builder and is not part of the image. With pip's cache there, a rebuilt
  install step reuses downloaded packages and built wheels instead of fetching them again.
- pip keeps its cache in `$PIP_CACHE_DIR`, else `$XDG_CACHE_HOME/pip`, else `$HOME/.cache/pip` of the user the
  step runs as: /root/.cache/pip for root. A cache mount is created owned by root unless `uid=`/`gid=` say
  otherwise, so for a non-root USER the mount gets that user's numeric ids.
- `--mount` needs BuildKit's Dockerfile syntax, so the fix is only made when the file declares it with a
  `# syntax=docker/dockerfile:1…` directive (older builders reject the flag).

Opt-in (runs only when selected by name) and unsafe: the image changes, since pip's cache no longer ends
up in it (the point), and the cache mount hides what the image had at that path during the step.

It does nothing when the RUN already has a cache mount there, and refuses (reports, no fix) when the
install says `--no-cache-dir` or PIP_NO_CACHE_DIR is set (a cache would contradict it), the file has no
BuildKit syntax directive, the step runs as a non-root USER whose numeric uid/gid or home directory the
Dockerfile does not give, or the cache directory is unknown.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from dockerfix.refactor.context import pydeps
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import accounts_created
from dockerfix.refactor.dockerfile.model import Edit, Finding, Fix
from dockerfix.refactor.dockerfile.resolve import State, join
from dockerfix.refactor.dockerfile.shell import value

NAME = "pip-cache-mount"
SUMMARY = "add a BuildKit cache mount for pip's cache to `pip install` steps (opt-in, unsafe)"
SAFE = False

_SYNTAX = re.compile(r"^(docker\.io/)?docker/dockerfile(-upstream)?:(1([.-].*)?|labs)(@sha256:[0-9a-f]+)?$")


class Refuse(Exception):
    pass


def check(a: Analysis) -> Iterator[Finding]:
    buildkit = any(d.name == "syntax" and _SYNTAX.match(d.value.strip()) for d in a.df.directives)
    for idx, ins in enumerate(a.instructions):
        if ins.keyword != "RUN" or "pip" not in ins.args:
            continue
        calls = _pip_calls(a, idx)
        if not calls:
            continue
        try:
            finding = _plan(a, idx, calls, buildkit)
        except Refuse as exc:
            finding = Finding(NAME, ins.line, f"not fixed: {exc}")
        if finding is not None:
            yield finding


def _pip_calls(a: Analysis, idx: int) -> list[tuple[pydeps.PipCall, list[str]]]:
    ins = a.instructions[idx]
    st = a.state(idx)
    commands: list[tuple[list[str | None], list[str]]] = []
    if ins.json_args is not None:
        commands.append((list(ins.json_args), []))
    else:
        rs = a.run_script(idx)
        if rs is None:
            return []
        commands = [([value(w, st.env) for w in c.words], c.assignments) for c in rs.script.commands]
    out = []
    for words, assignments in commands:
        if not words or any(w is None for w in words):
            continue
        call = pydeps.pip_call([w for w in words if w is not None])
        if call is not None and not call.uv:
            out.append((call, assignments))
    return out


def _plan(a: Analysis, idx: int, calls: list[tuple[pydeps.PipCall, list[str]]], buildkit: bool) -> Finding | None:
    ins = a.instructions[idx]
    st = a.state(idx)
    for f in ins.flags:
        if f.name == "mount" and f.value and "type=cache" in f.value:
            return None  # a cache mount is already there: leave the step as it is
    if any(c.no_cache or "--cache-dir" in c.options and c.options["--cache-dir"][-1] in ("", "off") for c, _ in calls):
        raise Refuse("the install says --no-cache-dir; a cache mount would contradict it")
    if "PIP_NO_CACHE_DIR" in st.env or any(x.startswith("PIP_NO_CACHE_DIR=") for _, asg in calls for x in asg):
        raise Refuse("PIP_NO_CACHE_DIR is set; a cache mount would contradict it")
    if not buildkit:
        raise Refuse("the file does not declare `# syntax=docker/dockerfile:1` on its first line, which --mount needs")
    if a.windows(idx):
        raise Refuse("a Windows image")
    target = _cache_dir(st, calls)
    ids = "" if st.runs_as_root is not False else _ids(a, idx, st.user or "")
    mount = f"--mount=type=cache,target={target}{ids}"
    at = ins.raw(ins.args_offset)
    message = (f"`pip install` downloads and builds every package again whenever this step reruns; a BuildKit cache "
               f"mount at {target} keeps pip's cache between builds, outside the image")
    details = [f"line {ins.line}: RUN gets {mount}",
               "unsafe: pip's cache no longer ends up in the image, and the mount hides that path during the step"]
    return Finding(NAME, ins.line, message, Fix([Edit(at, at, mount + " ")], safe=False), details)


def _cache_dir(st: State, calls: list[tuple[pydeps.PipCall, list[str]]]) -> str:
    dirs = {c.options["--cache-dir"][-1] for c, _ in calls if "--cache-dir" in c.options}
    if len(dirs) > 1:
        raise Refuse("the pip commands use different --cache-dir values")
    if dirs:
        d = join(st.workdir, dirs.pop())
        if d is None:
            raise Refuse("--cache-dir is relative to an unknown WORKDIR")
        return d
    for var, suffix in (("PIP_CACHE_DIR", ""), ("XDG_CACHE_HOME", "/pip")):
        if var in st.env:
            v = st.env[var]
            if v is None or not v.startswith("/"):
                raise Refuse(f"{var} is set to a value the Dockerfile does not give")
            return posixpath.normpath(v) + suffix
    if "HOME" in st.env:
        home = st.env["HOME"]
        if home is None or not home.startswith("/"):
            raise Refuse("HOME is set to a value the Dockerfile does not give")
        return posixpath.normpath(home) + "/.cache/pip"
    if st.runs_as_root is not False:
        return "/root/.cache/pip"
    raise Refuse(f"the step runs as USER {st.user}, whose home directory the Dockerfile does not give (set ENV "
                 "PIP_CACHE_DIR or HOME)")


def _ids(a: Analysis, idx: int, user: str) -> str:
    """`,uid=N,gid=N` for a non-root USER, from numeric ids or the useradd/adduser that made the account."""
    name, _, group = user.partition(":")
    accounts = []
    stage = a.resolved.stage_of(idx)
    while stage is not None:
        for j in range(stage.first + 1, min(stage.last, idx - 1) + 1):
            if a.instructions[j].keyword != "RUN":
                continue
            rs = a.run_script(j)
            for cmd in rs.script.commands if rs is not None else []:
                accounts.extend(accounts_created(cmd, a.state(j).env))
        stage = a.resolved.stages[stage.parent] if stage.parent is not None else None
    uid = name if name.isdigit() else next((x.uid for x in accounts if x.kind == "user" and x.name == name), None)
    if group:
        gid = group if group.isdigit() else next((x.gid for x in accounts if x.kind == "group" and x.name == group), None)
    else:
        gid = next((x.gid for x in accounts if x.kind == "user" and x.name == name), None)
    if uid is None or gid is None:
        raise Refuse(f"the step runs as USER {user}, whose numeric uid and gid the Dockerfile does not give (the "
                     "cache mount would be owned by root)")
    return f",uid={uid},gid={gid}"
