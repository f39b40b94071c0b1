r"""Validation: search for profitable misreports in MOSAIC and the power-diagram auction.

MOSAIC. Each random instance draws M candidates, n advertisers, τ, a reward
scale s, rewards and log-probabilities (`draw_mosaic_instance`). Half of the
instances have rewards in [0, s]. The other half have rewards in [−s, s], as
when an advertiser's reward penalises a competitor's mention. For each
advertiser i the others report truthfully, and i tries every misreport of
four families:

- ``scaled``: r_i·c for c in `SCALE_FACTORS`;
- ``shifted``: r_i + c·s for c in `SHIFTS`;
- ``random``: fresh uniform reports over the instance's reward range, and
  the truth plus normal noise of standard deviation 0.1·s;
- ``drop_out``: 0 on every candidate.

The utility of a report is Σ_j q_j r_i^{true}(y_j) − p_i, in expectation over
the final draw, as `mosaic.run_auction` charges it. The gain of a misreport is
its utility minus the truthful utility, divided by s. A gain above
`GAIN_TOLERANCE` counts as a profitable misreport. Individual rationality (IR)
fails for a pair (instance, advertiser) when the truthful utility is below
−`GAIN_TOLERANCE`·s.

Power diagram. Each random instance places n advertisers' true centres, reaches
and values in R^d and draws intents near the centres (`draw_power_instance`).
An advertiser's true value for an impression at x is
v_i·exp(−‖x − c_i‖²/σ_i²). With the others truthful, advertiser i misreports
its bid (×c), its centre (moved by ε·σ_i in random unit directions) or its
reach (×c), at each relevance weight λ in `RELEVANCE_WEIGHTS`. Utilities are
means over the instance's intents. Gains are divided by the largest true value
at a centre in the instance.

Outputs in the output folder:

- ``misreports.csv``: per replicate, mechanism, setting, instance, advertiser
  and family, the largest gain and the report that achieved it;
- ``truthful_utilities.csv``: per replicate, mechanism, setting, instance and
  advertiser, the truthful utility and the instance's size;
- ``summary.json``: parameters, seeds, the largest gain per family with
  whether a profitable misreport was found, IR violation rates with 95 %
  confidence intervals over replicates, and provenance;
- ``misreport_gains.png`` and ``individual_rationality.png``.

Run it as ``market run truthfulness`` or ``python -m experiments.truthfulness``.
"""

import argparse
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats
from tqdm import tqdm

from experiments.options import add_output_arguments
from experiments.output import prepare_output, provenance, write_json
from market.mechanisms import mosaic, power_diagram

__all__ = [
    "DESCRIPTION",
    "FILES",
    "add_arguments",
    "draw_mosaic_instance",
    "draw_power_instance",
    "execute",
    "main",
    "mosaic_misreport_gains",
    "power_misreport_gains",
    "print_table",
    "run",
]

logger = logging.getLogger(__name__)

DESCRIPTION = "search for profitable misreports and IR violations in MOSAIC and the power-diagram auction"
FILES = ("misreports.csv", "truthful_utilities.csv", "summary.json", "misreport_gains.png",
         "individual_rationality.png")
DEFAULT_OUT = "results/truthfulness"

DEFAULT_SEED = 20260802
DEFAULT_REPLICATES = 5
QUICK_REPLICATES = 2

# A gain (or an IR shortfall) counts only above this share of the reward or value scale.
GAIN_TOLERANCE = 1e-9

# MOSAIC instances: M = ⌊exp U(0, log 65)⌋ (roughly log-uniform on 1..64), n uniform in 1..6, reward scale s
# log-uniform in [$0.001, $1,000], τ/s log-uniform in [0.01, 100].
MOSAIC_INSTANCES = 2_000
QUICK_MOSAIC_INSTANCES = 150
MAX_CANDIDATES = 64
MAX_ADVERTISERS = 6
REWARD_SCALE_RANGE = (1e-3, 1e3)
TAU_RATIO_RANGE = (1e-2, 1e2)
# Standard deviation of log π_ref and log π_gen, drawn per instance from [0, 3].
MAX_LOG_PROBABILITY_SPREAD = 3.0
REWARD_REGIMES = ("non-negative", "possibly negative")

SCALE_FACTORS = (-1.0, 0.1, 0.5, 0.9, 0.99, 1.01, 1.1, 2.0, 10.0)
SHIFTS = (-1.0, -0.1, -1e-3, 1e-3, 0.1, 1.0)
FRESH_RANDOM_REPORTS = 4
PERTURBED_REPORTS = 4
PERTURBATION_SD = 0.1
MOSAIC_FAMILIES = ("scaled", "shifted", "random", "drop_out")

