r"""MOSAIC: a truthful auction that runs inside LLM generation.

Soumalias, Curry & Seuken, "Truthful Aggregation of LLMs with an Application
to Online Advertising", NeurIPS 2025 (arXiv 2405.05905).

For one query x the platform draws M candidate replies y_1..y_M from a
generating model π_gen, and each of n advertisers reports its reward
r_i(x, y_j) in dollars. With temperature τ > 0 (dollars) the mechanism targets

.. math::

    π^*(y) = π_{ref}(y) \exp(r(y)/τ) / Z,\qquad r = \sum_i r_i,

the maximiser of E_π[r] − τ KL(π ‖ π_ref) (the standard closed form of the
KL-regularised optimum).

Allocation (self-normalised importance resampling toward π*):

.. math::

    s_j = r(y_j)/τ + \log π_{ref}(y_j) − \log π_{gen}(y_j),\qquad
    q_j = e^{s_j} / \sum_k e^{s_k}.

Potential and Rochet payments:

.. math::

    Φ = τ \log \sum_j e^{s_j},\qquad
    Φ_{−i} = τ \log \sum_j e^{s_j − r_i(y_j)/τ},\qquad
    p_i = \sum_j q_j r_i(y_j) − (Φ − Φ_{−i}).

Because ∂Φ/∂r_i(y_j) = q_j and Φ is convex in the reports, truthful reporting
is a dominant strategy for every finite candidate set. The truthful utility
Φ − Φ_{−i} equals −τ log Σ_j q_j exp(−r_i(y_j)/τ); this module computes it in
that form, which has no cancellation between two large potentials. Jensen's
inequality then gives p_i ≥ 0 for any rewards, and Φ − Φ_{−i} ≥ 0 whenever
r_i ≥ 0 on every candidate. A negative reward (one that penalises a
competitor's mention) can make the truthful utility negative.

Payments depend on the candidate set and the reports, not on which candidate
is finally drawn: they are charged in expectation over that draw.

Competitive separation (``admissible``). A platform may drop, before the
softmax, every candidate that mentions two rival brands. The allocation,
potential and payments are then MOSAIC's on the remaining candidates. The
filter depends on the candidates only, never on the reports, so the
mechanism is still MOSAIC on a finite candidate set and truthful reporting
stays dominant. What changes is the target: as M grows the output tends to
π* restricted to rival-free replies (π_ref·exp(r/τ) renormalised on that
set), not to π*. A query whose candidates all mention rivals gets a void
auction: no rewards count, nobody pays, and the reply is drawn by the
reference weights over all candidates.

Receipts and audits. `make_receipt` records one auction's inputs and outputs
with a SHA-256 commitment over them; `audit` recomputes the allocation and
payments at the published τ and lists every mismatch.
"""

import hashlib
from dataclasses import dataclass, fields

import numpy as np

from market.keyed_random import keyed_uniforms
from market.parallel import for_each_block
from market.sampling import categorical, categorical_from_uniforms

__all__ = [
    "Attribution",
    "AuditReport",
    "MosaicOutcome",
    "Receipt",
    "allocation_without",
    "attribution",
    "audit",
    "make_receipt",
    "run_auction",
    "select",
    "select_keyed",
]

SELECTION_STREAM = 7
# Queries per block of `run_auction`. At M = 20 and n = 8 a block's (Q, M, n) arrays take 3.2 MB each. Of the
# sizes from 1,024 to 10,000 measured on the 2-core machine of docs/performance.md, 2,500 ran fastest.
BLOCK_QUERIES = 2500
EPSILON = np.finfo(float).eps


