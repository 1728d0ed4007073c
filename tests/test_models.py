"""One contract for every model: the shipped ones and a user-trained one."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import frankly
from frankly.models.artifacts import read_model_dir, write_checksums
from frankly.models.fast import train_fast
from frankly.models.registry import build_model, load_model, model_path
from frankly.models.transformer import RUN_COST_TOKENS
from frankly.training.package import CardInfo, finalize_model

from helpers import shipped_models

POS = ["great service", "love it", "fantastic quality", "very happy", "excellent support",
       "works perfectly", "wonderful staff", "amazing value"]
NEG = ["terrible service", "hate it", "awful quality", "very unhappy", "useless support",
       "broken again", "rude staff", "waste of money"]
NEU = ["order number 5", "opens at nine", "sent on monday", "the blue one", "size medium",
       "paid by card", "two boxes", "in the kitchen"]


@pytest.fixture(scope="module")
def user_model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("user-model")
    texts, labels = POS + NEG + NEU, ["positive"] * 8 + ["negative"] * 8 + ["neutral"] * 8
    config = {"name": "my-model", "version": "0.1", "labels": list(frankly.LABELS),
              "temperature": 1.0, "review_threshold": 0.0}
    train_fast(texts, labels, config, epochs=30, lr=0.5, log=lambda _: None).save(out)
    dev = list(zip(texts, labels))
    finalize_model(out, "train", dev, {}, CardInfo(title="t", summary="s", training_data=["x"]),
                   log=lambda _: None)
    return out


@pytest.fixture(scope="module", params=shipped_models() + ["user"])
def model(request, user_model_dir):
    return load_model(user_model_dir if request.param == "user" else request.param)


def test_contract(model):
    assert model.classes_ == frankly.LABELS
    texts = ["great service, love it", "terrible service, hate it", "order number 5"]
    probs = model.predict_proba(texts)
    assert probs.shape == (3, 3)
    assert np.allclose(probs.sum(1), 1.0)
    assert [model.classes_[i] for i in probs.argmax(1)] == ["positive", "negative", "neutral"]
    logits, notes = model.predict_logits(texts)
    assert logits.shape == (3, 3) and len(notes) == 3
    assert 0.0 < model.temperature and 0.0 <= model.review_threshold <= 1.0
    assert model.id.split()[0] == model.name


def test_word_scores_add_up_to_the_logits(model):
    """Evidence and sentence scores rest on this: pooling the word scores gives the logits."""
    texts = ["great service, love it", "@bob see https://x.io &amp; 😍 not bad", "ok"]
    logits, _, words = model.predict_tokens(texts)
    assert np.allclose(logits, model.predict_logits(texts)[0])
    counted, _, counts = model.predict_counts(texts)
    assert np.allclose(counted, logits)
    for text, row, ws, n in zip(texts, logits, words, counts):
        total, count = ws.raw.sum(0) + ws.rest, ws.counts.sum() + ws.rest_count
        assert count == n
        assert np.allclose(ws.pooled(total, count, model.pool_power), row, atol=1e-4)
        assert np.allclose(ws.bias, model.pool_bias(), atol=1e-4)
        for start, end in ws.spans:  # offsets are in the text as given
            assert 0 <= start < end <= len(text) and text[start:end].strip()


def test_saved_model_predicts_the_same(model, tmp_path):
    model.save(tmp_path / "copy")
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    again = build_model(tmp_path / "copy", config)
    texts = ["great service, love it", "order number 5"]
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-3)


def test_user_trained_model_loads_by_path(user_model_dir):
    a = frankly.load(str(user_model_dir))
    assert a.analyze("excellent support").label == "positive"
    card = (user_model_dir / "MODEL_CARD.md").read_text()
    assert "Calibration" in card and "train" in card


@pytest.fixture
def fast_copy(tmp_path):
    dst = tmp_path / "fast"
    shutil.copytree(model_path("fast"), dst)
    return dst


def test_tampered_weights_fail_loudly(fast_copy):
    with open(fast_copy / "weights.npz", "r+b") as fh:
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(frankly.ChecksumError, match="weights.npz"):
        frankly.load(str(fast_copy))


@pytest.mark.parametrize("missing", ["MODEL_CARD.md", "checksums.json", "config.json",
                                     "weights.npz"])
def test_missing_file_fails_loudly(fast_copy, missing):
    (fast_copy / missing).unlink()
    with pytest.raises(frankly.ModelError, match=missing):
        frankly.load(str(fast_copy))


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(frankly.ModelNotFoundError, match="accurate, fast"):
        frankly.load("no-such-model")


def test_config_without_calibration_is_rejected(fast_copy):
    config = json.loads((fast_copy / "config.json").read_text())
    del config["temperature"]
    (fast_copy / "config.json").write_text(json.dumps(config))
    write_checksums(fast_copy)
    with pytest.raises(frankly.ModelError, match="temperature"):
        frankly.load(str(fast_copy))


def test_a_fast_model_saved_before_lexicons_still_loads(user_model_dir, tmp_path):
    # Its config.json has no hashing "lexicon" key: it was trained without one.
    old = tmp_path / "old"
    shutil.copytree(user_model_dir, old)
    config = json.loads((old / "config.json").read_text())
    config["hashing"].pop("lexicon", None)
    (old / "config.json").write_text(json.dumps(config))
    write_checksums(old)
    texts = ["great service, love it", "terrible service"]
    assert np.allclose(load_model(old).predict_proba(texts),
                       load_model(user_model_dir).predict_proba(texts))


def test_a_fast_model_with_a_lexicon_round_trips_and_needs_its_file(tmp_path):
    from frankly.models.hashing import HashingSpec, Lexicon

    texts, labels = POS + NEG + NEU, ["positive"] * 8 + ["negative"] * 8 + ["neutral"] * 8
    config = {"name": "lex", "version": "0.1", "labels": list(frankly.LABELS),
              "temperature": 1.0, "review_threshold": 0.0}
    lexicon = Lexicon({"great": 3, "superb": 3, "awful": -3, "dreadful": -3})
    # Words only: byte n-grams would let "dreadful" share pieces with other words.
    spec = HashingSpec(char_orders=(), lexicon=True)
    model = train_fast(texts, labels, config, spec=spec, epochs=30,
                       lr=0.5, log=lambda _: None, lexicon=lexicon)
    out = tmp_path / "lex"
    model.save(out)
    finalize_model(out, "train", list(zip(texts, labels)), {},
                   CardInfo(title="t", summary="s", training_data=["x"]), log=lambda _: None)
    loaded = load_model(out)
    assert loaded.lexicon.grades == lexicon.grades
    # "superb" and "dreadful" are not in the training rows: their grades carry them.
    assert [loaded.classes_[i] for i in loaded.predict_proba(["superb", "dreadful"]).argmax(1)
            ] == ["positive", "negative"]
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "lexicon.tsv").unlink()
    with pytest.raises(frankly.FranklyError, match="lexicon.tsv"):
        load_model(broken)


def test_accurate_pads_a_short_text_to_a_long_one_only_when_that_is_cheaper():
    """Each onnxruntime call costs about RUN_COST_TOKENS tokens more; padding a short sentence
    to a long text's width cost more than that, and slowed every single-text request."""
    path = model_path("accurate")
    model = build_model(path, read_model_dir(path))  # not load_model's shared instance
    calls: list[tuple[int, int]] = []
    session = model.session

    class Counting:
        def run(self, names, feeds):
            calls.append(feeds["input_ids"].shape)
            return session.run(names, feeds)

    model.session = Counting()
    long = ("The parcel arrived two days late, the box was crushed and the support team "
            "never answered my three emails about a refund.")
    texts = ["Thanks!", long, "Fine.", long.replace("three", "four")]
    logits, _, _ = model.predict_counts(texts)
    # The two short texts share a call; the two long ones share another.
    assert len(calls) == 2 and [rows for rows, _ in calls] == [2, 2]
    assert calls[0][1] < calls[1][1] - RUN_COST_TOKENS
    alone = np.vstack([model.predict_counts([t])[0] for t in texts])
    assert np.allclose(logits, alone, atol=1e-4)  # a text's scores do not depend on its batch
