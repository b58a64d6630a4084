"""The ``influence-sim`` command: a thin layer over the library.

Exit status: 0 on success, 2 on bad input (one message naming file, item and field; no
traceback), 1 on an internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ArgumentError, InputError, StoreError, safe_text, suggest

if TYPE_CHECKING:
    from .analysis.sensitivity import SensitivityRun
    from .experiment.design import Experiment
    from .experiment.source import ResultSource
    from .experiment.store import ResultSet

__all__ = ["main"]


class _InputError(Exception):
    """Bad command-line input that argparse cannot see (exit status 2)."""


def _positive(text: str) -> int:
    try:
        val = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if val < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {val}")
    return val


def _seed(text: str) -> int:
    try:
        val = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole-number seed, got {text!r}") from None
    if val < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {val}")
    return val


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _threshold(text: str) -> tuple[str, float]:
    actor, sep, level = text.partition("=")
    try:
        value = float(level)
    except ValueError:
        value = None
    if not sep or not actor or value is None:
        raise argparse.ArgumentTypeError(f"expected ACTOR=LEVEL (e.g. KZ=0.25), got {text!r}")
    return actor, value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    from ._io import package_version

    parser = argparse.ArgumentParser(
        prog="influence-sim",
        description="Agent-based simulation of great-power competition for influence.",
    )
    parser.add_argument("--version", action="version", version=f"influence-sim {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario, world, experiment and targets files")
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="scenario, world, experiment or targets TOML files",
    )

    p = sub.add_parser("run", help="run one scenario's replicates and write the results")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    _run_options(p)

    p = sub.add_parser("batch", help="run an experiment into a resumable results store")
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment TOML file")
    p.add_argument("--out", type=Path, required=True, help="results store directory")
    p.add_argument(
        "--resume",
        action="store_true",
        help="complete an interrupted batch in --out (only missing chunks run)",
    )
    p.add_argument(
        "--inputs",
        type=Path,
        default=None,
        help="CSV of input points (e.g. a calibration's non_implausible.csv): replicate r of "
        "every scenario takes point r mod P, so effects integrate over them",
    )
    _executor_options(p)

    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity of an experiment's [uncertainty]: Morris screening or "
        "Sobol' indices of its outcomes, into a resumable store",
    )
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment TOML file")
    p.add_argument("--method", choices=["morris", "sobol"], default="morris")
    p.add_argument(
        "--n",
        type=_positive,
        default=None,
        help="Morris: trajectories r (default 20); Sobol': base sample N, a power of 2 "
        "(default 256)",
    )
    p.add_argument("--levels", type=_positive, default=4, help="Morris grid levels (default 4)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="store directory (default results/<experiment name>/sensitivity/<method>, "
        "where `report` on results/<experiment name> finds it)",
    )
    p.add_argument("--resume", action="store_true", help="complete an interrupted run in --out")
    p.add_argument("--top", type=_positive, default=8, help="inputs shown per outcome")
    p.add_argument(
        "--inputs",
        type=Path,
        default=None,
        help="CSV of input points (e.g. a calibration's non_implausible.csv): the inputs it "
        "names vary over the box of its points instead of their declared ranges",
    )
    _executor_options(p)

    p = sub.add_parser(
        "discover",
        help="scenario discovery (PRIM): the boxes of the uncertainty space where a "
        "conclusion fails (or holds); needs the extra: pip install 'influence-sim[explore]'",
    )
    p.add_argument("results", metavar="DIR", type=Path, help="store of a sensitivity run")
    p.add_argument(
        "--conclusion",
        required=True,
        help="a declared conclusion's name, or a statement such as "
        '"effect(no_csto, balance, KG, 2022-03-05) < 0" over the run\'s outcomes',
    )
    p.add_argument(
        "--holds",
        action="store_true",
        help="find where the conclusion holds (default: where it fails)",
    )
    p.add_argument(
        "--min-coverage",
        type=float,
        default=0.5,
        help="the chosen box is the densest with at least this coverage (default 0.5)",
    )

    p = sub.add_parser(
        "calibrate",
        help="history matching: waves of design points over an experiment's [uncertainty], "
        "cut by a targets file's implausibility",
    )
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment TOML file")
    p.add_argument("--targets", required=True, type=Path, help="targets TOML file")
    p.add_argument("--waves", type=_positive, default=3, help="waves (default 3)")
    p.add_argument(
        "--points", type=_positive, default=None, help="points per wave (default 10 x inputs)"
    )
    p.add_argument("--cutoff", type=float, default=3.0, help="implausibility cutoff (default 3)")
    p.add_argument(
        "--rank",
        type=_positive,
        default=1,
        help="cut on the largest (1, default) or the second largest (2) implausibility",
    )
    p.add_argument(
        "--discrepancy",
        type=float,
        default=0.0,
        help="model discrepancy sd, on each observable's scale (default 0)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder (default results/<experiment name>/calibration)",
    )
    p.add_argument("--resume", action="store_true", help="complete an interrupted calibration")
    p.add_argument(
        "--emulator",
        action="store_true",
        help="screen later waves with a Gaussian-process emulator of the previous wave "
        "(needs the extra: pip install 'influence-sim[explore]')",
    )
    p.add_argument(
        "--candidates",
        type=_positive,
        default=20,
        help="with --emulator: candidates screened per point run (default 20)",
    )
    p.add_argument(
        "--abc",
        type=float,
        default=0.05,
        help="ABC rejection on wave 1 as a check: the share of draws accepted (default "
        "0.05; 0 to skip)",
    )
    _executor_options(p)

    p = sub.add_parser(
        "score",
        help="score a run or a results store against held-out targets, beside naive "
        "baselines (persistence, linear trend)",
    )
    p.add_argument("results", metavar="DIR", type=Path, help="results store of a batch")
    p.add_argument("--targets", required=True, type=Path, help="held-out targets TOML file")
    p.add_argument(
        "--training",
        type=Path,
        default=None,
        help="targets the baselines extrapolate from (e.g. the pre-2022 targets)",
    )
    p.add_argument("--scenario", default=None, help="scenario of a store (default: baseline)")
    p.add_argument(
        "--alpha", type=float, default=0.1, help="central 1 - alpha intervals (default 0.1)"
    )

    p = sub.add_parser("compare", help="paired effects of each scenario against the baseline")
    p.add_argument("results", metavar="DIR", type=Path, help="results store of a batch")
    p.add_argument("--baseline", default=None, help="baseline scenario (default: the experiment's)")
    p.add_argument(
        "--at",
        type=_date,
        action="append",
        default=[],
        metavar="DATE",
        help="also compare at this date (YYYY-MM-DD; repeatable)",
    )
    p.add_argument(
        "--measure",
        action="append",
        default=None,
        dest="measures",
        help="outcome measure (repeatable; default balance, alignment, corridor)",
    )
    p.add_argument(
        "--threshold",
        action="append",
        default=None,
        type=_threshold,
        metavar="ACTOR=LEVEL",
        help="balance level for time-to-threshold "
        "(repeatable; default: the experiment's, else start + 0.05)",
    )
    p.add_argument("--top", type=_positive, default=25, help="rows of the printed table")
    p.add_argument("--boot", type=_positive, default=2000, help="bootstrap resamples")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the bootstrap")

    p = sub.add_parser("explain", help="attribute a scenario's outcome to its events")
    p.add_argument("results", metavar="DIR", type=Path, help="results store of a batch")
    p.add_argument("--scenario", default=None, help="scenario (default: the baseline)")
    p.add_argument("--measure", default="balance", help="outcome measure (default balance)")
    p.add_argument(
        "--actor",
        default=None,
        help="actor of the outcome (default: the first state the scenarios' events name)",
    )
    p.add_argument(
        "--power",
        default=None,
        help="power, for per-power measures (alignment, perception, threat, trade, ...)",
    )
    p.add_argument(
        "--at", type=_date, default=None, help="date of the outcome (default: the horizon)"
    )
    p.add_argument("--point", type=int, default=0, help="design point (default 0)")
    p.add_argument(
        "--replicates",
        "-n",
        type=_positive,
        default=None,
        help="use the first N replicates (default: all)",
    )
    p.add_argument("--boot", type=_positive, default=2000, help="bootstrap resamples")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the bootstrap")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("plot", help="draw the figures of a results store (PNG, and SVG)")
    p.add_argument("results", metavar="DIR", type=Path, help="results store of a batch")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FIGDIR",
        help="folder for the figures (default: DIR/figures)",
    )
    p.add_argument("--svg", action="store_true", help="also write SVG files")

    p = sub.add_parser(
        "report",
        help="write one self-contained HTML report of a results "
        "store (figures embedded), and its figures as PNG files",
    )
    p.add_argument("results", metavar="DIR", type=Path, help="results store of a batch")
    p.add_argument("--out", type=Path, default=None, help="HTML file (default DIR/report.html)")
    p.add_argument("--measure", default="balance", help="outcome to attribute (default balance)")
    p.add_argument(
        "--actor",
        default=None,
        help="actor of that outcome (default: the first state the scenarios' events name)",
    )
    p.add_argument(
        "--power",
        default=None,
        help="power, for per-power measures (alignment, perception, threat, trade, ...)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser(
        "verify",
        help="check a results store or a sensitivity run: manifest, design and every chunk's "
        "checksum (exit 0 only when all is well)",
    )
    p.add_argument("results", metavar="DIR", type=Path, help="results store of a batch")

    sub.add_parser("params", help="list the documented parameters with defaults and ranges")

    p = sub.add_parser(
        "app",
        help="start the browser app (a local Solara server) and print its address; "
        "needs the extra: pip install 'influence-sim[app]'",
    )
    p.add_argument(
        "target",
        nargs="?",
        default=None,
        metavar="SCENARIO | RESULTS_DIR",
        help="a scenario file to explore, or a results store to browse",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    p.add_argument(
        "--replicates",
        "-n",
        type=_positive,
        default=200,
        help="replicates of each ensemble (default 200)",
    )
    p.add_argument(
        "--seed", type=_seed, default=20220105, help="root seed of the ensembles (default 20220105)"
    )
    return parser


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="worker processes (default: the number of cores)",
    )
    p.add_argument(
        "--executor",
        choices=["process", "dask"],
        default="process",
        help="local process pool (default) or a Dask distributed cluster",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address; without it --executor dask starts a "
        "LocalCluster of --workers processes",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replicates",
        "-n",
        type=_positive,
        default=100,
        help="number of Monte Carlo replicates (default 100)",
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=20220105,
        help="root seed (default 20220105); the same seed gives the same results",
    )
    p.add_argument("--out", type=Path, default=None, help="directory to write results to")
    p.add_argument(
        "--every",
        type=_positive,
        default=1,
        help="record every N steps (default 1; the last step is always recorded)",
    )
    p.add_argument(
        "--factions",
        action="store_true",
        help="also record every faction's scores (measure 'score')",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument(
        "--threads",
        type=_positive,
        default=None,
        help="threads for the compiled step, replicates in parallel (default 1, or the "
        "environment variable INFLUENCE_SIM_THREADS); the results are the same for any number",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad usage, 0 for --help
        return int(exc.code or 0)
    try:
        return _dispatch(args)
    except (InputError, StoreError, _InputError) as exc:
        print(f"influence-sim: error: {_message(exc, args.command)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("influence-sim: interrupted", file=sys.stderr)
        return 130
    except Exception:
        print(
            "influence-sim: internal error (please report it with the traceback below)",
            file=sys.stderr,
        )
        traceback.print_exc()
        return 1


#: Library argument names -> the flags that set them (per command where they differ).
FLAGS = {
    "actor": "--actor",
    "at": "--at",
    "baseline": "--baseline",
    "executor": "--executor",
    "measure": "--measure",
    "measures": "--measure",
    "point": "--point",
    "power": "--power",
    "replicates": "--replicates",
    "resume": "--resume",
    "scenario": "--scenario",
    "thresholds": "--threshold",
    "targets": "--targets",
    "waves": "--waves",
}


def _message(exc: Exception, command: str) -> str:
    """One line for a library error, with argument names shown as this CLI's flags."""
    if isinstance(exc, ArgumentError):
        flag = FLAGS.get(exc.argument, exc.argument)
        return str(type(exc)(exc.message, argument=flag, suggestion=exc.suggestion))
    if isinstance(exc, StoreError) and exc.remedy:
        return f"{exc} (use {FLAGS.get(exc.remedy, exc.remedy)})"
    return safe_text(str(exc))


