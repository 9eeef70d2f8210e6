"""What instructions do to the filesystem, as far as a static reading can tell.

Shared by the transforms: where a COPY/ADD writes, which paths a RUN step creates, which users and
groups a RUN step adds. Everything here either answers exactly or says "unknown" (None).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from dockerfix.refactor.dockerfile.parse import Instruction
from dockerfix.refactor.dockerfile.resolve import State, join
from dockerfix.refactor.dockerfile.shell import Command, SWord, value
from dockerfix.refactor.dockerfile.words import split_words


@dataclass
class CopyArgs:
    sources: list[str]  # raw
    dest_raw: str
    dest: str | None  # absolute, normalized; None when unknown
    dest_is_dir: bool  # trailing slash, or several sources


def copy_args(ins: Instruction, state: State, escape: str) -> CopyArgs | None:
    if ins.json_args is not None:
        parts = list(ins.json_args)
    else:
        parts = [w.raw for w in split_words(ins.args, escape)]
    if len(parts) < 2:
        return None
    *sources, dest_raw = parts
    expanded = state.expand(dest_raw, escape)
    dest = None if expanded is None else join(state.workdir, expanded)
    is_dir = (expanded or dest_raw).endswith("/") or len(sources) > 1 or (expanded in (".", "./"))
    return CopyArgs(sources, dest_raw, dest, is_dir)


@dataclass
class Created:
    path: str  # absolute
    raw: str | None  # the word as written in the command, when it can be reused verbatim
    command: Command
    # What must hold just before the command for the path to be proven: ("missing", P) or ("dir", P), P being no
    # symlink either. Checked by the caller that knows the stage's paths (chown-layer); unchecked, nothing is proven.
    requires: tuple[tuple[str, str], ...] = ()


# Options that take a value, per command, so positional arguments are found correctly.
_VALUE_OPTS = {
    "mkdir": {"-m", "--mode"},
    "git": {"-b", "--branch", "--depth", "-o", "--origin", "-c", "--config", "--reference", "-j", "--jobs",
            "--separate-git-dir", "--template", "-u", "--upload-pack", "--shallow-since", "--shallow-exclude"},
    "cp": {"-t", "--target-directory", "-S", "--suffix"},
    "mv": {"-t", "--target-directory", "-S", "--suffix"},
    "unzip": {"-d", "-x"},
    "curl": {"-o", "--output", "-H", "--header", "-u", "--user", "-X", "--request", "-d", "--data", "-A",
             "--user-agent", "-e", "--referer", "--retry", "--connect-timeout", "-m", "--max-time"},
    "wget": {"-O", "--output-document", "-P", "--directory-prefix", "-t", "--tries", "-T", "--timeout"},
    "install": {"-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory"},
}


def _positional(cmd: Command, opts_with_value: set[str]) -> tuple[list[SWord], dict[str, SWord]]:
    """Split arguments into positional words and option values (last one wins)."""
    pos: list[SWord] = []
    opts: dict[str, SWord] = {}
    words = cmd.args
    i = 0
    while i < len(words):
        raw = words[i].raw
        if raw == "--":
            pos.extend(words[i + 1 :])
            break
        if raw.startswith("--") and "=" in raw:
            name, _, val = raw.partition("=")
            opts[name] = SWord(val, words[i].start + len(name) + 1, words[i].end)
        elif raw in opts_with_value and i + 1 < len(words):
            opts[raw] = words[i + 1]
            i += 1
        elif raw.startswith("-") and len(raw) > 1:
            # A short option cluster whose last letter takes a value: `-xzf file`, `-C dir`.
            if not raw.startswith("--") and f"-{raw[-1]}" in opts_with_value and i + 1 < len(words):
                opts[f"-{raw[-1]}"] = words[i + 1]
                i += 1
            else:
                opts[raw] = words[i]
        else:
            pos.append(words[i])
        i += 1
    return pos, opts


def created_paths(cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> list[Created]:
    """Paths a command creates or fills, when the command is one we know and its words are static."""
    name = posixpath.basename(cmd.name)
    words: list[SWord] = []
    if name == "mkdir":
        words, _ = _positional(cmd, _VALUE_OPTS["mkdir"])
    elif name == "git" and cmd.args and cmd.args[0].raw == "clone":
        pos, _ = _positional(Command(cmd.words[1:], cmd.start, cmd.end, cmd.top, cmd.connector), _VALUE_OPTS["git"])
        if len(pos) >= 2:
            words = [pos[1]]
        elif len(pos) == 1:
            url = value(pos[0], env)
            if url is None:
                return []
            base = posixpath.basename(url.rstrip("/"))
            base = base[:-4] if base.endswith(".git") else base
            return _made([(base, None)], cmd, env, cwd)
    elif name.startswith("python") and len(cmd.args) >= 3 and cmd.args[0].raw == "-m" and cmd.args[1].raw == "venv":
        words = [w for w in cmd.args[2:] if not w.raw.startswith("-")]
    elif name == "virtualenv":
        words = [w for w in cmd.args if not w.raw.startswith("-")][-1:]
    elif name in ("cp", "mv"):
        pos, opts = _positional(cmd, _VALUE_OPTS[name])
        target = opts.get("-t") or opts.get("--target-directory")
        words = [target] if target else pos[-1:] if len(pos) >= 2 else []
    elif name == "tar":
        pos, opts = _positional(cmd, {"-C", "--directory", "-f", "--file"})
        target = opts.get("-C") or opts.get("--directory")
        words = [target] if tar_extracts(cmd) and target else []
    elif name in ("pip", "pip3") or (name.startswith("python") and cmd.args[:2] and cmd.args[0].raw == "-m" and len(cmd.args) > 1 and cmd.args[1].raw == "pip"):
        _, opts = _positional(cmd, {"-t", "--target", "--prefix", "--root", "-r", "--requirement", "-c", "--constraint", "-i", "--index-url"})
        target = opts.get("-t") or opts.get("--target")
        words = [target] if target else []
    elif name == "curl":
        _, opts = _positional(cmd, _VALUE_OPTS["curl"])
        target = opts.get("-o") or opts.get("--output")
        words = [target] if target else []
    elif name == "wget":
        _, opts = _positional(cmd, _VALUE_OPTS["wget"])
        target = opts.get("-O") or opts.get("--output-document") or opts.get("-P") or opts.get("--directory-prefix")
        words = [target] if target else []
    elif name == "unzip":
        _, opts = _positional(cmd, _VALUE_OPTS["unzip"])
        words = [opts["-d"]] if "-d" in opts else []
    elif name == "touch":
        words, _ = _positional(cmd, {"-d", "--date", "-t", "-r", "--reference"})
    elif name == "ln":
        pos, _ = _positional(cmd, set())
        words = pos[-1:] if len(pos) >= 2 else []
    elif name == "install":
        pos, opts = _positional(cmd, _VALUE_OPTS["install"])
        if "-d" in opts or "--directory" in opts:
            words = pos
        else:
            target = opts.get("-t") or opts.get("--target-directory")
            words = [target] if target else pos[-1:] if len(pos) >= 2 else []
    pairs: list[tuple[str, str | None]] = []
    for w in words:
        v = value(w, env)
        if v is None or v == "-":
            return []
        pairs.append((v, w.raw))
    return _made(pairs, cmd, env, cwd)


def _made(pairs: list[tuple[str, str | None]], cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> list[Created]:
    out = []
    for v, raw in pairs:
        path = join(cwd, v)
        if path is None:
            return []
        out.append(Created(path, raw if (raw is not None and (v.startswith("/"))) else None, cmd))
    return out


@dataclass
class Account:
    name: str
    uid: str | None  # numeric, when the command says
    gid: str | None
    kind: str  # "user" or "group"
    group: str | None = None  # a user's primary group by name, when the command names it (`useradd -g staff`)


def accounts_created(cmd: Command, env: Mapping[str, str | None]) -> list[Account]:
    """Users and groups that useradd/adduser/groupadd/addgroup create (Debian and busybox forms)."""
    name = posixpath.basename(cmd.name)
    if name not in ("useradd", "adduser", "groupadd", "addgroup"):
        return []
    vals = [value(w, env) for w in cmd.args]
    if any(v is None for v in vals):
        return []
    args = [v for v in vals if v is not None]
    kind = "user" if name in ("useradd", "adduser") else "group"
    ids: dict[str, str] = {}
    pos: list[str] = []
    i = 0
    takes = {"-u", "--uid", "-g", "--gid", "-G", "--groups", "-d", "--home", "--home-dir", "-s", "--shell",
             "-c", "--comment", "-h", "-k", "-K", "-e", "-f", "--ingroup", "--gecos", "-p", "--password",
             "-b", "--base-dir", "-R", "--root", "-P", "--prefix", "-Z", "--selinux-user", "--key",
             "--expiredate", "--inactive", "--skel", "--firstuid", "--lastuid", "--conf", "--extrausers"}
    while i < len(args):
        a = args[i]
        if not a.startswith("--") and len(a) > 2 and a[:2] in takes and a[:2] not in ("-D", "-m", "-M", "-r"):
            ids[a[:2]] = a[2:]  # an attached value: `-u1500`
        elif a.startswith("--") and "=" in a:
            k, _, v = a.partition("=")
            ids[k] = v
        elif a in takes and i + 1 < len(args):
            ids[a] = args[i + 1]
            i += 1
        elif not a.startswith("-"):
            pos.append(a)
        i += 1
    if not pos:
        return []
    # `adduser USER GROUP` (Debian and busybox) adds a user to a group: it creates neither.
    if kind == "user" and len(pos) >= 2 and name == "adduser":
        return []
    acct = pos[0]
    if kind == "group":
        gid = ids.get("-g") or ids.get("--gid")
        return [Account(acct, None, gid if gid and gid.isdigit() else None, "group")]
    uid = ids.get("-u") or ids.get("--uid")
    uid = uid if uid and uid.isdigit() else None
    # busybox adduser's -g is the GECOS field, not a group.
    gid_opt = (ids.get("-g") or ids.get("--gid")) if name == "useradd" else ids.get("--gid")
    gid = gid_opt if gid_opt and gid_opt.isdigit() else None
    # busybox adduser's -G names the primary group; useradd's -G adds supplementary groups.
    named = gid_opt if gid_opt and not gid_opt.isdigit() else (ids.get("-G") or ids.get("--ingroup")) if name == "adduser" else None
    out = [Account(acct, uid, gid, "user", named)]
    # Both useradd (USERGROUPS_ENAB) and busybox adduser create a group of the same name. Its gid
    # equals the uid only when that gid is free, which a static reading cannot know: leave it unknown.
    if "-G" not in ids and "--ingroup" not in ids and not (name == "useradd" and ("-g" in ids or "-N" in args)):
        out.append(Account(acct, None, None, "group"))
    return out


_CD = ("cd", "pushd", "popd")


def walk(script, env: Mapping[str, str | None], cwd: str | None) -> list[tuple[Command, str | None]]:  # type: ignore[no-untyped-def]
    """Every command of a parsed RUN with the working directory it runs in (None: unknown).

    `cd DIR` and `pushd DIR` move it; `cd` alone ($HOME), `cd -`, `cd -P` (physical: links resolved), `popd`, a
    `cd` that may fail silently (`cd x || true`) and a `cd` inside a subshell, `if` or pipeline make it unknown.
    """
    out: list[tuple[Command, str | None]] = []
    top = script.top
    for cmd in script.commands:
        out.append((cmd, cwd))
        name = posixpath.basename(cmd.name)
        if name not in _CD:
            continue
        # The next member of the top-level list, a compound included: `cd x || (…)` may leave the directory as is.
        nxt = next((it for it in script.items if it.start > cmd.start), None)
        nxt_cmd = next((c for c in top if nxt is not None and c.start == nxt.start and nxt.kind == "command"), None)
        follows_or = nxt is not None and nxt.connector == "||" and (
            nxt_cmd is None or posixpath.basename(nxt_cmd.name) != "exit")
        if not cmd.top or cmd.connector == "||" or follows_or or name == "popd":
            cwd = None
            continue
        args = [w for w in cmd.args]
        while args and args[0].raw in ("-L", "--"):
            args = args[1:]
        if len(args) != 1 or args[0].raw.startswith("-") or args[0].raw.startswith("+"):
            cwd = None  # `cd` alone, `cd -`, `cd -P DIR`, `pushd +1`
            continue
        v = value(args[0], env)
        cwd = join(cwd, v) if v is not None else None
    return out


def certain(script, cmd: Command) -> bool:  # type: ignore[no-untyped-def]
    """True when ``cmd`` has run, and succeeded, whenever the whole RUN succeeds.

    A member of the top-level list, or the last command of a top-level pipeline whose other commands only stream
    data (`curl URL | tar -x -C DIR`): the pipeline's status is its last command's, and with `pipefail` it fails
    when any part fails, so either way the pipeline succeeded only if its last command did. The other commands run
    at the same time as the last one; they must write nothing (`stream`), else what the last one made could be
    changed after it."""
    items = script.items
    i = next((k for k, it in enumerate(items) if it.start == cmd.start and it.kind == "command"), None) if cmd.top \
        else next((k for k, it in enumerate(items) if it.kind == "pipeline" and it.parts[-1] == cmd.start), None)
    if i is None:
        return False
    if not cmd.top:
        parts = [c for c in script.commands if c.start in items[i].parts[:-1]]
        if len(parts) != len(items[i].parts) - 1 or not all(stream(c) for c in parts):
            return False
    start, end = i, i
    while start > 0 and items[start].connector in ("&&", "||"):
        start -= 1
    while end + 1 < len(items) and items[end + 1].connector in ("&&", "||"):
        end += 1
    chain = items[start : end + 1]
    if any(it.connector == "||" for it in chain[1:]):
        return False
    if end == len(items) - 1:
        return True  # the last list decides the RUN's status
    first = next((c for c in script.top if c.start == items[0].start), None) if items[0].kind == "command" else None
    set_e = first is not None and first.name == "set" and any(w.raw.startswith("-") and "e" in w.raw
                                                               for w in first.args)
    # Under `set -e` a failing command stops the script, except one followed by && (POSIX 2.8.1).
    return set_e and len(chain) == 1


# Commands that, in a pipeline, only write to their standard output (with the options `stream` allows).
_READERS = {"cat", "echo", "printf", "zcat", "xzcat", "bzcat", "base64"}
_COMPRESSORS = {"gzip", "gunzip", "xz", "unxz", "bzip2", "bunzip2"}
# curl options that write a file: long forms, and the letters of short ones.
_CURL_WRITES = {"--output", "--remote-name", "--remote-name-all", "--remote-header-name", "--dump-header",
                "--cookie-jar", "--trace", "--trace-ascii", "--stderr", "--output-dir", "--create-dirs", "--libcurl",
                "--etag-save", "--hsts", "--alt-svc", "--config", "--next"}
_CURL_WRITE_LETTERS = set("oODcKJ:")
_WGET_OK = {"-q", "--quiet", "-nv", "--no-verbose", "--no-check-certificate", "-S", "--server-response"}


def stream(cmd: Command) -> bool:
    """True when ``cmd`` writes only its standard output: `cat`, `curl` without an option that writes a file,
    `wget -O -`, a decompressor to stdout. Anything else, or a redirection, may write a file."""
    name = posixpath.basename(cmd.name)
    if cmd.redirected or cmd.words[0].raw != name:
        return False
    opts = [w.raw for w in cmd.args if w.raw.startswith("-") and w.raw != "-"]
    if name in _READERS:
        return True
    if name in _COMPRESSORS:
        # Without -c a file operand is replaced by its (de)compressed file; reading stdin writes stdout.
        return "--stdout" in opts or any(not o.startswith("--") and "c" in o for o in opts) or \
            all(w.raw.startswith("-") for w in cmd.args)
    if name == "curl":
        return not any(o.split("=", 1)[0] in _CURL_WRITES if o.startswith("--") else bool(set(o[1:]) & _CURL_WRITE_LETTERS)
                       for o in opts)
    if name == "wget":
        # The document goes to stdout only with `-O -`; every other option is refused (logs, -P, -b, -e write).
        args = [w.raw for w in cmd.args]
        out = False
        k = 0
        while k < len(args):
            a = args[k]
            if a in ("-O-", "-qO-", "--output-document=-"):
                out = True
            elif a in ("-O", "-qO", "--output-document") and k + 1 < len(args) and args[k + 1] == "-":
                out = True
                k += 1
            elif a.startswith("-") and a not in _WGET_OK:
                return False
            k += 1
        return out
    return False


def tar_pipes(script) -> dict[int, list[Command]]:  # type: ignore[no-untyped-def]
    """The script's top-level pipelines that end in `tar` after commands that only stream (`stream`), by the
    pipeline's start: their commands in order."""
    out: dict[int, list[Command]] = {}
    for it in script.items:
        if it.kind != "pipeline":
            continue
        cmds = [c for c in script.commands if c.start in it.parts]
        if (len(cmds) == len(it.parts) and posixpath.basename(cmds[-1].name) == "tar"
                and all(stream(c) for c in cmds[:-1])):
            out[it.start] = cmds
    return out


def tar_extracts(cmd: Command) -> bool:
    """`tar` extracts: `x` in its first word (`tar xzf`, `-xzf`), `-x`/`--extract`/`--get`, or an option cluster
    with `x` anywhere (`tar -C /d -xzf a.tgz`)."""
    first = cmd.args[0].raw if cmd.args else ""
    if not first.startswith("--") and "x" in first.lstrip("-"):
        return True
    for w in cmd.args:
        raw = w.raw.split("=", 1)[0]
        if raw in ("-x", "--extract", "--get") or (raw.startswith("-") and not raw.startswith("--") and "x" in raw[1:]):
            return True
    return False
