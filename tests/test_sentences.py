"""Sentence splitting and chunking: the rules users see, and invariants for any str.

Every example text here was written for these tests.
"""

from __future__ import annotations

import dataclasses
import doctest
import itertools
import random

import pytest

from frankly.text import sentences as sentences_module
from frankly.text.sentences import Span, chunk_sentences, split_sentences

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # the test extra installs it; the seeded fuzz tests below still run
    given = None


def sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


def assert_valid_spans(text: str, spans: list[Span]) -> None:
    """In order, not overlapping, inside the text, trimmed, non-empty, covering every
    visible character."""
    previous_end = 0
    for span in spans:
        assert isinstance(span, Span)
        assert previous_end <= span.start < span.end <= len(text)
        piece = text[span.start:span.end]
        assert piece == piece.strip() and piece
        assert text[previous_end:span.start].isspace() or previous_end == span.start
        previous_end = span.end
    assert not text[previous_end:].strip()


def assert_valid_chunks(text: str, spans: list[Span], chunks: list[Span],
                        max_chars: int) -> None:
    """Chunks are valid spans, no longer than ``max_chars``, and a sentence that fits is
    never split."""
    assert_valid_spans(text, chunks)
    assert all(c.end - c.start <= max_chars for c in chunks)
    for span in spans:
        if span.end - span.start <= max_chars:
            assert any(c.start <= span.start and span.end <= c.end for c in chunks), span


# --- The rules, case by case ------------------------------------------------------------

