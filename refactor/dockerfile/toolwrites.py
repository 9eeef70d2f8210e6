"""Where package tools write, when one command's own words and the step's variables prove it.

`refactor/context/scripts.py` (run_created, step_events) asks here for each RUN command. A path is returned only when the command cannot succeed without it
existing at its end, so that `&& chown -R U:G PATH` after the command cannot fail and re-owns only what the
later recursive chown would have re-owned anyway. Everything else is left out ("nothing proven"), and
`unproven` says why for the findings.

- `X/bin/pip install …`, `X/bin/python -m pip install …` (an explicit interpreter): pip lives in X, so X
  exists; the packages land in X's site-packages (or nowhere new, which is fine: X still exists).
- `pip install --prefix P` with `--ignore-installed` and a requirement on the command line: P. Without
  `--ignore-installed` pip skips requirements already satisfied elsewhere and may never create P; with only
  `-r FILE` an empty file makes pip exit 0 without writing.
- `pip install --user` likewise, at `$PYTHONUSERBASE` (or `$HOME/.local`) when the Dockerfile sets the
  variable: the base image's environment may move it.
- `uv venv DIR`: DIR. `uv sync` with `UV_PROJECT_ENVIRONMENT` set to an absolute path by the Dockerfile: that
  path (uv creates the environment even with no dependencies).
- `uv sync` otherwise (`uv_project_venv`): the working directory's .venv, when no option or UV_ variable moves the
  project or its environment and, checked by the caller (refactor/context/scripts.py hands `requires` on; chown-layer
  proves them from the read base image and the steps), the working directory and every directory above it are
  directories, not links, and none above it has a pyproject.toml: then uv succeeds only with the project there.
- `tar -x -C DIR` at the end of a pipeline (`curl -fsSL URL | tar -xz -C DIR`) is facts.created_paths'
  DIR, like without a pipe; facts.certain counts it as run when the pipeline's other commands only stream
  (tar fails without DIR, even on empty input: GNU tar 1.34, busybox 1.35).
- Not proven, measured (npm 11.19, poetry 2.5.1; docs/builder-semantics.md):
  `npm ci` writes no node_modules when the lock has no package left after omitting (none at all, only dev
  ones with `--omit=dev`, NODE_ENV=production or `omit=dev` in an .npmrc, `dry-run` in any npmrc or
  `npm_config_dry_run`), and in a workspace member it writes the workspace root's node_modules. `poetry install` with
  `virtualenvs.in-project` creates no .venv when an environment for the project already exists in its cache
  (an earlier `poetry lock` makes one) or `virtualenvs.create` is false. Each needs files or settings of
  ancestors, the base image or its npmrc/poetry config that one command does not show: nothing is proven.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from dockerfix.refactor.dockerfile.resolve import normalize
from dockerfix.refactor.dockerfile.shell import Command, SWord, value

_PIP_EXE = re.compile(r"^pip(3(\.\d+)?)?$")
_PY_EXE = re.compile(r"^python(3(\.\d+)?)?$")
# pip install options that take a value (so the positional requirements are found correctly).
_PIP_VALUE = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target", "--prefix", "--root",
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--src", "--upgrade-strategy", "--platform",
    "--python-version", "--implementation", "--abi", "--only-binary", "--no-binary", "--progress-bar",
    "--cache-dir", "--log", "--timeout", "--retries", "--trusted-host", "--root-user-action", "--report",
    "-C", "--config-settings", "--global-option", "--python", "--exists-action", "--proxy", "--cert",
    "--client-cert", "--use-feature", "--use-deprecated", "--keyring-provider",
}
_SYSTEM_PREFIXES = ("/", "/usr", "/usr/local")


class PipCall:
    """A `pip install` invocation: the interpreter prefix it names and its parsed options."""

    def __init__(self, exe_dir: str | None, args: list[SWord]) -> None:
        self.exe_dir = exe_dir  # X of X/bin/pip, when the command names it
        self.opts: dict[str, SWord | None] = {}
        self.positional: list[SWord] = []
        i = 0
        while i < len(args):
            raw = args[i].raw
            if raw.startswith("--") and "=" in raw:
                name, _, val = raw.partition("=")
                self.opts[name] = SWord(val, args[i].start + len(name) + 1, args[i].end)
            elif raw in _PIP_VALUE and i + 1 < len(args):
                self.opts[raw] = args[i + 1]
                i += 1
            elif raw.startswith("-") and len(raw) > 1:
                self.opts[raw] = None
            else:
                self.positional.append(args[i])
            i += 1

    def has(self, *names: str) -> bool:
        return any(n in self.opts for n in names)

    def get(self, *names: str) -> SWord | None:
        for n in names:
            if self.opts.get(n) is not None:
                return self.opts[n]
        return None


def pip_call(cmd: Command, env: Mapping[str, str | None]) -> PipCall | None:
    """The `pip install` this command runs, directly or through `python -m pip`; None for anything else."""
    name = posixpath.basename(cmd.name)
    exe = value(cmd.words[0], env) if cmd.words else None
    words = cmd.args
    if _PY_EXE.match(name):
        if len(words) < 2 or words[0].raw != "-m" or words[1].raw != "pip":
            return None
        words = words[2:]
    elif not _PIP_EXE.match(name):
        return None
    if not words or words[0].raw != "install":
        return None
    exe_dir = None
    if exe is not None and "/" in exe and posixpath.basename(posixpath.dirname(exe)) == "bin":
        exe_dir = posixpath.dirname(posixpath.dirname(normalize(exe))) if exe.startswith("/") else None
    return PipCall(exe_dir, words[1:])


def created(cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> list[tuple[str, str | None]] | None:
    """(path, word) pairs a tool command proves it writes; None when the command is not one handled here."""
    name = posixpath.basename(cmd.name)
    pip = pip_call(cmd, env)
    if pip is not None:
        return _pip(pip, env, cwd)
    if name == "uv" and cmd.args:
        return _uv(cmd, env, cwd)
    return None


def _pip(pip: PipCall, env: Mapping[str, str | None], cwd: str | None) -> list[tuple[str, str | None]] | None:
    if pip.has("-t", "--target"):
        return None  # facts.created_paths reads --target itself
    if pip.has("--dry-run", "-h", "--help", "--root"):
        return []
    installs = bool(pip.positional) or pip.has("-e", "--editable")
    ignore = pip.has("-I", "--ignore-installed")
    prefix = pip.get("--prefix")
    if prefix is not None:
        v = value(prefix, env)
        if v is None or not (installs and ignore):
            return []
        return [(v, prefix.raw)]
    if pip.has("--user"):
        if not (installs and ignore):
            return []
        base = env.get("PYTHONUSERBASE") if "PYTHONUSERBASE" in env else None
        if base:
            return [(base, None)]
        return []
    if pip.exe_dir is not None and pip.exe_dir not in _SYSTEM_PREFIXES:
        return [(pip.exe_dir, None)]
    return []


def _uv(cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> list[tuple[str, str | None]]:
    sub = cmd.args[0].raw
    rest = cmd.args[1:]
    if sub == "venv":
        takes = {"-p", "--python", "--prompt", "--index-url", "--extra-index-url", "-i", "--cache-dir", "--link-mode", "--index-strategy", "--keyring-provider", "--exclude-newer", "-f",
                 "--find-links", "--index", "--default-index"}
        pos = []
        i = 0
        while i < len(rest):
            raw = rest[i].raw
            if raw in takes:
                i += 2
                continue
            if raw in ("--directory", "--project") or raw.startswith(("--directory=", "--project=")):
                return []  # the directory changes where a relative path lands
            if not raw.startswith("-"):
                pos.append(rest[i])
            i += 1
        if len(pos) != 1:
            return []  # the default .venv lands in the project root uv discovers, not necessarily the cwd
        v = value(pos[0], env)
        return [] if v is None else [(v, pos[0].raw)]
    if sub == "sync":
        if any(w.raw in ("--dry-run", "--active", "--help", "-h") for w in rest):
            return []
        target = env.get("UV_PROJECT_ENVIRONMENT") if "UV_PROJECT_ENVIRONMENT" in env else None
        if target and target.startswith("/"):
            return [(target, None)]
        return []
    return []


# uv settings (flags and variables) that change neither the project uv finds nor where its environment lives.
_UV_SYNC_FLAGS = {"--frozen", "--locked", "--no-install-project", "--no-install-workspace", "--no-dev", "--dev",
                  "--no-editable", "--all-extras", "--inexact", "--exact", "--all-packages", "--all-groups",
                  "--no-default-groups", "--only-dev", "--compile-bytecode", "--no-cache", "-n", "--offline",
                  "--no-progress", "-q", "--quiet", "-v", "--verbose", "--no-build-isolation", "--reinstall",
                  "--refresh", "--upgrade", "-U", "--no-python-downloads", "--native-tls", "--no-binary",
                  "--no-build", "--link-mode=copy", "--link-mode=hardlink", "--link-mode=symlink"}
_UV_SYNC_VALUES = {"--extra", "--group", "--only-group", "--no-group", "--package", "--python", "-p",
                   "--link-mode", "--cache-dir", "--index-url", "-i", "--extra-index-url", "--index",
                   "--default-index", "--find-links", "-f", "--index-strategy", "--keyring-provider",
                   "--exclude-newer", "--resolution", "--prerelease", "--python-platform", "--no-install-package",
                   "--reinstall-package", "--upgrade-package", "-P", "--config-setting", "-C"}
_UV_ENV_OK = {"UV_COMPILE_BYTECODE", "UV_LINK_MODE", "UV_NO_CACHE", "UV_CACHE_DIR", "UV_FROZEN", "UV_LOCKED",
              "UV_NO_DEV", "UV_PYTHON_DOWNLOADS", "UV_PYTHON", "UV_PYTHON_PREFERENCE", "UV_NO_PROGRESS",
              "UV_OFFLINE", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX",
              "UV_HTTP_TIMEOUT", "UV_NO_INSTALL_PROJECT", "UV_NO_EDITABLE", "UV_PYTHON_INSTALL_DIR",
              "UV_TOOL_DIR", "UV_TOOL_BIN_DIR", "UV_NATIVE_TLS", "UV_CONCURRENT_DOWNLOADS", "UV_NO_BUILD_ISOLATION"}


def uv_project_venv(cmd: Command, env: Mapping[str, str | None], cwd: str | None) -> tuple[str, list[str]] | None:
    """`uv sync` in the directory `cwd` of a project: (cwd/.venv, the ancestors of cwd), when the command and the
    variables leave uv to find the project from the working directory and put its environment in the project.

    uv takes the nearest pyproject.toml from the working directory up, then a workspace root above it; with no
    pyproject.toml in any ancestor it succeeds only with cwd/pyproject.toml (even an empty one) and makes
    cwd/.venv (uv 0.13.9, tests/test_tool_measures.py). The caller must prove each ancestor a directory (no link:
    uv uses the physical working directory) without a pyproject.toml; every `env` variable must be known, the
    base image's included."""
    if posixpath.basename(cmd.name) != "uv" or not cmd.args or cmd.args[0].raw != "sync" or cwd is None:
        return None
    if any(k.startswith("UV_") and k not in _UV_ENV_OK for k in env):
        return None  # UV_PROJECT, UV_PROJECT_ENVIRONMENT, UV_WORKING_DIRECTORY and others move it
    rest = cmd.args[1:]
    i = 0
    while i < len(rest):
        raw = rest[i].raw
        if raw in _UV_SYNC_VALUES:
            i += 2
            continue
        if not (raw in _UV_SYNC_FLAGS or raw.split("=", 1)[0] in _UV_SYNC_VALUES and "=" in raw):
            return None  # --project, --directory, --active, --dry-run, --script, --no-config and the unknown
        i += 1
    ancestors = []
    here = cwd
    while here != "/":
        here = posixpath.dirname(here)
        ancestors.append(here)
    return posixpath.join(cwd, ".venv"), ancestors


