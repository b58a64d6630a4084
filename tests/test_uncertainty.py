"""Uncertain inputs (parameters, event fields, world numbers), outcomes and conclusions.

World numbers vary along the replicate axis like parameters do; a world number held at its
own value changes nothing; outcome statistics agree with the series they summarise; and
conclusions are parsed as data, never evaluated as code.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim.core.inputs import ASSUMPTION_WIDTH, SOURCED_WIDTH, world_numbers
from influence_sim.errors import ArgumentError
from influence_sim.experiment.uncertainty import (
    Outcome,
    Space,
    check_space,
    default_bounds,
    evaluate,
    evaluate_outcomes,
    input_kind,
    parse_conclusion,
)

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "scenarios"
D = date(2022, 1, 20)


@pytest.fixture(scope="module")
def base():
    return isim.load_scenario(SCEN / "kazakhstan_2022.toml")


@pytest.fixture(scope="module")
def no_csto():
    return isim.load_scenario(SCEN / "counterfactuals" / "no_csto.toml")


# ---------------------------------------------------------------------------------------
# world numbers


def test_world_numbers_carry_their_provenance_and_default_widths(base):
    nums = world_numbers(base.world)
    tie = nums["ties.KZ.RU.security"]  # cites SIPRI via indicators.csv
    assert tie.sourced and tie.value == 0.85
    lo, hi = tie.default_bounds()
    assert lo == pytest.approx(0.85 * (1 - SOURCED_WIDTH))
    assert hi == pytest.approx(0.85 * (1 + SOURCED_WIDTH))
    anchor = nums["factions.KZ.tokayev.anchor.RU"]  # an assumption
    assert not anchor.sourced and "Chinese" in anchor.note
    assert anchor.default_bounds() == pytest.approx(
        (0.45 * (1 - ASSUMPTION_WIDTH), 0.45 * (1 + ASSUMPTION_WIDTH))
    )
    # clipped to the valid range: a tie of 0.85 +- 30% would pass 1
    assert nums["ties.KZ.RU.security"].default_bounds(0.3, 0.3)[1] == 1.0
    # every number of the sections that vary per replicate is there
    assert sum(p.startswith("factions.") and p.endswith(".share") for p in nums) == len(
        base.world.factions
    )
    assert {input_kind(p) for p in nums} == {"world"}


def test_a_world_number_at_its_own_value_changes_nothing(base, no_csto):
    """The per-replicate path reproduces the world's own run bit for bit."""
    nums = world_numbers(base.world)
    paths = [
        "factions.KZ.tokayev.anchor.RU",
        "factions.KZ.knb.share",
        "powers.RU.reputation",
        "ties.KG.RU.security",
        "institutions.CSTO.credibility",
        "flows.KZ.CN.trade",
        "states.KZ.autonomy",
    ]
    at_value = Space.of({p: (nums[p].value - 0.01, nums[p].value + 0.01) for p in paths})
    x = np.array([[nums[p].value for p in paths]] * 2)
    out = Outcome("balance", "KZ", D)
    with_inputs = evaluate(base, at_value, x, out, replicates=3, rng=4)
    plain = evaluate(
        base, Space.of({"pull_scale": (0.5, 2)}), np.ones((2, 1)), out, replicates=3, rng=4
    )
    np.testing.assert_array_equal(with_inputs, plain)


def test_world_inputs_move_the_outcome_and_do_not_depend_on_the_chunk(base):
    space = Space.of(
        {"factions.KZ.tokayev.anchor.RU": (0.2, 0.7), "powers.RU.reputation": (0.3, 0.9)}
    )
    x = np.array([[0.2, 0.6], [0.7, 0.6], [0.45, 0.3], [0.45, 0.9]])
    out = Outcome("alignment", "KZ", D, power="RU")
    y = evaluate(base, space, x, out, replicates=2, rng=9).mean(axis=1)
    assert y[1] > y[0]  # a more Russian Tokayev camp: a more Russian Kazakhstan
    assert y[3] > y[2]  # a better-reputed Russia: the same
    whole = evaluate(base, space, x, out, replicates=2, rng=9)
    np.testing.assert_array_equal(
        whole, evaluate(base, space, x, out, replicates=2, rng=9, chunk=3)
    )


def test_a_share_input_rescales_the_other_factions(base):
    from influence_sim.core.runner import Runner

    ids = np.arange(2)
    r = Runner(
        base,
        ids,
        np.random.SeedSequence(1),
        world_inputs={"factions.KZ.knb.share": np.array([0.05, 0.3])},
    )
    kz = base.world.faction_state == base.world.index["KZ"]
    np.testing.assert_allclose(r.ens.share[:, kz].sum(axis=1), 1.0)
    knb = base.world.index["KZ.knb"]
    np.testing.assert_array_equal(r.ens.share[:, knb], [0.05, 0.3])
    tok = base.world.index["KZ.tokayev"]
    # the others keep their proportions: Tokayev's share scales by (1 - v) / (1 - 0.15)
    np.testing.assert_allclose(r.ens.share[:, tok], 0.25 * (1 - np.array([0.05, 0.3])) / 0.85)


