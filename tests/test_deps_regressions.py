"""deps-first regressions found by building: each case is built as written and as fixed, and the images compared.

The cases are small Dockerfiles on the test base image (busybox plus stub pip/npm/poetry/uv) with their build
context; a case the fix must leave alone or refuse is checked statically, with the reason it gives.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path

import pytest

from dockerfix import transforms
from dockerfix.refactor.dockerfile.basefacts import DIR, BaseFacts, PathInfo
from dockerfix.refactor.engine import Result, run
from dockerfix.refactor.images.image import compare_images

NAME = ["deps-first"]
BASE = "FROM localhost/dockerfix-base\n"
# A pip in front of the stub that, like real pip, fails when a find-links folder or a CA file it is given is missing.
STRICT_PIP = (
    "RUN mv /usr/local/bin/pip /usr/local/bin/pip.real && printf '%s\\n' '#!/bin/sh' "
    "'for a in \"$@\"; do case \"$prev\" in --find-links|-f|--cert) [ -e \"$a\" ] || "
    "{ echo \"pip: $a: no such file\" >&2; exit 1; } ;; esac; prev=$a; done' "
    "'if [ -n \"$PIP_FIND_LINKS\" ] && [ ! -d \"$PIP_FIND_LINKS\" ]; then echo \"pip: $PIP_FIND_LINKS missing\" >&2; "
    "exit 1; fi' "
    "'exec /usr/local/bin/pip.real \"$@\"' > /usr/local/bin/pip && chmod 755 /usr/local/bin/pip\n"
)

Files = Mapping[str, str]


def _write(context: Path, files: Files) -> None:
    for rel, content in files.items():
        p = context / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def _fix(context: Path, files: Files, text: str, select: list[str] = NAME, **kw) -> Result:  # type: ignore[no-untyped-def]
    _write(context, files)
    (context / "Dockerfile").write_text(text)
    return run(text, select, path=context / "Dockerfile", **kw)


def _same_image(build_image, original: str, fixed: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Build both from the same context (the Dockerfile itself is in it, so its own path is left out)."""
    _, a = build_image(original)
    _, b = build_image(fixed)
    return [d.text for d in compare_images(a, b) if posixpath.basename(d.path) != "Dockerfile"]


# ----------------------------------------------------------------------------- F2: multi-source COPY shadowing

MULTI_SOURCE: dict[str, tuple[dict[str, str], str, str]] = {
    # The directory source src/ holds no requirements.txt, so the COPY's first source provides it, not the
    # earlier COPY of requirements-base.txt: the new COPY must bring it.
    "shadowed-by-an-earlier-copy": (
        {"requirements-base.txt": "flask\n", "requirements.txt": "flask\ngunicorn\n", "src/main.py": "x\n"},
        BASE + "WORKDIR /app\nCOPY requirements-base.txt requirements.txt\nCOPY requirements.txt src ./\n"
               "RUN pip install -r requirements.txt\n",
        "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY requirements.txt src ./\n",
    ),
    # `req*` matches requirements.txt and the folder reqs/, whose base.txt lands next to it.
    "wildcard-with-directories": (
        {"requirements.txt": "-r base.txt\n", "reqs/base.txt": "flask\n", "src/m.py": "x\n"},
        BASE + "WORKDIR /app\nCOPY req* src ./\nRUN pip install -r requirements.txt\n",
        "COPY requirements.txt reqs/base.txt ./\nRUN pip install -r requirements.txt\nCOPY req* src ./\n",
    ),
}


@pytest.mark.build
@pytest.mark.parametrize("case", sorted(MULTI_SOURCE))
def test_multi_source_copy_takes_each_file_from_the_source_that_has_it(build_image, case: str) -> None:  # type: ignore[no-untyped-def]
    files, text, expected = MULTI_SOURCE[case]
    result = _fix(build_image.context, files, text)
    assert expected in result.output, result.output
    assert all(f.fix is not None and f.fix.safe for f in result.findings)
    assert _same_image(build_image, text, result.output) == []


# ------------------------------------------------------------------- F3: commands nested in pipelines and blocks

NESTED_REFUSED = {
    "pipeline-after-the-install": ("RUN pip install -r requirements.txt && find . -name '*.pyc' | xargs rm -f\n",
                                   "`find . -name '*.pyc'` runs inside a pipeline"),
    "pipeline-before-the-install": ("RUN echo gunicorn | tee -a requirements.txt && pip install -r requirements.txt\n",
                                    "`tee -a requirements.txt` runs inside a pipeline"),
    "subshell": ("RUN pip install -r requirements.txt && (cd src && rm -rf tests)\n", "`cd src` runs inside"),
    "if-block": ("RUN pip install -r requirements.txt && if [ -d src/tests ]; then rm -rf src/tests; fi\n",
                 "runs inside a pipeline, subshell, group, if, for"),
    "for-loop": ("RUN pip install -r requirements.txt && for f in src/*.pyc; do rm \"$f\"; done\n",
                 "runs inside a pipeline, subshell, group, if, for"),
}


