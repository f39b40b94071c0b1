"""Backends that run many independent simulations: serial, a local process pool, or dask.

`map_runs` calls one function on a list of arguments and yields an `Outcome`
per argument as each call finishes, in completion order. The caller puts
results back in order by `Outcome.index`, so the backend and the number of
workers never change what is computed.

- ``serial``: one call after another in this process.
- ``processes``: a `concurrent.futures.ProcessPoolExecutor` on this machine.
  Workers start from a forkserver and ignore SIGINT, so Ctrl-C reaches only
  this process, which then stops them.
- ``dask``: `dask.distributed`, on a `LocalCluster` that listens on
  127.0.0.1 only, or on an existing cluster given by its scheduler address.
  Workers of an existing cluster must have this project installed.

At most ``2 × workers`` calls are queued at once, so memory stays flat however
many runs there are.
"""

import logging
import multiprocessing
import os
import signal
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from market import parallel

__all__ = ["BACKENDS", "Outcome", "default_workers", "map_runs"]

logger = logging.getLogger(__name__)

BACKENDS = ("serial", "processes", "dask")
# Seconds to wait for a terminated worker process before moving on.
TERMINATE_TIMEOUT = 5.0


@dataclass
class Outcome:
    """The result of one call, or its error.

    Attributes
    ----------
    index : int
        Position of the argument in the list given to `map_runs`.
    value : object
        The function's return value; None if it failed.
    error : str or None
        ``"ExceptionType: message"`` if the call raised.
    traceback : str or None
        The formatted traceback of that exception.
    seconds : float
        Wall time of the call in the worker.
    """

    index: int
    value: object = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0

    @property
    def failed(self):
        return self.error is not None


def default_workers():
    """Return the number of cores this process may use."""
    return parallel.usable_cores()


def map_runs(function, arguments, backend="serial", workers=None, scheduler=None, catch=True):
    """Call ``function(argument)`` for every argument and yield an `Outcome` per call as it finishes.

    Parameters
    ----------
    function : callable
        A module-level function, so that worker processes can import it.
    arguments : list
        Picklable arguments, one per call.
    backend : {"serial", "processes", "dask"}
    workers : int, optional
        Worker processes (``processes``, or a new dask LocalCluster); the
        number of usable cores if omitted. Ignored by ``serial``.
    scheduler : str, optional
        Address of an existing dask scheduler, e.g. ``tcp://127.0.0.1:8786``
        (``dask`` only).
    catch : bool
        Record an exception in the outcome and go on (True), or raise it (False).

    Raises
    ------
    ValueError
        If the backend is unknown, ``workers`` is below 1, or ``scheduler``
        is given for a backend other than dask.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if scheduler is not None and backend != "dask":
        raise ValueError(f"a scheduler address needs the dask backend, not {backend!r}")
    workers = workers or default_workers()
    if backend == "serial":
        return _map_serial(function, arguments, catch)
    if backend == "processes":
        return _map_processes(function, arguments, workers, catch)
    return _map_dask(function, arguments, workers, scheduler, catch)


def call(function, index, argument, catch=True):
    """Run one call and wrap its result or, with ``catch``, its exception in an `Outcome`."""
    started = time.perf_counter()
    if not catch:
        value = function(argument)
        return Outcome(index=index, value=value, seconds=time.perf_counter() - started)
    try:
        value = function(argument)
    except Exception as error:
        return Outcome(
            index=index,
            error=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc(),
            seconds=time.perf_counter() - started,
        )
    return Outcome(index=index, value=value, seconds=time.perf_counter() - started)


def _map_serial(function, arguments, catch):
    for index, argument in enumerate(arguments):
        yield call(function, index, argument, catch)


def _prepare_worker(threads):
    """Ignore SIGINT in the worker and give its batch kernels ``threads`` threads.

    A terminal's Ctrl-C goes to the whole process group, so only the parent
    handles it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[parallel.THREADS_VARIABLE] = threads


def _map_processes(function, arguments, workers, catch):
    context = multiprocessing.get_context("forkserver")
    # Import the model once in the fork server, so that each worker forks with it loaded.
    context.set_forkserver_preload(["market.model", "market.sweeps.backends"])
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_prepare_worker,
                                   initargs=(parallel.threads_per_worker(workers),))
    logger.info("process pool: %d workers", workers)
    queue = iter(enumerate(arguments))
    pending = {}
    finished = False

    def submit(index, argument):
        return executor.submit(call, function, index, argument, catch)

    try:
        _fill(pending, queue, 2 * workers, submit)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as error:
                    # A worker that died (BrokenProcessPool) fails every call still queued in the pool.
                    if not catch:
                        raise
                    outcome = Outcome(index=index, error=f"{type(error).__name__}: {error}",
                                      traceback=traceback.format_exc())
                yield outcome
            _fill(pending, queue, 2 * workers, submit)
        finished = True
    finally:
        if finished:
            executor.shutdown(wait=True)
        else:
            _terminate(executor)


def _terminate(executor):
    """Cancel queued calls and end the worker processes without waiting for running calls."""
    # NOTE: Python 3.12's executor has no public way to end its workers (3.14 adds
    # terminate_workers), so this reads its private process table.
    processes = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(TERMINATE_TIMEOUT)
    logger.info("process pool: stopped %d workers", len(processes))


def _fill(pending, queue, limit, submit):
    """Submit calls from ``queue`` until ``limit`` are pending."""
    while len(pending) < limit:
        try:
            index, argument = next(queue)
        except StopIteration:
            return
        pending[submit(index, argument)] = index


def _map_dask(function, arguments, workers, scheduler, catch):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ImportError(
            "the dask backend needs dask.distributed; install the sweep extra: pip install -e \".[sweep]\""
        ) from None

    cluster = None
    if scheduler is None:
        # Every socket of the cluster listens on 127.0.0.1 only. The scheduler's HTTP endpoint
        # starts even without a dashboard, so it gets a free port that another cluster cannot hold.
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.WARNING,
            env={parallel.THREADS_VARIABLE: parallel.threads_per_worker(workers)},
        )
        client = Client(cluster)
        logger.info("dask: local cluster of %d workers at %s", workers, cluster.scheduler_address)
    else:
        client = Client(scheduler)
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        logger.info("dask: joined the cluster at %s with %d workers", scheduler, workers)

    queue = iter(enumerate(arguments))
    pending = {}

    def submit(index, argument):
        return client.submit(call, function, index, argument, catch, pure=False)

    try:
        _fill(pending, queue, 2 * workers, submit)
        completed = as_completed(list(pending))
        for future in completed:
            index = pending.pop(future)
            try:
                outcome = future.result()
            except Exception as error:
                # A worker that died too often (KilledWorker) or a lost connection fails this call.
                if not catch:
                    raise
                outcome = Outcome(index=index, error=f"{type(error).__name__}: {error}",
                                  traceback=traceback.format_exc())
            future.release()
            yield outcome
            before = set(pending)
            _fill(pending, queue, 2 * workers, submit)
            for new in set(pending) - before:
                completed.add(new)
    finally:
        if pending:
            client.cancel(list(pending))
        client.close()
        if cluster is not None:
            cluster.close()
