"""Power-diagram auction: scores, critical-value payments and incentives."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Cosine gate: intent (1, 0) against centres at 45°, 90° and 180°.
COSINE_CASE = {
    "intents": np.array([[1.0, 0.0]]),
    "centers": np.array([[1.0, 1.0], [0.0, 2.0], [-1.0, 0.0]]),
    "reaches": np.array([1.0, 1.0, 1.0]),
    "bids": np.array([1.0, 1.0, 1000.0]),
}


def test_cosine_gate_hand_case():
    # Scores: −1 (D = 1), −5 (D = 5) and log 1000 − 4 ≈ 2.91, so bidder 2 wins ungated.
    assert power_diagram.run_auction(**COSINE_CASE).winner[0] == 2

    # cos = 1/√2, 0 and −1: a threshold of 0.5 leaves bidder 0 unopposed.
    outcome = power_diagram.run_auction(**COSINE_CASE, cosine_threshold=0.5)
    assert outcome.winner[0] == 0
    assert outcome.payment[0] == 0.0
    assert np.isneginf(outcome.scores[0, 1])
    assert np.isneginf(outcome.scores[0, 2])

    # A threshold of 0 also admits the orthogonal bidder 1, whose implied value exp(−5) sets the price.
    outcome = power_diagram.run_auction(**COSINE_CASE, cosine_threshold=0.0)
    assert outcome.winner[0] == 0
    assert outcome.payment[0] == pytest.approx(math.exp(-5.0), rel=1e-12)


def test_cosine_and_distance_gates_both_apply():
    # The distance gate 4.5 removes bidder 1 (‖x − c‖² = 5), and the cosine gate removes bidder 2 (cos = −1).
    outcome = power_diagram.run_auction(**COSINE_CASE, gate=4.5, cosine_threshold=0.0)
    assert outcome.winner[0] == 0
    assert outcome.payment[0] == 0.0


def test_cosine_gate_rejects_zero_vector():
    with pytest.raises(ValueError, match="non-zero intents"):
        power_diagram.run_auction([[0.0, 0.0]], COSINE_CASE["centers"], [1.0] * 3, [1.0] * 3, cosine_threshold=0.0)
    with pytest.raises(ValueError, match="non-zero centers"):
        power_diagram.run_auction([[1.0, 0.0]], [[0.0, 0.0]], [1.0], [1.0], cosine_threshold=0.0)


def test_cosine_threshold_out_of_range_rejected():
    with pytest.raises(ValueError, match="cosine_threshold"):
        power_diagram.run_auction(**COSINE_CASE, cosine_threshold=1.5)


def test_reserve_eligibility_and_floor():
    # Implied values at INTENT: Nike 5·exp(−0.025/0.09) ≈ 3.787, Peloton 4·exp(−0.625) ≈ 2.141.
    peloton_value = 4.0 * math.exp(-0.625)

    # r = 2: both clear it, and Peloton's value 2.141 > r sets the price.
    outcome = power_diagram.run_auction(INTENT, **NIKE_PELOTON, reserve=2.0)
    assert outcome.winner[0] == 0
    assert outcome.payment[0] == pytest.approx(peloton_value, rel=1e-12)

    # r = 3: Peloton is ineligible, so Nike is unopposed and pays the reserve.
    outcome = power_diagram.run_auction(INTENT, **NIKE_PELOTON, reserve=3.0)
    assert outcome.winner[0] == 0
    assert np.isneginf(outcome.scores[0, 1])
    assert outcome.payment[0] == 3.0

    # r = 4: nobody clears it.
    outcome = power_diagram.run_auction(INTENT, **NIKE_PELOTON, reserve=4.0)
    assert outcome.winner[0] == -1
    assert outcome.payment[0] == 0.0


def test_reserve_floors_critical_value():
    # λ = 2: the critical-value payment is 4·exp(−0.625·2 + 0.025/0.09) = 4·exp(−0.97222) ≈ 1.513,
    # below r = 2, while Peloton (value 2.141) stays eligible as runner-up.
    unfloored = power_diagram.run_auction(INTENT, **NIKE_PELOTON, relevance_weight=2.0)
    assert unfloored.payment[0] == pytest.approx(4.0 * math.exp(-1.25 + 0.025 / 0.09), rel=1e-12)

    outcome = power_diagram.run_auction(INTENT, **NIKE_PELOTON, relevance_weight=2.0, reserve=2.0)
    assert np.isfinite(outcome.scores[0, 1])
    assert outcome.winner[0] == 0
    assert outcome.payment[0] == 2.0


def test_negative_reserve_rejected():
    with pytest.raises(ValueError, match="reserve"):
        power_diagram.run_auction(INTENT, **NIKE_PELOTON, reserve=-1.0)


def test_non_integer_slots_rejected():
    with pytest.raises(TypeError, match="slots"):
        power_diagram.run_auction(INTENT, **NIKE_PELOTON, slots=1.5)
    with pytest.raises(ValueError, match="slots"):
        power_diagram.run_auction(INTENT, **NIKE_PELOTON, slots=0)


# Three bidders around intent (0, 0) with λ = 0.5, so score = log b − 0.5·D with D = ‖x − c‖²/σ².
GSP_CASE = {
    "intents": np.array([[0.0, 0.0]]),
    "centers": np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]),
    "reaches": np.array([1.0, 1.0, 2.0]),
    "bids": np.array([2.0, 6.0, 3.0]),
    "relevance_weight": 0.5,
}


def test_gsp_hand_case():
    # D = 0, 1, 1 and scores: log 2 ≈ 0.693, log 6 − 0.5 ≈ 1.292, log 3 − 0.5 ≈ 0.599.
    # Ranking 1, 0, 2. Slot j pays exp(score of rank j + 1 + (λ − 1)·D of its winner):
    #   slot 0, bidder 1: exp(log 2 − 0.5·1) = 2·e^−0.5 ≈ 1.213
    #   slot 1, bidder 0: exp(log 3 − 0.5 − 0.5·0) = 3·e^−0.5 ≈ 1.820 (≤ its value 2)
    outcome = power_diagram.run_auction(**GSP_CASE, slots=2)
    np.testing.assert_array_equal(outcome.winners, [[1, 0]])
    np.testing.assert_allclose(outcome.payments, [[2.0 * math.exp(-0.5), 3.0 * math.exp(-0.5)]], rtol=1e-12)
    assert outcome.winner[0] == 1
    assert outcome.payment[0] == outcome.payments[0, 0]


def test_gsp_last_slot_and_empty_slot():
    # With 4 slots, bidder 2 takes slot 2 and pays 0 because no bidder ranks below it. Slot 3 stays empty.
    outcome = power_diagram.run_auction(**GSP_CASE, slots=4)
    np.testing.assert_array_equal(outcome.winners, [[1, 0, 2, -1]])
    np.testing.assert_allclose(outcome.payments, [[2.0 * math.exp(-0.5), 3.0 * math.exp(-0.5), 0.0, 0.0]], rtol=1e-12)


def test_gsp_with_reserve():
    # r = 1.5 removes bidder 2 (value 3/e ≈ 1.104). Bidder 1 pays max(1.213, 1.5) and
    # bidder 0, now last, pays max(0, 1.5).
    outcome = power_diagram.run_auction(**GSP_CASE, slots=3, reserve=1.5)
    np.testing.assert_array_equal(outcome.winners, [[1, 0, -1]])
    np.testing.assert_array_equal(outcome.payments, [[1.5, 1.5, 0.0]])


def single_slot_reference(instance, relevance_weight, gate):
    """Compute winner and payment by the single-slot rule: argmax of the scores, priced at the runner-up."""
    distances = power_diagram.squared_distances(instance["intents"], instance["centers"])
    normalised = distances / instance["reaches"] ** 2
    bids = np.broadcast_to(instance["bids"], distances.shape)
    eligible = (bids > 0) & (distances <= gate)
    with np.errstate(divide="ignore"):
        scores = np.where(eligible, np.log(bids) - relevance_weight * normalised, -np.inf)
    rows = np.arange(scores.shape[0])
    top = np.argmax(scores, axis=1)
    has_winner = np.isfinite(scores[rows, top])
    others = scores.copy()
    others[rows, top] = -np.inf
    log_payment = others.max(axis=1) + (relevance_weight - 1.0) * normalised[rows, top]
    return np.where(has_winner, top, -1), np.where(has_winner, np.exp(log_payment), 0.0)


@pytest.mark.parametrize("relevance_weight", [0.0, 0.5, 1.0, 2.0])
def test_one_slot_matches_single_slot_rule(relevance_weight):
    instance = random_instance(5)
    instance["bids"][2] = 0.0
    winner, payment = single_slot_reference(instance, relevance_weight, gate=6.0)

    default = power_diagram.run_auction(**instance, relevance_weight=relevance_weight, gate=6.0)
    one_slot = power_diagram.run_auction(**instance, relevance_weight=relevance_weight, gate=6.0, slots=1)
    three_slots = power_diagram.run_auction(**instance, relevance_weight=relevance_weight, gate=6.0, slots=3)

    assert np.any(winner == -1)
    for outcome in (default, one_slot):
        np.testing.assert_array_equal(outcome.winner, winner)
        np.testing.assert_array_equal(outcome.payment, payment)
        np.testing.assert_array_equal(outcome.winners, winner[:, None])
        np.testing.assert_array_equal(outcome.payments, payment[:, None])
    np.testing.assert_array_equal(three_slots.winner, winner)
    np.testing.assert_array_equal(three_slots.payment, payment)
    np.testing.assert_array_equal(three_slots.scores, default.scores)


def slot_utilities(instance, bids, relevance_weight=1.0, reserve=0.0, slots=1):
    """Each bidder's utility per query when every slot is worth its implied value v_i(x)."""
    outcome = power_diagram.run_auction(
        instance["intents"],
        instance["centers"],
        instance["reaches"],
        bids,
        relevance_weight,
        reserve=reserve,
        slots=slots,
    )
    distances = power_diagram.squared_distances(instance["intents"], instance["centers"])
    values = instance["bids"] * np.exp(-distances / instance["reaches"] ** 2)
    utility = np.zeros_like(values)
    rows, ranks = np.nonzero(outcome.winners >= 0)
    bidders = outcome.winners[rows, ranks]
    utility[rows, bidders] = values[rows, bidders] - outcome.payments[rows, ranks]
    return utility


