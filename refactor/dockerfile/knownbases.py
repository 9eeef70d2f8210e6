"""Documented defaults of well-known base images, used when an image could not be read.

A fact read from the image itself (``BaseFacts.read``) is proven. When the image was not read, these defaults stand
in for the families below, matched by the repository part of the reference (``python:3.12-slim`` is ``python``,
``docker.io/library/debian`` is ``debian``). They are what the official images have shipped for years; a fix that
relies on one of them stays safe, and its details name the default it relied on. A fact about any other image is
unknown, and a fix that needs it is unsafe (or not made).

Every family's defaults (``describe()`` prints them, and ``dockerfix explain chown-layer`` shows them):

- config: no VOLUME, no USER (root), WORKDIR ``/``; the ENV names listed (values vary by tag, so they are unknown:
  an ARG of one of these names is shadowed by the image's ENV);
- accounts: the users and groups listed, with their ids;
- paths: the directories listed exist and are real directories; the symlinks listed exist with that target; every
  entry of ``/`` is listed, so any other top-level path does not exist; the directories marked empty hold nothing;
- tools: ``find`` exists (GNU findutils in Debian and Ubuntu families, busybox ``find`` in Alpine and busybox).
"""

from __future__ import annotations

from dataclasses import dataclass

from dockerfix.refactor.dockerfile.basefacts import DIR, MISSING, SYMLINK, Account, BaseFacts, PathInfo


@dataclass(frozen=True)
class KnownBase:
    name: str
    env: tuple[str, ...]
    users: tuple[tuple[str, int, int], ...]
    groups: tuple[tuple[str, int], ...]
    dirs: tuple[str, ...]
    symlinks: tuple[tuple[str, str], ...]
    empty: tuple[str, ...]  # directories known to be empty
    find: bool = True


_DEB_USERS = (("root", 0, 0), ("daemon", 1, 1), ("bin", 2, 2), ("sys", 3, 3), ("www-data", 33, 33),
              ("nobody", 65534, 65534))
_DEB_GROUPS = (("root", 0), ("daemon", 1), ("bin", 2), ("sys", 3), ("adm", 4), ("tty", 5), ("disk", 6),
               ("staff", 50), ("www-data", 33), ("users", 100), ("nogroup", 65534))
# Merged /usr (Debian 12+, Ubuntu 22.04+): /bin, /sbin and /lib* are links into /usr; /var/run and /var/lock link
# to /run; /usr/local/man links to share/man.
_DEB_DIRS = ("/", "/boot", "/dev", "/etc", "/home", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/run/lock",
             "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/sbin", "/usr/share", "/usr/local",
             "/usr/local/bin", "/usr/local/etc", "/usr/local/games", "/usr/local/include", "/usr/local/lib",
             "/usr/local/sbin", "/usr/local/share", "/usr/local/src", "/var", "/var/cache", "/var/lib",
             "/var/log", "/var/mail", "/var/opt", "/var/spool", "/var/tmp", "/var/local", "/var/backups")
_DEB_LINKS = (("/bin", "usr/bin"), ("/sbin", "usr/sbin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64"),
              ("/var/run", "/run"), ("/var/lock", "/run/lock"), ("/usr/local/man", "share/man"))
_DEB_EMPTY = ("/home", "/media", "/mnt", "/opt", "/srv", "/usr/local/bin", "/usr/local/etc", "/usr/local/games",
              "/usr/local/include", "/usr/local/sbin", "/usr/local/src", "/var/opt", "/var/local", "/var/mail")

_ALPINE_USERS = (("root", 0, 0), ("bin", 1, 1), ("daemon", 2, 2), ("nobody", 65534, 65534))
_ALPINE_GROUPS = (("root", 0), ("bin", 1), ("daemon", 2), ("users", 100), ("nogroup", 65533), ("nobody", 65534))
_ALPINE_DIRS = ("/", "/bin", "/dev", "/etc", "/home", "/lib", "/media", "/mnt", "/opt", "/proc", "/root", "/run",
                "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin",
                "/usr/local/lib", "/usr/local/share", "/usr/sbin", "/usr/share", "/var", "/var/cache", "/var/lib",
                "/var/log", "/var/opt", "/var/spool", "/var/tmp")
_ALPINE_LINKS = (("/var/run", "/run"), ("/var/lock", "/run/lock"))
_ALPINE_EMPTY = ("/home", "/media", "/mnt", "/opt", "/srv", "/var/opt")

_BUSYBOX_DIRS = ("/", "/bin", "/dev", "/etc", "/home", "/lib", "/proc", "/root", "/sys", "/tmp", "/usr", "/var")
_BUSYBOX_USERS = (("root", 0, 0), ("daemon", 1, 1), ("bin", 2, 2), ("sys", 3, 3), ("www-data", 33, 33),
                  ("nobody", 65534, 65534))
