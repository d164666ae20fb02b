"""`telemart bench pacing`: run a strategy (or every built-in) through a simulated shift.

The lead's CLI calls `register(bench_subparsers)`; `python -m cli.bench.pacing pacing ...`
works on its own. The last line printed is always one JSON document.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
from collections.abc import Sequence

from dialer.core.pacing.registry import BUILT_IN, load_strategy
from dialer.errors import DialerError
from dialer.sim.results import ShiftResult
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import simulate

COMPARE_COLUMNS = (
    ("strategy", "{:<12}"), ("dials", "{:>8}"), ("live_answers", "{:>8}"),
    ("abandon_rate", "{:>8.4f}"), ("worst_hour_abandon_rate", "{:>8}"),
    ("occupancy", "{:>6.3f}"), ("bound_ratio", "{:>6.3f}"),
    ("connect_wait_p99_s", "{:>6.2f}"), ("wall_seconds", "{:>6.2f}"),
)


def run_one(
    scenario_ref: str, strategy_ref: str, seed: int | None, hours: float | None = None
) -> ShiftResult:
    scenario = load_scenario(scenario_ref).first_hours(hours)
    strategy = load_strategy(strategy_ref, scenario.pacing_settings())
    return simulate(scenario, strategy, seed=scenario.seed if seed is None else seed)


def _summary(result: ShiftResult) -> str:
    worst = result.worst_hour_abandon_rate
    return "\n".join((
        f"scenario {result.scenario}  strategy {result.strategy}  seed {result.seed}  "
        f"agents {result.agents}",
        f"  dials {result.dials}  live answers {result.live_answers}  "
        f"abandoned {result.abandoned} ({result.abandon_rate:.2%}; worst hour "
        f"{'n/a' if worst is None else f'{worst:.2%}'})",
        f"  occupancy {result.occupancy:.1%} (talk {result.talk_occupancy:.1%})  "
        f"contacts/agent-hour {result.contacts_per_agent_hour:.2f} of "
        f"{result.contacts_bound:.2f} ({result.bound_ratio:.1%})",
        f"  answer-to-agent p50 {result.connect_wait_p50_s:.2f} s  "
        f"p99 {result.connect_wait_p99_s:.2f} s  dials held by the cap {result.refused_dials}",
        f"  {result.sim_seconds:.0f} s simulated in {result.wall_seconds:.2f} s",
    ))


def _row(result: ShiftResult) -> str:
    data = result.as_json()
    cells = []
    for key, fmt in COMPARE_COLUMNS:
        value = data[key]
        cells.append(fmt.format("n/a" if value is None else value))
    return " ".join(cells)


MEDIAN_FIELDS = (
    "dials", "live_answers", "abandoned", "abandon_rate", "worst_hour_abandon_rate",
    "occupancy", "talk_occupancy", "contacts_per_agent_hour", "bound_ratio",
    "connect_wait_p50_s", "connect_wait_p99_s", "wall_seconds",
)  # fmt: skip


def parse_seeds(text: str) -> list[int]:
    """`1-5` or `1,2,7`."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            seeds.extend(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds look like 1-5 or 1,2,7, not {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("no seeds")
    return seeds


def over_seeds(
    scenario_ref: str, strategy_ref: str, seeds: Sequence[int], hours: float | None = None
) -> dict[str, object]:
    """One strategy on one scenario for several seeds: medians, and the worst abandon rate
    (the cap must hold in every run, not only in the median one)."""
    results = [run_one(scenario_ref, strategy_ref, seed, hours) for seed in seeds]
    first = results[0]
    return {
        "scenario": first.scenario, "strategy": first.strategy, "seeds": list(seeds),
        "agents": first.agents,
        "median": {f: round(median_of(results, f), 5) for f in MEDIAN_FIELDS},
        "max_abandon_rate": max(r.abandon_rate for r in results),
        "runs": [r.as_json() for r in results],
    }  # fmt: skip


def run_pacing(args: argparse.Namespace) -> int:
    try:
        if args.seeds:
            names = list(BUILT_IN) if args.compare else [args.strategy]
            summaries = [over_seeds(args.scenario, name, args.seeds, args.hours)
                         for name in names]
            if not args.json:
                for summary in summaries:
                    median = summary["median"]
                    assert isinstance(median, dict)
                    print(
                        f"{summary['strategy']:<12} median of seeds {args.seeds[0]}.."
                        f"{args.seeds[-1]}: abandon {median['abandon_rate']:.2%} "
                        f"(worst run {summary['max_abandon_rate']:.2%}), occupancy "
                        f"{median['occupancy']:.1%}, bound ratio {median['bound_ratio']:.3f}"
                    )
            print(json.dumps(summaries[0] if len(summaries) == 1 else summaries))
            return 0
        if args.compare:
            results = [run_one(args.scenario, name, args.seed, args.hours) for name in BUILT_IN]
            if not args.json:
                print(" ".join(fmt.format(key[:8]) if "f}" not in fmt else f"{key[:6]:>6}"
                               for key, fmt in COMPARE_COLUMNS))
                for result in results:
                    print(_row(result))
            print(json.dumps([r.as_json() for r in results]))
            return 0
        runs = [run_one(args.scenario, args.strategy, args.seed, args.hours)
                for _ in range(args.runs)]
    except DialerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = runs[0]
    out = result.as_json()
    if args.runs > 1:  # the same shift again: only the wall time differs
        walls = [r.wall_seconds for r in runs]
        out["wall_seconds"] = round(statistics.median(walls), 5)
        out["wall_seconds_runs"] = [round(w, 5) for w in walls]
        result = dataclasses.replace(result, wall_seconds=statistics.median(walls))
    load = [round(x, 2) for x in os.getloadavg()]
    out["load_average"] = load
    if not args.json:
        print(_summary(result))
        if args.runs > 1:
            print(f"  median wall time of {args.runs} runs; load average "
                  f"{' '.join(str(x) for x in load)}")
    print(json.dumps(out))
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number >= 1, not {text!r}")
    return value


def positive_hours(text: str) -> float:
    """`--hours`: a number of hours above 0 (fractions allowed), at most a day."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value <= 24.0:
        raise argparse.ArgumentTypeError(f"hours between 0 and 24, not {text!r}")
    return value


def register(bench_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = bench_subparsers.add_parser(
        "pacing", help="simulate a shift and measure a pacing strategy",
        description="Simulate a shift from a scenario file and measure a pacing strategy.")
    parser.add_argument("--scenario", required=True,
                        help="a scenario TOML file, or a bundled name such as steady-50")
    parser.add_argument("--strategy", default="predictive",
                        help=f"{', '.join(BUILT_IN)}, or module:Class (default predictive)")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: the scenario's own)")
    parser.add_argument("--seeds", type=parse_seeds, default=None,
                        help="several seeds, e.g. 1-5: prints medians and the worst run")
    parser.add_argument("--runs", type=_positive, default=1,
                        help="run the same shift N times and report the median wall time")
    parser.add_argument("--hours", type=positive_hours, default=None,
                        help="cut the shift to its first hours (default: the whole shift)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--compare", action="store_true",
                        help="run every built-in strategy and print a table")
    parser.set_defaults(func=run_pacing)


def median_of(results: Sequence[ShiftResult], field: str) -> float:
    return statistics.median(float(getattr(r, field) or 0.0) for r in results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.bench.pacing")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
