"""The docs stay true to the code: parameter table, event field tables, runnable examples."""

from __future__ import annotations

import re
import tomllib

import pytest

import influence_sim as isim
from influence_sim.core.events import EVENT_KINDS, Number, Ref, RefList, Scores
from influence_sim.core.scenario import scenario_from_dict
from influence_sim.params import parameters

from .conftest import ROOT

ODD = (ROOT / "docs" / "ODD.md").read_text()
FORMAT = (ROOT / "docs" / "scenario-format.md").read_text()


def _rows(text: str) -> dict[str, list[str]]:
    """Table rows whose first cell is a `name`, keyed by name (first occurrence)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return out


def test_odd_parameter_table_matches_params_toml():
    section = ODD[ODD.index("## 8. Parameters") : ODD.index("## 9.")]
    rows = _rows(section)
    assert set(rows) == set(parameters())
    for name, p in parameters().items():
        _meaning, default, rng, _unit, reason = rows[name]
        assert default == str(p.default), name
        if p.numeric:
            assert rng == f"[{p.low}, {p.high}]", name
        else:
            assert rng == ", ".join(p.choices or ()), name
        assert reason, name


def _kind_section(kind: str) -> str:
    title = "### `set` and `shift`" if kind in ("set", "shift") else f"### `{kind}`"
    start = FORMAT.index(title)
    end = FORMAT.find("\n## ", start)
    nxt = FORMAT.find("\n### ", start + 1)
    return FORMAT[start : min(x for x in (end, nxt) if x > 0)]


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_format_reference_documents_every_field_of_every_kind(kind):
    rows = _rows(_kind_section(kind))
    for name, spec in EVENT_KINDS[kind].fields.items():
        assert name in rows, f"{kind}.{name} missing from docs/scenario-format.md"
        cells = rows[name]
        if isinstance(spec, Number):
            assert cells[1] == f"[{spec.lo}, {spec.hi}]", f"{kind}.{name} range"
            assert cells[2] == ("required" if spec.required else str(spec.default)), (
                f"{kind}.{name} default"
            )
        elif isinstance(spec, Ref | RefList | Scores):
            assert spec.kind in cells[0] if not isinstance(spec, Scores) else "power" in cells[0]
    assert f'kind = "{kind}"' in _kind_section(kind)  # an example of it


def _examples(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def test_complete_scenario_examples_in_the_docs_load():
    loaded = 0
    for block in _examples(FORMAT) + _examples((ROOT / "README.md").read_text()):
        data = tomllib.loads(block)
        head = data.get("scenario", {})
        if {"world", "start", "step", "steps"} <= set(head) and "extends" not in head:
            scenario_from_dict(data, path=ROOT / "docs" / "example.toml")
            loaded += 1
    assert loaded >= 1


def test_event_snippets_in_the_docs_load_into_the_baseline():
    base = tomllib.loads((ROOT / "scenarios" / "kazakhstan_2022.toml").read_text())
    checked = 0
    for block in _examples(FORMAT):
        data = tomllib.loads(block)
        if "scenario" in data or "events" not in data or "world" in data:
            continue
        merged = {
            **base,
            "events": base["events"]
            + [{**e, "id": f"doc_{k}_{e['id']}"} for k, e in enumerate(data["events"])],
        }
        try:
            scenario_from_dict(merged, path=ROOT / "scenarios" / "kazakhstan_2022.toml")
        except isim.ScenarioError as exc:  # snippets may refer to events they define
            if "no intervention event" not in str(exc):
                raise
        checked += 1
    assert checked >= 8


def test_readme_quick_start_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Quick start") : readme.index("## What is in the box")]
    commands = [
        ln.split("#")[0].strip()
        for ln in re.findall(r"```sh\n(.*?)```", block, flags=re.S)[0].splitlines()
    ]
    commands = [c for c in commands if c]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in [ln.strip() for ln in ci]


def test_experiment_example_in_the_docs_loads(tmp_path):
    from influence_sim import load_experiment

    text = (ROOT / "docs" / "experiments.md").read_text()
    blocks = [b for b in _examples(text) if "[experiment]" in b]
    assert blocks
    for k, block in enumerate(blocks):
        path = tmp_path / f"exp{k}.toml"
        path.write_text(block.replace('"../', f'"{ROOT / "scenarios"}/'))
        exp = load_experiment(path)
        assert exp.replicates >= 1 and len(exp.points) >= 1


def test_experiment_doc_lists_every_field():
    from influence_sim.experiment.design import (
        COMPARE_KEYS,
        DESIGN_KEYS,
        EXPERIMENT_KEYS,
        OUTPUT_KEYS,
    )

    text = (ROOT / "docs" / "experiments.md").read_text()
    for key in EXPERIMENT_KEYS | DESIGN_KEYS | OUTPUT_KEYS | COMPARE_KEYS:
        assert f"`{key}`" in text, key
