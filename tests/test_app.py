"""The browser app: the what-if export (plain Python), the command, and the pages in Chromium.

The browser tests drive Debian's ``chromium`` through Playwright (``pytest-playwright``); the
app runs as ``influence-sim app`` in a subprocess on a free port of 127.0.0.1, and every
request to any other address is refused (and would fail the test). A missing browser or
Playwright fails these tests with the command that installs them; it never skips them.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pytest

import influence_sim as isim
from influence_sim.app import engine
from influence_sim.app.config import AppConfig, scenario_files
from influence_sim.app.whatif import (
    EventEdit,
    WhatIf,
    magnitude_field,
    max_scale,
    scale_value,
    to_toml,
)
from influence_sim.cli import main
from influence_sim.errors import ScenarioError
from influence_sim.params import parameters

from .conftest import BASELINE, SCENARIOS

try:
    from playwright.sync_api import expect
except ImportError:  # the browser tests fail in their fixture, saying how to install it
    expect = None
from .test_experiment import write_experiment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SEED = 20220105
REPLICATES = 200
#: Bounded waits (milliseconds) for the page: a run of 2 x 200 replicates takes about 2 s.
PAGE_WAIT = 60_000


@pytest.fixture(scope="module")
def base():
    return isim.load_scenario(BASELINE)


# ---------------------------------------------------------------------------------------
# the what-if, without a browser


def test_magnitude_is_the_first_required_number_of_each_kind(base):
    fields = {e.kind: magnitude_field(e) for e in base.events}
    assert fields == {
        "unrest": "intensity",
        "leadership_change": "share",
        "shift": "value",
        "intervention": "size",
        "purge": "share",
        "statement": "face",
        "withdrawal": None,
    }
    ev = {e.id: e for e in base.events}
    # the factor keeps the field (or the distribution's support) inside its range
    assert max_scale(ev["protests_nationwide"]) == pytest.approx(1.05)  # high 0.95 of [0, 1]
    assert max_scale(ev["csto_deploy"]) == pytest.approx(1.1)  # uniform up to 0.9
    assert max_scale(ev["government_dismissed"]) == 2.0
    assert max_scale(ev["csto_withdrawal"]) == 0.0


def test_scaling_multiplies_constants_and_distribution_locations():
    assert scale_value(0.3, 0.5) == 0.15
    assert scale_value({"dist": "uniform", "low": 0.7, "high": 0.9}, 0.5) == {
        "dist": "uniform",
        "low": 0.35,
        "high": 0.45,
    }
    tri = {"dist": "triangular", "low": 0.6, "mode": 0.8, "high": 0.95}
    assert scale_value(tri, 1.05)["high"] == pytest.approx(0.9975)
    assert scale_value({"dist": "beta", "a": 2, "b": 3, "low": 0, "high": 0.5}, 2) == {
        "dist": "beta",
        "a": 2,
        "b": 3,
        "low": 0.0,
        "high": 1.0,
    }
    with pytest.raises(ValueError, match=">= 0"):
        scale_value(0.3, -1)


def test_switching_off_an_intervention_removes_what_names_it(base):
    w = WhatIf(base).with_event("csto_deploy", off=True)
    assert w.forced_off() == {"csto_withdrawal": "csto_deploy"}
    assert w.removed() == ["csto_deploy", "csto_withdrawal"]
    assert any("csto_withdrawal removed (it names csto_deploy" in x for x in w.describe())
    assert [e.id for e in w.scenario().events] == [
        e.id for e in base.events if e.id not in {"csto_deploy", "csto_withdrawal"}
    ]


def test_the_exported_toml_is_a_counterfactual_that_validates(base, tmp_path, capsys):
    w = (
        WhatIf(base, name="my_whatif")
        .with_event("csto_request", off=True)
        .with_event("protests_nationwide", scale=0.5)
        .with_event("xi_message", date=date(2022, 2, 1))
        .with_param("force_weight", 0.08)
        .with_param("region_weight", "gdp")
        .with_param("pull_scale", base.params["pull_scale"])  # unchanged: not written
    )
    path = tmp_path / "sub" / "my_whatif.toml"
    path.parent.mkdir()
    text = w.toml(path)
    path.write_text(text)
    doc = tomllib.loads(text)
    assert doc == w.document(path)
    head = doc["scenario"]
    assert (path.parent / head["extends"]).resolve() == BASELINE.resolve()
    assert head["name"] == "my_whatif" and head["remove"] == ["csto_request"]
    assert doc["params"] == {"force_weight": 0.08, "region_weight": "gdp"}
    events = {e["id"]: e for e in doc["events"]}
    assert set(events) == {"protests_nationwide", "xi_message"}
    assert events["protests_nationwide"]["intensity"] == {
        "dist": "triangular",
        "low": 0.3,
        "mode": 0.4,
        "high": 0.475,
    }
    assert events["xi_message"]["date"] == date(2022, 2, 1)
    # every other field of a replaced event is kept as it was
    raw = next(e for e in base.events if e.id == "xi_message").raw
    assert {k: v for k, v in events["xi_message"].items() if k not in ("date", "note")} == {
        k: v for k, v in raw.items() if k not in ("date", "note")
    }
    assert text.startswith("# What-if of 'kazakhstan_2022'")
    assert main(["validate", str(path)]) == 0
    assert "ok (scenario 'my_whatif'" in capsys.readouterr().out
    loaded = isim.load_scenario(path)
    assert loaded.sha256 == w.scenario(path).sha256
    assert loaded.params["force_weight"] == 0.08


def test_the_saved_file_reproduces_the_apps_run(base, tmp_path):
    """engine.run is simulate with progress; the file gives the same numbers, replicate by
    replicate, as the what-if the app ran."""
    w = WhatIf(base).with_event("csto_deploy", scale=0.5).with_param("pull_noise", 0.6)
    path = tmp_path / "w.toml"
    path.write_text(w.toml(path))
    seen = []
    mine = engine.run(w.scenario(path), replicates=12, seed=7, on_progress=seen.append)
    again = isim.simulate(isim.load_scenario(path), replicates=12, rng=7)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 5
    for m in again.data:
        np.testing.assert_array_equal(mine.data[m], again.data[m])
    assert mine.event_rates() == again.event_rates()


def test_an_edit_the_scenario_format_refuses_names_the_event(base):
    w = WhatIf(base).with_event("csto_withdrawal", date=date(2022, 1, 3))
    with pytest.raises(ScenarioError, match="csto_withdrawal") as err:
        w.scenario()
    assert "before the intervention" in str(err.value)
    with pytest.raises(ValueError, match="no event 'nope'"):
        WhatIf(base, events={"nope": EventEdit(off=True)}).check()


def test_no_edit_is_the_scenario_itself(base):
    w = WhatIf(base)
    assert w.empty and w.describe() == []
    assert set(w.document()) == {"scenario"}
    assert w.scenario().resolved()["events"] == base.resolved()["events"]
    assert w.scenario_name == "kazakhstan_2022_whatif"
    assert WhatIf(base, name=base.name).scenario_name != base.name


def test_toml_writer_round_trips_awkward_values():
    doc = {
        "scenario": {"name": "x", "title": 'quote " backslash \\ tab \t é', "n": 3, "on": True},
        "events": [
            {"id": "a", "when": {"all": [{"measure": "share", "value": -0.5}]}},
            {"id": "b", "list": [1.5, 2.0e-7], "weird key": date(2022, 1, 1)},
        ],
    }
    assert tomllib.loads(to_toml(doc, header="line one\nline two")) == doc
    with pytest.raises(ValueError, match="finite"):
        to_toml({"scenario": {"x": float("nan")}})


def test_paired_effects_of_the_edit_match_compare(base):
    """The app's paired statistics are `compare`'s: same function, same bootstrap."""
    short_base = isim.simulate(base, replicates=20, rng=3, every=30)
    w = WhatIf(base).with_event("csto_deploy", off=True)
    edit = engine.run(w.scenario(), replicates=20, seed=3, every=30)
    pair = engine.Pair(short_base, edit)
    eff = engine.paired_effects(pair, "balance", None, n_boot=300)
    kz = eff[eff["actor"] == "KZ"].iloc[0]
    diff = edit.data["balance"][-1, :, 0].astype(float) - short_base.data["balance"][-1, :, 0]
    assert kz["mean"] == pytest.approx(diff.mean())
    assert kz["ci_low"] <= kz["mean"] <= kz["ci_high"]
    fired = engine.firing_table(pair)
    assert fired.set_index("event").loc["csto_deploy", "status"] == "removed"
    assert np.isnan(fired.set_index("event").loc["csto_deploy", "whatif"])


def test_config_reads_the_environment_and_lists_scenarios(tmp_path):
    cfg = AppConfig.from_env(
        {
            "INFLUENCE_SIM_APP_SCENARIO": str(BASELINE),
            "INFLUENCE_SIM_APP_SEED": "9",
            "INFLUENCE_SIM_APP_REPLICATES": "50",
            "INFLUENCE_SIM_APP_SAVE_DIR": str(tmp_path),
        }
    )
    assert (cfg.seed, cfg.replicates, cfg.save_dir) == (9, 50, tmp_path)
    assert cfg.scenarios == SCENARIOS
    files = scenario_files(cfg.scenarios, cfg.scenario)
    assert next(iter(files)) == "kazakhstan_2022"
    assert "counterfactuals/no_csto" in files
    assert not any(k.startswith("experiments/") for k in files)  # experiments are not offered


# ---------------------------------------------------------------------------------------
# the command


def test_app_without_solara_says_how_to_install_it():
    code = (
        "import sys; sys.modules['solara'] = None; from influence_sim.cli import main; "
        "sys.exit(main(['app']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "pip install 'influence-sim[app]'" in lines[0]


def test_app_refuses_a_missing_target_in_one_line(tmp_path, capsys):
    assert main(["app", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such scenario file or results store folder" in err[0]


# ---------------------------------------------------------------------------------------
# the browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright; fail (never skip) with how to install them."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.fail(
            "Playwright is missing: pip install pytest-playwright (the test extra)", pytrace=False
        )
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install -y chromium; `make setup` does it as root)",
            pytrace=False,
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A tiny experiment store (base and cf, 6 replicates) with a saved attribution."""
    folder = tmp_path_factory.mktemp("appstore")
    path = write_experiment(folder, replicates=6, chunk=6)
    out = folder / "out"
    isim.run_experiment(isim.load_experiment(path), out, workers=1, progress=False)
    assert main(["explain", str(out), "--quiet", "--boot", "200"]) == 0
    return out


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    """``influence-sim app STORE`` on a free port of 127.0.0.1; its address and save folder."""
    cwd = tmp_path_factory.mktemp("appcwd")
    port = _free_port()
    log = cwd / "server.log"
    env = {**os.environ, "INFLUENCE_SIM_APP_SCENARIOS": str(SCENARIOS)}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "influence_sim.cli", "app", str(store), "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # bounded: about 30 s
            try:
                proc.wait(timeout=0.1)  # waits a little, and notices a server that died
            except subprocess.TimeoutExpired:
                pass
            else:
                pytest.fail(f"the app exited early:\n{log.read_text()}", pytrace=False)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                continue
        else:
            pytest.fail(f"the app did not open port {port}:\n{log.read_text()}", pytrace=False)
        printed = ""
        for _ in range(100):  # the address is printed once the server is up
            printed = log.read_text()
            if f"{url}/" in printed:
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
        assert f"influence-sim app (explore): {url}/" in printed
        assert f"influence-sim app (results store): {url}/store" in printed
        yield url, cwd
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class Page:
    """A browser tab on the app that records console errors and refused requests."""

    def __init__(self, browser, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        self.page.set_default_timeout(PAGE_WAIT)
        self.url = url

    def _route(self, route) -> None:
        req = route.request.url
        if req.startswith((self.url, "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(req)
            route.abort()

    def open(self, path: str = "/") -> Page:
        self.page.goto(self.url + path)
        return self

    def check_clean(self) -> None:
        assert self.outside == [], f"requests beyond 127.0.0.1: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"

    def run(self) -> dict[str, str]:
        """Click Run and wait for the results of this run; return the numbers shown."""
        run_id = self.page.locator(".run-id")
        before = run_id.inner_text() if run_id.count() else None
        self.page.get_by_role("button", name=re.compile("Run .* replicates")).click()
        if before is None:
            run_id.wait_for()
        else:
            expect(run_id).not_to_have_text(before, timeout=PAGE_WAIT)
        self.page.locator(".effect-summary").wait_for()
        return self.numbers()

    def numbers(self) -> dict[str, str]:
        """The paired effect and medians shown, and the fan chart's image data."""
        s = self.page.locator(".effect-summary")
        return {
            "mean": s.locator(".effect-mean").inner_text(),
            "ci": s.locator(".effect-ci").inner_text(),
            "whatif": s.locator(".median-whatif").inner_text(),
            "unedited": s.locator(".median-unedited").inner_text(),
            "chart": self.page.locator("img").first.get_attribute("src") or "",
        }


def _num(text: str) -> float:
    return float(text.replace("\u2212", "-"))


@pytest.fixture
def tab(chromium, server):
    page = Page(chromium, server[0])
    yield page
    page.page.close()


def test_explore_page_renders_without_console_errors(tab):
    tab.open("/")
    tab.page.get_by_role("button", name=re.compile("Run 200 replicates")).wait_for()
    body = tab.page.locator("body").inner_text()
    for text in ("Explore a scenario", "Global parameters", "Events", "csto_deploy"):
        assert text.lower() in body.lower(), text
    # every documented parameter has a control, labelled with its value and meaning
    for p in parameters().values():
        assert p.name in body and p.meaning[:40] in body
    tab.check_clean()


def test_moving_a_parameter_slider_and_running_changes_the_chart(tab):
    tab.open("/")
    first = tab.run()
    assert _num(first["mean"]) == 0.0  # no edit yet: the what-if is the scenario
    slider = tab.page.locator(".v-input", has_text="pull_scale =").locator("[role=slider]")
    slider.focus()
    slider.press("End")  # the top of its documented range
    tab.page.get_by_text("pull_scale = 20").wait_for()
    tab.page.get_by_text("Edited since the last run").wait_for()
    second = tab.run()
    assert second["whatif"] != first["whatif"]
    assert second["chart"] != first["chart"]
    assert second["unedited"] == first["unedited"]  # the unedited scenario is the same run
    assert _num(second["mean"]) != 0.0
    tab.check_clean()


@pytest.fixture(scope="module")
def csto_off(chromium, server):
    """A tab where csto_deploy is switched off and the ensemble run: its numbers."""
    tab = Page(chromium, server[0]).open("/")
    tab.page.locator(".switch-csto_deploy .v-input--selection-controls__ripple").click()
    tab.page.get_by_text("off: it needs csto_deploy").wait_for()  # its withdrawal goes too
    shown = tab.run()
    yield tab, shown
    tab.page.close()


def test_switching_off_csto_deploy_has_the_sign_of_no_csto(csto_off, base):
    tab, shown = csto_off
    mean = _num(shown["mean"])
    lo, hi = (_num(x) for x in shown["ci"].split(" to "))
    # the counterfactual file that removes the CSTO altogether, paired with the same seed
    no_csto = isim.load_scenario(SCENARIOS / "counterfactuals" / "no_csto.toml")
    pair = engine.run_pair(base, no_csto, replicates=REPLICATES, seed=SEED)
    ref = engine.paired_effects(pair).set_index("actor").loc["KZ", "mean"]
    assert np.sign(mean) == np.sign(ref) == -1
    assert hi < 0  # the interval excludes 0, on the same side
    assert lo <= ref <= hi  # no_csto's effect lies within the app's interval
    tab.check_clean()


def test_the_exported_toml_validates_and_reproduces_the_numbers(csto_off, server, base):
    tab, shown = csto_off
    _, folder = server
    tab.page.get_by_role("button", name="Save TOML").click()
    tab.page.get_by_text("Saved ").wait_for()
    path = folder / "kazakhstan_2022_whatif.toml"
    assert path.is_file()
    cmd = [sys.executable, "-m", "influence_sim.cli", "validate", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "ok (scenario 'kazakhstan_2022_whatif'" in out.stdout
    doc = tomllib.loads(path.read_text())
    assert doc["scenario"]["remove"] == ["csto_deploy", "csto_withdrawal"]
    # running the file with the same seed gives the numbers the page showed
    rerun = isim.simulate(isim.load_scenario(path), replicates=REPLICATES, rng=SEED)
    pair = engine.Pair(isim.simulate(base, replicates=REPLICATES, rng=SEED), rerun)
    kz = engine.paired_effects(pair).set_index("actor").loc["KZ"]
    assert f"{kz['mean']:+.4f}" == shown["mean"].replace("\u2212", "-")
    assert shown["ci"].replace("\u2212", "-") == f"{kz['ci_low']:+.4f} to {kz['ci_high']:+.4f}"
    k = labels_index(rerun, "KZ")
    assert f"{np.median(rerun.data['balance'][-1, :, k]):+.4f}" == shown["whatif"].replace(
        "\u2212", "-"
    )
    tab.check_clean()


def labels_index(result, actor: str) -> int:
    return result.block("balance")[2].index(actor)


def test_store_browser_shows_every_scenario(tab, store):
    rs = isim.load_results(store)
    tab.open("/store")
    table = tab.page.locator(".store-scenarios")
    table.wait_for()
    text = table.inner_text()
    for name in rs.scenarios:
        assert name in text
    assert len(rs.scenarios) == 2
    # the effects table: one row per effect on its first page, sortable by a header click
    effects = tab.page.locator(".effects-table")
    effects.wait_for()
    assert effects.locator("tbody tr").count() >= 1
    assert "cf" in effects.inner_text()
    effects.get_by_text("actor", exact=True).first.click()
    # figures: fan chart, map, forest and the saved attribution
    tab.page.get_by_text("attribution table").wait_for()
    assert tab.page.locator("img").count() >= 4
    tab.check_clean()


def test_step_mode_steps_one_replicate_with_solaraviz_controls(tab):
    tab.open("/step")
    tab.page.get_by_text("Fired so far").wait_for()
    assert "(step 0 of 730)" in tab.page.locator("body").inner_text()
    step = tab.page.get_by_role("button", name="Step", exact=True)
    for _ in range(7):
        step.click()
        tab.page.get_by_text(re.compile(r"\(step [1-9]\d* of 730\)")).wait_for()
    tab.page.get_by_text("protests_mangystau").first.wait_for()
    tab.check_clean()
