r"""Claim test: does MOSAIC favour the brand the reference LLM already names, and by how much?

Two brands of one category, an incumbent and an entrant, have equal values
(the middle of [``value_min``, ``value_max``]), equal reaches and centres
placed symmetrically about the category centroid, so that neither is more
relevant to the queries on average. Only their priors differ: the entrant
keeps ρ_ent = ``advertisers.entrant_prior`` and the incumbent's ρ_inc runs
from ρ_ent to `MAX_INCUMBENT_PRIOR`. The gap is measured in log-odds,
logit ρ_inc − logit ρ_ent.

Each replicate draws Q intents around the centroid once and serves them in
every cell (common random numbers) on:

- ``mosaic_reference``: MOSAIC with candidates from π_ref;
- ``mosaic_context``: MOSAIC with candidates from π_con, one cell per
  context strength β in {β/2, β, 2β} of the scenario's MOSAIC platform
  (π_con raises both brands' log-odds by β, because both are in the auction);
- ``post_response``: a plain π_ref reply plus one separate placement sold by
  the power-diagram auction, whose winner depends on bids and relevance
  only, never on the prior;

beside two references without any auction: ``organic`` (the plain π_ref
reply) and ``pi_star`` (the exact target π* ∝ π_ref·exp(r/τ) per query, the
M → ∞ limit of both MOSAIC cells).

Per cell the experiment reports the entrant's share of brand mentions in the
reply, E[m_ent] / (E[m_ent] + E[m_inc]), and its share of delivered value. It
also reports both brands' mention rates, values, payments and utilities
(expected value minus payment) in dollars per query, and their net gain from
taking part (incremental value minus payment). For the post-response
platform it adds the entrant's share of placements. MOSAIC's expectations are exact over the final draw given the
candidates (Σ_j q_j x_j); the post-response reply's are exact over π_ref.
With κ > 0 a value can be negative, and a value share then leaves [0, 1].

Trend. Per replicate and mechanism the experiment fits the least-squares
slope of the entrant's mention share on the log-odds gap and reports its
mean and 95 % interval over replicates.

Outputs: ``incumbency.csv`` (per replicate, mechanism, β and ρ_inc),
``summary.json`` and ``incumbency.png``.

Run it as ``market run incumbency`` or ``python -m experiments.incumbency``.
"""

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.special import logsumexp
from tqdm import tqdm

from experiments import single_query as sq
from experiments.options import resolve_scenario
from experiments.output import prepare_output, provenance, write_json
from experiments.runs import replicate_seeds
from market import replies
from market.scenario import ScenarioError

__all__ = ["DESCRIPTION", "FILES", "Market", "add_arguments", "build_market", "execute", "main", "measure_cell",
           "print_table", "run"]

logger = logging.getLogger(__name__)

DESCRIPTION = "entrant's share of mentions, value, payments and utility as the incumbent's prior grows"
FILES = ("incumbency.csv", "summary.json", "incumbency.png")
DEFAULT_OUT = "results/incumbency"

MAX_INCUMBENT_PRIOR = 0.9
PRIOR_POINTS = 9
QUICK_PRIOR_POINTS = 5
QUERIES = 4_000
QUICK_QUERIES = 500
DEFAULT_REPLICATES = 5
QUICK_REPLICATES = 2
INCUMBENT, ENTRANT = 0, 1
MECHANISMS = ("mosaic_reference", "mosaic_context", "post_response", "organic", "pi_star")
METRICS = ("entrant_mention_share", "entrant_value_share", "entrant_mention_rate", "incumbent_mention_rate",
           "entrant_value", "incumbent_value", "entrant_payment", "incumbent_payment", "entrant_utility",
           "incumbent_utility", "entrant_net_gain", "incumbent_net_gain", "entrant_ad_share")


@dataclass(frozen=True)
class Settings:
    """Sizes of one run."""

    incumbent_priors: tuple
    context_strengths: tuple
    queries: int
    replicates: int
    seed: int
    quick: bool


