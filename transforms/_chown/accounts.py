"""Account steps: the exec form of useradd/adduser/groupadd/addgroup, and RUN steps that do nothing but make accounts.

A RUN in exec form (`RUN ["useradd", "-u", "1500", "app"]`) runs the program with exactly those words (no shell, no
variable expansion), so its accounts are read from the words as they are. A RUN made only of account commands
(joined by `&&`, `;` or newlines, every word static, no redirect, no --mount) is a *pure account step*: what it reads
and writes is listed here, so moves.py can tell whether it may run earlier.

What such a step reads: /etc/passwd, /etc/group, /etc/shadow, /etc/gshadow, /etc/login.defs, /etc/default/ (useradd's
defaults), /etc/adduser.conf (Debian's adduser), /etc/skel (or the -k directory), /etc/nsswitch.conf and /etc/pam.d;
what it writes: those account files (and their `-` backups and lock files), /etc/subuid, /etc/subgid, the home
directory and everything above it that is missing, /var/mail and /var/spool/mail, /var/log/lastlog, /var/log/faillog.
What it runs: the account programs (by name in the usual PATH directories and the
PATH's own), busybox, Debian's /usr/local/sbin/adduser.local hook, the libraries (/lib, /usr/lib, ...) and the
loader's configuration (/etc/ld.so.*). A home is `-d`/`--home-dir`/`--home`/`-h` when given, else `-b`/`--base-dir` +
name, else /home/name (busybox adduser's fixed default, shadow's and Debian's default base; assumed, documented: the
base image's /etc/default/useradd and /etc/adduser.conf keep HOME=/home and SKEL=/etc/skel; the step reads the same
files at both places, only a step in between that writes a home elsewhere could tell). A home counts whether or not
the command creates it (-M, -H, no -m): stricter, never wrong. `-R`/`--root`, `-P`/`--prefix` and `useradd -D` (which rewrites the defaults) are not pure account steps.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import Account, accounts_created
from dockerfix.refactor.dockerfile.resolve import normalize
from dockerfix.refactor.dockerfile.shell import Command, analyse, value

TOOLS = ("useradd", "adduser", "groupadd", "addgroup")

_ETC = ("passwd", "passwd-", "group", "group-", "shadow", "shadow-", "gshadow", "gshadow-", "subuid", "subuid-",
        "subgid", "subgid-", ".pwd.lock", "passwd.lock", "group.lock", "shadow.lock", "gshadow.lock", "login.defs",
        "default", "adduser.conf", "skel", "nsswitch.conf", "pam.d", "libuser.conf", "selinux")
_PROGRAM_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")
_PROGRAMS = TOOLS + ("usermod", "groupmod", "gpasswd", "chpasswd", "busybox", "adduser.local")
FILES = tuple(f"/etc/{n}" for n in _ETC) + (
    "/var/mail", "/var/spool/mail", "/var/log/lastlog", "/var/log/faillog", "/var/log/tallylog",
    # What runs: the programs (by name in every usual PATH directory), the libraries they load, the loader's
    # configuration; a step that replaces one changes what the account step does.
    "/etc/ld.so.preload", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/lib", "/lib32", "/lib64",
    "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/share/perl5", "/usr/share/adduser") + tuple(
    f"{d}/{p}" for d in _PROGRAM_DIRS for p in _PROGRAMS)
_HOME_OPTS = ("-d", "--home-dir", "--home")
_BASE_OPTS = ("-b", "--base-dir")
_SKEL_OPTS = ("-k", "--skel")
_REFUSED = ("-R", "--root", "-P", "--prefix")


def exec_argv(a: Analysis, j: int) -> list[str] | None:
    """The words of an exec-form RUN that runs an account program, else None."""
    ins = a.instructions[j]
    if ins.keyword != "RUN" or ins.json_args is None or not ins.json_args:
        return None
    return list(ins.json_args) if posixpath.basename(ins.json_args[0]) in TOOLS else None


def _exec_command(argv: list[str]) -> Command | None:
    # The words reach the program as they are: quoting each one lets the shell reader give back the same values.
    script = analyse(shlex.join(argv))
    return script.commands[0] if script.ok and len(script.commands) == 1 else None


def exec_accounts(a: Analysis, j: int) -> list[Account]:
    """Accounts an exec-form account RUN creates (empty for any other step)."""
    argv = exec_argv(a, j)
    cmd = _exec_command(argv) if argv else None
    return accounts_created(cmd, {}) if cmd is not None else []


@dataclass
class Step:
    """A pure account step: its accounts, and the paths it reads or writes."""

    index: int
    accounts: list[Account] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    homes: list[str] = field(default_factory=list)


def _commands(a: Analysis, k: int) -> tuple[list[Command], dict[str, str | None]] | str:
    ins = a.instructions[k]
    argv = exec_argv(a, k)
    if argv is not None:
        cmd = _exec_command(argv)
        return ([cmd], {}) if cmd is not None else "its words cannot be read"
    if ins.json_args is not None:
        return "it is in exec form and runs something other than an account program"
    rs = a.run_script(k)
    if rs is None:
        return "the analysis cannot read it"
    return rs.script.commands, rs.env


def pure_step(a: Analysis, k: int) -> Step | str:
    """The step at ``k`` as a pure account step, or why it is not one."""
    ins = a.instructions[k]
    if ins.keyword != "RUN":
        return "it is not a RUN"
    if ins.flags:
        return f"it has the flag --{ins.flags[0].name}"
    got = _commands(a, k)
    if isinstance(got, str):
        return got
    cmds, env = got
    step = Step(k)
    for cmd in cmds:
        name = posixpath.basename(cmd.name)
        if not cmd.top or cmd.redirected or cmd.connector not in (None, "&&", ";") or cmd.assignments:
            return f"`{cmd.name}` runs under a condition, in a pipe or with a redirect or assignment"
        words = [value(w, env) for w in cmd.args]
        if any(w is None for w in words):
            return f"a word of `{cmd.name}` has a value the Dockerfile does not give"
        args = [w for w in words if w is not None]
        if name == "set" and all(w.startswith(("-", "+")) for w in args):
            continue
        if cmd.name != name and not cmd.name.startswith(("/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/")):
            return f"`{cmd.name}` is not a system account program"
        if name not in TOOLS:
            return f"`{cmd.name}` is not an account command"
        if any(w in _REFUSED or w.startswith(tuple(o + "=" for o in _REFUSED if o.startswith("--"))) for w in args) \
                or (name == "useradd" and "-D" in args):
            return f"`{name}` works on another root or rewrites the defaults"
        made = accounts_created(cmd, env)
        pos = [w for w in args if not w.startswith("-")]
        if not made and not (name in ("adduser", "addgroup") and len(pos) >= 2):
            return f"`{name}` is not read as making an account"
        step.accounts.extend(made)
        bad = _paths(name, args, made, step)
        if bad:
            return bad
    if not step.accounts:
        return "it makes no account"
    step.paths[:0] = list(FILES) + [f"{d}/{p}" for d in _path_dirs(env) for p in _PROGRAMS]
    return step


def _path_dirs(env: dict[str, str | None]) -> list[str]:
    path = env.get("PATH")
    return [normalize(d) for d in (path or "").split(":") if d.startswith("/") and d not in _PROGRAM_DIRS]


def _opt(args: list[str], names: tuple[str, ...]) -> str | None:
    found = None
    for i, w in enumerate(args):
        if w in names and i + 1 < len(args):
            found = args[i + 1]
        elif w.startswith("--") and w.partition("=")[0] in names:
            found = w.partition("=")[2]
        elif len(names[0]) == 2 and w.startswith(names[0]) and len(w) > 2 and not w.startswith("--"):
            found = w[2:]
    return found


def _paths(name: str, args: list[str], made: list[Account], step: Step) -> str | None:
    users = [acc.name for acc in made if acc.kind == "user"]
    home_opts = _HOME_OPTS + (("-h",) if name == "adduser" else ())
    home = _opt(args, home_opts) if name in ("useradd", "adduser") else None
    base = _opt(args, _BASE_OPTS) if name == "useradd" else None
    skel = _opt(args, _SKEL_OPTS) if name in ("useradd", "adduser") else None
    for p in (home, base, skel):
        if p is not None and not p.startswith("/"):
            return f"`{name}` is given the relative path {p!r}"
    if skel:
        step.paths.append(normalize(skel))
    for user in users:
        where = normalize(home) if home else normalize(posixpath.join(base or "/home", user))
        step.homes.append(where)
        step.paths.append(where)
    return None
