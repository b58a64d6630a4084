"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import influence_sim as isim

settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=10)
settings.register_profile("thorough", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "kazakhstan_2022.toml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def world():
    return isim.load_world("central_asia_2021")


@pytest.fixture(scope="session")
def baseline():
    return isim.load_scenario(BASELINE)


@pytest.fixture(scope="session")
def short_baseline(baseline):
    """The baseline cut to its first 60 days (all events fall inside)."""
    return short(BASELINE, 60)


def short(path: Path, steps: int, **head):
    """A scenario file's content with a shorter horizon, loaded in memory."""
    import tomllib

    data = tomllib.loads(path.read_text())
    data["scenario"].update(steps=steps, **head)
    if "extends" in data["scenario"]:
        data["scenario"]["extends"] = str((path.parent / data["scenario"]["extends"]).resolve())
    data["scenario"]["world"] = data["scenario"].get("world", "central_asia_2021")
    from influence_sim.core.scenario import scenario_from_dict

    return scenario_from_dict(data, path=path)
