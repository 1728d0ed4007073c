"""Aspects: terms, offsets, categories, targeted sentiment, taxonomy, CLI, bad input."""

from __future__ import annotations

import csv
import json

import pytest

import frankly
from frankly.aspects import AspectReader, check_targets, default_taxonomy
from frankly.aspects.report import AspectReport
from frankly.aspects.spans import tag_spans
from frankly.aspects.taxonomy import Taxonomy, parse_taxonomy
from frankly.cli.main import main as cli
from frankly.errors import ChecksumError, InputError
from frankly.result import Aspect

from helpers import shipped_models

REVIEW = "The waiter was rude and slow. The pasta was wonderful and the prices were fair."


@pytest.fixture(scope="module", params=shipped_models())
def analyzer(request):
    return frankly.Analyzer(request.param, urgency=False)


def check(result):
    for a in result.aspects:
        assert isinstance(a, Aspect)
        assert result.text[a.start:a.end] == a.term
        assert a.label in frankly.LABELS and a.source in ("extracted", "target")
        assert abs(sum(a.scores.values()) - 1) < 1e-6 and set(a.scores) == set(frankly.LABELS)
        assert a.scores[a.label] == max(a.scores.values())


def test_aspects_have_offsets_categories_and_their_own_sentiment(analyzer):
    r = analyzer.analyze(REVIEW)
    check(r)
    found = {a.term.lower(): a for a in r.aspects}
    assert {"waiter", "pasta", "prices"} <= set(found)
    assert found["waiter"].category == "staff" and found["pasta"].category == "food"
    assert found["prices"].category == "price and value"
    # each term reads its own sentence, not the text's overall tone
    assert found["waiter"].label == "negative" and found["pasta"].label == "positive"
    assert [a.start for a in r.aspects] == sorted(a.start for a in r.aspects)
    assert r.to_dict()["aspects"][0]["term"] == r.aspects[0].term


def test_targets_give_every_occurrence_found_or_not(analyzer):
    text = "The hinge squeaks. I like the hinge colour, but the HINGE broke after a week."
    r = analyzer.analyze(text, targets=["hinge", "zebra"])
    hinges = [a for a in r.aspects if a.source == "target"]
    assert [text[a.start:a.end].lower() for a in hinges] == ["hinge"] * 3
    assert not any(a.term.lower() == "zebra" for a in r.aspects)
    check(r)
    many = list(analyzer.analyze_many(["the hinge is great", "no hinge here? hinge!"],
                                      targets=["hinge"]))
    assert [sum(a.source == "target" for a in m.aspects) for m in many] == [1, 2]


def test_bad_targets_are_clear_errors(analyzer):
    for bad, says in [("battery", "list of terms"), ([""], "non-empty"), ([3], "non-empty"),
                      (["x" * 101], "at most 100 characters")]:
        with pytest.raises(InputError, match=says):
            analyzer.analyze("the battery is fine", targets=bad)
    with pytest.raises(InputError, match="aspects"):
        frankly.Analyzer(analyzer.model, aspects=False).analyze("x", targets=["x"])
    assert check_targets(None) == () and check_targets(["a", "a", " b "]) == ("a", "b")


def test_aspects_off_empty_and_invalid_items(analyzer):
    off = frankly.Analyzer(analyzer.model, aspects=False, urgency=False)
    assert off.analyze(REVIEW).aspects == ()
    out = list(analyzer.analyze_many(["", None, "The delivery was late"], targets=["delivery"]))
    assert out[0].aspects == () and out[1].aspects == () and out[1].error
    assert [a.term for a in out[2].aspects] == ["delivery"]


def test_long_document_aspects_are_found_everywhere_once(analyzer):
    text = " ".join(["The delivery was late."] * 150 + ["The staff were lovely."] * 150)
    r = analyzer.analyze(text, targets=["delivery"])
    check(r)
    spans = [(a.start, a.end) for a in r.aspects]
    assert len(spans) == len(set(spans))
    assert sum(a.term == "delivery" for a in r.aspects) == min(150, 50)  # capped per text
    assert all(a.label == "negative" for a in r.aspects if a.term == "delivery")


def test_user_taxonomy_and_unseen_terms():
    tax = Taxonomy({"onboarding": ["setup wizard", "tutorial"], "delivery": ["courier"]},
                   vectors=default_taxonomy().vectors)
    assert tax.category_of("Tutorials") == "onboarding"
    assert tax.category_of("couriers") == "delivery"
    assert tax.category_of("parcel driver") in ("delivery", "other")
    assert "other" in tax.categories
    default = default_taxonomy()
    assert default.category_of("waitress") == "staff"
    assert default.category_of("refund") == "billing"
    # a term no seed names goes to the nearest category (or "other"), never an error
    assert default.category_of("zxqv") in default.categories
    with pytest.raises(InputError):
        Taxonomy({"food": "pizza"})
    with pytest.raises(InputError):
        Taxonomy({})


