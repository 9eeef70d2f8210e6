"""The base-image options of the CLI end to end, and the project's test base image read back from the stores the
builders use (a buildah store, a Docker daemon)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from dockerfix.refactor.dockerfile import basefacts as bf
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.images import baseimage, baselocal, baseread

from .test_baseread import LOWER, dataclass_fields, docker_archive, layer_tar, oci_archive, two_layers

ROOT = Path(__file__).resolve().parents[1]


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


def test_read_facts_turn_assumptions_into_proofs(tmp_path: Path) -> None:
    """End to end: the chown-layer fix rests on five assumptions about an unknown base image; read from an archive
    that holds the user, `find`, root as the default user and no VOLUME, the same fix is safe. A base without
    `find` refuses it instead."""
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM example/app:1\nCOPY . /app\nRUN chown -R svc /app\n")
    (context / "x.txt").write_text("hi\n")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}

    def finding(*extra: str, code: int = 1) -> dict[str, object]:
        proc = dockerfix("check", "--format", "json", *extra, "Dockerfile", cwd=context, env=env)
        assert proc.returncode == code, proc.stderr
        (found,) = json.loads(proc.stdout)["files"][0]["findings"]
        return found  # type: ignore[no-any-return]

    unknown = finding()
    assert not unknown["safe"] and sum("unsafe: assumes" in d for d in unknown["details"]) >= 4  # type: ignore[union-attr]
    good = docker_archive(tmp_path / "good.tar", two_layers(), {"Env": ["PATH=/usr/local/bin:/bin"]})
    proven = finding("--base-image", f"example/app:1={good}")
    assert proven["safe"] and proven["applied"], proven
    assert not any("assumes" in d for d in proven["details"])  # type: ignore[union-attr]
    no_find = docker_archive(tmp_path / "nofind.tar", [layer_tar([m for m in LOWER if m[0] != "bin/find"])],
                             {"Env": ["PATH=/bin"]})
    refused = finding("--base-image", f"example/app:1={no_find}", code=0)  # nothing fixable
    assert not refused["fixable"] and "no `find`" in refused["message"], refused


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
def test_reads_the_test_base_from_the_builders_store(builder, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder's own store: a private buildah store, or the daemon the docker builder talks to."""
    builder.ensure_base()
    # a docker client config without config.json (as tests/builders/dockerd.sh sets up) must not stop buildah
    (tmp_path / "docker-config").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    if builder.name == "buildah":
        store = builder.store()
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
