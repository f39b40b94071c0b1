r"""Serving a batch of queries through one ad mechanism.

Each function takes a platform's configuration and a batch of Q queries and
returns a `Service`: per query the user's utility, each brand's payment,
value and measured influence, the KL divergence from the reference weights,
and the compute spent (`market.costs`).

- `serve_plain`: one reply from π_ref, no ad (the ``none`` mechanism, and the
  reply of the embedding platform).
- `sell_placement`: separate ads beside the plain reply, sold by the
  power-diagram auction on the intent (the ``embedding`` mechanism, one
  slot or k slots by GSP, with optional gates and reserve).
- `sell_keyword_placement`: one separate ad sold by a second-price auction
  on the query's category (the ``keyword`` mechanism); each brand bids its
  value times its mean relevance in its category.
- `serve_mosaic`: M candidates from π_gen (π_ref, or π_con with context
  strength β), MOSAIC at the τ the platform actually runs, one reply
  returned; optional competitive separation, keyed draws and audits.

Value accounting (dollars): ``value`` is every brand's realised reward from
the returned reply (organic mentions included) plus the value of a shown ad.
``incremental_value`` is what the auction added: for MOSAIC the expected
Σ_j (q_j − q^{−i}_j)·r_i(y_j) over the final draw, for the embedding auction
the shown ad's value v_w·rel_w(x).
"""

import copy
from dataclasses import dataclass, fields

import numpy as np
from scipy.special import entr

from market import costs, replies
from market.keyed_random import derive_keys, keyed_normals, keyed_uniforms
from market.mechanisms import keyword, mosaic, power_diagram
from market.sampling import categorical_from_uniforms

__all__ = ["QuerySlots", "Service", "sell_keyword_placement", "sell_placement", "serve_mosaic", "serve_plain"]

CANDIDATE_STREAM = 0
HELPFULNESS_STREAM = 1


@dataclass
class Service:
    """Per-query outcome of serving Q queries in a market of B brands.

    Attributes
    ----------
    utility : ndarray, shape (Q,)
        The user's utility of the reply (and ad, if any).
    payments, value, incremental_value : ndarray, shape (Q, B)
        Dollars per brand.
    mention_lift : ndarray, shape (Q, B)
        Change in the probability that the reply mentions each brand, against
        MOSAIC's reference weights (0 without MOSAIC).
    kl : ndarray, shape (Q,)
        KL(allocation ‖ reference weights) in nats; 0 without MOSAIC.
    entropy : ndarray, shape (Q,)
        Entropy of the allocation over the candidates in bits: how much the
        returned reply is left to chance once the candidates are drawn
        (0 for a single plain reply).
    forward_passes, token_forwards, inference_cost : ndarray, shape (Q,)
        Compute per query, and its dollar cost in the platform's accounting.
    sponsored : ndarray of bool, shape (Q,)
        An ad was shown, or a MOSAIC reply mentions a brand of its auction.
    cluttered : ndarray of bool, shape (Q,)
        The reply mentions two rival brands.
    audited, audit_failed : ndarray of bool, shape (Q,)
        The auction's receipt was audited, and the audit found a mismatch.
    """

    utility: np.ndarray
    payments: np.ndarray
    value: np.ndarray
    incremental_value: np.ndarray
    mention_lift: np.ndarray
    kl: np.ndarray
    entropy: np.ndarray
    forward_passes: np.ndarray
    token_forwards: np.ndarray
    inference_cost: np.ndarray
    sponsored: np.ndarray
    cluttered: np.ndarray
    audited: np.ndarray
    audit_failed: np.ndarray

    @classmethod
    def empty(cls, n_queries, n_brands):
        """Return a zero-filled service for ``n_queries`` queries."""
        per_query = {name: np.zeros(n_queries) for name in ("utility", "kl", "entropy", "forward_passes", "token_forwards",
                                                             "inference_cost")}
        per_brand = {name: np.zeros((n_queries, n_brands)) for name in ("payments", "value", "incremental_value",
                                                                        "mention_lift")}
        flags = {name: np.zeros(n_queries, dtype=bool) for name in ("sponsored", "cluttered", "audited", "audit_failed")}
        return cls(**per_query, **per_brand, **flags)

    def assign(self, index, other):
        """Write ``other``'s rows into rows ``index`` of this service."""
        for spec in fields(self):
            getattr(self, spec.name)[index] = getattr(other, spec.name)

    def charge(self, cost, config):
        """Record the compute ``cost`` and its dollars in the platform's accounting."""
        self.forward_passes = cost.forward_passes
        self.token_forwards = cost.token_forwards
        self.inference_cost = costs.dollars(cost, config.cost_accounting, config.cost_per_query, config.reply_tokens)