def test_gsp_not_truthful_for_two_slots():
    # Three bidders at the intent (relevance 1, λ = 1) with values 10, 6 and 2, two identical slots.
    # Truthful: bidder 0 takes slot 0 and pays 6, utility 10 − 6 = 4.
    # Bidding 5 instead: bidder 0 takes slot 1 behind bidder 1 and pays 2, utility 10 − 2 = 8.
    instance = {
        "intents": np.zeros((1, 2)),
        "centers": np.zeros((3, 2)),
        "reaches": np.ones(3),
        "bids": np.array([10.0, 6.0, 2.0]),
    }
    truthful = slot_utilities(instance, instance["bids"], slots=2)
    shaded = slot_utilities(instance, np.array([5.0, 6.0, 2.0]), slots=2)
    assert truthful[0, 0] == pytest.approx(4.0, rel=1e-12)
    assert shaded[0, 0] == pytest.approx(8.0, rel=1e-12)
    assert shaded[0, 0] > truthful[0, 0]


@pytest.mark.parametrize("seed", [6, 7])
@pytest.mark.parametrize("relevance_weight", [0.0, 1.0, 2.0])
def test_reserve_keeps_one_slot_truthful(seed, relevance_weight):
    instance = random_instance(seed)
    reserve = 0.3
    truthful = slot_utilities(instance, instance["bids"], relevance_weight, reserve)
    outcome = power_diagram.run_auction(**instance, relevance_weight=relevance_weight, reserve=reserve)
    # The reserve must bind somewhere for the test to mean anything.
    assert np.any(outcome.winner == -1)
    assert np.any(outcome.payment == reserve)
    for bidder in range(6):
        for multiplier in (0.5, 0.8, 1.2, 1.5, 2.0, 3.0):
            bids = instance["bids"].copy()
            bids[bidder] *= multiplier
            misreport = slot_utilities(instance, bids, relevance_weight, reserve)
            assert np.all(misreport[:, bidder] <= truthful[:, bidder] + 1e-12)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_bidders=st.integers(1, 6),
    slots=st.integers(1, 4),
    relevance_weight=st.floats(0.0, 3.0),
    reserve=st.floats(0.0, 2.0),
)
def test_slot_properties(seed, n_bidders, slots, relevance_weight, reserve):
    instance = random_instance(seed, n_queries=50, n_bidders=n_bidders)
    outcome = power_diagram.run_auction(**instance, relevance_weight=relevance_weight, reserve=reserve, slots=slots)
    distances = power_diagram.squared_distances(instance["intents"], instance["centers"])
    values = instance["bids"] * np.exp(-distances / instance["reaches"] ** 2)
    filled = outcome.winners >= 0
    rows, ranks = np.nonzero(filled)
    bidders = outcome.winners[rows, ranks]

    # Filled slots come first, and no advertiser appears in two slots.
    assert np.all(filled[:, 1:] <= filled[:, :-1])
    assert all(len(set(row[row >= 0])) == np.sum(row >= 0) for row in outcome.winners)

    # Slots are in order of score.
    ranked_scores = np.where(filled, outcome.scores[np.arange(50)[:, None], np.maximum(outcome.winners, 0)], -np.inf)
    assert np.all(ranked_scores[:, 1:] <= ranked_scores[:, :-1])

    # Reserve ≤ payment ≤ value for each filled slot, and empty slots pay 0.
    assert np.all(outcome.payments[rows, ranks] >= reserve)
    assert np.all(outcome.payments[rows, ranks] <= values[rows, bidders] * (1 + 1e-9))
    assert np.all(outcome.payments[~filled] == 0.0)


