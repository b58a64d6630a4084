"""History matching checked on itself: targets made by the model at known inputs, with noise.

Self-calibration. For each of 20 seeded cases, true inputs are drawn uniformly from the
space; the model runs at them (32 replicates, on streams independent of the experiment's
seed, so the data are not the matching ensemble's own replicates) and each target's value is
the ensemble mean plus Gaussian noise with the sd the implausibility assumes for it: the
target's ``sd`` and, for approval, the observation noise `OBSERVATION_NOISE` adds
(``approval_noise``). `history_match` then runs two waves of 200 points (4 replicates each;
the runs stop on 10 January, so one match takes about a second) over four inputs:

- three the targets see: ``approval_midpoint`` and ``approval_slope`` (the observation model
  of four approval levels on 3 January) and ``pull_scale`` (Kyrgyzstan's and Tajikistan's
  balance on 10 January);
- one they cannot see: the share of ``kulibayev_resigns``, an event of 17 January, after every
  target's date; the runs stop at the last date read, so the event is never reached
  (`test_the_unseen_input_has_no_effect_and_the_seen_ones_do` checks it on the model).

When is the truth **kept**? The non-implausible set a history match reports is the region its
last wave sampled (the box of the previous wave's survivors, recorded as ``box`` in the wave's
store) cut by the implausibility; the survivors are a finite sample of it. So the truth is kept
when (1) the match reports survivors, (2) the truth lies in the last wave's box (inclusive):
the waves' refocusing has not cut it out, and (3) its own implausibility, computed by the
package's functions on the model run at the truth with the experiment's replicates and seed
(`evaluate_outcomes`, `readings`, `implausibility`, `non_implausible`, cutoff 3, rank 1), is
within the cutoff: it would survive had it been drawn. (3) gives the numbers the design run
would give the truth as a row: `test_the_truth_is_judged_with_the_design_runs_own_numbers`
checks this on rows of a stored wave.

The issue asks for the truth kept in at least 17 of 20 cases and the unseen input reported
unconstrained. So that a method keeping everything cannot pass, the seen inputs must also be
constrained in most cases.

Determinism. The same history match (same experiment seed) in-process with ``chunk = 7`` and
on a real Dask ``LocalCluster`` of two worker processes with ``chunk = 16`` gives identical
waves, cuts and survivors, identical ``non_implausible.csv`` bytes and bit-identical stored
designs and outcomes, and ``history_match.json`` files that differ only in the experiment
they name. The chunk is recorded in each wave's store (``uncertainty.chunk`` of its manifest);
the experiment's hash leaves ``[uncertainty]`` out, so it does not change (not asserted
either way); none of the numbers depends on the chunk or the executor.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import influence_sim as isim
from influence_sim.analysis.calibration import history_match
from influence_sim.analysis.evidence import (
    OBSERVATION_NOISE,
    implausibility,
    non_implausible,
    readings,
)
from influence_sim.core.targets import Targets, load_targets
from influence_sim.experiment.sweep import load_design_run
from influence_sim.experiment.uncertainty import evaluate_outcomes
from influence_sim.params import parameters

ROOT = Path(__file__).resolve().parent.parent
LOG = logging.getLogger(__name__)

#: The inputs the targets see, and their ranges.
SEEN = {
    "approval_midpoint": (0.0, 0.4),
    "approval_slope": (2.0, 30.0),
    "pull_scale": (0.25, 4.0),
}
#: The input they cannot see: an event of 17 January, after every target's date.
UNSEEN = "event.kulibayev_resigns.share"
UNSEEN_RANGE = (0.05, 0.3)
UNSEEN_DATE = "2022-01-17"
#: The targets: id, observable, actor, power, date, sd.
SPECS = (
    ("kz_ru_approval", "approval", "KZ", "RU", "2022-01-03", 0.03),
    ("kg_ru_approval", "approval", "KG", "RU", "2022-01-03", 0.03),
    ("kz_cn_approval", "approval", "KZ", "CN", "2022-01-03", 0.03),
    ("uz_ru_approval", "approval", "UZ", "RU", "2022-01-03", 0.03),
    ("kg_balance", "balance", "KG", None, "2022-01-10", 0.02),
    ("tj_balance", "balance", "TJ", None, "2022-01-10", 0.02),
)
CASES = 20
NEEDED = 17  # of 20, as the issue asks
WAVES, POINTS, REPLICATES = 2, 200, 4
TRUTH_REPLICATES = 32
CUTOFF = 3.0

EXPERIMENT = """
[experiment]
name = "{name}"
baseline = "{root}/scenarios/kazakhstan_2022.toml"
replicates = 2
seed = {seed}

[uncertainty]
replicates = {replicates}
chunk = {chunk}

[uncertainty.inputs]
{inputs}

