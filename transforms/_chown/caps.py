"""File capabilities: a `chown`/`chgrp` by root clears a file's `security.capability` attribute.

The kernel drops the attribute on every ownership change (as it drops setuid/setgid), even when the owner stays
the same; `chown -R` calls chown on every file. The kept `find` only changes files whose owner is wrong or that
carry setuid/setgid bits, so a file under the target that an earlier `setcap` gave capabilities, and whose owner is
already right after the fix, would keep them where the original lost them. A `setcap` under the target refuses the
fix. Capabilities from the base image or from package installs are assumed absent under the target (documented in
the transform's docstring): images store them as `SCHILY.xattr.security.capability`, which the verify comparison
reads.
"""

from __future__ import annotations

import posixpath

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import walk
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import value
from dockerfix.transforms._chown.model import Refuse
from dockerfix.transforms._chown.paths import chain


def check(a: Analysis, idx: int, targets: list[str]) -> None:
    """Refuse when a RUN before the chown (this stage and the stages it builds on) may setcap a file under a target."""
    for j in list(chain(a, idx)) + [idx]:
        if a.instructions[j].keyword != "RUN":
            continue
        rs = a.run_script(j)
        if rs is None:
            continue  # an unread RUN already blocks every move before it (readers)
        for cmd, cwd in walk(rs.script, rs.env, a.state(j).workdir):
            if posixpath.basename(cmd.name) != "setcap":
                continue
            words = [w for w in cmd.args if not w.raw.startswith("-")]
            files = [join(cwd, v) if (v := value(w, rs.env)) is not None else None for w in words[1:]]
            for f in files or [None]:
                if f is None or any(is_under(f, t) for t in targets):
                    where = f if f is not None else "a path the analysis cannot resolve"
                    raise Refuse(f"the RUN at line {a.instructions[j].line} gives {where} file capabilities "
                                 "(`setcap`), which `chown -R` clears on every file and the kept `find` would not")