def _dispatch(args: argparse.Namespace) -> int:
    match args.command:
        case "validate":
            return _validate(args.paths)
        case "run":
            return _run(args)
        case "batch":
            return _batch(args)
        case "sensitivity":
            return _sensitivity(args)
        case "discover":
            return _discover(args)
        case "calibrate":
            return _calibrate(args)
        case "score":
            return _score(args)
        case "compare":
            return _compare(args)
        case "explain":
            return _explain(args)
        case "plot":
            return _plot(args)
        case "report":
            return _report(args)
        case "params":
            return _params()
        case "verify":
            return _verify(args.results)
        case "app":
            return _app(args)
    raise AssertionError(args.command)  # pragma: no cover


def _validate(paths: list[str]) -> int:
    from ._io import read_toml
    from .core.scenario import load_scenario
    from .core.world import WORLD_SECTIONS, load_world
    from .errors import ScenarioError

    for raw in paths:
        path = Path(raw)
        # the one hardened reader (regular files only, size, nesting and syntax checked)
        top = read_toml(path, ScenarioError)
        # a file with [scenario] is a scenario; otherwise any world section makes it a world
        is_world = "scenario" not in top and bool(set(top) & WORLD_SECTIONS)
        if "targets" in top:
            from .core.targets import load_targets

            t = load_targets(path)
            kinds: dict[str, int] = {}
            for tg in t.targets:
                kinds[tg.kind] = kinds.get(tg.kind, 0) + 1
            print(
                f"{path}: ok (targets '{t.name}': {len(t.targets)} on world '{t.world.name}': "
                + ", ".join(f"{n} {k}" for k, n in kinds.items())
                + ")"
            )
        elif "experiment" in top:
            from .experiment.budget import check_memory
            from .experiment.design import load_experiment

            e = load_experiment(path)
            check_memory(e, os.cpu_count() or 1)
            u = e.uncertainty
            sens = (
                f"; uncertainty: {len(u.space.names)} inputs, {len(u.outcomes)} outcomes, "
                f"{len(u.conclusions)} conclusions"
                if u is not None
                else ""
            )
            print(
                f"{path}: ok (experiment '{e.name}': {len(e.scenarios)} scenarios x "
                f"{len(e.points)} point(s) x {e.replicates} replicates, {len(e.tasks())} "
                f"chunks{sens})"
            )
        elif is_world:
            w = load_world(path)
            print(
                f"{path}: ok (world '{w.name}': {len(w.powers)} powers, {len(w.states)} "
                f"states, {len(w.factions)} factions, {len(w.institutions)} institutions)"
            )
        else:
            s = load_scenario(path)
            print(
                f"{path}: ok (scenario '{s.name}': {len(s.events)} events, {s.steps} steps "
                f"of {s.step_days} day(s) from {s.start}, world '{s.world.name}')"
            )
    return 0


