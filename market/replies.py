r"""A synthetic LLM whose reply probabilities are exact.

A reply to a query of category c is y = (m, h): m ∈ {0,1}^K marks which of
the category's K brands it mentions and h ~ N(0, 1) is a helpfulness shock,
independent of m. Under the reference LLM the mentions are independent,

.. math::

    π_{ref}(m) = \prod_k ρ_k^{m_k} (1 − ρ_k)^{1 − m_k},

with ρ_k the brand's incumbency prior. The context-aware LLM π_con prompts
with the auction's advertisers, which raises the log-odds of each brand k in
the auction by the context strength β:
logit ρ'_k = logit ρ_k + β. The density of h is the same under both, so it
cancels from every importance weight and log-probabilities below cover m.

Relevance of brand k to intent x: rel_k(x) = exp(−‖x − c_k‖² / σ_k²).

Advertiser i's reward (dollars) for reply y at intent x:

.. math::

    r_i(x, y) = b_i\,rel_i(x)\,\Big(m_i − κ_i \sum_{j \in N(i)} m_j\Big),

with N(i) its rivals. The user's utility of the reply on platform p:

.. math::

    u = q_p + h − γ \sum_k m_k (1 − rel_k(x))
        − γ_{clutter} \max(0, \#\{\text{mentioned brands with a mentioned rival}\} − 1).

A separate ad w shown beside the reply subtracts γ_ad (1 − rel_w(x)).
"""

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit, logsumexp

from market.mechanisms.power_diagram import squared_distances

__all__ = [
    "Replies",
    "ad_utility",
    "advertiser_rewards",
    "context_probabilities",
    "exact_optimal_distribution",
    "log_probability",
    "relevance",
    "reply_utility",
    "sample_replies",
]

MAX_EXACT_BRANDS = 12


@dataclass(frozen=True)
class Replies:
    """M candidate replies for each of Q queries.

    Attributes
    ----------
    mentions : ndarray of bool, shape (Q, M, K)
    helpfulness : ndarray, shape (Q, M)
        h ~ N(0, 1).
    """

    mentions: np.ndarray
    helpfulness: np.ndarray


def relevance(intents, centres, reaches):
    """Return rel_k(x) = exp(−‖x − c_k‖²/σ_k²), shape (Q, n)."""
    return np.exp(-squared_distances(intents, centres) / np.asarray(reaches)[None, :] ** 2)


def context_probabilities(priors, in_auction, strength):
    """Mention probabilities under π_con: logit ρ'_k = logit ρ_k + β for brands in the auction.

    Priors of exactly 0 or 1 stay where they are: no prompt makes a brand the
    reference LLM never names appear, or removes one it always names.
    """
    priors = np.asarray(priors, dtype=float)
    with np.errstate(divide="ignore"):
        boosted = expit(logit(priors) + strength)
    return np.where(np.asarray(in_auction, dtype=bool), boosted, priors)


def sample_replies(probabilities, n_candidates, rng):
    """Draw M replies per query: m_k ~ Bernoulli(p_k) independently, h ~ N(0, 1).

    Parameters
    ----------
    probabilities : ndarray, shape (Q, K)
        Mention probabilities of the generating model.
    n_candidates : int
        M.
    rng : numpy.random.Generator
    """
    n_queries, n_brands = probabilities.shape
    uniforms = rng.random((n_queries, n_candidates, n_brands))
    mentions = uniforms < probabilities[:, None, :]
    helpfulness = rng.standard_normal((n_queries, n_candidates))
    return Replies(mentions=mentions, helpfulness=helpfulness)


def log_probability(mentions, probabilities):
    """Return log π(m) = Σ_k m_k log p_k + (1 − m_k) log(1 − p_k) for each reply.

    Written as Σ_k log(1 − p_k) + Σ_k m_k·logit(p_k), one small matrix
    product per query. A query with some p_k of exactly 0 or 1, where the
    logit is infinite, takes the sum term by term instead.

    Parameters
    ----------
    mentions : ndarray of bool or of 0.0/1.0, shape (Q, M, K)
    probabilities : ndarray, shape (Q, K)

    Returns
    -------
    ndarray, shape (Q, M)
        −inf for a pattern the model cannot produce.
    """
    with np.errstate(divide="ignore"):
        log_yes = np.log(probabilities)
        log_no = np.log1p(-probabilities)
    mentioned = np.asarray(mentions, dtype=float)
    with np.errstate(invalid="ignore"):
        log_odds = log_yes - log_no
        result = np.matmul(mentioned, log_odds[:, :, None])[:, :, 0] + log_no.sum(axis=1)[:, None]

    certain = np.flatnonzero(~np.isfinite(log_odds).all(axis=1))
    if certain.size:
        chosen = np.where(mentioned[certain] > 0, log_yes[certain, None, :], log_no[certain, None, :])
        result[certain] = chosen.sum(axis=2)
    return result


