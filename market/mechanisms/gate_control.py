r"""PID control of the relevance gate toward a target ad rate.

The power-diagram auction admits only advertisers with ‖x − c_i‖² ≤ τ_gate.
A larger gate admits more advertisers, so more queries show an ad. The
controller sets τ_gate so that the share of queries with an ad (the ad rate
ρ) tracks a target ρ* in (0, 1].

Update law, once per observation ρ_t (unit time step):

.. math::

    e_t = ρ^* − ρ_t,\qquad
    S_t = S_{t−1} + k_i e_t,\qquad
    u_t = τ_0 + k_p e_t + S_t + k_d (e_t − e_{t−1}),\qquad
    τ_t = \mathrm{clip}(u_t, τ_{min}, τ_{max}),

with τ_0 the initial gate, S_0 = 0 the integral term (a squared distance),
and e_0 = e_1 so that the derivative term starts at 0. When the observed
rate is below target, e_t > 0 and the gate moves up, which admits more ads.

Anti-windup by clamping the integral: when u_t > τ_max and e_t > 0, the
integral term becomes

.. math::

    S_t = \max\bigl(S_{t−1},\ τ_{max} − τ_0 − k_p e_t − k_d (e_t − e_{t−1})\bigr),

the value that puts u_t on the bound, or its old value if the other terms
alone already saturate. The same rule applies with min and τ_min when u_t < τ_min
and e_t < 0. So S never grows past saturation and never moves against the
sign of the error. Without this, a target that no gate in the bounds can
reach (for example a reserve that removes some queries' ads at any gate)
makes S grow by k_i e_t at every update. After the target becomes reachable
again, the gate would then stay at the bound until errors of the opposite
sign had worked off that sum.

The default bounds [0, 4] cover every gate that matters for unit vectors,
whose squared distance is at most 4. The controller draws no random numbers.
"""

import math
from numbers import Real

__all__ = ["GateController"]


class GateController:
    """PID controller that sets the squared-distance gate τ_gate from the observed ad rate.

    Parameters
    ----------
    target_rate : float
        ρ* in (0, 1], the target share of queries that show an ad.
    kp, ki, kd : float
        Proportional, integral and derivative gains ≥ 0, in units of
        squared distance per unit of rate error.
    initial_gate : float, optional
        τ_0, the gate before the first update and the bias of the law, a
        squared distance inside ``bounds``. The default 2 is the squared
        distance between orthogonal unit vectors.
    bounds : tuple of float, optional
        (τ_min, τ_max) with 0 ≤ τ_min < τ_max, both finite.
    """

    def __init__(self, target_rate, kp, ki, kd=0.0, initial_gate=2.0, bounds=(0.0, 4.0)):
        _controller_iv(target_rate, kp, ki, kd, initial_gate, bounds)
        self.target_rate = float(target_rate)
        self.kp = float(kp)
        self.ki = float(ki)
        self.kd = float(kd)
        self.initial_gate = float(initial_gate)
        self.bounds = (float(bounds[0]), float(bounds[1]))
        self._gate = self.initial_gate
        self._integral_term = 0.0
        self._previous_error = None

    @property
    def gate(self):
        """τ_gate, the current squared-distance gate."""
        return self._gate

    @property
    def integral_term(self):
        """S_t, the integral term of the gate in squared distance, after anti-windup."""
        return self._integral_term

    def update(self, observed_rate):
        """Move the gate by one step of the PID law and return it.

        Parameters
        ----------
        observed_rate : float
            ρ_t in [0, 1], the share of the last batch of queries that showed an ad.

        Returns
        -------
        float
            τ_t, the new gate, inside ``bounds``.
        """
        if not _is_finite_number(observed_rate) or not 0.0 <= observed_rate <= 1.0:
            raise ValueError(f"observed_rate must be a share in [0, 1], got {observed_rate!r}")
        lower, upper = self.bounds

        error = self.target_rate - observed_rate
        previous_error = error if self._previous_error is None else self._previous_error
        proportional_and_derivative = self.kp * error + self.kd * (error - previous_error)

        integral_term = self._integral_term + self.ki * error
        output = self.initial_gate + proportional_and_derivative + integral_term

        # Anti-windup: clamp S at the value that puts the output on the bound it crossed.
        if output > upper and error > 0:
            integral_term = max(self._integral_term, upper - self.initial_gate - proportional_and_derivative)
        elif output < lower and error < 0:
            integral_term = min(self._integral_term, lower - self.initial_gate - proportional_and_derivative)
        output = self.initial_gate + proportional_and_derivative + integral_term

        self._integral_term = integral_term
        self._previous_error = error
        self._gate = min(max(output, lower), upper)
        return self._gate


def _controller_iv(target_rate, kp, ki, kd, initial_gate, bounds):
    """Validate the parameters of `GateController`."""
    if not _is_finite_number(target_rate) or not 0.0 < target_rate <= 1.0:
        raise ValueError(f"target_rate must be a share in (0, 1], got {target_rate!r}")
    for name, gain in (("kp", kp), ("ki", ki), ("kd", kd)):
        if not _is_finite_number(gain) or gain < 0:
            raise ValueError(f"{name} must be a finite gain >= 0, got {gain!r}")
    is_pair = isinstance(bounds, (tuple, list)) and len(bounds) == 2
    if not is_pair or not all(_is_finite_number(bound) for bound in bounds):
        raise ValueError(f"bounds must be two finite squared distances (lower, upper), got {bounds!r}")
    lower, upper = bounds
    if not 0.0 <= lower < upper:
        raise ValueError(f"bounds must satisfy 0 <= lower < upper, got {bounds!r}")
    if not _is_finite_number(initial_gate) or not lower <= initial_gate <= upper:
        raise ValueError(f"initial_gate must be a squared distance inside bounds {bounds!r}, got {initial_gate!r}")


def _is_finite_number(value):
    """Return whether ``value`` is a real number that is neither NaN nor ±inf."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
