"""The market model: users, advertisers and chatbot platforms over rounds.

One round (a week) runs five steps in a fixed order:

1. queries: every user with a platform sends its queries, routed among the
   platforms it holds (`agents.users`);
2. auctions: each platform serves its queries through its mechanism, with
   each advertiser's spend capped at its round budget (`agents.platforms`);
3. advertisers: pacing and participation update from the round's spend and
   incremental value (`agents.advertisers`);
4. users: satisfaction, public reputation, then membership revisions;
5. platforms: the round's accounts (revenue, inference cost, profit,
   welfare, KL, participation), then data collection.

All randomness comes from the model's numpy Generator (``rng=``), so a seed
fixes the whole trajectory.
"""

import hashlib
import logging

import mesa
import numpy as np
import pandas as pd

from agents.advertisers import Advertiser, AdvertiserBook
from agents.platforms import Platform
from agents.users import User, UserPopulation
from market import replies
from market.scenario import Scenario, default_scenario
from market.serving import Service
from market.world import build_world

__all__ = ["FLOW_COLUMNS", "PLATFORM_COLUMNS", "STATE_COLUMNS", "MarketModel"]

logger = logging.getLogger(__name__)

# Columns of the per-round platform table: identity, state at the end of the
# round, then the round's flows (empty at round 0, before anything is served).
IDENTITY_COLUMNS = ("round", "platform", "auction")
STATE_COLUMNS = ("membership_share", "churn", "participation", "tau", "gate")
FLOW_COLUMNS = (
    "query_share",
    "queries",
    "ad_revenue",
    "subscription_revenue",
    "revenue",
    "inference_cost",
    "profit",
    "forward_passes_per_query",
    "token_forwards_per_query",
    "mean_user_utility",
    "user_welfare",
    "mean_kl",
    "mean_entropy",
    "sponsored_share",
    "clutter_share",
    "advertiser_value",
    "advertiser_incremental_value",
    "advertiser_surplus",
    "mention_lift",
    "audits",
    "audit_failures",
)
PLATFORM_COLUMNS = IDENTITY_COLUMNS + STATE_COLUMNS + FLOW_COLUMNS


# Per-brand sums kept for each round, by platform: name in `brand_accounts` → `Service` field.
BRAND_ACCOUNTS = {
    "spend": "payments",
    "value": "value",
    "incremental_value": "incremental_value",
    "mention_lift": "mention_lift",
}


BRAND_COLUMNS = ("round", "brand", "category", "incumbent", "platform", *BRAND_ACCOUNTS)


