r"""Claim test: can an advertiser see what its MOSAIC payment bought, and can audits catch a platform that cheats on τ?

Part 1, influence against payment. The market is drawn from the scenario
(`market.world.build_world`). Each query has an intent around its category's
centroid, and every brand of that category takes part in its auction. Each
MOSAIC auction gives every advertiser i, exactly from the allocation
(`market.mechanisms.mosaic.attribution`):

- its mention lift Σ_j (q_j − q^{ref}_j)·m_ij, the change in the probability
  that the reply names its brand against the reference weights;
- its welfare share (Φ − Φ_{−i}) / Σ_k (Φ − Φ_{−k});
- its payment p_i in dollars (charged in expectation over the final draw).

Per replicate and τ the experiment reports the Pearson and Spearman
correlations of payment with mention lift, and the Pearson correlation of
the payment share p_i / Σ_k p_k with the welfare share. It also reports the
share of all dollars paid by (query, advertiser) pairs whose mention lift is
≤ 0. τ
runs over `TAU_FACTORS` times the scenario's τ.

Part 2, audits. A platform publishes τ but runs τ_actual = ratio·τ for each
ratio in `TAU_RATIOS` (ratio 1 is an honest platform). Each auction is
audited independently with probability s (`market.serving.serve_mosaic`
with ``audit_rate`` = s): the advertisers recompute the auction at the
published τ from its receipt (`mosaic.audit`, tolerance 1e-9). A round is
``--round-auctions`` N auctions; the round is caught when at least one
audit fails. The experiment reports per (ratio, s):

- the measured share of rounds caught, with its 95 % interval over replicates;
- the analytic 1 − (1 − s)^N, which assumes that every audit of a deviating
  platform fails;
- the analytic 1 − (1 − s·d)^N with d the per-audit detection probability,
  measured by auditing every auction of a separate batch. d falls below 1
  when a deviation is too small to move the allocation or the payments by
  more than the tolerance, or when no candidate carries a reward.

Outputs: ``influence.csv`` (per replicate, τ, query and advertiser),
``correlations.csv`` (per replicate and τ), ``audits.csv`` (per replicate,
ratio and s), ``detection.csv`` (per replicate and ratio), ``summary.json``,
``influence.png`` and ``audits.png``.

Run it as ``market run attribution`` or ``python -m experiments.attribution``.
"""

import argparse
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats
from tqdm import tqdm

from experiments import single_query as sq
from experiments.options import resolve_scenario
from experiments.output import prepare_output, provenance, write_json
from experiments.runs import replicate_seeds
from market import serving
from market.mechanisms import mosaic
from market.world import build_world, sample_near

__all__ = ["DESCRIPTION", "FILES", "add_arguments", "audit_rounds", "detection_probability", "execute",
           "influence_pairs", "main", "print_table", "run"]

logger = logging.getLogger(__name__)

DESCRIPTION = "MOSAIC advertisers' measured influence against payment, and the audit catch rate of a τ deviation"
FILES = ("influence.csv", "correlations.csv", "audits.csv", "detection.csv", "summary.json", "influence.png",
         "audits.png")
DEFAULT_OUT = "results/attribution"

TAU_FACTORS = (0.25, 1.0, 4.0)
# τ_actual / τ_published; the smallest deviations sit near the audit tolerance of 1e-9.
TAU_RATIOS = (1.0, 1.0 - 1e-9, 1.0 - 1e-8, 1.0 - 1e-6, 0.99, 0.5)
AUDIT_RATES = (0.0, 0.001, 0.01, 0.05, 0.2)
DEFAULT_ROUND_AUCTIONS = 100

INFLUENCE_QUERIES = 2_000
QUICK_INFLUENCE_QUERIES = 300
ROUNDS = 80
QUICK_ROUNDS = 30
QUICK_ROUND_AUCTIONS = 50
DETECTION_AUCTIONS = 500
QUICK_DETECTION_AUCTIONS = 150
DEFAULT_REPLICATES = 5
QUICK_REPLICATES = 2
# Points per τ drawn in the scatter plot.
SCATTER_POINTS = 2_500
# Payments below this many dollars are rounding error of order 1e-16 relative to the rewards.
ROUNDING_PAYMENT = 1e-12


