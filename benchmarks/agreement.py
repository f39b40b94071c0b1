"""How close the MOSAIC kernel must come to the earlier scipy-logsumexp version.

The two compute the same formulas in a different order, so they agree to
rounding, and rounding grows with the size of the scores
s_j = Σ_i r_i(y_j)/τ + log π_ref(y_j) − log π_gen(y_j). For one query with
M candidates, largest finite |s_j| = S, largest |r_i(y_j)| = R and
c = 64ε (ε the machine epsilon), the tolerances are:

- allocations (q, q_ref, q^{−i}), probabilities: c·(M + S);
- KL divergence, nats: c·(M + S);
- potential Φ, dollars: c·τ·(M + S);
- utilities Φ − Φ_{−i} and payments, dollars: c·(τ·(M + S) + M·R).

Each term is a small multiple of the error of a log-sum-exp over M terms of
size up to S, scaled to the output's units.
"""

import numpy as np

__all__ = ["mosaic_differences", "mosaic_tolerances"]

ROUNDING = 64 * np.finfo(float).eps


def mosaic_tolerances(rewards, log_p_ref, log_p_gen, tau):
    """Return each output's tolerance per query (shape (Q,)), as the module docstring defines them."""
    rewards = np.asarray(rewards, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        scores = rewards.sum(axis=2) / tau + (np.asarray(log_p_ref) - np.asarray(log_p_gen))
        size = np.max(np.where(np.isfinite(scores), np.abs(scores), 0.0), axis=1, initial=0.0)
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