@pytest.mark.parametrize("case", sorted(NESTED_REFUSED))
def test_nested_commands_that_may_use_the_source_are_refused(tmp_path: Path, case: str) -> None:
    run_line, reason = NESTED_REFUSED[case]
    text = BASE + "WORKDIR /app\nCOPY . .\n" + run_line
    files = {"requirements.txt": "flask\n", "src/main.py": "x\n", "src/main.pyc": "c\n", "src/tests/t.py": ""}
    result = _fix(tmp_path, files, text)
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and reason in finding.message, finding.message
    assert "RUN of its own" in finding.message  # what the user can change


@pytest.mark.build
def test_nested_commands_that_read_no_project_file_move_with_the_run(build_image) -> None:  # type: ignore[no-untyped-def]
    text = (BASE + "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt && { echo installed; } "
                   "&& if true; then echo done; fi\n")
    result = _fix(build_image.context, {"requirements.txt": "flask\n", "src/m.py": "x\n"}, text)
    assert "COPY requirements.txt ./\nRUN pip install" in result.output and result.output.endswith("COPY . .\n")
    assert _same_image(build_image, text, result.output) == []


# --------------------------------------------------------------- F10: files and folders named by pip options

WHEELS = {"requirements.txt": "flask\n", "wheels/flask-3.0.3-py3-none-any.whl": "wheel\n", "src/main.py": "x\n"}
LOCAL_INPUTS: dict[str, tuple[dict[str, str], str, str]] = {
    "find-links-on-the-command-line": (
        WHEELS, "RUN pip install --no-index --find-links ./wheels -r requirements.txt\n", "COPY wheels ./wheels/\n"),
    "find-links-attached": (WHEELS, "RUN pip install --no-index -f./wheels -r requirements.txt\n",
                            "COPY wheels ./wheels/\n"),
    "find-links-as-a-file-url": (WHEELS, "RUN pip install --no-index --find-links=file:///app/wheels -r "
                                         "requirements.txt\n", "COPY wheels ./wheels/\n"),
    "cert-on-the-command-line": (
        {"requirements.txt": "flask\n", "certs/corp-ca.pem": "pem\n", "src/main.py": "x\n"},
        "RUN pip install --cert certs/corp-ca.pem -r requirements.txt\n", "COPY certs/corp-ca.pem ./certs/\n"),
    "find-links-in-the-environment": (
        WHEELS, "ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/app/wheels\nRUN pip install -r requirements.txt\n",
        "COPY wheels ./wheels/\n"),
}


@pytest.mark.build
@pytest.mark.parametrize("case", sorted(LOCAL_INPUTS))
def test_local_files_named_by_options_and_variables_are_copied_first(build_image, case: str) -> None:  # type: ignore[no-untyped-def]
    files, run_line, new_copy = LOCAL_INPUTS[case]
    env = run_line.split("\n")[0] + "\n" if run_line.startswith("ENV") else ""
    install = run_line[len(env):]
    text = BASE + STRICT_PIP + env + "WORKDIR /app\nCOPY . .\n" + install
    result = _fix(build_image.context, files, text)
    out = result.output
    assert new_copy in out and out.index(new_copy) < out.index(install) < out.index("COPY . .\n"), out
    assert all(f.fix is not None and f.fix.safe for f in result.findings)
    assert _same_image(build_image, text, out) == []
    assert run(out, NAME, path=build_image.context / "Dockerfile").output == out