@dataclass(frozen=True)
class MosaicOutcome:
    """Result of a batch of MOSAIC auctions.

    Attributes
    ----------
    allocation : ndarray, shape (Q, M)
        q_j, the probability of returning candidate j; rows sum to 1.
    payments : ndarray, shape (Q, n)
        p_i in dollars, charged in expectation over the final draw.
    potential : ndarray, shape (Q,)
        Φ in dollars.
    utilities : ndarray, shape (Q, n)
        Φ − Φ_{−i}: each advertiser's truthful utility in dollars.
    reference_allocation : ndarray, shape (Q, M)
        The allocation with every reward removed, softmax(log π_ref − log π_gen).
    kl_to_reference : ndarray, shape (Q,)
        KL(allocation ‖ reference_allocation) in nats.
    void : ndarray of bool, shape (Q,)
        Auctions in which competitive separation left no candidate.
    counterfactual_allocation : ndarray, shape (Q, M, n), or None
        q^{−i}_j, each advertiser's allocation without its rewards, when
        `run_auction` was asked for it.
    """

    allocation: np.ndarray
    payments: np.ndarray
    potential: np.ndarray
    utilities: np.ndarray
    reference_allocation: np.ndarray
    kl_to_reference: np.ndarray
    void: np.ndarray
    counterfactual_allocation: np.ndarray | None = None


def run_auction(rewards, log_p_ref, log_p_gen, tau, admissible=None, counterfactual=False):
    """Run MOSAIC's allocation and Rochet payments on a batch of queries.

    Parameters
    ----------
    rewards : array_like, shape (Q, M, n) or (M, n)
        r_i(x, y_j) in dollars: reported reward of advertiser i for candidate j.
    log_p_ref, log_p_gen : array_like, shape (Q, M) or (M,)
        log π_ref(y_j | x) and log π_gen(y_j | x) of each candidate.
    tau : float
        Temperature τ in dollars, at least 2.2e-308 (the smallest normal double,
        so that 1/τ is finite): the weight of the KL penalty.
    admissible : array_like of bool, shape (Q, M) or (M,), optional
        Candidates that competitive separation keeps; all of them if omitted.
    counterfactual : bool, optional
        Also return each advertiser's allocation without its rewards (see
        `allocation_without`); it costs one more pass over (Q, M, n).

    Returns
    -------
    MosaicOutcome
        With the leading Q axis dropped when the inputs had none.

    Raises
    ------
    ValueError
        If τ is not finite or below 2.2e-308, the shapes disagree, or any
        input is not finite.

    Notes
    -----
    The truthful utilities come from the discounts d_ij = exp(−r_i(y_j)/τ):
    with S_i = Σ_j q_j d_ij, Φ − Φ_{−i} = −τ log S_i and q^{−i}_j = q_j d_ij / S_i.
    This takes one exponential per reward and one small matrix product per
    query. Where a discount or a weight would leave the range of floating
    point (S_i < 1e-280 or not finite, or, with a negative reward, an
    allocation that underflowed below e^{−700}), the row is recomputed in
    log space, log S_i = logsumexp_j(s_j − r_i(y_j)/τ) − log Σ_j e^{s_j}.
    Both forms agree to rounding; `benchmarks/agreement.py` states the
    tolerance. A payment below the rounding bound of these sums is set to 0.
    """
    rewards, log_p_ref, log_p_gen, single = _auction_iv(rewards, log_p_ref, log_p_gen, tau)
    rewards, log_weight, void = _separate(rewards, log_p_ref - log_p_gen, admissible)
    n_queries, n_candidates, n_advertisers = rewards.shape

    outcome = MosaicOutcome(
        allocation=np.empty((n_queries, n_candidates)),
        payments=np.empty((n_queries, n_advertisers)),
        potential=np.empty(n_queries),
        utilities=np.empty((n_queries, n_advertisers)),
        reference_allocation=np.empty((n_queries, n_candidates)),
        kl_to_reference=np.empty(n_queries),
        void=void,
        counterfactual_allocation=np.empty(rewards.shape) if counterfactual else None,
    )
    separated = admissible is not None
    for_each_block(lambda rows: _auction_block(rewards[rows], log_weight[rows], tau, separated, outcome, rows),
                   n_queries, BLOCK_QUERIES)
    if single:
        return MosaicOutcome(**{f.name: _first(getattr(outcome, f.name)) for f in fields(outcome)})
    return outcome


