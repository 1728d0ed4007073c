"""Calibration: temperature scaling, ECE and the review threshold behave as documented."""

from __future__ import annotations

import numpy as np
import pytest

from frankly.calibration import expected_calibration_error, fit_temperature, softmax
from frankly.models.registry import load_model
from frankly.training.package import choose_review_threshold, review_stats

from helpers import shipped_models


def _sample(n: int, true_t: float, seed: int = 0):
    """Labels drawn from softmax(logits / true_t): perfectly calibrated at T = true_t."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(n, 3))
    p = softmax(logits, true_t)
    y = np.array([rng.choice(3, p=row) for row in p])
    return logits, y


def test_fit_temperature_recovers_the_true_temperature():
    logits, y = _sample(4000, true_t=2.5)
    assert fit_temperature(logits, y) == pytest.approx(2.5, rel=0.12)


def test_temperature_scaling_lowers_ece_and_keeps_labels():
    logits, y = _sample(4000, true_t=3.0, seed=1)
    t = fit_temperature(logits, y)
    before = expected_calibration_error(softmax(logits), y)
    after = expected_calibration_error(softmax(logits, t), y)
    assert after < before / 2
    assert (softmax(logits, t).argmax(1) == logits.argmax(1)).all()


def test_ece_is_zero_for_perfect_and_large_for_overconfident():
    probs = np.array([[1.0, 0.0, 0.0]] * 10)
    assert expected_calibration_error(probs, np.zeros(10, dtype=int)) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.ones(10, dtype=int)) == pytest.approx(1.0)


def test_review_threshold_flags_texts_the_model_usually_gets_wrong():
    logits, y = _sample(4000, true_t=1.0, seed=2)
    probs = softmax(logits)
    t = choose_review_threshold(probs, y)
    stats = review_stats(probs, y, t)
    assert 0.34 <= t <= 0.95
    assert stats["error_rate_flagged"] >= 0.5 > stats["error_rate_unflagged"]
    assert 0 < stats["share_flagged"] < 0.5


@pytest.mark.parametrize("name", shipped_models())
def test_shipped_models_carry_their_calibration(name):
    cal = load_model(name).config["calibration"]
    assert cal["ece_after_crossfit"] < cal["ece_before"] or cal["ece_before"] < 0.05
    assert cal["ece_after_crossfit"] < 0.06
    assert cal["error_rate_flagged"] > cal["error_rate_unflagged"]


def test_prior_adjustment_lifts_classes_rare_in_training():
    from frankly.training.package import prior_adjustment

    labels = ("negative", "neutral", "positive")
    assert prior_adjustment(labels, ["negative", "neutral", "positive"] * 5) == \
        pytest.approx([0.0, 0.0, 0.0])
    adj = prior_adjustment(labels, ["negative"] * 10 + ["neutral"] * 45 + ["positive"] * 45)
    assert adj[0] > 0 > adj[1] and adj[1] == pytest.approx(adj[2])
    assert sum(adj) == pytest.approx(0.0)


def test_logit_adjustment_in_config_shifts_the_scores(tmp_path):
    import json
    import shutil

    import frankly
    from frankly.models.artifacts import write_checksums
    from frankly.models.registry import model_path

    shutil.copytree(model_path("fast"), tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["logit_adjustment"] = [2.0, -1.0, -1.0]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    write_checksums(tmp_path / "m")
    text = "The parcel came on Tuesday"
    plain = frankly.load("fast").analyze(text).scores["negative"]
    shifted = frankly.load(str(tmp_path / "m")).analyze(text).scores["negative"]
    assert shifted > plain
