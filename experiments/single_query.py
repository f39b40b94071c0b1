r"""Shared parts of the claim experiments: one-category markets and MOSAIC with its internals exposed.

The experiments ``output_variance``, ``attribution``, ``incumbency`` and
``adversarial`` need what `market.serving.serve_mosaic` computes but does not
return: the candidates, the allocation, each advertiser's truthful utility
Φ − Φ_{−i} and the index of the returned reply. `run_mosaic` runs the same
steps in the same order, drawing from the same Generator or the same keyed
streams, so for the same inputs it returns the same reply, payments and
values as `serve_mosaic` (tests/test_claim_experiments.py checks both modes).

Worlds built here have one category whose K brands are its only brands, so
brand indices and slot indices coincide. `exact_geometry` places the brand
centres so that each brand's relevance to the query equals a given number,
and `pair_geometry` places two brands symmetrically about the category
centroid, so that their relevances are exchangeable over random intents.
"""

import argparse
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import stats
from scipy.special import logit

from experiments.options import add_output_arguments, add_scenario_arguments
from experiments.runs import confidence_interval
from market import replies, serving
from market.keyed_random import keyed_normals, keyed_uniforms
from market.mechanisms import mosaic
from market.scenario import PlatformConfig
from market.world import World, sample_near

__all__ = [
    "MosaicRun",
    "add_claim_arguments",
    "candidate_utilities",
    "cell_generators",
    "distinct_intents",
    "embedding_platform",
    "entropy_bits",
    "exact_geometry",
    "expected",
    "incremental_values",
    "interval",
    "linear_slope",
    "log_log_slope",
    "log_odds_gap",
    "mosaic_platform",
    "one_category_world",
    "pair_geometry",
    "pattern_codes",
    "pattern_labels",
    "plain_reply_expectations",
    "query_slots",
    "rival_pairs",
    "run_mosaic",
    "sell_ads",
]


# ---------------------------------------------------------------------------
# Platforms from the scenario


def mosaic_platform(scenario):
    """Return the scenario's first MOSAIC platform, or the default MOSAIC platform if it has none."""
    for platform in scenario.platforms:
        if platform.auction == "mosaic":
            return platform
    return PlatformConfig(name="mosaic", auction="mosaic")


def embedding_platform(scenario):
    """Return the scenario's first embedding-auction platform, or the default one if it has none."""
    for platform in scenario.platforms:
        if platform.auction == "embedding":
            return platform
    return PlatformConfig(name="embedding", auction="embedding")


# ---------------------------------------------------------------------------
# Geometry and worlds


def exact_geometry(relevances, reach):
    """Return one intent and K brand centres with rel_k(intent) equal to ``relevances`` exactly.

    The space has K + 2 dimensions. The intent is e_0 and brand k sits at
    e_0 + σ·√(−ln rel_k)·e_{k+1}, so ‖x − c_k‖²/σ² = −ln rel_k. The last
    dimension is left free: moving an intent along it by t lowers every
    relevance by the same factor exp(−t²/σ²), which `distinct_intents` uses.
    """
    relevances = np.asarray(relevances, dtype=float)
    if np.any(~(relevances > 0)) or np.any(relevances > 1):
        raise ValueError(f"relevances must lie in (0, 1], got {relevances}")
    n_brands = relevances.size
    intent = np.zeros(n_brands + 2)
    intent[0] = 1.0
    centres = np.tile(intent, (n_brands, 1))
    centres[np.arange(n_brands), np.arange(n_brands) + 1] = reach * np.sqrt(-np.log(relevances))
    return intent, centres


def distinct_intents(intent, count, step=1e-9):
    """Return ``count`` copies of an `exact_geometry` intent, the q-th moved by (q + 1)·step along the free axis.

    The queries are distinct inputs to the keyed streams while their
    relevances differ from the original by a factor of at least
    exp(−(count·step/σ)²), about 1 − 1e-10 for 10,000 queries at σ = 1.
    """
    intents = np.tile(intent, (count, 1))
    intents[:, -1] = step * np.arange(1, count + 1)
    return intents


