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

Fast path. One slot with no gate, no cosine threshold and r = 0, for at
least one advertiser, is computed by `_single_slot_auction`. There the only
eligibility rule is b_i > 0, and the score is linear in the augmented intent
x̃ = [x, ‖x‖², 1]:

.. math::

    \mathrm{score}_i(x) = x̃ · C̃_i,\qquad
    C̃_i = \bigl[2λ c_i / σ_i²,\ −λ / σ_i²,\ \log b_i − λ ‖c_i‖² / σ_i²\bigr].

One matrix product then gives every score, and the winner and runner-up
come from maxima over blocks of queries small enough to stay in cache. The
product rounds differently from log b − λ‖x − c‖²/σ², by about ε times the
largest term (λ‖x‖²/σ², λ‖c‖²/σ² or |log b|), with ε = 2.2e-16. So the
winners are the same as the general path's except between scores that tie
within that rounding, and the payments agree to about that relative error.
Advertisers with the same centre, reach and bid have the same row C̃_i,
and the BLAS in use (OpenBLAS 0.3) gives them bit-identical scores, so
their ties still go to the lowest index. tests/test_power_diagram.py checks
this. The term log b_i enters the product only for a positive bid of shape
(n,). Per-query bids are added after the product, and a zero bid gives
score −inf there, because log 0 inside the product would give
0·(−inf) = NaN. When a coefficient or ‖x‖² is so large that the product
could overflow, the general path runs instead.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

__all__ = ["PowerDiagramOutcome", "run_auction", "squared_distances"]

# Bytes of scores per block of queries in the fast path. NOTE: 4 MiB ran fastest of the sizes from 0.5 to 30 MiB
# on the benchmark (Q = 100,000, n = 30) on one 2-core AMD EPYC with 1 MiB of L2 per core and 32 MiB of L3, and
# 3 to 8 MiB ran within 5 % of it. Other machines may prefer another size.
_BLOCK_BYTES = 4 * 2**20


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
    intents, centers, reaches, bids, intent_norms = _auction_iv(
        intents, centers, reaches, bids, relevance_weight, gate, cosine_threshold, reserve, slots
    )
    n_queries, n_bidders = intents.shape[0], centers.shape[0]

    if slots == 1 and gate is None and cosine_threshold is None and reserve == 0 and n_bidders > 0:
        # _auction_iv broadcasts bids of shape (n,) to (Q, n) with a zero row stride.
        bid_row = bids[0] if n_queries > 0 and bids.strides[0] == 0 else None
        distance_rows, score_rows = _augmented_rows(centers, reaches, relevance_weight, bid_row)
        if _product_cannot_overflow(np.vstack([distance_rows, score_rows]), intent_norms):
            return _single_slot_auction(intents, intent_norms, bids, bid_row, relevance_weight, distance_rows,
                                        score_rows)

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


def _augmented_rows(centers, reaches, relevance_weight, bid_row):
    """Return the rows E_i and C̃_i with D_i(x) = x̃ · E_i and score_i(x) = x̃ · C̃_i, each of shape (n, d + 2).

    Here x̃ = [x, ‖x‖², 1] and D_i(x) = ‖x − c_i‖²/σ_i². Expanding ‖x − c_i‖² = ‖x‖² − 2 x·c_i + ‖c_i‖² gives
    E_i = [−2 c_i, 1, ‖c_i‖²]/σ_i², and score_i = log b_i − λ D_i gives C̃_i = −λ E_i + [0, …, 0, log b_i].
    The term log b_i is left out of C̃_i for per-query bids (``bid_row`` None) and for a zero bid, because
    log 0 = −inf would make 0·(−inf) = NaN in the matrix product. The caller adds those terms to the product.
    """
    n_bidders, dimension = centers.shape
    distance_rows = np.empty((n_bidders, dimension + 2))
    # An overflow here gives inf or NaN, which `_product_cannot_overflow` then rejects.
    with np.errstate(over="ignore", invalid="ignore"):
        inverse_reach = 1.0 / reaches**2
        distance_rows[:, :dimension] = -2.0 * inverse_reach[:, None] * centers
        distance_rows[:, dimension] = inverse_reach
        distance_rows[:, dimension + 1] = inverse_reach * np.einsum("ik,ik->i", centers, centers)
        score_rows = -relevance_weight * distance_rows
    if bid_row is not None:
        bidding = bid_row > 0
        score_rows[bidding, dimension + 1] += np.log(bid_row[bidding])
    return distance_rows, score_rows


