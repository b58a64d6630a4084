"""Ground-level file handling: reading input files and writing output files atomically.

Every input file the tool reads (worlds, scenarios, experiments) goes through `read_toml`
(`read_input` and `parse_toml`); everything it writes goes through `atomic_file` (or a
temporary directory renamed into place), so a crash never leaves a half-written file behind.

Input files are untrusted: reading one can neither hang nor exhaust the tool. `read_input`
opens only regular files (never a FIFO or a device) of at most `MAX_INPUT_BYTES`;
`parse_toml` refuses arrays and tables nested deeper than `MAX_NESTING` before the TOML
parser recurses into them, and `check_values` then walks the data once, without recursion,
refusing dates outside [`MIN_DATE`, `MAX_DATE`], NaN and infinity, integers beyond 64 bits and
control characters in text. The limits are documented in docs/scenario-format.md, "Limits".
"""

from __future__ import annotations

import os
import platform
import re
import stat
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import CONTROL, ID_PATTERN, InputError, excerpt

__all__ = [
    "MAX_DATE",
    "MAX_INPUT_BYTES",
    "MAX_INT",
    "MAX_NESTING",
    "MIN_DATE",
    "MIN_INT",
    "atomic_file",
    "check_values",
    "is_file",
    "package_version",
    "parse_toml",
    "path_exists",
    "read_input",
    "read_toml",
    "versions",
]

#: Largest input file in bytes (4 MiB); the shipped world is about 37 KB.
MAX_INPUT_BYTES = 4 * 1024 * 1024
#: Deepest nesting of arrays and tables in an input file. A top-level table such as
#: ``[scenario]`` or an array of tables such as ``[[events]]`` is level 1, an event is
#: level 2, its ``when`` table level 3 and so on.
MAX_NESTING = 16
#: Earliest and latest date (or date-time) accepted anywhere in an input file.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)
#: TOML integers are 64-bit signed.
MIN_INT, MAX_INT = -(2**63), 2**63 - 1


def package_version(dist: str = "influence-sim") -> str:
    """The installed version of a distribution (``0+unknown`` when it is not installed)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def versions() -> dict[str, str]:
    """Versions of the package and of the libraries that shape its numbers.

    Read from the installed distributions' metadata, so nothing heavy (Mesa, pyarrow) is
    imported just to name a version.
    """
    return {
        "influence_sim": package_version(),
        "python": platform.python_version(),
        **{
            name: package_version(dist)
            for name, dist in (
                ("numpy", "numpy"),
                ("scipy", "scipy"),
                ("mesa", "mesa"),
                ("pandas", "pandas"),
                ("pyarrow", "pyarrow"),
            )
        },
    }


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def is_file(path: str | Path) -> bool:
    """Whether ``path`` is an existing regular file.

    False, never an error, for a name the operating system refuses (e.g. one too long).
    """
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def path_exists(path: str | Path) -> bool:
    """Whether anything exists at ``path`` (False, never an error, for a refused name)."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_stat(st: os.stat_result, path: Path, error: type[InputError]) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
        raise error(f"not a regular file ({kind}); input files must be regular files", file=path)
    if st.st_size > MAX_INPUT_BYTES:
        raise error(_too_large(st.st_size), file=path)


def _too_large(size: int) -> str:
    return (
        f"file is {size:,} bytes, more than the limit of {MAX_INPUT_BYTES:,} bytes "
        f"({MAX_INPUT_BYTES // 2**20} MiB, MAX_INPUT_BYTES)"
    )