@dataclass(frozen=True)
class Settings:
    """Sizes of one run."""

    influence_queries: int
    rounds: int
    round_auctions: int
    detection_auctions: int
    replicates: int
    seed: int
    quick: bool


def draw_queries(world, embedding, n_queries, rng):
    """Return a category drawn uniformly per query and an intent near its centroid, shapes (Q,) and (Q, d)."""
    category = rng.integers(0, world.n_categories, n_queries)
    intents = sample_near(world.centroids[category], embedding.intent_spread, rng)
    return category, intents


def _eligible(world, category):
    """Return the (Q, B) mask of the brands of each query's category."""
    return world.brand_category[None, :] == category[:, None]


def influence_pairs(world, config, embedding, n_queries, rng):
    """Run ``n_queries`` MOSAIC auctions and return one row per (query, advertiser in the auction).

    Returns
    -------
    pandas.DataFrame
        Columns ``query``, ``brand``, ``incumbent``, ``relevance``,
        ``payment``, ``mention_lift``, ``welfare_share``, ``payment_share``,
        ``truthful_utility`` and ``incremental_value`` (money in dollars).
    """
    category, intents = draw_queries(world, embedding, n_queries, rng)
    slots, _ = sq.query_slots(world, intents, category)
    run = sq.run_mosaic(config, slots, intents, _eligible(world, category), config.tau, config.tau, 0, rng)
    influence = mosaic.attribution(run.outcome, run.mentions)
    payments = run.outcome.payments
    total_payment = payments.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        payment_share = np.where(total_payment > 0, payments / total_payment, np.nan)
    n_slots = slots.brands.shape[1]
    return pd.DataFrame({
        "query": np.repeat(np.arange(n_queries), n_slots),
        "brand": slots.brands.ravel(),
        "incumbent": world.incumbent[slots.brands].ravel(),
        "relevance": slots.relevances.ravel(),
        "payment": payments.ravel(),
        "mention_lift": influence.mention_lift.ravel(),
        "welfare_share": influence.welfare_share.ravel(),
        "payment_share": payment_share.ravel(),
        "truthful_utility": run.outcome.utilities.ravel(),
        "incremental_value": sq.incremental_values(run, config.tau).ravel(),
    })


def correlations(pairs):
    """Return how closely payment tracks measured influence over a table of `influence_pairs`."""
    def pearson(x, y):
        usable = np.isfinite(x) & np.isfinite(y)
        if usable.sum() < 3 or np.ptp(x[usable]) == 0 or np.ptp(y[usable]) == 0:
            return float("nan")
        return float(stats.pearsonr(x[usable], y[usable]).statistic)

    payment = pairs["payment"].to_numpy()
    lift = pairs["mention_lift"].to_numpy()
    spearman = stats.spearmanr(payment, lift).statistic if np.ptp(payment) > 0 else float("nan")
    total = payment.sum()
    return {
        "pearson_payment_lift": pearson(payment, lift),
        "spearman_payment_lift": float(spearman),
        "pearson_payment_share_welfare_share": pearson(pairs["payment_share"].to_numpy(),
                                                       pairs["welfare_share"].to_numpy()),
        "payments_without_lift_share": float(payment[lift <= 0].sum() / total) if total > 0 else float("nan"),
        "mean_payment": float(payment.mean()),
        "mean_mention_lift": float(lift.mean()),
        "dollars_per_unit_lift": float(total / lift[lift > 0].sum()) if np.any(lift > 0) else float("nan"),
    }


