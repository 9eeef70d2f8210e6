from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from dockerfix.refactor.context import buildcontext as context
from dockerfix.refactor.context import pydeps
from dockerfix.refactor.engine import run

from .deps_cases import (HEAD, NAME, NPM, PIPENV, POETRY, PROJECT_NO_DEPS, REQS, SETUP_PY, UV_VIRTUAL, YARN, _context,
                         fix)

# The cases fixed and refused are in test_deps_first_fixed.py and test_deps_first_refused.py.

UNSAFE: dict[str, tuple[dict[str, str], str, str]] = {
    "pip-project-setup-py": (
        SETUP_PY,
        HEAD + "COPY . .\nRUN pip install --no-cache-dir .\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
               "RUN pip install --no-deps --no-cache-dir .\n",
    ),
    "pip-editable-setuptools-dynamic": (
        {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndynamic = ["dependencies"]\n'
                           '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.in"]}\n',
         "requirements.in": "flask\n", "x/__init__.py": ""},
        HEAD + "COPY . .\nRUN pip install -e .\n",
        HEAD + "COPY requirements.in ./\nRUN pip install -r requirements.in\nCOPY . .\nRUN pip install --no-deps -e .\n",
    ),
    "pipenv-install-may-lock-again": (
        PIPENV,
        HEAD + "COPY . .\nRUN pipenv install --system\n",
        HEAD + "COPY Pipfile Pipfile.lock ./\nRUN pipenv install --system\nCOPY . .\n",
    ),
    "yarn-without-frozen-lockfile": (
        YARN,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn\nCOPY . .\n",
    ),
    "npm-install-with-lock": (
        NPM,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n",
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install\nCOPY . .\n",
    ),
    "setup-py-reads-the-requirements-also-given": (
        SETUP_PY,
        HEAD + "COPY . .\nRUN pip install -r requirements.txt .\n",
        HEAD + "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
               "RUN pip install --no-deps -r requirements.txt .\n",
    ),
    "uv-sync-may-lock-again": (
        UV_VIRTUAL,
        HEAD + "COPY . .\nRUN uv sync\n",
        HEAD + "COPY pyproject.toml uv.lock ./\nRUN uv sync\nCOPY . .\n",
    ),
}

