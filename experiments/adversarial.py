r"""Claim test: what happens to users and advertisers when rival brands pay to keep each other out of the reply?

Two brands of one category are direct competitors (rivals in the graph),
with competitor-negative rewards of weight κ:
r_i = b_i·rel_i·(m_i − κ·m_rival). Brand A has the incumbent prior ρ_inc and
brand B the entrant prior ρ_ent of the scenario. Both have the same value
(the middle of [``value_min``, ``value_max``]) and the same reach, and their
centres sit symmetrically about the category centroid. κ runs over
`COMPETITOR_WEIGHTS` (plus the scenario's ``competitor_weight`` if it is not
on the grid). Each replicate draws Q intents once and serves them at every κ
(common random numbers) on:

- ``mosaic``: MOSAIC with the scenario's generator, τ and M;
- ``mosaic_separated``: the same with competitive separation, which drops
  every candidate that names both rivals before the softmax. An auction
  whose candidates all name both is void: no advertiser pays, and the reply
  is drawn by the reference weights;
- ``post_response``: a plain π_ref reply plus one separate placement sold by
  the power-diagram auction. Its bids are the ad's value b·rel, which κ does
  not change, because a rival's separate ad is not a mention in the reply.

Metrics per cell, as means over queries (money in dollars per query):

- ``user_utility``: the user's expected utility of the reply (and ad),
  without the base quality q_p and with the helpfulness shock at its mean
  E[h] = 0 (no mechanism's choice depends on h);
- ``clutter_rate``: the probability that the reply names both rivals, and
  ``clutter_rate_non_void`` the same over non-void auctions only;
- ``void_rate``: the share of void auctions (separation only);
- ``utility_a``, ``utility_b``: expected value minus payment. For MOSAIC this
  is the truthful utility Φ − Φ_{−i}; for the post-response platform the
  organic reply's expected reward plus the ad's value minus its payment;
- ``ir_violation_rate``: the share of (query, advertiser) pairs whose
  utility is below −1e-12 dollars (negative truthful utility);
- ``participation_violation_rate``: the share of pairs whose net gain from
  taking part (incremental value minus payment) is below −1e-12 dollars,
  which convexity of Φ rules out for MOSAIC and critical-value pricing rules
  out for the post-response auction;
- payments, values and mention rates of both brands.

MOSAIC's expectations are exact over the final draw given the candidates
(Σ_j q_j x_j); the plain reply's are exact over π_ref. For each metric and
mechanism the summary reports the values at the smallest and largest κ and
the least-squares slope on κ, each with a 95 % interval over replicates.

Outputs: ``adversarial.csv`` (per replicate, mechanism and κ),
``summary.json`` and ``adversarial.png``.

Run it as ``market run adversarial`` or ``python -m experiments.adversarial``.
"""

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tqdm import tqdm

from experiments import single_query as sq
from experiments.options import resolve_scenario
from experiments.output import prepare_output, provenance, write_json
from experiments.runs import replicate_seeds

__all__ = ["DESCRIPTION", "FILES", "Market", "add_arguments", "build_market", "execute", "main", "measure_cell",
           "print_table", "run"]

logger = logging.getLogger(__name__)

DESCRIPTION = "rival brands with competitor-negative rewards: clutter, user and advertiser utility, IR, by κ"
FILES = ("adversarial.csv", "summary.json", "adversarial.png")
DEFAULT_OUT = "results/adversarial"

COMPETITOR_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
QUICK_COMPETITOR_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
QUERIES = 4_000
QUICK_QUERIES = 500
DEFAULT_REPLICATES = 5
QUICK_REPLICATES = 2
MECHANISMS = ("mosaic", "mosaic_separated", "post_response")
# Truthful utilities below −1e-12 dollars are violations; smaller ones are rounding error.
IR_TOLERANCE = 1e-12
METRICS = ("user_utility", "clutter_rate", "clutter_rate_non_void", "void_rate", "utility_a", "utility_b",
           "ir_violation_rate", "participation_violation_rate", "payment_a", "payment_b", "revenue", "value_a",
           "value_b", "mention_rate_a", "mention_rate_b")


@dataclass(frozen=True)
class Settings:
    """Sizes of one run."""

    competitor_weights: tuple
    queries: int
    replicates: int
    seed: int
    quick: bool