@pytest.mark.parametrize(
    ("name", "bounds", "match", "hint"),
    [
        ("factions.KZ.tokayev.anchor.RUS", (0.3, 0.5), "no number there", "anchor.RU"),
        ("factions.KZ.tokayev.sensitivity", (0.3, 0.5), "cannot vary per replicate", None),
        ("factions.KZ.tokayev.anchor.RU", (0.3, 0.9), "sum to", None),
        ("powers.RU.reputation", (0.5, 1.2), "valid range", None),
        ("flows.KZ.CN.trade", (-1.0, 5.0), "valid range", None),
    ],
)
def test_bad_world_inputs_are_refused(base, name, bounds, match, hint):
    with pytest.raises(ArgumentError, match=match) as err:
        check_space(Space.of({name: bounds}), [base])
    assert name in str(err.value)
    if hint:
        assert hint in (err.value.suggestion or "")


def test_default_ranges_of_parameters_and_event_fields(base):
    from influence_sim.params import parameters

    prm = parameters()["pull_scale"]
    assert default_bounds("pull_scale", [base]) == (prm.low, prm.high)
    assert default_bounds("event.csto_deploy.size", [base]) == (0.7, 0.9)  # its uniform
    with pytest.raises(ArgumentError, match="constant"):
        default_bounds("event.massimov_arrested.share", [base])


# ---------------------------------------------------------------------------------------
# outcomes


def test_window_statistics_agree_with_the_series(base):
    """A window's mean is the mean of the daily values; time_to is the first crossing."""
    space = Space.of({"pull_scale": (0.5, 2.0)})
    x = np.array([[0.8], [1.4]])
    start, end = date(2022, 1, 3), date(2022, 1, 12)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    per_day = np.stack(
        [
            evaluate(base, space, x, Outcome("share", "KZ.tokayev", d), replicates=2, rng=3)
            for d in days
        ]
    )  # (days, rows, replicates)
    mean = evaluate(
        base,
        space,
        x,
        Outcome("share", "KZ.tokayev", end, start=start, statistic="mean"),
        replicates=2,
        rng=3,
    )
    np.testing.assert_allclose(mean, per_day.mean(axis=0), rtol=1e-12)
    level = 0.4
    tt = evaluate(
        base,
        space,
        x,
        Outcome("share", "KZ.tokayev", end, start=start, statistic="time_to", level=level),
        replicates=2,
        rng=3,
    )
    above = per_day >= level
    first = np.where(above.any(axis=0), above.argmax(axis=0), len(days))
    np.testing.assert_array_equal(tt, first.astype(float))
    assert (tt < len(days)).any() and (tt > 0).any()  # reached, and not at once


def test_outcomes_of_several_scenarios_in_one_call_are_paired(base, no_csto):
    space = Space.of({"pull_scale": (0.5, 2.0)})
    x = np.array([[0.7], [1.3]])
    eff = Outcome("balance", "KG", D, scenario="no_csto", against="kazakhstan_2022", name="e")
    val = Outcome("balance", "KG", D, scenario="kazakhstan_2022", name="v")
    res = evaluate_outcomes(
        {"kazakhstan_2022": base, "no_csto": no_csto}, space, x, [eff, val], replicates=2, rng=5
    )
    cf = evaluate(no_csto, space, x, Outcome("balance", "KG", D), replicates=2, rng=5)
    np.testing.assert_array_equal(
        res["v"], evaluate(base, space, x, Outcome("balance", "KG", D), replicates=2, rng=5)
    )
    np.testing.assert_array_equal(res["e"], cf - res["v"])


def test_an_outcome_on_a_day_outside_the_run_is_refused(base):
    with pytest.raises(ArgumentError, match="outside the scenario's run"):
        evaluate(
            base,
            Space.of({"pull_scale": (0.5, 2)}),
            np.ones((1, 1)),
            Outcome("balance", "KZ", date(2030, 1, 1)),
        )


# ---------------------------------------------------------------------------------------
# conclusions


def test_a_conclusion_with_a_function_term_names_its_outcome():
    c = parse_conclusion("effect(no_csto, balance, KG, 2022-03-05) < 0", baseline="base")
    (o,) = c.outcomes
    assert (o.scenario, o.against, o.measure, o.actor, o.date) == (
        "no_csto",
        "base",
        "balance",
        "KG",
        date(2022, 3, 5),
    )
    assert c.reads == [o.name] and o.name == o.text
    w = parse_conclusion(
        "value(no_csto, alignment, KZ/RU, 2022-01-05..2022-03-05) >= 0.3", baseline="base"
    )
    (o,) = w.outcomes
    assert (o.statistic, o.start, o.power, o.against) == ("mean", date(2022, 1, 5), "RU", None)


