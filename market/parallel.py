"""Batch kernels in blocks of rows, spread over threads.

numpy releases the GIL inside its array loops, so blocks of queries run
side by side in threads. Blocks of a few thousand queries also keep the
arrays of every pass in the CPU cache between passes. A kernel that uses
`for_each_block` must compute each row from that row's inputs alone. Its
results are then the same bits whatever the block size and the number of
threads.

The number of threads is the environment variable ``MARKET_THREADS`` when
it is set (1 turns threading off), and otherwise the number of cores this
process may use.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

__all__ = ["for_each_block", "thread_count", "thread_setting", "threads_per_worker", "usable_cores", "worker_threads"]

THREADS_VARIABLE = "MARKET_THREADS"
THREAD_PREFIX = "market-block"

_pool = None
_pool_owner = None


def thread_count():
    """Return the number of threads for batch kernels (``MARKET_THREADS``, or the usable cores).

    Raises
    ------
    ValueError
        If ``MARKET_THREADS`` is set to anything but a positive integer.
    """
    setting = os.environ.get(THREADS_VARIABLE)
    if setting is None:
        return usable_cores()
    try:
        threads = int(setting)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(
            f"{THREADS_VARIABLE}={setting!r} is not a positive integer; set it to the number of threads for "
            f"batch kernels (1 turns threading off) or unset it to use every core"
        )
    return threads


def threads_per_worker(workers):
    """Return ``MARKET_THREADS`` for each of ``workers`` worker processes: the caller's setting, or the cores per worker.

    A sweep with one worker per core then runs each worker's kernels on one
    thread instead of oversubscribing the cores.
    """
    return os.environ.get(THREADS_VARIABLE) or str(max(1, usable_cores() // workers))


def worker_threads(workers):
    """Return a context that sets ``MARKET_THREADS`` to `threads_per_worker`, for worker processes started in it."""
    return thread_setting(threads_per_worker(workers))


@contextmanager
def thread_setting(threads):
    """Set ``MARKET_THREADS`` to ``threads`` inside the block and restore the earlier setting after it."""
    saved = os.environ.get(THREADS_VARIABLE)
    os.environ[THREADS_VARIABLE] = str(threads)
    try:
        yield
    finally:
        if saved is None:
            del os.environ[THREADS_VARIABLE]
        else:
            os.environ[THREADS_VARIABLE] = saved


def for_each_block(function, n_rows, block_rows):
    """Call ``function(rows)`` for consecutive slices ``rows`` that cover ``range(n_rows)``.

    The rows are cut into the fewest blocks of at most ``block_rows`` rows
    whose number is a multiple of the thread count, so that every thread
    gets the same share. The blocks run in a shared thread pool when there
    are several blocks and several threads, and in this thread otherwise.
    They also run in this thread when it is one of the pool's, so that a
    kernel called from a block cannot wait on itself. An exception raised by
    a block is raised here.
    """
    threads = thread_count()
    if threading.current_thread().name.startswith(THREAD_PREFIX):
        threads = 1
    n_blocks = -(-n_rows // block_rows)
    if threads > 1 and n_blocks > 1:
        n_blocks = -(-n_blocks // threads) * threads
    size = -(-n_rows // max(n_blocks, 1))
    blocks = [slice(start, min(start + size, n_rows)) for start in range(0, n_rows, max(size, 1))]
    if threads <= 1 or len(blocks) <= 1:
        for rows in blocks:
            function(rows)
        return
    for future in [_executor(threads).submit(function, rows) for rows in blocks]:
        future.result()


def usable_cores():
    """Return the number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _executor(threads):
    """Return the shared pool, made anew in a forked child (whose copy has no threads) or for a new size."""
    global _pool, _pool_owner
    owner = (os.getpid(), threads)
    if _pool is None or _pool_owner != owner:
        if _pool is not None and _pool_owner[0] == os.getpid():
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=THREAD_PREFIX)
        _pool_owner = owner
    return _pool
