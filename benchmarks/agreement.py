"""Tolerances within which the rewritten kernels must match their earlier versions.

MOSAIC
------

The two compute the same formulas in a different order, so they agree to
rounding, and rounding grows with the size of the terms that make up the
scores s_j = Σ_i r_i(y_j)/τ + log π_ref(y_j) − log π_gen(y_j). For one query
with M candidates, S = max_j (Σ_i |r_i(y_j)|/τ + |log π_ref(y_j) − log π_gen(y_j)|)
over the finite terms, largest |r_i(y_j)| = R and c = 256ε (ε the machine
epsilon), the tolerances are:

- allocations (q, q_ref, q^{−i}), probabilities: c·(M + S);
- KL divergence, nats: c·(M + S);
- potential Φ, dollars: c·τ·(M + S);
- utilities Φ − Φ_{−i} and payments, dollars: c·(τ·(M + S) + M·R).

Each term is a small multiple of the error of a log-sum-exp over M terms of
size up to S, scaled to the output's units.

Power diagram
-------------
The single-slot fast path takes every score from one matrix product, which
rounds differently from log b − λ‖x − c‖²/σ². Agreement means:

- the finite scores agree within 1e-9 relative (1e-12 absolute), and the
  −inf pattern is the same;
- the slot-0 winner is the same, except in queries whose two highest scores
  are within 1e-9 relative of each other, a near tie that rounding may
  break either way;
- where the winner is the same, its payment agrees within 1e-9 relative.
"""

import numpy as np

__all__ = ["mosaic_differences", "mosaic_tolerances", "near_tie_rows", "power_diagram_agrees"]

ROUNDING = 256 * np.finfo(float).eps


def mosaic_tolerances(rewards, log_p_ref, log_p_gen, tau):
    """Return each output's tolerance per query (shape (Q,)), as the module docstring defines them."""
    rewards = np.asarray(rewards, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.abs(rewards).sum(axis=2) / tau + np.abs(np.asarray(log_p_ref) - np.asarray(log_p_gen))
        size = np.max(np.where(np.isfinite(terms), terms, 0.0), axis=1, initial=0.0)
    n_candidates = rewards.shape[1]
    largest_reward = np.max(np.abs(rewards), axis=(1, 2), initial=0.0)
    probability = ROUNDING * (n_candidates + size)
    return {
        "allocation": probability,
        "reference_allocation": probability,
        "counterfactual_allocation": probability,
        "kl_to_reference": probability,
        "potential": ROUNDING * tau * (n_candidates + size),
        "utilities": ROUNDING * (tau * (n_candidates + size) + n_candidates * largest_reward),
        "payments": ROUNDING * (tau * (n_candidates + size) + n_candidates * largest_reward),
    }


def mosaic_differences(outcome, reference, reference_without, rewards, log_p_ref, log_p_gen, tau):
    """Return, per output, the largest |difference| from the reference divided by its tolerance.

    ``outcome`` must carry the counterfactual allocation (``counterfactual=True``).
    A value of at most 1 means that the output agrees.
    """
    tolerances = mosaic_tolerances(rewards, log_p_ref, log_p_gen, tau)
    pairs = {name: (getattr(outcome, name), getattr(reference, name)) for name in
             ("allocation", "payments", "potential", "utilities", "reference_allocation", "kl_to_reference")}
    pairs["counterfactual_allocation"] = (outcome.counterfactual_allocation, reference_without)
    differences = {}
    for name, (value, expected) in pairs.items():
        value, expected = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
        tolerance = tolerances[name].reshape((-1,) + (1,) * (expected.ndim - 1))
        with np.errstate(invalid="ignore"):
            ratio = np.where(value == expected, 0.0, np.abs(value - expected) / tolerance)
        differences[name] = float(np.max(ratio, initial=0.0))
    return differences


def near_tie_rows(scores):
    """Return a mask of the queries whose two highest finite scores are within 1e-9 relative of each other."""
    if scores.shape[1] < 2:
        return np.zeros(scores.shape[0], dtype=bool)
    top_two = -np.sort(-scores, axis=1)[:, :2]
    with np.errstate(invalid="ignore"):
        gap = np.abs(top_two[:, 0] - top_two[:, 1])
    return np.isfinite(top_two[:, 1]) & (gap <= 1e-9 * np.maximum(1.0, np.abs(top_two[:, 0])))


def power_diagram_agrees(outcome, reference):
    """Return whether a power-diagram outcome agrees with the reference's, as the module docstring defines it."""
    scores, expected = np.asarray(outcome.scores), np.asarray(reference.scores)
    if scores.shape != expected.shape or not np.array_equal(np.isneginf(scores), np.isneginf(expected)):
        return False
    finite = np.isfinite(expected)
    if not np.allclose(scores[finite], expected[finite], rtol=1e-9, atol=1e-12):
        return False
    same = outcome.winner == reference.winner
    if not np.all(same | near_tie_rows(expected)):
        return False
    return bool(np.allclose(outcome.payment[same], reference.payment[same], rtol=1e-9, atol=0.0))
