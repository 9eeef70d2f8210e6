"""Reading base images without running them: archives built here (docker-archive and OCI, layers with whiteouts,
opaque directories, symlinks, hard links, account files), the cache, the cheap absence of a daemon, the CLI
options, and the project's test base image read back from a buildah store and from a Docker daemon."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from dockerfix.refactor.dockerfile import basefacts as bf
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.images import basecache, baseimage, baselocal, baseread
from dockerfix.refactor.images import image as img

ROOT = Path(__file__).resolve().parents[1]

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


# ------------------------------------------------------------------------------------------------------ CLI


def dockerfix(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(os.sys.executable).parent / "dockerfix"  # type: ignore[attr-defined]
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env},
                          check=False)


def test_cli_base_image_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = docker_archive(tmp_path / "base.tar", two_layers())
    (tmp_path / "Dockerfile").write_text("ARG V=1\nFROM example/app:$V AS build\nFROM build\nRUN true\n")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    ok = dockerfix("check", "--base-image", f"example/app:1={archive}", "Dockerfile", cwd=tmp_path, env=env)
    assert ok.returncode == 0, ok.stderr
    cached = list((tmp_path / "xdg" / "dockerfix" / "bases").glob("*.json"))
    assert [c.stem for c in cached] == [baseread.archive_key(archive).replace(":", "-")]
    stdin = subprocess.run([str(Path(os.sys.executable).parent / "dockerfix"), "fix", "--base-image",  # type: ignore[attr-defined]
                            f"example/app:1={tmp_path / 'missing.tar'}", "-"], input="FROM example/app:1\n",
                           capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **env}, check=False)
    assert stdin.returncode == 2 and "missing.tar" in stdin.stderr and len(stdin.stderr.strip().splitlines()) == 1
    (tmp_path / "bad.tar").write_bytes(b"garbage")
    bad = dockerfix("check", "--base-image", f"example/app:1={tmp_path / 'bad.tar'}", "Dockerfile", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "bad.tar" in bad.stderr
    malformed = dockerfix("check", "--base-image", f"={archive}", "Dockerfile", cwd=tmp_path, env=env)
    assert malformed.returncode == 2 and "NAME=PATH" in malformed.stderr
    nameless = oci_archive(tmp_path / "nameless.tar", two_layers())
    unnamed = dockerfix("check", "--base-image", str(nameless), "Dockerfile", cwd=tmp_path, env=env)
    assert unnamed.returncode == 2 and "records no image name" in unnamed.stderr


def test_a_bare_archive_path_is_named_by_the_archive(tmp_path: Path) -> None:
    from dockerfix.refactor.cli.bases import parse_archives

    docker = docker_archive(tmp_path / "d.tar", two_layers())
    oci = oci_archive(tmp_path / "o.tar", two_layers(), annotations={"io.containerd.image.name": "ghcr.io/x/y:2",
                                                                     "org.opencontainers.image.ref.name": "2"})
    assert parse_archives([str(docker), str(oci), f"z={oci}"]) == {"example/app:1": docker, "ghcr.io/x/y:2": oci, "z": oci}
    with pytest.raises(DockerfixError, match="no such file"):
        parse_archives([str(tmp_path / "missing.tar")])
    (tmp_path / "junk.tar").write_bytes(b"junk")
    with pytest.raises(DockerfixError, match="junk.tar"):
        parse_archives([str(tmp_path / "junk.tar")])


def test_cli_passes_the_facts_to_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from dockerfix.refactor import engine
    from dockerfix.refactor.cli import main

    archive = oci_archive(tmp_path / "base.tar", two_layers())
    (tmp_path / "Dockerfile").write_text("FROM example/app:1\nFROM other AS x\nRUN true\n")
    seen: list[object] = []
    real = engine.run

    def spy(*args: object, **kwargs: object) -> engine.Result:
        seen.append(kwargs.get("bases"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "run", spy)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main._build_app(), ["check", "--base-image", f"example/app:1={archive}", "Dockerfile"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and isinstance(seen[0], Mapping) and list(seen[0]) == ["example/app:1"]
    assert seen[0]["example/app:1"].accounts["svc"].uid == 1001
    seen.clear()
    assert CliRunner().invoke(main._build_app(), ["check", "Dockerfile"]).exit_code == 0
    assert seen == [None]  # nothing asked, nothing read


# --------------------------------------------------------------------------------------- reading real stores


def expected_base_facts(facts: bf.BaseFacts) -> None:
    """What refactor/images/baseimage.py put into the test base image, as read back."""
    accounts = {line.split(":")[0]: int(line.split(":")[2]) for line in baseimage.PASSWD.splitlines()}
    assert {n: a.uid for n, a in (facts.accounts or {}).items()} == accounts
    assert dict(facts.groups or {}) == {line.split(":")[0]: int(line.split(":")[2]) for line in baseimage.GROUP.splitlines()}
    assert facts.env is not None and facts.env.get("PATH") == baseimage.PATH_ENV
    assert facts.complete_paths and facts.read
    for name, mode in baseimage.DIRECTORIES:
        assert facts.path("/" + name) == bf.PathInfo(bf.DIR, None, 0, 0, mode), name
    for name, target in baseimage.SCRIPT_LINKS:
        assert facts.path("/" + name) == bf.PathInfo(bf.SYMLINK, target, 0, 0, 0o777), name
    for name, _ in baseimage.SCRIPTS:
        assert facts.path("/" + name) == bf.PathInfo(bf.FILE, None, 0, 0, 0o755), name
    for name in ("etc/passwd", "etc/group", *baseimage.EMPTY_FILES):
        assert facts.path("/" + name) == bf.PathInfo(bf.FILE, None, 0, 0, 0o644), name
    applets = baseimage.busybox_applets()
    for applet in applets:
        assert facts.path(f"/bin/{applet}") == bf.PathInfo(bf.SYMLINK, "busybox", 0, 0, 0o777), applet
    assert facts.has_tool("find") is ("find" in applets)
    assert facts.has_tool("sh") is True
    assert facts.path("/etc/shadow").kind == bf.MISSING


@pytest.mark.build
def test_reads_the_test_base_from_the_builders_store(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The builder's own store: a private buildah store, or the daemon the docker builder talks to."""
    builder.ensure_base()
    if builder.name == "buildah":
        store = ("--root", str(builder.workdir / "root"), "--runroot", str(builder.workdir / "run"),
                 "--storage-driver", builder.driver)
        where: dict[str, object] = {"buildah": True, "buildah_store": store}
        source = "buildah store"
    else:
        where, source = {"docker": True}, "docker daemon"
    started = time.perf_counter()
    table = baselocal.read_bases([baseimage.BASE_IMAGE], {}, cache=tmp_path, **where)  # type: ignore[arg-type]
    cold = time.perf_counter() - started
    facts = table[baseimage.BASE_IMAGE]
    assert facts.source == source
    expected_base_facts(facts)
    started = time.perf_counter()
    again = baselocal.read_bases([baseimage.BASE_IMAGE], {}, cache=tmp_path, **where)  # type: ignore[arg-type]
    warm = time.perf_counter() - started
    assert dataclass_fields(again[baseimage.BASE_IMAGE]) == dataclass_fields(facts)
    assert len(list(tmp_path.glob("*.json"))) == 1
    print(f"{source}: first read {cold:.3f} s, cache hit {warm:.3f} s")


