"""The ``influence-sim`` command: a thin layer over the library.

Exit status: 0 on success, 2 on bad input (one message naming file, item and field; no
traceback), 1 on an internal error.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from .errors import ScenarioError

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="influence-sim",
        description="Agent-based simulation of great-power competition for influence.",
    )
    parser.add_argument("--version", action="version", version=f"influence-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario and world files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario or world TOML files")

    p = sub.add_parser("run", help="run one scenario's replicates and write the results")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    _run_options(p)

    p = sub.add_parser(
        "counterfactuals",
        help="run a baseline and its counterfactuals with paired replicates; print differences",
    )
    p.add_argument("baseline", metavar="BASELINE", help="baseline scenario TOML file")
    p.add_argument("others", nargs="+", metavar="SCENARIO", help="counterfactual scenario files")
    p.add_argument(
        "--at",
        type=_date,
        action="append",
        default=[],
        metavar="DATE",
        help="also compare at this date (YYYY-MM-DD; repeatable)",
    )
    _run_options(p)

    sub.add_parser("params", help="list the documented parameters with defaults and ranges")
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad usage, 0 for --help
        return int(exc.code or 0)
    try:
        return _dispatch(args)
    except (ScenarioError, _InputError) as exc:
        print(f"influence-sim: error: {exc}", file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(f"influence-sim: error: {exc}", file=sys.stderr)
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


def _dispatch(args: argparse.Namespace) -> int:
    match args.command:
        case "validate":
            return _validate(args.paths)
        case "run":
            return _run(args)
        case "counterfactuals":
            return _counterfactuals(args)
        case "params":
            return _params()
    raise AssertionError(args.command)  # pragma: no cover


def _validate(paths: list[str]) -> int:
    import tomllib

    from .scenario import load_scenario
    from .world import WORLD_SECTIONS, load_world

    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise _InputError(f"{path}: file not found")
        try:
            top = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            top = {}  # the scenario loader reports the syntax error
        # a file with [scenario] is a scenario; otherwise any world section makes it a world
        is_world = "scenario" not in top and bool(set(top) & WORLD_SECTIONS)
        if is_world:
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
    from .scenario import load_scenario
    from .simulate import simulate

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
            + ", ".join(f"{k} ({v:.0%})" for k, v in partial.items())
        )
    if len(never):
        print("Events that never fired: " + ", ".join(never.index))
    if args.out is not None:
        out = result.write(args.out)
        print(f"\nWrote {out}/ (manifest.json, timeseries/, summary.csv, events.csv)")
    return 0


def _counterfactuals(args: argparse.Namespace) -> int:
    from .compare import paired_differences
    from .results import atomic_file

    base = _simulate(args.baseline, args, desc="baseline")
    others = [_simulate(p, args, desc=Path(p).stem) for p in args.others]
    names = [base.scenario.name, *(o.scenario.name for o in others)]
    if len(set(names)) != len(names):
        raise _InputError("scenario names must be distinct; got " + ", ".join(names))
    s = base.scenario
    print(
        f"\nBaseline {s.name}: {len(base.replicates)} replicates, seed {args.seed}, "
        f"horizon {s.end}\n"
    )
    print("Baseline: final alignment and balance per state, median [90% interval]")
    print(base.overview().to_string())
    try:
        diffs = paired_differences(base, others, at=args.at)
    except ValueError as exc:
        raise _InputError(str(exc)) from None
    for when, part in diffs.groupby("date", sort=True):
        print(
            f"\nCounterfactual minus baseline: balance ({'-'.join(s.world.balance)}) on "
            f"{when}, paired by replicate: mean [90% interval of the differences]"
        )
        print(
            part.pivot(index="scenario", columns="actor", values="text")
            .reindex(columns=[*s.world.state_ids, "region"])
            .to_string()
        )
    if args.out is not None:
        out = Path(args.out)
        for res in (base, *others):
            res.write(out / res.scenario.name)
        with atomic_file(out / "differences.csv") as tmp:
            diffs.drop(columns="text").to_csv(tmp, index=False)
        figs = _figures(base, others, out / "figures")
        print(
            f"\nWrote {out}/: one run directory per scenario, differences.csv, "
            f"figures/ ({', '.join(f.name for f in figs)})"
        )
    return 0


def _figures(base, others, folder: Path) -> list[Path]:
    from .plots import balance_panels
    from .results import atomic_file

    fig = balance_panels(base, others)
    path = folder / "balance_by_state.png"
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    return [path]


def _params() -> int:
    from .params import parameters

    for p in parameters().values():
        rng = f"[{p.low:g}, {p.high:g}]" if p.numeric else " | ".join(p.choices or ())
        print(f"{p.name:24} {p.default!s:>10}  {rng:16} {p.unit}\n{'':24} {p.meaning}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
