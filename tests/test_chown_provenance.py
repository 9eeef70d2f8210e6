"""chown-layer fixes rest on proven facts: read base facts, documented defaults (named), or assumptions (unsafe)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dockerfix.refactor.dockerfile import knownbases
from dockerfix.refactor.dockerfile.analysis import analyse_text
from dockerfix.refactor.dockerfile.basefacts import DIR, MISSING, SYMLINK
from dockerfix.refactor.dockerfile.facts import accounts_created
from dockerfix.refactor.dockerfile.shell import analyse
from dockerfix.refactor.engine import run
from dockerfix.refactor.errors import DockerfixError

from .test_cli import dockerfix
from .testbases import facts, table

NAME = ["chown-layer"]
SIMPLE = "COPY a /data/a\nRUN chown -R 1000:1000 /data\n"


def _finding(text: str, bases=None):  # type: ignore[no-untyped-def]
    (finding,) = run(text, NAME, bases=table() if bases is None else bases).findings
    return finding


def test_unknown_base_makes_the_fix_unsafe_and_names_each_assumption() -> None:
    finding = _finding("FROM registry.example/team/app:1\n" + SIMPLE)
    assert finding.fix is not None and not finding.fix.safe
    unsafe = [d for d in finding.details if d.startswith("unsafe: assumes ")]
    text = " | ".join(unsafe)
    for needle in ("no path from /data to /data/a is a symlink", "declares no VOLUME", "`find` exists",
                   "runs as root by default"):
        assert needle in text, needle
    # Nothing is applied without --unsafe-fixes.
    assert run("FROM registry.example/team/app:1\n" + SIMPLE, NAME).output.startswith("FROM registry")
    assert "COPY a /data/a" in run("FROM registry.example/team/app:1\n" + SIMPLE, NAME).output


def test_well_known_base_stays_safe_and_names_the_defaults() -> None:
    finding = _finding("FROM python:3.12-slim\n" + SIMPLE)
    assert finding.fix is not None and finding.fix.safe
    relied = [d for d in finding.details if d.startswith("relies on a documented default")]
    assert any("known base: python" in d and "/data is absent" in d for d in relied)
    assert any("`find` exists" in d for d in relied)


def test_read_base_facts_need_no_default() -> None:
    finding = _finding("FROM localhost/dockerfix-base\n" + SIMPLE)
    assert finding.fix is not None and finding.fix.safe
    assert not [d for d in finding.details if "default" in d or "unsafe" in d]


def test_base_image_volume_refuses() -> None:  # F13
    vol = dataclasses.replace(facts("localhost/vol"), volumes=frozenset({"/data"}))
    finding = _finding("FROM localhost/vol\n" + SIMPLE, {"localhost/vol": vol})
    assert finding.fix is None and "VOLUME /data" in finding.message


def test_base_without_find_refuses() -> None:  # F15
    nofind = dataclasses.replace(facts("localhost/nofind"), tools={"find": False})
    finding = _finding("FROM localhost/nofind\n" + SIMPLE, {"localhost/nofind": nofind})
    assert finding.fix is None and "no `find`" in finding.message


def test_cleanups_do_not_count_as_removing_find() -> None:
    text = "FROM localhost/dockerfix-base\nCOPY a /data/a\nRUN rm -rf /var/lib/apt/lists/* /tmp/*\nRUN chown -R 1000 /data\n"
    assert _finding(text).fix is not None
    gone = text.replace("/tmp/*", "/usr/bin/*")
    assert _finding(gone).fix is None


def test_base_symlink_from_known_defaults_blocks_the_copy() -> None:  # F4, c52
    text = "FROM debian:12\nCOPY tool.1 /usr/local/man/man1/tool.1\nRUN chown -R 1000:1000 /usr/local/man\n"
    assert run(text, NAME).output == text
    chmod = "FROM debian:12\nRUN chmod -R 755 /usr/local/man\n"
    finding = _finding(chmod)
    assert finding.fix is None and "/usr/local/man is a symlink" in finding.message


def test_primary_group_of_a_named_user() -> None:  # F12
    text = ("FROM localhost/dockerfix-base\nRUN useradd -u 1500 -g users app\nCOPY --chown=app f.txt /data/f.txt\n"
            "RUN chown -R 2000 /data\n")
    out = run(text, NAME, bases=table()).output
    assert "COPY --chown=2000:users f.txt /data/f.txt" in out or "COPY --chown=2000:100 f.txt /data/f.txt" in out
    base_user = "FROM localhost/dockerfix-base\nCOPY --chown=www-data f.txt /data/f.txt\nRUN chown -R 2000 /data\n"
    assert "COPY --chown=2000:33 f.txt" in run(base_user, NAME, bases=table()).output


def test_user_from_the_base_image_is_written_by_name() -> None:  # F9: proven by the base's /etc/passwd
    text = "FROM localhost/dockerfix-base\nCOPY f.txt /data/f.txt\nRUN chown -R www-data:www-data /data\n"
    assert "COPY --chown=www-data:www-data f.txt" in run(text, NAME, bases=table()).output
    missing = text.replace("www-data:www-data", "app:app")
    assert run(missing, NAME, bases=table()).output == missing


@pytest.mark.parametrize("line", ["cd -P /srv", "cd -", "popd", "cd /srv || true"])
def test_cd_the_analysis_cannot_follow_refuses(line: str) -> None:  # F14
    text = f"FROM localhost/dockerfix-base\nCOPY f.txt /srv/data/f.txt\nRUN {line}; chown -R 1000:1000 data\n"
    finding = _finding(text)
    assert finding.fix is None


def test_cd_double_dash_and_pushd_are_followed() -> None:  # F14
    for line in ("cd -- /srv", "pushd /srv"):
        text = f"FROM localhost/dockerfix-base\nCOPY f.txt /srv/data/f.txt\nRUN {line} && chown -R 1000:1000 data\n"
        assert "COPY --chown=1000:1000 f.txt /srv/data/f.txt" in run(text, NAME, bases=table()).output


@pytest.mark.parametrize("text", ["FROM a\nCOPY\n", "FROM a\nCOPY onlyone\n", "FROM\nRUN true\n",
                                  "RUN chown -R 1 /x\n", "ARG X=1\nCOPY a /b\n"])
def test_inputs_the_builder_rejects_are_errors(text: str) -> None:  # F17
    with pytest.raises(DockerfixError):
        analyse_text(text)


def test_nothing_moved_is_a_finding_without_a_fix_and_check_passes(tmp_path: Path) -> None:  # R3
    text = "FROM debian\nRUN mkdir -p /srv/x && chown -R 1000:1000 /srv/x\n"
    (tmp_path / "Dockerfile").write_text("FROM debian\nWORKDIR /w\nCOPY a /w/data/a\nRUN chown -R 1000 /w/data\n")
    finding = _finding("FROM debian\nWORKDIR /w\nCOPY a /w/data/a\nRUN chown -R 1000 /w/data\n")
    assert finding.fix is None and "no earlier step can take the ownership" in finding.message
    assert "/w is not known to exist" in finding.message
    r = dockerfix("check", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "Dockerfile").write_text(text)
    assert dockerfix("check", ".", cwd=tmp_path).returncode == 0  # `mkdir && chown` in one RUN: free already


def test_useradd_option_values() -> None:  # F9 (c27), issue 13 item 6
    def names(line: str) -> list[tuple[str, str | None, str]]:
        cmd = analyse(line).commands[0]
        return [(a.name, a.uid, a.kind) for a in accounts_created(cmd, {})]

    assert names("useradd -b /home -m -u 1500 app") == [("app", "1500", "user"), ("app", None, "group")]
    assert names("useradd -u1500 app")[0] == ("app", "1500", "user")
    assert names("useradd --key UID_MIN=1000 -R /chroot svc")[0][0] == "svc"


def test_known_bases_table() -> None:
    assert knownbases.family("docker.io/library/python:3.12-slim@sha256:ab") == "python"
    assert knownbases.family("ghcr.io/someone/python:3") == ""  # not the official image
    deb = knownbases.lookup("debian:bookworm-slim")
    assert deb is not None and not deb.read and deb.source == "known base: debian"
    assert deb.path("/usr/local/man").kind == SYMLINK and deb.path("/opt").kind == DIR  # type: ignore[union-attr]
    assert knownbases.listed_kind(deb, "/app") == MISSING and knownbases.listed_kind(deb, "/usr/lib/x") is None
    assert knownbases.lookup("scratch") is None and knownbases.lookup("myorg/base") is None
    assert "find present" in knownbases.describe()


def test_explain_shows_the_facts_and_the_defaults(tmp_path: Path) -> None:
    r = dockerfix("explain", "chown-layer", cwd=tmp_path)
    assert r.returncode == 0
    assert "Facts a fix rests on" in r.stdout and "/usr/local/man -> share/man" in r.stdout


def test_a_tree_copy_over_an_existing_link_is_left_alone(tmp_path: Path) -> None:
    # Conservative: BuildKit rejects this COPY (a directory over a symlink), and buildah's handling was not
    # measured, so --chown is not given to a COPY whose destination tree holds a symlink.
    (tmp_path / "app" / "data").mkdir(parents=True)
    (tmp_path / "app" / "data" / "x.txt").write_text("x\n")
    text = ("FROM localhost/dockerfix-base\nRUN mkdir -p /srv/app && ln -s /var/lib /srv/app/data\nCOPY app/ /srv/app/\n"
            "RUN chown -R 1000:1000 /srv/app\n")
    out = run(text, NAME, path=tmp_path / "Dockerfile", bases=table()).output
    assert "COPY app/ /srv/app/" in out and "--chown" not in out
