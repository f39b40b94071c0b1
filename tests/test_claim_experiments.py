"""Claim experiments: output_variance, attribution, incumbency and adversarial.

A module fixture runs each experiment once with --quick through the command
line. The trend tests read those runs' outputs, or call the experiments'
functions directly with fixed seeds.
"""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from experiments import adversarial, attribution, incumbency, output_variance
from experiments import single_query as sq
from market import serving
from market.cli import main
from market.scenario import default_scenario

EXPERIMENTS = {
    "output_variance": output_variance,
    "attribution": attribution,
    "incumbency": incumbency,
    "adversarial": adversarial,
}
SUMMARY_KEYS = {
    "output_variance": {"mosaic", "post_response", "keyed", "exact", "fit", "findings"},
    "attribution": {"influence", "detection", "audits", "findings"},
    "incumbency": {"mechanisms", "smallest_gap", "largest_gap", "fit", "findings"},
    "adversarial": {"mechanisms", "smallest_kappa", "largest_kappa", "fit", "findings"},
}


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """Run every experiment with --quick once; return {name: (exit status, output folder)}."""
    runs = {}
    for name in EXPERIMENTS:
        out = tmp_path_factory.mktemp(name)
        status = main(["run", name, "--quick", "--no-progress", "--overwrite", "--out", str(out)])
        runs[name] = (status, out)
    return runs


def _summary(quick_runs, name):
    return json.loads((quick_runs[name][1] / "summary.json").read_text())


