"""Keyword auction: second price within a category, reserve and incentives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.mechanisms import keyword

# Queries in categories 0, 1 and 2. Advertisers 0, 1 and 3 bid on category 0, and advertiser 2 on category 1.
QUERY_CATEGORIES = np.array([0, 1, 2])
ADVERTISER_CATEGORIES = np.array([0, 0, 1, 0])
BIDS = np.array([3.0, 5.0, 2.0, 4.0])


def test_second_price_hand_case():
    outcome = keyword.run_auction(QUERY_CATEGORIES, ADVERTISER_CATEGORIES, BIDS)
    # Category 0: bids 3, 5, 4, so advertiser 1 wins at 4. Category 1: advertiser 2 alone pays r = 0.
    # Category 2: nobody matches.
    np.testing.assert_array_equal(outcome.winner, [1, 2, -1])
    np.testing.assert_array_equal(outcome.payment, [4.0, 0.0, 0.0])


def test_reserve_removes_low_bids():
    # r = 3.5 removes advertisers 0 (bid 3) and 2 (bid 2), and the price in category 0 stays 4.
    outcome = keyword.run_auction(QUERY_CATEGORIES, ADVERTISER_CATEGORIES, BIDS, reserve=3.5)
    np.testing.assert_array_equal(outcome.winner, [1, -1, -1])
    np.testing.assert_array_equal(outcome.payment, [4.0, 0.0, 0.0])


def test_reserve_floors_payment():
    # r = 4.5 leaves advertiser 1 alone in category 0, so it pays the reserve.
    outcome = keyword.run_auction(QUERY_CATEGORIES, ADVERTISER_CATEGORIES, BIDS, reserve=4.5)
    np.testing.assert_array_equal(outcome.winner, [1, -1, -1])
    np.testing.assert_array_equal(outcome.payment, [4.5, 0.0, 0.0])


def test_unopposed_winner_pays_reserve():
    outcome = keyword.run_auction([1], ADVERTISER_CATEGORIES, BIDS, reserve=1.5)
    assert outcome.winner[0] == 2
    assert outcome.payment[0] == 1.5


def test_tie_goes_to_lowest_index():
    outcome = keyword.run_auction([7, 7], [3, 7, 7, 7], [9.0, 5.0, 2.0, 5.0])
    np.testing.assert_array_equal(outcome.winner, [1, 1])
    np.testing.assert_array_equal(outcome.payment, [5.0, 5.0])


def test_per_query_zero_bid_excludes():
    bids = np.array([BIDS, [3.0, 0.0, 2.0, 4.0]])
    outcome = keyword.run_auction([0, 0], ADVERTISER_CATEGORIES, bids)
    np.testing.assert_array_equal(outcome.winner, [1, 3])
    np.testing.assert_array_equal(outcome.payment, [4.0, 3.0])


def test_zero_bid_never_matches():
    outcome = keyword.run_auction([0], [0, 0], [0.0, 0.0])
    assert outcome.winner[0] == -1
    assert outcome.payment[0] == 0.0


def test_no_advertisers():
    outcome = keyword.run_auction([0, 1], np.array([], dtype=int), np.array([]))
    np.testing.assert_array_equal(outcome.winner, [-1, -1])
    np.testing.assert_array_equal(outcome.payment, [0.0, 0.0])


def test_float_categories_rejected():
    with pytest.raises(TypeError, match="query_categories"):
        keyword.run_auction([0.5], ADVERTISER_CATEGORIES, BIDS)


def test_bad_bids_rejected():
    with pytest.raises(ValueError, match="bids"):
        keyword.run_auction(QUERY_CATEGORIES, ADVERTISER_CATEGORIES, [3.0, -1.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="bids must have shape"):
        keyword.run_auction(QUERY_CATEGORIES, ADVERTISER_CATEGORIES, [3.0, 1.0])


def test_negative_reserve_rejected():
    with pytest.raises(ValueError, match="reserve"):
        keyword.run_auction(QUERY_CATEGORIES, ADVERTISER_CATEGORIES, BIDS, reserve=-0.1)


def utilities(query_categories, advertiser_categories, values, bids, reserve):
    """Each advertiser's utility per query: its value minus its payment where it wins."""
    outcome = keyword.run_auction(query_categories, advertiser_categories, bids, reserve)
    utility = np.zeros((query_categories.shape[0], values.shape[0]))
    rows = np.flatnonzero(outcome.winner >= 0)
    winners = outcome.winner[rows]
    utility[rows, winners] = values[winners] - outcome.payment[rows]
    return utility


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_bid_multiplier_pays(seed):
    rng = np.random.default_rng(seed)
    query_categories = rng.integers(0, 4, size=300)
    advertiser_categories = rng.integers(0, 4, size=10)
    values = rng.uniform(0.1, 5.0, size=10)
    reserve = 1.0
    truthful = utilities(query_categories, advertiser_categories, values, values, reserve)
    assert np.any(truthful > 0)
    for bidder in range(10):
        for multiplier in (0.5, 0.8, 1.2, 1.5, 2.0, 3.0):
            bids = values.copy()
            bids[bidder] *= multiplier
            misreport = utilities(query_categories, advertiser_categories, values, bids, reserve)
            assert np.all(misreport[:, bidder] <= truthful[:, bidder] + 1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_bidders=st.integers(1, 8), reserve=st.floats(0.0, 3.0))
def test_outcome_properties(seed, n_bidders, reserve):
    rng = np.random.default_rng(seed)
    query_categories = rng.integers(0, 3, size=50)
    advertiser_categories = rng.integers(0, 3, size=n_bidders)
    bids = rng.uniform(0.0, 5.0, size=(50, n_bidders))
    outcome = keyword.run_auction(query_categories, advertiser_categories, bids, reserve)
    rows = np.flatnonzero(outcome.winner >= 0)
    winners = outcome.winner[rows]

    # The winner bids on the query's category and has the highest such bid.
    assert np.all(advertiser_categories[winners] == query_categories[rows])
    same_category = advertiser_categories[None, :] == query_categories[rows, None]
    assert np.all(bids[rows, winners] == np.max(np.where(same_category, bids[rows], 0.0), axis=1))

    # Reserve ≤ payment ≤ winning bid, and no ad means no payment.
    assert np.all(outcome.payment[rows] >= reserve)
    assert np.all(outcome.payment[rows] <= bids[rows, winners])
    assert np.all(outcome.payment[outcome.winner == -1] == 0.0)