class MarketModel(mesa.Model):
    """A two-sided market of chatbot platforms, users and advertisers.

    Parameters
    ----------
    scenario : market.scenario.Scenario, optional
        Every parameter of the run; the built-in default scenario if omitted.
    rng : int or numpy.random.Generator, optional
        Seed of the run; ``scenario.seed`` if omitted.
    """

    def __init__(self, *, scenario=None, rng=None):
        scenario = default_scenario() if scenario is None else scenario
        if not isinstance(scenario, Scenario):
            raise TypeError(f"scenario must be a market.scenario.Scenario, got {type(scenario).__name__}")
        super().__init__(rng=scenario.seed if rng is None else rng)
        # Mesa 3.5 reserves `Model.scenario` for its experimental Scenario class.
        self.parameters = scenario

        # The world: categories and brands in the intent space.
        self.world = build_world(scenario.embedding, scenario.advertisers, self.rng)

        # Platforms, in scenario order.
        configs = list(scenario.platforms)
        seeds = [platform_seed(scenario.seed, config.name) for config in configs]
        Platform.create_agents(self, len(configs), config=configs, index=np.arange(len(configs)), seed=seeds)
        self.platforms = sorted(self.agents_by_type[Platform], key=lambda platform: platform.index)

        # Users: batch state in arrays, one Mesa agent per user for identity.
        shares = np.array([config.initial_share for config in configs])
        quality = np.array([config.base_quality for config in configs])
        self.users = UserPopulation(scenario.users, shares, quality, self.world.n_categories, self.rng)
        User.create_agents(self, scenario.users.count, index=np.arange(scenario.users.count))

        # Advertisers: one per brand.
        sells_ads = [config.auction != "none" for config in configs]
        self.advertisers = AdvertiserBook(scenario.advertisers, self.world.n_brands, scenario.users.count, sells_ads)
        Advertiser.create_agents(self, self.world.n_brands, brand=np.arange(self.world.n_brands))

        # Data collection: model-level totals and a tidy table, one row per platform and round.
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "outside_share": lambda model: model.outside_share,
                "user_welfare": lambda model: sum(p.accounts["user_welfare"] for p in model.platforms),
                "advertiser_surplus": lambda model: sum(p.accounts["advertiser_surplus"] for p in model.platforms),
            },
            tables={"platforms": list(PLATFORM_COLUMNS), "brands": list(BRAND_COLUMNS)},
        )
        self.brand_accounts = {name: np.zeros((self.world.n_brands, len(configs))) for name in BRAND_ACCOUNTS}
        self.churn = np.full(len(configs), np.nan)
        self._account_platforms(queries=None, service=None)
        self._collect()

    @property
    def round(self):
        """Rounds played so far."""
        return self.steps

    @property
    def outside_share(self):
        """Share of users who hold no platform."""
        if self.users.n_users == 0:
            return float("nan")
        return float(1.0 - self.users.members.any(axis=1).mean())

    def step(self):
        """Play one round: queries → auctions → advertisers → users → platforms."""
        queries = self.users.draw_queries(self.world.centroids, self.parameters.embedding.intent_spread, self.rng)
        service, reached_share = self._run_auctions(queries)
        self._settle_advertisers(queries, service, reached_share)

        self.users.update_satisfaction(queries, service.utility)
        self.users.update_reputation()
        members_before = self.users.members.copy()
        self.users.revise_memberships(self.rng)
        self.churn = churn(members_before, self.users.members)

        self._account_platforms(queries, service)
        for platform in self.platforms:
            platform.adjust()
        self._collect()

    def _run_auctions(self, queries):
        """Serve every query and cap each brand's spend at its round budget.

        Queries are processed in a random order. While some brand's cumulative
        spend in that order exceeds its budget, the brand is removed from the
        query where that happens and every later one, and those queries are
        served again. Cut-off positions only move earlier, so this ends.

        Returns the service and, per brand, the share of its eligible queries
        that came before its cut-off.
        """
        n_queries, budget = len(queries), self.advertisers.budget
        if n_queries == 0:
            return Service.empty(0, self.world.n_brands), np.ones(self.world.n_brands)
        relevances = replies.relevance(queries.intents, self.world.centres, self.world.reaches)
        eligible = self.advertisers.eligibility(queries.platform, self.rng)
        first_eligible = eligible.copy()

        service = Service.empty(n_queries, self.world.n_brands)
        self._serve(service, queries, relevances, eligible, np.arange(n_queries))

        order = self.rng.permutation(n_queries)
        position = np.empty(n_queries, dtype=int)
        position[order] = np.arange(n_queries)
        cutoff = np.full(self.world.n_brands, n_queries)
        while True:
            # Only a brand whose spend over all queries exceeds its budget has a cut-off to find. Payments are
            # >= 0, so the running sum ends at the total; the margin covers the two sums' different rounding.
            capped = np.flatnonzero(service.payments.sum(axis=0) > budget * (1.0 - 1e-6))
            first_over = np.full(self.world.n_brands, n_queries)
            if capped.size:
                cumulative = np.cumsum(service.payments[:, capped][order], axis=0)
                over = cumulative > budget[None, capped]
                first_over[capped] = np.where(over.any(axis=0), over.argmax(axis=0), n_queries)
            new_cutoff = np.minimum(cutoff, first_over)
            if np.array_equal(new_cutoff, cutoff):
                break
            cutoff = new_cutoff
            removed = eligible & (position[:, None] >= cutoff[None, :])
            eligible &= ~removed
            affected = np.flatnonzero(removed.any(axis=1))
            logger.debug("round %d: budget cap re-serves %d queries", self.round, affected.size)
            self._serve(service, queries, relevances, eligible, affected)

        reached = (first_eligible & (position[:, None] < cutoff[None, :])).sum(axis=0)
        offered = first_eligible.sum(axis=0)
        reached_share = np.divide(reached, offered, out=np.ones(self.world.n_brands), where=offered > 0)
        return service, reached_share

    def _serve(self, service, queries, relevances, eligible, index):
        """Serve queries ``index`` on their platforms and write the results into ``service``."""
        for platform in self.platforms:
            rows = index[queries.platform[index] == platform.index]
            if rows.size == 0:
                continue
            result = platform.serve(
                queries.intents[rows],
                queries.category[rows],
                relevances[rows],
                eligible[rows],
                self.world,
                self.parameters.utility,
                self.rng,
            )
            service.assign(rows, result)

    def _settle_advertisers(self, queries, service, reached_share):
        """Sum each brand's round by platform, then update pacing and participation."""
        # Σ over each platform's queries, as one product with the (platforms × queries) indicator matrix.
        on_platform = (queries.platform[None, :] == np.arange(len(self.platforms))[:, None]).astype(float)
        self.brand_accounts = {name: np.ascontiguousarray((on_platform @ getattr(service, per_query)).T)
                               for name, per_query in BRAND_ACCOUNTS.items()}
        self.advertisers.settle(
            self.brand_accounts["spend"], self.brand_accounts["incremental_value"], reached_share, self.round, self.rng
        )

    def _account_platforms(self, queries, service):
        """Store each platform's accounts for the round just played (flows are NaN at round 0)."""
        n_users = max(self.users.n_users, 1)
        members = self.users.members.sum(axis=0)
        total_queries = 0 if queries is None else len(queries)
        for platform in self.platforms:
            config = platform.config
            accounts = {
                "membership_share": members[platform.index] / n_users,
                "churn": float(self.churn[platform.index]),
                "gate": float("nan") if platform.gate is None else platform.gate,
                "tau": platform.tau if config.auction == "mosaic" else float("nan"),
                "participation": (
                    float(self.advertisers.active[:, platform.index].mean())
                    if config.auction != "none" and self.world.n_brands
                    else float("nan")
                ),
            }
            if queries is None:
                accounts.update(dict.fromkeys(FLOW_COLUMNS, float("nan")))
            else:
                rows = queries.platform == platform.index
                accounts.update(platform_accounts(platform, service, rows, members[platform.index], total_queries))
            platform.accounts = accounts

    def _collect(self):
        self.datacollector.collect(self)
        for platform in self.platforms:
            row = {"round": self.round, "platform": platform.name, "auction": platform.config.auction}
            row.update({column: platform.accounts[column] for column in STATE_COLUMNS + FLOW_COLUMNS})
            self.datacollector.add_table_row("platforms", row)
        if self.round == 0:
            return
        for platform in self.platforms:
            if platform.config.auction == "none":
                continue
            for brand in range(self.world.n_brands):
                row = {
                    "round": self.round,
                    "brand": brand,
                    "category": int(self.world.brand_category[brand]),
                    "incumbent": bool(self.world.incumbent[brand]),
                    "platform": platform.name,
                }
                row.update({name: float(self.brand_accounts[name][brand, platform.index]) for name in BRAND_ACCOUNTS})
                self.datacollector.add_table_row("brands", row)

    def brand_timeseries(self):
        """Return the tidy per-round table of each brand on each ad platform (spend, value, influence)."""
        return self.datacollector.get_table_dataframe("brands")

    def timeseries(self):
        """Return the tidy per-round table, with the outside option as a row per round."""
        table = self.datacollector.get_table_dataframe("platforms")
        outside = self.datacollector.get_model_vars_dataframe()["outside_share"]
        outside_rows = table.groupby("round", as_index=False).first()[["round"]]
        outside_rows["platform"] = "outside"
        outside_rows["auction"] = "outside"
        outside_rows["membership_share"] = outside.to_numpy()[: len(outside_rows)]
        combined = pd.concat([table, outside_rows], ignore_index=True)
        return combined.sort_values(["round", "platform"], kind="stable").reset_index(drop=True)


