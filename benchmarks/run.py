"""Benchmarks: auction kernels, model rounds, and batched users against plain Mesa agents.

Run ``python -m benchmarks.run`` for the quick set (a few minutes). Add
``--full`` for the default scenario's 100 rounds and 100,000 users × 100
rounds, which take most of an hour on 2 busy cores. Every ratio compares two timings taken in this one
run, so a slower or busier machine moves both sides. The figures go to
stdout and to ``results/benchmarks.json``.

Timings are the minimum over repeats for the kernels and the median over
rounds for the model, in wall-clock seconds (CPU seconds alongside).
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

from benchmarks import agreement, reference_kernels
from benchmarks.users_reference import ReferenceUsersModel, batched_users_round, users_only_setup
from market import parallel
from market.mechanisms import mosaic, power_diagram
from market.scenario import default_scenario

__all__ = ["main"]

TARGETS = {
    "mosaic_vs_exp": 3.0,
    "mosaic_per_query_speedup": 30.0,
    "power_diagram_vs_exp": 3.0,
    "power_diagram_per_query_speedup": 30.0,
    "default_scenario_seconds": 30.0,
    "large_run_seconds": 300.0,
    "large_run_peak_rss_mib": 2048.0,
    "round_time_exponent": 1.1,
    "batched_users_speedup": 20.0,
}


def best_time(function, repeats):
    """Return the minimum wall time of ``repeats`` calls of ``function``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


# --- kernels ---------------------------------------------------------------------------------------------------


def mosaic_kernel(repeats, sampled_queries):
    """Time MOSAIC on Q = 10,000 queries, M = 20 candidates, n = 8 advertisers, against np.exp and per-query calls.

    The batched call is timed with every core (the default) and with one
    thread (``MARKET_THREADS=1``); ``np.exp`` runs on one thread either way.
    """
    rng = np.random.default_rng(0)
    n_queries, n_candidates, n_advertisers, tau = 10_000, 20, 8, 0.05
    rewards = rng.uniform(0.0, 0.1, (n_queries, n_candidates, n_advertisers))
    log_p_ref = rng.normal(-10.0, 2.0, (n_queries, n_candidates))
    log_p_gen = log_p_ref + rng.normal(0.0, 0.5, (n_queries, n_candidates))
    exponent_input = rng.normal(size=(n_queries, n_candidates, n_advertisers + 1))

    exp_seconds = best_time(lambda: np.exp(exponent_input), repeats)
    batched = best_time(lambda: mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau), repeats)
    without = best_time(lambda: mosaic.allocation_without(rewards, log_p_ref, log_p_gen, tau), repeats)
    with parallel.thread_setting(1):
        one_thread = best_time(lambda: mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau), repeats)
    before = best_time(lambda: reference_kernels.run_auction(rewards, log_p_ref, log_p_gen, tau), repeats)
    sample = range(sampled_queries)
    per_query = best_time(lambda: [mosaic.run_auction(rewards[q], log_p_ref[q], log_p_gen[q], tau) for q in sample],
                          1) * n_queries / sampled_queries

    outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau, counterfactual=True)
    reference = reference_kernels.run_auction(rewards, log_p_ref, log_p_gen, tau)
    reference_without = reference_kernels.allocation_without(rewards, log_p_ref, log_p_gen, tau)
    return {
        "shape": [n_queries, n_candidates, n_advertisers],
        "threads": parallel.thread_count(),
        "exp_seconds": exp_seconds,
        "run_auction_seconds": batched,
        "run_auction_one_thread_seconds": one_thread,
        "allocation_without_seconds": without,
        "run_auction_scipy_logsumexp_seconds": before,
        "per_query_seconds_extrapolated": per_query,
        "per_query_sampled_queries": sampled_queries,
        "mosaic_vs_exp": batched / exp_seconds,
        "mosaic_one_thread_vs_exp": one_thread / exp_seconds,
        "allocation_without_vs_exp": without / exp_seconds,
        "mosaic_per_query_speedup": per_query / batched,
        "speedup_over_scipy_logsumexp": before / batched,
        "largest_difference_over_tolerance": agreement.mosaic_differences(outcome, reference, reference_without,
                                                                          rewards, log_p_ref, log_p_gen, tau),
    }


