"""Market-level experiments: τ region, user exit and the full chain."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.user_exit import halving_round
from market.cli import main
from market.model import MarketModel
from market.scenario import default_scenario


def run_quick(name, tmp_path, *extra):
    out = tmp_path / name
    status = main(["run", name, "--quick", "--no-progress", "--out", str(out), *extra])
    assert status == 0
    return out, json.loads((out / "summary.json").read_text())


def test_tau_region_quick(tmp_path):
    out, summary = run_quick("tau_region", tmp_path)
    for name in ("cells.csv", "runs.csv", "tau_region.png", "constraints.png"):
        assert (out / name).stat().st_size > 0
    cells = pd.read_csv(out / "cells.csv")
    assert len(cells) == 4
    assert set(cells.columns) >= {"tau", "elasticity", "retention", "participation", "profit", "feasible"}
    assert summary["cells"] == 4
    assert isinstance(summary["region_empty"], bool)
    assert summary["region_empty"] == (not cells["feasible"].any())


def test_tau_region_floors_decide_feasibility(tmp_path):
    # Floors nobody can miss make every cell feasible.
    _, summary = run_quick("tau_region", tmp_path, "--retention-floor", "0", "--participation-floor", "0",
                           "--profit-floor=-1e12")
    assert summary["feasible_cells"] == summary["cells"]
    assert not summary["region_empty"]


def test_user_exit_quick(tmp_path):
    out, summary = run_quick("user_exit", tmp_path)
    table = pd.read_csv(out / "timeseries.csv")
    assert set(table["elasticity"]) == {1.0, 10.0}
    assert {result["elasticity"] for result in summary["results"]} == {1.0, 10.0}
    assert summary["tau_policy"] == "revenue_greedy"
    assert (out / "trajectories.png").stat().st_size > 0


def test_halving_round():
    rounds = np.arange(6)
    assert halving_round(rounds, np.array([0.4, 0.35, 0.3, 0.21, 0.2, 0.1])) == 4.0
    assert halving_round(rounds, np.array([0.4, 0.39, 0.38, 0.37, 0.36, 0.35])) is None
    assert halving_round(rounds, np.zeros(6)) is None


def test_chain_quick(tmp_path):
    out, summary = run_quick("chain", tmp_path)
    claims = [effect["claim"] for effect in summary["effects"]]
    assert len(claims) == 10
    assert {claim.split()[0] for claim in claims} == {"1", "2", "3", "4", "5", "6", "7"}
    effects = pd.read_csv(out / "effects.csv")
    assert len(effects) == 2
    # MOSAIC's compute costs many times its ad revenue at $0.02 a plain query.
    assert summary["effects"][0]["metric"] == "cost_to_ad_revenue"
    assert summary["effects"][0]["mean"] > 1
    assert all(effect["appeared"] in (True, False, None) for effect in summary["effects"])


def test_chain_needs_mosaic_platform(tmp_path, capsys):
    path = tmp_path / "no_mosaic.toml"
    path.write_text('[[platforms]]\nname = "plain"\nauction = "none"\ninitial_share = 0.5\n')
    status = main(["run", "chain", "--quick", "--no-progress", "--scenario", str(path), "--out", str(tmp_path / "o")])
    assert status == 2
    assert "auction = \"mosaic\"" in capsys.readouterr().err


def one_round(tau):
    scenario = default_scenario().with_overrides({"users.count": 1500, "platforms.mosaic.tau": tau, "seed": 3})
    model = MarketModel(scenario=scenario)
    model.step()
    return model.platforms[0].accounts


def test_raising_tau_lowers_kl_and_revenue():
    taus = np.array([0.005, 0.02, 0.08, 0.3, 1.2])
    accounts = [one_round(tau) for tau in taus]
    kl = np.array([entry["mean_kl"] for entry in accounts])
    revenue_per_query = np.array([entry["ad_revenue"] / entry["queries"] for entry in accounts])
    assert stats.linregress(np.log(taus), np.log(kl)).slope < 0
    assert stats.linregress(np.log(taus), np.log(revenue_per_query)).slope < 0


def test_raising_tau_raises_user_utility():
    taus = np.array([0.005, 0.02, 0.08, 0.3, 1.2])
    utility = np.array([one_round(tau)["mean_user_utility"] for tau in taus])
    assert stats.linregress(np.log(taus), utility).slope > 0
    assert utility[-1] > utility[0]


@pytest.mark.parametrize("name", ["tau_region", "user_exit", "chain"])
def test_rejects_existing_results(tmp_path, capsys, name):
    run_quick(name, tmp_path)
    status = main(["run", name, "--quick", "--no-progress", "--out", str(tmp_path / name)])
    assert status == 2
    assert "--overwrite" in capsys.readouterr().err


def test_tau_region_backends_agree(tmp_path):
    serial, _ = run_quick("tau_region", tmp_path / "serial")
    pooled, _ = run_quick("tau_region", tmp_path / "pooled", "--backend", "processes", "--workers", "2")
    pd.testing.assert_frame_equal(pd.read_csv(serial / "runs.csv"), pd.read_csv(pooled / "runs.csv"))
