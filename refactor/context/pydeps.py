"""Python dependency metadata, read statically: pip command lines, requirements files, project metadata.

Nothing is executed: `pyproject.toml` and `Pipfile` are read with tomllib, `setup.cfg` with configparser,
`setup.py` with libcst (imported only when a setup.py is read). Every reader either answers exactly or
raises `Unsupported` with the reason, which transforms show to the user.
"""

from __future__ import annotations

import configparser
import posixpath
import re
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

Reader = Callable[[str], "str | None"]  # path -> text, None when the file is not there


class Unsupported(Exception):
    """The dependency inputs cannot be known statically; the message says why."""


# ------------------------------------------------------------------------------------------------ pip calls

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
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


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
    if _SCHEME.match(s) or re.match(r"^(git|hg|svn|bzr)\+", s):
        return False
    if "@" in s and not s.startswith((".", "/")):
        return False  # `name @ https://…`
    path, _ = split_extras(s)
    return path.startswith((".", "/", "~")) or "/" in path or bool(_ARCHIVE.search(path))


# -------------------------------------------------------------------------------------- requirements files

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
# The options a requirements-file line may hold (pip's req_file.SUPPORTED_OPTIONS): True when it takes a value.
_REQ_FILE_OPTS = {
    "-i": True, "--index-url": True, "--extra-index-url": True, "--no-index": False, "-c": True, "--constraint": True,
    "-r": True, "--requirement": True, "-e": True, "--editable": True, "-f": True, "--find-links": True,
    "--no-binary": True, "--only-binary": True, "--prefer-binary": False, "--require-hashes": False, "--pre": False,
    "--trusted-host": True, "--use-feature": True,
}


def logical_lines(text: str) -> list[str]:
    """Requirements-file lines as pip reads them: continuations joined, comments and blank lines dropped."""
    joined: list[str] = []
    buf = ""
    for line in text.splitlines():
        # pip (req_file.join_lines) continues a line ending in `\` unless the line itself starts as a comment:
        # `flask  # web \` swallows the next line into the comment.
        if line.endswith("\\") and not _COMMENT.match(line):
            buf += line.strip("\\")
            continue
        if _COMMENT.match(line):
            line = " " + line  # so that it still reads as a comment after a continued line
        joined.append(buf + line)
        buf = ""
    if buf:
        joined.append(buf)
    out = []
    for line in joined:
        line = _COMMENT.sub("", line).strip()
        if line:
            out.append(line)
    return out


def requirement_files(first: str, read: Reader, env: dict[str, str | None], uv: bool = False) -> list[str]:
    """`first` and every file it includes with -r/-c, in reading order (paths as pip resolves them).

    `uv pip install -r` also takes project metadata (pyproject.toml, setup.py, setup.cfg, a script's inline
    metadata): only a static [project] list can be read without the rest of the project.
    """
    name = posixpath.basename(first)
    if uv and (name in ("pyproject.toml", "setup.py", "setup.cfg") or name.endswith(".py")):
        text = read(first)
        if text is None:
            raise Unsupported(f"cannot read {first} from the build context")
        if name != "pyproject.toml":
            raise Unsupported(f"uv reads the dependencies of {first} from the project (building it when it must), "
                              "which needs the source")
        data = load_toml(text, first)
        project = data.get("project")
        dynamic = project.get("dynamic", []) if isinstance(project, dict) else []
        if not isinstance(project, dict) or "dependencies" in dynamic or "optional-dependencies" in dynamic:
            raise Unsupported(f"uv builds the project to read the dependencies of {first}, which needs the source")
        local = _local_pep508(_project_tables(data))
        if local:
            raise Unsupported(f"the dependency {local!r} is a local path, which needs the source")
        return [first]
    seen: list[str] = []
    todo = [first]
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        text = read(path)
        if text is None:
            raise Unsupported(f"cannot read {path} from the build context")
        seen.append(path)
        for line in logical_lines(text):
            for inc in _line_includes(line, path, env):
                todo.append(inc)
    return seen


