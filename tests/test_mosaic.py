"""MOSAIC allocation, payments and incentive properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.mechanisms import mosaic

LN2, LN3 = math.log(2.0), math.log(3.0)


def hand_case():
    """Three candidates, two advertisers, τ = 1, hand-computed below.

    Rewards: advertiser 1 gets ln 2 from candidate 2, advertiser 2 gets ln 3
    from candidate 3. π_gen = (1/2, 1/4, 1/4) and π_ref = (1/4, 1/4, 1/2), so
    the importance weights are (1/2, 1, 2) and exp(s) = (0.5, 2, 6).
    """
    rewards = np.array([[0.0, 0.0], [LN2, 0.0], [0.0, LN3]])
    log_p_gen = np.log([0.5, 0.25, 0.25])
    log_p_ref = np.log([0.25, 0.25, 0.5])
    return rewards, log_p_ref, log_p_gen


def test_allocation_hand_case():
    outcome = mosaic.run_auction(*hand_case(), tau=1.0)
    np.testing.assert_allclose(outcome.allocation, np.array([0.5, 2.0, 6.0]) / 8.5, rtol=0, atol=1e-12)
    assert outcome.potential == pytest.approx(math.log(8.5), abs=1e-12)


def test_payments_hand_case():
    outcome = mosaic.run_auction(*hand_case(), tau=1.0)
    # Φ_{−1}: exp(s − r_1) = (0.5, 1, 6) → ln 7.5; Φ_{−2}: (0.5, 2, 2) → ln 4.5.
    utility_1 = math.log(8.5 / 7.5)
    utility_2 = math.log(8.5 / 4.5)
    payment_1 = (2.0 / 8.5) * LN2 - utility_1
    payment_2 = (6.0 / 8.5) * LN3 - utility_2
    np.testing.assert_allclose(outcome.utilities, [utility_1, utility_2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(outcome.payments, [payment_1, payment_2], rtol=0, atol=1e-12)


def test_reference_weights_hand_case():
    outcome = mosaic.run_auction(*hand_case(), tau=1.0)
    reference = np.array([0.5, 1.0, 2.0]) / 3.5
    expected_kl = np.sum(outcome.allocation * np.log(outcome.allocation / reference))
    np.testing.assert_allclose(outcome.reference_allocation, reference, rtol=0, atol=1e-12)
    assert outcome.kl_to_reference == pytest.approx(expected_kl, abs=1e-12)


def test_tau_scales_potential():
    rewards, log_p_ref, log_p_gen = hand_case()
    base = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau=1.0)
    scaled = mosaic.run_auction(3.0 * rewards, log_p_ref, log_p_gen, tau=3.0)
    np.testing.assert_allclose(scaled.allocation, base.allocation, atol=1e-12)
    np.testing.assert_allclose(scaled.potential, 3.0 * base.potential, atol=1e-12)
    np.testing.assert_allclose(scaled.payments, 3.0 * base.payments, atol=1e-12)


def test_reference_generator_is_softmax():
    rng = np.random.default_rng(7)
    rewards = rng.uniform(0, 2, size=(4, 6, 3))
    log_p = rng.normal(size=(4, 6))
    tau = 0.7
    outcome = mosaic.run_auction(rewards, log_p, log_p, tau)
    total = rewards.sum(axis=2) / tau
    softmax = np.exp(total - total.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(outcome.allocation, softmax, atol=1e-12)


def test_batch_matches_single_queries():
    rng = np.random.default_rng(3)
    rewards = rng.uniform(0, 1, size=(5, 4, 2))
    log_p_ref = rng.normal(size=(5, 4))
    log_p_gen = rng.normal(size=(5, 4))
    batch = mosaic.run_auction(rewards, log_p_ref, log_p_gen, 0.3)
    for q in range(5):
        single = mosaic.run_auction(rewards[q], log_p_ref[q], log_p_gen[q], 0.3)
        np.testing.assert_allclose(single.payments, batch.payments[q], atol=1e-12)
        np.testing.assert_allclose(single.allocation, batch.allocation[q], atol=1e-12)


def test_potential_difference_matches_definition():
    """Φ − Φ_{−i} from the cancellation-free form equals the two potentials' difference."""
    rng = np.random.default_rng(11)
    rewards = rng.uniform(-0.5, 1.5, size=(8, 5, 3))
    log_p_ref = rng.normal(size=(8, 5))
    log_p_gen = rng.normal(size=(8, 5))
    tau = 0.4
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau)
    scores = rewards.sum(axis=2) / tau + log_p_ref - log_p_gen
    for i in range(3):
        without = scores - rewards[:, :, i] / tau
        potential_without = tau * np.log(np.exp(without).sum(axis=1))
        np.testing.assert_allclose(outcome.utilities[:, i], outcome.potential - potential_without, atol=1e-10)


