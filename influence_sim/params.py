"""The documented global parameters, read from ``data/params.toml`` (their single source)."""

from __future__ import annotations

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
                return f"expected one of {', '.join(self.choices)}, got {value!r}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {value!r}"
        assert self.low is not None and self.high is not None
        if not self.low <= value <= self.high:
            return f"value {value} out of range [{self.low}, {self.high}]"
        return None


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
