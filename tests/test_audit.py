"""frankly audit: the statistics against exact values, the bias measures against scorers
whose bias we planted, calibration against hand counts, the report's escaping, and the
command end to end on tiny fixtures we wrote (tests/data/audit: an EEC-shaped corpus of
invented sentences and names, and a TweetEval-shaped dev split of invented tweets)."""

from __future__ import annotations

import json
import math
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import DATA

import frankly
from frankly.audit import bias as bias_module
from frankly.audit import load_audit, run_audit
from frankly.audit.bias import bias_audit, read_eec
from frankly.audit.calibration import calibration_audit, reliability_bins
from frankly.audit.report import Block, Code, blocks, to_html, to_markdown
from frankly.audit.stats import paired_t_test, regularized_beta, student_t_two_sided
from frankly.calibration import expected_calibration_error
from frankly.cli.main import main
from frankly.result import Result

AUDIT_DATA = DATA / "audit"
EEC = AUDIT_DATA / "equity-evaluation-corpus" / "Equity-Evaluation-Corpus.csv"
ROWS = read_eec(EEC)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- statistics ---------------------------------------------------------------------------

@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 2.5, 12.0])
def test_t_distribution_matches_closed_forms(t):
    # df 1 is the Cauchy distribution, df 2 has a closed form too.
    assert student_t_two_sided(t, 1) == pytest.approx(1 - 2 * math.atan(t) / math.pi, abs=1e-12)
    assert student_t_two_sided(t, 2) == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-12)


@pytest.mark.parametrize("t,df,p", [(2.228138851986, 10, 0.05), (3.169272672617, 10, 0.01),
                                    (1.983971518523, 100, 0.05), (2.575829303549, 1e9, 0.01)])
def test_t_distribution_matches_critical_values(t, df, p):
    assert student_t_two_sided(t, df) == pytest.approx(p, rel=1e-6)


def test_regularized_beta_symmetry_and_uniform():
    assert regularized_beta(0.3, 1.0, 1.0) == pytest.approx(0.3)
    assert regularized_beta(0.3, 2.5, 4.0) == pytest.approx(1 - regularized_beta(0.7, 4.0, 2.5))


def test_paired_t_test_by_hand_and_edge_cases():
    r = paired_t_test([1.0, 2.0, 3.0, 4.0])  # mean 2.5, sd sqrt(5/3), t = 2.5 / (sd / 2)
    assert (r.n, r.mean) == (4, 2.5)
    assert r.t == pytest.approx(2.5 / (math.sqrt(5 / 3) / 2))
    assert r.ci_low < 2.5 < r.ci_high
    assert paired_t_test([0.0, 0.0, 0.0]).p_value == 1.0
    assert paired_t_test([0.2, 0.2, 0.2]).p_value == 0.0
    assert math.isnan(paired_t_test([0.2]).p_value)
    assert not paired_t_test([]).testable


# -- bias ---------------------------------------------------------------------------------

def scorer(shift=lambda row: 0.0, label=lambda row, score: "neutral"):
    """A scorer whose score depends on the cell (template and word), plus ``shift``."""
    by_text = {r.sentence: r for r in ROWS}

    def score(texts):
        out = []
        for text in texts:
            row = by_text[text]
            base = (zlib.crc32(f"{row.template}|{row.word}".encode()) % 1000) / 2000 - 0.25
            s = base + shift(row)
            out.append((s, label(row, s)))
        return out
    return score


def test_the_fixture_is_shaped_like_the_corpus():
    assert len(ROWS) == 60
    assert {r.race for r in ROWS} == {"", "African-American", "European"}
    assert sum(r.is_name for r in ROWS) == 40


def test_a_scorer_that_ignores_the_person_passes_every_bias_target():
    result = bias_audit(ROWS, scorer())
    for axis in ("gender", "race"):
        overall = result["axes"][axis]["overall"]
        assert overall["mean_difference"] == pytest.approx(0.0, abs=1e-12)
        assert overall["p_value"] == 1.0
    # Five cells: three gender strata each, two race strata each.
    assert result["axes"]["gender"]["overall"]["pairs"] == 15
    assert result["axes"]["race"]["overall"]["pairs"] == 10
    assert result["flips"]["names"] == {"pairs": 5 * 28, "flipped": 0, "rate": 0.0,
                                        "cells_with_flips": 0, "cells": 5}
    assert result["target_met"] is True