@dataclass(frozen=True)
class Market:
    """The two brands' fixed attributes and the platforms that serve them; the priors vary by cell."""

    centroid: np.ndarray
    centres: np.ndarray
    intents: np.ndarray
    reach: float
    value: float
    competitor_weight: float
    rivals: bool
    entrant_prior: float
    mosaic: object
    embedding: object
    weights: object

    def world(self, incumbent_prior):
        """Return the one-category world with the incumbent (slot 0) at ``incumbent_prior``."""
        return sq.one_category_world(self.centroid, self.centres, self.reach, (incumbent_prior, self.entrant_prior),
                                     self.value, self.competitor_weight, self.rivals, self.intents)


def build_market(scenario, n_queries, rng):
    """Draw the queries and place the two brands from the scenario's embedding and advertiser tables."""
    advertisers, embedding = scenario.advertisers, scenario.embedding
    # Centres normalise(μ ± (brand_spread/2)·e_1): the brands sit about as far apart as two brands of a category.
    centroid, centres, intents = sq.pair_geometry(embedding.dimension, embedding.brand_spread / 2,
                                                  embedding.intent_spread, n_queries, rng)
    return Market(
        centroid=centroid,
        centres=centres,
        intents=intents,
        reach=0.5 * (advertisers.reach_min + advertisers.reach_max),
        value=0.5 * (advertisers.value_min + advertisers.value_max),
        competitor_weight=advertisers.competitor_weight,
        rivals=advertisers.competitors == "category",
        entrant_prior=advertisers.entrant_prior,
        # Base quality 0: utilities are the reply's own, the same for every platform.
        mosaic=dataclasses.replace(sq.mosaic_platform(scenario), base_quality=0.0, audit_rate=0.0,
                                   tau_actual=None, reproducible=False),
        embedding=dataclasses.replace(sq.embedding_platform(scenario), base_quality=0.0),
        weights=scenario.utility,
    )


def measure_cell(market, mechanism, incumbent_prior, context_strength, rng):
    """Serve the market's queries in one cell and return its per-brand means (dollars per query).

    Returns
    -------
    dict
        The `METRICS` for this cell; payments, utilities and placement share
        are NaN where the mechanism has none.
    """
    world = market.world(incumbent_prior)
    slots, relevances = sq.query_slots(world, market.intents)
    n_queries = market.intents.shape[0]
    nan = np.full(2, np.nan)
    ad_share = np.nan
    if mechanism in ("mosaic_reference", "mosaic_context"):
        generator = "reference" if mechanism == "mosaic_reference" else "context"
        config = dataclasses.replace(market.mosaic, generator=generator, context_strength=context_strength)
        eligible = np.ones((n_queries, 2), dtype=bool)
        run = sq.run_mosaic(config, slots, market.intents, eligible, config.tau, config.tau, 0, rng)
        mentions = sq.expected(run, run.mentions).mean(axis=0)
        value = sq.expected(run, run.true_rewards).mean(axis=0)
        payment = run.outcome.payments.mean(axis=0)
        utility = run.outcome.utilities.mean(axis=0)
        net_gain = (sq.incremental_values(run, config.tau) - run.outcome.payments).mean(axis=0)
    elif mechanism == "post_response":
        organic = sq.plain_reply_expectations(slots, market.weights)
        ads = sq.sell_ads(market.embedding, slots, market.intents, relevances, market.weights)
        mentions = organic["mentions"].mean(axis=0)
        value = (organic["value"] + ads.value).mean(axis=0)
        payment = ads.payments.mean(axis=0)
        utility = value - payment
        net_gain = (ads.incremental_value - ads.payments).mean(axis=0)
        shown = ads.incremental_value.sum(axis=1) > 0
        ad_share = float((ads.incremental_value[:, ENTRANT] > 0).sum() / max(shown.sum(), 1))
    elif mechanism == "organic":
        organic = sq.plain_reply_expectations(slots, market.weights)
        mentions = organic["mentions"].mean(axis=0)
        value = organic["value"].mean(axis=0)
        payment = utility = net_gain = nan
    elif mechanism == "pi_star":
        mentions, value = _target_expectations(slots, market.mosaic)
        payment = utility = net_gain = nan
    else:
        raise ValueError(f"unknown mechanism {mechanism!r}; choose one of: {', '.join(MECHANISMS)}")

    return {
        "entrant_mention_share": _share(mentions),
        "entrant_value_share": _share(value),
        "entrant_mention_rate": float(mentions[ENTRANT]),
        "incumbent_mention_rate": float(mentions[INCUMBENT]),
        "entrant_value": float(value[ENTRANT]),
        "incumbent_value": float(value[INCUMBENT]),
        "entrant_payment": float(payment[ENTRANT]),
        "incumbent_payment": float(payment[INCUMBENT]),
        "entrant_utility": float(utility[ENTRANT]),
        "incumbent_utility": float(utility[INCUMBENT]),
        "entrant_net_gain": float(net_gain[ENTRANT]),
        "incumbent_net_gain": float(net_gain[INCUMBENT]),
        "entrant_ad_share": ad_share,
    }