def expected_utility(true_rewards, reports, log_p_ref, log_p_gen, tau, i):
    """Advertiser i's expected utility when the others report truthfully and i reports ``reports``."""
    reported = true_rewards.copy()
    reported[:, i] = reports
    outcome = mosaic.run_auction(reported, log_p_ref, log_p_gen, tau)
    return float(outcome.allocation @ true_rewards[:, i] - outcome.payments[i])


instances = st.tuples(
    st.integers(min_value=1, max_value=8),  # M
    st.integers(min_value=1, max_value=4),  # n
    st.floats(min_value=0.05, max_value=5.0),  # τ
    st.integers(min_value=0, max_value=2**31),  # seed for the values
    st.booleans(),  # allow negative (competitor-penalising) rewards
)


@settings(max_examples=150, deadline=None)
@given(instances)
def test_no_profitable_misreport(instance):
    n_candidates, n_advertisers, tau, seed, negative = instance
    rng = np.random.default_rng(seed)
    low = -1.0 if negative else 0.0
    rewards = rng.uniform(low, 2.0, size=(n_candidates, n_advertisers))
    log_p_ref = rng.normal(size=n_candidates)
    log_p_gen = rng.normal(size=n_candidates)

    for i in range(n_advertisers):
        truth = expected_utility(rewards, rewards[:, i], log_p_ref, log_p_gen, tau, i)
        misreports = [
            rewards[:, i] * factor for factor in (0.0, 0.5, 0.9, 1.1, 2.0, 5.0)
        ] + [rewards[:, i] + shift for shift in (-1.0, 0.5, 3.0)]
        misreports += [rng.uniform(low, 3.0, size=n_candidates) for _ in range(5)]
        for report in misreports:
            lie = expected_utility(rewards, report, log_p_ref, log_p_gen, tau, i)
            assert lie <= truth + 1e-9


@settings(max_examples=100, deadline=None)
@given(instances)
def test_payments_nonnegative_and_ir(instance):
    n_candidates, n_advertisers, tau, seed, _ = instance
    rng = np.random.default_rng(seed)
    rewards = rng.uniform(0.0, 2.0, size=(n_candidates, n_advertisers))
    log_p_ref = rng.normal(size=n_candidates)
    log_p_gen = rng.normal(size=n_candidates)
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau)
    truthful_utility = outcome.allocation @ rewards - outcome.payments
    assert np.all(outcome.payments >= 0)
    assert np.all(truthful_utility >= -1e-12)
    assert outcome.allocation.sum() == pytest.approx(1.0, abs=1e-12)


def test_negative_reward_can_break_ir():
    """A reward that penalises a competitor's mention can leave truthful utility below 0."""
    # Advertiser 1 loses 1 on every candidate where advertiser 2's brand wins.
    rewards = np.array([[0.0, 2.0], [-1.0, 2.0]])
    log_p = np.log([0.5, 0.5])
    outcome = mosaic.run_auction(rewards, log_p, log_p, tau=1.0)
    utility_1 = outcome.allocation @ rewards[:, 0] - outcome.payments[0]
    assert utility_1 < 0


