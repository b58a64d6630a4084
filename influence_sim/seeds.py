"""Seeds (SPEC 7): every random number comes from one root `numpy.random.SeedSequence`.

The rules, written once here and used by the runner, the experiment executors and `explain`:

- an ``rng`` argument (int, SeedSequence, Generator or None) becomes a root SeedSequence
  (`root_seed`);
- in an experiment, design point ``j`` has the root ``SeedSequence(seed, spawn_key=(j,))``
  (`point_seed`);
- an experiment's Latin hypercube draws from ``SeedSequence(seed, spawn_key=(2**32 - 1,))``
  (`design_seed`);
- replicate ``k`` under a root draws its dynamics noise from the child keyed ``(k, 0)`` and each
  event's draws from ``(k, 1, crc32(event id))`` (`replicate_seed`).

Replicate k therefore gives the same numbers alone or in a chunk of any size, on any executor,
and removing an event leaves every other event's draws unchanged (common random numbers).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SeedLike",
    "copy_seed",
    "design_seed",
    "generator",
    "point_seed",
    "replicate_seed",
    "root_seed",
]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None

#: The key under a replicate for its dynamics noise; events use ``(EVENTS, crc32(id))``.
NOISE = 0
EVENTS = 1
#: The key of the design's own stream under the root seed (no design point has it).
DESIGN = 2**32 - 1


def root_seed(rng: SeedLike) -> np.random.SeedSequence:
    """Normalise an ``rng`` argument (SPEC 7) to a root SeedSequence.

    An int or None becomes ``SeedSequence(rng)``; a Generator contributes fresh entropy drawn
    from itself.
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, int | np.integer)):
        raise TypeError(f"rng must be an int, SeedSequence, Generator or None, got {rng!r}")
    return np.random.SeedSequence(None if rng is None else int(rng))


def point_seed(seed: int, point: int) -> np.random.SeedSequence:
    """The root of design point ``point`` of an experiment with root seed ``seed``."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(point),))


def design_seed(seed: int) -> np.random.SeedSequence:
    """The stream of an experiment's Latin hypercube: apart from every point's and replicate's."""
    return np.random.SeedSequence(int(seed), spawn_key=(DESIGN,))


def copy_seed(seq: np.random.SeedSequence) -> np.random.SeedSequence:
    """A new SeedSequence equal to ``seq`` that shares none of its spawn state."""
    return np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key)


def replicate_seed(root: np.random.SeedSequence, k: int, *key: int) -> np.random.SeedSequence:
    """Child ``(k, *key)`` of ``root``, computable without spawning its siblings."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, int(k), *key))


def generator(seq: np.random.SeedSequence) -> np.random.Generator:
    """A PCG64 generator on ``seq``."""
    return np.random.Generator(np.random.PCG64(seq))