@dataclass(frozen=True)
class Market:
    """The two rival brands and the platforms that serve them; κ varies by cell."""

    centroid: np.ndarray
    centres: np.ndarray
    intents: np.ndarray
    reach: float
    value: float
    priors: tuple
    mosaic: object
    embedding: object
    weights: object

    def world(self, competitor_weight):
        """Return the one-category world of the two rivals at competitor weight κ."""
        return sq.one_category_world(self.centroid, self.centres, self.reach, self.priors, self.value,
                                     competitor_weight, True, self.intents)


def build_market(scenario, n_queries, rng):
    """Draw the queries and place the two rivals from the scenario's embedding and advertiser tables."""
    advertisers, embedding = scenario.advertisers, scenario.embedding
    # Centres normalise(μ ± (brand_spread/2)·e_1): the brands sit about as far apart as two brands of a category.
    centroid, centres, intents = sq.pair_geometry(embedding.dimension, embedding.brand_spread / 2,
                                                  embedding.intent_spread, n_queries, rng)
    # Base quality 0: utilities are the reply's own, the same for every platform.
    platform = dataclasses.replace(sq.mosaic_platform(scenario), base_quality=0.0, audit_rate=0.0, tau_actual=None,
                                   reproducible=False, separation=False)
    return Market(
        centroid=centroid,
        centres=centres,
        intents=intents,
        reach=0.5 * (advertisers.reach_min + advertisers.reach_max),
        value=0.5 * (advertisers.value_min + advertisers.value_max),
        priors=(advertisers.incumbent_prior, advertisers.entrant_prior),
        mosaic=platform,
        embedding=dataclasses.replace(sq.embedding_platform(scenario), base_quality=0.0),
        weights=scenario.utility,
    )


def measure_cell(market, mechanism, competitor_weight, rng):
    """Serve the market's queries in one cell and return the `METRICS` (dollars per query)."""
    world = market.world(competitor_weight)
    slots, relevances = sq.query_slots(world, market.intents)
    n_queries = market.intents.shape[0]
    if mechanism in ("mosaic", "mosaic_separated"):
        config = dataclasses.replace(market.mosaic, separation=mechanism == "mosaic_separated")
        eligible = np.ones((n_queries, 2), dtype=bool)
        run = sq.run_mosaic(config, slots, market.intents, eligible, config.tau, config.tau, 0, rng)
        # h is independent of the allocation, so E[h of the returned reply] = 0 and h is left out.
        utilities = sq.candidate_utilities(run.mentions, np.zeros(run.helpfulness.shape), slots, market.weights)
        user_utility = sq.expected(run, utilities)
        clutter = sq.expected(run, (sq.rival_pairs(run.mentions, slots.rivals) > 0).astype(float))
        void = run.outcome.void
        mentions = sq.expected(run, run.mentions)
        value = sq.expected(run, run.true_rewards)
        payments = run.outcome.payments
        advertiser_utility = run.outcome.utilities
        net_gain = sq.incremental_values(run, config.tau) - payments
    elif mechanism == "post_response":
        organic = sq.plain_reply_expectations(slots, market.weights)
        ads = sq.sell_ads(market.embedding, slots, market.intents, relevances, market.weights)
        user_utility = organic["utility"] + ads.utility
        clutter = organic["clutter"]
        void = np.zeros(n_queries, dtype=bool)
        mentions = organic["mentions"]
        value = organic["value"] + ads.value
        payments = ads.payments
        advertiser_utility = value - payments
        net_gain = ads.incremental_value - ads.payments
    else:
        raise ValueError(f"unknown mechanism {mechanism!r}; choose one of: {', '.join(MECHANISMS)}")

    non_void = ~void
    return {
        "user_utility": float(user_utility.mean()),
        "clutter_rate": float(clutter.mean()),
        "clutter_rate_non_void": float(clutter[non_void].mean()) if non_void.any() else float("nan"),
        "void_rate": float(void.mean()),
        "utility_a": float(advertiser_utility[:, 0].mean()),
        "utility_b": float(advertiser_utility[:, 1].mean()),
        "ir_violation_rate": float((advertiser_utility < -IR_TOLERANCE).mean()),
        "participation_violation_rate": float((net_gain < -IR_TOLERANCE).mean()),
        "payment_a": float(payments[:, 0].mean()),
        "payment_b": float(payments[:, 1].mean()),
        "revenue": float(payments.sum(axis=1).mean()),
        "value_a": float(value[:, 0].mean()),
        "value_b": float(value[:, 1].mean()),
        "mention_rate_a": float(mentions[:, 0].mean()),
        "mention_rate_b": float(mentions[:, 1].mean()),
    }


