"""chown-layer's USER around a step (transforms/_chown/userwrap.py): an unsafe fix, offered only where it is exact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dockerfix.refactor.engine import run
from dockerfix.refactor.images.compare import flatten
from dockerfix.refactor.images.verify import verify

from .testbases import table

NAME = ["chown-layer"]
FIND = r"\( ! -user {u} -o ! -group {g} -o -perm -4000 -o -perm -2000 \) -exec chown -h {u}:{g} {{}} +"
F1000 = FIND.format(u=1000, g=1000)
FWWW = FIND.format(u="www-data", g="www-data")
CURL = "RUN curl -fsSL https://example.org/install.sh | sh\n"

FIXED = {
    "curl-pipe-sh-later-user": (
        f"FROM b\nCOPY a /data/a\n{CURL}RUN chown -R 1000:1000 /data\nUSER 1000\n",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nUSER 1000:1000\n{CURL}USER root\nRUN find /data {F1000}\nUSER 1000\n",
    ),
    "explicit-user-0-restored-as-written": (
        'FROM b\nUSER 0\nCOPY a /data/a\nRUN sh -c "$(cat /tmp/inst)"\nRUN chown -R 1000:1000 /data\n',
        'FROM b\nUSER 0\nCOPY --chown=1000:1000 a /data/a\nUSER 1000:1000\nRUN sh -c "$(cat /tmp/inst)"\nUSER 0\n'
        f"RUN find /data {F1000}\n",
    ),
    "named-owner-from-the-base": (
        "FROM b\nUSER root\nCOPY a /srv/www/a\nRUN sh /tmp/from-another-stage.sh\nRUN chown -R www-data:www-data /srv/www\n",
        "FROM b\nUSER root\nCOPY --chown=www-data:www-data a /srv/www/a\nUSER www-data:www-data\n"
        f"RUN sh /tmp/from-another-stage.sh\nUSER root\nRUN find /srv/www {FWWW}\n",
    ),
    "adjacent-steps-share-the-lines": (
        "FROM b\nUSER root\nRUN mkdir -p /data/d\nCOPY a /data/a\nRUN /tmp/inst\nRUN ./build.sh\n"
        "RUN chown -R 1000:1000 /data\n",
        "FROM b\nUSER root\nRUN mkdir -p /data/d && chown -R 1000:1000 /data/d\nCOPY --chown=1000:1000 a /data/a\n"
        f"USER 1000:1000\nRUN /tmp/inst\nRUN ./build.sh\nUSER root\nRUN find /data {F1000}\n",
    ),
    "workdir-used-before": (
        f"FROM b\nUSER root\nWORKDIR /build\nRUN true\nCOPY a /data/a\n{CURL}RUN chown -R 1000:1000 /data\n",
        f"FROM b\nUSER root\nWORKDIR /build\nRUN true\nCOPY --chown=1000:1000 a /data/a\nUSER 1000:1000\n{CURL}"
        f"USER root\nRUN find /data {F1000}\n",
    ),
    "json-form-program": (
        'FROM b\nUSER root\nCOPY a /data/a\nRUN ["/opt/vendor/install", "--prefix=/data"]\nRUN chown -R 1000:1000 /data\n',
        'FROM b\nUSER root\nCOPY --chown=1000:1000 a /data/a\nUSER 1000:1000\nRUN ["/opt/vendor/install", '
        f'"--prefix=/data"]\nUSER root\nRUN find /data {F1000}\n',
    ),
    "crlf": (
        f"FROM b\r\nUSER root\r\nCOPY a /data/a\r\n{CURL[:-1]}\r\nRUN chown -R 1000:1000 /data\r\n",
        f"FROM b\r\nUSER root\r\nCOPY --chown=1000:1000 a /data/a\r\nUSER 1000:1000\r\n{CURL[:-1]}\r\nUSER root\r\n"
        f"RUN find /data {F1000}\r\n",
    ),
}

# Left alone even with --unsafe-fixes; the finding's details say why (the last part of each pair).
REFUSED = {
    "config-user-would-change": (
        f"FROM b\nCOPY a /data/a\n{CURL}RUN chown -R 1000:1000 /data\n",
        "the base image leaves the image's User empty, and a restoring `USER root` would set it to root",
    ),
    "previous-user-unknown": (
        "FROM b\nARG U\nUSER $U\nCOPY a /data/a\nRUN sh /tmp/inst\nUSER root\nRUN chown -R 1000:1000 /data\n",
        "the USER in effect there has a value the Dockerfile does not give",
    ),
    "previous-user-spelled-with-a-variable": (
        "FROM b\nENV U=root\nUSER $U\nCOPY a /data/a\nRUN sh /tmp/inst\nRUN chown -R 1000:1000 /data\n",
        "the USER in effect there is spelled `$U`",
    ),
    "base-user-unknown": (
        f"FROM example.org/unknown\nCOPY a /data/a\n{CURL}RUN chown -R 1000:1000 /data\nUSER 1000\n",
        "the base image's default user is not known",
    ),
    "owner-not-existing-at-the-step": (
        "FROM b\nUSER root\nCOPY a /data/a\nRUN sh /tmp/inst\nRUN adduser -D -u 1002 app\nRUN chown -R app:app /data\n",
        "the user app is not known to exist at that step",
    ),
    "non-root-step": (
        "FROM b\nCOPY a /data/a\nUSER www-data\nRUN sh /tmp/inst\nUSER root\nRUN chown -R 1000:1000 /data\n",
        "it runs as USER www-data, not as root",
    ),
    "known-reader-not-unreadable-code": (
        "FROM b\nUSER root\nCOPY a /data/a\nRUN cp -a /data /backup\nRUN chown -R 1000:1000 /data\n",
        "a command the analysis knows, not code it cannot read",
    ),
    "an-earlier-known-reader-still-blocks": (
        f"FROM b\nUSER root\nCOPY a /data/a\nRUN cp -a /data /backup\n{CURL}RUN chown -R 1000:1000 /data\n",
        "with USER lines around line 5 no earlier step takes the ownership either (the RUN at line 4: `cp` copies",
    ),
    "switches-user-itself": (
        "FROM b\nUSER root\nCOPY a /data/a\nRUN su www-data -c /tmp/inst\nRUN chown -R 1000:1000 /data\n",
        "`su` runs a command as another user",
    ),
    "in-the-chowns-own-run": (
        "FROM b\nUSER root\nCOPY a /data/a\nRUN sh /tmp/inst && chown -R 1000:1000 /data\n",
        "runs in the chown's own RUN, which USER cannot split",
    ),
    "chown-without-group": (
        "FROM b\nUSER root\nCOPY a /data/a\nRUN sh /tmp/inst\nRUN chown -R 1000 /data\n",
        "does not name both user and group",
    ),
    "fresh-workdir-buildah-makes-at-the-step": (
        f"FROM b\nUSER root\nCOPY a /data/a\nWORKDIR /build\n{CURL}RUN chown -R 1000:1000 /data\n",
        "the WORKDIR /build is not known to exist before it (buildah makes it at the next RUN)",
    ),
    "chgrp": (
        "FROM b\nUSER root\nCOPY a /data/a\nRUN sh /tmp/inst\nRUN chgrp -R www-data /data\n",
        "`chgrp -R` keeps the files' user",
    ),
}


def _run(text: str, unsafe: bool = True):  # type: ignore[no-untyped-def]
    return run(text, NAME, unsafe, bases=table())


@pytest.mark.parametrize(("before", "after"), FIXED.values(), ids=FIXED.keys())
def test_fixed_with_unsafe_fixes(before: str, after: str) -> None:
    result = _run(before)
    assert result.output == after
    assert _run(after).output == after  # idempotent: the step now runs as the owner and is not wrapped again
    finding = next(f for f in result.findings if f.fix)
    assert not finding.fix.safe  # type: ignore[union-attr]
    assert any(d.startswith("unsafe: assumes the RUN at line") and "writes nothing outside" in d and "$HOME" in d
               for d in finding.details)
    assert _run(before, unsafe=False).output == before  # not applied without --unsafe-fixes


@pytest.mark.parametrize(("before", "why"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_with_the_reason(before: str, why: str) -> None:
    result = _run(before)
    assert "USER 1000:1000" not in result.output and "USER www-data:www-data" not in result.output
    assert result.output == _run(before, unsafe=False).output
    details = [d for f in result.findings for d in f.details] + [f.message for f in result.findings]
    assert any(why in d for d in details), details


def test_not_offered_when_a_safe_fix_moves_something() -> None:
    """The unsafe wrap would make the whole fix unsafe: where a safe fix exists it is the one offered."""
    text = "FROM b\nUSER root\nRUN mkdir -p /data/d\nRUN sh /tmp/inst\nCOPY a /data/a\nRUN chown -R 1000:1000 /data\n"
    result = _run(text)
    assert result.output == f"FROM b\nUSER root\nRUN mkdir -p /data/d\nRUN sh /tmp/inst\nCOPY --chown=1000:1000 a " \
                            f"/data/a\nRUN find /data {F1000}\n"
    assert all(f.fix.safe for f in result.findings if f.fix)  # type: ignore[union-attr]
    assert "line 4: not run as the owner while a safe fix exists (unsafe alternative, left to you): with USER lines " \
           "around line 4, line 3 would take the ownership too" in result.findings[0].details


def test_curl_pipe_sh_is_a_reader() -> None:
    """`curl … | sh` runs code the analysis cannot read: as root it may see the owners (it was taken as harmless)."""
    text = f"FROM b\nCOPY a /data/a\n{CURL}RUN chown -R 1000:1000 /data\n"
    result = _run(text, unsafe=False)
    assert result.output == text
    assert "`sh` runs the code on its input" in result.findings[0].message


def test_saving_counts_the_unblocked_copy_and_is_partial() -> None:
    text = f"FROM b\nUSER root\nCOPY a /data/a\n{CURL}RUN chown -R 1000:1000 /data\n"
    finding = next(f for f in _run(text).findings if f.fix)
    assert finding.saving_partial  # what the wrapped step writes is not known without building


# --------------------------------------------------------------------------- builds: the harness sees the config

CONFIG_CASE = """FROM localhost/dockerfix-base
COPY site/ /opt/app/
RUN printf 'mkdir -p /opt/app/plugins && echo on > /opt/app/plugins/p.conf\\n' > /tmp/inst
RUN cat /tmp/inst | sh
RUN chown -R 1000:1000 /opt/app
"""


@pytest.mark.build
def test_harness_catches_a_restore_that_changes_the_config_user(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Why the wrap is refused when no later USER sets the config: `USER root` makes User "root" where it was ""."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>hello</p>\n" * 1000)
    (tmp_path / "Dockerfile").write_text(CONFIG_CASE)
    assert run(CONFIG_CASE, NAME, True, bases=table()).output == CONFIG_CASE
    wrong = CONFIG_CASE.replace("COPY site/", "COPY --chown=1000:1000 site/").replace(
        "RUN cat", "USER 1000:1000\nRUN cat").replace("RUN chown -R 1000:1000 /opt/app",
                                                           f"USER root\nRUN find /opt/app {F1000}")
    (tmp_path / "Dockerfile.wrong").write_text(wrong)
    result = verify(tmp_path / "Dockerfile", tmp_path / "Dockerfile.wrong", tmp_path, builder)
    assert [d.field for d in result.differences] == ["config User"], [d.text for d in result.differences]


LAZY_WORKDIR = """FROM localhost/dockerfix-base
WORKDIR /work/deep
USER 1000:1000
RUN true
"""


@pytest.mark.build
def test_difference_a_workdir_made_by_the_next_run_gets_its_user(build_image) -> None:  # type: ignore[no-untyped-def]
    """Why a RUN right after a fresh WORKDIR is not wrapped: buildah 1.28 makes the WORKDIR (and its missing parents)
    at that RUN, owned by the USER it runs as; BuildKit made them at the WORKDIR, as root."""
    _, image = build_image(LAZY_WORKDIR)
    files = flatten(image)
    owner = 0 if build_image.builder.name == "docker" else 1000
    assert [(files[p].uid, files[p].gid) for p in ("/work", "/work/deep")] == [(owner, owner)] * 2


EMPTY_USER = """FROM localhost/dockerfix-base
USER 1000
RUN true
USER ""
RUN id -u > /uid
"""


@pytest.mark.build
def test_fact_user_empty_string_restores_the_empty_user(build_image) -> None:  # type: ignore[no-untyped-def]
    """`USER ""` gives the config an empty User again and runs as root, on both builders. Not used by the fix (an
    odd line for a maintainer to keep, and undocumented); measured so that the refusal above is a choice."""
    _, image = build_image(EMPTY_USER)
    assert image.config.user == ""
    assert flatten(image)["/uid"].sha256 == hashlib.sha256(b"0\n").hexdigest()
