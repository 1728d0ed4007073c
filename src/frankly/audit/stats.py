"""Paired significance tests for the bias audit, with the standard library alone.

The paired t-test (Student, 1908) asks whether the mean of matched differences is zero:
t = mean / (sd / sqrt(n)) on n - 1 degrees of freedom. Its two-sided p-value is the
regularised incomplete beta function I_x(df / 2, 1 / 2) at x = df / (df + t^2), computed
by the continued fraction of Numerical Recipes (Press et al., 3rd ed., section 6.4).

Multiple comparisons are corrected with Holm's step-down method (:func:`frankly.alerts.holm`),
which controls the family-wise error rate under any dependence between the tests.

>>> round(student_t_two_sided(2.228138851986, 10), 6)  # the 5% critical value, df 10
0.05
>>> r = paired_t_test([0.1, 0.2, 0.0, 0.1, 0.3])
>>> r.n, round(r.mean, 3), round(r.t, 3), round(r.p_value, 4)
(5, 0.14, 2.746, 0.0516)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from frankly.alerts import holm

__all__ = ["PairedTest", "holm", "paired_t_test", "regularized_beta", "student_t_two_sided"]

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 500


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) by the modified Lentz method."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITER + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for 0 <= x <= 1.

    >>> round(regularized_beta(0.5, 2.0, 2.0), 12)
    0.5
    """
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    # The fraction converges fast for x below (a + 1) / (a + b + 2); use symmetry above.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|) for T with Student's t distribution on ``df`` degrees of freedom.

    >>> round(student_t_two_sided(1.0, 1), 6)  # Cauchy: 1 - 2 atan(1) / pi
    0.5
    """
    if df <= 0:
        raise ValueError(f"degrees of freedom must be above 0, got {df}")
    if math.isinf(t):
        return 0.0
    return min(1.0, regularized_beta(df / (df + t * t), df / 2.0, 0.5))


@dataclass(frozen=True)
class PairedTest:
    """A paired t-test over ``n`` differences: their mean and standard deviation, t, the
    two-sided p-value (NaN when there are fewer than two pairs) and a 95% confidence
    interval of the mean."""

    n: int
    mean: float
    sd: float
    t: float
    p_value: float
    ci_low: float
    ci_high: float

    @property
    def testable(self) -> bool:
        return not math.isnan(self.p_value)


def _t_critical_95(df: int) -> float:
    """The two-sided 95% critical value of t on ``df`` degrees of freedom (bisection)."""
    lo, hi = 0.0, 1000.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if student_t_two_sided(mid, df) > 0.05:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def paired_t_test(differences: Sequence[float]) -> PairedTest:
    """The two-sided paired t-test of H0: the mean of ``differences`` is 0.

    All-equal differences have no spread: p is 1 when they are all 0 and 0 otherwise.
    """
    n = len(differences)
    if n == 0:
        nan = float("nan")
        return PairedTest(0, nan, nan, nan, nan, nan, nan)
    mean = math.fsum(differences) / n
    if n < 2:
        nan = float("nan")
        return PairedTest(n, mean, nan, nan, nan, nan, nan)
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in differences) / (n - 1))
    se = sd / math.sqrt(n)
    if se == 0.0 or se < 1e-12 * max(1.0, abs(mean)):
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        p = 1.0 if mean == 0 else 0.0
        return PairedTest(n, mean, sd, t, p, mean, mean)
    t = mean / se
    half = _t_critical_95(n - 1) * se
    return PairedTest(n, mean, sd, t, student_t_two_sided(t, n - 1), mean - half, mean + half)
