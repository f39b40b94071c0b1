r"""Claim test: how much do MOSAIC's outcomes vary when the same query is auctioned again?

One fixed query (one intent, the same K advertisers with the same reports)
is auctioned R times, each time as an independent auction: fresh candidates,
fresh final draw. For each candidate count M on the grid and each generator
(π_ref, π_con with context strength β) the experiment records:

- the distribution of the returned reply's mention pattern m ∈ {0,1}^K and
  its Shannon entropy in bits (plug-in estimate from the R draws);
- each advertiser's delivered value, the realised reward r_i of the
  returned reply, and its variance over the repeats, split by the law of
  total variance into
  ``is`` = Var_C(Σ_j q_j r_i(y_j)), the variance of the importance-sampling
  estimate of the expected value given the candidate set C, and
  ``draw`` = E_C[Σ_j q_j r_i² − (Σ_j q_j r_i)²], the noise of the final draw;
- the variance of each advertiser's payment (charged in expectation over the
  final draw, so it varies only with the candidate set).

Fitted law. Per replicate and generator the experiment fits
log10 Var = a + slope·log10 M by least squares over the grid points with
M ≥ `FIT_MIN_CANDIDATES`, for the ``is`` part, the payments and the total,
each summed over advertisers, and reports the slope's mean and 95 %
Student-t interval over replicates. A 1/M law gives slope −1. The draw part
does not vanish: it tends to Var_{π*}(r_i), the spread of the target
distribution itself, which the summary reports as the floor.

Beside MOSAIC:

- the post-response platform: a plain π_ref reply plus one separate
  placement sold by the power-diagram auction on the intent
  (`market.serving.serve_plain`, `market.serving.sell_placement`). Identical
  bids give the identical winner and payment, so their variance is 0; the
  organic reply still varies, with the entropy of π_ref;
- keyed draws (``reproducible = true``): R repeats of the identical query
  return the identical reply. The distinct queries are R intents that differ
  by 1e-9 along an axis orthogonal to every brand, which leaves relevance
  unchanged to 1e-10. Over them the keyed and the Generator-drawn replies
  are compared by total-variation distance and a χ² test of homogeneity.
  The distance between two Generator-drawn samples is the noise reference.

The query's brands: K = ``advertisers.brands_per_category``; the first
``advertisers.incumbents_max`` are incumbents (ρ = ``incumbent_prior``), the
rest entrants (ρ = ``entrant_prior``); values evenly spaced over
[``value_min``, ``value_max``]; relevances `RELEVANCE_PATTERN` repeated to K;
κ = ``competitor_weight``; every brand a rival of every other when
``competitors = "category"``. τ, M of the keyed comparison and β come from
the scenario's first MOSAIC platform, λ from its first embedding platform.

Outputs: ``outcomes.csv`` (per replicate, mechanism, generator and M),
``advertisers.csv`` (the same per advertiser), ``distribution.csv`` (mention
pattern frequencies and the exact π_ref, π_con and π*),
``reproducibility.csv`` (keyed against Generator draws over distinct queries),
``summary.json``, ``variance.png`` and ``distribution.png``.

Run it as ``market run output_variance`` or ``python -m experiments.output_variance``.
"""

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
from market import replies, serving

__all__ = ["DESCRIPTION", "FILES", "Instance", "add_arguments", "build_instance", "execute", "main", "print_table",
           "repeat_mosaic", "repeat_post_response", "run"]

logger = logging.getLogger(__name__)

DESCRIPTION = "auction one fixed query repeatedly: outcome entropy and value/payment variance as M grows"
FILES = ("outcomes.csv", "advertisers.csv", "distribution.csv", "reproducibility.csv", "summary.json",
         "variance.png", "distribution.png")
DEFAULT_OUT = "results/output_variance"

CANDIDATE_COUNTS = (1, 2, 5, 10, 20, 50, 100, 200)
QUICK_CANDIDATE_COUNTS = (1, 3, 10, 30, 100)
REPEATS = 8_000
QUICK_REPEATS = 1_500
# Zero variance is exact, so the keyed repeats of the identical query need no large sample.
KEYED_REPEATS = 1_000
QUICK_KEYED_REPEATS = 200
DEFAULT_REPLICATES = 5
QUICK_REPLICATES = 2
FIT_MIN_CANDIDATES = 10
GENERATORS = ("reference", "context")
GENERATOR_LABELS = {"reference": "π_gen = π_ref", "context": "π_gen = π_con"}
RELEVANCE_PATTERN = (0.9, 0.4, 0.8, 0.6, 0.95)
# Candidates per call of run_mosaic, which bounds memory to a few tens of MB.
CHUNK_CANDIDATES = 2**17
# Patterns shown one by one in distribution.png; the rest are pooled as "other".
SHOWN_PATTERNS = 8


