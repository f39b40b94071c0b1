"""Reply model: closed-form probabilities, rewards, utilities and the exact π*."""

import math

import numpy as np
import pytest

from market import replies
from market.mechanisms import mosaic
from market.scenario import UtilityConfig

RIVALS_3 = 1.0 - np.eye(3)


def test_relevance_formula():
    intents = np.array([[1.0, 0.0]])
    centres = np.array([[1.0, 0.0], [0.0, 1.0]])
    relevance = replies.relevance(intents, centres, [0.5, 2.0])
    # Distances² 0 and 2: exp(0) and exp(−2/4).
    np.testing.assert_allclose(relevance, [[1.0, math.exp(-0.5)]], atol=1e-15)


def test_log_probability_hand_case():
    mentions = np.array([[[True, False], [False, False]]])
    probabilities = np.array([[0.5, 0.2]])
    expected = [math.log(0.5 * 0.8), math.log(0.5 * 0.8)]
    np.testing.assert_allclose(replies.log_probability(mentions, probabilities)[0], expected, atol=1e-15)


def test_log_probability_impossible_pattern():
    mentions = np.array([[[True]]])
    assert replies.log_probability(mentions, np.array([[0.0]]))[0, 0] == -np.inf


def test_context_boost_is_log_odds_shift():
    priors = np.array([[0.5, 0.5, 0.0, 1.0]])
    in_auction = np.array([[True, False, True, True]])
    boosted = replies.context_probabilities(priors, in_auction, math.log(3.0))
    # logit 0.5 = 0, plus ln 3: odds 3, probability 3/4.
    np.testing.assert_allclose(boosted, [[0.75, 0.5, 0.0, 1.0]], atol=1e-15)


def test_rewards_with_competitor_penalty():
    mentions = np.array([[[True, True, False]]])
    relevance = np.array([[0.5, 1.0, 1.0]])
    values = np.array([[0.1, 0.2, 0.3]])
    kappa = np.array([[0.5, 0.0, 1.0]])
    rewards = replies.advertiser_rewards(mentions, relevance, values, kappa, RIVALS_3[None])
    # Brand 0: 0.1·0.5·(1 − 0.5·1); brand 1: 0.2·1·1; brand 2: 0.3·1·(0 − 1·2).
    np.testing.assert_allclose(rewards[0, 0], [0.025, 0.2, -0.6], atol=1e-15)


def test_reply_utility_hand_case():
    weights = UtilityConfig(irrelevance_cost=1.0, clutter_cost=0.5, ad_irrelevance_cost=0.3)
    mentions = np.array([[True, True, True], [True, False, False], [False, False, False]])
    relevance = np.tile([0.5, 1.0, 0.0], (3, 1))
    utility = replies.reply_utility(1.0, np.array([0.2, 0.0, -0.1]), mentions, relevance, np.tile(RIVALS_3, (3, 1, 1)), weights)
    # Row 0: irrelevance 0.5 + 0 + 1, three rivals mentioned → clutter 2.
    np.testing.assert_allclose(utility, [1.2 - 1.5 - 1.0, 1.0 - 0.5, 0.9], atol=1e-15)


def test_clutter_needs_rivals():
    weights = UtilityConfig(irrelevance_cost=0.0, clutter_cost=0.5)
    mentions = np.array([[True, True, False]])
    utility = replies.reply_utility(0.0, np.zeros(1), mentions, np.ones((1, 3)), np.zeros((1, 3, 3)), weights)
    assert utility[0] == 0.0


def test_ad_utility():
    weights = UtilityConfig(ad_irrelevance_cost=0.3)
    utility = replies.ad_utility(np.array([True, False]), np.array([0.25, 0.0]), weights)
    np.testing.assert_allclose(utility, [-0.225, 0.0], atol=1e-15)


def test_exact_optimum_one_brand():
    rho, value, tau = 0.3, 0.2, 0.1
    patterns, probabilities = replies.exact_optimal_distribution([rho], [1.0], [value], [0.0], [[0.0]], tau)
    tilt = rho * math.exp(value / tau)
    assert patterns.tolist() == [[False], [True]]
    np.testing.assert_allclose(probabilities, [(1 - rho) / (tilt + 1 - rho), tilt / (tilt + 1 - rho)], atol=1e-15)


def test_exact_optimum_large_tau_is_reference():
    priors = np.array([0.5, 0.1, 0.2])
    patterns, probabilities = replies.exact_optimal_distribution(
        priors, np.ones(3), np.full(3, 0.1), np.zeros(3), RIVALS_3, tau=1e9
    )
    reference = np.exp(replies.log_probability(patterns[None], priors[None])[0])
    np.testing.assert_allclose(probabilities, reference, atol=1e-9)


def test_exact_optimum_rejects_large_k():
    with pytest.raises(ValueError, match="exceeds the limit"):
        replies.exact_optimal_distribution(np.full(13, 0.1), np.ones(13), np.ones(13), np.zeros(13), np.zeros((13, 13)), 1.0)


def total_variation_of_mosaic(generator, n_candidates, seed=0, n_queries=20_000):
    """TV distance between MOSAIC's returned mention patterns and the exact π* for one fixed query."""
    rng = np.random.default_rng(seed)
    priors = np.array([0.5, 0.2, 0.1])
    relevance = np.array([0.9, 0.6, 0.8])
    values = np.array([0.05, 0.08, 0.1])
    kappa = np.zeros(3)
    tau = 0.05
    patterns, target = replies.exact_optimal_distribution(priors, relevance, values, kappa, RIVALS_3, tau)

    prior_rows = np.tile(priors, (n_queries, 1))
    generating = prior_rows
    if generator == "context":
        generating = replies.context_probabilities(prior_rows, np.ones_like(prior_rows, bool), 1.5)
    candidates = replies.sample_replies(generating, n_candidates, rng)
    rewards = replies.advertiser_rewards(
        candidates.mentions,
        np.tile(relevance, (n_queries, 1)),
        np.tile(values, (n_queries, 1)),
        np.tile(kappa, (n_queries, 1)),
        np.tile(RIVALS_3, (n_queries, 1, 1)),
    )
    outcome = mosaic.run_auction(
        rewards,
        replies.log_probability(candidates.mentions, prior_rows),
        replies.log_probability(candidates.mentions, generating),
        tau,
    )
    chosen = mosaic.select(outcome.allocation, rng)
    returned = candidates.mentions[np.arange(n_queries), chosen]
    codes = returned @ (1 << np.arange(2, -1, -1))
    empirical = np.bincount(codes, minlength=8) / n_queries
    return 0.5 * np.abs(empirical - target).sum()


@pytest.mark.parametrize("generator", ["reference", "context"])
def test_mosaic_output_approaches_optimum(generator):
    assert total_variation_of_mosaic(generator, 1) > 0.1
    assert total_variation_of_mosaic(generator, 100) < 0.03