def test_tied_scores_rank_by_index():
    # 40 identical bidders, with one higher bid at index 25: it ranks first, then the rest in index order.
    bids = np.full(40, 2.0)
    bids[25] = 3.0
    outcome = power_diagram.run_auction(np.zeros((1, 3)), np.zeros((40, 3)), np.ones(40), bids, slots=40)
    expected = [25] + [i for i in range(40) if i != 25]
    np.testing.assert_array_equal(outcome.winners[0], expected)
    np.testing.assert_array_equal(outcome.payments[0], [2.0] * 39 + [0.0])


def reference_instance(rng, n_queries, n_bidders, per_query_bids, scale):
    """Draw intents, centres, reaches and bids, with a duplicated advertiser and zero bids."""
    dimension = int(rng.integers(1, 6))
    centers = rng.normal(size=(n_bidders, dimension)) * scale
    reaches = rng.uniform(0.1, 2.0, n_bidders)
    if n_bidders > 1:
        # An exact copy of advertiser 0 ties with it wherever both are eligible.
        copy = rng.integers(1, n_bidders)
        centers[copy] = centers[0]
        reaches[copy] = reaches[0]
    if per_query_bids:
        bids = rng.uniform(0.0, 2.0, (n_queries, n_bidders)) * (rng.random((n_queries, n_bidders)) < 0.7)
    else:
        bids = np.round(rng.uniform(0.0, 2.0, n_bidders), 1) * (rng.random(n_bidders) < 0.8)
        if n_bidders > 1:
            bids[copy] = bids[0]
    return {
        "intents": rng.normal(size=(n_queries, dimension)) * scale,
        "centers": centers,
        "reaches": reaches,
        "bids": bids,
    }


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_queries=st.sampled_from([0, 1, 2, 17, 60]),
    n_bidders=st.sampled_from([0, 1, 2, 3, 8, 40]),
    slots=st.integers(1, 4),
    relevance_weight=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 3.0)),
    gate=st.sampled_from([None, None, 0.5, 3.0]),
    cosine_threshold=st.sampled_from([None, None, -0.5, 0.3]),
    reserve=st.sampled_from([0.0, 0.0, 0.05, 0.5]),
    per_query_bids=st.booleans(),
    scale=st.sampled_from([0.1, 1.0, 3.0]),
)
def test_matches_reference_kernel(
    seed, n_queries, n_bidders, slots, relevance_weight, gate, cosine_threshold, reserve, per_query_bids, scale
):
    from benchmarks import agreement, reference_kernels

    rng = np.random.default_rng(seed)
    instance = reference_instance(rng, n_queries, n_bidders, per_query_bids, scale)
    options = {"gate": gate, "cosine_threshold": cosine_threshold, "reserve": reserve}
    if cosine_threshold is not None:
        # The cosine threshold needs non-zero vectors. A normal draw is zero with probability 0.
        assert np.all(np.linalg.norm(instance["intents"], axis=1) > 0)
        assert np.all(np.linalg.norm(instance["centers"], axis=1) > 0)
    outcome = power_diagram.run_auction(**instance, relevance_weight=relevance_weight, slots=slots, **options)
    reference = reference_kernels.power_diagram_auction(**instance, relevance_weight=relevance_weight, **options)

    for name in ("winner", "payment", "scores"):
        assert getattr(outcome, name).shape == getattr(reference, name).shape, name
        assert getattr(outcome, name).dtype == getattr(reference, name).dtype, name
    assert outcome.winners.shape == outcome.payments.shape == (n_queries, slots)
    assert outcome.winners.dtype == reference.winners.dtype
    np.testing.assert_array_equal(outcome.winners[:, 0], outcome.winner)
    np.testing.assert_array_equal(outcome.payments[:, 0], outcome.payment)

    # Scores: −inf at the same entries and equal up to rounding elsewhere.
    np.testing.assert_array_equal(np.isneginf(outcome.scores), np.isneginf(reference.scores))
    finite = np.isfinite(reference.scores)
    np.testing.assert_allclose(outcome.scores[finite], reference.scores[finite], rtol=1e-9, atol=1e-12)

    # Slot 0: the same winner, except where rounding can break a near-tie the other way, and the same payment.
    same = outcome.winner == reference.winner
    assert np.all(same | agreement.near_tie_rows(reference.scores))
    np.testing.assert_allclose(outcome.payment[same], reference.payment[same], rtol=1e-9, atol=0.0)


