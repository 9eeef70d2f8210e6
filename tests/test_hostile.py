"""Hostile and broken inputs: one clear message, a documented exit code, no traceback, nothing damaged."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest

from dockerfix import transforms
from dockerfix.refactor.cli import files
from dockerfix.refactor.cli.batch import Options, process_file, process_text
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.dockerfile.parse import decode, parse

from .helpers import read, sample_dirs
from .test_cli import BEFORE, dockerfix

ALL = tuple(transforms.names())
FIX = Options(ALL, unsafe=True, write=True)

HOSTILE_FILES: dict[str, bytes | None] = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "latin-1": "FROM a\nLABEL who=\"Jos\u00e9\"\n".encode("latin-1"),
    "bom": b"\xef\xbb\xbfFROM debian\nCOPY x /data/x\nRUN chown -R 1:1 /data\n",
    "crlf": BEFORE.replace("\n", "\r\n").encode(),
    "mixed-endings": b"FROM debian\r\nCOPY x /data/x\nRUN chown -R 1:1 /data\r\n",
    "no-final-newline": BEFORE.rstrip("\n").encode(),
    "ten-megabytes": None,  # built below
    "ten-thousand-instructions": ("FROM a\n" + "RUN echo hi\n" * 10_000).encode(),
    "long-line": ("FROM a\nRUN echo " + "x" * 1_000_000 + "\n").encode(),
    "unterminated-heredoc": b"FROM a\nRUN <<EOF\necho hi\n",
    "unknown-instruction": b"FROM a\nFROBNICATE now\n",
    "invalid-json": b'FROM a\nCMD ["echo", hi\nSHELL [broken\n',
    "only-continuations": b"\\\n\\\n\\\n",
    "deep-nesting": ("FROM a\nRUN " + "$(" * 3000 + "x" + ")" * 3000 + "\n").encode(),
    "nul-in-middle": b"FROM a\n\x00RUN x\n",
    "bad-escape": b"# escape=x\nFROM a\n",
}

EXPECT_ERROR = {"binary", "latin-1", "unterminated-heredoc", "unknown-instruction", "nul-in-middle", "bad-escape",
                "invalid-json"}


def _content(name: str) -> bytes:
    if name == "ten-megabytes":
        return ("FROM a\n" + "# padding comment line\n" * 450_000 + BEFORE.split("\n", 1)[1]).encode()
    data = HOSTILE_FILES[name]
    assert data is not None
    return data


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_file(tmp_path: Path, name: str) -> None:
    data = _content(name)
    f = tmp_path / "Dockerfile"
    f.write_bytes(data)
    result = process_file(str(f), FIX)
    if name in EXPECT_ERROR:
        assert result.error and "\n" not in result.error and "internal error" not in result.error
        assert f.read_bytes() == data
        return
    assert result.error is None, result.error
    out = f.read_bytes()
    if out != data:
        # Edits keep the file's own line endings and BOM.
        assert out.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
        if b"\r\n" in data and data.count(b"\r\n") == data.count(b"\n"):
            assert out.count(b"\r\n") == out.count(b"\n")
        again = process_file(str(f), FIX)
        assert not again.changed  # idempotent on disk too


def test_mixed_endings_edit_uses_the_lines_own_ending() -> None:
    text = decode(_content("mixed-endings"))
    fr, out = process_text(text, "x", Options(ALL))
    assert "COPY --chown=1:1 x /data/x\n" in out
    assert out.endswith("\r\n")


def test_path_is_a_directory(tmp_path: Path) -> None:
    r = dockerfix("check", str(tmp_path / "sub" / "Dockerfile"), cwd=tmp_path)
    assert r.returncode == 2 and "no such file" in r.stderr
    (tmp_path / "Dockerfile").mkdir()
    result = process_file(str(tmp_path / "Dockerfile"), FIX)
    assert result.error == "is a directory"


def test_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").symlink_to(tmp_path / "nowhere")
    assert process_file(str(tmp_path / "Dockerfile"), FIX).error == "dangling symlink"


def test_symlink_out_of_tree_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(BEFORE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "link").symlink_to(outside)
    (tree / "Dockerfile.link").symlink_to(outside / "Dockerfile")
    (tree / "Dockerfile").write_text(BEFORE)
    r = dockerfix("fix", ".", cwd=tree)
    assert r.returncode == 0
    assert (outside / "Dockerfile").read_text() == BEFORE
    assert "COPY --chown" in (tree / "Dockerfile").read_text()


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any file whatever its mode, so the permission error is injected.
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    result = process_file(str(f), FIX)
    assert result.error == "cannot read: Permission denied"


def test_read_only_file_keeps_its_mode(tmp_path: Path) -> None:
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)
    os.chmod(f, 0o444)
    result = process_file(str(f), FIX)
    assert result.error is None and result.written
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o444


def test_changed_on_disk_between_read_and_write(tmp_path: Path) -> None:
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)
    snap = files.read(f)
    f.write_text(BEFORE + "# edited meanwhile\n")
    with pytest.raises(DockerfixError, match="changed on disk"):
        files.write(snap, "FROM other\n")
    assert f.read_text() == BEFORE + "# edited meanwhile\n"


def test_unchanged_file_is_not_written(tmp_path: Path) -> None:
    f = tmp_path / "Dockerfile"
    f.write_text("FROM a\n")
    before = os.stat(f).st_mtime_ns
    assert not files.write(files.read(f), "FROM a\n")
    assert os.stat(f).st_mtime_ns == before


def test_write_through_symlink_keeps_link(tmp_path: Path) -> None:
    real = tmp_path / "real.Dockerfile"
    real.write_text(BEFORE)
    link = tmp_path / "Dockerfile"
    link.symlink_to(real)
    assert process_file(str(link), FIX).written
    assert link.is_symlink() and "COPY --chown" in real.read_text()


def _mutations(seed: int, count: int) -> list[bytes]:
    """Mutational fuzzing: samples with bytes flipped, deleted, duplicated, or tokens spliced in."""
    rng = random.Random(seed)
    corpus = [read(d / "Dockerfile").encode() for d in sample_dirs()]
    tokens = [b"\\\n", b"\r\n", b"<<EOF\n", b"EOF\n", b"# escape=`\n", b"${", b"$(", b"'", b'"', b"\x00", b"\xff",
              b"chown -R 1:1 /data", b"&&", b"COPY . /\n", b"\n#", b"[", b"\t"]
    out = []
    for _ in range(count):
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 6)):
            op = rng.randrange(4)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(pos, len(data) - 1)] = rng.randrange(256)
            elif op == 1:
                del data[pos : pos + rng.randint(1, 20)]
            elif op == 2:
                data[pos:pos] = rng.choice(tokens)
            else:
                data[pos:pos] = data[max(0, pos - 30) : pos]
        out.append(bytes(data))
    return out


def test_mutational_fuzz_of_parser_and_shell_analysis() -> None:
    """A bounded run (fixed seed, 1,500 inputs): only the tool's own error, and fixes stay idempotent."""
    opts = Options(ALL, unsafe=True)
    failures = []
    for i, data in enumerate(_mutations(seed=20261127, count=1500)):
        try:
            text = decode(data)
            assert parse(text).render() == text
            fr, out = process_text(text, "fuzz", opts)
            fr2, out2 = process_text(out, "fuzz", opts)
            if out2 != out:
                failures.append((i, "not idempotent", data))
        except DockerfixError:
            continue
        except Exception as exc:  # noqa: BLE001
            failures.append((i, repr(exc), data))
    assert not failures, failures[:3]
