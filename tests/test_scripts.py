"""Scripts from the build context that RUN steps run: what they create counts as the step's (refactor/context/scripts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.engine import run

from .testbases import table

ROOT = Path(__file__).resolve().parent
ADDGH = (ROOT / "data/crab/cicd/crabserver_pypi/addGH.sh").read_text()

CLONES = """#!/bin/bash
set -euo pipefail
mkdir /data/repos
pushd /data/repos
git clone https://example.com/acme/app.git
git clone https://example.com/acme/lib.git
popd
"""


def _fix(tmp_path: Path, dockerfile: str, files: dict[str, str]):  # type: ignore[no-untyped-def]
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(0o755)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return run(dockerfile, ["chown-layer"], path=tmp_path / "Dockerfile", bases=table())


def _details(result) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(d for f in result.findings for d in f.details)


def test_the_crab_script_re_owns_its_clones_in_its_own_step(tmp_path: Path) -> None:
    df = "FROM b\nWORKDIR /build\nCOPY addGH.sh .\nRUN bash addGH.sh\nRUN chown -R 1000:1000 /data\n"
    result = _fix(tmp_path, df, {"addGH.sh": ADDGH})
    assert "RUN bash addGH.sh && chown -R 1000:1000 /data/repos\n" in result.output
    assert "RUN find /data " in result.output
    assert "line 4: RUN creates /data/repos" in _details(result)
    again = run(result.output, ["chown-layer"], path=tmp_path / "Dockerfile", bases=table())
    assert again.output == result.output


@pytest.mark.parametrize(
    "copy, run_line",
    [
        ("COPY x.sh /build/", "RUN sh x.sh"),
        ("COPY x.sh /build/", "RUN ./x.sh"),
        ("COPY x.sh /build/", "RUN /build/x.sh"),
        ("COPY x.sh /build/", "RUN bash -x /build/x.sh"),
        ("COPY x.sh /build/x.sh", "RUN set -e; cd /build; bash x.sh"),
        ("COPY --chmod=755 x.sh /build/", "RUN chmod +x x.sh && ./x.sh"),
        ("COPY . /build/", "RUN bash x.sh"),
    ],
)
def test_ways_of_running_a_context_script(tmp_path: Path, copy: str, run_line: str) -> None:
    df = f"FROM b\nWORKDIR /build\n{copy}\n{run_line}\nRUN chown -R 1000:1000 /data\n"
    result = _fix(tmp_path, df, {"x.sh": CLONES})
    assert f"{run_line} && chown -R 1000:1000 /data/repos\n" in result.output, _details(result)


def test_bash_e_stands_for_set_e(tmp_path: Path) -> None:
    script = "mkdir /data/a\ngit clone https://h/o/r /data/a/r\n"
    df = "FROM b\nWORKDIR /w\nCOPY x.sh .\nRUN bash -e x.sh\nRUN chown -R 1000:1000 /data\n"
    assert "RUN bash -e x.sh && chown -R 1000:1000 /data/a\n" in _fix(tmp_path, df, {"x.sh": script}).output
    df2 = df.replace("bash -e x.sh", "bash x.sh")
    result = _fix(tmp_path, df2, {"x.sh": script})
    assert "RUN bash x.sh\n" in result.output
    assert "does not stop on errors" in _details(result)


def test_pushd_popd_and_cd_place_relative_paths(tmp_path: Path) -> None:
    script = "set -e\ncd /data\nmkdir top\npushd top\nmkdir -p inner\npopd\nmkdir second\n"
    df = "FROM b\nWORKDIR /w\nCOPY x.sh .\nRUN sh x.sh\nRUN chown -R 1000:1000 /data\n"
    out = _fix(tmp_path, df, {"x.sh": script}).output
    assert "RUN sh x.sh && chown -R 1000:1000 /data/top /data/second\n" in out


def test_a_clean_sourced_script_counts(tmp_path: Path) -> None:
    script = "mkdir -p /data/cache && git clone https://h/o/r /data/cache/r\n"
    df = "FROM b\nWORKDIR /w\nCOPY x.sh .\nRUN . ./x.sh\nRUN chown -R 1000:1000 /data\n"
    assert "RUN . ./x.sh && chown -R 1000:1000 /data/cache\n" in _fix(tmp_path, df, {"x.sh": script}).output


def test_removed_paths_do_not_count(tmp_path: Path) -> None:
    script = "set -e\nmkdir /data/a /data/b\nrm -rf /data/a\n"
    df = "FROM b\nCOPY x.sh /x.sh\nRUN sh /x.sh\nRUN chown -R 1000:1000 /data\n"
    assert "RUN sh /x.sh && chown -R 1000:1000 /data/b\n" in _fix(tmp_path, df, {"x.sh": script}).output


@pytest.mark.parametrize(
    "script, run_line, between, reason",
    [
        (CLONES.replace("popd\n", "popd\nmake install\n"), "RUN bash x.sh", "", "`make install`, whose effects"),
        ("set -e\nmkdir $DEST\n", "RUN bash x.sh", "", "whose target is not known"),
        ("set -e\nD=/data/x\nmkdir $D\n", "RUN bash x.sh", "", "variable assignments"),
        ("set -e\nf() { mkdir /data/x; }\nf\n", "RUN bash x.sh", "", "more than plain commands"),
        ("set -e\nif true; then mkdir /data/x; fi\n", "RUN bash x.sh", "", "more than plain commands"),
        ("set -e\nmkdir /data/x\ncd /data/x && git clean -fdx\n", "RUN bash x.sh", "", "git clean"),
        ("set -e\nmkdir /data/x\npopd\n", "RUN bash x.sh", "", "empty directory stack"),
        (CLONES, "RUN bash x.sh", "RUN sed -i s/app/other/ x.sh\n", "may change /w/x.sh"),
        (CLONES, "RUN bash x.sh", "COPY --from=other /x.sh /w/x.sh\n", "from outside the context"),
        (CLONES, "RUN . x.sh", "", "looks x.sh up in PATH"),
        ("cd /data && mkdir x\n", "RUN . ./x.sh", "", "sourced and leaves"),
        ("set -e\nmkdir /data/x\n", "RUN . ./x.sh", "", "sourced and sets"),
        ("set -e\nmkdir /data/x\n".replace("\n", "\r\n"), "RUN bash x.sh", "", "CR line ends"),
        ("#!/usr/bin/env python3\nprint(1)\n", "RUN ./x.sh", "", "not a POSIX shell"),
        ("set -e\nmkdir /data/x\necho $(rm -rf /data/x)\n", "RUN bash x.sh", "", "command substitutions"),
        ('set -e\nmkdir -p "/data/$@"\n', "RUN bash x.sh a", "", "such as $@"),
        ("set -e\nmkdir /data/x\nenv rm -rf /data/x\n", "RUN bash x.sh", "", "`env rm -rf /data/x`"),
        ("set -e\nmkdir /data/x\nbash other.sh\n", "RUN bash x.sh", "", "`bash other.sh`"),
    ],
)
def test_scripts_that_prove_nothing_say_why(tmp_path: Path, script: str, run_line: str, between: str,
                                            reason: str) -> None:
    df = f"FROM b\nWORKDIR /w\nCOPY x.sh .\n{between}{run_line}\nRUN chown -R 1000:1000 /data\n"
    result = _fix(tmp_path, df, {"x.sh": script})
    assert f"{run_line}\n" in result.output  # nothing appended
    assert reason in _details(result), _details(result)


def test_positional_parameters_come_from_the_command_line(tmp_path: Path) -> None:
    df = "FROM b\nWORKDIR /w\nCOPY x.sh .\nRUN sh x.sh /data/made\nRUN chown -R 1000:1000 /data\n"
    out = _fix(tmp_path, df, {"x.sh": "set -e\nmkdir -p \"$1\"\n"}).output
    assert "RUN sh x.sh /data/made && chown -R 1000:1000 /data/made\n" in out


def test_a_script_not_copied_from_the_context(tmp_path: Path) -> None:
    df = "FROM b\nRUN bash /usr/local/bin/setup.sh\nRUN chown -R 1000:1000 /data\n"
    result = _fix(tmp_path, df, {})
    assert "RUN bash /usr/local/bin/setup.sh\n" in result.output
    assert "no COPY from the build context" in _details(result)


def test_unrelated_scripts_add_no_noise(tmp_path: Path) -> None:
    df = "FROM b\nWORKDIR /w\nCOPY x.sh .\nRUN bash x.sh\nCOPY a /data/a\nRUN chown -R 1000:1000 /data\n"
    result = _fix(tmp_path, df, {"x.sh": "apt-get update\n", "a": "a\n"})
    assert "x.sh" not in _details(result)


def test_sourced_set_e_is_ignored_after_and_but_a_child_shell_keeps_it(tmp_path: Path) -> None:
    """Measured with bash: why a sourced script needs `&&` throughout, while `bash x.sh` may rely on `set -e`."""
    import shutil
    import subprocess

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    (tmp_path / "s.sh").write_text("set -e\nfalse\necho after-false\n")
    sourced = subprocess.run([bash, "-c", ". ./s.sh && echo chained"], cwd=tmp_path, capture_output=True, text=True)
    assert sourced.returncode == 0 and "after-false" in sourced.stdout
    child = subprocess.run([bash, "-c", "bash ./s.sh && echo chained"], cwd=tmp_path, capture_output=True, text=True)
    assert child.returncode != 0 and child.stdout == ""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "s.sh").write_text("echo from-path\n")
    found = subprocess.run([bash, "-c", ". s.sh"], cwd=tmp_path, capture_output=True, text=True,
                           env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"})
    assert found.stdout == "from-path\n"  # `. name` looks in PATH before the working directory


@pytest.mark.parametrize(
    "step, appended",
    [
        # The caller follows `cd` only: after pushd a relative path is not known.
        ('SHELL ["/bin/bash", "-c"]\nRUN pushd /tmp && git clone https://h/o/r && popd', None),
        ("RUN mkdir -p /w/tmp && rm -rf /w/tmp", None),
        ("RUN mkdir -p /w/a /w/b && rm -rf /w/a", "/w/b"),
        ("RUN mkdir -p /w/a && rm -rf $GONE", None),
        ("RUN mkdir -p /w/a && rm -rf /w/*", None),
        # A command in an and-or list with || may fail while the step succeeds.
        ('RUN set -e; cp /etc/x.conf /w/x.conf 2>/dev/null || echo "no config"', None),
        ("RUN mkdir /w/a && mkdir /w/b || true", None),
        ("RUN set -e; mkdir /w/q || true; mkdir /w/r", "/w/r"),
    ],
)
def test_paths_the_step_removes_again_do_not_count(step: str, appended: str | None) -> None:
    df = f"FROM b\nWORKDIR /w\n{step}\nRUN chown -R 1000:1000 /w\n"
    out = run(df, ["chown-layer"], bases=table()).output
    last = step.splitlines()[-1]
    if appended is None:
        assert f"{last}\n" in out
    else:
        assert f"{last} && chown -R 1000:1000 {appended}\n" in out


@pytest.mark.parametrize(
    "step, appended",
    [
        # /data/srv is known to exist (the COPY wrote below it): mkdir -p makes /data/srv/tm and what is under it.
        ("RUN mkdir -p /data/srv/tm/current /data/srv/tm/cfg", "/data/srv/tm"),
        ("RUN mkdir -p /data/srv/tmp", "/data/srv/tmp"),
        ("RUN mkdir -p /data/new/x", "/data/new"),
        ("RUN mkdir /data/srv/a", "/data/srv/a"),
    ],
)
def test_mkdir_p_counts_the_directories_it_makes_below_a_known_one(step: str, appended: str) -> None:
    df = f"FROM b\nCOPY a /data/srv/current/a\n{step}\nRUN chown -R 1000:1000 /data\n"
    out = run(df, ["chown-layer"], bases=table()).output
    assert f"{step} && chown -R 1000:1000 {appended}\n" in out


def test_mkdir_p_without_a_known_parent_counts_only_what_it_names() -> None:
    df = "FROM b\nRUN mkdir -p /data/new/x\nRUN chown -R 1000:1000 /data\n"
    assert "RUN mkdir -p /data/new/x && chown -R 1000:1000 /data/new/x\n" in run(df, ["chown-layer"], bases=table()).output


@pytest.mark.parametrize("script, moved", [
    (CLONES, True),
    # `cp -a` copies owners: a COPY before it must keep root's.
    (CLONES + "cp -a /data/a /tmp/a-copy\n", False),
    # git in a directory the script did not make fresh may see (and refuse) another owner.
    ("set -e\ncd /data\ngit status\n", False),
])
def test_a_read_script_between_lets_earlier_copies_take_the_owner(tmp_path: Path, script: str, moved: bool) -> None:
    df = "FROM b\nCOPY a /data/a\nWORKDIR /build\nCOPY x.sh .\nRUN bash x.sh\nRUN chown -R 1000:1000 /data\n"
    out = _fix(tmp_path, df, {"x.sh": script, "a": "a\n"}).output
    assert ("COPY --chown=1000:1000 a /data/a\n" in out) is moved
