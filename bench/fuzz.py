"""Differential fuzzer that builds: generated Dockerfiles, fixed by dockerfix, built before and after, compared.

    python3 bench/fuzz.py --cases N --seed S [--start I] [--builder buildah|docker|all] [--keep DIR] [--json FILE]

For each generated case (tests/fuzz/gen.py): `dockerfix fix` with the safe fixes only, through the Python API of
whatever dockerfix is installed; fix(fix(x)) == fix(x) is checked for free. When the text changed, the original
and the fixed Dockerfile are built with each builder (the project's harness: dockerfix.refactor.images.build and
the test base image localhost/dockerfix-base) and the images are compared path by path and by config.

Counts per builder: unchanged, identical, different, fixed-fails (the original builds, the fix does not),
original-fails (the case itself does not build). Every difference, failed fix, dockerfix error and
non-idempotent fix is written to DIR/<builder>/<class>/<case id>/ (case.json, Dockerfile, Dockerfile.fixed, ctx/,
fix.diff, images.txt or build.log), ready to become a regression test. Exit 1 when any was found.

The docker builder needs a daemon (`docker info` must answer), e.g. tests/builders/dockerd.sh start DIR.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.fuzz lives beside this script; dockerfix comes from the installed package

from dockerfix.refactor.images.build import Builder, find_builder  # noqa: E402
from tests.fuzz import gen, run  # noqa: E402


def _no_network(builder: Builder) -> Builder:
    """A daemon started with --bridge=none (tests/builders/dockerd.sh) has no default network: build with none."""
    if builder.name == "docker" and hasattr(builder, "run"):
        inner = builder.run

        def runner(*args: str, **kwargs: Any) -> Any:
            if args and args[0] == "build" and not any(a.startswith("--network") for a in args):
                args = ("build", "--network=none", *args[1:])
            return inner(*args, **kwargs)

        builder.run = runner  # type: ignore[method-assign]
    return builder


@contextlib.contextmanager
def _no_docker_config() -> Iterator[None]:
    """buildah reads DOCKER_CONFIG as the folder of an auth file and fails ("checking authfile") when it has no
    config.json, as in the environment tests/builders/dockerd.sh prints; the docker client needs it, buildah not."""
    saved = os.environ.pop("DOCKER_CONFIG", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["DOCKER_CONFIG"] = saved


def _buildah_env(builder: Builder) -> Builder:
    if builder.name == "buildah" and hasattr(builder, "run"):
        inner = builder.run

        def runner(*args: str, **kwargs: Any) -> Any:
            with _no_docker_config():
                return inner(*args, **kwargs)

        builder.run = runner  # type: ignore[method-assign]
    return builder


def _builders(which: str) -> list[Builder]:
    names = ["buildah", "docker"] if which == "all" else [which]
    out = []
    for name in names:
        with _no_docker_config() if name == "buildah" else contextlib.nullcontext():
            found = find_builder(name)
        if found is None:
            sys.exit(f"fuzz: builder {name} is not available here")
        found = _buildah_env(_no_network(found))
        found.check()
        out.append(found)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=50, help="how many cases to generate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="index of the first case (to resume a slice)")
    ap.add_argument("--builder", choices=("buildah", "docker", "all"), default="buildah")
    ap.add_argument("--keep", type=Path, help="folder for the findings (default: a new folder under /tmp)")
    ap.add_argument("--json", type=Path, help="also write the counts and the findings' ids here")
    ap.add_argument("--no-build", action="store_true", help="only fix (errors and idempotence), build nothing")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    # `kill PID` ends a long slice cleanly: the builders' stores and images are removed by the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    keep = args.keep or Path(tempfile.mkdtemp(prefix="dockerfix-fuzz-"))
    builders = [] if args.no_build else _builders(args.builder)
    counts: dict[str, collections.Counter[str]] = {b.name: collections.Counter() for b in builders}
    common: collections.Counter[str] = collections.Counter()
    found: list[dict[str, Any]] = []
    shapes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)  # in findings
    tried: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)  # in built cases
    seconds: dict[str, float] = collections.Counter()
    started = time.monotonic()
    try:
        for index in range(args.start, args.start + args.cases):
            case = gen.case(args.seed, index)
            common["generated"] += 1
            with tempfile.TemporaryDirectory(prefix="fuzz-ctx-") as tmp:
                context = run.write_context(case, Path(tmp) / "ctx")
                fixed = run.fix(case, context)
                common["changed"] += fixed.changed
                for problem, flag in (("error", fixed.error is not None), ("not-idempotent", not fixed.idempotent)):
                    if flag:
                        common[problem] += 1
                        found.append({"id": case["id"], "builder": "-", "class": problem,
                                      "folder": str(run.save(case, fixed, None, "any", keep))})
                for builder in builders:
                    t0 = time.monotonic()
                    outcome = run.build_and_compare(fixed, context, builder)
                    seconds[builder.name] += time.monotonic() - t0
                    counts[builder.name][outcome.cls] += 1
                    if outcome.cls not in ("unchanged", "original-fails"):
                        tried[builder.name].update(case["shapes"])
                    if outcome.cls in run.BAD:
                        folder = run.save(case, fixed, outcome, builder.name, keep)
                        found.append({"id": case["id"], "builder": builder.name, "class": outcome.cls,
                                      "shapes": case["shapes"], "folder": str(folder)})
                        for tag in case["shapes"]:
                            shapes[builder.name][tag] += 1
                    if not args.quiet:
                        print(f"{case['id']:>12} {builder.name:8} {outcome.cls}", flush=True)
    finally:
        for builder in builders:
            builder.close()
    elapsed = time.monotonic() - started
    report = {"seed": args.seed, "start": args.start, "cases": args.cases, "common": dict(common),
              "builders": {name: dict(c) for name, c in counts.items()}, "seconds": round(elapsed, 1),
              "build_seconds": {k: round(v, 1) for k, v in seconds.items()}, "findings": found,
              "shapes_of_findings": {k: dict(v.most_common()) for k, v in shapes.items()},
              "shapes_built": {k: dict(v.most_common()) for k, v in tried.items()}, "keep": str(keep)}
    print(f"\nseed {args.seed}, cases {args.start}..{args.start + args.cases - 1}: "
          + ", ".join(f"{k} {v}" for k, v in common.items()))
    for name, c in counts.items():
        changed = sum(v for k, v in c.items() if k != "unchanged")
        per = seconds[name] / changed if changed else 0.0
        print(f"  {name}: " + ", ".join(f"{k} {c.get(k, 0)}" for k in run.CLASSES)
              + f"  ({per:.1f} s per changed case)")
        if shapes[name]:
            # The shapes most often wrong when present (at least 3 findings): wrong/built cases with that shape.
            rate = sorted((v / tried[name][k], k) for k, v in shapes[name].items() if v >= 3)
            print("    shapes of the findings (wrong/built): "
                  + ", ".join(f"{k} {shapes[name][k]}/{tried[name][k]}" for _, k in reversed(rate[-15:])))
    print(f"  findings in {keep}" if found else "  no findings")
    print(f"  {elapsed:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if not found and args.keep is None:
        shutil.rmtree(keep, ignore_errors=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