UNCHANGED: dict[str, tuple[dict[str, str], str]] = {
    # The wildcard brings only the file the install reads: the install is cached already.
    "wildcard-to-a-file-name": ({"requirements.txt": "flask\n"},
                                "FROM python:3.12\nCOPY requirement*.txt /app/reqs.txt\nRUN pip install -r /app/reqs.txt\n"),
    "already-cached": (REQS, HEAD + "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"),
    "no-copy-before": (REQS, HEAD + "RUN pip install flask\nCOPY . .\n"),
    "not-an-install": (NPM, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm run build\n"),
    "remote-packages-only": (REQS, HEAD + "COPY . .\nRUN pip install gunicorn\n"),
    "project-without-deps": (REQS, HEAD + "COPY . .\nRUN pip install --no-deps .\n"),
    "copy-from-stage": (REQS, "FROM python:3.12 AS b\nFROM python:3.12\nWORKDIR /app\nCOPY --from=b /app /app\n"
                              "RUN pip install -r requirements.txt\n"),
    "poetry-already-split": (POETRY, HEAD + "COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n"
                                            "COPY . .\nRUN poetry install\n"),
    "suppressed": (REQS, HEAD + "COPY . .\n# dockerfix: ignore=deps-first\nRUN pip install -r requirements.txt\n"),
    "remote-add-only": (REQS, HEAD + "ADD https://example.com/x.tgz /tmp/\nRUN pip install -r requirements.txt\n"),
    "unparsable-without-an-install": (NPM, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm run build && (\n"),
    "project-declares-no-dependencies": (PROJECT_NO_DEPS, HEAD + "COPY . .\nRUN pip install .\n"),
    "pip-project-already-split": (PROJECT_NO_DEPS, HEAD + "COPY requirements.txt .\nRUN echo $X && pip install -r "
                                                           "requirements.txt\nCOPY . .\nRUN pip install -r requirements.txt .\n"),
    "pip-setup-py-already-split": (SETUP_PY, HEAD + "COPY requirements.txt .\nRUN pip install -r requirements.txt\n"
                                                    "COPY . .\nRUN pip install .\n"),
    "poetry-already-split-in-a-subdirectory": (
        {"svc/pyproject.toml": POETRY["pyproject.toml"], "svc/poetry.lock": "# lock\n", "svc/x/__init__.py": ""},
        HEAD + 'RUN ["echo", "hi"]\nCOPY svc/pyproject.toml svc/poetry.lock ./svc/\nRUN cd svc && poetry install '
               "--no-root\nCOPY . .\nRUN cd svc && poetry install\n"),
    "heredoc-feeding-stdin": (REQS, "# syntax=docker/dockerfile:1\n" + HEAD + "COPY . .\nRUN python3 <<EOF\n"
                                    "import subprocess\nsubprocess.run(['pip', 'install', '-r', 'requirements.txt'])\nEOF\n"),
}


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_unsafe_fixes(tmp_path: Path, name: str) -> None:
    files, before, after = UNSAFE[name]
    assert fix(tmp_path, files, before) == before  # not applied without --unsafe-fixes
    result = run(before, NAME, unsafe=True, path=_context(tmp_path, files))
    assert result.output == after
    (finding,) = result.findings
    assert finding.fix is not None and not finding.fix.safe
    assert any(d.startswith("unsafe: ") for d in finding.details)
    assert fix(tmp_path, files, after, unsafe=True) == after


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_unchanged(tmp_path: Path, name: str) -> None:
    files, text = UNCHANGED[name]
    result = run(text, NAME, unsafe=True, path=_context(tmp_path, files))
    assert result.output == text
    assert result.findings == []


def test_setup_py_is_read_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    files = {
        "requirements.txt": "flask\n",
        "setup.py": (f"import os\nopen({str(marker)!r}, 'w').write('ran')\nfrom setuptools import setup\n"
                     "here = os.path.abspath(os.path.dirname(__file__))\n"
                     "with open(os.path.join(here, 'requirements.txt')) as f:\n    reqs = f.read().splitlines()\n"
                     "setup(name='x', install_requires=reqs)\n"),
    }
    out = fix(tmp_path, files, HEAD + "COPY . .\nRUN pip install .\n", unsafe=True)
    assert "RUN pip install -r requirements.txt\nCOPY . .\nRUN pip install --no-deps .\n" in out
    assert not marker.exists()


def test_message_without_context(tmp_path: Path) -> None:
    text = HEAD + "COPY . .\nRUN pip install -r requirements.txt\n"
    (finding,) = run(text, NAME).findings
    assert "no build context" in finding.message


def test_without_context_a_file_copy_is_not_a_directory_copy() -> None:
    # Without a context, only `.` and sources ending in `/` are known to be directories.
    assert run(HEAD + "COPY requirements.txt .\nRUN pip install -r requirements.txt\n", NAME).findings == []
    (finding,) = run(HEAD + "COPY src/ ./src/\nRUN pip install -r requirements.txt\n", NAME).findings
    assert "no build context" in finding.message


@pytest.mark.parametrize("link,target,files,text", [
    ("requirements.txt", "real.txt", {"real.txt": "flask\n", "app/x.py": ""},
     HEAD + "COPY . .\nRUN pip install -r requirements.txt\n"),
    (".npmrc", "npmrc.real", {**NPM, "npmrc.real": "fund=false\n"}, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"),
    ("poetry.toml", "poetry.real", {**POETRY, "poetry.real": "[virtualenvs]\ncreate = false\n"},
     HEAD + "COPY . .\nRUN poetry install --no-root\n"),  # copied when present, never read
])
def test_symlinked_inputs_are_refused(tmp_path: Path, link: str, target: str, files: dict[str, str], text: str) -> None:
    # COPY copies the link itself, not the file it points to: the install would not read the same text.
    _context(tmp_path, files)
    (tmp_path / link).symlink_to(target)
    result = run(text, NAME, unsafe=True, path=tmp_path / "Dockerfile")
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and f"{link} is a symlink in the build context" in finding.message


def test_explicit_context_is_used(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, REQS)
    text = HEAD + "COPY . .\nRUN pip install -r requirements.txt\n"
    out = run(text, NAME, path=tmp_path / "docker" / "Dockerfile", context=ctx).output
    assert out.startswith(HEAD + "COPY requirements.txt ./\n")


# ------------------------------------------------------------------------------------------- .dockerignore


def test_dockerignore_is_docker_not_gitignore(tmp_path: Path) -> None:
    spec = context.read_ignore("# comment\n*.pyc\n/build\ndocs/**/*.md\n**/secret\nnode_modules\n!node_modules/keep\n")
    assert spec.match_file("a.pyc") and not spec.match_file("pkg/a.pyc")  # anchored at the root
    assert spec.match_file("build/x") and not spec.match_file("src/build")
    assert spec.match_file("docs/a/b/c.md") and spec.match_file("docs/c.md")
    assert spec.match_file("secret") and spec.match_file("a/b/secret/key")
    assert spec.match_file("node_modules/x/y.js") and not spec.match_file("node_modules/keep/z")


def test_dockerignore_excluded_dir_with_exception_is_sent(tmp_path: Path) -> None:
    _context(tmp_path, {"vendor/a.txt": "", "vendor/keep/b.txt": "b", ".dockerignore": "vendor\n!vendor/keep\n"})
    ctx = context.load(tmp_path, tmp_path / "Dockerfile")
    assert ctx.kind("vendor") == "dir"
    assert ctx.read("vendor/a.txt") is None and ctx.read("vendor/keep/b.txt") == "b"


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    _context(tmp_path, {"requirements.txt": "x\n", ".dockerignore": "", "api.Dockerfile.dockerignore": "*.txt\n"})
    assert context.load(tmp_path, tmp_path / "api.Dockerfile").read("requirements.txt") is None
    assert context.load(tmp_path, tmp_path / "Dockerfile").read("requirements.txt") == "x\n"


def test_never_copies_an_ignored_optional_file(tmp_path: Path) -> None:
    files = {**NPM, ".npmrc": "x=1\n", ".dockerignore": "node_modules\n.npmrc\n"}
    out = fix(tmp_path, files, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n")
    assert "COPY package.json package-lock.json ./\n" in out and ".npmrc" not in out


def test_node_modules_ignored_allows_the_fix(tmp_path: Path) -> None:
    files = {**NPM, "node_modules/left-pad/index.js": ""}
    out = fix(tmp_path, files, "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n")
    assert out == "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"


# ----------------------------------------------------------------------------------------------- pydeps


def test_pip_call_forms() -> None:
    call = pydeps.pip_call(["python3", "-m", "pip", "--no-cache-dir", "install", "-qr", "a.txt", "-c", "c.txt",
                            "-e", ".", "gunicorn==21"])
    assert call is not None
    assert [p for _, p in call.requirements] == ["a.txt", "c.txt"]
    assert call.projects == [(9, 10, ".", "")] and call.remote == ["gunicorn==21"]
    assert pydeps.pip_call(["pip", "freeze"]) is None
    assert pydeps.pip_call(["uv", "pip", "install", "-r", "r.txt"]).uv  # type: ignore[union-attr]
    assert pydeps.pip_call(["pip", "install", "./dist/x.whl"]).local_files == ["./dist/x.whl"]  # type: ignore[union-attr]


def test_requirement_files_follow_includes() -> None:
    files = {"/a/requirements.txt": "-r sub/base.txt\n--constraint=${DIR}/c.txt\nflask \\\n  ==2.0\n",
             "/a/sub/base.txt": "-r ../requirements.txt\n-i https://x/simple\nsix --hash=sha256:00\n",
             "/etc/c.txt": "six<2\n"}
    got = pydeps.requirement_files("/a/requirements.txt", files.get, {"DIR": "/etc"})
    assert got == ["/a/requirements.txt", "/a/sub/base.txt", "/etc/c.txt"]
    with pytest.raises(pydeps.Unsupported, match="whose value"):
        pydeps.requirement_files("/a/requirements.txt", files.get, {})


SETUP_IDIOMS = {
    "splitlines": "reqs = open('requirements.txt').read().splitlines()\nsetup(install_requires=reqs)\n",
    "readlines-strip": "with open('requirements.txt') as f:\n    reqs = [l.strip() for l in f.readlines()]\n"
                       "setup(install_requires=reqs)\n",
    "pathlib": "from pathlib import Path\nHERE = Path(__file__).resolve().parent\n"
               "setup(install_requires=(HERE / 'requirements.txt').read_text().splitlines())\n",
    "filter-comments": "lines = open('requirements.txt').read().split('\\n')\n"
                       "setup(install_requires=[x for x in lines if x and not x.startswith('#')])\n",
    "comment-cut-by-split": "with open('requirements.txt') as f:\n    reqs = [l.split('#')[0].strip() for l in f]\n"
                            "setup(install_requires=[r for r in reqs if r])\n",
    "first-character-test": "with open('requirements.txt') as f:\n    reqs = [x.strip() for x in f.read().split('\\n') "
                            "if x.strip() != '' and x[0] != '#']\nsetup(install_requires=reqs)\n",
    "pathlib-open-and-str": "import pathlib\nwith pathlib.Path('requirements.txt').open() as fh:\n"
                            "    reqs = [str(r) for r in fh.read().splitlines()]\nsetup(install_requires=reqs)\n",
    "helper-filtering-blank-and-comment-lines": (
        "def read_requirements(path):\n    with open(path, encoding='utf-8') as f:\n"
        "        return [line.strip() for line in f if line.strip() and not line.startswith('#')]\n"
        "setup(install_requires=read_requirements('requirements.txt'))\n"),
    "partition-comment": "reqs = [l.partition('#')[0].strip() for l in open('requirements.txt').readlines()]\n"
                         "setup(install_requires=list(filter(None, reqs)))\n",
}


def test_setup_py_refusal_says_what_can_be_read() -> None:
    text = "from setuptools import setup\nimport json\nsetup(install_requires=json.load(open('deps.json')))\n"
    with pytest.raises(pydeps.Unsupported) as exc:
        pydeps.setup_py_deps(text, {"deps.json": "[]"}.get)
    assert "open('requirements.txt').read().splitlines()" in str(exc.value)


@pytest.mark.parametrize("name", sorted(SETUP_IDIOMS))
def test_setup_py_idioms(name: str) -> None:
    files = {"requirements.txt": "flask==2.0\n# pinned\n\nrequests\n"}
    text = "import os\nfrom setuptools import setup\n" + SETUP_IDIOMS[name]
    assert pydeps.setup_py_deps(text, files.get) == ["requirements.txt"]


# ------------------------------------------------------------------------------------------------ samples

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_pip_project_sample_unsafe_fix() -> None:
    sample = SAMPLES / "deps-pip-project"
    before = (sample / "Dockerfile").read_text()
    result = run(before, NAME, unsafe=True, path=sample / "Dockerfile")
    assert result.output == (sample / "Dockerfile.unsafe-fixed").read_text()
    assert run(before, NAME, path=sample / "Dockerfile").output == before  # unsafe: not applied by default


@pytest.mark.build
def test_pip_sample_builds_the_same_image_and_keeps_the_install_cached(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from dockerfix.refactor.images.image import compare_images, load_image

    sample = tmp_path / "ctx"
    shutil.copytree(SAMPLES / "deps-pip-requirements", sample)
    # A comment unique to this run keeps the cache of other tests and sessions (a long-lived daemon) out of the way.
    for name in ("Dockerfile", "Dockerfile.fixed"):
        (sample / name).write_text((sample / name).read_text() + f"# cache test {uuid.uuid4().hex}\n")
    original = builder.build(sample / "Dockerfile", sample, cache=True)
    fixed = builder.build(sample / "Dockerfile.fixed", sample, cache=True)
    assert compare_images(load_image(original.archive), load_image(fixed.archive)) == []
    (sample / "app" / "main.py").write_text('print("edited")\n')
    again = builder.build(sample / "Dockerfile.fixed", sample, cache=True)
    again_original = builder.build(sample / "Dockerfile", sample, cache=True)
    install = "RUN pip install --no-cache-dir -r requirements.txt"
    # The fixed file re-runs no install after a source edit; the original re-runs it.
    assert any(step.startswith(install) for step in again.cached_steps), again.cached_steps
    assert not any(step.startswith("COPY . .") for step in again.cached_steps)
    assert not any(step.startswith(install) for step in again_original.cached_steps), again_original.cached_steps
    ran = [s.text for s in again_original.steps if not s.cached and s.text.startswith("RUN pip install")]
    assert ran, again_original.log[-2000:]


def _sample_copy(tmp_path: Path, name: str) -> Path:
    """A private copy of a sample; a comment unique to this run keeps the cache of other tests and sessions away."""
    import shutil

    sample = tmp_path / "ctx"
    shutil.copytree(SAMPLES / name, sample)
    for dockerfile in ("Dockerfile", "Dockerfile.fixed"):
        (sample / dockerfile).write_text((sample / dockerfile).read_text() + f"# cache test {uuid.uuid4().hex}\n")
    return sample


@pytest.mark.build
def test_npm_sample_keeps_npm_ci_cached_after_a_source_edit(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from dockerfix.refactor.images.image import compare_images, flatten, load_image

    sample = _sample_copy(tmp_path, "deps-npm")
    builder.build(sample / "Dockerfile", sample, cache=True)
    builder.build(sample / "Dockerfile.fixed", sample, cache=True)
    (sample / "src" / "index.js").write_text('console.log("edited")\n')
    again = builder.build(sample / "Dockerfile.fixed", sample, cache=True)
    again_original = builder.build(sample / "Dockerfile", sample, cache=True)
    # The fixed file keeps `npm ci` cached and re-runs only the copy and the build; the original re-runs `npm ci`.
    assert "RUN npm ci --omit=dev" in again.cached_steps, again.cached_steps
    assert not any(step.startswith(("COPY --chown=node:node . .", "RUN npm run build")) for step in again.cached_steps)
    assert not any(step.startswith("RUN npm ci") for step in again_original.cached_steps), again_original.cached_steps
    image, image_original = load_image(again.archive), load_image(again_original.archive)
    assert compare_images(image_original, image) == []
    assert flatten(image)["/home/node/app/dist/index.js"].size == len('console.log("edited")\n')


# A deps-first rewrite gone wrong, made by hand from the sample's Dockerfile.fixed: (sample, text replaced, by,
# the message of the failed build, or None when the build succeeds and the harness must report differences).
WRONG_REWRITES: dict[str, tuple[str, str, str, str | None]] = {
    "npm-manifest-copy-dropped": (
        "deps-npm", "COPY --chown=node:node package.json package-lock.json ./\n", "",
        "npm stub: could not read package.json in /home/node/app"),
    "poetry-lock-in-another-directory": (
        "deps-poetry", "COPY pyproject.toml poetry.lock ./\n", "COPY pyproject.toml ./\nCOPY poetry.lock ./svc/\n",
        "poetry stub: poetry.lock not found in /srv"),
    "uv-lock-in-another-directory": (
        "deps-uv", "COPY pyproject.toml uv.lock ./\n", "COPY pyproject.toml ./\nCOPY uv.lock /\n",
        "uv stub: uv.lock not found in /app"),
    "pip-nested-requirements-in-the-wrong-directory": (
        "deps-pip-requirements", "COPY requirements/base.txt ./requirements/\n", "COPY requirements/base.txt ./\n",
        "Could not open requirements file: ./requirements/base.txt"),
    "poetry-project-installed-before-its-sources": (
        "deps-poetry", "--no-interaction --no-root\n", "--no-interaction\n",
        "poetry stub: project svc: no src/svc, svc or svc.py in /srv"),
    # The install works from a side directory, so the build succeeds: only the comparison can tell.
    "npm-manifests-in-a-side-directory": (
        "deps-npm", "package-lock.json ./\nRUN npm ci --omit=dev\n",
        "package-lock.json /tmp/deps/\nRUN cd /tmp/deps && npm ci --omit=dev\n", None),
}


@pytest.mark.build
@pytest.mark.parametrize("case", sorted(WRONG_REWRITES))
def test_harness_catches_a_wrong_deps_first_rewrite(builder, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    from dockerfix.refactor.images.build import BuildError
    from dockerfix.refactor.images.verify import verify

    name, old, new, error = WRONG_REWRITES[case]
    sample = _sample_copy(tmp_path, name)
    fixed = (sample / "Dockerfile.fixed").read_text()
    assert fixed.count(old) == 1
    (sample / "Dockerfile.wrong").write_text(fixed.replace(old, new))
    if error is not None:
        with pytest.raises(BuildError) as caught:
            builder.build(sample / "Dockerfile.wrong", sample)
        assert error in caught.value.log
        return
    result = verify(sample / "Dockerfile", sample / "Dockerfile.wrong", sample, builder)
    missing = {d.path for d in result.differences if d.field == "missing"}
    assert "/home/node/app/node_modules/express/package.json" in missing, [d.text for d in result.differences]
    assert "/tmp/deps/node_modules/express/package.json" in missing
