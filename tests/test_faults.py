"""Bad input and extremes: fuzzed scenario files, extreme parameters, invariants that must hold."""

import dataclasses
import warnings

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from market.mechanisms import mosaic, power_diagram
from market.model import MarketModel
from market.scenario import ScenarioError, default_scenario, dump_scenario, load_scenario

TINY = {"users.count": 120, "rounds": 3}
SHARE_COLUMNS = ("membership_share", "query_share", "sponsored_share", "clutter_share", "participation", "churn")
MONEY_COLUMNS = ("ad_revenue", "subscription_revenue", "revenue", "inference_cost", "profit", "user_welfare")


# --- fuzzed scenario files ---------------------------------------------------------------------------------------


def leaf_paths(data, prefix=()):
    """Every path to a value in a scenario dict; a list index is a path component."""
    items = enumerate(data) if isinstance(data, list) else data.items()
    paths = []
    for key, value in items:
        path = (*prefix, key)
        paths.append(path)
        if isinstance(value, (dict, list)):
            paths.extend(leaf_paths(value, path))
    return paths


def parent_of(data, path):
    for key in path[:-1]:
        data = data[key]
    return data


# Values of every TOML type, and numbers at and beyond the edges of every range.
fuzz_values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.0, 1e-300, 1e300, 2, 13, 4097, 10_000_001]),
    st.text(max_size=6),
    st.booleans(),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=4), st.integers(min_value=0, max_value=3), max_size=2),
)