def _line_includes(line: str, path: str, env: dict[str, str | None]) -> list[str]:
    if not line.startswith("-"):
        spec = re.split(r"\s+--?[a-zA-Z]", line, maxsplit=1)[0].strip()  # drop --hash=… and other per-line options
        if is_local(spec):
            raise Unsupported(f"{path} installs the local path {spec!r}, which needs the source")
        return []
    opts = _file_options(line, path)
    for opt, value in opts:
        if opt in ("-e", "--editable"):
            raise Unsupported(f"{path} has an editable install ({line}), which needs a local path or clones into ./src")
        if opt in ("-f", "--find-links") and (not _SCHEME.match(value) or value.startswith("file:")):
            raise Unsupported(f"{path} finds packages in the local directory {value}")
    # pip follows the first -r of a line, or else its first -c (req_file._parse_and_recurse).
    nested = [v for o, v in opts if o in ("-r", "--requirement")] or [v for o, v in opts if o in ("-c", "--constraint")]
    if not nested:
        return []
    value = _expand(nested[0], env, path)
    if _SCHEME.match(value) and not value.startswith("file:"):
        return []  # fetched from the network: nothing to copy
    if value.startswith("file:"):
        raise Unsupported(f"{path} includes {value}")
    return [value if value.startswith("/") else posixpath.normpath(posixpath.join(posixpath.dirname(path), value))]


def _file_options(line: str, path: str) -> list[tuple[str, str]]:
    """The options of a requirements-file line as pip reads them: shlex words, any number of options per line."""
    try:
        words = shlex.split(line)
    except ValueError:
        raise Unsupported(f"{path} has a line pip cannot split: {line}") from None
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if not w.startswith("-"):
            continue  # optparse leaves extra arguments over, and pip ignores them
        if w.startswith("--"):
            name, eq, value = w.partition("=")
            attached = bool(eq)
        else:
            name, value = w[:2], w[2:]  # `-rfile`; `-r=file` names the file `=file`, as optparse reads it
            attached = bool(value)
        takes = _REQ_FILE_OPTS.get(name)
        if takes is None or (attached and not takes):
            raise Unsupported(f"{path} uses the option {w}, which dockerfix does not know")
        if takes and not attached:
            if i >= len(words):
                raise Unsupported(f"{path}: the option {name} has no value")
            value = words[i]
            i += 1
        out.append((name, value))
    return out


def _expand(value: str, env: dict[str, str | None], path: str) -> str:
    def sub(m: re.Match[str]) -> str:
        v = env.get(m.group(1))
        if v is None:
            raise Unsupported(f"{path} uses ${{{m.group(1)}}}, whose value the Dockerfile does not give")
        return v

    return _ENV_VAR.sub(sub, value)


def plain_requirements(text: str, path: str) -> list[str]:
    """The specifiers of a file that must hold only requirement lines (no pip options)."""
    out = []
    for line in logical_lines(text):
        if line.startswith("-"):
            raise Unsupported(f"{path} has the pip option line {line.split()[0]!r}, which setuptools would read "
                              "as a requirement")
        spec = line.split(" --", 1)[0].strip()
        if is_local(spec):
            raise Unsupported(f"{path} installs the local path {spec!r}, which needs the source")
        out.append(spec)
    return out


# -------------------------------------------------------------------------------------- project metadata


@dataclass
class ProjectDeps:
    files: list[str]  # project-relative files whose lines are the dependencies (empty: none declared)
    metadata: list[str]  # the metadata files read


def load_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unsupported(f"{name} is not valid TOML ({exc})") from None


