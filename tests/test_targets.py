"""Targets files: observations as data (docs/targets-format.md), validated against a world.

A valid file of every kind loads; each defect gets one message naming the file, the target and
the field (exit 2 from `influence-sim validate`); the shipped file loads and cites a source for
every target.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from influence_sim.cli import main
from influence_sim.core.targets import TARGET_KINDS, Z95, load_targets
from influence_sim.errors import TargetsError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "influence_sim" / "data" / "targets" / "central_asia_pre2022.toml"

VALID = """
[targets]
name = "test_targets"
title = "one target of each kind"
world = "central_asia_2021"

[[target]]
id = "kg_approval_ru"
observable = "approval"
actor = "KG"
power = "RU"
kind = "level"
date = 2021-12-31
value = 0.76
sd = 0.05
source = "test"
reliability = "test"

[[target]]
id = "kz_trade_cn"
observable = "trade"
actor = "KZ"
power = "CN"
kind = "level"
window = [2021-01-01, 2021-12-31]
value = 18.0
interval = [17.0, 26.0]
source = "test"
reliability = "test"

[[target]]
id = "kz_approval_cn_change"
observable = "approval"
actor = "KZ"
power = "CN"
kind = "change"
from = 2017-12-31
to = 2018-12-31
value = -0.15
sd = 0.05
source = "test"
reliability = "test"

[[target]]
id = "kg_ru_above_cn"
observable = "approval"
actor = "KG"
kind = "order"
order = ["RU", "CN"]
date = 2021-12-31
source = "test"
reliability = "test"

[[target]]
id = "ru_approval_by_state"
observable = "approval"
power = "RU"
kind = "order"
order = ["KG", "TJ", "KZ"]
date = 2021-12-31
source = "test"
reliability = "test"

[[target]]
id = "tokayev_keeps_power"
observable = "share"
actor = "KZ.tokayev"
kind = "threshold"
above = 0.5
date = 2022-02-01
source = "test"
reliability = "test"

[[target]]
id = "cn_overtakes_ru_trade"
observable = "trade_share"
actor = "KZ"
kind = "crossover"
between = ["CN", "RU"]
interval = [2023-01-01, 2025-12-31]
source = "test"
reliability = "test"

[[target]]
id = "kz_abstains"
observable = "vote"
actor = "KZ"
kind = "stance"
vote = "unga_es11_1"
stance = "abstain"
source = "test"
reliability = "test"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(text, "utf-8")
    return path


