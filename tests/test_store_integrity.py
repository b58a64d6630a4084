"""The results store is never silently wrong, and outputs never destroy what they did not write."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import influence_sim as isim
from influence_sim.cli import main
from influence_sim.errors import StoreError
from influence_sim.experiment.integrity import MANIFEST_CHECKSUM, StoreLock
from influence_sim.experiment.store import verify_store

from .conftest import BASELINE, ROOT
from .test_experiment import assert_same_results, write_experiment


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A finished tiny experiment (2 scenarios x 12 replicates in chunks of 4) and its file."""
    folder = tmp_path_factory.mktemp("integrity")
    path = write_experiment(folder)
    out = folder / "out"
    isim.run_experiment(isim.load_experiment(path), out, workers=1, progress=False)
    return path, out


@pytest.fixture
def store(reference, tmp_path):
    """A private copy of the reference store (and its experiment) to damage."""
    path, out = reference
    copy = tmp_path / "store"
    shutil.copytree(out, copy)
    return path, copy


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("influence-sim: error: "), err
    assert "Traceback" not in err
    return err


def ts_file(store: Path) -> Path:
    return sorted((store / "chunks").glob("*.ts.parquet"))[1]


# ---------------------------------------------------------------------------------------
# outputs never destroy what they did not write


def test_run_out_refuses_an_experiment_store_and_leaves_it_untouched(store, capsys):
    _, out = store
    before = snapshot(out)
    assert main(["run", str(BASELINE), "-n", "2", "-q", "--out", str(out)]) == 2
    assert "holds an experiment store, not an earlier run" in one_line_error(capsys)
    assert snapshot(out) == before


def test_run_out_refuses_a_foreign_folder_with_a_manifest(tmp_path, capsys):
    foreign = tmp_path / "theirs"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"kind": "someone else\'s"}')
    (foreign / "thesis.tex").write_text("years of work")
    before = snapshot(foreign)
    assert main(["run", str(BASELINE), "-n", "2", "-q", "--out", str(foreign)]) == 2
    assert "not an earlier run" in one_line_error(capsys)
    assert snapshot(foreign) == before


def test_run_out_replaces_an_earlier_run_but_not_one_with_other_files(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", str(BASELINE), "-n", "2", "-q", "--every", "365", "--out", str(out)]
    assert main(argv) == 0
    assert main([*argv[:3], "3", *argv[4:]]) == 0  # replaced: an earlier run
    assert isim.load_run(out).summary["replicate"].tolist() == [0, 1, 2]
    (out / "notes.md").write_text("mine")
    capsys.readouterr()
    before = snapshot(out)
    assert main(argv) == 2
    assert "also 'notes.md'" in one_line_error(capsys)
    assert snapshot(out) == before


def test_batch_out_refuses_a_foreign_folder_and_a_run(reference, tmp_path, capsys):
    path, _ = reference
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "data.csv").write_text("1,2\n")
    before = snapshot(foreign)
    assert main(["batch", str(path), "--out", str(foreign), "-q", "--workers", "1"]) == 2
    assert "holds no manifest.json" in one_line_error(capsys)
    assert snapshot(foreign) == before
    run = tmp_path / "run"
    assert main(["run", str(BASELINE), "-n", "2", "-q", "--every", "365", "--out", str(run)]) == 0
    capsys.readouterr()
    before = snapshot(run)
    assert main(["batch", str(path), "--out", str(run), "-q", "--resume", "--workers", "1"]) == 2
    assert "holds something other than experiment results" in one_line_error(capsys)
    assert snapshot(run) == before


@pytest.mark.parametrize(
    "where",
    ["/proc/influence-sim-out", "below-a-file"],
    ids=["proc", "below-a-regular-file"],
)
@pytest.mark.parametrize("command", ["run", "batch"])
def test_unwritable_output_paths_get_one_line(reference, tmp_path, capsys, where, command):
    if where == "below-a-file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out"
    else:
        out = Path(where)
    path, _ = reference
    argv = (
        ["run", str(BASELINE), "-n", "2", "-q", "--every", "365", "--out", str(out)]
        if command == "run"
        else ["batch", str(path), "--out", str(out), "-q", "--workers", "1"]
    )
    assert main(argv) == 2
    err = one_line_error(capsys)
    assert str(out) in err or str(out.parent) in err, err


