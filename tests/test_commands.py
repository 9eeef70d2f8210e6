"""`verify` and `layers` from the command line, batch isolation, and write failures."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from dockerfix import transforms
from dockerfix.refactor.cli import batch
from dockerfix.refactor.cli import files
from dockerfix.refactor.cli.batch import Options, process_file, process_many
from dockerfix.refactor.errors import DockerfixError

from .helpers import SAMPLES
from .test_cli import BEFORE, dockerfix

ALL = tuple(transforms.names())


@pytest.mark.build
def test_verify_command_on_a_sample(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = tmp_path / "crlf"
    shutil.copytree(SAMPLES / "crlf", ctx)
    r = dockerfix("verify", "--builder", builder.name, "--format", "json", "Dockerfile", cwd=ctx)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["identical"] is True and report["differences"] == []
    assert report["saved_bytes"] == 150_000
    assert report["transforms"] == ["chown-layer"]
    text = dockerfix("verify", "--builder", builder.name, "Dockerfile", cwd=ctx)
    assert text.returncode == 0 and "same image; the rewrite saves 150.0 kB" in text.stdout
    assert (ctx / "Dockerfile").read_bytes() == (SAMPLES / "crlf" / "Dockerfile").read_bytes()  # never written


def test_verify_command_errors(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nRUN true\n")
    r = dockerfix("verify", "Dockerfile", cwd=tmp_path)
    assert r.returncode == 0 and "nothing to fix" in r.stderr
    (tmp_path / "bad.Dockerfile").write_bytes(b"\xff")
    r = dockerfix("verify", "bad.Dockerfile", cwd=tmp_path)
    assert r.returncode == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.build
def test_verify_command_cannot_build(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text("FROM localhost/dockerfix-base\nCOPY missing /data/x\nRUN chown -R 1:1 /data\n")
    r = dockerfix("verify", "--builder", builder.name, "Dockerfile", cwd=tmp_path)
    assert r.returncode == 2 and "cannot build" in r.stderr


@pytest.mark.build
def test_layers_command_text_and_errors(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sample = SAMPLES / "crlf"
    archive = builder.build(sample / "Dockerfile", sample, cache=False).archive
    r = dockerfix("layers", str(archive), cwd=tmp_path)
    assert r.returncode == 0
    assert "chown -R 1000:1000" in r.stdout and "/data/payload.bin" in r.stdout
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    r = dockerfix("layers", "junk.tar", cwd=tmp_path)
    assert r.returncode == 2 and "junk.tar: error" in r.stderr and "Traceback" not in r.stderr


def test_one_failing_file_does_not_stop_a_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dockerfix.refactor.engine as engine

    for name in ("a", "boom", "c"):
        (tmp_path / f"{name}.Dockerfile").write_text(BEFORE)
    real = engine.run

    def flaky(text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("path") is not None and kwargs["path"].name.startswith("boom"):
            raise ValueError("a bug in a transform")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(engine, "run", flaky)
    paths = sorted(tmp_path.glob("*.Dockerfile"))
    results = list(process_many(paths, Options(ALL, write=True)))
    assert [r.error is None for r in results] == [True, False, True]
    assert "internal error (ValueError: a bug in a transform)" in (results[1].error or "")
    assert (tmp_path / "boom.Dockerfile").read_text() == BEFORE
    assert "COPY --chown" in (tmp_path / "a.Dockerfile").read_text()


def test_process_pool_gives_the_same_results_in_order(tmp_path: Path) -> None:
    paths = []
    for i in range(batch.POOL_THRESHOLD + 6):
        p = tmp_path / f"svc{i:03d}.Dockerfile"
        p.write_text(BEFORE if i % 3 else "FROM a\n")
        paths.append(p)
    (tmp_path / "svc005.Dockerfile").write_bytes(b"\x00binary")
    seen: list[str] = []
    pooled = list(process_many(paths, Options(ALL), progress=lambda r: seen.append(r.path), jobs=2))
    serial = [process_file(str(p), Options(ALL)) for p in paths]
    assert [(r.path, r.changed, r.error, r.diff) for r in pooled] == [(r.path, r.changed, r.error, r.diff) for r in serial]
    assert len(seen) == len(paths)
    assert pooled[5].error and sum(r.changed for r in pooled) == sum(1 for i in range(len(paths)) if i % 3 and i != 5)


def test_write_failure_leaves_the_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)
    snap = files.read(f)

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(DockerfixError, match="cannot write: No space left on device"):
        files.write(snap, "FROM b\n")
    assert f.read_text() == BEFORE
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_not_a_regular_file_and_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    assert process_file(str(fifo), Options(ALL)).error == "not a regular file"
    big = tmp_path / "big.Dockerfile"
    big.write_text("FROM a\n")
    monkeypatch.setattr(files, "MAX_BYTES", 3)
    assert "file too large" in (process_file(str(big), Options(ALL)).error or "")


def test_display_paths_outside_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert batch.display(tmp_path / "x" / "Dockerfile") == os.path.join("x", "Dockerfile")
    assert batch.display(Path("/etc/hostname")) == "/etc/hostname"
