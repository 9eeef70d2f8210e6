"""deps-first: files and folders that an install reads because an option or a variable names them (a find-links
folder of wheels, a CA bundle, a `file:` index), beside the manifests: they are copied first like the manifests.
"""

from __future__ import annotations

import re

from dockerfix.refactor.context import pydeps
from dockerfix.refactor.dockerfile.resolve import State, join
from dockerfix.transforms._deps_plan import Refuse

# pip and `uv pip` options whose value may be a local file or folder the install reads.
PIP_PATH_OPTS = ("-f", "--find-links", "--cert", "--client-cert", "-i", "--index-url", "--extra-index-url",
                 "--index", "--default-index")
# uv sync/lock options of the same kind.
UV_PATH_OPTS = ("-f", "--find-links", "--index-url", "--extra-index-url", "--index", "--default-index")
# Variables naming files or folders the tools read; the value may list several, separated by white space.
PATH_VARS = ("PIP_FIND_LINKS", "PIP_CERT", "PIP_CLIENT_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
             "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "UV_FIND_LINKS",
             "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX", "NODE_EXTRA_CA_CERTS",
             "NPM_CONFIG_CAFILE", "npm_config_cafile")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def local_path(value: str, cwd: str | None, what: str) -> str | None:
    """The image path a find-links/cert/index value names, or None when it is fetched from the network."""
    v = value.strip()
    if not v:
        return None
    if "=" in v and not v.startswith(("/", ".", "file:")):
        v = v.split("=", 1)[1]  # uv's named indexes: `--index name=URL`
    if v.startswith("file://"):
        v = v[len("file://"):]
        if not v.startswith("/"):
            raise Refuse(f"{what} names {value}, a file URL with a host")
    elif v.startswith("file:"):
        v = v[len("file:"):]
    elif _SCHEME.match(v):
        return None  # http://, https://, git+…: the network
    if v.startswith("~") or "%" in v or "$" in v:
        raise Refuse(f"{what} names {value}, whose path dockerfix cannot tell (HOME, %-escapes or a variable)")
    full = join(cwd, v)
    if full is None:
        raise Refuse(f"{what} names the relative path {value}, and the working directory is unknown")
    return full


def pip_option_paths(pip: pydeps.PipCall, cwd: str | None, label: str) -> list[str]:
    out = []
    for opt in PIP_PATH_OPTS:
        for v in pip.options.get(opt, []):
            p = local_path(v, cwd, f"{label}: {opt}")
            if p is not None:
                out.append(p)
    return out


def option_paths(opts: dict[str, str], names: tuple[str, ...], cwd: str | None, label: str) -> list[str]:
    out = []
    for opt in names:
        if opt in opts:
            p = local_path(opts[opt], cwd, f"{label}: {opt}")
            if p is not None:
                out.append(p)
    return out


def env_paths(st: State, cwd: str | None) -> list[str]:
    """The files and folders the variables of PATH_VARS name, relative ones from the install's directory."""
    out = []
    for var in PATH_VARS:
        if var not in st.env:
            continue
        v = st.env[var]
        if v is None:
            raise Refuse(f"{var} is set to a value the Dockerfile does not give, and the install may read the file "
                         "it names")
        for part in v.split():
            p = local_path(part, cwd, var)
            if p is not None:
                out.append(p)
    return out