def pair_geometry(dimension, offset, intent_spread, n_queries, rng):
    """Return the centroid e_0, two brand centres normalise(e_0 ± offset·e_1) and intents around e_0.

    Intents are normalise(e_0 + spread·z/√d) with z ~ N(0, I_d), as in
    `market.world.sample_near`, so the two brands' relevances are
    exchangeable: neither brand is closer to the queries on average.
    """
    if dimension < 2:
        raise ValueError(f"pair_geometry needs at least 2 dimensions, got {dimension}")
    centroid = np.zeros(dimension)
    centroid[0] = 1.0
    centres = np.tile(centroid, (2, 1))
    centres[:, 1] = (offset, -offset)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    intents = sample_near(np.tile(centroid, (n_queries, 1)), intent_spread, rng)
    return centroid, centres, intents


def one_category_world(centroid, centres, reaches, priors, values, competitor_weights, rivals, intents):
    """Build a `World` of one category whose K brands are all of the market's brands.

    Parameters
    ----------
    centroid : ndarray, shape (d,)
    centres : ndarray, shape (K, d)
    reaches, priors, values, competitor_weights : array_like, shape (K,) or scalar
    rivals : bool
        Make every pair of brands rivals (the ``"category"`` rule) or none.
    intents : ndarray, shape (Q, d)
        The queries the world will serve; the keyword bid basis
        ``category_relevance`` is each brand's mean relevance over them.
    """
    n_brands = centres.shape[0]
    per_brand = {
        name: np.broadcast_to(np.asarray(value, dtype=float), (n_brands,)).copy()
        for name, value in (("reaches", reaches), ("priors", priors), ("values", values),
                            ("competitor_weights", competitor_weights))
    }
    graph = nx.complete_graph(n_brands) if rivals else nx.empty_graph(n_brands)
    rival_matrix = nx.to_numpy_array(graph, nodelist=range(n_brands))[None]
    mean_relevance = replies.relevance(np.atleast_2d(intents), centres, per_brand["reaches"]).mean(axis=0)
    return World(
        centroids=np.asarray(centroid, dtype=float)[None],
        brand_category=np.zeros(n_brands, dtype=int),
        centres=np.asarray(centres, dtype=float),
        reaches=per_brand["reaches"],
        priors=per_brand["priors"],
        values=per_brand["values"],
        competitor_weights=per_brand["competitor_weights"],
        incumbent=per_brand["priors"] > per_brand["priors"].min(),
        category_brands=np.arange(n_brands)[None],
        rivals=graph,
        rival_matrix=rival_matrix,
        category_relevance=mean_relevance,
    )


def query_slots(world, intents, category=None):
    """Return the `QuerySlots` of the queries and every brand's relevance to them, shape (Q, B)."""
    intents = np.atleast_2d(intents)
    relevances = replies.relevance(intents, world.centres, world.reaches)
    if category is None:
        category = np.zeros(intents.shape[0], dtype=int)
    return serving.QuerySlots(world, category, relevances), relevances


# ---------------------------------------------------------------------------
# MOSAIC with its internals


@dataclass(frozen=True)
class MosaicRun:
    """One batch of MOSAIC auctions as `serve_mosaic` runs them, with everything it computed.

    Attributes
    ----------
    mentions : ndarray of bool, shape (Q, M, K)
    helpfulness : ndarray, shape (Q, M)
    true_rewards : ndarray, shape (Q, M, K)
        r_i(y_j) in dollars of every slot brand, in the auction or not.
    reported : ndarray, shape (Q, M, K)
        The reports: true rewards of the brands in the auction, 0 for the others.
    in_auction : ndarray of bool, shape (Q, K)
    log_p_ref, log_p_gen : ndarray, shape (Q, M)
    admissible : ndarray of bool, shape (Q, M), or None without competitive separation
    outcome : market.mechanisms.mosaic.MosaicOutcome
        At the τ the platform actually runs.
    chosen : ndarray of int, shape (Q,)
        Index of the returned candidate.
    keys : ndarray of uint64, shape (Q,), or None without keyed draws
    """

    mentions: np.ndarray
    helpfulness: np.ndarray
    true_rewards: np.ndarray
    reported: np.ndarray
    in_auction: np.ndarray
    log_p_ref: np.ndarray
    log_p_gen: np.ndarray
    admissible: np.ndarray | None
    outcome: mosaic.MosaicOutcome
    chosen: np.ndarray
    keys: np.ndarray | None

    @property
    def returned_mentions(self):
        """The returned reply's mention pattern, shape (Q, K)."""
        return self.mentions[np.arange(self.chosen.size), self.chosen]

    @property
    def returned_rewards(self):
        """Each slot brand's realised reward from the returned reply in dollars, shape (Q, K)."""
        return self.true_rewards[np.arange(self.chosen.size), self.chosen]


