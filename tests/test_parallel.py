"""Row blocks over threads (market.parallel) and the allocator settings (market.allocator)."""

import os
import threading

import numpy as np
import pytest

from market import allocator, parallel
from market.cli import main


@pytest.mark.parametrize("threads", ["1", "2", "4"])
@pytest.mark.parametrize("n_rows, block_rows", [(0, 5), (1, 5), (10, 3), (10, 10), (1001, 64)])
def test_blocks_cover_every_row_once(monkeypatch, threads, n_rows, block_rows):
    monkeypatch.setenv("MARKET_THREADS", threads)
    visits = np.zeros(n_rows, dtype=int)
    sizes = []
    lock = threading.Lock()

    def visit(rows):
        with lock:
            visits[rows] += 1
            sizes.append(rows.stop - rows.start)

    parallel.for_each_block(visit, n_rows, block_rows)
    assert np.all(visits == 1)
    assert all(0 < size <= block_rows for size in sizes)
    if int(threads) > 1 and len(sizes) > 1:
        assert len(sizes) % int(threads) == 0


def test_blocks_use_several_threads(monkeypatch):
    monkeypatch.setenv("MARKET_THREADS", "2")
    barrier = threading.Barrier(2, timeout=10)
    names = set()

    def wait_for_the_other(rows):
        # Both blocks must run at once to pass the barrier; in one thread this would time out.
        barrier.wait()
        names.add(threading.current_thread().name)

    parallel.for_each_block(wait_for_the_other, 2, 1)
    assert len(names) == 2


def test_block_error_reaches_caller(monkeypatch):
    monkeypatch.setenv("MARKET_THREADS", "2")

    def fail_on_second(rows):
        if rows.start > 0:
            raise ValueError("block failed")

    with pytest.raises(ValueError, match="block failed"):
        parallel.for_each_block(fail_on_second, 10, 5)


@pytest.mark.parametrize("setting", ["0", "-2", "two", "1.5", ""])
def test_bad_thread_setting_error(monkeypatch, setting):
    monkeypatch.setenv("MARKET_THREADS", setting)
    with pytest.raises(ValueError) as raised:
        parallel.thread_count()
    message = str(raised.value)
    assert f"MARKET_THREADS={setting!r}" in message
    assert "positive integer" in message
    assert "unset it" in message


def test_cli_reports_bad_thread_setting(monkeypatch, capsys):
    monkeypatch.setenv("MARKET_THREADS", "many")
    assert main(["show-scenario"]) == 2
    assert "MARKET_THREADS='many'" in capsys.readouterr().err


def test_allocator_setting(monkeypatch):
    monkeypatch.setenv("MARKET_KEEP_FREED_MEMORY", "0")
    assert allocator.keep_freed_memory() is False
    monkeypatch.setenv("MARKET_KEEP_FREED_MEMORY", "yes")
    with pytest.raises(ValueError, match="MARKET_KEEP_FREED_MEMORY='yes' must be 0"):
        allocator.requested()
    monkeypatch.setenv("MARKET_KEEP_FREED_MEMORY", "1")
    assert allocator.requested() is True


def test_cli_reports_bad_allocator_setting(monkeypatch, capsys):
    monkeypatch.setenv("MARKET_KEEP_FREED_MEMORY", "on")
    assert main(["show-scenario"]) == 2
    assert "MARKET_KEEP_FREED_MEMORY='on'" in capsys.readouterr().err


def test_worker_threads_share_the_cores(monkeypatch):
    monkeypatch.delenv("MARKET_THREADS", raising=False)
    with parallel.worker_threads(2):
        inside = os.environ["MARKET_THREADS"]
    assert inside == str(max(1, parallel.thread_count() // 2))
    assert "MARKET_THREADS" not in os.environ


def test_worker_threads_keep_the_callers_setting(monkeypatch):
    monkeypatch.setenv("MARKET_THREADS", "3")
    with parallel.worker_threads(2):
        assert os.environ["MARKET_THREADS"] == "3"
    assert os.environ["MARKET_THREADS"] == "3"