# Power-diagram instances: n uniform in 2..6, dimension d from {2, 4, 8}.
POWER_INSTANCES = 120
QUICK_POWER_INSTANCES = 12
POWER_QUERIES = 200
QUICK_POWER_QUERIES = 60
MAX_BIDDERS = 6
DIMENSIONS = (2, 4, 8)
# Reach σ_i = √d·U(0.4, 1.2). Each intent is a random bidder's centre plus N(0, 0.7²·I).
REACH_RANGE = (0.4, 1.2)
INTENT_SPREAD = 0.7
VALUE_RANGE = (0.1, 10.0)
RELEVANCE_WEIGHTS = (0.5, 1.0, 2.0)
BID_MULTIPLIERS = (0.25, 0.5, 0.8, 0.95, 1.05, 1.25, 2.0, 4.0)
CENTRE_STEPS = (0.05, 0.2, 0.5)
CENTRE_DIRECTIONS = 4
REACH_MULTIPLIERS = (0.5, 0.8, 0.95, 1.05, 1.25, 2.0)
POWER_FAMILIES = ("bid", "centre", "reach")


@dataclass(frozen=True)
class Settings:
    """Sizes of one run."""

    mosaic_instances: int
    power_instances: int
    power_queries: int
    replicates: int
    seed: int
    quick: bool


# ---------------------------------------------------------------------------
# MOSAIC


@dataclass(frozen=True)
class MosaicInstance:
    """One random MOSAIC auction: true rewards (M, n) in dollars and candidate log-probabilities (M,)."""

    rewards: np.ndarray
    log_p_ref: np.ndarray
    log_p_gen: np.ndarray
    tau: float
    scale: float
    regime: str


def draw_mosaic_instance(rng, regime):
    """Draw one MOSAIC instance with rewards in [0, s] or, for "possibly negative", in [−s, s]."""
    n_candidates = int(np.clip(np.floor(np.exp(rng.uniform(0.0, np.log(MAX_CANDIDATES + 1)))), 1, MAX_CANDIDATES))
    n_advertisers = int(rng.integers(1, MAX_ADVERTISERS + 1))
    scale = float(np.exp(rng.uniform(*np.log(REWARD_SCALE_RANGE))))
    tau = scale * float(np.exp(rng.uniform(*np.log(TAU_RATIO_RANGE))))
    low = -1.0 if regime == "possibly negative" else 0.0
    rewards = scale * rng.uniform(low, 1.0, size=(n_candidates, n_advertisers))
    spread_ref, spread_gen = rng.uniform(0.0, MAX_LOG_PROBABILITY_SPREAD, size=2)
    return MosaicInstance(
        rewards=rewards,
        log_p_ref=spread_ref * rng.standard_normal(n_candidates),
        log_p_gen=spread_gen * rng.standard_normal(n_candidates),
        tau=tau,
        scale=float(np.abs(rewards).max()),
        regime=regime,
    )


def mosaic_misreports(instance, rng):
    """Return every misreport of every advertiser, shape (n, V, M), with the family and label of each of the V."""
    rewards, scale = instance.rewards, instance.scale
    n_candidates, n_advertisers = rewards.shape
    truth = rewards.T[:, None, :]  # (n, 1, M)
    low = -1.0 if instance.regime == "possibly negative" else 0.0

    blocks, families, labels = [], [], []
    blocks.append(truth * np.asarray(SCALE_FACTORS)[None, :, None])
    families += ["scaled"] * len(SCALE_FACTORS)
    labels += [f"x{factor:g}" for factor in SCALE_FACTORS]

    blocks.append(truth + scale * np.asarray(SHIFTS)[None, :, None])
    families += ["shifted"] * len(SHIFTS)
    labels += [f"{shift:+g}s" for shift in SHIFTS]

    blocks.append(scale * rng.uniform(low, 1.0, size=(n_advertisers, FRESH_RANDOM_REPORTS, n_candidates)))
    blocks.append(truth + PERTURBATION_SD * scale * rng.standard_normal((n_advertisers, PERTURBED_REPORTS, n_candidates)))
    families += ["random"] * (FRESH_RANDOM_REPORTS + PERTURBED_REPORTS)
    labels += [f"uniform {k}" for k in range(FRESH_RANDOM_REPORTS)]
    labels += [f"truth + noise {k}" for k in range(PERTURBED_REPORTS)]

    blocks.append(np.zeros((n_advertisers, 1, n_candidates)))
    families.append("drop_out")
    labels.append("zero")
    return np.concatenate(blocks, axis=1), families, labels