def power_diagram_kernel(repeats, sampled_queries):
    """Time the power diagram on Q = 100,000 intents and n = 30 advertisers, against np.exp and per-query calls."""
    rng = np.random.default_rng(1)
    n_queries, n_advertisers, dimension = 100_000, 30, 16
    intents = rng.normal(size=(n_queries, dimension))
    intents /= np.linalg.norm(intents, axis=1, keepdims=True)
    centres = rng.normal(size=(n_advertisers, dimension))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    reaches = rng.uniform(0.5, 1.0, n_advertisers)
    bids = rng.uniform(0.02, 0.10, n_advertisers)
    exponent_input = rng.normal(size=(n_queries, n_advertisers))

    exp_seconds = best_time(lambda: np.exp(exponent_input), repeats)
    batched = best_time(lambda: power_diagram.run_auction(intents, centres, reaches, bids), repeats)
    before = best_time(lambda: reference_kernels.power_diagram_auction(intents, centres, reaches, bids), repeats)
    outcome = power_diagram.run_auction(intents, centres, reaches, bids)
    reference = reference_kernels.power_diagram_auction(intents, centres, reaches, bids)
    per_query = best_time(
        lambda: [power_diagram.run_auction(intents[q : q + 1], centres, reaches, bids) for q in range(sampled_queries)],
        1,
    ) * n_queries / sampled_queries
    return {
        "shape": [n_queries, n_advertisers],
        "exp_seconds": exp_seconds,
        "run_auction_seconds": batched,
        "run_auction_sorted_seconds": before,
        "per_query_seconds_extrapolated": per_query,
        "per_query_sampled_queries": sampled_queries,
        "power_diagram_vs_exp": batched / exp_seconds,
        "power_diagram_per_query_speedup": per_query / batched,
        "speedup_over_sorted_ranking": before / batched,
        "agrees_with_sorted_ranking": agreement.power_diagram_agrees(outcome, reference),
        "same_winners_as_sorted_ranking": int(np.sum(outcome.winner == reference.winner)),
    }


def random_agreement_cases(n_cases, seed=5):
    """Compare both rewritten kernels with their earlier versions on random batches; return the cases that agree.

    Agreement is defined in `benchmarks.agreement`.
    The MOSAIC cases vary Q, M and n (0 to 9 advertisers), the layout of the
    rewards, τ from 1e-12 to 1e12, ties, and competitive separation. The
    power-diagram cases vary ties, zero bids, per-query bids, gates, the
    cosine threshold, the reserve and λ.
    """
    rng = np.random.default_rng(seed)
    matching = {"mosaic": 0, "power_diagram": 0}
    for case in range(n_cases):
        shape = (int(rng.integers(0, 40)), int(rng.integers(1, 40)), int(rng.integers(0, 10)))
        rewards = rng.normal(size=shape) * 10.0 ** rng.uniform(-8, 6)
        if case % 6 == 0:
            rewards = np.round(rewards)
        if case % 9 == 0:
            rewards = np.asfortranarray(rewards)
        log_p_ref, log_p_gen = rng.normal(size=shape[:2]) * 3, rng.normal(size=shape[:2]) * 3
        tau = 10.0 ** rng.uniform(-12, 12)
        admissible = None if case % 3 else rng.random(shape[:2]) < 0.5
        with np.errstate(all="ignore"):
            outcome = mosaic.run_auction(rewards, log_p_ref, log_p_gen, tau, admissible, counterfactual=True)
            reference = reference_kernels.run_auction(rewards, log_p_ref, log_p_gen, tau, admissible)
            without = reference_kernels.allocation_without(rewards, log_p_ref, log_p_gen, tau, admissible)
            differences = agreement.mosaic_differences(outcome, reference, without, rewards, log_p_ref, log_p_gen, tau)
        same = max(differences.values()) <= 1.0 and np.array_equal(outcome.void, reference.void)
        matching["mosaic"] += bool(same)

        n_queries, n_bidders = int(rng.integers(0, 40)), int(rng.integers(1, 12))
        intents, centres = rng.normal(size=(n_queries, 4)), rng.normal(size=(n_bidders, 4))
        centres[rng.integers(n_bidders)] = centres[0]
        bids = np.round(rng.uniform(0, 1, n_bidders), 1) * (rng.random(n_bidders) < 0.7)
        if case % 4 == 0:
            bids = rng.uniform(0, 1, (n_queries, n_bidders)) * (rng.random((n_queries, n_bidders)) < 0.5)
        weight = float(rng.choice([0.0, 0.5, 1.0, 3.0]))
        options = {"gate": None if case % 2 else float(rng.uniform(0, 4)),
                   "cosine_threshold": None if case % 3 else float(rng.uniform(-1, 1)),
                   "reserve": 0.0 if case % 5 else float(rng.uniform(0, 0.5))}
        reaches = rng.uniform(0.1, 2, n_bidders)
        with np.errstate(all="ignore"):
            now = power_diagram.run_auction(intents, centres, reaches, bids, weight, **options)
            earlier = reference_kernels.power_diagram_auction(intents, centres, reaches, bids, weight, **options)
        matching["power_diagram"] += agreement.power_diagram_agrees(now, earlier)
    return matching


# --- model rounds ------------------------------------------------------------------------------------------------


