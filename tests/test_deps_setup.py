"""deps-first and the setup around an install: RUNs between the whole COPY and the install that read none of its
files, setup commands in the install's RUN, projects named by -C/--directory/--project, and the samples."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest

from dockerfix import transforms
from dockerfix.refactor.engine import run
from dockerfix.refactor.images.image import compare_images

from .helpers import SAMPLES, read
from .testbases import table

NAME = ["deps-first"]
BASE = "FROM localhost/dockerfix-base\n"
REQS = {"requirements.txt": "flask\n", "src/main.py": "x\n", "run.sh": "#!/bin/sh\n", "entrypoint.sh": "#!/bin/sh\n"}


def _fix(context: Path, files: dict[str, str], text: str, unsafe: bool = False):  # type: ignore[no-untyped-def]
    for rel, content in files.items():
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        (context / rel).write_text(content)
    (context / "Dockerfile").write_text(text)
    return run(text, NAME, unsafe=unsafe, path=context / "Dockerfile")


def _same_image(build_image, original: str, fixed: str) -> list[str]:  # type: ignore[no-untyped-def]
    _, a = build_image(original)
    _, b = build_image(fixed)
    return [d.text for d in compare_images(a, b) if posixpath.basename(d.path) != "Dockerfile"]


# ------------------------------------------------------------------- RUNs between the whole COPY and the install

INSTALL = "RUN pip install -r requirements.txt\n"
SETUP_BETWEEN: dict[str, str] = {
    "upgrade-pip": "RUN pip install --upgrade pip\n",
    "install-a-tool": "RUN pip install --no-cache-dir pipenv==2023.12.1\n",
    "account": "RUN useradd -u 1500 -m app\n",
    "chmod-of-a-file-from-an-earlier-copy": "RUN chmod +x /usr/local/bin/entrypoint.sh\n",
    "several-commands": "RUN pip install --upgrade pip && useradd -u 1500 app && mkdir -p /var/cache/app\n",
    "poetry-config": "RUN poetry config virtualenvs.create false\n",
    "package-manager": "RUN apt-get update && apt-get install -y --no-install-recommends gcc\n",
}


def _between(setup: str, chown: str = "") -> str:
    return (BASE + "COPY entrypoint.sh /usr/local/bin/\nWORKDIR /app\n" + f"COPY {chown}. .\n" + setup + INSTALL
            + "CMD [\"/usr/local/bin/entrypoint.sh\"]\n")


@pytest.mark.parametrize("case", sorted(SETUP_BETWEEN))
def test_setup_runs_between_the_copy_and_the_install_stay_in_place(tmp_path: Path, case: str) -> None:
    setup = SETUP_BETWEEN[case]
    result = _fix(tmp_path, REQS, _between(setup))
    (finding,) = result.findings
    assert finding.fix is not None and finding.fix.safe, finding.message
    out = result.output
    # The setup RUN keeps its place; the manifests, the install and then the whole COPY follow it.
    assert setup + "COPY requirements.txt ./\n" + INSTALL + "COPY . .\n" in out, out
    assert any("kept in place" in d and "RUN (line 5)" in d for d in finding.details)
    assert run(out, NAME, path=tmp_path / "Dockerfile").output == out


BUILD_BETWEEN = ["upgrade-pip", "account", "chmod-of-a-file-from-an-earlier-copy"]


@pytest.mark.build
@pytest.mark.parametrize("case", BUILD_BETWEEN)
def test_setup_runs_between_build_the_same_image(build_image, case: str) -> None:  # type: ignore[no-untyped-def]
    text = _between(SETUP_BETWEEN[case])
    result = _fix(build_image.context, REQS, text)
    assert result.output != text
    assert _same_image(build_image, text, result.output) == []


SETUP_REFUSED = {
    "chmod-of-a-copied-file": ("RUN chmod +x /app/run.sh\n", "", "`chmod +x /app/run.sh` may read or change the "
                                                                  "files that COPY brings (move it below the install"),
    "reads-the-sources": ("RUN python -m compileall src\n", "", "`python -m compileall src` may read or change"),
    "cd-into-the-sources": ("RUN cd src && rm -f x.pyc\n", "", "`cd src` may read or change"),
    "named-owner-after-useradd": ("RUN useradd -u 1500 app\n", "--chown=app ",
                                  "use numeric ids in --chown to make the fix possible"),
    "home-where-the-copy-writes": ("RUN useradd -u 1500 -d /app/home app\n", "",
                                   "writes /app/home, and the install writes there"),
    "bind-mount": ("RUN --mount=type=bind,target=/mnt pip install --upgrade pip\n", "", "with a bind mount"),
}


@pytest.mark.parametrize("case", sorted(SETUP_REFUSED))
def test_setup_runs_that_may_use_the_copied_files_are_refused(tmp_path: Path, case: str) -> None:
    setup, chown, reason = SETUP_REFUSED[case]
    files = {**REQS, "requirements-dev.txt": "pytest\n", "home/.keep": ""}
    text = _between(setup, chown)
    result = _fix(tmp_path, files, text)
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and reason in finding.message, finding.message


def test_a_second_install_between_moves_too(tmp_path: Path) -> None:
    files = {**REQS, "requirements-dev.txt": "pytest\n"}
    out = _fix(tmp_path, files, _between("RUN pip install -r requirements-dev.txt\n")).output
    assert ("COPY requirements-dev.txt ./\nRUN pip install -r requirements-dev.txt\nCOPY requirements.txt ./\n"
            + INSTALL + "COPY . .\n") in out


def test_a_setup_run_in_a_lazy_workdir_before_a_chown_copy_is_refused(tmp_path: Path) -> None:
    """buildah makes the WORKDIR only for the RUN, as root; the COPY --chown after it would no longer own it."""
    text = BASE + "WORKDIR /srv/app\nCOPY --chown=1500:1500 . .\nRUN pip install --upgrade pip\n" + INSTALL
    result = _fix(tmp_path, REQS, text)
    (finding,) = result.findings
    assert finding.fix is None and "the RUN at line 4 would create /srv/app before the COPY" in finding.message


def test_a_chmod_of_a_file_a_moved_copy_brings_is_refused(tmp_path: Path) -> None:
    text = (BASE + "WORKDIR /app\nCOPY . .\nCOPY entrypoint.sh /usr/local/bin/\n"
                   "RUN chmod +x /usr/local/bin/entrypoint.sh\n" + INSTALL)
    (finding,) = _fix(tmp_path, REQS, text).findings
    assert finding.fix is None and "`chmod +x /usr/local/bin/entrypoint.sh` may read or change" in finding.message


def test_setup_commands_in_the_install_run_go_first(tmp_path: Path) -> None:
    text = BASE + "WORKDIR /app\nCOPY . .\nRUN useradd -u 1500 app && chmod 755 /usr/local/bin && " + INSTALL[4:]
    result = _fix(tmp_path, REQS, text)
    assert result.output == (BASE + "WORKDIR /app\nCOPY requirements.txt ./\nRUN useradd -u 1500 app && chmod 755 "
                                    "/usr/local/bin && pip install -r requirements.txt\nCOPY . .\n")


# -------------------------------------------------------------------- projects named by -C, --directory, --project

POETRY = {"svc/pyproject.toml": '[tool.poetry]\nname = "svc"\nversion = "0.1.0"\n[tool.poetry.dependencies]\n'
                                'python = "^3.12"\nflask = "*"\n[build-system]\nrequires = ["poetry-core"]\n'
                                'build-backend = "poetry.core.masonry.api"\n',
          "svc/poetry.lock": "# lock\n", "svc/svc/__init__.py": ""}
UV = {"svc/pyproject.toml": '[project]\nname = "svc"\nversion = "0.1"\ndependencies = ["flask"]\n'
                            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
      "svc/uv.lock": "version = 1\n", "svc/src/svc/__init__.py": ""}
PROJECT_OPTIONS: dict[str, tuple[dict[str, str], str, str, str]] = {
    "poetry-C": (POETRY, "RUN poetry -C svc install --no-interaction\n",
                 "COPY svc/pyproject.toml svc/poetry.lock ./svc/\nRUN poetry -C svc install --no-interaction --no-root\n",
                 "RUN poetry -C svc install --no-interaction\n"),
    "poetry-directory-after": (POETRY, "RUN poetry install --directory=svc\n",
                               "COPY svc/pyproject.toml svc/poetry.lock ./svc/\nRUN poetry install --directory=svc "
                               "--no-root\n", "RUN poetry install --directory=svc\n"),
    "uv-directory": (UV, "RUN uv --directory svc sync --frozen\n",
                     "COPY svc/pyproject.toml svc/uv.lock ./svc/\nRUN uv --directory svc sync --frozen "
                     "--no-install-project\n", "RUN uv --directory svc sync --frozen\n"),
    "uv-project": (UV, "RUN uv sync --project svc --locked\n",
                   "COPY svc/pyproject.toml svc/uv.lock ./svc/\nRUN uv sync --project svc --locked --no-install-project\n",
                   "RUN uv sync --project svc --locked\n"),
}


@pytest.mark.parametrize("case", sorted(PROJECT_OPTIONS))
def test_project_directory_options(tmp_path: Path, case: str) -> None:
    files, install, first, after = PROJECT_OPTIONS[case]
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\n" + install
    result = _fix(tmp_path, files, text)
    assert result.output == "FROM python:3.12\nWORKDIR /app\n" + first + "COPY . .\n" + after
    assert run(result.output, NAME, path=tmp_path / "Dockerfile").output == result.output  # the split is seen


def test_uv_p_is_the_python_not_the_project(tmp_path: Path) -> None:
    files = {k.removeprefix("svc/"): v for k, v in UV.items()}
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN uv sync -p 3.12 --frozen\n"
    out = _fix(tmp_path, files, text).output
    assert "COPY pyproject.toml uv.lock ./\nRUN uv sync -p 3.12 --frozen --no-install-project\n" in out


def test_pipenv_install_with_a_python_option_is_an_install(tmp_path: Path) -> None:
    files = {"Pipfile": '[packages]\nflask = "*"\n', "Pipfile.lock": "{}\n", "app.py": ""}
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pipenv install --deploy --python 3.12\n"
    out = _fix(tmp_path, files, text).output
    assert out.startswith("FROM python:3.12\nWORKDIR /app\nCOPY Pipfile Pipfile.lock ./\nRUN pipenv install")


# ------------------------------------------------------------------------------------ samples with an unsafe fix

UNSAFE_SAMPLES = sorted(p for p in SAMPLES.iterdir() if (p / "Dockerfile.unsafe-fixed").exists())


@pytest.mark.parametrize("sample", UNSAFE_SAMPLES, ids=lambda p: p.name)
def test_unsafe_samples(sample: Path) -> None:
    before = read(sample / "Dockerfile")
    bases = table()  # the test base's facts (samples/user-around-step); the deps samples' bases are not in it
    result = run(before, transforms.names(), unsafe=True, path=sample / "Dockerfile", bases=bases)
    assert result.output == read(sample / "Dockerfile.unsafe-fixed")
    assert run(before, transforms.names(), path=sample / "Dockerfile", bases=bases).output == before
    assert run(result.output, transforms.names(), unsafe=True, path=sample / "Dockerfile", bases=bases).output == \
        result.output
