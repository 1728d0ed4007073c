"""Reading people neutrally (frankly.text.people): first names as one placeholder, gendered
words as neutral ones, offsets still pointing at what the user wrote."""

from __future__ import annotations

import numpy as np
import pytest

from frankly.errors import ModelError
from frankly.models.fast import FastModel
from frankly.models.hashing import HashingSpec
from frankly.text.normalize import normalize, normalize_with_offsets
from frankly.text.people import (GENDER_PAIRS, NEUTRAL, People, first_names, mask_names,
                                 neutral_gender)

NAMES = People(names="Alex")
BOTH = People(names="Alex", neutral_gender=True)


def test_first_names_are_names_not_sentiment_or_common_words():
    names = first_names()
    assert len(names) > 4000
    assert {"Jasmine", "Darnell", "Emily", "Carlos", "Maria"} <= names
    # Names the 1990 census sample lacks but many people carry (SSA baby names), and names
    # that are also lexicon slang ("mia" = missing in action) but written as names.
    assert {"Jaden", "Aaliyah", "Nevaeh", "Mia", "Rob"} <= names
    # The SSA lists also hold rare names that are ordinary words: those stay words.
    assert not {"Price", "Park", "Legacy", "Security"} & names
    # Sentiment words and common words stay words.
    assert not {"Joy", "Hope", "Grace", "Precious", "Will", "May", "My", "Gay", "June"} & names
    # Gendered words are read by neutral_gender, not as names.
    assert not {"Lady", "King", "Prince", "Queen"} & names


def test_mask_names_only_touches_capitalised_standalone_names():
    text = "Jasmine said @Darnell and #Emily loved it; jasmine tea; JASMINE; Will it work?"
    assert mask_names(text, "Alex") == (
        "Alex said @Darnell and #Emily loved it; jasmine tea; JASMINE; Will it work?")
    assert mask_names("Jasmine's order and O'Brien", "Alex") == "Alex's order and O'Brien"
    # Names with an inner capital are names; brands written that way are not.
    assert (mask_names("DeShawn and LaToya on YouTube with PayPal", "Alex")
            == "Alex and Alex on YouTube with PayPal")


def test_names_read_alike_whatever_the_name():
    texts = [normalize(f"{n} was so rude to me at the desk", people=NAMES)
             for n in ("Jasmine", "Darnell", "Emily", "Carlos")]
    assert len(set(texts)) == 1


def test_neutral_gender_covers_every_pair_and_keeps_case():
    for female, male in GENDER_PAIRS:
        assert neutral_gender(female) == neutral_gender(male) == NEUTRAL[female]
    assert (neutral_gender("She said HER Mom and his wife")
            == "They said THEM Parent and their spouse")
    untouched = "shell shocked, heal the mens-wear"
    assert neutral_gender(untouched) == untouched


def test_offsets_point_at_the_original_words():
    text = "Jasmine told my  Mom: great! http://x.co/a"
    plain = normalize(text, lower=True, people=BOTH)
    mapped = normalize_with_offsets(text, lower=True, people=BOTH)
    assert mapped.text == plain == "alex told my parent: great! http"
    i = mapped.text.index("alex")
    assert text[slice(*mapped.span(i, i + 4))] == "Jasmine"
    j = mapped.text.index("parent")
    assert text[slice(*mapped.span(j, j + 6))] == "Mom"
    k = mapped.text.index("told")
    assert text[slice(*mapped.span(k, k + 4))] == "told"  # unchanged words map one to one


def test_without_people_text_reads_as_written():
    text = "Jasmine told my Mom"
    assert normalize(text) == normalize(text, people=None) == "Jasmine told my Mom"
    assert normalize(text, people=People()) == text


@pytest.mark.parametrize("given", [
    "Alex", {"names": "two words"}, {"names": 3}, {"names": "Alex", "other": True}])
def test_bad_people_config_fails_loudly(given):
    with pytest.raises(ModelError, match="people"):
        People.from_config({"name": "m", "people": given})


def test_people_round_trip_through_config():
    assert People.from_config({"people": BOTH.to_config()}) == BOTH
    assert People.from_config({}) is None


def _fast(people: People | None) -> FastModel:
    spec = HashingSpec(bits=12)
    rng = np.random.default_rng(0)
    config = {"name": "t", "version": "0", "labels": ["negative", "neutral", "positive"],
              "temperature": 1.0, "review_threshold": 0.0,
              "hashing": {"bits": 12, "char_orders": [2, 4], "words": True,
                          "bigrams": True, "negation": True}}
    if people is not None:
        config["people"] = people.to_config()
    assert spec.bits == 12
    return FastModel(config, rng.normal(size=(1 << 12, 3)).astype(np.float32),
                     np.zeros(3, dtype=np.float32))


def test_a_model_that_reads_people_neutrally_scores_names_and_genders_alike():
    texts = ["Jasmine was rude to me", "Darnell was rude to me",
             "my sister loved the food", "my brother loved the food"]
    neutral = _fast(BOTH).predict_logits(texts)[0]
    assert np.allclose(neutral[0], neutral[1]) and np.allclose(neutral[2], neutral[3])
    plain = _fast(None).predict_logits(texts)[0]
    assert not np.allclose(plain[0], plain[1])
    # Word evidence still points at the name in the user's text.
    _, _, words = _fast(BOTH).predict_tokens(["Jasmine was rude"])
    assert words[0].spans[0].tolist() == [0, 7]


@pytest.mark.parametrize("name", ["accurate", "fast"])
def test_every_shipped_model_scores_names_and_genders_alike(name):
    import frankly

    analyzer = frankly.load(name)
    assert analyzer.model.people == BOTH
    frames = ["{} said the delivery was late and the box was crushed",
              "Thanks to {} at the front desk, the check-in was quick",
              "I asked {} about the refund"]
    alike = [["Jaden", "Mia", "Aaliyah", "Connor", "DeShawn"], ["my sister", "my brother"],
             ["she", "he"], ["This woman", "This man"]]
    for frame in frames:
        for group in alike:
            results = list(analyzer.analyze_many([frame.format(p) for p in group]))
            assert len({r.label for r in results}) == 1, (frame, group)
            first = results[0].scores
            for r in results[1:]:
                assert all(abs(r.scores[k] - first[k]) < 1e-6 for k in first), (frame, group)
