from __future__ import annotations

import pytest

from dockerfix.refactor.dockerfile.analysis import analyse_text
from dockerfix.refactor.engine import find, run

from .helpers import fix
from .testbases import table

NAME = ["chown-layer"]

UNCHANGED = {
    "created-in-same-step": "FROM b\nRUN mkdir -p /data && chown -R 1000:1000 /data\n",
    "not-recursive": "FROM b\nCOPY a /data/a\nRUN chown 1000:1000 /data/a\n",
    "already-good": "FROM b\nCOPY --chown=1000:1000 a /data/a\n",
    "no-chown": "FROM b\nCOPY . /app\nRUN make -C /app\n",
    "non-root-user": "FROM b\nCOPY a /data/a\nUSER app\nRUN chown -R app /data\n",
    "sudo": "FROM b\nCOPY a /data/a\nRUN sudo chown -R 1000 /data\n",
    "unknown-variable": "FROM b\nCOPY a /data/a\nRUN chown -R $OWNER /data\n",
    "unknown-arg": "FROM b\nARG OWNER\nCOPY a /data/a\nRUN chown -R ${OWNER} /data\n",
    "inside-if": "FROM b\nCOPY a /data/a\nRUN if true; then chown -R 1000 /data; fi\n",
    "or-true": "FROM b\nCOPY a /data/a\nRUN chown -R 1000 /data || true\n",
    "json-form": 'FROM b\nCOPY a /data/a\nRUN ["chown", "-R", "1000", "/data"]\n',
    "follows-symlinks": "FROM b\nCOPY a /data/a\nRUN chown -R -L 1000 /data\n",
    "login-group": "FROM b\nCOPY a /data/a\nRUN chown -R app: /data\n",
    "volume": "FROM b\nVOLUME /data\nCOPY a /data/a\nRUN chown -R 1000 /data\n",
    "copy-into-ancestor": "FROM b\nCOPY . /\nRUN chown -R 1000 /data\n",
    "whole-filesystem": "FROM b\nRUN chown -R 1000 /\n",
    "symbolic-chmod-with-X": "FROM b\nCOPY a /data/a\nRUN chmod -R a+rX /data\n",
    "windows": "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY a C:/data/a\nRUN chown -R 1000 /data\n",
    "shell-error": "FROM b\nCOPY a /data/a\nRUN chown -R 1000 /data && (\n",
    "suppressed": "FROM b\nCOPY a /data/a\n# dockerfix: ignore=chown-layer\nRUN chown -R 1000 /data\n",
    "suppressed-file": "# dockerfix: ignore-file\nFROM b\nCOPY a /data/a\nRUN chown -R 1000 /data\n",
    "dot-separator-names": "FROM b\nCOPY a /data/a\nRUN chown -R app.staff /data\n",
    "unknown-user": "FROM b\nARG U\nUSER $U\nCOPY a /data/a\nRUN chown -R 1000 /data\n",
    "symlink-target-base": "FROM debian:12\nCOPY a /var/run/a\nRUN chown -R 1000 /var/run\n",
    "symlink-target-made": "FROM b\nRUN ln -s /mnt/x /data\nCOPY a /data/a\nRUN chmod -R 755 /data\n",
    "variable-set-in-step": "FROM b\nENV D=/data\nCOPY a /data/a\nRUN D=/other && chown -R 1000 $D\n",
    "nothing-moved-missing-parent-left-alone": "FROM b\nCOPY a /new/deep/data/a\nRUN chown -R 1000:1000 /new/deep/data\n",
    "nothing-moved-named-user-created-later-unknown-id": "FROM b\nCOPY a /opt/w/a\nRUN apk add tini && adduser -D w\n"
                                                         "RUN chown -R w:w /opt/w\n",
    "nothing-moved-tar-add-left-alone": "FROM b\nADD rootfs.tar.gz /data/\nRUN chown -R 1000:1000 /data\n",
    "nothing-moved-variable-set-in-creator-not-trusted": "FROM b\nENV D=/data/x\nRUN D=/tmp/y; mkdir -p $D\nRUN chown -R 1000:1000 /data\n",
    "powershell": 'FROM b\nSHELL ["powershell", "-Command"]\nCOPY a /data/a\nRUN chown -R 1000 /data\n',
}

