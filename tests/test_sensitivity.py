"""Global sensitivity (analysis/sensitivity.py): known indices, dummy inputs, noise, order."""

from __future__ import annotations

import numpy as np
import pytest

from influence_sim.analysis.sensitivity import (
    Space,
    morris_design,
    morris_indices,
    noise_share,
    sobol_design,
    sobol_indices,
)
from influence_sim.errors import ArgumentError

PI = np.pi
ISHIGAMI = Space.of({"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI)})


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The analytic first-order and total indices of the Ishigami function."""
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_sobol_recovers_the_ishigami_indices_at_n_1024():
    x = sobol_design(ISHIGAMI, 1024, rng=1)
    res = sobol_indices(ISHIGAMI, ishigami(x), rng=2, resamples=200)
    s1, st = ishigami_indices()
    np.testing.assert_allclose(res.loc[["x1", "x2", "x3"], "S1"], s1, atol=0.05)
    np.testing.assert_allclose(res.loc[["x1", "x2", "x3"], "ST"], st, atol=0.05)
    assert list(res.index) == ["x1", "x2", "x3"]  # sorted by ST: 0.56, 0.44, 0.24
    assert res.attrs["noise_single"] == 0.0 and res.attrs["n"] == 1024


def test_an_input_the_model_ignores_gets_a_total_index_whose_interval_holds_zero():
    space = Space.of({"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI), "dummy": (0, 1)})
    x = sobol_design(space, 1024, rng=3)
    res = sobol_indices(space, ishigami(x), rng=4, resamples=200)
    assert res.loc["dummy", "ST_lo"] <= 0.0 <= res.loc["dummy", "ST_hi"]
    assert res.loc["dummy", "ST"] < 0.01
    assert res.loc["x3", "ST_lo"] > 0.1  # a real input's interval excludes 0


def test_a_model_with_known_noise_reports_its_noise_share():
    """y = x1 + noise: Var(x1) = 1/12 on [0, 1]; noise sd 0.2 -> share 0.04 / (1/12 + 0.04)."""
    space = Space.of({"x1": (0.0, 1.0), "x2": (0.0, 1.0)})
    x = sobol_design(space, 512, rng=5)
    gen = np.random.default_rng(6)
    k = 8
    y = x[:, :1] + 0.2 * gen.standard_normal((len(x), k))
    res = sobol_indices(space, y, rng=7, resamples=100)
    expected = 0.04 / (1 / 12 + 0.04)
    assert res.attrs["noise_single"] == pytest.approx(expected, abs=0.03)
    # the means of 8 replicates keep an eighth of the noise variance
    assert res.attrs["noise_in_means"] == pytest.approx(0.005 / (1 / 12 + 0.005), abs=0.02)
    assert res.attrs["replicates"] == k
    assert res.index[0] == "x1"


def test_the_indices_read_the_outcomes_in_the_designs_row_order():
    """Shuffling the outcome rows destroys the structure: SALib depends on the order."""
    x = sobol_design(ISHIGAMI, 256, rng=8)
    y = ishigami(x)
    good = sobol_indices(ISHIGAMI, y, rng=9, resamples=50)
    bad = sobol_indices(ISHIGAMI, np.random.default_rng(0).permutation(y), rng=9, resamples=50)
    assert good.loc["x2", "S1"] > 0.3
    assert abs(bad.loc["x2", "S1"]) < 0.2


def test_the_same_rng_gives_the_same_design_and_intervals():
    a = sobol_design(ISHIGAMI, 64, rng=11)
    b = sobol_design(ISHIGAMI, 64, rng=11)
    np.testing.assert_array_equal(a, b)
    ra = sobol_indices(ISHIGAMI, ishigami(a), rng=12, resamples=30)
    rb = sobol_indices(ISHIGAMI, ishigami(a), rng=12, resamples=30)
    assert ra.equals(rb)


def test_morris_ranks_the_ishigami_inputs_and_finds_the_dummy():
    space = Space.of({"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI), "dummy": (0, 1)})
    x = morris_design(space, 40, rng=13)
    assert x.shape == (40 * 5, 4)
    res = morris_indices(space, x, ishigami(x), rng=14, resamples=100)
    assert res.loc["dummy", "mu_star"] == 0.0
    assert res.index[-1] == "dummy"
    assert res.loc["x3", "sigma"] > 0  # x3 acts only with x1: an interaction


def test_noise_share_without_replicates_is_zero():
    assert noise_share(np.arange(10.0)) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: Space.of({"a": (1.0, 0.0)}), "bounds"),
        (lambda: Space(("a", "a"), ((0.0, 1.0), (0.0, 1.0))), "names"),
        (lambda: sobol_design(ISHIGAMI, 1000), "n"),
        (lambda: sobol_indices(ISHIGAMI, np.zeros(7)), "Y"),
        (lambda: sobol_indices(ISHIGAMI, np.full(10, np.nan)), "Y"),
        (lambda: morris_design(ISHIGAMI, 1), "r"),
        (lambda: morris_indices(ISHIGAMI, np.zeros((8, 2)), np.zeros(8)), "X"),
    ],
)
def test_bad_arguments_name_the_argument(build, argument):
    with pytest.raises(ArgumentError) as err:
        build()
    assert err.value.argument == argument


# ---------------------------------------------------------------------------------------------
# the influence model: a design along the replicate axis


def _baseline(steps: int = 70):
    import dataclasses
    from pathlib import Path

    import influence_sim as isim

    root = Path(__file__).resolve().parents[1]
    base = isim.load_scenario(root / "scenarios/kazakhstan_2022.toml")
    cf = isim.load_scenario(root / "scenarios/counterfactuals/no_csto.toml")
    return dataclasses.replace(base, steps=steps), dataclasses.replace(cf, steps=steps)


def test_a_parameter_that_cannot_act_gets_a_zero_index_and_the_design_is_chunk_free():
    """No war in the baseline, so threat_decay acts on nothing: its indices are exactly 0,
    while pull_scale moves Kazakhstan's balance. The result does not depend on the chunking."""
    from datetime import date

    from influence_sim.analysis.sensitivity import Outcome, evaluate

    base, _ = _baseline()
    space = Space.of({"pull_scale": (0.5, 2.0), "threat_decay": (0.0, 0.01)})
    x = sobol_design(space, 32, rng=21)
    out = Outcome("balance", "KZ", date(2022, 3, 5))
    y = evaluate(base, space, x, out, replicates=3, rng=22)
    assert y.shape == (len(x), 3)
    res = sobol_indices(space, y, rng=23, resamples=50)
    assert res.loc["threat_decay", "ST"] == 0.0 and res.loc["threat_decay", "S1"] == 0.0
    assert res.loc["pull_scale", "ST"] > 0.5
    assert 0.0 < res.attrs["noise_single"] < 1.0  # the unrest's noise is reported, not hidden
    chunked = evaluate(base, space, x, out, replicates=3, rng=22, chunk=7)
    np.testing.assert_array_equal(y, chunked)
    # a row alone gives its own numbers: the ensemble's rows do not interact
    one = evaluate(base, space, x[5:6], out, replicates=3, rng=22)
    np.testing.assert_array_equal(one[0], y[5])


def test_a_paired_effect_is_scenario_minus_baseline_replicate_by_replicate():
    from datetime import date

    from influence_sim.analysis.sensitivity import Outcome, evaluate

    base, cf = _baseline()
    space = Space.of({"pull_scale": (0.5, 2.0)})
    x = morris_design(space, 4, rng=31)
    out = Outcome("balance", "KZ", date(2022, 3, 5))
    eff = evaluate(cf, space, x, out, replicates=2, against=base, rng=32)
    a = evaluate(cf, space, x, out, replicates=2, rng=32)
    b = evaluate(base, space, x, out, replicates=2, rng=32)
    np.testing.assert_array_equal(eff, a - b)
    assert (eff != 0).any()


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ({"pull_scal": (0.5, 2.0)}, "neither a numeric global parameter"),
        ({"region_weight": (0.0, 1.0)}, "neither a numeric global parameter"),
        ({"pull_scale": (0.5, 30.0)}, "leave the valid range"),
    ],
)
def test_an_input_that_is_not_a_parameter_in_range_is_refused(inputs, match):
    from datetime import date

    from influence_sim.analysis.sensitivity import Outcome, evaluate

    base, _ = _baseline(10)
    space = Space.of(inputs)
    with pytest.raises(ArgumentError, match=match) as err:
        evaluate(base, space, np.ones((2, 1)), Outcome("balance", "KZ", date(2022, 1, 5)))
    assert err.value.argument == "space"