_BUSYBOX_GROUPS = (("root", 0), ("daemon", 1), ("bin", 2), ("sys", 3), ("www-data", 33), ("users", 100),
                   ("nogroup", 65534))

_PY_ENV = ("PATH", "LANG", "GPG_KEY", "PYTHON_VERSION", "PYTHON_SHA256", "PYTHON_PIP_VERSION", "PYTHON_SETUPTOOLS_VERSION",
           "PYTHON_GET_PIP_URL", "PYTHON_GET_PIP_SHA256")
_NODE_ENV = ("PATH", "NODE_VERSION", "YARN_VERSION")

TABLE: dict[str, KnownBase] = {}


def _add(names: tuple[str, ...], base: KnownBase) -> None:
    for n in names:
        TABLE[n] = base


_add(("debian",), KnownBase("debian", ("PATH",), _DEB_USERS, _DEB_GROUPS, _DEB_DIRS, _DEB_LINKS, _DEB_EMPTY))
_add(("ubuntu",), KnownBase("ubuntu", ("PATH",), _DEB_USERS, _DEB_GROUPS, _DEB_DIRS, _DEB_LINKS, _DEB_EMPTY))
_add(("python",), KnownBase("python", _PY_ENV, _DEB_USERS, _DEB_GROUPS, _DEB_DIRS, _DEB_LINKS,
                            tuple(d for d in _DEB_EMPTY if not d.startswith("/usr/local"))))
_add(("node",), KnownBase("node", _NODE_ENV, _DEB_USERS + (("node", 1000, 1000),), _DEB_GROUPS + (("node", 1000),),
                          _DEB_DIRS + ("/home/node",), _DEB_LINKS,
                          tuple(d for d in _DEB_EMPTY if d not in ("/home",) and not d.startswith("/usr/local")
                                and d != "/opt")))
_add(("alpine",), KnownBase("alpine", ("PATH",), _ALPINE_USERS, _ALPINE_GROUPS, _ALPINE_DIRS, _ALPINE_LINKS,
                            _ALPINE_EMPTY))
_add(("busybox",), KnownBase("busybox", ("PATH",), _BUSYBOX_USERS, _BUSYBOX_GROUPS, _BUSYBOX_DIRS,
                             (("/lib64", "lib"),), ("/home",)))


def family(image: str) -> str:
    """The repository name of a reference: ``docker.io/library/python:3.12-slim@sha256:…`` gives ``python``."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    name = last.split(":", 1)[0].lower()
    # Only the official images: a registry or a user namespace other than library is someone else's image.
    prefix = ref[: len(ref) - len(last)].rstrip("/")
    if prefix not in ("", "library", "docker.io/library", "index.docker.io/library"):
        return ""
    return name


def lookup(image: str) -> BaseFacts | None:
    """The documented defaults for ``image``, or None when it is not a well-known base."""
    known = TABLE.get(family(image))
    if known is None:
        return None
    paths: dict[str, PathInfo] = {d: PathInfo(DIR) for d in known.dirs}
    paths.update({p: PathInfo(SYMLINK, target=t) for p, t in known.symlinks})
    return BaseFacts(
        image=image, source=f"known base: {known.name}", read=False,
        env={n: None for n in known.env},  # type: ignore[misc]  # names known, values vary by tag
        volumes=frozenset(), user="", workdir="",
        accounts={n: Account(n, u, g) for n, u, g in known.users},
        groups=dict(known.groups), paths=paths, complete_paths=False, tools={"find": known.find},
    )


def listed_kind(facts: BaseFacts, path: str) -> str | None:
    """What a known base's defaults say about ``path`` beyond ``facts.paths``: MISSING when its parent is ``/`` or a
    directory known to be empty (every entry of both is listed), else None (unknown)."""
    if not facts.source.startswith("known base: "):
        return None
    known = TABLE.get(facts.source[len("known base: "):])
    if known is None or path in facts.paths:
        return None
    parent = path.rsplit("/", 1)[0] or "/"
    if parent == "/" or parent in known.empty:
        return MISSING
    return None


def describe() -> str:
    """The table as text, for ``dockerfix explain``."""
    lines = ["Defaults of well-known base images (used when the image itself was not read; a fix relying on one",
             "names it in its details):"]
    seen: set[str] = set()
    for known in TABLE.values():
        if known.name in seen:
            continue
        seen.add(known.name)
        lines.append(f"- {known.name}: ENV names {', '.join(known.env)}; no VOLUME; USER root; "
                     f"find {'present' if known.find else 'missing'}")
        lines.append(f"    users {', '.join(f'{n}={u}:{g}' for n, u, g in known.users)}")
        lines.append(f"    symlinks {', '.join(f'{p} -> {t}' for p, t in known.symlinks) or 'none'}")
        lines.append(f"    directories {' '.join(known.dirs)}")
        lines.append(f"    empty directories {' '.join(known.empty)}; no other entries in /")
    return "\n".join(lines)
