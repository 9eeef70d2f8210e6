"""What RUN commands create and which accounts they add, read statically."""

from __future__ import annotations

import pytest

from dockerfix.refactor.dockerfile.facts import accounts_created, copy_args, created_paths
from dockerfix.refactor.dockerfile.parse import parse
from dockerfix.refactor.dockerfile.resolve import resolve
from dockerfix.refactor.dockerfile.shell import analyse

ENV = {"D": "/data", "U": None}


def _created(script: str, cwd: str | None = "/w") -> list[str]:
    return [c.path for cmd in analyse(script).commands for c in created_paths(cmd, ENV, cwd)]


@pytest.mark.parametrize(
    "script, paths",
    [
        ("mkdir -p -m 755 /a /b", ["/a", "/b"]),
        ("mkdir --mode=700 rel", ["/w/rel"]),
        ("git clone -b main --depth 1 https://h/o/r.git", ["/w/r"]),
        ("git clone https://h/o/r.git $D/r", ["/data/r"]),
        ("git clone", []),
        ("python3 -m venv --copies /opt/v", ["/opt/v"]),
        ("virtualenv -p python3 /opt/v", ["/opt/v"]),
        ("cp -r a b /dst", ["/dst"]),
        ("cp -t /dst a b", ["/dst"]),
        ("mv a", []),
        ("tar -xzf x.tgz -C /opt/x", ["/opt/x"]),
        ("tar --extract --file x.tar --directory=/opt/y", ["/opt/y"]),
        ("tar -czf out.tgz -C /src .", []),
        ("pip install --target /opt/lib pkg", ["/opt/lib"]),
        ("python3 -m pip install -t /opt/lib2 pkg", ["/opt/lib2"]),
        ("pip install pkg", []),
        ("curl -fsSL -o /opt/f https://h/f", ["/opt/f"]),
        ("curl --output=/opt/g https://h/g", ["/opt/g"]),
        ("curl -o - https://h/f", []),
        ("wget -O /opt/h https://h/h", ["/opt/h"]),
        ("wget -P /opt/dir https://h/h", ["/opt/dir"]),
        ("unzip -q x.zip -d /opt/z", ["/opt/z"]),
        ("touch /a /b", ["/a", "/b"]),
        ("ln -s /target /link", ["/link"]),
        ("install -d -m 755 /opt/i /opt/j", ["/opt/i", "/opt/j"]),
        ("install -m 755 tool /usr/local/bin/tool", ["/usr/local/bin/tool"]),
        ("install -t /opt/t a b", ["/opt/t"]),
        ("mkdir -p $U/x", []),
        ("mkdir -p $(pwd)/x", []),
        ("mkdir -p /x/*", []),
        ("echo hi", []),
    ],
)
def test_created_paths(script: str, paths: list[str]) -> None:
    assert _created(script) == paths


def test_relative_paths_need_a_known_directory() -> None:
    assert _created("mkdir rel", cwd=None) == []
    assert _created("mkdir /abs", cwd=None) == ["/abs"]


@pytest.mark.parametrize(
    "script, accounts",
    [
        ("useradd -u 1000 -g 1000 app", [("app", "1000", "1000", "user")]),
        ("useradd --uid=1001 -m app", [("app", "1001", None, "user"), ("app", None, None, "group")]),
        ("adduser -D -u 1002 -g 'Worker' w", [("w", "1002", None, "user"), ("w", None, None, "group")]),
        ("adduser -D -u 1003 -G staff w", [("w", "1003", None, "user")]),
        ("adduser app staff", []),
        ("groupadd -g 2000 staff", [("staff", None, "2000", "group")]),
        ("addgroup -S grp", [("grp", None, None, "group")]),
        ("useradd $U", []),
        ("useradd -m", []),
        # getopt clusters: a value-taking letter ends the cluster and takes the rest or the next word.
        ("useradd -ms /bin/bash appuser", [("appuser", None, None, "user"), ("appuser", None, None, "group")]),
        ("useradd -rms /bin/sh svc", [("svc", None, None, "user"), ("svc", None, None, "group")]),
        ("useradd -mU app", [("app", None, None, "user"), ("app", None, None, "group")]),
        ("useradd -mu1500 app", [("app", "1500", None, "user"), ("app", None, None, "group")]),
        ("useradd -u1500 -g 100 app", [("app", "1500", "100", "user")]),
        ("useradd -rN app", [("app", None, None, "user")]),
        ("useradd app -u 1600", [("app", "1600", None, "user"), ("app", None, None, "group")]),
        ("useradd -u 1700 -- app", [("app", "1700", None, "user"), ("app", None, None, "group")]),
        ("useradd -Q x app", []),  # a letter useradd does not take: what is a value is not known
        ("useradd -ms", []),
        ("adduser -DHu 1004 svc", [("svc", "1004", None, "user"), ("svc", None, None, "group")]),
        ("adduser -Ss /bin/sh svc", [("svc", None, None, "user")]),  # a system user goes into nogroup
        ("adduser --system --group svc", [("svc", None, None, "user"), ("svc", None, None, "group")]),
        ("adduser -S -G app svc", [("svc", None, None, "user")]),
        ("adduser --disabled-password --gecos '' --uid 1005 web",
         [("web", "1005", None, "user"), ("web", None, None, "group")]),
        ("groupadd -rg 2001 grp", [("grp", None, "2001", "group")]),
        ("groupadd -g2002 grp", [("grp", None, "2002", "group")]),
        ("addgroup -Sg 2003 grp", [("grp", None, "2003", "group")]),
        ("addgroup app staff", []),  # busybox: adds app to staff
    ],
)
def test_accounts_created(script: str, accounts: list[tuple]) -> None:  # type: ignore[type-arg]
    got = [(a.name, a.uid, a.gid, a.kind) for cmd in analyse(script).commands for a in accounts_created(cmd, ENV)]
    assert got == accounts


def test_copy_args() -> None:
    df = parse('FROM a\nWORKDIR /app\nCOPY a b ./\nCOPY ["x y", "/dst"]\nCOPY one\nCOPY src $UNSET/x\n')
    r = resolve(df)
    several = copy_args(df.instructions[2], r.states[2], "\\")
    assert several is not None and several.dest == "/app" and several.dest_is_dir and several.sources == ["a", "b"]
    js = copy_args(df.instructions[3], r.states[3], "\\")
    assert js is not None and js.sources == ["x y"] and js.dest == "/dst" and not js.dest_is_dir
    assert copy_args(df.instructions[4], r.states[4], "\\") is None
    unknown = copy_args(df.instructions[5], r.states[5], "\\")
    assert unknown is not None and unknown.dest is None