def _share(pair):
    total = pair[ENTRANT] + pair[INCUMBENT]
    return float(pair[ENTRANT] / total) if total != 0 else float("nan")


def _target_expectations(slots, config):
    """Return the mean mention rates and values per brand under the exact π* of each query.

    π* ∝ π_ref·exp(Σ_i r_i/τ) over all 2^K patterns, restricted to patterns
    without two rivals when the platform applies competitive separation.
    """
    prior = slots.world.priors[slots.brands]
    n_queries, n_brands = prior.shape
    patterns = np.broadcast_to(replies.all_patterns(n_brands), (n_queries, 2**n_brands, n_brands))
    rewards = slots.rewards(patterns)
    log_target = replies.log_probability(patterns, prior) + rewards.sum(axis=2) / config.tau
    if config.separation:
        log_target = np.where(sq.rival_pairs(patterns, slots.rivals) == 0, log_target, -np.inf)
    target = np.exp(log_target - logsumexp(log_target, axis=1, keepdims=True))
    mentions = np.einsum("qp,qpk->k", target, patterns.astype(float)) / n_queries
    value = np.einsum("qp,qpk->k", target, rewards) / n_queries
    return mentions, value


def _cells(settings):
    """Return every (mechanism, β, ρ_inc) cell of a replicate in a fixed order."""
    cells = []
    for prior in settings.incumbent_priors:
        cells.append(("mosaic_reference", None, prior))
        cells.extend(("mosaic_context", strength, prior) for strength in settings.context_strengths)
        cells.extend((mechanism, None, prior) for mechanism in ("post_response", "organic", "pi_star"))
    return cells


def run(scenario, settings, out, overwrite=False, progress=True):
    """Measure every cell for every replicate and write the three result files to ``out``; return the summary."""
    out = prepare_output(out, FILES, overwrite)
    seeds = replicate_seeds(settings.seed, settings.replicates)
    cells = _cells(settings)
    logger.info("incumbency: ρ_inc in %s, β in %s, %d queries, %d replicates, seed %d -> %s",
                settings.incumbent_priors, settings.context_strengths, settings.queries, settings.replicates,
                settings.seed, out)
    started = time.perf_counter()

    rows = []
    market = None
    bar = tqdm(total=settings.replicates * len(cells), desc="cells", unit="cell", disable=not progress,
               file=sys.stderr)
    try:
        for replicate, seed in enumerate(seeds):
            generators = sq.cell_generators(seed, len(cells) + 1)
            market = build_market(scenario, settings.queries, generators[0])
            for (mechanism, strength, prior), rng in zip(cells, generators[1:]):
                # π_ref is π_con with β = 0; the post-response auction has no β.
                beta = strength
                if beta is None and mechanism == "mosaic_reference":
                    beta = 0.0
                metrics = measure_cell(market, mechanism, prior, strength, rng)
                rows.append({"replicate": replicate, "seed": seed, "mechanism": mechanism,
                             "context_strength": beta, "incumbent_prior": prior,
                             "entrant_prior": market.entrant_prior,
                             "log_odds_gap": sq.log_odds_gap(prior, market.entrant_prior), **metrics})
                bar.update(1)
    finally:
        bar.close()

    table = pd.DataFrame(rows)
    table.to_csv(out / "incumbency.csv", index=False)
    summary = summarise(table, market, settings, scenario, time.perf_counter() - started)
    write_json(out / "summary.json", summary)
    plot_incumbency(table, summary, out / "incumbency.png")
    return summary