def project_deps(read: Reader, extras: str = "") -> ProjectDeps:
    """Where `pip install PROJECT` takes the dependencies from; `read` takes project-relative paths."""
    if extras:
        raise Unsupported(f"it installs the extras {extras}, whose dependencies are not in a requirements file")
    meta: list[str] = []
    pyproject = read("pyproject.toml")
    data: dict[str, Any] = {}
    if pyproject is not None:
        meta.append("pyproject.toml")
        data = load_toml(pyproject, "pyproject.toml")
        project = data.get("project")
        backend = str(data.get("build-system", {}).get("build-backend", "setuptools.build_meta:__legacy__"))
        if isinstance(project, dict):
            if "dependencies" not in project.get("dynamic", []):
                if project.get("dependencies"):
                    raise Unsupported("the dependencies are a list in pyproject.toml [project]; installing them "
                                      "first would need a copy of that list in the Dockerfile, which goes stale")
                return ProjectDeps([], meta)
            dyn = data.get("tool", {}).get("setuptools", {}).get("dynamic", {}).get("dependencies")
            if backend.startswith("setuptools") and isinstance(dyn, dict) and "file" in dyn:
                files = [dyn["file"]] if isinstance(dyn["file"], str) else list(dyn["file"])
                for f in files:
                    text = read(f)
                    if text is None:
                        raise Unsupported(f"cannot read {f}, which [tool.setuptools.dynamic] names")
                    plain_requirements(text, f)
                return ProjectDeps([posixpath.normpath(f) for f in files], meta)
            if not backend.startswith("setuptools"):
                raise Unsupported(f"the dependencies are dynamic, computed by the build backend {backend}")
        elif "poetry" in data.get("tool", {}) and backend.startswith("poetry"):
            deps = {k for k in data["tool"]["poetry"].get("dependencies", {}) if k.lower() != "python"}
            if deps:
                raise Unsupported("the dependencies are a list in pyproject.toml [tool.poetry]; installing them "
                                  "first would need a copy of that list in the Dockerfile, which goes stale")
            return ProjectDeps([], meta)
        elif not backend.startswith("setuptools"):
            raise Unsupported(f"the build backend {backend} decides the dependencies")
    setup_py = read("setup.py")
    if setup_py is not None:
        meta.append("setup.py")
        found = setup_py_deps(setup_py, read)
        if found is not None:
            return ProjectDeps(found, meta)
    setup_cfg = read("setup.cfg")
    if setup_cfg is not None:
        meta.append("setup.cfg")
        cfg = configparser.ConfigParser(interpolation=None)
        try:
            cfg.read_string(setup_cfg)
        except configparser.Error as exc:
            raise Unsupported(f"setup.cfg cannot be read ({exc.__class__.__name__})") from None
        value = cfg.get("options", "install_requires", fallback="").strip()
        if value.startswith("file:"):
            raise Unsupported("setup.cfg reads install_requires with `file:`, which dockerfix does not follow")
        if _setuptools_lines([value]):
            raise Unsupported("the dependencies are a list in setup.cfg; installing them first would need a copy "
                              "of that list in the Dockerfile, which goes stale")
    if not meta:
        raise Unsupported("the project has no pyproject.toml, setup.py or setup.cfg in the build context")
    return ProjectDeps([], meta)


def _setuptools_lines(values: Iterable[str]) -> list[str]:
    """What setuptools makes of install_requires strings (yield_lines, drop_comment, join_continuation)."""
    lines: list[str] = []
    for v in values:
        for line in v.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                lines.append(line)
    out: list[str] = []
    pending = ""
    for line in lines:
        line = line.partition(" #")[0].strip()
        if line.endswith("\\"):
            # join_continuation drops the character before the backslash too (`goo\` + `dly` is `godly`), and
            # a continued last line altogether.
            pending += line[:-2].strip()
            continue
        out.append((pending + line).strip())
        pending = ""
    return [x for x in out if x]


# ------------------------------------------------------------------------------------------------ setup.py


class _Here:
    """The project directory: `os.path.dirname(__file__)` and friends."""


class _File:
    pass


@dataclass
class _PathVal:
    rel: str  # project-relative


@dataclass
class _Handle:
    rel: str


_HERE = _Here()
_FILE = _File()