def _auction_block(rewards, log_weight, tau, separated, outcome, rows):
    """Run the auctions of one block of queries and write the results into rows ``rows`` of ``outcome``.

    ``separated`` is True when competitive separation dropped candidates (log weight −inf).
    """
    # Scores s_j = Σ_i r_i(y_j)/τ + log π_ref(y_j) − log π_gen(y_j). A non-finite sum reveals a non-finite reward.
    n_queries, n_candidates, n_advertisers = rewards.shape
    scores = np.dot(rewards.reshape(n_queries * n_candidates, n_advertisers),
                    np.full(n_advertisers, 1.0 / tau)).reshape(n_queries, n_candidates)
    if not np.isfinite(scores).all():
        _require_finite("rewards", rewards)
    scores += log_weight

    # Allocation q = softmax(s) and potential Φ = τ·logsumexp(s). The reference weights' normaliser comes in the
    # same pass.
    log_normaliser, log_reference_normaliser = _row_logsumexp(scores, log_weight)
    log_allocation = scores - log_normaliser[:, None]
    allocation = np.exp(log_allocation, out=outcome.allocation[rows])
    outcome.potential[rows] = tau * log_normaliser

    # Φ − Φ_{−i} = −τ·log S_i with S_i = Σ_j q_j·exp(−r_i(y_j)/τ), free of cancellation between potentials.
    without = None if outcome.counterfactual_allocation is None else outcome.counterfactual_allocation[rows]
    utilities = -tau * _log_discounted_sums(allocation, log_allocation, scores, log_normaliser, rewards, tau, without)
    outcome.utilities[rows] = utilities
    expected_reward = np.matmul(allocation[:, None, :], rewards)[:, 0, :]
    payments = np.subtract(expected_reward, utilities, out=outcome.payments[rows])
    # p_i >= 0 is exact by Jensen's inequality. A payment within the rounding bound of the sums above,
    # 4ε·((M + 2 + |log Σ e^s|)·τ + M·|E_q[r_i]|), is indistinguishable from 0 and is set to 0. An advertiser
    # with no reward on any candidate therefore pays exactly 0.
    rounding = np.abs(expected_reward)
    rounding *= 4 * EPSILON * n_candidates
    rounding += (4 * EPSILON * tau * (n_candidates + 2 + np.abs(log_normaliser)))[:, None]
    payments[payments <= rounding] = 0.0

    # Reference weights: the same candidates with every reward removed.
    log_reference = log_weight - log_reference_normaliser[:, None]
    np.exp(log_reference, out=outcome.reference_allocation[rows])

    # KL(q ‖ q_ref) = Σ_j q_j (log q_j − log q^ref_j); a candidate dropped by separation has q_j = 0.
    with np.errstate(invalid="ignore"):
        log_ratio = log_allocation - log_reference
    if separated:
        log_ratio[np.isnan(log_ratio)] = 0.0
    np.maximum(np.einsum("qm,qm->q", allocation, log_ratio), 0.0, out=outcome.kl_to_reference[rows])


def allocation_without(rewards, log_p_ref, log_p_gen, tau, admissible=None):
    """Return each advertiser's counterfactual allocation q^{−i}, shape (Q, M, n).

    q^{−i} = softmax_j(s_j − r_i(y_j)/τ) is the allocation over the same
    candidates with advertiser i's rewards removed, the allocation behind
    Φ_{−i}. Σ_j (q_j − q^{−i}_j) r_i(y_j) is then i's incremental expected
    reward from taking part. `run_auction` with ``counterfactual=True``
    returns the same array beside the outcome.
    """
    return run_auction(rewards, log_p_ref, log_p_gen, tau, admissible, counterfactual=True).counterfactual_allocation