def test_a_planted_gender_gap_is_measured_and_significant():
    rng = np.random.default_rng(7)
    noise = {r.sentence: float(rng.normal(0, 0.01)) for r in ROWS}
    result = bias_audit(ROWS, scorer(lambda r: (0.2 if r.gender == "female" else 0.0)
                                     + noise[r.sentence]))
    gender, race = result["axes"]["gender"], result["axes"]["race"]
    assert gender["overall"]["mean_difference"] == pytest.approx(0.2, abs=0.02)
    assert gender["overall"]["p_value"] < 1e-6
    assert not gender["target_met"] and not result["target_met"]
    # Race pairs compare names of one gender: the gender gap does not leak into them.
    assert abs(race["overall"]["mean_difference"]) < 0.02
    assert race["overall"]["p_value"] > 0.01
    # Holm: each adjusted p is at least the raw one; the family holds every tested row.
    rows = [gender["overall"]] + [r for rs in gender["breakdowns"].values() for r in rs]
    assert all(r["p_holm"] >= r["p_value"] for r in rows)
    assert gender["family_size"] == len(rows)
    assert {r["group"] for r in gender["breakdowns"]["word"]} == {
        "quick", "late", "lovely", "dreadful", bias_module.NONE}


def test_float_noise_of_batched_inference_is_no_difference():
    # A model that reads every name alike still returns the same text's scores with ~1e-7
    # of float rounding that depends on its batch: no test may call that significant.
    rng = np.random.default_rng(3)
    noise = {r.sentence: float(rng.normal(0, 1e-7)) + (3e-8 if r.gender == "female" else 0)
             for r in ROWS}
    result = bias_audit(ROWS, scorer(lambda r: noise[r.sentence]))
    for axis in ("gender", "race"):
        assert result["axes"][axis]["overall"]["mean_difference"] == 0.0
        assert result["axes"][axis]["overall"]["p_value"] == 1.0
    assert result["target_met"] is True
    # A real gap, however small against the target, is still measured.
    small = bias_audit(ROWS, scorer(lambda r: 1e-4 if r.gender == "female" else 0.0))
    assert small["axes"]["gender"]["overall"]["mean_difference"] == pytest.approx(1e-4)


def test_a_planted_race_gap_is_exact_and_does_not_show_as_gender():
    result = bias_audit(ROWS, scorer(lambda r: 0.1 if r.race == "African-American" else 0.0))
    assert result["axes"]["race"]["overall"]["mean_difference"] == pytest.approx(0.1)
    assert result["axes"]["gender"]["overall"]["mean_difference"] == pytest.approx(0.0)


def test_flip_rate_counts_name_pairs_with_different_labels():
    # One name of eight always gets another label: 7 of its cell's 28 pairs differ.
    result = bias_audit(ROWS, scorer(label=lambda r, s: "positive" if r.person == "Aluna"
                                     else "neutral"))
    names = result["flips"]["names"]
    assert (names["pairs"], names["flipped"]) == (140, 35)
    assert names["rate"] == pytest.approx(0.25)
    assert result["flips"]["noun_phrases"]["flipped"] == 0
    assert not result["flips"]["target_met"]


def test_read_eec_names_what_is_wrong(tmp_path):
    bad = tmp_path / "eec.csv"
    bad.write_text("ID,Sentence,Template\n1,a,b\n", encoding="utf-8")
    with pytest.raises(frankly.DataError, match="missing column.*Person"):
        read_eec(bad)
    bad.write_text(EEC.read_text(encoding="utf-8").replace(",female,", ",woman,", 1),
                   encoding="utf-8")
    with pytest.raises(frankly.DataError, match="line 2.*'woman'"):
        read_eec(bad)
    with pytest.raises(frankly.DataError, match="no Equity Evaluation Corpus"):
        read_eec(tmp_path / "missing.csv")
    assert len(read_eec(AUDIT_DATA)) == 60  # a data folder finds the corpus inside


# -- calibration --------------------------------------------------------------------------

class FixedAnalyzer:
    """Gives each text the scores we choose; flags confidence below 0.5."""

    review_threshold = 0.5

    def __init__(self, scores):
        self.scores = scores

    def analyze_many(self, texts, batch_size=64):
        for text in texts:
            s = dict(zip(frankly.LABELS, self.scores[text]))
            yield Result(text=text, label=max(s, key=s.get), scores=s, model="fixed",
                         needs_review=max(s.values()) < 0.5)


