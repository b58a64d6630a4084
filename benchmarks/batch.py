"""Benchmark (f): an experiment batch end to end, with 1 and 2 workers.

Runs `influence-sim batch` on a copy of the Kazakhstan experiment with N replicates (default
10,000) in a subprocess and samples the resident memory of its whole process tree (the batch
and its worker processes, summed) from /proc. Reports wall time, runs per second and peak
memory (PSS summed over the tree, and the RSS sum, an upper bound that counts shared pages
once per process); writes a Markdown table.

    python benchmarks/batch.py --replicates 10000 --workers 1 2 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = ROOT / "scenarios" / "experiments" / "kazakhstan_2022.toml"


def tree_memory(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in bytes of a process and all its descendants, summed (Linux /proc).

    PSS (proportional set size) divides pages shared between processes (a forkserver's
    workers share their imported libraries) among them, so its sum is the tree's real memory;
    the RSS sum counts shared pages once per process, an upper bound.
    """
    pss = rss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            pss += int(re.search(r"Pss:\s+(\d+)", rollup).group(1)) * 1024
            rss += int(re.search(r"Rss:\s+(\d+)", rollup).group(1)) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo += [int(k) for k in kids]
        except (FileNotFoundError, ProcessLookupError, AttributeError):
            continue
    return pss, rss


def tree_pss(pid: int) -> int:
    """Proportional set size (bytes) of a process and all its descendants (`tree_memory`)."""
    return tree_memory(pid)[0]


def experiment_copy(folder: Path, replicates: int, chunk: int) -> Path:
    text = EXPERIMENT.read_text()
    text = re.sub(r"(?m)^replicates = \d+", f"replicates = {replicates}", text)
    text = re.sub(r"(?m)^chunk = \d+", f"chunk = {chunk}", text)
    base = EXPERIMENT.parent
    text = text.replace('"../', f'"{base}/../')
    path = folder / "experiment.toml"
    path.write_text(text)
    return path


def run(replicates: int, workers: int, chunk: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="isim-bench-"))
    try:
        exp = experiment_copy(folder, replicates, chunk)
        cmd = [
            sys.executable,
            "-m",
            "influence_sim.cli",
            "batch",
            str(exp),
            "--out",
            str(folder / "out"),
            "--workers",
            str(workers),
            "-q",
        ]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        peak = peak_rss = 0
        while proc.poll() is None:
            pss, rss = tree_memory(proc.pid)
            peak, peak_rss = max(peak, pss), max(peak_rss, rss)
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(f"batch failed with status {proc.returncode}")
        size = sum(p.stat().st_size for p in (folder / "out").rglob("*") if p.is_file())
        runs = replicates * 9
        return {
            "replicates": replicates,
            "workers": workers,
            "wall_s": wall,
            "runs_per_s": runs / wall,
            "peak_pss_mib": peak / 2**20,
            "peak_rss_sum_mib": peak_rss / 2**20,
            "store_mib": size / 2**20,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=10_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    rows = [run(args.replicates, w, args.chunk) for w in args.workers]
    lines = [
        "| replicates | workers | wall (s) | runs/s "
        "| peak memory, whole tree, PSS (MiB) | peak RSS summed over the tree (MiB) "
        "| store (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['replicates']} | {r['workers']} | {r['wall_s']:.1f} | "
            f"{r['runs_per_s']:.1f} | {r['peak_pss_mib']:.0f} | {r['peak_rss_sum_mib']:.0f} | "
            f"{r['store_mib']:.0f} |"
        )
    if len(rows) == 2:
        lines.append(
            f"\nspeed-up {rows[1]['workers']} vs {rows[0]['workers']} workers: "
            f"{rows[0]['wall_s'] / rows[1]['wall_s']:.2f}x"
        )
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"batch-{args.replicates}.md").write_text(
        f"<!-- {' '.join(sys.argv)} on {os.cpu_count()} cores -->\n{text}\n"
    )


if __name__ == "__main__":
    main()
