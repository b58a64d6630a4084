"""influence-sim: agent-based simulation of great-power competition for influence.

The public API mirrors the command line: load a world or a scenario, run it as a Mesa model or
as a vectorised ensemble, and read results back. Importing the package is cheap and has no side
effects: each name is imported from its layer when first used (PEP 562), so ``import
influence_sim`` loads neither pandas, pyarrow, scipy, matplotlib, Mesa nor Dask, and it does
not configure logging or touch multiprocessing settings. The layers are described in
``docs/architecture.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._io import package_version
from .errors import ScenarioError, WorldError

if TYPE_CHECKING:
    from .abm.model import InfluenceModel
    from .analysis.compare import compare
    from .analysis.explain import explain
    from .core.fused import set_threads
    from .core.scenario import Scenario, load_scenario
    from .core.world import World, load_world
    from .experiment.batch import run_experiment
    from .experiment.design import load_experiment
    from .experiment.run import Result, load_run, simulate
    from .experiment.store import load_results

__version__ = package_version()

#: Where each public name lives (module, attribute), imported on first use.
_LAZY = {
    "InfluenceModel": ".abm.model",
    "Result": ".experiment.run",
    "Scenario": ".core.scenario",
    "World": ".core.world",
    "compare": ".analysis.compare",
    "explain": ".analysis.explain",
    "load_experiment": ".experiment.design",
    "load_results": ".experiment.store",
    "load_run": ".experiment.run",
    "load_scenario": ".core.scenario",
    "load_world": ".core.world",
    "run_experiment": ".experiment.batch",
    "set_threads": ".core.fused",
    "simulate": ".experiment.run",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its layer when it is first asked for."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'influence_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
    "set_threads",
    "simulate",
]