def unproven(cmd: Command, env: Mapping[str, str | None]) -> str | None:
    """Why a tool command's writes are not proven, and what would prove them, for a finding; None when it is not
    such a tool or its writes are proven."""
    name = posixpath.basename(cmd.name)
    first = cmd.args[0].raw if cmd.args else ""
    yourself = "append `&& chown -R OWNER DIR` to this step yourself, or run it as the owner"
    if name == "npm" and first in ("ci", "install", "i"):
        return (f"`npm {first}` writes node_modules only when the lock has a package left after omitting (dev ones "
                "under NODE_ENV=production or an .npmrc `omit`), and in a workspace member at the workspace root; "
                f"{yourself}")
    if name == "poetry" and first == "install":
        return ("`poetry install` writes into the environment poetry selects (an active venv, one it already made in "
                "its cache, e.g. by `poetry lock`, before an in-project .venv), each settable by the base image; "
                f"{yourself}")
    if name == "uv" and first == "sync":
        return ("`uv sync` writes the .venv of the workspace root uv discovers above the project: it counts only when "
                "the base image was read, no directory above the working directory has a pyproject.toml and no UV_ "
                "variable moves it; or set `ENV UV_PROJECT_ENVIRONMENT=` to an absolute path so the step names it")
    pip = pip_call(cmd, env)
    if pip is not None and not created(cmd, env, None):
        if pip.has("--prefix", "--user"):
            return ("`pip install --prefix/--user` skips requirements already installed elsewhere (and `-r` of an "
                    "empty file writes nothing): add --ignore-installed and a requirement on the command line")
        if pip.exe_dir is None:
            return ("`pip` is looked up in PATH: call the venv's own pip (`/opt/venv/bin/pip install`), or create the "
                    "venv in this Dockerfile and put its bin first in PATH with ENV")
    return None
