"""Power-diagram auction: scores, critical-value payments and incentives."""

import math

import numpy as np
import pytest

from market.mechanisms import power_diagram

# Worked example from "Power Diagrams for Ad Auctions" (june.kim, 2026-02).
NIKE_PELOTON = {
    "centers": np.array([[0.6, 0.3], [0.5, 0.5]]),
    "reaches": np.array([0.3, 0.2]),
    "bids": np.array([5.0, 4.0]),
}
INTENT = np.array([[0.45, 0.35]])


def test_nike_peloton_scores():
    outcome = power_diagram.run_auction(INTENT, **NIKE_PELOTON)
    np.testing.assert_allclose(outcome.scores[0], [1.33, 0.76], atol=0.005)
    # Exact: log 5 − 0.025/0.09 and log 4 − 0.025/0.04.
    np.testing.assert_allclose(outcome.scores[0], [math.log(5) - 0.025 / 0.09, math.log(4) - 0.625], atol=1e-12)


def test_nike_peloton_payment():
    outcome = power_diagram.run_auction(INTENT, **NIKE_PELOTON)
    assert outcome.winner[0] == 0
    # At λ = 1 the winner pays Peloton's implied value 4·exp(−0.625).
    assert outcome.payment[0] == pytest.approx(4.0 * math.exp(-0.625), abs=1e-12)


def random_instance(seed, n_queries=400, n_bidders=6, dimension=4):
    rng = np.random.default_rng(seed)
    return {
        "intents": rng.normal(size=(n_queries, dimension)),
        "centers": rng.normal(size=(n_bidders, dimension)),
        "reaches": rng.uniform(0.5, 2.0, size=n_bidders),
        "bids": rng.uniform(0.1, 5.0, size=n_bidders),
    }


def test_winner_is_argmax():
    instance = random_instance(1)
    outcome = power_diagram.run_auction(**instance, relevance_weight=0.7)
    np.testing.assert_array_equal(outcome.winner, np.argmax(outcome.scores, axis=1))


def test_payment_is_runner_up_value():
    instance = random_instance(2)
    outcome = power_diagram.run_auction(**instance)
    distances = power_diagram.squared_distances(instance["intents"], instance["centers"])
    implied_values = instance["bids"] * np.exp(-distances / instance["reaches"] ** 2)
    runner_up = np.sort(implied_values, axis=1)[:, -2]
    np.testing.assert_allclose(outcome.payment, runner_up, rtol=1e-12)


def test_zero_weight_is_second_price():
    instance = random_instance(3)
    outcome = power_diagram.run_auction(**instance, relevance_weight=0.0)
    distances = power_diagram.squared_distances(instance["intents"], instance["centers"])
    winner_relevance = np.exp(-distances[np.arange(400), outcome.winner] / instance["reaches"][outcome.winner] ** 2)
    second_bid = np.sort(instance["bids"])[-2]
    assert np.all(outcome.winner == np.argmax(instance["bids"]))
    np.testing.assert_allclose(outcome.payment, second_bid * winner_relevance, rtol=1e-12)


def utilities(instance, bids, relevance_weight):
    """Each bidder's utility per query under true values and the given bids."""
    outcome = power_diagram.run_auction(
        instance["intents"], instance["centers"], instance["reaches"], bids, relevance_weight
    )
    distances = power_diagram.squared_distances(instance["intents"], instance["centers"])
    values = instance["bids"] * np.exp(-distances / instance["reaches"] ** 2)
    utility = np.zeros_like(values)
    won = outcome.winner >= 0
    rows = np.flatnonzero(won)
    utility[rows, outcome.winner[won]] = values[rows, outcome.winner[won]] - outcome.payment[won]
    return utility


@pytest.mark.parametrize("relevance_weight", [0.0, 0.5, 1.0, 2.0])
def test_no_bid_multiplier_pays(relevance_weight):
    instance = random_instance(4)
    truthful = utilities(instance, instance["bids"], relevance_weight)
    for bidder in range(6):
        for multiplier in (0.5, 0.8, 1.2, 1.5, 2.0, 3.0):
            bids = instance["bids"].copy()
            bids[bidder] *= multiplier
            misreport = utilities(instance, bids, relevance_weight)
            assert np.all(misreport[:, bidder] <= truthful[:, bidder] + 1e-12)


def test_gate_removes_far_bidders():
    outcome = power_diagram.run_auction(INTENT, **NIKE_PELOTON, gate=0.001)
    assert outcome.winner[0] == -1
    assert outcome.payment[0] == 0.0


def test_unopposed_winner_pays_nothing():
    outcome = power_diagram.run_auction(INTENT, NIKE_PELOTON["centers"][:1], [0.3], [5.0])
    assert outcome.winner[0] == 0
    assert outcome.payment[0] == 0.0


def test_per_query_zero_bid_excludes():
    bids = np.array([[5.0, 4.0], [0.0, 4.0]])
    intents = np.repeat(INTENT, 2, axis=0)
    outcome = power_diagram.run_auction(intents, NIKE_PELOTON["centers"], NIKE_PELOTON["reaches"], bids)
    np.testing.assert_array_equal(outcome.winner, [0, 1])


def test_negative_reach_rejected():
    with pytest.raises(ValueError, match="reaches"):
        power_diagram.run_auction(INTENT, NIKE_PELOTON["centers"], [0.3, -0.2], [5.0, 4.0])
