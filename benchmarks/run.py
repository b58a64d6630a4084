"""influence-sim benchmark suite: one command, one table.

    python benchmarks/run.py                  # sections a-e (a few minutes)
    python benchmarks/run.py --quick          # smoke run: small sizes, 2 repeats (< 1 minute)
    python benchmarks/run.py --only b,d       # some sections
    python benchmarks/run.py --only g,h       # the slow ones: Sobol' design, compilation
    python benchmarks/run.py --all            # a-h (f: ~10+ min, g: minutes, h: ~2 min)
    python benchmarks/run.py --repeats 9 --out /tmp/bench

Sections (docs/performance.md describes each):
  a  single replicate: InfluenceModel.step() loop and simulate(replicates=1), Kazakhstan baseline
  b  ensemble throughput (replicate-steps/s) at R = 1, 100, 1000; 1,000 x 365 daily steps;
     R = 1000 on two threads (set_threads(2)) and its speed-up over one
  c  synthetic worlds of 1k, 10k, 100k factions: construction, steps/s of Ensemble.advance
     (one compiled call per block of steps), peak memory
  d  bare limit: a plain Friedkin-Johnsen update on the same matrices, three ways (scipy
     sparse, dense numpy, a numba loop; benchmarks/bare.py); the model over the fastest one
     at each R; ratios to c at the synthetic sizes (scipy sparse)
  e  naive reference: a per-agent Mesa implementation (benchmarks/naive_mesa.py) at 1k factions
  f  benchmarks/batch.py: the 10,000-replicate experiment batch with 1 and 2 workers
  g  benchmarks/sensitivity.py: the Sobol' design, N = 1,024, 15 inputs, 16 replicates per
     point, one process, one thread, in a subprocess (--quick: N = 32)
  h  compilation: first call with an empty numba cache, the cached load in a fresh process, the
     warm call; the parallel kernel's first compilation

f, g and h are slow (or compile from scratch) and run only with --only or --all.
Every number is the median over repeats (default 5, fewer for slow cases), with min and max.
Writes <out>/benchmarks.md (and the raw numbers as <out>/benchmarks.json) and prints the table.
BLAS/OpenMP thread pools are limited to one thread (unless already set in the environment), so
every timing except f, b6 and b7 (two threads) and h's parallel row is of one process on one core.
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
SECTIONS = "abcdefgh"
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
    rows += threads_rows(cfg, scen, rows[2])
    return rows


def threads_rows(cfg: Config, scen, one_thread: Row) -> list[Row]:
    """b6, b7: b3's call on two threads (`set_threads(2)`, prange over replicates), speed-up."""
    from influence_sim import set_threads, simulate
    from influence_sim.core.fused import threads

    T = scen.steps
    F = len(scen.world.factions)
    set_threads(2)
    try:
        n = threads()
        simulate(baseline(3), replicates=4, rng=0)  # warm-up: the parallel kernel's first call
        walls, cpus = [], []
        for _ in range(cfg.reps(3)):
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            simulate(scen, replicates=1000, rng=0, every=T)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    finally:
        set_threads(1)
    cpu_ratio = statistics.median(c / w for c, w in zip(cpus, walls, strict=True))
    two = Row(
        "b6",
        f"TWO THREADS (not one core): b3's call after `influence_sim.set_threads(2)` "
        f"({n} threads in use; CPU/wall {cpu_ratio:.2f})",
        f"Kazakhstan, F={F}, R=1000, {T} steps",
        "replicate-steps/s",
        [1000 * T / t for t in walls],
        cfg.command("b"),
        {"R": 1000, "T": T, "threads": n, "cpu_s": cpus},
    )
    return [
        two,
        ratio_row(
            "b7",
            "threads speed-up: two threads (b6) over one (b3), same call",
            f"Kazakhstan, F={F}, R=1000, {T} steps",
            two,
            one_thread,
            cfg.command("b"),
        ),
    ]


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
    # load the compiled step (numba's on-disk cache) on a 20-faction world first, so that the
    # construction timed below does not include loading machine code
    tiny = Ensemble(
        synthetic(2, 10, 10, 2, rng=SYNTH_SEED), default_params(), 1, 1, [np.random.default_rng(0)]
    )
    tiny.advance(2)
    del tiny
    t0 = time.perf_counter()
    world = synthetic(F // 10, 10, 10, 2, rng=SYNTH_SEED)
    out["world_s"] = time.perf_counter() - t0
    out["rss_world"] = rss_mib()
    t0 = time.perf_counter()
    ens = Ensemble(world, default_params(), 1, 1, [np.random.default_rng(0)])
    out["ensemble_s"] = time.perf_counter() - t0
    out["rss_ensemble"] = rss_mib()

    def run_full():
        ens.advance(steps)  # one compiled call for the block, as the runner does

    run_full()  # warm-up
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
                f"`ens.advance({steps})` per repeat: one compiled call per block of {steps} "
                "steps (as the runner advances between events), single replicate",
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
                "construction: `Ensemble(world, ...)` incl. steady-state solve (compiled "
                "code already loaded by a 20-faction warm-up)",
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
    from bare import VARIANTS, influence_matrix, make_bare

    from influence_sim import InfluenceModel

    cmd = cfg.command("d")
    scen = baseline(60 if cfg.quick else None)
    T = scen.steps
    F = len(scen.world.factions)
    model = InfluenceModel(scen, rng=0)
    system = model.influence_system()
    W_sparse = influence_matrix(model.ensemble)[0]
    assert np.abs(W_sparse.toarray() - system.W).max() < 1e-12
    P = system.fixed.shape[1]
    what = {
        "sparse": "bare FJ, scipy.sparse CSR: `x = lam*(W_ff@x + W_fo@Y) + (1-lam)*x0`, x "
        "(F, R*P), one Python call a step",
        "dense": f"bare FJ, dense numpy: W dense (F, F+P+1) = ({F}, {F + P + 1}), "
        "`matmul(W, [x; Y], out=)` then `*= lam`, `+= (1-lam)*x0` in preallocated buffers, "
        "x (F, R*P), one Python call a step",
        "numba": "bare FJ, numba `@njit` loop over steps, factions, CSR entries and the R*P "
        "columns, x (F, R*P); `advance(T)`: one compiled call, compiled before timing",
    }
    rows: list[Row] = []
    k = 0  # ids: d1-d4 at R=1 (sparse, dense, numba, model over the fastest), d5-d8 at
    # R=100, d9-d12 at R=1000 (the ratio only when b runs too); d13 on: synthetic sizes
    for R, full_id in ((1, "b1"), (100, "b2"), (1000, "b3")):
        ref = make_bare("sparse", system.W, system.fixed, system.lam, system.x0, R=R)
        ref.advance(5)
        bare_rows: dict[str, Row] = {}
        for name in VARIANTS:
            bare = make_bare(name, system.W, system.fixed, system.lam, system.x0, R=R)
            bare.advance(5)  # compiles the numba loop; fairness: same numbers as sparse
            diff = max(
                float(np.abs(bare.replicate(r) - ref.replicate(r)).max()) for r in (0, R - 1)
            )
            assert diff < 1e-12, f"bare {name} differs from bare sparse by {diff}"
            bare.reset()
            bare.advance(T)  # warm-up
            ts = timed(lambda bare=bare: bare.advance(T), cfg.reps())
            k += 1
            bare_rows[name] = Row(
                f"d{k}",
                f"{what[name]}; W from `model.influence_system()`",
                f"Kazakhstan, F={F} (+{P + 1} fixed actors), R={R}, {T} steps",
                "replicate-steps/s",
                [R * T / t for t in ts],
                cmd,
                {"R": R, "variant": name},
            )
        rows += bare_rows.values()
        best = max(bare_rows.values(), key=lambda r: r.median)
        k += 1
        full = b_rows.get(full_id)
        if full is not None:
            rows.append(
                ratio_row(
                    f"d{k}",
                    f"(b)/(d): `simulate` ({full.id}) over the fastest bare at this R, "
                    f"{best.extra['variant']} ({best.id}); target >= 0.2",
                    f"Kazakhstan, R={R}",
                    full,
                    best,
                    cfg.command("b,d"),
                )
            )
    for i, r in enumerate(runs):
        F, steps = r["factions"], r["steps"]
        size = f"synthetic F={F:,}, R=1"
        k += 1
        bare = Row(
            f"d{k}",
            f"bare sparse FJ update (scipy, `BareFJ`) on the same W (built from the Ensemble "
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
                f"full model / bare: `ens.advance({steps})` (c{4 * i + 1}) over {bare.id}, "
                "same process",
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
                "peak memory of the whole process tree (PSS, sampled 10/s; the peak RSS "
                f"summed over the tree, an upper bound, {r['peak_rss_sum_mib']:.0f} MiB)",
                size,
                "MiB",
                [r["peak_pss_mib"]],
                cmd,
                {"peak_rss_sum_mib": r["peak_rss_sum_mib"]},
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


# ---- (g) Sobol' design -----------------------------------------------------------------------


def section_g(cfg: Config) -> list[Row]:
    import resource

    from sensitivity import SPACES

    cmd = cfg.command("g")
    n, inputs, replicates, chunk = (32 if cfg.quick else 1024), 15, 16, 256
    argv = [
        sys.executable,
        str(HERE / "sensitivity.py"),
        "--method",
        "sobol",
        "--n",
        str(n),
        "--inputs",
        str(inputs),
        "--replicates",
        str(replicates),
        "--chunk",
        str(chunk),
        "--json",
    ]
    env = {**os.environ, "INFLUENCE_SIM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit("benchmarks/sensitivity.py failed")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    events = [name for name in SPACES[inputs] if name.startswith("event.")]
    design = (
        f"Sobol' (Saltelli) N={n:,}, {res['inputs']} inputs (the 13 global parameters of the "
        f"first model + 2 event magnitudes, {' and '.join(events)}), {res['rows']:,} points x "
        f"{replicates} replicates x 2 scenarios"
    )
    direct = " ".join(["python", *(Path(a).name if a.endswith(".py") else a for a in argv[1:])])
    direct = direct.replace("python sensitivity.py", "python benchmarks/sensitivity.py")
    compiled = (
        f"{res['cache_misses']} compiled, {res['cache_hits']} loaded from numba's cache"
        if res["cache_misses"]
        else "no compilation (all from numba's cache)"
    )
    return [
        Row(
            "g1",
            f"Sobol' design, paired effect baseline - `no_csto` on KZ balance, 5 March 2022: "
            f"whole process `{direct}` (interpreter, imports, design, runs, indices), one "
            f"process, one thread (INFLUENCE_SIM_THREADS=1, BLAS 1); CPU/wall "
            f"{cpu / wall:.2f}; {compiled}",
            design + f", chunk {chunk}",
            "s",
            [wall],
            cmd,
            {"cpu_s": cpu, **res},
        ),
        Row(
            "g2",
            "the same run, in-process: design + `evaluate` + `sobol_indices` "
            "(sensitivity.py's own timer)",
            design + f", chunk {chunk}",
            "s",
            [res["wall_s"]],
            cmd,
        ),
    ]


# ---- (h) compilation -------------------------------------------------------------------------


def compile_worker(spec: dict) -> dict:
    """In a fresh process: import, load the baseline, first `simulate` call, then warm calls."""
    t0 = time.perf_counter()
    import influence_sim as isim

    t_pkg = time.perf_counter()
    from influence_sim import load_scenario, set_threads, simulate  # the layers, numba

    t_mod = time.perf_counter()
    if spec["threads"] > 1:
        set_threads(spec["threads"])
    scen = load_scenario(BASELINE)
    t_load = time.perf_counter()
    simulate(scen, replicates=1, rng=0)
    t_first = time.perf_counter()
    from influence_sim.core import fused

    hits = misses = 0
    paths = set()
    for obj in vars(fused).values():
        stats = getattr(obj, "stats", None)
        if stats is not None and hasattr(stats, "cache_misses"):
            hits += sum(stats.cache_hits.values())
            misses += sum(stats.cache_misses.values())
            if stats.cache_hits or stats.cache_misses:
                paths.add(stats.cache_path)
    warm = []
    for _ in range(spec["warm"]):
        gc.collect()
        w0 = time.perf_counter()
        simulate(scen, replicates=1, rng=0)
        warm.append(time.perf_counter() - w0)
    return {
        "version": isim.__version__,
        "import_pkg_s": t_pkg - t0,
        "import_layers_s": t_mod - t_pkg,
        "load_s": t_load - t_mod,
        "simulate_s": t_first - t_load,
        "first_s": t_first - t0,
        "hits": hits,
        "misses": misses,
        "cache_paths": sorted(paths),
        "warm_s": warm,
        "threads": fused.threads(),
    }


def pycache_state() -> dict[str, int]:
    """Names and mtimes of the compiled step's files beside the source (numba's default)."""
    folder = ROOT / "influence_sim" / "core" / "__pycache__"
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("fused.*.nb*")}


def cache_listing(folder: Path) -> str:
    """What numba wrote under ``folder``: file counts by kind and where, relative to it."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    nbi = sum(p.suffix == ".nbi" for p in files)
    nbc = sum(p.suffix == ".nbc" for p in files)
    where = sorted({str(p.parent.relative_to(folder)) for p in files})
    return f"{nbi} .nbi + {nbc} .nbc files ({len(files)} in all) under <dir>/{', '.join(where)}"


def compile_run(spec: dict, cache_dir: Path) -> tuple[dict, float]:
    """Run `compile_worker` in a fresh process with NUMBA_CACHE_DIR; (its result, wall time)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "INFLUENCE_SIM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_compile", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit("compilation worker failed")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    inside = all(Path(p).resolve().is_relative_to(cache_dir.resolve()) for p in res["cache_paths"])
    assert res["cache_paths"] and inside, (
        f"numba's cache is not under NUMBA_CACHE_DIR={cache_dir}: {res['cache_paths']}"
    )
    return res, wall


def section_h(cfg: Config) -> list[Row]:
    import shutil
    import tempfile

    cmd = cfg.command("h")
    scen = baseline()
    size = f"Kazakhstan baseline, F={len(scen.world.factions)}, R=1, {scen.steps} steps"
    call = (
        "`import influence_sim` + `load_scenario(baseline)` + `simulate(scen, replicates=1, rng=0)`"
    )
    tmp = Path(tempfile.mkdtemp(prefix="isim-numba-cache-"))
    try:
        firsts, walls, listing = [], [], ""
        beside = pycache_state()
        for i in range(1 if cfg.quick else 2):  # each in a new, empty cache dir
            cache = tmp / f"cold{i}"
            cache.mkdir()
            res, wall = compile_run({"threads": 1, "warm": 0}, cache)
            assert res["misses"] > 0 and res["hits"] == 0, res
            firsts.append(res)
            walls.append(wall)
            listing = cache_listing(cache)
        changed = sum(pycache_state().get(k) != v for k, v in beside.items())
        changed += len(set(pycache_state()) - set(beside))
        where = (
            "nothing written beside the source (influence_sim/core/__pycache__ unchanged)"
            if not changed
            else f"{changed} files in influence_sim/core/__pycache__ changed meanwhile (another "
            "process?)"
        )
        cached, cwalls = [], []
        for _ in range(cfg.reps(3)):  # fresh processes, the cache filled by the last cold run
            res, wall = compile_run({"threads": 1, "warm": cfg.reps()}, cache)
            assert res["misses"] == 0 and res["hits"] > 0, res
            cached.append(res)
            cwalls.append(wall)
        cache = tmp / "parallel"
        cache.mkdir()
        par, pwall = compile_run({"threads": 2, "warm": 0}, cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def parts(rs: list[dict]) -> str:
        keys = ("import_pkg_s", "import_layers_s", "load_s", "simulate_s")
        med = {k: statistics.median(r[k] for r in rs) for k in keys}
        return (
            f"import influence_sim {med['import_pkg_s']:.2f} s, its layers and numba "
            f"{med['import_layers_s']:.2f} s, load {med['load_s']:.2f} s, simulate "
            f"{med['simulate_s']:.2f} s"
        )

    first = Row(
        "h1",
        f"first call, EMPTY numba cache (fresh process, NUMBA_CACHE_DIR = a new temp dir): "
        f"{call}; {parts(firsts)}; numba compiled {firsts[0]['misses']} functions (entry "
        f"points and their callees) and wrote "
        f"{listing}, {where}; whole process {statistics.median(walls):.1f} s",
        size,
        "s",
        [r["first_s"] for r in firsts],
        cmd,
        {"process_s": walls},
    )
    load = Row(
        "h2",
        f"cached load: the same in a second fresh process, same (now filled) cache dir; "
        f"{parts(cached)}; {cached[0]['hits']} entry points loaded from the cache (their "
        f"callees are compiled into them), {cached[0]['misses']} compiled; whole process "
        f"{statistics.median(cwalls):.1f} s",
        size,
        "s",
        [r["first_s"] for r in cached],
        cmd,
        {"process_s": cwalls},
    )
    warm = Row(
        "h3",
        "warm call: `simulate(scen, replicates=1, rng=0)` again in the process of h2",
        size,
        "s",
        [t for r in cached for t in r["warm_s"]],
        cmd,
    )
    parallel = Row(
        "h4",
        f"first call with `set_threads(2)` ({par['threads']} threads), EMPTY cache (fresh "
        f"process, new temp dir): {call}, the parallel kernel compiled instead of the serial; "
        f"{parts([par])}; numba compiled {par['misses']} functions; whole process {pwall:.1f} s",
        size,
        "s",
        [par["first_s"]],
        cmd,
        {"process_s": [pwall]},
    )
    return [first, load, warm, parallel]


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
        vals = ", ".join(
            f"R={r.size.split('R=')[1]}: {fmt(r.median)} "
            f"(over {rows[r.extra['of'][1]].extra['variant']})"
            for r in ratios
        )
        out.append(
            (
                "(b) >= 1/5 of the bare update in its best layout (the fastest of section d's "
                "variants at each R), Kazakhstan size, R = 1 / 100 / 1,000, one core",
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
                "100,000-faction synthetic world >= 100 steps/s, one replicate",
                f"{r.median:.1f} steps/s at F={r.extra['F']:,}",
                verdict(r.median >= 100)
                if r.extra["F"] == 100_000
                else "not measured (100k not in this run)",
            )
        )
    if "b5" in rows:
        r = rows["b5"]
        out.append(
            (
                "1,000 replicates x 365 daily steps of the baseline < 0.5 s on one core",
                f"{r.median:.2f} s",
                verdict(r.median < 0.5),
            )
        )
    if "g1" in rows:
        r = rows["g1"]
        out.append(
            (
                "the full Sobol' design (N = 1,024, 15 inputs, 16 replicates per point) "
                "<= 3 minutes on one core",
                f"{r.median:.1f} s whole process (g1), {rows['g2'].median:.1f} s in-process (g2)",
                verdict(r.median <= 180),
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
    mem = [rows[i] for i in ("f3", "f6") if i in rows]
    if mem:
        peak = max(r.median for r in mem)
        rss = max(r.extra.get("peak_rss_sum_mib", float("nan")) for r in mem)
        out.append(
            (
                "peak memory < 1 GiB for the 10,000-replicate batch (f3, f6)",
                f"{peak:.0f} MiB PSS of the process tree (RSS summed over it: {rss:.0f} MiB)",
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
    ap.add_argument("--all", action="store_true", help="all sections, including f-h (slow)")
    ap.add_argument(
        "--repeats",
        type=int,
        help="repeats per measurement (default 5; fewer for slow cases; 2 with --quick)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--_synthetic", help=argparse.SUPPRESS)
    ap.add_argument("--_compile", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._synthetic:
        print(json.dumps(synthetic_worker(json.loads(args._synthetic))))
        return
    if args._compile:
        print(json.dumps(compile_worker(json.loads(args._compile))))
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
    if "g" in chosen:
        log("g: Sobol' design in a subprocess (slow)")
        rows += section_g(cfg)
    if "h" in chosen:
        log("h: compilation, fresh processes with empty and filled numba caches (slow)")
        rows += section_h(cfg)
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