def run_mosaic(config, slots, intents, eligible, published_tau, actual_tau, seed, rng):
    """Draw M candidates per query, run MOSAIC on the truthful reports and choose the returned reply.

    Takes the arguments of `market.serving.serve_mosaic` and makes the same
    draws in the same order, so the returned reply, payments and values equal
    that function's for the same Generator state or keys. Audits are left to
    `serve_mosaic`: this function draws nothing after the final selection.
    """
    world = slots.world

    in_auction = slots.take(eligible)
    prior = world.priors[slots.brands]
    generating = prior
    if config.generator == "context":
        generating = replies.context_probabilities(prior, in_auction, config.context_strength)
    keys = None
    if config.reproducible:
        keys = serving.auction_keys(seed, intents, slots, in_auction, published_tau, config.candidates)
        uniforms = keyed_uniforms(keys, (config.candidates, prior.shape[1]), serving.CANDIDATE_STREAM)
        candidates = replies.Replies(
            mentions=uniforms < generating[:, None, :],
            helpfulness=keyed_normals(keys, (config.candidates,), serving.HELPFULNESS_STREAM),
        )
    else:
        candidates = replies.sample_replies(generating, config.candidates, rng)
    log_p_ref = replies.log_probability(candidates.mentions, prior)
    log_p_gen = replies.log_probability(candidates.mentions, generating)

    admissible = None
    if config.separation:
        admissible = rival_pairs(candidates.mentions, slots.rivals) == 0

    true_rewards = slots.rewards(candidates.mentions)
    reported = true_rewards * in_auction[:, None, :]
    outcome = mosaic.run_auction(reported, log_p_ref, log_p_gen, actual_tau, admissible)
    if keys is None:
        chosen = mosaic.select(outcome.allocation, rng)
    else:
        chosen = mosaic.select_keyed(outcome.allocation, keys)
    return MosaicRun(
        mentions=candidates.mentions,
        helpfulness=candidates.helpfulness,
        true_rewards=true_rewards,
        reported=reported,
        in_auction=in_auction,
        log_p_ref=log_p_ref,
        log_p_gen=log_p_gen,
        admissible=admissible,
        outcome=outcome,
        chosen=chosen,
        keys=keys,
    )


def expected(run, per_candidate):
    """Return Σ_j q_j·x_j: the expectation over the final draw of a per-candidate quantity (Q, M, ...)."""
    per_candidate = np.asarray(per_candidate, dtype=float)
    return np.einsum("qm,qm...->q...", run.outcome.allocation, per_candidate)


def incremental_values(run, tau):
    """Return Σ_j (q_j − q^{−i}_j)·r_i(y_j) per slot brand in dollars (0 outside the auction), shape (Q, K)."""
    counterfactual = mosaic.allocation_without(run.reported, run.log_p_ref, run.log_p_gen, tau, run.admissible)
    with_brand = np.einsum("qm,qmk->qk", run.outcome.allocation, run.true_rewards)
    without_brand = np.einsum("qmk,qmk->qk", counterfactual, run.true_rewards)
    return np.where(run.in_auction, with_brand - without_brand, 0.0)


def rival_pairs(mentions, rival_matrix):
    """Return the number of mentioned rival pairs (counted both ways) per reply, shape of ``mentions`` without K."""
    mentioned = np.asarray(mentions, dtype=float)
    return np.einsum("q...i,qij,q...j->q...", mentioned, rival_matrix, mentioned)


def candidate_utilities(mentions, helpfulness, slots, weights, base_quality=0.0):
    """Return the user's utility of every candidate reply, shape (Q, M)."""
    n_queries, n_candidates, n_brands = mentions.shape
    flat = replies.reply_utility(
        base_quality,
        np.asarray(helpfulness).reshape(-1),
        mentions.reshape(-1, n_brands),
        np.repeat(slots.relevances, n_candidates, axis=0),
        np.repeat(slots.rivals, n_candidates, axis=0),
        weights,
    )
    return flat.reshape(n_queries, n_candidates)


# ---------------------------------------------------------------------------
# The post-response platform


def sell_ads(config, slots, intents, relevances, weights):
    """Sell one separate placement per query with every brand bidding; return the ad's `Service` alone.

    The service starts empty, so afterwards ``utility`` is the ad's cost to
    the user, ``payments`` the winner's payment and ``value`` (equal to
    ``incremental_value``) the shown ad's value v_w·rel_w(x).
    """
    world = slots.world
    service = serving.Service.empty(slots.n_queries, world.n_brands)
    eligible = np.ones((slots.n_queries, world.n_brands), dtype=bool)
    return serving.sell_placement(service, config, intents, relevances, eligible, world, weights, config.gate)


