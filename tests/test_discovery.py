"""Scenario discovery (analysis/discovery.py, plots/discovery.py): PRIM finds planted boxes,
reports its trajectory and limits in our own types, checks its inputs, and draws.

The 'explore' extra (the EMA Workbench) is part of the test install (Makefile): these tests
run, not skip, and the package is first imported inside `prim`, under the suite's
warnings-as-errors filter, so a warning that `prim` lets through fails them."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from influence_sim.analysis.discovery import Discovery, prim
from influence_sim.analysis.sensitivity import Space
from influence_sim.errors import ArgumentError
from influence_sim.plots.discovery import box_limits, tradeoff

NAMES13 = [f"x{i}" for i in range(13)]
NAMES5 = ["x0", "x1", "x2", "x3", "x4"]


def planted(seed: int, rows: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """13 uniform inputs; the cases: x2 in [0.2, 0.6] and x7 > 0.7 (12% of the space)."""
    X = np.random.default_rng(seed).uniform(size=(rows, 13))
    return X, (X[:, 2] >= 0.2) & (X[:, 2] <= 0.6) & (X[:, 7] > 0.7)


def sign_flip(seed: int, rows: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """A toy model over 5 inputs whose outcome turns negative where x0 < 0.3 and x3 > 0.5.

    f = max(x0 - 0.3, 0.5 - x3) * (1 + x1) + noise: positive unless both x0 < 0.3 and
    x3 > 0.5; x1 scales it, x2 and x4 do nothing, and the noise blurs the edges.
    """
    gen = np.random.default_rng(seed)
    X = gen.uniform(size=(rows, 5))
    f = np.maximum(X[:, 0] - 0.3, 0.5 - X[:, 3]) * (1 + X[:, 1]) + 0.02 * gen.standard_normal(rows)
    return X, f < 0


@pytest.fixture(scope="module")
def box13() -> Discovery:
    X, y = planted(11)
    return prim(X, y, NAMES13)


@pytest.fixture(scope="module")
def flip() -> Discovery:
    X, y = sign_flip(5)
    return prim(X, y, NAMES5)


# ---------------------------------------------------------------------------------------
# recovery


def test_prim_recovers_a_box_planted_in_13_dimensions(box13):
    d = box13
    assert set(d.restricted) == {"x2", "x7"}
    lim = d.limits
    assert lim.loc["x2", "low"] == pytest.approx(0.2, abs=0.05)
    assert lim.loc["x2", "high"] == pytest.approx(0.6, abs=0.05)
    assert lim.loc["x7", "low"] == pytest.approx(0.7, abs=0.05)
    # x7 is cut from below only: its upper limit is the data's maximum
    assert lim.loc["x7", "high"] == d.ranges.loc["x7", "high"]
    assert np.isnan(lim.loc["x7", "qp_high"])
    assert d.density >= 0.95 and d.coverage >= 0.9 and d.found
    assert (lim["qp"] < 1e-10).all()
    assert d.rule("x7") == f"x7 >= {lim.loc['x7', 'low']:.3g}"
    assert d.rule("x2").startswith(f"{lim.loc['x2', 'low']:.3g} <= x2 <= ")
    assert d.rule("x0") == "x0: any value"


@pytest.mark.parametrize("seed", [1, 2])
def test_the_planted_box_is_found_from_other_samples(seed):
    X, y = planted(seed, rows=800)
    d = prim(X, y, NAMES13)
    assert set(d.restricted) == {"x2", "x7"}
    assert d.density >= 0.9 and d.coverage >= 0.8


def test_a_sign_flip_in_a_toy_model_is_found_in_the_right_dimensions(flip):
    d = flip
    assert set(d.restricted) == {"x0", "x3"}
    assert d.limits.loc["x0", "high"] == pytest.approx(0.3, abs=0.05)
    assert d.limits.loc["x3", "low"] == pytest.approx(0.5, abs=0.05)
    assert d.density >= 0.9 and d.coverage >= 0.7


def test_a_noisy_outcome_gives_a_box_below_the_threshold():
    gen = np.random.default_rng(8)
    X = gen.uniform(size=(600, 3))
    y = (X[:, 0] < 0.5) ^ (gen.uniform(size=600) < 0.35)  # 35% of the labels flipped
    d = prim(X, y, ["a", "b", "c"], min_coverage=0.8)
    assert not d.found and d.density < d.threshold
    assert "is below the threshold 80%" in d.describe()


# ---------------------------------------------------------------------------------------
# what a Discovery holds


def test_the_trajectory_starts_from_the_whole_data(box13):
    t = box13.trajectory
    assert list(t.columns) == ["coverage", "density", "mass", "restricted", "cases", "n"]
    assert t.index.name == "step" and list(t.index) == list(range(len(t)))
    first = t.loc[0]
    assert (first["coverage"], first["mass"], first["restricted"]) == (1.0, 1.0, 0)
    assert (first["cases"], first["n"]) == (box13.cases, box13.n) == (box13.cases, 1000)
    assert first["density"] == pytest.approx(box13.cases / box13.n)
    assert t["coverage"].between(0, 1).all() and t["density"].between(0, 1).all()
    np.testing.assert_allclose(t["coverage"], t["cases"] / box13.cases)
    np.testing.assert_allclose(t["density"], t["cases"] / t["n"])
    np.testing.assert_allclose(t["mass"], t["n"] / box13.n)


def test_the_default_box_is_the_densest_with_enough_coverage(box13):
    t = box13.trajectory
    ok = t[t["coverage"] >= 0.5]
    assert box13.density == ok["density"].max()
    assert box13.chosen in ok.index[ok["density"] == ok["density"].max()]
    row = t.loc[box13.chosen]
    assert (box13.coverage, box13.density, box13.mass) == (
        row["coverage"],
        row["density"],
        row["mass"],
    )
    assert len(box13.limits) == row["restricted"]


def test_another_box_can_be_chosen():
    X, y = sign_flip(5, rows=500)
    full = prim(X, y, NAMES5, min_coverage=1.0)
    assert full.coverage == 1.0
    last = prim(X, y, NAMES5, box=-1)
    assert last.chosen == len(last.trajectory) - 1
    first = prim(X, y, NAMES5, box=0)
    assert first.chosen == 0 and first.limits.empty and first.restricted == ()
    assert first.mass == 1.0


def test_the_quasi_p_value_is_a_binomial_test_of_each_restriction(flip):
    X, y = sign_flip(5)
    lim = flip.limits
    inside = np.ones(len(y), bool)
    for name, row in lim.iterrows():
        j = NAMES5.index(name)
        inside &= (X[:, j] >= row["low"]) & (X[:, j] <= row["high"])
    t_box, h_box = int(inside.sum()), int(y[inside].sum())
    assert (t_box, h_box) == tuple(flip.trajectory.loc[flip.chosen, ["n", "cases"]])
    for name in lim.index:
        others = np.ones(len(y), bool)
        for other, row in lim.iterrows():
            if other != name:
                j = NAMES5.index(other)
                others &= (X[:, j] >= row["low"]) & (X[:, j] <= row["high"])
        p = y[others].mean()
        want = stats.binomtest(h_box, t_box, p, alternative="greater").pvalue
        assert lim.loc[name, "qp"] == pytest.approx(want, rel=1e-6)
    assert list(lim["qp"]) == sorted(lim["qp"])  # most significant first


@settings(max_examples=8)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(60, 200),
    inputs=st.integers(1, 4),
    share=st.floats(0.1, 0.6),
)
def test_the_limits_hold_exactly_the_rows_of_the_chosen_box(seed, rows, inputs, share):
    gen = np.random.default_rng(seed)
    X = gen.uniform(size=(rows, inputs))
    y = (X[:, 0] < share) ^ (gen.uniform(size=rows) < 0.1)
    if not y.any() or y.all():
        y[:2] = [True, False]
    names = [f"u{j}" for j in range(inputs)]
    d = prim(X, y, names)
    inside = np.ones(rows, bool)
    for name, row in d.limits.iterrows():
        j = names.index(name)
        inside &= (X[:, j] >= row["low"]) & (X[:, j] <= row["high"])
        assert row["low"] <= row["high"]
    chosen = d.trajectory.loc[d.chosen]
    assert (inside.sum(), y[inside].sum()) == (chosen["n"], chosen["cases"])
    assert d.trajectory.loc[0, "coverage"] == 1.0 and d.coverage >= d.min_coverage
    assert ((d.limits["qp"] >= 0) & (d.limits["qp"] <= 1)).all()


def test_the_result_holds_only_our_own_types(box13):
    for name, value in vars(box13).items():
        assert not type(value).__module__.startswith("ema_workbench"), name
    assert isinstance(box13.trajectory, pd.DataFrame) and isinstance(box13.limits, pd.DataFrame)
    assert box13.settings["engine"].startswith("ema_workbench ")
    assert all(isinstance(v, str | float) for v in box13.settings.values())


def test_describe_says_what_was_found(box13):
    text = box13.describe()
    assert "121 cases of interest in 1,000 rows" in text
    assert f"Box {box13.chosen}" in text and "restricts 2 of 13 inputs" in text
    assert box13.rule("x2") in text and box13.rule("x7") in text
    assert "reaches the threshold 80%" in text
    assert len(text.splitlines()) == 5


def test_as_dict_is_json_and_reads_back(flip):
    data = flip.as_dict()
    text = json.dumps(data, allow_nan=False)
    back = Discovery.from_dict(json.loads(text))
    assert back.as_dict() == data
    pd.testing.assert_frame_equal(back.trajectory, flip.trajectory)
    pd.testing.assert_frame_equal(back.limits, flip.limits)
    pd.testing.assert_frame_equal(back.ranges, flip.ranges)
    assert back.describe() == flip.describe()
    assert data["method"] == "prim" and data["chosen"] == flip.chosen
    assert [r["input"] for r in data["limits"]] == list(flip.restricted)


def test_same_inputs_give_identical_results():
    X, y = sign_flip(9, rows=500)
    a = prim(X, y, NAMES5)
    b = prim(X.copy(), y.copy(), Space.of(dict.fromkeys(NAMES5, (0.0, 1.0))))
    assert a.as_dict() == b.as_dict()
    pd.testing.assert_frame_equal(a.trajectory, b.trajectory)
    pd.testing.assert_frame_equal(a.limits, b.limits)


def test_input_names_are_not_the_package_s_business():
    """An input called 'scenario' (a column the package drops) is analysed like any other."""
    X, y = sign_flip(5, rows=500)
    d = prim(X, y, ["scenario", "x1", "x2", "x3", "x4"])
    assert set(d.restricted) == {"scenario", "x3"}


# ---------------------------------------------------------------------------------------
# errors


def _bad_cases():
    X, y = sign_flip(1, rows=100)
    nan = X.copy()
    nan[3, 2] = np.nan
    inf = X.copy()
    inf[0, 0] = np.inf
    return [
        ("y too short", X, y[:-1], NAMES5, {}, "y", "one value per row"),
        ("y 2-d", X, y[:, None], NAMES5, {}, "y", "one value per row"),
        ("y ints", X, y.astype(int), NAMES5, {}, "y", "must be boolean"),
        ("y floats", X, y.astype(float), NAMES5, {}, "y", "must be boolean"),
        ("y strings", X, np.where(y, "yes", "no"), NAMES5, {}, "y", "must be boolean"),
        ("X NaN", nan, y, NAMES5, {}, "X", "NaN or infinity"),
        ("X inf", inf, y, NAMES5, {}, "X", "NaN or infinity"),
        ("X text", X.astype(str).astype(object) + "a", y, NAMES5, {}, "X", "numbers"),
        ("X columns", X[:, :4], y, NAMES5, {}, "X", "one column per input"),
        ("X 1-d", X[:, 0], y, NAMES5[:1], {}, "X", "one column per input"),
        ("names twice", X, y, ["a", "b", "a", "c", "d"], {}, "names", "named twice"),
        ("names a string", X, y, "x0x1x", {}, "names", "sequence of strings"),
        ("names not strings", X, y, [0, 1, 2, 3, 4], {}, "names", "sequence of strings"),
        ("names a number", X, y, 5, {}, "names", "sequence of strings"),
        ("no cases", X, np.zeros(len(y), bool), NAMES5, {}, "y", "no case of interest"),
        ("all cases", X, np.ones(len(y), bool), NAMES5, {}, "y", "every row"),
        ("peel_alpha", X, y, NAMES5, {"peel_alpha": 0.6}, "peel_alpha", "(0, 0.5)"),
        ("paste_alpha", X, y, NAMES5, {"paste_alpha": 0.0}, "paste_alpha", "(0, 0.5)"),
        ("mass_min", X, y, NAMES5, {"mass_min": 1.0}, "mass_min", "(0, 1)"),
        ("threshold", X, y, NAMES5, {"threshold": 0.0}, "threshold", "(0, 1]"),
        ("min_coverage", X, y, NAMES5, {"min_coverage": 1.5}, "min_coverage", "[0, 1]"),
        ("box too far", X, y, NAMES5, {"box": 10_000}, "box", "a step of the trajectory"),
        ("box a float", X, y, NAMES5, {"box": 1.5}, "box", "a step number"),
    ]


@pytest.mark.parametrize(
    ("X", "y", "names", "kw", "argument", "words"),
    [c[1:] for c in _bad_cases()],
    ids=[c[0] for c in _bad_cases()],
)
def test_bad_input_is_an_argument_error(X, y, names, kw, argument, words):
    with pytest.raises(ArgumentError, match=r".") as err:
        prim(X, y, names, **kw)
    assert err.value.argument == argument
    assert words in str(err.value)


def test_integer_cases_get_a_suggestion():
    X, y = sign_flip(1, rows=100)
    with pytest.raises(ArgumentError, match=r"did you mean 'y\.astype"):
        prim(X, y.astype(np.int8), NAMES5)


def test_without_the_package_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ema_workbench", None)
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    X, y = sign_flip(1, rows=100)
    with pytest.raises(ArgumentError, match=r"pip install 'influence-sim\[explore\]'"):
        prim(X, y, NAMES5)


# ---------------------------------------------------------------------------------------
# figures


def _chosen_marks(ax: Axes):
    return [c for c in ax.collections if c.get_gid() == "chosen"]


def test_the_tradeoff_draws_the_trajectory_and_marks_the_chosen_box(flip):
    ax = tradeoff(flip)
    assert isinstance(ax.get_figure(), Figure)
    points = [c for c in ax.collections if (c.get_gid() or "").startswith("restricted:")]
    assert sum(len(c.get_offsets()) for c in points) == len(flip.trajectory)
    counts = {int(c.get_gid().split(":")[1]) for c in points}
    assert counts == set(flip.trajectory["restricted"])
    (mark,) = _chosen_marks(ax)
    np.testing.assert_allclose(mark.get_offsets()[0], [flip.coverage, flip.density])
    (label,) = [t for t in ax.texts if t.get_gid() == "chosen_label"]
    assert label.get_text().startswith(f"box {flip.chosen}: coverage ")
    assert "x0" in label.get_text() and "x3" in label.get_text()
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "threshold"]
    assert line.get_ydata()[0] == flip.threshold
    ax.get_figure().savefig(io.BytesIO(), format="png")


def test_the_figures_draw_on_a_given_axes(flip, box13):
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    assert tradeoff(box13, ax=left) is left
    assert box_limits(flip, ax=right) is right
    assert len(_chosen_marks(left)) == 1
    assert (
        left.get_title(loc="left") == right.get_title(loc="left") == ""
    )  # titles only on own figures
    fig.savefig(io.BytesIO(), format="png")


def test_box_limits_draws_each_restriction_against_its_full_range(flip):
    ax = box_limits(flip)
    bars = {p.get_gid().split(":", 1)[1]: p for p in ax.patches if p.get_gid()}
    assert list(bars) == list(flip.restricted)
    for name, bar in bars.items():
        lo, hi = flip.ranges.loc[name, ["low", "high"]]
        x0, x1 = bar.get_x(), bar.get_x() + bar.get_width()
        assert 0.0 <= x0 < x1 <= 1.0
        row = flip.limits.loc[name]
        if row["low"] > lo:
            assert x0 == pytest.approx((row["low"] - lo) / (hi - lo))
        if row["high"] < hi:
            assert x1 == pytest.approx((row["high"] - lo) / (hi - lo))
    qps = [t.get_text() for t in ax.texts if t.get_gid() == "qp"]
    assert len(qps) == len(flip.limits) and all(t.startswith("quasi-p ") for t in qps)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(flip.restricted)
    assert f"Box {flip.chosen}" in ax.get_title(loc="left")
    ax.get_figure().savefig(io.BytesIO(), format="png")


def test_box_limits_against_the_space_bounds(flip):
    space = Space.of(dict.fromkeys(NAMES5, (-1.0, 2.0)))
    ax = box_limits(flip, space_bounds=space)
    bar = next(p for p in ax.patches if p.get_gid() == "box:x0")
    # x0 is cut from above only: its box reaches the space's lower bound
    assert bar.get_x() == 0.0
    assert bar.get_width() == pytest.approx((flip.limits.loc["x0", "high"] + 1.0) / 3.0)
    bar3 = next(p for p in box_limits(flip, {"x3": (0.0, 1.0)}).patches if p.get_gid() == "box:x3")
    assert bar3.get_x() == pytest.approx(flip.limits.loc["x3", "low"])
    assert bar3.get_x() + bar3.get_width() == pytest.approx(1.0)


def test_box_limits_of_an_unrestricted_box_says_so():
    X, y = sign_flip(5, rows=300)
    ax = box_limits(prim(X, y, NAMES5, box=0))
    assert [t.get_text() for t in ax.texts if t.get_gid() == "no_restriction"] == [
        "box 0 restricts no input"
    ]


def test_the_figures_leave_pyplot_alone(flip):
    from matplotlib import pyplot as plt

    before = plt.get_fignums()
    tradeoff(flip)
    box_limits(flip)
    assert plt.get_fignums() == before
