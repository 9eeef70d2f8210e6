"""Batch use on real trees: the right files, git's view, patches per repository, Ctrl-C, permissions, habits."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .helpers import ROOT, SAMPLES
from .test_cli import BEFORE, CLEAN, dockerfix


def _gen_corpus():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_corpus", ROOT / "bench" / "gen_corpus.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _git(*args: str, cwd: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=cwd, check=True, env=env, capture_output=True)


def _files(r: subprocess.CompletedProcess[str]) -> set[str]:
    return {f["path"] for f in json.loads(r.stdout)["files"]}


def test_generated_repositories_only_dockerfiles_are_taken(tmp_path: Path) -> None:
    gen = _gen_corpus()
    counts = gen.generate_repos(tmp_path / "src", repos=3, files_per_repo=20, seed=7)
    r = dockerfix("check", "--format", "json", "--exit-zero", "src", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data["files"]) == counts["dockerfiles"]  # ignored ones (build/, services/local/) are not found
    assert not [f for f in data["files"] if f["error"]]
    assert data["summary"]["skipped"] == counts["decoys"]
    reasons = {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in data["skipped"]}
    assert set(reasons) <= set(n.rsplit("/", 1)[-1] for n in gen.DECOYS)
    assert "template syntax" in reasons.get("Dockerfile.template", "template syntax")
    text = dockerfix("check", "--exit-zero", "src", cwd=tmp_path)
    assert f"{counts['decoys']} skipped (not Dockerfiles)" in text.stderr


@pytest.mark.parametrize("name, content, reason", [
    ("Dockerfile.template", "FROM {{ base }}\n", "template syntax"),
    ("Dockerfile.j2", "{% if x %}\nFROM a\n{% endif %}\n", "template syntax"),
    ("dockerfile.go", "package main\n", "a .go file"),
    ("dockerfile.py", "from os import path\n", "a .py file"),
    ("Dockerfile.dockerignore", "*.log\n", "a .dockerignore file"),
    ("Dockerfile.notes", "Remember the base image\n", "not an instruction"),
])
def test_a_named_non_dockerfile_is_an_error_unless_force_exclude(tmp_path: Path, name: str, content: str,
                                                                  reason: str) -> None:
    (tmp_path / name).write_text(content)
    (tmp_path / "Dockerfile").write_text(BEFORE)
    found = dockerfix("check", "--format", "json", ".", cwd=tmp_path)
    assert _files(found) == {"Dockerfile"} and found.returncode == 1
    r = dockerfix("check", name, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and errors[0].startswith(f"{name}: error: not a Dockerfile (") and reason in errors[0]
    forced = dockerfix("check", "--force-exclude", name, cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize("with_git", [True, False])
def test_the_repository_view_does_not_depend_on_the_working_directory(tmp_path: Path, with_git: bool) -> None:
    repo = tmp_path / "repo"
    for rel in ["services/a/Dockerfile", "services/local/Dockerfile", "services/b/gen.Dockerfile",
                "services/keep/Dockerfile", "ignored/Dockerfile"]:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(CLEAN)
    (repo / ".gitignore").write_text("ignored/\n*gen.Dockerfile\n")
    (repo / "services" / ".gitignore").write_text("local/\n")
    _git("init", "-q", cwd=repo)
    env_path = os.environ["PATH"] if with_git else str(tmp_path / "nogit")
    expected_from_sub = {"a/Dockerfile", "keep/Dockerfile"}
    for cwd, arg, expected in [(repo / "services", ".", expected_from_sub),
                               (repo, "services", {f"services/{p}" for p in expected_from_sub}),
                               (tmp_path, "repo", {f"repo/services/{p}" for p in expected_from_sub})]:
        proc = subprocess.run([sys.executable, "-m", "dockerfix.refactor.cli.main", "check", "--format", "json", arg],
                              cwd=cwd, capture_output=True, text=True, env={**os.environ, "PATH": env_path})
        assert _files(proc) == expected, (cwd, arg, proc.stderr)


def test_patch_dir_one_patch_per_repository_applies_inside_it(tmp_path: Path) -> None:
    gen = _gen_corpus()
    src = tmp_path / "src"
    gen.generate_repos(src, repos=2, files_per_repo=5, seed=3)
    for repo in src.iterdir():  # a fix every repository needs, tracked like real files
        (repo / "app").mkdir(exist_ok=True)
        (repo / "app" / "Dockerfile").write_text(BEFORE)
        (repo / "app" / "a").write_text("x")
        _git("add", "-A", cwd=repo)
        _git("commit", "-qm", "app", cwd=repo)
    r = dockerfix("fix", "--patch-dir", "patches", "src", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert (src / "project-00" / "app" / "Dockerfile").read_text() == BEFORE  # nothing written but the patches
    for repo in sorted(src.iterdir()):
        patch = tmp_path / "patches" / f"{repo.name}.patch"
        body = (tmp_path / "patches" / f"{repo.name}.md").read_text()
        assert "--- a/app/Dockerfile" in patch.read_text()
        subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, check=True)
        subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True)
        assert dockerfix("check", "--format", "json", ".", cwd=repo).returncode == 0
        assert "#### `app/Dockerfile`" in body and "dockerfix verify app/Dockerfile" in body


def test_readme_patch_dir_example_does_what_it_says(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Batch fixing and pull requests", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [ln.split("#", 1)[0].strip() for ln in block.splitlines() if "--patch-dir" in ln or "git -C" in ln]
    assert commands and any("--patch-dir" in c for c in commands) and any("apply" in c for c in commands)
    home = tmp_path / "home"
    for name in ("repo-a", "repo-b"):
        repo = home / "src" / name
        (repo / "svc").mkdir(parents=True)
        (repo / "svc" / "Dockerfile").write_text(BEFORE)
        (repo / "svc" / "a").write_text("x")
        _git("init", "-q", cwd=repo)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for cmd in commands:
        subprocess.run(["bash", "-c", cmd], cwd=work, env=env, check=cmd.startswith("git"), capture_output=True)
    for name in ("repo-a", "repo-b"):
        assert "COPY --chown=1000:1000 a /data/a" in (home / "src" / name / "svc" / "Dockerfile").read_text()
        assert (work / "patches" / f"{name}.md").is_file()


def _written(stdout: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^(\S+): fixed \d+ finding", stdout, re.M)}


def test_ctrl_c_stops_cleanly_reports_what_was_written(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for i in range(1500):
        d = tree / f"svc{i:04d}"
        d.mkdir(parents=True)
        (d / "Dockerfile").write_text(BEFORE)
    errors = (tmp_path / "stderr").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "dockerfix.refactor.cli.main", "fix", "tree"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=errors, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first file written is reported at once
    assert ": fixed 1 finding" in first
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()  # through the same buffer as readline (communicate() would skip what it holds)
    proc.wait(timeout=120)
    errors.seek(0)
    err = errors.read()
    assert proc.returncode == 130, err
    reported = _written(first + rest)
    on_disk = {f"tree/{d.name}/Dockerfile" for d in tree.iterdir() if (d / "Dockerfile").read_text() != BEFORE}
    assert reported == on_disk and 0 < len(on_disk) < 1500
    assert f"{len(on_disk)} written" in err and "interrupted after" in err
    assert not [p for p in tree.rglob("*") if p.name.endswith(".dockerfix")]


def test_fix_streams_a_line_per_file_when_piped(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.Dockerfile").write_text(BEFORE)
    (tmp_path / "clean.Dockerfile").write_text(CLEAN)
    r = dockerfix("fix", cwd=tmp_path)  # `.` by default
    assert r.returncode == 0
    assert sorted(_written(r.stdout)) == ["a.Dockerfile", "b.Dockerfile", "c.Dockerfile"]
    assert "chown-layer" not in r.stdout.replace("(chown-layer)", "")  # fixes listed only with --show-fixes
    (tmp_path / "a.Dockerfile").write_text(BEFORE)
    shown = dockerfix("fix", "--show-fixes", "a.Dockerfile", cwd=tmp_path)
    assert "a.Dockerfile:3:1: chown-layer" in shown.stdout and "fixed" in shown.stdout


# Runs the real CLI as the user "nobody" when this interpreter can run as that user; where it cannot (its prefix
# lies in root's 0700 home, as with pyenv), the same CLI runs as root with the system's answer to "may I write
# this file?" replaced by the one a non-root user gets, so the exit code, the message and the untouched file are
# checked either way.
_AS_NOBODY = ("import os, sys; real = os.access; "
              "os.access = lambda p, m, **k: False if m & os.W_OK and os.path.basename(p) == 'Dockerfile' else real(p, m, **k); "
              "sys.argv = ['dockerfix', 'fix', 'Dockerfile']; "
              "from dockerfix.refactor.cli.main import main; main()")


def _nobody_can_run_python(setpriv: str) -> bool:
    probe = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable, "-c",
                            "import dockerfix.refactor.cli.main"], capture_output=True, cwd="/", check=False)
    return probe.returncode == 0


def test_read_only_file_is_not_written_for_a_non_root_user() -> None:
    d = Path(tempfile.mkdtemp(prefix="dockerfix-ro-"))
    try:
        os.chmod(d, 0o777)
        f = d / "Dockerfile"
        f.write_text(BEFORE)
        setpriv = shutil.which("setpriv")
        if os.geteuid() == 0 and setpriv is not None and _nobody_can_run_python(setpriv):
            os.chown(f, 65534, 65534)
            os.chmod(f, 0o444)
            argv = [setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable,
                    "-m", "dockerfix.refactor.cli.main", "fix", "Dockerfile"]
        else:
            os.chmod(f, 0o444)
            argv = [sys.executable, "-c", _AS_NOBODY]
        proc = subprocess.run(argv, cwd=d, capture_output=True, text=True, env={**os.environ, "HOME": str(d)})
        assert proc.returncode == 2, proc.stderr
        assert "Dockerfile: error: not writable (permission denied); not changed" in proc.stderr
        assert f.read_text() == BEFORE and stat.S_IMODE(f.stat().st_mode) == 0o444
        assert sorted(p.name for p in d.iterdir()) == ["Dockerfile"]
    finally:
        shutil.rmtree(d)


@pytest.mark.parametrize("args, message", [
    (["check", "--pr-body", "missing/pr.md", "Dockerfile"], "dockerfix: --pr-body missing/pr.md: folder missing does not exist"),
    (["check", "--context", "nope", "Dockerfile"], "dockerfix: --context nope: no such directory"),
    (["fix", "--patch-dir", "Dockerfile", "Dockerfile"], "dockerfix: --patch-dir Dockerfile: exists and is not a directory"),
    (["check", "--config", "nope.toml", "Dockerfile"], "dockerfix: --config nope.toml: no such file"),
    (["check", "--verify", "Dockerfile"], None),
    (["layers", "--format", "sarif", "x.tar"], None),
    (["verify", "--format", "github", "Dockerfile"], None),
])
def test_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str | None) -> None:
    (tmp_path / "Dockerfile").write_text(BEFORE)
    r = dockerfix(*args, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    if message:
        assert r.stderr.strip() == message
    assert (tmp_path / "Dockerfile").read_text() == BEFORE


def test_help_has_no_escaped_brackets() -> None:
    for cmd in (["verify", "--help"], ["check", "--help"], ["fix", "--help"]):
        r = dockerfix(*cmd, cwd=Path.cwd())
        assert r.returncode == 0 and "\\[" not in r.stdout
    assert "[required]" in dockerfix("verify", "--help", cwd=Path.cwd()).stdout
    assert "--install-completion" in dockerfix("--help", cwd=Path.cwd()).stdout


def test_no_color_means_no_escape_codes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BEFORE)
    run = lambda env, *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "dockerfix.refactor.cli.main", "check", *a, "Dockerfile"], cwd=tmp_path,
        capture_output=True, text=True, env={**os.environ, "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", **env})
    style = re.compile("\x1b\\[[0-9;]*m")  # SGR: colours, bold, dim (cursor moves of the status are not styles)
    coloured = run({})
    assert style.search(coloured.stdout)  # the check can fail: styles are there without NO_COLOR
    for plain in (run({"NO_COLOR": "1"}), run({}, "--no-color")):
        assert not style.search(plain.stdout + plain.stderr) and "Dockerfile:3:1: chown-layer" in plain.stdout


def test_ruff_habits(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BEFORE)
    (tmp_path / "other.toml").write_text('ignore = ["chown-layer"]\n')
    assert dockerfix("check", "--config", "other.toml", cwd=tmp_path).returncode == 0
    stats = dockerfix("check", "--statistics", cwd=tmp_path)
    assert stats.returncode == 1 and stats.stdout.startswith("1  chown-layer  [*] move a later")
    concise = dockerfix("check", "--output-format", "concise", cwd=tmp_path)
    assert concise.stdout.splitlines()[0].startswith("Dockerfile:3:1: chown-layer") and "COPY gets" not in concise.stdout
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a").write_text("x")
    named = dockerfix("check", "--stdin-filename", "sub/Dockerfile", cwd=tmp_path, stdin=BEFORE)
    assert named.returncode == 1 and named.stdout.startswith("sub/Dockerfile:3:1: chown-layer")
    fixed = dockerfix("fix", "--stdin-filename", "sub/Dockerfile", cwd=tmp_path, stdin=BEFORE)
    assert fixed.returncode == 0 and "COPY --chown=1000:1000 a /data/a" in fixed.stdout


def test_unsafe_fixes_hint_and_pr_body_reasons(tmp_path: Path) -> None:
    shutil.copytree(SAMPLES / "deps-pip-project", tmp_path / "proj")
    (tmp_path / "proj" / "Dockerfile.fixed").unlink(missing_ok=True)
    (tmp_path / "proj" / "Dockerfile.unsafe-fixed").unlink(missing_ok=True)
    r = dockerfix("check", "--pr-body", "pr.md", "proj", cwd=tmp_path)
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option." in r.stderr
    body = (tmp_path / "pr.md").read_text()
    unsafe = body.split("### Fixes not applied because they are unsafe", 1)[1].split("###", 1)[0]
    assert "`proj/Dockerfile` line" in unsafe and "REQUESTED" in unsafe  # the reason, not only the finding
    assert "dockerfix fix --unsafe-fixes" in unsafe
    with_unsafe = dockerfix("check", "--unsafe-fixes", "proj", cwd=tmp_path)
    assert "hidden fix" not in with_unsafe.stderr


def test_pr_body_reads_as_a_pull_request(tmp_path: Path) -> None:
    # A well-known base (its documented defaults make the fix safe without reading the image) and a RUN-created
    # directory (its size is unknown, so the saving is partial).
    (tmp_path / "rc" / "app").mkdir(parents=True)
    (tmp_path / "rc" / "app" / "index.html").write_text("<p>hello</p>\n" * 50)
    (tmp_path / "rc" / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nCOPY app/ /srv/app/\n"
        "RUN mkdir -p /srv/app/cache && echo x > /srv/app/cache/seed\nRUN chown -R 1000:1000 /srv/app\n")
    shutil.copytree(SAMPLES / "refused-volume", tmp_path / "rv")
    for p in tmp_path.rglob("Dockerfile.*fixed"):
        p.unlink()
    r = dockerfix("fix", "--diff", "--pr-body", "pr.md", "rc", "rv", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    body = (tmp_path / "pr.md").read_text()
    assert not re.search(r"refactor/|transforms/|builder-semantics|\.py\b", body)  # nothing the reviewer lacks
    assert "https://docs.docker.com/reference/dockerfile/#copy---chown---chmod" in body
    # Partial savings: the counted part "+ unknown", and where the exact figure comes from.
    assert re.search(r"\*\*\d+(\.\d)? [kM]?B \+ unknown\*\*", body), body
    assert "`dockerfix verify` builds both images and gives the exact figure" in body
    why = body.split("### Why this keeps the image the same", 1)[1].split("\n### ", 1)[0]
    assert all(ln.startswith(("- ", "**", "  - ")) for ln in why.splitlines() if ln.strip())
    assert "### Not changed, and why" in body and "VOLUME" in body
    checked = body.split("### How this was checked", 1)[1]
    assert "No images were built" in checked and "dockerfix verify rc/Dockerfile" in checked
    assert "verified:" not in body


def test_status_shows_while_finding_files_on_a_terminal(tmp_path: Path) -> None:
    import pty

    (tmp_path / "Dockerfile").write_text(CLEAN)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dockerfix.refactor.cli.main", "check", "."], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(master)
    assert b"finding files" in seen


@pytest.mark.build
def test_fix_verify_builds_and_says_so(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = tmp_path / "crlf"
    shutil.copytree(SAMPLES / "crlf", ctx)
    for p in ctx.glob("Dockerfile.*"):
        p.unlink()
    r = dockerfix("fix", "--verify", "--builder", "buildah", "--pr-body", "pr.md", "crlf", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (ctx / "Dockerfile").read_bytes() != (SAMPLES / "crlf" / "Dockerfile").read_bytes()
    body = (tmp_path / "pr.md").read_text()
    assert "- `crlf/Dockerfile`: verified: built before and after with buildah, and the images are the same" in body
    assert "No images were built" not in body
