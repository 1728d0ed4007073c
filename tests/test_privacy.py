"""Redaction of personal data: each kind, the near misses, offsets, handles, idempotence."""

from __future__ import annotations

import doctest
import sys

import pytest

import frankly.privacy as privacy
from frankly.errors import InputError, MissingDependencyError
from frankly.privacy import KINDS, PLACEHOLDERS, Redaction, redact, redact_value

# Every piece below was made up for these tests. Cards are the networks' published test
# numbers; IBANs are the registry's example accounts.
FOUND = [
    ("email", "Write to jane.doe+shop@example.co.uk about it.", "jane.doe+shop@example.co.uk"),
    ("email", "contact:Bob_99@mail-server.example.org!", "Bob_99@mail-server.example.org"),
    ("phone", "Call me at (415) 555-2671 after six", "(415) 555-2671"),
    ("phone", "my number is 415.555.2671, thanks", "415.555.2671"),
    ("phone", "UK office: +44 20 7946 0958.", "+44 20 7946 0958"),
    ("phone", "Berlin +49 30 901820 rang twice", "+49 30 901820"),
    ("card", "charged to 4111 1111 1111 1111 twice", "4111 1111 1111 1111"),
    ("card", "card 5555-5555-5555-4444 was declined", "5555-5555-5555-4444"),
    ("card", "amex 378282246310005, exp 12/27", "378282246310005"),
    ("card", "qty 2 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
    ("iban", "refund to DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00"),
    ("iban", "IBAN: GB82WEST12345698765432.", "GB82WEST12345698765432"),
    ("iban", "my iban is fr14 2004 1010 0505 0001 3m02 606", "fr14 2004 1010 0505 0001 3m02 606"),
    ("ip", "login from 192.168.1.10 failed", "192.168.1.10"),
    ("ip", "server 10.0.0.1:8080 is down", "10.0.0.1"),
    ("ip", "v6 2001:db8::8a2e:370:7334 blocked", "2001:db8::8a2e:370:7334"),
    ("ip", "loopback ::1 only", "::1"),
    ("ip", "link-local fe80::1: dropped", "fe80::1"),
    ("url", "reset at https://shop.example.com/reset?token=abc123&lang=en.",
     "https://shop.example.com/reset?token=abc123&lang=en"),
    ("url", "(see https://api.example.com/v1?API_KEY=zzz)", "https://api.example.com/v1?API_KEY=zzz"),
    ("url", "https://app.example.com/cb#access_token=ya29.x&state=1 worked",
     "https://app.example.com/cb#access_token=ya29.x&state=1"),
    ("url", "spa https://app.example.com/#/callback?code=4/0Ab ok",
     "https://app.example.com/#/callback?code=4/0Ab"),
    ("url", "bucket https://b.example.com/f.pdf?X-Amz-Signature=f00d",
     "https://b.example.com/f.pdf?X-Amz-Signature=f00d"),
    ("url", "old https://shop.example.com/cart;jsessionid=A1B2C3 link",
     "https://shop.example.com/cart;jsessionid=A1B2C3"),
    ("url", "ftp://jane:hunter2@files.example.com/x", "ftp://jane:hunter2@files.example.com/x"),
]

KEPT = [
    "order 1234567890123456 never arrived",  # 16 digits, fails Luhn
    "ticket 4111 1111 1111 1112 reopened",  # one digit off a card: fails Luhn
    "ping 999.1.1.1 timed out",  # not an address
    "firmware 1.2.3 then 10.0.0 again",  # too few parts for an IPv4 address
    "see https://shop.example.com/products/42?color=red#reviews",  # a plain link
    "use https://shop.example.com/?promo_code=SAVE10 or ?token= empty",
    "https://shop.example.com/cb?token=",  # a secret name without a value
    "delivered 2024-01-15, ordered 12/05/2023, paid on 03.04.2023",
    "cost $1,299.99 (was €1.499,00), 2 for 19.99",
    "opens 10:30, closes 21:45, timer 10:30:45",
    "router MAC 00:1A:2B:3C:4D:5E, std::vector, dead::beef",
    "DE89 3704 0044 0532 0130 01 is a typo",  # IBAN failing mod-97
    "DE89 3704 0044 0532 0130 is too short",
    "call 555-0100 or 911",  # a 7-digit local number is not a valid US number
    "rated 5 stars, 10/10 would buy again in 2025",
    "meet @3pm, mail me @ home",
]

REVIEWS = [
    "Great blender, crushes ice in seconds. Five stars from me!",
    "Arrived two days late and the box was crushed. Support never answered.",
    "Email me at tom.h@example.net or text (212) 555-0187 when the part is in.",
    "I paid with 4111-1111-1111-1111 and got charged twice, order 88412033.",
    "@FranklyHelp your app logs me out; IP 203.0.113.7 per my router.",
    "Refund to NL91 ABNA 0417 1643 00 please, or call +31 20 123 4567.",
    "Link you sent https://x.example.com/login?session=9f8e7d still fails.",
    "Bought 3 for $29.99 on 2024-03-02; all good.",
]


@pytest.mark.parametrize("kind,text,piece", FOUND)
def test_each_kind_is_found_and_replaced_by_its_placeholder(kind, text, piece):
    result = redact(text)
    assert result.text == text.replace(piece, PLACEHOLDERS[kind])
    (span,) = result.spans
    assert (span.kind, text[span.start:span.end]) == (kind, piece)
    assert result.text[span.placeholder_start:span.placeholder_end] == PLACEHOLDERS[kind]
    assert result.counts == {kind: 1}


@pytest.mark.parametrize("text", KEPT)
def test_near_misses_are_kept(text):
    result = redact(text)
    assert result.text == text and result.spans == ()


def test_near_miss_order_number_really_fails_luhn_and_the_card_passes():
    # Guards the fixtures above: otherwise the "kept" test could pass for the wrong reason.
    assert not privacy._luhn_ok("1234567890123456")
    assert privacy._luhn_ok("4111111111111111")


def test_placeholders_name_every_kind():
    assert KINDS == ("email", "url", "iban", "card", "ip", "phone", "handle")
    assert dict(PLACEHOLDERS) == {k: f"[{k.upper()}]" for k in KINDS}


def test_phone_region_reads_national_numbers():
    text = "Ruf an: 030 901820, danke"
    assert redact(text).text == text  # not a US number
    assert redact(text, region="de").text == "Ruf an: [PHONE], danke"


def test_handles_only_when_asked_and_an_email_is_not_a_handle():
    text = "Thanks @Support_Team and @alice@mastodon.example, mail bob@example.com"
    assert redact(text).text == "Thanks @Support_Team and @[EMAIL], mail [EMAIL]"
    result = redact(text, handles=True)
    assert result.text == "Thanks [HANDLE] and [HANDLE], mail [EMAIL]"
    assert result.counts == {"handle": 2, "email": 1}
    assert redact("meet @3pm at the @ sign", handles=True).spans == ()


def test_overlaps_keep_the_earliest_then_longest_find():
    # The e-mail inside a secret-carrying URL goes with the URL; in a plain URL it is taken.
    assert redact("go https://x.example.com/?token=t&to=jane@example.com").text == "go [URL]"
    assert (redact("go https://x.example.com/?to=jane@example.com now").text
            == "go https://x.example.com/?to=[EMAIL] now")
    # An IBAN's digits hold a Luhn-valid run; the IBAN starts first and wins.
    assert redact("DE89 3704 0044 0532 0130 00").counts == {"iban": 1}


def test_a_placeholder_that_exposes_a_neighbour_is_redacted_at_once():
    # "::1" glued to a word is no address; after the e-mail it stands alone.
    result = redact("jane@example.com::1 then")
    assert result.text == "[EMAIL][IP] then"
    assert [(s.kind, s.start, s.end) for s in result.spans] == [("email", 0, 16), ("ip", 16, 19)]
    assert result.map_span(16, 24) == (7, 16)
    assert redact(result.text).text == result.text


def test_every_fixture_is_idempotent():
    for text in [t for _, t, _ in FOUND] + KEPT + REVIEWS:
        for handles in (False, True):
            once = redact(text, handles=handles)
            twice = redact(once.text, handles=handles)
            assert twice.text == once.text and twice.spans == (), text


def test_reviews_redact_as_expected():
    got = [redact(text, handles=True).text for text in REVIEWS]
    assert got == [
        REVIEWS[0],
        REVIEWS[1],
        "Email me at [EMAIL] or text [PHONE] when the part is in.",
        "I paid with [CARD] and got charged twice, order 88412033.",
        "[HANDLE] your app logs me out; IP [IP] per my router.",
        "Refund to [IBAN] please, or call [PHONE].",
        "Link you sent [URL] still fails.",
        REVIEWS[7],
    ]


# -- offsets ------------------------------------------------------------------------------

def test_map_span_moves_offsets_around_and_over_placeholders():
    text = "Mail jane.doe@example.com or call (415) 555-2671 now, fast."
    result = redact(text)
    assert result.text == "Mail [EMAIL] or call [PHONE] now, fast."
    assert result.original_length == len(text)

    def moved(piece: str) -> str:
        start = text.index(piece)
        new_start, new_end = result.map_span(start, start + len(piece))
        return result.text[new_start:new_end]

    # Text outside the pieces keeps its words; a range touching a piece covers its placeholder.
    assert moved("Mail") == "Mail"
    assert moved("or call") == "or call"
    assert moved("now, fast.") == "now, fast."
    assert moved("jane.doe@example.com") == "[EMAIL]"
    assert moved("doe") == "[EMAIL]"
    assert moved("example.com or call (415)") == "[EMAIL] or call [PHONE]"
    assert moved("2671 now") == "[PHONE] now"
    assert result.map_span(0, len(text)) == (0, len(result.text))
    assert result.map_span(5, 5) == (5, 5)  # empty, just before a piece
    assert result.map_span(len(text), len(text)) == (len(result.text),) * 2
    start = text.index("@")
    assert result.map_span(start, start) == (5, 12)  # empty inside a piece: the placeholder


def test_map_span_without_redaction_is_the_identity():
    result = redact("nothing personal here")
    assert result.spans == () and result.map_span(3, 9) == (3, 9)


@pytest.mark.parametrize("span", [(-1, 2), (3, 2), (0, 99), (0.0, 1), (True, 2)])
def test_map_span_refuses_ranges_outside_the_original(span):
    with pytest.raises(InputError, match="span|whole number"):
        redact("call (415) 555-2671").map_span(*span)


def test_property_offsets_and_idempotence_hold_for_mixed_texts():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    pieces = ["hello", " ", ", ", "2", "2024-01-15", "jane@example.com", "(415) 555-2671",
              "4111 1111 1111 1111", "10.0.0.1", "https://x.example.com/?sid=1", "@bob",
              "DE89 3704 0044 0532 0130 00", "1234567890123456", "::1", "x", "."]

    @hypothesis.settings(max_examples=150, derandomize=True, deadline=None, database=None)
    @hypothesis.given(st.lists(st.sampled_from(pieces), max_size=12), st.booleans())
    def check(parts: list[str], handles: bool) -> None:
        text = "".join(parts)
        result = redact(text, handles=handles)
        assert redact(result.text, handles=handles).text == result.text
        gaps, done = [], 0
        for span in result.spans:
            assert done <= span.start < span.end
            assert result.text[span.placeholder_start:span.placeholder_end] == \
                PLACEHOLDERS[span.kind]
            gaps.append((done, span.start))
            done = span.end
        gaps.append((done, len(text)))
        for start, end in gaps:  # everything between the pieces is kept, at mapped offsets
            new_start, new_end = result.map_span(start, end)
            assert result.text[new_start:new_end] == text[start:end]

    check()


# -- redact_value -------------------------------------------------------------------------

def test_redact_value_walks_dicts_and_lists_and_keeps_keys_and_other_values():
    value = {
        "customer": {"email": "jane@example.com", "phones": ["(415) 555-2671", "none"]},
        "card": 4111111111111111,
        "order": 1234567890123456,
        "pair": ("ip 10.0.0.1", 3),
        "flags": [True, None, 1.5],
        "jane@example.com": "keys are field names",
    }
    assert redact_value(value) == {
        "customer": {"email": "[EMAIL]", "phones": ["[PHONE]", "none"]},
        "card": "[CARD]",
        "order": 1234567890123456,
        "pair": ("ip [IP]", 3),
        "flags": [True, None, 1.5],
        "jane@example.com": "keys are field names",
    }
    assert redact_value("@bob hi", handles=True) == "[HANDLE] hi"


# -- errors, dependencies and speed guards ------------------------------------------------

def test_bad_inputs_are_refused_with_what_was_expected():
    with pytest.raises(InputError, match="text must be a string"):
        redact(b"bytes")  # type: ignore[arg-type]
    for region in ("XX", "", 49):
        with pytest.raises(InputError, match="region"):
            redact("hello", region=region)  # type: ignore[arg-type]


def test_missing_phonenumbers_names_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    privacy._phone_min_digits.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match=r"pip install 'frankly\[server\]'"):
            redact("hello")
    finally:
        privacy._phone_min_digits.cache_clear()


