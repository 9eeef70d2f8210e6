"""refactor/pydeps.py: requirements files, as pip (and uv pip -r PROJECT) reads them (see test_pydeps.py)."""

from __future__ import annotations

import pytest

from dockerfix.refactor.context import pydeps
from dockerfix.refactor.context.pydeps import Unsupported, logical_lines

# ----------------------------------------------------------------------------------------- requirements files

LINES: dict[str, tuple[str, list[str]]] = {
    "comments-and-blanks": ("# top\n\nflask  # web\nrequests#not-a-comment\n", ["flask", "requests#not-a-comment"]),
    "continuation": ("flask \\\n  ==2.0\nsix\n", ["flask   ==2.0", "six"]),
    "comment-line-ending-in-backslash": ("# a comment \\\nflask\n", ["flask"]),
    "comment-after-continuation": ("flask \\\n# gone\nsix\n", ["flask", "six"]),
    "comment-without-space-after-continuation": ("flask\\\n# gone\nsix\n", ["flask", "six"]),
    # pip continues a line that ends in `\` even after an inline comment: the next line joins the comment.
    "inline-comment-swallows-the-next-line": ("flask  # web \\\nrequests\nsix\n", ["flask", "six"]),
    "continuation-at-the-end": ("flask \\", ["flask"]),
    "crlf": ("flask\r\nsix\r\n", ["flask", "six"]),
}


@pytest.mark.parametrize("name", sorted(LINES))
def test_logical_lines(name: str) -> None:
    text, expected = LINES[name]
    assert logical_lines(text) == expected


def files_of(files: dict[str, str], first: str = "requirements.txt", env: dict[str, str | None] | None = None,
             uv: bool = False) -> list[str]:
    return pydeps.requirement_files(first, files.get, env or {}, uv=uv)


INCLUDES: dict[str, tuple[dict[str, str], list[str]]] = {
    "nested-relative-to-the-including-file": (
        {"requirements.txt": "-r sub/base.txt\n", "sub/base.txt": "-c ../constraints.txt\n", "constraints.txt": "six\n"},
        ["requirements.txt", "sub/base.txt", "constraints.txt"]),
    "absolute": ({"requirements.txt": "-r /etc/reqs.txt\n", "/etc/reqs.txt": "six\n"},
                 ["requirements.txt", "/etc/reqs.txt"]),
    "remote-include-has-nothing-to-copy": ({"requirements.txt": "-r https://example.com/r.txt\n-c http://x/c.txt\n"},
                                           ["requirements.txt"]),
    "each-file-once": ({"requirements.txt": "-r a.txt\n-r a.txt\n", "a.txt": "-r requirements.txt\n"},
                       ["requirements.txt", "a.txt"]),
    "long-forms-and-attached-values": (
        {"requirements.txt": "--requirement=a.txt\n--constraint b.txt\n-rc.txt\n", "a.txt": "", "b.txt": "",
         "c.txt": ""}, ["requirements.txt", "a.txt", "b.txt", "c.txt"]),
    "known-options-are-fine": (
        {"requirements.txt": "-i https://pypi.org/simple\n--extra-index-url=https://x/simple\n--no-index\n"
                             "-f https://x/links\n--find-links=https://y/links\n--trusted-host x\n--pre\n"
                             "--prefer-binary\n--require-hashes\n--only-binary :all:\n--no-binary=lxml\n"
                             "--use-feature truststore\nsix --hash=sha256:00\n"}, ["requirements.txt"]),
    # pip reads every option of a line (shlex words, optparse); before, only the first was looked at.
    "include-after-another-option": ({"requirements.txt": "--index-url https://pypi.org/simple -r other.txt\n",
                                      "other.txt": "six\n"}, ["requirements.txt", "other.txt"]),
    "quoted-name": ({"requirements.txt": '-r "my reqs.txt"\n', "my reqs.txt": ""}, ["requirements.txt", "my reqs.txt"]),
    "only-the-first-include-of-a-line": ({"requirements.txt": "-r a.txt -r b.txt\n", "a.txt": ""},
                                         ["requirements.txt", "a.txt"]),
    "requirement-before-constraint": ({"requirements.txt": "-c c.txt -r r.txt\n", "r.txt": ""},
                                      ["requirements.txt", "r.txt"]),
    "extra-words-are-ignored": ({"requirements.txt": "-r a.txt extra\n", "a.txt": ""}, ["requirements.txt", "a.txt"]),
    "swallowed-by-a-comment": ({"requirements.txt": "six  # pinned \\\n-r gone.txt\n"}, ["requirements.txt"]),
}


@pytest.mark.parametrize("name", sorted(INCLUDES))
def test_requirement_files(name: str) -> None:
    files, expected = INCLUDES[name]
    assert files_of(files) == expected


def test_environment_variables_in_includes() -> None:
    files = {"requirements.txt": "-r ${REQ_DIR}/base.txt\n", "/opt/base.txt": ""}
    assert files_of(files, env={"REQ_DIR": "/opt"}) == ["requirements.txt", "/opt/base.txt"]
    for env in ({}, {"REQ_DIR": None}):
        with pytest.raises(Unsupported, match=r"uses \$\{REQ_DIR\}, whose value the Dockerfile does not give"):
            files_of(files, env=env)


