"""The ``market`` command: run experiments and inspect scenarios.

Examples::

    market run market_shares                       # the built-in default scenario
    market run market_shares --scenario my.toml --out results/mine
    market run market_shares --set platforms.mosaic.tau=0.2 --set users.elasticity=5
    market show-scenario > my.toml                 # the default, as an editable file
    market sweep my_sweep.toml --backend processes # a parameter sweep, one Parquet file per run
"""

import argparse
import logging
import sys

import experiments
from experiments.options import add_scenario_arguments, resolve_scenario
from experiments.output import OutputError
from market import allocator, parallel
from market.scenario import ScenarioError, dump_scenario
from market.sweeps import command as sweep_command

__all__ = ["main"]

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
        allocator.requested()
        parallel.thread_count()
    except ValueError as error:
        print(f"market: error: {error}", file=sys.stderr)
        return 2
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
    studies = run.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    for name in experiments.NAMES:
        module = experiments.load(name)
        study = studies.add_parser(name, help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(study)
        study.set_defaults(handler=run_experiment, module=module)

    sweep = commands.add_parser("sweep", help="run a parameter sweep file over seeds on a backend",
                                description=sweep_command.DESCRIPTION)
    sweep_command.add_arguments(sweep)
    sweep.set_defaults(handler=sweep_command.execute)

    show = commands.add_parser("show-scenario", help="print the resolved scenario as TOML")
    add_scenario_arguments(show)
    show.set_defaults(handler=show_scenario)
    return parser


def run_experiment(arguments):
    summary = arguments.module.execute(arguments)
    arguments.module.print_table(summary)
    print(f"results written to {arguments.out}/")
    return 130 if summary.get("interrupted") else 0


def show_scenario(arguments):
    print(dump_scenario(resolve_scenario(arguments)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