@dataclass(frozen=True)
class Settings:
    """Sizes of one run."""

    candidate_counts: tuple
    repeats: int
    keyed_repeats: int
    replicates: int
    seed: int
    quick: bool


@dataclass(frozen=True)
class Instance:
    """The fixed query: a one-category world, its intent and the two platforms that serve it."""

    world: object
    intent: np.ndarray
    relevances: np.ndarray
    mosaic: object
    embedding: object
    weights: object

    @property
    def n_brands(self):
        return self.world.n_brands

    def slots(self, intents):
        """Return the `QuerySlots` and (Q, B) relevances of ``intents``."""
        return sq.query_slots(self.world, intents)

    def exact(self):
        """Return the mention patterns and their exact probabilities under π_ref, π_con and π*."""
        world = self.world
        patterns, target = replies.exact_optimal_distribution(
            world.priors, self.relevances, world.values, world.competitor_weights, world.rival_matrix[0],
            self.mosaic.tau)
        context = replies.context_probabilities(world.priors, np.ones(self.n_brands, bool),
                                                self.mosaic.context_strength)
        reference = np.exp(replies.log_probability(patterns[None], world.priors[None])[0])
        generated = np.exp(replies.log_probability(patterns[None], context[None])[0])
        return patterns, {"pi_ref": reference, "pi_con": generated, "pi_star": target}


def build_instance(scenario):
    """Build the fixed query from the scenario (see the module docstring for each field's source)."""
    advertisers = scenario.advertisers
    n_brands = advertisers.brands_per_category
    priors = np.where(np.arange(n_brands) < advertisers.incumbents_max, advertisers.incumbent_prior,
                      advertisers.entrant_prior)
    values = np.linspace(advertisers.value_min, advertisers.value_max, n_brands)
    relevances = np.resize(np.asarray(RELEVANCE_PATTERN, dtype=float), n_brands)
    reach = 0.5 * (advertisers.reach_min + advertisers.reach_max)
    intent, centres = sq.exact_geometry(relevances, reach)
    world = sq.one_category_world(intent, centres, reach, priors, values, advertisers.competitor_weight,
                                  advertisers.competitors == "category", intent)
    # Base quality 0: utilities are the reply's own, the same for every platform.
    mosaic_config = dataclasses.replace(sq.mosaic_platform(scenario), base_quality=0.0, audit_rate=0.0,
                                        separation=False, reproducible=False)
    embedding_config = dataclasses.replace(sq.embedding_platform(scenario), base_quality=0.0)
    return Instance(world=world, intent=intent, relevances=relevances, mosaic=mosaic_config,
                    embedding=embedding_config, weights=scenario.utility)


# ---------------------------------------------------------------------------
# Repeated auctions


