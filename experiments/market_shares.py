"""Main job: simulate the market and write share trajectories and economics.

Runs `MarketModel` for the scenario's rounds and writes, to the output folder:

- ``timeseries.csv``: one row per round and platform (and the outside option)
  with every metric of `market.model.PLATFORM_COLUMNS`;
- ``summary.json``: the scenario, seed, final shares and per-platform totals;
- ``market_shares.png``: membership and query shares per platform by round;
- ``economics.png``: revenue against inference cost per platform by round.

Run it as ``market run market_shares`` or ``python -m experiments.market_shares``.
"""

import argparse
import logging
import sys
import time

import matplotlib as mpl
from matplotlib.figure import Figure
from tqdm import tqdm

from experiments.options import add_output_arguments, add_scenario_arguments, resolve_scenario
from experiments.output import prepare_output, provenance, write_json
from market.model import MarketModel

__all__ = ["DESCRIPTION", "FILES", "add_arguments", "execute", "main", "print_table", "run"]

logger = logging.getLogger(__name__)

DESCRIPTION = "simulate the market and write share trajectories, economics and a summary"
FILES = ("timeseries.csv", "summary.json", "market_shares.png", "economics.png")
DEFAULT_OUT = "results/market_shares"
QUICK = {"users.count": 1000, "rounds": 10}


def run(scenario, out, overwrite=False, progress=True):
    """Simulate ``scenario`` and write the four result files to ``out``.

    A KeyboardInterrupt stops the run after the current round; the rounds
    finished so far are still written, and the summary marks the run as
    interrupted.

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    out = prepare_output(out, FILES, overwrite)
    logger.info("market_shares: %d users, %d rounds, seed %d -> %s",
                scenario.users.count, scenario.rounds, scenario.seed, out)

    started = time.perf_counter()
    model = MarketModel(scenario=scenario)
    interrupted = False
    bar = tqdm(total=scenario.rounds, desc="rounds", unit="round", disable=not progress, file=sys.stderr)
    try:
        for _ in range(scenario.rounds):
            model.step()
            bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        logger.warning("interrupted after round %d; writing the rounds finished so far", model.round)
    finally:
        bar.close()
    wall_seconds = time.perf_counter() - started

    timeseries = model.timeseries()
    timeseries.to_csv(out / "timeseries.csv", index=False)
    summary = summarise(model, timeseries, wall_seconds, interrupted)
    write_json(out / "summary.json", summary)
    plot_shares(timeseries, out / "market_shares.png")
    plot_economics(timeseries, out / "economics.png")
    return summary


def summarise(model, timeseries, wall_seconds, interrupted):
    """Return the run's headline figures: final shares and per-platform totals over all rounds."""
    final_round = int(timeseries["round"].max())
    played = timeseries[timeseries["round"] >= 1]
    final = timeseries[timeseries["round"] == final_round].set_index("platform")
    platforms = {}
    for platform in model.platforms:
        rows = played[played["platform"] == platform.name]
        platforms[platform.name] = {
            "auction": platform.config.auction,
            "initial_membership_share": float(
                timeseries[(timeseries["round"] == 0) & (timeseries["platform"] == platform.name)][
                    "membership_share"
                ].iloc[0]
            ),
            "final_membership_share": float(final.loc[platform.name, "membership_share"]),
            "final_query_share": float(final.loc[platform.name, "query_share"]),
            "total_revenue": float(rows["revenue"].sum()),
            "total_ad_revenue": float(rows["ad_revenue"].sum()),
            "total_inference_cost": float(rows["inference_cost"].sum()),
            "total_profit": float(rows["profit"].sum()),
            "total_user_welfare": float(rows["user_welfare"].sum()),
            "mean_user_utility": float(rows["mean_user_utility"].mean()),
            "mean_kl": float(rows["mean_kl"].mean()),
            "final_participation": float(final.loc[platform.name, "participation"]),
        }
    return {
        "seed": model.parameters.seed,
        "rounds_requested": model.parameters.rounds,
        "rounds_completed": final_round,
        "interrupted": interrupted,
        "wall_seconds": round(wall_seconds, 3),
        "final_outside_share": float(final.loc["outside", "membership_share"]),
        "platforms": platforms,
        "units": {"money": "dollars", "round": "one week", "utility": "sd of reply helpfulness"},
        "provenance": provenance(),
        "scenario": model.parameters.to_dict(),
    }


