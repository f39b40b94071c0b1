"""Vectorised draws shared by the mechanisms and the agents."""

import numpy as np

__all__ = ["categorical", "categorical_from_uniforms"]


def categorical(weights, rng):
    """Draw one index per row with probability proportional to ``weights``.

    Parameters
    ----------
    weights : ndarray, shape (Q, M)
        Non-negative weights; each row needs a positive sum.
    rng : numpy.random.Generator
        Source of the Q uniform draws, one per row.

    Returns
    -------
    ndarray of int, shape (Q,)
    """
    return categorical_from_uniforms(weights, rng.random(np.shape(weights)[0]))


def categorical_from_uniforms(weights, uniforms):
    """Return, per row, the first index whose cumulative weight exceeds u·(row sum).

    An index of zero weight is never drawn. With u ~ U[0, 1) this draws index j
    with probability weights[j] / sum(weights).
    """
    cumulative = np.cumsum(weights, axis=1)
    draws = np.asarray(uniforms) * cumulative[:, -1]
    chosen = (cumulative <= draws[:, None]).sum(axis=1)
    return np.minimum(chosen, cumulative.shape[1] - 1)