@dataclass(frozen=True)
class Attribution:
    """Each advertiser's measured influence on a batch of auctions.

    Attributes
    ----------
    mention_lift : ndarray, shape (Q, n)
        Σ_j (q_j − q^{ref}_j)·m_ij: the change in the probability that the
        returned reply mentions advertiser i's brand, against the reference
        weights (the allocation with every reward removed).
    welfare_share : ndarray, shape (Q, n)
        (Φ − Φ_{−i}) / Σ_k (Φ − Φ_{−k}); NaN where no advertiser contributes
        more than 1e-12 dollars. With negative rewards a share can fall outside [0, 1].
    """

    mention_lift: np.ndarray
    welfare_share: np.ndarray


def attribution(outcome, mentions):
    """Return each advertiser's influence on the returned reply, exactly from the allocation.

    Parameters
    ----------
    outcome : MosaicOutcome
        A batch outcome (leading Q axis).
    mentions : array_like of bool or of 0.0/1.0, shape (Q, M, n)
        Whether candidate j mentions advertiser i's brand.
    """
    mentions = np.asarray(mentions, dtype=float)
    shift = outcome.allocation - outcome.reference_allocation
    mention_lift = np.matmul(shift[:, None, :], mentions)[:, 0, :]
    total = outcome.utilities.sum(axis=1, keepdims=True)
    # Contributions below a trillionth of a dollar are rounding error, not influence.
    influential = np.abs(outcome.utilities).max(axis=1, keepdims=True) > 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        welfare_share = np.where(influential & (total != 0), outcome.utilities / total, np.nan)
    return Attribution(mention_lift=mention_lift, welfare_share=welfare_share)