CASES = [
    # Ordinary reviews.
    ("Delivery was two days late. The blender itself is superb!",
     ["Delivery was two days late.", "The blender itself is superb!"]),
    ("Is it dishwasher safe? The manual does not say.",
     ["Is it dishwasher safe?", "The manual does not say."]),
    # Abbreviations and numbers that do not end a sentence.
    ("Mr. Patel fixed it and Dr. Okafor agreed.", ["Mr. Patel fixed it and Dr. Okafor agreed."]),
    ("Cheap parts, e.g. the hinge, and i.e. the whole lid.",
     ["Cheap parts, e.g. the hinge, and i.e. the whole lid."]),
    ("Kettle vs. jug: the jug wins.", ["Kettle vs. jug: the jug wins."]),
    ("The shop on Elm St. was closed.", ["The shop on Elm St. was closed."]),
    ("It holds approx. 2 litres.", ["It holds approx. 2 litres."]),
    ("Paid $3.50 for shipping and it runs v2.0 now.",
     ["Paid $3.50 for shipping and it runs v2.0 now."]),
    ("Made in the U.S. and it shows.", ["Made in the U.S. and it shows."]),
    ("The courier came at 10 a.m. and left a note.",
     ["The courier came at 10 a.m. and left a note."]),
    ("Solid 4.5 stars from me.", ["Solid 4.5 stars from me."]),
    ("Signed for by J. Rivera at the door.", ["Signed for by J. Rivera at the door."]),
    ("P.S. The charger is missing.", ["P.S. The charger is missing."]),
    # ... but those that can close a sentence do, before a capital letter.
    ("It came at 10 a.m. The box was soaked.", ["It came at 10 a.m.", "The box was soaked."]),
    ("Spoons, lids etc. All of it broke.", ["Spoons, lids etc.", "All of it broke."]),
    ("I rated it 2. Then it broke again.", ["I rated it 2.", "Then it broke again."]),
    ("I said so. I meant it.", ["I said so.", "I meant it."]),
    # Ellipses: a pause before a lower-case word, an end before anything else.
    ("it was ok... but then it broke", ["it was ok... but then it broke"]),
    ("It was ok... Then it broke.", ["It was ok...", "Then it broke."]),
    ("Fine… Until the second week.", ["Fine…", "Until the second week."]),
    ("hmm.. not sure", ["hmm.. not sure"]),
    # Repeated punctuation, and "!" / "?" before lower case (tweets).
    ("Wow!!! Never again?! refund please", ["Wow!!!", "Never again?!", "refund please"]),
    ("love it! the lid leaks though", ["love it!", "the lid leaks though"]),
    # Closing quotes and brackets stay with their sentence.
    ('He said "great." Then left.', ['He said "great."', "Then left."]),
    ("It arrived (finally.) Works well.", ["It arrived (finally.)", "Works well."]),
    ('"Brilliant!" she said. Not me.', ['"Brilliant!" she said.', "Not me."]),
    # Line breaks: every non-empty line is at least one sentence.
    ("arrived today\nlooks great\n\n\nnoisy motor though",
     ["arrived today", "looks great", "noisy motor though"]),
    ("first line\r\nsecond line\u2028third line", ["first line", "second line", "third line"]),
    # Emoji that end a sentence, open one, or close one after punctuation.
    ("love it 😍 the delivery was late though", ["love it 😍", "the delivery was late though"]),
    ("so quiet 🤫🤫 my kids sleep through it", ["so quiet 🤫🤫", "my kids sleep through it"]),
    ("🔥🔥 best grinder so far", ["🔥🔥 best grinder so far"]),
    ("Great value! 👍🏽 Would buy again", ["Great value! 👍🏽", "Would buy again"]),
    ("works fine 👩\u200d🍳 cooking daily now", ["works fine 👩\u200d🍳", "cooking daily now"]),
    ("shipped from 🇩🇪 arrived in a week", ["shipped from 🇩🇪", "arrived in a week"]),
    ("it works 😀", ["it works 😀"]),
    ("broke on day two :( the seller replaced it :) thanks",
     ["broke on day two :(", "the seller replaced it :)", "thanks"]),
    ("works great ✅ would buy again", ["works great ✅", "would buy again"]),
    # Lists.
    ("- fast shipping\n- poor packaging", ["- fast shipping", "- poor packaging"]),
    ("1. cheap 2) breaks quickly", ["1. cheap", "2) breaks quickly"]),
    ("1) sturdy 2) quiet 3) pricey", ["1) sturdy", "2) quiet", "3) pricey"]),
    ("• item", ["• item"]),
    ("good grip • heavy base • short cord", ["good grip", "• heavy base", "• short cord"]),
    ("- fast shipping - poor packaging", ["- fast shipping", "- poor packaging"]),
    ("✔️ sharp blades ✔️ easy to clean ❌ loud",
     ["✔️ sharp blades", "✔️ easy to clean", "❌ loud"]),
    ("Pros: 1. light 2. quiet", ["Pros:", "1. light", "2. quiet"]),
    ("Cons: - flimsy lid - short cord", ["Cons:", "- flimsy lid", "- short cord"]),
    # Prose that only looks like a list.
    ("the lid - sadly - cracked", ["the lid - sadly - cracked"]),
    ("It was 20 - 25 minutes late.", ["It was 20 - 25 minutes late."]),
    ("Bought 2 (model 3) units.", ["Bought 2 (model 3) units."]),
    # Semicolons, URLs, e-mail addresses and handles.
    ("Sturdy; quiet; cheap.", ["Sturdy; quiet; cheap."]),
    ("see www.acme.com for more", ["see www.acme.com for more"]),
    ("mail bob.smith@x.org now", ["mail bob.smith@x.org now"]),
    ("thanks @acme.help for the quick reply", ["thanks @acme.help for the quick reply"]),
    ("Full story at www.acme.com. Read it.", ["Full story at www.acme.com.", "Read it."]),
    ("see https://acme.com/faq?id=3 first", ["see https://acme.com/faq?id=3 first"]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_split_sentences_follows_the_documented_rules(text, expected):
    assert sentences(text) == expected
    assert_valid_spans(text, split_sentences(text))


def test_spans_are_offsets_into_the_original_text():
    text = "  \t🙂 Good kettle.\n\n  Lid sticks!  "
    spans = split_sentences(text)
    assert spans == [Span(3, 17), Span(21, 32)]
    assert [text[s.start:s.end] for s in spans] == ["🙂 Good kettle.", "Lid sticks!"]


def test_spans_are_frozen_values():
    span = Span(0, 4)
    assert span == Span(0, 4) and hash(span) == hash(Span(0, 4))
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.start = 1  # type: ignore[misc]


@pytest.mark.parametrize("text", ["", " ", "\n\n\t ", "\u3000\u00a0\u2028"])
def test_empty_or_whitespace_only_text_has_no_sentences(text):
    assert split_sentences(text) == []


# --- Odd and huge input -----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    pytest.param("a" * 1_000_000, id="one 1 MB word"),
    pytest.param("😍" * 100_000, id="100,000 emoji"),
    pytest.param("🙂 " * 100_000, id="100,000 spaced emoji"),
    pytest.param("." * 1_000_000 + "x", id="a run of dots"),
    pytest.param("\ud83d" * 1000 + "\udc4d", id="lone surrogates"),
])
def test_a_sentence_without_boundaries_is_one_span(text):
    assert split_sentences(text) == [Span(0, len(text.rstrip()))]


