"""Benchmark: Morris screening (and optionally Sobol') of the CSTO intervention's paired effect.

The uncertainty space of issue 11's speed target: the 13 global parameters of the first
model, each over its `params.toml` range, plus the CSTO deployment's size and the four purge
shares (each over its field's range): 18 inputs. Issue 14's target uses 15 (``--inputs 15``):
the 13 parameters, the CSTO deployment's size and the first purge share (Massimov's arrest).
The outcome is the paired effect of the intervention, baseline minus `no_csto`, on a state's
balance on 5 March 2022, with 16 replicates per design point (common random numbers). Prints
the wall time and the indices (``--json``: also one JSON line of the timings, last, which
`benchmarks/run.py` section g reads).

    python benchmarks/sensitivity.py --method morris --r 20
    python benchmarks/sensitivity.py --method sobol --n 1024 --chunk 256
    python benchmarks/sensitivity.py --method sobol --n 1024 --inputs 15 --chunk 256
"""

from __future__ import annotations

import argparse
import json
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


#: Inputs of each space: the 13 parameters plus all five event magnitudes (18), or plus the
#: first two, the CSTO deployment's size and Massimov's purge share (15).
SPACES = {18: FIRST_MODEL + EVENTS, 15: FIRST_MODEL + EVENTS[:2]}


def space(inputs: int = 18) -> Space:
    params = parameters()
    names = SPACES[inputs]
    bounds = {n: (float(params[n].low), float(params[n].high)) for n in FIRST_MODEL}  # type: ignore[arg-type]
    bounds.update({n: (0.0, 1.0) for n in names if n in EVENTS})
    return Space.of(bounds)


def compiled_in_process() -> tuple[int, int]:
    """(cache hits, cache misses) of the compiled step's functions in this process so far.

    A miss is a compilation: the on-disk cache did not hold the function for its types.
    """
    from influence_sim.core import fused

    hits = misses = 0
    for obj in vars(fused).values():
        stats = getattr(obj, "stats", None)
        if stats is not None and hasattr(stats, "cache_misses"):
            hits += sum(stats.cache_hits.values())
            misses += sum(stats.cache_misses.values())
    return hits, misses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--method", choices=["morris", "sobol"], default="morris")
    ap.add_argument("--r", type=int, default=20, help="Morris trajectories")
    ap.add_argument("--n", type=int, default=1024, help="Sobol' base sample (a power of 2)")
    ap.add_argument("--replicates", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=None, help="design rows per ensemble")
    ap.add_argument("--state", default="KZ")
    ap.add_argument("--inputs", type=int, choices=sorted(SPACES), default=18)
    ap.add_argument("--json", action="store_true", help="also print the timings as JSON, last")
    args = ap.parse_args()
    base = isim.load_scenario(ROOT / "scenarios/kazakhstan_2022.toml")
    no_csto = isim.load_scenario(ROOT / "scenarios/counterfactuals/no_csto.toml")
    sp = space(args.inputs)
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
    if args.json:
        hits, misses = compiled_in_process()
        summary = {
            "method": args.method,
            "inputs": len(sp.names),
            "rows": len(x),
            "replicates": args.replicates,
            "chunk": args.chunk,
            "wall_s": wall,
            "cache_hits": hits,
            "cache_misses": misses,
        }
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
