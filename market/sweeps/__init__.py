"""Parameter sweeps: many seeded market runs, in parallel, written one file per run and resumable.

See `market.sweeps.spec` for the sweep file, `market.sweeps.backends` for
where runs execute, and `market.sweeps.store` for the output folder.
"""

from market.sweeps.backends import BACKENDS, Outcome, map_runs
from market.sweeps.runner import SweepInterrupted, SweepReport, run_sweep, simulate
from market.sweeps.spec import SweepError, SweepRun, SweepSpec, load_sweep, point_seeds, sweep_from_dict
from market.sweeps.store import RunStore, load_table

__all__ = [
    "BACKENDS",
    "Outcome",
    "RunStore",
    "SweepError",
    "SweepInterrupted",
    "SweepReport",
    "SweepRun",
    "SweepSpec",
    "load_sweep",
    "load_table",
    "map_runs",
    "point_seeds",
    "run_sweep",
    "simulate",
    "sweep_from_dict",
]
