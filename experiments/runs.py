"""Replicated market runs and the statistics experiments report over them.

Seeds for replicates come from ``numpy.random.SeedSequence(base_seed).spawn(n)``,
so replicate r of a study always gets the same seed, whatever order or
process runs it. `run_cells` runs serially by default, or on the sweep
backends of `market.sweeps` (a local process pool or dask).
"""

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

from market.sweeps import map_runs, simulate
from market.sweeps.spec import spawn_seeds

__all__ = ["confidence_interval", "replicate_seeds", "run_cells", "simulate", "summarise_cells"]


def replicate_seeds(base_seed, n_replicates):
    """Return ``n_replicates`` independent 63-bit seeds spawned from ``base_seed``."""
    if n_replicates < 1:
        raise ValueError(f"the number of seeds must be at least 1, got {n_replicates}")
    return spawn_seeds(base_seed, n_replicates)


def run_cells(cells, base_seed, n_replicates, progress=True, description="runs", backend="serial", workers=None,
              scheduler=None):
    """Run every cell of a study for every replicate seed and stack the timeseries.

    Parameters
    ----------
    cells : list of (dict, Scenario)
        Labels of the cell (become columns) and the scenario to run.
    base_seed : int
    n_replicates : int
    progress : bool
        Show a progress bar on stderr.
    backend : {"serial", "processes", "dask"}
        Where the runs execute; see `market.sweeps.backends.map_runs`.
    workers : int, optional
        Worker processes of the ``processes`` or ``dask`` backend (default: the usable cores).
    scheduler : str, optional
        Address of an existing dask scheduler.

    Returns
    -------
    pandas.DataFrame
        The timeseries of every run with the cell's labels and ``replicate``
        and ``seed`` columns, cell by cell and replicate by replicate. Every
        backend returns the same table, and the first failing run's exception
        is raised.
    """
    seeds = replicate_seeds(base_seed, n_replicates)
    runs = [(labels, replicate, seed, scenario.with_overrides({"seed": seed}))
            for labels, scenario in cells for replicate, seed in enumerate(seeds)]
    tables = [None] * len(runs)
    outcomes = map_runs(simulate, [run[3] for run in runs], backend=backend, workers=workers, scheduler=scheduler,
                        catch=False)
    with tqdm(total=len(runs), desc=description, unit="run", disable=not progress) as bar:
        try:
            for outcome in outcomes:
                labels, replicate, seed, _ = runs[outcome.index]
                tables[outcome.index] = outcome.value.assign(**labels, replicate=replicate, seed=seed)
                bar.update(1)
        finally:
            outcomes.close()
    return pd.concat(tables, ignore_index=True)


def confidence_interval(values, level=0.95):
    """Return (mean, low, high): the Student-t interval of the mean; NaN bounds for one value."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if values.size == 1:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def summarise_cells(table, by, metrics):
    """Return one row per group of ``by`` with the mean and 95 % interval of each metric over replicates.

    ``table`` holds one value per replicate and group (aggregate rounds first).
    """
    rows = []
    for key, group in table.groupby(by, sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        for metric in metrics:
            mean, low, high = confidence_interval(group[metric])
            row.update({metric: mean, f"{metric}_low": low, f"{metric}_high": high})
        row["replicates"] = int(group["replicate"].nunique()) if "replicate" in group else len(group)
        rows.append(row)
    return pd.DataFrame(rows)
