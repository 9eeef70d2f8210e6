"""refactor/pydeps.py: project metadata, setup.py, poetry, uv, pdm and pipenv, read statically (see test_pydeps.py)."""

from __future__ import annotations

import posixpath

import pytest

from dockerfix.refactor.context import pydeps
from dockerfix.refactor.context.pydeps import Unsupported

# ------------------------------------------------------------------------------------------ project metadata

SETUP_PY_READS = ("from setuptools import setup\n"
                  "setup(name='x', install_requires=open('requirements.txt').read().splitlines())\n")

PROJECTS: dict[str, tuple[dict[str, str], list[str], list[str]]] = {
    "pyproject-without-dependencies": ({"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n'}, [],
                                       ["pyproject.toml"]),
    "pyproject-empty-dependencies": ({"pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = []\n'},
                                     [], ["pyproject.toml"]),
    "setuptools-dynamic-file": ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
                                                   '[tool.setuptools.dynamic]\ndependencies = {file = "./req.in"}\n',
                                 "req.in": "flask\n"}, ["req.in"], ["pyproject.toml"]),
    "setuptools-dynamic-files": ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
                                                    '[build-system]\nbuild-backend = "setuptools.build_meta"\n'
                                                    '[tool.setuptools.dynamic]\n'
                                                    'dependencies = {file = ["a.txt", "b.txt"]}\n',
                                  "a.txt": "flask\n", "b.txt": "six\n"}, ["a.txt", "b.txt"], ["pyproject.toml"]),
    "dynamic-from-setup-py": ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n',
                               "setup.py": SETUP_PY_READS, "requirements.txt": "flask\n"},
                              ["requirements.txt"], ["pyproject.toml", "setup.py"]),
    "poetry-only-python": ({"pyproject.toml": '[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\n'
                                              'Python = "^3.11"\n[build-system]\n'
                                              'build-backend = "poetry.core.masonry.api"\n'}, [], ["pyproject.toml"]),
    "setuptools-pyproject-then-setup-py": ({"pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n',
                                            "setup.py": SETUP_PY_READS, "requirements.txt": "flask\n"},
                                           ["requirements.txt"], ["pyproject.toml", "setup.py"]),
    "setup-py-without-install-requires-then-setup-cfg": ({"setup.py": "from setuptools import setup\nsetup()\n",
                                                          "setup.cfg": "[metadata]\nname = x\n"},
                                                         [], ["setup.py", "setup.cfg"]),
    "setup-cfg-comments-only": ({"setup.cfg": "[options]\ninstall_requires =\n    # none yet\n"}, [], ["setup.cfg"]),
}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_project_deps(name: str) -> None:
    files, deps, meta = PROJECTS[name]
    found = pydeps.project_deps(lambda rel: files.get(posixpath.normpath(rel)))  # as deps-first's reader does
    assert (found.files, found.metadata) == (deps, meta)


PROJECT_REFUSALS: dict[str, tuple[dict[str, str], str, str]] = {
    "extras": ({"setup.py": SETUP_PY_READS}, "[dev]", "installs the extras [dev]"),
    "nothing": ({}, "", "has no pyproject.toml, setup.py or setup.cfg"),
    "invalid-toml": ({"pyproject.toml": "x = \n"}, "", "pyproject.toml is not valid TOML"),
    "static-list": ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask"]\n'}, "",
                    "a list in pyproject.toml [project]"),
    "dynamic-file-missing": ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
                                                '[tool.setuptools.dynamic]\ndependencies = {file = "r.in"}\n'}, "",
                             "cannot read r.in, which [tool.setuptools.dynamic] names"),
    "dynamic-file-with-options": ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
                                                     '[tool.setuptools.dynamic]\ndependencies = {file = "r.in"}\n',
                                   "r.in": "-r base.txt\n"}, "", "setuptools would read as a requirement"),
    "dynamic-other-backend": ({"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
                                                 '[build-system]\nbuild-backend = "hatchling.build"\n'}, "",
                              "computed by the build backend hatchling.build"),
    "poetry-list": ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nflask = "*"\n'
                                       '[build-system]\nbuild-backend = "poetry.core.masonry.api"\n'}, "",
                    "a list in pyproject.toml [tool.poetry]"),
    "other-backend": ({"pyproject.toml": '[build-system]\nbuild-backend = "flit_core.buildapi"\n'}, "",
                      "the build backend flit_core.buildapi decides the dependencies"),
    "setup-cfg-list": ({"setup.cfg": "[options]\ninstall_requires =\n    flask\n    six\n"}, "", "a list in setup.cfg"),
    "setup-cfg-file": ({"setup.cfg": "[options]\ninstall_requires = file: requirements.txt\n"}, "",
                       "reads install_requires with `file:`"),
    "setup-cfg-invalid": ({"setup.cfg": "install_requires = flask\n"}, "", "setup.cfg cannot be read"),
}


