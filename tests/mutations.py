"""Hypothesis strategies that break valid input files: mutations of their data, as TOML text.

A mutation starts from a valid file's data (as `tomllib` reads it), applies one to three
random changes (delete a key or an item, replace a value by an odd one, swap in another
value, nest a value deep, duplicate an item, rename a key), writes the data back with the
small TOML writer here (`dumps`; there is no tomli_w), and sometimes damages the text too.
"""

from __future__ import annotations

import copy
import math
from datetime import date, datetime, time
from typing import Any

from hypothesis import strategies as st

Path_ = tuple[str | int, ...]

# ---------------------------------------------------------------------------------------
# a small TOML writer: every table and array inline, every key quoted


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or 0x7F <= code <= 0x9F or ch in "\u2028\u2029":
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(str(k))} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def dumps(data: dict[str, Any]) -> str:
    """TOML text for ``data``: one ``"key" = value`` line per top-level key."""
    return "".join(f"{_string(str(k))} = {_value(v)}\n" for k, v in data.items())


# ---------------------------------------------------------------------------------------
# odd values

ODD_VALUES: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    5e-324,
    0,
    -1,
    2**63 - 1,
    -(2**63),
    2**63,
    10**30,
    -(10**100),
    True,
    False,
    "",
    " ",
    "a b",
    "x" * 300,
    "y" * 20_000,
    "\x00",
    "riots\x1b[2J",
    "bell\x07",
    "a\u2028b",
    "a\x85b",
    "tab\there",
    "line\nbreak",
    "KZ.tokayev",
    "central_asia_2021",
    "../x.toml",
    "/dev/zero",
    "x" * 5000 + ".toml",
    date(9999, 12, 31),
    date(1, 1, 1),
    date(1899, 12, 31),
    date(2200, 12, 31),
    datetime(2022, 1, 5, 12, 0),
    time(12, 0),
    [],
    {},
    [1, 2],
    [[[[[[[[[[1]]]]]]]]]],
    {"dist": "normal"},
    {"dist": "normal", "mean": math.nan, "sd": 1},
    {"value": math.inf, "source": "x"},
    {"all": []},
    {"measure": "share", "actor": "KZ.tokayev", "op": ">", "value": math.nan},
]


def odd_values() -> st.SearchStrategy[Any]:
    """Values that fit no field, or only some: wrong types, extremes, non-finite, control text."""
    return st.one_of(
        st.sampled_from(ODD_VALUES),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(),
        st.text(max_size=30),
        st.dates(),
        st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=5)), max_size=4),
        st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=3),
    )


ODD_KEYS = ["", " ", "id ", "ID", "a\x07", "a\x1b[2J", "x" * 200, "all", "any", "value", "dist"]


# ---------------------------------------------------------------------------------------
# mutations


def node_paths(data: Any) -> list[Path_]:
    """The paths of every value below ``data`` (iteratively, in document order)."""
    out: list[Path_] = []
    stack: list[tuple[Path_, Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if path:
            out.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))
    return out


def _parent(data: Any, path: Path_) -> Any:
    node = data
    for k in path[:-1]:
        node = node[k]
    return node


def _get(data: Any, path: Path_) -> Any:
    return _parent(data, path)[path[-1]]


def _nest(draw: st.DrawFn, value: Any) -> Any:
    """``value`` inside many levels of arrays, tables or ``all`` conditions."""
    levels = draw(st.integers(1, 40))  # deeper nesting is inserted as text (`mutated`)
    how = draw(st.sampled_from(["array", "table", "all"]))
    for _ in range(levels):
        value = [value] if how == "array" else {"x": value} if how == "table" else {"all": [value]}
    return value


@st.composite
def mutated(draw: st.DrawFn, data: dict[str, Any]) -> str:
    """TOML text of ``data`` with one to three random defects."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        paths = node_paths(data)
        if not paths:
            break
        if draw(st.booleans()):  # as often a level first: sections and fields get their turn
            depth = draw(st.sampled_from(sorted({len(p) for p in paths})))
            paths = [p for p in paths if len(p) == depth]
        path = draw(st.sampled_from(paths))
        parent, key = _parent(data, path), path[-1]
        op = draw(st.sampled_from(["delete", "replace", "replace", "swap", "nest", "copy", "key"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = copy.deepcopy(draw(odd_values()))
        elif op == "swap":
            other = draw(st.sampled_from(paths))
            parent[key] = copy.deepcopy(_get(data, other))
        elif op == "nest":
            parent[key] = _nest(draw, parent[key])
        elif op == "copy" and isinstance(parent, list):
            parent.insert(int(key), copy.deepcopy(parent[key]))  # e.g. a duplicated id
        elif op == "key" and isinstance(parent, dict):
            new = draw(st.one_of(st.sampled_from(ODD_KEYS), st.text(max_size=8)))
            parent[new] = parent.pop(key)
        else:
            parent[key] = copy.deepcopy(draw(odd_values()))
    text = dumps(data)
    damage = draw(st.sampled_from([None, None, None, None, "insert", "cut"]))
    if damage == "insert":
        at = draw(st.integers(0, len(text)))
        bit = draw(
            st.sampled_from(
                # ... including nesting deep enough to exhaust a recursive parser's stack
                ["[", "{", "]", '"', "'''", "\x00", "\x1b", "=", "#", "\n[x]\n", "[" * 1200]
            )
        )
        text = text[:at] + bit + text[at:]
    elif damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return text