def test_texts_without_a_long_digit_run_never_reach_the_phone_matcher(monkeypatch):
    import phonenumbers

    def refuse(*args, **kwargs):
        raise AssertionError("the phone matcher ran")

    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", refuse)
    for text in [REVIEWS[0], REVIEWS[1], REVIEWS[7], "mail jane@example.com", "5 stars, 2 days",
                 "$1,299.99 in 2024", "ip 10.0.0.1", "order 88412033", "card 4111 1111 1111 1111",
                 "DE89 3704 0044 0532 0130 00"]:
        redact(text, handles=True)
    with pytest.raises(AssertionError, match="matcher ran"):
        redact("call (415) 555-2671")


def test_the_phone_pre_check_bound_matches_phonenumbers_metadata():
    phonenumbers = pytest.importorskip("phonenumbers")
    fewest = min(
        len(str(meta.country_code)) + min(meta.general_desc.possible_length)
        for meta in [phonenumbers.PhoneMetadata.metadata_for_region(r)
                     for r in phonenumbers.SUPPORTED_REGIONS]
        + [phonenumbers.PhoneMetadata.metadata_for_nongeo_region(c)
           for c in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS])
    assert privacy._MIN_INTERNATIONAL_DIGITS == fewest


def test_the_phone_pre_check_lets_every_regions_example_numbers_through():
    phonenumbers = pytest.importorskip("phonenumbers")
    formats = phonenumbers.PhoneNumberFormat
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        with_plus, without_plus = privacy._phone_min_digits(region)
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            national = phonenumbers.format_number(number, formats.NATIONAL)
            international = phonenumbers.format_number(number, formats.INTERNATIONAL)
            assert sum(c.isdigit() for c in national) >= without_plus, (region, national)
            assert sum(c.isdigit() for c in international) >= with_plus, (region, international)


def test_redaction_is_a_frozen_value():
    result = redact("mail jane@example.com")
    assert isinstance(result, Redaction)
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]


def test_docstring_examples_hold():
    result = doctest.testmod(privacy)
    assert result.attempted > 0 and result.failed == 0