def audit_rounds(world, config, embedding, weights, ratio, audit_rate, n_rounds, round_auctions, rng):
    """Serve ``n_rounds`` rounds of auctions at τ_actual = ratio·τ with audits; return (caught per round, audits).

    The platform publishes ``config.tau``. A round is caught when at least
    one of its audited receipts fails `mosaic.audit`.
    """
    n_queries = n_rounds * round_auctions
    category, intents = draw_queries(world, embedding, n_queries, rng)
    slots, _ = sq.query_slots(world, intents, category)
    audited = dataclasses.replace(config, audit_rate=audit_rate)
    service = serving.serve_mosaic(audited, slots, intents, _eligible(world, category), weights, config.tau,
                                   ratio * config.tau, 0, rng)
    caught = service.audit_failed.reshape(n_rounds, round_auctions).any(axis=1)
    return caught, int(service.audited.sum())


def detection_probability(world, config, embedding, weights, ratio, n_auctions, rng):
    """Return the share of audits that fail when every auction is audited at τ_actual = ratio·τ."""
    category, intents = draw_queries(world, embedding, n_auctions, rng)
    slots, _ = sq.query_slots(world, intents, category)
    audited = dataclasses.replace(config, audit_rate=1.0)
    service = serving.serve_mosaic(audited, slots, intents, _eligible(world, category), weights, config.tau,
                                   ratio * config.tau, 0, rng)
    return float(service.audit_failed.mean())


# ---------------------------------------------------------------------------
# The run


def _grids(config):
    """Return the τ ratios and audit rates to run: the module grids plus the scenario's own, if it sets them."""
    ratios = list(TAU_RATIOS)
    if config.tau_actual is not None and config.tau_actual / config.tau not in ratios:
        ratios.append(config.tau_actual / config.tau)
    rates = list(AUDIT_RATES)
    if config.audit_rate > 0 and config.audit_rate not in rates:
        rates = sorted([*rates, config.audit_rate])
    return ratios, rates


def run(scenario, settings, out, overwrite=False, progress=True):
    """Run both parts for every replicate and write the seven result files to ``out``; return the summary."""
    out = prepare_output(out, FILES, overwrite)
    base = dataclasses.replace(sq.mosaic_platform(scenario), base_quality=0.0, audit_rate=0.0, tau_actual=None)
    ratios, rates = _grids(sq.mosaic_platform(scenario))
    taus = [factor * base.tau for factor in TAU_FACTORS]
    seeds = replicate_seeds(settings.seed, settings.replicates)
    logger.info("attribution: τ in %s, ratios %s, audit rates %s, %d replicates, seed %d -> %s",
                taus, ratios, rates, settings.replicates, settings.seed, out)
    started = time.perf_counter()

    n_cells = 1 + len(taus) + len(ratios) * (1 + len(rates))
    pair_frames, correlation_rows, detection_rows, audit_rows = [], [], [], []
    bar = tqdm(total=settings.replicates * n_cells, desc="cells", unit="cell", disable=not progress,
               file=sys.stderr)
    try:
        for replicate, seed in enumerate(seeds):
            generators = iter(sq.cell_generators(seed, n_cells))
            world = build_world(scenario.embedding, scenario.advertisers, next(generators))
            bar.update(1)
            for tau in taus:
                pairs = influence_pairs(world, dataclasses.replace(base, tau=tau), scenario.embedding,
                                        settings.influence_queries, next(generators))
                pair_frames.append(pairs.assign(replicate=replicate, seed=seed, tau=tau))
                correlation_rows.append({"replicate": replicate, "seed": seed, "tau": tau, **correlations(pairs)})
                bar.update(1)
            for ratio in ratios:
                detection = detection_probability(world, base, scenario.embedding, scenario.utility, ratio,
                                                  settings.detection_auctions, next(generators))
                detection_rows.append({"replicate": replicate, "seed": seed, "tau_ratio": ratio,
                                       "relative_deviation": abs(ratio - 1.0),
                                       "audited_auctions": settings.detection_auctions,
                                       "detection_probability": detection})
                bar.update(1)
                for rate in rates:
                    caught, audits = audit_rounds(world, base, scenario.embedding, scenario.utility, ratio, rate,
                                                  settings.rounds, settings.round_auctions, next(generators))
                    audit_rows.append({
                        "replicate": replicate, "seed": seed, "tau_ratio": ratio,
                        "relative_deviation": abs(ratio - 1.0), "audit_rate": rate, "rounds": settings.rounds,
                        "round_auctions": settings.round_auctions, "audits": audits,
                        "caught_rounds": int(caught.sum()), "catch_rate": float(caught.mean()),
                        "analytic_every_audit_fails": _analytic(rate, 1.0 if ratio != 1.0 else 0.0,
                                                                settings.round_auctions),
                        "analytic_with_detection": _analytic(rate, detection, settings.round_auctions),
                    })
                    bar.update(1)
    finally:
        bar.close()

    pairs = pd.concat(pair_frames, ignore_index=True)
    pairs = pairs[["replicate", "seed", "tau", *[column for column in pairs.columns
                                                 if column not in ("replicate", "seed", "tau")]]]
    correlation_table = pd.DataFrame(correlation_rows)
    detection_table = pd.DataFrame(detection_rows)
    audit_table = pd.DataFrame(audit_rows)
    pairs.to_csv(out / "influence.csv", index=False)
    correlation_table.to_csv(out / "correlations.csv", index=False)
    detection_table.to_csv(out / "detection.csv", index=False)
    audit_table.to_csv(out / "audits.csv", index=False)

    summary = summarise(correlation_table, detection_table, audit_table, base, settings, scenario,
                        time.perf_counter() - started)
    write_json(out / "summary.json", summary)
    plot_influence(pairs, correlation_table, out / "influence.png")
    plot_audits(audit_table, detection_table, settings, out / "audits.png")
    return summary


