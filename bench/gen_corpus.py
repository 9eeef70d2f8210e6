"""Generate a corpus of varied Dockerfiles for the benchmark (deterministic for a given seed).

Mix: sizes from 5 to ~200 instructions, 1-4 stages, heredocs, continuations with comments, CRLF files,
chown layers, late dependency installs, and plenty of files with nothing to fix.

With --repos N: N repository work trees instead (git repositories with root and nested .gitignore files,
sources, ignored build output, real Dockerfiles and files named like Dockerfiles that are not), for discovery.
"""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

BASES = ["python:3.12-slim", "debian:bookworm", "alpine:3.20", "node:20", "ubuntu:24.04", "golang:1.22"]
PKGS = ["curl", "git", "ca-certificates", "build-essential", "libpq-dev", "jq", "unzip", "openssh-client"]


def _stage(rng: random.Random, n: int, idx: int) -> list[str]:
    base = rng.choice(BASES)
    lines = [f"FROM {base} AS stage{idx}" if rng.random() < 0.6 else f"FROM {base}"]
    wdir = rng.choice(["/app", "/srv/app", "/opt/service", "/data", "/workspace"])
    if rng.random() < 0.5:
        lines.append(f"ENV APP_HOME={wdir} \\\n    PYTHONDONTWRITEBYTECODE=1")
        wref = "${APP_HOME}"
    else:
        wref = wdir
    lines.append(f"WORKDIR {wref}")
    for _ in range(n):
        r = rng.random()
        if r < 0.2:
            pk = " \\\n        ".join(rng.sample(PKGS, rng.randint(1, 5)))
            lines.append(f"RUN apt-get update && \\\n    # tools for the build\n    apt-get install -y --no-install-recommends \\\n        {pk} && \\\n    rm -rf /var/lib/apt/lists/*")
        elif r < 0.35:
            src = rng.choice(["src/", "config/", "app.py", "scripts/", "static/"])
            flag = rng.choice(["", "", "--chown=1000:1000 ", "--link "])
            lines.append(f"COPY {flag}{src} {wref}/{src}")
        elif r < 0.45:
            lines.append(rng.choice([
                "RUN pip install --no-cache-dir -r requirements.txt",
                "RUN npm ci --omit=dev",
                "RUN python -m venv /opt/venv && /opt/venv/bin/pip install -U pip",
                f"RUN git clone --depth 1 https://example.com/org/repo{rng.randint(1, 99)}.git {wref}/vendor/repo",
            ]))
        elif r < 0.55:
            lines.append("RUN <<EOF\nset -e\nmkdir -p /var/cache/app\necho configured > /etc/app.conf\nEOF")
        elif r < 0.57:
            lines.append(f"RUN chmod -R 755 {wref}/bin")
        elif r < 0.75:
            lines.append(f'LABEL org.opencontainers.image.revision="{rng.randint(0, 10**8):x}"')
        elif r < 0.82:
            lines.append(f"# step {rng.randint(0, 999)}: keep this comment\nEXPOSE {rng.choice([80, 443, 8000, 8080])}")
        elif r < 0.9:
            lines.append(f"RUN if [ -f {wref}/setup.sh ]; then sh {wref}/setup.sh; fi && \\\n    echo done")
        else:
            lines.append(f"ARG VERSION={rng.randint(1, 9)}.{rng.randint(0, 20)}")
    if rng.random() < 0.3:
        lines.append("COPY . .")
        lines.append("RUN pip install -r requirements.txt")
    if rng.random() < 0.35:
        # The late re-own that real files have at most once or twice per stage.
        lines.append(f"RUN chown -R {rng.choice(['1000:1000', 'app:app', 'www-data'])} {wref}")
    lines.append(rng.choice(['CMD ["python", "app.py"]', "USER 1000", 'ENTRYPOINT ["/entrypoint.sh"]']))
    return lines