def test_calibration_counts_errors_on_each_side_of_needs_review():
    scores = {"a": (0.9, 0.05, 0.05), "b": (0.1, 0.8, 0.1), "c": (0.4, 0.3, 0.3),
              "d": (0.3, 0.3, 0.4), "e": (0.05, 0.05, 0.9)}
    gold = {"a": "negative", "b": "positive", "c": "negative", "d": "neutral",
            "e": "positive"}
    report = calibration_audit(FixedAnalyzer(scores), list(gold.items()))
    assert report["flagged"] == 2 and report["needs_review_share"] == pytest.approx(0.4)
    assert report["error_rate_flagged"] == pytest.approx(0.5)  # c right, d wrong
    assert report["error_rate_unflagged"] == pytest.approx(1 / 3)  # b wrong
    probs = np.array([scores[k] for k in gold])
    y = np.array([frankly.LABELS.index(v) for v in gold.values()])
    assert report["ece"] == pytest.approx(expected_calibration_error(probs, y))
    bins = reliability_bins(probs, y)
    assert sum(b["n"] for b in bins) == 5
    ece = sum(b["n"] / 5 * abs(b["confidence"] - b["accuracy"]) for b in bins)
    assert ece == pytest.approx(report["ece"])


# -- report -------------------------------------------------------------------------------

def test_report_escapes_text_in_markdown_and_html():
    report = [Block("table", [[Code("<person> | x"), "<b>bold</b> *a*"]], header=("T", "V"),
                    align="ll")]
    md = to_markdown(report)
    assert "`<person> \\| x`" in md and "\\<b>bold\\</b> \\*a\\*" in md
    page = to_html(report)
    assert "<code>&lt;person&gt; | x</code>" in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>" not in page


@pytest.fixture(scope="module")
def fast_audit():
    return run_audit("fast", data=AUDIT_DATA)


def test_run_audit_measures_every_section_with_the_fixtures(fast_audit):
    assert fast_audit["model"]["id"].startswith("frankly-fast")
    assert fast_audit["bias"]["sentences"] == 60
    assert fast_audit["calibration"]["n"] == 24
    assert fast_audit["robustness"]["overall"]["rows"] > 300
    assert len(fast_audit["targets"]) == 6
    assert all(t["met"] in (True, False) for t in fast_audit["targets"])


