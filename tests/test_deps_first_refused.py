"""deps-first: the cases it refuses, each with the reason its finding gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockerfix.refactor.engine import run

from .deps_cases import (HEAD, NAME, NPM, PDM, PIPENV, PNPM, POETRY, PROJECT_NO_DEPS, REQS, SETUP_PY, UV, YARN_BERRY,
                         _context)


REFUSED: dict[str, tuple[dict[str, str], str, str]] = {
    "editable-local-in-requirements": (
        {"requirements.txt": "flask\n-e ./lib\n", "lib/setup.py": ""},
        HEAD + "COPY . .\nRUN pip install -r requirements.txt\n", "editable install",
    ),
    "local-path-in-requirements": (
        {"requirements.txt": "./pkg\n", "pkg/setup.py": ""},
        HEAD + "COPY . .\nRUN pip install -r requirements.txt\n", "local path './pkg'",
    ),
    "file-url-in-requirements": (
        {"requirements.txt": "x @ file:///app/x\n"},
        HEAD + "COPY . .\nRUN pip install -r requirements.txt\n", "local path",
    ),
    "parent-path-in-nested": (
        {"requirements.txt": "-r sub/r.txt\n", "sub/r.txt": "../x\n"},
        HEAD + "COPY . .\nRUN pip install -r requirements.txt\n", "local path '../x'",
    ),
    "missing-requirements": (
        {"app.py": ""}, HEAD + "COPY . .\nRUN pip install -r requirements.txt\n", "cannot read /app/requirements.txt",
    ),
    "excluded-by-dockerignore": (
        {**REQS, ".dockerignore": "*.txt\n"}, HEAD + "COPY . .\nRUN pip install -r requirements.txt\n",
        "cannot read /app/requirements.txt",
    ),
    "run-between": (
        REQS, HEAD + "COPY . .\nRUN make\nRUN pip install -r requirements.txt\n", "the RUN at line 4 runs between",
    ),
    "volume-between": (
        REQS, HEAD + "COPY . .\nVOLUME /data\nRUN pip install -r requirements.txt\n", "the VOLUME at line 4",
    ),
    "copy-uses-changed-variable": (
        REQS, "FROM python:3.12\nENV D=/app\nCOPY . $D\nENV D=/other\nRUN pip install -r /app/requirements.txt\n",
        "uses `$D`",
    ),
    "workdir-would-create-dest-with-other-owner": (
        REQS, "FROM python:3.12\nCOPY --chown=1000:1000 . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\n",
        "WORKDIR at line 3 would create /app",
    ),
    "workdir-would-create-dest-as-non-root-user": (
        REQS, "FROM python:3.12\nCOPY . /app\nUSER 1000\nWORKDIR /app\nRUN pip install --user -r requirements.txt\n",
        "WORKDIR at line 4 would create /app",
    ),
    "rest-removes-files-outside": (
        REQS, HEAD + "COPY . .\nRUN pip install -r requirements.txt && python -m compileall app && rm -rf /root/.cache\n",
        "keep those files in an earlier layer",
    ),
    "static-pyproject-deps": (
        {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = ["flask"]\n'},
        HEAD + "COPY . .\nRUN pip install .\n", "a list in pyproject.toml",
    ),
    "dynamic-deps-other-backend": (
        {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndynamic = ["dependencies"]\n'
                           '[build-system]\nbuild-backend = "hatchling.build"\n'},
        HEAD + "COPY . .\nRUN pip install .\n", "hatchling.build",
    ),
    "setup-py-filters-requirements": (
        {"requirements.txt": "flask\ntorch\n",
         "setup.py": "from setuptools import setup\nreqs = open('requirements.txt').read().splitlines()\n"
                     "setup(install_requires=[r for r in reqs if not r.startswith('torch')])\n"},
        HEAD + "COPY . .\nRUN pip install .\n", "changes the lines of requirements.txt",
    ),
    "setup-py-computed": (
        {"setup.py": "import subprocess\nfrom setuptools import setup\n"
                     "setup(install_requires=subprocess.check_output(['x']).split())\n"},
        HEAD + "COPY . .\nRUN pip install .\n", "cannot read statically",
    ),
    "setup-py-static-list": (
        {"setup.py": "from setuptools import setup\nsetup(install_requires=['flask'])\n"},
        HEAD + "COPY . .\nRUN pip install .\n", "a list in setup.py",
    ),
    "extras": (
        SETUP_PY, HEAD + "COPY . .\nRUN pip install '.[dev]'\n", "extras",
    ),
    "npm-postinstall": (
        {**NPM, "package.json": json.dumps({"name": "x", "scripts": {"postinstall": "node patch.js"}})},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "postinstall",
    ),
    "npm-workspaces": (
        {**NPM, "package.json": json.dumps({"name": "x", "workspaces": ["packages/*"]})},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "workspaces",
    ),
    "node-modules-in-context": (
        {**NPM, ".dockerignore": "", "node_modules/left-pad/index.js": ""},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "writes /app/node_modules",
    ),
    "poetry-path-dependency": (
        {**POETRY, "pyproject.toml": POETRY["pyproject.toml"] + 'lib = { path = "./lib" }\n'},
        HEAD + "COPY . .\nRUN poetry install\n", "local path ./lib",
    ),
    "poetry-without-lock": (
        {"pyproject.toml": POETRY["pyproject.toml"]}, HEAD + "COPY . .\nRUN poetry install\n", "no poetry.lock",
    ),
    "bind-mount": (
        REQS, "# syntax=docker/dockerfile:1\n" + HEAD + "COPY . .\n"
                                                     "RUN --mount=type=bind,source=x,target=/x pip install -r requirements.txt\n",
        "bind mount",
    ),
    "inside-if": (
        REQS, HEAD + "COPY . .\nRUN if true; then pip install -r requirements.txt; fi\n", "compound command",
    ),
    "split-needs-and": (
        REQS, HEAD + "COPY . .\nRUN pip install -r requirements.txt; python -m compileall app\n", "joined by &&",
    ),
    "command-before-install-needs-source": (
        REQS, HEAD + "COPY . .\nRUN python gen.py && pip install -r requirements.txt\n", "which may need the source",
    ),
    "venv-in-context": (
        {**REQS, ".venv/bin/python": ""},
        HEAD + "COPY . .\nRUN python -m venv .venv && .venv/bin/pip install -r requirements.txt\n", "writes /app/.venv",
    ),
    "home-config-in-context": (
        {**REQS, ".config/pip/pip.conf": "[global]\n"},
        "FROM python:3.12\nWORKDIR /root\nCOPY . .\nRUN pip install -r requirements.txt\n", "writes /root/.config",
    ),
    "copy-from-onto-the-install-outputs": (
        NPM, "FROM node:20\nWORKDIR /app\nCOPY . .\nCOPY --from=deps /x/node_modules ./node_modules\nRUN npm ci\n",
        "the COPY at line 4 writes /app/node_modules, and `npm ci` writes there",
    ),
    "unparsable-run": (
        REQS, HEAD + "COPY . .\nRUN pip install -r requirements.txt && (\n", "the RUN cannot be analysed",
    ),
    "heredoc-needs-splitting": (
        REQS, "# syntax=docker/dockerfile:1\n" + HEAD + "COPY . .\nRUN <<EOF\npip install -r requirements.txt\n"
                                                       "python -m compileall .\nEOF\n",
        "dockerfix does only for a plain shell-form RUN",
    ),
    "cd-home-unknown": (REQS, HEAD + "COPY . .\nRUN cd && pip install -r requirements.txt\n",
                        "the working directory of the install is unknown"),
    "pip-config-file-variable": (REQS, HEAD + "ENV PIP_CONFIG_FILE=/app/pip.conf\nCOPY . .\n"
                                              "RUN pip install -r requirements.txt\n", "PIP_CONFIG_FILE is set"),
    "copy-exclude-flag": (REQS, "# syntax=docker/dockerfile:1.7-labs\n" + HEAD + "COPY --exclude=*.md . .\n"
                                                                                "RUN pip install -r requirements.txt\n",
                          "the COPY at line 4 uses --exclude"),
    "copy-source-unknown-variable": (REQS, HEAD + "COPY $SRC .\nRUN pip install -r requirements.txt\n",
                                     "a source of the COPY at line 3 uses an unknown variable"),
    "moved-copy-source-missing": (REQS, HEAD + "COPY . .\nCOPY nothere.txt /etc/x\nRUN pip install -r requirements.txt\n",
                                  "the COPY at line 4: nothere.txt is not in the build context"),
    "requirements-from-another-stage": (
        REQS, HEAD + "COPY . .\nCOPY --from=build /src/requirements.txt ./requirements.txt\n"
                     "RUN pip install -r requirements.txt\n",
        "/app/requirements.txt comes from the COPY at line 4, not from the build context",
    ),
    "install-uses-unknown-variable": (REQS, HEAD + "COPY . .\nRUN pip install -r $REQS\n",
                                      "uses a variable or wildcard whose value is unknown"),
    "redirected-command-before": (REQS, HEAD + "COPY . .\nRUN echo x > /tmp/x && pip install -r requirements.txt\n",
                                  "runs after `echo x`, which may need the source"),
    "unknown-variable-before": (REQS, HEAD + "COPY . .\nRUN pip install $PKG && pip install -r requirements.txt\n",
                                "runs after `pip install $PKG`"),
    "pip-target-relative-to-unknown-workdir": (REQS, "FROM python:3.12\nCOPY . /app\n"
                                                     "RUN pip install -t lib -r /app/requirements.txt\n",
                                               "the pip option -t lib is relative to an unknown directory"),
    "poetry-unknown-workdir": (POETRY, "FROM python:3.12\nCOPY . /app\nRUN poetry install\n",
                               "the working directory of the install is unknown"),
    "poetry-without-pyproject": ({"poetry.lock": ""}, HEAD + "COPY . .\nRUN poetry install\n",
                                 "poetry install: cannot read pyproject.toml"),
    "poetry-exec-form-needs-splitting": (POETRY, HEAD + 'COPY . .\nRUN ["poetry", "install"]\n',
                                         "the install is in exec form and would need to be split"),
    "uv-package-option": (UV, HEAD + "COPY . .\nRUN uv sync --frozen --package x\n", "it syncs workspace packages"),
    "uv-all-packages": (UV, HEAD + "COPY . .\nRUN uv sync --all-packages\n", "it syncs workspace packages"),
    "uv-without-pyproject": ({"uv.lock": ""}, HEAD + "COPY . .\nRUN uv sync\n", "uv sync: cannot read pyproject.toml"),
    "uv-without-lock": ({"pyproject.toml": UV["pyproject.toml"]}, HEAD + "COPY . .\nRUN uv sync\n", "there is no uv.lock"),
    "uv-workspace": ({**UV, "pyproject.toml": UV["pyproject.toml"] + '[tool.uv.workspace]\nmembers = ["p/*"]\n'},
                     HEAD + "COPY . .\nRUN uv sync --frozen\n", "the project is a uv workspace"),
    "uv-pip-dynamic-pyproject": (
        {"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies", "version"]\n'
                           '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.txt"]}\n',
         "requirements.txt": "flask\n"},
        HEAD + "COPY . .\nRUN uv pip install --system -r pyproject.toml\n",
        "uv builds the project to read the dependencies of /app/pyproject.toml",
    ),
    "pipenv-without-pipfile": ({"Pipfile.lock": "{}"}, HEAD + "COPY . .\nRUN pipenv install --deploy\n",
                               "cannot read Pipfile"),
    "pipenv-local-path": ({**PIPENV, "Pipfile": '[packages]\nlib = {path = "./lib"}\n'},
                          HEAD + "COPY . .\nRUN pipenv sync\n", "the Pipfile entry lib is a local path"),
    "pdm-without-pyproject": ({"pdm.lock": ""}, HEAD + "COPY . .\nRUN pdm install\n", "pdm install: cannot read pyproject"),
    "pdm-without-lock": ({"pyproject.toml": PDM["pyproject.toml"]}, HEAD + "COPY . .\nRUN pdm sync\n",
                         "there is no pdm.lock"),
    "pip-vcs-editable": (REQS, HEAD + "COPY . .\nRUN pip install -r requirements.txt -e git+https://github.com/a/b.git"
                                      "#egg=b\n", "clones into ./src"),
    "pip-local-wheel": (REQS, HEAD + "COPY . .\nRUN pip install -r requirements.txt dist/x-1.0-py3-none-any.whl\n",
                        "it installs the local file dist/x-1.0-py3-none-any.whl"),
    "pip-dependency-group": (REQS, HEAD + "COPY . .\nRUN pip install --group dev -r requirements.txt\n",
                             "--group reads dependency groups"),
    "uv-config-file-relative-to-unknown-workdir": (
        {**REQS, "uv.toml": ""},
        "FROM python:3.12\nCOPY . /app\nRUN uv pip install --system --config-file uv.toml -r /app/requirements.txt\n",
        "--config-file uv.toml is relative to an unknown directory",
    ),
    "requirements-relative-to-unknown-workdir": (REQS, "FROM python:3.12\nCOPY . /app\nRUN pip install -r requirements.txt\n",
                                                 "the working directory of the install is unknown"),
    "several-local-projects": (REQS, HEAD + "COPY . .\nRUN pip install -r requirements.txt ./a ./b\n",
                               "it installs several local projects"),
    "project-relative-to-unknown-workdir": ({**REQS, "setup.py": ""}, "FROM python:3.12\nCOPY . /app\n"
                                                                      "RUN pip install -r /app/requirements.txt .\n",
                                            "the working directory of the install is unknown"),
    "exec-form-needs-splitting": (PROJECT_NO_DEPS, HEAD + 'COPY . .\nRUN ["pip", "install", "-r", "requirements.txt", "."]\n',
                                  "the install is in exec form and would need to be split"),
    # npm 8.4+, yarn and pnpm install a workspace member from the workspace root above it (before, the member's
    # install moved above the COPY that brings the root, and ran as a standalone project).
    "npm-project-inside-a-workspace": (
        {"package.json": json.dumps({"name": "root", "workspaces": ["web"]}), "package-lock.json": "{}",
         "web/package.json": json.dumps({"name": "web"}), "web/src/a.js": ""},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cd web && npm install\n", "/app holds a workspace, which npm takes",
    ),
    "pnpm-project-inside-a-workspace": (
        {"pnpm-workspace.yaml": "packages:\n  - web\n", "web/package.json": json.dumps({"name": "web"}), "web/a.js": ""},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN pnpm --dir web install\n", "/app holds a workspace",
    ),
    "npm-project-below-an-unreadable-package-json": (
        {"package.json": "{", "web/package.json": json.dumps({"name": "web"}), "web/a.js": ""},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci --prefix web\n", "/app holds a workspace",
    ),
    # The lockfile lives elsewhere: it was not copied first (before, the frozen install moved without it).
    "pnpm-lockfile-dir": ({**PNPM, "web/package.json": PNPM["package.json"]},
                          "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cd web && pnpm install --frozen-lockfile "
                          "--lockfile-dir ..\n", "pnpm reads the lockfile from --lockfile-dir .., outside the project"),
    "npm-unknown-workdir": (NPM, "FROM node:20\nCOPY . /app\nRUN npm ci\n", "the working directory of the install is unknown"),
    "npm-workspace-option": (NPM, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci --workspace=web\n",
                             "it installs workspace packages"),
    "pnpm-recursive": (PNPM, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN pnpm -r install\n", "it installs workspace packages"),
    "npm-cache-relative-to-unknown-workdir": (NPM, "FROM node:20\nCOPY . /app\nRUN npm ci --prefix /app --cache .npm\n",
                                              "--cache is relative to an unknown directory"),
    "npm-cache-in-the-project": ({**NPM, ".npm/_cacache/x": ""}, "FROM node:20\nWORKDIR /app\nCOPY . .\n"
                                                                 "RUN npm ci --cache .npm\n",
                                 "writes /app/.npm, and `npm ci --cache .npm` writes there"),
    "yarn-release-not-in-the-context": (YARN_BERRY, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\n",
                                        "/app/.yarn/releases/yarn-4.1.0.cjs is not copied from the build context"),
    "yarn-release-excluded": ({**YARN_BERRY, ".yarn/releases/yarn-4.1.0.cjs": "", ".dockerignore": ".yarn\n"},
                              "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\n",
                              "(.dockerignore may exclude it)"),
    "file-name-needs-quoting": ({"my reqs.txt": "flask\n", "app.py": ""}, HEAD + "COPY . .\nRUN pip install -r 'my reqs.txt'\n",
                                "the file name 'my reqs.txt' would need quoting"),
    "destination-changes-below-a-workdir": (REQS, HEAD + "COPY . src/\nWORKDIR /app/src\nRUN pip install -r requirements.txt\n",
                                            "the destination of the COPY at line 3 would change"),
    "unknown-workdir-crossed": (REQS, "FROM python:3.12\nCOPY . /app\nWORKDIR $DIR\nRUN pip install -r /app/requirements.txt\n",
                                "the WORKDIR at line 3 is unknown"),
    "new-copy-would-create-a-directory-with-other-flags": (
        {**REQS, "src/a.py": ""},
        "FROM python:3.12\nCOPY --chown=1000:1000 src/ /app/src/\nCOPY . /app/\nRUN pip install -r /app/requirements.txt\n",
        "the new COPY would create /app before the COPY at line 2, which gives it other --chown/--chmod flags",
    ),
    "home-unknown": (REQS, HEAD + "ENV HOME=$NOPE\nCOPY . .\nRUN pip install -r requirements.txt\n",
                     "HOME is set to a value the Dockerfile does not give"),
    "home-is-the-project": ({**REQS, ".cache/x": ""}, "FROM python:3.12\nENV HOME=/app\nWORKDIR /app\nCOPY . .\n"
                                                      "RUN pip install --user -r requirements.txt\n",
                            "writes /app/.cache, and installers read or write it in HOME"),
    "non-root-home-may-be-the-project": ({**REQS, ".local/x": ""}, "FROM python:3.12\nWORKDIR /home/app/src\nCOPY . .\n"
                                                                   "USER 1000\nRUN pip install --user -r requirements.txt\n",
                                         "writes /home/app/src/.local, and installers read or write it in HOME"),
    "directory-variable-unknown": (REQS, HEAD + "ENV VIRTUAL_ENV=$NOPE\nCOPY . .\nRUN pip install -r requirements.txt\n",
                                   "VIRTUAL_ENV is set to a value the Dockerfile does not give"),
    # Relative to a WORKDIR the Dockerfile does not give: where it points is unknown (before, it was not checked).
    "directory-variable-relative-to-unknown-workdir": (
        REQS, "FROM python:3.12\nENV PIP_TARGET=lib\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n",
        "PIP_TARGET is relative to an unknown directory",
    ),
    "directory-variable-in-the-project": ({**REQS, ".uvcache/x": ""}, HEAD + "ENV UV_CACHE_DIR=/app/.uvcache\nCOPY . .\n"
                                                                         "RUN uv pip install --system -r requirements.txt\n",
                                          "writes /app/.uvcache, and UV_CACHE_DIR points there"),
    "venv-made-earlier-in-the-project": ({**REQS, ".venv/bin/python": ""},
                                         HEAD + "RUN python3 -m venv .venv\nCOPY . .\nRUN .venv/bin/pip install -r "
                                                "requirements.txt\n", "the venv made at line 3 is where pip installs"),
    "install-runs-in-a-directory-only-the-copy-makes": ({**REQS, "sub/x": ""},
                                                        HEAD + "COPY . .\nRUN cd sub && pip install -r ../requirements.txt\n",
                                                        "the install runs in /app/sub, which no step before the whole COPY is known to create"),
    "split-across-a-continuation": (PROJECT_NO_DEPS, HEAD + "COPY . .\nRUN pip install -r requirements.txt \\\n    .\n",
                                    "the part of the install to change spans a line continuation"),
    "flag-spans-lines": (REQS, HEAD + "COPY --chown=1000\\\n:1000 . .\nRUN pip install -r requirements.txt\n",
                         "the --chown flag of the COPY at line 3 spans lines"),
    "json-form-copy": (REQS, HEAD + 'COPY [".", "."]\nRUN pip install -r requirements.txt\n',
                       "the COPY at line 3 is in JSON form"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refusals_say_why(tmp_path: Path, name: str) -> None:
    files, text, reason = REFUSED[name]
    result = run(text, NAME, unsafe=True, path=_context(tmp_path, files))
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None
    assert finding.message.startswith("not fixed: ")
    assert reason in finding.message