def _analytic(audit_rate, detection, round_auctions):
    """Return 1 − (1 − s·d)^N: the chance that a round of N auctions, each audited with probability s, is caught."""
    return float(1.0 - (1.0 - audit_rate * detection) ** round_auctions)


CORRELATION_METRICS = ("pearson_payment_lift", "spearman_payment_lift", "pearson_payment_share_welfare_share",
                       "payments_without_lift_share", "mean_payment", "mean_mention_lift", "dollars_per_unit_lift")


def summarise(correlation_table, detection_table, audit_table, base, settings, scenario, wall_seconds):
    """Return the headline figures: correlations per τ, detection per ratio and catch rates per (ratio, s)."""
    influence = {}
    for tau, rows in correlation_table.groupby("tau", sort=True):
        influence[f"{tau:g}"] = {"tau": tau, **{metric: sq.interval(rows[metric]) for metric in CORRELATION_METRICS}}
    detection = {}
    for ratio, rows in detection_table.groupby("tau_ratio", sort=False):
        detection[repr(ratio)] = {"tau_ratio": ratio, "relative_deviation": abs(ratio - 1.0),
                                  "detection_probability": sq.interval(rows["detection_probability"])}
    audits = []
    for (ratio, rate), rows in audit_table.groupby(["tau_ratio", "audit_rate"], sort=False):
        mean_detection = detection[repr(ratio)]["detection_probability"]["mean"]
        audits.append({
            "tau_ratio": ratio,
            "relative_deviation": abs(ratio - 1.0),
            "audit_rate": rate,
            "catch_rate": sq.interval(rows["catch_rate"]),
            "analytic_every_audit_fails": _analytic(rate, 1.0 if ratio != 1.0 else 0.0, settings.round_auctions),
            "analytic_with_detection": _analytic(rate, mean_detection, settings.round_auctions),
            "mean_audits_per_round": float(rows["audits"].mean() / settings.rounds),
        })
    summary = {
        "experiment": "attribution",
        "parameters": {
            "quick": settings.quick,
            "taus": sorted(correlation_table["tau"].unique().tolist()),
            "published_tau": base.tau,
            "tau_ratios": list(detection_table["tau_ratio"].unique()),
            "audit_rates": sorted(audit_table["audit_rate"].unique().tolist()),
            "influence_queries": settings.influence_queries,
            "rounds": settings.rounds,
            "round_auctions": settings.round_auctions,
            "detection_auctions": settings.detection_auctions,
            "replicates": settings.replicates,
            "generator": base.generator,
            "candidates": base.candidates,
            "context_strength": base.context_strength,
        },
        "seeds": {"base_seed": settings.seed, "replicate_seeds": replicate_seeds(settings.seed, settings.replicates)},
        "influence": influence,
        "detection": detection,
        "audits": audits,
        "wall_seconds": round(wall_seconds, 3),
        "units": {"payment": "dollars per auction", "mention_lift": "probability", "tau": "dollars",
                  "catch_rate": "share of rounds with at least one failed audit"},
        "provenance": provenance(),
        "scenario": scenario.to_dict(),
    }
    summary["findings"] = _findings(summary)
    return summary