def _product_cannot_overflow(rows, intent_norms):
    """Return whether every partial sum of x̃ · R_i stays finite for every row R_i of ``rows``.

    |x_k| ≤ ‖x‖ ≤ max(1, ‖x‖²), so each of the d + 2 terms of x̃ · R_i is at most max|R| · max(1, ‖x‖²) in
    absolute value. A product that passes this check has no inf or NaN.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        largest_term = np.max(np.abs(rows), initial=0.0) * np.max(intent_norms, initial=1.0)
        return bool(rows.shape[1] * largest_term <= np.finfo(float).max / 2)


def _single_slot_auction(intents, intent_norms, bids, bid_row, relevance_weight, distance_rows, score_rows):
    """Sell one placement per query with all scores from one matrix product (the fast path of `run_auction`).

    The caller has checked that the auction has one slot, no gate, no cosine threshold and r = 0, and
    that the products with ``distance_rows`` and ``score_rows`` cannot overflow.

    The scores are computed as their transpose, shape (n, Q), where the maximum over advertisers is an
    elementwise maximum of n contiguous rows. Queries are processed in blocks of about ``_BLOCK_BYTES`` of
    scores, so that the passes after the product read the block from cache.
    """
    n_queries, dimension = intents.shape
    n_bidders = score_rows.shape[0]
    block_queries = max(_BLOCK_BYTES // (8 * n_bidders), 1)
    transposed_scores = np.empty((n_bidders, n_queries))
    flat_scores = transposed_scores.reshape(-1)
    top = np.empty(n_queries)
    runner_up = np.empty(n_queries)
    winner = np.empty(n_queries, dtype=np.intp)
    winner_distance = np.empty(n_queries) if relevance_weight != 1 else None

    # Buffers reused by every block: x̃ = [x, ‖x‖², 1], the winners' rows E_w, the tie-breaking codes and the
    # winners' positions in the flattened scores.
    augmented = np.empty((min(block_queries, n_queries), dimension + 2))
    augmented[:, dimension + 1] = 1.0
    winner_rows = np.empty_like(augmented) if relevance_weight != 1 else None
    codes = np.empty((n_bidders, augmented.shape[0]), dtype=np.min_scalar_type(n_bidders))
    code_weights = np.arange(n_bidders, 0, -1, dtype=codes.dtype)[:, None]
    entries = np.empty(augmented.shape[0], dtype=np.intp)
    columns = np.arange(n_queries)
    no_bid = np.flatnonzero(bid_row == 0) if bid_row is not None else None

    for start in range(0, n_queries, block_queries):
        block = slice(start, start + block_queries)
        scores = transposed_scores[:, block]
        size = scores.shape[1]
        block_augmented = augmented[:size]

        # Scores: C̃ @ x̃ᵀ, then log b for per-query bids, or −inf for the advertisers with bid 0.
        block_augmented[:, :dimension] = intents[block]
        block_augmented[:, dimension] = intent_norms[block]
        np.matmul(score_rows, block_augmented.T, out=scores)
        if bid_row is None:
            with np.errstate(divide="ignore"):
                scores += np.log(bids[block]).T
        else:
            scores[no_bid] = -np.inf

        # Winner: the lowest index i with score_i = max_j score_j. The code (n − i)·[score_i = max_j score_j]
        # is largest at that index, so the maximum code gives the index.
        np.max(scores, axis=0, out=top[block])
        block_codes = codes[:, :size]
        np.equal(scores, top[block], out=block_codes)
        block_codes *= code_weights
        np.subtract(n_bidders, block_codes.max(axis=0), out=winner[block])

        # Runner-up: the maximum after the winner's score is set to −inf. The score is restored after. The
        # winner's score sits at flat index winner·Q + q of the (n, Q) array.
        winner_entries = entries[:size]
        np.multiply(winner[block], n_queries, out=winner_entries)
        winner_entries += columns[block]
        flat_scores[winner_entries] = -np.inf
        np.max(scores, axis=0, out=runner_up[block])
        flat_scores[winner_entries] = top[block]

        # D_w = x̃ · E_w, which the payment needs unless λ = 1, while x̃ of the block is still in cache.
        if relevance_weight != 1:
            np.take(distance_rows, winner[block], axis=0, out=winner_rows[:size])
            np.einsum("qk,qk->q", block_augmented, winner_rows[:size], out=winner_distance[block])

    # Critical value as in the general path: p = exp(runner-up score + (λ − 1)·D_w), which is 0 for an
    # unopposed winner. The floor max(p, r) is p because r = 0 here.
    log_payment = runner_up
    if relevance_weight != 1:
        log_payment += (relevance_weight - 1.0) * winner_distance
    payment = np.exp(log_payment)

    # A query whose scores are all −inf has no eligible advertiser. Its runner-up score is −inf too, so
    # its payment is already 0.
    winner[top == -np.inf] = -1

    return PowerDiagramOutcome(
        winner=winner,
        payment=payment,
        scores=transposed_scores.T,
        winners=winner[:, None],
        payments=payment[:, None],
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
    """Validate the inputs of `run_auction` and return them as arrays, with ‖x‖² of every intent.

    The bids come back with shape (Q, n), a broadcast view with row stride 0 for bids of shape (n,).
    """
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
    # The minimum is NaN if any bid is NaN, and NaN >= 0 is false, so these two reductions reject NaN,
    # ±inf and negative bids without a temporary array of shape (Q, n).
    if bids.size and not (bids.min() >= 0 and bids.max() < np.inf):
        raise ValueError("bids must be finite and >= 0 (dollars per impression)")
    # ‖x‖² is finite only if every entry of x is, so the elementwise check runs only when some ‖x‖² is
    # not finite, which an overflow of finite intents can also cause.
    intent_norms = np.einsum("qk,qk->q", intents, intents)
    intents_finite = np.all(np.isfinite(intent_norms)) or np.all(np.isfinite(intents))
    if not intents_finite or not np.all(np.isfinite(centers)):
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
    return intents, centers, reaches, np.broadcast_to(bids, (n_queries, n_bidders)), intent_norms


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
