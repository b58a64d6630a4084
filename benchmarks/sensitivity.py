"""Benchmark: Morris screening (and optionally Sobol') of the CSTO intervention's paired effect.

The uncertainty space of issue 11's speed target: the 13 global parameters of the first
model, each over its `params.toml` range, plus the CSTO deployment's size and the four purge
shares (each over its field's range). The outcome is the paired effect of the intervention,
baseline minus `no_csto`, on a state's balance on 5 March 2022, with 16 replicates per design
point (common random numbers). Prints the wall time and the indices.

    python benchmarks/sensitivity.py --method morris --r 20
    python benchmarks/sensitivity.py --method sobol --n 1024 --chunk 256
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import influence_sim as isim
from influence_sim.analysis.sensitivity import (
    Outcome,
    Space,
    evaluate,
    morris_design,
    morris_indices,
    sobol_design,
    sobol_indices,
)
from influence_sim.params import parameters

ROOT = Path(__file__).resolve().parent.parent
FIRST_MODEL = (
    "peer_weight",
    "pull_scale",
    "institution_gain",
    "patronage_gain",
    "patronage_decay",
    "reputation_relaxation",
    "credibility_relaxation",
    "anchor_learning",
    "legitimacy_weight",
    "force_weight",
    "patronage_drift",
    "contest_noise",
    "pull_noise",
)
EVENTS = (
    "event.csto_deploy.size",
    "event.massimov_arrested.share",
    "event.sons_in_law_removed.share",
    "event.kulibayev_resigns.share",
    "event.abish_dismissed.share",
)


def space() -> Space:
    params = parameters()
    bounds = {n: (float(params[n].low), float(params[n].high)) for n in FIRST_MODEL}  # type: ignore[arg-type]
    bounds.update(dict.fromkeys(EVENTS, (0.0, 1.0)))
    return Space.of(bounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--method", choices=["morris", "sobol"], default="morris")
    ap.add_argument("--r", type=int, default=20, help="Morris trajectories")
    ap.add_argument("--n", type=int, default=1024, help="Sobol' base sample (a power of 2)")
    ap.add_argument("--replicates", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=None, help="design rows per ensemble")
    ap.add_argument("--state", default="KZ")
    args = ap.parse_args()
    base = isim.load_scenario(ROOT / "scenarios/kazakhstan_2022.toml")
    no_csto = isim.load_scenario(ROOT / "scenarios/counterfactuals/no_csto.toml")
    sp = space()
    out = Outcome("balance", args.state, date(2022, 3, 5))
    t0 = time.perf_counter()
    if args.method == "morris":
        x = morris_design(sp, args.r, rng=1)
    else:
        x = sobol_design(sp, args.n, rng=1)
    y = evaluate(
        base, sp, x, out, replicates=args.replicates, against=no_csto, rng=2, chunk=args.chunk
    )
    if args.method == "morris":
        res = morris_indices(sp, x, y, rng=3)
    else:
        res = sobol_indices(sp, y, rng=3)
    wall = time.perf_counter() - t0
    print(
        f"{args.method}: {len(x):,} design rows x {args.replicates} replicates x 2 scenarios, "
        f"{wall:.1f} s wall; noise share of one replicate {res.attrs['noise_single']:.3f}, "
        f"left in the means {res.attrs['noise_in_means']:.3f}"
    )
    print(res.round(4).to_string())


if __name__ == "__main__":
    main()
