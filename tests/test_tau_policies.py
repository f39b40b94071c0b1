"""τ policies: each moves τ in the direction its rule says, alone and inside the market."""

import math

import numpy as np
import pytest
from scipy import stats

from agents.tau_policies import make_policy
from market.model import MarketModel
from market.scenario import PlatformConfig, default_scenario


def config(**overrides):
    settings = {"auction": "mosaic", "tau": 0.1, "tau_min": 1e-3, "tau_max": 10.0, "tau_step": 0.2}
    return PlatformConfig(**{**settings, **overrides})


def accounts(ad_revenue=10.0, queries=100, churn=0.02, participation=1.0):
    return {"ad_revenue": ad_revenue, "queries": queries, "churn": churn, "participation": participation}


def test_fixed_never_moves():
    policy = make_policy(config(tau_policy="fixed"))
    assert [policy.update(accounts(churn=0.9)) for _ in range(3)] == [0.1, 0.1, 0.1]


def test_greedy_keeps_direction_while_revenue_rises():
    policy = make_policy(config(tau_policy="revenue_greedy"))
    taus = [policy.update(accounts(ad_revenue=revenue)) for revenue in (10.0, 11.0, 12.0)]
    np.testing.assert_allclose(np.log(taus), math.log(0.1) - 0.2 * np.arange(1, 4), atol=1e-12)


def test_greedy_reverses_when_revenue_falls():
    policy = make_policy(config(tau_policy="revenue_greedy"))
    policy.update(accounts(ad_revenue=10.0))
    policy.update(accounts(ad_revenue=11.0))
    tau = policy.update(accounts(ad_revenue=5.0))
    assert math.log(tau) == pytest.approx(math.log(0.1) - 0.2 - 0.2 + 0.2, abs=1e-12)


def test_greedy_stays_in_bounds():
    policy = make_policy(config(tau_policy="revenue_greedy", tau_step=5.0))
    taus = [policy.update(accounts(ad_revenue=10.0 + step)) for step in range(5)]
    assert min(taus) == 1e-3


def test_retention_raises_tau_on_high_churn():
    policy = make_policy(config(tau_policy="retention_target", churn_target=0.02))
    taus = [policy.update(accounts(churn=0.10)) for _ in range(5)]
    assert all(later > earlier for earlier, later in zip([0.1, *taus], taus))


def test_retention_lowers_tau_on_low_churn():
    policy = make_policy(config(tau_policy="retention_target", churn_target=0.05))
    taus = [policy.update(accounts(churn=0.0)) for _ in range(5)]
    assert all(later < earlier for earlier, later in zip([0.1, *taus], taus))


def test_retention_pid_value():
    policy = make_policy(config(tau_policy="retention_target", churn_target=0.02, pid_kp=5.0, pid_ki=1.0,
                                pid_kd=2.0))
    policy.update(accounts(churn=0.06))
    tau = policy.update(accounts(churn=0.12))
    # log τ = log τ0 + kp·0.10 + ki·(0.04 + 0.10) + kd·(0.10 − 0.04).
    assert math.log(tau) == pytest.approx(math.log(0.1) + 0.5 + 0.14 + 0.12, abs=1e-12)


def test_retention_integral_stops_at_bound():
    policy = make_policy(config(tau_policy="retention_target", churn_target=0.0, pid_kp=0.0, pid_ki=10.0))
    for _ in range(50):
        policy.update(accounts(churn=1.0))
    assert policy.tau == 10.0
    # Clamped: ki·integral is exactly the distance from the start to the bound, not 50·ki.
    assert 10.0 * policy.integral == pytest.approx(math.log(10.0) - math.log(0.1), abs=1e-12)


def test_two_sided_retention_floor_raises_tau():
    policy = make_policy(config(tau_policy="two_sided", retention_floor=0.97, participation_floor=0.5))
    assert policy.update(accounts(churn=0.10, participation=0.2)) > 0.1


def test_two_sided_participation_floor_lowers_tau():
    policy = make_policy(config(tau_policy="two_sided", retention_floor=0.97, participation_floor=0.5))
    assert policy.update(accounts(churn=0.01, participation=0.2)) < 0.1


def test_two_sided_inside_floors_is_greedy():
    two_sided = make_policy(config(tau_policy="two_sided", retention_floor=0.5, participation_floor=0.1))
    greedy = make_policy(config(tau_policy="revenue_greedy"))
    for revenue in (10.0, 12.0, 9.0, 11.0):
        assert two_sided.update(accounts(ad_revenue=revenue)) == greedy.update(accounts(ad_revenue=revenue))


def tau_path(policy, rounds=12, **overrides):
    scenario = default_scenario().with_overrides(
        {"users.count": 1500, "rounds": rounds, "platforms.mosaic.tau_policy": policy, **overrides}
    )
    model = MarketModel(scenario=scenario)
    for _ in range(rounds):
        model.step()
    table = model.timeseries()
    return table[table["platform"] == "mosaic"][["round", "tau", "churn"]]


def test_greedy_pushes_tau_down_in_market():
    """Lower τ raises MOSAIC's revenue per query at once, so greedy climbing drives τ down."""
    path = tau_path("revenue_greedy")
    assert stats.linregress(path["round"], np.log(path["tau"])).slope < 0


def test_retention_raises_tau_when_users_leave():
    """A low starting τ drives users away faster than a 0.5 % churn target, so τ must rise."""
    path = tau_path("retention_target", **{"platforms.mosaic.tau": 0.005, "platforms.mosaic.churn_target": 0.005})
    assert path["tau"].iloc[-1] > 0.005
    assert stats.linregress(path["round"], np.log(path["tau"])).slope > 0


def test_policies_hold_tau_without_members():
    for name in ("retention_target", "two_sided"):
        policy = make_policy(config(tau_policy=name))
        assert policy.update(accounts(churn=float("nan"))) == 0.1


def test_retention_target_survives_empty_platform():
    path = tau_path("retention_target", rounds=4, **{"platforms.mosaic.initial_share": 0.0,
                                                    "users.public_awareness": 0.0})
    assert np.all(np.isfinite(path["tau"]))