_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


@settings(max_examples=60, deadline=None)
@given(
    clauses=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(list(_OPS)),
            st.integers(-3, 3),
            st.sampled_from(["and", "or"]),
        ),
        min_size=1,
        max_size=5,
    ),
    values=st.lists(st.lists(st.integers(-4, 4), min_size=3, max_size=3), min_size=1, max_size=6),
)
def test_and_binds_tighter_than_or(clauses, values):
    """The parsed conclusion agrees with the same statement evaluated by hand."""
    text = " ".join(
        f"{n} {op} {v}" + (f" {j}" if k < len(clauses) - 1 else "")
        for k, (n, op, v, j) in enumerate(clauses)
    )
    c = parse_conclusion(text, baseline="base", outcomes=["a", "b", "c"])
    vals = np.array(values, dtype=float)
    data = {n: vals[:, i] for i, n in enumerate("abc")}
    expect = np.zeros(len(vals), bool)
    group = np.ones(len(vals), bool)
    for k, (n, op, v, j) in enumerate(clauses):
        group &= _OPS[op](data[n], v)
        if k == len(clauses) - 1 or j == "or":
            expect |= group
            group = np.ones(len(vals), bool)
    np.testing.assert_array_equal(c.holds(data), expect)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "expected a statement"),
        ("a << 0", "expected a number"),
        ("a < 0 and", "ends too early"),
        ("a < 0 but b > 1", "expected 'and' or 'or'"),
        ("d < 0", "unknown outcome 'd'"),
        ("__import__('os').system('true') < 0", "cannot read|unknown function"),
        ("mean(no_csto, balance, KG, 2022-03-05) < 0", "unknown function 'mean'"),
        ("effect(no_csto, balance, KG) < 0", "takes scenario, measure"),
        ("effect(no_csto, balance, KG, 2022-13-05) < 0", "expected a date"),
        ("a < zero", "expected a number"),
    ],
)
def test_a_bad_conclusion_gets_one_clear_error(text, match):
    with pytest.raises(ArgumentError, match=match):
        parse_conclusion(text, baseline="base", outcomes=["a", "b"])


# ---------------------------------------------------------------------------------------
# the experiment file


def test_the_shipped_sensitivity_experiment_loads():
    exp = isim.load_experiment(SCEN / "experiments" / "kazakhstan_2022_sensitivity.toml")
    u = exp.uncertainty
    assert u is not None
    kinds = {input_kind(n) for n in u.space.names}
    assert kinds == {"param", "event", "world"}
    assert len([n for n in u.space.names if input_kind(n) == "param"]) == 13
    assert {o.name for o in u.outcomes} >= {"csto_KZ", "csto_KG", "csto_region"}
    assert all(o.against == "kazakhstan_2022" for o in u.outcomes)
    assert [c.name for c in u.conclusions] == [
        "russia_gained_across_region",
        "russia_gained_in_region",
    ]
    # the variant near the defaults asks the same question over half to twice each default
    near = isim.load_experiment(
        SCEN / "experiments" / "kazakhstan_2022_sensitivity_near_defaults.toml"
    ).uncertainty
    assert near is not None and near.space.names == u.space.names
    assert near.outcomes == u.outcomes and near.conclusions == u.conclusions
    from influence_sim.params import parameters

    for name, (lo, hi) in zip(near.space.names, near.space.bounds, strict=True):
        if input_kind(name) == "param" and parameters()[name].default:
            assert (lo, hi) == pytest.approx(
                (parameters()[name].default / 2, parameters()[name].default * 2)
            )
    # an experiment without the sections has none
    assert isim.load_experiment(SCEN / "experiments" / "kazakhstan_2022.toml").uncertainty is None


def test_describe_inputs_gives_each_value_and_where_it_comes_from(base):
    from influence_sim.experiment.uncertainty import describe_inputs

    space = Space.of(
        {
            "pull_scale": (0.5, 2.0),
            "event.csto_deploy.size": (0.7, 0.9),
            "event.massimov_arrested.share": (0.1, 0.7),
            "ties.KZ.RU.security": (0.8, 0.9),
        }
    )
    t = describe_inputs(space, base)
    assert list(t.index) == list(space.names)
    assert t.loc["pull_scale", "value"] == 1.0 and t.loc["pull_scale", "kind"] == "param"
    assert t.loc["pull_scale", "position"] == pytest.approx(1 / 3)
    assert t.loc["pull_scale", "provenance"].startswith("params.toml: ")
    assert t.loc["event.csto_deploy.size", "value"] == pytest.approx(0.8)  # its uniform's mean
    assert t.loc["event.massimov_arrested.share", "default_range"] is None  # a constant
    assert t.loc["ties.KZ.RU.security", "provenance"].startswith("source: ")
    assert t.loc["ties.KZ.RU.security", "default_range"] == pytest.approx((0.765, 0.935))