def mosaic_misreport_gains(instance, rng):
    """Return the truthful utilities (n,) and every misreport's gain (n, V), both divided by the reward scale.

    All n·V misreports run as one batch of auctions through `mosaic.run_auction`.
    """
    rewards = instance.rewards
    n_candidates, n_advertisers = rewards.shape
    truthful = mosaic.run_auction(rewards, instance.log_p_ref, instance.log_p_gen, instance.tau)
    truthful_utility = truthful.allocation @ rewards - truthful.payments

    reports, families, labels = mosaic_misreports(instance, rng)
    n_variants = reports.shape[1]
    advertisers = np.arange(n_advertisers)
    # Batch (n, V, M, n): copy the true rewards, then put advertiser i's report in column i of block i.
    batch = np.broadcast_to(rewards, (n_advertisers, n_variants, n_candidates, n_advertisers)).copy()
    batch[advertisers, :, :, advertisers] = reports
    outcome = mosaic.run_auction(
        batch.reshape(-1, n_candidates, n_advertisers),
        np.broadcast_to(instance.log_p_ref, (n_advertisers * n_variants, n_candidates)),
        np.broadcast_to(instance.log_p_gen, (n_advertisers * n_variants, n_candidates)),
        instance.tau,
    )
    allocation = outcome.allocation.reshape(n_advertisers, n_variants, n_candidates)
    payments = outcome.payments.reshape(n_advertisers, n_variants, n_advertisers)[advertisers, :, advertisers]
    misreport_utility = np.einsum("ivm,mi->iv", allocation, rewards) - payments
    gains = (misreport_utility - truthful_utility[:, None]) / instance.scale
    return truthful_utility / instance.scale, gains, families, labels


def run_mosaic_replicate(replicate, seed_sequence, n_instances, bar):
    """Run one replicate of the MOSAIC search and return its misreport rows and truthful-utility rows."""
    rng = np.random.default_rng(seed_sequence)
    misreport_rows, utility_rows = [], []
    for index in range(n_instances):
        regime = REWARD_REGIMES[index % len(REWARD_REGIMES)]
        instance = draw_mosaic_instance(rng, regime)
        truthful_utility, gains, families, labels = mosaic_misreport_gains(instance, rng)
        n_candidates, n_advertisers = instance.rewards.shape
        common = {"replicate": replicate, "mechanism": "mosaic", "relevance_weight": None, "rewards": regime,
                  "instance": index}
        for advertiser in range(n_advertisers):
            utility_rows.append({
                **common, "advertiser": advertiser, "truthful_utility": float(truthful_utility[advertiser]),
                "n_candidates": n_candidates, "n_advertisers": n_advertisers, "tau": instance.tau,
                "scale": instance.scale, "n_queries": None, "dimension": None,
            })
            misreport_rows.extend(_family_rows(common, advertiser, gains[advertiser], families, labels, MOSAIC_FAMILIES))
        bar.update(1)
    return misreport_rows, utility_rows


def _family_rows(common, advertiser, gains, families, labels, family_names):
    """Return one row per family with the largest gain over that family's variants and its label."""
    families = np.asarray(families)
    rows = []
    for family in family_names:
        members = np.flatnonzero(families == family)
        best = members[np.argmax(gains[members])]
        rows.append({**common, "advertiser": advertiser, "family": family, "largest_gain": float(gains[best]),
                     "best_variant": labels[best]})
    return rows


# ---------------------------------------------------------------------------
# Power diagram


@dataclass(frozen=True)
class PowerInstance:
    """True centres (n, d), reaches (n,) and values at the centre (n,) in dollars, and intents (Q, d)."""

    intents: np.ndarray
    centers: np.ndarray
    reaches: np.ndarray
    values: np.ndarray


def draw_power_instance(rng, n_queries):
    """Draw one power-diagram instance whose intents lie near randomly chosen advertisers' centres."""
    n_bidders = int(rng.integers(2, MAX_BIDDERS + 1))
    dimension = int(rng.choice(DIMENSIONS))
    centers = rng.standard_normal((n_bidders, dimension))
    reaches = np.sqrt(dimension) * rng.uniform(*REACH_RANGE, size=n_bidders)
    values = np.exp(rng.uniform(*np.log(VALUE_RANGE), size=n_bidders))
    near = rng.integers(0, n_bidders, size=n_queries)
    intents = centers[near] + INTENT_SPREAD * rng.standard_normal((n_queries, dimension))
    return PowerInstance(intents=intents, centers=centers, reaches=reaches, values=values)


