"""Spikes worth a look: is the latest period worse than the recent baseline?

An alert is raised only when a one-sided significance test says the latest period (a day
or a week) is worse than the periods before it, with the tests corrected together for
multiple comparisons, so that a dashboard checked every day does not cry wolf:

- **Negative share** (items labelled negative / items): a one-sided *two-proportion
  z-test* with the pooled proportion, latest period against the baseline periods taken
  together. When an expected count under the null hypothesis is below 5, where the normal
  approximation is poor, *Fisher's exact test* (one-sided, hypergeometric upper tail)
  replaces it.
- **Urgent volume** (number of urgent items): the latest count against the baseline's,
  treating both as Poisson counts with rates per period. Under equal rates, the latest
  count given the sum is binomial with p = 1 / (1 + baseline periods) (the conditional
  test of Przyborowski and Wilenski, 1940); the p-value is its exact upper tail. It needs
  no normal approximation, so it holds for the few urgent items of a quiet day too.
- **Negative share per aspect category** (negative mentions / mentions): the same
  two-proportion test per category that has at least ``min_mentions`` mentions in the
  latest period and in the baseline. A category whose share rose significantly is named
  as one that drives the spike.

All p-values of one run form one family and are adjusted with *Holm's step-down method*
(Holm, 1979), which controls the chance of any false alarm among them at ``alpha`` (0.05
by default) with no assumption about how the tests depend on each other.

Only counts go in (:class:`PeriodCounts`), so the service's dashboard and a report built
from a file use the same code. Nothing here imports more than the standard library:

>>> base = [PeriodCounts(f"d{i}", total=200, negative=40, urgent=2) for i in range(28)]
>>> spike = PeriodCounts("d28", total=200, negative=75, urgent=9,
...                      aspects={"delivery": (30, 40)})
>>> report = find_alerts(spike, base)
>>> [(t.name, t.significant) for t in report.tests]
[('negative share', True), ('urgent volume', True)]
>>> report.tests[0].method, f"{report.tests[0].p_value:.1e}"
('one-sided two-proportion z-test (pooled)', '9.1e-10')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

__all__ = ["ALPHA", "MIN_BASELINE_PERIODS", "MIN_MENTIONS", "AlertReport", "PeriodCounts",
           "TestResult", "binomial_sf", "find_alerts", "fisher_greater", "holm",
           "poisson_rate_test", "two_proportion_test"]

# The family-wise error rate: the chance that a run flags anything at all when nothing
# changed. 0.05 is the usual convention; the page says which value is in force.
ALPHA = 0.05
# A two-proportion test over a handful of mentions has no power and only makes the Holm
# family larger (costing the other tests power), so categories need this many mentions in
# the latest period and in the baseline to be tested. The choice looks at mention counts
# only, never at the shares, so it does not bias the tests.
MIN_MENTIONS = 10
# Fewer baseline periods than this and there is no "recent normal" to compare with.
MIN_BASELINE_PERIODS = 3
# The normal approximation of the two-proportion test needs every expected count under
# the null hypothesis to be at least this (the usual rule of thumb); else Fisher's test.
MIN_EXPECTED = 5.0

Z_TEST = "one-sided two-proportion z-test (pooled)"
FISHER = "one-sided Fisher exact test"
POISSON = "one-sided exact conditional test of two Poisson rates"


@dataclass(frozen=True)
class PeriodCounts:
    """What one period holds: ``total`` items, ``negative`` of them labelled negative,
    ``urgent`` of them urgent, and per aspect category ``(negative mentions, mentions)``."""

    period: Any
    total: int
    negative: int
    urgent: int
    aspects: Mapping[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class TestResult:
    """One test. ``latest`` and ``baseline`` are the rates compared (shares, or urgent
    items per period); ``p_adjusted`` is Holm's adjusted p-value, and ``significant``
    means it is at most ``alpha``."""

    name: str
    kind: str  # "negative_share", "urgent_volume" or "aspect_negative_share"
    category: str | None
    method: str
    latest: float
    baseline: float
    latest_counts: tuple[int, int]  # (successes, trials); for volume (count, periods)
    baseline_counts: tuple[int, int]
    statistic: float | None  # z for the z-test; None for the exact tests
    p_value: float
    p_adjusted: float = 1.0
    significant: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "category": self.category,
                "method": self.method, "latest": self.latest, "baseline": self.baseline,
                "latest_counts": list(self.latest_counts),
                "baseline_counts": list(self.baseline_counts), "statistic": self.statistic,
                "p_value": self.p_value, "p_adjusted": self.p_adjusted,
                "significant": self.significant}


@dataclass(frozen=True)
class AlertReport:
    """The tests of one run and what they flag. ``note`` says why nothing could be tested
    (no data, too little history), else None."""

    period: Any
    baseline_periods: int
    alpha: float
    tests: tuple[TestResult, ...]
    note: str | None = None

    @property
    def negative_spike(self) -> bool:
        return any(t.significant for t in self.tests if t.kind == "negative_share")

    @property
    def urgent_spike(self) -> bool:
        return any(t.significant for t in self.tests if t.kind == "urgent_volume")

    @property
    def rising_aspects(self) -> list[str]:
        """The aspect categories whose negative share rose significantly, most significant
        first."""
        hits = [t for t in self.tests if t.kind == "aspect_negative_share" and t.significant]
        return [str(t.category) for t in sorted(hits, key=lambda t: t.p_adjusted)]

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "baseline_periods": self.baseline_periods,
                "alpha": self.alpha, "note": self.note, "negative_spike": self.negative_spike,
                "urgent_spike": self.urgent_spike, "rising_aspects": self.rising_aspects,
                "tests": [t.to_dict() for t in self.tests]}


# -- distributions ------------------------------------------------------------------------

def normal_sf(z: float) -> float:
    """P(Z >= z) for a standard normal Z.

    >>> round(normal_sf(1.6448536269514722), 6)
    0.05
    """
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _tail(log_pmf: Any, start: int, stop: int, step: int) -> float:
    """Sum exp(log_pmf(i)) for i from ``start`` towards ``stop`` (inclusive), stopping once
    the terms, which only shrink in that direction away from the mode, no longer matter."""
    total = 0.0
    i = start
    while (i <= stop) if step > 0 else (i >= stop):
        term = math.exp(log_pmf(i))
        total += term
        if term < total * 1e-17:
            break
        i += step
    return total


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly (summed in log space).

    >>> round(binomial_sf(3, 3, 0.5), 6), round(binomial_sf(2, 3, 0.5), 6)
    (0.125, 0.5)
    """
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)

    def log_pmf(i: int) -> float:
        return _log_choose(n, i) + i * lp + (n - i) * lq

    mode = int((n + 1) * p)
    if k > mode:  # the upper tail shrinks away from the mode: sum it directly
        return min(1.0, _tail(log_pmf, k, n, 1))
    # Otherwise the lower tail P(X <= k - 1) is the small side.
    return max(0.0, 1.0 - _tail(log_pmf, k - 1, 0, -1))