# ---------------------------------------------------------------------------------------
# damage is detected on every read, reported by verify, and repaired by resume


def truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def flip_bit(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 3] ^= 0x10  # inside a data page of the first row group
    p.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage", [truncate, flip_bit, Path.unlink], ids=["truncated", "bit", "gone"]
)
def test_damaged_chunk_is_refused_reported_and_repaired(reference, store, capsys, damage):
    path, out = store
    victim = ts_file(out)
    damage(victim)
    # every read refuses it, in one line naming the store and the file
    with pytest.raises(StoreError, match=victim.name):
        isim.compare(out, n_boot=10)
    assert main(["compare", str(out), "--boot", "10"]) == 2
    err = one_line_error(capsys)
    assert str(out) in err and victim.name in err
    assert main(["report", str(out), "-q"]) == 2
    one_line_error(capsys)
    # verify names it and fails
    report = verify_store(out)
    assert not report.healthy
    assert [f for _, f, *_ in (*report.missing, *report.corrupt)] == [victim.name]
    assert main(["verify", str(out)]) == 2
    printed = capsys.readouterr().out
    assert ("1 missing" if damage is Path.unlink else "1 corrupt") in printed
    # resume re-runs that chunk, to the same numbers as an untouched store
    assert main(["batch", str(path), "--out", str(out), "--resume", "-q", "--workers", "1"]) == 0
    assert f"Repaired: chunks/{victim.name}" in capsys.readouterr().out
    assert verify_store(out).healthy
    assert_same_results(reference[1], out)
    repairs = json.loads((out / "manifest.json").read_text())["repairs"]
    assert [r["file"] for r in repairs] == [victim.name]