@pytest.mark.parametrize("per_query_bids", [False, True])
@pytest.mark.parametrize("relevance_weight", [0.0, 0.5, 1.0, 2.0])
def test_fast_path_ties_go_to_lowest_index(per_query_bids, relevance_weight):
    from benchmarks import reference_kernels

    # Advertisers 0, 7, 19 and 33 are copies of one another, as are 5 and 30, so their scores tie exactly.
    rng = np.random.default_rng(8)
    instance = random_instance(8, n_queries=500, n_bidders=40, dimension=5)
    for original, copies in ((0, [7, 19, 33]), (5, [30])):
        for field in ("centers", "reaches", "bids"):
            instance[field][copies] = instance[field][original]
    if per_query_bids:
        keep = rng.random((500, 40)) < 0.6
        instance["bids"] = np.where(keep, instance["bids"], 0.0)
    # Put the copies near the top: the reference ranks an exact tie by index.
    instance["bids"][..., [0, 7, 19, 33, 5, 30]] *= 30.0
    outcome = power_diagram.run_auction(**instance, relevance_weight=relevance_weight)
    reference = reference_kernels.power_diagram_auction(**instance, relevance_weight=relevance_weight)

    # The test means something only if many queries have an exact tie at the top.
    top_two = -np.sort(-reference.scores, axis=1)[:, :2]
    assert np.sum(np.isfinite(top_two[:, 1]) & (top_two[:, 0] == top_two[:, 1])) >= 100
    np.testing.assert_array_equal(outcome.winner, reference.winner)
    np.testing.assert_allclose(outcome.payment, reference.payment, rtol=1e-9, atol=0.0)


