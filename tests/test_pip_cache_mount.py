from __future__ import annotations

import pytest

from dockerfix.refactor.dockerfile.analysis import analyse_text
from dockerfix.refactor.engine import find, run, select

NAME = ["pip-cache-mount"]
SYNTAX = "# syntax=docker/dockerfile:1\n"

FIXED = {
    "root": (
        SYNTAX + "FROM python:3.12\nRUN pip install -r requirements.txt\n",
        SYNTAX + "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n",
    ),
    "python-m-pip-and-other-flags": (
        "# syntax=docker/dockerfile:1.7-labs\nFROM python:3.12\nRUN --network=host python3 -m pip install flask\n",
        "# syntax=docker/dockerfile:1.7-labs\nFROM python:3.12\n"
        "RUN --network=host --mount=type=cache,target=/root/.cache/pip python3 -m pip install flask\n",
    ),
    "non-root-with-known-ids": (
        SYNTAX + "FROM python:3.12\nRUN useradd -u 1001 -g 100 app\nUSER app\nENV HOME=/home/app\n"
                 "RUN pip install --user flask\n",
        SYNTAX + "FROM python:3.12\nRUN useradd -u 1001 -g 100 app\nUSER app\nENV HOME=/home/app\n"
                 "RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1001,gid=100 pip install --user flask\n",
    ),
    "numeric-user": (
        SYNTAX + "FROM python:3.12\nUSER 1000:1000\nENV PIP_CACHE_DIR=/tmp/pipcache\nRUN pip install flask\n",
        SYNTAX + "FROM python:3.12\nUSER 1000:1000\nENV PIP_CACHE_DIR=/tmp/pipcache\n"
                 "RUN --mount=type=cache,target=/tmp/pipcache,uid=1000,gid=1000 pip install flask\n",
    ),
    "cache-dir-option": (
        SYNTAX + "FROM python:3.12\nRUN pip install --cache-dir /var/cache/pip flask\n",
        SYNTAX + "FROM python:3.12\nRUN --mount=type=cache,target=/var/cache/pip pip install --cache-dir /var/cache/pip "
                 "flask\n",
    ),
    "exec-form": (
        SYNTAX + 'FROM python:3.12\nRUN ["pip", "install", "flask"]\n',
        SYNTAX + 'FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip ["pip", "install", "flask"]\n',
    ),
}

UNCHANGED = {
    "has-cache-mount": SYNTAX + "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
    "not-pip": SYNTAX + "FROM python:3.12\nRUN pip freeze > /tmp/x && echo pip\n",
    "uv-pip": SYNTAX + "FROM python:3.12\nRUN uv pip install flask\n",
}

REFUSED = {
    "no-cache-dir": (SYNTAX + "FROM python:3.12\nRUN pip install --no-cache-dir flask\n", "--no-cache-dir"),
    "env-no-cache": (SYNTAX + "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n", "PIP_NO_CACHE_DIR"),
    "assignment-no-cache": (SYNTAX + "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=off pip install flask\n",
                            "PIP_NO_CACHE_DIR"),
    "no-syntax-directive": ("FROM python:3.12\nRUN pip install flask\n", "# syntax=docker/dockerfile:1"),
    "unknown-home": (SYNTAX + "FROM python:3.12\nUSER app\nRUN pip install flask\n", "home directory"),
    "unknown-ids": (SYNTAX + "FROM python:3.12\nUSER app\nENV HOME=/home/app\nRUN pip install flask\n",
                    "numeric uid and gid"),
}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_with_unsafe(name: str) -> None:
    before, after = FIXED[name]
    assert run(before, NAME).output == before  # the fix is unsafe: not applied by default
    result = run(before, NAME, unsafe=True)
    assert result.output == after
    assert result.findings[0].fix is not None and not result.findings[0].fix.safe
    assert run(after, NAME, unsafe=True).output == after


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_unchanged(name: str) -> None:
    text = UNCHANGED[name]
    assert run(text, NAME, unsafe=True).output == text
    assert find(analyse_text(text), NAME) == []


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refusals(name: str) -> None:
    text, reason = REFUSED[name]
    (finding,) = find(analyse_text(text), NAME)
    assert finding.fix is None and finding.message.startswith("not fixed: ") and reason in finding.message


def test_opt_in() -> None:
    assert "pip-cache-mount" not in select(None, None)
    assert select(["pip-cache-mount"], None) == ["pip-cache-mount"]
