r"""Chatbot platforms: each serves its queries through one ad mechanism.

A `Platform` is a Mesa agent holding its configuration and its last round's
accounts. Serving a batch of queries returns a `Service`: per query the user's
utility, each brand's payment and value, the KL divergence of the allocation
from the reference weights, and the forward passes spent.

Mechanisms:

- ``mosaic``: M candidates from π_gen (π_ref, or π_con with context strength
  β), MOSAIC allocation and payments at temperature τ, one candidate returned.
  Forward passes per query: M·(L + n + 1), with n the advertisers in the
  auction (M generations of L tokens, then each candidate scored by n reward
  models and π_ref).
- ``embedding``: a plain reply from π_ref, then one separate ad placement
  sold by the power-diagram auction on the intent. Forward passes: L + 1
  (the reply, then one embedding pass).
- ``none``: a plain reply from π_ref and no ad. Forward passes: L.

Inference cost is forward passes × (cost of a plain query / L).

Value accounting (dollars): `value` is every brand's realised reward from the
returned reply (organic mentions included) plus the value of a shown ad;
`incremental_value` is what the auction added: for MOSAIC the expected
Σ_j (q_j − q^{−i}_j) r_i(y_j) over the final draw, for the embedding auction
the shown ad's value v_w·rel_w(x).
"""

from dataclasses import dataclass, fields

import mesa
import numpy as np

from market import replies
from market.mechanisms import mosaic, power_diagram

__all__ = ["Platform", "Service"]


@dataclass
class Service:
    """Per-query outcome of serving Q queries in a market of B brands.

    Attributes
    ----------
    utility : ndarray, shape (Q,)
        The user's utility of the reply (and ad, if any).
    payments, value, incremental_value : ndarray, shape (Q, B)
        Dollars per brand.
    kl : ndarray, shape (Q,)
        KL(allocation ‖ reference weights) in nats; 0 without MOSAIC.
    forward_passes : ndarray, shape (Q,)
    sponsored : ndarray of bool, shape (Q,)
        An ad was shown, or a MOSAIC reply mentions a brand of its auction.
    """

    utility: np.ndarray
    payments: np.ndarray
    value: np.ndarray
    incremental_value: np.ndarray
    kl: np.ndarray
    forward_passes: np.ndarray
    sponsored: np.ndarray

    @classmethod
    def empty(cls, n_queries, n_brands):
        """Return a zero-filled service for ``n_queries`` queries."""
        return cls(
            utility=np.zeros(n_queries),
            payments=np.zeros((n_queries, n_brands)),
            value=np.zeros((n_queries, n_brands)),
            incremental_value=np.zeros((n_queries, n_brands)),
            kl=np.zeros(n_queries),
            forward_passes=np.zeros(n_queries),
            sponsored=np.zeros(n_queries, dtype=bool),
        )

    def assign(self, index, other):
        """Write ``other``'s rows into rows ``index`` of this service."""
        for spec in fields(self):
            getattr(self, spec.name)[index] = getattr(other, spec.name)


