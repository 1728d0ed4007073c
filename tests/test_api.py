"""The public API: what a user of ``import frankly`` relies on."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

import frankly
from frankly import FranklyError, InputError, Result

from helpers import shipped_models


def test_public_names_are_pinned():
    assert sorted(frankly.__all__) == sorted([
        "LABELS", "Analyzer", "Aspect", "ChecksumError", "DataError", "FranklyError", "InputError",
        "MissingDependencyError", "ModelError", "ModelNotFoundError", "Result", "Urgency",
        "UrgencyReason", "__version__", "analyze", "analyze_many", "load"])
    for name in frankly.__all__:
        assert hasattr(frankly, name)


def test_import_is_light():
    code = ("import sys, frankly; heavy = [m for m in ('onnxruntime', 'torch', 'fastapi', "
            "'pyarrow', 'pyspark', 'pandas', 'numpy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_share_one_root_with_stable_codes():
    for cls in (frankly.InputError, frankly.ModelError, frankly.ModelNotFoundError,
                frankly.ChecksumError, frankly.DataError, frankly.MissingDependencyError):
        assert issubclass(cls, FranklyError)
        assert isinstance(cls.code, str) and cls.code


@pytest.fixture(scope="module", params=shipped_models())
def analyzer(request):
    return frankly.load(request.param)


def test_result_is_a_frozen_serialisable_record(analyzer):
    r = analyzer.analyze("The courier was friendly and early.")
    assert isinstance(r, Result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.label = "negative"  # type: ignore[misc]
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["label"] == r.label and d["model"] == r.model
    assert r.label in frankly.LABELS
    assert set(r.scores) == set(frankly.LABELS)
    assert abs(sum(r.scores.values()) - 1.0) < 1e-6
    assert r.confidence == max(r.scores.values()) == r.scores[r.label]
    assert r.model.startswith("frankly-")


def test_non_string_input_says_what_was_given(analyzer):
    with pytest.raises(InputError, match="got int 42"):
        analyzer.analyze(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="NoneType"):
        analyzer.analyze(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_is_neutral_and_flagged(analyzer, text):
    r = analyzer.analyze(text)
    assert r.label == "neutral"
    assert r.needs_review and "empty" in r.review_reason


def test_analyze_many_keeps_order_and_every_row(analyzer):
    texts = ["I love it", "", None, "Terrible, it broke on day one", 7, "My order number is 12"]
    results = list(analyzer.analyze_many(texts, batch_size=2))
    assert len(results) == len(texts)
    assert [r.text for r in results] == ["I love it", "", "", "Terrible, it broke on day one",
                                         "7", "My order number is 12"]
    assert results[0].label == "positive" and results[3].label == "negative"
    assert results[2].error and "NoneType" in results[2].error and results[2].needs_review
    assert results[4].error and "int" in results[4].error
    assert results[1].error is None and results[1].needs_review


def test_analyze_many_streams_lazily(analyzer):
    def endless():
        i = 0
        while True:
            i += 1
            yield f"review number {i}: great product"

    stream = analyzer.analyze_many(endless(), batch_size=4)
    first = [next(stream) for _ in range(10)]
    assert [r.text for r in first] == [f"review number {i}: great product" for i in range(1, 11)]


def test_batched_and_single_results_agree(analyzer):
    texts = ["Great service", "Awful, never again", "The store opens at nine", "meh"] * 3
    many = list(analyzer.analyze_many(texts, batch_size=5))
    for text, r in zip(texts, many):
        one = analyzer.analyze(text)
        assert one.label == r.label
        # int8 activations are quantised per batch, so scores move slightly with the
        # batch's other texts (documented in the model card); labels must not.
        assert abs(one.confidence - r.confidence) < 0.02


def test_analyze_many_rejects_bad_arguments_at_call_time(analyzer):
    with pytest.raises(InputError, match="one str"):
        analyzer.analyze_many("a single text")
    with pytest.raises(InputError, match="batch_size"):
        analyzer.analyze_many(["a"], batch_size=0)
    with pytest.raises(InputError, match="iterable"):
        analyzer.analyze_many(12)  # type: ignore[arg-type]


def test_review_threshold_flags_low_confidence(analyzer):
    strict = frankly.Analyzer(analyzer.model, review_threshold=1.0)
    r = strict.analyze("The parcel came today")
    assert r.needs_review and r.review_reason.startswith("low confidence")
    lenient = frankly.Analyzer(analyzer.model, review_threshold=0.0)
    assert not lenient.analyze("The parcel came today").needs_review
    with pytest.raises(InputError):
        frankly.Analyzer(analyzer.model, review_threshold=1.5)


def test_module_functions_use_the_accurate_model():
    if "accurate" not in shipped_models():
        pytest.skip("accurate model not built in this checkout")
    r = frankly.analyze("Lovely staff and quick delivery")
    assert r.model.startswith("frankly-accurate") and r.label == "positive"
    assert [x.label for x in frankly.analyze_many(["Awful", "Great"])] == ["negative", "positive"]


@pytest.mark.parametrize("text", [
    "Mi pedido no ha llegado y nadie responde a mis correos",
    "Das Paket ist nicht angekommen und der Service ist sehr schlecht",
    "Отличный сервис, спасибо большое",
])
def test_text_in_another_language_is_flagged_not_guessed(analyzer, text):
    r = analyzer.analyze(text)
    assert r.needs_review and r.review_reason.startswith("unsupported language: ")


def test_english_with_a_foreign_word_is_not_flagged(analyzer):
    r = frankly.Analyzer(analyzer.model, review_threshold=0.0).analyze(
        "I love the café au lait here, the staff are great")
    assert not r.needs_review


@pytest.mark.parametrize("text", ["\ud800 broken surrogate", "\x00\x01\x02", "😀" * 5000,
                                  "a" * 200_000, "\u202e reversed"])
def test_odd_strings_get_a_result_not_an_error(analyzer, text):
    r = analyzer.analyze(text)
    assert r.error is None and r.label in frankly.LABELS
