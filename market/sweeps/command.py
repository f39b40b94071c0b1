"""The ``market sweep`` command: run a sweep file on a backend and report the outcome."""

import logging
import sys
from pathlib import Path

from market.scenario import ScenarioError
from market.sweeps.backends import BACKENDS
from market.sweeps.runner import run_sweep
from market.sweeps.spec import SweepError, load_sweep

__all__ = ["add_arguments", "execute"]

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Run every point of a sweep file for its seeds and write one Parquet file per run. "
    "Exit status: 0 if every run succeeded, 1 if any failed (the count is printed), 2 for an invalid sweep "
    "or output folder, 128 + the signal number if interrupted."
)


def add_arguments(parser):
    """Add the sweep command's arguments to ``parser``."""
    parser.add_argument("sweep_file", metavar="SWEEP_FILE", help="sweep TOML file (see the README's Sweeps section)")
    parser.add_argument("--out", help="output folder (default: results/sweeps/<name of the sweep file>)")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="where runs execute (default: serial, or dask when --scheduler is given)")
    parser.add_argument("--workers", type=int, help="worker processes for processes or a local dask cluster "
                        "(default: the usable cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="join an existing dask cluster at this scheduler address instead of starting one")
    parser.add_argument("--resume", action="store_true",
                        help="finish the sweep already in --out: skip complete runs, recompute missing or damaged ones")
    parser.add_argument("--overwrite", action="store_true", help="delete the sweep already in --out and start again")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _quiet_dask():
    """Keep dask.distributed's warnings and errors but not its INFO lines on every worker start and stop."""
    try:
        import distributed  # noqa: F401  (importing it sets its loggers' levels, so set ours after)
    except ImportError:
        return  # run_sweep reports the missing extra
    logging.getLogger("distributed").setLevel(logging.WARNING)


def execute(arguments):
    """Run the sweep that the command line describes; print the outcome and return the exit status."""
    backend = arguments.backend or ("dask" if arguments.scheduler else "serial")
    if backend == "dask" and not getattr(arguments, "verbose", False):
        _quiet_dask()
    out = Path(arguments.out) if arguments.out else Path("results/sweeps") / Path(arguments.sweep_file).stem
    try:
        if arguments.resume and arguments.overwrite:
            raise SweepError("--resume and --overwrite exclude each other; choose one")
        if arguments.scheduler and backend != "dask":
            raise SweepError(f"--scheduler needs --backend dask, not {backend}")
        if arguments.workers is not None and arguments.workers < 1:
            raise SweepError(f"--workers must be at least 1, got {arguments.workers}")
        spec = load_sweep(arguments.sweep_file)
        report = run_sweep(spec, out, backend=backend, workers=arguments.workers, scheduler=arguments.scheduler,
                           resume=arguments.resume, overwrite=arguments.overwrite,
                           progress=not arguments.no_progress)
    except (SweepError, ScenarioError, ImportError) as error:
        print(f"market: error: {error}", file=sys.stderr)
        return 2

    done = report.skipped + len(report.succeeded) + len(report.failed)
    if report.interrupted is not None:
        print(f"sweep interrupted after {done} of {report.total} runs; finish it with: "
              f"market sweep {arguments.sweep_file} --out {out} --resume", file=sys.stderr)
    elif report.failed:
        print(f"{len(report.failed)} of {report.total} runs failed: {', '.join(report.failed[:10])}"
              f"{' …' if len(report.failed) > 10 else ''}; errors are in {out}/runs/<id>.json. "
              "Rerun them with --resume.", file=sys.stderr)
    else:
        print(f"{report.total} runs complete ({report.skipped} from earlier); table: {report.table}")
    return report.exit_status
