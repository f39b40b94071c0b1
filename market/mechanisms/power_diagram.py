r"""The power-diagram auction: one ad placement sold on the user's intent.

June Kim, "Power Diagrams for Ad Auctions" (2026-02) and "The Power Diagram
Auction" (2026-07), in the "Vector Space" series at june.kim.

Each advertiser i reports a centre c_i in the embedding space, a reach
σ_i > 0 and a bid b_i ≥ 0, its value in dollars for an impression at its
centre. Its value for an impression at intent x is
v_i(x) = b_i · exp(−‖x − c_i‖² / σ_i²). With relevance weight λ ≥ 0 the
score is

.. math::

    \mathrm{score}_i(x) = \log b_i − λ ‖x − c_i‖² / σ_i²,

and the highest score wins the placement. The winner w pays its critical
value: the smallest bid b* with which it still wins, priced at its own
relevance,

.. math::

    p_w = b^* \exp(−‖x − c_w‖² / σ_w²),\qquad
    \log b^* = \max_{j≠w} \mathrm{score}_j + λ ‖x − c_w‖² / σ_w².

At λ = 1 this is the runner-up's implied value b_r exp(−‖x − c_r‖²/σ_r²);
at λ = 0 the ranking is by bid alone and the winner pays the second-highest
bid scaled by its own relevance. An unopposed winner pays 0 and losers pay
nothing. Because the allocation is monotone in the bid and the payment is the
critical value, reporting the true bid is weakly dominant.

An optional gate admits only advertisers with ‖x − c_i‖² ≤ gate before
ranking; a query with no admitted bidder shows no ad (winner −1).

Ties in score go to the lowest advertiser index (numpy's argmax rule).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["PowerDiagramOutcome", "run_auction", "squared_distances"]


@dataclass(frozen=True)
class PowerDiagramOutcome:
    """Result of a batch of power-diagram auctions.

    Attributes
    ----------
    winner : ndarray of int, shape (Q,)
        Index of the advertiser shown, or −1 where no advertiser was eligible.
    payment : ndarray, shape (Q,)
        The winner's payment in dollars per impression (0 where no ad).
    scores : ndarray, shape (Q, n)
        score_i(x); −inf for an advertiser that is gated out or bids 0.
    """

    winner: np.ndarray
    payment: np.ndarray
    scores: np.ndarray


def squared_distances(intents, centers):
    """Return ‖x_q − c_i‖² for every query q and centre i, shape (Q, n)."""
    intents = np.asarray(intents, dtype=float)
    centers = np.asarray(centers, dtype=float)
    distances = (
        np.sum(intents**2, axis=1)[:, None]
        + np.sum(centers**2, axis=1)[None, :]
        - 2.0 * intents @ centers.T
    )
    # The expansion can go a few ulps below zero for coincident points.
    return np.maximum(distances, 0.0)


def run_auction(intents, centers, reaches, bids, relevance_weight=1.0, gate=None):
    """Sell one placement per query by the power-diagram rule.

    Parameters
    ----------
    intents : array_like, shape (Q, d)
        Query intents x in the embedding space.
    centers : array_like, shape (n, d)
        Reported centres c_i.
    reaches : array_like, shape (n,)
        Reported reaches σ_i > 0.
    bids : array_like, shape (n,) or (Q, n)
        Reported bids b_i ≥ 0 in dollars per impression at the centre; a
        (Q, n) array gives per-query bids (0 removes a bidder from a query).
    relevance_weight : float, optional
        λ ≥ 0, the weight of relevance against bid in the score.
    gate : float or None, optional
        If given, only advertisers with ‖x − c_i‖² ≤ gate are eligible.

    Returns
    -------
    PowerDiagramOutcome
    """
    intents, centers, reaches, bids = _auction_iv(intents, centers, reaches, bids, relevance_weight, gate)
    n_queries, n_bidders = intents.shape[0], centers.shape[0]

    # Scores: log b − λ·‖x − c‖²/σ², with ineligible bidders at −inf.
    normalised_distance = squared_distances(intents, centers) / reaches[None, :] ** 2
    eligible = bids > 0
    if gate is not None:
        eligible &= normalised_distance * reaches[None, :] ** 2 <= gate
    with np.errstate(divide="ignore"):
        scores = np.where(eligible, np.log(bids) - relevance_weight * normalised_distance, -np.inf)

    if n_bidders == 0:
        return PowerDiagramOutcome(
            winner=np.full(n_queries, -1), payment=np.zeros(n_queries), scores=scores
        )

    # Winner: the highest score, ties to the lowest index; −1 if none eligible.
    rows = np.arange(n_queries)
    top = np.argmax(scores, axis=1)
    has_winner = np.isfinite(scores[rows, top])
    winner = np.where(has_winner, top, -1)

    # Critical bid b*: the bid at which the winner's score meets the runner-up's.
    runner_up_scores = scores.copy()
    runner_up_scores[rows, top] = -np.inf
    runner_up = runner_up_scores.max(axis=1)
    winner_distance = normalised_distance[rows, top]
    # p = b*·exp(−D_w), taken in log space so that b* cannot overflow alone.
    log_payment = runner_up + (relevance_weight - 1.0) * winner_distance
    payment = np.where(has_winner, np.exp(log_payment), 0.0)

    return PowerDiagramOutcome(winner=winner, payment=payment, scores=scores)


def _auction_iv(intents, centers, reaches, bids, relevance_weight, gate):
    """Validate the inputs of `run_auction`."""
    intents = np.atleast_2d(np.asarray(intents, dtype=float))
    centers = np.asarray(centers, dtype=float).reshape(-1, intents.shape[1])
    reaches = np.asarray(reaches, dtype=float).reshape(-1)
    bids = np.asarray(bids, dtype=float)
    n_queries, n_bidders = intents.shape[0], centers.shape[0]

    if reaches.shape != (n_bidders,):
        raise ValueError(f"reaches must have shape ({n_bidders},) to match centers, got {reaches.shape}")
    if bids.shape not in ((n_bidders,), (n_queries, n_bidders)):
        raise ValueError(f"bids must have shape ({n_bidders},) or ({n_queries}, {n_bidders}), got {bids.shape}")
    if np.any(~np.isfinite(reaches)) or np.any(reaches <= 0):
        raise ValueError(f"reaches must be finite and > 0, got {reaches}")
    if np.any(~np.isfinite(bids)) or np.any(bids < 0):
        raise ValueError("bids must be finite and >= 0 (dollars per impression)")
    if not np.all(np.isfinite(intents)) or not np.all(np.isfinite(centers)):
        raise ValueError("intents and centers must be finite")
    if not np.isscalar(relevance_weight) or not np.isfinite(relevance_weight) or relevance_weight < 0:
        raise ValueError(f"relevance_weight must be a finite number >= 0, got {relevance_weight!r}")
    if gate is not None and (not np.isscalar(gate) or not gate >= 0):
        raise ValueError(f"gate must be None or a squared distance >= 0, got {gate!r}")
    return intents, centers, reaches, np.broadcast_to(bids, (n_queries, n_bidders))
