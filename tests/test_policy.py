"""The use policy: subject kinds, refusals for employees and students, k-anonymity."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import frankly.policy as policy
from frankly.config import ServiceSettings
from frankly.errors import FranklyError, InputError
from frankly.policy import (
    DEFAULT_MIN_GROUP,
    POLICY_TEXT,
    PROTECTED_KINDS,
    SUBJECT_KINDS,
    SUPPRESSED_REASON,
    PolicyError,
    aggregate_allowed,
    check_subject_kind,
    is_protected,
    refuse_per_person,
)


def test_kinds_and_the_default_group_size():
    assert SUBJECT_KINDS == ("customer", "employee", "student", "unknown")
    assert PROTECTED_KINDS == ("employee", "student")
    assert DEFAULT_MIN_GROUP == 10
    # The service's setting starts from the same k.
    assert ServiceSettings().min_group_size == DEFAULT_MIN_GROUP


@pytest.mark.parametrize("value,kind", [
    (None, "unknown"), ("", "unknown"), ("  ", "unknown"), ("customer", "customer"),
    (" Employee ", "employee"), ("STUDENT", "student"), ("unknown", "unknown"),
])
def test_check_subject_kind_normalises(value, kind):
    assert check_subject_kind(value) == kind


@pytest.mark.parametrize("value", ["manager", "employees", 3, ["employee"], True])
def test_check_subject_kind_refuses_others_naming_the_allowed_kinds(value):
    with pytest.raises(InputError, match="customer, employee, student, unknown"):
        check_subject_kind(value)


@pytest.mark.parametrize("kind", ["employee", "Student"])
def test_per_person_results_are_refused_for_protected_kinds_with_reason_and_alternative(kind):
    with pytest.raises(PolicyError) as caught:
        refuse_per_person(kind, "per-person scores")
    error = caught.value
    assert isinstance(error, FranklyError)
    assert (error.code, error.status) == ("policy_refused", 403)
    message = str(error)
    assert message.startswith(f"Refused for {kind.lower()}s: per-person scores. ")
    assert "Art. 5(1)(f)" in message and "work and in education" in message
    assert "decisions about individuals" in message
    assert f"at least 10 distinct {kind.lower()}s" in message
    assert is_protected(kind)


def test_refusal_names_the_k_in_force():
    with pytest.raises(PolicyError, match="at least 25 distinct employees"):
        refuse_per_person("employee", "an export of scores", k=25)


@pytest.mark.parametrize("kind", ["customer", "unknown", None, ""])
def test_other_kinds_are_served(kind):
    assert refuse_per_person(kind, "per-item scores") is None
    assert not is_protected(kind)


def test_refuse_per_person_checks_the_kind():
    with pytest.raises(InputError, match="subject_kind"):
        refuse_per_person("boss", "per-item scores")


def test_aggregates_need_k_distinct_subjects():
    assert [aggregate_allowed(n) for n in (0, 1, 9, 10, 11, 10_000)] == [
        False, False, False, True, True, True]
    assert aggregate_allowed(5, k=5) and not aggregate_allowed(4, k=5)
    assert aggregate_allowed(1, 1)


@pytest.mark.parametrize("args", [(-1,), (2.5,), ("10",), (True,), (10, 0), (10, 1.5), (10, None)])
def test_aggregate_allowed_refuses_bad_numbers(args):
    with pytest.raises(InputError, match="whole number"):
        aggregate_allowed(*args)


def test_suppressed_reason_says_why_and_what_to_do():
    assert "fewer distinct people" in SUPPRESSED_REASON
    assert "employees or students" in SUPPRESSED_REASON
    assert "Widen" in SUPPRESSED_REASON


def test_policy_text_says_what_is_refused_and_never_done():
    text = " ".join(POLICY_TEXT.split())
    for phrase in [
        "no per-person results", "at least k distinct people (k = 10 by default)",
        "Article 5(1)(f)", "Sentiment must not drive decisions about individuals",
        "labels emotions", "faces, voices", "individual employees or students",
        "automated decisions about people", "redacts personal data", "exported or erased",
    ]:
        assert phrase in text, phrase
    assert max(len(line) for line in POLICY_TEXT.splitlines()) <= 100  # prints as it is


def test_policy_and_privacy_import_nothing_heavy():
    code = ("import sys, frankly.policy, frankly.privacy; "
            "print(sorted(m for m in ('phonenumbers', 'sqlalchemy', 'fastapi', 'onnxruntime') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_docstring_examples_hold():
    result = doctest.testmod(policy, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
