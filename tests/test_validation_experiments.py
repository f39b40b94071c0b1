"""Validation experiments: MOSAIC's convergence to π* and the misreport search, run at --quick size."""

import contextlib
import io
import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from experiments import convergence, truthfulness
from market import replies
from market.cli import main
from market.mechanisms import mosaic


def run_quick(name, out, *extra):
    """Run experiment ``name`` at --quick size through the command line and return status, stdout and summary."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["run", name, "--quick", "--no-progress", "--out", str(out), *extra])
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None
    return status, printed.getvalue(), summary


@pytest.fixture(scope="module")
def convergence_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("convergence")
    return (out, *run_quick("convergence", out))


@pytest.fixture(scope="module")
def truthfulness_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("truthfulness")
    return (out, *run_quick("truthfulness", out))


# ---------------------------------------------------------------------------
# convergence


def test_convergence_writes_all_files(convergence_run):
    out, status, printed, summary = convergence_run
    assert status == 0
    for name in convergence.FILES:
        assert (out / name).stat().st_size > 0
    assert (out / "convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "baseline" in printed
    assert "results written to" in printed


def test_convergence_summary_keys(convergence_run):
    _, _, _, summary = convergence_run
    for key in ("parameters", "seeds", "results", "agreement", "provenance", "smallest_m", "largest_m"):
        assert key in summary
    assert summary["parameters"]["quick"] is True
    assert len(summary["seeds"]["replicate_seeds"]) == summary["parameters"]["replicates"]
    assert set(summary["results"]) == {instance.name for instance in convergence.INSTANCES}
    for generators in summary["results"].values():
        assert set(generators) == set(convergence.GENERATORS)
        for figures in generators.values():
            for key in ("slope", "crossing_m", "crossing_m_exact", "tv_at_smallest_m", "tv_at_largest_m"):
                assert key in figures
            assert len(figures["slope"]["ci95"]) == 2


def test_convergence_csv_is_tidy(convergence_run):
    out, _, _, summary = convergence_run
    table = pd.read_csv(out / "convergence.csv")
    counts = summary["parameters"]["candidate_counts"]
    replicates = summary["parameters"]["replicates"]
    cells = len(convergence.INSTANCES) * len(convergence.GENERATORS) * len(counts)
    assert len(table[table["method"] == "exact"]) == cells
    assert len(table[table["method"] == "monte_carlo"]) == cells * replicates
    assert table["tv"].between(0.0, 1.0).all()


@pytest.mark.parametrize("instance", [instance.name for instance in convergence.INSTANCES])
@pytest.mark.parametrize("generator", convergence.GENERATORS)
def test_convergence_tv_falls_with_m(convergence_run, instance, generator):
    _, _, _, summary = convergence_run
    figures = summary["results"][instance][generator]
    assert figures["tv_at_largest_m"]["mean"] < figures["tv_at_smallest_m"]["mean"]
    assert figures["slope"]["mean"] is not None
    assert figures["slope"]["mean"] < 0


def test_convergence_monte_carlo_matches_exact(convergence_run):
    """The estimate lies about one noise floor from the exact P_M. A much larger distance means a bug in one of them."""
    _, _, _, summary = convergence_run
    assert 0.5 < summary["agreement"]["mean_tv_to_exact_output_over_floor"] < 2.0
    assert summary["agreement"]["max_tv_to_exact_output_over_floor"] < 5.0
    assert summary["agreement"]["max_exact_mass_error"] < 1e-9


def test_convergence_independent_of_workers(convergence_run, tmp_path):
    out, _, _, _ = convergence_run
    status, _, _ = run_quick("convergence", tmp_path, "--workers", "1")
    assert status == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "convergence.csv"), pd.read_csv(tmp_path / "convergence.csv"))


def test_convergence_refuses_to_overwrite(convergence_run, capsys):
    out, _, _, _ = convergence_run
    assert main(["run", "convergence", "--quick", "--no-progress", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def brute_force_output(generating, target, n_candidates):
    """P_M by enumerating every ordered M-tuple of patterns (small M only)."""
    weights = target / generating
    output = np.zeros_like(target)
    for drawn in itertools.product(range(target.size), repeat=n_candidates):
        drawn = list(drawn)
        probability = np.prod(generating[drawn])
        total = weights[drawn].sum()
        for pattern in drawn:
            output[pattern] += probability * weights[pattern] / total
    return output


@pytest.mark.parametrize("n_candidates", [1, 2, 3])
def test_exact_output_matches_enumeration(n_candidates):
    instance = convergence.INSTANCES[2]
    priors = np.asarray(instance.priors[:3])
    patterns, target = replies.exact_optimal_distribution(
        priors, instance.relevances[:3], instance.values[:3], instance.competitor_weights[:3],
        np.ones((3, 3)) - np.eye(3), instance.tau,
    )
    generating = np.exp(replies.log_probability(patterns[None], priors[None])[0])
    exact = convergence.exact_output_distribution(generating, target, n_candidates)
    np.testing.assert_allclose(exact, brute_force_output(generating, target, n_candidates), rtol=0, atol=1e-10)


def test_fitted_slope_skips_noise():
    counts = [1, 10, 100, 1000]
    distances = [0.5, 0.05, 0.005, 0.004]
    floors = [0.001, 0.001, 0.001, 0.003]
    assert convergence.fitted_slope(counts, distances, floors) == pytest.approx(-1.0)
    assert convergence.fitted_slope(counts, distances, [1.0] * 4) is None


# ---------------------------------------------------------------------------
# truthfulness


def test_truthfulness_writes_all_files(truthfulness_run):
    out, status, printed, _ = truthfulness_run
    assert status == 0
    for name in truthfulness.FILES:
        assert (out / name).stat().st_size > 0
    assert "mosaic" in printed
    assert "power_diagram" in printed


def test_truthfulness_summary_keys(truthfulness_run):
    _, _, _, summary = truthfulness_run
    for key in ("gain_tolerance", "parameters", "seeds", "mosaic", "power_diagram", "findings", "provenance"):
        assert key in summary
    assert set(summary["mosaic"]["families"]) == set(truthfulness.MOSAIC_FAMILIES)
    assert set(summary["mosaic"]["individual_rationality"]) == set(truthfulness.REWARD_REGIMES)
    assert set(summary["power_diagram"]) == {f"{weight:g}" for weight in truthfulness.RELEVANCE_WEIGHTS}
    # One sentence per MOSAIC family and regime, and per λ: one per family plus one on IR.
    expected = len(truthfulness.MOSAIC_FAMILIES) + len(truthfulness.REWARD_REGIMES)
    expected += len(truthfulness.RELEVANCE_WEIGHTS) * (len(truthfulness.POWER_FAMILIES) + 1)
    assert len(summary["findings"]) == expected


@pytest.mark.parametrize("family", truthfulness.MOSAIC_FAMILIES)
def test_no_profitable_mosaic_misreport(truthfulness_run, family):
    _, _, _, summary = truthfulness_run
    figures = summary["mosaic"]["families"][family]
    assert figures["pairs"] > 0
    assert figures["largest_gain"] <= 1e-9
    assert figures["profitable_misreport_found"] is False


def test_mosaic_ir_fails_only_with_negative_rewards(truthfulness_run):
    _, _, _, summary = truthfulness_run
    rationality = summary["mosaic"]["individual_rationality"]
    assert rationality["non-negative"]["violation_share"] == 0.0
    assert rationality["possibly negative"]["violation_share"] > 0.0
    assert rationality["possibly negative"]["mean_violation_size"] > 0.0


@pytest.mark.parametrize("family", truthfulness.POWER_FAMILIES)
def test_power_diagram_truthful_at_unit_weight(truthfulness_run, family):
    """At λ = 1 the power diagram is a second-price auction on reported values, so no misreport can pay."""
    _, _, _, summary = truthfulness_run
    assert summary["power_diagram"]["1"]["families"][family]["largest_gain"] <= 1e-9


@pytest.mark.parametrize("weight", [f"{weight:g}" for weight in truthfulness.RELEVANCE_WEIGHTS])
def test_power_diagram_bid_truthful_at_every_weight(truthfulness_run, weight):
    _, _, _, summary = truthfulness_run
    assert summary["power_diagram"][weight]["families"]["bid"]["largest_gain"] <= 1e-9
    assert summary["power_diagram"][weight]["individual_rationality"]["violation_share"] == 0.0


def test_mosaic_batch_matches_single_auctions():
    """The batched misreport gains equal one run_auction per misreport."""
    rng = np.random.default_rng(3)
    instance = truthfulness.draw_mosaic_instance(rng, "possibly negative")
    while instance.rewards.shape[1] < 2:
        instance = truthfulness.draw_mosaic_instance(rng, "possibly negative")
    truthful_utility, gains, _, _ = truthfulness.mosaic_misreport_gains(instance, np.random.default_rng(4))
    reports, _, _ = truthfulness.mosaic_misreports(instance, np.random.default_rng(4))

    rewards = instance.rewards
    truth = mosaic.run_auction(rewards, instance.log_p_ref, instance.log_p_gen, instance.tau)
    for advertiser in range(rewards.shape[1]):
        expected_truthful = truth.allocation @ rewards[:, advertiser] - truth.payments[advertiser]
        assert truthful_utility[advertiser] == pytest.approx(expected_truthful / instance.scale, abs=1e-12)
        for variant in range(reports.shape[1]):
            reported = rewards.copy()
            reported[:, advertiser] = reports[advertiser, variant]
            outcome = mosaic.run_auction(reported, instance.log_p_ref, instance.log_p_gen, instance.tau)
            utility = outcome.allocation @ rewards[:, advertiser] - outcome.payments[advertiser]
            expected_gain = (utility - expected_truthful) / instance.scale
            assert gains[advertiser, variant] == pytest.approx(expected_gain, abs=1e-12)


def test_truthfulness_module_entry_point(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "experiments.truthfulness", "--quick", "--no-progress", "--seeds", "1",
         "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "results written to" in completed.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["parameters"]["replicates"] == 1
