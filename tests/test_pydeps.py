"""refactor/pydeps.py: pip command lines, requirements files, project metadata and setup.py, read statically.

The expected answers follow pip (optparse command lines, req_file.py: join_lines, COMMENT_RE, several options
per line, only the first -r/-c of a line followed), uv pip (plural option names; -r takes project metadata),
setuptools (install_requires from setup.py, setup.cfg, [tool.setuptools.dynamic]), poetry, uv, pdm, pipenv.

This file: pip command lines. Requirements files: test_pydeps_requirements.py; project metadata, setup.py,
poetry, uv, pdm and pipenv: test_pydeps_project.py.
"""

from __future__ import annotations

import pytest

from dockerfix.refactor.context.pydeps import is_local, pip_call, split_extras

# --------------------------------------------------------------------------------------------- pip calls


@pytest.mark.parametrize("words", [
    ["pip", "install", "x"], ["pip3", "install", "x"], ["pip3.11", "install", "x"], ["/usr/local/bin/pip", "install", "x"],
    ["python", "-m", "pip", "install", "x"], ["python3.12", "-I", "-u", "-m", "pip", "install", "x"],
    ["uv", "pip", "install", "x"],
])
def test_pip_call_recognises_the_command(words: list[str]) -> None:
    call = pip_call(words)
    assert call is not None and call.remote == ["x"]
    assert call.uv == (words[0] == "uv")
    assert words[call.install_at] == "install"


@pytest.mark.parametrize("words", [
    [], ["pip"], ["pip", "--no-cache-dir"], ["pip", "freeze"], ["pip", "-q", "download", "x"],
    ["python", "-m", "venv", "/v"], ["python", "-c", "print(1)"], ["python3"], ["uv", "sync"], ["uv"],
    ["pipx", "install", "x"], ["poetry", "install"],
])
def test_pip_call_other_commands(words: list[str]) -> None:
    assert pip_call(words) is None


def test_pip_global_options() -> None:
    call = pip_call(["pip", "-q", "--cache-dir", "/c", "--log=/l", "--isolated", "install", "flask"])
    assert call is not None
    assert call.options == {"--cache-dir": ["/c"], "--log": ["/l"]}  # before, `--log=/l` was taken for a flag
    assert call.flags == {"-q", "--isolated"}
    call = pip_call(["pip", "--cache-dir=/x", "install", "flask"])
    assert call is not None and call.options == {"--cache-dir": ["/x"]}
    # A value option with nothing after it.
    assert pip_call(["pip", "--proxy"]) is None


def test_pip_requirement_options() -> None:
    call = pip_call(["pip", "install", "-r", "a.txt", "--requirement=b.txt", "--constraint", "c.txt", "-rd.txt",
                     "-qc", "e.txt", "--", "gunicorn"])
    assert call is not None
    assert call.requirements == [(3, "a.txt"), (4, "b.txt"), (6, "c.txt"), (7, "d.txt"), (9, "e.txt")]
    assert call.flags == {"-q"} and call.remote == ["gunicorn"]
    assert call.options["--constraint"] == ["c.txt"] and call.options["-r"] == ["a.txt", "d.txt"]


@pytest.mark.parametrize("option", ["--requirements", "--constraints", "--overrides", "--override", "--excludes",
                                    "--exclude", "--build-constraints", "--build-constraint", "-b"])
def test_uv_pip_file_options(option: str) -> None:
    # uv's names are plural (`--requirement`/`--constraint` are its aliases); before, `--constraints c.txt`
    # left c.txt out of the files to copy first, and the moved install failed.
    call = pip_call(["uv", "pip", "install", "--system", option, "reqs/c.txt", "-r", "r.txt"])
    assert call is not None
    assert [p for _, p in call.requirements] == ["reqs/c.txt", "r.txt"]
    assert call.projects == [] and call.remote == []


