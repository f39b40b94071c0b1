"""Profile the default scenario with pyinstrument and print where the time goes.

``python -m benchmarks.profile [--rounds 10] [--users 10000]`` needs the
``bench`` extra (pyinstrument). It writes the call tree to
``results/profile.txt`` as well as printing it.
"""

import argparse
import sys
from pathlib import Path

from market.model import MarketModel
from market.scenario import default_scenario

__all__ = ["main"]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Profile the default scenario's rounds with pyinstrument.")
    parser.add_argument("--rounds", type=int, default=10, help="rounds to profile (default 10)")
    parser.add_argument("--users", type=int, default=10_000, help="number of users (default 10,000)")
    parser.add_argument("--out", default="results/profile.txt", help="text file for the call tree")
    arguments = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("benchmarks.profile needs pyinstrument; install the bench extra: pip install -e \".[bench]\"",
              file=sys.stderr)
        return 2

    scenario = default_scenario().with_overrides({"users.count": arguments.users, "rounds": arguments.rounds})
    profiler = Profiler()
    with profiler:
        model = MarketModel(scenario=scenario)
        for _ in range(arguments.rounds):
            model.step()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"call tree written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