def setup_py_deps(text: str, read: Reader) -> list[str] | None:
    """The files setup.py reads install_requires from; None when setup() has no install_requires.

    The install_requires value is computed from the files' text with a tiny interpreter of the common
    idioms (open/read/splitlines/readlines, pathlib, comprehensions with str tests); the result must be
    exactly what pip reads from the same file, or the reading is refused.
    """
    import libcst as cst  # noqa: PLC0415 - costs ~0.2 s; only projects with a setup.py need it

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        raise Unsupported("setup.py is not valid Python") from None
    ev = _Evaluator(module, read, cst)
    call = ev.setup_call()
    if call is None:
        raise Unsupported("setup.py has no setup(…) call dockerfix can find")
    value_node = None
    for arg in call.args:
        if arg.star:
            raise Unsupported("setup.py passes **arguments to setup(), which hide install_requires")
        if arg.keyword is not None and arg.keyword.value == "install_requires":
            value_node = arg.value
    if value_node is None:
        return None
    value = ev.eval(value_node, {})
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unsupported("setup.py computes install_requires in a way dockerfix cannot read statically")
    deps = _setuptools_lines(value)
    if not ev.opened:
        if deps:
            raise Unsupported("the dependencies are a list in setup.py; installing them first would need a copy of "
                              "that list in the Dockerfile, which goes stale")
        return []
    if len(ev.opened) != 1:
        raise Unsupported("setup.py builds install_requires from several files")
    rel = ev.opened[0]
    file_text = read(rel)
    assert file_text is not None
    pip_view = plain_requirements(file_text, rel)
    if sorted(_norm(d) for d in deps) != sorted(_norm(d) for d in pip_view):
        raise Unsupported(f"setup.py changes the lines of {rel} (filters or edits them), so `pip install -r {rel}` "
                          "would install something else")
    return [rel]


def _norm(spec: str) -> str:
    return re.sub(r"\s+", "", spec)


