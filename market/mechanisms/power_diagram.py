r"""The power-diagram auction: ad placements sold on the user's intent.

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

Eligibility. Only eligible advertisers are ranked, and an advertiser is
eligible at x when all of these hold:

- b_i > 0;
- ‖x − c_i‖² ≤ gate, if a gate is given;
- cos(x, c_i) = x·c_i / (‖x‖ ‖c_i‖) ≥ cosine_threshold, if a threshold is given;
- v_i(x) ≥ r, the reserve in dollars per impression (r = 0 by default).

A query with no eligible advertiser shows no ad (winner −1).

Reserve. A winner pays max(p_w, r). This keeps truthful bidding weakly
dominant because max(p_w, r) is still the critical value. The gates do not
depend on the bid. Lowering the bid either drops the score below the
runner-up's, which needs b < b*, or drops v_w(x) below r, which needs
b < r exp(‖x − c_w‖²/σ_w²). The smallest bid that wins is therefore
max(b*, r exp(‖x − c_w‖²/σ_w²)), and priced at the winner's relevance
exp(−‖x − c_w‖²/σ_w²) it is max(p_w, r).

Several slots (generalised second price). With k ≥ 1 slots the eligible
advertisers are ranked by score, and the advertiser at rank j (0-based)
gets slot j for j < k. It pays its critical value for keeping rank j: the
single-slot formula with the score of rank j + 1 in place of the runner-up's
(p = 0 if no eligible advertiser ranks below it), floored at the reserve,

.. math::

    p_{(j)} = \max\bigl(\exp(\mathrm{score}_{(j+1)} + (λ − 1) ‖x − c_{(j)}‖² / σ_{(j)}²),\ r\bigr).

With k = 1 this is the single-slot auction above, and truthful bidding is
weakly dominant. With k ≥ 2 GSP is not truthful in general. Suppose every
slot is worth the same to an advertiser and each advertiser wants one
placement (unit demand). Then the top-ranked advertiser can lower its bid
until its score falls just below the score of rank 1, take slot 1 and pay
the price set by rank 2, which can be lower. tests/test_power_diagram.py
builds such a case by hand. A truthful rule for identical slots would
charge every winner the price set by rank k, priced at its own relevance.
This module does not implement that rule.

Ties in score go to the lowest advertiser index, both for the top slot and
for the order of the later slots.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

__all__ = ["PowerDiagramOutcome", "run_auction", "squared_distances"]


@dataclass(frozen=True)
class PowerDiagramOutcome:
    """Result of a batch of power-diagram auctions.

    Attributes
    ----------
    winner : ndarray of int, shape (Q,)
        Index of the advertiser in slot 0, or −1 where no advertiser was eligible.
    payment : ndarray, shape (Q,)
        The slot-0 winner's payment in dollars per impression (0 where no ad).
    scores : ndarray, shape (Q, n)
        score_i(x); −inf for an advertiser that is not eligible.
    winners : ndarray of int, shape (Q, k)
        Index of the advertiser in each slot, or −1 for an empty slot. The
        filled slots of a row come first.
    payments : ndarray, shape (Q, k)
        Each slot's payment in dollars per impression (0 for an empty slot).
    """

    winner: np.ndarray
    payment: np.ndarray
    scores: np.ndarray
    winners: np.ndarray
    payments: np.ndarray


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


def run_auction(
    intents,
    centers,
    reaches,
    bids,
    relevance_weight=1.0,
    gate=None,
    cosine_threshold=None,
    reserve=0.0,
    slots=1,
):
    """Sell ``slots`` placements per query by the power-diagram rule.

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
    cosine_threshold : float or None, optional
        If given, a number in [−1, 1]: only advertisers with
        cos(x, c_i) ≥ cosine_threshold are eligible. Every intent and centre
        must then be a non-zero vector.
    reserve : float, optional
        r ≥ 0 in dollars per impression. Only advertisers with implied value
        v_i(x) ≥ r are eligible, and every filled slot pays at least r.
    slots : int, optional
        k ≥ 1, the number of placements sold per query.

    Returns
    -------
    PowerDiagramOutcome
        ``winner`` and ``payment`` are slot 0 of ``winners`` and ``payments``.

    Raises
    ------
    ValueError
        If a shape disagrees, a number is out of range or not finite, or
        ``cosine_threshold`` is given with a zero intent or centre.
    TypeError
        If ``slots`` is not an integer.
    """
    intents, centers, reaches, bids = _auction_iv(
        intents, centers, reaches, bids, relevance_weight, gate, cosine_threshold, reserve, slots
    )
    n_queries, n_bidders = intents.shape[0], centers.shape[0]

    # Eligibility: a positive bid, the optional gates, and v_i(x) ≥ r, compared in log space.
    distances = squared_distances(intents, centers)
    normalised_distance = distances / reaches[None, :] ** 2
    with np.errstate(divide="ignore"):
        log_bids = np.log(bids)
        log_reserve = np.log(reserve)
    eligible = (bids > 0) & (log_bids - normalised_distance >= log_reserve)
    if gate is not None:
        eligible &= distances <= gate
    if cosine_threshold is not None:
        eligible &= _cosine_similarities(intents, centers) >= cosine_threshold

    # Scores: log b − λ·‖x − c‖²/σ², with ineligible bidders at −inf.
    scores = np.where(eligible, log_bids - relevance_weight * normalised_distance, -np.inf)

    if n_bidders == 0:
        return PowerDiagramOutcome(
            winner=np.full(n_queries, -1),
            payment=np.zeros(n_queries),
            scores=scores,
            winners=np.full((n_queries, slots), -1),
            payments=np.zeros((n_queries, slots)),
        )

    slot_bidders, slot_scores, next_scores = _rank(scores, slots)
    filled = np.isfinite(slot_scores)
    winners = np.where(filled, slot_bidders, -1)

    # Critical bid for slot j: the bid at which the winner's score meets the score of rank j + 1.
    winner_distance = np.take_along_axis(normalised_distance, slot_bidders, axis=1)
    # p = b*·exp(−D_w), taken in log space so that b* cannot overflow alone.
    log_payment = next_scores + (relevance_weight - 1.0) * winner_distance
    # The floor at r prices the critical bid for clearing the reserve.
    payments = np.where(filled, np.maximum(np.exp(log_payment), reserve), 0.0)

    return PowerDiagramOutcome(
        winner=winners[:, 0],
        payment=payments[:, 0],
        scores=scores,
        winners=winners,
        payments=payments,
    )


def _rank(scores, slots):
    """Return the bidders in the top ``slots`` ranks, their scores, and the score of the rank below each.

    A rank past the last bidder has score −inf. Ties go to the lowest index.
    """
    n_queries, n_bidders = scores.shape
    if slots == 1:
        # One slot needs the top two scores only: argmax returns the first maximum, as the stable sort
        # below ranks it, and the runner-up's score is the maximum of the rest. This skips the sort,
        # the most expensive step, and returns the same values.
        rows = np.arange(n_queries)
        winner = np.argmax(scores, axis=1)
        rest = scores.copy()
        rest[rows, winner] = -np.inf
        runner_up = rest.max(axis=1) if n_bidders > 1 else np.full(n_queries, -np.inf)
        return winner[:, None], scores[rows, winner][:, None], runner_up[:, None]

    # Ranking: a stable sort of −score puts equal scores in index order, so the lowest index ranks first.
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked_scores = np.take_along_axis(scores, order, axis=1)

    # Pad with empty ranks (score −inf) so that every slot has a rank below it, even when k ≥ n.
    padding = max(slots + 1 - n_bidders, 0)
    order = np.pad(order, ((0, 0), (0, padding)))
    ranked_scores = np.pad(ranked_scores, ((0, 0), (0, padding)), constant_values=-np.inf)
    return order[:, :slots], ranked_scores[:, :slots], ranked_scores[:, 1 : slots + 1]


def _cosine_similarities(intents, centers):
    """Return cos(x_q, c_i) for every query q and centre i, shape (Q, n)."""
    # Normalising each side first keeps the product of two tiny norms from underflowing to 0.
    unit_intents = intents / np.linalg.norm(intents, axis=1, keepdims=True)
    unit_centers = centers / np.linalg.norm(centers, axis=1, keepdims=True)
    return unit_intents @ unit_centers.T


def _auction_iv(intents, centers, reaches, bids, relevance_weight, gate, cosine_threshold, reserve, slots):
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
    if cosine_threshold is not None:
        _cosine_threshold_iv(intents, centers, cosine_threshold)
    if not np.isscalar(reserve) or not np.isfinite(reserve) or reserve < 0:
        raise ValueError(f"reserve must be a finite number >= 0 (dollars per impression), got {reserve!r}")
    if isinstance(slots, bool) or not isinstance(slots, Integral):
        raise TypeError(f"slots must be an integer >= 1, got {type(slots).__name__} {slots!r}")
    if slots < 1:
        raise ValueError(f"slots must be >= 1 (the number of placements per query), got {slots}")
    return intents, centers, reaches, np.broadcast_to(bids, (n_queries, n_bidders))


def _cosine_threshold_iv(intents, centers, cosine_threshold):
    """Validate ``cosine_threshold`` and the non-zero vectors that it needs."""
    if not np.isscalar(cosine_threshold) or not -1.0 <= cosine_threshold <= 1.0:
        raise ValueError(f"cosine_threshold must be None or a number in [-1, 1], got {cosine_threshold!r}")
    zero_intents = np.flatnonzero(np.linalg.norm(intents, axis=1) == 0)
    if zero_intents.size:
        raise ValueError(
            f"cosine_threshold needs non-zero intents, but intent rows {zero_intents[:10].tolist()} have norm 0. "
            "Drop those queries or pass cosine_threshold=None"
        )
    zero_centers = np.flatnonzero(np.linalg.norm(centers, axis=1) == 0)
    if zero_centers.size:
        raise ValueError(
            f"cosine_threshold needs non-zero centers, but centre rows {zero_centers[:10].tolist()} have norm 0. "
            "Move those centres or pass cosine_threshold=None"
        )