@pytest.mark.parametrize("name", sorted(PROJECT_REFUSALS))
def test_project_deps_refusals(name: str) -> None:
    files, extras, reason = PROJECT_REFUSALS[name]
    with pytest.raises(Unsupported) as exc:
        pydeps.project_deps(files.get, extras)
    assert reason in str(exc.value)


# --------------------------------------------------------------------------------------------------- setup.py

REQS = "flask==2.0\n# pinned\n\nrequests\n"
HEAD = "import os\nimport io\nimport codecs\nfrom pathlib import Path\nfrom setuptools import setup, find_packages\n"

SETUP_OK: dict[str, str] = {
    "open-read-splitlines": "setup(install_requires=open('requirements.txt').read().splitlines())\n",
    "with-at-module-level": "with open('requirements.txt') as f:\n    reqs = f.read().splitlines()\n"
                            "setup(install_requires=reqs)\n",
    "io-open-readlines": "reqs = [r.strip() for r in io.open('requirements.txt', encoding='utf-8').readlines()]\n"
                         "setup(install_requires=reqs)\n",
    "codecs-open-mode": "reqs = codecs.open('requirements.txt', 'r', 'utf-8').read().split('\\n')\n"
                        "setup(install_requires=reqs)\n",
    "here-join": "here = os.path.abspath(os.path.dirname(__file__))\n"
                 "setup(install_requires=open(os.path.join(here, 'requirements.txt')).read().splitlines())\n",
    "realpath-dirname": "here = os.path.dirname(os.path.realpath(__file__))\n"
                        "setup(install_requires=open(os.path.join(here, 'requirements.txt')).read().splitlines())\n",
    "relative-join": "setup(install_requires=open(os.path.join('.', 'requirements.txt')).read().splitlines())\n",
    "pathlib-joinpath": "root = Path(__file__).parent.absolute()\n"
                        "setup(install_requires=root.joinpath('requirements.txt').read_text().splitlines())\n",
    "pathlib-open": "setup(install_requires=list(Path('requirements.txt').open()))\n",
    "path-of-here": "setup(install_requires=Path(os.path.dirname(__file__)).joinpath('requirements.txt')"
                    ".read_text().splitlines())\n",
    "path-of-parts": "setup(install_requires=Path('.', 'requirements.txt').read_text().splitlines())\n",
    "string-concatenation": "name = 'requirements' + '.txt'\nsetup(install_requires=open(name).read().splitlines())\n",
    "annotated": "reqs: list = open('requirements.txt').read().splitlines()\nsetup(install_requires=reqs)\n",
    "helper-with-default": "def read(name='requirements.txt'):\n    '''Read it.'''\n    pass\n"
                           "    with open(name) as f:\n        lines = f.read().splitlines()\n    return lines\n"
                           "setup(install_requires=read())\n",
    "filter-none-map-strip": "setup(install_requires=list(filter(None, map(str.strip, open('requirements.txt')))))\n",
    "tuple-sorted": "setup(install_requires=sorted(tuple(open('requirements.txt').read().splitlines())))\n",
    "comprehension-tests": "lines = open('requirements.txt').read().splitlines()\n"
                           "setup(install_requires=[x for x in lines if x and not x.isspace() and "
                           "not x.startswith(('#', '-')) and x != '' and '#' not in x or x in ['junk']])\n",
    "or-and": "setup(install_requires=open('requirements.txt').read().splitlines() or [])\n",
    "starred": "setup(install_requires=[*open('requirements.txt').read().splitlines()])\n",
    "strip-chars": "setup(install_requires=open('requirements.txt').read().strip('\\n').split('\\n'))\n",
    "here-divide": "setup(install_requires=(Path(__file__).parent / 'requirements.txt').read_text().splitlines())\n",
    "equal-chain": "lines = open('requirements.txt').read().splitlines()\n"
                   "setup(install_requires=[x for x in lines if not x == '' == x and not x.startswith('#')])\n",
    "return-inside-with": "def read(n):\n    with open(n) as f:\n        return f.read().splitlines()\n"
                          "setup(install_requires=read('requirements.txt'))\n",
    "classes-keep-their-names": "class C:\n    reqs = []\nreqs = open('requirements.txt').read().splitlines()\n"
                                "setup(install_requires=reqs)\n",
    "in-comparison": "lines = open('requirements.txt').read().splitlines()\n"
                     "setup(install_requires=[x for x in lines if 'flask' in x or x in ('requests', 'other')])\n",
    "if-main": "if __name__ == '__main__':\n    setup(install_requires=open('requirements.txt').read().splitlines())\n",
    "function-locals-are-their-own-too": "def f():\n    reqs, n = [], 0\n    n += 1\n    del n\n    for reqs in []:\n"
                                         "        pass\n    return reqs\nreqs = open('requirements.txt').read()"
                                         ".splitlines()\nsetup(install_requires=reqs)\n",
    "function-locals-are-their-own": "def read(name):\n    with open(name) as f:\n        reqs = f.read().splitlines()\n"
                                     "    return reqs\nreqs = read('requirements.txt')\nsetup(install_requires=reqs)\n",
}