@pytest.mark.parametrize("text", [
    "\x00", "a\x00b. c\x00", "\x1b[31mred\x1b[0m. ok", "\ud800. \udfff!",
    "\ufeffhello. bye", "..", "!", "- ", "1. ", "•", ":) :(", "\u200d\ufe0f", "1.\n2.",
    "✅", "😍 ", "a😍 b", "Dr.", "e.g. ", "\"'\" . )", "a.\u2029\u2029b",
])
def test_odd_strings_give_valid_spans(text):
    assert_valid_spans(text, split_sentences(text))


def test_a_megabyte_of_dense_feedback_is_split_sanely():
    """Completes with valid spans; how fast it runs is measured in benchmarks, not here."""
    rng = random.Random(7)
    parts = ["The jug leaks.", "love it 😍", "Dr. Lee agreed!", "- loud motor\n", "1. cheap",
             "it was ok... but", "$3.50 e.g. v2.0?", "www.acme.com", "\n\n", "…", "!!!"]
    text = " ".join(rng.choice(parts) for _ in range(90_000))[:1_000_000]
    spans = split_sentences(text)
    assert_valid_spans(text, spans)
    assert len(spans) > 30_000


# --- chunk_sentences --------------------------------------------------------------------

def test_chunks_pack_whole_sentences():
    text = "Great blender. Loud. Lid leaks badly. Would not buy again."
    spans = split_sentences(text)
    chunks = chunk_sentences(spans, 22, text=text)
    assert [text[c.start:c.end] for c in chunks] == [
        "Great blender. Loud.", "Lid leaks badly.", "Would not buy again."]
    assert_valid_chunks(text, spans, chunks, 22)


def test_a_huge_max_chars_gives_one_chunk_and_no_spans_give_none():
    text = "One. Two! Three?"
    assert chunk_sentences(split_sentences(text), 10_000) == [Span(0, len(text))]
    assert chunk_sentences([], 5) == []


def test_a_long_sentence_is_cut_at_whitespace_near_the_window_end():
    text = "Short one. The motor hums loudly whenever the jug is full. End."
    spans = split_sentences(text)
    chunks = chunk_sentences(spans, 24, text=text)
    assert [text[c.start:c.end] for c in chunks] == [
        "Short one.", "The motor hums loudly", "whenever the jug is", "full.", "End."]
    assert_valid_chunks(text, spans, chunks, 24)
    # With 20, no whitespace lies within the last 5 characters of the window: hard cut.
    chunks = chunk_sentences(spans, 20, text=text)
    assert text[chunks[1].start:chunks[1].end] == "The motor hums loudl"


def test_a_long_word_is_cut_hard_without_empty_pieces():
    text = "x" * 25 + " ok"
    chunks = chunk_sentences(split_sentences(text), 10, text=text)
    assert [text[c.start:c.end] for c in chunks] == ["x" * 10, "x" * 10, "xxxxx ok"]


def test_a_surrogate_pair_is_not_cut_in_half():
    pair = "\ud83d\ude0d"  # what "😍" becomes when UTF-16 is decoded with surrogatepass
    text = "ab" + pair * 3
    chunks = chunk_sentences(split_sentences(text), 3, text=text)
    assert [text[c.start:c.end] for c in chunks] == ["ab", pair, pair, pair]


