"""The feasible τ region: where users stay, advertisers take part and the platform profits.

A grid over the MOSAIC platform's τ and the users' switching elasticity η
(and, optionally, M) runs the full market. For every cell and seed it
measures, for the MOSAIC platform:

- user retention: its mean membership share over the last quarter of the
  run divided by the same platform's share in a baseline run where it shows
  no ads (same elasticity, M and seed). Shares drift toward the logit
  equilibrium with or without ads, so the baseline isolates the users that
  ads drive away;
- advertiser participation: mean share of brands taking part in its
  auction over the second half of the run;
- profit: mean profit per round in dollars (ad and subscription revenue
  minus inference cost).

A cell is feasible when all three reach their floors (``--retention-floor``,
``--participation-floor``, ``--profit-floor``), judged on the mean over
seeds. For each elasticity the summary gives the τ range where each
constraint holds: retention binds τ from below if small τ loses users,
participation binds it from above if large τ leaves advertisers too little
to gain.
"""

import sys

import numpy as np
from matplotlib.figure import Figure

from experiments.options import add_backend_arguments, add_output_arguments, add_scenario_arguments, resolve_scenario
from experiments.output import prepare_output, provenance, write_json
from experiments.runs import replicate_seeds, run_cells, summarise_cells

__all__ = ["DESCRIPTION", "add_arguments", "execute", "print_table", "run"]

DESCRIPTION = "map the feasible τ region over τ and user switching elasticity"
FILES = ("cells.csv", "runs.csv", "summary.json", "tau_region.png", "constraints.png")
DEFAULT_OUT = "results/tau_region"
PLATFORM = "mosaic"
METRICS = ("retention", "participation", "profit")
FULL = {"taus": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0), "elasticities": (1.0, 3.0, 10.0), "users": 2000,
        "rounds": 30, "seeds": 3}
QUICK = {"taus": (0.01, 0.3), "elasticities": (1.0, 10.0), "users": 300, "rounds": 4, "seeds": 1}


def run(scenario, out, taus, elasticities, candidates, seeds, floors, overwrite=False, progress=True, runner=None):
    """Run the grid and write its tables and figures; return the summary.

    Parameters
    ----------
    scenario : market.scenario.Scenario
        Base market; it must have a platform named ``mosaic`` with a MOSAIC auction.
    taus, elasticities : sequence of float
    candidates : sequence of int or None
        Values of M to sweep, or None to keep the scenario's.
    seeds : int
        Replicates per cell.
    floors : dict
        Floors on ``retention``, ``participation`` and ``profit``.
    runner : dict, optional
        ``backend``, ``workers`` and ``scheduler`` for `experiments.runs.run_cells` (serial if omitted).
    """
    out = prepare_output(out, FILES, overwrite)
    cells = []
    for m in candidates or (None,):
        for elasticity in elasticities:
            baseline = {"platforms." + PLATFORM + ".auction": "none", "users.elasticity": elasticity}
            labels = {"tau": float("nan"), "elasticity": elasticity, "arm": "no_ads"}
            if m is not None:
                labels["candidates"] = m
            cells.append((labels, scenario.with_overrides(baseline)))
            for tau in taus:
                overrides = {f"platforms.{PLATFORM}.tau": tau, "users.elasticity": elasticity,
                             f"platforms.{PLATFORM}.tau_min": min(tau, 1e-4),
                             f"platforms.{PLATFORM}.tau_max": max(tau, 10.0)}
                labels = {"tau": tau, "elasticity": elasticity, "arm": "mosaic"}
                if m is not None:
                    overrides[f"platforms.{PLATFORM}.candidates"] = m
                    labels["candidates"] = m
                cells.append((labels, scenario.with_overrides(overrides)))

    table = run_cells(cells, scenario.seed, seeds, progress=progress, description="tau_region", **(runner or {}))
    axes = [key for key in cells[0][0] if key not in ("tau", "arm")]
    runs = per_run_metrics(table, axes, scenario.rounds)
    runs.to_csv(out / "runs.csv", index=False)
    grouped = summarise_cells(runs, ["tau", *axes], METRICS)
    grouped["feasible"] = np.all([grouped[metric] >= floors[metric] for metric in METRICS], axis=0)
    grouped.to_csv(out / "cells.csv", index=False)

    summary = {
        "platform": PLATFORM,
        "floors": floors,
        "seeds": replicate_seeds(scenario.seed, seeds),
        "grid": {"tau": list(taus), "elasticity": list(elasticities), "candidates": list(candidates or [])},
        "region_empty": not bool(grouped["feasible"].any()),
        "feasible_cells": int(grouped["feasible"].sum()),
        "cells": int(len(grouped)),
        "bounds": binding_bounds(grouped, floors),
        "provenance": provenance(),
        "scenario": scenario.to_dict(),
    }
    write_json(out / "summary.json", summary)
    plot_region(grouped, floors, out / "tau_region.png")
    plot_constraints(grouped, floors, out / "constraints.png")
    return summary