def read_input(path: Path, error: type[InputError] = InputError) -> bytes:
    """The bytes of an input file: a regular file of at most `MAX_INPUT_BYTES`.

    The file is checked with ``os.stat`` before it is opened (a FIFO is never opened, as
    opening one for reading blocks), opened without blocking, checked again on the open
    descriptor and read up to one byte past the limit, so a file that grows while it is read
    is refused too.

    Raises
    ------
    InputError
        Of type ``error``: missing, unreadable, not a regular file, or too large.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error("file not found", file=path) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=path) from None
    except ValueError:  # an embedded NUL
        raise error("not a usable file name", file=path) from None
    _check_stat(st, path, error)
    try:
        fd = os.open(path, flags)  # never blocks: a FIFO swapped in since the stat opens at once
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=path) from None
    chunks: list[bytes] = []
    try:
        _check_stat(os.fstat(fd), path, error)  # the name may point elsewhere since the stat
        left = MAX_INPUT_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=path) from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_INPUT_BYTES:
        raise error(_too_large(len(raw)) + " (it grew while being read)", file=path)
    return raw


def read_toml(path: Path, error: type[InputError] = InputError) -> dict[str, Any]:
    """Read and check a TOML input file (`read_input`, then `parse_toml`).

    Raises
    ------
    InputError
        Of type ``error``, naming the file (and the line, item and field where known).
    """
    return parse_toml(read_input(path, error), path, error)


def parse_toml(raw: bytes, path: Path, error: type[InputError] = InputError) -> dict[str, Any]:
    """Parse an input file's bytes as TOML and check its values (`check_values`).

    Nesting deeper than `MAX_NESTING` is refused from the text, naming the line, before the
    TOML parser (which recurses) sees it.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error("not UTF-8 text", file=path) from None
    deep = _too_deep(text)
    if deep is not None:
        line = text.count("\n", 0, deep) + 1
        raise error(_nesting_message(), file=path, item=f"line {line}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"invalid TOML: {exc}", file=path) from None
    except RecursionError:  # a safety net: the scan above refuses such text first
        raise error(_nesting_message(), file=path) from None
    except ValueError:  # an integer too long for int() (more than 4300 digits)
        raise error(
            "invalid TOML: an integer with thousands of digits (TOML integers are 64-bit)",
            file=path,
        ) from None
    check_values(data, path, error)
    return data


def _nesting_message() -> str:
    return f"arrays and tables nested more than {MAX_NESTING} deep (the limit, MAX_NESTING)"


# ---------------------------------------------------------------------------------------
# the nesting scan: brackets outside strings and comments

_SPECIAL = re.compile(r"[\[\]{}\"'#]")
_BASIC_END = re.compile(r'\\.|["\n]', re.S)
_ML_BASIC_END = re.compile(r'\\.|"""', re.S)
_LITERAL_END = re.compile(r"['\n]")


def _past_quotes(text: str, pos: int, quote: str) -> int:
    """The offset past a multi-line string's closing delimiter, which ends at ``pos``.

    Up to two more quotes are content: four quotes end a string with a quote.
    """
    end = pos + 2
    while pos < end and text.startswith(quote, pos):
        pos += 1
    return pos


def _too_deep(text: str) -> int | None:
    """Offset of the first ``[`` or ``{`` nested deeper than `MAX_NESTING`, or None.

    Brackets count outside strings (basic, literal, multi-line) and ``#`` comments. A table
    header counts as the nesting it opens (``[a]`` 1, ``[[a]]`` 2), so text nesting never
    exceeds the nesting of the data it makes and the limits agree. On text that is not
    TOML (an unterminated string) the scan stops: the parser reports the syntax error.
    """
    depth, pos, end = 0, 0, len(text)
    while (m := _SPECIAL.search(text, pos)) is not None:
        ch, pos = m.group(), m.end()
        if ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return m.start()
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif ch == "#":
            nl = text.find("\n", pos)
            pos = end if nl < 0 else nl
        elif ch == "'":
            if text.startswith("''", pos):
                close = text.find("'''", pos + 2)
                if close < 0:
                    return None
                pos = _past_quotes(text, close + 3, "'")
            else:
                lit = _LITERAL_END.search(text, pos)
                if lit is None:
                    return None
                pos = lit.end()
        else:
            multi = text.startswith('""', pos)
            pattern, stop = (_ML_BASIC_END, '"""') if multi else (_BASIC_END, '"\n')
            k = pos + 2 if multi else pos
            while (s := pattern.search(text, k)) is not None and s.group() not in stop:
                k = s.end()
            if s is None:
                return None
            pos = _past_quotes(text, s.end(), '"') if multi else s.end()
    return None


# ---------------------------------------------------------------------------------------
# the values walk


def check_values(
    data: Mapping[str, Any], file: str | Path | None, error: type[InputError] = InputError
) -> None:
    """Walk parsed input once, iteratively, and refuse values no field accepts.

    Refused: arrays and tables nested deeper than `MAX_NESTING`; dates and date-times
    outside [`MIN_DATE`, `MAX_DATE`]; NaN and infinity; integers outside the 64-bit range;
    control characters (all but newline and tab) in text or in keys. The error names the
    item (``[scenario]``, ``event 'riots'`` or ``event #3``, ``faction 'KZ.army'``) and the
    field (``when.all[0].value``) from the key path.

    Raises
    ------
    InputError
        Of type ``error``.
    """
    stack: list[tuple[tuple[str | int, ...], Iterator[tuple[Any, Any]]]] = [
        ((), iter(data.items()))
    ]
    while stack:
        keys, items = stack[-1]
        for key, value in items:
            if isinstance(key, str) and CONTROL.search(key):
                raise _walk_error(data, (*keys, key), error, file, _control(key, "key"))
            if isinstance(value, dict | list | tuple):
                here = (*keys, key)
                if len(here) > MAX_NESTING:
                    raise _walk_error(data, here, error, file, _nesting_message())
                children = value.items() if isinstance(value, dict) else enumerate(value)
                stack.append((here, iter(children)))
                break
            problem = _value_problem(value)
            if problem:
                raise _walk_error(data, (*keys, key), error, file, problem)
        else:
            stack.pop()


def _value_problem(value: Any) -> str | None:
    """What is wrong with a scalar input value, or None."""
    if isinstance(value, str):
        return _control(value, "text") if CONTROL.search(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            return f"integer {excerpt(value)} is outside the 64-bit range of TOML integers"
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"{value} is not a finite number; no field accepts NaN or infinity"
        return None
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if not MIN_DATE <= day <= MAX_DATE:
            return (
                f"date {value.isoformat()} is outside the accepted range {MIN_DATE} to {MAX_DATE}"
            )
    return None


def _control(text: str, what: str) -> str:
    m = CONTROL.search(text)
    assert m is not None
    return (
        f"{what} contains the control character {m.group()!a}; only newlines and tabs "
        f"are allowed (got {excerpt(text)})"
    )


#: Arrays of tables whose items are named in messages, and the name of one item.
_ITEM_NAMES = {
    "events": "event",
    "powers": "power",
    "states": "state",
    "factions": "faction",
    "institutions": "institution",
    "ties": "tie",
    "links": "link",
}
_KEY_SHOWN = 40


def _walk_error(
    data: Mapping[str, Any],
    keys: tuple[str | int, ...],
    error: type[InputError],
    file: str | Path | None,
    message: str,
) -> InputError:
    """The error for the value at ``keys``: the item from the first keys, then the field."""
    item: str | None = None
    rest: tuple[str | int, ...] = keys
    top = keys[0]
    section = data.get(top) if isinstance(top, str) else None
    if len(keys) > 1 and isinstance(section, dict):
        item, rest = f"[{_key(top)}]", keys[1:]
    elif len(keys) > 1 and isinstance(section, list) and isinstance(keys[1], int):
        name = _ITEM_NAMES.get(str(top), f"[[{_key(top)}]] item")
        element = section[keys[1]]
        eid = element.get("id") if isinstance(element, dict) else None
        if isinstance(eid, str) and ID_PATTERN.fullmatch(eid):
            item = f"{name} '{eid}'"
        else:
            item = f"{name} #{keys[1] + 1}"
        rest = keys[2:]
    field = ""
    for k in rest:
        field += f"[{k}]" if isinstance(k, int) else f"{'.' if field else ''}{_key(k)}"
    return error(message, file=file, item=item, field=field or None)


def _key(key: str | int) -> str:
    text = str(key)
    return text if len(text) <= _KEY_SHOWN else f"{text[:_KEY_SHOWN]}…"