def _simulate(path: str, args: argparse.Namespace, desc: str | None = None):
    from .core.scenario import load_scenario
    from .experiment.run import simulate

    scen = load_scenario(path)
    return simulate(
        scen,
        replicates=args.replicates,
        rng=args.seed,
        every=args.every,
        factions=args.factions,
        progress=None if args.quiet else (desc or scen.name),
    )


def _run(args: argparse.Namespace) -> int:
    if args.out is not None:  # refuse a folder it may not replace before hours of work
        from .experiment.run import check_output

        check_output(args.out)
    from .core import fused

    if args.threads is not None:
        fused.set_threads(args.threads)
    fused.threads()  # a bad INFLUENCE_SIM_THREADS is reported before any work
    result = _simulate(args.scenario, args)
    s = result.scenario
    print(
        f"{s.title}\n{s.name}: {len(result.replicates)} replicates, seed {args.seed}, "
        f"{s.start} to {s.end} ({s.steps} steps of {s.step_days} day(s))\n"
    )
    print("Final alignment and balance per state: median [90% interval] across replicates")
    print(result.overview().to_string())
    rates = result.firing_rates()
    partial = rates[(rates > 0) & (rates < 1)]
    never = rates[rates == 0]
    if len(partial):
        print(
            "\nEvents that fired in only some replicates: "
            + ", ".join(f"{k} ({share_text(v)})" for k, v in partial.items())
        )
    if len(never):
        print("Events that never fired: " + ", ".join(never.index))
    if args.out is not None:
        out = result.write(args.out)
        print(f"\nWrote {out}/ (manifest.json, timeseries/, summary.csv, events.csv, votes.csv)")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from .experiment.batch import run_experiment
    from .experiment.design import load_experiment

    exp = load_experiment(args.experiment)
    if args.scheduler and args.executor != "dask":
        raise _InputError("--scheduler needs --executor dask")
    if args.inputs is not None:
        from .experiment.uncertainty import load_input_sample

        exp = exp.with_inputs(load_input_sample(args.inputs, exp.scenarios))
    rs = run_experiment(
        exp,
        args.out,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=not args.quiet,
    )
    for r in rs.repaired:
        print(f"Repaired: chunks/{r.file} was damaged ({r.problem}); its chunk ran again")
    print(
        f"{exp.title}\n{exp.name}: {len(exp.scenarios)} scenarios x {len(exp.points)} "
        f"point(s) x {exp.replicates} replicates, seed {exp.seed}; "
        f"{len(rs.done)} of {rs.n_chunks} chunks done in {args.out}"
    )
    if exp.inputs is not None:
        print(
            f"Inputs drawn per replicate from {exp.inputs.path}: {len(exp.inputs.X):,} points "
            f"of {len(exp.inputs.names)} inputs (replicate r takes point r mod "
            f"{len(exp.inputs.X):,})"
        )
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from .analysis.sensitivity import run_sensitivity
    from .experiment.design import load_experiment
    from .experiment.sweep import uncertainty_of

    exp = load_experiment(args.experiment)
    u = uncertainty_of(exp)
    if args.scheduler and args.executor != "dask":
        raise _InputError("--scheduler needs --executor dask")
    if args.inputs is not None:
        exp = _within(exp, args.inputs)
        u = uncertainty_of(exp)
    n = args.n or (20 if args.method == "morris" else 256)
    out = args.out or Path("results") / exp.name / "sensitivity" / args.method
    res = run_sensitivity(
        exp,
        out,
        method=args.method,
        n=n,
        levels=args.levels,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=not args.quiet,
    )
    figures = _sensitivity_figures(res)
    d = len(u.space.names)
    print(
        f"{exp.title}\n{exp.name}: {args.method} over {d} inputs, {len(res.run.X)} design "
        f"points x {u.replicates} replicates, seed {exp.seed}; store {out}\n"
    )
    print(res.table(args.top))
    print(f"\nWrote {out}/indices.csv, conclusions.csv and {len(figures)} figures in {out}/figures")
    return 0


