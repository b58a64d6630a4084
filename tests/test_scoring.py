"""Scoring on held-out years: interval score, CRPS, and naive baselines the model can lose to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import influence_sim as isim
from influence_sim.analysis.scoring import crps_ensemble, interval_score, score
from influence_sim.cli import main
from influence_sim.core.targets import load_targets

ROOT = Path(__file__).resolve().parent.parent

HEAD = """
[targets]
name = "{name}"
world = "central_asia_2021"
"""

LEVEL = """
[[target]]
id = "{id}"
observable = "trade"
actor = "KZ"
power = "RU"
kind = "level"
{when}
value = {value}
sd = 1.0
source = "test"
reliability = "test"
"""


def _targets(tmp_path: Path, name: str, levels: list[tuple[str, str, float]]) -> Path:
    text = HEAD.format(name=name) + "".join(
        LEVEL.format(id=i, when=w, value=v) for i, w, v in levels
    )
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@settings(max_examples=60, deadline=None)
@given(x=st.lists(st.floats(-10, 10), min_size=1, max_size=8), y=st.floats(-10, 10))
def test_the_ensemble_crps_is_its_definition(x, y):
    arr = np.array(x)
    want = np.abs(arr - y).mean() - 0.5 * np.abs(arr[:, None] - arr[None, :]).mean()
    assert crps_ensemble(arr, y) == pytest.approx(want, abs=1e-9)
    assert crps_ensemble(np.array([y]), y) == 0.0


def test_the_interval_score_is_width_plus_the_penalty():
    assert interval_score(1.0, 3.0, 2.0, 0.1) == 2.0
    assert interval_score(1.0, 3.0, 4.0, 0.1) == pytest.approx(2.0 + 20 * 1.0)
    assert interval_score(1.0, 3.0, 0.5, 0.1) == pytest.approx(2.0 + 20 * 0.5)


@pytest.fixture(scope="module")
def run(baseline):
    return isim.simulate(baseline, replicates=6, rng=2, every=7)


def test_scores_of_the_model_and_the_baselines(run, tmp_path):
    held = load_targets(
        _targets(tmp_path, "held", [("ru_2022", "window = [2022-01-01, 2022-12-31]", 26.1)])
    )
    training = load_targets(
        _targets(
            tmp_path,
            "train",
            [
                ("ru_2017", "date = 2017-12-31", 16.0),
                ("ru_2018", "date = 2018-12-31", 17.6),
                ("ru_2021", "date = 2021-12-31", 24.5),
            ],
        )
    )
    s = score(run, held, training=training)
    t = s.table.set_index("forecaster")
    dates, values, labels = run.block("trade")
    inside = (dates >= np.datetime64("2022-01-01")) & (dates <= np.datetime64("2022-12-31"))
    x = values[inside, :, labels.index("KZ/RU")].mean(axis=0)
    assert t.loc["model", "forecast"] == pytest.approx(np.median(x))
    assert t.loc["model", "crps"] == pytest.approx(crps_ensemble(x, 26.1))
    assert t.loc["persistence", "forecast"] == 24.5
    assert t.loc["persistence", "crps"] == pytest.approx(1.6)
    slope, icept = np.polyfit(
        [2017 + 364 / 365.25, 2018 + 364 / 365.25, 2021 + 364 / 365.25], [16.0, 17.6, 24.5], 1
    )
    assert t.loc["trend", "forecast"] == pytest.approx(icept + slope * (2022 + 364 / 365.25))


def test_the_tool_says_when_the_model_is_worse_than_persistence(run, tmp_path):
    # an observation persistence gets exactly right and the model does not (the scenario
    # leaves the flows at the world's 24.5; the made-up training and held-out values are 24.0)
    held = load_targets(_targets(tmp_path, "held", [("ru_2022", "date = 2022-12-31", 24.0)]))
    training = load_targets(_targets(tmp_path, "train", [("ru_2021", "date = 2021-12-31", 24.0)]))
    s = score(run, held, training=training)
    model = s.table[s.table["forecaster"] == "model"].iloc[0]
    assert model["crps"] > 0
    assert "the model is WORSE than persistence" in s.verdict()
    assert "trend: no target has the training values it needs" in s.verdict()


def test_the_command_scores_a_store_and_the_report_shows_it(tmp_path, capsys):
    exp_path = tmp_path / "exp.toml"
    exp_path.write_text(
        "[experiment]\n"
        'name = "tiny"\n'
        f'baseline = "{ROOT / "scenarios" / "kazakhstan_2022.toml"}"\n'
        "replicates = 2\nseed = 3\n\n[output]\nevery = 7\n"
    )
    store = tmp_path / "store"
    isim.run_experiment(isim.load_experiment(exp_path), store, workers=1, progress=False)
    held = _targets(tmp_path, "held", [("ru_2022", "window = [2022-01-01, 2022-12-31]", 26.1)])
    train = _targets(tmp_path, "train", [("ru_2021", "date = 2021-12-31", 24.5)])
    status = main(["score", str(store), "--targets", str(held), "--training", str(train)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "persistence" in out and "lower scores are better" in out
    assert (store / "analysis" / "scores.csv").is_file()
    assert (store / "analysis" / "scores.png").is_file()
    from matplotlib.figure import Figure

    from influence_sim import report

    page = report.build_report(
        isim.load_results(store), figures={"x": Figure()}, out=tmp_path / "r.html"
    )
    html = page.read_text()
    assert "Scores against held-out observations" in html and "href='#scores'" in html
    assert "alt='scores'" in html  # the chart, drawn from the CSV
    # a scenario the store does not hold: one line, exit 2
    status = main(["score", str(store), "--targets", str(held), "--scenario", "nope"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1 and "no scenario 'nope'" in err


def test_the_scores_chart_draws_one_row_per_target(run, tmp_path):
    from matplotlib.figure import Figure

    from influence_sim.errors import ArgumentError
    from influence_sim.plots import scores_chart

    held = load_targets(
        _targets(
            tmp_path,
            "held",
            [
                ("ru_2022", "window = [2022-01-01, 2022-12-31]", 26.1),
                ("ru_mid", "date = 2022-07-02", 25.0),
            ],
        )
    )
    training = load_targets(_targets(tmp_path, "train", [("ru_2021", "date = 2021-12-31", 24.5)]))
    table = score(run, held, training=training).table
    # the observation's 95% interval: sd 1.0 either side x 1.96
    row = table[table["forecaster"] == "model"].iloc[0]
    assert row["obs_high"] - row["obs_low"] == pytest.approx(2 * 1.959963984540054)
    ax = Figure().add_subplot()
    assert scores_chart(table, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ru_2022", "ru_mid"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "observation, 95% interval",
        "model, predictive interval",
        "persistence",
        "trend",
    ]
    assert scores_chart(table).get_figure(root=True) is not None  # a figure of its own
    with pytest.raises(ArgumentError, match="lacks obs_low"):
        scores_chart(table.drop(columns="obs_low"))


def test_brier_and_log_scores_and_the_predictive_set_are_their_definitions():
    from influence_sim.analysis.scoring import _predictive_set, brier_score, log_score

    p = np.array([0.1, 0.2, 0.6, 0.1])  # yes, no, abstain, absent
    assert brier_score(p, 2) == pytest.approx(0.01 + 0.04 + 0.16 + 0.01)
    assert brier_score(np.array([0.0, 0.0, 1.0, 0.0]), 2) == 0.0
    assert brier_score(np.array([1.0, 0.0, 0.0, 0.0]), 2) == 2.0
    assert log_score(p, 2) == pytest.approx(-np.log(0.6))
    assert log_score(p * np.array([1, 1, 1, 0]) / 0.9, 3) == np.inf
    assert _predictive_set(p, 0.9) == {"abstain", "no", "yes"}  # 0.6 + 0.2 + 0.1
    assert _predictive_set(p, 0.5) == {"abstain"}
    uniform = np.full(4, 0.25)
    assert brier_score(uniform, 0) == pytest.approx(0.75)
    assert log_score(uniform, 0) == pytest.approx(np.log(4))


def test_stances_are_scored_from_the_roll_calls_the_model_draws(tmp_path, capsys):
    exp_path = tmp_path / "exp.toml"
    exp_path.write_text(
        "[experiment]\n"
        'name = "votes"\n'
        f'baseline = "{ROOT / "scenarios" / "ukraine_war_2022.toml"}"\n'
        "replicates = 40\nseed = 3\nchunk = 20\n\n[output]\nevery = 30\n"
    )
    store = tmp_path / "store"
    rs = isim.run_experiment(isim.load_experiment(exp_path), store, workers=1, progress=False)
    held = tmp_path / "held.toml"
    held.write_text(
        HEAD.format(name="held")
        + "".join(
            f"""
