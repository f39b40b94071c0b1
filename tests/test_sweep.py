"""Sweeps: file parsing, seeds, backends giving one table, resume, failures, interrupts."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.runs import replicate_seeds, run_cells
from market.cli import main
from market.scenario import ScenarioError, default_scenario
from market.sweeps import SweepError, load_sweep, load_table, point_seeds, run_sweep, simulate, sweep_from_dict
from market.sweeps import backends

pytest.importorskip("pyarrow")

TINY_SWEEP = """\
seeds = 2
base_seed = 11

[overrides]
users.count = 150
rounds = 2

[grid]
platforms.mosaic.tau = [0.01, 0.1]
"users.elasticity" = [1, 3.5]
"""

# Enough runs that an interrupt lands mid-way: 12 runs of about half a second each.
INTERRUPTED_SWEEP = """\
seeds = 3
base_seed = 5

[overrides]
users.count = 300
rounds = 5

[grid]
"users.elasticity" = [1.0, 2.0, 3.0, 4.0]
"""


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_spec(tmp_path_factory):
    return load_sweep(write(tmp_path_factory.mktemp("spec") / "tiny.toml", TINY_SWEEP))


@pytest.fixture(scope="module")
def serial_table(tiny_spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    report = run_sweep(tiny_spec, out, progress=False)
    assert report.exit_status == 0
    return load_table(out)


# --- the sweep file -------------------------------------------------------------------------------------------


def test_grid_order_and_labels(tiny_spec):
    runs = tiny_spec.runs()
    assert len(runs) == 8
    assert [run.labels for run in runs[::2]] == [
        {"platforms.mosaic.tau": 0.01, "users.elasticity": 1},
        {"platforms.mosaic.tau": 0.01, "users.elasticity": 3.5},
        {"platforms.mosaic.tau": 0.1, "users.elasticity": 1},
        {"platforms.mosaic.tau": 0.1, "users.elasticity": 3.5},
    ]
    assert runs[3].run_id == "p00001-r001"
    assert runs[3].scenario.platforms[0].tau == 0.01
    assert runs[3].scenario.users.elasticity == 3.5
    assert runs[3].scenario.users.count == 150


def test_seeds_come_from_point_and_replicate(tiny_spec):
    runs = tiny_spec.runs()
    for run in runs:
        child = np.random.SeedSequence([11, run.point]).spawn(2)[run.replicate]
        assert run.seed == int(child.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))
        assert run.scenario.seed == run.seed
    assert len({run.seed for run in runs}) == len(runs)
    assert point_seeds(11, 3, 2) == [runs[6].seed, runs[7].seed]


def test_quoted_and_nested_keys_agree():
    nested = sweep_from_dict({"grid": {"users": {"elasticity": [1.0, 2.0]}}})
    quoted = sweep_from_dict({"grid": {"users.elasticity": [1.0, 2.0]}})
    assert nested.points == quoted.points == ({"users.elasticity": 1.0}, {"users.elasticity": 2.0})


def test_points_list_and_defaults():
    spec = sweep_from_dict({"points": [{"users.count": 100}, {"users": {"count": 200}, "rounds": 1}]})
    assert spec.points == ({"users.count": 100}, {"users.count": 200, "rounds": 1})
    assert spec.seeds == 1
    assert spec.base_seed == default_scenario().seed


def test_no_grid_gives_one_point():
    spec = sweep_from_dict({"seeds": 3})
    assert spec.points == ({},)
    assert len(spec.runs()) == 3


def test_scenario_path_is_relative_to_sweep_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "base.toml", "rounds = 7\n[users]\ncount = 123\n")
    spec = load_sweep(write(tmp_path / "sub" / "sweep.toml", 'scenario = "base.toml"\n'))
    assert spec.base.rounds == 7
    assert spec.base.users.count == 123


def test_inline_scenario_table():
    spec = sweep_from_dict({"scenario": {"rounds": 3, "users": {"count": 50}}})
    assert (spec.base.rounds, spec.base.users.count) == (3, 50)


@pytest.mark.parametrize(
    "data, fragments",
    [
        ({"grids": {}}, ["unknown key 'grids'", "grid"]),
        ({"grid": {"users.count": [1]}, "points": [{}]}, ["both [grid] and [[points]]"]),
        ({"grid": {"users.elasticity": 2.0}}, ["users.elasticity", "non-empty array", "[2.0]"]),
        ({"grid": {"users.elasticity": []}}, ["users.elasticity", "non-empty array"]),
        ({"grid": {"seed": [1, 2]}}, ["'seed'", "base_seed"]),
        ({"seeds": 0}, ["'seeds' = 0", "1 <= seeds"]),
        ({"seeds": "two"}, ["'seeds' must be an integer", "'two'"]),
        ({"base_seed": -1}, ["'base_seed' = -1", "0 <= base_seed"]),
        ({"points": []}, ["'points' is empty"]),
        ({"points": [1, 2]}, ["array of tables"]),
        ({"scenario": 5}, ["'scenario' must be a path"]),
        ({"grid": {"users.elasticity": [1.0, -5.0]}}, ["point 1", "users.elasticity", "-5.0", "0.0 <= elasticity"]),
        ({"grid": {"platforms.nobody.tau": [0.1]}}, ["no platform named 'nobody'"]),
    ],
)
def test_invalid_sweep_names_the_problem(data, fragments):
    with pytest.raises(SweepError) as raised:
        sweep_from_dict(data)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_invalid_fixed_override_is_scenario_error():
    with pytest.raises(ScenarioError, match="users.count"):
        sweep_from_dict({"overrides": {"users.count": -3}})


def test_truncated_sweep_file(tmp_path):
    with pytest.raises(SweepError, match="invalid TOML"):
        load_sweep(write(tmp_path / "cut.toml", TINY_SWEEP[:60]))


def test_missing_sweep_file(tmp_path):
    with pytest.raises(SweepError, match="not found"):
        load_sweep(tmp_path / "absent.toml")


# --- backends ---------------------------------------------------------------------------------------------------


def test_serial_table_contents(serial_table, tiny_spec):
    runs = tiny_spec.runs()
    # 8 runs × rounds 0 to 2 × (3 platforms and the outside option).
    assert len(serial_table) == 8 * 3 * 4
    assert list(serial_table[["point", "replicate"]].drop_duplicates().itertuples(index=False, name=None)) == [
        (run.point, run.replicate) for run in runs
    ]
    first = serial_table[(serial_table["point"] == 0) & (serial_table["replicate"] == 0)]
    expected = simulate(runs[0].scenario)
    np.testing.assert_array_equal(first["membership_share"].to_numpy(), expected["membership_share"].to_numpy())
    assert set(serial_table["platforms.mosaic.tau"]) == {0.01, 0.1}
    assert serial_table["users.elasticity"].dtype == float


def test_processes_backend_same_table(tiny_spec, serial_table, tmp_path):
    report = run_sweep(tiny_spec, tmp_path / "out", backend="processes", workers=2, progress=False)
    assert report.exit_status == 0
    pd.testing.assert_frame_equal(load_table(tmp_path / "out"), serial_table)


def test_dask_backend_same_table(tiny_spec, serial_table, tmp_path):
    pytest.importorskip("dask.distributed")
    report = run_sweep(tiny_spec, tmp_path / "out", backend="dask", workers=2, progress=False)
    assert report.exit_status == 0
    pd.testing.assert_frame_equal(load_table(tmp_path / "out"), serial_table)


def test_run_cells_processes_match_serial():
    scenario = default_scenario().with_overrides({"users.count": 120, "rounds": 2})
    cells = [({"elasticity": value}, scenario.with_overrides({"users.elasticity": value})) for value in (1.0, 4.0)]
    serial = run_cells(cells, 3, 2, progress=False)
    parallel = run_cells(cells, 3, 2, progress=False, backend="processes", workers=2)
    pd.testing.assert_frame_equal(parallel, serial)
    assert list(serial["seed"].unique()) == replicate_seeds(3, 2)


# --- resume, failures and the output folder --------------------------------------------------------------------


def test_resume_skips_complete_and_recomputes_damaged(tiny_spec, serial_table, tmp_path):
    out = tmp_path / "out"
    run_sweep(tiny_spec, out, progress=False)
    runs_folder = out / "runs"
    truncated = runs_folder / "p00001-r000.parquet"
    truncated.write_bytes(truncated.read_bytes()[:100])
    (runs_folder / "p00002-r001.json").unlink()
    manifest = json.loads((runs_folder / "p00003-r000.json").read_text())
    manifest["rows"] += 1
    (runs_folder / "p00003-r000.json").write_text(json.dumps(manifest))

    report = run_sweep(tiny_spec, out, resume=True, progress=False)

    assert report.skipped == 5
    assert sorted(report.succeeded) == ["p00001-r000", "p00002-r001", "p00003-r000"]
    pd.testing.assert_frame_equal(load_table(out), serial_table)


def test_resume_of_finished_sweep_runs_nothing(tiny_spec, tmp_path):
    run_sweep(tiny_spec, tmp_path / "out", progress=False)
    report = run_sweep(tiny_spec, tmp_path / "out", resume=True, progress=False)
    assert report.skipped == 8
    assert report.succeeded == []


def test_manifest_records_provenance(tiny_spec, tmp_path):
    run_sweep(tiny_spec, tmp_path / "out", progress=False)
    manifest = json.loads((tmp_path / "out" / "runs" / "p00002-r001.json").read_text())
    run = tiny_spec.runs()[5]
    assert manifest["status"] == "ok"
    assert manifest["seed"] == run.seed
    assert manifest["scenario"]["seed"] == run.seed
    assert manifest["scenario"]["platforms"][0]["tau"] == 0.1
    assert manifest["overrides"] == {"platforms.mosaic.tau": 0.1, "users.elasticity": 1}
    assert manifest["package_versions"]["numpy"] == np.__version__
    assert "git_commit" in manifest
    assert len(manifest["sha256"]) == 64


def fail_on_high_elasticity(scenario):
    """A run function that fails for one grid value, to test failure handling."""
    if scenario.users.elasticity > 3:
        raise RuntimeError(f"refusing elasticity {scenario.users.elasticity}")
    return simulate(scenario)


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_failed_runs_are_recorded(tiny_spec, tmp_path, backend):
    report = run_sweep(tiny_spec, tmp_path / "out", backend=backend, workers=2, progress=False,
                       function=fail_on_high_elasticity)
    assert sorted(report.failed) == ["p00001-r000", "p00001-r001", "p00003-r000", "p00003-r001"]
    assert len(report.succeeded) == 4
    assert report.exit_status == 1
    manifest = json.loads((tmp_path / "out" / "runs" / "p00001-r000.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"] == "RuntimeError: refusing elasticity 3.5"
    assert "fail_on_high_elasticity" in manifest["traceback"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["succeeded"] == 4
    assert len(summary["failed"]) == 4
    assert set(load_table(tmp_path / "out")["point"]) == {0, 2}


def test_resume_retries_failed_runs(tiny_spec, serial_table, tmp_path):
    run_sweep(tiny_spec, tmp_path / "out", progress=False, function=fail_on_high_elasticity)
    report = run_sweep(tiny_spec, tmp_path / "out", resume=True, progress=False)
    assert report.skipped == 4
    assert report.exit_status == 0
    pd.testing.assert_frame_equal(load_table(tmp_path / "out"), serial_table)


def test_existing_results_are_not_overwritten(tiny_spec, tmp_path):
    out = tmp_path / "out"
    run_sweep(tiny_spec, out, progress=False)
    with pytest.raises(SweepError, match="--resume"):
        run_sweep(tiny_spec, out, progress=False)
    report = run_sweep(tiny_spec, out, overwrite=True, progress=False)
    assert report.skipped == 0
    assert len(report.succeeded) == 8


def test_folder_with_other_files_is_refused(tiny_spec, tmp_path):
    write(tmp_path / "notes.txt", "mine")
    with pytest.raises(SweepError, match="already contains results"):
        run_sweep(tiny_spec, tmp_path, progress=False)
    with pytest.raises(SweepError, match="cannot be resumed"):
        run_sweep(tiny_spec, tmp_path, resume=True, progress=False)


def test_resume_rejects_another_sweep(tiny_spec, tmp_path):
    run_sweep(tiny_spec, tmp_path / "out", progress=False)
    other = sweep_from_dict({"overrides": {"users.count": 150, "rounds": 2}, "seeds": 1})
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(other, tmp_path / "out", resume=True, progress=False)


# --- command line -----------------------------------------------------------------------------------------------


def test_cli_sweep_and_exit_codes(tmp_path, capsys):
    sweep_file = write(tmp_path / "tiny.toml", TINY_SWEEP)
    out = tmp_path / "out"
    assert main(["sweep", str(sweep_file), "--out", str(out), "--no-progress"]) == 0
    assert "8 runs complete" in capsys.readouterr().out

    assert main(["sweep", str(sweep_file), "--out", str(out), "--no-progress"]) == 2
    assert "--resume" in capsys.readouterr().err

    assert main(["sweep", str(sweep_file), "--out", str(out), "--no-progress", "--resume"]) == 0
    assert "8 from earlier" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--resume", "--overwrite"], "exclude each other"),
        (["--backend", "processes", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --backend dask"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_cli_rejects_bad_options(tmp_path, capsys, extra, fragment):
    sweep_file = write(tmp_path / "tiny.toml", TINY_SWEEP)
    assert main(["sweep", str(sweep_file), "--out", str(tmp_path / "out"), "--no-progress", *extra]) == 2
    assert fragment in capsys.readouterr().err


def test_cli_invalid_sweep_file(tmp_path, capsys):
    sweep_file = write(tmp_path / "bad.toml", '[grid]\n"users.elasticity" = [1.0, -5.0]\n')
    assert main(["sweep", str(sweep_file), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "users.elasticity" in error
    assert "-5.0" in error


# --- interrupts -------------------------------------------------------------------------------------------------


def sweep_command(sweep_file, out, *extra):
    return [sys.executable, "-m", "market.cli", "sweep", str(sweep_file), "--out", str(out), "--no-progress", *extra]


def wait_for_manifests(folder, count, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list(Path(folder).glob("runs/*.json"))) >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"the sweep ended before it could be interrupted: status {process.returncode}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"no {count} finished runs within {timeout} s")


@pytest.mark.parametrize("signum, backend", [(signal.SIGINT, "processes"), (signal.SIGTERM, "serial")])
def test_interrupted_sweep_resumes_to_same_table(tmp_path, signum, backend):
    sweep_file = write(tmp_path / "sweep.toml", INTERRUPTED_SWEEP)
    interrupted = tmp_path / "interrupted"
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(sweep_command(sweep_file, interrupted, "--backend", backend, "--workers", "2"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    wait_for_manifests(interrupted, 2, process)
    process.send_signal(signum)
    _, error = process.communicate(timeout=120)

    assert process.returncode == 128 + signum, error
    assert "--resume" in error
    finished = len(list((interrupted / "runs").glob("*.json")))
    assert 2 <= finished < 12
    assert not (interrupted / "table.parquet").exists()
    assert not list((interrupted / "runs").glob("*.partial"))

    resumed = subprocess.run(sweep_command(sweep_file, interrupted, "--resume"), capture_output=True, text=True,
                             env=environment, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({finished} from earlier)" in resumed.stdout

    report = run_sweep(load_sweep(sweep_file), tmp_path / "uninterrupted", progress=False)
    assert report.exit_status == 0
    pd.testing.assert_frame_equal(load_table(interrupted), load_table(tmp_path / "uninterrupted"))


def kernel_threads(_):
    """Return the worker's MARKET_THREADS (a module-level function, so that workers can import it)."""
    return os.environ.get("MARKET_THREADS")


def test_process_workers_share_the_cores(monkeypatch):
    monkeypatch.delenv("MARKET_THREADS", raising=False)
    outcomes = list(backends.map_runs(kernel_threads, [0, 1], backend="processes", workers=2))
    expected = str(max(1, backends.default_workers() // 2))
    assert [outcome.value for outcome in outcomes] == [expected, expected]


def test_process_workers_keep_thread_setting(monkeypatch):
    monkeypatch.setenv("MARKET_THREADS", "3")
    outcomes = list(backends.map_runs(kernel_threads, [0], backend="processes", workers=2))
    assert outcomes[0].value == "3"
