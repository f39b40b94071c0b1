r"""MOSAIC: a truthful auction that runs inside LLM generation.

Soumalias, Curry & Seuken, "Truthful Aggregation of LLMs with an Application
to Online Advertising", NeurIPS 2025 (arXiv 2405.05905).

For one query x the platform draws M candidate replies y_1..y_M from a
generating model π_gen, and each of n advertisers reports its reward
r_i(x, y_j) in dollars. With temperature τ > 0 (dollars) the mechanism targets

.. math::

    π^*(y) = π_{ref}(y) \exp(r(y)/τ) / Z,\qquad r = \sum_i r_i,

the maximiser of E_π[r] − τ KL(π ‖ π_ref) (the standard closed form of the
KL-regularised optimum).

Allocation (self-normalised importance resampling toward π*):

.. math::

    s_j = r(y_j)/τ + \log π_{ref}(y_j) − \log π_{gen}(y_j),\qquad
    q_j = e^{s_j} / \sum_k e^{s_k}.

Potential and Rochet payments:

.. math::

    Φ = τ \log \sum_j e^{s_j},\qquad
    Φ_{−i} = τ \log \sum_j e^{s_j − r_i(y_j)/τ},\qquad
    p_i = \sum_j q_j r_i(y_j) − (Φ − Φ_{−i}).

Because ∂Φ/∂r_i(y_j) = q_j and Φ is convex in the reports, truthful reporting
is a dominant strategy for every finite candidate set. The truthful utility
Φ − Φ_{−i} equals −τ log Σ_j q_j exp(−r_i(y_j)/τ); this module computes it in
that form, which has no cancellation between two large potentials. Jensen's
inequality then gives p_i ≥ 0 for any rewards, and Φ − Φ_{−i} ≥ 0 whenever
r_i ≥ 0 on every candidate. A negative reward (one that penalises a
competitor's mention) can make the truthful utility negative.

Payments depend on the candidate set and the reports, not on which candidate
is finally drawn: they are charged in expectation over that draw.
"""

from dataclasses import dataclass, fields

import numpy as np
from scipy.special import logsumexp

from market.sampling import categorical

__all__ = ["MosaicOutcome", "allocation_without", "run_auction", "select"]


@dataclass(frozen=True)
class MosaicOutcome:
    """Result of a batch of MOSAIC auctions.

    Attributes
    ----------
    allocation : ndarray, shape (Q, M)
        q_j, the probability of returning candidate j; rows sum to 1.
    payments : ndarray, shape (Q, n)
        p_i in dollars, charged in expectation over the final draw.
    potential : ndarray, shape (Q,)
        Φ in dollars.
    utilities : ndarray, shape (Q, n)
        Φ − Φ_{−i}: each advertiser's truthful utility in dollars.
    reference_allocation : ndarray, shape (Q, M)
        The allocation with every reward removed, softmax(log π_ref − log π_gen).
    kl_to_reference : ndarray, shape (Q,)
        KL(allocation ‖ reference_allocation) in nats.
    """

    allocation: np.ndarray
    payments: np.ndarray
    potential: np.ndarray
    utilities: np.ndarray
    reference_allocation: np.ndarray
    kl_to_reference: np.ndarray