class _Evaluator:
    """Evaluates a small, side-effect-free subset of Python over setup.py's syntax tree."""

    MAX_DEPTH = 30

    def __init__(self, module: Any, read: Reader, cst: Any) -> None:
        self.cst = cst
        self.read = read
        self.opened: list[str] = []
        self.assigns: dict[str, list[Any]] = {}
        self.funcs: dict[str, Any] = {}
        self.module = module
        self.depth = 0
        self.collected: set[int] = set()  # the statements whose assignments `assigns` holds
        for stmt in module.body:
            self._collect(stmt)
        self.changed = self._changed_names()

    def _collect(self, stmt: Any) -> None:
        cst = self.cst
        if isinstance(stmt, cst.FunctionDef):
            self.funcs[stmt.name.value] = stmt
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    self.collected.add(id(small))
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            self.assigns.setdefault(t.target.value, []).append(small.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
                    self.collected.add(id(small))
                    self.assigns.setdefault(small.target.value, []).append(small.value)
        elif isinstance(stmt, cst.With):
            self.collected.add(id(stmt))
            for item in stmt.items:
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    self.assigns.setdefault(item.asname.name.value, []).append(item.item)
            for inner in stmt.body.body:
                self._collect(inner)

    def _changed_names(self) -> set[str]:
        """Names whose value is not (only) what their top-level assignments say: assigned again inside a block,
        augmented (`reqs += [...]`), changed in place (`reqs.append(...)`, `reqs[0] = ...`) or made `global`."""
        cst = self.cst
        collected = self.collected
        changed: set[str] = set()

        def names(node: Any, rebinds: bool = True) -> None:
            # The names a target changes: `a` and `a, b` when it binds module-level names, and the `a` of
            # `a[0]` / `a.x` wherever it is (that changes the object itself).
            if isinstance(node, cst.Name):
                if rebinds:
                    changed.add(node.value)
            elif isinstance(node, (cst.Tuple, cst.List)):
                for el in node.elements:
                    names(el.value, rebinds)
            elif isinstance(node, (cst.Subscript, cst.Attribute)):
                names(node.value)

        class Finder(cst.CSTVisitor):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.nested = 0  # inside a function or class: its plain assignments are its own

            def visit_FunctionDef(self, node: Any) -> None:
                self.nested += 1

            def leave_FunctionDef(self, node: Any) -> None:
                self.nested -= 1

            def visit_ClassDef(self, node: Any) -> None:
                self.nested += 1

            def leave_ClassDef(self, node: Any) -> None:
                self.nested -= 1

            def _bind(self, node: Any, target: Any) -> None:
                # A function's own names are local (`global` is seen separately); the top-level assignments
                # are the ones `assigns` holds.
                names(target, rebinds=not self.nested and id(node) not in collected)

            def visit_Assign(self, node: Any) -> None:
                for t in node.targets:
                    self._bind(node, t.target)

            def visit_AnnAssign(self, node: Any) -> None:
                if node.value is not None:
                    self._bind(node, node.target)

            def visit_AugAssign(self, node: Any) -> None:
                names(node.target, rebinds=not self.nested)

            def visit_For(self, node: Any) -> None:
                self._bind(node, node.target)

            def visit_With(self, node: Any) -> None:
                for item in node.items:
                    if item.asname is not None:
                        self._bind(node, item.asname.name)

            def visit_Del(self, node: Any) -> None:
                names(node.target, rebinds=not self.nested)

            def visit_NamedExpr(self, node: Any) -> None:
                names(node.target, rebinds=not self.nested)

            def visit_Global(self, node: Any) -> None:
                changed.update(n.name.value for n in node.names)

            def visit_Call(self, node: Any) -> None:
                if isinstance(node.func, cst.Attribute) and node.func.attr.value in _MUTATORS:
                    names(node.func.value)

        self.module.visit(Finder())
        return changed

    def setup_call(self) -> Any:
        cst = self.cst
        found: list[Any] = []

        class Finder(cst.CSTVisitor):  # type: ignore[misc, name-defined]
            def visit_Call(self, node: Any) -> None:
                name = _dotted(node.func, cst)
                if name in ("setup", "setuptools.setup", "distutils.core.setup"):
                    found.append(node)

        self.module.visit(Finder())
        return found[0] if len(found) == 1 else None

    def fail(self, node: Any = None) -> Unsupported:
        return Unsupported("setup.py computes install_requires in a way dockerfix cannot read statically")

    def eval(self, node: Any, scope: dict[str, Any]) -> Any:
        self.depth += 1
        try:
            if self.depth > self.MAX_DEPTH:
                raise self.fail()
            return self._eval(node, scope)
        finally:
            self.depth -= 1

    def _eval(self, node: Any, scope: dict[str, Any]) -> Any:
        cst = self.cst
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            if not isinstance(value, str):
                raise self.fail()
            return value
        if isinstance(node, cst.Name):
            name = node.value
            if name == "__file__":
                return _FILE
            if name in scope:
                return scope[name]
            if name in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[name]
            if name in self.changed:
                raise self.fail()
            values = self.assigns.get(name, [])
            if len(values) != 1:
                raise self.fail()
            return self.eval(values[0], {})
        if isinstance(node, (cst.List, cst.Tuple)):
            out = []
            for el in node.elements:
                if isinstance(el, cst.StarredElement):
                    v = self.eval(el.value, scope)
                    if not isinstance(v, list):
                        raise self.fail()
                    out.extend(v)
                else:
                    out.append(self.eval(el.value, scope))
            return out
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return self._comprehension(node, scope)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.eval(node.left, scope), self.eval(node.right, scope)
            if isinstance(node.operator, cst.Add) and type(left) is type(right) and isinstance(left, (list, str)):
                return left + right
            if isinstance(node.operator, cst.Divide) and isinstance(left, (_Here, _PathVal)) and isinstance(right, str):
                return self._join(left, right)
            raise self.fail()
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return not self._truth(self.eval(node.expression, scope))
        if isinstance(node, cst.BooleanOperation):
            left = self.eval(node.left, scope)
            if isinstance(node.operator, cst.And):
                return self.eval(node.right, scope) if self._truth(left) else left
            return left if self._truth(left) else self.eval(node.right, scope)
        if isinstance(node, cst.Comparison):
            return self._compare(node, scope)
        if isinstance(node, cst.Attribute):
            base = self.eval(node.value, scope)
            attr = node.attr.value
            if attr == "parent" and isinstance(base, _File):
                return _HERE
            if attr == "parent" and isinstance(base, _Here):
                raise Unsupported("setup.py reads from the directory above the project")
            raise self.fail()
        if isinstance(node, cst.Call):
            return self._call(node, scope)
        raise self.fail()

    def _truth(self, v: Any) -> bool:
        if isinstance(v, (str, list, bool, int)) or v is None:
            return bool(v)
        raise self.fail()

    def _compare(self, node: Any, scope: dict[str, Any]) -> bool:
        cst = self.cst
        left = self.eval(node.left, scope)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            op = target.operator
            if not isinstance(left, (str, int)) or not isinstance(right, (str, int, list)):
                raise self.fail()
            if isinstance(op, cst.Equal):
                ok = left == right
            elif isinstance(op, cst.NotEqual):
                ok = left != right
            elif isinstance(op, cst.In):
                ok = left in right  # type: ignore[operator]
            elif isinstance(op, cst.NotIn):
                ok = left not in right  # type: ignore[operator]
            else:
                raise self.fail()
            if not ok:
                return False
            left = right
        return True

    def _comprehension(self, node: Any, scope: dict[str, Any]) -> list[Any]:
        cst = self.cst
        comp = node.for_in
        if comp.inner_for_in is not None or not isinstance(comp.target, cst.Name):
            raise self.fail()
        items = self._iterate(self.eval(comp.iter, scope))
        out = []
        for item in items:
            inner = dict(scope)
            inner[comp.target.value] = item
            if all(self._truth(self.eval(cond.test, inner)) for cond in comp.ifs):
                out.append(self.eval(node.elt, inner))
        return out

    def _iterate(self, value: Any) -> list[Any]:
        if isinstance(value, _Handle):
            return self._text(value.rel).splitlines(keepends=True)
        if isinstance(value, list):
            return value
        raise self.fail()

    def _text(self, rel: str) -> str:
        text = self.read(rel)
        if text is None:
            raise Unsupported(f"setup.py reads {rel}, which is not in the build context")
        if rel not in self.opened:
            self.opened.append(rel)
        return text

    def _join(self, base: Any, *parts: Any) -> _PathVal:
        if not all(isinstance(p, str) for p in parts):
            raise self.fail()
        root = "" if isinstance(base, _Here) else base.rel if isinstance(base, _PathVal) else None
        if root is None:
            if isinstance(base, str) and not base.startswith("/"):
                root = base
            else:
                raise self.fail()
        rel = posixpath.normpath(posixpath.join(root, *parts))
        if rel.startswith(".."):
            raise Unsupported(f"setup.py reads {rel}, outside the project")
        return _PathVal(rel)

    def _as_path(self, v: Any) -> _PathVal:
        if isinstance(v, _PathVal):
            return v
        if isinstance(v, str) and not v.startswith("/"):
            return _PathVal(posixpath.normpath(v))
        raise self.fail()

    def _call(self, node: Any, scope: dict[str, Any]) -> Any:
        cst = self.cst
        func = node.func
        name = _dotted(func, cst)
        args = [a for a in node.args if a.keyword is None]
        if any(a.star for a in node.args):
            raise self.fail()
        if name in ("open", "io.open", "codecs.open"):
            if not args:
                raise self.fail()
            mode = self.eval(args[1].value, scope) if len(args) > 1 else "r"
            if mode not in ("r", "rt", "U", "rU"):
                raise self.fail()
            return _Handle(self._as_path(self.eval(args[0].value, scope)).rel)
        if name in ("os.path.dirname", "path.dirname", "dirname"):
            v = self.eval(args[0].value, scope)
            if isinstance(v, _File):
                return _HERE
            if isinstance(v, _Here):
                raise Unsupported("setup.py reads from the directory above the project")
            raise self.fail()
        if name in ("os.path.abspath", "path.abspath", "abspath", "os.path.realpath", "path.realpath", "realpath"):
            v = self.eval(args[0].value, scope)
            if isinstance(v, (_File, _Here, _PathVal)):
                return v
            raise self.fail()
        if name in ("os.path.join", "path.join", "join") and args:
            vals = [self.eval(a.value, scope) for a in args]
            return self._join(vals[0], *vals[1:])
        if name in ("Path", "pathlib.Path", "PurePath", "pathlib.PurePath"):
            vals = [self.eval(a.value, scope) for a in args]
            if len(vals) == 1 and isinstance(vals[0], (_File, _Here)):
                return vals[0]
            if vals and all(isinstance(v, str) for v in vals):
                return self._join(_HERE, *vals)
            raise self.fail()
        if name in ("list", "tuple", "sorted") and len(args) == 1:
            return list(self._iterate(self.eval(args[0].value, scope)))
        if name == "filter" and len(args) == 2 and isinstance(args[0].value, cst.Name) and args[0].value.value == "None":
            return [x for x in self._iterate(self.eval(args[1].value, scope)) if self._truth(x)]
        if name == "map" and len(args) == 2 and _dotted(args[0].value, cst) in ("str.strip", "str.rstrip"):
            method = _dotted(args[0].value, cst).split(".")[1]
            return [getattr(x, method)() for x in self._iterate(self.eval(args[1].value, scope)) if isinstance(x, str)]
        if name == "len" and len(args) == 1:
            v = self.eval(args[0].value, scope)
            if isinstance(v, (str, list)):
                return len(v)
            raise self.fail()
        if isinstance(func, cst.Attribute):
            return self._method(self.eval(func.value, scope), func.attr.value, [self.eval(a.value, scope) for a in args],
                                bool(node.args) and any(a.keyword is not None for a in node.args))
        if isinstance(func, cst.Name) and func.value in self.funcs:
            return self._user_function(self.funcs[func.value], [self.eval(a.value, scope) for a in args], node)
        raise self.fail()

    def _method(self, obj: Any, attr: str, args: list[Any], has_keywords: bool) -> Any:
        if isinstance(obj, (_Here, _File)) and attr in ("resolve", "absolute") and not args:
            return obj
        if isinstance(obj, (_Here, _PathVal)) and attr == "joinpath":
            return self._join(obj, *args)
        if isinstance(obj, _PathVal) and attr == "open" and not args:
            return _Handle(obj.rel)
        if isinstance(obj, _PathVal) and attr == "read_text" and not args:
            return self._text(obj.rel)
        if isinstance(obj, _Handle) and not args:
            if attr == "read":
                return self._text(obj.rel)
            if attr == "readlines":
                return self._text(obj.rel).splitlines(keepends=True)
        if isinstance(obj, str):
            if attr in ("strip", "rstrip", "lstrip") and len(args) <= 1 and all(isinstance(a, str) for a in args):
                return getattr(obj, attr)(*args)
            if attr == "splitlines" and not args:
                return obj.splitlines()
            if attr == "split" and args in (["\n"], ["\r\n"]):
                return obj.split(args[0])
            if attr in ("startswith", "endswith") and len(args) == 1:
                a = args[0]
                if isinstance(a, list):
                    a = tuple(a)
                if isinstance(a, (str, tuple)):
                    return getattr(obj, attr)(a)
            if attr in ("isspace",) and not args:
                return obj.isspace()
        raise self.fail()

    def _user_function(self, fn: Any, args: list[Any], node: Any) -> Any:
        """Run a helper like `def read(name): with open(name) as f: return f.read().splitlines()`."""
        cst = self.cst
        params = fn.params
        if params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or params.kwonly_params or params.star_kwarg:
            raise self.fail()
        names = [p.name.value for p in params.params]
        if len(args) > len(names):
            raise self.fail()
        scope: dict[str, Any] = {}
        for i, p in enumerate(params.params):
            if i < len(args):
                scope[p.name.value] = args[i]
            elif p.default is not None:
                scope[p.name.value] = self.eval(p.default, {})
            else:
                raise self.fail()
        result = self._run_block(fn.body.body, scope)
        if result is _NO_RETURN:
            raise self.fail()
        return result

    def _run_block(self, body: Any, scope: dict[str, Any]) -> Any:
        cst = self.cst
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Return):
                        if small.value is None:
                            raise self.fail()
                        return self.eval(small.value, scope)
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                        scope[small.targets[0].target.value] = self.eval(small.value, scope)
                    elif isinstance(small, cst.Expr) and i == 0 and isinstance(small.value, cst.SimpleString):
                        continue  # docstring
                    elif isinstance(small, cst.Pass):
                        continue
                    else:
                        raise self.fail()
            elif isinstance(stmt, cst.With):
                for item in stmt.items:
                    v = self.eval(item.item, scope)
                    if item.asname is not None:
                        if not isinstance(item.asname.name, cst.Name):
                            raise self.fail()
                        scope[item.asname.name.value] = v
                result = self._run_block(stmt.body.body, scope)
                if result is not _NO_RETURN:
                    return result
            else:
                raise self.fail()
        return _NO_RETURN