def fisher_greater(x1: int, n1: int, x0: int, n0: int) -> float:
    """One-sided Fisher exact test: P(X >= x1) where X is the number of successes that
    fall in the first group (of ``n1`` trials) when all ``x1 + x0`` successes among the
    ``n1 + n0`` trials are spread at random (hypergeometric).

    Fisher's lady tasting tea, 3 of 4 cups right: ``fisher_greater(3, 4, 1, 4)`` is 17/70.

    >>> round(fisher_greater(3, 4, 1, 4), 6)
    0.242857
    """
    total, successes = n1 + n0, x1 + x0
    hi = min(n1, successes)
    if x1 <= max(0, successes - n0):
        return 1.0
    if x1 > hi:
        return 0.0
    log_denominator = _log_choose(total, n1)

    def log_pmf(i: int) -> float:
        return _log_choose(successes, i) + _log_choose(total - successes, n1 - i) \
            - log_denominator

    mode = int((n1 + 1) * (successes + 1) / (total + 2))
    if x1 > mode:
        return min(1.0, _tail(log_pmf, x1, hi, 1))
    return max(0.0, 1.0 - _tail(log_pmf, x1 - 1, max(0, successes - n0), -1))


# -- tests --------------------------------------------------------------------------------

def two_proportion_test(x1: int, n1: int, x0: int, n0: int) -> tuple[float | None, float, str]:
    """Is x1/n1 greater than x0/n0? ``(z, p, method)``: the pooled one-sided z-test, or
    Fisher's exact test (z None) when an expected count is under 5.

    >>> z, p, method = two_proportion_test(60, 200, 1120, 5600)
    >>> round(z, 3), round(p, 4), method
    (3.452, 0.0003, 'one-sided two-proportion z-test (pooled)')
    """
    _check_counts(x1, n1)
    _check_counts(x0, n0)
    if n1 == 0 or n0 == 0:
        raise ValueError("both groups need at least one trial")
    pooled = (x1 + x0) / (n1 + n0)
    expected = min(n1 * pooled, n1 * (1 - pooled), n0 * pooled, n0 * (1 - pooled))
    if expected < MIN_EXPECTED:
        return None, fisher_greater(x1, n1, x0, n0), FISHER
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (x1 / n1 - x0 / n0) / se
    return z, normal_sf(z), Z_TEST