def select(allocation, rng):
    """Draw the returned candidate J ~ Categorical(q) for each query.

    Parameters
    ----------
    allocation : array_like, shape (Q, M) or (M,)
        Rows of probabilities that sum to 1.
    rng : numpy.random.Generator
        Source of the Q uniform draws (one per query).

    Returns
    -------
    ndarray of int, shape (Q,) or scalar
        Index of the returned candidate in each row.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    allocation = np.asarray(allocation, dtype=float)
    single = allocation.ndim == 1
    allocation = np.atleast_2d(allocation)

    chosen = categorical(allocation, rng)
    return chosen[0] if single else chosen


def select_keyed(allocation, keys):
    """Draw the returned candidate from uniforms keyed by each auction's inputs.

    Identical keys give the identical choice, and because the keyed uniforms
    are uniform on [0, 1) the choice has the same distribution as `select`'s.

    Parameters
    ----------
    allocation : array_like, shape (Q, M)
    keys : ndarray of uint64, shape (Q,)
        From `market.keyed_random.derive_keys`.
    """
    uniforms = keyed_uniforms(keys, (1,), SELECTION_STREAM)[:, 0]
    return categorical_from_uniforms(np.asarray(allocation, dtype=float), uniforms)


@dataclass(frozen=True)
class Receipt:
    """What one MOSAIC auction ran on and returned, with a commitment over it.

    Attributes
    ----------
    log_p_ref, log_p_gen : ndarray, shape (M,)
    rewards : ndarray, shape (M, n)
        Reported rewards in dollars.
    tau : float
        The τ the platform states it used.
    candidates : int
        M.
    key : int or None
        The keyed-stream key of the auction, if its draws were keyed.
    admissible : ndarray of bool, shape (M,)
        Candidates kept by competitive separation (all True without it).
    allocation : ndarray, shape (M,)
    payments : ndarray, shape (n,)
    returned : int or None
        Index of the candidate shown to the user.
    commitment : str
        SHA-256 hex digest over every field above.
    """

    log_p_ref: np.ndarray
    log_p_gen: np.ndarray
    rewards: np.ndarray
    tau: float
    candidates: int
    key: int | None
    admissible: np.ndarray
    allocation: np.ndarray
    payments: np.ndarray
    returned: int | None
    commitment: str


@dataclass(frozen=True)
class AuditReport:
    """Outcome of auditing one receipt.

    Attributes
    ----------
    passed : bool
    mismatches : tuple of str
        One plain sentence per failed check.
    max_allocation_error, max_payment_error : float
        Largest absolute difference from the recomputed auction.
    """

    passed: bool
    mismatches: tuple
    max_allocation_error: float
    max_payment_error: float


def make_receipt(rewards, log_p_ref, log_p_gen, tau, allocation, payments, key=None, admissible=None, returned=None):
    """Record one auction (no leading Q axis) and commit to it with SHA-256."""
    contents = {
        "log_p_ref": np.array(log_p_ref, dtype=float),
        "log_p_gen": np.array(log_p_gen, dtype=float),
        "rewards": np.array(rewards, dtype=float),
        "tau": float(tau),
        "candidates": int(np.shape(log_p_ref)[0]),
        "key": None if key is None else int(key),
        "admissible": np.ones(np.shape(log_p_ref)[0], bool) if admissible is None else np.array(admissible, bool),
        "allocation": np.array(allocation, dtype=float),
        "payments": np.array(payments, dtype=float),
        "returned": None if returned is None else int(returned),
    }
    return Receipt(**contents, commitment=_commitment(contents))


def audit(receipt, published_tau, tolerance=1e-9):
    """Recompute a receipt's auction at the published τ and report every mismatch.

    Checks, in order: the commitment matches the receipt's contents; the
    receipt states the published τ; M matches the candidates recorded; the
    allocation and payments equal MOSAIC's at the published τ on the recorded
    inputs (to ``tolerance`` relative to the reward scale); and, for a keyed
    auction, the returned candidate is the keyed draw from that allocation.
    """
    mismatches = []
    contents = {spec.name: getattr(receipt, spec.name) for spec in fields(receipt) if spec.name != "commitment"}
    if _commitment(contents) != receipt.commitment:
        mismatches.append("the commitment does not match the receipt's contents")
    if receipt.tau != published_tau:
        mismatches.append(f"the receipt states tau={receipt.tau!r}, not the published {published_tau!r}")
    if receipt.candidates != receipt.log_p_ref.shape[0]:
        mismatches.append(f"M={receipt.candidates} but {receipt.log_p_ref.shape[0]} candidates are recorded")

    expected = run_auction(receipt.rewards, receipt.log_p_ref, receipt.log_p_gen, published_tau, receipt.admissible)
    scale = max(1.0, float(np.max(np.abs(receipt.rewards), initial=0.0)))
    allocation_error = float(np.max(np.abs(expected.allocation - receipt.allocation), initial=0.0))
    payment_error = float(np.max(np.abs(expected.payments - receipt.payments), initial=0.0))
    if allocation_error > tolerance:
        mismatches.append(f"the allocation differs from MOSAIC at the published tau by up to {allocation_error:.3g}")
    if payment_error > tolerance * scale:
        mismatches.append(f"the payments differ from MOSAIC at the published tau by up to ${payment_error:.3g}")
    if receipt.key is not None and receipt.returned is not None:
        keyed = select_keyed(expected.allocation[None], np.array([receipt.key], dtype=np.uint64))[0]
        if keyed != receipt.returned:
            mismatches.append(f"the returned candidate {receipt.returned} is not the keyed draw {keyed}")

    return AuditReport(
        passed=not mismatches,
        mismatches=tuple(mismatches),
        max_allocation_error=allocation_error,
        max_payment_error=payment_error,
    )


def _commitment(contents):
    """Return the SHA-256 hex digest over a receipt's fields in a fixed order and encoding."""
    digest = hashlib.sha256()
    for name in sorted(contents):
        value = contents[name]
        digest.update(name.encode())
        if isinstance(value, np.ndarray):
            digest.update(str(value.shape).encode())
            digest.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def _logsumexp(values, axis):
    """Return log Σ exp(values) along ``axis``, bit for bit as ``scipy.special.logsumexp`` 1.18 does for real input.

    scipy's version separates the largest term of each sum and takes
    log1p of the rest, which is the arithmetic kept here. Its array-API
    wrapper also exponentiates the whole input a second time and copies it
    twice. This function skips those passes, which took most of an
    auction's time.
    """
    peak = np.max(values, axis=axis, keepdims=True)
    at_peak = values == peak
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.exp(values - peak)
    np.putmask(terms, at_peak, 0.0)
    total = np.sum(terms, axis=axis, keepdims=True)
    count = np.sum(at_peak, axis=axis, keepdims=True, dtype=float)
    return np.squeeze(_finish_logsumexp(values, peak, total, count, axis), axis=axis)


