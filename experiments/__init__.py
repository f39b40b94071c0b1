"""Experiments: each module runs one study and writes CSV, PNG figures and summary.json.

Every module provides ``DESCRIPTION``, ``add_arguments(parser)``,
``execute(arguments) -> summary`` and ``print_table(summary)``, and runs as
``market run NAME`` or ``python -m experiments.NAME``.
"""

import importlib

__all__ = ["NAMES", "load"]

NAMES = ("market_shares", "convergence", "truthfulness", "tau_region", "user_exit", "relevance_weight", "inference_cost", "chain", "output_variance", "attribution", "incumbency", "adversarial")


def load(name):
    """Import and return the experiment module ``name``."""
    if name not in NAMES:
        raise ValueError(f"unknown experiment {name!r}; choose one of: {', '.join(NAMES)}")
    return importlib.import_module(f"experiments.{name}")