def per_run_metrics(table, axes, rounds):
    """Reduce each run's timeseries to retention, participation and profit for the MOSAIC platform.

    ``axes`` are the grid's labels besides τ (elasticity, and M if swept);
    a no-ads run with the same labels and replicate is the retention baseline.
    """
    platform_rows = table[(table["platform"] == PLATFORM) & (table["round"] >= 1)]
    keys = [*axes, "replicate"]
    late_share = (
        platform_rows[platform_rows["round"] > 0.75 * rounds]
        .groupby([*keys, "arm", "tau"], as_index=False, dropna=False)["membership_share"].mean()
    )
    baseline = late_share[late_share["arm"] == "no_ads"][[*keys, "membership_share"]].rename(
        columns={"membership_share": "baseline_share"})

    played = platform_rows[platform_rows["arm"] == "mosaic"]
    runs = played.groupby([*keys, "tau"], as_index=False).agg(profit=("profit", "mean"))
    participation = played[played["round"] > rounds / 2].groupby([*keys, "tau"], as_index=False).agg(
        participation=("participation", "mean"))
    runs = runs.merge(participation, on=[*keys, "tau"])
    runs = runs.merge(late_share[late_share["arm"] == "mosaic"].drop(columns="arm"), on=[*keys, "tau"])
    runs = runs.merge(baseline, on=keys)
    runs["retention"] = runs["membership_share"] / runs["baseline_share"]
    return runs.drop(columns=["membership_share"])


def binding_bounds(grouped, floors):
    """Return, per elasticity (and M), the τ values that meet each floor and those that meet all of them."""
    by = [column for column in ("candidates", "elasticity") if column in grouped]
    bounds = []
    for key, cells in grouped.groupby(by, sort=True):
        cells = cells.sort_values("tau")
        entry = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        for metric in METRICS:
            holding = cells.loc[cells[metric] >= floors[metric], "tau"]
            entry[f"{metric}_holds_for_tau"] = [float(tau) for tau in holding]
            entry[f"{metric}_min_tau"] = float(holding.min()) if len(holding) else None
            entry[f"{metric}_max_tau"] = float(holding.max()) if len(holding) else None
        entry["feasible_tau"] = [float(tau) for tau in cells.loc[cells["feasible"], "tau"]]
        # The region the two sides of the market allow before inference cost is counted.
        both_sides = (cells["retention"] >= floors["retention"]) & (cells["participation"] >= floors["participation"])
        entry["users_and_advertisers_tau"] = [float(tau) for tau in cells.loc[both_sides, "tau"]]
        bounds.append(entry)
    return bounds