@pytest.mark.parametrize("name", sorted(SETUP_OK))
def test_setup_py_reads(name: str) -> None:
    assert pydeps.setup_py_deps(HEAD + SETUP_OK[name], {"requirements.txt": REQS}.get) == ["requirements.txt"]


@pytest.mark.parametrize("lines,expected", [
    (["flask \\", "==2.0"], ["flask==2.0"]),
    (["goo\\", "dly"], ["godly"]),  # setuptools drops the character before the backslash as well
    (["a", "b \\"], ["a"]),  # a continued last line is dropped
    (["# c", "x  # pinned", "", "  y  "], ["x", "y"]),
])
def test_setuptools_lines(lines: list[str], expected: list[str]) -> None:
    assert pydeps.setuptools_lines(["\n".join(lines)]) == expected


def test_setup_py_reading_continued_lines_is_not_pip_reading_them() -> None:
    # pip joins `flask\` + `==2.0` into flask==2.0; setuptools, given the same lines, makes `flas==2.0`.
    text = "from setuptools import setup\nsetup(install_requires=open('r.txt').read().splitlines())\n"
    with pytest.raises(Unsupported, match="changes the lines of r.txt"):
        pydeps.setup_py_deps(text, {"r.txt": "flask\\\n==2.0\n"}.get)


def test_setup_py_without_dependencies() -> None:
    assert pydeps.setup_py_deps("from setuptools import setup\nsetup(name='x')\n", {}.get) is None
    assert pydeps.setup_py_deps("import setuptools\nsetuptools.setup(install_requires=[])\n", {}.get) == []
    assert pydeps.setup_py_deps("from setuptools import setup\nsetup(install_requires='')\n", {}.get) == []