LOCAL_REFUSED = {
    "folder-filled-by-two-sources": (
        {**WHEELS, "more/wheels/six-1.0-py3-none-any.whl": "w\n"},
        "WORKDIR /app\nCOPY . .\nCOPY more/ ./\nRUN pip install --no-index -f ./wheels -r requirements.txt\n",
        "also gets files from . (the COPY at line 3)"),
    "variable-without-a-value": (
        WHEELS, "ARG LINKS\nENV PIP_FIND_LINKS=$LINKS\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        "PIP_FIND_LINKS is set to a value the Dockerfile does not give"),
    "percent-escaped-file-url": (WHEELS, "WORKDIR /app\nCOPY . .\nRUN pip install -f file:///app/wh%65els -r "
                                         "requirements.txt\n", "whose path dockerfix cannot tell"),
    "from-another-stage": (
        WHEELS, "WORKDIR /app\nCOPY . .\nCOPY --from=localhost/dockerfix-base /srv /app/wheels\n"
                "RUN pip install -f wheels -r requirements.txt\n", "not from the build context"),
}


@pytest.mark.parametrize("case", sorted(LOCAL_REFUSED))
def test_local_inputs_that_cannot_be_copied_first_are_refused(tmp_path: Path, case: str) -> None:
    files, body, reason = LOCAL_REFUSED[case]
    text = BASE + body
    result = _fix(tmp_path, files, text)
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and reason in finding.message, finding.message


def test_network_indexes_and_links_are_not_inputs(tmp_path: Path) -> None:
    text = (BASE + "WORKDIR /app\nCOPY . .\nRUN pip install -i https://pypi.example/simple "
                   "--find-links https://wheels.example/ -r requirements.txt\n")
    result = _fix(tmp_path, WHEELS, text)
    assert "COPY requirements.txt ./\nRUN pip install -i" in result.output
    assert "COPY wheels" not in result.output


# ---------------------------------------------------------------------------- R4: files already cache-friendly

NPM_FILES = {"package.json": '{"name": "x", "version": "1.0.0", "dependencies": {"left-pad": "1.0.0"}}',
             "package-lock.json": '{"name": "x", "lockfileVersion": 3, "packages": {"": {"name": "x"}, '
                                  '"node_modules/left-pad": {"version": "1.0.0"}}}',
             "src/index.js": "1\n"}
UV_FILES = {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = ["flask"]\n'
                              '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
            "uv.lock": "version = 1\n", "src/x/__init__.py": ""}
CACHE_FRIENDLY: dict[str, tuple[dict[str, str], str]] = {
    "npm-manifests-by-wildcard": (NPM_FILES, "FROM node:20\nWORKDIR /app\n# dependencies first\n"
                                             "COPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"src/index.js\"]\n"),
    "uv-lock-in-place": (UV_FILES, "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
                                   "RUN uv sync --frozen --no-install-project\nCOPY . .\nRUN uv sync --frozen\n"),
    "same-sync-again-after-the-copy": (
        {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = ["flask"]\n', "uv.lock": "version = 1\n",
         "main.py": ""},
        "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --frozen\nCOPY . .\n"
        "RUN uv sync --frozen\n"),
    "requirements-by-wildcard": ({"requirements.txt": "flask\n", "requirements-dev.txt": "pytest\n", "a.py": ""},
                                 "FROM python:3.12\nWORKDIR /app\nCOPY requirements*.txt ./\n"
                                 "RUN pip install -r requirements.txt -r requirements-dev.txt\nCOPY . .\n"),
    "wheels-folder-in-place": (WHEELS, "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt ./\n"
                                       "COPY wheels ./wheels/\nRUN pip install --no-index -f ./wheels -r "
                                       "requirements.txt\nCOPY . .\n"),
}


@pytest.mark.parametrize("case", sorted(CACHE_FRIENDLY))
def test_files_already_cache_friendly_are_left_alone(tmp_path: Path, case: str) -> None:
    files, text = CACHE_FRIENDLY[case]
    result = _fix(tmp_path, files, text)
    assert result.output == text
    assert result.findings == []


def test_a_wildcard_that_also_brings_sources_still_busts_the_cache(tmp_path: Path) -> None:
    files = {"requirements.txt": "flask\n", "app.py": "x\n"}
    text = "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt *.py ./\nRUN pip install -r requirements.txt\n"
    result = _fix(tmp_path, files, text)
    assert result.output == ("FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r "
                             "requirements.txt\nCOPY requirements.txt *.py ./\n")


# --------------------------------------------------------------- directories proven, assumed or unknown (BASE_DIRS)

CD_INSTALL = BASE + "WORKDIR /app\nCOPY . .\nRUN cd /opt && pip install -r /app/requirements.txt\n"
REQS = {"requirements.txt": "flask\n", "src/m.py": "x\n"}


def _bases(read: bool, source: str | None = None) -> dict[str, BaseFacts]:
    source = source or ("buildah store" if read else "an undocumented guess")
    return {"localhost/dockerfix-base": BaseFacts("localhost/dockerfix-base", source, read,
                                                  paths={"/opt": PathInfo(DIR)})}


def test_a_directory_only_assumed_to_exist_is_not_a_safe_fact(tmp_path: Path) -> None:
    unknown = _fix(tmp_path, REQS, CD_INSTALL)
    (finding,) = unknown.findings
    assert finding.fix is None and "the install runs in /opt, which no step before the whole COPY" in finding.message
    assert "let dockerfix read the base image" in finding.message
    assumed = run(CD_INSTALL, NAME, unsafe=True, path=tmp_path / "Dockerfile", bases=_bases(read=False))
    (finding,) = assumed.findings
    assert finding.fix is not None and not finding.fix.safe
    assert any("/opt is taken to exist in the base image" in d and "undocumented guess" in d for d in finding.details)
    assert run(CD_INSTALL, NAME, path=tmp_path / "Dockerfile", bases=_bases(read=False)).output == CD_INSTALL


def test_a_documented_default_of_a_well_known_base_is_named_and_safe(tmp_path: Path) -> None:
    # The same policy as chown-layer: a documented default (knownbases) keeps the fix safe, and the details say so.
    _fix(tmp_path, REQS, CD_INSTALL)  # writes the context
    known = run(CD_INSTALL, NAME, path=tmp_path / "Dockerfile", bases=_bases(read=False, source="known base: test"))
    (finding,) = known.findings
    assert finding.fix is not None and finding.fix.safe and known.output != CD_INSTALL
    assert any("documented default" in d and "/opt exists" in d for d in finding.details)


def test_a_directory_a_run_has_used_is_proven(tmp_path: Path) -> None:
    text = BASE + "WORKDIR /opt\nRUN true\nWORKDIR /app\nCOPY . .\nRUN cd /opt && pip install -r /app/requirements.txt\n"
    result = _fix(tmp_path, REQS, text)
    assert result.findings[0].fix is not None and result.findings[0].fix.safe
    # A WORKDIR alone proves nothing: buildah makes the directory only when a later step needs it.
    lazy = BASE + "WORKDIR /opt\nWORKDIR /app\nCOPY . .\nRUN cd /opt && pip install -r /app/requirements.txt\n"
    assert _fix(tmp_path, REQS, lazy).findings[0].fix is None


@pytest.mark.build
def test_a_directory_read_from_the_base_image_makes_a_safe_fix(build_image) -> None:  # type: ignore[no-untyped-def]
    result = _fix(build_image.context, REQS, CD_INSTALL, bases=_bases(read=True))
    (finding,) = result.findings
    assert finding.fix is not None and finding.fix.safe
    assert _same_image(build_image, CD_INSTALL, result.output) == []


# ------------------------------------------------------------------------- cases that held: they must keep holding

REQDIR = {"requirements/base.txt": "flask\n", "requirements/prod.txt": "-r base.txt\ngunicorn\n", "src/m.py": "x\n"}
HELD: dict[str, tuple[dict[str, str], str, dict[str, int]]] = {
    "requirements-folder-mode": (REQDIR, BASE + "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n",
                                 {"requirements": 0o2770}),
    "context-root-mode": ({"requirements.txt": "flask\n", "src/m.py": "x\n"},
                          BASE + "COPY . /app\nRUN pip install -r /app/requirements.txt\n", {"": 0o750}),
    "dockerignore-negation": (
        {**REQDIR, "requirements/dev.txt": "dev\n",
         ".dockerignore": "requirements\n!requirements/prod.txt\n!requirements/base.txt\n"},
        BASE + "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n", {}),
    "dockerfile-dockerignore": (
        {".dockerignore": "requirements.txt\n", "Dockerfile.dockerignore": "src/*.tmp\n",
         "requirements.lock": "flask==3.0.3\n", "requirements.txt": "flask\n", "src/m.py": "x\n"},
        BASE + "WORKDIR /app\nCOPY requirements.lock ./requirements.txt\nCOPY . .\nRUN pip install -r requirements.txt\n",
        {}),
    "chmod-on-the-whole-copy": (REQDIR, BASE + "WORKDIR /app\nCOPY --chmod=750 . .\nRUN pip install -r "
                                               "requirements/prod.txt\n", {}),
    "chown-whole-copy-lazy-workdir": (REQDIR, BASE + "RUN useradd -u 1500 app\nWORKDIR /home/app/svc\n"
                                                     "COPY --chown=app:app . .\nRUN pip install -r requirements/prod.txt\n",
                                      {}),
    "deps-and-chown": ({"requirements.txt": "flask\n", "src/main.py": "x\n"},
                       BASE + "RUN useradd -u 1500 app\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
                              "RUN chown -R app:app /app\nUSER app\n", {}),
}


@pytest.mark.build
@pytest.mark.parametrize("case", sorted(HELD))
def test_cases_that_held_still_build_the_same_image(build_image, case: str) -> None:  # type: ignore[no-untyped-def]
    files, text, modes = HELD[case]
    context = build_image.context
    result = _fix(context, files, text, select=transforms.names())
    assert result.output != text and "deps-first" in {f.transform for f in result.applied}
    for rel, mode in modes.items():
        (context / rel).chmod(mode)
    try:
        assert _same_image(build_image, text, result.output) == []
    finally:
        for rel in modes:
            (context / rel).chmod(0o755)