def plot_region(grouped, floors, path):
    """Draw heatmaps over (τ, elasticity) of each metric, with the feasible cells outlined."""
    first = grouped[grouped["candidates"] == grouped["candidates"].iloc[0]] if "candidates" in grouped else grouped
    taus = np.sort(first["tau"].unique())
    elasticities = np.sort(first["elasticity"].unique())
    figure = Figure(figsize=(14, 4.4))
    axes = figure.subplots(1, 3)
    titles = {"retention": "user retention (share / no-ads share)", "participation": "advertiser participation",
              "profit": "profit per round ($)"}
    feasible = _grid(first, "feasible", taus, elasticities).astype(float)
    for axis, metric in zip(axes, METRICS):
        values = _grid(first, metric, taus, elasticities)
        image = axis.imshow(values, origin="lower", aspect="auto", cmap="viridis")
        figure.colorbar(image, ax=axis, label=titles[metric])
        axis.contour(feasible, levels=[0.5], colors="white", linewidths=2)
        below = values < floors[metric]
        for row, column in zip(*np.nonzero(below)):
            axis.text(column, row, "×", ha="center", va="center", color="red", fontsize=9)
        axis.set_xticks(range(len(taus)), [f"{tau:g}" for tau in taus], rotation=45)
        axis.set_yticks(range(len(elasticities)), [f"{value:g}" for value in elasticities])
        axis.set(xlabel="τ ($)", ylabel="switching elasticity η", title=f"{titles[metric]} (floor {floors[metric]:g})")
    figure.suptitle("Feasible τ region: white outline = all floors met; × = below this floor")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_constraints(grouped, floors, path):
    """Plot each metric against τ, one line per elasticity, with its floor."""
    figure = Figure(figsize=(14, 4.2))
    axes = figure.subplots(1, 3, sharex=True)
    first = grouped[grouped["candidates"] == grouped["candidates"].iloc[0]] if "candidates" in grouped else grouped
    units = {"retention": "late share / share without ads", "participation": "share of brands in the auction",
             "profit": "dollars per round"}
    for axis, metric in zip(axes, METRICS):
        for elasticity, cells in first.groupby("elasticity"):
            cells = cells.sort_values("tau")
            axis.plot(cells["tau"], cells[metric], marker="o", label=f"η = {elasticity:g}")
            axis.fill_between(cells["tau"], cells[f"{metric}_low"], cells[f"{metric}_high"], alpha=0.2)
        axis.axhline(floors[metric], color="red", linestyle="--", label="floor")
        axis.set_xscale("log")
        axis.set(xlabel="τ ($, log scale)", ylabel=units[metric], title=metric)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def _grid(cells, column, taus, elasticities):
    values = np.full((len(elasticities), len(taus)), np.nan)
    for _, cell in cells.iterrows():
        values[np.searchsorted(elasticities, cell["elasticity"]), np.searchsorted(taus, cell["tau"])] = cell[column]
    return values


def print_table(summary, stream=None):
    """Print, per elasticity, the τ values that meet each floor and those that meet all of them."""
    stream = sys.stdout if stream is None else stream
    floors = summary["floors"]
    print(f"floors: retention >= {floors['retention']}, participation >= {floors['participation']}, "
          f"profit >= ${floors['profit']}/round", file=stream)
    for entry in summary["bounds"]:
        label = ", ".join(f"{key}={entry[key]:g}" for key in ("candidates", "elasticity") if key in entry)
        print(f"{label}: retention holds for τ in {entry['retention_holds_for_tau'] or 'none'}, participation "
              f"for τ in {entry['participation_holds_for_tau'] or 'none'}, profit for τ in "
              f"{entry['profit_holds_for_tau'] or 'none'}; users and advertisers both for τ in "
              f"{entry['users_and_advertisers_tau'] or 'none'}; feasible τ: {entry['feasible_tau'] or 'none'}",
              file=stream)
    verdict = "EMPTY" if summary["region_empty"] else f"{summary['feasible_cells']} of {summary['cells']} cells"
    print(f"feasible region: {verdict}", file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    add_scenario_arguments(parser)
    add_output_arguments(parser, DEFAULT_OUT)
    add_backend_arguments(parser)
    parser.add_argument("--seeds", type=int, help=f"replicates per cell (default {FULL['seeds']})")
    parser.add_argument("--taus", type=float, nargs="+", help="τ values of the grid ($)")
    parser.add_argument("--elasticities", type=float, nargs="+", help="switching elasticities η of the grid")
    parser.add_argument("--candidates", type=int, nargs="+", help="values of M to sweep as a third axis")
    parser.add_argument("--retention-floor", type=float, default=0.8,
                        help="floor on retention, the late membership share over the no-ads baseline's")
    parser.add_argument("--participation-floor", type=float, default=0.5, help="floor on advertiser participation")
    parser.add_argument("--profit-floor", type=float, default=0.0, help="floor on profit per round ($)")


def execute(arguments):
    """Run the experiment with the command line's options and return its summary."""
    size = QUICK if arguments.quick else FULL
    scenario = resolve_scenario(arguments, {"users.count": size["users"], "rounds": size["rounds"]})
    floors = {"retention": arguments.retention_floor, "participation": arguments.participation_floor,
              "profit": arguments.profit_floor}
    return run(
        scenario,
        arguments.out,
        taus=arguments.taus or size["taus"],
        elasticities=arguments.elasticities or size["elasticities"],
        candidates=arguments.candidates,
        seeds=arguments.seeds or size["seeds"],
        floors=floors,
        overwrite=arguments.overwrite,
        progress=not arguments.no_progress,
        runner={"backend": arguments.backend, "workers": arguments.workers, "scheduler": arguments.scheduler},
    )


def main(argv=None):
    """Entry point of ``python -m experiments.tau_region``."""
    from market.cli import main as cli_main

    return cli_main(["run", "tau_region", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
