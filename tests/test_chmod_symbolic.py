"""Symbolic chmod modes (transforms/_chown/symbolic.py) against the real GNU and busybox chmod and find.

Measures on every permission mode of a file and a directory: the model's result for GNU coreutils and busybox chmod,
that the refused forms really differ, and that the generated `find` predicate selects exactly what chmod changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dockerfix.transforms._chown import symbolic

ACCEPTED = ["g=u", "g+rwX", "+x", "a-w", "u=rwx,go=rx", "u+r-w", "a+rX", "ug+rwx", "go-w", "o-rwx", "go=u-w",
            "u=g", "a=r", "+X", "=rx", "g-x+X", "u+x,g+X"]
REFUSED = ["ugo=rwX", "a=u", "u=rwX,go=rX", "+w", "-w", "=u"]
TOOLS = {"gnu": ["chmod"], "busybox": ["busybox", "chmod"]}
FINDS = {"gnu": ["find"], "busybox": ["busybox", "find"]}


def _tool(kind: str) -> list[str]:
    tool = TOOLS[kind]
    if shutil.which(tool[0]) is None or (kind == "gnu" and b"GNU" not in subprocess.run(
            ["chmod", "--version"], capture_output=True).stdout):
        if os.environ.get("CI"):
            pytest.fail(f"{kind} chmod is needed for this measurement")
        pytest.skip(f"no {kind} chmod")
    return tool


def _tree(tmp: Path) -> dict[Path, tuple[int, bool]]:
    made: dict[Path, tuple[int, bool]] = {}
    for is_dir in (False, True):
        for mode in range(0o1000):
            p = tmp / f"{'d' if is_dir else 'f'}{mode:03o}"
            p.mkdir() if is_dir else p.write_text("")
            made[p] = (mode, is_dir)
    for p, (mode, _) in made.items():
        p.chmod(mode)
    return made


def _modes(made: dict[Path, tuple[int, bool]]) -> dict[Path, int]:
    return {p: p.lstat().st_mode & 0o777 for p in made}


@pytest.mark.parametrize("kind", sorted(TOOLS))
@pytest.mark.parametrize("spec", ACCEPTED + REFUSED)
def test_model_matches_chmod(tmp_path: Path, kind: str, spec: str) -> None:
    tool = _tool(kind)
    made = _tree(tmp_path)
    actions = symbolic.parse(spec)
    assert actions is not None
    proc = subprocess.run(tool + [spec, *map(str, made)], capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(0o022))
    got = _modes(made)
    want = {p: symbolic.apply(m, d, actions, gnu=kind == "gnu") for p, (m, d) in made.items()}
    assert got == want
    if spec == "-w" and kind == "gnu":
        # The umask keeps g/o w: GNU fails the step ("new permissions are r--rw-rw-, not r--r--r--").
        assert proc.returncode == 1 and "new permissions are" in proc.stderr


@pytest.mark.parametrize("spec", ACCEPTED)
def test_accepted_forms_agree(spec: str) -> None:
    assert symbolic.refusal(spec) is None


@pytest.mark.parametrize("spec", REFUSED + ["u+s", "+t", "g=us", "u+q", "x", "u=rwx,,", "a+rwxXs"])
def test_refused_forms(spec: str) -> None:
    assert symbolic.refusal(spec) is not None


@pytest.mark.parametrize("kind", sorted(FINDS))
@pytest.mark.parametrize("spec", ACCEPTED)
def test_predicate_selects_exactly_what_chmod_changes(tmp_path: Path, kind: str, spec: str) -> None:
    tool = _tool(kind)
    made = _tree(tmp_path)
    before = _modes(made)
    pred = symbolic.predicate(spec)
    out = subprocess.run(["sh", "-c", f"{' '.join(FINDS[kind])} {tmp_path} -mindepth 1 ! -type l {pred} -print"],
                         capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(tool + [spec, *map(str, made)], capture_output=True, preexec_fn=lambda: os.umask(0o022))
    changed = {str(p) for p, m in _modes(made).items() if m != before[p]}
    assert set(out) == changed