def poisson_rate_test(x1: int, t1: float, x0: int, t0: float) -> float:
    """Is the rate x1/t1 greater than x0/t0 (Poisson counts over exposures t1, t0)? The
    exact conditional p-value: P(X >= x1) for X ~ Binomial(x1 + x0, t1 / (t1 + t0)).

    Nine urgent items today after 56 in the 28 days before (2 a day):

    >>> round(poisson_rate_test(9, 1, 56, 28), 5)
    0.00038
    """
    _check_counts(x1, None)
    _check_counts(x0, None)
    if not t1 > 0 or not t0 > 0:
        raise ValueError("exposures must be above 0")
    return binomial_sf(x1, x1 + x0, t1 / (t1 + t0))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    >>> [round(p, 6) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _check_counts(x: int, n: int | None) -> None:
    if not isinstance(x, int) or x < 0 or (n is not None and (not isinstance(n, int)
                                                              or n < x)):
        raise ValueError(f"counts must be whole numbers with 0 <= successes <= trials, "
                         f"got {x!r} of {n!r}")


def find_alerts(latest: PeriodCounts, baseline: Sequence[PeriodCounts], *,
                alpha: float = ALPHA, min_mentions: int = MIN_MENTIONS,
                min_baseline: int = MIN_BASELINE_PERIODS) -> AlertReport:
    """Test ``latest`` against the ``baseline`` periods (those before it; empty periods
    given as zeros, withheld ones left out) and flag what is significant after Holm's
    correction at ``alpha``."""
    n_base = len(baseline)
    if n_base < min_baseline:
        return AlertReport(latest.period, n_base, alpha, (), note=(
            f"{n_base} earlier period(s) with data; at least {min_baseline} are needed for "
            f"a baseline"))
    if latest.total == 0:
        return AlertReport(latest.period, n_base, alpha, (),
                           note="the latest period holds no items")
    tests: list[TestResult] = []
    base_total = sum(p.total for p in baseline)
    base_negative = sum(p.negative for p in baseline)
    if base_total > 0:
        z, p, method = two_proportion_test(latest.negative, latest.total, base_negative,
                                           base_total)
        tests.append(TestResult("negative share", "negative_share", None, method,
                                latest.negative / latest.total, base_negative / base_total,
                                (latest.negative, latest.total), (base_negative, base_total),
                                z, p))
    base_urgent = sum(p.urgent for p in baseline)
    if latest.urgent + base_urgent > 0:
        p = poisson_rate_test(latest.urgent, 1, base_urgent, n_base)
        tests.append(TestResult("urgent volume", "urgent_volume", None, POISSON,
                                float(latest.urgent), base_urgent / n_base,
                                (latest.urgent, 1), (base_urgent, n_base), None, p))
    categories: dict[str, list[int]] = {}
    for period in baseline:
        for category, (neg, n) in period.aspects.items():
            acc = categories.setdefault(category, [0, 0])
            acc[0] += neg
            acc[1] += n
    for category in sorted(latest.aspects):
        neg, n = latest.aspects[category]
        base_neg, base_n = categories.get(category, (0, 0))
        if n < min_mentions or base_n < min_mentions:
            continue
        z, p, method = two_proportion_test(neg, n, base_neg, base_n)
        tests.append(TestResult(f"negative share: {category}", "aspect_negative_share",
                                category, method, neg / n, base_neg / base_n, (neg, n),
                                (base_neg, base_n), z, p))
    adjusted = holm([t.p_value for t in tests])
    done = tuple(TestResult(**{**t.__dict__, "p_adjusted": a, "significant": a <= alpha})
                 for t, a in zip(tests, adjusted))
    return AlertReport(latest.period, n_base, alpha, done)
