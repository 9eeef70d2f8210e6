"""Generate a corpus of varied Dockerfiles for the benchmark (deterministic for a given seed).

Mix: sizes from 5 to ~200 instructions, 1-4 stages, heredocs, continuations with comments, CRLF files,
chown layers, late dependency installs, and plenty of files with nothing to fix.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path, nargs="?", default=Path(__file__).parent / "corpus")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    paths = generate(args.out, args.count, args.seed)
    print(f"wrote {len(paths)} Dockerfiles under {args.out}")


if __name__ == "__main__":
    main()
