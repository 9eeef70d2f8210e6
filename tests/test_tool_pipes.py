"""`curl … | tar -x -C DIR`: the last command of a pipeline, and what chown-layer may append after it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dockerfix.refactor.dockerfile.facts import certain
from dockerfix.refactor.dockerfile.shell import analyse
from dockerfix.refactor.engine import run

from .helpers import fix
from .testbases import table

NAME = ["chown-layer"]


@pytest.mark.parametrize(
    "script, sure",
    [
        ("curl -fsSL u | tar -xz -C /d", ["tar"]),
        ("wget -qO- u | tar -xz -C /d", ["tar"]),
        ("wget -q -O - u | tar -x -C /d", ["tar"]),
        ("curl u | gzip -d | tar -x -C /d", ["tar"]),
        ("cat /a.tgz | tar -xz -C /d && echo", ["tar", "echo"]),
        ("set -e; curl u | tar -x -C /d; true", ["set", "tar", "true"]),
        # The other commands run at the same time: one that may write a file could change what tar made.
        ("curl -o f u | tar -x -C /d", []),
        ("curl -fsSLo f u | tar -x -C /d", []),
        ("wget u | tar -x -C /d", []),  # wget writes the document to a file
        ("curl u | gzip -d f | tar -x -C /d", []),
        ("cat a | tar -x -C /d | cat", []),  # tar is not the last command
        ("! curl u | tar -x -C /d", []),  # the status is negated
        ("curl u | tar -x -C /d > log", []),
        ("curl u | tar -x -C /d || true", []),
        ("curl u | tar -x -C /d; true", ["true"]),  # no set -e: the status is not the RUN's
        # A `||` or `&` next to a pipeline or a compound is not lost.
        ("mkdir /d || true | true", []),
        ("mkdir /d || (true)", []),
        ("mkdir /d &", []),
        ("mkdir /d && true &", []),
        ("mkdir /d & true", ["true"]),
        ("mkdir /d", ["mkdir"]),
    ],
)
def test_certain_in_pipelines(script: str, sure: list[str]) -> None:
    sc = analyse(script)
    assert [c.name for c in sc.commands if certain(sc, c)] == sure


B = "FROM b\nCOPY a /data/a\n"
FIND = r"\( ! -user 1000 -o ! -group 1000 -o -perm -4000 -o -perm -2000 \) -exec chown -h 1000:1000 {} +"
CHOWN = "RUN chown -R 1000:1000 /data\n"
KEPT = f"RUN find /data {FIND}\n"

FIXED = {
    "fresh-dir": (
        f"{B}RUN mkdir -p /data/x && curl -fsSL https://h/x.tgz | tar -xz -C /data/x\n{CHOWN}",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN mkdir -p /data/x && curl -fsSL https://h/x.tgz | tar -xz -C "
        f"/data/x && chown -R 1000:1000 /data/x\n{KEPT}",
    ),
    "wget": (
        f"{B}RUN mkdir /data/x && wget -qO- https://h/x.tgz | tar -xz -C /data/x\n{CHOWN}",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN mkdir /data/x && wget -qO- https://h/x.tgz | tar -xz -C /data/x"
        f" && chown -R 1000:1000 /data/x\n{KEPT}",
    ),
    # The directory already had content: only what is still wrong is changed, like a `tar -C` without a pipe.
    "into-existing": (
        f"{B}RUN cat /x.tgz | tar -xz -C /data\n{CHOWN}",
        f"FROM b\nCOPY --chown=1000:1000 a /data/a\nRUN cat /x.tgz | tar -xz -C /data && find /data {FIND}\n{KEPT}",
    ),
}

UNCHANGED = {
    "curl-writes-a-file": f"{B}RUN mkdir /data/x && curl -o /tmp/f u | tar -xz -C /data/x\n{CHOWN}",
    "or-true": f"{B}RUN mkdir /data/x && curl u | tar -xz -C /data/x || true\n{CHOWN}",
    "not-last": f"{B}RUN mkdir /data/x; curl u | tar -xz -C /data/x; echo done\n{CHOWN}",
    "negated": f"{B}RUN mkdir /data/x && ! curl u | tar -xz -C /data/x\n{CHOWN}",
    "or-before-a-pipe": f"{B}RUN mkdir /data/x || true | true\n{CHOWN}",
    "background": f"{B}RUN mkdir /data/x &\n{CHOWN}",
}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed(name: str) -> None:
    before, after = FIXED[name]
    assert fix(before, NAME) == after
    assert fix(after, NAME) == after  # idempotent


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_step_unchanged(name: str) -> None:
    before = UNCHANGED[name]
    lines = fix(before, NAME, unsafe=True).splitlines()
    assert lines[2] == before.splitlines()[2]  # the RUN gets no owner; the COPY and the kept find may change


def test_saving_of_tool_written_content_is_partial() -> None:
    (finding,) = run(FIXED["fresh-dir"][0], NAME, bases=table()).findings
    assert finding.fix is not None and finding.saving_partial
    assert any("RUN creates /data/x" in d for d in finding.details)


@pytest.mark.parametrize("tar", [["tar"], ["busybox", "tar"]])
def test_tar_without_its_directory_fails_even_on_empty_input(tmp_path: Path, tar: list[str]) -> None:
    """Measured with GNU tar 1.34 and busybox 1.35: `tar -x -C DIR` fails when DIR is missing, for empty input and
    for an empty archive, so a pipeline ending in it succeeds only when DIR exists."""
    if shutil.which(tar[0]) is None:
        pytest.skip(f"{tar[0]} is not installed")
    empty = tmp_path / "empty.tar"
    (tmp_path / "e").mkdir()
    subprocess.run(["tar", "-cf", str(empty), "-C", str(tmp_path / "e"), "."], check=True)
    missing = str(tmp_path / "missing")
    for data in (b"", empty.read_bytes()):
        for flags in (["-x", "-C", missing], ["-xf", "-", "-C", missing]):
            done = subprocess.run([*tar, *flags], input=data, capture_output=True)
            assert done.returncode != 0
    (tmp_path / "there").mkdir()
    done = subprocess.run([*tar, "-x", "-C", str(tmp_path / "there")], input=empty.read_bytes(), capture_output=True)
    assert done.returncode == 0
    piped = subprocess.run(["sh", "-c", f"false | {' '.join(tar)} -x -C {tmp_path / 'there'} < {empty}"])
    assert piped.returncode == 0  # without pipefail the status is the last command's


def _script_fix(tmp_path: Path, script: str) -> str:
    (tmp_path / "get.sh").write_text(script)
    df = "FROM b\nWORKDIR /build\nCOPY get.sh .\nRUN sh get.sh\nRUN chown -R 1000:1000 /data\n"
    (tmp_path / "Dockerfile").write_text(df)
    return run(df, NAME, path=tmp_path / "Dockerfile", bases=table()).output


@pytest.mark.parametrize(
    "script, appended",
    [
        ("set -e\nmkdir -p /data/tool\ncurl -fsSL https://h/t.tgz | tar -xz -C /data/tool\n", "/data/tool"),
        ("mkdir -p /data/tool && wget -qO- https://h/t.tgz | tar -xz -C /data/tool\n", "/data/tool"),
        # Not proven: no set -e, a pipeline that is not only streams into tar, one next to `||`.
        ("mkdir -p /data/tool\ncurl -fsSL https://h/t.tgz | tar -xz -C /data/tool\n", None),
        ("set -e\nmkdir -p /data/tool\ncurl -o /tmp/t https://h/t.tgz | tar -xz -C /data/tool\n", None),
        ("set -e\nmkdir -p /data/tool\ncurl https://h/t.tgz | tar -xz -C /data/tool || true\n", None),
        ("set -e\nmkdir -p /data/tool\ncurl https://h/t.tgz | sh\n", None),
    ],
)
def test_context_script_with_a_tar_pipeline(tmp_path: Path, script: str, appended: str | None) -> None:
    out = _script_fix(tmp_path, script)
    line = next(x for x in out.splitlines() if x.startswith("RUN sh get.sh"))
    assert line == ("RUN sh get.sh" if appended is None else f"RUN sh get.sh && chown -R 1000:1000 {appended}")


@pytest.mark.parametrize(
    "script, extracts",
    [
        ("tar -C /d -xzf a.tgz", True),  # the option cluster need not come first
        ("tar xzf a.tgz -C /d", True),
        ("tar --extract -f a -C /d", True),
        ("tar --get -f a", True),
        ("tar -czf a.tgz -C /d .", False),
        ("tar --exclude=x -czf a.tgz .", False),  # a long option's x is no extract
        ("tar -X list -cf a .", False),
    ],
)
def test_tar_extracts(script: str, extracts: bool) -> None:
    from dockerfix.refactor.dockerfile.facts import tar_extracts

    assert tar_extracts(analyse(script).commands[0]) is extracts


def test_tar_with_the_directory_first() -> None:
    before = f"{B}RUN mkdir -p /data/x && tar -C /data/x -xzf /x.tgz\n{CHOWN}"
    assert "tar -C /data/x -xzf /x.tgz && chown -R 1000:1000 /data/x\n" in fix(before, NAME)