SETUP_REFUSED: dict[str, tuple[str, str]] = {
    "syntax-error": ("setup(\n", "setup.py is not valid Python"),
    "no-setup-call": ("print('x')\n", "no setup(…) call"),
    "two-setup-calls": ("setup()\nsetup()\n", "no setup(…) call"),
    "kwargs": ("kw = {}\nsetup(**kw)\n", "passes **arguments"),
    "static-list": ("setup(install_requires=['flask'])\n", "a list in setup.py"),
    "static-string": ("setup(install_requires='flask\\nsix')\n", "a list in setup.py"),
    "not-strings": ("setup(install_requires=[True])\n", "cannot read statically"),
    "two-files": ("setup(install_requires=open('requirements.txt').read().splitlines() + "
                  "open('extra.txt').read().splitlines())\n", "from several files"),
    "filtered": ("setup(install_requires=[x for x in open('requirements.txt') if 'flask' not in x])\n",
                 "changes the lines of requirements.txt"),
    "missing-file": ("setup(install_requires=open('nothere.txt').read().splitlines())\n",
                     "setup.py reads nothere.txt, which is not in the build context"),
    "outside": ("setup(install_requires=open(os.path.join('..', 'requirements.txt')).read().splitlines())\n",
                "setup.py reads ../requirements.txt, outside the project"),
    "relative-open-not-in-context": ("setup(install_requires=open('../requirements.txt').read().splitlines())\n",
                                     "setup.py reads ../requirements.txt, which is not in the build context"),
    "local-item-assigned-in-a-function": ("reqs = open('requirements.txt').read().splitlines()\ndef f():\n"
                                          "    reqs[0] = 'x'\nsetup(install_requires=reqs)\n", "cannot read statically"),
    # The directory above the project is not the project (before, both read ./requirements.txt).
    "dirname-of-here": ("root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n"
                        "setup(install_requires=open(os.path.join(root, 'requirements.txt')).read().splitlines())\n",
                        "reads from the directory above the project"),
    "parent-of-here": ("setup(install_requires=(Path(__file__).parent.parent / 'requirements.txt')"
                       ".read_text().splitlines())\n", "reads from the directory above the project"),
    # A module-level value that changes after its assignment (before, the extra dependency was lost).
    "augmented": ("reqs = open('requirements.txt').read().splitlines()\nreqs += ['gunicorn']\n"
                  "setup(install_requires=reqs)\n", "cannot read statically"),
    "appended": ("reqs = open('requirements.txt').read().splitlines()\nreqs.append('gunicorn')\n"
                 "setup(install_requires=reqs)\n", "cannot read statically"),
    "appended-in-a-function": ("reqs = open('requirements.txt').read().splitlines()\ndef more():\n"
                               "    reqs.extend(['a'])\nmore()\nsetup(install_requires=reqs)\n", "cannot read statically"),
    "reassigned-in-an-if": ("import sys\nreqs = open('requirements.txt').read().splitlines()\n"
                            "if sys.platform == 'linux':\n    reqs = reqs + ['uvloop']\nsetup(install_requires=reqs)\n",
                            "cannot read statically"),
    "appended-in-a-loop": ("reqs = open('requirements.txt').read().splitlines()\nfor extra in ['a']:\n"
                           "    reqs.insert(0, extra)\nsetup(install_requires=reqs)\n", "cannot read statically"),
    "global-in-a-function": ("reqs = open('requirements.txt').read().splitlines()\ndef add():\n    global reqs\n"
                             "    reqs = reqs + ['x']\nadd()\nsetup(install_requires=reqs)\n", "cannot read statically"),
    "item-assigned": ("reqs = open('requirements.txt').read().splitlines()\nreqs[0] = 'flask==3'\n"
                      "setup(install_requires=reqs)\n", "cannot read statically"),
    "item-deleted": ("reqs = open('requirements.txt').read().splitlines()\ndel reqs[0]\n"
                     "setup(install_requires=reqs)\n", "cannot read statically"),
    "loop-variable": ("for reqs in [open('requirements.txt').read().splitlines()]:\n    pass\n"
                      "setup(install_requires=reqs)\n", "cannot read statically"),
    "with-in-a-block": ("reqs = []\nif True:\n    with open('requirements.txt') as reqs:\n        pass\n"
                        "setup(install_requires=reqs)\n", "cannot read statically"),
    "starred-rebinding": ("reqs = open('requirements.txt').read().splitlines()\nif True:\n    *reqs, last = ['a']\n"
                          "setup(install_requires=reqs)\n", "cannot read statically"),
    "tuple-rebinding": ("reqs = open('requirements.txt').read().splitlines()\nif True:\n    reqs, other = [], 1\n"
                        "setup(install_requires=reqs)\n", "cannot read statically"),
    "walrus": ("reqs = open('requirements.txt').read().splitlines()\n"
               "print([(reqs := []) for _ in 'a'])\nsetup(install_requires=reqs)\n", "cannot read statically"),
    "assigned-twice": ("reqs = []\nreqs = open('requirements.txt').read().splitlines()\n"
                       "setup(install_requires=reqs)\n", "cannot read statically"),
    "write-mode": ("setup(install_requires=open('requirements.txt', 'rb').read().splitlines())\n",
                   "cannot read statically"),
    "open-without-args": ("setup(install_requires=open().read())\n", "cannot read statically"),
    "unknown-name": ("setup(install_requires=REQS)\n", "cannot read statically"),
    "unknown-call": ("setup(install_requires=load())\n", "cannot read statically"),
    "unknown-method": ("setup(install_requires=open('requirements.txt').read().upper().splitlines())\n",
                       "cannot read statically"),
    "unknown-attribute": ("setup(install_requires=os.sep)\n", "cannot read statically"),
    "f-string": ("v = 'x'\nsetup(install_requires=[f'{v}'])\n", "cannot read statically"),
    "bytes": ("setup(install_requires=[b'x'])\n", "cannot read statically"),
    "minus": ("setup(install_requires=[1 - 1])\n", "cannot read statically"),
    "list-plus-string": ("setup(install_requires=['a'] + 'b')\n", "cannot read statically"),
    "starred-string": ("setup(install_requires=[*'ab'])\n", "cannot read statically"),
    "less-than": ("lines = open('requirements.txt').read().splitlines()\n"
                  "setup(install_requires=[x for x in lines if len(x) < len('abc')])\n", "cannot read statically"),
    "compare-a-handle": ("setup(install_requires=[x for x in open('requirements.txt') if open('a') == x])\n",
                         "cannot read statically"),
    "truth-of-a-handle": ("setup(install_requires=[x for x in ['a'] if open('requirements.txt')])\n",
                          "cannot read statically"),
    "two-fors": ("setup(install_requires=[x for y in [['a']] for x in y])\n", "cannot read statically"),
    "tuple-target": ("setup(install_requires=[a for a, b in [('x', 1)]])\n", "cannot read statically"),
    "iterate-a-string-value": ("setup(install_requires=[x for x in 'abc'])\n", "cannot read statically"),
    "len-of-a-handle": ("setup(install_requires=['a'] * len(open('requirements.txt')))\n", "cannot read statically"),
    "join-with-none": ("setup(install_requires=open(os.path.join('.', None)).read())\n", "cannot read statically"),
    "join-from-root": ("setup(install_requires=open(os.path.join('/etc', 'r.txt')).read())\n", "cannot read statically"),
    "absolute-path": ("setup(install_requires=open('/etc/requirements.txt').read())\n", "cannot read statically"),
    "dirname-of-a-string": ("setup(install_requires=open(os.path.dirname('a/b')).read())\n", "cannot read statically"),
    "abspath-of-a-string": ("setup(install_requires=open(os.path.abspath('a')).read())\n", "cannot read statically"),
    "path-of-none": ("setup(install_requires=Path(None).read_text())\n", "cannot read statically"),
    "number": ("setup(install_requires=[1])\n", "cannot read statically"),
    "divide-a-string": ("setup(install_requires=('a' / 'b').read_text())\n", "cannot read statically"),
    "parent-of-a-path": ("setup(install_requires=Path('a/b').parent.read_text())\n", "cannot read statically"),
    "read-with-an-argument": ("setup(install_requires=open('requirements.txt').read(None))\n",
                              "cannot read statically"),
    # Read, but the pieces are not the file's lines: pip would install something else.
    "split-on-spaces": ("setup(install_requires=open('requirements.txt').read().split(' '))\n",
                        "setup.py changes the lines of requirements.txt"),
    "startswith-none": ("setup(install_requires=[x for x in ['a'] if x.startswith(None)])\n", "cannot read statically"),
    "star-args": ("def f(*a):\n    return ['x']\nsetup(install_requires=f())\n", "cannot read statically"),
    "too-many-args": ("def f():\n    return ['x']\nsetup(install_requires=f('a'))\n", "cannot read statically"),
    "keyword-only": ("def f(*, a='x'):\n    return [a]\nsetup(install_requires=f())\n", "cannot read statically"),
    "missing-arg": ("def f(a):\n    return [a]\nsetup(install_requires=f())\n", "cannot read statically"),
    "no-return": ("def f():\n    pass\nsetup(install_requires=f())\n", "cannot read statically"),
    "bare-return": ("def f():\n    return\nsetup(install_requires=f())\n", "cannot read statically"),
    "if-in-a-function": ("def f():\n    if True:\n        return ['a']\nsetup(install_requires=f())\n",
                         "cannot read statically"),
    "expression-in-a-function": ("def f():\n    x = 'a'\n    print(x)\n    return [x]\nsetup(install_requires=f())\n",
                                 "cannot read statically"),
    "with-tuple-target": ("def f():\n    with open('requirements.txt') as (a, b):\n        return a.read()\n"
                          "setup(install_requires=f())\n", "cannot read statically"),
    "self-reference": ("a = b\nb = a\nsetup(install_requires=a)\n", "cannot read statically"),
    "star-call": ("setup(install_requires=list(*['requirements.txt']))\n", "cannot read statically"),
}


