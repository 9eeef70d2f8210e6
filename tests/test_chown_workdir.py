"""chown-layer on the shapes a survey of public Dockerfiles met: a project directory a WORKDIR makes below a
directory the base may or may not have, accounts made with clustered options, relative paths under a base image's
WORKDIR, and listings between the COPY and the chown."""

from __future__ import annotations

import pytest

from dockerfix.refactor.engine import run

from .testbases import table

NAME = ["chown-layer"]
B = "FROM b\n"


def _one(text: str, bases=None):  # type: ignore[no-untyped-def]
    (finding,) = run(text, NAME, bases=table() if bases is None else bases).findings
    return finding


def _fixed(text: str, unsafe: bool = False, bases=None) -> str:  # type: ignore[no-untyped-def]
    return run(text, NAME, unsafe, bases=table() if bases is None else bases).output


# Accounts made with getopt-clustered options exist at the later COPY, so it gets the name.
ACCOUNTS = {
    "useradd-ms": "RUN useradd -ms /bin/bash appuser\n",
    "useradd-rms": "RUN useradd -rms /bin/sh appuser\n",
    "useradd-mU": "RUN useradd -mU appuser\n",
    "adduser-DH": "RUN adduser -DHs /bin/sh appuser\n",
}


@pytest.mark.parametrize("name", sorted(ACCOUNTS))
def test_clustered_account_options_make_the_user(name: str) -> None:
    text = B + ACCOUNTS[name] + "COPY a /data/a\nRUN chown -R appuser:appuser /data\n"
    out = _fixed(text)
    assert "COPY --chown=appuser:appuser a /data/a\n" in out, out
    assert _one(text).fix.safe  # type: ignore[union-attr]


def test_an_option_the_tool_does_not_take_leaves_the_user_unknown() -> None:
    text = B + "RUN useradd -Q x appuser\nCOPY a /data/a\nRUN chown -R appuser:appuser /data\n"
    finding = _one(text)
    assert finding.fix is None and "`appuser` is not known to exist here" in " ".join(finding.details)