def repeat_mosaic(instance, config, intents, rng, seed=0):
    """Run one MOSAIC auction per row of ``intents`` in chunks; return per-repeat arrays.

    Returns
    -------
    dict of ndarray
        ``codes`` (R,) is the returned mention pattern and ``helpfulness``
        (R,) the returned reply's h. In dollars: ``value`` (R, K) is the
        realised reward of the returned reply, ``estimate`` (R, K) is
        Σ_j q_j r_i(y_j), ``draw_variance`` (R, K) is
        Σ_j q_j r_i² − (Σ_j q_j r_i)², and ``payments`` (R, K) the payments.
    """
    n_repeats = intents.shape[0]
    chunk = max(1, CHUNK_CANDIDATES // config.candidates)
    eligible = np.ones((n_repeats, instance.n_brands), dtype=bool)
    parts = []
    for start in range(0, n_repeats, chunk):
        rows = slice(start, min(start + chunk, n_repeats))
        slots, _ = instance.slots(intents[rows])
        run = sq.run_mosaic(config, slots, intents[rows], eligible[rows], config.tau, config.tau, seed, rng)
        estimate = sq.expected(run, run.true_rewards)
        second_moment = sq.expected(run, run.true_rewards**2)
        parts.append({
            "codes": sq.pattern_codes(run.returned_mentions),
            "helpfulness": run.helpfulness[np.arange(run.chosen.size), run.chosen],
            "value": run.returned_rewards,
            "estimate": estimate,
            "draw_variance": np.maximum(second_moment - estimate**2, 0.0),
            "payments": run.outcome.payments,
        })
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def repeat_post_response(instance, n_repeats, rng):
    """Serve the fixed query ``n_repeats`` times on the post-response platform; return per-repeat arrays.

    Returns
    -------
    dict of ndarray
        ``winner`` (R,): brand shown in the placement (−1 for none);
        ``value`` (R, K): the shown ad's value; ``value_with_reply`` (R, K):
        that plus the organic reply's reward; ``payments`` (R, K), in dollars.
    """
    intents = np.tile(instance.intent, (n_repeats, 1))
    slots, relevances = instance.slots(intents)
    service = serving.serve_plain(instance.embedding, slots, instance.weights, rng)
    organic = service.value.copy()
    serving.sell_placement(service, instance.embedding, intents, relevances, np.ones_like(relevances, bool),
                           instance.world, instance.weights, instance.embedding.gate)
    ad_value = service.value - organic
    shown = ad_value.max(axis=1) > 0
    return {
        "winner": np.where(shown, ad_value.argmax(axis=1), -1),
        "value": ad_value,
        "value_with_reply": service.value,
        "payments": service.payments,
    }


def _variances(values):
    """Return the variance over repeats (ddof 1) per column; 0 for a single repeat.

    Deviations are taken from the first repeat, which leaves the variance
    unchanged but makes it exactly 0 when every repeat is identical (the
    rounded mean of equal numbers can differ from them in the last bit).
    """
    n_repeats = values.shape[0]
    if n_repeats < 2:
        return np.zeros(values.shape[1:])
    deviations = values - values[:1]
    spread = np.square(deviations).sum(axis=0) - np.square(deviations.sum(axis=0)) / n_repeats
    return np.maximum(spread, 0.0) / (n_repeats - 1)


def mosaic_statistics(draws):
    """Return the per-advertiser and summed statistics of a `repeat_mosaic` result."""
    per_advertiser = {
        "mean_value": draws["value"].mean(axis=0),
        "var_value": _variances(draws["value"]),
        "var_value_is": _variances(draws["estimate"]),
        "var_value_draw": draws["draw_variance"].mean(axis=0),
        "mean_payment": draws["payments"].mean(axis=0),
        "var_payment": _variances(draws["payments"]),
    }
    replies_seen = np.unique(np.column_stack([draws["codes"], draws["helpfulness"]]), axis=0).shape[0]
    totals = {name: float(values.sum()) for name, values in per_advertiser.items()}
    totals["var_value_including_reply"] = totals["var_value"]
    totals.update({
        "outcome_entropy_bits": sq.entropy_bits(np.bincount(draws["codes"])),
        "reply_entropy_bits": sq.entropy_bits(np.bincount(draws["codes"])),
        "distinct_outcomes": int(np.unique(draws["codes"]).size),
        "distinct_replies": int(replies_seen),
    })
    return per_advertiser, totals


def post_response_statistics(draws, reference_entropy):
    """Return the per-advertiser and summed statistics of a `repeat_post_response` result."""
    per_advertiser = {
        "mean_value": draws["value"].mean(axis=0),
        "var_value": _variances(draws["value"]),
        "var_value_is": _variances(draws["value"]),
        "var_value_draw": np.zeros(draws["value"].shape[1]),
        "mean_payment": draws["payments"].mean(axis=0),
        "var_payment": _variances(draws["payments"]),
    }
    totals = {name: float(values.sum()) for name, values in per_advertiser.items()}
    totals["var_value_including_reply"] = float(_variances(draws["value_with_reply"]).sum())
    winners = draws["winner"] + 1
    totals.update({
        "outcome_entropy_bits": sq.entropy_bits(np.bincount(winners)),
        # The plain reply is one draw from π_ref; its entropy is exact.
        "reply_entropy_bits": reference_entropy,
        "distinct_outcomes": int(np.unique(winners).size),
        "distinct_replies": None,
    })
    return per_advertiser, totals


def compare_distinct_queries(instance, config, n_queries, rng, seed):
    """Compare keyed and Generator-drawn replies over ``n_queries`` distinct queries.

    Returns
    -------
    dict
        TV distance between the keyed and the Generator-drawn pattern
        frequencies, the TV distance between two Generator-drawn samples (the
        noise reference), the χ² homogeneity p-value of keyed against drawn,
        and each sample's mean total delivered value and payment in dollars.
    """
    intents = sq.distinct_intents(instance.intent, n_queries)
    keyed = repeat_mosaic(instance, dataclasses.replace(config, reproducible=True), intents, rng, seed)
    drawn = repeat_mosaic(instance, config, intents, rng)
    second = repeat_mosaic(instance, config, intents, rng)
    n_patterns = 2**instance.n_brands
    counts = {name: np.bincount(draws["codes"], minlength=n_patterns)
              for name, draws in (("keyed", keyed), ("drawn", drawn), ("second", second))}
    table = np.vstack([counts["keyed"], counts["drawn"]])
    table = table[:, table.sum(axis=0) > 0]
    p_value = float(stats.chi2_contingency(table)[1]) if table.shape[1] > 1 else 1.0
    return {
        "tv_keyed_vs_drawn": _total_variation(counts["keyed"], counts["drawn"]),
        "tv_drawn_vs_drawn": _total_variation(counts["drawn"], counts["second"]),
        "chi2_p_value": p_value,
        "keyed_mean_value": float(keyed["value"].sum(axis=1).mean()),
        "drawn_mean_value": float(drawn["value"].sum(axis=1).mean()),
        "keyed_mean_payment": float(keyed["payments"].sum(axis=1).mean()),
        "drawn_mean_payment": float(drawn["payments"].sum(axis=1).mean()),
        "keyed_distinct_replies": int(np.unique(np.column_stack([keyed["codes"], keyed["helpfulness"]]),
                                                axis=0).shape[0]),
    }


def _total_variation(first, second):
    return float(0.5 * np.abs(first / first.sum() - second / second.sum()).sum())


# ---------------------------------------------------------------------------
# The run


def run(scenario, settings, out, overwrite=False, progress=True):
    """Run every replicate and write the seven result files to ``out``; return the summary."""
    out = prepare_output(out, FILES, overwrite)
    instance = build_instance(scenario)
    seeds = replicate_seeds(settings.seed, settings.replicates)
    logger.info("output_variance: M in %s, %d repeats, %d replicates, seed %d -> %s",
                settings.candidate_counts, settings.repeats, settings.replicates, settings.seed, out)
    started = time.perf_counter()

    patterns, exact = instance.exact()
    reference_entropy = sq.entropy_bits(exact["pi_ref"])
    outcome_rows, advertiser_rows, pattern_rows, comparison_rows = [], [], [], []
    cells_per_replicate = 2 * len(GENERATORS) * len(settings.candidate_counts) + 1 + len(GENERATORS)
    bar = tqdm(total=settings.replicates * cells_per_replicate, desc="cells", unit="cell",
               disable=not progress, file=sys.stderr)
    try:
        for replicate, seed in enumerate(seeds):
            generators = iter(sq.cell_generators(seed, cells_per_replicate))
            labels = {"replicate": replicate, "seed": seed}
            for generator in GENERATORS:
                for n_candidates in settings.candidate_counts:
                    config = dataclasses.replace(instance.mosaic, generator=generator, candidates=n_candidates)
                    identical = np.tile(instance.intent, (settings.repeats, 1))
                    draws = repeat_mosaic(instance, config, identical, next(generators))
                    cell = {**labels, "mechanism": "mosaic", "generator": generator, "candidates": n_candidates,
                            "repeats": settings.repeats}
                    _record(cell, *mosaic_statistics(draws), outcome_rows, advertiser_rows)
                    frequencies = np.bincount(draws["codes"], minlength=2**instance.n_brands) / settings.repeats
                    pattern_rows.extend({**cell, "pattern": code, "probability": float(frequency)}
                                        for code, frequency in enumerate(frequencies))
                    bar.update(1)

                    keyed_config = dataclasses.replace(config, reproducible=True)
                    identical = np.tile(instance.intent, (settings.keyed_repeats, 1))
                    draws = repeat_mosaic(instance, keyed_config, identical, next(generators), seed)
                    cell = {**labels, "mechanism": "mosaic_keyed", "generator": generator,
                            "candidates": n_candidates, "repeats": settings.keyed_repeats}
                    _record(cell, *mosaic_statistics(draws), outcome_rows, advertiser_rows)
                    bar.update(1)

            draws = repeat_post_response(instance, settings.repeats, next(generators))
            cell = {**labels, "mechanism": "post_response", "generator": "reference", "candidates": None,
                    "repeats": settings.repeats}
            _record(cell, *post_response_statistics(draws, reference_entropy), outcome_rows, advertiser_rows)
            bar.update(1)

            for generator in GENERATORS:
                config = dataclasses.replace(instance.mosaic, generator=generator)
                comparison = compare_distinct_queries(instance, config, settings.repeats, next(generators), seed)
                comparison_rows.append({**labels, "generator": generator, "candidates": config.candidates,
                                        "queries": settings.repeats, **comparison})
                bar.update(1)
    finally:
        bar.close()

    outcomes = _integer_columns(pd.DataFrame(outcome_rows), ("candidates", "distinct_replies"))
    advertisers = _integer_columns(pd.DataFrame(advertiser_rows), ("candidates",))
    comparisons = pd.DataFrame(comparison_rows)
    distribution = _distribution_table(pd.DataFrame(pattern_rows), patterns, exact)
    outcomes.to_csv(out / "outcomes.csv", index=False)
    advertisers.to_csv(out / "advertisers.csv", index=False)
    comparisons.to_csv(out / "reproducibility.csv", index=False)
    distribution.to_csv(out / "distribution.csv", index=False)

    summary = summarise(instance, outcomes, comparisons, exact, settings, scenario, time.perf_counter() - started)
    write_json(out / "summary.json", summary)
    plot_variance(outcomes, summary, out / "variance.png")
    plot_distribution(distribution, settings, out / "distribution.png")
    return summary


def _integer_columns(table, columns):
    """Store columns that hold counts with gaps (post-response rows have no M) as nullable integers."""
    for column in columns:
        table[column] = table[column].astype("Int64")
    return table


def _record(cell, per_advertiser, totals, outcome_rows, advertiser_rows):
    outcome_rows.append({**cell, **totals})
    for advertiser in range(per_advertiser["mean_value"].size):
        advertiser_rows.append({**cell, "advertiser": advertiser,
                                **{name: float(values[advertiser]) for name, values in per_advertiser.items()}})


def _distribution_table(patterns_frame, patterns, exact):
    """Return mean pattern frequencies per generator and M over replicates, with the exact distributions."""
    labels = sq.pattern_labels(patterns.shape[1])
    measured = (patterns_frame.groupby(["generator", "candidates", "pattern"], sort=True)["probability"]
                .agg(["mean", "count"]).reset_index()
                .rename(columns={"mean": "probability", "count": "replicates"}))
    measured.insert(0, "source", "mosaic")
    exact_rows = [
        {"source": name, "generator": None, "candidates": None, "pattern": code, "probability": float(value),
         "replicates": None}
        for name, distribution in exact.items() for code, value in enumerate(distribution)
    ]
    table = pd.concat([measured, pd.DataFrame(exact_rows)], ignore_index=True)
    table["mentions"] = [labels[int(code)] for code in table["pattern"]]
    return _integer_columns(table, ("candidates", "replicates"))


def summarise(instance, outcomes, comparisons, exact, settings, scenario, wall_seconds):
    """Return the headline figures: fitted slopes, variances and entropies at both ends, post-response and keyed."""
    world = instance.world
    patterns = replies.all_patterns(instance.n_brands)
    rewards = replies.advertiser_rewards(patterns[None], instance.relevances[None], world.values[None],
                                         world.competitor_weights[None], world.rival_matrix)[0]
    target = exact["pi_star"]
    target_mean = target @ rewards
    floor = float((target @ rewards**2 - target_mean**2).sum())

    smallest, largest = min(settings.candidate_counts), max(settings.candidate_counts)
    mosaic_rows = outcomes[outcomes["mechanism"] == "mosaic"]
    per_generator = {}
    for generator in GENERATORS:
        rows = mosaic_rows[mosaic_rows["generator"] == generator]
        slopes = {name: [] for name in ("var_value_is", "var_payment", "var_value")}
        for _, replicate_rows in rows.groupby("replicate"):
            fitted = replicate_rows[replicate_rows["candidates"] >= FIT_MIN_CANDIDATES]
            for name in slopes:
                slopes[name].append(sq.log_log_slope(fitted["candidates"], fitted[name]))
        ends = {}
        for label, n_candidates in (("smallest_m", smallest), ("largest_m", largest)):
            at = rows[rows["candidates"] == n_candidates]
            ends[label] = {name: sq.interval(at[name]) for name in
                           ("var_value", "var_value_is", "var_value_draw", "var_payment", "outcome_entropy_bits",
                            "mean_payment")}
        per_generator[generator] = {
            "slope": {name: {**sq.interval(values), "per_replicate": values} for name, values in slopes.items()},
            **ends,
        }

    post = outcomes[outcomes["mechanism"] == "post_response"]
    keyed = outcomes[outcomes["mechanism"] == "mosaic_keyed"]
    post_response = {
        "max_var_payment": float(post["var_payment"].max()),
        "max_var_ad_value": float(post["var_value"].max()),
        "max_distinct_winners": int(post["distinct_outcomes"].max()),
        "outcome_entropy_bits": sq.interval(post["outcome_entropy_bits"]),
        "var_value_including_reply": sq.interval(post["var_value_including_reply"]),
        "reply_entropy_bits": float(post["reply_entropy_bits"].iloc[0]),
        "mean_payment": sq.interval(post["mean_payment"]),
    }
    keyed_summary = {
        "identical_query": {
            "max_distinct_replies": int(keyed["distinct_replies"].max()),
            "max_var_value": float(keyed["var_value"].max()),
            "max_var_payment": float(keyed["var_payment"].max()),
            "max_outcome_entropy_bits": float(keyed["outcome_entropy_bits"].max()),
        },
        "distinct_queries": {
            generator: {
                "candidates": int(rows["candidates"].iloc[0]),
                "tv_keyed_vs_drawn": sq.interval(rows["tv_keyed_vs_drawn"]),
                "tv_drawn_vs_drawn": sq.interval(rows["tv_drawn_vs_drawn"]),
                "chi2_p_values": rows["chi2_p_value"].tolist(),
                "keyed_mean_value": sq.interval(rows["keyed_mean_value"]),
                "drawn_mean_value": sq.interval(rows["drawn_mean_value"]),
                "keyed_mean_payment": sq.interval(rows["keyed_mean_payment"]),
                "drawn_mean_payment": sq.interval(rows["drawn_mean_payment"]),
            }
            for generator, rows in comparisons.groupby("generator", sort=False)
        },
    }
    summary = {
        "experiment": "output_variance",
        "fit": f"least squares of log10 variance on log10 M over M >= {FIT_MIN_CANDIDATES}, per replicate; "
               "variances are summed over advertisers; a 1/M law gives slope -1",
        "instance": {
            "priors": world.priors.tolist(),
            "relevances": instance.relevances.tolist(),
            "values": world.values.tolist(),
            "competitor_weights": world.competitor_weights.tolist(),
            "rivals": bool(world.rival_matrix.any()),
            "tau": instance.mosaic.tau,
            "context_strength": instance.mosaic.context_strength,
            "relevance_weight": instance.embedding.relevance_weight,
        },
        "parameters": {
            "quick": settings.quick,
            "candidate_counts": list(settings.candidate_counts),
            "repeats": settings.repeats,
            "keyed_repeats": settings.keyed_repeats,
            "replicates": settings.replicates,
            "fit_min_candidates": FIT_MIN_CANDIDATES,
        },
        "seeds": {"base_seed": settings.seed, "replicate_seeds": replicate_seeds(settings.seed, settings.replicates)},
        "smallest_m": smallest,
        "largest_m": largest,
        "exact": {
            "entropy_bits": {name: sq.entropy_bits(distribution) for name, distribution in exact.items()},
            "var_value_under_pi_star": floor,
        },
        "mosaic": per_generator,
        "post_response": post_response,
        "keyed": keyed_summary,
        "wall_seconds": round(wall_seconds, 3),
        "units": {"value": "dollars", "variance": "dollars squared, summed over advertisers",
                  "entropy": "bits", "candidates": "candidate replies per auction"},
        "provenance": provenance(),
        "scenario": scenario.to_dict(),
    }
    summary["findings"] = _findings(summary)
    return summary


def _findings(summary):
    """Return plain sentences on what the run measured."""
    findings = []
    floor = summary["exact"]["var_value_under_pi_star"]
    largest = summary["largest_m"]
    for generator, figures in summary["mosaic"].items():
        slope = figures["slope"]
        findings.append(
            f"MOSAIC, {GENERATOR_LABELS[generator]}: the variance of the importance-sampling estimate falls with "
            f"slope {_interval_text(slope['var_value_is'])} in log M (payments {_interval_text(slope['var_payment'])}),"
            f" while the variance of the delivered value has slope {_interval_text(slope['var_value'])} and stays "
            f"near {figures['largest_m']['var_value']['mean']:.3g} $² at M = {largest} "
            f"(π* alone gives {floor:.3g} $²)."
        )
    keyed = summary["keyed"]["identical_query"]
    findings.append(
        f"Keyed draws: repeats of the identical query gave {keyed['max_distinct_replies']} distinct reply and "
        f"variance {keyed['max_var_value']:.3g} $² in delivered value."
    )
    for generator, figures in summary["keyed"]["distinct_queries"].items():
        findings.append(
            f"Keyed draws over distinct queries ({GENERATOR_LABELS[generator]}, M = {figures['candidates']}): "
            f"TV to Generator draws {_interval_text(figures['tv_keyed_vs_drawn'])} against "
            f"{_interval_text(figures['tv_drawn_vs_drawn'])} between two Generator samples; "
            f"χ² p-values {', '.join(f'{p:.2g}' for p in figures['chi2_p_values'])}."
        )
    post = summary["post_response"]
    findings.append(
        f"Post-response: {post['max_distinct_winners']} distinct winner across repeats, payment variance "
        f"{post['max_var_payment']:.3g} $²; its organic reply still has {post['reply_entropy_bits']:.3g} bits of "
        "entropy (π_ref)."
    )
    return findings


def _interval_text(figures, spec=".3f"):
    if figures["mean"] is None:
        return "n/a"
    low, high = figures["ci95"]
    if low is None:
        return format(figures["mean"], spec)
    return f"{figures['mean']:{spec}} [{low:{spec}}, {high:{spec}}]"


# ---------------------------------------------------------------------------
# Figures and table


def _mean_and_errors(rows, column):
    """Return the M grid, the mean over replicates and the 95 % interval half-widths of ``column``."""
    grouped = rows.groupby("candidates")[column]
    means = grouped.mean()
    lower, upper = [], []
    for _, values in grouped:
        figures = sq.interval(values)
        low, high = figures["ci95"]
        lower.append(0.0 if low is None else max(figures["mean"] - low, 0.0))
        upper.append(0.0 if high is None else max(high - figures["mean"], 0.0))
    return means.index.to_numpy(dtype=float), means.to_numpy(), np.array([lower, upper])


def plot_variance(outcomes, summary, path):
    """Plot variance against M (log-log) and outcome entropy against M, with the zero-variance references."""
    figure = Figure(figsize=(13, 6.4))
    variance_axis, entropy_axis = figure.subplots(1, 2)
    colours = {"reference": "tab:blue", "context": "tab:orange"}
    mosaic_rows = outcomes[outcomes["mechanism"] == "mosaic"]
    styles = (("var_value", "-", "delivered value (total)"),
              ("var_value_is", "--", "IS estimate Σ q·r (finite-M part)"),
              ("var_payment", ":", "payment"))
    for generator in GENERATORS:
        rows = mosaic_rows[mosaic_rows["generator"] == generator]
        for column, linestyle, label in styles:
            grid, means, errors = _mean_and_errors(rows, column)
            positive = means > 0
            variance_axis.errorbar(grid[positive], means[positive], yerr=errors[:, positive], linestyle=linestyle,
                                   marker="o", markersize=3, capsize=2, color=colours[generator],
                                   label=f"{GENERATOR_LABELS[generator]}: {label}")
        grid, means, errors = _mean_and_errors(rows, "outcome_entropy_bits")
        entropy_axis.errorbar(grid, means, yerr=errors, marker="o", markersize=3, capsize=2,
                              color=colours[generator], label=f"MOSAIC, {GENERATOR_LABELS[generator]}")
    variance_axis.axhline(summary["exact"]["var_value_under_pi_star"], color="black", linestyle="-.", linewidth=0.9,
                          label="Var of value under exact π* (M → ∞ floor)")
    variance_axis.set_xscale("log")
    variance_axis.set_yscale("log")
    variance_axis.set(xlabel="candidates per auction M (count, log scale)",
                      ylabel="variance over repeats, summed over advertisers ($², log scale)",
                      title="Repeats of one query: variance by M")
    post = summary["post_response"]
    keyed = summary["keyed"]["identical_query"]
    variance_axis.text(0.02, 0.02,
                       f"exactly 0, not drawable on a log axis:\n"
                       f"post-response payment {post['max_var_payment']:g}, ad value {post['max_var_ad_value']:g}\n"
                       f"keyed MOSAIC value {keyed['max_var_value']:g}, payment {keyed['max_var_payment']:g}\n"
                       "MOSAIC payment at M = 1 (one candidate pays 0)",
                       transform=variance_axis.transAxes, fontsize=7, va="bottom",
                       bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "grey"})
    variance_axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=7)
    variance_axis.grid(True, which="major", alpha=0.3)

    entropy = summary["exact"]["entropy_bits"]
    entropy_axis.axhline(entropy["pi_star"], color="black", linestyle="-.", linewidth=0.9,
                         label="exact π* (M → ∞)")
    entropy_axis.axhline(entropy["pi_ref"], color="tab:green", linestyle="--", linewidth=0.9,
                         label="exact π_ref = post-response reply")
    entropy_axis.axhline(0.0, color="tab:red", linestyle=":", linewidth=1.5,
                         label="keyed MOSAIC repeats; post-response winner (0)")
    entropy_axis.set_xscale("log")
    entropy_axis.set(xlabel="candidates per auction M (count, log scale)",
                     ylabel="entropy of the returned mention pattern (bits)",
                     title="Outcome entropy over repeats of one query", ylim=(-0.1, None))
    entropy_axis.legend(loc="best", fontsize=7)
    entropy_axis.grid(True, which="major", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_distribution(distribution, settings, path):
    """Stack the returned mention-pattern frequencies per M for each generator, beside the exact π*."""
    target = distribution[distribution["source"] == "pi_star"].set_index("pattern")["probability"]
    shown = target.sort_values(ascending=False).index[:SHOWN_PATTERNS].tolist()
    labels = distribution.drop_duplicates("pattern").set_index("pattern")["mentions"]
    figure = Figure(figsize=(13, 5.0))
    axes = figure.subplots(1, len(GENERATORS), sharey=True)
    colours = [f"C{index}" for index in range(SHOWN_PATTERNS)] + ["lightgrey"]
    generating = {"reference": "pi_ref", "context": "pi_con"}
    for axis, generator in zip(axes, GENERATORS):
        columns = [("π_gen", distribution[distribution["source"] == generating[generator]])]
        measured = distribution[(distribution["source"] == "mosaic") & (distribution["generator"] == generator)]
        columns += [(f"M={int(m)}", rows) for m, rows in measured.groupby("candidates")]
        columns.append(("π*", distribution[distribution["source"] == "pi_star"]))

        positions = np.arange(len(columns))
        bottom = np.zeros(len(columns))
        for index, pattern in enumerate([*shown, None]):
            heights = []
            for _, rows in columns:
                probabilities = rows.set_index("pattern")["probability"]
                if pattern is None:
                    heights.append(float(probabilities.drop(shown, errors="ignore").sum()))
                else:
                    heights.append(float(probabilities.get(pattern, 0.0)))
            label = "other patterns" if pattern is None else f"mentions {labels[pattern]}"
            axis.bar(positions, heights, bottom=bottom, color=colours[index], label=label, width=0.7)
            bottom += heights

        axis.set_xticks(positions, [name for name, _ in columns], rotation=45, ha="right", fontsize=8)
        axis.set(xlabel="π_gen (equal to M = 1), MOSAIC by candidates M, exact π* (M → ∞)",
                 title=f"Returned mention pattern, {GENERATOR_LABELS[generator]}")

    axes[0].set_ylabel("probability over repeats of the query")
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7,
                    title="brand 0 … brand K−1", title_fontsize=7)
    figure.suptitle(f"Distribution of outcomes: {settings.repeats:,} repeats per M, mean of "
                    f"{settings.replicates} replicates", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the headline table: fitted slopes, variance and entropy at both ends, post-response and keyed."""
    stream = sys.stdout if stream is None else stream
    smallest, largest = summary["smallest_m"], summary["largest_m"]
    print(f"{'generator':<11}{'slope Var IS [95% CI]':>27}{'slope Var pay':>24}{'slope Var value':>24}"
          f"{f'Var M={smallest}':>12}{f'Var M={largest}':>12}{f'H M={smallest}':>9}{f'H M={largest}':>9}",
          file=stream)
    for generator, figures in summary["mosaic"].items():
        slope = figures["slope"]
        print(f"{generator:<11}{_interval_text(slope['var_value_is']):>27}{_interval_text(slope['var_payment']):>24}"
              f"{_interval_text(slope['var_value']):>24}"
              f"{figures['smallest_m']['var_value']['mean']:>12.3g}{figures['largest_m']['var_value']['mean']:>12.3g}"
              f"{figures['smallest_m']['outcome_entropy_bits']['mean']:>9.3f}"
              f"{figures['largest_m']['outcome_entropy_bits']['mean']:>9.3f}", file=stream)

    exact = summary["exact"]
    print(f"exact π*: entropy {exact['entropy_bits']['pi_star']:.3f} bits, Var of value "
          f"{exact['var_value_under_pi_star']:.3g} $²; π_ref entropy {exact['entropy_bits']['pi_ref']:.3f} bits",
          file=stream)
    post = summary["post_response"]
    print(f"post-response: distinct winners {post['max_distinct_winners']}, Var payment {post['max_var_payment']:g}, "
          f"Var ad value {post['max_var_ad_value']:g}, reply entropy {post['reply_entropy_bits']:.3f} bits",
          file=stream)

    keyed = summary["keyed"]["identical_query"]
    print(f"keyed, identical query: distinct replies {keyed['max_distinct_replies']}, Var value "
          f"{keyed['max_var_value']:g}, Var payment {keyed['max_var_payment']:g}", file=stream)
    for generator, figures in summary["keyed"]["distinct_queries"].items():
        print(f"keyed, distinct queries ({generator}, M={figures['candidates']}): TV keyed vs drawn "
              f"{_interval_text(figures['tv_keyed_vs_drawn'], '.4f')}, drawn vs drawn "
              f"{_interval_text(figures['tv_drawn_vs_drawn'], '.4f')}, χ² p "
              f"{', '.join(f'{p:.2g}' for p in figures['chi2_p_values'])}", file=stream)
    print(f"replicates: {summary['parameters']['replicates']}, repeats: {summary['parameters']['repeats']:,}, "
          f"seed: {summary['seeds']['base_seed']}, wall time: {summary['wall_seconds']:.1f} s", file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    sq.add_claim_arguments(parser, DEFAULT_OUT, DEFAULT_REPLICATES, QUICK_REPLICATES)


def execute(arguments):
    """Run the experiment with the parsed command-line arguments and return its summary."""
    scenario = resolve_scenario(arguments)
    if arguments.quick:
        settings = Settings(QUICK_CANDIDATE_COUNTS, QUICK_REPEATS, QUICK_KEYED_REPEATS,
                            arguments.seeds or QUICK_REPLICATES, scenario.seed, True)
    else:
        settings = Settings(CANDIDATE_COUNTS, REPEATS, KEYED_REPEATS, arguments.seeds or DEFAULT_REPLICATES,
                            scenario.seed, False)
    return run(scenario, settings, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.output_variance``."""
    from market.cli import main as cli_main

    return cli_main(["run", "output_variance", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