@pytest.mark.parametrize("name", sorted(SETUP_REFUSED))
def test_setup_py_refusals(name: str) -> None:
    text, reason = SETUP_REFUSED[name]
    with pytest.raises(Unsupported) as exc:
        pydeps.setup_py_deps(HEAD + text, {"requirements.txt": REQS, "extra.txt": "six\n", "a": "x\n"}.get)
    assert reason in str(exc.value)


# ------------------------------------------------------------------------------------ poetry, uv, pdm, pipenv


@pytest.mark.parametrize("text,package", [
    ('[tool.poetry]\nname = "x"\n', True),
    ('[tool.poetry]\npackage-mode = false\n', False),
    ('[project]\nname = "x"\ndependencies = ["flask"]\n', True),
    ('[tool.poetry.dependencies]\nflask = {version = "*", extras = ["async"]}\nsix = [{version = "1"}]\n', True),
])
def test_poetry_package_mode(text: str, package: bool) -> None:
    assert pydeps.poetry_package_mode(text) is package


@pytest.mark.parametrize("text,reason", [
    ("x = 1\n", "neither [tool.poetry] nor [project]"),
    ('[tool.poetry.dependencies]\nlib = {path = "../lib"}\n', "the dependency lib is the local path ../lib"),
    ('[tool.poetry.dev-dependencies]\nlib = {path = "./lib", develop = true}\n', "the local path ./lib"),
    ('[tool.poetry.group.test.dependencies]\nt = [{path = "./t"}]\n', "the dependency t is the local path ./t"),
    ('[tool.poetry.dependencies]\ng = {git = "https://x/g.git", develop = true}\n',
     "the dependency g is installed in develop (editable) mode"),
    ('[project]\nname = "x"\n[project.optional-dependencies]\ndev = ["tool @ file:///srv/tool"]\n',
     "'tool @ file:///srv/tool' is a local path"),
    ('[tool.poetry]\nname = "x"\n[dependency-groups]\ndev = ["-e ./lib"]\n', "'-e ./lib' is a local path"),
])
def test_poetry_refusals(text: str, reason: str) -> None:
    with pytest.raises(Unsupported) as exc:
        pydeps.poetry_package_mode(text)
    assert reason in str(exc.value)


