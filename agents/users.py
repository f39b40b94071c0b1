r"""Chatbot users: demand, satisfaction and platform choice.

Each `User` is a Mesa agent that stores its identity. The state a round updates
for all users at once lives in the arrays of `UserPopulation`, one row per
user. The rules, in the order the model applies them each round:

1. Queries. A user holding at least one platform sends Poisson(λ) queries,
   each of a category drawn from its interests, with intent x drawn near the
   category centroid. Each query goes to one held platform p with
   probability ∝ exp(η_u S_{u,p}) (logit routing on satisfaction).
2. Satisfaction. After the round, S_{u,p} ← (1 − α) S_{u,p} + α ū_{u,p},
   with ū the mean utility of the user's replies on p this round. The first
   experience of a platform sets S_{u,p} = ū.
3. Membership. With probability `revision_rate` a user reconsiders. Its
   options are the platforms it holds, those a neighbour holds, each other
   platform with probability `public_awareness`, and the outside option.
   It values an option by its own satisfaction if it has used it, else by
   its neighbours' mean satisfaction (word of mouth), else by the platform's
   public reputation (mean satisfaction of its members). Held platforms get
   the switching cost as a premium. With Gumbel noise of scale 1/η_u (the
   random-utility form of the multinomial logit) the user keeps the options
   whose noisy value beats the outside option's, at most its capacity of
   them, highest first. Single-homers have capacity 1.
"""

import mesa
import networkx as nx
import numpy as np
import scipy.sparse

from market.sampling import categorical
from market.world import sample_near

__all__ = ["QueryBatch", "User", "UserPopulation"]


class User(mesa.Agent):
    """A chatbot user; its round-to-round state is row ``index`` of the population arrays."""

    def __init__(self, model, index):
        super().__init__(model)
        self.index = int(index)

    @property
    def memberships(self):
        """Names of the platforms this user holds."""
        held = self.model.users.members[self.index]
        return [platform.config.name for platform in self.model.platforms if held[platform.index]]

    @property
    def satisfaction(self):
        """Satisfaction S_{u,p} by platform name."""
        row = self.model.users.satisfaction[self.index]
        return {platform.config.name: float(row[platform.index]) for platform in self.model.platforms}


class QueryBatch:
    """The queries of one round, one entry per query.

    Attributes
    ----------
    user, platform, category : ndarray of int, shape (Q,)
    intents : ndarray, shape (Q, d)
        Unit vectors x.
    """

    def __init__(self, user, platform, category, intents):
        self.user = user
        self.platform = platform
        self.category = category
        self.intents = intents

    def __len__(self):
        return self.user.size