_NO_RETURN = object()
# Methods that change a list, dict or set in place.
_MUTATORS = frozenset("append extend insert remove pop clear sort reverse update add discard setdefault".split())


def _dotted(node: Any, cst: Any) -> str:
    if isinstance(node, cst.Name):
        return str(node.value)
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value, cst)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


# ------------------------------------------------------------------------------- poetry, uv, pdm, pipenv


def _local_pep508(specs: Iterable[Any]) -> str | None:
    for s in specs:
        if isinstance(s, str) and (is_local(s) or s.lstrip().startswith("-e")):
            return s
    return None


def _project_tables(data: dict[str, Any]) -> list[Any]:
    project = data.get("project", {})
    specs: list[Any] = list(project.get("dependencies", []) or [])
    for group in (project.get("optional-dependencies", {}) or {}).values():
        specs.extend(group or [])
    for group in (data.get("dependency-groups", {}) or {}).values():
        specs.extend(group or [])
    return specs


def poetry_package_mode(text: str) -> bool:
    """Whether `poetry install` also installs the project itself; raises for path dependencies."""
    data = load_toml(text, "pyproject.toml")
    poetry = data.get("tool", {}).get("poetry")
    if poetry is None and "project" not in data:
        raise Unsupported("pyproject.toml has neither [tool.poetry] nor [project]")
    poetry = poetry or {}
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values()]
    for table in tables:
        for name, spec in (table or {}).items():
            for s in spec if isinstance(spec, list) else [spec]:
                if isinstance(s, dict) and ("path" in s or s.get("develop")):
                    what = f"the local path {s['path']}" if "path" in s else "installed in develop (editable) mode"
                    raise Unsupported(f"the dependency {name} is {what}, which needs the source")
    local = _local_pep508(_project_tables(data))
    if local:
        raise Unsupported(f"the dependency {local!r} is a local path, which needs the source")
    return bool(poetry.get("package-mode", True))


