"""Command-line options shared by the experiments, and scenario resolution."""

import tomllib

from market.scenario import ScenarioError, default_scenario, load_scenario

__all__ = [
    "add_backend_arguments",
    "add_output_arguments",
    "add_scenario_arguments",
    "parse_assignment",
    "resolve_scenario",
]


def add_output_arguments(parser, default_out):
    """Add --out, --overwrite, --quick and --no-progress to an experiment's parser."""
    parser.add_argument("--out", default=default_out, help=f"output folder (default: {default_out})")
    parser.add_argument("--overwrite", action="store_true", help="replace results already in the output folder")
    parser.add_argument("--quick", action="store_true", help="reduced size that finishes in seconds (used by the tests)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_backend_arguments(parser):
    """Add --backend, --workers and --scheduler, which choose where a multi-run experiment's runs execute."""
    parser.add_argument("--backend", choices=("serial", "processes", "dask"), default="serial",
                        help="where the runs execute; every backend gives the same results (default: serial)")
    parser.add_argument("--workers", type=int, help="worker processes of the processes or dask backend")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="address of an existing dask scheduler")


def add_scenario_arguments(parser):
    """Add --scenario, --seed, --rounds, --users and --set to a parser."""
    parser.add_argument("--scenario", metavar="FILE", help="scenario TOML file (default: the built-in default)")
    parser.add_argument("--seed", type=int, help="seed of the run (overrides the scenario's seed)")
    parser.add_argument("--rounds", type=int, help="rounds (weeks) to simulate")
    parser.add_argument("--users", type=int, help="number of users")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one scenario key, e.g. users.elasticity=2 or platforms.mosaic.tau=0.1")


def resolve_scenario(arguments, quick_overrides=None):
    """Build the scenario from the file, the quick overrides, the shorthand flags and --set, in that order."""
    scenario = load_scenario(arguments.scenario) if arguments.scenario else default_scenario()
    overrides = dict(quick_overrides or {})
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