def model_run(users, rounds):
    """Time one run in a fresh process (see `benchmarks.model_run`)."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.model_run", "--users", str(users), "--rounds", str(rounds)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["median_round_wall_seconds"] = float(np.median(figures["round_wall_seconds"]))
    figures["median_round_cpu_seconds"] = float(np.median(figures["round_cpu_seconds"]))
    return figures


def model_scaling(user_counts, rounds):
    """Time per round against users, with the exponent of a log-log least-squares fit."""
    runs = [model_run(users, rounds) for users in user_counts]
    users = np.log([run["users"] for run in runs])
    wall_exponent = np.polyfit(users, np.log([run["median_round_wall_seconds"] for run in runs]), 1)[0]
    cpu_exponent = np.polyfit(users, np.log([run["median_round_cpu_seconds"] for run in runs]), 1)[0]
    return {
        "rounds_per_size": rounds,
        "runs": [{key: run[key] for key in ("users", "median_round_wall_seconds", "median_round_cpu_seconds",
                                            "peak_rss_mib")} for run in runs],
        "round_time_exponent": float(wall_exponent),
        "round_cpu_time_exponent": float(cpu_exponent),
    }


# --- batched users against plain Mesa agents --------------------------------------------------------------------


def users_speed(users, rounds):
    """Wall time per round of the users-only market: batched rules against one Mesa call per user."""
    scenario = default_scenario().with_overrides({"users.count": users})
    population, centroids, qualities, rng = users_only_setup(scenario, 1)
    spread = scenario.embedding.intent_spread
    started = time.perf_counter()
    for _ in range(rounds):
        batched_users_round(population, centroids, qualities, spread, rng)
    batched = (time.perf_counter() - started) / rounds

    reference = ReferenceUsersModel(scenario, 1)
    started = time.perf_counter()
    for _ in range(rounds):
        reference.step()
    per_agent = (time.perf_counter() - started) / rounds
    return {
        "users": users,
        "rounds": rounds,
        "batched_round_seconds": batched,
        "mesa_agents_round_seconds": per_agent,
        "batched_users_speedup": per_agent / batched,
    }


def users_agreement(users, rounds, seeds):
    """Compare final membership shares of both implementations over ``seeds`` seeds, per platform.

    For each platform and the outside option, the final-round shares of the
    seeds form two samples. Welch's t-test compares their means, and the
    95 % Student-t intervals of the two means are checked for overlap. The
    implementations agree if every p-value exceeds 0.01 and every pair of
    intervals overlaps.
    """
    scenario = default_scenario().with_overrides({"users.count": users})
    names = [platform.name for platform in scenario.platforms] + ["outside"]
    batched, per_agent = [], []
    for seed in range(seeds):
        population, centroids, qualities, rng = users_only_setup(scenario, seed)
        for _ in range(rounds):
            batched_users_round(population, centroids, qualities, scenario.embedding.intent_spread, rng)
        batched.append(_with_outside(population.members))

        reference = ReferenceUsersModel(scenario, seed)
        for _ in range(rounds):
            reference.step()
        per_agent.append(_with_outside(np.array([user.members for user in reference.users])))
    batched, per_agent = np.array(batched), np.array(per_agent)

    platforms = []
    for column, name in enumerate(names):
        test = stats.ttest_ind(batched[:, column], per_agent[:, column], equal_var=False)
        first, second = _interval(batched[:, column]), _interval(per_agent[:, column])
        platforms.append({
            "platform": name,
            "batched_mean": float(batched[:, column].mean()),
            "mesa_agents_mean": float(per_agent[:, column].mean()),
            "batched_ci": first,
            "mesa_agents_ci": second,
            "welch_p_value": float(test.pvalue),
            "intervals_overlap": bool(first[0] <= second[1] and second[0] <= first[1]),
        })
    agree = all(entry["welch_p_value"] > 0.01 and entry["intervals_overlap"] for entry in platforms)
    return {"users": users, "rounds": rounds, "seeds": seeds, "platforms": platforms, "distributions_agree": agree}


def _with_outside(members):
    return np.append(members.mean(axis=0), 1.0 - members.any(axis=1).mean())


def _interval(values):
    mean = values.mean()
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return [float(mean - half), float(mean + half)]


# --- report ------------------------------------------------------------------------------------------------------


def machine():
    """Return what the figures were measured on."""
    import os

    return {
        "cores": len(os.sched_getaffinity(0)),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def print_ratio(name, value, target, larger_is_better):
    met = value >= target if larger_is_better else value <= target
    relation = ">=" if larger_is_better else "<="
    print(f"  {name:<44} {value:10.3g}   target {relation} {target:g}   {'met' if met else 'MISSED'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the project's benchmarks and write results/benchmarks.json.")
    parser.add_argument("--full", action="store_true",
                        help="also run the default scenario's 100 rounds and 100,000 users × 100 rounds")
    parser.add_argument("--out", default="results/benchmarks.json", help="JSON file for the figures")
    arguments = parser.parse_args(argv)

    results = {"machine": machine(), "full": arguments.full, "targets": TARGETS}
    print(f"machine: {results['machine']}")

    print("kernels ...", flush=True)
    results["mosaic"] = mosaic_kernel(repeats=7, sampled_queries=1000)
    results["power_diagram"] = power_diagram_kernel(repeats=7, sampled_queries=2000)
    print_ratio("MOSAIC time / np.exp time", results["mosaic"]["mosaic_vs_exp"], 3.0, False)
    print(f"  {'MOSAIC time on one thread / np.exp time':<44} {results['mosaic']['mosaic_one_thread_vs_exp']:10.3g}")
    print(f"  {'MOSAIC allocation_without time / np.exp time':<44} "
          f"{results['mosaic']['allocation_without_vs_exp']:10.3g}")
    print_ratio("MOSAIC per-query calls / batched", results["mosaic"]["mosaic_per_query_speedup"], 30.0, True)
    worst = max(results["mosaic"]["largest_difference_over_tolerance"].values())
    print(f"  {'MOSAIC scipy-logsumexp version / now':<44} {results['mosaic']['speedup_over_scipy_logsumexp']:10.3g}"
          f"   largest difference / tolerance: {worst:.3g}")
    print_ratio("power diagram time / np.exp time", results["power_diagram"]["power_diagram_vs_exp"], 3.0, False)
    print_ratio("power diagram per-query calls / batched", results["power_diagram"]["power_diagram_per_query_speedup"],
                30.0, True)
    print(f"  {'power diagram sorted ranking / now':<44} "
          f"{results['power_diagram']['speedup_over_sorted_ranking']:10.3g}"
          f"   agrees: {results['power_diagram']['agrees_with_sorted_ranking']}, same winner in "
          f"{results['power_diagram']['same_winners_as_sorted_ranking']:,} of 100,000 queries")
    cases = 1500
    matching = random_agreement_cases(cases)
    results["random_agreement_cases"] = {"cases": cases, "agreeing": matching}
    print(f"  agreement with the earlier kernels on random cases: MOSAIC {matching['mosaic']} of {cases}, "
          f"power diagram {matching['power_diagram']} of {cases}")

    print("users: batched against Mesa agents ...", flush=True)
    results["users_speed"] = users_speed(10_000, rounds=3)
    print_ratio("Mesa agents round time / batched (10,000 users)", results["users_speed"]["batched_users_speedup"],
                20.0, True)
    agreement = users_agreement(2000, rounds=20, seeds=10) if arguments.full else users_agreement(1000, 10, 6)
    results["users_agreement"] = agreement
    for entry in agreement["platforms"]:
        print(f"  final share {entry['platform']:<10} batched {entry['batched_mean']:.4f}  Mesa agents "
              f"{entry['mesa_agents_mean']:.4f}  Welch p = {entry['welch_p_value']:.3f}  "
              f"95% CIs overlap: {entry['intervals_overlap']}")
    print(f"  distributions agree: {agreement['distributions_agree']}")

    print("model rounds ...", flush=True)
    if arguments.full:
        results["default_scenario"] = model_run(10_000, 100)
        results["large_run"] = model_run(100_000, 100)
        results["scaling"] = model_scaling([10_000, 20_000, 50_000, 100_000], rounds=10)
        print_ratio("default scenario, 10,000 users × 100 rounds (s)", results["default_scenario"]["total_seconds"],
                    30.0, False)
        print_ratio("100,000 users × 100 rounds (s)", results["large_run"]["total_seconds"], 300.0, False)
        print_ratio("100,000 users × 100 rounds, peak RSS (MiB)", results["large_run"]["peak_rss_mib"], 2048.0, False)
    else:
        results["default_scenario_10_rounds"] = model_run(10_000, 10)
        results["scaling"] = model_scaling([10_000, 30_000, 100_000], rounds=3)
        default = results["default_scenario_10_rounds"]
        estimate = default["setup_seconds"] + 100 * default["median_round_wall_seconds"]
        print_ratio("default scenario, 100 rounds, estimated (s)", estimate, 30.0, False)
        largest = results["scaling"]["runs"][-1]
        print_ratio("100,000 users × 100 rounds, estimated (s)", 100 * largest["median_round_wall_seconds"], 300.0,
                    False)
        print_ratio("100,000 users × 3 rounds, peak RSS (MiB)", largest["peak_rss_mib"], 2048.0, False)
    print_ratio("exponent of round time in users", results["scaling"]["round_time_exponent"], 1.1, False)
    print(f"  {'exponent of round CPU time in users':<44} {results['scaling']['round_cpu_time_exponent']:10.3g}")

    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
