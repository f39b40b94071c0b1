r"""Validation: MOSAIC's output distribution approaches π* as the candidate count M grows.

For a fixed query, MOSAIC returns a reply whose mention pattern m has
probability P_M(m) = E[Σ_j q_j 1{m_j = m}], the expectation running over the
M candidates drawn from π_gen. This experiment measures the total-variation
distance TV(P_M, π*) = ½ Σ_m |P_M(m) − π*(m)| to the exact target
π* ∝ π_ref·exp(r/τ) (`market.replies.exact_optimal_distribution`) for M on a
log-spaced grid from 1 to 1,000, under π_ref and π_con, for the fixed query
instances in `INSTANCES`.

Estimation (the allocation-mass method). For each M the experiment draws many
independent candidate sets, runs `market.mechanisms.mosaic.run_auction` on
each, and averages the allocation mass q_j that each set puts on each mention
pattern. The average is an unbiased estimate of P_M, free of the noise of the
final draw (`mosaic.select` is not called). Its remaining noise comes from the
finite number of candidate sets. The noise floor is the expected TV distance
between the estimate and P_M itself, estimated as ½ Σ_m √(2/π)·se_m from the
per-pattern standard errors (the mean absolute value of a normal error). Only
points with TV above `NOISE_MARGIN` times the floor enter the fitted slope.

Exact reference. Because the candidates are independent, P_M also has a closed
form as a one-dimensional integral. With importance weights
w(m) = π*(m)/π_gen(m) and L(t) = Σ_m π_gen(m) e^{−t w(m)},

.. math::

    P_M(m) = M\,π_{gen}(m) \int_0^∞ w(m)\,e^{−t w(m)} L(t)^{M−1}\,dt,

from 1/(a + S) = ∫_0^∞ e^{−t(a+S)} dt. `exact_output_distribution` evaluates it
by adaptive quadrature. The CSV and figure show both curves, and the summary
reports how far the Monte Carlo estimate lies from the exact P_M in units of
its own noise floor (about 1 when both are right).

Outputs in the output folder:

- ``convergence.csv``: one row per instance, generator, method
  (``monte_carlo`` per replicate, or ``exact``) and M;
- ``summary.json``: parameters, seeds, fitted slopes and crossing M per
  generator with 95 % confidence intervals over replicates, and provenance;
- ``convergence.png``: TV against M on log-log axes, one panel per instance.

Run it as ``market run convergence`` or ``python -m experiments.convergence``.
"""

import argparse
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats
from scipy.integrate import quad_vec
from scipy.special import logsumexp
from tqdm import tqdm

from experiments.options import add_output_arguments
from experiments.output import prepare_output, provenance, write_json
from market import parallel, replies
from market.mechanisms import mosaic

__all__ = [
    "DESCRIPTION",
    "FILES",
    "INSTANCES",
    "QueryInstance",
    "add_arguments",
    "confidence_interval",
    "estimate_output_distribution",
    "exact_output_distribution",
    "execute",
    "main",
    "print_table",
    "run",
]

logger = logging.getLogger(__name__)

DESCRIPTION = "measure the TV distance between MOSAIC's output distribution and the exact π* as M grows"
FILES = ("convergence.csv", "summary.json", "convergence.png")
DEFAULT_OUT = "results/convergence"


