"""Base-image facts for the test base ``localhost/dockerfix-base``, made from the harness's own rootfs recipe.

The build tests build on that image, so these facts are exactly what a reader of the image would find: every path
(``complete_paths``), the accounts of its /etc/passwd and /etc/group, its ENV, no VOLUME, root, and busybox ``find``.
Unit tests that write ``FROM b`` use the same facts under the name ``b``.
"""

from __future__ import annotations

import subprocess
import tarfile
from functools import lru_cache
from pathlib import Path

from dockerfix.refactor.dockerfile.basefacts import DIR, FILE, SYMLINK, Account, BaseFacts, PathInfo
from dockerfix.refactor.images import baseimage

BASE = baseimage.BASE_IMAGE
DEBIAN = "localhost/dockerfix-debian"


def _applets() -> list[str]:
    try:
        return baseimage.busybox_applets()
    except (OSError, subprocess.CalledProcessError):
        return ["sh", "find", "chown", "chmod", "mkdir", "ln", "cp", "mv", "rm", "tar", "touch"]


@lru_cache(maxsize=None)
def facts(image: str = BASE) -> BaseFacts:
    paths: dict[str, PathInfo] = {"/": PathInfo(DIR, uid=0, gid=0, mode=0o755)}
    for name, mode in baseimage.DIRECTORIES:
        paths["/" + name] = PathInfo(DIR, uid=0, gid=0, mode=mode)
    paths["/bin/busybox"] = PathInfo(FILE, uid=0, gid=0, mode=0o755)
    for applet in _applets():
        paths["/bin/" + applet] = PathInfo(SYMLINK, target="busybox", uid=0, gid=0)
    for name in ("etc/passwd", "etc/group", *baseimage.EMPTY_FILES):
        paths["/" + name] = PathInfo(FILE, uid=0, gid=0, mode=0o644)
    for name, _ in baseimage.SCRIPTS:
        paths["/" + name] = PathInfo(FILE, uid=0, gid=0, mode=0o755)
    for name, target in baseimage.SCRIPT_LINKS:
        paths["/" + name] = PathInfo(SYMLINK, target=target, uid=0, gid=0)
    accounts = {}
    for line in baseimage.PASSWD.splitlines():
        name, _, uid, gid, _, home, _ = line.split(":")
        accounts[name] = Account(name, int(uid), int(gid), home)
    groups = {line.split(":")[0]: int(line.split(":")[2]) for line in baseimage.GROUP.splitlines()}
    return BaseFacts(image=image, source="test base recipe", read=True, env={"PATH": baseimage.PATH_ENV},
                     volumes=frozenset(), user="", workdir="", accounts=accounts, groups=groups, paths=paths,
                     complete_paths=True, tools={"find": "find" in _applets()})


def table() -> dict[str, BaseFacts]:
    """Facts for the build tests' base image and for ``b``, the base the unit tests write."""
    return {BASE: facts(BASE), "b": facts("b")}


def from_builder(builder, text: str) -> dict[str, BaseFacts]:  # type: ignore[no-untyped-def]
    """The base images ``text`` names, read from ``builder``'s own store as `dockerfix verify` reads them (never
    run). The debian test base is read this way; so is the busybox one, which must agree with ``facts()``."""
    from dockerfix.refactor.cli.verifying import builder_bases

    return dict(builder_bases(builder, [text]))


def debian_facts(rootfs: Path, image: str = DEBIAN) -> BaseFacts:
    """Facts for the Debian test base, read from its rootfs tar (every path, /etc/passwd, /etc/group)."""
    kinds = {tarfile.DIRTYPE: DIR, tarfile.SYMTYPE: SYMLINK}
    paths: dict[str, PathInfo] = {"/": PathInfo(DIR, uid=0, gid=0)}
    passwd = group = ""
    with tarfile.open(rootfs) as tar:
        for m in tar.getmembers():
            name = "/" + m.name.lstrip("./").rstrip("/")
            if name == "/":
                continue
            paths[name] = PathInfo(kinds.get(m.type, FILE), target=m.linkname or None, uid=m.uid, gid=m.gid,
                                   mode=m.mode)
            if name in ("/etc/passwd", "/etc/group") and m.isfile():
                text = tar.extractfile(m).read().decode()  # type: ignore[union-attr]
                passwd, group = (text, group) if name == "/etc/passwd" else (passwd, text)
    accounts = {}
    for line in passwd.splitlines():
        f = line.split(":")
        accounts[f[0]] = Account(f[0], int(f[2]), int(f[3]), f[5])
    groups = {line.split(":")[0]: int(line.split(":")[2]) for line in group.splitlines() if line}
    has_find = "/usr/bin/find" in paths
    return BaseFacts(image=image, source=f"archive {rootfs}", read=True, env={"PATH": baseimage.PATH_ENV},
                     volumes=frozenset(), user="", workdir="", accounts=accounts, groups=groups, paths=paths,
                     complete_paths=True, tools={"find": has_find})