[[outcomes]]
name = "unused"
measure = "balance"
actor = "KZ"
date = 2022-01-10
"""


def _experiment(
    tmp: Path, name: str, seed: int, chunk: int = 64, replicates: int = REPLICATES
) -> isim.Experiment:
    inputs = "\n".join(
        f'"{n}" = {{low = {lo!r}, high = {hi!r}}}'
        for n, (lo, hi) in {**SEEN, UNSEEN: UNSEEN_RANGE}.items()
    )
    path = tmp / f"{name}.toml"
    path.write_text(
        EXPERIMENT.format(
            name=name, root=ROOT, seed=seed, chunk=chunk, replicates=replicates, inputs=inputs
        )
    )
    return isim.load_experiment(path)


def _write_targets(path: Path, values: dict[str, float], scale: float = 1.0) -> Targets:
    lines = [
        "[targets]",
        'name = "self_calibration"',
        'title = "Synthetic targets: the model at known inputs, with noise"',
        'world = "central_asia_2021"',
    ]
    for tid, obs, actor, power, when, sd in SPECS:
        lines += [
            "",
            "[[target]]",
            f'id = "{tid}"',
            f'observable = "{obs}"',
            f'actor = "{actor}"',
            *([f'power = "{power}"'] if power else []),
            'kind = "level"',
            f"date = {when}",
            f"value = {float(values.get(tid, 0.5))!r}",
            f"sd = {sd * scale!r}",
            'source = "synthetic: the model at known inputs"',
            'reliability = "synthetic: the ensemble mean plus Gaussian noise of the stated sd"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return load_targets(path)


def _observation_sd(target) -> float:
    """The sd the implausibility assumes for a level: its own, plus the observable's noise."""
    name = OBSERVATION_NOISE.get(target.observable)
    noise = float(parameters()[name].default) if name else 0.0
    return float(np.hypot(target.sigma, noise))


def _outcomes(targets: Targets, exp: isim.Experiment):
    base = exp.scenario(exp.baseline)
    reads = readings(targets, base)
    return base, reads, [o for r in reads for o in r.outcomes]


def _bounds(exp: isim.Experiment) -> tuple[np.ndarray, np.ndarray]:
    space = exp.uncertainty.space
    return np.array([b[0] for b in space.bounds]), np.array([b[1] for b in space.bounds])


def _synthetic(
    tmp: Path,
    exp: isim.Experiment,
    truth: np.ndarray,
    rng: np.random.Generator,
    *,
    seed: int,
    name: str,
    scale: float = 1.0,
) -> Targets:
    """Targets from the model at ``truth``: its mean over 32 replicates (streams under
    ``seed``), plus Gaussian noise of the sd the implausibility assumes (from ``rng``)."""
    template = _write_targets(tmp / f"{name}.template.toml", {}, scale)
    base, reads, outcomes = _outcomes(template, exp)
    y = evaluate_outcomes(
        {base.name: base},
        exp.uncertainty.space,
        truth[None, :],
        outcomes,
        replicates=TRUTH_REPLICATES,
        rng=seed,
    )
    values = {}
    for r in reads:
        mean = float(y[r.outcomes[0].name].mean())
        values[r.target.id] = mean + rng.normal(0.0, _observation_sd(r.target))
    return _write_targets(tmp / f"{name}.toml", values, scale)


def _truth_implausibility(exp: isim.Experiment, targets: Targets, truth: np.ndarray):
    """Each target's implausibility at the truth, with the experiment's replicates and seed."""
    base, reads, outcomes = _outcomes(targets, exp)
    values = evaluate_outcomes(
        {base.name: base},
        exp.uncertainty.space,
        truth[None, :],
        outcomes,
        replicates=exp.uncertainty.replicates,
        rng=exp.seed,
    )
    return np.array([implausibility(r, values) for r in reads])  # (targets, 1)


@dataclass
class Case:
    seed: int
    truth: np.ndarray
    imp: np.ndarray  # the truth's implausibility per target
    plausible: bool  # its largest implausibility is within the cutoff
    in_box: bool  # it lies in the box the last wave sampled
    outside: list[str]  # the inputs on which it does not
    in_range: bool  # it lies within the survivors' reported range on every input
    survivors: list[int]  # per wave
    span: dict[str, float]
    unconstrained: dict[str, bool]
    seconds: float

    @property
    def kept(self) -> bool:
        return self.survivors[-1] > 0 and self.in_box and self.plausible

    def row(self, names) -> str:
        pos = " ".join(f"{v:7.3f}" for v in self.truth)
        flag = {n: "*" if self.unconstrained[n] else " " for n in names}
        spans = " ".join(f"{self.span[n]:.2f}{flag[n]}" for n in names)
        return (
            f"{self.seed:>4} {pos}  I_max {self.imp.max():5.2f}  in_box {self.in_box!s:5} "
            f"kept {self.kept!s:5} in_range {self.in_range!s:5} survivors {self.survivors}  "
            f"span {spans}  {self.seconds:4.1f}s"
            + (f"  outside on {', '.join(self.outside)}" if self.outside else "")
        )


