"""The recursive chown/chgrp/chmod commands chown-layer reads: their options, owner and mode words, and paths.

GNU and busybox getopt permute (options may follow the owner) except after `--`; an option that changes what is
walked (`-L`, `-H`) or is not known refuses the step, because the kept `find` would not walk the same tree.
"""

from __future__ import annotations

from collections.abc import Callable

from dockerfix.refactor.dockerfile.analysis import RunScript
from dockerfix.refactor.dockerfile.resolve import Why, join
from dockerfix.refactor.dockerfile.shell import Command, SWord, value
from dockerfix.transforms._chown.edits import OCTAL, quote
from dockerfix.transforms._chown.model import Op, Refuse
from dockerfix.transforms._chown.symbolic import refusal

_OK_OPTS = set("RvcfhP")
_OK_LONG = {"--recursive", "--verbose", "--changes", "--silent", "--quiet", "--no-dereference", "--preserve-root",
            "--no-preserve-root"}


def recursive_flag(raw: str) -> bool:
    return raw == "--recursive" or (raw.startswith("-") and not raw.startswith("--") and "R" in raw)


def parse_op(cmd: Command, name: str, rs: RunScript, cwd: str | None,
             no_cwd: Callable[[], str] = lambda: "") -> Op | None:
    """The operation ``cmd`` performs, or None when it is not recursive; ``no_cwd`` says why the working directory
    is not known, for a relative path."""
    env = rs.env
    # GNU and busybox getopt permute: options may follow the owner (`chown app:app -R /srv`), except after `--`.
    # For chmod, a word like `-w` is a mode, so only the words before the mode are options.
    rest: list[SWord] = []
    recursive = False
    ended = False
    for w in cmd.args:
        raw = w.raw
        if ended or not raw.startswith("-") or raw == "-" or (name == "chmod" and rest):
            rest.append(w)
            continue
        if raw == "--":
            ended = True
            continue
        if name == "chmod" and not recursive_flag(raw) and raw[1:2] in "rwxXst":
            rest.append(w)  # `chmod -x`: a mode, not an option
            continue
        if raw.startswith("--"):
            if raw == "--recursive":
                recursive = True
            elif raw not in _OK_LONG:
                if not recursive and not any(recursive_flag(x.raw) for x in cmd.args):
                    return None
                raise Refuse(f"`{name}` option {raw} is not handled")
        else:
            letters = set(raw[1:])
            if "R" in letters:
                recursive = True
            if not letters <= _OK_OPTS:
                if not any(recursive_flag(x.raw) for x in cmd.args):
                    return None
                raise Refuse(f"`{name}` option {raw} is not handled (-L/-H follow symlinks)")
    if not recursive:
        return None
    if len(rest) < 2:
        raise Refuse(f"`{name} -R` has no path")
    spec, words = rest[0], rest[1:]
    op = Op(cmd, name)
    if name == "chmod":
        mode = value(spec, env)
        if mode is None:
            raise Refuse(f"chmod mode {spec.raw!r} has a value the Dockerfile does not give")
        if not OCTAL.match(mode) and refusal(mode):
            raise Refuse(refusal(mode) or "")
        op.mode = mode
    else:
        _owner(op, spec, rs)
    for w in words:
        v = _value(op, w, rs, "the path")
        p = join(cwd, v)
        if p is None:
            raise Refuse(f"the path {w.raw!r} is relative and "
                         f"{no_cwd() or 'its working directory is one the analysis cannot follow'}")
        if p == "/":
            raise Refuse("the target is the whole filesystem (/)")
        op.paths.append((w, p))
    return op


def _value(op: Op, w: SWord, rs: RunScript, what: str) -> str:
    """The word's value; one that rests on an unknown base image's ENV not setting a name is named as assumed."""
    got = rs.value_assuming(w)
    if isinstance(got, Why):
        raise Refuse(f"{what} {w.raw!r} {got}")
    op.assumptions.extend(x for x in sorted(got.assumptions) if x not in op.assumptions)
    return got.value


def _owner(op: Op, spec: SWord, rs: RunScript) -> None:
    owner = _value(op, spec, rs, "the owner")
    if op.kind == "chgrp":
        if not owner:
            raise Refuse(f"`chgrp -R {spec.raw}` names no group")
        op.group, op.group_raw = owner, _requote(spec.raw, owner)
        return
    if ":" not in owner and "." in owner and not owner.replace(".", "").isdigit():
        # GNU chown reads `a.b` as user.group only when no user is named `a.b`: ambiguous statically.
        raise Refuse(f"`{spec.raw}` may be a user name with a dot or the old user.group form")
    sep = ":" if ":" in owner else "." if "." in owner else ":"
    user, has_sep, group = owner.partition(sep)
    if has_sep and not group and user:
        raise Refuse(f"`{spec.raw}` (owner with the login group) needs the passwd file to know the group")
    if not user and not group:
        raise Refuse(f"`chown -R {spec.raw}` changes no owner")
    raw = spec.raw
    if len(raw) >= 2 and raw[0] == raw[-1] == '"' and '"' not in raw[1:-1] and "\\" not in raw:
        # `"app:app"`, `"${U}:${G}"`: split inside the quotes and quote each part.
        raw_user, _, raw_group = _split_raw(raw[1:-1], sep)
        raw_user, raw_group = (f'"{raw_user}"' if raw_user else ""), (f'"{raw_group}"' if raw_group else "")
    elif any(ch in raw for ch in "'\"\\"):
        raw_user, raw_group = quote(user) if user else "", quote(group) if group else ""
    else:
        raw_user, _, raw_group = _split_raw(raw, sep)
    op.user, op.group = user or None, group or None
    op.user_raw, op.group_raw = raw_user or None, raw_group or None


def _requote(raw: str, val: str) -> str:
    return raw if not any(ch in raw for ch in "'\"\\") else quote(val)


def _split_raw(raw: str, sep: str) -> tuple[str, str, str]:
    depth = 0
    for i, ch in enumerate(raw):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == sep and depth == 0:
            return raw[:i], sep, raw[i + 1 :]
    return raw, "", ""