def competitor_weights(scenario, grid):
    """Return the κ grid plus the scenario's own κ when it is positive and not on the grid."""
    weights = set(grid)
    if scenario.advertisers.competitor_weight > 0:
        weights.add(scenario.advertisers.competitor_weight)
    return tuple(sorted(weights))


def run(scenario, settings, out, overwrite=False, progress=True):
    """Measure every cell for every replicate and write the three result files to ``out``; return the summary."""
    out = prepare_output(out, FILES, overwrite)
    seeds = replicate_seeds(settings.seed, settings.replicates)
    cells = [(mechanism, weight) for weight in settings.competitor_weights for mechanism in MECHANISMS]
    logger.info("adversarial: κ in %s, %d queries, %d replicates, seed %d -> %s", settings.competitor_weights,
                settings.queries, settings.replicates, settings.seed, out)
    started = time.perf_counter()

    rows = []
    market = None
    bar = tqdm(total=settings.replicates * len(cells), desc="cells", unit="cell", disable=not progress,
               file=sys.stderr)
    try:
        for replicate, seed in enumerate(seeds):
            generators = sq.cell_generators(seed, len(cells) + 1)
            market = build_market(scenario, settings.queries, generators[0])
            for (mechanism, weight), rng in zip(cells, generators[1:]):
                rows.append({"replicate": replicate, "seed": seed, "mechanism": mechanism,
                             "competitor_weight": weight, **measure_cell(market, mechanism, weight, rng)})
                bar.update(1)
    finally:
        bar.close()

    table = pd.DataFrame(rows)
    table.to_csv(out / "adversarial.csv", index=False)
    summary = summarise(table, market, settings, scenario, time.perf_counter() - started)
    write_json(out / "summary.json", summary)
    plot_adversarial(table, summary, out / "adversarial.png")
    return summary


def summarise(table, market, settings, scenario, wall_seconds):
    """Return the headline figures: every metric at the smallest and largest κ and its slope on κ."""
    smallest, largest = min(settings.competitor_weights), max(settings.competitor_weights)
    mechanisms = {}
    for mechanism in MECHANISMS:
        rows = table[table["mechanism"] == mechanism]
        figures = {}
        for metric in METRICS:
            slopes = [sq.linear_slope(group["competitor_weight"], group[metric])
                      for _, group in rows.groupby("replicate")]
            figures[metric] = {
                "at_smallest_kappa": sq.interval(rows[rows["competitor_weight"] == smallest][metric]),
                "at_largest_kappa": sq.interval(rows[rows["competitor_weight"] == largest][metric]),
                "slope_per_unit_kappa": sq.interval(slopes),
            }
        figures["max_clutter_rate_non_void_at_positive_kappa"] = float(
            rows[rows["competitor_weight"] > 0]["clutter_rate_non_void"].max())
        figures["max_ir_violation_rate_at_zero_kappa"] = float(
            rows[rows["competitor_weight"] == 0]["ir_violation_rate"].max()) if (rows["competitor_weight"] == 0).any() \
            else None
        mechanisms[mechanism] = figures
    summary = {
        "experiment": "adversarial",
        "fit": "least squares of each metric on κ, per replicate",
        "parameters": {
            "quick": settings.quick,
            "competitor_weights": list(settings.competitor_weights),
            "queries": settings.queries,
            "replicates": settings.replicates,
            "priors": list(market.priors),
            "value": market.value,
            "reach": market.reach,
            "generator": market.mosaic.generator,
            "context_strength": market.mosaic.context_strength,
            "tau": market.mosaic.tau,
            "candidates": market.mosaic.candidates,
            "relevance_weight": market.embedding.relevance_weight,
            "ir_tolerance": IR_TOLERANCE,
        },
        "seeds": {"base_seed": settings.seed, "replicate_seeds": replicate_seeds(settings.seed, settings.replicates)},
        "smallest_kappa": smallest,
        "largest_kappa": largest,
        "mechanisms": mechanisms,
        "wall_seconds": round(wall_seconds, 3),
        "units": {"money": "dollars per query", "utility": "sd of reply helpfulness (user); dollars (advertiser)",
                  "rates": "fraction (0 to 1)", "kappa": "dimensionless weight of a rival's mention"},
        "provenance": provenance(),
        "scenario": scenario.to_dict(),
    }
    summary["findings"] = _findings(summary)
    return summary