def _table(cases: list[Case], names) -> str:
    head = (
        f"seed {' '.join(f'{n[:7]:>7}' for n in names)}  (span: * = reported unconstrained; "
        f"{WAVES} waves x {POINTS} points x {REPLICATES} replicates)"
    )
    return "\n".join([head, *(c.row(names) for c in cases)])


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> tuple[list[Case], list[str], dict]:
    tmp = tmp_path_factory.mktemp("selfcal")
    out, names, first = [], None, {}
    for seed in range(CASES):
        exp = _experiment(tmp, f"case_{seed}", seed=1000 + seed)
        names = list(exp.uncertainty.space.names)
        lo, hi = _bounds(exp)
        rng = np.random.default_rng(seed)
        truth = lo + rng.random(len(lo)) * (hi - lo)
        targets = _synthetic(tmp, exp, truth, rng, seed=5000 + seed, name=f"targets_{seed}")
        start = time.perf_counter()
        res = history_match(
            exp,
            targets,
            tmp / f"hm_{seed}",
            waves=WAVES,
            points=POINTS,
            cutoff=CUTOFF,
            executor="process",
            workers=1,
            progress=False,
        )
        seconds = time.perf_counter() - start
        imp = _truth_implausibility(exp, targets, truth)[:, 0]
        plausible = bool(non_implausible(imp[:, None], cutoff=CUTOFF)[0])
        last = int(res.waves["wave"].max())
        box = np.array(load_design_run(res.path / f"wave-{last}").method["box"])
        inside = (box[0] <= truth) & (truth <= box[1])
        c = res.constraint
        in_range = bool(
            len(res.survivors)
            and np.all(
                (c["survivors_low"].to_numpy() <= truth) & (truth <= c["survivors_high"].to_numpy())
            )
        )
        out.append(
            Case(
                seed=seed,
                truth=truth,
                imp=imp,
                plausible=plausible,
                in_box=bool(inside.all()),
                outside=[n for n, ok in zip(names, inside, strict=True) if not ok],
                in_range=in_range,
                survivors=[int(s) for s in res.waves["survivors"]],
                span={n: float(c.loc[n, "span"]) for n in names},
                unconstrained={n: bool(c.loc[n, "unconstrained"]) for n in names},
                seconds=seconds,
            )
        )
        if seed == 0:
            first = {"exp": exp, "targets": targets, "path": res.path / f"wave-{last}"}
    LOG.info("self-calibration:\n%s", _table(out, names))
    return out, names, first


def test_the_unseen_input_has_no_effect_and_the_seen_ones_do(tmp_path):
    """On the model: the targets' outcomes are bit-identical whatever the unseen input, and
    each seen input moves at least one of them."""
    assert all(when < UNSEEN_DATE for *_, when, _ in SPECS)
    exp = _experiment(tmp_path, "probe", seed=3)
    targets = _write_targets(tmp_path / "probe.toml", {})
    base, _, outcomes = _outcomes(targets, exp)
    lo, hi = _bounds(exp)
    mid = (lo + hi) / 2
    names = list(exp.uncertainty.space.names)
    rows = []
    for j in range(len(names)):
        for f in (0.05, 0.95):
            x = mid.copy()
            x[j] = lo[j] + f * (hi[j] - lo[j])
            rows.append(x)
    y = evaluate_outcomes(
        {base.name: base}, exp.uncertainty.space, np.array(rows), outcomes, replicates=3, rng=3
    )
    u = names.index(UNSEEN)
    for o in outcomes:
        np.testing.assert_array_equal(y[o.name][2 * u], y[o.name][2 * u + 1], err_msg=o.name)
    for j, n in enumerate(names):
        if n != UNSEEN:
            moved = [
                o.name
                for o in outcomes
                if np.abs(y[o.name][2 * j].mean() - y[o.name][2 * j + 1].mean()) > 0.01
            ]
            assert moved, f"{n} moves none of the targets' outcomes"