def test_without_the_text_long_sentences_are_cut_every_max_chars():
    assert chunk_sentences([Span(2, 9)], 3) == [Span(2, 5), Span(5, 8), Span(8, 9)]


@pytest.mark.parametrize("max_chars", [0, -5])
def test_max_chars_below_one_is_refused(max_chars):
    with pytest.raises(ValueError, match="max_chars must be at least 1"):
        chunk_sentences([Span(0, 3)], max_chars)


@pytest.mark.parametrize("spans", [
    [Span(5, 9), Span(0, 3)], [Span(0, 5), Span(4, 8)], [Span(3, 3)], [Span(-1, 2)],
])
def test_malformed_spans_are_refused(spans):
    with pytest.raises(ValueError, match="in order, non-overlapping"):
        chunk_sentences(spans, 4)


def test_spans_beyond_the_text_are_refused():
    with pytest.raises(ValueError, match="inside the text"):
        chunk_sentences([Span(0, 9)], 4, text="short")


def test_docstring_examples_are_real_outputs():
    failed, attempted = doctest.testmod(sentences_module)
    assert attempted > 0 and failed == 0


# --- Invariants for any str ------------------------------------------------------------

# Pieces that exercise the rules more often than uniformly random characters would.
TRICKY = ["Dr.", "e.g.", "U.S.", "a.m.", "etc.", "3.50", "...", "…", "!!", "?!", ".", "!",
          '"', ")", "(", "1.", "2)", "12.", "-", "•", "✔️", "✅", "*", ":", ";", ":)", "<3",
          "😍", "👍🏽", "\u200d", "\ufe0f", "🇩🇪", "www.acme.com", "@bob.smith", " ", "  ",
          "\n", "\r\n", "\t", "\u00a0", "\u2028", "\x00", "\ud800", "\udc00", "I", "J",
          "The", "lid", "ok"]


def random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        pieces = []
        for _ in range(rng.randrange(12)):
            if rng.random() < 0.7:
                pieces.append(rng.choice(TRICKY))
            else:
                pieces.append(chr(rng.randrange(0x110000)))
        texts.append("".join(pieces))
    return texts


def test_split_invariants_hold_for_seeded_random_texts():
    for text in random_texts(seed=1, count=3000):
        assert_valid_spans(text, split_sentences(text))


def test_chunk_invariants_hold_for_seeded_random_texts():
    rng = random.Random(2)
    for text in random_texts(seed=3, count=2000):
        spans = split_sentences(text)
        max_chars = rng.randrange(1, 30)
        assert_valid_chunks(text, spans, chunk_sentences(spans, max_chars, text=text),
                            max_chars)


if given is not None:
    any_text = st.text(st.characters(exclude_categories=())) | st.lists(
        st.sampled_from(TRICKY) | st.characters(exclude_categories=())).map("".join)
    deterministic = settings(derandomize=True, database=None, deadline=None,
                             max_examples=500)

    @deterministic
    @given(any_text)
    def test_split_invariants_hold_for_any_text(text):
        assert_valid_spans(text, split_sentences(text))

    @deterministic
    @given(any_text, st.integers(min_value=1, max_value=40))
    def test_chunk_invariants_hold_for_any_text(text, max_chars):
        spans = split_sentences(text)
        assert_valid_chunks(text, spans, chunk_sentences(spans, max_chars, text=text),
                            max_chars)

    @deterministic
    @given(any_text, st.integers(min_value=1, max_value=40))
    def test_chunks_without_the_text_cover_every_sentence(text, max_chars):
        spans = split_sentences(text)
        chunks = chunk_sentences(spans, max_chars)
        assert all(0 < c.end - c.start <= max_chars for c in chunks)
        assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))
        covered = {i for c in chunks for i in range(c.start, c.end)}
        assert all(i in covered for s in spans for i in range(s.start, s.end))
else:
    @pytest.mark.skip(reason="hypothesis is not installed: pip install -e '.[test]'")
    def test_split_invariants_hold_for_any_text():
        """Placeholder so a missing hypothesis shows up as a skip, not as silence."""
