"""Reading base images without running them: archives built here (docker-archive and OCI, layers with whiteouts,
opaque directories, symlinks, hard links, account files), the cache, the cheap absence of a daemon, the CLI
options (tests/test_baseread_cli.py), and the project's test base image read back from a buildah store and from
a Docker daemon (there too); generated layer stacks against a model."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import subprocess
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerfix.refactor.dockerfile import basefacts as bf
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.images import basecache, baselocal, baseread
from dockerfix.refactor.images import image as img


# (name, type, mode, uid, gid, data-or-link)
Member = tuple[str, bytes, int, int, int, "bytes | str"]
PASSWD_1 = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
PASSWD_2 = PASSWD_1 + b"svc:x:1001:1002:service:/srv/svc:/sbin/nologin\n# comment\nbroken line\n"
GROUP = b"root:x:0:\napp:x:1000:\nsvc:x:1002:\nstaff:x:50:app\n"

LOWER: list[Member] = [
    ("bin", tarfile.DIRTYPE, 0o755, 0, 0, b""),
    ("bin/busybox", tarfile.REGTYPE, 0o755, 0, 0, b"\x7fELF busybox"),
    ("bin/find", tarfile.SYMTYPE, 0o777, 0, 0, "busybox"),
    ("bin/sh", tarfile.SYMTYPE, 0o777, 0, 0, "/bin/busybox"),
    ("bin/chown", tarfile.REGTYPE, 0o644, 0, 0, b"not executable"),
    ("etc", tarfile.DIRTYPE, 0o755, 0, 0, b""),
    ("etc/passwd", tarfile.REGTYPE, 0o644, 0, 0, PASSWD_1),
    ("etc/group.real", tarfile.REGTYPE, 0o644, 0, 0, GROUP),
    ("etc/group", tarfile.SYMTYPE, 0o777, 0, 0, "group.real"),
    ("home", tarfile.DIRTYPE, 0o755, 0, 0, b""),
    ("home/app", tarfile.DIRTYPE, 0o750, 1000, 1000, b""),
    ("home/app/.profile", tarfile.REGTYPE, 0o600, 1000, 1000, b"export X=1\n"),
    ("removed", tarfile.DIRTYPE, 0o755, 0, 0, b""),
    ("removed/file", tarfile.REGTYPE, 0o644, 0, 0, b"gone"),
    ("opaque", tarfile.DIRTYPE, 0o755, 0, 0, b""),
    ("opaque/old", tarfile.REGTYPE, 0o644, 0, 0, b"hidden"),
    ("opt/app/deep/file", tarfile.REGTYPE, 0o640, 7, 8, b"no parents listed"),
    ("dev", tarfile.DIRTYPE, 0o755, 0, 0, b""),
    ("dev/null", tarfile.CHRTYPE, 0o666, 0, 0, b""),
]
UPPER: list[Member] = [
    ("etc/passwd", tarfile.REGTYPE, 0o644, 0, 0, PASSWD_2),
    ("etc/passwd-", tarfile.LNKTYPE, 0, 0, 0, "etc/passwd"),
    (".wh.removed", tarfile.REGTYPE, 0, 0, 0, b""),
    ("opaque/.wh..wh..opq", tarfile.REGTYPE, 0, 0, 0, b""),
    ("opaque/new", tarfile.REGTYPE, 0o604, 3, 4, b"visible"),
    ("usr/local/bin", tarfile.DIRTYPE, 0o755, 0, 0, b""),
    ("usr/local/bin/xargs", tarfile.SYMTYPE, 0o777, 0, 0, "../../../bin/busybox"),
]
CONFIG = {"User": "app:staff", "WorkingDir": "/home/app", "Volumes": {"/data": {}, "/logs": {}},
          "Env": ["PATH=/usr/local/bin:/bin", "LANG=C.UTF-8", "EMPTY="]}


def layer_tar(members: Sequence[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, mode, uid, gid, data in members:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, gid, 0
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = str(data)
                tar.addfile(info)
            elif kind == tarfile.REGTYPE:
                info.size = len(data)  # type: ignore[arg-type]
                tar.addfile(info, io.BytesIO(data))  # type: ignore[arg-type]
            else:
                tar.addfile(info)
    return buffer.getvalue()


def config_blob(config: dict[str, object], layers: Sequence[bytes]) -> bytes:
    diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(la) if la[:2] == b"\x1f\x8b" else la).hexdigest()
                for la in layers]
    return json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layers: Sequence[bytes], config: dict[str, object] = CONFIG) -> Path:
    blob = config_blob(config, layers)
    config_name = hashlib.sha256(blob).hexdigest() + ".json"
    names = [f"layer{i}/layer.tar" for i in range(len(layers))]
    with tarfile.open(path, "w") as tar:
        for name, data in zip(names, layers):
            _add(tar, name, data)
        _add(tar, config_name, blob)
        _add(tar, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["example/app:1"],
                                                 "Layers": names}]).encode())
    return path


def oci_archive(path: Path, layers: Sequence[bytes], config: dict[str, object] = CONFIG,
                annotations: dict[str, str] | None = None) -> Path:
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    blob = config_blob(config, layers)
    manifest = {"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                               "digest": put(blob), "size": len(blob)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if la[:2] == b"\x1f\x8b" else ""),
                            "digest": put(la), "size": len(la)} for la in layers]}
    manifest_bytes = json.dumps(manifest).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": put(manifest_bytes), "size": len(manifest_bytes),
                                                "annotations": annotations or {}}]}
    with tarfile.open(path, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add(tar, "index.json", json.dumps(index).encode())
        for digest, data in blobs.items():
            _add(tar, "blobs/sha256/" + digest.split(":")[1], data)
    return path


def two_layers() -> list[bytes]:
    return [layer_tar(LOWER), gzip.compress(layer_tar(UPPER), mtime=0)]


@pytest.fixture(params=["docker", "oci"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    maker = docker_archive if request.param == "docker" else oci_archive
    return maker(tmp_path / f"{request.param}.tar", two_layers())


def test_every_fact_of_an_archive(archive: Path, tmp_path: Path) -> None:
    facts = baseread.read_archive(archive, "example/app:1", cache=tmp_path / "cache")
    assert (facts.image, facts.source, facts.read, facts.complete_paths) == ("example/app:1", f"archive {archive}", True, True)
    assert facts.assumed() is None
    assert facts.env == {"PATH": "/usr/local/bin:/bin", "LANG": "C.UTF-8", "EMPTY": ""}
    assert facts.volumes == {"/data", "/logs"}
    assert (facts.user, facts.workdir) == ("app:staff", "/home/app")
    # the upper layer's passwd wins; comments and malformed lines are skipped
    assert facts.accounts == {"root": bf.Account("root", 0, 0, "/root"), "app": bf.Account("app", 1000, 1000, "/home/app"),
                              "svc": bf.Account("svc", 1001, 1002, "/srv/svc")}
    assert facts.groups == {"root": 0, "app": 1000, "svc": 1002, "staff": 50}  # read through the symlink
    p = facts.path
    assert p("/") == bf.PathInfo(bf.DIR)
    assert p("/bin") == bf.PathInfo(bf.DIR, None, 0, 0, 0o755)
    assert p("/bin/find") == bf.PathInfo(bf.SYMLINK, "busybox", 0, 0, 0o777)
    assert p("/etc/group") == bf.PathInfo(bf.SYMLINK, "group.real", 0, 0, 0o777)
    assert p("/etc/passwd") == bf.PathInfo(bf.FILE, None, 0, 0, 0o644)
    assert p("/etc/passwd-") == bf.PathInfo(bf.FILE, None, 0, 0, 0o644)  # a hard link shares its target's inode
    assert p("/home/app") == bf.PathInfo(bf.DIR, None, 1000, 1000, 0o750)
    assert p("/home/app/.profile") == bf.PathInfo(bf.FILE, None, 1000, 1000, 0o600)
    assert p("/removed").kind == p("/removed/file").kind == p("/opaque/old").kind == bf.MISSING  # whiteouts
    assert p("/opaque") == bf.PathInfo(bf.DIR, None, 0, 0, 0o755)
    assert p("/opaque/new") == bf.PathInfo(bf.FILE, None, 3, 4, 0o604)
    assert p("/opt") == p("/opt/app") == p("/opt/app/deep") == bf.PathInfo(bf.DIR)  # implied: owner unknown
    assert p("/opt/app/deep/file") == bf.PathInfo(bf.FILE, None, 7, 8, 0o640)
    assert p("/dev/null") == bf.PathInfo(bf.OTHER, None, 0, 0, 0o666)
    assert p("/never/there") == bf.PathInfo(bf.MISSING)
    # PATH is /usr/local/bin:/bin: busybox applet links count, a file without an exec bit does not
    assert facts.has_tool("find") is True and facts.has_tool("sh") is True and facts.has_tool("xargs") is True
    assert facts.has_tool("chown") is False and facts.has_tool("stat") is False
    assert facts.has_tool("no-such-tool-asked") is None


def test_other_archive_shapes(tmp_path: Path) -> None:
    """A gzip-compressed archive, an OCI layout directory, and the legacy docker save layout where a layer that
    another entry already holds is stored as a symlink to it."""
    reference = baseread.read_archive(docker_archive(tmp_path / "plain.tar", two_layers()), "r", cache=tmp_path / "c0")
    gz = tmp_path / "image.tar.gz"
    gz.write_bytes(gzip.compress((tmp_path / "plain.tar").read_bytes()))
    layout = tmp_path / "layout"
    with tarfile.open(oci_archive(tmp_path / "oci.tar", two_layers())) as tar:
        tar.extractall(layout, filter="data")
    lower = layer_tar(LOWER)
    legacy = tmp_path / "legacy.tar"
    blob = config_blob(CONFIG, [lower, lower])
    with tarfile.open(legacy, "w") as tar:
        _add(tar, "aaa/layer.tar", lower)
        link = tarfile.TarInfo("bbb/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../aaa/layer.tar"
        tar.addfile(link)
        _add(tar, "config.json", blob)
        _add(tar, "manifest.json", json.dumps([{"Config": "config.json", "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]).encode())
    for i, path in enumerate((gz, layout)):
        facts = baseread.read_archive(path, "r", cache=tmp_path / f"c{i + 1}")
        assert dataclass_fields(facts) == dataclass_fields(reference), path
    facts = baseread.read_archive(legacy, "r", cache=tmp_path / "c3")
    assert facts.accounts is not None and sorted(facts.accounts) == ["app", "root"]  # the lower passwd only
    assert facts.path("/removed/file") == bf.PathInfo(bf.FILE, None, 0, 0, 0o644)


def test_resolve_follows_symlinks_inside_the_image() -> None:
    recs = {r.path: r for r in (
        img.FileRecord("/usr", img.DIR, 0o755, 0, 0), img.FileRecord("/usr/bin", img.DIR, 0o755, 0, 0),
        img.FileRecord("/usr/bin/tool", img.FILE, 0o755, 0, 0), img.FileRecord("/bin", img.SYMLINK, 0o777, 0, 0, link="usr/bin"),
        img.FileRecord("/loop", img.SYMLINK, 0o777, 0, 0, link="/loop"),
        img.FileRecord("/f", img.FILE, 0o644, 0, 0), img.FileRecord("/up", img.SYMLINK, 0o777, 0, 0, link="usr/bin/../../f"),
    )}
    assert baseread.resolve(recs, "/bin/tool") == "/usr/bin/tool"  # merged /usr
    assert baseread.resolve(recs, "/up") == "/f"
    assert baseread.resolve(recs, "/loop") is None
    assert baseread.resolve(recs, "/f/x") is None  # through a file
    assert baseread.resolve(recs, "/bin/missing") is None


def test_a_missing_passwd_means_no_accounts(tmp_path: Path) -> None:
    layer = layer_tar([("etc", tarfile.DIRTYPE, 0o755, 0, 0, b""), ("etc/group", tarfile.REGTYPE, 0o644, 0, 0, b"x:y\n")])
    facts = baseread.read_archive(docker_archive(tmp_path / "a.tar", [layer], {}), "a", cache=tmp_path / "c")
    assert facts.accounts == {} and facts.groups == {}  # missing passwd; a group file without valid lines
    assert (facts.env, facts.user, facts.workdir, facts.volumes) == ({}, "", "", frozenset())
    assert facts.has_tool("sh") is False  # no config PATH: the default PATH is searched


def test_cache_hit_invalidation_and_corrupt_file(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = baseread.read_archive(archive, "ref", cache=cache)
    files = list(cache.glob("*.json"))
    assert len(files) == 1 and files[0].name == baseread.archive_key(archive).replace(":", "-") + ".json"

    def fail(_path: object) -> None:
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(img, "load_image", fail)
    second = baseread.read_archive(archive, "other-ref", "archive elsewhere", cache=cache)
    assert dataclass_fields(second) == dataclass_fields(first)
    assert (second.image, second.source) == ("other-ref", "archive elsewhere")
    monkeypatch.undo()

    # a changed image (another config, so another digest) is read again
    changed = docker_archive(tmp_path / "changed.tar", two_layers(), {**CONFIG, "User": "root"})
    assert baseread.read_archive(changed, "ref", cache=cache).user == "root"
    assert len(list(cache.glob("*.json"))) == 2

    # a corrupt or foreign cache file is ignored and rewritten
    for junk in ("{not json", json.dumps({"format": basecache.FORMAT, "key": "sha256:other"}), "[]"):
        files[0].write_text(junk)
        assert dataclass_fields(baseread.read_archive(archive, "ref", cache=cache)) == dataclass_fields(first)
        assert json.loads(files[0].read_text())["key"] == baseread.archive_key(archive)


def dataclass_fields(facts: bf.BaseFacts) -> tuple[object, ...]:
    return (facts.env, facts.volumes, facts.user, facts.workdir, facts.accounts, facts.groups, dict(facts.paths),
            facts.complete_paths, dict(facts.tools), facts.read)


def test_read_bases_archives_by_reference(tmp_path: Path) -> None:
    path = docker_archive(tmp_path / "a.tar", two_layers())
    table = baselocal.read_bases(["python", "scratch", "other:1", "python"], {"docker.io/library/python:latest": path},
                                 cache=tmp_path / "c")
    assert list(table) == ["python"] and table["python"].source == f"archive {path}"
    assert baselocal.normal_reference("user/app") == "docker.io/user/app:latest"
    assert baselocal.normal_reference("localhost:5000/a@sha256:ab") == "localhost:5000/a@sha256:ab"
    assert baselocal.normal_reference("ghcr.io/a/b:2") == "ghcr.io/a/b:2"


def test_the_table_travels_to_workers_as_cache_keys(tmp_path: Path) -> None:
    path = oci_archive(tmp_path / "a.tar", two_layers())
    table = baselocal.read_bases(["a"], {"a": path}, cache=tmp_path / "c")
    data = pickle.dumps(table)
    assert len(data) < 1000  # the key, not the facts
    basecache._MEMO.clear()  # a fresh worker process
    back = pickle.loads(data)
    assert back == table and dataclass_fields(back["a"]) == dataclass_fields(table["a"])
    assert (back["a"].image, back["a"].source) == ("a", f"archive {path}")
    # where no cache can be written the facts travel as they are
    (tmp_path / "file").write_text("")
    pinned = baselocal.read_bases(["a"], {"a": path}, cache=tmp_path / "file" / "c")
    basecache._MEMO.clear()
    assert dataclass_fields(pickle.loads(pickle.dumps(pinned))["a"]) == dataclass_fields(table["a"])
    # a cache file deleted under a worker: the reference is unknown, not an error
    for f in (tmp_path / "c").glob("*.json"):
        f.unlink()
    basecache._MEMO.clear()
    assert pickle.loads(data)["a"] == bf.unknown("a")


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 100, None])
def test_an_unreadable_named_archive_is_an_error(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.tar"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DockerfixError) as info:
        baselocal.read_bases(["base"], {"base": path}, cache=tmp_path / "c")
    assert "\n" not in str(info.value) and "base" in str(info.value)


def test_no_daemon_and_no_store_cost_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    empty = ("--root", str(tmp_path / "store"))
    table = baselocal.read_bases(["debian:bookworm", "alpine"], {}, docker=True, buildah=True, buildah_store=empty,
                                 cache=tmp_path / "c")
    assert table == {}
    assert not baselocal.docker_available() and not baselocal.buildah_available(empty)
    # nor does it import the archive reader or start anything: checked in a fresh interpreter
    code = ("import sys; from dockerfix.refactor.images.baselocal import read_bases; "
            f"assert not read_bases(['alpine'], docker=True, buildah=True, buildah_store={list(empty)!r}); "
            "heavy = {'dockerfix.refactor.images.image', 'tarfile', 'subprocess'} & set(sys.modules); "
            "assert not heavy, heavy")
    fresh = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True,  # type: ignore[attr-defined]
                           env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no.sock"}, check=False)
    assert fresh.returncode == 0, fresh.stderr


# ------------------------------------------------------------------------------- generated layer stacks


_NAMES = ("etc/passwd", "etc/passwd.real", "etc/alt", "usr/bin/find", "bin/busybox")
_OPS = st.lists(
    st.tuples(st.sampled_from(("write", "symlink", "hardlink", "whiteout")), st.sampled_from(_NAMES),
              st.sampled_from(_NAMES + ("/etc/passwd.real", "../../bin/busybox", "/bin/busybox", "busybox", "passwd.real")),
              st.integers(1, 5)),
    max_size=6)


def _model(layers: list[list[tuple[str, str, str, int]]]) -> dict[str, tuple[str, object]]:
    """An independent model of the final tree: path -> ("file", (content id, mode)) | ("link", target)."""
    tree: dict[str, tuple[str, object]] = {}
    for ops in layers:
        for op, path, _, _ in ops:
            if op == "whiteout":
                tree.pop(path, None)
        for op, path, target, n in ops:
            if op == "write":
                tree[path] = ("file", (n, 0o755 if n % 2 else 0o644))
            elif op == "symlink":
                tree[path] = ("link", target)
            elif op == "hardlink":
                linked = tree.get(target.lstrip("/"))
                # a link to nothing (or to a non-file) cannot be extracted: neither a file nor readable
                tree[path] = linked if linked is not None and linked[0] == "file" else ("other", None)
    return tree


def _follow(tree: dict[str, tuple[str, object]], path: str) -> tuple[int, int] | str | None:
    for _ in range(40):
        node = tree.get(path)
        if node is None:
            return None
        if node[0] == "other":
            return "other"
        if node[0] == "file":
            return node[1]  # type: ignore[return-value]
        target = str(node[1])
        joined = target if target.startswith("/") else os.path.join("/", os.path.dirname(path), target)
        path = os.path.normpath(joined).lstrip("/")  # ".." stops at the root
    return None


def _layers_from(stack: list[list[tuple[str, str, str, int]]]) -> list[bytes]:
    out = [layer_tar([("etc", tarfile.DIRTYPE, 0o755, 0, 0, b""), ("usr/bin", tarfile.DIRTYPE, 0o755, 0, 0, b""),
                      ("bin", tarfile.DIRTYPE, 0o755, 0, 0, b"")])]
    for ops in stack:
        members: list[Member] = []
        seen: set[str] = set()
        for op, path, target, n in ops:
            if path in seen:
                continue
            seen.add(path)
            if op == "write":
                members.append((path, tarfile.REGTYPE, 0o755 if n % 2 else 0o644, 0, 0, f"root:x:0:0::/:/bin/sh\nu{n}:x:{n}:{n}::/:/bin/sh\n".encode()))
            elif op == "symlink":
                members.append((path, tarfile.SYMTYPE, 0o777, 0, 0, target))
            elif op == "hardlink":
                members.append((path, tarfile.LNKTYPE, 0, 0, 0, target.lstrip("/")))
            else:
                d, b = os.path.split(path)
                members.append((f"{d}/.wh.{b}", tarfile.REGTYPE, 0, 0, 0, b""))
        out.append(layer_tar(members))
    return out


def _dedupe(stack: list[list[tuple[str, str, str, int]]]) -> list[list[tuple[str, str, str, int]]]:
    out = []
    for ops in stack:
        seen: set[str] = set()
        kept = []
        for op in ops:
            if op[1] not in seen:
                seen.add(op[1])
                kept.append(op)
        out.append(kept)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_OPS, min_size=1, max_size=4))
def test_generated_layer_stacks_match_a_model(stack: list[list[tuple[str, str, str, int]]]) -> None:
    """Accounts, kinds and tools read from generated layer stacks (writes, symlinks, hard links, whiteouts) agree
    with an independent model of the final tree."""
    import tempfile

    stack = _dedupe(stack)
    tree = _model(stack)
    with tempfile.TemporaryDirectory() as tmp:
        archive = docker_archive(Path(tmp) / "a.tar", _layers_from(stack), {"Env": ["PATH=/usr/bin"]})
        facts = baseread.read_archive(archive, "gen", cache=Path(tmp) / "c")
    passwd = _follow(tree, "etc/passwd")
    expected = {} if passwd is None else None if passwd == "other" else {"root": bf.Account("root", 0, 0, "/"),
                                          f"u{passwd[0]}": bf.Account(f"u{passwd[0]}", passwd[0], passwd[0], "/")}  # type: ignore[index]
    assert facts.accounts == expected
    for name in _NAMES:
        node = tree.get(name)
        info = facts.path("/" + name)
        assert info is not None
        if node is None:
            assert info.kind == bf.MISSING, name
        elif node[0] == "link":
            assert (info.kind, info.target) == (bf.SYMLINK, node[1]), name
        elif node[0] == "other":
            assert info.kind == bf.OTHER, name
        else:
            assert (info.kind, info.mode) == (bf.FILE, node[1][1]), name  # type: ignore[index]
    find = _follow(tree, "usr/bin/find")
    assert facts.has_tool("find") is (isinstance(find, tuple) and bool(find[1] & 0o111))