FIND = r"\( ! -user 1000 -o ! -group 1000 -o -perm -4000 -o -perm -2000 \) -exec chown -h 1000:1000 {} +"

FIXED = {
    "basic": (
        "FROM b\nCOPY a /data/a\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN find /data {FIND}\n",
    ),
    "outside-target-untouched": (
        "FROM b\nCOPY tool /usr/local/bin/tool\nCOPY a /data/a\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nCOPY tool /usr/local/bin/tool\nCOPY --chown=1000:1000 a /data/a\nRUN find /data {FIND}\n",
    ),
    "existing-chown-replaced": (
        "FROM b\nCOPY --link --chown=0:0 a /data/a\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nCOPY --link --chown=1000:1000 a /data/a\nRUN find /data {FIND}\n",
    ),
    "user-only-keeps-group": (
        "FROM b\nCOPY a /data/a\nRUN chown -R 1000 /data\n",
        "FROM b\nCOPY --chown=1000:0 a /data/a\n"
        "RUN find /data \\( ! -user 1000 -o -perm -4000 -o -perm -2000 \\) -exec chown -h 1000 {} +\n",
    ),
    "dot-separator-numeric": (
        "FROM b\nCOPY a /data/a\nRUN chown -R 1000.1000 /data\n",
        "FROM b\nCOPY --chown=1000:1000 a /data/a\n"
        "RUN find /data \\( ! -user 1000 -o ! -group 1000 -o -perm -4000 -o -perm -2000 \\) -exec chown -h 1000:1000 {} +\n",
    ),
    "chgrp": (
        "FROM b\nCOPY a /data/a\nRUN chgrp -R 50 /data\n",
        "FROM b\nCOPY --chown=0:50 a /data/a\n"
        "RUN find /data \\( ! -group 50 -o -perm -4000 -o -perm -2000 \\) -exec chgrp -h 50 {} +\n",
    ),
    "env-and-workdir": (
        "FROM b\nENV APP=/srv/app\nWORKDIR $APP\nCOPY a ./a\nRUN chown -R 1000:1000 .\n",
        f"FROM b\nENV APP=/srv/app\nWORKDIR $APP\nCOPY --chown=1000:1000 a ./a\nRUN find . {FIND}\n",
    ),
    "cd-in-run": (
        "FROM b\nCOPY a /data/a\nRUN cd /data && chown -R 1000:1000 .\n",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN cd /data && find . {FIND}\n",
    ),
    "run-created-fresh": (
        "FROM b\nRUN git clone https://x/r.git /data/r\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nRUN git clone https://x/r.git /data/r && chown -R 1000:1000 /data/r\nRUN find /data {FIND}\n",
    ),
    "run-created-default-clone-dir": (
        "FROM b\nWORKDIR /data\nRUN git clone --depth 1 https://x/repo.git\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nWORKDIR /data\nRUN git clone --depth 1 https://x/repo.git && chown -R 1000:1000 /data/repo\n"
        f"RUN find /data {FIND}\n",
    ),
    "run-into-existing-dir-uses-find": (
        "FROM b\nCOPY a /data/a\nRUN tar -xf /x.tar -C /data\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN tar -xf /x.tar -C /data && find /data {FIND}\n"
        f"RUN find /data {FIND}\n",
    ),
    "named-user-created-later-numeric": (
        "FROM b\nCOPY a /opt/w/a\nRUN adduser -D -u 1002 w\nCOPY b /opt/w/b\nRUN chown -R w /opt/w\n",
        "FROM b\nCOPY --chown=1002:0 a /opt/w/a\nRUN adduser -D -u 1002 w\nCOPY --chown=w:0 b /opt/w/b\n"
        "RUN find /opt/w \\( ! -user w -o -perm -4000 -o -perm -2000 \\) -exec chown -h w {} +\n",
    ),
    "other-work-in-step": (
        "FROM b\nCOPY a /data/a\nRUN echo hi > /tmp/x && chown -R 1000:1000 /data && echo done\n",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN echo hi > /tmp/x && find /data {FIND} && echo done\n",
    ),
    "comment-in-continuation-kept": (
        "FROM b\nCOPY a /data/a\nRUN chown -R 1000:1000 \\\n    # the data dir\n    /data\n",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN find \\\n    # the data dir\n    /data {FIND}\n",
    ),
    "trailing-comment-in-creator": (
        "FROM b\nRUN mkdir -p /data/x # make it\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nRUN mkdir -p /data/x && chown -R 1000:1000 /data/x # make it\nRUN find /data {FIND}\n",
    ),
    "heredoc-creator": (
        "FROM b\nRUN <<EOF\nset -e\nmkdir -p /data/c\nEOF\nRUN chown -R 1000:1000 /data\n",
        f"FROM b\nRUN <<EOF\nset -e\nmkdir -p /data/c\nchown -R 1000:1000 /data/c\nEOF\nRUN find /data {FIND}\n",
    ),
    "crlf": (
        "FROM b\r\nCOPY a /data/a\r\nRUN chown -R 1000:1000 /data\r\n",
        f"FROM b\r\nCOPY --chown=1000:1000 a /data/a\r\nRUN find /data {FIND}\r\n",
    ),
    "other-stage-untouched": (
        "FROM b AS one\nCOPY a /data/a\nFROM b\nCOPY a /data/a\nRUN chown -R 1000:1000 /data\n",
        f"FROM b AS one\nCOPY a /data/a\nFROM b\nCOPY --chown=1000:1000 a /data/a\nRUN find /data {FIND}\n",
    ),
    "copy-after-step-untouched": (
        "FROM b\nCOPY a /data/a\nRUN chown -R 1000:1000 /data\nCOPY c /data/c\n",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN find /data {FIND}\nCOPY c /data/c\n",
    ),
}


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_unchanged(name: str) -> None:
    text = UNCHANGED[name]
    assert fix(text, NAME, unsafe=True) == text


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed(name: str) -> None:
    before, after = FIXED[name]
    assert fix(before, NAME) == after
    assert fix(after, NAME) == after  # idempotent


