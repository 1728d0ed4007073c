"""The alert statistics: exact tails against brute-force sums, the tests' decisions, Holm,
and the false-alarm rate of a whole run when nothing changed."""

from __future__ import annotations

import doctest
import math
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from frankly import alerts
from frankly.alerts import (FISHER, POISSON, Z_TEST, PeriodCounts, binomial_sf, find_alerts,
                            fisher_greater, holm, poisson_rate_test, two_proportion_test)


def exact_binomial_sf(k: int, n: int, p: Fraction) -> float:
    def pmf(i: int) -> Fraction:
        return comb(n, i) * p ** i * (1 - p) ** (n - i)

    k = max(k, 0)
    if k < n - k:  # the shorter sum, exactly: rational arithmetic loses nothing
        return float(1 - sum(pmf(i) for i in range(k)))
    return float(sum(pmf(i) for i in range(k, n + 1)))


def exact_fisher(x1: int, n1: int, x0: int, n0: int) -> float:
    total, successes = n1 + n0, x1 + x0
    return float(sum(Fraction(comb(successes, i) * comb(total - successes, n1 - i),
                              comb(total, n1))
                     for i in range(x1, min(n1, successes) + 1)))


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(alerts).failed == 0


@pytest.mark.parametrize("k, n, p", [
    (0, 10, Fraction(1, 3)), (1, 10, Fraction(1, 3)), (4, 10, Fraction(1, 3)),
    (10, 10, Fraction(1, 3)), (11, 10, Fraction(1, 3)), (3, 65, Fraction(1, 29)),
    (9, 65, Fraction(1, 29)), (30, 1000, Fraction(1, 50)), (12, 1000, Fraction(1, 50)),
    (520, 1000, Fraction(1, 2)), (480, 1000, Fraction(1, 2)), (2, 3000, Fraction(1, 3000)),
])
def test_binomial_tail_matches_the_exact_sum(k: int, n: int, p: Fraction) -> None:
    assert binomial_sf(k, n, float(p)) == pytest.approx(exact_binomial_sf(k, n, p),
                                                        rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("x1, n1, x0, n0", [
    (3, 4, 1, 4), (4, 4, 0, 4), (0, 4, 4, 4), (2, 5, 1, 30), (5, 8, 10, 200),
    (1, 3, 0, 50), (12, 40, 60, 400), (3, 10, 90, 100), (7, 12, 300, 2000),
])
def test_fisher_matches_the_exact_hypergeometric_tail(x1: int, n1: int, x0: int,
                                                      n0: int) -> None:
    assert fisher_greater(x1, n1, x0, n0) == pytest.approx(exact_fisher(x1, n1, x0, n0),
                                                           rel=1e-9, abs=1e-15)


def test_two_proportion_z_test_is_the_pooled_formula() -> None:
    z, p, method = two_proportion_test(60, 200, 1120, 5600)
    pooled = 1180 / 5800
    expected = (0.3 - 0.2) / math.sqrt(pooled * (1 - pooled) * (1 / 200 + 1 / 5600))
    assert method == Z_TEST and z == pytest.approx(expected)
    assert p == pytest.approx(0.5 * math.erfc(expected / math.sqrt(2)))
    # Equal shares: no evidence either way; a lower share: none at all (one-sided).
    assert two_proportion_test(40, 200, 1120, 5600)[1] == pytest.approx(0.5)
    assert two_proportion_test(20, 200, 1120, 5600)[1] > 0.99


def test_small_expected_counts_use_fishers_exact_test() -> None:
    z, p, method = two_proportion_test(3, 4, 1, 4)
    assert method == FISHER and z is None and p == pytest.approx(17 / 70)


@pytest.mark.parametrize("x1, n1, x0, n0", [(-1, 5, 1, 5), (6, 5, 1, 5), (1, 0, 1, 5),
                                            (1, 5, 1, 0)])
def test_bad_counts_are_refused(x1: int, n1: int, x0: int, n0: int) -> None:
    with pytest.raises(ValueError):
        two_proportion_test(x1, n1, x0, n0)


def test_poisson_rate_test_is_the_conditional_binomial() -> None:
    assert poisson_rate_test(9, 1, 56, 28) == pytest.approx(
        exact_binomial_sf(9, 65, Fraction(1, 29)), rel=1e-9)
    assert poisson_rate_test(0, 1, 56, 28) == 1.0
    assert poisson_rate_test(2, 1, 56, 28) > 0.5  # the usual 2 a day is no spike
    with pytest.raises(ValueError):
        poisson_rate_test(1, 0, 5, 28)


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    raw = [0.01, 0.04, 0.03, 0.2]
    adjusted = holm(raw)
    assert adjusted == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert all(a >= r for a, r in zip(adjusted, raw)) and max(adjusted) <= 1
    assert holm([]) == [] and holm([0.7, 0.9]) == pytest.approx([1.0, 1.0])


def day(i: int, total: int = 300, negative: int = 60, urgent: int = 3,
        aspects: dict[str, tuple[int, int]] | None = None) -> PeriodCounts:
    return PeriodCounts(f"d{i}", total=total, negative=negative, urgent=urgent,
                        aspects=aspects or {"delivery": (20, 100), "price": (10, 50)})


def test_a_spike_is_flagged_with_the_aspect_that_drives_it() -> None:
    baseline = [day(i) for i in range(28)]
    latest = day(28, negative=110, urgent=4,
                 aspects={"delivery": (60, 100), "price": (11, 50)})
    report = find_alerts(latest, baseline)
    by_name = {t.name: t for t in report.tests}
    assert report.negative_spike and not report.urgent_spike
    assert report.rising_aspects == ["delivery"]
    assert by_name["negative share"].method == Z_TEST
    assert by_name["urgent volume"].method == POISSON
    assert not by_name["negative share: price"].significant
    assert by_name["negative share"].latest == pytest.approx(110 / 300)
    assert by_name["negative share"].baseline == pytest.approx(0.2)
    assert report.to_dict()["rising_aspects"] == ["delivery"]


def test_an_urgent_spike_alone_is_flagged() -> None:
    report = find_alerts(day(28, urgent=15), [day(i) for i in range(28)])
    assert report.urgent_spike and not report.negative_spike and report.rising_aspects == []


def test_holm_keeps_a_marginal_result_from_raising_an_alert() -> None:
    # 75 of 300 against 20% is p of about 0.02 alone: below 0.05, but not after Holm over
    # the four tests of the run.
    report = find_alerts(day(28, negative=75), [day(i) for i in range(28)])
    test = next(t for t in report.tests if t.kind == "negative_share")
    assert 0.01 < test.p_value < 0.05 and test.p_adjusted > 0.05
    assert not report.negative_spike


def test_too_little_history_or_data_tests_nothing() -> None:
    report = find_alerts(day(3, negative=200), [day(i) for i in range(2)])
    assert report.tests == () and "at least 3" in (report.note or "")
    empty = find_alerts(PeriodCounts("d9", 0, 0, 0), [day(i) for i in range(5)])
    assert empty.tests == () and empty.note


def test_categories_with_few_mentions_are_not_tested() -> None:
    baseline = [day(i, aspects={"rare": (0, 1)}) for i in range(28)]
    report = find_alerts(day(28, aspects={"rare": (5, 5)}), baseline)
    assert not [t for t in report.tests if t.category == "rare"]
    enough = find_alerts(day(28, aspects={"rare": (9, 10)}),
                         [day(i, aspects={"rare": (1, 2)}) for i in range(28)])
    assert [t.category for t in enough.tests if t.category] == ["rare"]


def test_when_nothing_changes_a_run_rarely_raises_any_alert() -> None:
    # 400 runs of 29 days drawn from one unchanging process: Holm keeps the chance of any
    # alert in a run at or below 5%; allow for the sampling error of 400 runs.
    rng = np.random.default_rng(7)

    def draw(i: int) -> PeriodCounts:
        total = int(rng.integers(150, 250))
        aspects = {}
        for name, share in (("delivery", 0.3), ("price", 0.1), ("staff", 0.5)):
            n = int(rng.integers(20, 60))
            aspects[name] = (int(rng.binomial(n, share)), n)
        return PeriodCounts(i, total, int(rng.binomial(total, 0.2)),
                            int(rng.binomial(total, 0.01)), aspects)

    runs = 400
    alarms = 0
    for _ in range(runs):
        days = [draw(i) for i in range(29)]
        report = find_alerts(days[-1], days[:-1])
        alarms += any(t.significant for t in report.tests)
    assert alarms / runs <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / runs)