class QuerySlots:
    """The K brand slots of each query's category, and conversions to and from (Q, B).

    Parameters
    ----------
    world : market.world.World
    category : ndarray of int, shape (Q,)
    relevances : ndarray, shape (Q, B)
        rel_i(x) of every brand for every query.
    """

    def __init__(self, world, category, relevances):
        self.world = world
        self.brands = world.category_brands[category]
        self.relevances = np.take_along_axis(relevances, self.brands, axis=1)
        self.rivals = world.rival_matrix[category]
        # Position of each slot in a flattened (Q, B) array, for `scatter`.
        self._flat_index = (np.arange(self.brands.shape[0])[:, None] * world.n_brands + self.brands).ravel()

    @property
    def n_queries(self):
        return self.brands.shape[0]

    def subset(self, rows):
        """Return the slots of the queries ``rows`` (a slice)."""
        part = copy.copy(self)
        part.brands, part.relevances, part.rivals = self.brands[rows], self.relevances[rows], self.rivals[rows]
        part._flat_index = (np.arange(part.brands.shape[0])[:, None] * self.world.n_brands + part.brands).ravel()
        return part

    def cluttered(self, mentions):
        """Return whether each reply (Q, K) mentions two rival brands."""
        mentioned = mentions.astype(float)
        return np.einsum("qi,qij,qj->q", mentioned, self.rivals, mentioned) > 0

    def rewards(self, mentions):
        """Return the true rewards r_i of the slot brands for candidate mentions (Q, M, K)."""
        return replies.advertiser_rewards(
            mentions,
            self.relevances,
            self.world.values[self.brands],
            self.world.competitor_weights[self.brands],
            self.rivals,
        )

    def take(self, per_brand):
        """Return the slot columns of a (Q, B) array, shape (Q, K)."""
        return np.take_along_axis(per_brand, self.brands, axis=1)

    def scatter(self, per_slot):
        """Spread a (Q, K) array of slot values into a zero (Q, B) array."""
        full = np.zeros(per_slot.shape[0] * self.world.n_brands)
        full[self._flat_index] = per_slot.ravel()
        return full.reshape(per_slot.shape[0], self.world.n_brands)


def serve_plain(config, slots, weights, rng):
    """Draw one reply per query from π_ref and return its service and the reply's utility."""
    prior = slots.world.priors[slots.brands]
    reply = replies.sample_replies(prior, 1, rng)
    mentions = reply.mentions[:, 0, :]

    service = Service.empty(slots.n_queries, slots.world.n_brands)
    service.utility = replies.reply_utility(
        config.base_quality, reply.helpfulness[:, 0], mentions, slots.relevances, slots.rivals, weights
    )
    service.value = slots.scatter(slots.rewards(reply.mentions)[:, 0, :])
    service.cluttered = slots.cluttered(mentions)
    service.charge(costs.plain_cost(slots.n_queries, config.reply_tokens), config)
    return service


def sell_placement(service, config, intents, relevances, eligible, world, weights, gate):
    """Sell separate ads beside each plain reply by the power-diagram auction, with truthful bids.

    ``gate`` is the squared-distance gate in force this round (None for no gate).
    """
    bids = np.where(eligible, world.values[None, :], 0.0)
    outcome = power_diagram.run_auction(
        intents,
        world.centres,
        world.reaches,
        bids,
        relevance_weight=config.relevance_weight,
        gate=gate,
        cosine_threshold=config.cosine_threshold,
        reserve=config.reserve,
        slots=config.slots,
    )
    _place_ads(service, outcome.winners, outcome.payments, relevances, world, weights)
    cost = costs.post_response_cost(eligible.sum(axis=1), config.reply_tokens, config.embedding_tokens,
                                    intents.shape[1])
    service.charge(cost, config)
    return service


def sell_keyword_placement(service, config, category, relevances, eligible, world, weights):
    """Sell one separate ad per query by a second-price auction on its category."""
    bids = np.where(eligible, (world.values * world.category_relevance)[None, :], 0.0)
    outcome = keyword.run_auction(category, world.brand_category, bids, reserve=config.reserve)
    _place_ads(service, outcome.winner[:, None], outcome.payment[:, None], relevances, world, weights)
    # A keyword match needs no embedding pass and the auction is a lookup.
    service.charge(costs.plain_cost(category.size, config.reply_tokens), config)
    return service


