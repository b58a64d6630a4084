"""Ground-level file handling: reading input files and writing output files atomically.

Everything the tool reads goes through `read_toml`; everything it writes goes through
`atomic_file` (or a temporary directory renamed into place), so a crash never leaves a
half-written file behind.
"""

from __future__ import annotations

import os
import platform
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["atomic_file", "package_version", "read_toml", "versions"]


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


def read_toml(path: Path, error: type[InputError] = InputError) -> dict[str, Any]:
    """Read a TOML file, turning I/O and syntax problems into input errors of type ``error``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", file=path) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", file=path) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise error("not UTF-8 text", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"invalid TOML: {exc}", file=path) from None