def _label(mechanism, strength):
    """Return the name of a mechanism cell as used in the summary, e.g. ``mosaic_context β=1.5``."""
    if mechanism == "mosaic_context":
        return f"mosaic_context β={strength:g}"
    return mechanism


def _series(table):
    """Yield (label, rows) for every mechanism cell series, in a fixed order."""
    for mechanism in MECHANISMS:
        rows = table[table["mechanism"] == mechanism]
        if mechanism == "mosaic_context":
            for strength, strength_rows in rows.groupby("context_strength", sort=True):
                yield _label(mechanism, strength), strength_rows
        elif len(rows):
            yield mechanism, rows


def summarise(table, market, settings, scenario, wall_seconds):
    """Return the headline figures: fitted slopes and the metrics at the smallest and largest gap."""
    smallest, largest = table["log_odds_gap"].min(), table["log_odds_gap"].max()
    mechanisms = {}
    for label, rows in _series(table):
        slopes = {metric: [sq.linear_slope(group["log_odds_gap"], group[metric])
                           for _, group in rows.groupby("replicate")]
                  for metric in ("entrant_mention_share", "entrant_value_share", "entrant_payment",
                                 "entrant_utility")}
        ends = {}
        for name, gap in (("smallest_gap", smallest), ("largest_gap", largest)):
            at = rows[np.isclose(rows["log_odds_gap"], gap)]
            ends[name] = {metric: sq.interval(at[metric]) for metric in METRICS}
        mechanisms[label] = {
            "slope_per_nat": {metric: {**sq.interval(values), "per_replicate": values}
                              for metric, values in slopes.items()},
            **ends,
        }
    summary = {
        "experiment": "incumbency",
        "fit": "least squares of each metric on the log-odds gap logit ρ_inc − logit ρ_ent, per replicate",
        "parameters": {
            "quick": settings.quick,
            "incumbent_priors": list(settings.incumbent_priors),
            "entrant_prior": market.entrant_prior,
            "context_strengths": list(settings.context_strengths),
            "queries": settings.queries,
            "replicates": settings.replicates,
            "value": market.value,
            "reach": market.reach,
            "competitor_weight": market.competitor_weight,
            "rivals": market.rivals,
            "tau": market.mosaic.tau,
            "candidates": market.mosaic.candidates,
            "separation": market.mosaic.separation,
            "relevance_weight": market.embedding.relevance_weight,
        },
        "seeds": {"base_seed": settings.seed, "replicate_seeds": replicate_seeds(settings.seed, settings.replicates)},
        "smallest_gap": float(smallest),
        "largest_gap": float(largest),
        "mechanisms": mechanisms,
        "wall_seconds": round(wall_seconds, 3),
        "units": {"gap": "nats of log-odds", "money": "dollars per query", "share": "fraction (0 to 1)"},
        "provenance": provenance(),
        "scenario": scenario.to_dict(),
    }
    summary["findings"] = _findings(summary)
    return summary


def _findings(summary):
    """Return plain sentences on what the run measured."""
    findings = []
    for label, figures in summary["mechanisms"].items():
        slope = figures["slope_per_nat"]["entrant_mention_share"]
        first = figures["smallest_gap"]["entrant_mention_share"]["mean"]
        last = figures["largest_gap"]["entrant_mention_share"]["mean"]
        sentence = (f"{label}: the entrant's mention share goes from {first:.3f} at gap "
                    f"{summary['smallest_gap']:.2f} to {last:.3f} at gap {summary['largest_gap']:.2f} nats "
                    f"(slope {_text(slope)} per nat)")
        payment = figures["largest_gap"]["entrant_payment"]["mean"]
        if payment is not None:
            sentence += (f"; at the largest gap it pays ${payment:.4f} per query against the incumbent's "
                         f"${figures['largest_gap']['incumbent_payment']['mean']:.4f}, utility "
                         f"${figures['largest_gap']['entrant_utility']['mean']:.4f} against "
                         f"${figures['largest_gap']['incumbent_utility']['mean']:.4f}")
        ad_share = figures["largest_gap"]["entrant_ad_share"]["mean"]
        if ad_share is not None:
            sentence += f"; it wins {ad_share:.3f} of the placements"
        findings.append(sentence + ".")
    return findings


