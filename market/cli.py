"""The ``market`` command: run experiments and inspect scenarios.

Examples::

    market run market_shares                       # the built-in default scenario
    market run market_shares --scenario my.toml --out results/mine
    market run market_shares --set platforms.mosaic.tau=0.2 --set users.elasticity=5
    market show-scenario > my.toml                 # the default, as an editable file
"""

import argparse
import logging
import sys
import tomllib

from experiments import market_shares
from experiments.output import OutputError
from market.scenario import ScenarioError, default_scenario, dump_scenario, load_scenario

__all__ = ["main"]

EXPERIMENTS = {"market_shares": market_shares}
PROJECT_PACKAGES = ("market", "agents", "experiments")


def main(argv=None):
    """Parse ``argv`` and run the chosen command; return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # --verbose opens this project's loggers only; Mesa logs every agent it registers.
    for package in PROJECT_PACKAGES:
        logging.getLogger(package).setLevel(logging.DEBUG if arguments.verbose else logging.INFO)
    try:
        return arguments.handler(arguments)
    except (ScenarioError, OutputError) as error:
        print(f"market: error: {error}", file=sys.stderr)
        return 2


def build_parser():
    """Return the argument parser of the ``market`` command."""
    parser = argparse.ArgumentParser(prog="market", description="Simulate advertising markets around LLM chatbots.")
    parser.add_argument("--verbose", action="store_true", help="log progress details at DEBUG level")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run an experiment and write its results")
    run.add_argument("experiment", choices=sorted(EXPERIMENTS), help="experiment to run")
    add_scenario_arguments(run)
    run.add_argument("--quick", action="store_true",
                     help="reduced size that finishes in seconds: 1,000 users and 10 rounds")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    for module in EXPERIMENTS.values():
        module.add_arguments(run)
    run.set_defaults(handler=run_experiment)

    show = commands.add_parser("show-scenario", help="print the resolved scenario as TOML")
    add_scenario_arguments(show)
    show.set_defaults(handler=show_scenario)
    return parser


def add_scenario_arguments(parser):
    parser.add_argument("--scenario", metavar="FILE", help="scenario TOML file (default: the built-in default)")
    parser.add_argument("--seed", type=int, help="seed of the run (overrides the scenario's seed)")
    parser.add_argument("--rounds", type=int, help="rounds (weeks) to simulate")
    parser.add_argument("--users", type=int, help="number of users")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one scenario key, e.g. users.elasticity=2 or platforms.mosaic.tau=0.1")


def resolve_scenario(arguments, quick=False):
    """Build the scenario from the file, --quick, the shorthand flags and --set, in that order."""
    scenario = load_scenario(arguments.scenario) if arguments.scenario else default_scenario()
    overrides = dict(market_shares.QUICK) if quick else {}
    for key, flag in (("seed", "seed"), ("rounds", "rounds"), ("users.count", "users")):
        value = getattr(arguments, flag)
        if value is not None:
            overrides[key] = value
    for assignment in arguments.set:
        key, value = parse_assignment(assignment)
        overrides[key] = value
    return scenario.with_overrides(overrides) if overrides else scenario


def parse_assignment(text):
    """Split ``KEY=VALUE``; VALUE is read as a TOML value, or else taken as a plain string."""
    key, separator, raw = text.partition("=")
    if not separator or not key.strip():
        raise ScenarioError(f"--set {text!r} must have the form KEY=VALUE, e.g. users.elasticity=2.0")
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def run_experiment(arguments):
    module = EXPERIMENTS[arguments.experiment]
    scenario = resolve_scenario(arguments, quick=arguments.quick)
    summary = module.run(scenario, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)
    module.print_table(summary)
    print(f"results written to {arguments.out}/")
    return 130 if summary["interrupted"] else 0


def show_scenario(arguments):
    print(dump_scenario(resolve_scenario(arguments)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