def _finish_logsumexp(values, peak, total, count, axis):
    """Combine the peak, the sum of the other terms and the count of peak terms as scipy does."""
    total = np.where(total == 0, total, total / count)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result = np.log1p(total) + np.log(count) + peak
    non_finite = ~np.isfinite(result)
    if non_finite.any():
        # scipy falls back to the direct log(Σ exp) where the shifted form is not finite (a row of −inf or +inf).
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            direct = np.log(np.sum(np.exp(values), axis=axis, keepdims=True))
        result = np.where(non_finite, direct, result)
    return result


def _row_logsumexp(*arrays):
    """Return log Σ_j exp(values[q, j]) for each row of each (Q, M) array in ``arrays``.

    The largest term of each row is factored out: log Σ_j e^{v_j} = v* + log Σ_j e^{v_j − v*}.
    The arrays are copied side by side into one candidate-major (M, k·Q)
    array, whose loops are k·Q long rather than M long, and the candidates
    are added in order for every Q. If some row's largest term is not finite
    (all −inf, or an overflow to +inf), every array takes `_logsumexp`, which
    returns −inf or +inf for such rows.
    """
    n_queries, n_candidates = arrays[0].shape
    by_candidate = np.empty((n_candidates, len(arrays) * n_queries))
    for position, values in enumerate(arrays):
        by_candidate[:, position * n_queries : (position + 1) * n_queries] = values.T
    peak = by_candidate.max(axis=0)
    if not np.isfinite(peak).all():
        return [_logsumexp(values, axis=1) for values in arrays]
    by_candidate -= peak
    terms = np.exp(by_candidate, out=by_candidate)
    if terms.shape[1] > 1:
        totals = terms.sum(axis=0)
    else:
        # numpy sums a single contiguous column pairwise. Adding the candidates one by one keeps the order of
        # the sums above, so a query alone gives the same bits as in a batch.
        totals = terms[0].copy()
        for term in terms[1:]:
            totals += term
    result = np.log(totals) + peak
    return [result[position * n_queries : (position + 1) * n_queries] for position in range(len(arrays))]