def test_pip_targets() -> None:
    call = pip_call(["pip", "install", "./pkg[dev,test]", "flask[async]==3", "dist/x-1.0-py3-none-any.whl",
                     "https://example.com/y.tar.gz", "git+https://github.com/a/b.git", "file:///srv/wheel",
                     "-e", "git+https://github.com/a/c.git#egg=c", "--editable=./lib", "-Ue", "../tool",
                     "-e./plugin", "name @ https://example.com/n.whl"])
    assert call is not None
    # (first, last word index): `-Ue ../tool` spans two words, `_drop_word` removes both.
    assert call.projects == [(2, 2, "./pkg", "[dev,test]"), (7, 7, "file:///srv/wheel", ""), (10, 10, "./lib", ""),
                             (11, 12, "../tool", ""), (13, 13, "./plugin", "")]
    assert call.local_files == ["dist/x-1.0-py3-none-any.whl"]
    assert call.remote == ["flask[async]==3", "https://example.com/y.tar.gz", "git+https://github.com/a/b.git",
                           "name @ https://example.com/n.whl"]
    assert call.vcs_editable == ["git+https://github.com/a/c.git#egg=c"]
    assert "-U" in call.flags


def test_editable_option_forms() -> None:
    call = pip_call(["pip", "install", "--editable", "./a", "--editable=./b", "-e", "./c", "-e./d", "-qe", "./e"])
    assert call is not None
    assert [(f, last, p) for f, last, p, _ in call.projects] == [(2, 3, "./a"), (4, 4, "./b"), (5, 6, "./c"),
                                                                (7, 7, "./d"), (8, 9, "./e")]
    assert call.flags == {"-q"}


def test_pip_value_option_at_the_end() -> None:
    call = pip_call(["pip", "install", "flask", "--target"])
    assert call is not None and call.options["--target"] == [""]
    assert pip_call(["pip", "install", "-t"]).options["-t"] == [""]  # type: ignore[union-attr]
    prefix = pip_call(["pip", "install", "--prefix=/opt/py", "x"])
    assert prefix is not None and prefix.options["--prefix"] == ["/opt/py"]


def test_no_deps_and_no_cache() -> None:
    assert pip_call(["pip", "install", "--no-deps", "."]).no_deps  # type: ignore[union-attr]
    assert pip_call(["pip", "install", "--no-cache-dir", "x"]).no_cache  # type: ignore[union-attr]
    assert pip_call(["uv", "pip", "install", "--no-cache", "x"]).no_cache  # type: ignore[union-attr]
    assert pip_call(["uv", "pip", "install", "-n", "x"]).no_cache  # type: ignore[union-attr]
    assert not pip_call(["pip", "install", "-n", "x"]).no_cache  # type: ignore[union-attr]  # -n is uv's only
    assert not pip_call(["pip", "install", "x"]).no_cache  # type: ignore[union-attr]


@pytest.mark.parametrize("spec,local", [
    (".", True), ("./pkg", True), ("../pkg", True), ("/srv/pkg", True), ("~/pkg", True), ("src/pkg", True),
    ("pkg.whl", True), ("x-1.0.tar.gz", True), ("x.zip", True), ("file:///srv/x", True), ("x @ file:///srv/x", True),
    ("flask", False), ("flask==2.0", False), ("flask[async]>=2", False), ("https://x/y.whl", False),
    ("git+https://x/y.git", False), ("hg+https://x/y", False), ("x @ https://x/y.whl", False),
    ("flask; python_version < '3.8'", False), ("./pkg[dev]", True),
])
def test_is_local(spec: str, local: bool) -> None:
    assert is_local(spec) is local


def test_split_extras() -> None:
    assert split_extras(".[dev]") == (".", "[dev]")
    assert split_extras("./a[b,c]") == ("./a", "[b,c]")
    assert split_extras("flask==2[x]") == ("flask==2", "[x]")
    assert split_extras("flask[async]==2") == ("flask[async]==2", "")
