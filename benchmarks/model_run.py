"""Time one market run in a fresh process and print its figures as JSON.

``python -m benchmarks.model_run --users N --rounds R`` runs the default
scenario with N users for R rounds. It prints the set-up time, the wall and
CPU time of every round, and the peak resident set size of this process
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes the Python
interpreter and the imported libraries). `benchmarks.run` starts one such
process per measurement, so that each peak belongs to one run alone.
"""

import argparse
import json
import resource
import sys
import time

from market.model import MarketModel
from market.scenario import default_scenario

__all__ = ["measure"]


def measure(users, rounds, seed=None):
    """Run the default scenario with ``users`` users for ``rounds`` rounds; return its timings and peak memory."""
    overrides = {"users.count": users, "rounds": rounds}
    if seed is not None:
        overrides["seed"] = seed
    scenario = default_scenario().with_overrides(overrides)

    started = time.perf_counter()
    model = MarketModel(scenario=scenario)
    setup_seconds = time.perf_counter() - started

    wall, cpu = [], []
    for _ in range(rounds):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        model.step()
        wall.append(time.perf_counter() - wall_start)
        cpu.append(time.process_time() - cpu_start)

    # Linux reports ru_maxrss in KiB.
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "users": users,
        "rounds": rounds,
        "setup_seconds": setup_seconds,
        "total_seconds": setup_seconds + sum(wall),
        "round_wall_seconds": wall,
        "round_cpu_seconds": cpu,
        "peak_rss_mib": peak_kib / 1024,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, required=True, help="number of users")
    parser.add_argument("--rounds", type=int, required=True, help="rounds to run")
    parser.add_argument("--seed", type=int, help="seed (default: the default scenario's)")
    arguments = parser.parse_args(argv)
    json.dump(measure(arguments.users, arguments.rounds, arguments.seed), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