def _place_ads(service, winners, payments, relevances, world, weights):
    """Add shown ads (winners −1 for an empty slot) to a plain reply's service."""
    for slot in range(winners.shape[1]):
        shown = winners[:, slot] >= 0
        placed = np.flatnonzero(shown)
        brand = winners[placed, slot]
        ad_relevance = relevances[placed, brand]
        ad_value = world.values[brand] * ad_relevance

        service.utility[placed] += replies.ad_utility(np.ones(placed.size, bool), ad_relevance, weights)
        service.payments[placed, brand] += payments[placed, slot]
        service.incremental_value[placed, brand] += ad_value
        service.value[placed, brand] += ad_value
        service.sponsored |= shown


def serve_mosaic(config, slots, intents, eligible, weights, published_tau, actual_tau, seed, rng):
    """Generate M candidates per query, run MOSAIC on the truthful reports and return one reply.

    The queries are served in blocks of ``SERVE_BLOCK_QUERIES``, so that the
    (Q, M, K) arrays of a block stay small. Every random draw of the batch
    is taken first, in the order of a single pass: the candidates' mentions,
    their helpfulness, the selection uniforms and the audit uniforms. Each
    query's outcome depends on its own inputs and draws only, so the service
    is the same whatever the block size.

    Parameters
    ----------
    config : market.scenario.PlatformConfig
    slots : QuerySlots
    intents : ndarray, shape (Q, d)
    eligible : ndarray of bool, shape (Q, B)
        Brands that enter each query's auction.
    weights : market.scenario.UtilityConfig
    published_tau, actual_tau : float
        The τ the platform states and the τ it runs.
    seed : int
        The platform's seed for keyed draws.
    rng : numpy.random.Generator
    """
    world, n_queries = slots.world, slots.n_queries

    # Candidates from π_gen, from the model's Generator or from keyed streams.
    in_auction = slots.take(eligible)
    prior = world.priors[slots.brands]
    generating = prior
    if config.generator == "context":
        generating = replies.context_probabilities(prior, in_auction, config.context_strength)
    keys = selection = None
    if config.reproducible:
        keys = auction_keys(seed, intents, slots, in_auction, published_tau, config.candidates)
        uniforms = keyed_uniforms(keys, (config.candidates, prior.shape[1]), CANDIDATE_STREAM)
        candidates = replies.Replies(
            mentions=uniforms < generating[:, None, :],
            helpfulness=keyed_normals(keys, (config.candidates,), HELPFULNESS_STREAM),
        )
    else:
        candidates = replies.sample_replies(generating, config.candidates, rng)
        selection = rng.random(n_queries)
    audit_draws = rng.random(n_queries) if config.audit_rate > 0 else None

    def serve_block(rows):
        block = _MosaicBlock(
            slots=slots.subset(rows),
            in_auction=in_auction[rows],
            prior=prior[rows],
            generating=prior[rows] if generating is prior else generating[rows],
            mentions=candidates.mentions[rows],
            helpfulness=candidates.helpfulness[rows],
            selection=None if selection is None else selection[rows],
            keys=None if keys is None else keys[rows],
            audit_draws=None if audit_draws is None else audit_draws[rows],
        )
        return _serve_mosaic_block(config, block, weights, published_tau, actual_tau)

    # A batch of one block is served as it is; a larger one is assembled block by block.
    if n_queries <= SERVE_BLOCK_QUERIES:
        return serve_block(slice(None))
    service = Service.empty(n_queries, world.n_brands)
    for start in range(0, n_queries, SERVE_BLOCK_QUERIES):
        rows = slice(start, start + SERVE_BLOCK_QUERIES)
        service.assign(rows, serve_block(rows))
    return service


# Queries per block of `serve_mosaic`: at M = 20 and K = 5 a block's (Q, M, K) arrays take 13 MB each.
SERVE_BLOCK_QUERIES = 16_384


@dataclass
class _MosaicBlock:
    """The inputs and random draws of one block of `serve_mosaic` (keys or selection uniforms, not both)."""

    slots: "QuerySlots"
    in_auction: np.ndarray
    prior: np.ndarray
    generating: np.ndarray
    mentions: np.ndarray
    helpfulness: np.ndarray
    selection: np.ndarray | None
    keys: np.ndarray | None
    audit_draws: np.ndarray | None


