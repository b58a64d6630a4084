"""Shared helpers of the malformed-input corpora (tests/malformed*, each with a cases.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def load_cases(table: Path) -> list[dict[str, Any]]:
    """The ``[[case]]`` entries of a corpus's cases.toml."""
    return tomllib.loads(table.read_text("utf-8"))["case"]


def corpus_files(folder: Path, table: Path) -> set[str]:
    """Names of the corpus's case files (helpers start with ``_``)."""
    return {p.name for p in folder.iterdir()
            if p.is_file() and not p.name.startswith("_") and p.name != table.name}


def check_message(message: str, case: dict[str, Any]) -> None:
    """Assert that an error message has every expected substring and none of the absent ones."""
    problems = [f"lacks {s!r}" for s in case["expect"] if s not in message]
    problems += [f"contains {s!r}" for s in case.get("absent", []) if s in message]
    assert not problems, f"{case['file']}: message {message!r}\n  " + "\n  ".join(problems)