# Files and summaries -----------------------------------------------------------------


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_quick_run_writes_files(quick_runs, name):
    status, out = quick_runs[name]
    assert status == 0
    for file_name in EXPERIMENTS[name].FILES:
        assert (out / file_name).stat().st_size > 0, file_name
    for file_name in EXPERIMENTS[name].FILES:
        if file_name.endswith(".png"):
            assert (out / file_name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_quick_summary_keys(quick_runs, name):
    summary = _summary(quick_runs, name)
    assert summary["experiment"] == name
    assert SUMMARY_KEYS[name] <= set(summary)
    assert {"scenario", "seeds", "parameters", "provenance", "wall_seconds"} <= set(summary)
    assert summary["parameters"]["quick"] is True
    assert len(summary["seeds"]["replicate_seeds"]) == summary["parameters"]["replicates"]


def test_quick_run_prints_table(tmp_path, capsys):
    status = main(["run", "adversarial", "--quick", "--no-progress", "--seeds", "1", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert status == 0
    assert "mosaic_separated" in printed
    assert "post_response" in printed


def test_scenario_seed_changes_replicates(tmp_path):
    first = main(["run", "incumbency", "--quick", "--no-progress", "--seeds", "1", "--out", str(tmp_path / "a")])
    second = main(["run", "incumbency", "--quick", "--no-progress", "--seeds", "1", "--seed", "7",
                   "--out", str(tmp_path / "b")])
    assert first == second == 0
    seeds_a = json.loads((tmp_path / "a" / "summary.json").read_text())["seeds"]
    seeds_b = json.loads((tmp_path / "b" / "summary.json").read_text())["seeds"]
    assert seeds_b["base_seed"] == 7
    assert seeds_a["replicate_seeds"] != seeds_b["replicate_seeds"]


def test_incumbency_rejects_high_entrant_prior(tmp_path, capsys):
    status = main(["run", "incumbency", "--quick", "--no-progress", "--out", str(tmp_path),
                   "--set", "advertisers.entrant_prior=0.95"])
    assert status == 2
    assert "'advertisers.entrant_prior' = 0.95" in capsys.readouterr().err


# Shared helpers ------------------------------------------------------------------------


def _fixed_query(n_queries, reproducible=False, separation=False):
    scenario = default_scenario()
    config = dataclasses.replace(sq.mosaic_platform(scenario), reproducible=reproducible, separation=separation)
    intent, centres = sq.exact_geometry([0.9, 0.4, 0.8, 0.6, 0.95], 0.75)
    intents = sq.distinct_intents(intent, n_queries)
    world = sq.one_category_world(intent, centres, 0.75, [0.5, 0.5, 0.1, 0.1, 0.1], np.linspace(0.02, 0.1, 5),
                                  0.5, True, intents)
    slots, _ = sq.query_slots(world, intents)
    return scenario, config, slots, intents


def test_exact_geometry_relevances():
    relevances = np.array([0.9, 0.4, 1.0, 0.05])
    intent, centres = sq.exact_geometry(relevances, 0.7)
    world = sq.one_category_world(intent, centres, 0.7, 0.1, 0.05, 0.0, True, intent)
    _, measured = sq.query_slots(world, intent)
    np.testing.assert_allclose(measured[0], relevances, rtol=1e-12)


@pytest.mark.parametrize("reproducible", [False, True])
@pytest.mark.parametrize("separation", [False, True])
def test_run_mosaic_matches_serve_mosaic(reproducible, separation):
    scenario, config, slots, intents = _fixed_query(60, reproducible, separation)
    eligible = np.ones((60, 5), dtype=bool)
    run = sq.run_mosaic(config, slots, intents, eligible, config.tau, config.tau, 11, np.random.default_rng(4))
    service = serving.serve_mosaic(config, slots, intents, eligible, scenario.utility, config.tau, config.tau, 11,
                                   np.random.default_rng(4))
    np.testing.assert_array_equal(slots.scatter(run.outcome.payments), service.payments)
    np.testing.assert_array_equal(slots.scatter(run.returned_rewards), service.value)
    np.testing.assert_allclose(slots.scatter(sq.incremental_values(run, config.tau)), service.incremental_value,
                               atol=1e-15)
    returned_utility = serving.replies.reply_utility(
        config.base_quality, run.helpfulness[np.arange(60), run.chosen], run.returned_mentions, slots.relevances,
        slots.rivals, scenario.utility)
    np.testing.assert_array_equal(returned_utility, service.utility)


def test_plain_reply_expectations_match_priors():
    scenario, _, slots, _ = _fixed_query(3)
    expectations = sq.plain_reply_expectations(slots, scenario.utility)
    np.testing.assert_allclose(expectations["mentions"], np.tile([0.5, 0.5, 0.1, 0.1, 0.1], (3, 1)), atol=1e-12)
    # With every brand a rival of every other, clutter is P(at least two brands named).
    priors = np.array([0.5, 0.5, 0.1, 0.1, 0.1])
    none = np.prod(1 - priors)
    one = sum(priors[k] * np.prod(np.delete(1 - priors, k)) for k in range(5))
    np.testing.assert_allclose(expectations["clutter"], 1 - none - one, atol=1e-12)


# output_variance -----------------------------------------------------------------------


def test_importance_sampling_variance_falls_with_m(quick_runs):
    summary = _summary(quick_runs, "output_variance")
    for generator, figures in summary["mosaic"].items():
        slopes = figures["slope"]["var_value_is"]["per_replicate"]
        assert all(slope < 0 for slope in slopes), (generator, slopes)
        assert figures["slope"]["var_payment"]["mean"] < 0, generator


def test_delivered_value_variance_keeps_pi_star_floor(quick_runs):
    """The draw part stays: at the largest M the value variance is within 25 % of its variance under π*."""
    summary = _summary(quick_runs, "output_variance")
    floor = summary["exact"]["var_value_under_pi_star"]
    for figures in summary["mosaic"].values():
        assert figures["largest_m"]["var_value"]["mean"] == pytest.approx(floor, rel=0.25)


def test_post_response_variance_is_zero(quick_runs):
    summary = _summary(quick_runs, "output_variance")
    post = summary["post_response"]
    assert post["max_var_payment"] == 0.0
    assert post["max_var_ad_value"] == 0.0
    assert post["max_distinct_winners"] == 1
    assert post["outcome_entropy_bits"]["mean"] == 0.0


def test_keyed_repeats_give_identical_reply(quick_runs):
    summary = _summary(quick_runs, "output_variance")
    keyed = summary["keyed"]["identical_query"]
    assert keyed["max_distinct_replies"] == 1
    assert keyed["max_var_value"] == 0.0
    assert keyed["max_var_payment"] == 0.0


def test_keyed_repeats_direct_call():
    instance = output_variance.build_instance(default_scenario())
    config = dataclasses.replace(instance.mosaic, reproducible=True)
    identical = np.tile(instance.intent, (50, 1))
    draws = output_variance.repeat_mosaic(instance, config, identical, np.random.default_rng(1), seed=5)
    assert np.unique(draws["codes"]).size == 1
    assert np.unique(draws["helpfulness"]).size == 1
    assert np.ptp(draws["payments"], axis=0).max() == 0.0

    drawn = output_variance.repeat_mosaic(instance, instance.mosaic, identical, np.random.default_rng(1))
    assert np.unique(drawn["helpfulness"]).size == 50


def test_keyed_distribution_matches_drawn(quick_runs):
    """Over distinct queries the keyed replies follow the same distribution as Generator draws."""
    table = pd.read_csv(quick_runs["output_variance"][1] / "reproducibility.csv")
    assert (table["chi2_p_value"] > 0.001).all()
    assert (table["keyed_distinct_replies"] == table["queries"]).all()


# attribution ---------------------------------------------------------------------------


def test_honest_platform_never_caught(quick_runs):
    table = pd.read_csv(quick_runs["attribution"][1] / "audits.csv")
    honest = table[table["tau_ratio"] == 1.0]
    assert len(honest) > 0
    assert (honest["caught_rounds"] == 0).all()
    assert (table[table["audit_rate"] == 0.0]["caught_rounds"] == 0).all()


def test_catch_rate_rises_with_audit_rate(quick_runs):
    summary = _summary(quick_runs, "attribution")
    deviating = [entry for entry in summary["audits"] if entry["tau_ratio"] == 0.5]
    deviating.sort(key=lambda entry: entry["audit_rate"])
    rates = [entry["catch_rate"]["mean"] for entry in deviating]
    assert rates[0] == 0.0
    assert all(later >= earlier for earlier, later in zip(rates, rates[1:])), rates
    assert rates[-1] > rates[1]


def test_audit_rounds_direct_call():
    scenario = default_scenario()
    world = attribution.build_world(scenario.embedding, scenario.advertisers, np.random.default_rng(3))
    config = sq.mosaic_platform(scenario)
    honest, honest_audits = attribution.audit_rounds(world, config, scenario.embedding, scenario.utility, 1.0, 0.2,
                                                     10, 20, np.random.default_rng(4))
    assert honest_audits > 0
    assert not honest.any()
    cheating, _ = attribution.audit_rounds(world, config, scenario.embedding, scenario.utility, 0.5, 0.2, 10, 20,
                                           np.random.default_rng(4))
    assert cheating.mean() > 0.5


def test_influence_pairs_shares():
    scenario = default_scenario()
    world = attribution.build_world(scenario.embedding, scenario.advertisers, np.random.default_rng(3))
    pairs = attribution.influence_pairs(world, sq.mosaic_platform(scenario), scenario.embedding, 40,
                                        np.random.default_rng(5))
    assert len(pairs) == 40 * scenario.advertisers.brands_per_category
    assert (pairs["payment"] >= 0).all()
    sums = pairs.groupby("query")["payment_share"].sum(min_count=1).dropna()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)


# incumbency ----------------------------------------------------------------------------


def test_prior_gap_lowers_entrant_share(quick_runs):
    summary = _summary(quick_runs, "incumbency")
    slope = summary["mechanisms"]["mosaic_reference"]["slope_per_nat"]["entrant_mention_share"]
    assert all(value < 0 for value in slope["per_replicate"]), slope
    assert slope["ci95"][1] < 0


def test_post_response_winner_ignores_prior(quick_runs):
    """The placement share is the same at every gap, because the same intents are served in every cell."""
    table = pd.read_csv(quick_runs["incumbency"][1] / "incumbency.csv")
    post = table[table["mechanism"] == "post_response"]
    for _, rows in post.groupby("replicate"):
        assert rows["entrant_ad_share"].nunique() == 1


def test_equal_priors_give_equal_share():
    scenario = default_scenario()
    market = incumbency.build_market(scenario, 3000, np.random.default_rng(2))
    metrics = incumbency.measure_cell(market, "pi_star", market.entrant_prior, None, np.random.default_rng(3))
    assert metrics["entrant_mention_share"] == pytest.approx(0.5, abs=0.03)


# adversarial ---------------------------------------------------------------------------


def test_separation_removes_clutter(quick_runs):
    summary = _summary(quick_runs, "adversarial")
    assert summary["mechanisms"]["mosaic_separated"]["max_clutter_rate_non_void_at_positive_kappa"] == 0.0
    assert summary["mechanisms"]["mosaic"]["clutter_rate"]["at_largest_kappa"]["mean"] > 0


def test_no_ir_violations_at_zero_kappa(quick_runs):
    summary = _summary(quick_runs, "adversarial")
    for mechanism in ("mosaic", "mosaic_separated", "post_response"):
        assert summary["mechanisms"][mechanism]["max_ir_violation_rate_at_zero_kappa"] == 0.0, mechanism


def test_participation_never_loses(quick_runs):
    """Taking part never lowers an advertiser's expected value net of payment, at any κ."""
    table = pd.read_csv(quick_runs["adversarial"][1] / "adversarial.csv")
    assert (table["participation_violation_rate"] == 0.0).all()


def test_separation_direct_call_with_void_auctions():
    """With priors near 1 every candidate names both rivals, so the auctions are void and revenue is near 0."""
    scenario = default_scenario().with_overrides({"advertisers.incumbent_prior": 0.999,
                                                  "advertisers.entrant_prior": 0.999})
    market = adversarial.build_market(scenario, 200, np.random.default_rng(1))
    metrics = adversarial.measure_cell(market, "mosaic_separated", 1.0, np.random.default_rng(2))
    assert metrics["void_rate"] > 0.9
    assert metrics["clutter_rate"] > 0.9
    assert metrics["revenue"] < 1e-3


@pytest.mark.parametrize("reproducible, generator, audit_rate", [(False, "reference", 0.0), (True, "reference", 0.3),
                                                                 (False, "context", 0.3)])
def test_serve_mosaic_block_size_invariant(monkeypatch, reproducible, generator, audit_rate):
    scenario, config, slots, intents = _fixed_query(60, reproducible, True)
    config = dataclasses.replace(config, generator=generator, audit_rate=audit_rate, tau_actual=config.tau / 2)
    eligible = np.random.default_rng(2).random((60, 5)) < 0.7

    def serve():
        return serving.serve_mosaic(config, slots, intents, eligible, scenario.utility, config.tau, config.tau / 2,
                                    11, np.random.default_rng(4))

    whole = serve()
    monkeypatch.setattr(serving, "SERVE_BLOCK_QUERIES", 7)
    blocks = serve()
    for spec in dataclasses.fields(whole):
        np.testing.assert_array_equal(getattr(blocks, spec.name), getattr(whole, spec.name), err_msg=spec.name)
    if audit_rate:
        assert whole.audited.any()
        assert whole.audit_failed.any()