def run_auction(rewards, log_p_ref, log_p_gen, tau):
    """Run MOSAIC's allocation and Rochet payments on a batch of queries.

    Parameters
    ----------
    rewards : array_like, shape (Q, M, n) or (M, n)
        r_i(x, y_j) in dollars: reported reward of advertiser i for candidate j.
    log_p_ref, log_p_gen : array_like, shape (Q, M) or (M,)
        log π_ref(y_j | x) and log π_gen(y_j | x) of each candidate.
    tau : float
        Temperature τ > 0 in dollars: the weight of the KL penalty.

    Returns
    -------
    MosaicOutcome
        With the leading Q axis dropped when the inputs had none.

    Raises
    ------
    ValueError
        If τ is not a finite positive number, the shapes disagree, or any
        input is not finite.
    """
    rewards, log_p_ref, log_p_gen, single = _auction_iv(rewards, log_p_ref, log_p_gen, tau)

    # Importance weight of each candidate toward π_ref, then the scores s_j.
    log_weight = log_p_ref - log_p_gen
    scores = rewards.sum(axis=2) / tau + log_weight

    # Allocation q = softmax(s) and potential Φ = τ·logsumexp(s).
    log_normaliser = logsumexp(scores, axis=1)
    log_allocation = scores - log_normaliser[:, None]
    allocation = np.exp(log_allocation)
    potential = tau * log_normaliser

    # Φ − Φ_{−i} = −τ·log Σ_j q_j·exp(−r_i(y_j)/τ), free of cancellation.
    utilities = -tau * logsumexp(log_allocation[:, :, None] - rewards / tau, axis=1)
    expected_reward = np.einsum("qm,qmn->qn", allocation, rewards)
    # p_i >= 0 is exact by Jensen's inequality; the clip removes rounding of order 1e-16.
    payments = np.maximum(expected_reward - utilities, 0.0)

    # Reference weights: the same candidates with every reward removed.
    log_reference = log_weight - logsumexp(log_weight, axis=1)[:, None]
    reference_allocation = np.exp(log_reference)
    kl_to_reference = np.sum(allocation * (log_allocation - log_reference), axis=1)

    outcome = MosaicOutcome(
        allocation=allocation,
        payments=payments,
        potential=potential,
        utilities=utilities,
        reference_allocation=reference_allocation,
        kl_to_reference=np.maximum(kl_to_reference, 0.0),
    )
    if single:
        return MosaicOutcome(**{f.name: getattr(outcome, f.name)[0] for f in fields(outcome)})
    return outcome


def allocation_without(rewards, log_p_ref, log_p_gen, tau):
    """Return each advertiser's counterfactual allocation q^{−i}, shape (Q, M, n).

    q^{−i} = softmax_j(s_j − r_i(y_j)/τ) is the allocation over the same
    candidates with advertiser i's rewards removed, the allocation behind
    Φ_{−i}. Σ_j (q_j − q^{−i}_j) r_i(y_j) is then i's incremental expected
    reward from taking part.
    """
    rewards, log_p_ref, log_p_gen, single = _auction_iv(rewards, log_p_ref, log_p_gen, tau)
    scores = rewards.sum(axis=2) / tau + log_p_ref - log_p_gen
    reduced = scores[:, :, None] - rewards / tau
    counterfactual = np.exp(reduced - logsumexp(reduced, axis=1, keepdims=True))
    return counterfactual[0] if single else counterfactual


def select(allocation, rng):
    """Draw the returned candidate J ~ Categorical(q) for each query.

    Parameters
    ----------
    allocation : array_like, shape (Q, M) or (M,)
        Rows of probabilities that sum to 1.
    rng : numpy.random.Generator
        Source of the Q uniform draws (one per query).

    Returns
    -------
    ndarray of int, shape (Q,) or scalar
        Index of the returned candidate in each row.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    allocation = np.asarray(allocation, dtype=float)
    single = allocation.ndim == 1
    allocation = np.atleast_2d(allocation)

    chosen = categorical(allocation, rng)
    return chosen[0] if single else chosen


def _auction_iv(rewards, log_p_ref, log_p_gen, tau):
    """Validate the inputs of `run_auction` and bring them to batch shape."""
    if not np.isscalar(tau) or not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau must be a finite number > 0 (dollars), got {tau!r}")
    rewards = np.asarray(rewards, dtype=float)
    log_p_ref = np.asarray(log_p_ref, dtype=float)
    log_p_gen = np.asarray(log_p_gen, dtype=float)

    single = rewards.ndim == 2
    if single:
        rewards, log_p_ref, log_p_gen = rewards[None], log_p_ref[None], log_p_gen[None]
    if rewards.ndim != 3:
        raise ValueError(f"rewards must have shape (Q, M, n) or (M, n), got {rewards.shape}")
    if log_p_ref.shape != rewards.shape[:2] or log_p_gen.shape != rewards.shape[:2]:
        raise ValueError(
            f"log_p_ref {log_p_ref.shape} and log_p_gen {log_p_gen.shape} must both have "
            f"shape {rewards.shape[:2]} to match rewards {rewards.shape}"
        )
    if rewards.shape[1] == 0:
        raise ValueError("rewards must hold at least one candidate (M >= 1)")
    for name, array in (("rewards", rewards), ("log_p_ref", log_p_ref), ("log_p_gen", log_p_gen)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite; it contains NaN or ±inf")
    return rewards, log_p_ref, log_p_gen, single