def test_verify_passes_a_healthy_store(reference, capsys):
    _, out = reference
    assert main(["verify", str(out)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert "6 chunks: 6 ok, 0 pending, 0 missing, 0 corrupt" in line
    assert "size and SHA-256" in line


def test_verify_reports_an_unfinished_store(reference, tmp_path, capsys):
    path, _ = reference
    out = tmp_path / "half"
    env = {**os.environ, "INFLUENCE_SIM_FAULT": "chunk-files:3"}
    cmd = [sys.executable, "-m", "influence_sim.cli", "batch", str(path), "--out", str(out)]
    proc = subprocess.run(
        [*cmd, "-q", "--workers", "1"], env=env, capture_output=True, check=False, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL
    report = verify_store(out)
    assert len(report.ok) == 2 and len(report.pending) == 4 and not report.healthy
    assert main(["verify", str(out)]) == 2
    assert "resuming the batch completes the store" in capsys.readouterr().out
    # the killed batch's lock file is left behind, but it does not block the resume
    assert (out / ".lock").exists()
    assert main([*cmd[3:], "--resume", "-q", "--workers", "1"]) == 0
    assert verify_store(out).healthy


@pytest.mark.parametrize("cut", [0, 1, 100, -2], ids=["empty", "one-byte", "head", "tail"])
def test_a_damaged_manifest_gives_one_line_everywhere(store, capsys, cut):
    path, out = store
    m = out / "manifest.json"
    m.write_bytes(m.read_bytes()[:cut])
    for argv in (
        ["compare", str(out)],
        ["verify", str(out)],
        ["batch", str(path), "--out", str(out), "--resume", "-q", "--workers", "1"],
    ):
        assert main(argv) == 2, argv
        assert "manifest.json is damaged" in one_line_error(capsys)


def test_an_edited_manifest_fails_its_checksum(store, capsys):
    _, out = store
    m = out / "manifest.json"
    manifest = json.loads(m.read_text())
    manifest["replicates"] = 13
    m.write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="does not match its checksum"):
        isim.load_results(out)
    assert main(["verify", str(out)]) == 2
    one_line_error(capsys)


def test_a_store_without_checksums_still_loads(reference, store, capsys):
    """Stores written before checksums (format 1) load, compare and verify."""
    _, out = store
    m = out / "manifest.json"
    manifest = json.loads(m.read_text())
    manifest["format"] = 1
    del manifest[MANIFEST_CHECKSUM]
    for entry in manifest["chunks"].values():
        entry.pop("files")
    m.write_text(json.dumps(manifest))
    assert_same_results(reference[1], out)
    assert not isim.compare(out, n_boot=10).effects.empty
    assert main(["verify", str(out)]) == 0
    assert "Parquet decoding only (format 1)" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# one writer at a time

HOLDER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from influence_sim.experiment.integrity import StoreLock
    lock = StoreLock(Path(sys.argv[1])).acquire()
    print("locked", flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # hold the lock until the test closes our stdin
    """
)


def test_a_second_writer_is_refused_with_the_holder(store, capsys):
    path, out = store
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out), "hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        argv = ["batch", str(path), "--out", str(out), "--resume", "-q", "--workers", "1"]
        assert main(argv) == 2
        err = one_line_error(capsys)
        assert f"another batch is writing to this store (process {holder.pid} on" in err
        with pytest.raises(StoreError, match=str(holder.pid)):
            StoreLock(out).acquire()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
    with StoreLock(out).held():  # released at the holder's exit
        pass


def test_a_lock_left_by_a_killed_process_does_not_block(store):
    _, out = store
    proc = subprocess.run(
        [sys.executable, "-c", HOLDER, str(out), "die"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL and proc.stdout.strip() == "locked"
    assert str(proc.args) and (out / ".lock").read_text().startswith("process ")
    lock = StoreLock(out).acquire()
    assert (out / ".lock").read_text().startswith(f"process {os.getpid()} on")
    lock.release()


# ---------------------------------------------------------------------------------------
# memory is estimated before anything is allocated or written


def test_a_run_beyond_the_memory_budget_is_refused_before_it_starts(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "-n", "1000000000", "-q", "--out", str(out)]) == 2
    err = one_line_error(capsys)
    assert "--replicates" in err and "more than the budget" in err
    assert not out.exists()


def test_a_chunk_beyond_the_memory_budget_is_refused_and_nothing_is_written(
    reference, tmp_path, capsys, monkeypatch
):
    path, _ = reference
    out = tmp_path / "store"
    monkeypatch.setenv("INFLUENCE_SIM_MEMORY_BUDGET", "50MB")
    assert main(["batch", str(path), "--out", str(out), "-q", "--workers", "1"]) == 2
    err = one_line_error(capsys)
    assert "field 'chunk'" in err and "use a smaller chunk" in err
    assert not out.exists()
    assert main(["validate", str(path)]) == 2
    one_line_error(capsys)
    monkeypatch.setenv("INFLUENCE_SIM_MEMORY_BUDGET", "lots")
    assert main(["validate", str(path)]) == 2
    assert "INFLUENCE_SIM_MEMORY_BUDGET" in one_line_error(capsys)


def test_a_manifest_without_its_keys_gives_one_line(store, capsys):
    """A manifest stripped of its checksum and of required keys is refused, not a KeyError."""
    path, out = store
    m = out / "manifest.json"
    manifest = json.loads(m.read_text())
    del manifest[MANIFEST_CHECKSUM], manifest["chunks"], manifest["experiment"]["sha256"]
    m.write_text(json.dumps(manifest))
    for argv in (
        ["compare", str(out)],
        ["verify", str(out)],
        ["batch", str(path), "--out", str(out), "--resume", "-q", "--workers", "1"],
    ):
        assert main(argv) == 2, argv
        assert "it lacks chunks, experiment.sha256" in one_line_error(capsys)