class UserPopulation:
    """State of every user in arrays, and the batched rules that update it.

    Parameters
    ----------
    config : market.scenario.UsersConfig
    initial_shares : ndarray, shape (P,)
        Share of users whose main platform is p at round 0; the rest start outside.
    base_quality : ndarray, shape (P,)
        q_p, the starting public reputation before anyone has used a platform.
    n_categories : int
    rng : numpy.random.Generator
    """

    def __init__(self, config, initial_shares, base_quality, n_categories, rng):
        self.config = config
        n_users, n_platforms = config.count, initial_shares.size

        # Fixed traits: interests, choice sensitivity, capacity, switching cost.
        interests = rng.dirichlet(np.full(n_categories, config.interest_concentration), size=n_users)
        self.cumulative_interests = np.cumsum(interests, axis=1)
        self.elasticity = config.elasticity * np.exp(
            config.elasticity_dispersion * rng.standard_normal(n_users) - config.elasticity_dispersion**2 / 2
        )
        multihoming = rng.random(n_users) < config.multihoming_share
        max_capacity = max(config.max_platforms, 1)
        self.capacity = np.where(
            multihoming & (max_capacity >= 2), rng.integers(2, max(max_capacity, 2) + 1, n_users), 1
        )
        self.switching_cost = np.full(n_users, config.switching_cost)

        # Social graph: Watts–Strogatz small world as a sparse adjacency matrix.
        self.adjacency = neighbour_matrix(n_users, config.neighbours, config.rewiring, rng)

        # Round-0 memberships: a main platform by share, plus a second one for multi-homers.
        self.members = initial_memberships(initial_shares, self.capacity, rng)
        self.satisfaction = np.tile(np.asarray(base_quality, float), (n_users, 1))
        self.experienced = np.zeros((n_users, n_platforms), dtype=bool)
        self.reputation = np.asarray(base_quality, float).copy()

    @property
    def n_users(self):
        return self.members.shape[0]

    def draw_queries(self, centroids, intent_spread, rng):
        """Draw this round's queries: counts, categories, intents and the platform each goes to."""
        active = self.members.any(axis=1)
        counts = np.where(active, rng.poisson(self.config.queries_per_round, self.n_users), 0)
        user = np.repeat(np.arange(self.n_users), counts)

        # Category by inverse CDF on the user's interests, intent near its centroid.
        uniforms = rng.random(user.size)
        category = (self.cumulative_interests[user] <= uniforms[:, None]).sum(axis=1)
        category = np.minimum(category, centroids.shape[0] - 1)
        intents = sample_near(centroids[category], intent_spread, rng)

        # Logit routing among held platforms: P(p) ∝ exp(η_u S_{u,p}).
        utility = self.elasticity[user, None] * self.satisfaction[user]
        utility = np.where(self.members[user], utility, -np.inf)
        weights = np.exp(utility - utility.max(axis=1, keepdims=True))
        platform = categorical(weights, rng)
        return QueryBatch(user=user, platform=platform, category=category, intents=intents)

    def update_satisfaction(self, queries, utility):
        """Fold this round's mean reply utility per (user, platform) into S with weight α."""
        n_platforms = self.members.shape[1]
        cell = queries.user * n_platforms + queries.platform
        size = self.n_users * n_platforms
        # An empty weighted bincount comes back as int64, hence the cast.
        totals = np.bincount(cell, weights=utility, minlength=size).astype(float).reshape(self.n_users, n_platforms)
        counts = np.bincount(cell, minlength=size).reshape(self.n_users, n_platforms)

        used = counts > 0
        mean_utility = np.divide(totals, counts, out=np.zeros_like(totals), where=used)
        alpha = np.where(self.experienced, self.config.satisfaction_memory, 1.0)
        self.satisfaction = np.where(used, (1 - alpha) * self.satisfaction + alpha * mean_utility, self.satisfaction)
        self.experienced |= used

    def update_reputation(self):
        """Set each platform's public reputation to its experienced members' mean satisfaction."""
        judges = self.members & self.experienced
        counts = judges.sum(axis=0)
        totals = np.where(judges, self.satisfaction, 0.0).sum(axis=0)
        self.reputation = np.where(counts > 0, totals / np.maximum(counts, 1), self.reputation)

    def revise_memberships(self, rng):
        """Let a random share of users re-choose their platforms by noisy logit against the outside option."""
        config = self.config
        reviser = np.flatnonzero(rng.random(self.n_users) < config.revision_rate)
        if reviser.size == 0:
            return
        held = self.members[reviser]

        # Word of mouth: how many neighbours hold p, and their mean satisfaction with it.
        neighbours = self.adjacency[reviser]
        neighbour_members = neighbours @ self.members.astype(float)
        neighbour_satisfaction = neighbours @ np.where(self.members, self.satisfaction, 0.0)
        word_of_mouth = np.divide(
            neighbour_satisfaction, neighbour_members, out=np.zeros_like(neighbour_members), where=neighbour_members > 0
        )

        # Options the user knows of, and the value it expects from each.
        heard_publicly = rng.random(held.shape) < config.public_awareness
        aware = held | (neighbour_members > 0) | heard_publicly
        expected = np.where(
            self.experienced[reviser],
            self.satisfaction[reviser],
            np.where(neighbour_members > 0, word_of_mouth, self.reputation[None, :]),
        )
        value = expected + self.switching_cost[reviser, None] * held

        # Random utility with Gumbel noise of scale 1/η: the logit choice model.
        scale = 1.0 / np.maximum(self.elasticity[reviser], 1e-12)
        noisy = np.where(aware, value + scale[:, None] * rng.gumbel(size=held.shape), -np.inf)
        outside = config.outside_utility + scale * rng.gumbel(size=reviser.size)

        # Keep the options above the outside option, best first, up to capacity.
        rank = np.argsort(np.argsort(-noisy, axis=1), axis=1)
        chosen = (noisy > outside[:, None]) & (rank < self.capacity[reviser, None])
        self.members[reviser] = chosen

        # A platform adopted without experience starts at the value the user expected.
        adopted = chosen & ~self.experienced[reviser]
        self.satisfaction[reviser] = np.where(adopted, expected, self.satisfaction[reviser])


def neighbour_matrix(n_users, neighbours, rewiring, rng):
    """Return the Watts–Strogatz small-world graph on the users as a sparse CSR adjacency."""
    if n_users == 0:
        return scipy.sparse.csr_array((0, 0))
    degree = min(neighbours, n_users - 1 - (n_users - 1) % 2)
    seed = int(rng.integers(2**32))
    if degree <= 0:
        graph = nx.empty_graph(n_users)
    else:
        graph = nx.watts_strogatz_graph(n_users, degree, rewiring, seed=seed)
    return nx.to_scipy_sparse_array(graph, nodelist=range(n_users), format="csr", dtype=float)


def initial_memberships(shares, capacity, rng):
    """Assign round-0 platforms: a main one with probability ``shares[p]``, else none.

    A multi-homing user (capacity >= 2) with a main platform also joins a
    second one, drawn in proportion to the other platforms' shares.
    """
    n_users, n_platforms = capacity.size, shares.size
    members = np.zeros((n_users, n_platforms), dtype=bool)
    if n_users == 0 or n_platforms == 0:
        return members
    options = np.append(shares, max(0.0, 1.0 - shares.sum()))
    main = rng.choice(n_platforms + 1, size=n_users, p=options / options.sum())
    has_main = main < n_platforms
    members[np.flatnonzero(has_main), main[has_main]] = True

    second_weights = np.where(members, 0.0, shares[None, :])
    total = second_weights.sum(axis=1)
    multihomer = np.flatnonzero(has_main & (capacity >= 2) & (total > 0))
    if multihomer.size:
        members[multihomer, categorical(second_weights[multihomer], rng)] = True
    return members
