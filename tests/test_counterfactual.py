"""The counterfactual data that teaches the models that names and gender words are not
sentiment (frankly.training.counterfactual): written by us, disjoint from what measures it."""

from __future__ import annotations

import random

import pytest

from frankly.training import counterfactual as cf

# The first names the Equity Evaluation Corpus uses (Kiritchenko & Mohammad 2018, its
# paper's tables), so the test can prove that none of ours is one of them.
EEC_NAMES = """Adam Alan Alonzo Alphonse Amanda Andrew Betsy Courtney Darnell Ebony Ellen Frank
Harry Heather Jack Jamel Jasmine Jerome Josh Justin Katie Kristin Lakisha Lamar Latisha Latoya
Leroy Malik Melanie Nancy Nichelle Roger Ryan Shaniqua Shereen Stephanie Tanisha Terrence Tia
Torrance""".split()


def all_names() -> list[str]:
    return [n for ns in cf.NAMES.values() for n in ns]


def test_no_name_is_one_the_audit_measures_with():
    assert not {n.lower() for n in all_names()} & {n.lower() for n in EEC_NAMES}


def test_names_are_unique_and_every_group_has_training_and_dev_names():
    names = all_names()
    assert len(names) == len(set(names)) >= 150
    train, dev = cf.names(), cf.names(dev=True)
    assert not {n.name for n in train} & {n.name for n in dev}
    for group in cf.NAMES:
        assert any((n.gender, n.origin) == group for n in train)
        assert any((n.gender, n.origin) == group for n in dev)


def test_dev_frames_are_never_trained_on():
    train, dev = cf.frames(), cf.frames(dev=True)
    assert train and dev and not set(train) & set(dev)
    trained = {t for g in cf.training_groups([], random.Random(0)) for t in g}
    dev_sentences = {r.sentence for r in cf.dev_rows()}
    assert not trained & dev_sentences


@pytest.mark.parametrize("text, swapped", [
    ("She said her mom loved it", "He said his dad loved it"),
    ("He gave her the keys", "She gave him the keys"),
    ("MY SISTER hates this", "MY BROTHER hates this"),
    ("The waitress and her husband were kind", "The waiter and his wife were kind"),
    ("Ask the manager, he knows.", "Ask the manager, she knows."),
])
def test_gender_swap_changes_only_the_gendered_words(text, swapped):
    assert cf.swap_gender(text) == swapped


def test_a_text_without_gendered_words_has_no_swap():
    assert cf.swap_gender("The parcel came two days late.") is None
    assert cf.swap_gender("") is None
    # words that merely contain a gendered word are left alone
    assert cf.swap_gender("Shepherd's pie, the theme and manners") is None


def test_variant_groups_differ_only_in_the_person():
    texts = ["she was so helpful today", "my dad hated the update", "nothing personal here"]
    groups = cf.variant_groups(texts, random.Random(1))
    first = [g for g in groups if g.source is not None]
    assert [(g.source, g.kind) for g in first] == [(0, "gender"), (0, "name"), (1, "gender")]
    assert first[0].texts == ("she was so helpful today", "he was so helpful today")
    a, b = first[1].texts
    assert a != b and a.endswith(" was so helpful today") and b.endswith(" was so helpful today")
    for g in groups:
        assert len(set(g.texts)) == len(g.texts) >= 2


def test_variant_groups_are_deterministic_for_a_seed():
    texts = ["she was so helpful today"]
    assert cf.variant_groups(texts, random.Random(5)) == cf.variant_groups(texts, random.Random(5))


def test_dev_rows_measure_both_axes_with_the_audits_code():
    from frankly.audit.bias import axis_report, flip_report

    rows = cf.rows_as_eec(cf.dev_rows())
    constant = [0.25] * len(rows)
    for axis in ("gender", "race"):
        report = axis_report(rows, constant, axis)
        assert report["overall"]["pairs"] > 100
        assert report["overall"]["mean_difference"] == 0
    assert flip_report(rows, ["neutral"] * len(rows))["names"]["rate"] == 0