REQ_REFUSALS: dict[str, tuple[str, str]] = {
    "missing-include": ("-r nothere.txt\n", "cannot read nothere.txt"),
    "file-url-include": ("-r file:///srv/r.txt\n", "includes file:///srv/r.txt"),
    "editable": ("-e .\n", "has an editable install (-e .)"),
    "editable-long": ("--editable=./lib\n", "editable install"),
    "editable-after-another-option": ("--pre -e ./lib\n", "editable install (--pre -e ./lib)"),
    "local-find-links": ("-f ./wheels\n", "finds packages in the local directory ./wheels"),
    "file-find-links": ("--find-links file:///wheels\n", "local directory file:///wheels"),
    "local-find-links-after-an-include": ("-r a.txt -f wheels\n", "local directory wheels"),
    "unknown-option": ("--global-option=x\n", "uses the option --global-option=x"),
    "abbreviated-option": ("--req a.txt\n", "uses the option --req"),
    "value-on-a-flag": ("--pre=1\n", "uses the option --pre=1"),
    "option-without-value": ("-r\n", "the option -r has no value"),
    "unsplittable": ('-r "unterminated\n', "a line pip cannot split"),
    "local-path": ("./pkg\n", "installs the local path './pkg'"),
    "local-path-with-hash": ("../pkg --hash=sha256:00\n", "installs the local path '../pkg'"),
    "local-archive": ("vendor/x-1.0.tar.gz\n", "installs the local path 'vendor/x-1.0.tar.gz'"),
    "file-url-requirement": ("x @ file:///srv/x\n", "installs the local path 'x @ file:///srv/x'"),
}


@pytest.mark.parametrize("name", sorted(REQ_REFUSALS))
def test_requirement_file_refusals(name: str) -> None:
    text, reason = REQ_REFUSALS[name]
    with pytest.raises(Unsupported) as exc:
        files_of({"requirements.txt": text, "a.txt": ""})
    assert reason in str(exc.value)


def test_plain_requirements() -> None:
    assert pydeps.plain_requirements("flask==2.0  # web\n\nsix --hash=sha256:00\n", "r.in") == ["flask==2.0", "six"]
    with pytest.raises(Unsupported, match="r.in has the pip option line '-r', which setuptools would read"):
        pydeps.plain_requirements("flask\n-r other.txt\n", "r.in")
    with pytest.raises(Unsupported, match="installs the local path './lib'"):
        pydeps.plain_requirements("./lib\n", "r.in")


# ---------------------------------------------------------------------------------- uv pip install -r PROJECT


def test_uv_reads_a_static_pyproject_as_requirements() -> None:
    files = {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\nreadme = "docs/README.md"\n'
                               'dependencies = ["flask"]\n[project.optional-dependencies]\ndev = ["pytest"]\n'}
    assert files_of(files, "pyproject.toml", uv=True) == ["pyproject.toml"]


UV_PROJECT_REFUSALS: dict[str, tuple[str, str, str]] = {
    # uv builds these to know the dependencies: the files they read are not copied yet. Before, the file was
    # read as a requirements file and the install moved above the source.
    "dynamic-dependencies": ("pyproject.toml", '[project]\nname = "x"\ndynamic = ["dependencies", "version"]\n'
                             '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.txt"]}\n',
                             "uv builds the project to read the dependencies of pyproject.toml"),
    "dynamic-optional": ("pyproject.toml", '[project]\nname = "x"\nversion = "1"\ndynamic = ["optional-dependencies"]\n',
                         "uv builds the project"),
    "no-project-table": ("pyproject.toml", '[tool.poetry]\nname = "x"\n', "uv builds the project"),
    "local-dependency": ("pyproject.toml", '[project]\nname = "x"\nversion = "1"\n'
                         'dependencies = ["lib @ file:///srv/lib"]\n', "the dependency 'lib @ file:///srv/lib'"),
    "setup-py": ("setup.py", "from setuptools import setup\nsetup()\n", "uv reads the dependencies of setup.py"),
    "setup-cfg": ("setup.cfg", "[options]\ninstall_requires = flask\n", "uv reads the dependencies of setup.cfg"),
    "script": ("tool.py", "# /// script\n# dependencies = ['rich']\n# ///\n", "uv reads the dependencies of tool.py"),
    "invalid-toml": ("pyproject.toml", "[project\n", "pyproject.toml is not valid TOML"),
}


@pytest.mark.parametrize("name", sorted(UV_PROJECT_REFUSALS))
def test_uv_project_sources(name: str) -> None:
    path, text, reason = UV_PROJECT_REFUSALS[name]
    with pytest.raises(Unsupported) as exc:
        files_of({path: text}, path, uv=True)
    assert reason in str(exc.value)


def test_uv_project_source_must_exist() -> None:
    with pytest.raises(Unsupported, match="cannot read pyproject.toml"):
        files_of({}, "pyproject.toml", uv=True)