def power_misreports(instance, bidder, rng):
    """Return the V reported (centres (V, d), reaches (V,), bids (V,)) of ``bidder``, with families and labels."""
    centre, reach, value = instance.centers[bidder], instance.reaches[bidder], instance.values[bidder]
    dimension = centre.size
    centres, reaches, bids, families, labels = [], [], [], [], []
    for multiplier in BID_MULTIPLIERS:
        centres.append(centre)
        reaches.append(reach)
        bids.append(value * multiplier)
        families.append("bid")
        labels.append(f"bid x{multiplier:g}")
    directions = rng.standard_normal((len(CENTRE_STEPS), CENTRE_DIRECTIONS, dimension))
    directions /= np.linalg.norm(directions, axis=2, keepdims=True)
    for step, step_directions in zip(CENTRE_STEPS, directions):
        for k, direction in enumerate(step_directions):
            centres.append(centre + step * reach * direction)
            reaches.append(reach)
            bids.append(value)
            families.append("centre")
            labels.append(f"centre +{step:g}σ dir {k}")
    for multiplier in REACH_MULTIPLIERS:
        centres.append(centre)
        reaches.append(reach * multiplier)
        bids.append(value)
        families.append("reach")
        labels.append(f"reach x{multiplier:g}")
    return np.array(centres), np.array(reaches), np.array(bids), families, labels


def power_misreport_gains(instance, relevance_weight, rng):
    """Return the truthful mean utilities (n,) and each bidder's misreport gains (n, V), divided by the max value.

    Each misreport is one call of `power_diagram.run_auction` over all the
    instance's intents, with the bidder's centre, reach and bid replaced and
    the others truthful.
    """
    n_bidders = instance.centers.shape[0]
    distances = power_diagram.squared_distances(instance.intents, instance.centers)
    true_values = instance.values * np.exp(-distances / instance.reaches**2)  # (Q, n)
    truthful = power_diagram.run_auction(instance.intents, instance.centers, instance.reaches, instance.values,
                                         relevance_weight)
    truthful_utility = np.array([_mean_utility(truthful, true_values, bidder) for bidder in range(n_bidders)])

    gains = []
    families = labels = None
    for bidder in range(n_bidders):
        centres, reaches, bids, families, labels = power_misreports(instance, bidder, rng)
        utility = np.empty(bids.size)
        for variant in range(bids.size):
            reported_centres = instance.centers.copy()
            reported_reaches = instance.reaches.copy()
            reported_bids = instance.values.copy()
            reported_centres[bidder] = centres[variant]
            reported_reaches[bidder] = reaches[variant]
            reported_bids[bidder] = bids[variant]
            outcome = power_diagram.run_auction(instance.intents, reported_centres, reported_reaches, reported_bids,
                                                relevance_weight)
            utility[variant] = _mean_utility(outcome, true_values, bidder)
        gains.append(utility - truthful_utility[bidder])
    scale = instance.values.max()
    return truthful_utility / scale, np.array(gains) / scale, families, labels


def _mean_utility(outcome, true_values, bidder):
    """Return the bidder's mean utility over the queries: its true value minus the payment where it wins."""
    won = outcome.winner == bidder
    return float(np.where(won, true_values[:, bidder] - outcome.payment, 0.0).mean())


def run_power_replicate(replicate, seed_sequence, n_instances, n_queries, bar):
    """Run one replicate of the power-diagram search at every λ and return its misreport and truthful-utility rows."""
    rng = np.random.default_rng(seed_sequence)
    misreport_rows, utility_rows = [], []
    for index in range(n_instances):
        instance = draw_power_instance(rng, n_queries)
        n_bidders, dimension = instance.centers.shape
        for relevance_weight in RELEVANCE_WEIGHTS:
            truthful_utility, gains, families, labels = power_misreport_gains(instance, relevance_weight, rng)
            common = {"replicate": replicate, "mechanism": "power_diagram", "relevance_weight": relevance_weight,
                      "rewards": None, "instance": index}
            for bidder in range(n_bidders):
                utility_rows.append({
                    **common, "advertiser": bidder, "truthful_utility": float(truthful_utility[bidder]),
                    "n_candidates": None, "n_advertisers": n_bidders, "tau": None,
                    "scale": float(instance.values.max()), "n_queries": n_queries, "dimension": dimension,
                })
                misreport_rows.extend(_family_rows(common, bidder, gains[bidder], families, labels, POWER_FAMILIES))
            bar.update(1)
    return misreport_rows, utility_rows


# ---------------------------------------------------------------------------
# Run, summary, figures