def test_benchmark_case_takes_fast_path(monkeypatch):
    calls = []
    fast_path = power_diagram._single_slot_auction

    def counted_fast_path(*args):
        calls.append(1)
        return fast_path(*args)

    monkeypatch.setattr(power_diagram, "_single_slot_auction", counted_fast_path)
    instance = random_instance(9, n_queries=300, n_bidders=30, dimension=16)

    outcome = power_diagram.run_auction(**instance)
    assert calls == [1]
    assert outcome.scores.shape == (300, 30)

    # Each option outside the fast path sends the call to the general path.
    for options in ({"slots": 2}, {"gate": 10.0}, {"cosine_threshold": -1.0}, {"reserve": 1e-9}):
        power_diagram.run_auction(**instance, **options)
    assert calls == [1]


@pytest.mark.parametrize(
    "case",
    [
        # ‖x‖² overflows although every intent is finite.
        {"intents": np.full((3, 2), 1e160), "reaches": [1.0, 1.0]},
        # 1/σ² overflows for the first advertiser.
        {"intents": np.array([[1.0, 0.0], [0.5, 0.5]]), "reaches": [1e-170, 1.0]},
        # λ/σ² and ‖x‖² are finite, but their product in the matrix product would overflow.
        {"intents": np.full((2, 2), 1e100), "reaches": [1e-110, 1.0]},
    ],
)
def test_overflow_falls_back_to_general_path(case):
    from benchmarks import reference_kernels

    arguments = {"centers": np.array([[0.0, 0.0], [1.0, 1.0]]), "bids": [1.0, 2.0], **case}
    # The general path overflows in these cases, as it did before the fast path existed.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        outcome = power_diagram.run_auction(**arguments)
        reference = reference_kernels.power_diagram_auction(**arguments)
    for name in ("winner", "payment", "scores", "winners", "payments"):
        np.testing.assert_array_equal(getattr(outcome, name), getattr(reference, name), err_msg=name)


