"""The choropleth: shipped outlines (small, sourced, complete), colours on the balance scale,
labels, the powers as context, and the schematic map left as it was."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch

import influence_sim as isim
from influence_sim import plots

from .conftest import BASELINE, short

BOUNDARIES = resources.files("influence_sim") / "data" / "boundaries"


@pytest.fixture(scope="module")
def run():
    return isim.simulate(short(BASELINE, 40), replicates=8, rng=3)


def shapes(ax, kind: str) -> dict[str, PathPatch]:
    return {
        p.get_gid().split(":", 1)[1]: p
        for p in ax.patches
        if isinstance(p, PathPatch) and (p.get_gid() or "").startswith(f"{kind}:")
    }


# ---------------------------------------------------------------------------------------
# the package data


def test_boundary_file_is_small_sourced_and_covers_the_world(world):
    res = BOUNDARIES / f"{world.name}.json"
    raw = res.read_bytes()
    assert len(raw) < 200_000
    doc = json.loads(raw)
    assert "Natural Earth" in doc["source"] and "public domain" in doc["licence"]
    countries = doc["countries"]
    assert set(countries) == set(world.state_ids) | set(world.power_ids)
    names = {a.id: a.name for a in [*world.states, *world.powers]}
    for cid, c in countries.items():
        assert c["name"] == names[cid]
        for ring in c["rings"]:
            pts = np.asarray(ring)
            assert pts.shape[1] == 2 and len(pts) >= 4
            assert (pts[0] == pts[-1]).all()  # closed
            assert (np.abs(pts[:, 0]) <= 180).all() and (np.abs(pts[:, 1]) <= 90).all()
    readme = (BOUNDARIES / "README.md").read_text("utf-8")
    assert "Natural Earth" in readme and "public domain" in readme
    assert "scripts/extract_boundaries.py" in readme


def test_outlines_are_where_the_states_are(world):
    """Each state's capital (its world position) lies inside or next to its outline."""
    b = plots.boundaries(world.name)
    for s in world.states:
        x0, y0, x1, y1 = b.countries[s.id].bounds
        lon, lat = s.position
        assert x0 - 0.5 <= lon <= x1 + 0.5 and y0 - 0.5 <= lat <= y1 + 0.5, s.id

    # Kazakhstan is the largest of the five, by the area of its outline's bounding box
    def area(s: str) -> float:
        x0, y0, x1, y1 = b.countries[s].bounds
        return (x1 - x0) * (y1 - y0)

    assert max(world.state_ids, key=area) == "KZ"


def test_a_world_without_outlines_is_told_to_use_the_schematic_map():
    with pytest.raises(KeyError, match="regional_map"):
        plots.boundaries("no_such_world")


# ---------------------------------------------------------------------------------------
# the figure


def test_choropleth_fills_states_by_the_median_on_the_balance_scale(run, world):
    ax = plots.choropleth(run)
    states = shapes(ax, "state")
    assert set(states) == set(world.state_ids)
    med = np.median(run.data["balance"][-1].astype(float), axis=0)
    cmap = plots.balance_cmap(world)
    m = max(np.abs(med[: len(world.state_ids)]).max(), 0.05)
    for s in world.state_ids:
        v = med[world.index[s]]
        np.testing.assert_allclose(states[s].get_facecolor(), cmap((v + m) / (2 * m)), atol=1e-6)
        label = f"{s}\n{v:+.2f}".replace("-", "\u2212")
        (text,) = [t for t in ax.texts if t.get_gid() == f"label:{s}"]
        assert text.get_text() == label
        # the label sits inside the state's outline
        assert states[s].get_path().contains_point(text.get_position())
    assert len({round(float(v), 6) > 0 for v in med[: len(world.state_ids)]}) == 2  # both signs
    assert ax.get_title().endswith(str(run.dates[-1]))


def test_choropleth_draws_the_powers_as_context_in_their_colours(run, world):
    ax = plots.choropleth(run, colorbar=False)
    powers = shapes(ax, "power")
    assert set(powers) == set(world.power_ids)
    for p in world.power_ids:
        patch = powers[p]
        # hatched, never filled with a colour of the scale
        assert patch.get_hatch()
        rgb = np.array(to_rgba(patch.get_facecolor())[:3])
        assert np.ptp(rgb) < 0.03  # a neutral grey
        edge = np.array(to_rgba(patch.get_edgecolor())[:3])
        own = np.array(to_rgba(plots.power_color(p, world))[:3])
        # the hatch is the power's colour mixed with white
        assert np.allclose(edge, 0.35 * own + 0.65, atol=1e-6)
        name = world.powers[world.index[p]].name
        assert any(t.get_text() == f"{name} ({p})" for t in ax.texts)
    assert shapes(ax, "context")  # neighbours drawn grey
    assert "Natural Earth" in ax.get_xlabel()
    # equirectangular at the frame's middle latitude
    y0, y1 = ax.get_ylim()
    assert ax.get_aspect() == pytest.approx(1 / np.cos(np.radians((y0 + y1) / 2)))


def test_choropleth_on_a_given_axes_at_a_date_with_a_shared_scale(run, world):
    fig = Figure()
    ax = fig.add_subplot()
    norm = plots.maps._map_norm(np.array([0.5]))
    out = plots.choropleth(run, date="2022-01-10", ax=ax, norm=norm, colorbar=False)
    assert out is ax and len(fig.axes) == 1
    assert ax.get_title() == "kazakhstan_2022, 2022-01-10"
    k = int(np.flatnonzero(run.dates == np.datetime64("2022-01-10"))[0])
    v = float(np.median(run.data["balance"][k, :, world.index["KZ"]]))
    np.testing.assert_allclose(
        shapes(ax, "state")["KZ"].get_facecolor(), plots.balance_cmap(world)(norm(v)), atol=1e-6
    )


def test_choropleth_of_given_values_and_colour_bar(world):
    values = {s: 0.1 * (k - 2) for k, s in enumerate(world.state_ids)} | {"region": 0.05}
    ax = plots.choropleth_of(world, values, label="paired difference", title="t")
    assert ax.get_title() == "t"
    cbar = ax.figure.axes[-1]
    assert cbar.get_xlabel() == "paired difference"
    assert any(t.get_text().startswith("region (population-weighted): +0.05") for t in ax.texts)
    # the default label says which end is which power
    ax = plots.choropleth_of(world, values)
    label = ax.figure.axes[-1].get_xlabel()
    assert label.startswith("balance")  # given values: not called medians
    assert label.index("China (CN)") < label.index("Russia (RU)")


def test_the_schematic_map_is_unchanged(run, world):
    """regional_map still draws discs (tests/test_plots.py checks it in full)."""
    ax = plots.regional_map(run)
    discs = [p for p in ax.patches if (p.get_gid() or "").startswith("state:")]
    assert len(discs) == len(world.state_ids)
    assert not shapes(ax, "state")
