"""Sweep files: a base scenario, a grid or list of overrides, and a number of seeds.

A sweep file is TOML with these top-level keys, all optional:

- ``scenario``: the base scenario, either a path to a scenario TOML file
  (relative to the sweep file) or an inline ``[scenario]`` table laid out
  like a scenario file. The built-in default scenario if absent.
- ``overrides``: a table of overrides applied to every run, in the dotted
  form of `Scenario.with_overrides` (``"users.count" = 500``).
- ``grid``: a table whose values are arrays; the sweep runs every
  combination, the first key varying slowest.
- ``points``: an array of tables, one table of overrides per point, in place
  of ``grid``.
- ``seeds``: replicates per point (default 1).
- ``base_seed``: root of the seed tree (default: the base scenario's seed).

Keys may be quoted (``"platforms.mosaic.tau"``) or bare dotted keys, which
TOML reads as nested tables; both name the same override.

Replicate r of point p runs with seed
``SeedSequence([base_seed, p]).spawn(seeds)[r]``, so a run's seed depends on
its place in the sweep only, never on which worker runs it or when.
"""

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from market.scenario import Scenario, ScenarioError, default_scenario, load_scenario, read_toml, scenario_from_dict

__all__ = ["SweepError", "SweepRun", "SweepSpec", "load_sweep", "point_seeds", "sweep_from_dict"]

TOP_LEVEL_KEYS = ("scenario", "overrides", "grid", "points", "seeds", "base_seed")
MAX_SEED = 2**63 - 1
MAX_SEEDS_PER_POINT = 1_000_000


class SweepError(ValueError):
    """A sweep file is invalid, or its output folder cannot be used as requested."""


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: a point, a replicate, the seed derived from both, and the scenario to run.

    Attributes
    ----------
    run_id : str
        ``"p{point:05d}-r{replicate:03d}"``, the stem of the run's files.
    labels : dict
        The point's overrides by dotted key; they become columns of the table.
    scenario : market.scenario.Scenario
        The base scenario with the point's overrides and the run's seed.
    """

    run_id: str
    point: int
    replicate: int
    seed: int
    labels: dict
    scenario: Scenario


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: the base scenario, one dict of overrides per point, and the seeds.

    Attributes
    ----------
    base : market.scenario.Scenario
        The base scenario with the sweep's fixed ``overrides`` applied.
    points : tuple of dict
        Overrides by dotted key, one dict per point.
    seeds : int
        Replicates per point.
    base_seed : int
    """

    base: Scenario
    points: tuple
    seeds: int
    base_seed: int

    def runs(self):
        """Return every run of the sweep, point by point and replicate by replicate."""
        runs = []
        for point, overrides in enumerate(self.points):
            scenario = self.base.with_overrides(overrides)
            for replicate, seed in enumerate(point_seeds(self.base_seed, point, self.seeds)):
                runs.append(
                    SweepRun(
                        run_id=f"p{point:05d}-r{replicate:03d}",
                        point=point,
                        replicate=replicate,
                        seed=seed,
                        labels=dict(overrides),
                        scenario=scenario.with_overrides({"seed": seed}),
                    )
                )
        return runs

    def to_record(self):
        """Return the sweep as plain JSON data; a resumed sweep must match it exactly."""
        record = {
            "base_scenario": self.base.to_dict(),
            "points": [dict(point) for point in self.points],
            "seeds": self.seeds,
            "base_seed": self.base_seed,
        }
        # A JSON round trip turns tuples into lists, as reading the stored record does.
        return json.loads(json.dumps(record))


def spawn_seeds(entropy, n_replicates):
    """Return ``n_replicates`` independent 63-bit seeds: SeedSequence(entropy).spawn(n), one word each."""
    children = np.random.SeedSequence(entropy).spawn(n_replicates)
    return [int(child.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


def point_seeds(base_seed, point, n_replicates):
    """Return the ``n_replicates`` 63-bit seeds of point ``point``: SeedSequence([base_seed, point]).spawn(n)."""
    return spawn_seeds([base_seed, point], n_replicates)


def load_sweep(path):
    """Read and validate a sweep file; a relative ``scenario`` path is read from the sweep file's folder."""
    path = Path(path)
    data = read_toml(path, "sweep file", SweepError, "Pass an existing TOML file.")
    return sweep_from_dict(data, base_dir=path.parent)


def sweep_from_dict(data, base_dir="."):
    """Validate a parsed sweep file into a `SweepSpec`; raise `SweepError` or `ScenarioError` on bad input."""
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise SweepError(f"unknown key '{unknown[0]}' in the sweep file; allowed keys: {', '.join(TOP_LEVEL_KEYS)}")

    base = _base_scenario(data.get("scenario"), Path(base_dir))
    fixed = _flatten(_table(data, "overrides"), "overrides")
    _reject_seed_override(fixed, "overrides")
    base = base.with_overrides(fixed) if fixed else base

    seeds = _integer(data, "seeds", 1, 1, MAX_SEEDS_PER_POINT)
    base_seed = _integer(data, "base_seed", base.seed, 0, MAX_SEED)
    points = _points(data)
    for index, overrides in enumerate(points):
        _reject_seed_override(overrides, f"point {index}")
        try:
            base.with_overrides(overrides)
        except ScenarioError as error:
            raise SweepError(f"point {index} {overrides}: {error}") from None
    return SweepSpec(base=base, points=tuple(points), seeds=seeds, base_seed=base_seed)


def _base_scenario(value, base_dir):
    if value is None:
        return default_scenario()
    if isinstance(value, str):
        return load_scenario(base_dir / value)
    if isinstance(value, dict):
        return scenario_from_dict(value)
    raise SweepError(
        f"'scenario' must be a path to a scenario file or a [scenario] table, got {type(value).__name__} {value!r}"
    )


def _points(data):
    if "grid" in data and "points" in data:
        raise SweepError("the sweep file gives both [grid] and [[points]]; keep one of them")
    if "points" in data:
        points = data["points"]
        if not isinstance(points, list) or not all(isinstance(point, dict) for point in points):
            raise SweepError(f"'points' must be an array of tables ([[points]]), got {points!r}")
        if not points:
            raise SweepError("'points' is empty; give at least one [[points]] table")
        return [_flatten(point, f"points[{index}]") for index, point in enumerate(points)]

    grid = _flatten(_table(data, "grid"), "grid")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"grid key '{key}' must be a non-empty array of values, got {values!r}; write [{values!r}]")
    keys = list(grid)
    return [dict(zip(keys, combination)) for combination in itertools.product(*(grid[key] for key in keys))]


def _table(data, key):
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise SweepError(f"'{key}' must be a table ([{key}]), got {type(value).__name__} {value!r}")
    return value


def _flatten(table, where, prefix=""):
    """Turn nested tables into dotted keys: {"users": {"count": 5}} → {"users.count": 5}."""
    flat = {}
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            if not value:
                raise SweepError(f"'{where}.{dotted}' is an empty table; give a value for a scenario key")
            flat.update(_flatten(value, where, dotted))
        else:
            flat[dotted] = value
    return flat


def _reject_seed_override(overrides, where):
    if "seed" in overrides:
        raise SweepError(
            f"{where} sets 'seed', but a sweep derives every run's seed from base_seed; set 'base_seed' instead"
        )


def _integer(data, key, default, low, high):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SweepError(f"'{key}' must be an integer, got {type(value).__name__} {value!r}")
    if not low <= value <= high:
        raise SweepError(f"'{key}' = {value} is out of range; allowed: {low} <= {key} <= {high}")
    return value
