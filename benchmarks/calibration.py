"""Benchmark: history matching of the Kazakhstan baseline to the pre-2022 targets.

Issue 12's speed target: three waves over the first model's 13 parameters plus the event
magnitudes (the CSTO deployment's size and the four purge shares), here with the four world
numbers of the shipped sensitivity experiment as well, each over its declared range, on the
Kazakhstan baseline, in at most 15 minutes on 2 cores. The experiment is
`scenarios/experiments/kazakhstan_2022_sensitivity.toml` (its ``[uncertainty]``: 22 inputs, 16
replicates per point); the targets `influence_sim/data/targets/central_asia_pre2022.toml`.
Prints the wall time per run and the history match's summary.

    python benchmarks/calibration.py --waves 3 --workers 2
    python benchmarks/calibration.py --waves 3 --workers 2 --emulator
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import influence_sim as isim
from influence_sim.analysis.calibration import abc_rejection, history_match
from influence_sim.core.targets import load_targets

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = ROOT / "scenarios" / "experiments" / "kazakhstan_2022_sensitivity.toml"
TARGETS = ROOT / "influence_sim" / "data" / "targets" / "central_asia_pre2022.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--waves", type=int, default=3)
    ap.add_argument("--points", type=int, default=None, help="per wave (default 10 x inputs)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--emulator", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="runs, each in a fresh folder")
    args = ap.parse_args()
    exp = isim.load_experiment(EXPERIMENT)
    targets = load_targets(TARGETS)
    times = []
    for k in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = history_match(
                exp,
                targets,
                Path(tmp) / "hm",
                waves=args.waves,
                points=args.points,
                emulator=args.emulator,
                workers=args.workers,
                progress=False,
            )
            abc = abc_rejection(res, exp, targets)
            times.append(time.perf_counter() - t0)
            print(f"run {k + 1}: {times[-1]:.1f} s")
            if k == 0:
                print(res.describe())
                print(abc.describe())
    times.sort()
    print(
        f"history match, {args.waves} waves, {len(res.constraint)} inputs, workers "
        f"{args.workers}{', emulator' if args.emulator else ''}: median "
        f"{times[len(times) // 2]:.1f} s (min {times[0]:.1f}, max {times[-1]:.1f}, "
        f"{len(times)} runs)"
    )


if __name__ == "__main__":
    main()