def plain_reply_expectations(slots, weights, base_quality=0.0):
    """Return exact expectations over one reply from π_ref, by enumerating all 2^K mention patterns.

    Returns
    -------
    dict of ndarray
        ``mentions`` (Q, K): mention probabilities; ``value`` (Q, K): each
        brand's expected reward in dollars; ``utility`` (Q,): the user's
        expected utility (E[h] = 0); ``clutter`` (Q,): the probability that
        the reply names two rivals.
    """
    prior = slots.world.priors[slots.brands]
    n_queries, n_brands = prior.shape
    patterns = np.broadcast_to(replies.all_patterns(n_brands), (n_queries, 2**n_brands, n_brands))
    probability = np.exp(replies.log_probability(patterns, prior))
    utilities = candidate_utilities(patterns, np.zeros(patterns.shape[:2]), slots, weights, base_quality)
    return {
        "mentions": np.einsum("qp,qpk->qk", probability, patterns.astype(float)),
        "value": np.einsum("qp,qpk->qk", probability, slots.rewards(patterns)),
        "utility": np.einsum("qp,qp->q", probability, utilities),
        "clutter": np.einsum("qp,qp->q", probability, (rival_pairs(patterns, slots.rivals) > 0).astype(float)),
    }


# ---------------------------------------------------------------------------
# Mention patterns


def pattern_codes(mentions):
    """Return an integer code per mention pattern, brand 0 as the most significant bit (as `replies.all_patterns`)."""
    mentions = np.asarray(mentions, dtype=bool)
    n_brands = mentions.shape[-1]
    return mentions.astype(np.int64) @ (1 << np.arange(n_brands - 1, -1, -1))


def pattern_labels(n_brands):
    """Return a label per pattern code such as ``"01100"`` (brand 0 first)."""
    return ["".join("1" if flag else "0" for flag in pattern) for pattern in replies.all_patterns(n_brands)]


def entropy_bits(probabilities):
    """Return the Shannon entropy in bits of a probability (or count) vector; 0·log 0 counts as 0."""
    probabilities = np.asarray(probabilities, dtype=float)
    probabilities = probabilities / probabilities.sum()
    positive = probabilities[probabilities > 0]
    return float(-(positive * np.log2(positive)).sum()) + 0.0


def log_odds_gap(first, second):
    """Return logit(first) − logit(second) in nats."""
    return float(logit(first) - logit(second))


# ---------------------------------------------------------------------------
# Options, seeds and statistics


def add_claim_arguments(parser, default_out, default_replicates, quick_replicates):
    """Add --scenario, --seed, --set (and --rounds and --users, which these experiments ignore), --seeds and the output options."""
    add_scenario_arguments(parser)
    add_output_arguments(parser, default_out)
    parser.add_argument("--seeds", type=_positive_int, default=None, metavar="N",
                        help=f"independent replicates (default: {default_replicates}, or {quick_replicates} with "
                             "--quick); replicate seeds are SeedSequence(seed).spawn(N), with the scenario's seed "
                             "unless --seed is given")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def cell_generators(seed, n_cells):
    """Return one independent Generator per cell of a replicate, spawned from its seed in a fixed order."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(n_cells)]


def interval(values):
    """Return {"mean", "ci95": [low, high]} over replicates (Student t); bounds are None for one value."""
    mean, low, high = confidence_interval(values)
    finite = [bound if np.isfinite(bound) else None for bound in (low, high)]
    return {"mean": mean if np.isfinite(mean) else None, "ci95": finite}


def log_log_slope(x, y):
    """Return the least-squares slope of log10 y on log10 x over points with y > 0; NaN with fewer than two."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    usable = (x > 0) & (y > 0) & np.isfinite(y)
    if np.unique(x[usable]).size < 2:
        return float("nan")
    return float(stats.linregress(np.log10(x[usable]), np.log10(y[usable])).slope)


def linear_slope(x, y):
    """Return the least-squares slope of y on x over finite points; NaN with fewer than two distinct x."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    usable = np.isfinite(x) & np.isfinite(y)
    if np.unique(x[usable]).size < 2:
        return float("nan")
    return float(stats.linregress(x[usable], y[usable]).slope)