def _within(exp: Experiment, inputs: Path) -> Experiment:
    """The experiment with the inputs an inputs CSV names bounded by its points' box."""
    from .experiment.sweep import uncertainty_of
    from .experiment.uncertainty import Space, load_input_sample

    u = uncertainty_of(exp)
    sample = load_input_sample(inputs, exp.scenarios)
    unknown = [n for n in sample.names if n not in u.space.names]
    if unknown:
        raise InputError(
            f"the experiment's [uncertainty] has no input '{unknown[0]}'",
            file=inputs,
            item="the header",
            field=unknown[0],
            suggestion=suggest(unknown[0], list(u.space.names)),
        )
    box = {
        n: (float(sample.X[:, j].min()), float(sample.X[:, j].max()))
        for j, n in enumerate(sample.names)
    }
    bounds = []
    for name, (lo, hi) in zip(u.space.names, u.space.bounds, strict=True):
        if name in box:
            lo, hi = box[name]
            if hi <= lo:  # all points share the value: a sliver around it
                hi = lo + 1e-9 * max(abs(lo), 1.0)
        bounds.append((lo, hi))
    space = Space(names=u.space.names, bounds=tuple(bounds))
    print(f"Inputs bounded by the {len(sample.X):,} points of {inputs} ({len(box)} inputs)")
    return replace(exp, uncertainty=replace(u, space=space))


