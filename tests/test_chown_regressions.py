"""Regression tests for the wrong chown-layer fixes found by building (root causes F1-F17, R1-R5).

Each case is a Dockerfile on the test base image. A case that must stay unchanged is checked statically (the
fix would have changed the image, or made it fail to build); a case with a fix is checked statically against the
exact fixed text, and built twice (original and fixed) on the builder fixtures, and the images are compared path by
path and by config.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockerfix.refactor.dockerfile.analysis import analyse_text
from dockerfix.refactor.engine import find, run
from dockerfix.refactor.images.image import compare_images

from .helpers import fix
from .testbases import table

if TYPE_CHECKING:
    from tests.conftest import ContextBuilds

NAME = ["chown-layer"]
B = "FROM localhost/dockerfix-base\n"
FIND = r"\( ! -user 1000 -o ! -group 1000 -o -perm -4000 -o -perm -2000 \) -exec chown -h 1000:1000 {} +"
F = {"f.txt": "f\n"}

# name -> (Dockerfile, context files): the fix must leave the file as it is.
UNCHANGED: dict[str, tuple[str, dict[str, str]]] = {
    # F1: buildah creates a WORKDIR only when a RUN needs it; --chown would give /app the new owner.
    "F1-lazy-workdir-parent": (B + "WORKDIR /app\nCOPY f.txt /app/data/f.txt\nRUN chown -R 1000:1000 /app/data\n", F),
    # F9: the user is made by a step the analysis cannot read (the exec form of adduser is read: test_chown_accounts).
    "F9-user-made-by-script": (B + "COPY setup.sh /usr/local/bin/setup.sh\nRUN sh /usr/local/bin/setup.sh\n"
                               "COPY f.txt /data/f.txt\nRUN chown -R myapp:myapp /data\n",
                               {**F, "setup.sh": "addgroup myapp\nadduser -D -G myapp myapp\n"}),
    # R1: the user is made in the chown's own RUN, and its group id is not written.
    "R1-user-made-in-same-run": (B + "COPY f.txt /app/f.txt\nRUN adduser -D -u 1000 code && chown -R code:code /app\n", F),
    # F4: symlinks the builder follows and `chown -R` does not.
    "F4-parent-stage-symlink": ("FROM localhost/dockerfix-base AS base\nRUN mkdir -p /opt/real && ln -s /opt/real /data\n"
                                "FROM base\nCOPY f.txt /data/f.txt\nRUN chown -R 1000:1000 /data\n", F),
    "F4-mv-symlink": (B + "RUN mkdir -p /opt/real && ln -s /opt/real /tmp/l && mv /tmp/l /data\n"
                      "COPY f.txt /data/f.txt\nRUN chown -R 1000:1000 /data\n", F),
    "F4-chmod-follows-named-symlink": (B + "RUN mkdir -p /usr/local/share/man/man1 && echo x > /usr/local/share/man/man1/t.1"
                                       " && chmod 600 /usr/local/share/man/man1/t.1 && ln -s share/man /usr/local/man\n"
                                       "RUN chmod -R 755 /usr/local/man\n", {}),
    # F5: an ARG does not cross FROM: ${APP_DIR} is empty in the child stage.
    "F5-arg-child-stage": ("FROM localhost/dockerfix-base AS base\nARG APP_DIR=/srv/app\nFROM base\n"
                           "COPY a.txt /srv/app/a.txt\nCOPY b.txt ${APP_DIR}/b.txt\nRUN chown -R 1000:1000 /srv/app\n",
                           {"a.txt": "a\n", "b.txt": "b\n"}),
    # F7: root steps between that copy, move, link, archive or run as another user.
    "F7-cp-a-between": (B + "COPY seed/ /data/\nRUN cp -a /data /data.template\nRUN chown -R 1000:1000 /data\n",
                        {"seed/s.txt": "s\n"}),
    "F7-mv-between": (B + "COPY seed/ /data/\nRUN mv /data/tools /opt/tools\nRUN chown -R 1000:1000 /data\n",
                      {"seed/tools/t.sh": "t\n", "seed/s.txt": "s\n"}),
    "F7-hardlink-between": (B + "COPY tool /data/tool\nRUN ln /data/tool /usr/local/bin/tool\n"
                            "RUN chown -R 1000:1000 /data\n", {"tool": "t\n"}),
    "F7-tar-between": (B + "COPY seed/ /data/\nRUN tar --numeric-owner -cf /seed.tar -C /data .\n"
                       "RUN chown -R 1000:1000 /data\n", {"seed/s.txt": "s\n"}),
    "F7-su-between": (B + "COPY secret.txt /data/secret.txt\nRUN chmod 600 /data/secret.txt\n"
                      "RUN su -s /bin/sh nobody -c 'cat /data/secret.txt > /tmp/seen' || echo no\n"
                      "RUN chown -R 65534:65534 /data\n", {"secret.txt": "s\n"}),
    "F7-read-in-own-run": (B + "COPY seed/ /data/\nRUN cp -a /data /data.template && chown -R 1000:1000 /data\n",
                           {"seed/s.txt": "s\n"}),
    # F11: a directory above the target that the base (here a parent stage) does not have.
    "F11-parent-dir-missing": ("FROM localhost/dockerfix-base AS slim\nRUN rmdir /srv\nFROM slim\n"
                               "COPY app.sh /srv/app/app.sh\nRUN chown -R 1000:1000 /srv/app\n", {"app.sh": "echo\n"}),
    # F12: --chown=user without a group: the primary group, not known here.
    "F12-primary-group-unknown": (B + "RUN adduser -D -u 1500 app\nCOPY --chown=app f.txt /data/f.txt\n"
                                  "RUN chown -R 2000 /data\n", F),
    # F14: `cd` alone goes to $HOME, not known statically.
    "F14-cd-without-argument": (B + "WORKDIR /app\nCOPY f.txt /app/data/f.txt\n"
                                "RUN mkdir -p /root/data && touch /root/data/x\nRUN cd && chown -R 1000:1000 data\n", F),
    # F15: the kept step needs `find`, which a parent stage removed.
    "F15-no-find": ("FROM localhost/dockerfix-base AS nofind\nRUN rm /bin/find\nFROM nofind\n"
                    "COPY f.txt /opt/app/f.txt\nRUN chown -R 1000:1000 /opt/app\n", F),
    # F16: `chown -R :` changes no owner.
    "F16-chown-colon": (B + "COPY tool /opt/app/tool\nRUN chmod 4755 /opt/app/tool\nRUN chown -R : /opt/app\n",
                        {"tool": "t\n"}),
    # R3 (now fixed with COPY --chmod, tests/test_chown_modes.py) and F4-chmod-appended-through-link: there.
    # c41: the chown runs on a tmpfs mount (BuildKit), not on the image's /data.
    "c41-mount-over-target": (B + "COPY f.txt /data/f.txt\nRUN --mount=type=tmpfs,target=/data chown -R 1000:1000 /data\n",
                              F),
}

# name -> (Dockerfile, context files, the fixed Dockerfile): built both ways, the images must be identical.
FIXED: dict[str, tuple[str, dict[str, str], str]] = {
    "F1-workdir-used-by-a-run": (
        B + "WORKDIR /app\nRUN true\nCOPY f.txt /app/data/f.txt\nRUN chown -R 1000:1000 /app/data\n", F,
        B + f"WORKDIR /app\nRUN true\nCOPY --chown=1000:1000 f.txt /app/data/f.txt\nRUN find /app/data {FIND}\n"),
    "R1-ids-written": (
        B + "COPY f.txt /app/f.txt\nRUN addgroup -g 1000 code && adduser -D -u 1000 -G code code "
            "&& chown -R code:code /app\n", F,
        B + "COPY --chown=1000:1000 f.txt /app/f.txt\nRUN addgroup -g 1000 code && adduser -D -u 1000 -G code code "
            "&& find /app \\( ! -user code -o ! -group code -o -perm -4000 -o -perm -2000 \\) -exec chown -h code:code {} +\n"),
    "R1-user-made-in-a-later-run": (
        B + "COPY f.txt /app/f.txt\nRUN adduser -D -u 1000 code\nRUN chown -R code /app\n", F,
        B + "COPY --chown=1000:0 f.txt /app/f.txt\nRUN adduser -D -u 1000 code\n"
            "RUN find /app \\( ! -user code -o -perm -4000 -o -perm -2000 \\) -exec chown -h code {} +\n"),
    "F4-cd-ln-symlink": (  # only the link itself gets the owner earlier; the COPY through it is left alone
        B + "WORKDIR /app\nRUN mkdir -p /opt/real && cd / && ln -s /opt/real data\nCOPY f.txt /data/f.txt\n"
            "RUN chown -R 1000:1000 /data\n", F,
        B + "WORKDIR /app\nRUN mkdir -p /opt/real && cd / && ln -s /opt/real data && chown -R 1000:1000 /data\n"
            f"COPY f.txt /data/f.txt\nRUN find /data {FIND}\n"),
    "F4-symlink-under-target": (
        B + "RUN mkdir -p /srv/app /var/lib/shared && ln -s /var/lib/shared /srv/app/shared\n"
            "COPY conf.ini /srv/app/shared/conf.ini\nCOPY main.sh /srv/app/main.sh\nRUN chown -R 1000:1000 /srv/app\n",
        {"conf.ini": "c\n", "main.sh": "m\n"},
        B + "RUN mkdir -p /srv/app /var/lib/shared && ln -s /var/lib/shared /srv/app/shared && chown -R 1000:1000 "
            "/srv/app\nCOPY conf.ini /srv/app/shared/conf.ini\nCOPY --chown=1000:1000 main.sh /srv/app/main.sh\n"
            f"RUN find /srv/app {FIND}\n"),
    "F4-copy-onto-file-symlink": (
        B + "RUN mkdir -p /etc/myapp /srv/app && echo x > /etc/myapp/app.conf && ln -s /etc/myapp/app.conf "
            "/srv/app/app.conf\nCOPY app.conf /srv/app/app.conf\nRUN chown -R 1000:1000 /srv/app\n",
        {"app.conf": "new\n"},
        B + "RUN mkdir -p /etc/myapp /srv/app && echo x > /etc/myapp/app.conf && ln -s /etc/myapp/app.conf "
            "/srv/app/app.conf && chown -R 1000:1000 /srv/app\nCOPY app.conf /srv/app/app.conf\n"
            f"RUN find /srv/app {FIND}\n"),
    "F6-env-of-the-parent-wins-over-arg": (
        "FROM localhost/dockerfix-base AS envbase\nENV APP_DIR=/opt/app\nFROM envbase\nARG APP_DIR=/srv/app\n"
        "COPY a.txt /srv/app/a.txt\nCOPY b.txt ${APP_DIR}/b.txt\nRUN chown -R 1000:1000 /srv/app\n",
        {"a.txt": "a\n", "b.txt": "b\n"},
        "FROM localhost/dockerfix-base AS envbase\nENV APP_DIR=/opt/app\nFROM envbase\nARG APP_DIR=/srv/app\n"
        "COPY --chown=1000:1000 a.txt /srv/app/a.txt\nCOPY b.txt ${APP_DIR}/b.txt\n" f"RUN find /srv/app {FIND}\n"),
    "F7-copy-after-the-reader": (
        B + "COPY seed/ /data/\nRUN cp -a /data /data.template\nCOPY more.txt /data/more.txt\n"
            "RUN chown -R 1000:1000 /data\n", {"seed/s.txt": "s\n", "more.txt": "m\n"},
        B + "COPY seed/ /data/\nRUN cp -a /data /data.template\nCOPY --chown=1000:1000 more.txt /data/more.txt\n"
            f"RUN find /data {FIND}\n"),
    "F8-removed-later-in-the-run": (
        B + "COPY f.txt /data/f.txt\nRUN mkdir -p /data/build && echo x > /data/build/tmp && rm -rf /data/build\n"
            "RUN chown -R 1000:1000 /data\n", F,
        B + "COPY --chown=1000:1000 f.txt /data/f.txt\nRUN mkdir -p /data/build && echo x > /data/build/tmp && "
            f"rm -rf /data/build\nRUN find /data {FIND}\n"),
    "F8-moved-later-in-the-run": (
        B + "COPY f.txt /data/f.txt\nRUN mkdir /data/incoming && touch /data/incoming/x && mv /data/incoming /data/ready\n"
            "RUN chown -R 1000:1000 /data\n", F,
        B + "COPY --chown=1000:1000 f.txt /data/f.txt\nRUN mkdir /data/incoming && touch /data/incoming/x && "
            f"mv /data/incoming /data/ready\nRUN find /data {FIND}\n"),
    "F8-touch-date-value": (
        B + "WORKDIR /srv/app\nRUN touch -d 2020-01-01 .stamp\nRUN chown -R 1000:1000 /srv/app\n", {},
        B + "WORKDIR /srv/app\nRUN touch -d 2020-01-01 .stamp && chown -R 1000:1000 /srv/app/.stamp\n"
            f"RUN find /srv/app {FIND}\n"),
    "F8-or-fallback": (
        B + "COPY f.txt /data/f.txt\nRUN set -e; cp /etc/myapp.conf /data/myapp.conf 2>/dev/null || echo no config\n"
            "RUN chown -R 1000:1000 /data\n", F,
        B + "COPY --chown=1000:1000 f.txt /data/f.txt\nRUN set -e; cp /etc/myapp.conf /data/myapp.conf 2>/dev/null || "
            f"echo no config\nRUN find /data {FIND}\n"),
    "R2-quoted-owner": (
        B + 'COPY f.txt /data/f.txt\nRUN chown -R "1000:1000" /data\n', F,
        B + 'COPY --chown=1000:1000 f.txt /data/f.txt\nRUN find /data \\( ! -user "1000" -o ! -group "1000" -o '
            '-perm -4000 -o -perm -2000 \\) -exec chown -h "1000":"1000" {} +\n'),
    "R2-quoted-variables": (
        B + 'ARG U=1000\nARG G=1000\nCOPY f.txt /data/f.txt\nRUN chown -R "${U}:${G}" /data\n', F,
        B + 'ARG U=1000\nARG G=1000\nCOPY --chown=1000:1000 f.txt /data/f.txt\nRUN find /data \\( ! -user "${U}" -o '
            '! -group "${G}" -o -perm -4000 -o -perm -2000 \\) -exec chown -h "${U}":"${G}" {} +\n'),
    "R5-compound-elsewhere-in-the-run": (
        B + "COPY f.txt /data/f.txt\nRUN if [ -f /nope ]; then echo yes; fi && chown -R 1000:1000 /data\n", F,
        B + "COPY --chown=1000:1000 f.txt /data/f.txt\nRUN if [ -f /nope ]; then echo yes; fi && "
            f"find /data {FIND}\n"),
    "I6-options-after-the-owner": (
        B + "COPY f.txt /srv/f.txt\nRUN chown 1000:1000 -R /srv\n", F,
        B + f"COPY --chown=1000:1000 f.txt /srv/f.txt\nRUN find /srv {FIND}\n"),
}


def _context(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    return tmp_path / "Dockerfile"


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_unchanged(tmp_path: Path, name: str) -> None:
    text, files = UNCHANGED[name]
    assert fix(text, NAME, unsafe=True, path=_context(tmp_path, files)) == text


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_unchanged_is_reported_with_a_reason(tmp_path: Path, name: str) -> None:
    text, files = UNCHANGED[name]
    findings = run(text, NAME, path=_context(tmp_path, files), bases=table()).findings
    assert findings and all(f.fix is None and f.message.startswith("not fixed: ") for f in findings)


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_text(tmp_path: Path, name: str) -> None:
    before, files, after = FIXED[name]
    path = _context(tmp_path, files)
    assert fix(before, NAME, path=path) == after
    assert fix(after, NAME, path=path) == after


@pytest.mark.build
@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_builds_to_the_same_image(build_image: ContextBuilds, name: str) -> None:
    before, files, after = FIXED[name]
    _, original = build_image(before, files)
    _, fixed = build_image(after, files)
    assert [d.text for d in compare_images(original, fixed)] == []


# GNU tools (coreutils chmod/chown, findutils, shadow's useradd, bash): built on the Debian test base.
D = "FROM localhost/dockerfix-debian\n"
DEBIAN_FIXED: dict[str, tuple[str, dict[str, str], str]] = {
    # F4: GNU `chmod -R` skips symlinks below the path it is given; the appended chmod and the kept find agree.
    "F4-gnu-chmod-links-below": (
        D + "RUN mkdir -p /srv/x/sub && ln -s /etc /srv/x/etc && echo a > /srv/x/sub/a && chmod 600 /srv/x/sub/a\n"
            "COPY f.txt /srv/x/f.txt\nRUN chmod -R 755 /srv/x\n", F,
        D + "RUN mkdir -p /srv/x/sub && ln -s /etc /srv/x/etc && echo a > /srv/x/sub/a && chmod 600 /srv/x/sub/a && "
            "chmod -R 755 /srv/x/sub\nCOPY f.txt /srv/x/f.txt\nRUN find /srv/x ! -type l ! -perm 755 -exec chmod 755 {} +\n"),
    # F12: --chown=user takes the user's primary group from /etc/passwd (here `users`, 100), not its uid.
    "F12-primary-group-of-useradd-g": (
        D + "RUN useradd -u 1500 -g users app\nCOPY --chown=app f.txt /data/f.txt\nRUN chown -R 2000 /data\n", F,
        D + "RUN useradd -u 1500 -g users app\nCOPY --chown=2000:100 f.txt /data/f.txt\n"
            "RUN find /data \\( ! -user 2000 -o -perm -4000 -o -perm -2000 \\) -exec chown -h 2000 {} +\n"),
    # F14: pushd moves the directory like cd (bash).
    "F14-pushd": (
        D + 'SHELL ["/bin/bash", "-c"]\nWORKDIR /app\nCOPY f.txt /srv/data/f.txt\n'
            "RUN pushd /srv && chown -R 1000:1000 data && popd\n", F,
        D + 'SHELL ["/bin/bash", "-c"]\nWORKDIR /app\nCOPY --chown=1000:1000 f.txt /srv/data/f.txt\n'
            f"RUN pushd /srv && find data {FIND} && popd\n"),
}


def _debian_bases(rootfs: Path) -> dict:  # type: ignore[type-arg]
    from .testbases import DEBIAN, debian_facts

    return {**table(), DEBIAN: debian_facts(rootfs)}


@pytest.mark.parametrize("name", sorted(DEBIAN_FIXED))
def test_debian_fixed_text(debian_rootfs_tar: Path, tmp_path: Path, name: str) -> None:
    # The rootfs fixture builds the Debian base once (cached between runs), or fails when CI is set.
    before, files, after = DEBIAN_FIXED[name]
    bases = _debian_bases(debian_rootfs_tar)
    path = _context(tmp_path, files)
    assert run(before, NAME, path=path, bases=bases).output == after
    assert run(after, NAME, path=path, bases=bases).output == after


@pytest.mark.build
@pytest.mark.parametrize("name", sorted(DEBIAN_FIXED))
def test_debian_fixed_builds_to_the_same_image(debian_build_image: ContextBuilds, name: str) -> None:
    before, files, after = DEBIAN_FIXED[name]
    _, original = debian_build_image(before, files)
    _, fixed = debian_build_image(after, files)
    assert [d.text for d in compare_images(original, fixed)] == []



def test_nothing_written_earlier_is_not_called_stored_twice() -> None:
    """Real files chown a tree their own RUN made: nothing the Dockerfile wrote before is stored again."""
    [f] = find(analyse_text("FROM b\nRUN mkdir -p /app/media /app/static && chown -R 1000:1000 /app\n"), ["chown-layer"])
    assert f.fix is None
    assert "no earlier step that the analysis follows writes under /app" in f.message
    assert "stores every file" not in f.message


def test_a_copy_whose_sources_cannot_be_read_may_have_written_below_its_destination() -> None:
    """`COPY --from=x / /` may bring /data/…: a chown of a /data the RUN itself makes is not free."""
    df = "FROM b AS x\nRUN mkdir -p /data && echo 1 > /data/f\nFROM b\nCOPY --from=x / /\n" \
         "RUN mkdir -p /data && chown -R 1000 /data\n"
    [f] = find(analyse_text(df), ["chown-layer"])  # before: no finding (the chown counted as free)
    assert f.fix is None and "writes into /, above /data" in f.message


@pytest.mark.parametrize("df, refused", [
    ("FROM b\nCOPY a /app/bin/a\nRUN setcap cap_net_bind_service=+ep /app/bin/a\nRUN chown -R 1000:1000 /app\n", True),
    ("FROM b\nCOPY a /app/bin/a\nRUN chown -R 1000:1000 /app && setcap cap_net_raw+ep /app/bin/a\n", True),
    ("FROM b\nCOPY a /app/bin/a\nRUN setcap cap_net_raw+ep $TOOL\nRUN chown -R 1000:1000 /app\n", True),
    ("FROM b\nCOPY a /app/bin/a\nRUN setcap cap_net_raw+ep /usr/bin/ping\nRUN chown -R 1000:1000 /app\n", False),
    ("FROM b\nCOPY a /app/bin/a\nRUN setcap cap_net_raw+ep /app/bin/a\nRUN chmod -R 755 /app\n", False),
])
def test_setcap_under_the_target_refuses_a_chown(df: str, refused: bool) -> None:
    """root's chown clears security.capability on every file, even with the same owner; the kept find would not."""
    [f] = find(analyse_text(df), ["chown-layer"])
    assert ("file capabilities" in f.message) == refused, f.message
    if refused:
        assert f.fix is None


