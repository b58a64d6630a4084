"""The errors the tool reports to a user, and the one way to build them.

Two families, both caught once by the CLI (exit status 2, one line, no traceback):

- `InputError` (and its kinds `ScenarioError`, `WorldError`, `ExperimentError`,
  `ArgumentError`): bad input. Every message names the file, the item (an event id, an actor
  id or a section) and the field, says what was wrong and what was expected, and suggests a
  near-miss name where one fits. `Where` builds them: one locator per item, one ``fail`` call
  per problem.
- `StoreError`: a problem with an output folder or a results store (refused, unwritable,
  corrupt, locked). It names the path and what is wrong.

Text from the input that reaches a message is made safe: values are quoted by `excerpt` (cut
to `MAX_EXCERPT` characters), control characters are escaped (a crafted file cannot rewrite
the terminal) and a message is cut to `MAX_MESSAGE` characters. What an id looks like
(`ID_PATTERN`) is defined here, once, for every loader.

Library code never names a command-line flag: `ArgumentError` names the function's argument,
and the CLI translates it to its flag.
"""

from __future__ import annotations

import difflib
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

__all__ = [
    "CONTROL",
    "ID_PATTERN",
    "ID_RULE",
    "MAX_EXCERPT",
    "MAX_MESSAGE",
    "ArgumentError",
    "ExperimentError",
    "Fail",
    "InputError",
    "ScenarioError",
    "StoreError",
    "TargetsError",
    "Where",
    "WorldError",
    "bad_id",
    "excerpt",
    "one_of",
    "safe_text",
    "suggest",
]

#: Longest message (characters) before the middle is cut out.
MAX_MESSAGE = 400
#: Control characters: C0 (but tab and newline), DEL, C1 and the Unicode line and paragraph
#: separators. `safe_text` escapes them in messages; input files may not contain them in text.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL = CONTROL


def safe_text(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with control characters escaped and cut to ``limit`` characters."""
    text = _CONTROL.sub(
        lambda m: ascii(m.group())[1:-1], text.replace("\n", " ").replace("\t", " ")
    )
    if len(text) > limit:
        keep = limit // 2 - 10
        text = f"{text[:keep]} … ({len(text) - 2 * keep:,} characters cut) … {text[-keep:]}"
    return text


#: Longest excerpt (characters) of an input value quoted in a message.
MAX_EXCERPT = 60

#: What an id looks like: event ids, scenario and experiment names, actor ids (powers,
#: states, factions, institutions). Letters, digits, ``_``, ``-`` and ``.``; 1 to 64 of them.
ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: `ID_PATTERN` in words, for messages and docs.
ID_RULE = "1 to 64 letters, digits, '_', '-' or '.'"

_REPR = reprlib.Repr(
    maxlevel=3, maxdict=8, maxlist=8, maxtuple=8, maxset=8, maxstring=MAX_EXCERPT, maxlong=40
)
_REPR.maxother = MAX_EXCERPT


def excerpt(value: object, limit: int = MAX_EXCERPT) -> str:
    """A short quotation of an input value for a message: its repr, cut to about ``limit``.

    A string keeps its first ``limit`` characters and ends with ``…`` when cut, so a 5 MB
    string value gives a short message; tables and lists show their first items only.

    >>> excerpt("x" * 100, 5)
    "'xxxxx'…"
    """
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}…"
    if isinstance(value, int) and value.bit_length() > 128:  # repr() fails past 4300 digits
        return f"<an integer of about {value.bit_length() * 30103 // 100000 + 1:,} digits>"
    text = _REPR.repr(value)
    return text if len(text) <= 2 * limit else f"{text[: 2 * limit]}…"


def bad_id(value: object, what: str = "an id") -> str | None:
    """The problem with ``value`` as an id (see `ID_PATTERN`), or None when it is one.

    >>> bad_id("KZ.tokayev") is None
    True
    >>> bad_id("my experiment", "a name")
    "expected a name without spaces (1 to 64 letters, digits, '_', '-' or '.'), got 'my experiment'"
    """
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return None
    return f"expected {what} without spaces ({ID_RULE}), got {excerpt(value)}"


def one_of(choices: Iterable[str], limit: int = 12) -> str:
    """``one of a, b, c`` for a message (the first ``limit`` choices)."""
    items = list(choices)
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"one of {', '.join(items[:limit])}{more}"


def suggest(
    name: object, candidates: Iterable[str], aliases: Mapping[str, str] | None = None
) -> str | None:
    """Return the closest candidate to ``name``, or None when nothing is close.

    Matching ignores case, so ``kz.Tokayev`` suggests ``KZ.tokayev``. ``aliases`` maps other
    names to candidates: a power's full name points to its id (``Russia`` -> ``RU``).
    """
    if not isinstance(name, str) or len(name) > 200:
        return None
    cands = list(candidates)
    for alias, target in (aliases or {}).items():
        if alias.lower() == name.lower() and target in cands:
            return target
    lowered = {c.lower(): c for c in cands}
    if name.lower() in lowered:
        return lowered[name.lower()]
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hits[0]] if hits else None


class InputError(ValueError):
    """Bad input: a file, an item in it, a field of the item, and what is wrong.

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
        return safe_text(text)


class ScenarioError(InputError):
    """Bad input in a scenario file (and the parent of the other file kinds' errors)."""


class WorldError(ScenarioError):
    """Bad input in a world file."""


class ExperimentError(ScenarioError):
    """Bad input in an experiment file."""


class TargetsError(InputError):
    """Bad input in a targets file (observations the model is checked against)."""


class ArgumentError(InputError):
    """A bad argument to a library function; ``item`` is the argument's name.

    The CLI shows the flag that sets the argument instead (``baseline`` -> ``--baseline``).
    """

    def __init__(self, message: str, *, argument: str, suggestion: str | None = None) -> None:
        super().__init__(message, item=argument, suggestion=suggestion)
        self.argument = argument


class StoreError(Exception):
    """A problem with an output folder or a results store: refused, unwritable or corrupt.

    ``remedy`` names an argument that would resolve it (``"resume"``), which the CLI shows
    as its flag.
    """

    def __init__(
        self, message: str, *, path: str | Path | None = None, remedy: str | None = None
    ) -> None:
        self.message, self.path, self.remedy = (
            message,
            str(path) if path is not None else None,
            remedy,
        )
        super().__init__(safe_text(f"{self.path}: {message}" if self.path else message))


#: A function that builds the input error for one problem: ``fail(message, field=None,
#: suggestion=None)`` (`Where.fail`, or a closure over it that fixes the field).
Fail = Callable[..., InputError]


class Where:
    """Where bad input sits: builds the input errors of one item of one file.

    >>> err = Where(ScenarioError, "s.toml", "event 'x'").fail("expected a date", "date")
    >>> str(err)
    "s.toml: event 'x': field 'date': expected a date"
    """

    __slots__ = ("error", "file", "item")

    def __init__(
        self, error: type[InputError], file: str | Path | None, item: str | None = None
    ) -> None:
        self.error, self.file, self.item = error, file, item

    def fail(
        self, message: str, field: str | None = None, suggestion: str | None = None
    ) -> InputError:
        """The error for ``field`` of this item (raise it)."""
        return self.error(
            message, file=self.file, item=self.item, field=field, suggestion=suggestion
        )