def _findings(summary):
    """Return plain sentences on what the run measured."""
    low, high = summary["smallest_kappa"], summary["largest_kappa"]
    findings = []
    for mechanism, figures in summary["mechanisms"].items():
        def change(metric, spec=".3f"):
            start = figures[metric]["at_smallest_kappa"]["mean"]
            end = figures[metric]["at_largest_kappa"]["mean"]
            return f"{start:{spec}} → {end:{spec}}"

        findings.append(
            f"{mechanism}, κ {low:g} → {high:g}: user utility {change('user_utility')}, clutter rate "
            f"{change('clutter_rate')} (non-void {change('clutter_rate_non_void')}), void rate "
            f"{change('void_rate')}, IR violations {change('ir_violation_rate')}, participation violations "
            f"{change('participation_violation_rate')}, advertiser utility A {change('utility_a', '.4f')} and B "
            f"{change('utility_b', '.4f')} $ per query, revenue {change('revenue', '.4f')} $ per query."
        )
    return findings


# ---------------------------------------------------------------------------
# Figure and table


STYLES = {
    "mosaic": {"color": "tab:blue", "marker": "o", "label": "MOSAIC"},
    "mosaic_separated": {"color": "tab:orange", "marker": "^", "label": "MOSAIC with competitive separation"},
    "post_response": {"color": "tab:green", "marker": "s", "label": "post-response auction (organic π_ref reply)"},
}


def _plot_metric(axis, rows, metric, style, label, linestyle="-"):
    grouped = rows.groupby("competitor_weight")[metric]
    means = grouped.mean()
    intervals = [sq.interval(values)["ci95"] for _, values in grouped]
    lower = [0.0 if low is None else max(mean - low, 0.0) for (low, _), mean in zip(intervals, means)]
    upper = [0.0 if high is None else max(high - mean, 0.0) for (_, high), mean in zip(intervals, means)]
    axis.errorbar(means.index, means.to_numpy(), yerr=[lower, upper], color=style["color"], marker=style["marker"],
                  markersize=4, capsize=2, linestyle=linestyle, label=label)