@st.composite
def mutated_scenarios(draw):
    """A default scenario dict with one to three keys replaced, deleted or misspelt; returns (data, names)."""
    data = default_scenario().to_dict()
    names = set()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = leaf_paths(data)
        path = draw(st.sampled_from(paths))
        parent = parent_of(data, path)
        action = draw(st.sampled_from(["replace", "replace", "delete", "misspell"]))
        names.update(str(part) for part in path if isinstance(part, str))
        if action == "replace":
            parent[path[-1]] = draw(fuzz_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[f"{path[-1]}_x"] = parent.pop(path[-1])
            names.add(f"{path[-1]}_x")
        else:
            del parent[path[-1]]
    return data, names


def shrink(scenario):
    """Return ``scenario`` cut to a size that runs in well under a second (sizes only lowered)."""
    return dataclasses.replace(
        scenario,
        rounds=min(scenario.rounds, 2),
        embedding=dataclasses.replace(
            scenario.embedding,
            dimension=min(scenario.embedding.dimension, 16),
            categories=min(scenario.embedding.categories, 4),
        ),
        users=dataclasses.replace(
            scenario.users,
            count=min(scenario.users.count, 40),
            queries_per_round=min(scenario.users.queries_per_round, 5.0),
        ),
        platforms=tuple(
            dataclasses.replace(platform, candidates=min(platform.candidates, 16), slots=min(platform.slots, 3))
            for platform in scenario.platforms
        ),
    )


def run_and_check(scenario):
    """Run ``scenario`` and check that its table is finite where defined and its shares lie in [0, 1]."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = MarketModel(scenario=scenario)
        for _ in range(scenario.rounds):
            model.step()
            check_round(model)
        table = model.timeseries()
    numbers = table.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(numbers).any(), "the table holds ±inf"
    for column in SHARE_COLUMNS:
        values = table[column].dropna()
        assert ((values >= 0) & (values <= 1)).all(), column
    return table


def check_round(model):
    spend = model.brand_accounts["spend"]
    assert np.all(spend >= 0)
    assert np.all(spend.sum(axis=1) <= model.advertisers.budget * (1 + 1e-12) + 1e-12)


def write_toml(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(case=mutated_scenarios())
def test_fuzzed_scenario_runs_or_names_key(case, tmp_path_factory):
    data, names = case
    path = write_toml(tmp_path_factory, tomli_w.dumps(data))
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        event("ScenarioError")
        message = str(error)
        assert any(name in message for name in names), f"{message!r} names none of {sorted(names)}"
        if "out of range" in message:
            assert "allowed:" in message
            assert "<=" in message
        return
    event("valid scenario, run")
    run_and_check(shrink(scenario))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncated_scenario_file(cut, tmp_path_factory):
    text = dump_scenario(default_scenario())
    path = write_toml(tmp_path_factory, text[: int(cut * len(text))])
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        event("ScenarioError")
        assert str(error)
        return
    event("valid scenario, run")
    run_and_check(shrink(scenario))


def range_fields(cls, prefix=""):
    """Every numeric field of a scenario dataclass with its (low, high) range, by dotted path."""
    fields = []
    for spec in dataclasses.fields(cls):
        if dataclasses.is_dataclass(spec.type):
            fields.extend(range_fields(spec.type, f"{prefix}{spec.name}."))
            continue
        low, high = spec.metadata.get("range", (None, None))
        if low is not None:
            fields.append((f"{prefix}{spec.name}", low, high, spec.type))
    return fields


@st.composite
def in_range_overrides(draw):
    """One to four keys set to an end of their allowed range or a log-uniform value inside it."""
    from market.scenario import PlatformConfig, Scenario

    scenario_fields = [field for field in range_fields(Scenario) if field[0] not in ("seed", "rounds")]
    platform_fields = range_fields(PlatformConfig)
    overrides = {}
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if draw(st.booleans()):
            key, low, high, kind = draw(st.sampled_from(scenario_fields))
        else:
            name = draw(st.sampled_from(["mosaic", "embedding", "ad_free"]))
            field, low, high, kind = draw(st.sampled_from(platform_fields))
            key = f"platforms.{name}.{field}"
        choice = draw(st.sampled_from(["low", "high", "inside"]))
        if choice == "low":
            value = low
        elif choice == "high":
            value = high
        elif np.isfinite(low) and np.isfinite(high) and low > 0:
            value = float(np.exp(draw(st.floats(min_value=np.log(low), max_value=np.log(high)))))
        else:
            value = draw(st.floats(min_value=low, max_value=high))
        if kind is int or kind == (int | None):
            value = int(value)
        overrides[key] = value
    return overrides


@settings(max_examples=150, deadline=None)
@given(overrides=in_range_overrides())
def test_in_range_extremes_run_or_name_key(overrides):
    try:
        scenario = default_scenario().with_overrides(overrides)
    except ScenarioError as error:
        event("ScenarioError (consistency)")
        message = str(error)
        assert any(key.split(".")[-1] in message for key in overrides), f"{message!r} names none of {overrides}"
        return
    event("valid scenario, run")
    run_and_check(shrink(scenario))


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[users]\ncount = 1\nmultihoming_sh\n[advertisers]\n", "line 3"),
        ("[users]\ncount = 1\nelasticity = ", "end of document"),
        ("[[platforms]]\nname = \"a\n[users]\n", "line 2"),
    ],
)
def test_truncated_file_is_invalid_toml(tmp_path, text, fragment):
    path = tmp_path / "cut.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert "invalid TOML" in str(raised.value)
    assert fragment in str(raised.value)


# --- extremes through the scenario -------------------------------------------------------------------------------


EXTREMES = {
    "tau 1e-6": {"platforms.mosaic.tau": 1e-6, "platforms.mosaic.tau_min": 1e-6},
    "tau 1e6": {"platforms.mosaic.tau": 1e6, "platforms.mosaic.tau_max": 1e6},
    "rewards 1e6": {"advertisers.value_min": 1e6, "advertisers.value_max": 1e6},
    "rewards 1e6, tau 1e-6": {"advertisers.value_min": 1e6, "advertisers.value_max": 1e6,
                              "platforms.mosaic.tau": 1e-6, "platforms.mosaic.tau_min": 1e-6},
    "rewards 1e6, tau 1e6": {"advertisers.value_min": 1e6, "advertisers.value_max": 1e6,
                             "platforms.mosaic.tau": 1e6, "platforms.mosaic.tau_max": 1e6},
    "competitor-negative rewards": {"advertisers.competitor_weight": 100.0},
    "M = 1": {"platforms.mosaic.candidates": 1},
    "one user": {"users.count": 1},
    "platform without members": {"platforms.mosaic.initial_share": 0.0, "users.public_awareness": 0.0},
    "everyone outside": {"platforms.mosaic.initial_share": 0.0, "platforms.embedding.initial_share": 0.0,
                         "platforms.ad_free.initial_share": 0.0, "users.public_awareness": 0.0},
    "zero budgets": {"advertisers.budget_per_1000_users": 0.0},
    "one brand per category": {"advertisers.brands_per_category": 1, "advertisers.incumbents_min": 0,
                               "advertisers.incumbents_max": 1},
    "one category, one brand": {"embedding.categories": 1, "advertisers.brands_per_category": 1,
                                "advertisers.incumbents_min": 1, "advertisers.incumbents_max": 1},
    "no queries": {"users.queries_per_round": 0.0},
    "no platform sells ads": {"platforms.mosaic.auction": "none", "platforms.embedding.auction": "none"},
    "qualities at ±1e6": {"platforms.mosaic.base_quality": 1e6, "platforms.ad_free.base_quality": -1e6,
                          "users.outside_utility": 1e6},
    "outside option at -1e6": {"users.outside_utility": -1e6, "users.elasticity": 1000.0},
}


@pytest.mark.parametrize("overrides", EXTREMES.values(), ids=EXTREMES.keys())
def test_extreme_scenario_keeps_invariants(overrides):
    scenario = default_scenario().with_overrides({**TINY, **overrides})
    table = run_and_check(scenario)
    played = table[(table["round"] >= 1) & (table["platform"] != "outside")]
    for column in MONEY_COLUMNS:
        assert np.isfinite(played[column]).all(), column
    assert (played["ad_revenue"] >= 0).all()
    shares = table[table["platform"] != "outside"]["membership_share"]
    assert shares.notna().all()


@pytest.mark.parametrize("quality", [float("inf"), float("-inf"), -1e308])
def test_unbounded_base_quality_rejected(quality):
    # An infinite or huge quality overflowed elasticity × satisfaction in the users' routing.
    with pytest.raises(ScenarioError) as raised:
        default_scenario().with_overrides({"platforms.mosaic.base_quality": quality})
    message = str(raised.value)
    assert "platforms[0].base_quality" in message
    assert repr(quality) in message
    assert "<= base_quality <=" in message


def test_zero_budgets_mean_no_payments():
    scenario = default_scenario().with_overrides({**TINY, "advertisers.budget_per_1000_users": 0.0})
    table = run_and_check(scenario)
    assert table["ad_revenue"].fillna(0).eq(0).all()


def test_platform_without_members_stays_empty():
    scenario = default_scenario().with_overrides({**TINY, **EXTREMES["platform without members"]})
    table = run_and_check(scenario)
    mosaic_rows = table[table["platform"] == "mosaic"]
    assert (mosaic_rows["membership_share"] == 0).all()
    assert (mosaic_rows["queries"].dropna() == 0).all()


def test_zero_users_runs_with_undefined_outside_share():
    scenario = default_scenario().with_overrides({**TINY, "users.count": 0})
    table = run_and_check(scenario)
    platforms = table[table["platform"] != "outside"]
    assert (platforms["membership_share"] == 0).all()
    assert (platforms["queries"].dropna() == 0).all()
    # With no users the outside share is 0/0, which the model reports as NaN.
    assert table[table["platform"] == "outside"]["membership_share"].isna().all()


def test_no_advertisers_is_a_scenario_error():
    # Every category has at least one brand, so a market without advertisers is
    # written as platforms that sell no ads (see EXTREMES["no platform sells ads"]).
    with pytest.raises(ScenarioError) as raised:
        default_scenario().with_overrides({"advertisers.brands_per_category": 0})
    message = str(raised.value)
    assert "advertisers.brands_per_category" in message
    assert "= 0" in message
    assert "1 <= brands_per_category <= 12" in message


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        ({"platforms.mosaic.tau": 1e-13}, ["platforms[0].tau", "1e-13", "1e-12 <= tau"]),
        ({"platforms.mosaic.tau": 2e12}, ["platforms[0].tau", "2000000000000.0", "<= tau <= 1000000000000.0"]),
        ({"advertisers.value_max": 1e7}, ["advertisers.value_max", "10000000.0", "<= value_max <= 1000000.0"]),
        ({"platforms.mosaic.candidates": 0}, ["platforms[0].candidates", "= 0", "1 <= candidates"]),
        ({"users.count": -1}, ["users.count", "= -1", "0 <= count"]),
        ({"platforms.mosaic.tau": 20.0}, ["platforms[0].tau", "20.0", "tau_min, tau_max"]),
    ],
)
def test_beyond_extremes_names_key_value_range(overrides, fragments):
    with pytest.raises(ScenarioError) as raised:
        default_scenario().with_overrides(overrides)
    for fragment in fragments:
        assert fragment in str(raised.value)


# --- extremes at the kernels --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [1e-6, 1e-3, 1.0, 1e3, 1e6])
@pytest.mark.parametrize("scale", [0.0, 1e-6, 1.0, 1e6])
@pytest.mark.parametrize("shape", [(50, 1, 3), (50, 20, 0), (50, 20, 1), (50, 20, 8), (0, 5, 3)])
def test_mosaic_extremes_keep_invariants(tau, scale, shape):
    rng = np.random.default_rng(7)
    n_queries, n_candidates, _ = shape
    rewards = scale * rng.random(shape)
    log_p_ref = rng.normal(size=shape[:2]) * 3
    log_p_gen = rng.normal(size=shape[:2]) * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau)
        counterfactual = mosaic.allocation_without(rewards, log_p_ref, log_p_gen, tau)
    for name in ("allocation", "payments", "potential", "utilities", "kl_to_reference"):
        assert np.all(np.isfinite(getattr(outcome, name))), name
    np.testing.assert_allclose(outcome.allocation.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(counterfactual.sum(axis=1), 1.0, atol=1e-9)
    assert np.all((outcome.allocation >= 0) & (outcome.allocation <= 1))
    assert np.all(outcome.payments >= 0)
    # Individual rationality with non-negative rewards: no one pays more than its expected reward.
    expected = np.einsum("qm,qmn->qn", outcome.allocation, rewards)
    assert np.all(outcome.payments <= expected * (1 + 1e-9) + 1e-9 * max(scale, 1.0))


def test_mosaic_competitor_negative_rewards_pay_nonnegative():
    rng = np.random.default_rng(3)
    rewards = rng.normal(size=(200, 20, 5)) * 1e6
    outcome = mosaic.run_auction(rewards, np.zeros((200, 20)), np.zeros((200, 20)), 1e-6)
    assert np.all(np.isfinite(outcome.payments))
    assert np.all(outcome.payments >= 0)
    np.testing.assert_allclose(outcome.allocation.sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("n_bidders", [0, 1, 30])
@pytest.mark.parametrize("bid_scale", [0.0, 1e-6, 1.0, 1e6])
def test_power_diagram_extremes(n_bidders, bid_scale):
    rng = np.random.default_rng(11)
    intents = rng.normal(size=(100, 16))
    centers = rng.normal(size=(n_bidders, 16))
    bids = bid_scale * rng.random(n_bidders)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        outcome = power_diagram.run_auction(intents, centers, rng.uniform(0.5, 1.0, n_bidders), bids)
    assert np.all(np.isfinite(outcome.payment))
    assert np.all(outcome.payment >= 0)
    shown = outcome.winner >= 0
    # A winner pays its critical value, never more than its own bid.
    assert np.all(outcome.payment[shown] <= bids[outcome.winner[shown]] * (1 + 1e-12))
    if n_bidders == 0 or bid_scale == 0:
        assert not shown.any()
