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
    return {
        p.name
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith("_") and p.name != table.name
    }


def check_message(message: str, case: dict[str, Any]) -> None:
    """Assert that an error message has every expected substring and none of the absent ones."""
    problems = [f"lacks {s!r}" for s in case["expect"] if s not in message]
    problems += [f"contains {s!r}" for s in case.get("absent", []) if s in message]
    assert not problems, f"{case['file']}: message {message!r}\n  " + "\n  ".join(problems)


def assert_corpus_matches(
    folder: Path, table: Path, cases: list[dict[str, Any]], minimum: int
) -> None:
    """Every case file has exactly one case, every case a file, and the corpus is big enough."""
    files = corpus_files(folder, table)
    listed = [c["file"] for c in cases]
    assert len(listed) == len(set(listed)), "a file is listed twice in cases.toml"
    assert sorted(files - set(listed)) == [], "files without a case in cases.toml"
    assert sorted(set(listed) - files) == [], "cases whose file does not exist"
    assert len(files) >= minimum
