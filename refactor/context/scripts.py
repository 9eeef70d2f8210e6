"""Scripts from the build context that a RUN step runs (`bash x.sh`, `sh x.sh`, `./x.sh`, `. ./x.sh`): what they create.

The script is never run. It is found through the COPY/ADD that put it at that image path (read from the build
context, with no later step of the stage that may change it), parsed with the same shell analysis as RUN bodies,
and walked command by command, tracking `cd`, `pushd` and `popd`. Its created paths count as the RUN's only when
every command has a known effect, failures stop it (`set -e`, or `&&` throughout) and nothing it runs later
removes them; otherwise nothing is proven and `notes` says why, for the finding. A pipeline counts only as
`curl … | tar -x -C DIR`: tar last, the commands before it only streaming (facts.stream), read as its tar.

This lives with the build context because it reads context files; the commands' effects come from
`dockerfix.refactor.dockerfile.facts`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dockerfix.refactor.context import buildcontext
from dockerfix.refactor.dockerfile import toolsteps, toolwrites
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import Created, copy_args, created_paths, tar_pipes
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import Command, analyse, shebang_ok, value

_SHELLS = ("sh", "bash", "dash", "ash")
# Commands whose only effects are output, shell state this walk tracks, or writes that cannot remove a
# path (git writes inside the repository it runs in, and `git config --global` into $HOME).
_INERT = {"echo", "printf", "true", ":", "test", "[", "pwd", "dirs", "ls", "cat", "grep", "id", "whoami", "date",
          "uname", "which", "sleep", "chmod", "chown", "chgrp"}
_GIT_INERT = {"remote", "config", "status", "log", "rev-parse", "describe", "show", "fetch", "tag", "branch",
              "checkout", "switch", "submodule", "lfs", "gc", "version", "--version"}
_CREATORS = {"mkdir", "git", "ln", "cp", "touch", "install", "tar", "unzip", "curl", "wget"}
_SET_OPTS = set("euxvo")
_SPECIAL = re.compile(r"\$[@*#?$!-]|\$\{[@*#?$!-]")  # special parameters: the word expansion here does not know them
# Between the COPY and the RUN, a step may run these without changing the script's content.
_BENIGN_BETWEEN = {"chmod", "chown", "chgrp", "echo", "ls", "true", ":", "mkdir", "id", "pwd"}


@dataclass
class Walk:
    created: list[Created] = field(default_factory=list)
    why_not: str | None = None  # set when nothing is proven
    end_cwd: str | None = None  # the directory the script ends in
    text: str | None = None  # the script, once read
    rel: str | None = None  # its path in the build context
    events: list[tuple[str, str]] = field(default_factory=list)  # (kind, path) in order, for chown-layer's path model
    steps: list[tuple[Command, dict[str, str | None], str | None, tuple[str, ...]]] = field(default_factory=list)
    # each command with its variables, directory and the paths plain `mkdir` made fresh before it in the script


Holds = Callable[[Created], bool]


def run_created(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None,
                holds: Holds | None = None) -> list[Created]:
    """What `cmd` (a command of the RUN at index j, run in `cwd`) creates: `created_paths`, the directories `mkdir -p`
    makes below a known one, a venv it uses through activate or PATH (toolsteps), and a context script's paths.
    Whether each exists when the step ends is for the caller to check (chown-layer's path events). A path with
    `requires` counts only when `holds` proves them."""
    if a.instructions[j].keyword != "RUN" or a.run_script(j) is None:
        return created_paths(cmd, env, cwd)
    out = _with_new_parents(a, j, cmd, created_paths(cmd, env, cwd))
    out += [c for c in _tool_created(a, j, cmd, env, cwd) if not c.requires or (holds is not None and holds(c))]
    walk = script_walk(a, j, cmd, env, cwd)
    # The script's own words mean nothing in the RUN: the paths are written out (raw None).
    out += [] if walk is None or walk.why_not else [Created(c.path, None, cmd) for c in walk.created]
    return out


def step_events(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None,
                holds: Holds | None = None) -> list[tuple[str, str]]:
    """(kind, path) path events a package tool or a context script run by `cmd` proves, for chown-layer's path
    model. A tool's environment: `mkdirp`. A script's: `mkdir`,
    `mkdirp`, `made` (a clone or venv), `link`, and `unknown` for other paths it writes. Empty when `cmd` runs no
    script, or the script proves nothing (then, like any unread command, it changes only the paths it names)."""
    # A package tool's environment exists once the tool has run: a directory, or a link to one (like `mkdir -p`).
    tools = [("mkdirp", c.path) for c in _tool_created(a, j, cmd, env, cwd)
             if not c.requires or (holds is not None and holds(c))]
    walk = script_walk(a, j, cmd, env, cwd)
    return tools + ([] if walk is None or walk.why_not else list(walk.events))


def _tool_created(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> list[Created]:
    """Where a package tool writes, from its own words (toolwrites) or a venv it uses (toolsteps)."""
    out: list[Created] = []
    for v, raw in toolwrites.created(cmd, env, cwd) or []:
        p = join(cwd, v)
        if p is None:
            return []
        out.append(Created(p, raw if v.startswith("/") else None, cmd))
    base = a.base(j)
    project = toolwrites.uv_project_venv(cmd, env, cwd)
    if project is not None and base is not None and base.read and base.env is not None:  # its ENV may set UV_…
        venv, ancestors = project
        need = tuple(("dir", p) for p in ancestors) + tuple(("missing", posixpath.join(p, "pyproject.toml"))
                                                            for p in ancestors)
        out.append(Created(venv, None, cmd, (("dir", cwd or "/"), *need)))
    return out + toolsteps.created(a, j, cmd, env, cwd)


def script_reads(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None,
                 targets: list[str], reads: Callable[..., str | None]) -> tuple[bool, str | None]:
    """For chown-layer's readers: (True, why) when `cmd` runs a context script this module read, `why` being why one
    of its commands may see the owners under `targets` (`reads(cmd, env, cwd, targets)`, or None when none can);
    (False, None) when `cmd` runs no script that was read. A command working only inside directories that a plain
    `mkdir` of the same script made cannot see owners moved into earlier steps: those directories did not exist."""
    if toolsteps.activates_known_venv(a, j, cmd, env, cwd):
        return True, None
    walk = script_walk(a, j, cmd, env, cwd)
    if walk is None or walk.why_not:
        return False, None
    for c, cenv, ccwd, fresh in walk.steps:
        inside = ccwd is not None and any(is_under(ccwd, f) for f in fresh)
        named = [join(ccwd, v) if (v := value(w, cenv)) is not None else None for w in c.args
                 if not w.raw.startswith("-")]
        if inside and all(p is not None and any(is_under(p, f) for f in fresh) for p in named):
            continue
        why = reads(c, cenv, ccwd, targets)
        if why:
            return True, f"{walk_rel(walk)}: {why}"
    return True, None


def walk_rel(walk: Walk) -> str:
    return walk.rel or "the script"


def _with_new_parents(a: Analysis, j: int, cmd: Command, made: list[Created]) -> list[Created]:
    """`mkdir -p A/B/C` where A is known to exist (an earlier step of the stage wrote it or below it) and A/B is
    not: A/B exists after the step, so it is what the step creates (whether or not the base image had it)."""
    if posixpath.basename(cmd.name) != "mkdir" or not any(w.raw in ("-p", "--parents") or
                                                          (w.raw.startswith("-") and not w.raw.startswith("--")
                                                           and "p" in w.raw) for w in cmd.args):
        return made
    known = _existing_before(a, j)
    out: list[Created] = []
    for c in made:
        top = c.path
        parent = posixpath.dirname(top)
        while parent != "/" and not any(is_under(k, parent) for k in known):
            top, parent = parent, posixpath.dirname(parent)
        if (parent != "/" and top != c.path and not any(is_under(k, top) for k in known)
                and all(o.path != top for o in out)):
            out.append(Created(top, None, c.command))
        out.append(c)
    return out


def _existing_before(a: Analysis, j: int) -> list[str]:
    """Paths that earlier steps of the stage wrote (so they and their parents exist), as far as facts tell."""
    key = ("scripts:existing", j)
    if key not in a.memo:
        stage = a.resolved.stage_of(j)
        found: list[str] = []
        for k in range(stage.first + 1 if stage else 0, j):
            ins = a.instructions[k]
            if ins.keyword in ("COPY", "ADD"):
                ca = copy_args(ins, a.state(k), a.df.escape)
                if ca is not None and ca.dest is not None:
                    found.append(ca.dest if ca.dest_is_dir else posixpath.dirname(ca.dest))
            elif ins.keyword == "WORKDIR" and a.after(k).workdir:
                found.append(a.after(k).workdir)  # type: ignore[arg-type]
        a.memo[key] = found
    return a.memo[key]  # type: ignore[return-value]


def notes(a: Analysis, j: int, targets: list[str]) -> list[str]:
    """For a finding about `targets`: why scripts and tools the RUN at index j runs, which may write there, did not
    prove what they create (a script that names a target, a tool run in a directory under one)."""
    rs = a.run_script(j) if a.instructions[j].keyword == "RUN" else None
    if rs is None:
        return []
    out: list[str] = []
    line = a.instructions[j].line
    cwd = a.state(j).workdir
    for cmd in rs.script.top:
        if posixpath.basename(cmd.name) == "cd":
            v = value(cmd.args[0], rs.env) if cmd.args else None
            cwd = join(cwd, v) if v is not None else None
            continue
        inside = cwd is not None and any(is_under(cwd, t) for t in targets)
        walk = script_walk(a, j, cmd, rs.env, cwd)
        if walk is not None and walk.why_not and (inside or walk.text is None or "$" in walk.text
                                                  or any(t in walk.text for t in targets)):
            out.append(f"line {line}: what `{_shown(cmd)}` creates is not counted: {walk.why_not}")
        why = toolwrites.unproven(cmd, rs.env)
        if why and inside and not toolsteps.created(a, j, cmd, rs.env, cwd):
            out.append(f"line {line}: what `{_shown(cmd)}` writes is not counted: {why}")
    return out


def _shown(cmd: Command) -> str:
    text = " ".join(w.raw for w in cmd.words)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Invocation:
    path: str  # absolute image path of the script
    shown: str
    args: list[str | None]
    sourced: bool  # `.`/`source`: runs in the RUN's own shell
    errexit: bool  # `bash -e x.sh`
    via_shebang: bool  # `./x.sh`: the kernel reads the #! line


def script_walk(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> Walk | None:
    """The walk of the context script `cmd` runs; None when `cmd` does not run a script file."""
    key = ("scripts:walk", j, cmd.start)
    if key not in a.memo:
        a.memo[key] = _script_walk(a, j, cmd, env, cwd)
    return a.memo[key]  # type: ignore[return-value]


def _script_walk(a: Analysis, j: int, cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> Walk | None:
    inv = _invocation(cmd, env, cwd)
    if inv is None:
        return None
    if isinstance(inv, str):
        return Walk(why_not=inv)
    rel, why = _context_file(a, j, inv.path)
    if rel is None:
        return Walk(why_not=why)
    ctx = _ctx(a)
    text = ctx.read(rel) if ctx is not None else None
    if text is None:
        return Walk(why_not=f"{rel} cannot be read from the build context as UTF-8 text")
    if "\r" in text:
        return Walk(why_not=f"{rel} has CR line ends, which the shell reads as part of each word")
    if inv.via_shebang and not shebang_ok(text):
        return Walk(why_not=f"{rel} starts with a #! line that is not a POSIX shell")
    if inv.via_shebang and text.startswith("#!") and "-e" in text.split("\n", 1)[0].split()[1:]:
        inv.errexit = True
    # The script sees the step's exported variables (ENV, ARG): its own assignments and the RUN's are unknown.
    script = analyse(text)
    if not script.ok:
        return Walk(why_not=f"{rel} has shell syntax this analysis cannot read", text=text)
    senv: dict[str, str | None] = {k: v for k, v in env.items()}
    senv.update({name: None for name in script.assigned})
    for i, arg in enumerate(inv.args, start=1):
        senv[str(i)] = arg
    if inv.sourced:
        # It runs in the step's own shell: what it leaves behind (directory, variables, options, an exit) would
        # change the commands after it, so only a script that leaves none of that is read.
        if script.assigned or any(posixpath.basename(c.name) in ("exit", "return", "set", "export", "unset", "alias",
                                                                  "trap", "exec", "shopt") for c in script.commands):
            return Walk(why_not=f"{rel} is sourced and sets variables, options or exits, which the step's later "
                                "commands would see", text=text)
    walk = walk_script(script, senv, cwd, inv.errexit, rel)
    walk.text, walk.rel = text, rel
    if inv.sourced and not walk.why_not and walk.end_cwd != cwd:
        return Walk(why_not=f"{rel} is sourced and leaves the step in another directory")
    return walk


def walk_script(script, env: Mapping[str, str | None], cwd: str | None, errexit: bool, rel: str) -> Walk:  # type: ignore[no-untyped-def]
    """Walk a parsed script: the paths it creates that still exist at its end, or why nothing is proven."""
    # `curl … | tar -x -C DIR`: the pipeline stands for its tar, the streaming commands before it write nothing.
    piped = tar_pipes(script)
    plain = all(it.kind == "command" or it.start in piped for it in script.items) and all(
        it.connector in (None, "&&", ";") for it in script.items)
    if not (script.simple or (piped and plain and script.ok)):
        return Walk(why_not=f"{rel} uses more than plain commands (variable assignments, if, loops, functions, pipes, ||, subshells)")
    inner = {c.start for it in script.items if it.start in piped for c in piped[it.start]}
    if any(not c.top and c.start not in inner for c in script.commands):
        return Walk(why_not=f"{rel} runs commands inside command substitutions, whose effects are not followed")
    special = next((c for c in script.commands if _SPECIAL.search(" ".join(w.raw for w in c.words))), None)
    if special is not None:
        return Walk(why_not=f"{rel} uses shell parameters such as $@ or $$ (`{_shown(special)}`)")
    and_chain = all(it.connector in (None, "&&") for it in script.items)
    made: list[Created] = []
    events: list[tuple[str, str]] = []
    stack: list[str | None] = []
    streams = {cmds[-1].start: cmds[:-1] for cmds in piped.values()}
    top = sorted(script.top + [cmds[-1] for cmds in piped.values()], key=lambda c: c.start)
    steps: list[tuple[Command, dict[str, str | None], str | None, tuple[str, ...]]] = []
    for n, c in enumerate(top):
        name = posixpath.basename(c.name)
        if c.assignments and not c.words:
            continue  # a variable assignment: the variable is unknown from here on (script.assigned)
        fresh = tuple(p for k, p in events if k == "mkdir")
        steps += [(o, dict(env), cwd, fresh) for o in streams.get(c.start, [])]
        steps.append((c, dict(env), cwd, fresh))
        if name == "set":
            for w in c.args:
                if w.raw.startswith(("-", "+")) and set(w.raw[1:]) <= _SET_OPTS:
                    if "e" in w.raw[1:]:
                        errexit = w.raw.startswith("-")
                elif w.raw in ("errexit", "pipefail", "nounset", "xtrace"):
                    if w.raw == "errexit":
                        errexit = c.args[c.args.index(w) - 1].raw == "-o"
                else:
                    return Walk(why_not=f"{rel} runs `set {w.raw}`, which this analysis does not follow")
            continue
        if name in ("cd", "pushd", "popd"):
            if name == "popd":
                if not stack:
                    return Walk(why_not=f"{rel} runs popd with an empty directory stack")
                cwd = stack.pop()
                continue
            if len(c.args) != 1 or c.args[0].raw.startswith(("-", "+")):
                return Walk(why_not=f"{rel} runs `{name}` without one plain directory")
            v = value(c.args[0], env)
            if name == "pushd":
                stack.append(cwd)
            cwd = join(cwd, v) if v is not None else None
            if cwd is None:
                return Walk(why_not=f"{rel} changes to a directory whose value is unknown ({c.args[0].raw})")
            continue
        if name == "exit" and n == len(top) - 1 and all(w.raw == "0" for w in c.args):
            continue
        if name in ("rm", "rmdir", "mv", "unlink"):
            why = _removes(c, env, cwd, made, rel, events)
            if why:
                return Walk(why_not=why)
            if name != "mv":
                continue
        if name == "git" and c.args and c.args[0].raw in _GIT_INERT:
            continue
        if name == "git" and not (c.args and c.args[0].raw == "clone"):
            return Walk(why_not=f"{rel} runs `{_shown(c)}`, whose effects on the filesystem are not known")
        if name in _INERT and not c.redirected and c.words[0].raw == name:
            continue
        if name in _CREATORS or name == "mv":
            if c.words[0].raw != name:
                return Walk(why_not=f"{rel} runs `{c.name}` by a path: what it is, is not known")
            found = created_paths(c, env, cwd)
            if not found and name not in ("curl", "wget", "tar", "unzip"):
                return Walk(why_not=f"{rel} runs `{_shown(c)}`, whose target is not known")
            if not (errexit or and_chain):
                return Walk(why_not=f"{rel} does not stop on errors (no `set -e`), so what it creates may be missing")
            if not found and (cwd is None or name == "wget"):
                return Walk(why_not=f"{rel} runs `{_shown(c)}`, which writes where this analysis does not follow")
            events.extend(_kinds(c, found, cwd))
            made.extend(found)
            continue
        return Walk(why_not=f"{rel} runs `{_shown(c)}`, whose effects on the filesystem are not known")
    if stack:
        return Walk(why_not=f"{rel} leaves directories on the pushd stack", end_cwd=cwd)
    return Walk(created=made, end_cwd=cwd, events=events, steps=steps)


def _kinds(c: Command, found: list[Created], cwd: str | None) -> list[tuple[str, str]]:
    """The path events of one creating command, in the terms of chown-layer's path model."""
    name = posixpath.basename(c.name)
    flags = "".join(w.raw[1:] for w in c.args if w.raw.startswith("-") and not w.raw.startswith("--"))
    longs = {w.raw.split("=", 1)[0] for w in c.args if w.raw.startswith("--")}
    if not found:
        if name in ("tar", "unzip") and cwd is not None:
            return [("fill", cwd)]
        if name == "curl" and ("O" in flags or "--remote-name" in longs) and cwd is not None:
            return [("unknown", cwd)]
        return []
    if name == "mkdir":
        kind = "mkdirp" if "p" in flags or "--parents" in longs else "mkdir"
    elif name == "install" and ("d" in flags or "--directory" in longs):
        kind = "mkdirp"
    elif name == "git" or name == "virtualenv" or name.startswith("python"):
        kind = "made"
    elif name == "ln":
        kind = "link" if "s" in flags or "--symbolic" in longs else "unknown"
    elif name in ("tar", "unzip"):
        kind = "fill"
    elif name in ("touch", "curl"):
        kind = "touch"
    else:
        kind = "unknown"  # cp, mv, wget, install of a file: what lands there is not known
    return [(kind, f.path) for f in found]


def _removes(c: Command, env: Mapping[str, str | None], cwd: str | None, made: list[Created], rel: str,
             events: list[tuple[str, str]]) -> str | None:
    """Drop what `rm`/`mv` removes from `made`; a reason when its operands are unknown."""
    name = posixpath.basename(c.name)
    ops = [w for w in c.args if not w.raw.startswith("-")]
    if name == "mv":
        ops = ops[:-1]
    for w in ops:
        v = value(w, env)
        p = join(cwd, v) if v is not None else None
        if p is None:
            return f"{rel} runs `{_shown(c)}` on a path whose value is unknown"
        made[:] = [m for m in made if not is_under(m.path, p)]
        events.append(("rm", p))
    return None


def _invocation(cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> Invocation | str | None:
    name = posixpath.basename(cmd.name)
    words = cmd.args
    sourced = via_shebang = errexit = False
    if name in _SHELLS:
        i = 0
        while i < len(words) and words[i].raw.startswith("-"):
            raw = words[i].raw
            if raw == "--":
                i += 1
                break
            if raw == "-o" and i + 1 < len(words):
                errexit = errexit or words[i + 1].raw == "errexit"
                i += 2
                continue
            if not set(raw[1:]) <= set("exuv"):
                return None  # -c, -s, -i, --login …: not a script file run this way
            errexit = errexit or "e" in raw
            i += 1
        if i >= len(words):
            return None
        script_word, rest = words[i], words[i + 1 :]
    elif name in (".", "source"):
        if not words:
            return None
        script_word, rest, sourced = words[0], words[1:], True
    elif "/" in cmd.name:
        script_word, rest, via_shebang = cmd.words[0], words, True
    else:
        return None
    v = value(script_word, env)
    if v is None:
        return f"the script path {script_word.raw} has a value the Dockerfile does not give"
    if sourced and "/" not in v:
        return f"`{name} {v}` looks {v} up in PATH first"
    path = join(cwd, v)
    if path is None:
        return f"the working directory is not known, so {v} cannot be located"
    shown = " ".join(w.raw for w in cmd.words)
    return Invocation(path, shown, [value(w, env) for w in rest], sourced, errexit, via_shebang)


def _ctx(a: Analysis) -> buildcontext.Context | None:
    if a.context is None or not a.context.is_dir():
        return None
    key = "scripts:context"
    if key not in a.memo:
        a.memo[key] = buildcontext.load(a.context, a.path)
    return a.memo[key]  # type: ignore[return-value]


def _context_file(a: Analysis, j: int, path: str) -> tuple[str | None, str]:
    """The context file the stage put at `path` before instruction j, unchanged since; else why not."""
    ctx = _ctx(a)
    if ctx is None:
        return None, "the build context is not available"
    stage = a.resolved.stage_of(j)
    first = stage.first + 1 if stage else 0
    for k in range(j - 1, first - 1, -1):
        ins = a.instructions[k]
        if ins.keyword in ("COPY", "ADD"):
            st = a.state(k)
            ca = copy_args(ins, st, a.df.escape)
            if ca is None or ca.dest is None:
                return None, f"the {ins.keyword} at line {ins.line} writes to a place that is not known"
            if not is_under(path, ca.dest) and not is_under(ca.dest, path):
                continue
            if ins.flag("from") is not None or any(f.name not in ("chown", "chmod", "link") for f in ins.flags):
                return None, f"the {ins.keyword} at line {ins.line} may put {path} there from outside the context"
            sources = [st.expand(s, a.df.escape) for s in ca.sources]
            if any(s is None or s.startswith("<<") for s in sources):
                return None, f"the sources of the {ins.keyword} at line {ins.line} are not known"
            try:
                cmap = buildcontext.copy_map([s for s in sources if s], ca.dest, ca.dest_is_dir, ctx,
                                             ins.keyword == "ADD")
            except buildcontext.ContextError as err:
                return None, f"the {ins.keyword} at line {ins.line}: {err}"
            rel = cmap.locate(path, ctx)
            if rel is not None and ctx.kind(rel) == "file":
                return rel, ""
            if cmap.writes(path, ctx) or rel is not None:
                return None, f"the {ins.keyword} at line {ins.line} puts something other than a file at {path}"
        elif ins.keyword == "RUN":
            why = _may_change(a, k, path)
            if why:
                return None, why
        elif ins.keyword == "FROM":
            break
    return None, f"no COPY from the build context in this stage puts a file at {path}"


def _may_change(a: Analysis, k: int, path: str) -> str | None:
    rs = a.run_script(k)
    line = a.instructions[k].line
    if rs is None:
        return f"the RUN at line {line}, between the COPY and the step, cannot be read and may change {path}"
    for c in rs.script.commands:
        if posixpath.basename(c.name) not in _BENIGN_BETWEEN or c.redirected or not c.top:
            return f"the RUN at line {line}, between the COPY and the step, may change {path} (`{_shown(c)}`)"
    return None
