"""chown-layer and account steps: the exec form of useradd/adduser, moving a pure account step above the COPY that
needs its names, the refusals (each with its reason and what the user could change), and builds that prove a move
keeps the image and that a wrong move (account steps swapped, so the ids swap) is caught."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockerfix.refactor.engine import run
from dockerfix.refactor.images.image import compare_images

from .testbases import DEBIAN, table

if TYPE_CHECKING:
    from tests.conftest import ContextBuilds

NAME = ["chown-layer"]
B = "FROM localhost/dockerfix-base\n"
F = {"a.txt": "a\n" * 200, "b.txt": "b\n" * 200}
T = "RUN chown -R w:w /opt/w\n"
KEPT = "RUN find /opt/w \\( ! -user w -o ! -group w -o -perm -4000 -o -perm -2000 \\) -exec chown -h w:w {} +\n"

# name -> (before, after): the account step moves up (with its comment lines and continuations).
MOVED: dict[str, tuple[str, str]] = {
    "adduser": (
        B + "COPY a.txt /opt/w/a\nRUN adduser -D w\n" + T,
        B + "RUN adduser -D w\nCOPY --chown=w:w a.txt /opt/w/a\n" + KEPT),
    "comments-and-continuation-move-with-it": (
        B + "# data\nCOPY a.txt /opt/w/a\n# the account\n# (next free ids)\nRUN addgroup w \\\n    && adduser -D -G w w\n"
            "COPY b.txt /opt/w/b\n" + T,
        B + "# the account\n# (next free ids)\nRUN addgroup w \\\n    && adduser -D -G w w\n# data\n"
            "COPY --chown=w:w a.txt /opt/w/a\nCOPY --chown=w:w b.txt /opt/w/b\n" + KEPT),
    "exec-form": (
        B + 'COPY a.txt /opt/w/a\nRUN ["adduser", "-D", "w"]\n' + T,
        B + 'RUN ["adduser", "-D", "w"]\nCOPY --chown=w:w a.txt /opt/w/a\n' + KEPT),
    "groupadd-and-useradd-m": (
        B + "COPY a.txt /opt/w/a\nRUN groupadd app && useradd -g app -m w\nRUN chown -R w:app /opt/w\n",
        B + "RUN groupadd app && useradd -g app -m w\nCOPY --chown=w:app a.txt /opt/w/a\n"
            "RUN find /opt/w \\( ! -user w -o ! -group app -o -perm -4000 -o -perm -2000 \\) -exec chown -h w:app {} +\n"),
    "user-only-keeps-group": (
        B + "COPY a.txt /opt/w/a\nRUN adduser -D w\nRUN chown -R w /opt/w\n",
        B + "RUN adduser -D w\nCOPY --chown=w:0 a.txt /opt/w/a\n"
            "RUN find /opt/w \\( ! -user w -o -perm -4000 -o -perm -2000 \\) -exec chown -h w {} +\n"),
    "after-the-arg-it-uses": (
        B + "ARG U=w\nCOPY a.txt /opt/w/a\nRUN adduser -D $U\n" + T,
        B + "ARG U=w\nRUN adduser -D $U\nCOPY --chown=w:w a.txt /opt/w/a\n" + KEPT),
    "over-a-neutral-run": (
        B + "COPY a.txt /opt/w/a\nRUN mkdir -p /srv/x && chmod 700 /srv/x\nRUN adduser -D w\n" + T,
        B + "RUN adduser -D w\nCOPY --chown=w:w a.txt /opt/w/a\nRUN mkdir -p /srv/x && chmod 700 /srv/x\n" + KEPT),
    "above-a-run-that-creates-under-the-target": (
        B + "RUN mkdir -p /opt/w/cache\nCOPY a.txt /opt/w/a\nRUN adduser -D w\n" + T,
        B + "RUN adduser -D w\nRUN mkdir -p /opt/w/cache && chown -R w:w /opt/w/cache\n"
            "COPY --chown=w:w a.txt /opt/w/a\n" + KEPT),
    "account-steps-move-together-in-their-order": (
        B + "COPY a.txt /opt/w/a\nRUN adduser -D x\nCOPY b.txt /srv/b\nRUN adduser -D w\n" + T,
        B + "RUN adduser -D x\nRUN adduser -D w\nCOPY --chown=w:w a.txt /opt/w/a\nCOPY b.txt /srv/b\n" + KEPT),
    "exec-form-account-step-moves-along": (
        B + 'COPY a.txt /opt/w/a\nRUN ["addgroup", "x"]\nRUN adduser -D w\n' + T,
        B + 'RUN ["addgroup", "x"]\nRUN adduser -D w\nCOPY --chown=w:w a.txt /opt/w/a\n' + KEPT),
    "group-and-user-in-two-steps": (
        B + "COPY a.txt /opt/w/a\nRUN groupadd app\nRUN useradd -g app w\nRUN chown -R w:app /opt/w\n",
        B + "RUN groupadd app\nRUN useradd -g app w\nCOPY --chown=w:app a.txt /opt/w/a\n"
            "RUN find /opt/w \\( ! -user w -o ! -group app -o -perm -4000 -o -perm -2000 \\) -exec chown -h w:app {} +\n"),
    "heredoc": (  # checked statically: buildah 1.28 cannot build heredocs
        B + "COPY a.txt /opt/w/a\nRUN <<EOF\nadduser -D w\nEOF\n" + T,
        B + "RUN <<EOF\nadduser -D w\nEOF\nCOPY --chown=w:w a.txt /opt/w/a\n" + KEPT),
    "over-a-copy-of-a-tool": (
        B + "COPY a.txt /opt/w/a\nCOPY b.txt /usr/local/bin/tool\nRUN adduser -D w\n" + T,
        B + "RUN adduser -D w\nCOPY --chown=w:w a.txt /opt/w/a\nCOPY b.txt /usr/local/bin/tool\n" + KEPT),
    "lazy-workdir-nothing-writes-there": (
        B + "WORKDIR /app\nCOPY a.txt /opt/w/a\nRUN adduser -D w\n" + T,
        B + "WORKDIR /app\nRUN adduser -D w\nCOPY --chown=w:w a.txt /opt/w/a\n" + KEPT),
    "home-elsewhere": (
        B + "COPY a.txt /opt/w/a\nRUN adduser -D -h /data/homes/w w\n" + T,
        B + "RUN adduser -D -h /data/homes/w w\nCOPY --chown=w:w a.txt /opt/w/a\n" + KEPT),
}

# name -> (Dockerfile, a phrase of the reason): the account step stays where it is.
REFUSED: dict[str, tuple[str, str]] = {
    "installs-packages": (B + "COPY a.txt /opt/w/a\nRUN apk add tini\nRUN adduser -D w\n" + T,
                          "line 3: the RUN installs packages, which may add accounts"),
    "another-account-step-not-read": (B + "ARG X\nCOPY a.txt /opt/w/a\nRUN adduser -D $X\nRUN adduser -D w\n" + T,
                                      "line 4: the RUN makes accounts too (the order decides the ids)"),
    "another-account-step-does-more": (B + "COPY a.txt /opt/w/a\nRUN apk add x && adduser -D x\nRUN adduser -D w\n" + T,
                                       "the RUN at line 3 does more than make accounts (`apk` is not an account"),
    "copy-into-home": (B + "COPY a.txt /home/w/a\nRUN adduser -D w\nRUN chown -R w:w /home/w\n",
                       "line 2: the COPY names /home/w/a, at, under or above /home/w"),
    "home-is-the-target": (B + "COPY a.txt /opt/w/a\nRUN useradd -m -d /opt/w w\n" + T,
                           "the COPY names /opt/w/a, at, under or above /opt/w"),
    "copy-makes-the-home-parent": (B + "COPY a.txt /opt/w/a\nCOPY b.txt /data/homes/x/b\n"
                                   "RUN adduser -D -h /data/homes/w w\n" + T, "may make /data/homes, above the home"),
    "copy-into-etc": (B + "COPY a.txt /opt/w/a\nCOPY b.txt /etc/login.defs\nRUN adduser -D w\n" + T,
                      "names /etc/login.defs"),
    "looks-up-users": (B + "COPY a.txt /opt/w/a\nRUN id root\nRUN adduser -D w\n" + T, "the RUN runs `id`"),
    "chown-by-name": (B + "COPY a.txt /opt/w/a\nRUN chown www-data /srv\nRUN adduser -D w\n" + T,
                      "`chown www-data` looks the name up"),
    "mkdir-in-home": (B + "COPY a.txt /opt/w/a\nRUN mkdir -p /home/w/.cache\nRUN adduser -D w\n" + T,
                      "`mkdir` in the RUN names /home/w/.cache"),
    "env-between": (B + "COPY a.txt /opt/w/a\nENV X=1\nRUN adduser -D w\n" + T, "ENV or ARG between"),
    "user-between": (B + "COPY a.txt /opt/w/a\nUSER 1000\nUSER root\nRUN adduser -D w\n" + T, "USER differs"),
    "workdir-between": (B + "COPY a.txt /opt/w/a\nWORKDIR /app\nRUN adduser -D w\n" + T, "WORKDIR differs"),
    "lazy-workdir-written": (B + "WORKDIR /app\nCOPY a.txt /opt/w/a\nCOPY b.txt ./b\nRUN adduser -D w\n" + T,
                             "the COPY names /app/b, at, under or above /app"),
    "volume-between": (B + "COPY a.txt /opt/w/a\nVOLUME /home\nRUN adduser -D w\n" + T, "a VOLUME is declared"),
    "conditional": (B + "COPY a.txt /opt/w/a\nRUN adduser -D w || true\n" + T, "does more than make accounts"),
    "other-work": (B + "COPY a.txt /opt/w/a\nRUN adduser -D w && mkdir /x\n" + T, "`mkdir` is not an account command"),
    "flag": (B + "COPY a.txt /opt/w/a\nRUN --network=none adduser -D w\n" + T, "it has the flag --network"),
    "other-root": (B + "COPY a.txt /opt/w/a\nRUN useradd -R /mnt w\n" + T, "works on another root"),
    "in-the-chown-run": (B + "COPY a.txt /opt/w/a\nRUN adduser -D w && chown -R w:w /opt/w\n",
                         "made in the RUN of the chown itself"),
    "replaces-the-program": (B + "COPY a.txt /opt/w/a\nCOPY b.txt /usr/local/sbin/adduser\nRUN adduser -D w\n" + T,
                             "names /usr/local/sbin/adduser, which is /usr/local/sbin/adduser"),
    "copies-a-library": (B + "COPY a.txt /opt/w/a\nCOPY b.txt /usr/lib/libx.so\nRUN adduser -D w\n" + T,
                         "names /usr/lib/libx.so, at, under or above /usr/lib"),
    "git-between": (B + "RUN git clone https://example.org/r.git /opt/w/r\nRUN adduser -D w\n" + T,
                    "line 2: the RUN runs `git`"),
    "made-nowhere": (B + "COPY a.txt /opt/w/a\n" + T, "no analysed step between line 2 and the chown creates `w`"),
}


def _context(tmp_path: Path) -> Path:
    for rel, text in F.items():
        (tmp_path / rel).write_text(text)
    return tmp_path / "Dockerfile"


@pytest.mark.parametrize("name", sorted(MOVED))
def test_moved(tmp_path: Path, name: str) -> None:
    before, after = MOVED[name]
    path = _context(tmp_path)
    result = run(before, NAME, path=path, bases=table())
    assert result.output == after
    (finding,) = result.findings
    assert finding.fix is not None and finding.fix.safe
    assert any("RUN moved above line" in d for d in finding.details)
    assert run(after, NAME, path=path, bases=table()).output == after  # idempotent


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_the_reason_and_what_to_change(tmp_path: Path, name: str) -> None:
    text, why = REFUSED[name]
    result = run(text, NAME, unsafe=True, path=_context(tmp_path), bases=table())
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and finding.message.startswith("not fixed: ")
    assert why in finding.message
    assert "to fix it, " in finding.message


def test_advice_names_the_step_and_the_line() -> None:
    text, _ = REFUSED["installs-packages"]
    (finding,) = run(text, NAME, bases=table()).findings
    assert "move `RUN adduser -D w` (line 4) above line 2" in finding.message
    assert "give the uid and the gid" in finding.message


def test_ids_given_need_no_move() -> None:
    # Both ids written: the COPY gets them, the account step stays.
    text = B + "COPY a.txt /opt/w/a\nRUN addgroup -g 1500 w && adduser -D -u 1500 -G w w\n" + T
    out = run(text, NAME, bases=table()).output
    assert "COPY --chown=1500:1500 a.txt /opt/w/a\nRUN addgroup" in out


@pytest.mark.parametrize("argv", ['["useradd", "-u", "1500", "app"]', '["/usr/sbin/adduser", "-D", "app"]'])
def test_exec_form_account_is_known_after_it(argv: str) -> None:
    text = B + f"RUN {argv}\nCOPY a.txt /data/a\nRUN chown -R app:app /data\n"
    out = run(text, NAME, bases=table()).output
    assert "COPY --chown=app:app a.txt /data/a" in out


def test_exec_form_of_another_program_is_not_read() -> None:
    text = B + 'RUN ["sh", "-c", "adduser -D app"]\nCOPY a.txt /data/a\nRUN chown -R app:app /data\n'
    assert run(text, NAME, unsafe=True, bases=table()).output == text


BUILT = ["adduser", "comments-and-continuation-move-with-it", "exec-form", "groupadd-and-useradd-m",
         "above-a-run-that-creates-under-the-target", "account-steps-move-together-in-their-order"]


@pytest.mark.build
@pytest.mark.parametrize("name", BUILT)
def test_moved_builds_to_the_same_image(build_image: ContextBuilds, name: str) -> None:
    before, after = MOVED[name]
    _, original = build_image(before, F)
    _, fixed = build_image(after, F)
    assert [d.text for d in compare_images(original, fixed)] == []


@pytest.mark.build
def test_harness_catches_a_move_over_another_account_step(build_image: ContextBuilds) -> None:
    # Why the account steps move together: `adduser -D w` alone moved above `adduser -D x` takes x's ids.
    before, _ = MOVED["account-steps-move-together-in-their-order"]
    wrong = B + "RUN adduser -D w\nCOPY --chown=w:w a.txt /opt/w/a\nRUN adduser -D x\nCOPY b.txt /srv/b\n" + KEPT
    _, original = build_image(before, F)
    _, moved = build_image(wrong, F)
    texts = [d.text for d in compare_images(original, moved)]
    assert any("/etc/passwd" in t for t in texts)


D = f"FROM {DEBIAN}\n"
DEBIAN_MOVED = (
    D + "COPY a.txt /opt/w/a\n# shadow's useradd: home from /etc/skel, ids the next free ones\n"
        "RUN groupadd -r app && useradd -m -r -g app -s /bin/bash w\nRUN chown -R w:app /opt/w\n",
    D + "# shadow's useradd: home from /etc/skel, ids the next free ones\n"
        "RUN groupadd -r app && useradd -m -r -g app -s /bin/bash w\nCOPY --chown=w:app a.txt /opt/w/a\n"
        "RUN find /opt/w \\( ! -user w -o ! -group app -o -perm -4000 -o -perm -2000 \\) -exec chown -h w:app {} +\n",
)


def _debian_bases(rootfs: Path) -> dict:  # type: ignore[type-arg]
    from .testbases import debian_facts

    return {**table(), DEBIAN: debian_facts(rootfs)}


def test_debian_useradd_m_moved(debian_rootfs_tar: Path, tmp_path: Path) -> None:
    before, after = DEBIAN_MOVED
    bases = _debian_bases(debian_rootfs_tar)
    path = _context(tmp_path)
    assert run(before, NAME, path=path, bases=bases).output == after
    assert run(after, NAME, path=path, bases=bases).output == after


@pytest.mark.build
def test_debian_useradd_m_moved_builds_to_the_same_image(debian_build_image: ContextBuilds) -> None:
    before, after = DEBIAN_MOVED
    _, original = debian_build_image(before, F)
    _, fixed = debian_build_image(after, F)
    assert [d.text for d in compare_images(original, fixed)] == []


def test_move_over_paths_of_an_unread_base_is_unsafe() -> None:
    # Nothing proves /opt and /opt/w are no symlinks (into /etc or /home) in a base that was not read.
    text = "FROM example.org/unknown:1\nCOPY a.txt /opt/w/a\nRUN adduser -D w\n" + T
    assert run(text, NAME, bases=table()).output == text
    result = run(text, NAME, unsafe=True, bases=table())
    assert result.output.startswith("FROM example.org/unknown:1\nRUN adduser -D w\nCOPY --chown=w:w")
    (finding,) = result.findings
    assert finding.fix is not None and not finding.fix.safe
    assert "unsafe: assumes /opt is no symlink in the base image 'example.org/unknown:1'" in finding.details
