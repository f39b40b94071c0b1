"""The user rules of `agents.users` written the plain Mesa way: one Python call per user per round.

This is the reference that `benchmarks.run` times the project's batched
`UserPopulation` against, and whose aggregate results it compares. Both run
a users-only market: no auctions, and a reply on platform p is worth
q_p + h with helpfulness h ~ N(0, 1), so the user rules are all that runs.

`ReferenceUser.step` applies the rules of `agents.users` to one user:

1. queries: Poisson(λ) queries if the user holds a platform, each with a
   category from its interests and an intent near that category's centroid,
   routed to a held platform with probability ∝ exp(η S);
2. satisfaction: S ← (1 − α) S + α ū per platform used (ū on first use);
3. membership: with probability ``revision_rate``, re-choose platforms among
   those held, held by a neighbour, or heard of publicly, by Gumbel-perturbed
   value against the outside option, up to the user's capacity.

The model calls ``self.agents.shuffle_do("step")``, so users act one after
another in random order and a user may see a neighbour's state from this
round (the batched model updates every user at once). Public reputation is
updated once per round, after all users have acted.
"""

import mesa
import numpy as np

from agents.users import UserPopulation
from market.world import build_world, sample_near

__all__ = ["ReferenceUser", "ReferenceUsersModel", "batched_users_round", "users_only_setup"]


def users_only_setup(scenario, seed):
    """Return (population, centroids, qualities): the batched users at round 0 and what their rounds need."""
    rng = np.random.default_rng(seed)
    world = build_world(scenario.embedding, scenario.advertisers, rng)
    shares = np.array([platform.initial_share for platform in scenario.platforms])
    qualities = np.array([platform.base_quality for platform in scenario.platforms])
    population = UserPopulation(scenario.users, shares, qualities, world.n_categories, rng)
    return population, world.centroids, qualities, rng


def batched_users_round(population, centroids, qualities, intent_spread, rng):
    """Play one users-only round with the project's batched rules; return the membership shares."""
    queries = population.draw_queries(centroids, intent_spread, rng)
    utility = qualities[queries.platform] + rng.standard_normal(len(queries))
    population.update_satisfaction(queries, utility)
    population.update_reputation()
    population.revise_memberships(rng)
    return population.members.mean(axis=0)


class ReferenceUser(mesa.Agent):
    """One user with its own state, updated by one `step` call per round."""

    def __init__(self, model, index, population):
        super().__init__(model)
        self.index = index
        self.cumulative_interests = population.cumulative_interests[index].copy()
        self.elasticity = float(population.elasticity[index])
        self.capacity = int(population.capacity[index])
        self.switching_cost = float(population.switching_cost[index])
        self.members = population.members[index].copy()
        self.satisfaction = population.satisfaction[index].copy()
        self.experienced = population.experienced[index].copy()
        self.neighbours = []

    def step(self):
        """Route this round's queries, update satisfaction, then maybe revise memberships."""
        self.route_queries()
        if self.model.rng.random() < self.model.config.revision_rate:
            self.revise()

    def route_queries(self):
        model, rng = self.model, self.model.rng
        held = np.flatnonzero(self.members)
        if held.size == 0:
            return
        count = rng.poisson(model.config.queries_per_round)
        if count == 0:
            return
        categories = np.minimum((self.cumulative_interests[None, :] <= rng.random(count)[:, None]).sum(axis=1),
                                model.centroids.shape[0] - 1)
        sample_near(model.centroids[categories], model.intent_spread, rng)
        totals = np.zeros(self.members.size)
        counts = np.zeros(self.members.size)
        utility = self.elasticity * self.satisfaction[held]
        weights = np.exp(utility - utility.max())
        for _ in range(count):
            platform = held[rng.choice(held.size, p=weights / weights.sum())]
            totals[platform] += model.qualities[platform] + rng.standard_normal()
            counts[platform] += 1
        used = counts > 0
        mean = totals[used] / counts[used]
        alpha = np.where(self.experienced[used], model.config.satisfaction_memory, 1.0)
        self.satisfaction[used] = (1 - alpha) * self.satisfaction[used] + alpha * mean
        self.experienced[used] = True

    def revise(self):
        model, rng, config = self.model, self.model.rng, self.model.config
        n_platforms = self.members.size
        holders = np.zeros(n_platforms)
        neighbour_satisfaction = np.zeros(n_platforms)
        for neighbour in self.neighbours:
            holders += neighbour.members
            neighbour_satisfaction += np.where(neighbour.members, neighbour.satisfaction, 0.0)
        word_of_mouth = np.divide(neighbour_satisfaction, holders, out=np.zeros(n_platforms), where=holders > 0)

        aware = self.members | (holders > 0) | (rng.random(n_platforms) < config.public_awareness)
        expected = np.where(self.experienced, self.satisfaction,
                            np.where(holders > 0, word_of_mouth, model.reputation))
        value = expected + self.switching_cost * self.members
        scale = 1.0 / max(self.elasticity, 1e-12)
        noisy = np.where(aware, value + scale * rng.gumbel(size=n_platforms), -np.inf)
        outside = config.outside_utility + scale * rng.gumbel()
        rank = np.argsort(np.argsort(-noisy))
        chosen = (noisy > outside) & (rank < self.capacity)
        adopted = chosen & ~self.experienced
        self.satisfaction = np.where(adopted, expected, self.satisfaction)
        self.members = chosen


class ReferenceUsersModel(mesa.Model):
    """A users-only market of `ReferenceUser` agents, started from the batched population's round-0 state."""

    def __init__(self, scenario, seed):
        population, centroids, qualities, rng = users_only_setup(scenario, seed)
        super().__init__(rng=int(rng.integers(2**63)))
        self.config = scenario.users
        self.centroids = centroids
        self.qualities = qualities
        self.intent_spread = scenario.embedding.intent_spread
        self.reputation = population.reputation.copy()
        self.users = [ReferenceUser(self, index, population) for index in range(population.n_users)]
        adjacency = population.adjacency.tocsr()
        for user in self.users:
            user.neighbours = [self.users[j] for j in adjacency.indices[adjacency.indptr[user.index]:
                                                                        adjacency.indptr[user.index + 1]]]

    def step(self):
        """Play one round: every user acts once in random order, then public reputation is updated."""
        self.agents.shuffle_do("step")
        members = np.array([user.members for user in self.users])
        satisfaction = np.array([user.satisfaction for user in self.users])
        experienced = np.array([user.experienced for user in self.users])
        judges = members & experienced
        counts = judges.sum(axis=0)
        totals = np.where(judges, satisfaction, 0.0).sum(axis=0)
        self.reputation = np.where(counts > 0, totals / np.maximum(counts, 1), self.reputation)

    def membership_shares(self):
        return np.array([user.members for user in self.users]).mean(axis=0)
