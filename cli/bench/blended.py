"""`telemart bench blended --scenario broadcast-peak`: one team, one shift with broadcasts,
three ways of sharing the agents between the order line and the outbound campaign, in the
same run (dialer/inbound/simulate.py):

- blended: the hold plan keeps just enough skilled agents off outbound, ahead of airtime,
  from the schedule's expected arrivals (Erlang A) and the agents' outbound talk so far;
- no_dial_while_waiting: VICIdial's blending, no outbound dial while any inbound call waits;
- split_teams: a fixed inbound team sized for the peak, the others on outbound only.

Each strategy runs on the same seeds; medians are printed. The last line is one JSON
object: {"scenario", "seeds", "strategies": {name: {...}}}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence

from cli.bench.pacing import parse_seeds
from dialer.errors import DialerError
from dialer.inbound.blending import STRATEGIES
from dialer.inbound.simulate import BlendResult, load_inbound_scenario, simulate_blended

KEYS = (
    "service_level_worst_interval",
    "service_level",
    "asa_s",
    "queue_abandon_rate",
    "outbound_contacts_per_agent_hour",
    "outbound_abandon_rate",
)
EXTRA = (
    "inbound_offered",
    "ars_orders",
    "callbacks",
    "callbacks_pending_at_end",
    "outbound_dials",
    "outbound_connected",
    "idle_agent_hours",
    "held_idle_agent_hours",
)


def medians(results: Sequence[BlendResult]) -> dict[str, float]:
    out = {}
    for key in (*KEYS, *EXTRA):
        out[key] = round(statistics.median(float(getattr(r, key)) for r in results), 4)
    return out


def run_blended(args: argparse.Namespace) -> int:
    try:
        scenario = load_inbound_scenario(args.scenario)
    except DialerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seeds = args.seeds or [1, 2, 3]
    strategies: dict[str, dict[str, float]] = {}
    for name in STRATEGIES:
        started = time.perf_counter()
        results = [simulate_blended(scenario, name, seed=s) for s in seeds]
        strategies[name] = medians(results)
        if not args.json:
            m = strategies[name]
            worst = [round(r.service_level_worst_interval, 3) for r in results]
            contacts = [round(r.outbound_contacts_per_agent_hour, 3) for r in results]
            print(
                f"{name:<22} SL {m['service_level']:.1%} (worst interval by seed {worst})  "
                f"ASA {m['asa_s']:.1f} s  queue abandons {m['queue_abandon_rate']:.1%}  "
                f"outbound {m['outbound_contacts_per_agent_hour']:.2f}/agent-hour (by seed "
                f"{contacts}), abandons {m['outbound_abandon_rate']:.2%}  idle "
                f"{m['idle_agent_hours']:.1f} agent-hours ({m['held_idle_agent_hours']:.1f} "
                f"held)  "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    print(
        json.dumps({"scenario": scenario.outbound.name, "seeds": seeds, "strategies": strategies})
    )
    return 0


def register(bench_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = bench_subparsers.add_parser(
        "blended",
        help="blended agents: inbound peaks and outbound on one team",
        description="Simulate a shift with broadcasts under three blending strategies.",
    )
    parser.add_argument(
        "--scenario",
        default="broadcast-peak",
        help="a blended scenario TOML file or bundled name (broadcast-peak)",
    )
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=None,
        help="seeds, e.g. 1-3 (default); medians are reported",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.set_defaults(func=run_blended)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.bench.blended")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