def test_a_fix_blocked_by_another_fixs_edit_is_not_reported_as_applied(tmp_path: Path) -> None:
    """Survey (ffboy-king, rendyreivaldy25): a chown and a later chmod of the same tree both edit the COPY. Only one
    fix can take that line in a round; the other was counted as applied (and its saving twice) but never written."""
    from dockerfix.refactor.cli.batch import Options, process_text
    from dockerfix.refactor.cli.report import summary

    (tmp_path / "index.php").write_text("<?php echo 1;\n" * 20)
    text = ("FROM php:8.2-apache\nCOPY . /var/www/html/\nRUN chown -R www-data:www-data /var/www/html\n"
            "RUN chmod -R 755 /var/www/html\n")
    (tmp_path / "Dockerfile").write_text(text)
    result = run(text, ["chown-layer"], True, path=tmp_path / "Dockerfile", context=tmp_path)
    chown, chmod = result.findings
    assert result.was_fixed(chown) and "--chown=www-data:www-data" in result.output
    assert "RUN chmod -R 755 /var/www/html" in result.output  # the chmod fix was not written
    assert not result.was_fixed(chmod)
    fr, _ = process_text(text, "Dockerfile", Options(selected=("chown-layer",), unsafe=True, context=str(tmp_path)),
                         tmp_path / "Dockerfile")
    assert [i.applied for i in fr.items] == [True, False]
    s = summary([fr])
    assert s["fixes_per_transform"] == {"chown-layer": 1} and s["estimated_saving_bytes"] == chown.saving
