"""influence-sim benchmark suite: one command, one table.

    python benchmarks/run.py                  # sections a-e (a few minutes)
    python benchmarks/run.py --quick          # smoke run: small sizes, 2 repeats (< 1 minute)
    python benchmarks/run.py --only b,d       # some sections
    python benchmarks/run.py --all            # a-f; f is the 10,000-replicate batch (~10+ min)
    python benchmarks/run.py --repeats 9 --out /tmp/bench

Sections (docs/performance.md describes each):
  a  single replicate: InfluenceModel.step() loop and simulate(replicates=1), Kazakhstan baseline
  b  ensemble throughput (replicate-steps/s) at R = 1, 100, 1000; 1,000 x 365 daily steps
  c  synthetic worlds of 1k, 10k, 100k factions: construction, steps/s, peak memory
  d  bare limit: a plain sparse Friedkin-Johnsen update on the same matrices; ratios to b and c
  e  naive reference: a per-agent Mesa implementation (benchmarks/naive_mesa.py) at 1k factions
  f  benchmarks/batch.py: the 10,000-replicate experiment batch with 1 and 2 workers

Every number is the median over repeats (default 5, fewer for slow cases), with min and max.
Writes <out>/benchmarks.md (and the raw numbers as <out>/benchmarks.json) and prints the table.
BLAS/OpenMP thread pools are limited to one thread (unless already set in the environment), so
every timing except section f is of one process on one core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = ROOT / "scenarios" / "kazakhstan_2022.toml"
SECTIONS = "abcdef"
DEFAULT_SECTIONS = "abcde"
SYNTH_SEED = 0  # every synthetic world of the suite is synthetic(F // 10, 10, 10, 2, rng=0)

if str(HERE) not in sys.path:  # run as a script, benchmarks/ is already sys.path[0]
    sys.path.insert(0, str(HERE))


# ---- rows ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    id: str
    what: str
    size: str
    metric: str
    values: list[float]
    command: str
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def as_json(self) -> dict:
        d = dataclasses.asdict(self)
        d.update(median=self.median, min=min(self.values), max=max(self.values), n=len(self.values))
        return d


def fmt(v: float) -> str:
    if v != v:  # nan
        return "n/a"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def ratio_row(rid, what, size, num: Row, den: Row, command, *, invert=False) -> Row:
    """num/den of two rows: the value is the ratio of medians; the range combines the extremes."""
    n, d = (den, num) if invert else (num, den)
    r = Row(rid, what, size, "ratio (x)", [n.median / d.median], command)
    r.extra = {
        "low": min(n.values) / max(d.values),
        "high": max(n.values) / min(d.values),
        "of": [num.id, den.id],
    }
    return r


def rng_text(row: Row) -> str:
    if "low" in row.extra:
        return f"({fmt(row.extra['low'])}–{fmt(row.extra['high'])})"
    if len(row.values) == 1:
        return "—"
    return f"({fmt(min(row.values))}–{fmt(max(row.values))})"


def timed(fn: Callable[[], object], repeats: int, setup: Callable[[], object] | None = None):
    """Wall times (perf_counter) of ``fn(setup())`` over repeats; setup is not timed."""
    out = []
    for _ in range(repeats):
        arg = setup() if setup is not None else None
        gc.collect()
        t0 = time.perf_counter()
        fn(arg) if setup is not None else fn()
        out.append(time.perf_counter() - t0)
    return out


@dataclasses.dataclass
class Config:
    quick: bool
    repeats: int | None
    only: str

    def reps(self, cap: int | None = None) -> int:
        n = self.repeats if self.repeats is not None else (2 if self.quick else 5)
        return min(n, cap) if cap is not None and self.repeats is None else n

    def command(self, section: str) -> str:
        cmd = f"python benchmarks/run.py --only {section}"
        if self.quick:
            cmd += " --quick"
        if self.repeats is not None:
            cmd += f" --repeats {self.repeats}"
        return cmd


def baseline(steps: int | None = None):
    import influence_sim as isim

    scen = isim.load_scenario(BASELINE)
    return scen if steps is None else dataclasses.replace(scen, steps=steps)


# ---- (a) single replicate --------------------------------------------------------------------


def section_a(cfg: Config) -> list[Row]:
    from influence_sim import InfluenceModel, simulate

    cmd = cfg.command("a")
    scen = baseline(60 if cfg.quick else None)
    T = scen.steps
    size = f"Kazakhstan baseline, F={len(scen.world.factions)}, {T} steps"
    simulate(baseline(3), replicates=1, rng=0)  # warm-up: lazy imports
    build = timed(lambda: InfluenceModel(scen, rng=0), cfg.reps())

    def run_model(m):
        while m.running:
            m.step()

    loop = timed(run_model, cfg.reps(), setup=lambda: InfluenceModel(scen, rng=0))
    sim = timed(lambda: simulate(scen, replicates=1, rng=0), cfg.reps())
    return [
        Row(
            "a1",
            "InfluenceModel: `model.step()` loop to the horizon, DataCollector included "
            "(construction not timed)",
            size,
            "steps/s",
            [T / t for t in loop],
            cmd,
        ),
        Row(
            "a2",
            "`simulate(scen, replicates=1, rng=0)` (every=1), whole call",
            size,
            "steps/s",
            [T / t for t in sim],
            cmd,
        ),
        Row(
            "a3",
            "InfluenceModel construction (kernel, steady state, agents, first collect)",
            size,
            "s",
            build,
            cmd,
        ),
    ]


# ---- (b) ensemble throughput -----------------------------------------------------------------


def section_b(cfg: Config) -> list[Row]:
    from influence_sim import simulate

    cmd = cfg.command("b")
    scen = baseline(60 if cfg.quick else None)
    T = scen.steps
    F = len(scen.world.factions)
    simulate(baseline(3), replicates=2, rng=0)  # warm-up
    rows = []
    for k, R in enumerate((1, 100, 1000), start=1):
        ts = timed(
            lambda R=R: simulate(scen, replicates=R, rng=0, every=T),
            cfg.reps(3 if R >= 1000 else None),
        )
        rows.append(
            Row(
                f"b{k}",
                f"`simulate(scen, replicates={R}, rng=0, every={T})`, whole call, all 13 events",
                f"Kazakhstan, F={F}, R={R}, {T} steps",
                "replicate-steps/s",
                [R * T / t for t in ts],
                cmd,
                {"R": R, "T": T},
            )
        )
    ts = timed(lambda: simulate(scen, replicates=1000, rng=0, every=1), cfg.reps(3))
    rows.append(
        Row(
            "b4",
            "`simulate(scen, replicates=1000, rng=0, every=1)`: recording every step",
            f"Kazakhstan, F={F}, R=1000, {T} steps",
            "replicate-steps/s",
            [1000 * T / t for t in ts],
            cmd,
            {"R": 1000, "T": T},
        )
    )
    T2 = 60 if cfg.quick else 365
    scen2 = baseline(T2)
    walls, cpus = [], []
    for _ in range(cfg.reps(5)):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        simulate(scen2, replicates=1000, rng=0, every=T2)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    cpu_ratio = statistics.median(c / w for c, w in zip(cpus, walls, strict=True))
    rows.append(
        Row(
            "b5",
            f"1,000 replicates x {T2} daily steps, one process, one thread "
            f"(`simulate(..., replicates=1000, every={T2})`; CPU/wall "
            f"{cpu_ratio:.2f})",
            f"Kazakhstan cut to {T2} steps, R=1000",
            "s",
            walls,
            cmd,
            {"cpu_s": cpus},
        )
    )
    return rows


# ---- (c) + (d, synthetic part): one subprocess per size --------------------------------------


def synthetic_worker(spec: dict) -> dict:
    """Run in a fresh process: build the world, time Ensemble.step, then the bare update."""
    import numpy as np

    import influence_sim  # noqa: F401  (imports mesa, scipy, ...: the baseline memory)
    from influence_sim.core.kernel import Ensemble, default_params
    from influence_sim.core.synthetic import synthetic

    def rss_mib() -> float:
        """Peak resident set size so far (MiB): VmHWM, the high-water mark of this process's
        memory map. (ru_maxrss is not used: on Linux it carries the parent's peak across
        fork + exec, so a worker forked by a large parent would report the parent's peak.)"""
        status = Path("/proc/self/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
        return int(kib) / 1024

    from bare import BareFJ, influence_matrix

    F, steps, reps = spec["factions"], spec["steps"], spec["repeats"]
    out: dict = {"rss_imports": rss_mib()}
    t0 = time.perf_counter()
    world = synthetic(F // 10, 10, 10, 2, rng=SYNTH_SEED)
    out["world_s"] = time.perf_counter() - t0
    out["rss_world"] = rss_mib()
    t0 = time.perf_counter()
    ens = Ensemble(world, default_params(), 1, 1, [np.random.default_rng(0)])
    out["ensemble_s"] = time.perf_counter() - t0
    out["rss_ensemble"] = rss_mib()

    def run_full():
        for _ in range(steps):
            ens.step()

    run_full()  # warm-up (first step allocates the channel cache)
    out["full_s"] = timed(run_full, reps)
    out["rss_peak"] = rss_mib()
    # (d) the bare update on the same matrices
    t0 = time.perf_counter()
    W, fixed, lam, x0 = influence_matrix(ens)
    out["bare_build_s"] = time.perf_counter() - t0
    bare = BareFJ(W, fixed, lam, x0, R=1)

    def run_bare():
        for _ in range(steps):
            bare.step()

    run_bare()
    out["bare_s"] = timed(run_bare, reps)
    # same matrices, same dynamics: one step of each from the anchors agrees
    ens.x[:] = ens.anchor
    bare.x = x0.copy()
    ens.step()
    bare.step()
    out["bare_vs_full_maxdiff"] = float(np.abs(ens.x[0] - bare.replicate(0)).max())
    if F <= 2000:
        dense = ens.influence_system(0).W
        out["W_vs_influence_system_maxdiff"] = float(np.abs(W.toarray() - dense).max())
    out["nnz_W"] = int(W.nnz)
    return out


def synthetic_runs(cfg: Config) -> list[dict]:
    sizes = (
        ((1_000, 50), (10_000, 20)) if cfg.quick else ((1_000, 200), (10_000, 100), (100_000, 50))
    )
    runs = []
    for F, steps in sizes:
        spec = {"factions": F, "steps": steps, "repeats": cfg.reps()}
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--_synthetic", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            raise SystemExit(f"synthetic worker for F={F} failed")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        assert res["bare_vs_full_maxdiff"] < 1e-12, res
        assert res.get("W_vs_influence_system_maxdiff", 0.0) < 1e-12, res
        runs.append({**spec, **res})
    return runs


def label(F: int) -> str:
    return f"{F // 1000}k" if F >= 1000 else str(F)


def section_c(cfg: Config, runs: list[dict]) -> list[Row]:
    cmd = cfg.command("c")
    rows = []
    for k, r in enumerate(runs):
        F, steps = r["factions"], r["steps"]
        size = f"synthetic F={F:,} ({F // 10:,} states x 10, 10 ties, 2 powers), R=1"
        base = 4 * k
        rows += [
            Row(
                f"c{base + 1}",
                f"`Ensemble.step()` x {steps} per repeat, single replicate",
                size,
                "steps/s",
                [steps / t for t in r["full_s"]],
                cmd,
                {"F": F},
            ),
            Row(
                f"c{base + 2}",
                "construction: `synthetic(...)` world generation",
                size,
                "s",
                [r["world_s"]],
                cmd,
            ),
            Row(
                f"c{base + 3}",
                "construction: `Ensemble(world, ...)` incl. steady-state solve",
                size,
                "s",
                [r["ensemble_s"]],
                cmd,
            ),
            Row(
                f"c{base + 4}",
                "peak RSS of a fresh process (VmHWM, MiB): after imports "
                f"{r['rss_imports']:.0f}, after world {r['rss_world']:.0f}, after Ensemble "
                f"{r['rss_ensemble']:.0f}, after steps",
                size,
                "MiB",
                [r["rss_peak"]],
                cmd,
            ),
        ]
    return rows


# ---- (d) bare limit --------------------------------------------------------------------------


def section_d(cfg: Config, runs: list[dict], b_rows: dict[str, Row]) -> list[Row]:
    import numpy as np
    from bare import BareFJ, influence_matrix

    from influence_sim import InfluenceModel

    cmd = cfg.command("d")
    scen = baseline(60 if cfg.quick else None)
    T = scen.steps
    F = len(scen.world.factions)
    model = InfluenceModel(scen, rng=0)
    system = model.influence_system()
    W_sparse = influence_matrix(model.ensemble)[0]
    assert np.abs(W_sparse.toarray() - system.W).max() < 1e-12
    rows: list[Row] = []
    bare_rows: dict[int, Row] = {}
    for k, R in enumerate((1, 100, 1000), start=1):
        bare = BareFJ(system.W, system.fixed, system.lam, system.x0, R=R)

        def run(bare=bare):
            for _ in range(T):
                bare.step()

        run()
        ts = timed(run, cfg.reps())
        bare_rows[R] = Row(
            f"d{k}",
            "bare sparse FJ update, `x = lam*(W_ff@x + W_fo@Y) + "
            "(1-lam)*x0`, replicates stacked as x (F, R*P); W from "
            "`model.influence_system()`",
            f"Kazakhstan, F={F}, R={R}, {T} steps",
            "replicate-steps/s",
            [R * T / t for t in ts],
            cmd,
            {"R": R},
        )
    rows += bare_rows.values()
    k = 3  # ids d4-d6: (b)/(d) ratios, present when b runs too; d7 on: synthetic sizes
    for R, brow in bare_rows.items():
        full = next(
            (r for r in b_rows.values() if r.extra.get("R") == R and r.id in ("b1", "b2", "b3")),
            None,
        )
        if full is not None:
            k += 1
            rows.append(
                ratio_row(
                    f"d{k}",
                    f"(b)/(d): `simulate` ({full.id}) over bare ({brow.id}); target >= 0.2",
                    f"Kazakhstan, R={R}",
                    full,
                    brow,
                    cfg.command("b,d"),
                )
            )
    k = 6
    for i, r in enumerate(runs):
        F, steps = r["factions"], r["steps"]
        size = f"synthetic F={F:,}, R=1"
        k += 1
        bare = Row(
            f"d{k}",
            f"bare sparse FJ update on the same W (built from the Ensemble "
            f"in {r['bare_build_s']:.2f} s; nnz {r['nnz_W']:,}), x {steps} per repeat",
            size,
            "steps/s",
            [steps / t for t in r["bare_s"]],
            cmd,
            {"F": F},
        )
        full = Row("", "", size, "steps/s", [steps / t for t in r["full_s"]], cmd)
        k += 1
        rows += [
            bare,
            ratio_row(
                f"d{k}",
                f"full model / bare: `Ensemble.step()` (c{4 * i + 1}) over {bare.id}, same process",
                size,
                full,
                bare,
                cmd,
            ),
        ]
    return rows


# ---- (e) naive reference ---------------------------------------------------------------------


def section_e(cfg: Config) -> list[Row]:
    import naive_mesa
    import numpy as np
    from bare import BareFJ, influence_matrix

    from influence_sim import simulate
    from influence_sim.core.kernel import Ensemble, default_params
    from influence_sim.core.synthetic import as_scenario, synthetic

    cmd = cfg.command("e")
    F = 1000
    world = synthetic(F // 10, 10, 10, 2, rng=SYNTH_SEED)
    ens = Ensemble(world, default_params(), 1, 1, [np.random.default_rng(0)])
    W, fixed, lam, x0 = influence_matrix(ens)
    assert np.abs(W.toarray() - ens.influence_system(0).W).max() < 1e-12
    naive = naive_mesa.from_system(W, fixed, lam, x0)
    bare = BareFJ(W, fixed, lam, x0)
    for _ in range(5):  # fairness check: the naive model computes the bare update
        naive.step()
        bare.step()
    diff = float(np.abs(naive.scores() - bare.replicate(0)).max())
    assert diff < 1e-9, f"naive Mesa model differs from the bare update by {diff}"
    size = f"synthetic F={F:,} (100 x 10, 10 ties, 2 powers)"
    steps = 5 if cfg.quick else 20

    def run_naive():
        for _ in range(steps):
            naive.step()

    ts = timed(run_naive, cfg.reps())
    naive_row = Row(
        "e1",
        f"naive per-agent Mesa FJ (benchmarks/naive_mesa.py), `agents.do('step')"
        f"` + `do('advance')`, x {steps} steps; matches bare to {diff:.1e}",
        size + ", R=1",
        "agent-updates/s",
        [F * steps / t for t in ts],
        cmd,
    )
    rows = [naive_row]
    cases = ((1, 50), (100, 5)) if cfg.quick else ((1, 200), (100, 30), (1000, 10))
    simulate(as_scenario(world, steps=2), replicates=2, rng=0)  # warm-up
    k = 1
    for R, T in cases:
        scen = as_scenario(world, steps=T)
        ts = timed(
            lambda R=R, scen=scen, T=T: simulate(scen, replicates=R, rng=0, every=T),
            cfg.reps(3 if R >= 1000 else None),
        )
        k += 1
        full = Row(
            f"e{k}",
            f"full model: `simulate(as_scenario(world, steps={T}), replicates="
            f"{R}, every={T})`, whole call; replicate-steps/s x F",
            size + f", R={R}",
            "agent-updates/s",
            [R * T * F / t for t in ts],
            cmd,
            {"R": R},
        )
        k += 1
        rows += [
            full,
            ratio_row(
                f"e{k}",
                f"full model ({full.id}) / naive Mesa (e1); target >= 500",
                size + f", R={R}",
                full,
                naive_row,
                cmd,
            ),
        ]
    # for context: the bare update (section d) on the same W, as agent-updates/s
    for R in (1, 100) if cfg.quick else (1, 100, 1000):
        stacked = BareFJ(W, fixed, lam, x0, R=R)
        T = max(10, 4000 // R) if not cfg.quick else 5

        def run_bare(b=stacked, T=T):
            for _ in range(T):
                b.step()

        run_bare()
        ts = timed(run_bare, cfg.reps())
        k += 1
        brow = Row(
            f"e{k}",
            f"bare sparse FJ update (section d) on the same W, x {T} steps, replicates stacked",
            size + f", R={R}",
            "agent-updates/s",
            [R * T * F / t for t in ts],
            cmd,
            {"R": R},
        )
        k += 1
        rows += [
            brow,
            ratio_row(
                f"e{k}",
                f"bare ({brow.id}) / naive Mesa (e1): the ceiling of that ratio",
                size + f", R={R}",
                brow,
                naive_row,
                cmd,
            ),
        ]
    return rows


# ---- (f) batch -------------------------------------------------------------------------------


def section_f(cfg: Config) -> list[Row]:
    import batch

    cmd = cfg.command("f")
    n = 200 if cfg.quick else 10_000
    res = {w: batch.run(n, w, 250) for w in (1, 2)}
    rows = []
    for k, w in enumerate((1, 2)):
        r = res[w]
        size = f"Kazakhstan experiment, {n:,} replicates x 9 scenarios, {w} worker(s)"
        rows += [
            Row(
                f"f{3 * k + 1}",
                "`influence-sim batch` wall time (benchmarks/batch.py `run`)",
                size,
                "s",
                [r["wall_s"]],
                cmd,
            ),
            Row(
                f"f{3 * k + 2}",
                "runs (scenario-replicates) per second",
                size,
                "runs/s",
                [r["runs_per_s"]],
                cmd,
            ),
            Row(
                f"f{3 * k + 3}",
                "peak memory of the whole process tree (PSS, sampled 10/s)",
                size,
                "MiB",
                [r["peak_pss_mib"]],
                cmd,
            ),
        ]
    rows.append(
        Row(
            "f7",
            "speed-up, 2 workers vs 1 (wall time ratio); target >= 1.7",
            f"{n:,} replicates",
            "ratio (x)",
            [res[1]["wall_s"] / res[2]["wall_s"]],
            cmd,
        )
    )
    return rows


# ---- targets ---------------------------------------------------------------------------------


def targets(rows: dict[str, Row], quick: bool) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for every target whose rows were measured."""
    out = []

    def verdict(ok: bool) -> str:
        return (
            "n/a: --quick sizes differ from the target's" if quick else "met" if ok else "NOT met"
        )

    ratios = [r for r in rows.values() if r.what.startswith("(b)/(d)")]
    if ratios:
        vals = ", ".join(f"R={r.size.split('R=')[1]}: {r.median:.2f}" for r in ratios)
        out.append(
            (
                "(b) >= 1/5 of (d) at the same size and R",
                vals,
                verdict(all(r.median >= 0.2 for r in ratios)),
            )
        )
    e_ratios = [
        r
        for r in rows.values()
        if r.id.startswith("e") and r.what.startswith("full") and r.metric.startswith("ratio")
    ]
    if e_ratios:
        vals = ", ".join(f"R={r.size.split('R=')[1]}: {r.median:,.0f}x" for r in e_ratios)
        best = max(r.median for r in e_ratios)
        r1 = e_ratios[0].median
        v = "met at R=1" if r1 >= 500 else "met with ensembles only" if best >= 500 else "NOT met"
        out.append(
            (
                ">= 500x naive per replicate-step at 1,000 factions",
                vals,
                verdict(True) if quick else v,
            )
        )
    big = [r for r in rows.values() if r.id.startswith("c") and r.metric == "steps/s"]
    if big:
        r = max(big, key=lambda r: r.extra["F"])
        out.append(
            (
                "100,000-faction synthetic world >= 50 steps/s, one replicate",
                f"{r.median:.1f} steps/s at F={r.extra['F']:,}",
                verdict(r.median >= 50)
                if r.extra["F"] == 100_000
                else "not measured (100k not in this run)",
            )
        )
    if "b5" in rows:
        r = rows["b5"]
        out.append(
            (
                "1,000 replicates x 365 daily steps of the baseline < 2 s on one core",
                f"{r.median:.2f} s",
                verdict(r.median < 2),
            )
        )
    if "f7" in rows:
        out.append(
            (
                "2 workers >= 1.7x the throughput of 1 worker",
                f"{rows['f7'].median:.2f}x",
                verdict(rows["f7"].median >= 1.7),
            )
        )
        peak = max(rows["f3"].median, rows["f6"].median)
        out.append(
            (
                "peak memory < 1 GiB for the 10,000-replicate batch",
                f"{peak:.0f} MiB",
                verdict(peak < 1024),
            )
        )
    return out


# ---- main ------------------------------------------------------------------------------------


def git_state() -> str:
    """Short commit of the work tree, with "+dirty" if influence_sim/ differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "influence_sim"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine() -> dict:
    import mesa
    import numpy
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "mesa": mesa.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
    }


def render(rows: list[Row], tg, meta: dict) -> str:
    lines = [
        "# influence-sim benchmarks",
        "",
        f"Run {meta['date']} at commit {meta['commit']} with `{meta['command']}` "
        f"({meta['wall_s']:.0f} s); "
        f"Python {meta['machine']['python']}, numpy {meta['machine']['numpy']}, scipy "
        f"{meta['machine']['scipy']}, mesa {meta['machine']['mesa']}, "
        f"{meta['machine']['cpus']} CPUs, BLAS threads "
        f"{meta['machine']['threads']['OPENBLAS_NUM_THREADS']}; 1-minute load average "
        f"{meta['loadavg_1min'][0]} before, {meta['loadavg_1min'][1]} after (the suite itself "
        "adds about 1 to it).",
        "Median over n repeats, (min–max); ratios are of medians, their range combines the "
        "extremes. Each row's command reruns its section.",
        "",
        "| id | what | size | metric | median | (min–max) | n | command |",
        "|---|---|---|---|---:|---|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.id} | {r.what} | {r.size} | {r.metric} | {fmt(r.median)} | "
            f"{rng_text(r)} | {len(r.values)} | `{r.command}` |"
        )
    if tg:
        lines += ["", "| target | measured | verdict |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in tg]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, 2 repeats (< 1 minute)")
    ap.add_argument("--only", help=f"comma-separated sections out of {','.join(SECTIONS)}")
    ap.add_argument("--all", action="store_true", help="all sections, including f (slow)")
    ap.add_argument(
        "--repeats",
        type=int,
        help="repeats per measurement (default 5; fewer for slow cases; 2 with --quick)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--_synthetic", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._synthetic:
        print(json.dumps(synthetic_worker(json.loads(args._synthetic))))
        return
    if args.only and args.all:
        ap.error("--only and --all are exclusive")
    chosen = SECTIONS if args.all else DEFAULT_SECTIONS
    if args.only:
        chosen = "".join(s.strip() for s in args.only.split(","))
        bad = set(chosen) - set(SECTIONS)
        if bad or not chosen:
            ap.error(f"unknown section(s) {sorted(bad)}; choose from {','.join(SECTIONS)}")
    if args.repeats is not None and args.repeats < 1:
        ap.error("--repeats must be >= 1")
    cfg = Config(quick=args.quick, repeats=args.repeats, only=chosen)
    load_before = os.getloadavg()
    started = time.perf_counter()
    rows: list[Row] = []

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    if "a" in chosen:
        log("a: single replicate")
        rows += section_a(cfg)
    b_rows: dict[str, Row] = {}
    if "b" in chosen:
        log("b: ensemble throughput")
        b = section_b(cfg)
        rows += b
        b_rows = {r.id: r for r in b}
    runs = []
    if "c" in chosen or "d" in chosen:
        log("c/d: synthetic worlds (one subprocess per size)")
        runs = synthetic_runs(cfg)
    if "c" in chosen:
        rows += section_c(cfg, runs)
    if "d" in chosen:
        log("d: bare limit")
        rows += section_d(cfg, runs, b_rows)
    if "e" in chosen:
        log("e: naive Mesa reference")
        rows += section_e(cfg)
    if "f" in chosen:
        log("f: experiment batch, 1 and 2 workers (slow)")
        rows += section_f(cfg)
    by_id = {r.id: r for r in rows}
    tg = targets(by_id, cfg.quick)
    argv_text = (
        " ".join(["python benchmarks/run.py", *sys.argv[1:]])
        if argv is None
        else " ".join(["python benchmarks/run.py", *argv])
    )
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": argv_text,
        "commit": git_state(),
        "sections": chosen,
        "quick": cfg.quick,
        "wall_s": time.perf_counter() - started,
        "machine": machine(),
        "loadavg_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }
    text = render(rows, tg, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks.md").write_text(text)
    (args.out / "benchmarks.json").write_text(
        json.dumps(
            {
                **meta,
                "rows": [r.as_json() for r in rows],
                "targets": [{"target": a, "measured": b, "verdict": c} for a, b, c in tg],
            },
            indent=1,
        )
    )
    print(text)
    log(f"wrote {args.out / 'benchmarks.md'} and benchmarks.json")


if __name__ == "__main__":
    main()
