"""The notebooks in notebooks/ run top to bottom, with few replicates, and their checks hold.

Each notebook reads its replicate count from the environment variable
``INFLUENCE_SIM_NB_REPLICATES`` in its first code cell (tagged ``parameters``); the kernel
inherits this process's environment, so the test sets it small. Each notebook ends its sections
with ``assert`` cells, so a notebook whose results change fails here. Notebooks are committed
without outputs, and running them writes nothing into the repository (their results stores go
to temporary folders, pointed at pytest's ``tmp_path`` through ``TMPDIR``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
REPLICATES = 20


def snapshot() -> set[Path]:
    """Files of the repository a notebook could write into by mistake."""
    return {
        p
        for top in (NOTEBOOKS, ROOT / "scenarios", ROOT / "docs")
        for p in top.rglob("*")
        if ".ipynb_checkpoints" not in p.parts
    } | set(ROOT.iterdir())


def test_the_six_notebooks_are_there():
    assert NAMES == [
        "01_kazakhstan_2022.ipynb",
        "02_counterfactuals.ipynb",
        "03_your_own_scenario.ipynb",
        "04_mesa_interop.ipynb",
        "05_what_drives_the_conclusion.ipynb",
        "06_evidence.ipynb",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_clean(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb.metadata
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:
        assert c.outputs == [], f"{name}: a cell has outputs:\n{c.source[:200]}"
        assert c.execution_count is None, f"{name}: a cell has an execution count"
        assert "execution" not in c.metadata
    first = code[0]
    assert "parameters" in first.metadata.get("tags", []), f"{name}: first code cell not tagged"
    assert 'os.environ.get("INFLUENCE_SIM_NB_REPLICATES", "200")' in first.source
    assert any("assert " in c.source for c in code), f"{name}: no checks"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_its_checks_hold(name, monkeypatch, tmp_path):
    monkeypatch.setenv("INFLUENCE_SIM_NB_REPLICATES", str(REPLICATES))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' tempfile.mkdtemp() folders
    before = snapshot()
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError if any cell (an assert cell included) fails
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error"
            if out.get("name") == "stderr":
                assert "Warning" not in out["text"], f"{name}: a cell warned:\n{out['text']}"
    assert snapshot() == before, f"{name} wrote into the repository: {snapshot() ^ before}"
