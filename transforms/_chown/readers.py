"""Steps between an earlier step that now gets the owner and the chown itself: do they see the owners?

Once ownership moves into an earlier COPY or RUN, every step in between sees the new owners instead of root. That
changes the image when a step copies or archives ownership (``cp -a``/``-p``, ``mv``, hard links, ``tar -c``,
``rsync``, ``cpio``, ``zip``), acts on it (``find``, ``ls -l``, ``stat``, ``git`` refuses a repository someone else
owns), or runs as another user (USER, ``su``, ``runuser``, ``gosu``, ``setpriv``, ``sudo``, ``chroot``) or runs
code the analysis cannot see (a script, ``sh -c``, ``curl … | sh``, an unanalysable RUN). So ownership is only moved
into steps after the last such step; the ones before are left alone, with the reason in the details.
A step may reach a target by another name: through a symlink above it or a symlink into it, whose target the base
image or the `ln -s` says; those names count as the target. Where a directory above a target may be a symlink to
a place not known, any path a command names may lead there.
A listing (``ls``, ``stat``, ``du``, ``namei``, ``getfacl``) whose output goes only to the build log (a top-level
command, not redirected, piped, in a command substitution or after an ``exec`` redirect) cannot change the image: it
is not a reader. Its exit status does not depend on owners, as root reads every path.
Assumed (documented): other commands run as root read file contents only, which owners do not change.
"""

from __future__ import annotations

import posixpath

from dockerfix.refactor.context.scripts import script_reads
from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import walk
from dockerfix.refactor.dockerfile.resolve import is_under, join
from dockerfix.refactor.dockerfile.shell import Command, value
from dockerfix.transforms._chown import accounts, proofs

RUNNERS = frozenset("su runuser gosu setpriv sudo doas chroot su-exec setuidgid s6-setuidgid chpst unshare "
                    "nsenter capsh".split())
COPIERS = frozenset("mv rsync cpio tar bsdtar zip 7z pax find ls stat git getfacl setfacl namei du".split())
SCRIPTS = frozenset("sh bash dash ash zsh ksh eval source . xargs perl ruby node php lua".split())
LISTERS = frozenset("ls stat du namei getfacl".split())  # they only print what they see


def _touches(p: str | None, targets: list[str]) -> bool:
    return p is None or any(is_under(p, t) or is_under(t, p) for t in targets)


def command_reads(cmd: Command, env, cwd: str | None, targets: list[str],  # type: ignore[no-untyped-def]
                  logged: bool = False) -> str | None:
    """Why ``cmd`` (as root) may see the owners under ``targets``, or None when it cannot; ``logged``: its output
    goes only to the build log."""
    name = posixpath.basename(cmd.name)
    if not cmd.words:
        return None
    if logged and name in LISTERS and cmd.name in (name, f"/bin/{name}", f"/usr/bin/{name}"):
        return None  # what it prints about owners reaches the build log only
    if "$" in cmd.name or "`" in cmd.name:
        return "its command name is not static"
    if name in RUNNERS:
        return f"`{name}` runs a command as another user"
    if name in SCRIPTS or name.startswith("python"):
        if name.startswith("python") and cmd.args[:1] and cmd.args[0].raw == "-m":
            pass  # a module (pip, venv): checked by the paths it names below
        elif len(cmd.args) > 0:
            return f"`{name}` runs code the analysis cannot read"
        elif name not in ("eval", "source", ".", "xargs"):
            # Without arguments a shell or interpreter runs the code on its input: `curl … | sh`.
            return f"`{name}` runs the code on its input, which the analysis cannot read"
    if "/" in cmd.name and not cmd.name.startswith(("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/")):
        return f"`{cmd.name}` is a program or script the analysis cannot read"
    paths: list[str | None] = []
    for w in cmd.args:
        raw = w.raw.split("=", 1)[1] if w.raw.startswith("--") and "=" in w.raw else w.raw
        if not raw or (raw.startswith("-") and raw == w.raw):
            continue
        v = value(raw, env)
        paths.append(join(cwd, v) if v is not None else None)
    extracting = name in ("tar", "bsdtar") and (any(w.raw in ("-x", "--extract", "--get") for w in cmd.args) or (
        bool(cmd.args) and not cmd.args[0].raw.startswith("--") and "x" in cmd.args[0].raw))
    if name == "git" and cmd.args[:1] and cmd.args[0].raw == "clone":
        return None  # a new repository: git checks the owner only of one that exists
    if extracting and not any(w.raw in ("-v", "--verbose") or (w.raw.startswith("-") and "v" in w.raw[1:2]) for w in cmd.args[:0]):
        return None  # extracting writes from the archive; it does not read the owners already there
    if name in COPIERS or (name == "cp" and _preserves(cmd)) or (name == "ln" and not _symbolic(cmd)):
        if cwd is not None and any(is_under(cwd, t) for t in targets):
            return f"`{name}` runs in {cwd}"
        sources = paths if name not in ("mv", "ln", "cp", "rsync") else paths[:-1]
        if name in ("mv", "ln", "cp", "rsync") and paths and paths[-1] is not None and any(
                is_under(paths[-1], t) for t in targets):
            return None  # moved or copied within the targets: the kept step sets the owners there anyway
        if any(_touches(p, targets) for p in sources) or (name in ("find", "ls", "du", "git") and not sources):
            return f"`{name}` copies or reads the owners of the paths it names"
    return None


def _preserves(cmd: Command) -> bool:
    for w in cmd.args:
        r = w.raw
        if r.startswith("--preserve") or r in ("--archive",) or (r.startswith("-") and not r.startswith("--")
                                                                  and ("a" in r or "p" in r)):
            return True
    return False


def _symbolic(cmd: Command) -> bool:
    return any(w.raw in ("-s", "--symbolic") or (w.raw.startswith("-") and not w.raw.startswith("--") and "s" in w.raw)
               for w in cmd.args)


def step_reads(a: Analysis, j: int, targets: list[str], before=None) -> str | None:  # type: ignore[no-untyped-def]
    """Why instruction ``j`` may see the owners under ``targets`` (for the chown's own RUN: only the commands
    before ``before``), or None."""
    ins = a.instructions[j]
    if ins.keyword != "RUN":
        return None
    st = a.state(j)
    if not st.root_or_base_default:
        return "it runs as a non-root USER"
    rs = a.run_script(j)
    if rs is None and accounts.exec_argv(a, j) is not None:
        return None  # `RUN ["useradd", ...]`: writes the account files and a home, sees no owners
    if rs is None:
        return "it cannot be analysed"
    # A step may reach a target by another name, through a symlink (transforms/_chown/proofs.py ``aliases``).
    names: list[str] = []
    note = ""
    for t in targets:
        more = proofs.aliases(a, j, t)
        if more is None:
            names, note = ["/"], f" (a directory above {t} may be a symlink to a place not known: any path may lead there)"
            break
        names += more
        note = note or (f" (through a symlink, {more[0]} is another name of {t})" if more else "")
    captured = False  # `exec >FILE` sends what every later command prints to that file
    for cmd, cwd in walk(rs.script, rs.env, st.workdir):
        if before is not None and cmd.start >= before.start:
            break
        captured = captured or cmd.name == "exec"
        logged = cmd.top and not cmd.redirected and not captured
        for where, extra in ((targets, ""), (names, note)):
            why = command_reads(cmd, rs.env, cwd, where, logged=logged) if where else None
            if why:  # a context script that was read: its own commands decide (refactor/context/scripts.py)
                read, inner = script_reads(a, j, cmd, rs.env, cwd, where, command_reads)
                why = inner if read else why
            if why:
                return why + extra
    return None
