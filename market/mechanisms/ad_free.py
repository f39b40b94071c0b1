"""The ad-free mechanism: the reply is a plain draw from π_ref.

No auction runs, no advertiser pays, and the reply carries no placement. It
is the baseline that MOSAIC's KL penalty and the post-response placement are
measured against.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["AdFreeOutcome", "run_auction"]


@dataclass(frozen=True)
class AdFreeOutcome:
    """Result of a batch of ad-free queries.

    Attributes
    ----------
    payments : ndarray, shape (Q, n)
        All zero: nobody pays.
    """

    payments: np.ndarray


def run_auction(n_queries, n_advertisers):
    """Return the zero payments of ``n_queries`` queries with ``n_advertisers`` present."""
    if n_queries < 0 or n_advertisers < 0:
        raise ValueError(f"counts must be >= 0, got n_queries={n_queries}, n_advertisers={n_advertisers}")
    return AdFreeOutcome(payments=np.zeros((n_queries, n_advertisers)))
