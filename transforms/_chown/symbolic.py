"""POSIX symbolic chmod modes (`g=u`, `ugo=rwX`, `+x`, `u+r-w`): their result per file, and a `find` predicate that
selects exactly the files a mode would change.

Measured (tests/test_chmod_symbolic.py runs GNU coreutils 9.1 and busybox 1.35 chmod on every permission mode, file
and directory; tests/test_chmod_build.py measures the umask of a RUN step, 022 on buildah and BuildKit):
- Clauses apply left to right, and the actions of a clause (`u+r-w`) in order, each to the mode the previous left.
- `X` adds x when the file is a directory or has an x bit at that point; `g=u` copies u's bits as they are then.
- GNU evaluates the X and copy of an `=` action before clearing the who's bits, busybox after: `a=rwX` on a 0755
  file gives 0777 (GNU) or 0666 (busybox). A mode whose results differ on any file between the two is refused.
- Without a who, the bits in the umask are not changed (both), and GNU fails the step when that keeps a bit the
  mode would clear (`-w` on a 0666 file: exit 1, "new permissions are r--rw-rw-, not r--r--r--"). A mode whose
  result depends on the umask 022 is refused.
- s and t are refused: root's chown clears setuid/setgid, and buildah drops them on COPY.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import product

_CLAUSE = re.compile(r"^([ugoa]*)((?:[-+=](?:[ugo]|[rwxX]*))+)$")
_ACTION = re.compile(r"([-+=])([ugo]|[rwxX]*)")
_CLASS = {"u": 0o700, "g": 0o070, "o": 0o007}
_PERM = {"r": 0o444, "w": 0o222, "x": 0o111}
UMASK = 0o022
Action = tuple[int, bool, str, str]  # (who bits, who given, op, perms or copy source)


def parse(spec: str) -> list[Action] | None:
    """The actions of a symbolic mode, in order; None for anything else (octal, s/t, a malformed word)."""
    out: list[Action] = []
    for clause in spec.split(","):
        m = _CLAUSE.match(clause)
        if m is None:
            return None
        who = m.group(1).replace("a", "ugo")
        bits = sum(_CLASS[c] for c in set(who))
        out.extend((bits or 0o777, bool(who), op, perms) for op, perms in _ACTION.findall(m.group(2)))
    return out


def apply(mode: int, is_dir: bool, actions: list[Action], gnu: bool = True, umask: int = UMASK) -> int:
    """The permission bits (0o777) after the actions: GNU's order for `=` (X and copies see the mode before the
    clear), or busybox's (after)."""
    mode &= 0o777
    for who, given, op, perms in actions:
        if op == "=" and not gnu:
            mode &= ~who & 0o777
        value = _value(mode, is_dir, perms)
        value &= who if given else ~umask & 0o777
        if op == "=":
            mode = (mode & ~who & 0o777) | value
        elif op == "+":
            mode |= value
        else:
            mode &= ~value
    return mode


def _value(mode: int, is_dir: bool, perms: str) -> int:
    if perms in _CLASS:
        src = (mode & _CLASS[perms]) >> {"u": 6, "g": 3, "o": 0}[perms]
        return src * 0o111
    value = sum(_PERM[c] for c in set(perms) - {"X"})
    if "X" in perms and (is_dir or mode & 0o111):
        value |= 0o111
    return value


@lru_cache(maxsize=64)  # pure: the same word always gives the same answer (1024 modes are tried)
def refusal(spec: str) -> str | None:
    """Why a symbolic mode is not handled, or None: every file gets the same mode from GNU and busybox chmod, and
    the umask does not change it."""
    actions = parse(spec)
    if actions is None:
        return f"chmod mode {spec!r} is not octal or a symbolic mode of r, w, x, X or a copied class (s/t not handled)"
    for mode, is_dir in product(range(0o1000), (False, True)):
        gnu = apply(mode, is_dir, actions)
        if gnu != apply(mode, is_dir, actions, gnu=False):
            return (f"chmod mode {spec!r} gives a {'directory' if is_dir else 'file'} of mode {mode:03o} a different "
                    "mode with GNU and busybox chmod (an `=` with X or a copied class: GNU reads the mode before "
                    "clearing, busybox after)")
        if gnu != apply(mode, is_dir, actions, umask=0):
            return (f"chmod mode {spec!r} names no who, and the umask 022 changes its result (GNU chmod then fails "
                    "the step)")
    return None


def dir_free(spec: str) -> bool:
    """Whether a directory gets the same mode as a file of the same mode (no X takes effect)."""
    actions = parse(spec) or []
    return all(apply(m, False, actions) == apply(m, True, actions) for m in range(0o1000))


@lru_cache(maxsize=64)
def predicate(spec: str) -> str:
    """`find` tests (after `! -type l`) true exactly for the files and directories the mode would change."""
    actions = parse(spec) or []
    parts = {d: _cover([m for m in range(0o1000) if apply(m, d, actions) != m]) for d in (False, True)}
    if parts[False] == parts[True]:
        return parts[False]
    out = []
    for is_dir, test in ((True, "-type d"), (False, "! -type d")):
        if parts[is_dir] == "":
            out.append(test)
        elif parts[is_dir] != "-false":
            out.append(f"{test} {parts[is_dir]}")
    return "\\( " + " -o ".join(out) + " \\)" if len(out) > 1 else (out[0] if out else "-false")


def _cover(changed: list[int]) -> str:
    """A short test for "the mode is in ``changed``": a cover by cubes (bits that must be set, bits that must be
    clear) of the set or of its complement, negated."""
    if not changed:
        return "-false"
    if len(changed) == 0o1000:
        return ""
    kept = sorted(set(range(0o1000)) - set(changed))
    pos, neg = _cubes(changed), _cubes(kept)
    if len(neg) == 1:
        return "! " + _term(neg[0], group=True)
    terms = [_term(c, group=len(pos) > 1) for c in pos]
    return terms[0] if len(terms) == 1 else "\\( " + " -o ".join(terms) + " \\)"


def _term(cube: tuple[int, int], group: bool) -> str:
    ones, zeros = cube
    words = ([f"-perm -{ones:03o}"] if ones else []) + [f"! -perm -{b:03o}" for b in _bits(zeros)]
    return "\\( " + " ".join(words) + " \\)" if group and len(words) > 1 else " ".join(words)


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(8, -1, -1) if mask & (1 << i)]


def _cubes(minterms: list[int]) -> list[tuple[int, int]]:
    """Prime cubes (care mask, value) merged Quine-McCluskey style, then a greedy cover; as (ones, zeros) masks."""
    full = 0o777
    level = {(full, m) for m in minterms}
    primes: set[tuple[int, int]] = set()
    while level:
        merged: set[tuple[int, int]] = set()
        used: set[tuple[int, int]] = set()
        for care, val in level:
            for bit in _bits(care):
                other = (care, val ^ bit)
                if other in level:
                    merged.add((care & ~bit, val & ~bit))
                    used.update({(care, val), other})
        primes |= level - used
        level = merged
    left = set(minterms)
    chosen: list[tuple[int, int]] = []
    while left:
        best = max(sorted(primes), key=lambda c: sum(1 for m in left if (m & c[0]) == c[1]))
        chosen.append(best)
        left = {m for m in left if (m & best[0]) != best[1]}
    return [(val, care & ~val) for care, val in chosen]
