"""influence-sim: agent-based simulation of great-power competition for influence.

The public API mirrors the command line: load a world or a scenario, run it as a Mesa model or
as a vectorised ensemble, and read results back. Importing the package has no side effects: it
does not import matplotlib or Mesa (`InfluenceModel` imports Mesa when first used), configure
logging or touch multiprocessing settings.
"""

from importlib.metadata import PackageNotFoundError, version

from .compare import compare, explain
from .errors import ScenarioError, WorldError
from .experiment import load_experiment, run_experiment
from .results import Result, load_run
from .scenario import Scenario, load_scenario
from .simulate import simulate
from .store import load_results
from .world import World, load_world


def __getattr__(name: str):
    """Import `InfluenceModel` (and with it Mesa) only when it is asked for."""
    if name == "InfluenceModel":
        from .model import InfluenceModel

        return InfluenceModel
    raise AttributeError(f"module 'influence_sim' has no attribute {name!r}")


try:
    __version__ = version("influence-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "InfluenceModel",
    "Result",
    "Scenario",
    "ScenarioError",
    "World",
    "WorldError",
    "__version__",
    "compare",
    "explain",
    "load_experiment",
    "load_results",
    "load_run",
    "load_scenario",
    "load_world",
    "run_experiment",
    "simulate",
]