@pytest.mark.parametrize("scale, tau", [(1e6, 1e-6), (1e6, 1e6), (1e-9, 1e-6), (1.0, 1e-12)])
def test_extreme_scales_stay_finite(scale, tau):
    rng = np.random.default_rng(5)
    rewards = scale * rng.uniform(0, 1, size=(3, 20, 4))
    log_p_ref = rng.normal(size=(3, 20)) * 10
    log_p_gen = rng.normal(size=(3, 20)) * 10
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau)
    for array in (outcome.allocation, outcome.payments, outcome.potential, outcome.utilities):
        assert np.all(np.isfinite(array))
    np.testing.assert_allclose(outcome.allocation.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(outcome.payments >= 0)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf")])
def test_invalid_tau_rejected(tau):
    rewards, log_p_ref, log_p_gen = hand_case()
    with pytest.raises(ValueError, match="tau"):
        mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau)


def test_shape_mismatch_rejected():
    rewards, log_p_ref, _ = hand_case()
    with pytest.raises(ValueError, match="log_p_gen"):
        mosaic.run_auction(rewards, log_p_ref, np.zeros(4), 1.0)


def test_select_frequencies_match_allocation():
    allocation = np.tile([0.1, 0.6, 0.3], (200_000, 1))
    chosen = mosaic.select(allocation, np.random.default_rng(0))
    frequencies = np.bincount(chosen, minlength=3) / chosen.size
    np.testing.assert_allclose(frequencies, [0.1, 0.6, 0.3], atol=0.005)


def test_select_never_picks_zero_probability():
    allocation = np.tile([0.0, 1.0, 0.0], (1000, 1))
    chosen = mosaic.select(allocation, np.random.default_rng(1))
    assert np.all(chosen == 1)


def test_allocation_without_hand_case():
    rewards, log_p_ref, log_p_gen = hand_case()
    counterfactual = mosaic.allocation_without(rewards, log_p_ref, log_p_gen, tau=1.0)
    # Without advertiser 1: exp(s − r_1) = (0.5, 1, 6); without advertiser 2: (0.5, 2, 2).
    np.testing.assert_allclose(counterfactual[:, 0], np.array([0.5, 1.0, 6.0]) / 7.5, atol=1e-12)
    np.testing.assert_allclose(counterfactual[:, 1], np.array([0.5, 2.0, 2.0]) / 4.5, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(instances)
def test_incremental_value_covers_payment(instance):
    """Truthful MOSAIC never charges more than the incremental expected reward it delivers."""
    n_candidates, n_advertisers, tau, seed, negative = instance
    rng = np.random.default_rng(seed)
    rewards = rng.uniform(-1.0 if negative else 0.0, 2.0, size=(n_candidates, n_advertisers))
    log_p_ref = rng.normal(size=n_candidates)
    log_p_gen = rng.normal(size=n_candidates)
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau)
    counterfactual = mosaic.allocation_without(rewards, log_p_ref, log_p_gen, tau)
    incremental = outcome.allocation @ rewards - np.einsum("mn,mn->n", counterfactual, rewards)
    assert np.all(incremental >= outcome.payments - 1e-9)


# --- the batch kernel: agreement with the log-space version, blocks, threads and its log-space fallback ----------


def random_batch(rng, n_queries, n_candidates, n_advertisers, scale, tau_exponent):
    """Rewards of either sign at ``scale``, log-probabilities of spread 3, and τ = 10^tau_exponent."""
    rewards = rng.normal(size=(n_queries, n_candidates, n_advertisers)) * scale
    log_p_ref = rng.normal(size=(n_queries, n_candidates)) * 3
    log_p_gen = rng.normal(size=(n_queries, n_candidates)) * 3
    return rewards, log_p_ref, log_p_gen, 10.0**tau_exponent


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 30), st.integers(1, 25), st.integers(0, 9), st.floats(-8, 6), st.floats(-12, 12),
    st.booleans(), st.integers(0, 2**32 - 1),
)
def test_kernel_agrees_with_log_space_reference(n_queries, n_candidates, n_advertisers, scale_exponent,
                                                tau_exponent, separated, seed):
    """Every output is within the rounding tolerance of the earlier scipy-logsumexp kernel."""
    from benchmarks import agreement, reference_kernels

    rng = np.random.default_rng(seed)
    rewards, log_p_ref, log_p_gen, tau = random_batch(rng, n_queries, n_candidates, n_advertisers,
                                                      10.0**scale_exponent, tau_exponent)
    admissible = rng.random((n_queries, n_candidates)) < 0.5 if separated else None
    with np.errstate(all="ignore"):
        outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau, admissible, counterfactual=True)
        reference = reference_kernels.run_auction(rewards, log_p_ref, log_p_gen, tau, admissible)
        without = reference_kernels.allocation_without(rewards, log_p_ref, log_p_gen, tau, admissible)
    differences = agreement.mosaic_differences(outcome, reference, without, rewards, log_p_ref, log_p_gen, tau)
    assert max(differences.values()) <= 1.0, differences
    np.testing.assert_array_equal(outcome.void, reference.void)


