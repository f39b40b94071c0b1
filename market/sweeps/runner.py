"""Run a sweep: every run once, written as it finishes, resumable after an interrupt.

SIGINT and SIGTERM stop the sweep between two file writes: runs already
written stay, running ones are dropped, and ``--resume`` computes only what is
missing. A run that raises is recorded with its error and the sweep goes on.
"""

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

from tqdm import tqdm

from market.model import MarketModel
from market.sweeps.backends import map_runs
from market.sweeps.spec import SweepError
from market.sweeps.store import RunStore, environment

__all__ = ["SweepInterrupted", "SweepReport", "run_sweep", "simulate"]

logger = logging.getLogger(__name__)


class SweepInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived during a sweep.

    A subclass of KeyboardInterrupt, so that code catching ``Exception``
    (such as the serial backend's error capture) lets it through.
    """

    def __init__(self, signum):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


@dataclass
class SweepReport:
    """Outcome of one call of `run_sweep`.

    Attributes
    ----------
    total : int
        Runs in the sweep.
    skipped : int
        Runs already complete in the folder, not run again.
    succeeded, failed : list of str
        Ids of the runs that this call finished, by outcome.
    interrupted : int or None
        The signal number that stopped the sweep, or None if it ran to the end.
    table : pathlib.Path or None
        ``table.parquet`` once the sweep has ended with at least one successful run.
    """

    total: int
    skipped: int = 0
    succeeded: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    interrupted: int | None = None
    table: object = None
    seconds: float = 0.0

    @property
    def exit_status(self):
        """Return 128 + the signal number if interrupted, 1 if any run failed, else 0."""
        if self.interrupted is not None:
            return 128 + self.interrupted
        return 1 if self.failed else 0


def simulate(scenario):
    """Run ``scenario`` for its rounds and return the model's tidy timeseries."""
    model = MarketModel(scenario=scenario)
    for _ in range(scenario.rounds):
        model.step()
    return model.timeseries()


def run_sweep(spec, out, backend="serial", workers=None, scheduler=None, resume=False, overwrite=False,
              progress=True, function=simulate):
    """Run every run of ``spec`` not yet complete in ``out`` and write its files.

    Parameters
    ----------
    spec : market.sweeps.SweepSpec
    out : str or Path
        Output folder; see `market.sweeps.store` for its layout.
    backend, workers, scheduler
        As in `market.sweeps.backends.map_runs`.
    resume : bool
        Continue the same sweep in ``out``: skip complete runs, recompute the rest.
    overwrite : bool
        Delete an earlier sweep's files in ``out`` and start again.
    progress : bool
        Show a progress bar on stderr.
    function : callable
        ``function(scenario) -> pandas.DataFrame``, importable by worker processes.

    Returns
    -------
    SweepReport

    Raises
    ------
    SweepError
        If ``out`` contains results and neither ``resume`` nor ``overwrite`` is set,
        or ``resume`` is set for a folder that contains another sweep.
    """
    started = time.perf_counter()
    try:
        import pyarrow  # noqa: F401  (the store writes Parquet through it)
    except ImportError:
        raise ImportError("market sweep needs pyarrow; install the sweep extra: pip install -e \".[sweep]\"") from None
    store = RunStore(out)
    store.prepare(spec.to_record(), resume=resume, overwrite=overwrite, error_type=SweepError)
    runs = spec.runs()
    todo = []
    for run in runs:
        complete, reason = store.completed(run)
        if complete:
            continue
        if reason not in ("no manifest", "status 'failed'"):
            logger.warning("run %s: %s; computing it again", run.run_id, reason)
        todo.append(run)
    report = SweepReport(total=len(runs), skipped=len(runs) - len(todo))
    logger.info("sweep: %d runs, %d already complete, %d to run on backend %s", len(runs), report.skipped,
                len(todo), backend)

    record = environment()
    bar = tqdm(total=len(runs), initial=report.skipped, desc="sweep", unit="run", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    guard = _SignalGuard()
    try:
        with guard:
            # With nothing left to run, start no process pool or dask cluster.
            outcomes = map_runs(function, [run.scenario for run in todo], backend=backend, workers=workers,
                                scheduler=scheduler) if todo else iter([])
            try:
                for outcome in outcomes:
                    run = todo[outcome.index]
                    with guard.deferred():
                        _record(store, run, outcome, record, report)
                    bar.update(1)
                    bar.set_postfix(failed=len(report.failed), remaining=len(todo) - len(report.succeeded)
                                    - len(report.failed))
            finally:
                if hasattr(outcomes, "close"):
                    outcomes.close()
    except SweepInterrupted as interrupt:
        report.interrupted = interrupt.signum
        logger.warning("sweep interrupted by %s after %d of %d runs; resume with --resume",
                       signal.Signals(interrupt.signum).name, report.skipped + len(report.succeeded), len(runs))
    finally:
        bar.close()

    report.seconds = time.perf_counter() - started
    if report.interrupted is None:
        report.table = store.write_table(runs)
        failures = store.failures(runs)
        report.failed = [failure["id"] for failure in failures]
        store.write_summary({
            "runs": len(runs),
            "succeeded": len(runs) - len(failures),
            "failed": failures,
            "skipped_as_complete": report.skipped,
            "backend": backend,
            "workers": workers,
            "wall_seconds": report.seconds,
            "table": None if report.table is None else report.table.name,
        })
    return report


def _record(store, run, outcome, record, report):
    if outcome.failed:
        logger.error("run %s (point %d, replicate %d, seed %d) failed: %s", run.run_id, run.point, run.replicate,
                     run.seed, outcome.error)
        store.write_failure(run, outcome.error, outcome.traceback, outcome.seconds, record)
        report.failed.append(run.run_id)
        return
    table = outcome.value.assign(point=run.point, replicate=run.replicate, seed=run.seed, **run.labels)
    store.write_success(run, table, outcome.seconds, record)
    report.succeeded.append(run.run_id)


class _SignalGuard:
    """Raise `SweepInterrupted` on SIGINT and SIGTERM, but never in the middle of writing a run's files."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.writing = False
        self.pending = None
        self.previous = {}

    def __enter__(self):
        # Python lets only the main thread install signal handlers.
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous.clear()
        return False

    def _handle(self, signum, frame):
        if self.writing:
            self.pending = signum
            return
        raise SweepInterrupted(signum)

    def deferred(self):
        return _Deferred(self)


class _Deferred:
    def __init__(self, guard):
        self.guard = guard

    def __enter__(self):
        self.guard.writing = True

    def __exit__(self, *exc_info):
        self.guard.writing = False
        if self.guard.pending is not None:
            signum, self.guard.pending = self.guard.pending, None
            raise SweepInterrupted(signum)
        return False