def platform_accounts(platform, service, rows, n_members, total_queries):
    """Return one platform's accounts for a round from the service of its queries ``rows``."""
    config = platform.config
    n_queries = int(rows.sum())
    payments = service.payments[rows]
    ad_revenue = float(payments.sum())
    subscription_revenue = float(n_members * config.paying_share * config.subscription_price)
    inference_cost = float(service.inference_cost[rows].sum())
    incremental_value = float(service.incremental_value[rows].sum())
    utility = service.utility[rows]
    return {
        "query_share": n_queries / total_queries if total_queries else float("nan"),
        "queries": n_queries,
        "ad_revenue": ad_revenue,
        "subscription_revenue": subscription_revenue,
        "revenue": ad_revenue + subscription_revenue,
        "inference_cost": inference_cost,
        "profit": ad_revenue + subscription_revenue - inference_cost,
        "forward_passes_per_query": _mean(service.forward_passes[rows]),
        "token_forwards_per_query": _mean(service.token_forwards[rows]),
        "mean_user_utility": _mean(utility),
        "user_welfare": float(utility.sum()),
        "mean_kl": _mean(service.kl[rows]),
        "mean_entropy": _mean(service.entropy[rows]),
        "sponsored_share": _mean(service.sponsored[rows]),
        "clutter_share": _mean(service.cluttered[rows]),
        "advertiser_value": float(service.value[rows].sum()),
        "advertiser_incremental_value": incremental_value,
        "advertiser_surplus": incremental_value - ad_revenue,
        "mention_lift": float(service.mention_lift[rows].sum()),
        "audits": int(service.audited[rows].sum()),
        "audit_failures": int(service.audit_failed[rows].sum()),
    }


def _mean(values):
    """Return the mean of ``values``, or NaN when there are none."""
    return float(values.mean()) if values.size else float("nan")


def platform_seed(scenario_seed, name):
    """Return a platform's seed for keyed draws: 64 bits of SHA-256 over the run's seed and its name."""
    digest = hashlib.sha256(f"{scenario_seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def churn(before, after):
    """Return per platform the share of members before a revision who no longer hold it after (NaN if none)."""
    held = before.sum(axis=0)
    lost = (before & ~after).sum(axis=0)
    return np.divide(lost, held, out=np.full(held.shape, np.nan), where=held > 0)
