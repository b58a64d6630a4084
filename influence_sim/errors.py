"""One exception family for bad input, caught once by the CLI (exit status 2).

Every message names the file, the item (an event id, an actor id or a section) and the
field, says what was wrong and what was expected, and suggests a near-miss name where one
fits.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ScenarioError", "WorldError", "suggest"]


def suggest(name: object, candidates: Iterable[str]) -> str | None:
    """Return the closest candidate to ``name``, or None when nothing is close.

    Matching ignores case, so ``kz.Tokayev`` suggests ``KZ.tokayev``.
    """
    if not isinstance(name, str):
        return None
    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    if name.lower() in lowered:
        return lowered[name.lower()]
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hits[0]] if hits else None


class ScenarioError(ValueError):
    """Bad input in a scenario, world or experiment file.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    file : str or Path, optional
        The file the bad input came from.
    item : str, optional
        The item inside the file, e.g. ``"event 'csto_deploy'"`` or ``"[scenario]"``.
    field : str, optional
        The field of the item.
    suggestion : str, optional
        A near-miss name to offer ("did you mean ...?").
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        item: str | None = None,
        field: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.item = item
        self.field = field
        self.suggestion = suggestion
        super().__init__(self._format())

    def _format(self) -> str:
        where = [p for p in (self.file, self.item) if p]
        if self.field:
            where.append(f"field '{self.field}'")
        text = ": ".join([*where, self.message]) if where else self.message
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text

    def located(self, *, file: str | Path | None = None, item: str | None = None) -> ScenarioError:
        """Return a copy that fills in the file and item where they are still unknown."""
        return type(self)(
            self.message,
            file=self.file or (str(file) if file is not None else None),
            item=self.item or item,
            field=self.field,
            suggestion=self.suggestion,
        )


class WorldError(ScenarioError):
    """Bad input in a world file."""