class Platform(mesa.Agent):
    """A chatbot platform running one ad mechanism.

    Parameters
    ----------
    model : market.model.MarketModel
    config : market.scenario.PlatformConfig
    index : int
        Column of this platform in the model's arrays.
    """

    def __init__(self, model, config, index):
        super().__init__(model)
        self.config = config
        self.index = int(index)
        self.tau = config.tau
        self.accounts = {}

    @property
    def name(self):
        return self.config.name

    @property
    def cost_per_pass(self):
        """Dollars per forward pass: the plain-query cost spread over its L passes."""
        return self.config.cost_per_query / self.config.reply_tokens

    def serve(self, intents, category, relevances, eligible, world, weights, rng):
        """Serve a batch of queries and return their `Service`.

        Parameters
        ----------
        intents : ndarray, shape (Q, d)
        category : ndarray of int, shape (Q,)
        relevances : ndarray, shape (Q, B)
            rel_i(x) of every brand for every query.
        eligible : ndarray of bool, shape (Q, B)
            Brands that enter each query's auction.
        world : market.world.World
        weights : market.scenario.UtilityConfig
        rng : numpy.random.Generator
        """
        slots = _Slots(world, category, relevances)
        if self.config.auction == "mosaic":
            return self._serve_mosaic(slots, eligible, world, weights, rng)
        service, plain_utility = self._serve_plain(slots, world, weights, rng)
        if self.config.auction == "embedding":
            self._sell_placement(service, plain_utility, intents, relevances, eligible, world, weights)
        return service

    def _serve_plain(self, slots, world, weights, rng):
        """Draw one reply from π_ref and compute the organic value of its mentions."""
        n_queries = slots.brands.shape[0]
        prior = world.priors[slots.brands]
        reply = replies.sample_replies(prior, 1, rng)
        rewards = slots.rewards(reply.mentions, world)[:, 0, :]
        mentions = reply.mentions[:, 0, :]

        service = Service.empty(n_queries, world.n_brands)
        utility = replies.reply_utility(
            self.config.base_quality, reply.helpfulness[:, 0], mentions, slots.relevances, slots.rivals, weights
        )
        service.utility = utility
        service.value = slots.scatter(rewards)
        service.forward_passes = np.full(n_queries, float(self.config.reply_tokens))
        return service, utility

    def _sell_placement(self, service, plain_utility, intents, relevances, eligible, world, weights):
        """Sell one ad beside each plain reply by the power-diagram auction (truthful bids)."""
        rows = np.arange(intents.shape[0])
        bids = np.where(eligible, world.values[None, :], 0.0)
        outcome = power_diagram.run_auction(
            intents, world.centres, world.reaches, bids, self.config.relevance_weight, self.config.gate
        )
        shown = outcome.winner >= 0
        winner = np.where(shown, outcome.winner, 0)
        ad_relevance = relevances[rows, winner]
        ad_value = np.where(shown, world.values[winner] * ad_relevance, 0.0)

        service.utility = plain_utility + replies.ad_utility(shown, ad_relevance, weights)
        service.payments[rows[shown], winner[shown]] = outcome.payment[shown]
        service.incremental_value[rows[shown], winner[shown]] = ad_value[shown]
        service.value[rows[shown], winner[shown]] += ad_value[shown]
        service.forward_passes += 1.0
        service.sponsored = shown

    def _serve_mosaic(self, slots, eligible, world, weights, rng):
        """Generate M candidates, run MOSAIC on the reported rewards and return one."""
        config = self.config
        n_queries = slots.brands.shape[0]
        rows = np.arange(n_queries)

        # Candidates from π_gen; importance weights against π_ref are exact.
        in_auction = np.take_along_axis(eligible, slots.brands, axis=1)
        prior = world.priors[slots.brands]
        if config.generator == "context":
            generating = replies.context_probabilities(prior, in_auction, config.context_strength)
        else:
            generating = prior
        candidates = replies.sample_replies(generating, config.candidates, rng)
        log_p_ref = replies.log_probability(candidates.mentions, prior)
        log_p_gen = replies.log_probability(candidates.mentions, generating)

        # Truthful reports from the brands in the auction; the others report nothing.
        true_rewards = slots.rewards(candidates.mentions, world)
        reported = true_rewards * in_auction[:, None, :]
        outcome = mosaic.run_auction(reported, log_p_ref, log_p_gen, self.tau)
        chosen = mosaic.select(outcome.allocation, rng)

        # Incremental expected reward of each brand against its own absence.
        counterfactual = mosaic.allocation_without(reported, log_p_ref, log_p_gen, self.tau)
        with_brand = np.einsum("qm,qmk->qk", outcome.allocation, true_rewards)
        without_brand = np.einsum("qmk,qmk->qk", counterfactual, true_rewards)
        incremental = np.where(in_auction, with_brand - without_brand, 0.0)

        returned = candidates.mentions[rows, chosen]
        service = Service.empty(n_queries, world.n_brands)
        service.utility = replies.reply_utility(
            config.base_quality, candidates.helpfulness[rows, chosen], returned, slots.relevances, slots.rivals, weights
        )
        service.payments = slots.scatter(outcome.payments)
        service.value = slots.scatter(true_rewards[rows, chosen])
        service.incremental_value = slots.scatter(incremental)
        service.kl = outcome.kl_to_reference
        service.forward_passes = config.candidates * (config.reply_tokens + in_auction.sum(axis=1) + 1.0)
        service.sponsored = np.any(returned & in_auction, axis=1)
        return service


class _Slots:
    """The K brand slots of each query's category, and conversions to and from (Q, B)."""

    def __init__(self, world, category, relevances):
        self.brands = world.category_brands[category]
        self.relevances = np.take_along_axis(relevances, self.brands, axis=1)
        self.rivals = world.rival_matrix[category]
        self.n_brands = world.n_brands

    def rewards(self, mentions, world):
        """True rewards r_i of the slot brands for candidate mentions (Q, M, K)."""
        return replies.advertiser_rewards(
            mentions,
            self.relevances,
            world.values[self.brands],
            world.competitor_weights[self.brands],
            self.rivals,
        )

    def scatter(self, per_slot):
        """Spread a (Q, K) array of slot values into a zero (Q, B) array."""
        full = np.zeros((per_slot.shape[0], self.n_brands))
        np.put_along_axis(full, self.brands, per_slot, axis=1)
        return full
