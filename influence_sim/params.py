"""The documented global parameters, read from ``data/params.toml`` (their single source).

``params.toml`` is package data, not user input, so it is read here with `tomllib` rather than
through `influence_sim._io.read_toml` (the reader of input files, with its limits): it is
written with the code and reviewed with it, it is read through `importlib.resources` (it need
not be a file on disk), and this module sits below ``_io`` in the layers (docs/architecture.md).
A test checks that it passes the input checks all the same (tests/test_hardening.py).
"""

from __future__ import annotations

import reprlib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Parameter", "parameters"]


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One documented parameter: default, admissible range or choices, meaning and reason."""

    name: str
    default: float | str
    low: float | None
    high: float | None
    choices: tuple[str, ...] | None
    unit: str
    meaning: str
    reason: str

    @property
    def numeric(self) -> bool:
        """True for numeric parameters, False for choices."""
        return self.choices is None

    def check(self, value: Any) -> str | None:
        """Return an error text when ``value`` is not admissible, else None."""
        if self.choices is not None:
            if value not in self.choices:
                return f"expected one of {', '.join(self.choices)}, got {_quote(value)}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {_quote(value)}"
        assert self.low is not None and self.high is not None
        if not self.low <= value <= self.high:
            return f"value {value} out of range [{self.low}, {self.high}]"
        return None


def _quote(value: Any, limit: int = 60) -> str:
    """A short quotation of an input value (``errors.excerpt``; this layer cannot import it)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}…"
    return reprlib.repr(value)


@cache
def parameters() -> dict[str, Parameter]:
    """All documented parameters by name, in file order."""
    text = (resources.files("influence_sim") / "data" / "params.toml").read_text("utf-8")
    out: dict[str, Parameter] = {}
    for name, t in tomllib.loads(text).items():
        rng = t.get("range")
        out[name] = Parameter(
            name=name,
            default=t["value"],
            low=float(rng[0]) if rng else None,
            high=float(rng[1]) if rng else None,
            choices=tuple(t["choices"]) if "choices" in t else None,
            unit=t.get("unit", ""),
            meaning=t["meaning"],
            reason=t.get("source") or t["assumption"],
        )
    return out