def test_taxonomy_files(tmp_path):
    tsv = tmp_path / "t.tsv"
    tsv.write_text("category\tterm\n# ours\nonboarding\ttutorial\nonboarding\tsetup\n")
    assert parse_taxonomy(tsv.read_text()) == {"onboarding": ["tutorial", "setup"]}
    js = tmp_path / "t.json"
    js.write_text(json.dumps({"price": ["cost", "fee"]}))
    assert Taxonomy.from_file(js).category_of("fees") == "price"
    bad = tmp_path / "bad.csv"
    bad.write_text("onboarding\n")
    with pytest.raises(InputError, match="row 1"):
        Taxonomy.from_file(bad)
    with pytest.raises(InputError, match="cannot read"):
        Taxonomy.from_file(tmp_path / "missing.csv")
    analyzer = frankly.Analyzer("fast", urgency=False, aspects=tsv)
    r = analyzer.analyze("The setup took an hour and the tutorial was useless")
    assert {a.term: a.category for a in r.aspects} == {"setup": "onboarding",
                                                       "tutorial": "onboarding"}


def test_tag_spans_widen_to_words_and_join_pieces():
    text = "great battery life, bad keyboard"
    spans = [None, (0, 5), (6, 10), (10, 13), (14, 18), (18, 19), (20, 23), (24, 32), None]
    # O B I(##ery) I(life) O O B ...: "battery life" and "keyboard"
    assert tag_spans([0, 0, 1, 2, 2, 0, 0, 1, 0], spans, text) == [(6, 18), (24, 32)]
    assert tag_spans([0, 0, 0, 2, 0, 0, 0, 0, 0], spans, text) == [(6, 13)]  # I after O
    assert tag_spans([0] * 9, spans, text) == []


def test_report_counts_share_negative_and_net():
    def r(*aspects):
        return frankly.Result(text="x", label="neutral", model="m",
                              scores={"negative": 0, "neutral": 1, "positive": 0},
                              aspects=[Aspect(t, 0, 1, c, lab, {"negative": 0.0, "neutral": 0.0,
                                                                 "positive": 1.0})
                                       for t, c, lab in aspects])
    report = AspectReport().extend([
        r(("Delivery", "delivery and shipping", "negative"),
          ("delivery", "delivery and shipping", "negative")),
        r(("courier", "delivery and shipping", "positive")), r()])
    rows = report.rows()
    assert rows[0] == {"level": "category", "category": "delivery and shipping", "term": "",
                       "mentions": 3, "texts": 2, "positive": 1, "neutral": 0, "negative": 2,
                       "share_negative": round(2 / 3, 4), "net_sentiment": round(-1 / 3, 4)}
    assert rows[1]["term"] in ("Delivery", "delivery") and rows[1]["mentions"] == 2
    assert report.texts == 3 and report.with_aspects == 2


def test_cli_aspects_table_and_csv(tmp_path, capsys):
    src = tmp_path / "in.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "body"])
        w.writerows([[1, "The delivery was late and the courier was rude"],
                     [2, "Great prices"], [3, ""], [4, "The delivery was quick"]])
    out = tmp_path / "aspects.csv"
    code = cli(["aspects", "--input", str(src), "--text-column", "body", "--output", str(out),
                "--model", "fast", "--no-progress", "--target", "prices"])
    printed = capsys.readouterr().out
    assert code == 0 and "delivery and shipping" in printed
    assert "3 of 4 texts mention an aspect" in printed
    rows = list(csv.DictReader(open(out)))
    assert rows[0]["level"] == "category" and int(rows[0]["mentions"]) >= 2
    assert {r["term"] for r in rows if r["level"] == "term"} >= {"delivery", "prices"}
    assert cli(["aspects", "--input", str(src), "--model", "fast", "--no-progress"]) == 1
    assert "no column 'text'" in capsys.readouterr().err
    assert cli(["aspects", "--input", str(src), "--text-column", "body", "--output",
                str(tmp_path / "x.parquet"), "--model", "fast"]) == 2


def test_aspect_resources_are_verified(tmp_path, monkeypatch):
    import shutil

    from frankly.aspects import resources

    copy = tmp_path / "aspects"
    shutil.copytree(resources.resource_dir(), copy)
    (copy / "taxonomy.tsv").write_text("food\tpizza\n")
    resources.resource_dir.cache_clear()
    monkeypatch.setattr(resources.resources, "files",
                        lambda _: type("P", (), {"__truediv__": lambda s, o: s,
                                                 "__str__": lambda s: str(copy)})())
    try:
        with pytest.raises(ChecksumError):
            resources.resource_dir()
    finally:
        resources.resource_dir.cache_clear()


def test_seed_matcher_whole_words_plurals_and_longest_first():
    from frankly.aspects.seeds import SeedMatcher

    m = SeedMatcher(["battery", "battery life", "wi-fi", "box", "customer service"])
    text = "Battery life great, batteries poor, Wi-Fi and wifi, boxes, customer  service, abox"
    assert [text[a:b] for a, b in m.find(text)] == [
        "Battery life", "batteries", "Wi-Fi", "boxes", "customer  service"]
    assert m.find(text, 20) == [(20, 29), (36, 41), (52, 57), (59, 76)]
    assert m.find("") == [] and SeedMatcher([]).find("battery") == []


def test_reader_without_heads_uses_seed_terms():
    model = frankly.Analyzer("fast", urgency=False).model
    reader = AspectReader(default_taxonomy(), model)
    assert reader._seeds().find("Our couriers were late") == [(4, 12)]