def _sensitivity_figures(res: SensitivityRun) -> list[Path]:
    """One chart per outcome (Sobol' indices or Morris's mu*-sigma) in the store's figures/."""
    from ._io import atomic_file
    from .plots.sensitivity import morris_chart, sobol_chart

    folder = res.path / "figures"
    folder.mkdir(exist_ok=True)
    paths = []
    for o in res.run.outcomes:
        frame = res.of(o.name)
        chart = sobol_chart if res.method == "sobol" else morris_chart
        fig = chart(frame, title=f"{o.name}: {o.text}").get_figure(root=True)
        assert fig is not None
        path = folder / f"{res.method}_{o.name}.png"
        with atomic_file(path) as tmp:
            fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        paths.append(path)
    return paths


def _discover(args: argparse.Namespace) -> int:
    from .analysis.discovery import discover

    d = discover(
        args.results,
        args.conclusion,
        where="holds" if args.holds else "fails",
        min_coverage=args.min_coverage,
    )
    from ._io import atomic_file
    from .plots import discovery_panels

    fig = discovery_panels(d.discovery, d.space, title=f"Where {d.conclusion} {d.where}")
    png = d.path.with_suffix(".png")
    with atomic_file(png) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    print(d.describe())
    print(f"\nWrote {d.path} and {png.name}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from .analysis.calibration import history_match
    from .core.targets import load_targets
    from .experiment.design import load_experiment

    exp = load_experiment(args.experiment)
    targets = load_targets(args.targets)
    if args.scheduler and args.executor != "dask":
        raise _InputError("--scheduler needs --executor dask")
    if not args.cutoff > 0:
        raise _InputError(f"--cutoff must be positive, got {args.cutoff}")
    if not args.discrepancy >= 0:
        raise _InputError(f"--discrepancy is an sd: >= 0, got {args.discrepancy}")
    if not 0 <= args.abc < 1:
        raise _InputError(f"--abc is a share in [0, 1), got {args.abc}")
    out = args.out or Path("results") / exp.name / "calibration"
    res = history_match(
        exp,
        targets,
        out,
        waves=args.waves,
        points=args.points,
        cutoff=args.cutoff,
        rank=args.rank,
        discrepancy=args.discrepancy,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=not args.quiet,
        emulator=args.emulator,
        candidates=args.candidates,
    )
    print(
        f"History matching of {exp.name} ({exp.baseline}) to {targets.name}: cutoff "
        f"{args.cutoff:g} on the {'largest' if args.rank == 1 else f'rank-{args.rank}'} "
        f"implausibility, discrepancy {args.discrepancy:g}\n"
    )
    print(res.describe())
    if args.abc > 0:
        from .analysis.calibration import abc_rejection

        abc = abc_rejection(
            res,
            exp,
            targets,
            accept=args.abc,
            discrepancy=args.discrepancy,
            cutoff=args.cutoff,
            rank=args.rank,
        )
        print()
        print(abc.describe())
    figures = _calibration_figures(res, args.cutoff)
    print(
        f"\nWrote {out}/history_match.json, non_implausible.csv ({len(res.survivors)} points; "
        f"`influence-sim batch EXPERIMENT --inputs {out}/non_implausible.csv` runs over them)"
        f"{', abc.json' if args.abc > 0 else ''} and {len(figures)} figures in {out}/figures"
    )
    return 0


def _calibration_figures(res: Any, cutoff: float) -> list[Path]:
    """The calibration's three figures, in its figures/ folder.

    The observations against the model before and after, implausibility by wave, and the
    pairwise shape of the survivors.
    """
    from ._io import atomic_file
    from .plots.evidence import calibration_intervals, implausibility_by_wave, pairwise_survivors

    folder = res.path / "figures"
    folder.mkdir(exist_ok=True)
    figs: dict[str, Any] = {
        "intervals.png": calibration_intervals(res.intervals).get_figure(root=True),
        "implausibility.png": implausibility_by_wave(res.implausibility, cutoff=cutoff).get_figure(
            root=True
        ),
        "pairwise.png": pairwise_survivors(res.survivors, res.constraint, prior=res.prior),
    }
    paths = []
    for name, fig in figs.items():
        with atomic_file(folder / name) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        paths.append(folder / name)
    return paths


def _score(args: argparse.Namespace) -> int:
    from .analysis.compare import write_csv
    from .analysis.scoring import score
    from .core.targets import load_targets
    from .experiment.store import load_results

    source: ResultSource = load_results(args.results)
    if args.scenario is not None and args.scenario not in source.scenarios:
        raise ArgumentError(
            f"no scenario {args.scenario!r}; one of {', '.join(source.scenarios)}",
            argument="scenario",
        )
    held = load_targets(args.targets)
    training = load_targets(args.training) if args.training else None
    res = score(source, held, training=training, scenario=args.scenario, alpha=args.alpha)
    from ._io import atomic_file
    from .plots import scores_chart

    written = []
    if not res.table.empty:
        table = res.table.assign(alpha=args.alpha)
        print(
            f"Scores against {held.name} ({len(table['target'].unique())} held-out level "
            f"targets); central {1 - args.alpha:.0%} intervals; lower scores are better\n"
        )
        print(table.drop(columns=["observable", "alpha"]).round(4).to_string(index=False))
        print()
        path = write_csv(table, args.results / "analysis" / "scores.csv")
        fig = scores_chart(res.table).get_figure(root=True)
        assert fig is not None
        png = path.with_suffix(".png")
        with atomic_file(png) as tmp:
            fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        written += [str(path), png.name]
    if not res.stances.empty:
        st = res.stances
        print(
            f"Roll-call stances ({st['target'].nunique()} held-out stance targets): the "
            "forecasters' probabilities; Brier and log scores, lower is better\n"
        )
        cols = ["target", "observed", "forecaster", "p_observed", "covers", "brier", "log_score"]
        print(st[cols].round(4).to_string(index=False))
        print()
        written.append(str(write_csv(st, args.results / "analysis" / "stance_scores.csv")))
    print(res.verdict())
    print(f"\nWrote {', '.join(written)}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .analysis.compare import OUTCOMES, compare, write_csv
    from .experiment.store import load_results

    rs = load_results(args.results)
    cmp = compare(
        rs,
        baseline=args.baseline,
        at=args.at,
        measures=args.measures or OUTCOMES,
        thresholds=args.threshold,
        n_boot=args.boot,
        seed=args.seed,
    )
    print(
        f"Paired effects against '{args.baseline or rs.baseline}' "
        f"({rs.n_replicates} paired replicates), biggest first: mean difference, "
        "95% bootstrap CI of the mean, share of replicates with a positive difference, "
        "effect size d = mean/sd\n"
    )
    for note in cmp.notes:
        print(f"Note: {note}")
    print(cmp.table(args.top))
    if len(cmp.effects) > args.top:
        print(f"... {len(cmp.effects) - args.top} more rows in the CSV")
    if not cmp.thresholds.empty:
        print("\nTime to threshold (balance):")
        print(cmp.threshold_table())
    out = args.results / "analysis"
    write_csv(cmp.effects, out / "effects.csv")
    write_csv(cmp.thresholds, out / "thresholds.csv")
    print(f"\nWrote {out}/effects.csv and {out}/thresholds.csv")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from .analysis.compare import write_csv
    from .analysis.explain import explain
    from .experiment.store import load_results

    rs = load_results(args.results)
    actor = _default_actor(rs, args.measure, args.actor)
    table, partial = explain(
        rs,
        scenario=args.scenario,
        measure=args.measure,
        actor=actor,
        power=args.power,
        at=args.at,
        point=args.point,
        replicates=args.replicates,
        n_boot=args.boot,
        seed=args.seed,
        progress=not args.quiet,
    )
    label = (actor or "region") + (f"/{args.power}" if args.power else "")
    when = f"on {args.at}" if args.at else "at the horizon"
    print(
        f"Contribution of each event to {args.measure} {label} {when}: the outcome with "
        "all events minus the outcome without the event, paired by replicate; "
        "mean [95% CI], share > 0\n"
    )
    for r in table.itertuples():
        if r.note:
            print(f"{r.event:28} {r.kind:17} {r.date:10} {r.note}")
            continue
        fired = "" if r.fired != r.fired else f"fired {share_text(r.fired):>5}"  # NaN: a total
        print(
            f"{r.event:28} {r.kind:17} {r.date:10} {r.mean:+8.4f} "
            f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}] {r.positive:5.0%}  {fired}"
        )
    if len(partial):
        print(
            "\nEvents that fired in only some replicates: "
            + ", ".join(f"{e} ({share_text(f)})" for e, f in partial.itertuples(index=False))
        )
    name = _explain_file(rs, args.scenario, args.measure, label, args.at)
    path = write_csv(table, args.results / "analysis" / name)
    print(f"\nWrote {path}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .analysis.compare import compare
    from .experiment.store import load_results
    from .plots import figure_set

    rs = load_results(args.results)
    figures = figure_set(rs, comparison=compare(rs))
    written = _save_figures(figures, args.out or args.results / "figures", svg=args.svg)
    print(
        f"Wrote {len(written)} files to {args.out or args.results / 'figures'}: "
        + ", ".join(p.name for p in written)
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from .analysis.compare import compare, write_csv
    from .analysis.explain import explain
    from .analysis.sensitivity import find_sensitivity
    from .experiment.store import load_results
    from .plots import figure_set
    from .report import build_report

    rs = load_results(args.results)
    cmp = compare(rs)
    sensitivity = find_sensitivity(args.results)
    actor = _default_actor(rs, args.measure, args.actor)
    contributions, partial = explain(
        rs, measure=args.measure, actor=actor, power=args.power, progress=not args.quiet
    )
    explained = {"measure": args.measure, "actor": actor or "region", "scenario": rs.baseline}
    if args.power:
        explained["power"] = args.power
    figures = figure_set(rs, comparison=cmp, contributions=contributions, explained=explained)
    written = _save_figures(figures, args.results / "figures", svg=False)
    label = (actor or "region") + (f"/{args.power}" if args.power else "")
    path = build_report(
        rs,
        comparison=cmp,
        contributions=contributions,
        partial=partial,
        explained=f"{args.measure} {label} at the horizon, baseline",
        figures=figures,
        out=args.out,
        sensitivity=sensitivity,
    )
    analysis = args.results / "analysis"
    write_csv(cmp.effects, analysis / "effects.csv")
    write_csv(cmp.thresholds, analysis / "thresholds.csv")
    write_csv(contributions, analysis / _explain_file(rs, None, args.measure, label, None))
    print(
        f"Wrote {len(written)} figures to {args.results / 'figures'} and the tables to {analysis}"
    )
    print(f"Report: {path.resolve()}")
    return 0


def share_text(share: float) -> str:
    """A share as a percentage, with enough digits that only 0 and 1 print as 0% and 100%."""
    for digits in range(6):
        text = f"{share:.{digits}%}"
        if (share <= 0 or float(text[:-1]) > 0) and (share >= 1 or float(text[:-1]) < 100):
            return text
    return f"{share:.6%}"


def _default_actor(rs: ResultSet, measure: str, actor: str | None) -> str | None:
    """The actor given, else the first state the scenarios' events name (None: region-wide)."""
    from .core.measures import measure as measure_spec

    try:
        spec = measure_spec(measure)
    except ArgumentError:
        return actor  # explain reports the unknown measure
    if actor is not None or spec.kind is None:
        return actor
    return rs.focus_states()[0] if spec.kind == "state" else None


def _explain_file(
    rs: ResultSet, scenario: str | None, measure: str, label: str, at: date | None
) -> str:
    """File name of an attribution table: scenario, outcome and the outcome's date."""
    when = at or rs.end_date
    return f"explain_{scenario or 'baseline'}_{measure}_{label.replace('/', '-')}_{when}.csv"


def _save_figures(figures: dict, folder: Path, *, svg: bool) -> list[Path]:
    from ._io import atomic_file

    written = []
    for name, fig in figures.items():
        for fmt in ("png", "svg") if svg else ("png",):
            path = folder / f"{name}.{fmt}"
            with atomic_file(path) as tmp:
                fig.savefig(tmp, format=fmt, dpi=130)
            written.append(path)
    return written


def _verify(path: Path) -> int:
    from .experiment.store import verify_store
    from .experiment.sweep import is_design_run, verify_design_run

    report = verify_design_run(path) if is_design_run(path) else verify_store(path)
    for line in report.lines():
        print(line)
    return 0 if report.healthy else 2


def _params() -> int:
    from .params import parameters

    for p in parameters().values():
        rng = f"[{p.low:g}, {p.high:g}]" if p.numeric else " | ".join(p.choices or ())
        print(f"{p.name:24} {p.default!s:>10}  {rng:16} {p.unit}\n{'':24} {p.meaning}")
    return 0


def _app(args: argparse.Namespace) -> int:
    """Serve the app (``influence_sim.app.pages``) with Solara until interrupted.

    The app layer sits above this one (docs/architecture.md), so it is not imported here:
    Solara's server loads it by module name, and reads its settings from the environment
    (``influence_sim/app/config.py`` lists the variables).
    """
    import importlib.util
    import socket

    if importlib.util.find_spec("solara") is None or importlib.util.find_spec("uvicorn") is None:
        raise _InputError(
            "the app needs Solara, an optional extra: pip install 'influence-sim[app]'"
        )
    env = {"INFLUENCE_SIM_APP_REPLICATES": str(args.replicates)}
    env["INFLUENCE_SIM_APP_SEED"] = str(args.seed)
    urls = [("explore", "")]
    if args.target is not None:
        target = Path(args.target)
        if target.is_dir():
            from .experiment.store import load_results

            load_results(target)  # a damaged or foreign folder: one line, exit 2
            env["INFLUENCE_SIM_APP_STORE"] = str(target.resolve())
            urls.append(("results store", "store"))
        elif target.is_file():
            from .core.scenario import load_scenario

            load_scenario(target)  # a bad scenario: one line naming file, item and field
            env["INFLUENCE_SIM_APP_SCENARIO"] = str(target.resolve())
        else:
            raise _InputError(f"{target}: no such scenario file or results store folder")
    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            sock.bind((args.host, args.port))
        except OSError as exc:
            raise _InputError(
                f"cannot serve on {args.host}:{args.port} ({exc.strerror}); choose another --port"
            ) from None
        port = sock.getsockname()[1]
    # Solara reads its settings when its server is imported: no telemetry; its front-end
    # files come from the solara-assets package (the [app] extra), so nothing is fetched
    env |= {
        "SOLARA_APP": "influence_sim.app.pages",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SERVER_NAME": args.host,
        "SERVER_PORT": str(port),
    }
    os.environ.update(env)
    import uvicorn

    host = f"[{args.host}]" if ":" in args.host else args.host

    class _Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                for what, route in urls:
                    print(f"influence-sim app ({what}): http://{host}:{port}/{route}", flush=True)
                print("Press Ctrl-C to stop.", flush=True)

    config = uvicorn.Config(
        "solara.server.starlette:app", host=args.host, port=port, log_level="warning"
    )
    _Server(config).run()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
