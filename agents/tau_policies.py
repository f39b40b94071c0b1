r"""How a MOSAIC platform sets τ from round to round.

Every policy works on log τ, because τ spans orders of magnitude, and keeps τ
within [τ_min, τ_max]. After each round the platform passes its accounts for
that round to ``update``, which returns the τ for the next round. A round
whose churn or participation is undefined (the platform had no members or
no auction) leaves τ where it is.

- ``fixed``: τ never changes.
- ``revenue_greedy``: perturb-and-observe hill climbing on ad revenue per
  query. With step δ > 0 and direction d ∈ {−1, +1},
  log τ_{t+1} = log τ_t + d_t δ, where d_t = d_{t−1} if revenue per query
  did not fall since the last round and −d_{t−1} if it did. It starts by
  lowering τ. It looks only at this round's revenue, so it ignores users
  who leave later.
- ``retention_target``: a PID loop on churn c_t, the share of the round's
  starting members who no longer hold the platform after it. With error
  e_t = c_t − c*, log τ_{t+1} = log τ_0 + k_p e_t + k_i Σ_s e_s + k_d (e_t − e_{t−1}).
  Churn above target raises τ (fewer, milder ads). When the output would
  pass a bound, τ is set to the bound and the integral to the value that
  puts the output exactly there (anti-windup by clamping), so it does not
  keep growing while τ is pinned.
- ``two_sided``: maximises revenue subject to a floor on user retention
  (1 − churn) and a floor on advertiser participation. This follows Gomes
  (2014), "Optimal auction design in two-sided markets", RAND Journal of
  Economics 45(2): a platform that must keep both sides weights user
  quality more than a pure revenue maximiser. If retention is below its floor, τ rises
  by δ; else if participation is below its floor, τ falls by δ; else the
  revenue_greedy step applies.
"""

import math

__all__ = ["POLICIES", "make_policy"]

POLICIES = ("fixed", "revenue_greedy", "retention_target", "two_sided")


class FixedTau:
    """τ stays at its initial value."""

    def __init__(self, config):
        self.tau = config.tau

    def update(self, accounts):
        return self.tau


class _Bounded:
    """Shared state of the moving policies: log τ clipped to [log τ_min, log τ_max]."""

    def __init__(self, config):
        self.bounds = (config.tau_min, config.tau_max)
        self.log_tau = math.log(config.tau)
        self.tau = config.tau
        self.step = config.tau_step

    def _move_to(self, log_tau):
        """Set τ = exp(log_tau) clipped to its bounds; return the clipped log τ."""
        low, high = self.bounds
        if log_tau <= math.log(low):
            self.tau = low
        elif log_tau >= math.log(high):
            self.tau = high
        else:
            self.tau = math.exp(log_tau)
        self.log_tau = math.log(self.tau)
        return self.log_tau


class RevenueGreedy(_Bounded):
    """Hill climbing on ad revenue per query (see the module docstring)."""

    def __init__(self, config):
        super().__init__(config)
        self.direction = -1.0
        self.last_revenue = None

    def update(self, accounts):
        revenue = _per_query(accounts["ad_revenue"], accounts["queries"])
        if self.last_revenue is not None and revenue < self.last_revenue:
            self.direction = -self.direction
        self.last_revenue = revenue
        self._move_to(self.log_tau + self.direction * self.step)
        return self.tau


class RetentionTarget(_Bounded):
    """PID loop on churn (see the module docstring)."""

    def __init__(self, config):
        super().__init__(config)
        self.log_tau_start = self.log_tau
        self.target = config.churn_target
        self.gains = (config.pid_kp, config.pid_ki, config.pid_kd)
        self.integral = 0.0
        self.last_error = None

    def update(self, accounts):
        if not math.isfinite(accounts["churn"]):
            return self.tau
        error = accounts["churn"] - self.target
        kp, ki, kd = self.gains
        derivative = 0.0 if self.last_error is None else error - self.last_error
        self.last_error = error

        self.integral += error
        output = self.log_tau_start + kp * error + ki * self.integral + kd * derivative
        clipped = self._move_to(output)
        if clipped != output and ki > 0:
            self.integral = (clipped - self.log_tau_start - kp * error - kd * derivative) / ki
        return self.tau


class TwoSided(RevenueGreedy):
    """Revenue hill climbing inside floors on retention and participation (see the module docstring)."""

    def __init__(self, config):
        super().__init__(config)
        self.retention_floor = config.retention_floor
        self.participation_floor = config.participation_floor

    def update(self, accounts):
        if not (math.isfinite(accounts["churn"]) and math.isfinite(accounts["participation"])):
            return self.tau
        if 1.0 - accounts["churn"] < self.retention_floor:
            self._move_to(self.log_tau + self.step)
            self.last_revenue = None
            return self.tau
        if accounts["participation"] < self.participation_floor:
            self._move_to(self.log_tau - self.step)
            self.last_revenue = None
            return self.tau
        return super().update(accounts)


def make_policy(config):
    """Return the τ policy a platform's configuration names."""
    policies = {
        "fixed": FixedTau,
        "revenue_greedy": RevenueGreedy,
        "retention_target": RetentionTarget,
        "two_sided": TwoSided,
    }
    return policies[config.tau_policy](config)


def _per_query(amount, queries):
    return amount / queries if queries else 0.0