def _serve_mosaic_block(config, block, weights, published_tau, actual_tau):
    """Run MOSAIC on one block of queries and return its service."""
    slots, in_auction = block.slots, block.in_auction
    n_queries = slots.n_queries
    rows = np.arange(n_queries)

    # The mentions as 0.0/1.0, converted once for the products below.
    mentioned = block.mentions.astype(float)
    log_p_ref = replies.log_probability(mentioned, block.prior)
    # Under π_ref the generator is the reference, so its log-probabilities are the same array.
    log_p_gen = log_p_ref if config.generator != "context" else replies.log_probability(mentioned, block.generating)

    # Competitive separation keeps only candidates without two rivals named together.
    admissible = None
    if config.separation:
        rival_pairs = np.einsum("qmi,qij,qmj->qm", mentioned, slots.rivals, mentioned)
        admissible = rival_pairs == 0

    # Truthful reports from the brands in the auction; the others report nothing.
    true_rewards = slots.rewards(mentioned)
    reported = true_rewards * in_auction[:, None, :]
    outcome = mosaic.run_auction(reported, log_p_ref, log_p_gen, actual_tau, admissible, counterfactual=True)
    if block.keys is None:
        chosen = categorical_from_uniforms(outcome.allocation, block.selection)
    else:
        chosen = mosaic.select_keyed(outcome.allocation, block.keys)

    # Each brand's incremental expected reward against its own absence, and its mention lift.
    with_brand = np.einsum("qm,qmk->qk", outcome.allocation, true_rewards)
    without_brand = np.einsum("qmk,qmk->qk", outcome.counterfactual_allocation, true_rewards)
    influence = mosaic.attribution(outcome, mentioned)

    returned = block.mentions[rows, chosen]
    service = Service.empty(n_queries, slots.world.n_brands)
    service.utility = replies.reply_utility(
        config.base_quality, block.helpfulness[rows, chosen], returned, slots.relevances, slots.rivals, weights
    )
    service.payments = slots.scatter(outcome.payments)
    service.value = slots.scatter(true_rewards[rows, chosen])
    service.incremental_value = slots.scatter(np.where(in_auction, with_brand - without_brand, 0.0))
    service.mention_lift = slots.scatter(np.where(in_auction, influence.mention_lift, 0.0))
    service.kl = outcome.kl_to_reference
    # H(q) = −Σ_j q_j log2 q_j, with 0·log 0 = 0 (scipy's entr).
    service.entropy = entr(outcome.allocation).sum(axis=1) / np.log(2.0)
    service.sponsored = np.any(returned & in_auction, axis=1)
    service.cluttered = slots.cluttered(returned)
    service.charge(costs.mosaic_cost(in_auction.sum(axis=1), config.candidates, config.reply_tokens), config)

    if block.audit_draws is not None:
        audit_sample(service, block.audit_draws < config.audit_rate, outcome, reported, log_p_ref, log_p_gen,
                     admissible, block.keys, chosen, published_tau)
    return service


def auction_keys(seed, intents, slots, in_auction, published_tau, n_candidates):
    """Key each auction by its query, the reports (who bids, with which reward function), τ and M."""
    values = slots.world.values[slots.brands] * in_auction
    kappas = slots.world.competitor_weights[slots.brands] * in_auction
    settings = np.tile([published_tau, n_candidates], (slots.n_queries, 1))
    return derive_keys(seed, intents, slots.brands, in_auction, values, kappas, settings)


def audit_sample(service, audited, outcome, reported, log_p_ref, log_p_gen, admissible, keys, chosen, published_tau):
    """Audit the receipts of the queries marked in ``audited`` (bool, shape (Q,)) and mark those that fail.

    The platform writes its receipts from the auction it ran (allocation and
    payments at the τ it actually uses) and states the published τ on them.
    """
    sampled = np.flatnonzero(audited)
    for query in sampled:
        receipt = mosaic.make_receipt(
            reported[query],
            log_p_ref[query],
            log_p_gen[query],
            published_tau,
            outcome.allocation[query],
            outcome.payments[query],
            key=None if keys is None else int(keys[query]),
            admissible=None if admissible is None else admissible[query],
            returned=int(chosen[query]),
        )
        service.audit_failed[query] = not mosaic.audit(receipt, published_tau).passed
    service.audited[sampled] = True