def run(settings, out, overwrite=False, progress=True):
    """Search every replicate's instances for profitable misreports and write the result files.

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    out = prepare_output(out, FILES, overwrite)
    logger.info("truthfulness: %d MOSAIC and %d power-diagram instances per replicate, %d replicates, seed %d -> %s",
                settings.mosaic_instances, settings.power_instances, settings.replicates, settings.seed, out)
    started = time.perf_counter()

    # Replicate r uses SeedSequence(seed).spawn(replicates)[r]. Its first child seeds MOSAIC and its second the power diagram.
    replicate_seeds = np.random.SeedSequence(settings.seed).spawn(settings.replicates)
    total = settings.replicates * (settings.mosaic_instances + settings.power_instances * len(RELEVANCE_WEIGHTS))
    misreport_rows, utility_rows = [], []
    bar = tqdm(total=total, desc="instances", unit="instance", disable=not progress, file=sys.stderr)
    try:
        for replicate, replicate_seed in enumerate(replicate_seeds):
            mosaic_seed, power_seed = replicate_seed.spawn(2)
            rows = run_mosaic_replicate(replicate, mosaic_seed, settings.mosaic_instances, bar)
            misreport_rows += rows[0]
            utility_rows += rows[1]
            rows = run_power_replicate(replicate, power_seed, settings.power_instances, settings.power_queries, bar)
            misreport_rows += rows[0]
            utility_rows += rows[1]
    finally:
        bar.close()

    misreports = pd.DataFrame(misreport_rows)
    utilities = pd.DataFrame(utility_rows)
    misreports.to_csv(out / "misreports.csv", index=False)
    utilities.to_csv(out / "truthful_utilities.csv", index=False)

    summary = summarise(misreports, utilities, settings, replicate_seeds, time.perf_counter() - started)
    write_json(out / "summary.json", summary)
    plot_gains(misreports, out / "misreport_gains.png")
    plot_individual_rationality(summary, out / "individual_rationality.png")
    return summary


def confidence_interval(values, level=0.95):
    """Return the mean and the Student-t confidence interval of ``values`` ((None, None) for one value)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return {"mean": mean, "ci95": [None, None]}
    half_width = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return {"mean": mean, "ci95": [mean - float(half_width), mean + float(half_width)]}


def _family_summary(rows, scale_name):
    """Return the largest gain of one family, whether it is profitable, and the share of pairs that profit."""
    best = rows.loc[rows["largest_gain"].idxmax()]
    per_replicate = rows.groupby("replicate")["largest_gain"].max()
    profitable = rows["largest_gain"] > GAIN_TOLERANCE
    return {
        "profitable_misreport_found": bool(profitable.any()),
        "largest_gain": float(best["largest_gain"]),
        "largest_gain_per_replicate": confidence_interval(per_replicate.to_numpy()),
        "profitable_share_of_pairs": float(profitable.mean()),
        "profitable_share_per_replicate": confidence_interval(profitable.groupby(rows["replicate"]).mean().to_numpy()),
        "pairs": int(len(rows)),
        "best": {"replicate": int(best["replicate"]), "instance": int(best["instance"]),
                 "advertiser": int(best["advertiser"]), "variant": best["best_variant"]},
        "gain_unit": scale_name,
    }


def _rationality_summary(rows):
    """Return the share of pairs with negative truthful utility and the mean size of those shortfalls."""
    violated = rows["truthful_utility"] < -GAIN_TOLERANCE
    shortfalls = -rows.loc[violated, "truthful_utility"]
    return {
        "violation_share": float(violated.mean()),
        "violation_share_per_replicate": confidence_interval(violated.groupby(rows["replicate"]).mean().to_numpy()),
        "mean_violation_size": float(shortfalls.mean()) if len(shortfalls) else 0.0,
        "largest_violation_size": float(shortfalls.max()) if len(shortfalls) else 0.0,
        "mean_truthful_utility": float(rows["truthful_utility"].mean()),
        "pairs": int(len(rows)),
    }