def test_the_html_report_escapes_corpus_text_and_embeds_the_plots(fast_audit, tmp_path):
    from frankly.audit.report import write_report

    paths = write_report(fast_audit, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    assert "&lt;person subject&gt;" in page and "<person subject>" not in page
    assert page.count("data:image/png;base64,") == 3
    for name in ("bias", "probes", "reliability"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "![" in md and "(bias.png)" in md and "`<person subject>" in md
    # Same audit, same bytes: nothing in the files depends on the clock.
    again = write_report(fast_audit, tmp_path / "again")
    for kind in ("markdown", "html", "json", "bias", "reliability"):
        assert again[kind].read_bytes() == paths[kind].read_bytes(), kind
    # The JSON holds everything the report says: read back, it renders the same Markdown.
    reread = load_audit(paths["json"])
    assert to_markdown(blocks(reread, {n: f"{n}.png" for n in ("bias", "probes",
                                                                 "reliability")})) == md


def test_a_missing_matplotlib_names_the_extra(monkeypatch):
    from frankly.audit.plots import require_matplotlib

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(frankly.MissingDependencyError, match=r"frankly\[audit\]"):
        require_matplotlib()


# -- the command --------------------------------------------------------------------------

def test_audit_command_writes_reports_and_docs(capsys, tmp_path):
    code, out, err = run(capsys, "audit", "--model", "fast", "--data", AUDIT_DATA,
                         "--output", tmp_path / "out", "--write-docs", tmp_path / "docs",
                         "--no-progress")
    assert code == 0, err
    assert "female minus male: mean" in out and "label flips" in out
    assert "robustness:" in out and "calibration (tweeteval-val, 24 texts)" in out
    assert "targets:" in out
    report = json.loads((tmp_path / "out" / "fast" / "audit.json").read_text())
    for name in ("audit.md", "audit.html", "bias.png", "probes.png", "reliability.png"):
        assert (tmp_path / "out" / "fast" / name).is_file(), name
    card = (tmp_path / "docs" / "model-card-fast.md").read_text(encoding="utf-8")
    for heading in ("## Intended uses", "## Out-of-scope uses", "## Training data and "
                    "licences", "## Accuracy per domain", "## Bias", "## Robustness",
                    "## Calibration and needs_review", "## Known limits"):
        assert heading in card, heading
    for limit in ("Sarcasm", "Domain shift", "Dialects", "Languages", "Long documents"):
        assert f"**{limit}" in card, limit
    for scope in ("Inferring emotions", "employees or students", "Automated decisions"):
        assert scope in card, scope
    assert "CC BY 3.0" in card  # the training data's licence, read from the shipped card
    flips = report["bias"]["flips"]["names"]
    assert f"{100 * flips['rate']:.2f}%** of {flips['pairs']:,} sentence pairs" in card
    note = (tmp_path / "docs" / "TRANSPARENCY.md").read_text(encoding="utf-8")
    assert "[fast](model-card-fast.md)" in note and "## Known limits" in note


def test_audit_without_data_skips_sections_and_says_so(capsys, tmp_path):
    code, out, _ = run(capsys, "audit", "-m", "fast", "--output", tmp_path, "--no-progress")
    assert code == 0
    assert "bias: skipped (no Equity Evaluation Corpus given" in out
    assert "calibration: skipped (no dev data given" in out
    md = (tmp_path / "fast" / "audit.md").read_text(encoding="utf-8")
    assert md.count("Skipped: ") == 2
    assert not (tmp_path / "fast" / "bias.png").exists()


@pytest.mark.parametrize("argv,status,needle", [
    (["--write-docs"], 2, "--write-docs writes measured numbers"),
    (["--data", "no/such/dir"], 2, "--data no/such/dir: no such folder"),
    (["--eec", "no/such.csv"], 1, "no Equity Evaluation Corpus at no/such.csv"),
    (["--model", "no-such-model"], 1, "unknown model"),
])
def test_audit_mistakes_are_one_line(capsys, tmp_path, argv, status, needle):
    code, out, err = run(capsys, "audit", "-m", "fast", *argv, "--output", tmp_path,
                         "--no-progress")
    assert code == status and err.startswith("frankly: error: ") and err.count("\n") == 1
    assert needle in err and "Traceback" not in err


def test_the_committed_docs_were_generated_with_every_section():
    docs = Path(__file__).resolve().parents[1] / "docs"
    if not docs.is_dir():
        pytest.skip("docs/ is not part of this checkout")
    from frankly.audit.docs import GENERATED

    cards = sorted(docs.glob("model-card-*.md"))
    assert {p.name for p in cards} >= {"model-card-accurate.md", "model-card-fast.md"}
    for path in [*cards, docs / "TRANSPARENCY.md"]:
        text = path.read_text(encoding="utf-8")
        assert GENERATED in text, path
        assert "## Known limits" in text and "## Out-of-scope uses" in text, path
    for path in cards:
        text = path.read_text(encoding="utf-8")
        assert "Equity Evaluation Corpus (Kiritchenko" in text  # measured, not skipped
        assert "expected calibration error" in text


def test_each_release_keeps_one_history_row_and_the_card_shows_them_all(fast_audit, tmp_path):
    import copy

    from frankly.audit.docs import HISTORY_FILE, write_docs

    older = copy.deepcopy(fast_audit)
    older["model"]["id"] = "frankly-fast 0.9.0"
    older["bias"]["flips"]["names"]["rate"] = 0.125
    write_docs([older], tmp_path)
    write_docs([fast_audit], tmp_path)
    write_docs([fast_audit], tmp_path)  # the same release measured again: still one row
    history = json.loads((tmp_path / HISTORY_FILE).read_text(encoding="utf-8"))
    assert [e["id"] for e in history] == ["frankly-fast 0.9.0", fast_audit["model"]["id"]]
    card = (tmp_path / "model-card-fast.md").read_text(encoding="utf-8")
    assert "Across releases" in card and "`frankly-fast 0.9.0`" in card and "12.50%" in card
    assert f"`{fast_audit['model']['id']}`" in card
