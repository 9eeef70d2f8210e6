"""Symbolic chmod modes and the no-gain rule of chown-layer, built on both builders (docs/builder-semantics.md,
"chmod -R with a symbolic mode")."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dockerfix.refactor.engine import run
from dockerfix.refactor.images.build import Builder
from dockerfix.refactor.images.image import flatten, load_image
from dockerfix.refactor.images.verify import verify

from .testbases import table

B = "FROM localhost/dockerfix-base\n"
# Context modes every symbolic form below treats differently (x only in u, g without r, a directory 0750).
TREE = {"tree/a.txt": 0o664, "tree/b.sh": 0o764, "tree/c.txt": 0o644, "tree/d.bin": 0o711, "tree/sub/e.txt": 0o640,
        "tree/sub": 0o750, "tree": 0o755}
FORMS = ["g=u", "g+rwX", "a-w", "u=rwx,go=rx", "+x", "u+r-w"]


def _tree(ctx: Path) -> None:
    for rel in sorted(TREE, key=len, reverse=True):
        p = ctx / rel
        if rel in ("tree", "tree/sub"):
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(rel * 300)
    for rel, mode in TREE.items():
        (ctx / rel).chmod(mode)


@pytest.mark.build
def test_umask_of_a_run_step_is_022(builder: Builder, tmp_path: Path) -> None:
    """The umask a symbolic mode without a who is masked by (transforms/_chown/symbolic.py)."""
    (tmp_path / "Dockerfile").write_text(B + "RUN umask > /umask && mkdir /d && touch /f\n")
    files = flatten(load_image(builder.build(tmp_path / "Dockerfile", tmp_path).archive))
    assert files["/umask"].sha256 == hashlib.sha256(b"0022\n").hexdigest()
    assert (files["/d"].mode & 0o777, files["/f"].mode & 0o777) == (0o755, 0o644)


@pytest.mark.build
@pytest.mark.parametrize("form", FORMS)
def test_symbolic_forms_build_to_the_same_image(builder: Builder, tmp_path: Path, form: str) -> None:
    """The kept `find` selects exactly what `chmod -R FORM` changes: copied files of every mode, a RUN-made tree."""
    _tree(tmp_path)
    text = B + f"COPY tree/ /t/\nRUN mkdir -p /t/made && touch /t/made/x && chmod 600 /t/made/x\nRUN chmod -R {form} /t\n"
    (tmp_path / "Dockerfile").write_text(text)
    fixed = run(text, ["chown-layer"], path=tmp_path / "Dockerfile", bases=table()).output
    assert f"chmod -R {form} /t/made" in fixed and f"-exec chmod {form} {{}} +" in fixed
    (tmp_path / "Dockerfile.fixed").write_text(fixed)
    result = verify(tmp_path / "Dockerfile", tmp_path / "Dockerfile.fixed", tmp_path, builder)
    assert [d.text for d in result.differences] == []


@pytest.mark.build
def test_harness_catches_a_predicate_that_ignores_x(builder: Builder, tmp_path: Path) -> None:
    """A `g=u` test of r and w only misses b.sh (0764: u has x, g has not), which then keeps 0764, not 0774."""
    _tree(tmp_path)
    text = B + "COPY tree/ /t/\nRUN mkdir -p /t/made\nRUN chmod -R g=u /t\n"
    (tmp_path / "Dockerfile").write_text(text)
    fixed = run(text, ["chown-layer"], path=tmp_path / "Dockerfile", bases=table()).output
    wrong = fixed.replace("\\( -perm -010 ! -perm -100 \\) -o \\( -perm -100 ! -perm -010 \\) -o ", "")
    assert wrong != fixed
    (tmp_path / "Dockerfile.wrong").write_text(wrong)
    result = verify(tmp_path / "Dockerfile", tmp_path / "Dockerfile.wrong", tmp_path, builder)
    assert any(d.path == "/t/b.sh" and d.field == "mode" for d in result.differences), \
        [d.text for d in result.differences]


NO_GAIN = B + "COPY src/ /app/\nRUN chown -R 1001:0 /app && chmod -R ug+rwx /app\n"
# What chown-layer offered before it checked the modes: --chown, and a kept chmod that still changes every file.
NO_GAIN_FIX = B + ("COPY --chown=1001:0 src/ /app/\nRUN find /app \\( ! -user 1001 -o ! -group 0 -o -perm -4000 -o "
                   "-perm -2000 \\) -exec chown -h 1001:0 {} + && find /app ! -type l ! -perm -ug+rwx -exec chmod "
                   "ug+rwx {} +\n")


@pytest.mark.build
def test_a_fix_the_kept_chmod_undoes_saves_nothing(builder: Builder, tmp_path: Path) -> None:
    """Every file is 0644: the kept `chmod ug+rwx` rewrites all of them, so the old fix stores as much as before;
    chown-layer now reports it instead of offering it."""
    (tmp_path / "src").mkdir()
    for name in ("a.js", "b.js"):
        (tmp_path / "src" / name).write_text(name * 20000)
        (tmp_path / "src" / name).chmod(0o644)
    (tmp_path / "Dockerfile").write_text(NO_GAIN)
    (tmp_path / "Dockerfile.fixed").write_text(NO_GAIN_FIX)
    result = verify(tmp_path / "Dockerfile", tmp_path / "Dockerfile.fixed", tmp_path, builder)
    assert [d.text for d in result.differences] == []
    assert result.saved_bytes == 0, result.saved_bytes
    finding = run(NO_GAIN, ["chown-layer"], True, path=tmp_path / "Dockerfile", bases=table()).findings[0]
    assert finding.fix is None and "would still change every file the COPY at line 2" in finding.message


@pytest.mark.build
@pytest.mark.parametrize("form", ["g=u", "g+rwX", "a-w", "u=rwx,go=rx"])
def test_symbolic_forms_with_gnu_chmod_and_find(debian_build_image, debian_rootfs_tar: Path,  # type: ignore[no-untyped-def]
                                                form: str) -> None:
    """The same on the Debian test base, whose chmod and find are GNU's (coreutils, findutils)."""
    from dockerfix.refactor.images.image import compare_images

    from .testbases import DEBIAN, debian_facts

    _tree(debian_build_image.context)
    text = f"FROM {DEBIAN}\nCOPY tree/ /t/\nRUN mkdir -p /t/made && touch /t/made/x && chmod 600 /t/made/x\n" \
           f"RUN chmod -R {form} /t\n"
    bases = {**table(), DEBIAN: debian_facts(debian_rootfs_tar)}
    fixed = run(text, ["chown-layer"], path=debian_build_image.context / "Dockerfile", bases=bases).output
    assert f"-exec chmod {form} {{}} +" in fixed
    _, original = debian_build_image(text)
    _, after = debian_build_image(fixed, name="Dockerfile.fixed")
    assert [d.text for d in compare_images(original, after)] == []