def summarise(misreports, utilities, settings, replicate_seeds, wall_seconds):
    """Return the headline figures per mechanism and family, the IR rates and the plain-language findings."""
    mosaic_rows = misreports[misreports["mechanism"] == "mosaic"]
    power_rows = misreports[misreports["mechanism"] == "power_diagram"]
    mosaic_utilities = utilities[utilities["mechanism"] == "mosaic"]
    power_utilities = utilities[utilities["mechanism"] == "power_diagram"]

    mosaic_summary = {"families": {}, "families_by_rewards": {}, "individual_rationality": {}}
    for family in MOSAIC_FAMILIES:
        mosaic_summary["families"][family] = _family_summary(mosaic_rows[mosaic_rows["family"] == family],
                                                             "reward scale s")
    for regime in REWARD_REGIMES:
        regime_rows = mosaic_rows[mosaic_rows["rewards"] == regime]
        mosaic_summary["families_by_rewards"][regime] = {
            family: _family_summary(regime_rows[regime_rows["family"] == family], "reward scale s")
            for family in MOSAIC_FAMILIES
        }
        mosaic_summary["individual_rationality"][regime] = _rationality_summary(
            mosaic_utilities[mosaic_utilities["rewards"] == regime])

    power_summary = {}
    for relevance_weight in RELEVANCE_WEIGHTS:
        rows = power_rows[power_rows["relevance_weight"] == relevance_weight]
        power_summary[f"{relevance_weight:g}"] = {
            "relevance_weight": relevance_weight,
            "families": {family: _family_summary(rows[rows["family"] == family], "largest value at a centre")
                         for family in POWER_FAMILIES},
            "individual_rationality": _rationality_summary(
                power_utilities[power_utilities["relevance_weight"] == relevance_weight]),
        }

    return {
        "experiment": "truthfulness",
        "gain_tolerance": GAIN_TOLERANCE,
        "parameters": _parameters(settings),
        "seeds": {
            "base_seed": settings.seed,
            "replicate_seeds": [{"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)} for seed in replicate_seeds],
        },
        "mosaic": mosaic_summary,
        "power_diagram": power_summary,
        "findings": _findings(mosaic_summary, power_summary),
        "wall_seconds": round(wall_seconds, 3),
        "units": {"gain": "utility difference divided by the instance's reward scale (MOSAIC) or largest value "
                          "at a centre (power diagram), so dimensionless",
                  "money": "dollars"},
        "provenance": provenance(),
    }


def _parameters(settings):
    return {
        "quick": settings.quick,
        "replicates": settings.replicates,
        "mosaic": {
            "instances_per_replicate": settings.mosaic_instances,
            "max_candidates": MAX_CANDIDATES,
            "max_advertisers": MAX_ADVERTISERS,
            "reward_scale_range": list(REWARD_SCALE_RANGE),
            "tau_over_scale_range": list(TAU_RATIO_RANGE),
            "max_log_probability_spread": MAX_LOG_PROBABILITY_SPREAD,
            "reward_regimes": {"non-negative": "U(0, 1)·s", "possibly negative": "U(−1, 1)·s"},
            "scale_factors": list(SCALE_FACTORS),
            "shifts_in_units_of_s": list(SHIFTS),
            "fresh_random_reports": FRESH_RANDOM_REPORTS,
            "perturbed_reports": PERTURBED_REPORTS,
            "perturbation_sd_in_units_of_s": PERTURBATION_SD,
        },
        "power_diagram": {
            "instances_per_replicate": settings.power_instances,
            "queries_per_instance": settings.power_queries,
            "max_bidders": MAX_BIDDERS,
            "dimensions": list(DIMENSIONS),
            "reach_range_over_sqrt_d": list(REACH_RANGE),
            "intent_spread": INTENT_SPREAD,
            "value_range": list(VALUE_RANGE),
            "relevance_weights": list(RELEVANCE_WEIGHTS),
            "bid_multipliers": list(BID_MULTIPLIERS),
            "centre_steps_in_units_of_reach": list(CENTRE_STEPS),
            "centre_directions": CENTRE_DIRECTIONS,
            "reach_multipliers": list(REACH_MULTIPLIERS),
        },
    }


def _findings(mosaic_summary, power_summary):
    """Return one plain sentence per mechanism, setting and family on whether a profitable misreport was found."""
    findings = []
    for family, figures in mosaic_summary["families"].items():
        findings.append(f"MOSAIC, {family}: {_verdict(figures, 'the reward scale', 'advertiser')}")
    for regime, figures in mosaic_summary["individual_rationality"].items():
        findings.append(
            f"MOSAIC, {regime} rewards: truthful utility is negative for {figures['violation_share']:.1%} of "
            f"{figures['pairs']:,} (instance, advertiser) pairs, by {figures['mean_violation_size']:.3g} of the "
            f"reward scale on average (largest {figures['largest_violation_size']:.3g})."
        )
    for key, setting in power_summary.items():
        for family, figures in setting["families"].items():
            findings.append(f"Power diagram, λ = {key}, {family}: "
                            f"{_verdict(figures, 'the largest value at a centre', 'bidder')}")
        rationality = setting["individual_rationality"]
        findings.append(f"Power diagram, λ = {key}: truthful utility is negative for "
                        f"{rationality['violation_share']:.1%} of {rationality['pairs']:,} (instance, bidder) pairs.")
    return findings


def _verdict(figures, unit, role):
    if figures["profitable_misreport_found"]:
        return (f"profitable misreport found for {figures['profitable_share_of_pairs']:.1%} of "
                f"{figures['pairs']:,} (instance, {role}) pairs. The largest gain is {figures['largest_gain']:.3g} of {unit} "
                f"({figures['best']['variant']}).")
    return (f"no profitable misreport found in {figures['pairs']:,} (instance, {role}) pairs. The largest gain is "
            f"{figures['largest_gain']:.3g} of {unit} (tolerance {GAIN_TOLERANCE:g}).")


def plot_gains(misreports, path):
    """Box-plot the per-pair largest gain by family, MOSAIC by reward regime and the power diagram by λ."""
    figure = Figure(figsize=(15, 5.6))
    # Width ratios of 8 : 9 give every box the same width (8 MOSAIC boxes, 9 power-diagram boxes).
    mosaic_axis, power_axis = figure.subplots(1, 2, gridspec_kw={"width_ratios": [8, 9]})
    # Every third decade on both sides of the linear band around 0.
    ticks = [-1.0, -1e-3, -1e-6, -1e-9, -1e-12, 0.0, 1e-12, 1e-9, 1e-6, 1e-3, 1.0]

    def draw(axis, groups, labels, colours):
        positions = np.arange(len(groups))
        boxes = axis.boxplot(groups, positions=positions, whis=(0, 100), widths=0.6, patch_artist=True)
        for box, colour in zip(boxes["boxes"], colours):
            box.set_facecolor(colour)
            box.set_alpha(0.6)
        axis.set_xticks(positions, labels, fontsize=8)
        axis.set_yscale("symlog", linthresh=1e-12)
        axis.set_yticks(ticks)
        axis.set_ylim(-2.0, 2.0)
        axis.axhline(GAIN_TOLERANCE, color="red", linestyle="--", linewidth=0.8)
        axis.axhline(0.0, color="black", linewidth=0.5)

    mosaic_rows = misreports[misreports["mechanism"] == "mosaic"]
    groups, labels, colours = [], [], []
    for family in MOSAIC_FAMILIES:
        for regime, short, colour in zip(REWARD_REGIMES, ("r ≥ 0", "r ∈ [−s, s]"), ("tab:blue", "tab:orange")):
            rows = mosaic_rows[(mosaic_rows["family"] == family) & (mosaic_rows["rewards"] == regime)]
            groups.append(rows["largest_gain"].to_numpy())
            labels.append(f"{family}\n{short}")
            colours.append(colour)
    draw(mosaic_axis, groups, labels, colours)
    mosaic_axis.set(xlabel="misreport family and reward range",
                    ylabel="largest gain over truthful reporting\n(fraction of reward scale s, symlog scale)",
                    title="MOSAIC: per (instance, advertiser)")

    power_rows = misreports[misreports["mechanism"] == "power_diagram"]
    groups, labels, colours = [], [], []
    palette = ("tab:green", "tab:purple", "tab:brown")
    for family in POWER_FAMILIES:
        for relevance_weight, colour in zip(RELEVANCE_WEIGHTS, palette):
            rows = power_rows[(power_rows["family"] == family) & (power_rows["relevance_weight"] == relevance_weight)]
            groups.append(rows["largest_gain"].to_numpy())
            labels.append(f"{family}\nλ = {relevance_weight:g}")
            colours.append(colour)
    draw(power_axis, groups, labels, colours)
    power_axis.set(xlabel="misreport family and relevance weight λ",
                   ylabel="largest gain over truthful reporting\n(fraction of largest centre value, symlog scale)",
                   title="Power diagram: per (instance, bidder)")

    handles = [
        Line2D([], [], color="red", linestyle="--", linewidth=0.8,
               label=f"tolerance {GAIN_TOLERANCE:g}: a gain above it is a profitable misreport"),
        Patch(facecolor="white", edgecolor="black", label="box: quartiles; whiskers: minimum to maximum"),
    ]
    figure.legend(handles=handles, loc="lower center", ncol=2, fontsize=8)
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    figure.savefig(path, dpi=120)


def plot_individual_rationality(summary, path):
    """Bar-chart the share of pairs with negative truthful utility, and the mean size of the shortfall."""
    labels, shares, errors, sizes = [], [], [], []
    settings = [(f"MOSAIC\n{regime}", summary["mosaic"]["individual_rationality"][regime])
                for regime in REWARD_REGIMES]
    settings += [(f"power diagram\nλ = {key}", figures["individual_rationality"])
                 for key, figures in summary["power_diagram"].items()]
    for label, figures in settings:
        labels.append(label)
        shares.append(figures["violation_share"])
        interval = figures["violation_share_per_replicate"]
        low, high = interval["ci95"]
        mean = interval["mean"]
        errors.append((0.0, 0.0) if low is None else (max(mean - low, 0.0), max(high - mean, 0.0)))
        sizes.append(figures["mean_violation_size"])

    figure = Figure(figsize=(11, 4.6))
    share_axis, size_axis = figure.subplots(1, 2)
    positions = np.arange(len(labels))
    share_axis.bar(positions, [100 * share for share in shares],
                   yerr=100 * np.array(errors).T, capsize=3, color="tab:red", alpha=0.7,
                   label="share of pairs, 95 % CI over replicates")
    share_axis.bar_label(share_axis.containers[-1], fmt="%.1f", fontsize=8, padding=2)
    share_axis.set_xticks(positions, labels, fontsize=8)
    share_axis.set(ylabel="pairs with negative truthful utility (%)", title="Individual-rationality violations")
    share_axis.legend(loc="upper right", fontsize=8)
    size_axis.bar(positions, sizes, color="tab:gray", label="mean over violating pairs")
    size_axis.bar_label(size_axis.containers[-1], fmt="%.3g", fontsize=8, padding=2)
    size_axis.set_xticks(positions, labels, fontsize=8)
    size_axis.set(ylabel="mean shortfall (fraction of reward or value scale)", title="Size of the violation")
    size_axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the headline table: largest gain and profitable share per family, then the IR rates."""
    stream = sys.stdout if stream is None else stream
    print(f"{'mechanism':<16}{'setting':<10}{'family':<10}{'largest gain':>14}{'profitable':>12}{'found':>7}",
          file=stream)
    for family, figures in summary["mosaic"]["families"].items():
        print(f"{'mosaic':<16}{'all':<10}{family:<10}{figures['largest_gain']:>14.3g}"
              f"{figures['profitable_share_of_pairs']:>12.2%}{_yes_no(figures):>7}", file=stream)
    for key, setting in summary["power_diagram"].items():
        for family, figures in setting["families"].items():
            print(f"{'power_diagram':<16}{'λ=' + key:<10}{family:<10}{figures['largest_gain']:>14.3g}"
                  f"{figures['profitable_share_of_pairs']:>12.2%}{_yes_no(figures):>7}", file=stream)
    print(file=stream)
    print(f"{'IR':<16}{'setting':<20}{'violations [95% CI]':>28}{'mean size':>11}", file=stream)
    rows = [("mosaic", regime, figures) for regime, figures in summary["mosaic"]["individual_rationality"].items()]
    rows += [("power_diagram", f"λ={key}", setting["individual_rationality"])
             for key, setting in summary["power_diagram"].items()]
    for mechanism, setting, figures in rows:
        low, high = figures["violation_share_per_replicate"]["ci95"]
        interval = "" if low is None else f" [{low:.2%}, {high:.2%}]"
        print(f"{mechanism:<16}{setting:<20}{figures['violation_share']:>10.2%}{interval:>18}"
              f"{figures['mean_violation_size']:>11.3g}", file=stream)
    print(f"gain tolerance: {summary['gain_tolerance']:g}; replicates: {summary['parameters']['replicates']}, "
          f"seed: {summary['seeds']['base_seed']}, wall time: {summary['wall_seconds']:.1f} s", file=stream)


def _yes_no(figures):
    return "yes" if figures["profitable_misreport_found"] else "no"


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    add_output_arguments(parser, DEFAULT_OUT)
    parser.add_argument("--seeds", type=_positive_int, default=None, metavar="N",
                        help=f"independent replicates (default: {DEFAULT_REPLICATES}, or {QUICK_REPLICATES} with --quick)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"base seed: replicate r uses SeedSequence(seed).spawn(N)[r] (default: {DEFAULT_SEED})")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def execute(arguments):
    """Run the experiment with the parsed command-line arguments and return its summary."""
    if arguments.quick:
        settings = Settings(QUICK_MOSAIC_INSTANCES, QUICK_POWER_INSTANCES, QUICK_POWER_QUERIES,
                            arguments.seeds or QUICK_REPLICATES, arguments.seed, True)
    else:
        settings = Settings(MOSAIC_INSTANCES, POWER_INSTANCES, POWER_QUERIES,
                            arguments.seeds or DEFAULT_REPLICATES, arguments.seed, False)
    return run(settings, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.truthfulness``."""
    from market.cli import main as cli_main

    return cli_main(["run", "truthfulness", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
