"""Market model: reproducibility, invariants, budgets and user dynamics."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agents.advertisers import Advertiser
from agents.platforms import Platform
from agents.users import User
from market import replies
from market.model import MarketModel
from market.scenario import default_scenario

SMALL = {"users.count": 1500, "rounds": 8}


def small_scenario(**overrides):
    return default_scenario().with_overrides({**SMALL, **overrides})


def run(scenario, rounds=None):
    model = MarketModel(scenario=scenario)
    for _ in range(scenario.rounds if rounds is None else rounds):
        model.step()
    return model


def test_same_seed_same_timeseries():
    first = run(small_scenario(seed=7)).timeseries()
    second = run(small_scenario(seed=7)).timeseries()
    pd.testing.assert_frame_equal(first, second)


def test_different_seeds_differ():
    first = run(small_scenario(seed=7)).timeseries()
    second = run(small_scenario(seed=8)).timeseries()
    assert not first["membership_share"].equals(second["membership_share"])


def test_rng_argument_overrides_seed():
    scenario = small_scenario(seed=7)
    first = MarketModel(scenario=scenario, rng=99)
    second = MarketModel(scenario=scenario.with_overrides({"seed": 99}))
    first.step()
    second.step()
    pd.testing.assert_frame_equal(first.timeseries(), second.timeseries())


def test_agents_are_mesa_agents():
    model = MarketModel(scenario=small_scenario())
    assert len(model.agents_by_type[User]) == 1500
    assert len(model.agents_by_type[Advertiser]) == model.world.n_brands == 30
    assert len(model.agents_by_type[Platform]) == 3
    user = model.agents_by_type[User][0]
    assert set(user.memberships) <= {"mosaic", "embedding", "ad_free"}


def test_shares_and_memberships_consistent():
    model = MarketModel(scenario=small_scenario())
    for _ in range(6):
        model.step()
        members = model.users.members
        held = members.sum(axis=1)
        table = model.timeseries()
        latest = table[table["round"] == model.round].set_index("platform")
        assert np.all(held <= model.users.capacity)
        assert np.all((held <= 1) | (model.users.capacity >= 2))
        assert latest["membership_share"].between(0, 1).all()
        assert latest.loc["outside", "membership_share"] == pytest.approx(1 - members.any(axis=1).mean())
        for platform in model.platforms:
            assert latest.loc[platform.name, "membership_share"] == pytest.approx(members[:, platform.index].mean())
        query_shares = latest.drop("outside")["query_share"]
        assert query_shares.sum() == pytest.approx(1.0)


def test_queries_only_from_members():
    model = MarketModel(scenario=small_scenario())
    queries = model.users.draw_queries(model.world.centroids, 0.5, model.rng)
    assert np.all(model.users.members[queries.user, queries.platform])


def test_spend_never_exceeds_budget():
    # A budget small enough that the cap binds in every round.
    scenario = small_scenario(**{"advertisers.budget_per_1000_users": 0.5})
    model = MarketModel(scenario=scenario)
    capped_rounds = 0
    for _ in range(6):
        model.step()
        spend = model.advertisers.last_spend.sum(axis=1)
        assert np.all(spend <= model.advertisers.budget + 1e-12)
        capped_rounds += np.any(spend > 0.9 * model.advertisers.budget)
    assert capped_rounds == 6


def test_pacing_throttles_under_tight_budget():
    scenario = small_scenario(**{"advertisers.budget_per_1000_users": 0.5})
    model = run(scenario, rounds=6)
    assert model.advertisers.pacing.min() < 0.5
    loose = run(small_scenario(**{"advertisers.budget_per_1000_users": 1e6}), rounds=3)
    assert np.all(loose.advertisers.pacing == 1.0)


def test_advertisers_leave_below_hurdle_and_return():
    scenario = small_scenario(
        **{"advertisers.hurdle": 1e6, "advertisers.window": 2, "advertisers.cooldown": 3}
    )
    model = MarketModel(scenario=scenario)
    mosaic = model.platforms[0]
    participation = []
    for _ in range(8):
        model.step()
        participation.append(mosaic.accounts["participation"])
    # Full window after round 2: brands that spent leave, and return three rounds later.
    assert participation[0] == 1.0
    assert participation[1] < 0.5
    assert participation[4] > participation[1]


def test_forward_pass_accounting():
    model = run(small_scenario(), rounds=1)
    accounts = {platform.name: platform.accounts for platform in model.platforms}
    tokens = model.parameters.platforms[0].reply_tokens
    assert accounts["ad_free"]["forward_passes_per_query"] == tokens
    assert accounts["embedding"]["forward_passes_per_query"] == tokens + 1
    # M·(L + n + 1) with n between 0 and the 5 brands of a category.
    mosaic = accounts["mosaic"]["forward_passes_per_query"]
    assert 20 * (tokens + 1) <= mosaic <= 20 * (tokens + 6)
    cost_per_pass = model.parameters.platforms[0].cost_per_query / tokens
    expected_cost = mosaic * accounts["mosaic"]["queries"] * cost_per_pass
    assert accounts["mosaic"]["inference_cost"] == pytest.approx(expected_cost)


def test_kl_only_on_mosaic():
    model = run(small_scenario(), rounds=1)
    accounts = {platform.name: platform.accounts for platform in model.platforms}
    assert accounts["mosaic"]["mean_kl"] > 0
    assert accounts["embedding"]["mean_kl"] == 0
    assert accounts["ad_free"]["mean_kl"] == 0
    assert accounts["ad_free"]["ad_revenue"] == 0


def test_worse_platform_loses_users():
    scenario = small_scenario(**{"rounds": 20, "platforms.embedding.base_quality": -1.5})
    table = run(scenario).timeseries()
    share = table[table["platform"] == "embedding"]
    slope = stats.linregress(share["round"], share["membership_share"]).slope
    assert slope < 0


def test_no_ads_keeps_shares_near_start():
    """With every platform ad-free, the default base qualities hold the round-0 shares."""
    scenario = default_scenario().with_overrides(
        {
            "users.count": 3000,
            "rounds": 30,
            "seed": 1,
            "platforms.mosaic.auction": "none",
            "platforms.embedding.auction": "none",
        }
    )
    table = run(scenario).timeseries()
    start = table[table["round"] == 0].set_index("platform")["membership_share"]
    end = table[table["round"] == 30].set_index("platform")["membership_share"]
    assert (end - start).abs().max() < 0.08


def test_zero_users_runs():
    model = run(small_scenario(**{"users.count": 0}), rounds=2)
    assert model.timeseries()["queries"].fillna(0).sum() == 0


def test_single_user_runs():
    model = run(small_scenario(**{"users.count": 1}), rounds=3)
    assert model.users.members.shape == (1, 3)


def test_token_forward_accounting():
    model = run(small_scenario(), rounds=1)
    accounts = {platform.name: platform.accounts for platform in model.platforms}
    tokens = model.parameters.platforms[0].reply_tokens
    embedding_tokens = model.parameters.platforms[1].embedding_tokens
    assert accounts["ad_free"]["token_forwards_per_query"] == tokens
    assert accounts["embedding"]["token_forwards_per_query"] == tokens + embedding_tokens
    # M·L·(n + 2) with n between 0 and 5.
    assert 20 * tokens * 2 <= accounts["mosaic"]["token_forwards_per_query"] <= 20 * tokens * 7


def test_token_accounting_prices_dollars():
    scenario = small_scenario(**{"platforms.mosaic.cost_accounting": "token_forwards"})
    model = run(scenario, rounds=1)
    accounts = model.platforms[0].accounts
    per_unit = model.parameters.platforms[0].cost_per_query / model.parameters.platforms[0].reply_tokens
    expected = accounts["token_forwards_per_query"] * accounts["queries"] * per_unit
    assert accounts["inference_cost"] == pytest.approx(expected)


def test_audits_catch_hidden_tau():
    honest = run(small_scenario(**{"platforms.mosaic.audit_rate": 0.2}), rounds=2)
    cheating = run(
        small_scenario(**{"platforms.mosaic.audit_rate": 0.2, "platforms.mosaic.tau_actual": 0.01}), rounds=2
    )
    assert honest.platforms[0].accounts["audits"] > 50
    assert honest.platforms[0].accounts["audit_failures"] == 0
    assert cheating.platforms[0].accounts["audit_failures"] > 0.9 * cheating.platforms[0].accounts["audits"]


def test_hidden_tau_raises_kl():
    honest = run(small_scenario(), rounds=1).platforms[0].accounts
    cheating = run(small_scenario(**{"platforms.mosaic.tau_actual": 0.01}), rounds=1).platforms[0].accounts
    assert cheating["mean_kl"] > honest["mean_kl"]
    assert cheating["tau"] == honest["tau"] == 0.05


def serve_once(scenario, rng_seed):
    """Serve one fixed batch of queries on the MOSAIC platform with a given Generator."""
    model = MarketModel(scenario=scenario)
    queries = model.users.draw_queries(model.world.centroids, 0.5, np.random.default_rng(0))
    relevances = replies.relevance(queries.intents, model.world.centres, model.world.reaches)
    eligible = np.ones((len(queries), model.world.n_brands), bool)
    return model.platforms[0].serve(
        queries.intents, queries.category, relevances, eligible, model.world, scenario.utility,
        np.random.default_rng(rng_seed),
    )


def test_reproducible_platform_repeats_replies():
    scenario = small_scenario(**{"platforms.mosaic.reproducible": True})
    first, second = serve_once(scenario, 1), serve_once(scenario, 2)
    np.testing.assert_array_equal(first.utility, second.utility)
    np.testing.assert_array_equal(first.payments, second.payments)
    ordinary = small_scenario()
    assert not np.array_equal(serve_once(ordinary, 1).utility, serve_once(ordinary, 2).utility)


def test_separation_avoids_rival_mentions():
    scenario = small_scenario(**{"platforms.mosaic.separation": True})
    separated = serve_once(scenario, 1)
    plain = serve_once(small_scenario(), 1)
    # Rival brands named together cost clutter; separation removes them from ad-steered replies.
    assert separated.utility.mean() > plain.utility.mean()
    assert separated.payments.sum() > 0


def test_keyword_platform_sells_category_ads():
    model = run(small_scenario(**{"platforms.embedding.auction": "keyword"}), rounds=2)
    accounts = model.platforms[1].accounts
    assert accounts["ad_revenue"] > 0
    assert accounts["sponsored_share"] > 0.9
    assert accounts["forward_passes_per_query"] == model.parameters.platforms[1].reply_tokens


def test_keyword_bids_follow_category_relevance():
    world = MarketModel(scenario=small_scenario()).world
    assert world.category_relevance.shape == (world.n_brands,)
    assert np.all((world.category_relevance > 0) & (world.category_relevance < 1))


def test_two_slots_sell_more():
    one = run(small_scenario(), rounds=1).platforms[1].accounts
    two = run(small_scenario(**{"platforms.embedding.slots": 2}), rounds=1).platforms[1].accounts
    assert two["advertiser_incremental_value"] > one["advertiser_incremental_value"]
    assert two["mean_user_utility"] < one["mean_user_utility"]


def test_gate_loop_holds_ad_rate():
    scenario = small_scenario(**{"rounds": 40, "platforms.embedding.ad_rate_target": 0.6})
    table = run(scenario).timeseries()
    embedding = table[(table["platform"] == "embedding") & (table["round"] > 25)]
    assert embedding["sponsored_share"].mean() == pytest.approx(0.6, abs=0.05)
    assert embedding["gate"].between(0, 4).all()


def test_participation_cost_drives_brands_out():
    scenario = small_scenario(
        **{"advertisers.participation_cost_per_1000_users": 1e6, "advertisers.window": 2, "advertisers.cooldown": 10_000,
           "rounds": 3}
    )
    model = run(scenario)
    assert model.platforms[0].accounts["participation"] == 0.0
    assert model.platforms[1].accounts["participation"] == 0.0
    assert np.all(model.advertisers.active[:, 2])
