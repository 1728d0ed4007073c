"""What Frankly refuses to do, and why: one module the library, the CLI and the service share.

Feedback may say who it is about (``subject_kind``). For employees and students Frankly
gives no per-person sentiment, only aggregates over at least ``k`` distinct people:

>>> check_subject_kind(None)
'unknown'
>>> aggregate_allowed(12), aggregate_allowed(9)
(True, False)
>>> refuse_per_person("customer", "per-item scores")  # allowed: nothing happens
>>> refuse_per_person("employee", "per-item scores")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
frankly.policy.PolicyError: Refused for employees: per-item scores. The EU AI Act ...

Nothing here imports more than the standard library and :mod:`frankly.errors`.
"""

from __future__ import annotations

from frankly.errors import FranklyError, InputError

__all__ = [
    "DEFAULT_MIN_GROUP", "POLICY_TEXT", "PROTECTED_KINDS", "SUBJECT_KINDS", "SUPPRESSED_REASON",
    "PolicyError", "aggregate_allowed", "check_subject_kind", "is_protected",
    "refuse_per_person",
]

SUBJECT_KINDS: tuple[str, ...] = ("customer", "employee", "student", "unknown")
# People whose feelings about their workplace or school must not be read one by one: the
# EU AI Act, Art. 5(1)(f), bans inferring emotions at work and in education.
PROTECTED_KINDS: tuple[str, ...] = ("employee", "student")

# k for k-anonymity (Sweeney, 2002): an aggregate about employees or students is shown only
# when at least k distinct people stand behind it. Many employee-survey tools hide groups
# smaller than 5 respondents; we take 10 because free text gives its writer away more easily
# than a ticked box (style, topics, events only one person knows), so a reader who knows a
# small team could otherwise match a figure to a person. ServiceSettings.min_group_size
# lets an operator set another k.
DEFAULT_MIN_GROUP = 10


class PolicyError(FranklyError):
    """A request Frankly refuses by design (not a mistake in how it was asked).

    ``status`` is the HTTP status the service answers with: 403, the request is understood
    and will not be served.
    """

    code = "policy_refused"
    status = 403


SUPPRESSED_REASON = (
    "Withheld: this group includes employees or students from fewer distinct people than "
    "the minimum group size (k, 10 unless the operator set another), so its figures could "
    "point at individuals. Widen the period or the filters, or group differently.")

POLICY_TEXT = """\
Frankly's use policy

Frankly reads the sentiment of feedback: what customers and users say about a product or
service. It helps teams find what to fix; it is not a tool for judging people.

Employees and students: no per-person results. Feedback marked subject_kind "employee" or
"student" counts only in aggregates over at least k distinct people (k = 10 by default);
smaller groups are withheld, and per-person results and per-person exports of scores are
refused. The EU AI Act (Regulation (EU) 2024/1689, Article 5(1)(f)) bans AI systems that
infer the emotions of people at work and in education. The ban is written for systems that
read biometric signals; Frankly reads text and holds itself to the same line, because a
sentiment score about one worker or pupil invites the judgement the ban exists to prevent.

Sentiment must not drive decisions about individuals. A score is a statistical estimate
that is wrong for some texts: a pointer for a person to read, never evidence about the
person who wrote it.

Frankly never:
- labels emotions (anger, fear, joy) or claims to know how someone feels;
- analyses faces, voices or other biometric data;
- scores, ranks or profiles individual employees or students;
- makes automated decisions about people (hiring, grading, discipline, pay, access to a
  service; see also GDPR Article 22).

The service redacts personal data (e-mail addresses, phone numbers, payment cards, IBANs,
IP addresses, URLs carrying secrets) before feedback is stored or logged; a person can
correct any label, with every correction audited; and everything held about a person can
be exported or erased on request.
"""


def check_subject_kind(value: object) -> str:
    """``value`` as one of SUBJECT_KINDS (case and spaces ignored); None or "" is "unknown"."""
    if value is None:
        return "unknown"
    if not isinstance(value, str):
        raise InputError(f"subject_kind must be one of {', '.join(SUBJECT_KINDS)}, "
                         f"got {type(value).__name__} {value!r}")
    kind = value.strip().lower()
    if not kind:
        return "unknown"
    if kind not in SUBJECT_KINDS:
        raise InputError(f"subject_kind must be one of {', '.join(SUBJECT_KINDS)}, "
                         f"got {value!r}")
    return kind


def is_protected(kind: str) -> bool:
    """Whether per-person results are refused for this subject kind."""
    return check_subject_kind(kind) in PROTECTED_KINDS


def refuse_per_person(kind: str, what: str, *, k: int = DEFAULT_MIN_GROUP) -> None:
    """Raise PolicyError if ``what`` is asked about a protected kind of subject.

    ``what`` names the refused thing so the message reads "Refused for employees: <what>."
    (e.g. "per-item scores", "exporting one person's scores").

    ``k`` is the minimum group size in force, named in the message as what is allowed.
    """
    kind = check_subject_kind(kind)
    if kind not in PROTECTED_KINDS:
        return
    raise PolicyError(
        f"Refused for {kind}s: {what}. The EU AI Act (Art. 5(1)(f)) bans emotion "
        f"recognition at work and in education, and sentiment must not drive decisions "
        f"about individuals. Ask for aggregates instead (GET /v1/stats): they are served "
        f"for groups of at least {k} distinct {kind}s.")


def aggregate_allowed(distinct_subjects: int, k: int = DEFAULT_MIN_GROUP) -> bool:
    """Whether an aggregate over employees or students from ``distinct_subjects`` people may
    be shown: at least ``k`` of them. (Groups without protected kinds need no check.)"""
    for name, value, least in (("distinct_subjects", distinct_subjects, 0), ("k", k, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise InputError(f"{name} must be a whole number of at least {least}, "
                             f"got {value!r}")
    return distinct_subjects >= k
