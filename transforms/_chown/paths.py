"""What a path is (directory, file, symlink, missing) before an instruction, and how that is known.

The answer is proven by the Dockerfile (the analysed steps of this stage and the stages it builds on) on top of
the base image's facts, or unknown (None). Every step is read for what it does to paths:

- COPY/ADD create the missing directories above their destination; what they put at and under it comes from the
  context or another stage (unknown here, unless the source is one plain file and the destination a directory).
- WORKDIR: BuildKit creates the directory at once, buildah only when a later RUN needs it, so until a RUN the
  directory is known on neither; from the next RUN on it exists (``mkdir -p``). A WORKDIR or ``mkdir -p`` on a
  path the base image was not read for leaves it what the base had, or a new directory: unknown (or EXISTS) only
  because of the base (``Kind.base_unknown``), which a fix may assume rather than refuse.
- RUN: the commands the analysis models (mkdir, install -d, rm, rmdir, unlink, ln, mv, cp, tar, unzip, git clone,
  venv, pip --target, curl -o, wget, touch) with the working directory each runs in; a command that may not run
  (after ``||``, inside ``if``/subshell/pipeline) makes what it would change unknown; any other command makes
  unknown every path it names. Assumed (documented): a command changes only the paths it names. A RUN that cannot
  be analysed (JSON form, a shell error) makes everything unknown.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from dockerfix.refactor.dockerfile import knownbases
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import DIR, FILE, MISSING, SYMLINK
from dockerfix.refactor.dockerfile.facts import certain, copy_args, walk
from dockerfix.refactor.dockerfile.resolve import is_under, join, normalize
from dockerfix.refactor.dockerfile.shell import Command, SWord, value

ALL = "\x00all"  # an event path meaning: every path
EXISTS = "exists"  # a directory or a symlink: `mkdir -p` succeeded on a path that was not known
LAZY = "dir-or-missing"  # a WORKDIR not yet used: BuildKit made it, buildah makes it at the next RUN


@dataclass(frozen=True)
class Event:
    kind: str  # mkdir, mkdirp, rm, link, touch, made (a fresh dir, contents unknown), fill, unknown, lazy, file
    path: str  # ALL for every path
    line: int
    target: str | None = None  # for a link: where it points, as written (`ln -s TARGET LINK`), when known


# Commands that change no path's type (they read, or change modes, owners or contents in place).
_INERT = frozenset("chmod chown chgrp echo printf cat grep egrep fgrep test [ true false set export ls id whoami which "
                   "command type stat du df head tail wc sort uniq diff cmp sha256sum sha1sum md5sum date sleep exit : "
                   "cd pushd popd umask ulimit hash alias unset readlink realpath basename dirname env printenv "
                   "getent groups uname nproc free".split())


def chain(a: Analysis, at: int) -> list[int]:
    """The instructions before ``at`` whose effects ``at`` sees: the stages it builds on, then its own stage."""
    out: list[int] = []
    stage = a.resolved.stage_of(at)
    end = at
    while stage is not None:
        out[:0] = list(range(stage.first + 1, end))
        parent = stage.parent
        if parent is None:
            break
        stage = a.resolved.stages[parent]
        end = stage.last + 1
    return out


def events(a: Analysis, j: int) -> list[Event]:
    key = ("chown-layer:events", j)
    if key not in a.memo:
        a.memo[key] = _events(a, j)
    return a.memo[key]  # type: ignore[return-value]


def _events(a: Analysis, j: int) -> list[Event]:
    ins = a.instructions[j]
    st = a.state(j)
    line = ins.line
    if ins.keyword in ("COPY", "ADD"):
        ca = copy_args(ins, st, a.df.escape)
        if ca is None or ca.dest is None:
            return [Event("unknown", ALL, line)]
        return [Event("mkdirp", posixpath.dirname(ca.dest), line)] + _copy_events(a, ins, ca, line)
    if ins.keyword == "WORKDIR":
        w = a.after(j).workdir
        return [Event("lazy", w if w else ALL, line)]
    if ins.keyword != "RUN":
        return []
    rs = a.run_script(j)
    out = [Event("mkdirp", st.workdir, line)] if st.workdir else []
    if rs is None:
        from dockerfix.transforms._chown.accounts import exec_argv

        # `RUN ["useradd", ...]` names no path, like its shell form (which command_events reads the same way).
        return out if exec_argv(a, j) is not None else out + [Event("unknown", ALL, line)]
    for cmd, cwd in walk(rs.script, rs.env, st.workdir):
        evs = command_events(cmd, rs.env, cwd, line) + _script_events(a, j, cmd, rs.env, cwd, line)
        if not certain(rs.script, cmd):
            evs = [Event("unknown", e.path, line) for e in evs]
        out += evs
    return out


def _events_before(a: Analysis, j: int, stop: Command) -> list[Event]:
    st = a.state(j)
    rs = a.run_script(j)
    line = a.instructions[j].line
    out = [Event("mkdirp", st.workdir, line)] if st.workdir else []
    if rs is None:
        return out + [Event("unknown", ALL, line)]
    for cmd, cwd in walk(rs.script, rs.env, st.workdir):
        if cmd.start >= stop.start:
            break
        evs = command_events(cmd, rs.env, cwd, line) + _script_events(a, j, cmd, rs.env, cwd, line)
        out += evs if certain(rs.script, cmd) else [Event("unknown", e.path, line) for e in evs]
    return out


def _script_events(a: Analysis, j: int, cmd: Command, env, cwd: str | None, line: int) -> list[Event]:  # type: ignore[no-untyped-def]
    """What a context script run by ``cmd`` does to paths, read by refactor/context/scripts.py."""
    from dockerfix.refactor.context.scripts import step_events

    return [Event(k, p, line) for k, p in step_events(a, j, cmd, env, cwd, lambda c: requirements_hold(a, j, c))]


def requirements_hold(a: Analysis, j: int, made) -> bool:  # type: ignore[no-untyped-def]
    """A tool's path counts only when what it requires holds just before its command (a `Created.requires`):
    each path missing, or a directory, read from the base image (not a documented default) and the steps since."""
    for want, path in made.requires:
        k = kind_at(a, j, path, before_cmd=made.command)
        if k.defaults or k.kind != (MISSING if want == "missing" else DIR):
            return False
    return True


_MAX_LISTED = 5000


def _context(a: Analysis):  # type: ignore[no-untyped-def]
    key = "chown-layer:context"
    if key not in a.memo:
        from dockerfix.refactor.context import buildcontext

        try:
            a.memo[key] = buildcontext.load(a.context, a.path)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - an unreadable context: nothing is known from it
            a.memo[key] = None
    return a.memo[key]


def _copy_events(a: Analysis, ins, ca, line: int) -> list[Event]:  # type: ignore[no-untyped-def]
    """What a COPY puts at and under its destination, read from the build context; unknown when it cannot be read
    (another stage, a URL, an ADD of a file that may be an archive, a variable in a source)."""
    dest = ca.dest
    unknown = [Event("unknown", dest, line)]
    if ins.flag("from") is not None or a.context is None or not a.context.is_dir():
        return unknown
    ctx = _context(a)
    if ctx is None:
        return unknown
    out: list[Event] = []
    if ca.dest_is_dir:
        out.append(Event("mkdirp", dest, line))
    for src in ca.sources:
        if src.startswith("<<"):
            out.append(Event("file", join(dest, src.lstrip("<-").strip("'\"")) if ca.dest_is_dir else dest, line))
            continue
        if "$" in src or "://" in src or src.startswith("git@"):
            return unknown
        rel = src.strip("/")
        rel = "" if rel in (".", "") else rel.removeprefix("./")
        tops = ctx.glob(rel) if any(ch in rel for ch in "*?[") else [rel]
        for top in tops:
            k = ctx.kind(top) if top else "dir"
            if k == "file":
                if ins.keyword == "ADD":
                    return unknown  # ADD extracts a local archive, whatever its name
                out.append(Event("file", join(dest, posixpath.basename(top)) if ca.dest_is_dir else dest, line))
            elif k == "link":
                out.append(Event("copylink", join(dest, posixpath.basename(top)) if ca.dest_is_dir else dest, line))
            elif k == "dir":
                listed = _listing(ctx, top, dest, line)
                if listed is None:
                    return unknown
                out += [Event("mkdirp", dest, line)] + listed
            else:
                return unknown
    return out


def _listing(ctx, top: str, dest: str, line: int) -> list[Event] | None:  # type: ignore[no-untyped-def]
    base = ctx.root / top if top else ctx.root
    out: list[Event] = []
    try:
        children = sorted(base.rglob("*"))
    except OSError:
        return None
    if len(children) > _MAX_LISTED:
        return None
    for child in children:
        rel = child.relative_to(ctx.root).as_posix()
        k = ctx.kind(rel)
        if k is None:
            continue
        target = join(dest, child.relative_to(base).as_posix()) or ALL
        out.append(Event({"dir": "mkdirp", "file": "file", "link": "copylink"}[k], target, line))
    return out


def copies_one_file(a: Analysis, ins, ca) -> bool:  # type: ignore[no-untyped-def]
    """The COPY writes one plain file from the context, nothing below its destination."""
    return len(ca.sources) == 1 and ins.flag("from") is None and a.context is not None and _plain_file(a, ca.sources[0])


def _plain_file(a: Analysis, src: str) -> bool:
    if src.startswith("<<") or any(ch in src for ch in "*?[$\\"):
        return False
    try:
        p = a.context / src  # type: ignore[operator]
        return p.is_file() and not p.is_symlink()
    except OSError:
        return False


def _path(w: SWord, env, cwd: str | None) -> str:  # type: ignore[no-untyped-def]
    """The path a word names; for a glob or an unknown variable, the deepest directory its static part names."""
    v = value(w, env)
    if v is not None:
        p = join(cwd, v)
        return p if p is not None else ALL
    raw = w.raw.strip("'\"")
    cut = min((raw.find(ch) for ch in "*?[$`~" if ch in raw), default=len(raw))
    prefix = raw[:cut]
    if "/" not in prefix:
        return ALL if not cwd or prefix.startswith("$") or cut == 0 else cwd
    base = join(cwd, prefix.rsplit("/", 1)[0] or "/")
    return base + "/\x00" if base else ALL  # "under base": strictly below it


def _positional(cmd: Command, takes: set[str]) -> tuple[list[SWord], set[str]]:
    pos: list[SWord] = []
    opts: set[str] = set()
    words = cmd.args
    i = 0
    while i < len(words):
        raw = words[i].raw
        if raw == "--":
            pos += words[i + 1 :]
            break
        if raw.startswith("-") and len(raw) > 1:
            opts.add(raw)
            if raw.startswith("--"):
                opts.add(raw.split("=", 1)[0])
            else:
                opts.update(f"-{c}" for c in raw[1:])
            if raw in takes or (not raw.startswith("--") and f"-{raw[-1]}" in takes):
                i += 1
        else:
            pos.append(words[i])
        i += 1
    return pos, opts


def command_events(cmd: Command, env, cwd: str | None, line: int) -> list[Event]:  # type: ignore[no-untyped-def]
    name = posixpath.basename(cmd.name)
    if not cmd.words or name in _INERT:
        return []
    if "$" in cmd.name or "`" in cmd.name:
        return [Event("unknown", ALL, line)]

    def p(w: SWord) -> str:
        return _path(w, env, cwd)

    if name == "mkdir":
        pos, opts = _positional(cmd, {"-m", "--mode"})
        kind = "mkdirp" if {"-p", "--parents"} & opts else "mkdir"
        return [Event(kind, p(w), line) for w in pos]
    if name == "install" and {"-d", "--directory"} & _positional(cmd, {"-m", "-o", "-g", "-t"})[1]:
        pos, _ = _positional(cmd, {"-m", "--mode", "-o", "--owner", "-g", "--group"})
        return [Event("mkdirp", p(w), line) for w in pos]
    if name in ("rm", "rmdir", "unlink"):
        pos, _ = _positional(cmd, set())
        return [Event("rm", p(w), line) for w in pos]
    if name == "touch":
        pos, _ = _positional(cmd, {"-d", "--date", "-t", "-r", "--reference"})
        return [Event("touch", p(w), line) for w in pos]
    if name == "ln":
        pos, opts = _positional(cmd, {"-t", "--target-directory", "-S", "--suffix"})
        if len(pos) >= 2 and not {"-t", "--target-directory"} & opts:
            target = value(pos[0], env) if len(pos) == 2 else None
            return [Event("link" if {"-s", "--symbolic"} & opts else "unknown", p(pos[-1]), line, target)]
        return [Event("unknown", cwd or ALL, line)] + [Event("unknown", p(w), line) for w in pos]
    if name == "mv":
        pos, _ = _positional(cmd, {"-t", "--target-directory", "-S", "--suffix"})
        return [Event("rm", p(w), line) for w in pos[:-1]] + [Event("unknown", p(w), line) for w in pos[-1:]] + [
            Event("unknown", p(w), line) for w in cmd.args if w.raw.startswith("--target-directory=")]
    if name in ("cp", "rsync", "install"):
        pos, opts = _positional(cmd, {"-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o", "--owner",
                                      "-g", "--group", "-e", "--rsh", "--exclude", "--include"})
        dest = [w for w in cmd.args if w.raw.startswith("--target-directory=")] or pos[-1:]
        if {"-t", "--target-directory"} & opts:
            dest = [cmd.args[i + 1] for i, w in enumerate(cmd.args[:-1]) if w.raw in ("-t", "--target-directory")]
        return [Event("unknown", p(SWord(w.raw.split("=", 1)[-1], w.start, w.end)), line) for w in dest]
    if name == "git" and cmd.args and cmd.args[0].raw == "clone":
        from dockerfix.refactor.dockerfile.facts import created_paths

        made = created_paths(cmd, env, cwd)
        return [Event("made", c.path, line) for c in made] if made else [Event("unknown", cwd or ALL, line)]
    if (name.startswith("python") and cmd.args[:2] and cmd.args[0].raw == "-m" and len(cmd.args) > 1
            and cmd.args[1].raw == "venv") or name == "virtualenv":
        from dockerfix.refactor.dockerfile.facts import created_paths

        made = created_paths(cmd, env, cwd)
        return [Event("made", c.path, line) for c in made] if made else [Event("unknown", cwd or ALL, line)]
    if name in ("pip", "pip3") or (name.startswith("python") and cmd.args[:2] and cmd.args[0].raw == "-m"
                                    and len(cmd.args) > 1 and cmd.args[1].raw == "pip"):
        from dockerfix.refactor.dockerfile.facts import created_paths

        made = created_paths(cmd, env, cwd)
        rest = [Event("unknown", p(w), line) for w in cmd.args if "/" in w.raw and not w.raw.startswith("-")
                and all(w.raw != c.raw for c in made)]
        return [Event("made", c.path, line) for c in made] + rest
    if name in ("curl", "wget"):
        from dockerfix.refactor.dockerfile.facts import created_paths, stream

        if stream(cmd):
            return []  # `wget -O -`, curl without an output option: the data goes to stdout only
        return [Event("touch" if name == "curl" else "unknown", c.path, line) for c in created_paths(cmd, env, cwd)] + (
            [Event("unknown", cwd or ALL, line)] if name == "wget" or any(w.raw in ("-O", "--remote-name") for w in cmd.args)
            else [])
    if name in ("tar", "unzip", "bsdtar"):
        from dockerfix.refactor.dockerfile.facts import created_paths

        from dockerfix.refactor.dockerfile.facts import tar_extracts

        made = created_paths(cmd, env, cwd)
        extract = name == "unzip" or tar_extracts(cmd)
        if not extract:
            return [Event("unknown", p(w), line) for w in cmd.args if not w.raw.startswith("-")]
        return [Event("fill", c.path, line) for c in made] or [Event("fill", cwd or ALL, line)]
    # Any other command: every path it names (and its working directory, for relative names) is unknown.
    out = []
    for w in cmd.args:
        raw = w.raw.split("=", 1)[1] if w.raw.startswith("--") and "=" in w.raw else w.raw
        if raw.startswith("-") or not raw:
            continue
        word = SWord(raw, w.start, w.end)
        if "/" in raw or raw in (".", ".."):
            out.append(Event("unknown", p(word), line))
    return out


def _replay(steps: list, path: str, kind: str | None) -> str | None:  # type: ignore[type-arg]
    for _, evs in steps:
        for ev in evs:
            kind = _apply(ev, path, kind)
    return kind


def _apply(ev: Event, path: str, kind: str | None) -> str | None:
    if ev.path == ALL:
        return None
    if ev.path.endswith("/\x00"):  # strictly below a directory
        base = ev.path[:-2]
        return None if is_under(path, base) and path != base else kind
    at, below, above = path == ev.path, is_under(path, ev.path) and path != ev.path, is_under(ev.path, path) and path != ev.path
    k = ev.kind
    if k == "rm":
        return MISSING if at or below else kind
    if k in ("mkdir", "mkdirp", "made", "lazy"):
        if above:
            if kind in (MISSING, LAZY):
                return DIR if k != "lazy" else LAZY
            return kind
        if at:
            if k == "lazy":
                return LAZY if kind in (MISSING, LAZY) else kind
            if kind in (MISSING, LAZY) or (k == "mkdir" and kind is None):
                return DIR
            if k == "made":
                return None
            return EXISTS if kind is None else kind
        if below and k == "mkdir":
            return MISSING  # `mkdir` without -p succeeds only on a path that did not exist: it is empty
        return None if below and k == "made" else kind
    if k == "fill":
        if at:
            return kind if kind == DIR else None
        if below:
            return None
        return None if above and kind == MISSING else kind
    if k == "link":
        if at:
            return SYMLINK if kind == MISSING else None
        return None if below else kind
    if k == "copylink":
        if at:
            return SYMLINK if kind in (MISSING, FILE, SYMLINK) else None
        return None if below else kind
    if k in ("touch", "file"):
        if at:
            return FILE if kind in (MISSING, FILE) else (kind if k == "touch" and kind == DIR else None)
        if below:
            return None if k == "file" else kind
        return kind
    # unknown
    if at or below:
        return None
    return None if above and kind == MISSING else kind


@dataclass
class Kind:
    kind: str | None  # DIR, FILE, SYMLINK, MISSING; None: unknown
    defaults: tuple[str, ...] = ()  # documented defaults of a well-known base this rests on
    why: str = ""  # when unknown: which step or fact left it unknown
    base_unknown: bool = False  # unknown (or EXISTS) only because the base image was not read (no step made it so)
    plain_if_base: bool = False  # unknown, but a directory, file or nothing whenever the base has no symlink there


def kind_at(a: Analysis, at: int, path: str, after: bool = False, before_cmd: Command | None = None) -> Kind:
    """What ``path`` is just before instruction ``at`` (lstat: a symlink is SYMLINK); with ``after``, once ``at``
    has run; with ``before_cmd``, inside the RUN ``at`` just before that command."""
    path = normalize(path)
    key = ("chown-layer:kind", at, path, after, id(before_cmd))
    if key in a.memo:
        return a.memo[key]  # type: ignore[return-value]
    facts = a.base(at)
    defaults: tuple[str, ...] = ()
    kind: str | None
    why = ""
    if facts is None:
        kind = None
    else:
        kind = _base_kind(facts, path)
        if path == "/":
            kind = DIR
        if kind is None:
            why = f"the base image {facts.image!r} was not read ({path})"
        elif not facts.read and path != "/":
            defaults = (f"{facts.source}: {path} is {_words(kind)}",)
    steps = [(j, events(a, j)) for j in chain(a, at)]
    if after:
        steps.append((at, events(a, at)))
    elif before_cmd is not None:
        steps.append((at, _events_before(a, at, before_cmd)))
    from_base = kind is None
    start = kind
    for _, evs in steps:
        for ev in evs:
            new = _apply(ev, path, kind)
            if new in (None, EXISTS):
                # `mkdir -p` and a WORKDIR on a path the base image may have leave it what the base had, or a new
                # directory: still unknown only because the base image was not read.
                keeps = from_base and kind in (None, EXISTS) and ev.kind in ("mkdirp", "lazy")
                unchanged = new == kind and not _hits(ev, path)
                if not (keeps or unchanged) and (kind is not None or _hits(ev, path)):
                    why = f"the step at line {ev.line} may change {path}"
                    from_base = False
            else:
                from_base = False
            kind = new
    vague = kind in (None, EXISTS)
    if facts is not None and start is None and kind not in (DIR, FILE, MISSING):
        # Unknown only because the base was not read: whatever plain path (or none) the base has there, the steps
        # leave no symlink and nothing unknown.
        plain = {_replay(steps, path, k) for k in (DIR, FILE, MISSING)} <= {DIR, FILE, MISSING}
    else:
        plain = False
    result = Kind(kind, defaults if kind is not None else (), why if vague else "", vague and from_base, plain)
    a.memo[key] = result
    return result


def _base_kind(facts, path: str) -> str | None:  # type: ignore[no-untyped-def]
    """The base image's kind of ``path``; below an absent path or a file, absent too."""
    info = facts.path(path)
    if info is not None:
        return info.kind
    kind = knownbases.listed_kind(facts, path)
    if kind is not None or path == "/":
        return kind
    parent = posixpath.dirname(path)
    return MISSING if _base_kind(facts, parent) in (MISSING, FILE) else None


def _hits(ev: Event, path: str) -> bool:
    if ev.path == ALL:
        return True
    base = ev.path[:-2] if ev.path.endswith("/\x00") else ev.path
    return is_under(path, base)


def _words(kind: str) -> str:
    return {DIR: "a directory", FILE: "a file", SYMLINK: "a symlink", MISSING: "absent",
            LAZY: "a WORKDIR no RUN has used yet (buildah creates it only then)",
            EXISTS: "a directory or a symlink to one"}.get(kind, kind)
