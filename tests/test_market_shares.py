"""Main job and command line: files written, errors reported without tracebacks."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from experiments import market_shares
from market.cli import main
from market.model import PLATFORM_COLUMNS
from market.scenario import default_scenario

TINY = {"users.count": 400, "rounds": 4}


def test_run_writes_all_files(tmp_path):
    scenario = default_scenario().with_overrides(TINY)
    summary = market_shares.run(scenario, tmp_path, progress=False)
    for name in market_shares.FILES:
        assert (tmp_path / name).stat().st_size > 0

    table = pd.read_csv(tmp_path / "timeseries.csv")
    assert list(table.columns) == list(PLATFORM_COLUMNS)
    assert set(table["platform"]) == {"mosaic", "embedding", "ad_free", "outside"}
    assert table["round"].max() == 4
    assert len(table) == 5 * 4

    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["seed"] == scenario.seed
    assert written["rounds_completed"] == 4
    assert written["scenario"]["users"]["count"] == 400
    assert set(written["platforms"]) == {"mosaic", "embedding", "ad_free"}
    assert summary["platforms"]["mosaic"]["total_inference_cost"] > 0
    assert (tmp_path / "market_shares.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_matches_timeseries(tmp_path):
    market_shares.run(default_scenario().with_overrides(TINY), tmp_path, progress=False)
    table = pd.read_csv(tmp_path / "timeseries.csv")
    summary = json.loads((tmp_path / "summary.json").read_text())
    last = table[table["round"] == 4].set_index("platform")
    for name, figures in summary["platforms"].items():
        assert figures["final_membership_share"] == pytest.approx(last.loc[name, "membership_share"])
        profit = table[(table["platform"] == name) & (table["round"] >= 1)]["profit"].sum()
        assert figures["total_profit"] == pytest.approx(profit)
    assert summary["final_outside_share"] == pytest.approx(last.loc["outside", "membership_share"])


def test_second_run_refuses_to_overwrite(tmp_path):
    scenario = default_scenario().with_overrides(TINY)
    market_shares.run(scenario, tmp_path, progress=False)
    with pytest.raises(Exception, match="--overwrite"):
        market_shares.run(scenario, tmp_path, progress=False)
    market_shares.run(scenario, tmp_path, overwrite=True, progress=False)


def test_cli_quick_run(tmp_path, capsys):
    status = main(["run", "market_shares", "--quick", "--no-progress", "--out", str(tmp_path / "out"),
                   "--set", "users.count=300"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "mosaic" in printed
    assert "outside" in printed
    assert (tmp_path / "out" / "summary.json").exists()


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["--set", "users.elasticity=-2"], "'users.elasticity' = -2.0 is out of range"),
        (["--set", "users.elasticty=2"], "unknown key 'users.elasticty'"),
        (["--set", "platforms.nope.tau=1"], "no platform named 'nope'"),
        (["--set", "users.count"], "KEY=VALUE"),
        (["--scenario", "missing.toml"], "scenario file not found"),
        (["--users", "-5"], "'users.count' = -5 is out of range"),
    ],
)
def test_cli_bad_input_is_reported(tmp_path, capsys, arguments, fragment):
    status = main(["run", "market_shares", "--no-progress", "--out", str(tmp_path), *arguments])
    error = capsys.readouterr().err
    assert status == 2
    assert fragment in error
    assert "Traceback" not in error


def test_show_scenario_reads_back(tmp_path, capsys):
    assert main(["show-scenario", "--set", "platforms.mosaic.tau=0.2"]) == 0
    path = tmp_path / "shown.toml"
    path.write_text(capsys.readouterr().out)
    assert main(["show-scenario", "--scenario", str(path)]) == 0
    assert "tau = 0.2" in capsys.readouterr().out


def test_module_entry_point(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "experiments.market_shares", "--quick", "--no-progress", "--users", "300",
         "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "results written to" in completed.stdout