def uv_is_package(text: str) -> bool:
    """Whether `uv sync` also installs the project itself; raises for workspaces and path sources."""
    data = load_toml(text, "pyproject.toml")
    uv = data.get("tool", {}).get("uv", {}) or {}
    if "workspace" in uv:
        raise Unsupported("the project is a uv workspace, whose members need their sources")
    for name, src in (uv.get("sources", {}) or {}).items():
        for s in src if isinstance(src, list) else [src]:
            if isinstance(s, dict) and ("path" in s or s.get("workspace") or s.get("editable")):
                raise Unsupported(f"the source of {name} is a local path or workspace member, which needs the source")
    return _is_package(data, _project_tables(data), uv.get("package"))


def pdm_is_package(text: str) -> bool:
    data = load_toml(text, "pyproject.toml")
    pdm = data.get("tool", {}).get("pdm", {}) or {}
    specs = _project_tables(data)
    for group in (pdm.get("dev-dependencies", {}) or {}).values():
        specs.extend(group or [])
    return _is_package(data, specs, pdm.get("distribution"))


def _is_package(data: dict[str, Any], specs: list[Any], setting: object) -> bool:
    """uv and pdm: the tool's own setting decides, else a build system makes the project a package."""
    local = _local_pep508(specs)
    if local:
        raise Unsupported(f"the dependency {local!r} is a local path, which needs the source")
    return bool(setting) if setting is not None else "build-system" in data


def check_pipfile(text: str) -> None:
    data = load_toml(text, "Pipfile")
    for section, table in data.items():
        if section in ("source", "requires", "pipenv", "scripts") or not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if isinstance(spec, dict) and ("path" in spec or spec.get("editable") or
                                           str(spec.get("file", "")).startswith(("file:", ".", "/"))):
                raise Unsupported(f"the Pipfile entry {name} is a local path, which needs the source")