def _findings(summary):
    """Return plain sentences on what the run measured."""
    findings = []
    for figures in summary["influence"].values():
        findings.append(
            f"τ = ${figures['tau']:g}: payment vs mention lift Pearson {_text(figures['pearson_payment_lift'])}, "
            f"Spearman {_text(figures['spearman_payment_lift'])}; payment share vs welfare share Pearson "
            f"{_text(figures['pearson_payment_share_welfare_share'])}; "
            f"{_text(figures['payments_without_lift_share'])} of the dollars paid came from pairs with no positive "
            "mention lift."
        )
    round_auctions = summary["parameters"]["round_auctions"]
    for entry in summary["audits"]:
        if entry["audit_rate"] == 0:
            continue
        findings.append(
            f"τ_actual/τ = {entry['tau_ratio']:.12g}, audit rate {entry['audit_rate']:g}: caught in "
            f"{_text(entry['catch_rate'])} of rounds of {round_auctions} auctions; analytic "
            f"{entry['analytic_every_audit_fails']:.3f} if every audit fails, {entry['analytic_with_detection']:.3f} "
            "with the measured detection probability."
        )
    return findings


def _text(figures, spec=".3f"):
    if figures["mean"] is None:
        return "n/a"
    low, high = figures["ci95"]
    if low is None:
        return format(figures["mean"], spec)
    return f"{figures['mean']:{spec}} [{low:{spec}}, {high:{spec}}]"


# ---------------------------------------------------------------------------
# Figures and table