@dataclass(frozen=True)
class QueryInstance:
    """One fixed query: K brands of one category, all of them rivals and all in the auction.

    Money is in dollars. ``values`` are b_k at full relevance, ``tau`` is τ and
    ``context_strength`` is β, the log-odds boost of every brand under π_con.
    """

    name: str
    description: str
    priors: tuple
    relevances: tuple
    values: tuple
    competitor_weights: tuple
    tau: float
    context_strength: float

    def arrays(self):
        """Return priors, relevances, values, competitor weights and the rival matrix as arrays."""
        n_brands = len(self.priors)
        rival_matrix = np.ones((n_brands, n_brands)) - np.eye(n_brands)
        return (
            np.asarray(self.priors, dtype=float),
            np.asarray(self.relevances, dtype=float),
            np.asarray(self.values, dtype=float),
            np.asarray(self.competitor_weights, dtype=float),
            rival_matrix,
        )

    def generating_priors(self, generator):
        """Return the mention probabilities of π_gen: π_ref's priors, or π_con's boosted ones."""
        priors = np.asarray(self.priors, dtype=float)
        if generator == "reference":
            return priors
        return replies.context_probabilities(priors, np.ones(priors.size, bool), self.context_strength)

    def target(self):
        """Return every mention pattern and its probability under the exact π*."""
        priors, relevances, values, competitor_weights, rival_matrix = self.arrays()
        return replies.exact_optimal_distribution(priors, relevances, values, competitor_weights, rival_matrix, self.tau)


# The brands follow the default scenario: 2 incumbents (ρ 0.5) and 3 entrants
# (ρ 0.1), values in $0.02–0.10 at full relevance, τ = $0.05 and β = 1.5.
_PRIORS = (0.5, 0.5, 0.1, 0.1, 0.1)
_RELEVANCES = (0.9, 0.4, 0.8, 0.6, 0.95)
_VALUES = (0.05, 0.08, 0.03, 0.10, 0.06)

INSTANCES = (
    QueryInstance(
        name="baseline",
        description="default-scenario brands, κ = 0, τ = $0.05",
        priors=_PRIORS, relevances=_RELEVANCES, values=_VALUES,
        competitor_weights=(0.0,) * 5, tau=0.05, context_strength=1.5,
    ),
    QueryInstance(
        name="low_tau",
        description="the same brands at τ = $0.02, so π* lies far from π_ref",
        priors=_PRIORS, relevances=_RELEVANCES, values=_VALUES,
        competitor_weights=(0.0,) * 5, tau=0.02, context_strength=1.5,
    ),
    QueryInstance(
        name="rivalry",
        description="κ = 0.5: each mentioned rival costs a brand half its value, τ = $0.05",
        priors=_PRIORS, relevances=_RELEVANCES, values=_VALUES,
        competitor_weights=(0.5,) * 5, tau=0.05, context_strength=1.5,
    ),
)

GENERATORS = ("reference", "context")
GENERATOR_LABELS = {"reference": "π_gen = π_ref", "context": "π_gen = π_con"}

CANDIDATE_COUNTS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
# Candidates drawn per (instance, generator, M, replicate). 5·10^5 gives noise floors of
# 0.001–0.011 per replicate, and the default run took about 80 s of CPU time on a 2-core
# test machine. At M >= 500, MIN_CANDIDATE_SETS sets the count instead.
CANDIDATES_PER_POINT = 500_000
MIN_CANDIDATE_SETS = 1_000
DEFAULT_REPLICATES = 5
DEFAULT_SEED = 20260801

QUICK_CANDIDATE_COUNTS = (1, 3, 10, 30)
QUICK_CANDIDATES_PER_POINT = 40_000
QUICK_MIN_CANDIDATE_SETS = 400
QUICK_REPLICATES = 2

TV_THRESHOLD = 0.05
# A point enters the slope fit only when its TV exceeds this multiple of its noise floor.
NOISE_MARGIN = 2.0
# Points at the top of the grid used for the exact curve's asymptotic slope.
TAIL_POINTS = 3
# Candidates per call of run_auction: bounds memory (about 25 MB at K = 5), and larger chunks
# spend more system time on page faults.
CHUNK_CANDIDATES = 2**16