def test_fallback_matches_reference_small_tau():
    """At τ = 1e-9 the discounts underflow, so every row takes the log-space path; it agrees with the reference."""
    from benchmarks import agreement, reference_kernels

    rewards, log_p_ref, log_p_gen, tau = random_batch(np.random.default_rng(8), 40, 12, 4, 1.0, -9)
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau, counterfactual=True)
    reference = reference_kernels.run_auction(rewards, log_p_ref, log_p_gen, tau)
    without = reference_kernels.allocation_without(rewards, log_p_ref, log_p_gen, tau)
    differences = agreement.mosaic_differences(outcome, reference, without, rewards, log_p_ref, log_p_gen, tau)
    assert max(differences.values()) <= 1.0, differences
    np.testing.assert_allclose(outcome.counterfactual_allocation.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("threads", ["1", "2", "3"])
@pytest.mark.parametrize("block", [1, 7, 2048])
def test_kernel_bits_independent_of_blocks(monkeypatch, threads, block):
    rewards, log_p_ref, log_p_gen, tau = random_batch(np.random.default_rng(4), 61, 20, 5, 0.1, -1)
    admissible = np.random.default_rng(5).random((61, 20)) < 0.8
    expected = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau, admissible, counterfactual=True)
    monkeypatch.setenv("MARKET_THREADS", threads)
    monkeypatch.setattr(mosaic, "BLOCK_QUERIES", block)
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau, admissible, counterfactual=True)
    for name in ("allocation", "payments", "potential", "utilities", "reference_allocation", "kl_to_reference",
                 "void", "counterfactual_allocation"):
        np.testing.assert_array_equal(getattr(outcome, name), getattr(expected, name), err_msg=name)


def test_single_query_matches_batch_bits():
    """Receipts are audited one query at a time, so a single call must reproduce the batch's row exactly."""
    rewards, log_p_ref, log_p_gen, tau = random_batch(np.random.default_rng(6), 300, 20, 8, 0.05, -1.3)
    batch = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau, counterfactual=True)
    for q in range(0, 300, 23):
        single = mosaic.run_auction(rewards[q], log_p_ref[q], log_p_gen[q], tau, counterfactual=True)
        for name in ("allocation", "payments", "potential", "utilities", "kl_to_reference",
                     "counterfactual_allocation"):
            np.testing.assert_array_equal(getattr(single, name), getattr(batch, name)[q], err_msg=name)


def test_zero_reward_advertiser_pays_zero():
    rng = np.random.default_rng(9)
    rewards = rng.uniform(0, 0.1, (500, 20, 4))
    rewards[:, :, 2] = 0.0
    outcome = mosaic.run_auction(rewards, rng.normal(size=(500, 20)), rng.normal(size=(500, 20)), 0.05)
    assert np.all(outcome.payments[:, 2] == 0.0)
    assert np.all(outcome.payments[:, [0, 1, 3]] > 0.0)


def test_non_finite_reward_named_in_error():
    rewards = np.zeros((3, 4, 2))
    rewards[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="rewards must be finite"):
        mosaic.run_auction(rewards, np.zeros((3, 4)), np.zeros((3, 4)), 1.0)