[[target]]
id = "{s.lower()}_es11_1"
observable = "vote"
actor = "{s}"
kind = "stance"
vote = "unga_es11_1"
stance = "abstain"
source = "test"
reliability = "test"
"""
            for s in ("KZ", "KG")
        )
    )
    s = score(rs, load_targets(held))
    assert s.table.empty and len(s.stances) == 4  # two targets x (model, uniform)
    v = rs.votes
    kz = v[(v["event"] == "unga_es11_1") & (v["state"] == "KZ")]
    model = s.stances.set_index(["target", "forecaster"]).loc[("kz_es11_1", "model")]
    assert model["p_observed"] == pytest.approx((kz["stance"] == "abstain").mean())
    probs = np.array([model[f"p_{k}"] for k in ("yes", "no", "abstain", "absent")])
    assert probs.sum() == pytest.approx(1.0) and model["replicates"] == 40
    assert "roll-call stances: the model is" in s.verdict()
    status = main(["score", str(store), "--targets", str(held)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Roll-call stances (2 held-out stance targets)" in out
    assert (store / "analysis" / "stance_scores.csv").is_file()
    # a roll call the results do not hold is not scored, and the verdict says why; with
    # nothing left to score: one line, exit 2
    text = held.read_text()
    held.write_text(text.replace('vote = "unga_es11_1"', 'vote = "unga_es11_9"', 1))
    part = score(rs, load_targets(held))
    assert list(part.unscored) == ["kz_es11_1"] and len(part.stances) == 2
    assert "not scored: kz_es11_1: the results hold no stance of KZ in roll call" in (
        part.verdict()
    )
    held.write_text(text.replace('vote = "unga_es11_1"', 'vote = "unga_es11_9"'))
    assert main(["score", str(store), "--targets", str(held)]) == 2
    err = capsys.readouterr().err
    assert "no level or stance target these results can score" in err and "unga_es11_9" in err


def test_a_tie_with_a_baseline_is_not_called_worse():
    import pandas as pd

    from influence_sim.analysis.scoring import Scores

    table = pd.DataFrame(
        [
            {"target": "a", "forecaster": "model", "crps": 3.8, "covers": True},
            {"target": "a", "forecaster": "persistence", "crps": 3.8, "covers": False},
            {"target": "a", "forecaster": "trend", "crps": 4.0, "covers": False},
        ]
    )
    text = Scores(table, 0.1).verdict()
    assert "no better than (tied with) persistence" in text
    assert "better than trend" in text and "WORSE" not in text
