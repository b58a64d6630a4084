"""What the command line hands the app server: environment variables, read once per session.

``influence-sim app [SCENARIO | RESULTS_DIR]`` checks its argument, sets these variables and
starts Solara's server on ``influence_sim.app.pages``; ``solara run influence_sim.app.pages``
with the same variables gives the same app.

=================================  ========================================================
``INFLUENCE_SIM_APP_SCENARIO``     a scenario file to explore first
``INFLUENCE_SIM_APP_STORE``        a results store to browse
``INFLUENCE_SIM_APP_SCENARIOS``    the folder of scenarios to offer (default: the one
                                   holding SCENARIO, else ``./scenarios``, else the
                                   project's ``scenarios/``)
``INFLUENCE_SIM_APP_REPLICATES``   replicates of each ensemble (default 200)
``INFLUENCE_SIM_APP_SEED``         the root seed (default 20220105)
``INFLUENCE_SIM_APP_SAVE_DIR``     where what-ifs are saved (default: the current folder)
=================================  ========================================================
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .engine import DEFAULT_REPLICATES, DEFAULT_SEED

__all__ = ["ENV", "AppConfig", "scenario_files"]

ENV = {
    "scenario": "INFLUENCE_SIM_APP_SCENARIO",
    "store": "INFLUENCE_SIM_APP_STORE",
    "scenarios": "INFLUENCE_SIM_APP_SCENARIOS",
    "replicates": "INFLUENCE_SIM_APP_REPLICATES",
    "seed": "INFLUENCE_SIM_APP_SEED",
    "save_dir": "INFLUENCE_SIM_APP_SAVE_DIR",
}

#: The project's own scenarios folder (a source checkout), the last fallback.
PROJECT_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@dataclass(frozen=True)
class AppConfig:
    """The app's settings (see the module docstring for the variables)."""

    scenario: Path | None = None
    store: Path | None = None
    scenarios: Path | None = None
    replicates: int = DEFAULT_REPLICATES
    seed: int = DEFAULT_SEED
    save_dir: Path = Path(".")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AppConfig:
        """Read the variables (``os.environ`` by default)."""
        env = dict(os.environ if env is None else env)

        def path(key: str) -> Path | None:
            v = env.get(ENV[key], "").strip()
            return Path(v) if v else None

        scenario = path("scenario")
        return cls(
            scenario=scenario,
            store=path("store"),
            scenarios=path("scenarios") or _scenarios_folder(scenario),
            replicates=int(env.get(ENV["replicates"]) or DEFAULT_REPLICATES),
            seed=int(env.get(ENV["seed"]) or DEFAULT_SEED),
            save_dir=path("save_dir") or Path.cwd(),
        )


def _scenarios_folder(scenario: Path | None) -> Path | None:
    """The ``scenarios`` folder holding a scenario file, else ./scenarios, else the project's."""
    if scenario is not None:
        for parent in scenario.resolve().parents:
            if parent.name == "scenarios":
                return parent
    for cand in (Path.cwd() / "scenarios", PROJECT_SCENARIOS):
        if cand.is_dir():
            return cand
    return None


def _is_scenario(path: Path) -> bool:
    """Whether a TOML file has a ``[scenario]`` table (not an experiment or a world)."""
    try:
        return "scenario" in tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def scenario_files(folder: Path | None, extra: Path | None = None) -> dict[str, Path]:
    """The scenarios to offer, by label (``counterfactuals/no_csto``): a folder's and ``extra``.

    Files directly in the folder come first, then those one level down, each sorted.
    """
    out: dict[str, Path] = {}
    if folder is not None and folder.is_dir():
        files = sorted(folder.glob("*.toml")) + sorted(folder.glob("*/*.toml"))
        for f in files:
            if _is_scenario(f):
                out[f.relative_to(folder).with_suffix("").as_posix()] = f.resolve()
    if extra is not None and extra.resolve() not in out.values():
        out = {extra.stem: extra.resolve(), **out}
    return out