def plot_adversarial(table, summary, path):
    """Plot user utility, clutter, advertiser utility, IR violations, revenue and mention rates against κ."""
    figure = Figure(figsize=(15, 9.5))
    axes = figure.subplots(2, 3).ravel()
    user_axis, clutter_axis, advertiser_axis, ir_axis, revenue_axis, mention_axis = axes
    for mechanism in MECHANISMS:
        rows = table[table["mechanism"] == mechanism]
        style = STYLES[mechanism]
        _plot_metric(user_axis, rows, "user_utility", style, style["label"])
        _plot_metric(clutter_axis, rows, "clutter_rate", style, style["label"])
        if mechanism == "mosaic_separated":
            _plot_metric(clutter_axis, rows, "void_rate", style, "separation: share of void auctions", ":")
            void_handle = clutter_axis.get_legend_handles_labels()[0][-1]
        _plot_metric(advertiser_axis, rows, "utility_a", style, f"{style['label']}: A")
        _plot_metric(advertiser_axis, rows, "utility_b", style, f"{style['label']}: B", "--")
        _plot_metric(ir_axis, rows, "ir_violation_rate", style, style["label"])
        _plot_metric(ir_axis, rows, "participation_violation_rate", style,
                     f"{style['label']}: net gain from taking part < 0", ":")
        _plot_metric(revenue_axis, rows, "revenue", style, style["label"])
        _plot_metric(mention_axis, rows, "mention_rate_a", style, f"{style['label']}: A")
        _plot_metric(mention_axis, rows, "mention_rate_b", style, f"{style['label']}: B", "--")

    kappa = "competitor weight κ (dimensionless)"
    priors = summary["parameters"]["priors"]
    user_axis.set(xlabel=kappa, ylabel="user utility of reply and ad (sd of helpfulness)",
                  title="User utility (without base quality)")
    clutter_axis.set(xlabel=kappa, ylabel="probability (fraction)",
                     title="Reply names both rivals (solid); void auctions (dotted)")
    advertiser_axis.axhline(0.0, color="black", linewidth=0.6)
    advertiser_axis.set(xlabel=kappa, ylabel="expected value − payment ($ per query)",
                        title=f"Advertiser utility\nA, ρ = {priors[0]:g} (solid); B, ρ = {priors[1]:g} (dashed)")
    ir_axis.set(xlabel=kappa, ylabel="share of (query, advertiser) pairs",
                title="IR violations\nnegative truthful utility (solid); negative net gain (dotted)")
    revenue_axis.set(xlabel=kappa, ylabel="payments of both brands ($ per query)", title="Platform revenue")
    mention_axis.set(xlabel=kappa, ylabel="mention probability",
                     title="Mention rate: A (solid) and B (dashed)", ylim=(0, 1))

    handles, labels = user_axis.get_legend_handles_labels()
    figure.legend([*handles, void_handle], [*labels, "separation: share of void auctions (dotted)"],
                  loc="lower center", ncol=4, fontsize=8, bbox_to_anchor=(0.5, 0.0))
    parameters = summary["parameters"]
    figure.suptitle(f"Two rivals with reward b·rel·(m_i − κ·m_rival): τ = ${parameters['tau']:g}, "
                    f"M = {parameters['candidates']}, π_gen = {parameters['generator']}, "
                    f"{parameters['queries']:,} queries per cell, 95 % CI over {parameters['replicates']} replicates",
                    fontsize=10)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the headline table: every mechanism's metrics at the smallest and largest κ."""
    stream = sys.stdout if stream is None else stream
    low, high = summary["smallest_kappa"], summary["largest_kappa"]
    columns = (("user_utility", "user util", ".3f"), ("clutter_rate", "clutter", ".3f"),
               ("clutter_rate_non_void", "clut. nv", ".3f"), ("void_rate", "void", ".3f"),
               ("utility_a", "util A $", ".4f"), ("utility_b", "util B $", ".4f"),
               ("ir_violation_rate", "IR viol.", ".3f"), ("participation_violation_rate", "part. viol.", ".3f"),
               ("revenue", "revenue $", ".4f"))
    print(f"{'mechanism':<18}{'kappa':>6}" + "".join(f"{title:>12}" for _, title, _ in columns), file=stream)
    for mechanism, figures in summary["mechanisms"].items():
        for kappa, key in ((low, "at_smallest_kappa"), (high, "at_largest_kappa")):
            cells = "".join(f"{figures[metric][key]['mean']:>12{spec}}" for metric, _, spec in columns)
            print(f"{mechanism:<18}{kappa:>6g}{cells}", file=stream)
    print("slope per unit κ [95% CI]:", file=stream)
    for mechanism, figures in summary["mechanisms"].items():
        parts = []
        for metric in ("user_utility", "clutter_rate", "ir_violation_rate", "utility_b"):
            slope = figures[metric]["slope_per_unit_kappa"]
            bounds = slope["ci95"]
            text = f"{slope['mean']:.4f}" if bounds[0] is None else f"{slope['mean']:.4f} [{bounds[0]:.4f}, {bounds[1]:.4f}]"
            parts.append(f"{metric} {text}")
        print(f"  {mechanism}: " + "; ".join(parts), file=stream)
    print(f"money in $ per query; replicates: {summary['parameters']['replicates']}, seed: "
          f"{summary['seeds']['base_seed']}, wall time: {summary['wall_seconds']:.1f} s", file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    sq.add_claim_arguments(parser, DEFAULT_OUT, DEFAULT_REPLICATES, QUICK_REPLICATES)


def execute(arguments):
    """Run the experiment with the parsed command-line arguments and return its summary."""
    scenario = resolve_scenario(arguments)
    grid, queries, replicates = ((QUICK_COMPETITOR_WEIGHTS, QUICK_QUERIES, QUICK_REPLICATES) if arguments.quick
                                 else (COMPETITOR_WEIGHTS, QUERIES, DEFAULT_REPLICATES))
    settings = Settings(competitor_weights=competitor_weights(scenario, grid), queries=queries,
                        replicates=arguments.seeds or replicates, seed=scenario.seed, quick=arguments.quick)
    return run(scenario, settings, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.adversarial``."""
    from market.cli import main as cli_main

    return cli_main(["run", "adversarial", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