@pytest.mark.parametrize("text,package", [
    ('[project]\nname = "x"\n', False),
    ('[project]\nname = "x"\n[build-system]\nbuild-backend = "hatchling.build"\n', True),
    ('[project]\nname = "x"\n[tool.uv]\npackage = false\n[build-system]\nbuild-backend = "hatchling.build"\n', False),
    ('[project]\nname = "x"\n[tool.uv]\npackage = true\n', True),
    ('[project]\nname = "x"\n[tool.uv.sources]\nflask = {git = "https://x/flask.git"}\n', False),
])
def test_uv_is_package(text: str, package: bool) -> None:
    assert pydeps.uv_is_package(text) is package


@pytest.mark.parametrize("text,reason", [
    ('[tool.uv.workspace]\nmembers = ["packages/*"]\n', "uv workspace"),
    ('[tool.uv.sources]\nlib = {path = "../lib"}\n', "the source of lib is a local path"),
    ('[tool.uv.sources]\nlib = {workspace = true}\n', "the source of lib"),
    ('[tool.uv.sources]\nlib = [{git = "https://x", marker = "sys_platform == \'win32\'"}, {editable = true, '
     'path = "./lib"}]\n', "the source of lib"),
    ('[project]\nname = "x"\ndependencies = ["lib @ file:///srv/lib"]\n', "'lib @ file:///srv/lib' is a local path"),
    ('[dependency-groups]\ndev = ["./tools"]\n', "'./tools' is a local path"),
])
def test_uv_refusals(text: str, reason: str) -> None:
    with pytest.raises(Unsupported) as exc:
        pydeps.uv_is_package(text)
    assert reason in str(exc.value)


