"""PID control of the relevance gate: convergence to a target ad rate and anti-windup."""

import numpy as np
import pytest

from market.mechanisms import power_diagram
from market.mechanisms.gate_control import GateController


def unit_vectors(rng, count, dimension=8):
    vectors = rng.normal(size=(count, dimension))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def advertisers(rng, count=20):
    return {
        "centers": unit_vectors(rng, count),
        "reaches": rng.uniform(0.5, 1.5, size=count),
        "bids": rng.uniform(0.5, 3.0, size=count),
    }


def ad_rate(intents, market, gate, **auction_options):
    outcome = power_diagram.run_auction(intents, **market, gate=gate, **auction_options)
    return float(np.mean(outcome.winner >= 0))


@pytest.mark.parametrize("seed", [0, 1])
def test_ad_rate_converges_to_target(seed):
    rng = np.random.default_rng(seed)
    market = advertisers(rng)
    controller = GateController(target_rate=0.6, kp=0.1, ki=0.1, kd=0.05)
    rates = []
    for _ in range(300):
        rate = ad_rate(unit_vectors(rng, 500), market, controller.gate)
        rates.append(rate)
        controller.update(rate)

    # The initial gate 2 shows an ad on almost every query, so the controller had work to do.
    assert rates[0] > 0.9
    assert abs(np.mean(rates[-100:]) - 0.6) < 0.02
    # The final gate, checked on fresh queries.
    assert abs(ad_rate(unit_vectors(rng, 20_000), market, controller.gate) - 0.6) < 0.02


def test_unreachable_target_keeps_gate_in_bounds():
    # A reserve of 1 removes every advertiser from about a quarter of the intents at any gate,
    # so a rate of 1 is unreachable.
    rng = np.random.default_rng(3)
    market = advertisers(rng)
    controller = GateController(target_rate=1.0, kp=0.1, ki=0.1, kd=0.05)
    for _ in range(300):
        rate = ad_rate(unit_vectors(rng, 500), market, controller.gate, reserve=1.0)
        assert rate < 1.0
        controller.update(rate)
        assert 0.0 <= controller.gate <= 4.0

    assert controller.gate == 4.0
    # Anti-windup: the integral term stops where the output meets the bound, below τ_max − τ_0 = 2.
    assert controller.integral_term <= 2.0


def test_gate_leaves_upper_bound_at_once():
    controller = GateController(target_rate=0.6, kp=0.1, ki=0.1)
    for _ in range(500):
        controller.update(0.0)
    assert controller.gate == 4.0

    # One rate above target brings the gate back inside. A wound-up S of 500·0.1·0.6 = 30 would keep it at 4.
    assert controller.update(1.0) < 4.0


def test_gate_leaves_lower_bound_at_once():
    controller = GateController(target_rate=0.6, kp=0.1, ki=0.1)
    for _ in range(500):
        controller.update(1.0)
    assert controller.gate == 0.0

    assert controller.update(0.0) > 0.0


def test_update_law_hand_case():
    controller = GateController(target_rate=0.5, kp=1.0, ki=0.5, kd=2.0, initial_gate=1.0)
    # e = 0.5, S = 0.25, derivative 0: 1 + 0.5 + 0.25 = 1.75.
    assert controller.update(0.0) == pytest.approx(1.75, abs=1e-12)
    # e = 0.3, S = 0.4, derivative −0.2: 1 + 0.3 + 0.4 − 0.4 = 1.3.
    assert controller.update(0.2) == pytest.approx(1.3, abs=1e-12)
    # e = −0.5, S = 0.15, derivative −0.8: 1 − 0.5 + 0.15 − 1.6 = −0.95, below the bound 0.
    # The other terms alone give 1 − 0.5 − 1.6 = −1.1 < 0, so S keeps its old value 0.4.
    assert controller.update(1.0) == 0.0
    assert controller.integral_term == pytest.approx(0.4, abs=1e-12)


def test_integral_clamped_at_bound():
    controller = GateController(target_rate=1.0, kp=0.5, ki=1.0, initial_gate=1.0, bounds=(0.0, 2.0))
    # e = 1, S = 1: 1 + 0.5 + 1 = 2.5 > 2, so S is clamped to 2 − 1 − 0.5 = 0.5.
    assert controller.update(0.0) == 2.0
    assert controller.integral_term == pytest.approx(0.5, abs=1e-12)
    # e = 0.5, S would be 1: 1 + 0.25 + 1 > 2, so S becomes max(0.5, 2 − 1 − 0.25) = 0.75.
    assert controller.update(0.5) == 2.0
    assert controller.integral_term == pytest.approx(0.75, abs=1e-12)
    # e = 0: S stays 0.75 and the gate leaves the bound at 1.75.
    assert controller.update(1.0) == pytest.approx(1.75, abs=1e-12)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"target_rate": 0.0}, "target_rate"),
        ({"target_rate": 1.2}, "target_rate"),
        ({"ki": -0.1}, "ki"),
        ({"initial_gate": 5.0}, "initial_gate"),
        ({"bounds": (2.0, 1.0)}, "bounds"),
    ],
)
def test_invalid_parameters_rejected(options, message):
    parameters = {"target_rate": 0.5, "kp": 0.1, "ki": 0.1} | options
    with pytest.raises(ValueError, match=message):
        GateController(**parameters)


def test_observed_rate_out_of_range_rejected():
    controller = GateController(target_rate=0.5, kp=0.1, ki=0.1)
    with pytest.raises(ValueError, match="observed_rate"):
        controller.update(1.5)
    with pytest.raises(ValueError, match="observed_rate"):
        controller.update(float("nan"))