def plot_influence(pairs, correlation_table, path):
    """Scatter payment against mention lift and payment share against welfare share; bar-chart the correlations."""
    figure = Figure(figsize=(16, 5.2))
    lift_axis, share_axis, bar_axis = figure.subplots(1, 3)
    rng = np.random.default_rng(0)
    taus = sorted(pairs["tau"].unique())
    colours = {tau: f"C{index}" for index, tau in enumerate(taus)}
    for tau in taus:
        rows = pairs[pairs["tau"] == tau]
        shown = rows.iloc[rng.permutation(len(rows))[:SCATTER_POINTS]]
        paying = shown[shown["payment"] > ROUNDING_PAYMENT]
        lift_axis.scatter(paying["payment"], paying["mention_lift"], s=4, alpha=0.35, color=colours[tau],
                          label=f"τ = ${tau:g}")
        share_axis.scatter(shown["welfare_share"], shown["payment_share"], s=4, alpha=0.35, color=colours[tau],
                           label=f"τ = ${tau:g}")
    lift_axis.axhline(0.0, color="black", linewidth=0.6)
    lift_axis.set_xscale("log")
    lift_axis.set(xlabel=f"payment per auction (dollars, log scale; below {ROUNDING_PAYMENT:g} dollars left out)",
                  ylabel="mention lift (change in mention probability)",
                  title="Measured influence against payment")
    lift_axis.legend(loc="upper left", fontsize=8, markerscale=3)
    share_axis.plot([0, 1], [0, 1], color="black", linewidth=0.8, linestyle="--", label="payment share = welfare share")
    share_axis.set(xlabel="welfare share (Φ − Φ₋ᵢ) / Σₖ(Φ − Φ₋ₖ)", ylabel="payment share pᵢ / Σₖ pₖ",
                   title="Share of payments against share of contribution")
    share_axis.legend(loc="upper left", fontsize=8, markerscale=3)

    metrics = (("pearson_payment_lift", "Pearson(payment, lift)"),
               ("spearman_payment_lift", "Spearman(payment, lift)"),
               ("pearson_payment_share_welfare_share", "Pearson(payment share, welfare share)"),
               ("payments_without_lift_share", "share of $ paid with lift ≤ 0"))
    width = 0.8 / len(metrics)
    positions = np.arange(len(taus))
    lowest = 0.0
    for index, (metric, label) in enumerate(metrics):
        means, errors = [], [[], []]
        for tau in taus:
            figures = sq.interval(correlation_table[correlation_table["tau"] == tau][metric])
            means.append(figures["mean"])
            low, high = figures["ci95"]
            errors[0].append(0.0 if low is None else figures["mean"] - low)
            errors[1].append(0.0 if high is None else high - figures["mean"])
            lowest = min(lowest, figures["mean"] - errors[0][-1])
        bar_axis.bar(positions + (index - (len(metrics) - 1) / 2) * width, means, width=width, yerr=errors,
                     capsize=2, label=label)
    bar_axis.axhline(0.0, color="black", linewidth=0.6)
    bar_axis.set_xticks(positions, [f"τ = ${tau:g}" for tau in taus])
    bar_axis.set(xlabel="MOSAIC temperature τ", ylabel="correlation or share (dimensionless)",
                 title="Per-replicate statistics, 95 % CI", ylim=(max(-1.05, lowest - 0.1), 1.2))
    bar_axis.legend(loc="upper center", ncol=2, fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_audits(audit_table, detection_table, settings, path):
    """Plot the measured and analytic catch rate by audit rate per τ deviation, and the per-audit detection."""
    figure = Figure(figsize=(13, 5.2))
    catch_axis, detection_axis = figure.subplots(1, 2)
    rates = sorted(audit_table["audit_rate"].unique())
    positions = np.arange(len(rates))
    ratios = list(detection_table["tau_ratio"].unique())
    for index, ratio in enumerate(ratios):
        rows = audit_table[audit_table["tau_ratio"] == ratio]
        colour = f"C{index}"
        means, lower, upper, analytic = [], [], [], []
        for rate in rates:
            at = rows[rows["audit_rate"] == rate]
            figures = sq.interval(at["catch_rate"])
            low, high = figures["ci95"]
            means.append(figures["mean"])
            lower.append(0.0 if low is None else max(figures["mean"] - low, 0.0))
            upper.append(0.0 if high is None else max(high - figures["mean"], 0.0))
            analytic.append(at["analytic_with_detection"].mean())
        label = "honest (τ_actual = τ)" if ratio == 1.0 else f"τ_actual/τ = {ratio:.12g}"
        catch_axis.errorbar(positions + 0.04 * (index - len(ratios) / 2), means, yerr=[lower, upper], fmt="o",
                            markersize=4, capsize=2, color=colour, label=f"{label}: measured")
        catch_axis.plot(positions, analytic, color=colour, linewidth=1.0, alpha=0.8)
    naive = [_analytic(rate, 1.0, settings.round_auctions) for rate in rates]
    catch_axis.plot(positions, naive, color="black", linestyle="--", linewidth=1.0,
                    label=f"1 − (1 − s)^{settings.round_auctions} (every audit fails)")
    catch_axis.plot([], [], color="grey", linewidth=1.0, label="1 − (1 − s·d)^N with measured d (line per ratio)")
    catch_axis.set_xticks(positions, [f"{rate:g}" for rate in rates])
    catch_axis.set(xlabel="audit rate s (share of auctions audited)",
                   ylabel=f"share of rounds caught ({settings.round_auctions} auctions per round)",
                   title="Audit catch rate per round, 95 % CI over replicates", ylim=(-0.05, 1.05))
    catch_axis.legend(loc="upper left", fontsize=7)

    grouped = detection_table.groupby("tau_ratio", sort=False)["detection_probability"]
    means = grouped.mean()
    detection_positions = np.arange(len(means))
    intervals = [sq.interval(values)["ci95"] for _, values in grouped]
    errors = [[0.0 if low is None else max(mean - low, 0.0) for (low, _), mean in zip(intervals, means)],
              [0.0 if high is None else max(high - mean, 0.0) for (_, high), mean in zip(intervals, means)]]
    detection_axis.bar(detection_positions, means.to_numpy(), yerr=errors, capsize=3, color="tab:purple", alpha=0.7,
                       label="per-audit detection probability d, 95 % CI")
    detection_axis.set_xticks(detection_positions,
                              [f"{ratio:.12g}\n|Δτ|/τ = {abs(ratio - 1):.0e}" for ratio in means.index], fontsize=7,
                              rotation=20)
    detection_axis.set(xlabel="τ_actual / τ_published", ylabel="share of audited auctions that fail",
                       title="Detection probability of one audit (tolerance 1e-9)", ylim=(0, 1.05))
    detection_axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the headline tables: correlations per τ, then detection and catch rates per deviation."""
    stream = sys.stdout if stream is None else stream
    print(f"{'tau':>8}{'Pearson(pay, lift)':>28}{'Spearman(pay, lift)':>28}{'Pearson(shares)':>28}"
          f"{'$ with lift<=0':>26}", file=stream)
    for figures in summary["influence"].values():
        print(f"{figures['tau']:>8g}{_text(figures['pearson_payment_lift']):>28}"
              f"{_text(figures['spearman_payment_lift']):>28}"
              f"{_text(figures['pearson_payment_share_welfare_share']):>28}"
              f"{_text(figures['payments_without_lift_share']):>26}", file=stream)
    print(file=stream)
    round_auctions = summary["parameters"]["round_auctions"]
    print(f"{'tau_actual/tau':>16}{'detection d':>24}{'audit s':>9}{'caught [95% CI]':>28}"
          f"{'1-(1-s)^N':>11}{'1-(1-sd)^N':>12}", file=stream)
    for entry in summary["audits"]:
        detection = summary["detection"][repr(entry["tau_ratio"])]["detection_probability"]
        print(f"{entry['tau_ratio']:>16.12g}{_text(detection):>24}{entry['audit_rate']:>9g}"
              f"{_text(entry['catch_rate']):>28}{entry['analytic_every_audit_fails']:>11.3f}"
              f"{entry['analytic_with_detection']:>12.3f}", file=stream)
    print(f"N = {round_auctions} auctions per round; replicates: {summary['parameters']['replicates']}, "
          f"seed: {summary['seeds']['base_seed']}, wall time: {summary['wall_seconds']:.1f} s", file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    sq.add_claim_arguments(parser, DEFAULT_OUT, DEFAULT_REPLICATES, QUICK_REPLICATES)
    parser.add_argument("--round-auctions", type=_positive_int, default=None, metavar="N",
                        help=f"auctions per audit round (default: {DEFAULT_ROUND_AUCTIONS}, or "
                             f"{QUICK_ROUND_AUCTIONS} with --quick)")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def execute(arguments):
    """Run the experiment with the parsed command-line arguments and return its summary."""
    scenario = resolve_scenario(arguments)
    if arguments.quick:
        settings = Settings(QUICK_INFLUENCE_QUERIES, QUICK_ROUNDS, arguments.round_auctions or QUICK_ROUND_AUCTIONS,
                            QUICK_DETECTION_AUCTIONS, arguments.seeds or QUICK_REPLICATES, scenario.seed, True)
    else:
        settings = Settings(INFLUENCE_QUERIES, ROUNDS, arguments.round_auctions or DEFAULT_ROUND_AUCTIONS,
                            DETECTION_AUCTIONS, arguments.seeds or DEFAULT_REPLICATES, scenario.seed, False)
    return run(scenario, settings, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.attribution``."""
    from market.cli import main as cli_main

    return cli_main(["run", "attribution", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