@pytest.mark.parametrize("text,package", [
    ('[project]\nname = "x"\n', False),
    ('[project]\nname = "x"\n[build-system]\nbuild-backend = "pdm.backend"\n', True),
    ('[project]\nname = "x"\n[tool.pdm]\ndistribution = true\n', True),
    ('[project]\nname = "x"\n[tool.pdm]\ndistribution = false\n[build-system]\nbuild-backend = "pdm.backend"\n', False),
])
def test_pdm_is_package(text: str, package: bool) -> None:
    assert pydeps.pdm_is_package(text) is package


def test_pdm_local_dev_dependency() -> None:
    with pytest.raises(Unsupported, match="'-e file:///\\$\\{PROJECT_ROOT\\}/lib' is a local path"):
        pydeps.pdm_is_package('[tool.pdm.dev-dependencies]\ndev = ["-e file:///${PROJECT_ROOT}/lib"]\n')


def test_pipfile() -> None:
    pydeps.check_pipfile('[[source]]\nurl = "https://pypi.org/simple"\n[packages]\nflask = "*"\n'
                         'requests = {version = "*", extras = ["socks"]}\n[dev-packages]\npytest = "*"\n'
                         '[requires]\npython_version = "3.12"\n[scripts]\nserve = "flask run"\n')
    for entry in ('lib = {path = "./lib"}', 'lib = {editable = true, git = "https://x/lib.git"}',
                  'lib = {file = "./lib-1.0.tar.gz"}', 'lib = {file = "file:///srv/lib.whl"}'):
        with pytest.raises(Unsupported, match="the Pipfile entry lib is a local path"):
            pydeps.check_pipfile(f"[packages]\n{entry}\n")
    # A custom category is a table of packages too.
    with pytest.raises(Unsupported, match="entry tool"):
        pydeps.check_pipfile('[tools]\ntool = {path = "/srv/tool"}\n')
    with pytest.raises(Unsupported, match="Pipfile is not valid TOML"):
        pydeps.check_pipfile("[packages\n")
