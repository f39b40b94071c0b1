"""MOSAIC variants: competitive separation, keyed draws, receipts, audits, attribution."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from market import replies
from market.keyed_random import derive_keys, keyed_normals, keyed_uniforms
from market.mechanisms import mosaic
from tests.test_mosaic import expected_utility, hand_case

RIVALS_3 = 1.0 - np.eye(3)


# Competitive separation ---------------------------------------------------------------


def test_separation_equals_auction_on_kept_candidates():
    rng = np.random.default_rng(2)
    rewards = rng.uniform(0, 1, size=(6, 3))
    log_p_ref = rng.normal(size=6)
    log_p_gen = rng.normal(size=6)
    keep = np.array([True, False, True, True, False, True])
    filtered = mosaic.run_auction(rewards, log_p_ref, log_p_gen, 0.4, admissible=keep)
    subset = mosaic.run_auction(rewards[keep], log_p_ref[keep], log_p_gen[keep], 0.4)
    np.testing.assert_allclose(filtered.allocation[keep], subset.allocation, atol=1e-12)
    np.testing.assert_array_equal(filtered.allocation[~keep], 0.0)
    np.testing.assert_allclose(filtered.payments, subset.payments, atol=1e-12)
    assert filtered.potential == pytest.approx(subset.potential, abs=1e-12)
    assert filtered.kl_to_reference == pytest.approx(subset.kl_to_reference, abs=1e-12)
    assert not filtered.void


def test_separation_void_auction():
    rewards, log_p_ref, log_p_gen = hand_case()
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, 1.0, admissible=np.zeros(3, bool))
    assert outcome.void
    np.testing.assert_array_equal(outcome.payments, 0.0)
    np.testing.assert_allclose(outcome.allocation, np.array([0.5, 1.0, 2.0]) / 3.5, atol=1e-12)
    assert outcome.kl_to_reference == pytest.approx(0.0, abs=1e-12)


separation_instances = st.tuples(
    st.integers(min_value=2, max_value=8),
    st.integers(min_value=1, max_value=3),
    st.floats(min_value=0.05, max_value=5.0),
    st.integers(min_value=0, max_value=2**31),
)


@settings(max_examples=100, deadline=None)
@given(separation_instances)
def test_separation_keeps_truthfulness(instance):
    """The filter ignores reports, so no misreport gains under separation either."""
    n_candidates, n_advertisers, tau, seed = instance
    rng = np.random.default_rng(seed)
    rewards = rng.uniform(-0.5, 2.0, size=(n_candidates, n_advertisers))
    log_p_ref = rng.normal(size=n_candidates)
    log_p_gen = rng.normal(size=n_candidates)
    keep = rng.random(n_candidates) < 0.6
    keep[0] = True

    def utility(report, i):
        reported = rewards.copy()
        reported[:, i] = report
        outcome = mosaic.run_auction(reported, log_p_ref, log_p_gen, tau, admissible=keep)
        return outcome.allocation @ rewards[:, i] - outcome.payments[i]

    for i in range(n_advertisers):
        truth = utility(rewards[:, i], i)
        for report in (2.0 * rewards[:, i], rewards[:, i] + 1.0, np.zeros(n_candidates), rng.uniform(-1, 3, n_candidates)):
            assert utility(report, i) <= truth + 1e-9


def test_separation_targets_restricted_optimum():
    """With many candidates the output tends to π* renormalised on rival-free replies."""
    rng = np.random.default_rng(4)
    priors = np.array([0.5, 0.3, 0.2])
    relevance = np.array([0.9, 0.7, 0.8])
    values = np.array([0.05, 0.06, 0.08])
    tau, n_queries, n_candidates = 0.05, 20_000, 60
    patterns, target = replies.exact_optimal_distribution(priors, relevance, values, np.zeros(3), RIVALS_3, tau)
    rival_free = patterns.sum(axis=1) <= 1
    restricted = np.where(rival_free, target, 0.0) / target[rival_free].sum()

    prior_rows = np.tile(priors, (n_queries, 1))
    candidates = replies.sample_replies(prior_rows, n_candidates, rng)
    rewards = replies.advertiser_rewards(
        candidates.mentions, np.tile(relevance, (n_queries, 1)), np.tile(values, (n_queries, 1)),
        np.zeros((n_queries, 3)), np.tile(RIVALS_3, (n_queries, 1, 1)),
    )
    log_p = replies.log_probability(candidates.mentions, prior_rows)
    keep = candidates.mentions.sum(axis=2) <= 1
    outcome = mosaic.run_auction(rewards, log_p, log_p, tau, admissible=keep)
    chosen = mosaic.select(outcome.allocation, rng)
    codes = candidates.mentions[np.arange(n_queries), chosen] @ np.array([4, 2, 1])
    empirical = np.bincount(codes, minlength=8) / n_queries

    assert 0.5 * np.abs(empirical - restricted).sum() < 0.03
    assert 0.5 * np.abs(empirical - target).sum() > 0.1


# Keyed draws ---------------------------------------------------------------------------


def test_keys_depend_on_every_input():
    base = derive_keys(1, np.array([[0.1, 0.2]]), np.array([[3.0]]))
    assert derive_keys(1, np.array([[0.1, 0.2]]), np.array([[3.0]]))[0] == base[0]
    assert derive_keys(2, np.array([[0.1, 0.2]]), np.array([[3.0]]))[0] != base[0]
    assert derive_keys(1, np.array([[0.1, 0.25]]), np.array([[3.0]]))[0] != base[0]
    assert derive_keys(1, np.array([[0.1, 0.2]]), np.array([[3.5]]))[0] != base[0]


def test_keyed_uniforms_are_uniform():
    keys = derive_keys(3, np.arange(20_000)[:, None])
    uniforms = keyed_uniforms(keys, (5,), stream=1).ravel()
    assert stats.kstest(uniforms, "uniform").pvalue > 0.01
    other_stream = keyed_uniforms(keys, (5,), stream=2).ravel()
    assert abs(np.corrcoef(uniforms, other_stream)[0, 1]) < 0.02


def test_keyed_normals_are_normal():
    keys = derive_keys(5, np.arange(20_000)[:, None])
    assert stats.kstest(keyed_normals(keys, (3,), stream=0).ravel(), "norm").pvalue > 0.01


def keyed_mosaic_patterns(query_ids, priors, relevance, values, tau, n_candidates, platform_seed):
    """Return the returned mention pattern per query when every draw is keyed."""
    n_queries = query_ids.size
    keys = derive_keys(platform_seed, query_ids[:, None], np.tile(values, (n_queries, 1)), np.full((n_queries, 1), tau))
    prior_rows = np.tile(priors, (n_queries, 1))
    mentions = keyed_uniforms(keys, (n_candidates, 3), stream=0) < prior_rows[:, None, :]
    rewards = replies.advertiser_rewards(
        mentions, np.tile(relevance, (n_queries, 1)), np.tile(values, (n_queries, 1)),
        np.zeros((n_queries, 3)), np.tile(RIVALS_3, (n_queries, 1, 1)),
    )
    log_p = replies.log_probability(mentions, prior_rows)
    outcome = mosaic.run_auction(rewards, log_p, log_p, tau)
    chosen = mosaic.select_keyed(outcome.allocation, keys)
    return mentions[np.arange(n_queries), chosen] @ np.array([4, 2, 1])


KEYED_CASE = {"priors": np.array([0.5, 0.3, 0.2]), "relevance": np.array([0.9, 0.7, 0.8]),
              "values": np.array([0.05, 0.06, 0.08]), "tau": 0.05, "n_candidates": 30}


def test_keyed_identical_inputs_identical_reply():
    ids = np.array([11, 11, 12, 11])
    codes = keyed_mosaic_patterns(ids, **KEYED_CASE, platform_seed=9)
    assert codes[0] == codes[1] == codes[3]
    again = keyed_mosaic_patterns(ids, **KEYED_CASE, platform_seed=9)
    np.testing.assert_array_equal(codes, again)


def test_keyed_expectation_matches_ordinary():
    n_queries = 20_000
    keyed = keyed_mosaic_patterns(np.arange(n_queries), **KEYED_CASE, platform_seed=9)

    rng = np.random.default_rng(10)
    case = KEYED_CASE
    prior_rows = np.tile(case["priors"], (n_queries, 1))
    candidates = replies.sample_replies(prior_rows, case["n_candidates"], rng)
    rewards = replies.advertiser_rewards(
        candidates.mentions, np.tile(case["relevance"], (n_queries, 1)), np.tile(case["values"], (n_queries, 1)),
        np.zeros((n_queries, 3)), np.tile(RIVALS_3, (n_queries, 1, 1)),
    )
    log_p = replies.log_probability(candidates.mentions, prior_rows)
    outcome = mosaic.run_auction(rewards, log_p, log_p, case["tau"])
    ordinary = candidates.mentions[np.arange(n_queries), mosaic.select(outcome.allocation, rng)] @ np.array([4, 2, 1])

    table = np.array([np.bincount(keyed, minlength=8), np.bincount(ordinary, minlength=8)])
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 0.01


# Receipts and audits -------------------------------------------------------------------


def honest_receipt(tau=1.0, **extra):
    rewards, log_p_ref, log_p_gen = hand_case()
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau)
    return mosaic.make_receipt(rewards, log_p_ref, log_p_gen, tau, outcome.allocation, outcome.payments, **extra)


def test_honest_receipt_passes():
    report = mosaic.audit(honest_receipt(), published_tau=1.0)
    assert report.passed
    assert report.mismatches == ()


def test_receipt_commitment_is_sha256():
    receipt = honest_receipt()
    assert len(receipt.commitment) == 64
    assert honest_receipt().commitment == receipt.commitment


def test_audit_catches_other_tau():
    # The platform ran τ = 0.5, recorded it truthfully, but published τ = 1.
    report = mosaic.audit(honest_receipt(tau=0.5), published_tau=1.0)
    assert not report.passed
    assert any("published" in mismatch for mismatch in report.mismatches)
    assert report.max_allocation_error > 0.01


def test_audit_catches_relabelled_tau():
    # The platform ran τ = 0.5 but wrote the published τ = 1 on the receipt and re-committed.
    rewards, log_p_ref, log_p_gen = hand_case()
    actual = mosaic.run_auction(rewards, log_p_ref, log_p_gen, 0.5)
    forged = mosaic.make_receipt(rewards, log_p_ref, log_p_gen, 1.0, actual.allocation, actual.payments)
    report = mosaic.audit(forged, published_tau=1.0)
    assert not report.passed
    assert any("allocation" in mismatch for mismatch in report.mismatches)


def test_audit_catches_altered_reward():
    receipt = honest_receipt()
    altered = dataclasses.replace(receipt, rewards=receipt.rewards * 1.5)
    report = mosaic.audit(altered, published_tau=1.0)
    assert not report.passed
    assert any("commitment" in mismatch for mismatch in report.mismatches)


def test_audit_catches_altered_payment():
    rewards, log_p_ref, log_p_gen = hand_case()
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, 1.0)
    overcharge = outcome.payments + np.array([0.01, 0.0])
    receipt = mosaic.make_receipt(rewards, log_p_ref, log_p_gen, 1.0, outcome.allocation, overcharge)
    report = mosaic.audit(receipt, published_tau=1.0)
    assert not report.passed
    assert report.max_payment_error == pytest.approx(0.01, abs=1e-12)


def test_audit_checks_keyed_selection():
    rewards, log_p_ref, log_p_gen = hand_case()
    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, 1.0)
    key = derive_keys(1, np.array([[42.0]]))
    chosen = int(mosaic.select_keyed(outcome.allocation[None], key)[0])
    honest = mosaic.make_receipt(rewards, log_p_ref, log_p_gen, 1.0, outcome.allocation, outcome.payments,
                                 key=int(key[0]), returned=chosen)
    assert mosaic.audit(honest, 1.0).passed
    swapped = mosaic.make_receipt(rewards, log_p_ref, log_p_gen, 1.0, outcome.allocation, outcome.payments,
                                  key=int(key[0]), returned=(chosen + 1) % 3)
    assert not mosaic.audit(swapped, 1.0).passed


# Attribution -------------------------------------------------------------------------


def test_attribution_hand_case():
    rewards, log_p_ref, log_p_gen = hand_case()
    outcome = mosaic.run_auction(rewards[None], log_p_ref[None], log_p_gen[None], 1.0)
    # Advertiser 1's brand appears in candidate 2, advertiser 2's in candidate 3.
    mentions = np.array([[[False, False], [True, False], [False, True]]])
    result = mosaic.attribution(outcome, mentions)
    lift_1 = 2.0 / 8.5 - 1.0 / 3.5
    lift_2 = 6.0 / 8.5 - 2.0 / 3.5
    utility_1, utility_2 = math.log(8.5 / 7.5), math.log(8.5 / 4.5)
    np.testing.assert_allclose(result.mention_lift[0], [lift_1, lift_2], atol=1e-12)
    np.testing.assert_allclose(result.welfare_share[0], np.array([utility_1, utility_2]) / (utility_1 + utility_2), atol=1e-12)


def test_attribution_without_rewards_is_zero():
    _, log_p_ref, log_p_gen = hand_case()
    outcome = mosaic.run_auction(np.zeros((1, 3, 2)), log_p_ref[None], log_p_gen[None], 1.0)
    result = mosaic.attribution(outcome, np.ones((1, 3, 2), bool))
    np.testing.assert_allclose(result.mention_lift, 0.0, atol=1e-15)
    assert np.all(np.isnan(result.welfare_share))


def test_truthful_utility_helper_consistent():
    rewards, log_p_ref, log_p_gen = hand_case()
    assert expected_utility(rewards, rewards[:, 0], log_p_ref, log_p_gen, 1.0, 0) == pytest.approx(math.log(8.5 / 7.5))
