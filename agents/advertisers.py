r"""Advertisers: one per brand, with budgets, pacing and participation.

Each `Advertiser` is a Mesa agent that stores its brand's identity. Budgets,
pacing rates and per-platform participation live in the arrays of
`AdvertiserBook`, one row per brand. Reports are truthful: a participating
advertiser reports its true reward function to MOSAIC and its true centre,
reach and value to the embedding auction.

Budget and pacing. Brand i has a budget B_i per round (dollars), shared by all
platforms. It enters each auction it is eligible for with probability θ_i
(probabilistic throttling, which keeps every report truthful). The model
processes a round's queries in a random order and removes brand i from every
query after the one at which its cumulative spend would pass B_i, so spend
never exceeds the budget. After the round,

.. math::

    θ_i ← \mathrm{clip}\big(θ_i\,(B_i / \hat S_i)^{η},\ θ_{min},\ 1\big),

where Ŝ_i is the spend the brand would have reached over the whole round at
its current θ_i (its spend divided by the share of its queries reached before
the cap) and η is the pacing step. Spend thus settles near the budget.

Participation. On each ad platform a brand tracks, over the last W rounds, its
return on spend (incremental value delivered divided by payments) and its
surplus (incremental value minus payments). After W full rounds it leaves the
platform if the return is below the hurdle, or if its surplus per round is
below the participation cost (the cost of running a campaign there). Each
later round it returns with probability 1/cooldown, a geometric wait with a
mean of `cooldown` rounds (at least one), and starts a fresh window. Random
waits keep brands that left together from returning in lockstep. A window
with no spend passes the hurdle, so only the participation cost can end it.
"""

import mesa
import numpy as np

__all__ = ["Advertiser", "AdvertiserBook"]

MIN_PACING = 0.01


class Advertiser(mesa.Agent):
    """An advertiser; its brand's state is row ``brand`` of the book's arrays."""

    def __init__(self, model, brand):
        super().__init__(model)
        self.brand = int(brand)

    @property
    def category(self):
        return int(self.model.world.brand_category[self.brand])

    @property
    def incumbent(self):
        return bool(self.model.world.incumbent[self.brand])

    @property
    def budget(self):
        """Budget per round in dollars."""
        return float(self.model.advertisers.budget[self.brand])

    @property
    def participating(self):
        """Whether the brand takes part in each platform's auction, by platform name."""
        row = self.model.advertisers.active[self.brand]
        return {platform.config.name: bool(row[platform.index]) for platform in self.model.platforms}


class AdvertiserBook:
    """Budgets, pacing rates and participation of every brand.

    Parameters
    ----------
    config : market.scenario.AdvertisersConfig
    n_brands : int
    n_users : int
        Users in the market; the budget scales with them.
    sells_ads : ndarray of bool, shape (P,)
        Platforms that run an auction; participation rules apply only there.
    """

    def __init__(self, config, n_brands, n_users, sells_ads):
        self.config = config
        self.sells_ads = np.asarray(sells_ads, dtype=bool)
        n_platforms = self.sells_ads.size
        self.budget = np.full(n_brands, config.budget_per_1000_users * n_users / 1000.0)
        self.participation_cost = config.participation_cost_per_1000_users * n_users / 1000.0
        self.pacing = np.ones(n_brands)
        self.active = np.ones((n_brands, n_platforms), dtype=bool)
        self.rounds_in = np.zeros((n_brands, n_platforms), dtype=int)
        self.spend_history = np.zeros((config.window, n_brands, n_platforms))
        self.value_history = np.zeros((config.window, n_brands, n_platforms))
        self.return_on_spend = np.full((n_brands, n_platforms), np.inf)
        self.last_spend = np.zeros((n_brands, n_platforms))

    def eligibility(self, query_platform, rng):
        """Return which brands enter each query's auction, shape (Q, B).

        A brand enters when it participates on the query's platform, has a
        budget, and passes its throttling draw (probability θ_i).
        """
        throttled = rng.random((query_platform.size, self.budget.size)) < self.pacing[None, :]
        return throttled & self.active.T[query_platform] & (self.budget > 0)[None, :]

    def settle(self, spend, incremental_value, reached_share, round_index, rng):
        """Update pacing and participation from one round's outcome.

        Parameters
        ----------
        spend, incremental_value : ndarray, shape (B, P)
            Payments and incremental value in dollars this round, by platform.
        reached_share : ndarray, shape (B,)
            Share of each brand's eligible queries processed before its budget ran out.
        round_index : int
            The round just played, counting from 1.
        rng : numpy.random.Generator
            Source of the return draws.
        """
        config = self.config
        self.last_spend = spend

        # Pacing toward the spend the brand would have reached without the cap.
        projected = spend.sum(axis=1) / np.maximum(reached_share, 1e-9)
        ratio = np.divide(self.budget, projected, out=np.full_like(projected, np.inf), where=projected > 0)
        with np.errstate(over="ignore"):
            self.pacing = np.clip(self.pacing * ratio**config.pacing_step, MIN_PACING, 1.0)

        # Return on spend over the last W rounds, per platform.
        slot = round_index % config.window
        self.spend_history[slot] = np.where(self.active, spend, 0.0)
        self.value_history[slot] = np.where(self.active, incremental_value, 0.0)
        self.rounds_in = np.where(self.active, self.rounds_in + 1, 0)
        window_spend = self.spend_history.sum(axis=0)
        window_value = self.value_history.sum(axis=0)
        return_on_spend = np.divide(window_value, window_spend, out=np.full_like(window_spend, np.inf), where=window_spend > 0)

        # Leave after a full window below the hurdle or the participation cost; come back after the cooldown.
        surplus_per_round = (window_value - window_spend) / config.window
        unprofitable = (return_on_spend < config.hurdle) | (surplus_per_round < self.participation_cost)
        leaving = self.active & (self.rounds_in >= config.window) & unprofitable & self.sells_ads[None, :]
        returning = ~self.active & (rng.random(self.active.shape) < 1.0 / max(config.cooldown, 1))
        self.active = (self.active & ~leaving) | returning
        self.spend_history[:, returning] = 0.0
        self.value_history[:, returning] = 0.0
        self.return_on_spend = return_on_spend