@pytest.fixture(scope="module")
def docker_daemon() -> Iterator[dict[str, str]]:
    """A Docker daemon: the one the environment reaches, else a private one from tests/builders/dockerd.sh."""
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0:
        yield {}
        return
    script = ROOT / "tests" / "builders" / "dockerd.sh"
    prefix = Path(os.environ.get("DOCKERFIX_DOCKER_PREFIX", "/opt/dockerfix-docker"))
    if not script.is_file() or not (prefix / "usr" / "sbin" / "dockerd").is_file() or os.getuid() != 0:
        if "CI" in os.environ:
            pytest.fail("no Docker daemon and CI is set")
        pytest.skip("no Docker daemon (tests/builders/dockerd.sh install, as root)")
    directory = f"/tmp/dk-br{os.getpid()}"
    started = subprocess.run(["bash", str(script), "start", directory], capture_output=True, text=True, check=False)
    if started.returncode != 0:
        if "CI" in os.environ:
            pytest.fail(f"the private Docker daemon did not start and CI is set: {started.stderr[-300:]}")
        pytest.skip(f"the private Docker daemon did not start: {started.stderr[-300:]}")
    names = ("DOCKER_HOST", "PATH", "DOCKER_CONFIG")
    shown = subprocess.run(["bash", "-c", 'eval "$1"; for n in ' + " ".join(names) + '; do printf "%s\\0" "${!n}"; done',
                            "_", started.stdout], capture_output=True, text=True, check=True).stdout
    env = dict(zip(names, shown.split("\0")))
    try:
        yield env
    finally:
        subprocess.run(["bash", str(script), "stop", directory], capture_output=True, check=False)


@pytest.mark.build
def test_reads_the_test_base_from_a_docker_daemon(docker_daemon: dict[str, str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in docker_daemon.items():
        monkeypatch.setenv(key, value)
    rootfs = baseimage.build_rootfs()
    tag = f"localhost/dockerfix-baseread-{os.getpid()}"
    imported = subprocess.run(["docker", "import", "--change", f"ENV PATH={baseimage.PATH_ENV}", "-", tag],
                              input=rootfs.tar, capture_output=True, check=False)
    assert imported.returncode == 0, imported.stderr
    try:
        assert baselocal.docker_available()
        started = time.perf_counter()
        facts = baselocal.read_bases([tag], {}, docker=True, cache=tmp_path)[tag]
        cold = time.perf_counter() - started
        assert facts.source == "docker daemon"
        expected_base_facts(facts)
        started = time.perf_counter()
        again = baselocal.read_bases([tag, "localhost/not-there"], {}, docker=True, cache=tmp_path)
        warm = time.perf_counter() - started
        assert list(again) == [tag] and dataclass_fields(again[tag]) == dataclass_fields(facts)
        print(f"docker daemon: first read {cold:.3f} s, cache hit {warm:.3f} s")
    finally:
        subprocess.run(["docker", "rmi", "--force", tag], capture_output=True, check=False)