def _text(figures, spec=".3f"):
    if figures["mean"] is None:
        return "n/a"
    low, high = figures["ci95"]
    if low is None:
        return format(figures["mean"], spec)
    return f"{figures['mean']:{spec}} [{low:{spec}}, {high:{spec}}]"


# ---------------------------------------------------------------------------
# Figure and table


STYLES = {
    "mosaic_reference": {"color": "tab:blue", "marker": "o"},
    "post_response": {"color": "tab:green", "marker": "s"},
    "organic": {"color": "grey", "marker": None, "linestyle": ":"},
    "pi_star": {"color": "black", "marker": None, "linestyle": "-."},
}
CONTEXT_COLOURS = ("tab:orange", "tab:red", "tab:purple", "tab:brown")
LABELS = {
    "mosaic_reference": "MOSAIC, π_gen = π_ref",
    "post_response": "post-response (reply is organic π_ref)",
    "organic": "organic π_ref reply, no auction",
    "pi_star": "exact π* (MOSAIC as M → ∞)",
}


def _style(label, context_index):
    if label.startswith("mosaic_context"):
        colour = CONTEXT_COLOURS[context_index % len(CONTEXT_COLOURS)]
        return {"color": colour, "marker": "^"}, f"MOSAIC, π_gen = π_con, {label.split(' ')[1]}"
    return dict(STYLES[label]), LABELS[label]


def _plot_metric(axis, rows, metric, style, label, linestyle=None):
    grouped = rows.groupby("log_odds_gap")[metric]
    means = grouped.mean()
    if means.isna().all():
        return
    intervals = [sq.interval(values)["ci95"] for _, values in grouped]
    lower = [0.0 if low is None else max(mean - low, 0.0) for (low, _), mean in zip(intervals, means)]
    upper = [0.0 if high is None else max(high - mean, 0.0) for (_, high), mean in zip(intervals, means)]
    style = dict(style)
    if linestyle is not None:
        style["linestyle"] = linestyle
    axis.errorbar(means.index, means.to_numpy(), yerr=[lower, upper], markersize=4, capsize=2, label=label, **style)


