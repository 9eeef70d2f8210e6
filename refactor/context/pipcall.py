"""pip command lines: `pip install …`, `python -m pip install …` and `uv pip install …`, from their words' values."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

# Options of `pip install` (and the global options before it) that take a value.
_PIP_VALUE_OPTS = frozenset(
    "-r --requirement -c --constraint -e --editable -i --index-url --extra-index-url -f --find-links -t --target "
    "--prefix --root --src --cache-dir --trusted-host --platform --python-version --implementation --abi "
    "--only-binary --no-binary --progress-bar --root-user-action --upgrade-strategy --log --log-file --timeout "
    "--retries --proxy --cert --client-cert --exists-action --global-option --config-settings -C --report "
    "--python --use-feature --use-deprecated --keyring-provider --install-option --build-option "
    "--resume-retries --group "
    # uv pip (its long names are plural; the singular forms are aliases)
    "--requirements --constraints --excludes --exclude "
    "--overrides --override -b --build-constraint --build-constraints -p --index --default-index "
    "--index-strategy --resolution --prerelease --exclude-newer --link-mode --config-file -P --upgrade-package "
    "--reinstall-package --no-binary-package --only-binary-package --extra".split()
)
_PIP_SHORT_VALUE = frozenset("rceiftCbpP")
# Options whose value is a file pip reads like a requirements file.
_REQ_OPTS = {"-r": "req", "--requirement": "req", "--requirements": "req", "-c": "con", "--constraint": "con",
             "--constraints": "con", "--overrides": "con", "--override": "con", "--excludes": "con", "--exclude": "con",
             "-b": "con", "--build-constraint": "con", "--build-constraints": "con"}
_ARCHIVE = re.compile(r"\.(whl|zip|tar|tgz|tbz|tar\.gz|tar\.bz2|tar\.xz|tar\.zst)$", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass
class PipCall:
    """One `pip install` (or `python -m pip install`, `uv pip install`) command, from its words' values."""

    uv: bool
    install_at: int  # index of the word "install"
    requirements: list[tuple[int, str]] = field(default_factory=list)  # (index of the value word, path) for -r/-c
    projects: list[tuple[int, int, str, str]] = field(default_factory=list)  # (first, last word index, path, extras)
    remote: list[str] = field(default_factory=list)  # requirement specifiers fetched from an index or URL
    local_files: list[str] = field(default_factory=list)  # wheels and archives from the file system
    options: dict[str, list[str]] = field(default_factory=dict)  # value options (--target, --cache-dir, …)
    flags: set[str] = field(default_factory=set)
    vcs_editable: list[str] = field(default_factory=list)

    @property
    def no_deps(self) -> bool:
        return "--no-deps" in self.flags

    @property
    def no_cache(self) -> bool:
        return "--no-cache-dir" in self.flags or "--no-cache" in self.flags or "-n" in self.flags and self.uv


def pip_call(words: list[str]) -> PipCall | None:
    """Recognise `pip install …`; None when the words are another command (or another pip subcommand)."""
    if not words:
        return None
    name = posixpath.basename(words[0])
    i = 1
    uv = False
    if re.fullmatch(r"pip(3(\.\d+)?)?", name):
        pass
    elif re.fullmatch(r"python(3(\.\d+)?)?", name):
        while i < len(words) and words[i] in ("-I", "-E", "-s", "-S", "-u", "-B", "-q", "-O", "-OO"):
            i += 1
        if words[i : i + 2] != ["-m", "pip"]:
            return None
        i += 2
    elif name == "uv" and words[1:2] == ["pip"]:
        uv = True
        i = 2
    else:
        return None
    call = PipCall(uv=uv, install_at=-1)
    # Global options may come before the subcommand.
    while i < len(words) and words[i].startswith("-"):
        w = words[i]
        if w.startswith("--") and "=" in w:  # `pip --cache-dir=/x install …`
            opt, _, val = w.partition("=")
            call.options.setdefault(opt, []).append(val)
            i += 1
            continue
        if w in _PIP_VALUE_OPTS:
            call.options.setdefault(w, []).append(words[i + 1] if i + 1 < len(words) else "")
            i += 2
            continue
        _flag(call, w)
        i += 1
    if i >= len(words) or words[i] != "install":
        return None
    call.install_at = i
    i += 1
    editable_next = False
    while i < len(words):
        w = words[i]
        if editable_next:
            editable_next = False
            _target(call, i - 1, i, w, editable=True)
            i += 1
            continue
        if w == "--":
            i += 1
            continue
        if w.startswith("--") and "=" in w:
            opt, _, val = w.partition("=")
            if opt in ("--editable",):
                _target(call, i, i, val, editable=True)
            else:
                _option(call, opt, val, i)
            i += 1
            continue
        if w.startswith("--"):
            if w in _PIP_VALUE_OPTS:
                if w == "--editable":
                    editable_next = True
                else:
                    _option(call, w, words[i + 1] if i + 1 < len(words) else "", i + 1)
                    i += 1
            else:
                _flag(call, w)
            i += 1
            continue
        if w.startswith("-") and len(w) > 1:
            # A short cluster: `-qr file`, `-rfile`, `-Ue .`.
            letters = w[1:]
            for k, ch in enumerate(letters):
                if ch in _PIP_SHORT_VALUE:
                    rest = letters[k + 1 :]
                    if ch == "e":
                        if rest:
                            _target(call, i, i, rest, editable=True)
                        else:
                            editable_next = True
                    elif rest:
                        _option(call, f"-{ch}", rest, i)
                    else:
                        _option(call, f"-{ch}", words[i + 1] if i + 1 < len(words) else "", i + 1)
                        i += 1
                    break
                _flag(call, f"-{ch}")
            i += 1
            continue
        _target(call, i, i, w, editable=False)
        i += 1
    return call


def _flag(call: PipCall, w: str) -> None:
    call.flags.add(w)


def _option(call: PipCall, opt: str, val: str, index: int) -> None:
    if opt in _REQ_OPTS:
        call.requirements.append((index, val))
    call.options.setdefault(opt, []).append(val)


def _target(call: PipCall, first: int, last: int, spec: str, editable: bool) -> None:
    path, extras = split_extras(spec)
    if is_local(spec):
        if _ARCHIVE.search(path):
            call.local_files.append(spec)
        else:
            call.projects.append((first, last, path, extras))
    elif editable:
        call.vcs_editable.append(spec)
    else:
        call.remote.append(spec)


def split_extras(spec: str) -> tuple[str, str]:
    m = re.fullmatch(r"(.*?)(\[[^\]]*\])", spec)
    return (m.group(1), m.group(2)) if m else (spec, "")


def is_local(spec: str) -> bool:
    """A requirement that names something on the file system (as pip decides it)."""
    s = spec.strip()
    if s.startswith("file:") or re.search(r"@\s*file:", s):
        return True
    if SCHEME.match(s) or re.match(r"^(git|hg|svn|bzr)\+", s):
        return False
    if "@" in s and not s.startswith((".", "/")):
        return False  # `name @ https://…`
    path, _ = split_extras(s)
    return path.startswith((".", "/", "~")) or "/" in path or bool(_ARCHIVE.search(path))
