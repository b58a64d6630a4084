"""History matching's first layer: what targets read of the model, and implausibility."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influence_sim.analysis.evidence import implausibility, non_implausible, readings
from influence_sim.core.targets import Target, load_targets
from influence_sim.errors import ArgumentError
from influence_sim.experiment.uncertainty import Outcome, Space, evaluate_outcomes

from .test_targets import VALID

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    path = tmp_path_factory.mktemp("t") / "t.toml"
    path.write_text(VALID, "utf-8")
    return load_targets(path)


def test_readings_say_what_each_target_reads(targets, baseline):
    rs = {r.target.id: r for r in readings(targets, baseline)}
    assert set(rs) == {
        "kg_approval_ru",
        "kz_trade_cn",
        "kg_ru_above_cn",
        "ru_approval_by_state",
        "tokayev_keeps_power",
        "cn_overtakes_ru_trade",
    }
    from influence_sim.analysis.evidence import unread

    why = unread(targets, baseline)
    assert set(why) == {"kz_approval_cn_change", "kz_abstains"}
    assert "more than a year before" in why["kz_approval_cn_change"]
    # a crossover after the scenario's end is not a reading of it; nor a roll call it lacks
    assert "no roll call 'unga_es11_1'" in why["kz_abstains"]
    # a crossover read over its window (2023-01-01 less 90 days to the run's end), 120 days
    cross = rs["cn_overtakes_ru_trade"]
    assert cross.interval == (365, 365 + 1095) and len(cross.days) <= 120
    assert cross.days[0] <= 365 - 90 + 6 and cross.days[-1] >= 730 - 7
    assert [o.power for o in cross.outcomes[:1] + cross.outcomes[-1:]] == ["CN", "RU"]
    late = replace(targets["cn_overtakes_ru_trade"], dates=(date(2025, 1, 1), date(2025, 6, 1)))
    late_file = replace(targets, targets=(late,))
    assert "after the scenario's last day" in unread(late_file, baseline)[late.id]
    (o,) = rs["kg_approval_ru"].outcomes
    # 2021-12-31 precedes the scenario: read at its start, the world's state on the eve
    assert (o.measure, o.actor, o.power, o.date) == ("approval", "KG", "RU", baseline.start)
    assert rs["kg_approval_ru"].clipped and o.name == "kg_approval_ru.0"
    assert [x.power for x in rs["kg_ru_above_cn"].outcomes] == ["RU", "CN"]
    assert [x.actor for x in rs["ru_approval_by_state"].outcomes] == ["KG", "TJ", "KZ"]
    # a change within the scenario reads both ends
    from influence_sim.analysis.evidence import _reading

    change = replace(targets["kz_approval_cn_change"], since=date(2022, 1, 1), to=date(2022, 3, 1))
    ends = _reading(change, baseline).outcomes
    assert [o.date for o in ends] == [date(2022, 1, 1), date(2022, 3, 1)]
    (tok,) = rs["tokayev_keeps_power"].outcomes
    assert tok.date == date(2022, 2, 1) and not rs["tokayev_keeps_power"].clipped


def _level(value: float, sd: float) -> Target:
    return Target(
        id="x",
        observable="approval",
        kind="level",
        source="s",
        reliability="r",
        value=value,
        sd=sd,
        actor="KG",
        power="RU",
        date=date(2022, 1, 1),
    )


def _reading(t: Target, n: int = 1):
    from influence_sim.analysis.evidence import Reading

    outs = tuple(Outcome("approval", "KG", date(2022, 1, 1), name=f"x.{k}") for k in range(n))
    return Reading(t, outs)


@settings(max_examples=50, deadline=None)
@given(
    y=st.lists(st.floats(0, 1), min_size=2, max_size=6),
    z=st.floats(0, 1),
    sd=st.floats(0.01, 0.2),
    disc=st.floats(0, 0.2),
)
def test_a_levels_implausibility_is_the_documented_distance(y, z, sd, disc):
    values = {"x.0": np.array([y])}
    got = implausibility(_reading(_level(z, sd)), values, discrepancy=disc)
    arr = np.array(y)
    poll = 0.05  # approval_noise's documented value: house effects and wording
    want = abs(arr.mean() - z) / np.sqrt(sd**2 + poll**2 + arr.var(ddof=1) + disc**2)
    assert got.shape == (1,)
    assert got[0] == pytest.approx(want)
    # an observable without observation noise, or noise given: the target's sd alone
    alone = implausibility(_reading(_level(z, sd)), values, discrepancy=disc, noise=0.0)
    assert alone[0] == pytest.approx(
        abs(arr.mean() - z) / np.sqrt(sd**2 + arr.var(ddof=1) + disc**2)
    )


def test_patterns_are_implausible_only_on_the_wrong_side():
    above = replace(_level(0.0, 0.1), kind="threshold", value=None, sd=None, above=0.5)
    ok = implausibility(_reading(above), {"x.0": np.array([[0.6, 0.7], [0.4, 0.6]])})
    np.testing.assert_allclose(ok, [0.0, 0.0])  # means 0.65 and 0.5: not below 0.5
    bad = implausibility(_reading(above), {"x.0": np.array([[0.3, 0.5]])})
    assert bad[0] == pytest.approx(0.1 / np.std([0.3, 0.5], ddof=1))
    order = replace(above, kind="order", above=None, order=("RU", "CN"))
    values = {"x.0": np.array([[0.8, 0.7], [0.2, 0.3]]), "x.1": np.array([[0.3, 0.2], [0.4, 0.3]])}
    got = implausibility(_reading(order, 2), values)
    assert got[0] == 0.0  # RU above CN in every replicate
    diff = np.array([0.2, 0.3]) - np.array([0.4, 0.3])
    assert got[1] == pytest.approx(-diff.mean() / diff.std(ddof=1))
    # no spread and the wrong side: infinitely implausible
    flat = implausibility(_reading(above), {"x.0": np.array([[0.4, 0.4]])})
    assert flat[0] == np.inf


def test_non_implausible_reads_the_ranked_implausibility():
    imp = np.array([[0.5, 4.0, 4.0, 1.0], [1.0, 1.0, 5.0, 3.5]])  # (targets, rows)
    np.testing.assert_array_equal(non_implausible(imp), [True, False, False, False])
    np.testing.assert_array_equal(non_implausible(imp, rank=2), [True, True, False, True])
    np.testing.assert_array_equal(non_implausible(imp, cutoff=4.0), [True, True, False, True])
    with pytest.raises(ArgumentError, match="rank"):
        non_implausible(imp, rank=3)
    with pytest.raises(ArgumentError, match="targets, rows"):
        non_implausible(np.ones(3))


def test_targets_meet_the_model_over_a_design(targets, baseline):
    """The readings run over a design like any outcome; the results are finite shares."""
    rs = readings(targets, baseline)
    outcomes = [o for r in rs for o in r.outcomes]
    space = Space.of({"approval_midpoint": (0.05, 0.4), "pull_scale": (0.5, 2.0)})
    x = np.array([[0.05, 1.0], [0.4, 1.0]])
    values = evaluate_outcomes({baseline.name: baseline}, space, x, outcomes, replicates=2, rng=1)
    imp = np.array([implausibility(r, values) for r in rs])
    assert imp.shape == (len(rs), 2)
    # at the start every replicate is alike: a pattern the start state contradicts is
    # infinitely implausible without a model discrepancy (here, Tajikistan's public starts
    # warmer to Russia than Kyrgyzstan's), and finite with one
    order = next(i for i, r in enumerate(rs) if r.target.id == "ru_approval_by_state")
    assert (values["ru_approval_by_state.1"] > values["ru_approval_by_state.0"]).all()
    assert np.isinf(imp[order]).all()
    assert np.isfinite(implausibility(rs[order], values, discrepancy=0.05)).all()
    assert np.isfinite(np.delete(imp, order, axis=0)).all()
    level = next(i for i, r in enumerate(rs) if r.target.id == "kg_approval_ru")
    # a higher approval midpoint lowers Kyrgyzstan's approval of Russia's leadership
    assert values["kg_approval_ru.0"][0].mean() > values["kg_approval_ru.0"][1].mean()
    assert imp[level, 0] != imp[level, 1]


def _pair_reading(days: tuple[int, ...], interval: tuple[int, int]):
    from influence_sim.analysis.evidence import Reading

    t = Target(
        id="c",
        observable="share",
        kind="crossover",
        source="s",
        reliability="r",
        between=("KZ.tokayev", "KZ.nazarbayev"),
        dates=(date(2022, 1, 5), date(2022, 1, 15)),
    )
    outs = tuple(
        Outcome("share", who, date(2022, 1, 1), name=f"c.{j}@{d}")
        for j, who in enumerate(t.between or ())
        for d in days
    )
    return Reading(t, outs, days=days, interval=interval)


def test_a_crossovers_day_and_implausibility_are_the_documented_ones():
    days = (0, 2, 4, 6)
    r = _pair_reading(days, (3, 5))
    # two design rows x two replicates; the first of the pair rises, the second is flat
    a = {0: [[0.1, 0.1], [0.1, 0.1]], 2: [[0.2, 0.1], [0.1, 0.1]]}
    a |= {4: [[0.4, 0.4], [0.1, 0.1]], 6: [[0.5, 0.5], [0.1, 0.1]]}
    values = {f"c.0@{d}": np.array(a[d]) for d in days}
    values |= {f"c.1@{d}": np.full((2, 2), 0.3) for d in days}
    from influence_sim.analysis.evidence import summarise

    means, variances = summarise(r, values)
    # row 0 crosses on day 4 in both replicates; row 1 never does: censored at day 7
    np.testing.assert_allclose(means["c"], [4.0, 7.0])
    np.testing.assert_allclose(variances["c"], [0.0, 0.0])
    imp = implausibility(r, values)
    assert imp[0] == 0.0 and imp[1] == np.inf  # inside [3, 5]; past it with no spread
    # spread: replicates crossing on days 6 and 4, mean 5 (inside), then 6 and 6 +/- ...
    a2 = {0: [[0.1, 0.1]], 2: [[0.1, 0.1]], 4: [[0.1, 0.4]], 6: [[0.5, 0.5]]}
    v2 = {f"c.0@{d}": np.array(a2[d]) for d in days} | {
        f"c.1@{d}": np.full((1, 2), 0.3) for d in days
    }
    assert implausibility(r, v2)[0] == 0.0
    a3 = {0: [[0.1, 0.1]], 2: [[0.1, 0.1]], 4: [[0.1, 0.1]], 6: [[0.5, 0.5]]}
    v3 = {f"c.0@{d}": np.array(a3[d]) for d in days} | {
        f"c.1@{d}": np.array([[0.3, 0.3]]) for d in days
    }
    v3["c.1@6"] = np.array([[0.3, 0.6]])  # the second replicate never crosses: day 7
    crossing = np.array([6.0, 7.0])
    assert implausibility(r, v3)[0] == pytest.approx((crossing.mean() - 5) / crossing.std(ddof=1))


def test_a_stances_implausibility_is_the_normal_quantile_of_its_probability():
    from scipy.stats import norm

    from influence_sim.analysis.evidence import Reading

    t = Target(
        id="s",
        observable="vote",
        kind="stance",
        source="s",
        reliability="r",
        actor="KZ",
        vote="v",
        stance="abstain",
    )
    r = Reading(t, (Outcome("vote", "KZ", date(2022, 3, 2), statistic="stance", name="s.0"),))
    codes = np.array(
        [
            [2, 2, 2, 2],  # all abstain: p = 1
            [2, 2, 1, 1],  # p = 0.5: the boundary
            [2, 1, 1, 0],  # p = 0.25
            [0, 1, 3, -1],  # never: p = 0
        ],
        dtype=float,
    )
    imp = implausibility(r, {"s.0": codes})
    assert imp[0] == 0.0 and imp[1] == 0.0
    assert imp[2] == pytest.approx(norm.isf(0.25))
    assert imp[3] == np.inf
    # 3 is where the model gives the observed stance a probability of 0.00135
    assert norm.isf(0.00135) == pytest.approx(3.0, abs=1e-3)


def test_a_stance_target_reads_the_roll_call_the_model_draws():
    import influence_sim as isim
    from influence_sim.analysis.evidence import Reading

    sc = isim.load_scenario(ROOT / "scenarios" / "ukraine_war_2022.toml")
    t = Target(
        id="kz",
        observable="vote",
        kind="stance",
        source="s",
        reliability="r",
        actor="KZ",
        vote="unga_es11_1",
        stance="abstain",
    )
    from influence_sim.analysis.evidence import _stance

    r: Reading = _stance(t, sc)
    sp = Space(names=("pull_scale",), bounds=((0.5, 2.0),))
    vals = evaluate_outcomes(
        {sc.name: sc}, sp, np.array([[1.0]]), list(r.outcomes), replicates=40, rng=1
    )
    run = isim.simulate(sc, replicates=40, rng=1).votes()
    kz = run[(run["event"] == "unga_es11_1") & (run["state"] == "KZ")].sort_values("replicate")
    from influence_sim.core.events import STANCES

    np.testing.assert_array_equal(vals["kz.0"][0], [STANCES.index(x) for x in kz["stance"]])