def test_the_truth_is_judged_with_the_design_runs_own_numbers(cases):
    """Rows of a stored wave, run alone as the truth is (`evaluate_outcomes` with the
    experiment's replicates and seed), give the stored outcomes bit for bit: the truth's
    implausibility is the one the history match would give it as a design point."""
    _, _, first = cases
    exp, targets, run = first["exp"], first["targets"], load_design_run(first["path"])
    base, _, outcomes = _outcomes(targets, exp)
    for row in (0, len(run.X) // 2, len(run.X) - 1):
        y = evaluate_outcomes(
            {base.name: base},
            run.space,
            run.X[row : row + 1],
            outcomes,
            replicates=exp.uncertainty.replicates,
            rng=exp.seed,
        )
        for o in outcomes:
            np.testing.assert_array_equal(y[o.name][0], run.Y(o.name)[row], err_msg=o.name)


def test_history_matching_keeps_the_true_inputs_in_17_of_20_cases(cases):
    out, names, _ = cases
    table = _table(out, names)
    # the truth itself is plausible: the noise and the matching ensemble are as assumed
    assert sum(c.plausible for c in out) >= NEEDED, table
    kept = sum(c.kept for c in out)
    lost = [c for c in out if not c.kept]
    why = "\n".join(
        f"seed {c.seed}: "
        + ("no survivors; " if c.survivors[-1] == 0 else "")
        + (f"I_max {c.imp.max():.2f} > {CUTOFF}; " if not c.plausible else "")
        + (f"outside the last wave's box on {', '.join(c.outside)}" if c.outside else "")
        for c in lost
    )
    assert kept >= NEEDED, f"the truth kept in {kept} of {CASES} cases\n{why}\n{table}"


def test_an_input_the_targets_cannot_see_is_reported_unconstrained(cases):
    out, names, _ = cases
    free = sum(c.unconstrained[UNSEEN] for c in out)
    assert free >= NEEDED, (
        f"{UNSEEN} reported unconstrained in {free} of {CASES} cases (spans "
        f"{[round(c.span[UNSEEN], 2) for c in out]})\n{_table(out, names)}"
    )


def test_the_targets_constrain_the_inputs_they_see(cases):
    """So that a method keeping everything fails: in most cases a seen input is clearly
    constrained (the survivors span less than half its range)."""
    out, names, _ = cases
    tight = sum(min(c.span[n] for n in SEEN) < 0.5 and c.survivors[-1] > 0 for c in out)
    assert tight >= NEEDED, _table(out, names)


def _match(tmp: Path, chunk: int, executor: str, workers: int):
    exp = _experiment(tmp, f"determinism_{chunk}", seed=42, chunk=chunk)
    lo, hi = _bounds(exp)
    truth = lo + np.array([0.55, 0.4, 0.3, 0.5]) * (hi - lo)
    targets = _synthetic(
        tmp, exp, truth, np.random.default_rng(1), seed=9, name="determinism", scale=2.0
    )
    res = history_match(
        exp,
        targets,
        tmp / f"hm_{executor}_{chunk}",
        waves=2,
        points=40,
        cutoff=CUTOFF,
        executor=executor,
        workers=workers,
        progress=False,
    )
    return exp, res


def test_identical_across_executors_and_chunk_sizes(tmp_path):
    pytest.importorskip("distributed")
    exp_a, a = _match(tmp_path, chunk=7, executor="process", workers=1)  # in-process
    exp_b, b = _match(tmp_path, chunk=16, executor="dask", workers=2)  # a real LocalCluster
    # the chunk is recorded in each wave's store (it is not part of the experiment's hash,
    # which leaves [uncertainty] out; nothing below depends on that) ...
    assert exp_a.seed == exp_b.seed
    for k in (1, 2):
        ra, rb = load_design_run(a.path / f"wave-{k}"), load_design_run(b.path / f"wave-{k}")
        assert (ra.manifest["uncertainty"]["chunk"], rb.manifest["uncertainty"]["chunk"]) == (7, 16)
        assert len(ra.manifest["chunks"]) == -(-len(ra.X) // 7)
        assert len(rb.manifest["chunks"]) == -(-len(rb.X) // 16)
        assert len(ra.manifest["chunks"]) != len(rb.manifest["chunks"])
        # ... but no number depends on it, nor on the executor
        np.testing.assert_array_equal(ra.X, rb.X)
        assert [o.name for o in ra.outcomes] == [o.name for o in rb.outcomes]
        for o in ra.outcomes:
            np.testing.assert_array_equal(ra.Y(o.name), rb.Y(o.name), err_msg=o.name)
    assert list(a.waves["wave"]) == [1, 2] and a.waves["survivors"].iloc[0] > 1  # wave 2 refocused
    for x, y in ((a.waves, b.waves), (a.cuts, b.cuts), (a.survivors, b.survivors)):
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    pd.testing.assert_frame_equal(a.constraint, b.constraint, check_exact=True)
    assert len(a.survivors) > 0
    assert (a.path / "non_implausible.csv").read_bytes() == (
        b.path / "non_implausible.csv"
    ).read_bytes()
    # the summaries agree but for the experiment each names
    summary_a, summary_b = (json.loads((r.path / "history_match.json").read_text()) for r in (a, b))
    assert summary_a.pop("experiment")["name"] == "determinism_7"
    assert summary_b.pop("experiment")["name"] == "determinism_16"
    assert summary_a == summary_b
