"""Whole documents: sentences, mixed, long texts, evidence, brand terms, odd input."""

from __future__ import annotations

import pytest

import frankly
from frankly.errors import InputError
from frankly.terms import Terms

from helpers import DATA, shipped_models

REVIEW = "Delivery was two days late. The blender itself is superb."


@pytest.fixture(scope="module", params=shipped_models())
def analyzer(request):
    return frankly.load(request.param)


@pytest.fixture(scope="module")
def accurate():
    if "accurate" not in shipped_models():
        pytest.skip("the accurate model is not built")
    return frankly.load("accurate")


def check_offsets(result):
    text = result.text
    previous = 0
    for s in result.sentences:
        assert previous <= s.start < s.end <= len(text)
        assert text[s.start:s.end].strip() == text[s.start:s.end]
        assert abs(sum(s.scores.values()) - 1) < 1e-6 and s.label in frankly.LABELS
        previous = s.end
    for e in result.evidence:
        assert 0 <= e.start < e.end <= len(text) and text[e.start:e.end] == e.text


def test_sentences_have_offsets_labels_and_scores(analyzer):
    r = analyzer.analyze(REVIEW)
    assert [REVIEW[s.start:s.end] for s in r.sentences] == [
        "Delivery was two days late.", "The blender itself is superb."]
    check_offsets(r)
    one = analyzer.analyze("Great blender")
    assert len(one.sentences) == 1 and one.sentences[0].scores == one.scores


def test_mixed_review_reads_as_mixed_with_both_sentences(accurate):
    r = accurate.analyze(REVIEW)
    assert r.label == "mixed"
    assert [s.label for s in r.sentences] == ["negative", "positive"]
    assert set(r.scores) == set(frankly.LABELS) and r.polarity in frankly.LABELS
    assert r.to_dict()["label"] == "mixed"


def test_mixed_threshold_is_the_rule(analyzer):
    model = analyzer.model
    always = frankly.Analyzer(model, mixed_threshold=0.0)
    never = frankly.Analyzer(model, mixed_threshold=1.0)
    assert always.analyze(REVIEW).label == "mixed"
    assert never.analyze(REVIEW).label != "mixed"
    with pytest.raises(InputError):
        frankly.Analyzer(model, mixed_threshold=1.5)


def test_document_only_mode_skips_sentences_and_mixed(analyzer):
    model = analyzer.model
    whole = frankly.Analyzer(model, sentences=False, explain=False)
    r = whole.analyze(REVIEW)
    assert r.sentences == () and r.label in frankly.LABELS and r.label == r.polarity
    # the scores of the text read whole, as the model reads one text
    assert list(r.scores.values()) == pytest.approx(model.predict_proba([REVIEW])[0].tolist())
    long = " ".join(["The lid leaks and the jug cracked after a week."] * 300)
    lr = whole.analyze(long)
    assert lr.sentences == () and lr.label == "negative"  # still read completely


def test_document_level_batch_matches_the_general_path(analyzer, monkeypatch):
    """Document-level reading takes a shortcut per batch; it must give what the general
    path gives, for every kind of item in one batch (order, errors and reasons too)."""
    model = analyzer.model
    items = ["Great blender, works perfectly", "", None, 42, "Das Paket ist nicht angekommen",
             " ".join(["The lid leaks and the jug cracked after a week."] * 300),
             "ok", "My card was charged twice, please fix this today", "meh " * 3]
    whole = frankly.Analyzer(model, sentences=False, explain=False, aspects=False)
    fast = list(whole.analyze_many(items))
    monkeypatch.setattr(frankly.Analyzer, "_document_level", property(lambda self: False))
    general = list(whole.analyze_many(items))
    assert len(fast) == len(items)
    for a, b in zip(fast, general):
        assert (a.text, a.label, a.needs_review, a.review_reason, a.error, a.language,
                a.urgency) == (b.text, b.label, b.needs_review, b.review_reason, b.error,
                               b.language, b.urgency)
        assert list(a.scores.values()) == pytest.approx(list(b.scores.values()), abs=1e-6)


def test_document_level_batch_survives_a_failing_model_call(analyzer, monkeypatch):
    """A batch whose model call fails is read again by the general path, which isolates
    the failing text: the other texts still get scores."""
    model = analyzer.model
    whole = frankly.Analyzer(model, sentences=False, explain=False, aspects=False)
    real = type(model).predict_counts

    def failing(self, texts):
        if any("boom" in t for t in texts):
            raise ValueError("cannot read boom")
        return real(self, texts)

    monkeypatch.setattr(type(model), "predict_counts", failing)
    out = list(whole.analyze_many(["Great blender", "boom", "Terrible lid"]))
    assert [r.error is None for r in out] == [True, False, True]
    assert "cannot read boom" in out[1].error and out[1].needs_review
    assert out[0].label == "positive" and out[2].label == "negative"