def test_a_valid_file_of_every_kind_loads(tmp_path):
    t = load_targets(_write(tmp_path, VALID))
    assert {x.kind for x in t.targets} == set(TARGET_KINDS)
    assert t.world.name == "central_asia_2021"
    level = t["kz_trade_cn"]
    assert level.window is not None and level.interval == (17.0, 26.0)
    assert level.sigma == pytest.approx(9.0 / (2 * Z95))  # a 95% interval's half-width / 1.96
    assert t["kg_approval_ru"].sigma == 0.05
    assert t["ru_approval_by_state"].order == ("KG", "TJ", "KZ")
    assert t["ru_approval_by_state"].actor is None and t["ru_approval_by_state"].power == "RU"
    assert t["kg_ru_above_cn"].actor == "KG" and t["kg_ru_above_cn"].power is None
    assert t["tokayev_keeps_power"].above == 0.5
    assert t["cn_overtakes_ru_trade"].between == ("CN", "RU")
    assert t["kz_abstains"].stance == "abstain"
    assert len(t.sha256) == 64


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        (
            'observable = "approval"\nactor = "KG"\npower = "RU"',
            'observable = "aproval"\nactor = "KG"\npower = "RU"',
            ["target 'kg_approval_ru'", "field 'observable'", "did you mean 'approval'"],
        ),
        (
            'actor = "KG"\npower = "RU"\nkind = "level"',
            'actor = "KGZ"\npower = "RU"\nkind = "level"',
            ["target 'kg_approval_ru'", "field 'actor'", "unknown state 'KGZ'"],
        ),
        (
            'actor = "KG"\npower = "RU"\nkind = "level"',
            'actor = "KG"\nkind = "level"',
            ["target 'kg_approval_ru'", "field 'power'", "needs a power"],
        ),
        (
            'kind = "level"\ndate = 2021-12-31\nvalue = 0.76',
            'kind = "levels"\ndate = 2021-12-31\nvalue = 0.76',
            ["field 'kind'", "did you mean 'level'"],
        ),
        ("value = 0.76\nsd = 0.05", "value = 0.76\nsd = 0", ["field 'sd'", "must be positive"]),
        ("value = 0.76\nsd = 0.05", "value = 0.76", ["field 'sd'", "'sd' or as 'interval'"]),
        (
            "interval = [17.0, 26.0]",
            "interval = [19.0, 26.0]",
            ["target 'kz_trade_cn'", "field 'interval'", "outside"],
        ),
        ("interval = [17.0, 26.0]", "interval = [26.0, 17.0]", ["field 'interval'", "below"]),
        (
            "from = 2017-12-31\nto = 2018-12-31",
            "from = 2018-12-31\nto = 2017-12-31",
            ["target 'kz_approval_cn_change'", "field 'to'", "must be before"],
        ),
        ('order = ["RU", "CN"]', 'order = ["RU", "RU"]', ["field 'order'", "listed twice"]),
        (
            'order = ["KG", "TJ", "KZ"]',
            'order = ["KG", "TJJ"]',
            ["target 'ru_approval_by_state'", "field 'order'", "did you mean 'TJ'"],
        ),
        ("above = 0.5", "above = 0.5\nbelow = 0.9", ["field 'above'", "one of them"]),
        ('between = ["CN", "RU"]', 'between = ["CN", "CN"]', ["field 'between'", "two different"]),
        (
            'stance = "abstain"',
            'stance = "abstained"',
            ["target 'kz_abstains'", "field 'stance'", "did you mean 'abstain'"],
        ),
        (
            'source = "test"\nreliability = "test"\n\n[[target]]\nid = "kz_trade_cn"',
            'reliability = "test"\n\n[[target]]\nid = "kz_trade_cn"',
            ["target 'kg_approval_ru'", "field 'source'", "missing"],
        ),
        (
            'id = "kz_trade_cn"',
            'id = "kg_approval_ru"',
            ["target 'kg_approval_ru'", "field 'id'", "two targets"],
        ),
        (
            "date = 2021-12-31\nvalue = 0.76",
            "date = 2021-12-31\nwindow = [2021-01-01, 2021-12-31]\nvalue = 0.76",
            ["field 'date'", "a 'date' or a 'window'"],
        ),
        (
            'kind = "level"\ndate = 2021-12-31\nvalue = 0.76',
            'kind = "level"\ndate = 2021-12-31\norder = ["KG", "KZ"]\nvalue = 0.76',
            ["field 'order'", "not a field of a level target"],
        ),
        (
            'world = "central_asia_2021"',
            'world = "central_asia_2021"\nyear = 2021',
            ["[targets]", "field 'year'", "unknown field"],
        ),
    ],
)
def test_each_defect_gets_one_line_naming_the_target_and_field(tmp_path, capsys, old, new, expect):
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(TargetsError) as err:
        load_targets(path)
    for part in ["t.toml", *expect]:
        assert part in str(err.value), str(err.value)
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("influence-sim: error: ")


def test_the_shipped_targets_load_and_cite_a_source_each(capsys):
    t = load_targets(SHIPPED)
    assert t.name == "central_asia_pre2022" and t.world.name == "central_asia_2021"
    assert len(t.targets) >= 15
    for x in t.targets:
        assert x.source.strip() and x.reliability.strip(), x.id
        if x.kind in ("level", "change"):
            assert x.sigma is not None and x.sigma > 0, x.id
    kinds = {x.kind for x in t.targets}
    assert {"level", "order", "threshold"} <= kinds  # patterns count as much as levels
    assert main(["validate", str(SHIPPED)]) == 0
    assert "targets 'central_asia_pre2022'" in capsys.readouterr().out
