"""The explore view's latency: from an edit to the updated data (and to the redrawn figures).

    python benchmarks/app_latency.py                 # 7 repeats, 200 replicates x 730 days
    python benchmarks/app_latency.py --repeats 11 --replicates 200

What the app does after an edit, timed as it does it (without the browser): build the
edited scenario from the what-if document (`WhatIf.scenario`), run it as one ensemble with
progress (`engine.run`; the unedited scenario's run is cached, as in the app), pair it with
the unedited run and compute the paired effects (`engine.paired_effects`, 2,000 bootstrap
resamples) and which events fired. That is "edit to updated data". Separately, the time to
draw the three figures the page shows (fan chart, map, faction shares, and PNG encoding).

Each repeat makes a different edit (a parameter moved a little), so nothing is reused but the
unedited run. One process, BLAS/OpenMP limited to one thread: one core. Prints the median,
min and max of each; never asserted in tests.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "kazakhstan_2022.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20220105)
    ap.add_argument("--no-figures", action="store_true", help="time the data only")
    args = ap.parse_args()

    import influence_sim as isim
    from influence_sim.app import engine
    from influence_sim.app.whatif import WhatIf

    base = isim.load_scenario(BASELINE)
    cache = engine.BaseCache()
    t0 = time.perf_counter()
    cache.get(base, args.replicates, args.seed)  # the unedited run: once, as in the app
    first = time.perf_counter() - t0
    what = WhatIf(base).with_event("csto_deploy", off=True)

    data, figs = [], []
    for r in range(args.repeats + 1):  # the first repeat warms up and is not counted
        edit = what.with_param("force_weight", 0.04 + 0.001 * (r + 1))
        t0 = time.perf_counter()
        scen = edit.scenario()
        pair = engine.run_pair(base, scen, replicates=args.replicates, seed=args.seed, cache=cache)
        effects = engine.paired_effects(pair, "balance")
        engine.firing_table(pair)
        t1 = time.perf_counter()
        if not args.no_figures:
            draw(pair)
        t2 = time.perf_counter()
        if r:
            data.append(t1 - t0)
            figs.append(t2 - t1)
    kz = effects.set_index("actor").loc[pair.focus_states()[0]]

    def line(name: str, xs: list[float]) -> str:
        return (
            f"{name:34} median {statistics.median(xs):6.3f} s   min {min(xs):6.3f}   "
            f"max {max(xs):6.3f}   ({len(xs)} repeats)"
        )

    print(
        f"app latency: {args.replicates} replicates x {base.steps} steps of {base.step_days} "
        f"day(s), one core ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()})"
    )
    print(f"{'unedited run (once, then cached)':34} {first:6.3f} s")
    print(line("edit -> updated data", data))
    if figs:
        print(line("  then the three figures (PNG)", figs))
        print(
            line(
                "edit -> redrawn page (server side)",
                [a + b for a, b in zip(data, figs, strict=True)],
            )
        )
    print(
        f"(last edit: paired effect on {kz.name}'s balance at the horizon "
        f"{kz['mean']:+.4f} [{kz['ci_low']:+.4f}, {kz['ci_high']:+.4f}])"
    )


def draw(pair) -> None:  # type: ignore[no-untyped-def]
    """The explore view's figures, drawn and encoded as the page does."""
    from matplotlib.figure import Figure

    from influence_sim import plots

    actor = pair.focus_states()[0]
    figures = []
    fan = Figure(figsize=(7.2, 3.9), layout="constrained")
    ax = fan.add_subplot()
    plots.fan_chart(pair, "balance", actor, scenario=pair.edit_name, events="changed", ax=ax)
    figures.append(fan)
    m = Figure(figsize=(5.0, 4.6), layout="constrained")
    plots.choropleth(pair, scenario=pair.edit_name, ax=m.add_subplot())
    figures.append(m)
    fs = Figure(figsize=(7.2, 3.4), layout="constrained")
    plots.faction_shares(pair, actor, scenario=pair.edit_name, events="lines", ax=fs.add_subplot())
    figures.append(fs)
    for fig in figures:
        fig.savefig(io.BytesIO(), format="png", dpi=96, bbox_inches="tight")


if __name__ == "__main__":
    main()