@pytest.mark.parametrize("bad_bid", [np.nan, np.inf, -np.inf, -1.0])
@pytest.mark.parametrize("per_query_bids", [False, True])
def test_invalid_bid_rejected(bad_bid, per_query_bids):
    bids = np.array([[5.0, 4.0]]) if per_query_bids else np.array([5.0, 4.0])
    bids[..., 1] = bad_bid
    with pytest.raises(ValueError, match="bids must be finite and >= 0"):
        power_diagram.run_auction(INTENT, NIKE_PELOTON["centers"], NIKE_PELOTON["reaches"], bids)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_intent_rejected(bad_value):
    with pytest.raises(ValueError, match="intents and centers must be finite"):
        power_diagram.run_auction([[0.45, bad_value]], **NIKE_PELOTON)
    with pytest.raises(ValueError, match="intents and centers must be finite"):
        power_diagram.run_auction([[0.45, 0.35], [1e200, bad_value]], **NIKE_PELOTON)


def test_huge_finite_intent_accepted():
    # ‖x‖² = inf here, and x itself is finite, so the input is valid.
    with np.errstate(over="ignore", invalid="ignore"):
        outcome = power_diagram.run_auction([[1e200, 0.0]], **NIKE_PELOTON)
    assert outcome.winner.shape == (1,)