def test_long_text_is_read_completely_not_truncated(analyzer):
    text = " ".join(["The lid leaks and the jug cracked after a week."] * 300
                    + ["Customer service was wonderful and refunded me at once."] * 100)
    r = analyzer.analyze(text)
    assert len(text) > 19_000
    assert len(r.sentences) == 400
    assert r.review_reason is None or "first" not in r.review_reason
    assert r.sentences[-1].label == "positive" and r.sentences[0].label == "negative"
    assert r.polarity == "negative"  # three quarters of it complain
    check_offsets(r)


def test_one_huge_word_and_many_emoji_are_read(analyzer):
    for text in ["x" * 200_000, "😍" * 100_000, "great " + "!" * 5_000]:
        r = analyzer.analyze(text)
        check_offsets(r)
        assert "only its first" not in (r.review_reason or "")


def test_evidence_points_at_the_words_that_decide(accurate):
    r = accurate.analyze("The staff were rude and the room was filthy")
    assert r.label == "negative"
    top = r.evidence[0]
    assert top.weight < 0 and top.source == "model"
    assert any(w in top.text for w in ("rude", "filthy"))
    check_offsets(r)


def test_removing_the_top_evidence_lowers_the_label(analyzer):
    plain = frankly.Analyzer(analyzer.model, explain=False)
    for text in ["Absolutely love this kettle, it boils in a minute",
                 "Worst airline ever, they lost my bag",
                 "Not bad at all for the price"]:
        r = analyzer.analyze(text)
        top = r.evidence[0]
        after = plain.analyze(text[:top.start] + text[top.end:])
        assert after.scores[r.polarity] < r.scores[r.polarity], (text, top)


def test_explain_false_gives_the_same_scores_without_evidence(analyzer):
    plain = frankly.Analyzer(analyzer.model, explain=False)
    for text in [REVIEW, "ok", "Love it! " * 400]:
        a, b = analyzer.analyze(text), plain.analyze(text)
        assert b.evidence == ()
        assert a.label == b.label
        assert all(abs(a.scores[k] - b.scores[k]) < 1e-6 for k in frankly.LABELS)


def test_brand_terms_fix_polarity_and_show_in_evidence(analyzer):
    text = "Killer Queen is sick, I wear it every day"
    terms = {"Killer Queen": "neutral", "sick": "positive"}
    r = frankly.Analyzer(analyzer.model, terms=terms).analyze(text)
    assert r.label == "positive"
    by_text = {e.text: e for e in r.evidence if e.source == "term"}
    assert by_text["sick"].weight > 0 and by_text["Killer Queen"].weight == 0
    check_offsets(r)
    negative = frankly.Analyzer(analyzer.model, terms={"War Zone": -4.0})
    assert negative.analyze("I played War Zone all weekend").scores["negative"] > \
        frankly.Analyzer(analyzer.model).analyze("I played War Zone all weekend").scores[
            "negative"]


def test_terms_file_and_bad_terms(tmp_path):
    path = tmp_path / "terms.csv"
    path.write_text("term,polarity\nKiller Queen,neutral\nsick,positive\nmeh,-1.5\n")
    terms = Terms.from_file(path)
    assert terms.weights == {"killer queen": 0.0, "sick": 3.0, "meh": -1.5}
    with pytest.raises(InputError, match="polarity"):
        Terms({"sick": "great"})
    with pytest.raises(InputError, match="non-empty"):
        Terms({" ": "neutral"})
    path.write_text("term,polarity\nlonely\n")
    with pytest.raises(InputError, match="row 1"):
        Terms.from_file(path)
    with pytest.raises(InputError, match="cannot read"):
        Terms.from_file(tmp_path / "missing.csv")


def test_language_is_reported_and_other_languages_flagged(analyzer):
    english = analyzer.analyze("The parcel arrived late and the box was damaged")
    assert english.language == "en"
    german = analyzer.analyze("Das Paket kam zu spät und der Karton war beschädigt")
    assert german.needs_review and german.review_reason == "unsupported language: de"
    assert german.language == "de"
    short = analyzer.analyze("ok 👍")
    assert not (short.review_reason or "").startswith("unsupported")


@pytest.mark.parametrize("text", [
    " \t\n ", "\x00\x01\x02", "\ud800 broken \udfff", "Great 很好 отлично ممتاز",
    "\u200b\u200d\ufeff", "a" * 3000 + " terrible", "..!!??", "https://x.io/" + "a" * 5000,
])
def test_odd_texts_return_a_result(analyzer, text):
    r = analyzer.analyze(text)
    assert r.label in frankly.LABELS + ("mixed",)
    check_offsets(r)


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(max_size=300), min_size=1, max_size=4))
def test_analyze_never_raises_on_any_str(texts):
    for name in shipped_models():
        analyzer = _cached(name)
        for text, r in zip(texts, analyzer.analyze_many(texts)):
            assert r.text == text
            check_offsets(r)


_ANALYZERS: dict[str, frankly.Analyzer] = {}


def _cached(name):
    if name not in _ANALYZERS:
        _ANALYZERS[name] = frankly.load(name)
    return _ANALYZERS[name]


def test_terms_fixture_file_matches_docs():
    assert (DATA / "brand_terms.csv").read_text().startswith("term,polarity\n")