def plot_shares(timeseries, path):
    """Plot membership share (with the outside option) and query share per platform."""
    figure = Figure(figsize=(11, 4.2))
    members_axis, queries_axis = figure.subplots(1, 2, sharex=True)
    for name, rows in timeseries.groupby("platform", sort=False):
        style = {"linestyle": "--", "color": "grey"} if name == "outside" else {}
        label = "outside option (no chatbot)" if name == "outside" else name
        members_axis.plot(rows["round"], rows["membership_share"], label=label, **style)
        if name != "outside":
            queries_axis.plot(rows["round"], rows["query_share"], label=label)
    members_axis.set(xlabel="round (week)", ylabel="share of users holding the platform", ylim=(0, 1),
                     title="Membership (multi-homers count on each platform)")
    queries_axis.set(xlabel="round (week)", ylabel="share of the round's queries", ylim=(0, 1),
                     title="Query share")
    members_axis.legend(loc="best", fontsize=8)
    queries_axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_economics(timeseries, path):
    """Plot revenue and inference cost per round, and cumulative profit, per platform."""
    played = timeseries[(timeseries["round"] >= 1) & (timeseries["platform"] != "outside")]
    figure = Figure(figsize=(11, 5.2))
    flow_axis, profit_axis = figure.subplots(1, 2, sharex=True)
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (name, rows) in zip(colours, played.groupby("platform", sort=False)):
        flow_axis.plot(rows["round"], rows["revenue"], color=colour, label=f"{name}: revenue")
        flow_axis.plot(rows["round"], rows["inference_cost"], color=colour, linestyle=":",
                       label=f"{name}: inference cost")
        profit_axis.plot(rows["round"], rows["profit"].cumsum(), color=colour, label=name)
    flow_axis.set_yscale("symlog", linthresh=1.0)
    flow_axis.set(xlabel="round (week)", ylabel="dollars per round (symlog scale)",
                  title="Revenue (ads + subscriptions) vs inference cost")
    profit_axis.axhline(0.0, color="black", linewidth=0.6)
    profit_axis.set(xlabel="round (week)", ylabel="cumulative profit (dollars)", title="Cumulative profit")
    # Below the axes: the cost and revenue lines span the whole height of the panel.
    flow_axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7)
    profit_axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the headline table: shares and per-round money per platform."""
    stream = sys.stdout if stream is None else stream
    rounds = max(summary["rounds_completed"], 1)
    header = f"{'platform':<12}{'auction':<11}{'share r0':>9}{'final':>8}{'revenue/rd':>12}{'cost/rd':>11}{'profit/rd':>12}{'utility':>9}"
    print(header, file=stream)
    for name, figures in summary["platforms"].items():
        print(
            f"{name:<12}{figures['auction']:<11}"
            f"{figures['initial_membership_share']:>9.3f}{figures['final_membership_share']:>8.3f}"
            f"{figures['total_revenue'] / rounds:>12.2f}{figures['total_inference_cost'] / rounds:>11.2f}"
            f"{figures['total_profit'] / rounds:>12.2f}{figures['mean_user_utility']:>9.3f}",
            file=stream,
        )
    print(f"{'outside':<23}{'':>9}{summary['final_outside_share']:>8.3f}", file=stream)
    print(f"rounds: {summary['rounds_completed']}, seed: {summary['seed']}, wall time: {summary['wall_seconds']:.1f} s",
          file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    add_scenario_arguments(parser)
    add_output_arguments(parser, DEFAULT_OUT)


def execute(arguments):
    """Run the experiment with the command line's options and return its summary."""
    scenario = resolve_scenario(arguments, QUICK if arguments.quick else None)
    return run(scenario, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.market_shares``."""
    from market.cli import main as cli_main

    return cli_main(["run", "market_shares", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
