"""Vectorised draws shared by the mechanisms and the agents."""

import numpy as np

__all__ = ["categorical"]


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
        The first index whose cumulative weight exceeds u·(row sum), u ~ U(0, 1),
        so an index of zero weight is never drawn.
    """
    cumulative = np.cumsum(weights, axis=1)
    draws = rng.random(cumulative.shape[0]) * cumulative[:, -1]
    chosen = (cumulative <= draws[:, None]).sum(axis=1)
    return np.minimum(chosen, cumulative.shape[1] - 1)