def plot_incumbency(table, summary, path):
    """Plot the entrant's shares, both brands' payments and utilities against the log-odds gap."""
    figure = Figure(figsize=(13, 10))
    axes = figure.subplots(2, 2)
    share_axis, value_axis, payment_axis, utility_axis = axes.ravel()

    context_index = 0
    for label, rows in _series(table):
        style, name = _style(label, context_index)
        if label.startswith("mosaic_context"):
            context_index += 1
        _plot_metric(share_axis, rows, "entrant_mention_share", style, name)
        _plot_metric(value_axis, rows, "entrant_value_share", style, name)
        if label == "post_response":
            _plot_metric(share_axis, rows, "entrant_ad_share", {**style, "marker": "D"},
                         "post-response: entrant's share of placements", linestyle="--")
        if label in ("organic", "pi_star"):
            continue
        _plot_metric(payment_axis, rows, "entrant_payment", style, f"{name}: entrant")
        _plot_metric(payment_axis, rows, "incumbent_payment", {**style, "marker": "x"}, f"{name}: incumbent",
                     linestyle="--")
        _plot_metric(utility_axis, rows, "entrant_utility", style, f"{name}: entrant")
        _plot_metric(utility_axis, rows, "incumbent_utility", {**style, "marker": "x"}, f"{name}: incumbent",
                     linestyle="--")

    parameters = summary["parameters"]
    gap_label = (f"prior gap logit ρ_inc − logit ρ_ent (nats of log-odds); ρ_ent = {parameters['entrant_prior']:g}, "
                 f"ρ_inc up to {max(parameters['incumbent_priors']):g}")
    share_axis.axhline(0.5, color="black", linewidth=0.6)
    share_axis.set(xlabel=gap_label, ylabel="entrant's share (fraction)", ylim=(0, 1),
                   title="Entrant's share of brand mentions in the reply")
    value_axis.axhline(0.5, color="black", linewidth=0.6)
    value_axis.set(xlabel=gap_label, ylabel="entrant's share of delivered value (fraction)",
                   title="Entrant's share of delivered value (ads included)")
    payment_axis.set(xlabel=gap_label, ylabel="payment ($ per query)",
                     title="Payments: entrant (solid) and incumbent (dashed)")
    utility_axis.axhline(0.0, color="black", linewidth=0.6)
    utility_axis.set(xlabel=gap_label, ylabel="expected value − payment ($ per query)",
                     title="Utility: entrant (solid) and incumbent (dashed)")
    payment_axis.set_yscale("log")
    payment_axis.set_ylabel("payment ($ per query, log scale)")

    # One legend for all panels: colour and marker name the mechanism in every panel.
    handles, labels = share_axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, bbox_to_anchor=(0.5, 0.0))
    figure.suptitle(f"Equal values and relevance, τ = ${parameters['tau']:g}, M = {parameters['candidates']}, "
                    f"{parameters['queries']:,} queries per cell, 95 % CI over {parameters['replicates']} replicates",
                    fontsize=10)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the headline table: per mechanism, the entrant's share at both ends, its slope, payment and utility."""
    stream = sys.stdout if stream is None else stream
    print(f"{'mechanism':<26}{'share gap=0':>12}{'share max':>11}{'slope per nat [95% CI]':>28}"
          f"{'ent. pay':>10}{'inc. pay':>10}{'ent. util':>11}{'inc. util':>11}{'ad share':>10}", file=stream)
    for label, figures in summary["mechanisms"].items():
        last = figures["largest_gap"]

        def money(metric):
            value = last[metric]["mean"]
            return "—" if value is None else f"{value:.4f}"

        ad_share = last["entrant_ad_share"]["mean"]
        print(f"{label:<26}{figures['smallest_gap']['entrant_mention_share']['mean']:>12.3f}"
              f"{last['entrant_mention_share']['mean']:>11.3f}"
              f"{_text(figures['slope_per_nat']['entrant_mention_share']):>28}"
              f"{money('entrant_payment'):>10}{money('incumbent_payment'):>10}"
              f"{money('entrant_utility'):>11}{money('incumbent_utility'):>11}"
              f"{'—' if ad_share is None else format(ad_share, '.3f'):>10}", file=stream)
    print(f"money in $ per query at the largest gap ({summary['largest_gap']:.2f} nats); replicates: "
          f"{summary['parameters']['replicates']}, seed: {summary['seeds']['base_seed']}, "
          f"wall time: {summary['wall_seconds']:.1f} s", file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    sq.add_claim_arguments(parser, DEFAULT_OUT, DEFAULT_REPLICATES, QUICK_REPLICATES)


def context_strengths(beta):
    """Return the β grid {β/2, β, 2β} of the scenario's MOSAIC platform (β = 0 gives just 0)."""
    return tuple(sorted({beta / 2, beta, 2 * beta}))


def incumbent_priors(entrant_prior, points):
    """Return ``points`` incumbent priors evenly spaced from the entrant's prior to `MAX_INCUMBENT_PRIOR`."""
    if not 0 < entrant_prior < MAX_INCUMBENT_PRIOR:
        raise ScenarioError(
            f"'advertisers.entrant_prior' = {entrant_prior} must lie in (0, {MAX_INCUMBENT_PRIOR}) for the "
            "incumbency experiment, which raises the incumbent's prior from it to "
            f"{MAX_INCUMBENT_PRIOR}; lower it"
        )
    return tuple(float(prior) for prior in np.linspace(entrant_prior, MAX_INCUMBENT_PRIOR, points))


def execute(arguments):
    """Run the experiment with the parsed command-line arguments and return its summary."""
    scenario = resolve_scenario(arguments)
    points, queries, replicates = ((QUICK_PRIOR_POINTS, QUICK_QUERIES, QUICK_REPLICATES) if arguments.quick
                                   else (PRIOR_POINTS, QUERIES, DEFAULT_REPLICATES))
    settings = Settings(
        incumbent_priors=incumbent_priors(scenario.advertisers.entrant_prior, points),
        context_strengths=context_strengths(sq.mosaic_platform(scenario).context_strength),
        queries=queries,
        replicates=arguments.seeds or replicates,
        seed=scenario.seed,
        quick=arguments.quick,
    )
    return run(scenario, settings, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.incumbency``."""
    from market.cli import main as cli_main

    return cli_main(["run", "incumbency", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
