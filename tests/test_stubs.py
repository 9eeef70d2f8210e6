"""The stub tools of both test bases come from one source (refactor/images/stubs.py, pystubs.py): lenient for the
busybox base, strict for the Debian base that tests/builders/debian-base.sh builds; the Debian rootfs cache is keyed
on the strict stubs, so changing them rebuilds it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockerfix.refactor.images import baseimage
from dockerfix.refactor.images.stubs import TOOL_LINKS, main, render, tool_scripts, tools_digest, write_tools

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = ROOT / "tests" / "builders"
MODES = [pytest.param(True, id="strict"), pytest.param(False, id="lenient")]


@pytest.mark.parametrize(("template", "strict", "expected"), [
    ("a\nb\n", True, "a\nb\n"),                        # unmarked lines: in both modes, unchanged
    ("a\nb\n", False, "a\nb\n"),
    ("a\nS|  b\nL|  c\nd\n", True, "a\n  b\nd\n"),      # strict keeps its lines, marks taken off
    ("a\nS|  b\nL|  c\nd\n", False, "a\n  c\nd\n"),
    ("x S|y\n", True, "x S|y\n"),                        # a mark counts only at the start of a line
])
def test_render(template: str, strict: bool, expected: str) -> None:
    assert render(template, strict=strict) == expected


@pytest.mark.parametrize("strict", MODES)
@pytest.mark.parametrize("path", [p for p, _ in tool_scripts(strict=True)])
def test_every_stub_is_a_clean_shell_script(path: str, strict: bool) -> None:
    text = dict(tool_scripts(strict=strict))[path]
    assert text.startswith("#!/bin/sh\n")
    assert not [line for line in text.splitlines() if line[:2] in ("S|", "L|")]
    shell = shutil.which("dash") or shutil.which("sh")
    assert shell is not None
    proc = subprocess.run([shell, "-n"], input=text, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", [p for p, _ in tool_scripts(strict=True)])
def test_strict_stubs_fail_with_exit_3_and_lenient_ones_never_do(path: str) -> None:
    strict, lenient = dict(tool_scripts(strict=True))[path], dict(tool_scripts(strict=False))[path]
    assert "exit 3" in strict
    assert "exit 3" not in lenient


def test_the_busybox_base_has_the_lenient_stubs_and_its_own_account_tools() -> None:
    assert baseimage.SCRIPTS[:-1] == tool_scripts(strict=False)
    assert baseimage.SCRIPTS[-1][0] == "usr/sbin/adduser"
    assert baseimage.SCRIPT_LINKS[:len(TOOL_LINKS)] == TOOL_LINKS


@pytest.mark.parametrize("strict", MODES)
def test_write_tools(tmp_path: Path, strict: bool) -> None:
    digest = write_tools(tmp_path, strict=strict)
    assert digest == tools_digest(strict=strict)
    for path, text in tool_scripts(strict=strict):
        assert (tmp_path / path).read_text() == text
        assert (tmp_path / path).stat().st_mode & 0o7777 == 0o755
    for path, target in TOOL_LINKS:
        assert os.readlink(tmp_path / path) == target
    # a second write would replace what is there: refused, nothing changed
    (tmp_path / "usr/local/bin/git").write_text("#!/bin/sh\n# the real git\n")
    with pytest.raises(FileExistsError, match="usr/local/bin/git"):
        write_tools(tmp_path, strict=strict)
    assert (tmp_path / "usr/local/bin/git").read_text() == "#!/bin/sh\n# the real git\n"


def test_the_digest_tells_the_modes_apart() -> None:
    assert tools_digest(strict=True) != tools_digest(strict=False)


def test_cli_writes_strict_stubs_and_refuses_an_existing_tool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--strict", str(tmp_path)]) == 0
    assert capsys.readouterr().out == tools_digest(strict=True) + "\n"
    assert "exit 3" in (tmp_path / "usr/local/bin/pip").read_text()
    assert main(["--strict", str(tmp_path)]) == 1
    assert "not replacing" in capsys.readouterr().err


def _debian_base(out: Path, cwd: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    # A mirror that refuses at once: should the script start a build, it fails in a second instead of downloading.
    env = {**os.environ, "DOCKERFIX_PYTHON": python, "DOCKERFIX_DEBIAN_MIRROR": "http://127.0.0.1:9"}
    return subprocess.run(["bash", str(BUILDERS / "debian-base.sh"), str(out)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _stamp(out: Path, stubs_digest: str) -> Path:
    """A finished-looking cache in ``out`` whose stamp names the recipe for ``stubs_digest``."""
    out.mkdir()
    tar = out / "rootfs.tar"
    tar.write_bytes(b"not really a rootfs\n")
    script = hashlib.sha256((BUILDERS / "debian-base.sh").read_bytes()).hexdigest()
    recipe = hashlib.sha256(f"{script} {stubs_digest}\n".encode()).hexdigest()
    (out / "rootfs.tar.ok").write_text(f"recipe {recipe} size {tar.stat().st_size}\n")
    return tar


def test_debian_cache_is_used_while_its_stubs_are_current(tmp_path: Path) -> None:
    tar = _stamp(tmp_path / "out", tools_digest(strict=True))
    proc = _debian_base(tmp_path / "out", cwd=tmp_path)  # from another directory than the repo's
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tar)
    assert tar.read_bytes() == b"not really a rootfs\n"


def test_debian_cache_of_other_stubs_is_not_used(tmp_path: Path) -> None:
    tar = _stamp(tmp_path / "out", tools_digest(strict=False))
    proc = _debian_base(tmp_path / "out", cwd=tmp_path)
    # a rebuild was started: it fails (no root, no debootstrap, or the refusing mirror) and leaves the old tar alone
    assert proc.returncode != 0
    assert str(tar) not in proc.stdout
    assert any(why in proc.stderr for why in ("needs root", "debootstrap is missing", "debootstrap failed")), proc.stderr
    assert not list((tmp_path / "out").glob("build.*"))


def test_debian_base_refuses_another_checkouts_dockerfix(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho /elsewhere/refactor/images/stubs.py {tools_digest(strict=True)}\n")
    fake.chmod(0o755)
    _stamp(tmp_path / "out", tools_digest(strict=True))
    proc = _debian_base(tmp_path / "out", cwd=tmp_path, python=str(fake))
    assert proc.returncode != 0
    assert "not from this checkout" in proc.stderr


def test_dockerd_sh_finds_its_mirror_helper_from_any_directory(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", str(BUILDERS / "dockerd.sh"), "no-such-command"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "usage: dockerd.sh" in proc.stderr, proc.stderr  # got past `source mirror.sh`


@pytest.mark.parametrize(("override", "expected"), [("http://mirror.example/debian", "http://mirror.example/debian")])
def test_apt_mirror_override(override: str, expected: str) -> None:
    proc = subprocess.run(["bash", "-c", f'source "{BUILDERS}/mirror.sh"; apt_mirror "$1"', "_", override],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == expected


def test_apt_mirror_reads_the_systems_sources_without_override() -> None:
    sources = [*Path("/etc/apt/sources.list.d").glob("*.sources"), Path("/etc/apt/sources.list")]
    if "CI" not in os.environ and not any(p.is_file() and "bookworm" in p.read_text() for p in sources):
        pytest.skip("this machine's apt has no bookworm source")  # CI runs on bookworm: there it must find one
    proc = subprocess.run(["bash", "-c", f'source "{BUILDERS}/mirror.sh"; apt_mirror ""'],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip().startswith(("http://", "https://")) and not proc.stdout.strip().endswith("/")
