"""Requirements files as pip reads them: logical lines, the files they include with -r/-c, their options."""

from __future__ import annotations

import posixpath
import re
import shlex

from dockerfix.refactor.context.pipcall import SCHEME, is_local
from dockerfix.refactor.context.pymeta import Reader, Unsupported, load_toml, local_pep508, project_tables

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
        local = local_pep508(project_tables(data))
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
        if opt in ("-f", "--find-links") and (not SCHEME.match(value) or value.startswith("file:")):
            raise Unsupported(f"{path} finds packages in the local directory {value}")
    # pip follows the first -r of a line, or else its first -c (req_file._parse_and_recurse).
    nested = [v for o, v in opts if o in ("-r", "--requirement")] or [v for o, v in opts if o in ("-c", "--constraint")]
    if not nested:
        return []
    value = _expand(nested[0], env, path)
    if SCHEME.match(value) and not value.startswith("file:"):
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
