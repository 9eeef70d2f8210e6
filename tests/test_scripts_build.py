"""The CRAB shape built: a COPYed script clones into /data/repos, a later `chown -R` re-owns /data; original vs fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.engine import run

from .testbases import table
from dockerfix.refactor.images.verify import verify

pytestmark = pytest.mark.build

SCRIPT = """#!/bin/sh
set -e
mkdir /data/repos && git clone https://example.com/acme/x.git /data/repos/x
cd /data/repos
git clone https://example.com/acme/y.git
"""


@pytest.mark.parametrize("how", ["sh addGH.sh", "./addGH.sh"])
def test_script_clones_are_stored_once(builder, tmp_path: Path, how: str) -> None:  # type: ignore[no-untyped-def]
    dockerfile = (f"FROM localhost/dockerfix-base\nRUN mkdir /data\nWORKDIR /build\nCOPY addGH.sh .\nRUN {how}\n"
                  "COPY big.txt /data/big.txt\nRUN chown -R 1000:1000 /data\n")
    (tmp_path / "addGH.sh").write_text(SCRIPT)
    (tmp_path / "addGH.sh").chmod(0o755)
    (tmp_path / "big.txt").write_text("x" * 20_000)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    fixed = run(dockerfile, ["chown-layer"], path=tmp_path / "Dockerfile", bases=table()).output
    assert f"RUN {how} && chown -R 1000:1000 /data/repos\n" in fixed
    (tmp_path / "Dockerfile.fixed").write_text(fixed)
    result = verify(tmp_path / "Dockerfile", tmp_path / "Dockerfile.fixed", tmp_path, builder)
    assert [d.text for d in result.differences] == []
    # The clones (README, src/main.py, .git/HEAD) are no longer stored a second time, and neither is big.txt.
    assert result.saved_bytes > 20_000
    assert result.fixed_stats.efficiency >= 0.99


def test_mkdir_p_parents_re_owned_where_made(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dockerfile = ("FROM localhost/dockerfix-base\nCOPY a /data/srv/current/a\n"
                  "RUN mkdir -p /data/srv/tm/current /data/srv/tm/cfg\nCOPY a /data/srv/tm/current/a\n"
                  "RUN chown -R 1000:1000 /data\n")
    (tmp_path / "a").write_text("a" * 5000)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    fixed = run(dockerfile, ["chown-layer"], path=tmp_path / "Dockerfile", bases=table()).output
    assert "RUN mkdir -p /data/srv/tm/current /data/srv/tm/cfg && chown -R 1000:1000 /data/srv/tm\n" in fixed
    (tmp_path / "Dockerfile.fixed").write_text(fixed)
    result = verify(tmp_path / "Dockerfile", tmp_path / "Dockerfile.fixed", tmp_path, builder)
    assert [d.text for d in result.differences] == []
    assert result.saved_bytes >= 10_000