def generate(out: Path, count: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        size = rng.choice([3, 5, 8, 12, 20, 40, 80])
        stages = rng.choice([1, 1, 1, 2, 2, 3, 4])
        lines: list[str] = []
        if rng.random() < 0.2:
            lines.append("# syntax=docker/dockerfile:1")
        for s in range(stages):
            lines += _stage(rng, max(1, size // stages), s)
            lines.append("")
        text = "\n".join(lines)
        if rng.random() < 0.1:
            text = text.replace("\n", "\r\n")
        d = out / f"repo{i // 50:02d}" / f"svc{i:04d}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / "Dockerfile"
        p.write_text(text, newline="")
        paths.append(p)
    return paths


GITIGNORE = ["*.pyc", "__pycache__/", "build/", "dist/", "*.egg-info/", ".env", "*.log", "coverage/", ".cache/",
             "tmp/", "*.swp", ".idea/", ".vscode/", "target/", "out/", "*.o", "*.so", "vendor/", "!vendor/keep/",
             "/generated/", "**/snapshots/", "*.tmp", "docs/_build/", "site/", "*.bak"]
# Files named like Dockerfiles that are not: discovery must skip every one of them.
DECOYS = {
    "Dockerfile.dockerignore": "node_modules\n*.log\n",
    "Dockerfile.template": "FROM {{ base_image }}\nRUN echo {{ version }}\n",
    "deploy/dockerfile.go": 'package deploy\n\nfunc Dockerfile() string { return "FROM x" }\n',
    "tools/dockerfile.py": "from textwrap import dedent\n\nTEXT = dedent('FROM x')\n",
    "docs/Dockerfile.md": "# How we build\n",
    "Dockerfile.j2": "{% if prod %}\nFROM python:3.12\n{% endif %}\n",
    "Dockerfile.notes": "Remember to bump the base image.\n",
}


def generate_repos(out: Path, repos: int, files_per_repo: int, seed: int, git: bool = True) -> dict[str, int]:
    """`repos` work trees like real repositories: sources, ignored build output, nested .gitignore files, real
    Dockerfiles (some in ignored folders) and files that only look like Dockerfiles by name."""
    import subprocess

    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    counts = {"files": 0, "dockerfiles": 0, "ignored_dockerfiles": 0, "decoys": 0}

    def put(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, newline="")
        counts["files"] += 1

    for r in range(repos):
        root = out / f"project-{r:02d}"
        # Real .gitignore files are templates of 100-200 rules (GitHub's Python and Node ones).
        extra = [rng.choice(["*.{}", "{}/", "/{}", "**/{}/", "{}-*.txt", "!{}.keep"]).format(f"gen{i}")
                 for i in range(rng.randint(80, 160))]
        put(root / ".gitignore", "\n".join(GITIGNORE + extra) + "\n")
        for i in range(files_per_repo):
            depth = rng.randint(0, 3)
            folder = "/".join(rng.choice(["src", "pkg", "lib", "app", "core", "api", "web", "util"]) for _ in range(depth))
            put(root / folder / f"mod{i}.{rng.choice(['py', 'go', 'js', 'ts', 'md'])}", f"# file {i}\n")
        for d in ("build", "dist", "target", "generated", "web/snapshots"):
            for i in range(files_per_repo // 10):
                put(root / d / f"out{i}.txt", "x\n")
        put(root / "build" / "Dockerfile", "FROM scratch\n")
        put(root / "services" / ".gitignore", "local/\n*.generated\n")
        put(root / "services" / "local" / "Dockerfile", "FROM scratch\n")
        counts["ignored_dockerfiles"] += 2
        for k in range(rng.randint(3, 14)):
            name = rng.choice(["Dockerfile", "Dockerfile.prod", "api.Dockerfile", "Containerfile", "worker.dockerfile"])
            put(root / "services" / f"svc{k}" / name, "\n".join(_stage(rng, rng.choice([3, 8, 20]), 0)) + "\n")
            counts["dockerfiles"] += 1
        for rel, text in DECOYS.items():
            if rng.random() < 0.7:
                put(root / rel, text)
                counts["decoys"] += 1
        if git:
            env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b",
                   "GIT_COMMITTER_EMAIL": "b@example.com", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "HOME": str(out)}
            for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "corpus"]):
                subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path, nargs="?", default=Path(__file__).parent / "corpus")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repos", type=int, default=0, help="instead: this many repository work trees")
    ap.add_argument("--files-per-repo", type=int, default=400)
    args = ap.parse_args()
    if args.repos:
        counts = generate_repos(args.out, args.repos, args.files_per_repo, args.seed)
        print(f"wrote {args.repos} repositories under {args.out}: {counts}")
        return
    paths = generate(args.out, args.count, args.seed)
    print(f"wrote {len(paths)} Dockerfiles under {args.out}")


if __name__ == "__main__":
    main()
