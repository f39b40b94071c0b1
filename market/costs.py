r"""Inference cost of serving a query, counted the same way for every mechanism.

Two accountings are reported side by side, because they disagree by a factor
of about L for MOSAIC:

- **forward passes**: one pass generates one token or scores one whole text.
  A plain reply of L tokens costs L passes. MOSAIC costs M·(L + n + 1): M
  generations of L tokens, then each candidate scored once by each of the n
  reward models and once by π_ref.
- **token-forwards**: one token read or written by a model. A plain reply
  costs L. MOSAIC costs M·L·(n + 2): M generations of L tokens plus n + 1
  scoring passes that each read the candidate's L tokens.

The post-response auction serves a plain reply, then runs one embedding pass
over E tokens of the conversation (1 forward pass, E token-forwards) and the
auction itself, about 2·n·d floating-point operations for n advertisers in
d dimensions. That is negligible beside a single token-forward of an LLM, so
it is counted in `auction_flops` and left out of the dollar cost.

Dollar cost: a plain query costs c dollars, so one unit of the chosen
accounting costs c / L and a query costs units · c / L.

NOTE: an embedding token-forward is charged like an LLM token-forward,
although embedding models are usually far smaller; this overstates the
post-response auction's cost.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["ACCOUNTINGS", "QueryCost", "dollars", "mosaic_cost", "plain_cost", "post_response_cost"]

ACCOUNTINGS = ("forward_passes", "token_forwards")


@dataclass(frozen=True)
class QueryCost:
    """Compute spent on each of Q queries.

    Attributes
    ----------
    forward_passes, token_forwards : ndarray, shape (Q,)
    auction_flops : ndarray, shape (Q,)
        Floating-point operations of a post-response auction (0 for the others).
    """

    forward_passes: np.ndarray
    token_forwards: np.ndarray
    auction_flops: np.ndarray


def plain_cost(n_queries, reply_tokens):
    """Return the cost of ``n_queries`` plain replies of L tokens: L passes and L token-forwards each."""
    units = np.full(n_queries, float(reply_tokens))
    return QueryCost(forward_passes=units, token_forwards=units.copy(), auction_flops=np.zeros(n_queries))


def mosaic_cost(advertisers, candidates, reply_tokens):
    """Return MOSAIC's cost per query: M·(L + n + 1) passes and M·L·(n + 2) token-forwards.

    Parameters
    ----------
    advertisers : array_like of int, shape (Q,)
        n, the advertisers in each query's auction.
    candidates : int
        M.
    reply_tokens : int
        L.
    """
    n = np.asarray(advertisers, dtype=float)
    return QueryCost(
        forward_passes=candidates * (reply_tokens + n + 1.0),
        token_forwards=candidates * reply_tokens * (n + 2.0),
        auction_flops=np.zeros(n.shape),
    )


def post_response_cost(advertisers, reply_tokens, embedding_tokens, dimension):
    """Return the cost of a plain reply plus one embedding pass and a power-diagram auction.

    Parameters
    ----------
    advertisers : array_like of int, shape (Q,)
        n, the advertisers scored in each query's auction.
    reply_tokens : int
        L.
    embedding_tokens : int
        E, the tokens the embedding model reads.
    dimension : int
        d, the embedding dimension.
    """
    n = np.asarray(advertisers, dtype=float)
    return QueryCost(
        forward_passes=np.full(n.shape, reply_tokens + 1.0),
        token_forwards=np.full(n.shape, float(reply_tokens + embedding_tokens)),
        auction_flops=2.0 * n * dimension,
    )


def dollars(cost, accounting, cost_per_query, reply_tokens):
    """Return each query's dollar cost: units of ``accounting`` × (cost of a plain query) / L.

    Parameters
    ----------
    cost : QueryCost
    accounting : {"forward_passes", "token_forwards"}
    cost_per_query : float
        c, dollars for one plain reply.
    reply_tokens : int
        L.
    """
    if accounting not in ACCOUNTINGS:
        raise ValueError(f"accounting must be one of {ACCOUNTINGS}, got {accounting!r}")
    return getattr(cost, accounting) * (cost_per_query / reply_tokens)
