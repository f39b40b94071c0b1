r"""The keyword auction: one placement per query sold on its category.

This is the separate-placement second-price auction familiar from search
ads. Each query q carries a category k_q (its keyword), and each advertiser
i bids b_i ≥ 0 in dollars per impression on one category κ_i. Advertiser i
matches query q when

.. math::

    κ_i = k_q,\qquad b_i > 0,\qquad b_i ≥ r,

with r ≥ 0 the reserve in dollars per impression. The highest matching bid
wins, and the winner w pays

.. math::

    p_w = \max\bigl(\max_{j ≠ w,\ j \text{ matches}} b_j,\ r\bigr),

which is r when w is the only match. A query with no match shows no ad
(winner −1, payment 0). The payment is the winner's critical bid for winning
and for clearing the reserve, so bidding one's value for an impression in
one's category is weakly dominant.

The auction ignores the intent within a category: two queries of the same
category get the same winner and price whatever their embeddings, unless
per-query bids differ. Ties in bid go to the lowest advertiser index.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["KeywordOutcome", "run_auction"]


@dataclass(frozen=True)
class KeywordOutcome:
    """Result of a batch of keyword auctions.

    Attributes
    ----------
    winner : ndarray of int, shape (Q,)
        Index of the advertiser shown, or −1 where no advertiser matched.
    payment : ndarray, shape (Q,)
        The winner's payment in dollars per impression (0 where no ad).
    """

    winner: np.ndarray
    payment: np.ndarray


def run_auction(query_categories, advertiser_categories, bids, reserve=0.0):
    """Sell one placement per query to the highest bid in its category.

    Parameters
    ----------
    query_categories : array_like of int, shape (Q,)
        Category k_q of each query.
    advertiser_categories : array_like of int, shape (n,)
        Category κ_i on which each advertiser bids.
    bids : array_like, shape (n,) or (Q, n)
        Bids b_i ≥ 0 in dollars per impression; a (Q, n) array gives
        per-query bids (0 removes a bidder from a query).
    reserve : float, optional
        r ≥ 0 in dollars per impression: the lowest bid that matches and the
        lowest payment.

    Returns
    -------
    KeywordOutcome

    Raises
    ------
    TypeError
        If a category array is not of integer type.
    ValueError
        If a shape disagrees, or a bid or the reserve is negative or not finite.
    """
    query_categories, advertiser_categories, bids = _auction_iv(
        query_categories, advertiser_categories, bids, reserve
    )
    n_queries, n_bidders = bids.shape

    # A bidder that does not match the query gets the bid −inf.
    matches = (advertiser_categories[None, :] == query_categories[:, None]) & (bids > 0) & (bids >= reserve)
    matching_bids = np.where(matches, bids, -np.inf)

    if n_bidders == 0:
        return KeywordOutcome(winner=np.full(n_queries, -1), payment=np.zeros(n_queries))

    # Winner: the highest matching bid, ties to the lowest index (numpy's argmax rule).
    rows = np.arange(n_queries)
    top = np.argmax(matching_bids, axis=1)
    has_winner = matches[rows, top]
    winner = np.where(has_winner, top, -1)

    # Payment: the second-highest matching bid, floored at the reserve. An unopposed winner's runner-up is −inf.
    runner_up_bids = matching_bids.copy()
    runner_up_bids[rows, top] = -np.inf
    runner_up = runner_up_bids.max(axis=1)
    payment = np.where(has_winner, np.maximum(runner_up, reserve), 0.0)

    return KeywordOutcome(winner=winner, payment=payment)


def _auction_iv(query_categories, advertiser_categories, bids, reserve):
    """Validate the inputs of `run_auction` and broadcast the bids to (Q, n)."""
    query_categories = np.asarray(query_categories)
    advertiser_categories = np.asarray(advertiser_categories)
    bids = np.asarray(bids, dtype=float)

    for name, categories in (("query_categories", query_categories), ("advertiser_categories", advertiser_categories)):
        if categories.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of category ids, got shape {categories.shape}")
        if categories.size and not np.issubdtype(categories.dtype, np.integer):
            raise TypeError(
                f"{name} must contain integer category ids, got dtype {categories.dtype}. Cast them with astype(int)"
            )
    n_queries, n_bidders = query_categories.shape[0], advertiser_categories.shape[0]

    if bids.shape not in ((n_bidders,), (n_queries, n_bidders)):
        raise ValueError(f"bids must have shape ({n_bidders},) or ({n_queries}, {n_bidders}), got {bids.shape}")
    if np.any(~np.isfinite(bids)) or np.any(bids < 0):
        raise ValueError("bids must be finite and >= 0 (dollars per impression)")
    if not np.isscalar(reserve) or not np.isfinite(reserve) or reserve < 0:
        raise ValueError(f"reserve must be a finite number >= 0 (dollars per impression), got {reserve!r}")
    return query_categories, advertiser_categories, np.broadcast_to(bids, (n_queries, n_bidders))