@pytest.mark.parametrize("name", ["non-root-user", "sudo", "unknown-variable", "inside-if", "json-form", "volume",
                                  "copy-into-ancestor", "login-group", "follows-symlinks", "shell-error",
                                  "dot-separator-names", "unknown-user", "symlink-target-made"])
def test_refusals_are_reported_with_a_reason(name: str) -> None:
    findings = find(analyse_text(UNCHANGED[name]), NAME)
    assert len(findings) == 1
    assert findings[0].fix is None
    assert findings[0].message.startswith("not fixed: ")


def test_non_root_run_between_keeps_the_copy_before_it() -> None:
    # A step between that may see the owners (here: a non-root USER) is a boundary: ownership moves only into
    # steps after it. Nothing is left to move here, so there is no fix, and the reason is given.
    text = "FROM b\nCOPY a /data/a\nUSER app\nRUN ls /data\nUSER root\nRUN chown -R 1000:1000 /data\n"
    result = run(text, NAME, unsafe=True, bases=table())
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and "runs as a non-root USER" in finding.message
    later = text.replace("RUN chown", "COPY b /data/b\nRUN chown")
    assert "COPY --chown=1000:1000 b /data/b" in run(later, NAME, bases=table()).output


def test_every_change_is_explained() -> None:
    before, _ = FIXED["run-into-existing-dir-uses-find"]
    (finding,) = run(before, NAME, bases=table()).findings
    assert finding.transform == "chown-layer"
    assert any("line 2: COPY gets --chown=1000:1000" in d for d in finding.details)
    assert any("line 3: RUN writes into /data" in d for d in finding.details)  # it existed: not "creates"
    assert any("line 4: kept as a `find`" in d for d in finding.details)
