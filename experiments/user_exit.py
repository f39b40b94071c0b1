"""User exit: platforms compete for the same users while one pushes τ toward zero.

Three platforms share one user base: a MOSAIC platform whose τ policy is
``revenue_greedy`` (it lowers τ while its ad revenue per query rises), an
ad-free platform, and a post-response (embedding auction) platform. Users
multi-home as the scenario sets. For several switching elasticities η the
experiment records each platform's membership share per round and measures
how many rounds pass until the MOSAIC platform's share halves from round 0
(none if it never does within the run).

The MOSAIC platform is the scenario's platform named ``mosaic``; the other
two keep their scenario settings.
"""

import sys

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.options import add_backend_arguments, add_output_arguments, add_scenario_arguments, resolve_scenario
from experiments.output import prepare_output, provenance, write_json
from experiments.runs import confidence_interval, replicate_seeds, run_cells

__all__ = ["DESCRIPTION", "add_arguments", "execute", "halving_round", "print_table", "run"]

DESCRIPTION = "market-share trajectories when a MOSAIC platform pushes τ down and users can leave"
FILES = ("timeseries.csv", "halving.csv", "summary.json", "trajectories.png", "tau.png")
DEFAULT_OUT = "results/user_exit"
PLATFORM = "mosaic"
FULL = {"elasticities": (1.0, 3.0, 10.0), "users": 5000, "rounds": 80, "seeds": 3}
QUICK = {"elasticities": (1.0, 10.0), "users": 300, "rounds": 6, "seeds": 2}


def run(scenario, out, elasticities, seeds, policy="revenue_greedy", overwrite=False, progress=True, runner=None):
    """Run the market for every elasticity and seed; write trajectories and halving times.

    ``runner`` gives ``backend``, ``workers`` and ``scheduler`` to `experiments.runs.run_cells`.
    """
    out = prepare_output(out, FILES, overwrite)
    base = scenario.with_overrides({f"platforms.{PLATFORM}.tau_policy": policy})
    cells = [({"elasticity": elasticity}, base.with_overrides({"users.elasticity": elasticity}))
             for elasticity in elasticities]
    table = run_cells(cells, scenario.seed, seeds, progress=progress, description="user_exit", **(runner or {}))
    table.to_csv(out / "timeseries.csv", index=False)

    mosaic_rows = table[table["platform"] == PLATFORM]
    halving = pd.DataFrame(
        [
            {"elasticity": elasticity, "replicate": replicate,
             "halving_round": halving_round(rows["round"].to_numpy(), rows["membership_share"].to_numpy())}
            for (elasticity, replicate), rows in mosaic_rows.groupby(["elasticity", "replicate"])
        ]
    )
    halving.to_csv(out / "halving.csv", index=False)

    results = []
    for elasticity, rows in halving.groupby("elasticity"):
        final = mosaic_rows[(mosaic_rows["elasticity"] == elasticity) & (mosaic_rows["round"] == base.rounds)]
        taus = mosaic_rows[(mosaic_rows["elasticity"] == elasticity) & (mosaic_rows["round"] == base.rounds)]["tau"]
        halved = rows["halving_round"].dropna().astype(float)
        mean, low, high = confidence_interval(halved)
        share_mean, share_low, share_high = confidence_interval(final["membership_share"])
        results.append({
            "elasticity": float(elasticity),
            "runs_halved": int(halved.size),
            "runs": int(len(rows)),
            "halving_round_mean": mean,
            "halving_round_ci": [low, high],
            "final_share_mean": share_mean,
            "final_share_ci": [share_low, share_high],
            "final_tau_mean": float(taus.mean()),
        })

    summary = {
        "platform": PLATFORM,
        "tau_policy": policy,
        "rounds": base.rounds,
        "seeds": replicate_seeds(scenario.seed, seeds),
        "results": results,
        "provenance": provenance(),
        "scenario": base.to_dict(),
    }
    write_json(out / "summary.json", summary)
    plot_trajectories(table, out / "trajectories.png")
    plot_tau(mosaic_rows, out / "tau.png")
    return summary


