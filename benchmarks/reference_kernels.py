"""The batch kernels as they were before the benchmark-driven rewrites.

The MOSAIC copy computes every log-sum-exp with `scipy.special.logsumexp`
over (Q, M, n), the original log-space form. The power-diagram copy sells
one slot: it ranks each row by a stable sort of the scores
log b − λ‖x − c‖²/σ², computed from the squared distances. `benchmarks.run` times the current
kernels against these copies, and `benchmarks.agreement` states how closely
their results must agree: the current kernels compute the same formulas in
another order, so they match up to rounding, not bit for bit.
"""

import numpy as np
from scipy.special import logsumexp

from market.mechanisms import power_diagram
from market.mechanisms.mosaic import MosaicOutcome, _auction_iv, _separate

__all__ = ["allocation_without", "power_diagram_auction", "run_auction"]


def run_auction(rewards, log_p_ref, log_p_gen, tau, admissible=None):
    """Return `market.mechanisms.mosaic.run_auction`'s outcome, computed with scipy's logsumexp."""
    rewards, log_p_ref, log_p_gen, single = _auction_iv(rewards, log_p_ref, log_p_gen, tau)
    rewards, log_weight, void = _separate(rewards, log_p_ref - log_p_gen, admissible)
    scores = rewards.sum(axis=2) / tau + log_weight
    log_normaliser = logsumexp(scores, axis=1)
    log_allocation = scores - log_normaliser[:, None]
    allocation = np.exp(log_allocation)
    potential = tau * log_normaliser
    utilities = -tau * logsumexp(log_allocation[:, :, None] - rewards / tau, axis=1)
    expected_reward = np.einsum("qm,qmn->qn", allocation, rewards)
    payments = np.maximum(expected_reward - utilities, 0.0)
    log_reference = log_weight - logsumexp(log_weight, axis=1)[:, None]
    reference_allocation = np.exp(log_reference)
    with np.errstate(invalid="ignore"):
        log_ratio = np.where(allocation > 0, log_allocation - log_reference, 0.0)
    kl_to_reference = np.sum(allocation * log_ratio, axis=1)
    outcome = MosaicOutcome(
        allocation=allocation,
        payments=payments,
        potential=potential,
        utilities=utilities,
        reference_allocation=reference_allocation,
        kl_to_reference=np.maximum(kl_to_reference, 0.0),
        void=void,
    )
    if single:
        return MosaicOutcome(**{name: None if value is None else value[0] for name, value in vars(outcome).items()})
    return outcome


def allocation_without(rewards, log_p_ref, log_p_gen, tau, admissible=None):
    """Return `market.mechanisms.mosaic.allocation_without`'s result, computed with scipy's logsumexp."""
    rewards, log_p_ref, log_p_gen, single = _auction_iv(rewards, log_p_ref, log_p_gen, tau)
    rewards, log_weight, _ = _separate(rewards, log_p_ref - log_p_gen, admissible)
    scores = rewards.sum(axis=2) / tau + log_weight
    reduced = scores[:, :, None] - rewards / tau
    counterfactual = np.exp(reduced - logsumexp(reduced, axis=1, keepdims=True))
    return counterfactual[0] if single else counterfactual


def power_diagram_auction(intents, centers, reaches, bids, relevance_weight=1.0, gate=None, cosine_threshold=None,
                          reserve=0.0):
    """Return `market.mechanisms.power_diagram.run_auction`'s one-slot outcome, ranking by a stable sort."""
    # The current validation accepts and rejects the same inputs; the intent norms it also returns are unused.
    intents, centers, reaches, bids, _ = power_diagram._auction_iv(
        intents, centers, reaches, bids, relevance_weight, gate, cosine_threshold, reserve, 1
    )
    if centers.shape[0] == 0:
        return power_diagram.run_auction(intents, centers, reaches, bids, relevance_weight, gate, cosine_threshold,
                                         reserve)
    distances = power_diagram.squared_distances(intents, centers)
    normalised_distance = distances / reaches[None, :] ** 2
    with np.errstate(divide="ignore"):
        log_bids = np.log(bids)
        log_reserve = np.log(reserve)
    eligible = (bids > 0) & (log_bids - normalised_distance >= log_reserve)
    if gate is not None:
        eligible &= distances <= gate
    if cosine_threshold is not None:
        eligible &= power_diagram._cosine_similarities(intents, centers) >= cosine_threshold
    scores = np.where(eligible, log_bids - relevance_weight * normalised_distance, -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked_scores = np.take_along_axis(scores, order, axis=1)
    padding = max(2 - centers.shape[0], 0)
    order = np.pad(order, ((0, 0), (0, padding)))
    ranked_scores = np.pad(ranked_scores, ((0, 0), (0, padding)), constant_values=-np.inf)
    slot_bidders = order[:, :1]
    filled = np.isfinite(ranked_scores[:, :1])
    winners = np.where(filled, slot_bidders, -1)
    winner_distance = np.take_along_axis(normalised_distance, slot_bidders, axis=1)
    log_payment = ranked_scores[:, 1:2] + (relevance_weight - 1.0) * winner_distance
    payments = np.where(filled, np.maximum(np.exp(log_payment), reserve), 0.0)
    return power_diagram.PowerDiagramOutcome(
        winner=winners[:, 0], payment=payments[:, 0], scores=scores, winners=winners, payments=payments
    )
