"""Gaussian-process emulators (analysis/emulator.py): they recover a smooth function under
noise, predict with a variance that includes the noise (the nugget), find the input that does
not matter, report honest coverage on held-back points, are reproducible from their rng, and
check their inputs.

scikit-learn comes with the 'explore' extra, part of the test install: these tests run, not
skip, under the suite's warnings-as-errors filter, so a warning the emulator lets through
fails them."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influence_sim.analysis.emulator import (
    CHECK_COLUMNS,
    Emulator,
    check_emulator,
    fit_emulator,
    min_points,
)
from influence_sim.errors import ArgumentError

#: A box that is not the unit cube, so the scaling is exercised.
LOWS = np.array([0.0, -1.0, 5.0])
HIGHS = np.array([1.0, 1.0, 15.0])
NOISE = 0.05
INPUTS = ("a", "b", "idle")


def truth(X: np.ndarray) -> np.ndarray:
    """sin(3 a) + b^2; the third input does not matter."""
    return np.sin(3 * X[:, 0]) + X[:, 1] ** 2


def design(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(LOWS, HIGHS, size=(n, 3))


def noisy(X: np.ndarray, seed: int) -> np.ndarray:
    return truth(X) + np.random.default_rng(seed).normal(0.0, NOISE, len(X))


@pytest.fixture(scope="module")
def training() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    X = design(60, seed=1)
    return X, {"y": noisy(X, seed=2), "flat": np.full(60, 2.5)}


@pytest.fixture(scope="module")
def fitted(training) -> Emulator:
    X, Y = training
    return fit_emulator(X, Y, LOWS, HIGHS, inputs=INPUTS, rng=7)


# ---------------------------------------------------------------------------------------
# a smooth function under noise


def test_predictions_at_new_points_are_close_to_the_truth(fitted):
    X = design(400, seed=3)
    mean, var = fitted.predict(X)
    assert set(mean) == set(var) == {"y", "flat"}
    assert mean["y"].shape == var["y"].shape == (400,)
    rmse = np.sqrt(np.mean((mean["y"] - truth(X)) ** 2))
    assert rmse < 0.2 * np.std(truth(X))
    assert rmse < 2 * NOISE


def test_the_nugget_estimates_the_noise_and_the_variance_includes_it(fitted, training):
    nugget = fitted.nugget["y"]
    assert 0.5 * NOISE < np.sqrt(nugget) < 2 * NOISE
    X, _ = training
    _, var = fitted.predict(X)
    # at a training point the smooth part is nearly known; the nugget remains
    assert (var["y"] >= nugget * (1 - 1e-6)).all()
    assert np.median(var["y"]) < 2 * nugget


def test_the_intervals_cover_a_new_noisy_run_at_their_level(fitted):
    # a new run carries the noise too: without the nugget the intervals would be far too
    # narrow (the smooth part alone is known to about a third of the noise sd here)
    X = design(400, seed=4)
    y = noisy(X, seed=5)
    mean, var = fitted.predict(X)
    covered = np.abs(y - mean["y"]) <= 1.96 * np.sqrt(var["y"])
    assert 0.88 <= covered.mean() <= 0.99


def test_the_irrelevant_input_gets_a_long_length_scale(fitted):
    scales = fitted.length_scales
    assert list(scales.index) == ["y", "flat"]
    assert list(scales.columns) == list(INPUTS)
    row = scales.loc["y"]
    assert row["idle"] > 10 * max(row["a"], row["b"])
    assert row["a"] < 2 and row["b"] < 2
    assert scales.loc["flat"].isna().all()


def test_default_input_names(training):
    X, Y = training
    em = fit_emulator(X[:20], {"y": Y["y"][:20]}, LOWS, HIGHS, rng=0)
    assert em.inputs == ("x0", "x1", "x2")
    assert list(em.length_scales.columns) == ["x0", "x1", "x2"]
    assert em.n_train == 20


# ---------------------------------------------------------------------------------------
# the check on held-back points


@pytest.fixture(scope="module")
def checked() -> tuple[object, np.ndarray]:
    X = design(120, seed=6)
    Y = {"y": noisy(X, seed=8), "flat": np.full(120, -1.0)}
    return check_emulator(X, Y, LOWS, HIGHS, holdout=0.5, rng=11), X


def test_held_back_coverage_is_near_its_level(checked):
    check, _ = checked
    row = check.table.loc["y"]
    assert row["n_train"] == 60 and row["n_heldout"] == 60
    assert 0.8 <= row["coverage"] <= 1.0
    assert row["nominal"] == 0.95 and check.level == 0.95
    assert row["rmse"] < 0.25 * row["heldout_sd"]
    assert 0.5 * NOISE < row["pred_sd"] < 3 * NOISE


def test_the_check_table_and_its_points_agree(checked):
    check, X = checked
    assert list(check.table.columns) == list(CHECK_COLUMNS)
    assert list(check.table.index) == ["y", "flat"]
    points = check.heldout
    assert len(points) == 120
    for name, part in points.groupby("quantity"):
        assert part["covered"].mean() == check.table.loc[name, "coverage"]
        rmse = np.sqrt(np.mean((part["value"] - part["mean"]) ** 2))
        assert rmse == pytest.approx(check.table.loc[name, "rmse"])
    y = points[points["quantity"] == "y"]
    assert (y["covered"] == (y["z"].abs() <= 1.959964)).all()
    # the held-back rows are rows of X, each once, and their values are the true ones
    rows = y["row"].to_numpy()
    assert len(set(rows)) == 60 and rows.max() < len(X)
    assert np.abs(y["value"] - truth(X[rows])).max() < 5 * NOISE
    assert check.coverage == pytest.approx(points["covered"].mean())


def test_a_constant_quantity_is_predicted_exactly(fitted, checked):
    mean, var = fitted.predict(design(5, seed=9))
    assert (mean["flat"] == 2.5).all()
    assert (var["flat"] == 0).all()
    assert fitted.nugget["flat"] == 0.0
    check, _ = checked
    row = check.table.loc["flat"]
    assert row["coverage"] == 1.0 and row["rmse"] == 0.0 and row["pred_sd"] == 0.0


def test_describe_says_the_coverage_per_quantity_and_overall(checked):
    check, _ = checked
    lines = check.describe().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("y: 95% intervals cover ")
    assert "of 60 held-back values; rmse" in lines[0]
    match = re.fullmatch(
        r"emulator 95% intervals cover (\d+(?:\.\d+)?)% of 120 held-back values \(nominal 95%\)",
        lines[-1],
    )
    assert match is not None, lines[-1]
    assert float(match[1]) / 100 == pytest.approx(check.coverage, abs=0.0051)  # rounded


def test_a_quantity_the_emulator_cannot_follow_shows_a_large_rmse():
    # a jump and a ripple far finer than 40 points can resolve: the check must say the
    # emulator is poor (rmse a large share of the held-back values' sd, where the smooth
    # function above gives under a quarter), not report success regardless
    X = design(80, seed=12)
    y = np.where(X[:, 0] > 0.5, 1.0, 0.0) + 0.3 * np.sin(40 * X[:, 1])
    check = check_emulator(X, {"rough": y}, LOWS, HIGHS, holdout=0.5, rng=0)
    row = check.table.loc["rough"]
    assert row["rmse"] > 0.4 * row["heldout_sd"]
    assert row["pred_sd"] > 0.4 * row["heldout_sd"]  # and its intervals are wide to match


# ---------------------------------------------------------------------------------------
# reproducibility


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    X = design(30, seed=13)
    return X, {"p": noisy(X, seed=14), "q": X[:, 1] - 0.5 * X[:, 0] + noisy(X, seed=15)}


def test_the_same_rng_gives_the_same_predictions(small):
    X, Y = small
    new = design(50, seed=16)
    first = fit_emulator(X, Y, LOWS, HIGHS, rng=5).predict(new)
    again = fit_emulator(X, Y, LOWS, HIGHS, rng=np.random.default_rng(5)).predict(new)
    seq = fit_emulator(X, Y, LOWS, HIGHS, rng=np.random.SeedSequence(5)).predict(new)
    for name in Y:
        for k in (0, 1):
            np.testing.assert_array_equal(first[k][name], again[k][name])
            np.testing.assert_array_equal(first[k][name], seq[k][name])


def test_the_order_of_the_quantities_changes_only_the_order_of_names(small):
    X, Y = small
    new = design(50, seed=17)
    forward = fit_emulator(X, Y, LOWS, HIGHS, rng=3)
    backward = fit_emulator(X, dict(reversed(list(Y.items()))), LOWS, HIGHS, rng=3)
    assert forward.names == ("p", "q") and backward.names == ("q", "p")
    a, b = forward.predict(new), backward.predict(new)
    for name in Y:
        np.testing.assert_array_equal(a[0][name], b[0][name])
        np.testing.assert_array_equal(a[1][name], b[1][name])
    pd.testing.assert_frame_equal(
        forward.length_scales.loc[["p", "q"]], backward.length_scales.loc[["p", "q"]]
    )


def test_the_check_is_reproducible(small):
    X, Y = small
    one = check_emulator(X, Y, LOWS, HIGHS, holdout=0.3, rng=21)
    two = check_emulator(X, Y, LOWS, HIGHS, holdout=0.3, rng=21)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.heldout, two.heldout)
    assert one.table["n_heldout"].iloc[0] == 9


def test_predicting_no_rows_gives_empty_arrays(fitted):
    mean, var = fitted.predict(np.empty((0, 3)))
    assert all(v.shape == (0,) for v in (*mean.values(), *var.values()))


# ---------------------------------------------------------------------------------------
# a property


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(*(st.floats(0.0, 1.0) for _ in range(3))),
        min_size=1,
        max_size=30,
    )
)
def test_the_variance_is_finite_and_never_below_the_nugget(fitted, points):
    X = LOWS + np.array(points) * (HIGHS - LOWS)
    mean, var = fitted.predict(X)
    for name in fitted.names:
        assert np.isfinite(mean[name]).all() and np.isfinite(var[name]).all()
        assert (var[name] >= fitted.nugget[name] * (1 - 1e-6)).all()
        assert (var[name] >= 0).all()


# ---------------------------------------------------------------------------------------
# bad input


def _bad_fits(X, Y):
    n = len(X)
    nan_x = X.copy()
    nan_x[3, 1] = np.nan
    return [
        ("X", X[:, 0], Y, LOWS, HIGHS),
        ("X", X[:, :2], Y, LOWS, HIGHS),
        ("X", nan_x, Y, LOWS, HIGHS),
        ("X", X[: min_points(3) - 1], {"y": Y["y"][: min_points(3) - 1]}, LOWS, HIGHS),
        ("X", [["a", "b", "c"]] * n, Y, LOWS, HIGHS),
        ("highs", X, Y, LOWS, HIGHS[:2]),
        ("highs", X, Y, LOWS, np.array([1.0, -1.0, 15.0])),
        ("lows", X, Y, [[0.0, 0.0, 0.0]], HIGHS),
        ("lows", X, Y, [0.0, np.inf, 0.0], HIGHS),
        ("Y", X, {"y": Y["y"][:-1]}, LOWS, HIGHS),
        ("Y", X, {"y": np.where(np.arange(n) == 4, np.nan, Y["y"])}, LOWS, HIGHS),
        ("Y", X, {}, LOWS, HIGHS),
        ("Y", X, Y["y"], LOWS, HIGHS),
        ("Y", X, {1: Y["y"]}, LOWS, HIGHS),
    ]


def test_bad_input_names_the_argument(small):
    X, Y = small
    Y = {"y": Y["p"]}
    for argument, x, y, lows, highs in _bad_fits(X, Y):
        with pytest.raises(ArgumentError) as err:
            fit_emulator(x, y, lows, highs, rng=0)
        assert err.value.argument == argument, (argument, str(err.value))
        with pytest.raises(ArgumentError) as err:
            check_emulator(x, y, lows, highs, rng=0)
        assert err.value.argument == argument, (argument, str(err.value))


def test_too_few_points_says_how_many_are_needed(small):
    X, Y = small
    with pytest.raises(ArgumentError, match=r"needs at least 8 design points"):
        fit_emulator(X[:7], {"p": Y["p"][:7]}, LOWS, HIGHS)


@pytest.mark.parametrize(
    ("holdout", "level"),
    [(0.0, 0.95), (1.0, 0.95), (0.9, 0.95), (0.01, 0.95), ("half", 0.95), (True, 0.95)],
)
def test_a_bad_holdout_is_refused(small, holdout, level):
    X, Y = small  # 30 points, 8 needed to fit: 0.9 leaves 3, 0.01 holds back none
    with pytest.raises(ArgumentError) as err:
        check_emulator(X, Y, LOWS, HIGHS, holdout=holdout, level=level)
    assert err.value.argument == "holdout"


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, float("nan")])
def test_a_bad_level_is_refused(small, level):
    X, Y = small
    with pytest.raises(ArgumentError) as err:
        check_emulator(X, Y, LOWS, HIGHS, level=level)
    assert err.value.argument == "level"


def test_predict_and_input_names_are_checked(fitted, training):
    with pytest.raises(ArgumentError) as err:
        fitted.predict(np.zeros((4, 2)))
    assert err.value.argument == "X"
    with pytest.raises(ArgumentError) as err:
        fitted.predict(np.array([[0.5, 0.0, np.inf]]))
    assert err.value.argument == "X"
    X, Y = training
    for inputs in (("a", "b"), ("a", "a", "b"), "abc"):
        with pytest.raises(ArgumentError) as err:
            fit_emulator(X, Y, LOWS, HIGHS, inputs=inputs)
        assert err.value.argument == "inputs"


def test_without_scikit_learn_the_error_says_what_to_install(monkeypatch, small):
    for module in ("sklearn", "sklearn.exceptions", "sklearn.gaussian_process"):
        monkeypatch.setitem(sys.modules, module, None)
    X, Y = small
    with pytest.raises(ArgumentError, match=r"pip install 'influence-sim\[explore\]'"):
        fit_emulator(X, Y, LOWS, HIGHS)
