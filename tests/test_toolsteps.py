"""Venvs used through `ENV PATH=X/bin:$PATH` or `. X/bin/activate`: their pip writes count as the step's."""

from __future__ import annotations

import pytest

from dockerfix.refactor.engine import run

from .testbases import table

HEAD = "FROM b\nRUN python3 -m venv /opt/venv\n"
TAIL = "RUN chown -R 1000:1000 /opt/venv\n"
FIND = " && find /opt/venv \\( ! -user 1000"


def _out(text: str) -> str:
    return run(text, ["chown-layer"], bases=table()).output


@pytest.mark.parametrize(
    "middle, step",
    [
        ('ENV PATH="/opt/venv/bin:$PATH"\n', "RUN pip install -r /r.txt"),
        ("ENV PATH /opt/venv/bin:$PATH\n", "RUN pip install flask"),
        ('ENV V=/opt/venv\nENV PATH="${V}/bin:${PATH}"\n', "RUN python -m pip install flask"),
        ("ENV PATH=/opt/venv/bin:/usr/bin:/bin\n", "RUN pip3 install flask"),
        ("", "RUN . /opt/venv/bin/activate && pip install flask"),
        ('ENV PATH="/opt/venv/bin:$PATH"\nRUN apt-get update\n', "RUN pip install flask"),
    ],
)
def test_the_venv_pip_installs_into_is_re_owned_in_that_step(middle: str, step: str) -> None:
    out = _out(HEAD + middle + step + "\n" + TAIL)
    assert step + FIND in out


@pytest.mark.parametrize(
    "text",
    [
        # No venv made by the Dockerfile: /opt/venv may not exist.
        'FROM b\nENV PATH="/opt/venv/bin:$PATH"\nRUN pip install flask\nCOPY a /opt/venv/a\n' + TAIL,
        # Something in between may remove it.
        HEAD + 'ENV PATH="/opt/venv/bin:$PATH"\nRUN rm -rf /opt\nRUN pip install flask\n' + TAIL,
        HEAD + 'ENV PATH="/opt/venv/bin:$PATH"\nRUN rm -rf $DIR\nRUN pip install flask\n' + TAIL,
        HEAD + 'ENV PATH="/opt/venv/bin:$PATH"\nRUN ["sh", "-c", "true"]\nRUN pip install flask\n' + TAIL,
        # The venv step does not stop on errors.
        "FROM b\nRUN python3 -m venv /opt/venv; true\nENV PATH=/opt/venv/bin:$PATH\nRUN pip install flask\n" + TAIL,
        # PATH does not start with the venv.
        HEAD + 'ENV PATH="$PATH:/opt/venv/bin"\nRUN pip install flask\n' + TAIL,
        HEAD + "RUN pip install flask\n" + TAIL,
        HEAD + "RUN . $VENV/bin/activate && pip install flask\n" + TAIL,
    ],
)
def test_nothing_proven_nothing_appended(text: str) -> None:
    out = _out(text)
    assert "pip install flask && find" not in out and "pip install flask && chown" not in out


def test_a_venv_pip_or_activate_between_does_not_block_earlier_copies() -> None:
    text = ("FROM b\nRUN python3 -m venv /opt/venv\nCOPY r.txt /opt/app/r.txt\nRUN /opt/venv/bin/pip install -r /opt/app/r.txt\n"
            "RUN . /opt/venv/bin/activate && pip install six\nRUN chown -R 1000:1000 /opt/venv /opt/app\n")
    assert "COPY --chown=1000:1000 r.txt /opt/app/r.txt\n" in _out(text)
    unknown = text.replace("/opt/venv/bin/pip install", "/opt/other/bin/pip install")
    assert "COPY r.txt /opt/app/r.txt\n" in _out(unknown)  # not a venv this Dockerfile made: its program is unknown
