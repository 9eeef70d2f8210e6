"""The recipe of the small base image the build tests run on: Debian's static busybox plus stub tools.

The stubs stand in for git, pip, python, poetry, uv, npm and the account tools so that Dockerfiles written for real
images build here without network. Every file they write is a function of their arguments and inputs only (no
timestamps, no randomness), so two builds of equivalent Dockerfiles give identical images.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from dockerfix.refactor.images.stubs import ACCOUNTS, TOOL_LINKS, tool_scripts

BASE_IMAGE = "localhost/dockerfix-base"
# A static busybox (Debian: busybox-static); DOCKERFIX_BUSYBOX names another one.
BUSYBOX = Path(os.environ.get("DOCKERFIX_BUSYBOX") or "/bin/busybox")
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""

# Debian names group 65534 "nogroup"; `chown nobody:nogroup` is what Debian-based Dockerfiles write.
GROUP = """\
root:x:0:
daemon:x:1:
www-data:x:33:
users:x:100:
nogroup:x:65534:
"""

# (path, mode); owned by root. proc/sys/dev/run exist so that the first RUN does not add them as placeholders.
DIRECTORIES = (
    ("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("home", 0o755), ("opt", 0o755), ("proc", 0o555),
    ("root", 0o700), ("run", 0o755), ("sbin", 0o755), ("srv", 0o755), ("sys", 0o555), ("tmp", 0o1777),
    ("usr", 0o755), ("usr/bin", 0o755), ("usr/local", 0o755), ("usr/local/bin", 0o755),
    ("usr/local/sbin", 0o755), ("usr/sbin", 0o755), ("var", 0o755), ("var/lib", 0o755), ("var/tmp", 0o1777),
)

EMPTY_FILES = ("etc/hostname", "etc/hosts", "etc/resolv.conf")

# (path in image, script text): the lenient stubs (the Debian base has the strict ones); the account tools are
# links to one script, since Debian's busybox-static has none of them.
SCRIPTS = (*tool_scripts(strict=False), ("usr/sbin/adduser", ACCOUNTS))
SCRIPT_LINKS = (
    *TOOL_LINKS,
    ("usr/sbin/addgroup", "adduser"),
    ("usr/sbin/useradd", "adduser"),
    ("usr/sbin/groupadd", "adduser"),
    ("usr/sbin/nologin", "/bin/busybox"),
    ("sbin/nologin", "/bin/busybox"),
)


@dataclass(frozen=True)
class Rootfs:
    tar: bytes
    digest: str  # sha256 of the tar: the cache key of the base image

    @property
    def key(self) -> str:
        return self.digest[:16]


def busybox_applets(busybox: Path = BUSYBOX) -> list[str]:
    result = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    return sorted(name for name in result.stdout.split() if name and name != "busybox" and "/" not in name)


def build_rootfs(busybox: Path = BUSYBOX) -> Rootfs:
    """The base rootfs as a tar with numeric owners and fixed mtimes, so equal inputs give equal bytes."""
    buffer = io.BytesIO()
    # Empty user/group names: owners are numeric only, as `tar --numeric-owner` writes them.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, 0, 0, 0
            info.uname = info.gname = ""
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        for name, mode in DIRECTORIES:
            add(name, tarfile.DIRTYPE, mode)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        for applet in busybox_applets(busybox):
            add(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
        add("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
        for name in EMPTY_FILES:
            add(name, tarfile.REGTYPE, 0o644)
        for name, text in SCRIPTS:
            add(name, tarfile.REGTYPE, 0o755, text.encode())
        for name, target in SCRIPT_LINKS:
            add(name, tarfile.SYMTYPE, 0o777, link=target)
    data = buffer.getvalue()
    return Rootfs(data, hashlib.sha256(data + PATH_ENV.encode()).hexdigest())
