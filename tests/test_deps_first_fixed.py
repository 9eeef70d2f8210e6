"""deps-first: the cases it fixes (safe fixes), each with the Dockerfile it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockerfix.refactor.engine import run

from .deps_cases import (HEAD, NAME, NESTED, NPM, PDM, PIPENV, PNPM, POETRY, PROJECT_NO_DEPS, REQS, SETUP_PY, UV,
                         UV_VIRTUAL, YARN, YARN_BERRY, _context, fix)


FIXED: dict[str, tuple[dict[str, str], str, str]] = {
    "pip-requirements": (
        REQS,
        HEAD + "COPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app/main.py\"]\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
               "CMD [\"python\", \"app/main.py\"]\n",
    ),
    "nested-includes-and-constraints": (
        NESTED,
        HEAD + "COPY . .\nRUN pip3 install -r requirements.txt\n",
        HEAD + "COPY requirements.txt constraints.txt ./\nCOPY requirements/base.txt ./requirements/\n"
               "RUN pip3 install -r requirements.txt\nCOPY . .\n",
    ),
    "absolute-dest-without-workdir": (
        REQS,
        "FROM python:3.12\nCOPY . /app\nRUN python3 -m pip install --requirement=/app/requirements.txt\n",
        "FROM python:3.12\nCOPY requirements.txt /app/\nRUN python3 -m pip install --requirement=/app/requirements.txt\n"
        "COPY . /app\n",
    ),
    "owner-flags-carried": (
        REQS,
        HEAD + "COPY --link --chown=1000:1000 --chmod=755 . .\nRUN pip install -r requirements.txt\n",
        HEAD + "COPY --chown=1000:1000 --chmod=755 --link requirements.txt ./\nRUN pip install -r requirements.txt\n"
               "COPY --link --chown=1000:1000 --chmod=755 . .\n",
    ),
    "settings-between-stay-in-place": (
        REQS,
        HEAD + "COPY . .\nENV PIP_INDEX_URL=https://pypi.example/simple\nARG V=1\nLABEL v=$V\nEXPOSE 80\n"
               "RUN pip install -r requirements.txt\n",
        HEAD + "ENV PIP_INDEX_URL=https://pypi.example/simple\nARG V=1\nLABEL v=$V\nEXPOSE 80\n"
               "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n",
    ),
    "workdir-crossed-root-no-flags": (
        REQS,
        "FROM python:3.12\nCOPY . /srv/app\nWORKDIR /srv/app\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12\nWORKDIR /srv/app\nCOPY requirements.txt /srv/app/\nRUN pip install -r requirements.txt\n"
        "COPY . /srv/app\n",
    ),
    "comment-moves-with-copy": (
        REQS,
        HEAD + "# the sources\nCOPY . .\n\n# deps\nRUN pip install -r requirements.txt\n",
        HEAD + "\n# deps\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n# the sources\nCOPY . .\n",
    ),
    "setup-and-cleanup-move-too": (
        REQS,
        HEAD + "COPY . .\nRUN apt-get update && apt-get install -y gcc && pip install -r requirements.txt \\\n"
               "    && apt-get purge -y gcc && rm -rf /var/lib/apt/lists/*\n",
        HEAD + "COPY requirements.txt ./\nRUN apt-get update && apt-get install -y gcc && pip install -r requirements.txt \\\n"
               "    && apt-get purge -y gcc && rm -rf /var/lib/apt/lists/*\nCOPY . .\n",
    ),
    "later-commands-stay-below": (
        REQS,
        HEAD + "COPY . .\nRUN pip install -r requirements.txt && python -m compileall app\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python -m compileall app\n",
    ),
    "source-dir-copy-only": (
        REQS,
        HEAD + "COPY requirements.txt .\nCOPY app/ ./app/\nRUN pip install -r requirements.txt\n",
        HEAD + "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY app/ ./app/\n",
    ),
    "manifest-copy-after-whole-copy-moves-up": (
        REQS,
        HEAD + "COPY . .\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
        HEAD + "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n",
    ),
    "exec-form": (
        REQS,
        HEAD + "COPY . .\nRUN [\"pip\", \"install\", \"-r\", \"requirements.txt\"]\n",
        HEAD + "COPY requirements.txt ./\nRUN [\"pip\", \"install\", \"-r\", \"requirements.txt\"]\nCOPY . .\n",
    ),
    "crlf": (
        REQS,
        "FROM python:3.12\r\nWORKDIR /app\r\nCOPY . .\r\nRUN pip install -r requirements.txt\r\n",
        "FROM python:3.12\r\nWORKDIR /app\r\nCOPY requirements.txt ./\r\nRUN pip install -r requirements.txt\r\n"
        "COPY . .\r\n",
    ),
    "no-final-newline": (
        REQS,
        HEAD + "COPY . .\nRUN pip install -r requirements.txt",
        HEAD + "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .",
    ),
    "poetry-split": (
        POETRY,
        HEAD + "COPY . .\nRUN pip install poetry && poetry config virtualenvs.create false && poetry install --no-interaction\n",
        HEAD + "COPY pyproject.toml poetry.lock ./\n"
               "RUN pip install poetry && poetry config virtualenvs.create false && poetry install --no-interaction --no-root\n"
               "COPY . .\nRUN poetry install --no-interaction\n",
    ),
    "poetry-no-root-moves": (
        POETRY,
        HEAD + "COPY . .\nRUN poetry install --no-root --only main\n",
        HEAD + "COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root --only main\nCOPY . .\n",
    ),
    "uv-split": (
        UV,
        HEAD + "COPY . .\nRUN uv sync --frozen\n",
        HEAD + "COPY pyproject.toml uv.lock ./\nRUN uv sync --frozen --no-install-project\nCOPY . .\nRUN uv sync --frozen\n",
    ),
    "uv-virtual-project-moves": (
        UV_VIRTUAL,
        HEAD + "COPY . .\nRUN uv sync --locked\n",
        HEAD + "COPY pyproject.toml uv.lock ./\nRUN uv sync --locked\nCOPY . .\n",
    ),
    "pdm-split": (
        PDM,
        HEAD + "COPY . .\nRUN pdm install --prod --frozen-lockfile\n",
        HEAD + "COPY pyproject.toml pdm.lock ./\nRUN pdm install --prod --frozen-lockfile --no-self\nCOPY . .\n"
               "RUN pdm install --prod --frozen-lockfile\n",
    ),
    "pipenv-deploy": (
        PIPENV,
        HEAD + "COPY . .\nRUN pipenv install --deploy --system\n",
        HEAD + "COPY Pipfile Pipfile.lock ./\nRUN pipenv install --deploy --system\nCOPY . .\n",
    ),
    "npm-ci-then-build": (
        {**NPM, ".npmrc": "fund=false\n"},
        "FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nRUN npm ci --omit=dev && npm run build\nCMD [\"node\", \"src/index.js\"]\n",
        "FROM node:20\nWORKDIR /usr/src/app\nCOPY package.json package-lock.json .npmrc ./\nRUN npm ci --omit=dev\n"
        "COPY . .\nRUN npm run build\nCMD [\"node\", \"src/index.js\"]\n",
    ),
    "yarn-frozen": (
        YARN,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile --production\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install --frozen-lockfile --production\n"
        "COPY . .\n",
    ),
    "pnpm-frozen": (
        PNPM,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN corepack enable && pnpm install --frozen-lockfile\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN corepack enable && pnpm install "
        "--frozen-lockfile\nCOPY . .\n",
    ),
    "npm-without-lock-is-safe": (
        {"package.json": json.dumps({"name": "x"}), "src/a.js": ""},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\n",
    ),
    "only-the-install-stage": (
        REQS,
        "FROM python:3.12 AS build\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        "FROM python:3.12\nCOPY --from=build /app /app\n",
        "FROM python:3.12 AS build\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n"
        "COPY . .\nFROM python:3.12\nCOPY --from=build /app /app\n",
    ),
    # --- requirements and a local project: the project needs the source (before, the whole command moved above
    # `COPY . .` and the build failed on `.`; a project whose setup.py reads the requirements file moved back up
    # on the next pass).
    "requirements-and-project-without-dependencies": (
        PROJECT_NO_DEPS,
        HEAD + "COPY . .\nRUN pip install --no-cache-dir -r requirements.txt -e .\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
               "RUN pip install --no-cache-dir -r requirements.txt -e .\n",
    ),
    "requirements-and-project-no-deps": (
        REQS,
        HEAD + "COPY . .\nRUN pip install --no-deps -r requirements.txt .\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install --no-deps -r requirements.txt\nCOPY . .\n"
               "RUN pip install --no-deps -r requirements.txt .\n",
    ),
    "remote-requirements-and-project": (
        PROJECT_NO_DEPS,
        HEAD + "COPY . .\nRUN pip install -r https://example.com/r.txt .\n",
        HEAD + "RUN pip install -r https://example.com/r.txt\nCOPY . .\nRUN pip install -r https://example.com/r.txt .\n",
    ),
    "project-installed-in-a-later-command": (
        SETUP_PY,
        HEAD + "COPY . .\nRUN pip install -r requirements.txt && pip install --no-deps .\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN pip install --no-deps .\n",
    ),
    "remote-requirements-file-is-not-copied": (
        REQS,
        HEAD + "COPY . .\nRUN pip install -r https://example.com/r.txt -r requirements.txt\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install -r https://example.com/r.txt -r requirements.txt\nCOPY . .\n",
    ),
    "two-installs-read-the-same-file": (
        {**REQS, "constraints.txt": "six<2\n"},
        HEAD + "COPY . .\nRUN pip install -r requirements.txt && pip install -r requirements.txt -c constraints.txt\n",
        HEAD + "COPY requirements.txt constraints.txt ./\n"
               "RUN pip install -r requirements.txt && pip install -r requirements.txt -c constraints.txt\nCOPY . .\n",
    ),
    "uv-pip-plural-constraints": (
        {**REQS, "constraints.txt": "six<2\n"},
        HEAD + "COPY . .\nRUN uv pip install --system --constraints constraints.txt -r requirements.txt\n",
        HEAD + "COPY constraints.txt requirements.txt ./\n"
               "RUN uv pip install --system --constraints constraints.txt -r requirements.txt\nCOPY . .\n",
    ),
    "uv-pip-config-file": (
        {**REQS, "uv.toml": "[pip]\n"},
        HEAD + "COPY . .\nRUN uv pip install --system --config-file uv.toml -r requirements.txt\n",
        HEAD + "COPY requirements.txt uv.toml ./\nRUN uv pip install --system --config-file uv.toml -r requirements.txt\n"
               "COPY . .\n",
    ),
    "uv-pip-static-pyproject": (
        UV_VIRTUAL,
        HEAD + "COPY . .\nRUN uv pip install --system -r pyproject.toml\n",
        HEAD + "COPY pyproject.toml ./\nRUN uv pip install --system -r pyproject.toml\nCOPY . .\n",
    ),
    "wildcard-copy-busts-the-cache": (
        {**REQS, "b.py": ""},
        HEAD + "COPY *.py ./\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
        HEAD + "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY *.py ./\n",
    ),
    "neutral-setup-and-cleanup": (
        REQS,
        HEAD + "COPY . .\nRUN set -ex && echo building && printf '%s' x && true && : && apk add --no-cache gcc "
               "&& pip install --target /opt/tools black && pip install -r requirements.txt && rm -rf /root/.cache\n",
        HEAD + "COPY requirements.txt ./\nRUN set -ex && echo building && printf '%s' x && true && : && apk add "
               "--no-cache gcc && pip install --target /opt/tools black && pip install -r requirements.txt && "
               "rm -rf /root/.cache\nCOPY . .\n",
    ),
    "relative-cleanup-stays-below": (
        REQS,
        HEAD + "COPY . .\nRUN pip install -r requirements.txt && rm -rf build\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN rm -rf build\n",
    ),
    "cd-into-a-subproject": (
        {"web/package.json": NPM["package.json"], "web/package-lock.json": NPM["package-lock.json"], "web/src/a.js": ""},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cd web && npm ci && npm run build\n",
        "FROM node:20\nWORKDIR /app\nCOPY web/package.json web/package-lock.json ./web/\nRUN cd web && npm ci\nCOPY . .\n"
        "RUN cd web && npm run build\n",
    ),
    "global-npm-install-first": (
        PNPM,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install -g pnpm@9 && pnpm install --frozen-lockfile\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\n"
        "RUN npm install -g pnpm@9 && pnpm install --frozen-lockfile\nCOPY . .\n",
    ),
    "npm-cache-outside-the-project": (
        NPM,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci --cache /tmp/.npm\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci --cache /tmp/.npm\nCOPY . .\n",
    ),
    # A config file named on the command line is read like .npmrc (before, it was left behind).
    "npm-userconfig-is-copied-first": (
        {**NPM, ".npmrc.ci": "registry=https://registry.example/\n"},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci --userconfig .npmrc.ci\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json .npmrc.ci ./\nRUN npm ci --userconfig .npmrc.ci\n"
        "COPY . .\n",
    ),
    "yarn-use-yarnrc-is-copied-first": (
        {**YARN, "ci.yarnrc": "registry \"https://registry.example/\"\n"},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile --use-yarnrc ci.yarnrc\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json yarn.lock ci.yarnrc ./\n"
        "RUN yarn install --frozen-lockfile --use-yarnrc ci.yarnrc\nCOPY . .\n",
    ),
    "yarn-berry-release": (
        {**YARN_BERRY, ".yarn/releases/yarn-4.1.0.cjs": ""},
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json yarn.lock .yarnrc.yml ./\nCOPY .yarn/releases/yarn-4.1.0.cjs "
        "./.yarn/releases/\nRUN yarn install --immutable\nCOPY . .\n",
    ),
    "npmrc-in-home-is-an-input": (
        {**NPM, ".npmrc": "fund=false\n"},
        "FROM node:20\nWORKDIR /root\nCOPY . .\nRUN npm ci\n",
        "FROM node:20\nWORKDIR /root\nCOPY package.json package-lock.json .npmrc ./\nRUN npm ci\nCOPY . .\n",
    ),
    "uv-project-option": (
        {"svc/pyproject.toml": UV_VIRTUAL["pyproject.toml"], "svc/uv.lock": "version = 1\n", "svc/main.py": ""},
        HEAD + "COPY . .\nRUN uv sync --locked --project=svc\n",
        HEAD + "COPY svc/pyproject.toml svc/uv.lock ./svc/\nRUN uv sync --locked --project=svc\nCOPY . .\n",
    ),
    "earlier-copy-made-the-directory": (
        {**REQS, "setup.cfg": ""},
        "FROM python:3.12\nCOPY setup.cfg /app/etc/setup.cfg\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n",
        "FROM python:3.12\nCOPY setup.cfg /app/etc/setup.cfg\nCOPY requirements.txt /app/\n"
        "RUN pip install -r /app/requirements.txt\nCOPY . /app\n",
    ),
    "earlier-copy-into-the-directory": (
        {**REQS, "setup.cfg": ""},
        "FROM python:3.12\nCOPY setup.cfg /app/\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n",
        "FROM python:3.12\nCOPY setup.cfg /app/\nCOPY requirements.txt /app/\nRUN pip install -r /app/requirements.txt\n"
        "COPY . /app\n",
    ),
    "earlier-run-made-the-directory": (
        REQS,
        'FROM python:3.12\nRUN ["true"]\nRUN mkdir -p /app\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n',
        'FROM python:3.12\nRUN ["true"]\nRUN mkdir -p /app\nCOPY requirements.txt /app/\n'
        "RUN pip install -r /app/requirements.txt\nCOPY . /app\n",
    ),
    "same-flags-create-the-directory": (
        REQS,
        "FROM python:3.12\nCOPY --chown=1000:1000 . /app\nRUN pip install -r /app/requirements.txt\n",
        "FROM python:3.12\nCOPY --chown=1000:1000 requirements.txt /app/\nRUN pip install -r /app/requirements.txt\n"
        "COPY --chown=1000:1000 . /app\n",
    ),
    "workdir-crossed-then-a-copy-below-it": (
        {**REQS, "extra/x": ""},
        "FROM python:3.12\nCOPY . /srv/app\nWORKDIR /srv/app\nCOPY extra/ ./extra/\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12\nWORKDIR /srv/app\nCOPY requirements.txt /srv/app/\nRUN pip install -r requirements.txt\n"
        "COPY . /srv/app\nCOPY extra/ ./extra/\n",
    ),
    "unrelated-workdir-crossed": (
        REQS,
        "FROM python:3.12\nCOPY . /app\nWORKDIR /tmp\nRUN pip install -r /app/requirements.txt\n",
        "FROM python:3.12\nWORKDIR /tmp\nCOPY requirements.txt /app/\nRUN pip install -r /app/requirements.txt\n"
        "COPY . /app\n",
    ),
    "home-elsewhere": (
        {**REQS, ".cache/x": ""},
        "FROM python:3.12\nENV HOME=/home/app\nWORKDIR /root\nCOPY . .\nRUN pip install --user -r requirements.txt\n",
        "FROM python:3.12\nENV HOME=/home/app\nWORKDIR /root\nCOPY requirements.txt ./\n"
        "RUN pip install --user -r requirements.txt\nCOPY . .\n",
    ),
    "non-root-user-with-a-home-below-home": (
        REQS,
        "FROM python:3.12\nWORKDIR /home/app/src\nCOPY . .\nUSER 1000\nRUN pip install --user -r requirements.txt\n",
        "FROM python:3.12\nWORKDIR /home/app/src\nUSER 1000\nCOPY requirements.txt ./\n"
        "RUN pip install --user -r requirements.txt\nCOPY . .\n",
    ),
    "directory-variables-elsewhere": (
        REQS,
        HEAD + "ENV PIP_CACHE_DIR=/var/cache/pip\nENV XDG_CACHE_HOME=cache\nCOPY . .\nRUN pip install -r requirements.txt\n",
        HEAD + "ENV PIP_CACHE_DIR=/var/cache/pip\nENV XDG_CACHE_HOME=cache\nCOPY requirements.txt ./\n"
               "RUN pip install -r requirements.txt\nCOPY . .\n",
    ),
    "venv-made-earlier-elsewhere": (
        REQS,
        HEAD + "RUN apt-get update && python3 -m venv /opt/venv\nCOPY . .\n"
               "RUN /opt/venv/bin/pip install -r requirements.txt\n",
        HEAD + "RUN apt-get update && python3 -m venv /opt/venv\nCOPY requirements.txt ./\n"
               "RUN /opt/venv/bin/pip install -r requirements.txt\nCOPY . .\n",
    ),
    "blank-line-above-the-copy": (
        REQS,
        HEAD + "\nCOPY . .\nRUN pip install -r requirements.txt\n",
        HEAD + "\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n",
    ),
    # A `RUN <<EOF` script is read from the heredoc (before, such a RUN was never looked at).
    "heredoc-script-moves": (
        REQS,
        "# syntax=docker/dockerfile:1\n" + HEAD + "COPY . .\nRUN <<EOF\nset -e\npip install -r requirements.txt\nEOF\n"
                                                 "CMD [\"python\"]\n",
        "# syntax=docker/dockerfile:1\n" + HEAD + "COPY requirements.txt ./\nRUN <<EOF\nset -e\npip install -r "
                                                 "requirements.txt\nEOF\nCOPY . .\nCMD [\"python\"]\n",
    ),
}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed(tmp_path: Path, name: str) -> None:
    files, before, after = FIXED[name]
    result = run(before, NAME, path=_context(tmp_path, files))
    assert result.output == after
    assert all(f.safe for f in result.findings)
    assert {f.transform for f in result.findings} == {"deps-first"}
    assert fix(tmp_path, files, after, unsafe=True) == after  # idempotent, nothing left to do


def test_details_list_each_change(tmp_path: Path) -> None:
    files, before, _ = FIXED["settings-between-stay-in-place"]
    (finding,) = run(before, NAME, path=_context(tmp_path, files)).findings
    assert finding.line == 8
    assert "copies requirements.txt first" in finding.message
    assert any(d.startswith("new `COPY requirements.txt ./` before the install") for d in finding.details)
    assert any(d.startswith("line 3: `COPY . .` moved below the install") for d in finding.details)
    assert any("kept in place: ENV (line 4)" in d for d in finding.details)