def advertiser_rewards(mentions, relevances, values, competitor_weights, rival_matrix):
    """Return r_i = b_i·rel_i·(m_i − κ_i·Σ_{j∈N(i)} m_j) for every candidate, shape (Q, M, K).

    Parameters
    ----------
    mentions : ndarray of bool or of 0.0/1.0, shape (Q, M, K)
    relevances, values, competitor_weights : ndarray, shape (Q, K)
        rel_i(x), b_i and κ_i of each brand slot.
    rival_matrix : ndarray, shape (Q, K, K)
        Symmetric 0/1 adjacency of rivals among the slots.
    """
    mentions = np.asarray(mentions, dtype=float)
    weight = (values * relevances)[:, None, :]
    if not np.any(competitor_weights):
        # With every κ_i = 0 the rival term is exactly 0, so skipping it changes no bit.
        return weight * mentions
    rival_mentions = np.einsum("qmj,qij->qmi", mentions, rival_matrix)
    return weight * (mentions - competitor_weights[:, None, :] * rival_mentions)


def reply_utility(base_quality, helpfulness, mentions, relevances, rival_matrix, weights):
    """Return the user's utility of each returned reply, shape (Q,).

    Parameters
    ----------
    base_quality : float or ndarray, shape (Q,)
        q_p.
    helpfulness : ndarray, shape (Q,)
        h of the returned reply.
    mentions : ndarray of bool, shape (Q, K)
    relevances : ndarray, shape (Q, K)
    rival_matrix : ndarray, shape (Q, K, K)
    weights : market.scenario.UtilityConfig
        γ (irrelevance_cost) and γ_clutter (clutter_cost).
    """
    mentioned = mentions.astype(float)
    irrelevance = np.sum(mentioned * (1.0 - relevances), axis=1)
    rival_mentioned = np.einsum("qj,qij->qi", mentioned, rival_matrix) > 0
    competing = np.sum(mentions & rival_mentioned, axis=1)
    clutter = np.maximum(competing - 1, 0)
    return base_quality + helpfulness - weights.irrelevance_cost * irrelevance - weights.clutter_cost * clutter


def ad_utility(shown, ad_relevance, weights):
    """Return −γ_ad·(1 − rel_w(x)) where an ad is shown and 0 elsewhere, shape (Q,)."""
    return np.where(shown, -weights.ad_irrelevance_cost * (1.0 - ad_relevance), 0.0)


def all_patterns(n_brands):
    """Return every mention pattern of K brands, shape (2^K, K), in binary order."""
    return np.array(list(itertools.product((False, True), repeat=n_brands)), dtype=bool).reshape(-1, n_brands)


def exact_optimal_distribution(priors, relevances, values, competitor_weights, rival_matrix, tau, in_auction=None):
    """Return every mention pattern with its probability under π* = π_ref·exp(r/τ)/Z.

    Only the brands in the auction contribute to r; h drops out because no
    reward depends on it. Enumerates 2^K patterns, so K is limited to 12.

    Parameters
    ----------
    priors, relevances, values, competitor_weights : ndarray, shape (K,)
    rival_matrix : ndarray, shape (K, K)
    tau : float
        τ > 0 in dollars.
    in_auction : ndarray of bool, shape (K,), optional
        Brands whose rewards count; all of them by default.

    Returns
    -------
    patterns : ndarray of bool, shape (2^K, K)
    probabilities : ndarray, shape (2^K,)
    """
    priors = np.asarray(priors, dtype=float)
    n_brands = priors.size
    if n_brands > MAX_EXACT_BRANDS:
        raise ValueError(f"exact π* enumerates 2^K patterns; K = {n_brands} exceeds the limit {MAX_EXACT_BRANDS}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0 (dollars), got {tau!r}")
    in_auction = np.ones(n_brands, bool) if in_auction is None else np.asarray(in_auction, bool)

    patterns = all_patterns(n_brands)
    log_reference = log_probability(patterns[None], priors[None])[0]
    rewards = advertiser_rewards(
        patterns[None],
        np.asarray(relevances, float)[None],
        np.asarray(values, float)[None],
        np.asarray(competitor_weights, float)[None],
        np.asarray(rival_matrix, float)[None],
    )[0]
    total = rewards[:, in_auction].sum(axis=1)
    log_target = log_reference + total / tau
    return patterns, np.exp(log_target - logsumexp(log_target))