def halving_round(rounds, shares):
    """Return the first round at which the share is at most half its round-0 value, or None."""
    start = shares[rounds == 0]
    if start.size == 0 or not start[0] > 0:
        return None
    halved = np.flatnonzero((rounds > 0) & (shares <= start[0] / 2))
    return float(rounds[halved[0]]) if halved.size else None


def plot_trajectories(table, path):
    """Membership share per platform (mean over seeds, band = min to max) per elasticity."""
    elasticities = sorted(table["elasticity"].unique())
    figure = Figure(figsize=(5 * len(elasticities), 4.2))
    axes = np.atleast_1d(figure.subplots(1, len(elasticities), sharey=True))
    for axis, elasticity in zip(axes, elasticities):
        rows = table[table["elasticity"] == elasticity]
        for platform, platform_rows in rows.groupby("platform", sort=False):
            stats = platform_rows.groupby("round")["membership_share"].agg(["mean", "min", "max"])
            style = {"linestyle": "--", "color": "grey"} if platform == "outside" else {}
            axis.plot(stats.index, stats["mean"], label=platform, **style)
            axis.fill_between(stats.index, stats["min"], stats["max"], alpha=0.2, **({"color": "grey"} if platform == "outside" else {}))
        axis.set(xlabel="round (week)", ylabel="share of users holding the platform", ylim=(0, 1),
                 title=f"switching elasticity η = {elasticity:g}")
    axes[0].legend(fontsize=8)
    figure.suptitle("Membership shares (mean over seeds; band = range)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_tau(mosaic_rows, path):
    """Plot the MOSAIC platform's τ per round under its policy, per elasticity."""
    figure = Figure(figsize=(6, 4.2))
    axis = figure.subplots()
    for elasticity, rows in mosaic_rows.groupby("elasticity"):
        stats = rows.groupby("round")["tau"].mean()
        axis.plot(stats.index, stats.to_numpy(), label=f"η = {elasticity:g}")
    axis.set_yscale("log")
    axis.set(xlabel="round (week)", ylabel="τ ($, log scale, mean over seeds)", title="MOSAIC platform's τ")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the halving round and final share per elasticity."""
    stream = sys.stdout if stream is None else stream
    print(f"{'elasticity':>10}{'halved':>9}{'halving round (95% CI)':>28}{'final share':>13}{'final τ':>10}",
          file=stream)
    for result in summary["results"]:
        low, high = result["halving_round_ci"]
        interval = "never" if not result["runs_halved"] else f"{result['halving_round_mean']:.1f} ({low:.1f}, {high:.1f})"
        print(f"{result['elasticity']:>10g}{result['runs_halved']:>5}/{result['runs']:<3}{interval:>28}"
              f"{result['final_share_mean']:>13.3f}{result['final_tau_mean']:>10.4f}", file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    add_scenario_arguments(parser)
    add_output_arguments(parser, DEFAULT_OUT)
    add_backend_arguments(parser)
    parser.add_argument("--seeds", type=int, help=f"replicates per elasticity (default {FULL['seeds']})")
    parser.add_argument("--elasticities", type=float, nargs="+", help="switching elasticities η to compare")
    parser.add_argument("--policy", default="revenue_greedy",
                        choices=("fixed", "revenue_greedy", "retention_target", "two_sided"),
                        help="τ policy of the MOSAIC platform")


def execute(arguments):
    """Run the experiment with the command line's options and return its summary."""
    size = QUICK if arguments.quick else FULL
    scenario = resolve_scenario(arguments, {"users.count": size["users"], "rounds": size["rounds"]})
    return run(
        scenario,
        arguments.out,
        elasticities=arguments.elasticities or size["elasticities"],
        seeds=arguments.seeds or size["seeds"],
        policy=arguments.policy,
        overwrite=arguments.overwrite,
        progress=not arguments.no_progress,
        runner={"backend": arguments.backend, "workers": arguments.workers, "scheduler": arguments.scheduler},
    )


def main(argv=None):
    """Entry point of ``python -m experiments.user_exit``."""
    from market.cli import main as cli_main

    return cli_main(["run", "user_exit", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