def test_an_event_field_varies_along_the_replicate_axis_and_a_scenario_without_it_ignores_it():
    """The CSTO force's size drives Tokayev's share; in no_csto, which has no deployment,
    the same input does nothing."""
    from datetime import date

    from influence_sim.analysis.sensitivity import Outcome, evaluate

    base, cf = _baseline()
    space = Space.of({"event.csto_deploy.size": (0.2, 1.0), "pull_scale": (0.8, 1.2)})
    x = sobol_design(space, 16, rng=41)
    out = Outcome("share", "KZ.tokayev", date(2022, 1, 14))
    y = evaluate(base, space, x, out, replicates=2, rng=42)
    res = sobol_indices(space, y, rng=43, resamples=30)
    assert res.loc["event.csto_deploy.size", "ST"] > 0.05
    # a bigger force backs Tokayev more: his share rises with the size across the design
    assert np.corrcoef(x[:, 0], y.mean(axis=1))[0, 1] > 0.5
    # the paired effect against no_csto, which has no deployment: there the size input does
    # nothing, so the counterfactual's outcome is the pull_scale-only design's
    eff = evaluate(base, space, x, out, replicates=2, against=cf, rng=42)
    only_scale = Space.of({"pull_scale": (0.8, 1.2)})
    y_cf = evaluate(cf, only_scale, x[:, 1:], out, replicates=2, rng=42)
    np.testing.assert_array_equal(eff, y - y_cf)
    # an input on an event that no scenario of the call has is refused
    with pytest.raises(ArgumentError, match="no event 'csto_deploy'"):
        evaluate(cf, space, x, out, replicates=2, rng=42)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("event.csto_deplyo.size", "no event 'csto_deplyo'"),
        ("event.csto_deploy.sise", "not a numeric field"),
        ("event.csto_deploy.power", "not a numeric field"),
    ],
)
def test_an_unknown_event_input_is_refused_with_a_suggestion(name, match):
    from datetime import date

    from influence_sim.analysis.sensitivity import Outcome, evaluate

    base, _ = _baseline(10)
    with pytest.raises(ArgumentError, match=match) as err:
        evaluate(
            base,
            Space.of({name: (0.2, 0.8)}),
            np.ones((2, 1)),
            Outcome("balance", "KZ", date(2022, 1, 5)),
        )
    assert err.value.argument == "space"
    if "deplyo" in name or "sise" in name:
        assert err.value.suggestion is not None


def test_event_field_bounds_must_stay_in_the_fields_range():
    from datetime import date

    from influence_sim.analysis.sensitivity import Outcome, evaluate

    base, _ = _baseline(10)
    with pytest.raises(ArgumentError, match="leave the valid range"):
        evaluate(
            base,
            Space.of({"event.csto_deploy.size": (0.5, 1.5)}),
            np.ones((2, 1)),
            Outcome("balance", "KZ", date(2022, 1, 5)),
        )
