"""What `COPY --chmod` does on each builder, measured: chown-layer's mode fix (transforms/_chown/modes.py) rests on it.

Recorded in docs/builder-semantics.md ("COPY --chmod").
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dockerfix.refactor.engine import run
from dockerfix.refactor.images.build import Builder
from dockerfix.refactor.images.image import FileRecord, flatten, load_image

from . import test_chown_modes as modes_cases
from .testbases import table

FACTS = """\
FROM localhost/dockerfix-base
COPY --chmod=640 tree/ /c/tree/
COPY --chmod=600 tree/f.txt /d/new/
RUN mkdir -m 700 /e && mkdir -m 700 /g
COPY --chmod=640 tree/f.txt /e/
COPY --chmod=640 tree/ /g/
COPY --chmod=0755 tree/f.txt /h/f
"""


@pytest.fixture(scope="module")
def facts(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileRecord]:
    context = tmp_path_factory.mktemp("chmodfacts")
    (context / "tree" / "sub").mkdir(parents=True)
    (context / "tree").chmod(0o750)
    (context / "tree" / "sub").chmod(0o700)
    (context / "tree" / "f.txt").write_text("f\n")
    (context / "tree" / "f.txt").chmod(0o604)
    (context / "tree" / "sub" / "g.txt").write_text("g\n")
    (context / "tree" / "sub" / "g.txt").chmod(0o644)
    (context / "Dockerfile").write_text(FACTS)
    result = builder.build(context / "Dockerfile", context)
    return flatten(load_image(result.archive))


def _modes(files: dict[str, FileRecord], *paths: str) -> dict[str, str]:
    return {p: oct(files[p].mode) for p in paths}


@pytest.mark.build
def test_fact_copy_chmod_sets_files_exactly(facts: dict[str, FileRecord]) -> None:
    assert _modes(facts, "/c/tree/f.txt", "/c/tree/sub/g.txt", "/d/new/f.txt", "/e/f.txt", "/g/f.txt", "/h/f") == {
        "/c/tree/f.txt": "0o640", "/c/tree/sub/g.txt": "0o640", "/d/new/f.txt": "0o600", "/e/f.txt": "0o640",
        "/g/f.txt": "0o640", "/h/f": "0o755"}


@pytest.mark.build
def test_fact_copy_chmod_on_directories(facts: dict[str, FileRecord]) -> None:
    """buildah 1.28 and BuildKit 0.13 agree: a directory copied from below the source gets the --chmod mode; the
    directories the COPY creates (the destination's missing parents and the destination itself) get 0755, and an
    existing destination keeps its mode (moby/buildkit#4945: the source directory itself is not changed).
    BuildKit 0.21+ differs: created directories and an existing destination get the --chmod mode (moby/moby#49851,
    moby/buildkit#5943), with dockerd's umask on created ones (moby/buildkit#6801)."""
    copied = "0o640"
    assert _modes(facts, "/c", "/c/tree", "/c/tree/sub", "/d", "/d/new", "/e", "/g", "/g/sub", "/h") == {
        "/c": "0o755", "/c/tree": "0o755", "/c/tree/sub": copied, "/d": "0o755", "/d/new": "0o755", "/e": "0o700",
        "/g": "0o700", "/g/sub": copied, "/h": "0o755"}


@pytest.mark.build
@pytest.mark.parametrize("builder", ["docker"], indirect=True)
def test_fact_classic_builder_rejects_copy_chmod(builder: Builder, tmp_path: Path) -> None:
    """The classic builder (DOCKER_BUILDKIT=0) refuses the flag; the same file without it builds."""
    (tmp_path / "f").write_text("f\n")
    for name, text in (("with", "FROM scratch\nCOPY --chmod=755 f /f\n"), ("without", "FROM scratch\nCOPY f /f\n")):
        (tmp_path / name).write_text(text)
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    argv = [builder.executable, "build", "--network=none", "-q", "--no-cache"]  # type: ignore[attr-defined]
    rejected = subprocess.run([*argv, "-f", str(tmp_path / "with"), str(tmp_path)], env=env, capture_output=True,
                              text=True, timeout=300)
    assert rejected.returncode != 0 and "the --chmod option requires BuildKit" in rejected.stdout + rejected.stderr
    plain = subprocess.run([*argv, "-f", str(tmp_path / "without"), str(tmp_path)], env=env, capture_output=True,
                           text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    builder.run("image", "rm", "-f", plain.stdout.strip())  # type: ignore[attr-defined]


SYMBOLIC_DIR = "FROM localhost/dockerfix-base\nCOPY site/ /srv/www/\nRUN chmod -R g+w /srv/www\n"


def _site(tmp_path: Path) -> Path:
    (tmp_path / "site" / "css").mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_text("<p>hi</p>\n" * 500)
    (tmp_path / "site" / "index.html").chmod(0o644)
    (tmp_path / "site" / "css" / "a.css").write_text("p{}\n")
    (tmp_path / "site" / "css" / "a.css").chmod(0o644)
    (tmp_path / "site" / "css").chmod(0o755)
    return tmp_path


@pytest.mark.build
def test_harness_catches_a_symbolic_chmod_turned_octal_on_a_directory_copy(builder: Builder, tmp_path: Path) -> None:
    """Why a symbolic mode gets --chmod only for one file: on a directory copy the copied directory css/ gets the
    files' octal (0664, no x) and the kept `find … -perm -g+w` only adds bits, so css/ ends 0664, not 0775."""
    from dockerfix.refactor.images.verify import verify

    ctx = _site(tmp_path)
    (ctx / "Dockerfile").write_text(SYMBOLIC_DIR)
    assert "--chmod" not in run(SYMBOLIC_DIR, ["chown-layer"], True, path=ctx / "Dockerfile", bases=table()).output
    (ctx / "Dockerfile.wrong").write_text(SYMBOLIC_DIR.replace("COPY site/", "COPY --chmod=664 site/").replace(
        "RUN chmod -R g+w /srv/www", "RUN find /srv/www ! -type l ! -perm -g+w -exec chmod g+w {} +"))
    result = verify(ctx / "Dockerfile", ctx / "Dockerfile.wrong", ctx, builder)
    assert any(d.path == "/srv/www/css" and d.field == "mode" for d in result.differences), \
        [d.text for d in result.differences]


@pytest.mark.build
def test_harness_catches_a_wrong_octal_for_a_symbolic_mode(builder: Builder, tmp_path: Path) -> None:
    from dockerfix.refactor.images.verify import verify

    sample = Path(__file__).parent.parent / "samples" / "chmod-symbolic"
    wrong = (sample / "Dockerfile.fixed").read_text().replace("--chmod=664", "--chmod=666")
    (tmp_path / "Dockerfile.wrong").write_text(wrong)
    result = verify(sample / "Dockerfile", tmp_path / "Dockerfile.wrong", sample, builder)
    assert any(d.path == "/etc/app.conf" and d.field == "mode" for d in result.differences), \
        [d.text for d in result.differences]


FROM_STAGE = """\
# syntax=docker/dockerfile:1
FROM localhost/dockerfix-base AS b
RUN mkdir -p /out/bin/sub && head -c 50000 /bin/busybox > /out/bin/t && echo y > /out/bin/sub/u \\
 && chmod 600 /out/bin/sub/u && chmod 4755 /out/bin/t && ln -s t /out/bin/link && ln -s /etc/passwd /out/bin/abs
FROM localhost/dockerfix-base
COPY --from=b /out/bin/ /opt/bin/
RUN chmod -R 750 /opt
"""


@pytest.mark.build
def test_copy_from_a_stage_gets_chmod_and_builds_the_same(builder: Builder, tmp_path: Path) -> None:
    """An octal mode needs no source modes: a COPY --from (setuid file, subdirectory, symlinks) gets --chmod too."""
    from dockerfix.refactor.images.verify import verify

    (tmp_path / "Dockerfile").write_text(FROM_STAGE)
    fixed = run(FROM_STAGE, ["chown-layer"], path=tmp_path / "Dockerfile", bases=table()).output
    assert "COPY --from=b --chmod=750 /out/bin/ /opt/bin/\n" in fixed and "RUN find /opt ! -type l" in fixed
    (tmp_path / "Dockerfile.fixed").write_text(fixed)
    result = verify(tmp_path / "Dockerfile", tmp_path / "Dockerfile.fixed", tmp_path, builder)
    assert [d.text for d in result.differences] == [] and result.saved_bytes >= 50_000


@pytest.mark.build
@pytest.mark.parametrize("name", sorted(modes_cases.FIXED) + sorted(modes_cases.UNSAFE))
def test_mode_pairs_build_to_the_same_image(builder: Builder, tmp_path: Path, name: str) -> None:
    """Every before -> after pair of tests/test_chown_modes.py builds to the same image on both builders."""
    from dockerfix.refactor.images.verify import verify

    before, after = {**modes_cases.FIXED, **modes_cases.UNSAFE}[name]
    dockerfile = modes_cases.context(tmp_path)
    dockerfile.write_text(before)
    (tmp_path / "Dockerfile.fixed").write_text(after)
    result = verify(dockerfile, tmp_path / "Dockerfile.fixed", tmp_path, builder)
    assert [d.text for d in result.differences] == []
    assert result.saved_bytes > 0