def _log_discounted_sums(allocation, log_allocation, scores, log_normaliser, rewards, tau, without=None):
    """Return log S_i = log Σ_j q_j·exp(−r_i(y_j)/τ), shape (Q, n); write q^{−i} into ``without`` if given.

    ``allocation``, ``log_allocation``, ``scores`` and ``log_normaliser`` are
    q, log q, s and log Σ_j e^{s_j} of the block. The direct product form is
    exact to rounding while S_i stays in the normal range and every term that
    matters is representable. Rows where that
    fails are recomputed in log space from the scores, as
    log S_i = logsumexp_j(s_j − r_i(y_j)/τ) − log Σ_j e^{s_j}, whose terms
    s_j − r_i(y_j)/τ stay of the order of the importance weights.
    """
    # Overflow, underflow and inf·0 can occur here; the rows where they matter are recomputed below.
    with np.errstate(all="ignore"):
        discounts = np.multiply(rewards, -1.0 / tau, out=without)
        np.exp(discounts, out=discounts)
        sums = np.matmul(allocation[:, None, :], discounts)[:, 0, :]
        log_sums = np.log(sums)
        if without is not None:
            # q^{−i}_j = q_j·d_ij / S_i, written over the discounts.
            without *= allocation[:, :, None]
            without /= sums[:, None, :]

    # Whole-block tests first: the rows are only inspected one by one when a block fails them.
    unsafe = np.zeros(sums.shape[0], dtype=bool)
    if not (np.all(sums >= 1e-280) and np.all(sums < np.inf)):
        unsafe = ~np.all((sums >= 1e-280) & (sums < np.inf), axis=1)
    if log_allocation.min(initial=0.0) < -700.0:
        # Only a negative reward can lift a weight that underflowed back into the sums.
        underflowed = np.any((log_allocation < -700.0) & (log_allocation > -np.inf), axis=1)
        unsafe |= underflowed & np.any(rewards < 0, axis=(1, 2))

    unsafe_rows = np.flatnonzero(unsafe)
    if unsafe_rows.size:
        reduced = scores[unsafe_rows][:, :, None] - rewards[unsafe_rows] / tau
        log_reduced_normaliser = _logsumexp(reduced, axis=1)
        log_sums[unsafe_rows] = log_reduced_normaliser - log_normaliser[unsafe_rows][:, None]
        if without is not None:
            without[unsafe_rows] = np.exp(reduced - log_reduced_normaliser[:, None, :])
    return log_sums


def _first(value):
    """Drop the leading query axis of an outcome field (None stays None)."""
    return None if value is None else value[0]


def _separate(rewards, log_weight, admissible):
    """Apply competitive separation: drop inadmissible candidates; void rows keep all with no rewards."""
    if admissible is None:
        return rewards, log_weight, np.zeros(rewards.shape[0], dtype=bool)
    admissible = np.asarray(admissible, dtype=bool).reshape(log_weight.shape)
    void = ~admissible.any(axis=1)
    keep = admissible | void[:, None]
    rewards = np.where(void[:, None, None], 0.0, rewards)
    return rewards, np.where(keep, log_weight, -np.inf), void


def _auction_iv(rewards, log_p_ref, log_p_gen, tau):
    """Validate the inputs of `run_auction` and bring them to batch shape."""
    if not np.isscalar(tau) or not np.isfinite(tau) or tau < np.finfo(float).tiny:
        raise ValueError(f"tau must be a finite number of at least 2.2e-308 dollars (the smallest normal double), "
                         f"got {tau!r}")
    rewards = np.asarray(rewards, dtype=float)
    log_p_ref = np.asarray(log_p_ref, dtype=float)
    log_p_gen = np.asarray(log_p_gen, dtype=float)

    single = rewards.ndim == 2
    if single:
        rewards, log_p_ref, log_p_gen = rewards[None], log_p_ref[None], log_p_gen[None]
    if rewards.ndim != 3:
        raise ValueError(f"rewards must have shape (Q, M, n) or (M, n), got {rewards.shape}")
    if log_p_ref.shape != rewards.shape[:2] or log_p_gen.shape != rewards.shape[:2]:
        raise ValueError(
            f"log_p_ref {log_p_ref.shape} and log_p_gen {log_p_gen.shape} must both have "
            f"shape {rewards.shape[:2]} to match rewards {rewards.shape}"
        )
    if rewards.shape[1] == 0:
        raise ValueError("rewards must hold at least one candidate (M >= 1)")
    # The rewards are checked block by block in `_auction_block`, where a non-finite sum reveals them.
    _require_finite("log_p_ref", log_p_ref)
    _require_finite("log_p_gen", log_p_gen)
    return rewards, log_p_ref, log_p_gen, single


def _require_finite(name, array):
    """Raise ValueError naming ``name`` if ``array`` contains NaN or ±inf."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; it contains NaN or ±inf")