@dataclass(frozen=True)
class Settings:
    """Sizes of one run."""

    candidate_counts: tuple
    candidates_per_point: int
    min_candidate_sets: int
    replicates: int
    seed: int
    workers: int
    quick: bool

    def candidate_sets(self, n_candidates):
        """Return the number of candidate sets drawn at M = ``n_candidates``."""
        return max(self.min_candidate_sets, -(-self.candidates_per_point // n_candidates))


def estimate_output_distribution(instance, generator, n_candidates, n_sets, seed_sequence):
    """Estimate P_M over mention patterns by averaging MOSAIC's allocation mass over candidate sets.

    Parameters
    ----------
    instance : QueryInstance
    generator : {"reference", "context"}
        π_gen: π_ref, or π_con with the instance's context strength.
    n_candidates : int
        M, the candidates per auction.
    n_sets : int
        Independent candidate sets (auctions) to average over.
    seed_sequence : numpy.random.SeedSequence
        Seeds the draws of this estimate alone.

    Returns
    -------
    estimate : ndarray, shape (2^K,)
        Mean allocation mass per pattern, in the binary order of `replies.all_patterns`.
    noise_floor : float
        ½ Σ_m √(2/π)·se_m: the estimate's expected TV distance to P_M (normal approximation).
    """
    rng = np.random.default_rng(seed_sequence)
    priors, relevances, values, competitor_weights, rival_matrix = instance.arrays()
    generating = instance.generating_priors(generator)
    n_brands = priors.size
    n_patterns = 2**n_brands
    # Pattern code with brand 0 as the most significant bit, as in replies.all_patterns.
    bit_weights = 1 << np.arange(n_brands - 1, -1, -1)

    mass_sum = np.zeros(n_patterns)
    mass_square_sum = np.zeros(n_patterns)
    done = 0
    while done < n_sets:
        n_queries = min(n_sets - done, max(1, CHUNK_CANDIDATES // n_candidates))
        reference_rows = np.tile(priors, (n_queries, 1))
        generating_rows = np.tile(generating, (n_queries, 1))
        candidates = replies.sample_replies(generating_rows, n_candidates, rng)
        rewards = replies.advertiser_rewards(
            candidates.mentions,
            np.broadcast_to(relevances, (n_queries, n_brands)),
            np.broadcast_to(values, (n_queries, n_brands)),
            np.broadcast_to(competitor_weights, (n_queries, n_brands)),
            np.broadcast_to(rival_matrix, (n_queries, n_brands, n_brands)),
        )
        outcome = mosaic.run_auction(
            rewards,
            replies.log_probability(candidates.mentions, reference_rows),
            replies.log_probability(candidates.mentions, generating_rows),
            instance.tau,
        )

        # Allocation mass of each set on each pattern, shape (n_queries, 2^K).
        codes = candidates.mentions @ bit_weights
        cells = (np.arange(n_queries)[:, None] * n_patterns + codes).ravel()
        mass = np.bincount(cells, weights=outcome.allocation.ravel(), minlength=n_queries * n_patterns)
        mass = mass.reshape(n_queries, n_patterns)
        mass_sum += mass.sum(axis=0)
        mass_square_sum += np.square(mass).sum(axis=0)
        done += n_queries

    estimate = mass_sum / n_sets
    variance = np.maximum(mass_square_sum / n_sets - estimate**2, 0.0) * n_sets / max(n_sets - 1, 1)
    standard_error = np.sqrt(variance / n_sets)
    noise_floor = 0.5 * np.sqrt(2.0 / np.pi) * standard_error.sum()
    return estimate, float(noise_floor)


def exact_output_distribution(generating, target, n_candidates):
    """Return P_M per pattern exactly, by quadrature of its integral form.

    Parameters
    ----------
    generating, target : ndarray, shape (P,)
        π_gen and π* over the patterns. Both must be positive everywhere.
    n_candidates : int
        M.

    Returns
    -------
    ndarray, shape (P,)
        P_M(m) = M π_gen(m) ∫_0^∞ w(m) e^{−t w(m)} L(t)^{M−1} dt with
        w = π*/π_gen and L(t) = Σ π_gen e^{−t w}. The quadrature runs in
        u = log t over [1e-14/max w, 45/min w]. The part below the lower
        bound is at most 1e-14 and the part above it at most e^{−45}.
    """
    weights = target / generating
    log_generating = np.log(generating)
    log_weights = np.log(weights)

    def integrand(u):
        t = np.exp(u)
        log_laplace = logsumexp(log_generating - t * weights)
        return np.exp(u + log_weights - t * weights + (n_candidates - 1) * log_laplace)

    lower = np.log(1e-14 / weights.max())
    upper = np.log(45.0 / weights.min())
    integral, _ = quad_vec(integrand, lower, upper, epsabs=1e-14, epsrel=1e-10, limit=5000)
    return n_candidates * generating * integral


def total_variation(first, second):
    """Return ½ Σ |first − second| along the last axis."""
    return 0.5 * np.abs(np.asarray(first) - np.asarray(second)).sum(axis=-1)


def confidence_interval(values, level=0.95):
    """Return the mean and the Student-t confidence interval of ``values``.

    The interval is (None, None) for fewer than two values, and collapses to
    the mean when all values are equal.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return {"mean": mean, "ci95": [None, None]}
    half_width = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return {"mean": mean, "ci95": [mean - float(half_width), mean + float(half_width)]}


def fitted_slope(candidate_counts, distances, floors=None):
    """Return the slope of log10 TV against log10 M, or None with fewer than two usable points.

    With ``floors`` given, only points with TV > NOISE_MARGIN·floor are used.
    """
    candidate_counts = np.asarray(candidate_counts, dtype=float)
    distances = np.asarray(distances, dtype=float)
    usable = distances > 0
    if floors is not None:
        usable &= distances > NOISE_MARGIN * np.asarray(floors, dtype=float)
    if np.unique(candidate_counts[usable]).size < 2:
        return None
    fit = stats.linregress(np.log10(candidate_counts[usable]), np.log10(distances[usable]))
    return float(fit.slope)


def crossing(candidate_counts, distances):
    """Return the smallest M on the grid with TV below TV_THRESHOLD, or None if none."""
    below = [int(m) for m, distance in zip(candidate_counts, distances) if distance < TV_THRESHOLD]
    return min(below) if below else None


def _estimate_task(task):
    """Run one Monte Carlo estimate from a single tuple argument, which a process pool can submit."""
    key, instance, generator, n_candidates, n_sets, seed_sequence = task
    estimate, floor = estimate_output_distribution(instance, generator, n_candidates, n_sets, seed_sequence)
    return key, estimate, floor


def build_tasks(settings):
    """Return every Monte Carlo task, each with its own child seed.

    Replicate r's seed is SeedSequence(seed).spawn(replicates)[r]. Each replicate
    spawns one child per (instance, generator, M) in a fixed order, so the
    results do not depend on the number of workers or the order they finish.
    """
    replicate_seeds = np.random.SeedSequence(settings.seed).spawn(settings.replicates)
    tasks = []
    for replicate, replicate_seed in enumerate(replicate_seeds):
        cells = [
            (instance, generator, n_candidates)
            for instance in INSTANCES
            for generator in GENERATORS
            for n_candidates in settings.candidate_counts
        ]
        for (instance, generator, n_candidates), child in zip(cells, replicate_seed.spawn(len(cells))):
            key = (replicate, instance.name, generator, n_candidates)
            tasks.append((key, instance, generator, n_candidates, settings.candidate_sets(n_candidates), child))
    return tasks, replicate_seeds


def run_estimates(tasks, workers, progress):
    """Run the Monte Carlo tasks, in a process pool when ``workers`` > 1, and return the results by key."""
    results = {}
    bar = tqdm(total=len(tasks), desc="estimates", unit="estimate", disable=not progress, file=sys.stderr)
    try:
        if workers <= 1:
            for task in tasks:
                key, estimate, floor = _estimate_task(task)
                results[key] = (estimate, floor)
                bar.update(1)
        else:
            # "spawn" starts clean interpreters: forking a process that runs threads can deadlock. The workers
            # share the cores with their MOSAIC kernels' threads (market.parallel).
            with parallel.worker_threads(workers), ProcessPoolExecutor(max_workers=workers,
                                                                       mp_context=get_context("spawn")) as pool:
                futures = [pool.submit(_estimate_task, task) for task in tasks]
                for future in as_completed(futures):
                    key, estimate, floor = future.result()
                    results[key] = (estimate, floor)
                    bar.update(1)
    finally:
        bar.close()
    return results


def run(settings, out, overwrite=False, progress=True):
    """Measure TV(P_M, π*) for every instance, generator and M, and write the three result files.

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    out = prepare_output(out, FILES, overwrite)
    logger.info("convergence: M in %s, %d replicates, seed %d, workers: %d -> %s",
                settings.candidate_counts, settings.replicates, settings.seed, settings.workers, out)
    started = time.perf_counter()

    tasks, replicate_seeds = build_tasks(settings)
    estimates = run_estimates(tasks, settings.workers, progress)

    rows = []
    exact_outputs = {}
    for instance in INSTANCES:
        patterns, target = instance.target()
        for generator in GENERATORS:
            generating = np.exp(replies.log_probability(patterns[None], instance.generating_priors(generator)[None])[0])
            for n_candidates in settings.candidate_counts:
                exact = exact_output_distribution(generating, target, n_candidates)
                exact_outputs[instance.name, generator, n_candidates] = exact
                rows.append({
                    "instance": instance.name, "generator": generator, "method": "exact", "replicate": None,
                    "n_candidates": n_candidates, "candidate_sets": None, "tv": float(total_variation(exact, target)),
                    "noise_floor": 0.0, "tv_to_exact_output": 0.0,
                    "exact_mass_error": float(abs(exact.sum() - 1.0)),
                })
            for replicate in range(settings.replicates):
                for n_candidates in settings.candidate_counts:
                    estimate, floor = estimates[replicate, instance.name, generator, n_candidates]
                    rows.append({
                        "instance": instance.name, "generator": generator, "method": "monte_carlo",
                        "replicate": replicate, "n_candidates": n_candidates,
                        "candidate_sets": settings.candidate_sets(n_candidates),
                        "tv": float(total_variation(estimate, target)), "noise_floor": floor,
                        "tv_to_exact_output": float(total_variation(estimate, exact_outputs[instance.name, generator, n_candidates])),
                        "exact_mass_error": None,
                    })
    table = pd.DataFrame(rows)
    table["above_noise_floor"] = table["tv"] > NOISE_MARGIN * table["noise_floor"]
    table.to_csv(out / "convergence.csv", index=False)

    summary = summarise(table, settings, replicate_seeds, time.perf_counter() - started)
    write_json(out / "summary.json", summary)
    plot_convergence(table, settings, out / "convergence.png")
    return summary


def summarise(table, settings, replicate_seeds, wall_seconds):
    """Return the headline figures per instance and generator: slopes, crossing M and TV at both ends of the grid."""
    smallest, largest = min(settings.candidate_counts), max(settings.candidate_counts)
    results = {}
    agreement_ratios = []
    for instance in INSTANCES:
        per_generator = {}
        for generator in GENERATORS:
            rows = table[(table["instance"] == instance.name) & (table["generator"] == generator)]
            exact = rows[rows["method"] == "exact"].sort_values("n_candidates")
            sampled = rows[rows["method"] == "monte_carlo"]

            slopes, crossings, first, last = [], [], [], []
            for _, replicate_rows in sampled.groupby("replicate"):
                replicate_rows = replicate_rows.sort_values("n_candidates")
                slopes.append(fitted_slope(replicate_rows["n_candidates"], replicate_rows["tv"],
                                           replicate_rows["noise_floor"]))
                crossings.append(crossing(replicate_rows["n_candidates"], replicate_rows["tv"]))
                first.append(replicate_rows["tv"].iloc[0])
                last.append(replicate_rows["tv"].iloc[-1])
            fitted = [slope for slope in slopes if slope is not None]
            mean_curve = sampled.groupby("n_candidates")["tv"].mean()
            ratios = (sampled["tv_to_exact_output"] / sampled["noise_floor"]).to_numpy()
            agreement_ratios.extend(ratios.tolist())

            per_generator[generator] = {
                "slope": {**confidence_interval(fitted), "per_replicate": slopes} if fitted
                else {"mean": None, "ci95": [None, None], "per_replicate": slopes},
                "slope_exact_all_points": fitted_slope(exact["n_candidates"], exact["tv"]),
                "slope_exact_tail": fitted_slope(exact["n_candidates"].iloc[-TAIL_POINTS:], exact["tv"].iloc[-TAIL_POINTS:]),
                "crossing_m": crossing(mean_curve.index, mean_curve.to_numpy()),
                "crossing_m_per_replicate": crossings,
                "crossing_m_exact": crossing(exact["n_candidates"], exact["tv"]),
                "tv_at_smallest_m": confidence_interval(first),
                "tv_at_largest_m": confidence_interval(last),
                "tv_exact_at_smallest_m": float(exact["tv"].iloc[0]),
                "tv_exact_at_largest_m": float(exact["tv"].iloc[-1]),
                "noise_floor_at_largest_m": float(sampled[sampled["n_candidates"] == largest]["noise_floor"].mean()),
                "max_tv_to_exact_output_over_floor": float(ratios.max()),
            }
        results[instance.name] = per_generator

    return {
        "experiment": "convergence",
        "method": "allocation mass averaged over independent candidate sets (no final draw), "
                  "checked against the exact P_M by quadrature",
        "parameters": {
            "quick": settings.quick,
            "candidate_counts": list(settings.candidate_counts),
            "candidates_per_point": settings.candidates_per_point,
            "min_candidate_sets": settings.min_candidate_sets,
            "replicates": settings.replicates,
            "tv_threshold": TV_THRESHOLD,
            "noise_margin": NOISE_MARGIN,
            "tail_points": TAIL_POINTS,
            "workers": settings.workers,
            "instances": [asdict(instance) for instance in INSTANCES],
        },
        "seeds": {
            "base_seed": settings.seed,
            "replicate_seeds": [{"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)} for seed in replicate_seeds],
        },
        "smallest_m": smallest,
        "largest_m": largest,
        "results": results,
        # TV(estimate, exact P_M) / noise floor has mean about 1 when the mechanism and the quadrature agree.
        "agreement": {
            "mean_tv_to_exact_output_over_floor": float(np.mean(agreement_ratios)),
            "max_tv_to_exact_output_over_floor": float(np.max(agreement_ratios)),
            "max_exact_mass_error": float(table["exact_mass_error"].max()),
        },
        "wall_seconds": round(wall_seconds, 3),
        "units": {"tv": "probability (0 to 1)", "money": "dollars", "n_candidates": "candidate replies per auction"},
        "provenance": provenance(),
    }


def plot_convergence(table, settings, path):
    """Plot TV against M on log-log axes: Monte Carlo means with 95 % intervals, exact curves and noise floors."""
    figure = Figure(figsize=(5.0 * len(INSTANCES), 5.4))
    axes = figure.subplots(1, len(INSTANCES), sharey=True, squeeze=False)[0]
    colours = {"reference": "tab:blue", "context": "tab:orange"}
    for axis, instance in zip(axes, INSTANCES):
        for generator in GENERATORS:
            rows = table[(table["instance"] == instance.name) & (table["generator"] == generator)]
            exact = rows[rows["method"] == "exact"].sort_values("n_candidates")
            sampled = rows[rows["method"] == "monte_carlo"].groupby("n_candidates")
            means = sampled["tv"].mean()
            bounds = np.array([confidence_interval(values)["ci95"] for _, values in sampled["tv"]], dtype=float)
            lower_error = np.nan_to_num(means.to_numpy() - bounds[:, 0])
            upper_error = np.nan_to_num(bounds[:, 1] - means.to_numpy())
            label = GENERATOR_LABELS[generator]
            axis.plot(exact["n_candidates"], exact["tv"], color=colours[generator], label=f"{label}: exact")
            axis.errorbar(means.index, means.to_numpy(), yerr=[np.maximum(lower_error, 0), np.maximum(upper_error, 0)],
                          fmt="o", markersize=4, capsize=2, color=colours[generator],
                          label=f"{label}: Monte Carlo, 95 % CI")
            axis.plot(means.index, sampled["noise_floor"].mean().to_numpy(), linestyle=":", color=colours[generator],
                      label=f"{label}: noise floor")
        axis.axhline(TV_THRESHOLD, color="black", linestyle="--", linewidth=0.8, label=f"TV = {TV_THRESHOLD}")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set(xlabel="candidates per auction M (count, log scale)",
                 title=f"{instance.name}: τ = ${instance.tau:g}, κ = {instance.competitor_weights[0]:g}")
        axis.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("TV distance to π* (probability, log scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    figure.suptitle(f"MOSAIC output vs exact π*: {settings.replicates} replicates, "
                    f"at least {settings.candidates_per_point:,} candidates per point", fontsize=10)
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the headline table: slope, crossing M and TV at the grid's ends per instance and generator."""
    stream = sys.stdout if stream is None else stream
    smallest, largest = summary["smallest_m"], summary["largest_m"]
    header = (f"{'instance':<10}{'generator':<11}{'slope [95% CI]':>24}{'exact':>7}{'tail':>7}"
              f"{'M@0.05':>8}{'exact':>7}{f'TV M={smallest}':>10}{f'TV M={largest}':>11}{'floor':>9}")
    print(header, file=stream)
    for instance, generators in summary["results"].items():
        for generator, figures in generators.items():
            slope = figures["slope"]
            low, high = slope["ci95"]
            if slope["mean"] is None:
                slope_text = "n/a"
            elif low is None:
                slope_text = f"{slope['mean']:.3f}"
            else:
                slope_text = f"{slope['mean']:.3f} [{low:.3f}, {high:.3f}]"
            print(
                f"{instance:<10}{generator:<11}{slope_text:>24}"
                f"{_number(figures['slope_exact_all_points'], '.3f'):>7}{_number(figures['slope_exact_tail'], '.3f'):>7}"
                f"{_number(figures['crossing_m'], 'd'):>8}{_number(figures['crossing_m_exact'], 'd'):>7}"
                f"{figures['tv_at_smallest_m']['mean']:>10.4f}{figures['tv_at_largest_m']['mean']:>11.4f}"
                f"{figures['noise_floor_at_largest_m']:>9.4f}",
                file=stream,
            )
    agreement = summary["agreement"]
    print(f"Monte Carlo vs exact P_M: mean TV/floor {agreement['mean_tv_to_exact_output_over_floor']:.2f}, "
          f"max {agreement['max_tv_to_exact_output_over_floor']:.2f}; "
          f"replicates: {summary['parameters']['replicates']}, seed: {summary['seeds']['base_seed']}, "
          f"wall time: {summary['wall_seconds']:.1f} s", file=stream)


def _number(value, spec):
    return "none" if value is None else format(value, spec)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    add_output_arguments(parser, DEFAULT_OUT)
    parser.add_argument("--seeds", type=_positive_int, default=None, metavar="N",
                        help=f"independent replicates (default: {DEFAULT_REPLICATES}, or {QUICK_REPLICATES} with --quick)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"base seed: replicate r uses SeedSequence(seed).spawn(N)[r] (default: {DEFAULT_SEED})")
    parser.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes for the Monte Carlo estimates (default: the number of CPUs)")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def execute(arguments):
    """Run the experiment with the parsed command-line arguments and return its summary."""
    if arguments.quick:
        settings = Settings(QUICK_CANDIDATE_COUNTS, QUICK_CANDIDATES_PER_POINT, QUICK_MIN_CANDIDATE_SETS,
                            arguments.seeds or QUICK_REPLICATES, arguments.seed, arguments.workers, True)
    else:
        settings = Settings(CANDIDATE_COUNTS, CANDIDATES_PER_POINT, MIN_CANDIDATE_SETS,
                            arguments.seeds or DEFAULT_REPLICATES, arguments.seed, arguments.workers, False)
    return run(settings, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.convergence``."""
    from market.cli import main as cli_main

    return cli_main(["run", "convergence", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
