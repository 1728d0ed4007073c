"""Urgency: phrases, the detector, the Analyzer's Result.urgency and the triage command."""

from __future__ import annotations

import json
import shutil

import pytest

import frankly
from frankly.analyzer import Analyzer
from frankly.cli.main import main
from frankly.errors import ChecksumError, InputError
from frankly.urgency import CATEGORIES, Phrase, UrgencyDetector, default_detector
from frankly.urgency.detector import _verify
from frankly.urgency.phrases import PhraseSet, compile_phrase, words

MODEL = "fast"


@pytest.fixture(scope="module")
def detector() -> UrgencyDetector:
    return default_detector()


# -- the phrase syntax ------------------------------------------------------------------

def test_phrase_alternatives_optional_words_and_prefixes_expand():
    seqs = compile_phrase("(charged|billed) (me)? twice")
    shown = sorted(" ".join(s.value for s in seq) for seq in seqs)
    assert shown == ["billed me twice", "billed twice", "charged me twice", "charged twice"]
    (seq,) = compile_phrase("refund*")
    assert seq[0].kind == "prefix" and seq[0].value == "refund"
    (seq,) = compile_phrase("wi-fi (is)? down")[:1]
    assert [s.value for s in seq][:2] == ["wi", "fi"]  # split as the text's words are


@pytest.mark.parametrize("bad", ["(charged twice", "charged twice)", "re*", "$$$", "()"])
def test_bad_phrases_are_refused_with_the_phrase_named(bad):
    with pytest.raises(InputError, match="phrase"):
        compile_phrase(bad)


def test_matching_ignores_case_accents_and_allows_gaps():
    ps = PhraseSet([Phrase("billing", "charged ... twice"), Phrase("deadline", "urgente"),
                    Phrase("escalation", "# times")])
    hits = ps.match(words("They CHARGED my card twice!"), "en")
    assert [h.phrase.category for h in hits] == ["billing"]
    assert [h.phrase.category for h in ps.match(words("Es URGÉNTE"), "es")] == ["deadline"]
    assert [h.phrase.category for h in ps.match(words("I called 4 times"), "en")] == [
        "escalation"]
    assert not ps.match(words("charged my card, my phone and my laptop twice"), "en")


def test_a_phrase_for_one_language_is_not_matched_in_another():
    ps = PhraseSet([Phrase("deadline", "heute", "de")])
    assert ps.match(words("heute bitte"), "de")
    assert not ps.match(words("heute bitte"), "en")


# -- the detector ----------------------------------------------------------------------

@pytest.mark.parametrize("text, category", [
    ("My card was charged twice, could you please fix this today?", "billing"),
    ("There is smoke coming out of the charger you sold me", "safety"),
    ("Someone logged into my account from another country and changed my password",
     "security"),
    ("Your website has been down all morning and our customers cannot check out", "outage"),
    ("If this is not refunded by Friday I will take you to small claims court", "legal"),
    ("Cancel my subscription. I'm switching to another provider.", "churn"),
    ("This is the third time I'm writing and nobody has replied", "escalation"),
])
def test_urgent_messages_name_their_category_and_the_span_that_shows_it(detector, text,
                                                                         category):
    u = detector.assess(text, "en")
    assert u.urgent and u.score >= detector.threshold and u.category == category
    assert u.reasons and u.reasons[0].category == category
    for r in u.reasons:
        assert text[r.start:r.end] == r.text and r.category in CATEGORIES


@pytest.mark.parametrize("text", [
    "Worst movie I have ever seen",
    "Your new logo is hideous",
    "No rush: could you update my postal address when you get a chance?",
    "This album is fire",
    "The soup was a bit cold but the staff were lovely",
    "What are your opening hours on Sunday?",
])
def test_angry_neutral_and_calm_messages_are_not_urgent(detector, text):
    u = detector.assess(text, "en")
    assert not u.urgent and u.score < detector.threshold


def test_urgency_is_not_negativity(detector):
    calm = detector.assess("My card was charged twice, could you please fix this today?")
    angry = detector.assess("Worst movie I have ever seen, what a waste of two hours")
    assert calm.score > 0.9 > 0.1 > angry.score


def test_a_negated_phrase_does_not_count_but_a_negation_in_another_clause_does_not_cancel(
        detector):
    quiet = detector.assess("There is no smell of gas, it's just a rattling noise", "en")
    assert not quiet.urgent and not any(r.category == "safety" for r in quiet.reasons)
    loud = detector.assess("No, I will not wait: there is a strong smell of gas in the flat",
                           "en")
    assert loud.urgent and loud.category == "safety"


def test_other_supported_languages_are_read(detector):
    assert detector.assess("Ich kann mich nicht anmelden, bitte dringend helfen", "de").urgent
    assert detector.assess("Me cobraron dos veces, es urgente", "es").category == "billing"
    assert detector.assess("Merci pour votre aide, tout fonctionne", "fr").urgent is False


def test_an_unsupported_language_is_flagged_not_guessed(detector):
    u = detector.assess("Il sito non funziona da ieri, aiutatemi subito", "it")
    assert u.score is None and not u.urgent and not u.reasons
    assert u.review_reason == "unsupported language for urgency: it"
    assert detector.assess("charged twice!!", None).urgent  # unknown: read as English


def test_a_long_document_lists_a_bounded_number_of_reasons(detector):
    text = " ".join(["I was charged twice and the app is down."] * 2000)
    u = detector.assess(text)
    assert u.urgent and 0 < len(u.reasons) <= 20
    assert u.reasons[0].category == u.category


def test_scores_are_probabilities_and_batches_do_not_change_them(detector):
    texts = ["charged twice", "lovely staff", "site is down", "", "   ", "ok"]
    one = [detector.assess(t).score for t in texts]
    many = [u.score for u in detector.assess_many(texts)]
    assert one == many
    assert all(0.0 <= s <= 1.0 for s in one)


def test_assess_many_checks_its_arguments(detector):
    with pytest.raises(InputError, match="2 texts and 1 languages"):
        detector.assess_many(["a", "b"], ["en"])
    with pytest.raises(InputError):
        detector.assess(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="threshold"):
        UrgencyDetector(threshold=1.5)


# -- the user's own phrases -------------------------------------------------------------

def test_user_phrases_add_categories_and_are_decisive(tmp_path):
    path = tmp_path / "phrases.csv"
    path.write_text("category,phrase,language\nloyalty,(loyalty|reward) points,\n"
                    "billing,(wrong|missing) voucher*,en\n", encoding="utf-8")
    d = UrgencyDetector(path)
    assert "loyalty" in d.categories
    u = d.assess("Where did my loyalty points go?")
    assert u.urgent and u.category == "loyalty" and u.score >= 0.95
    assert u.reasons[0].source == "user" and u.reasons[0].text == "loyalty points"
    assert d.assess("I got the wrong vouchers in my order").category == "billing"
    assert not UrgencyDetector().assess("Where did my loyalty points go?").urgent


@pytest.mark.parametrize("content, message", [
    ("category,phrase\nrecall\n", "row 2 needs a category and a phrase"),
    ("category,phrase\nRe Call!,product recall\n", "a category is a lower-case name"),
    ("category,phrase\nrecall,(product recall\n", r"'\(' without '\)'"),
])
def test_a_bad_phrases_file_names_the_file_and_row(tmp_path, content, message):
    path = tmp_path / "phrases.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        UrgencyDetector(path)
    assert str(path) in str(info.value)


def test_phrase_objects_given_by_the_user_are_theirs():
    d = UrgencyDetector([Phrase("loyalty", "loyalty points")])
    u = d.assess("my loyalty points vanished")
    assert u.urgent and u.category == "loyalty" and u.reasons[0].source == "user"


def test_a_missing_phrases_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot read urgency phrases file"):
        UrgencyDetector(tmp_path / "nope.csv")


def test_shipped_urgency_files_are_checked_against_their_checksums(tmp_path):
    from frankly.urgency.detector import _resource_dir

    copy = tmp_path / "urgency"
    shutil.copytree(_resource_dir(), copy)
    _verify(copy)
    with open(copy / "phrases.tsv", "a", encoding="utf-8") as fh:
        fh.write("en\tbilling\tfree money\n")
    with pytest.raises(ChecksumError):
        _verify(copy)


# -- Result.urgency through the Analyzer ------------------------------------------------

def test_results_carry_urgency_and_every_row_gets_one():
    a = frankly.load(MODEL)
    results = list(a.analyze_many(["Please fix this today, I was charged twice", "", None,
                                   "Ciao, il sito non funziona da ieri"]))
    charged, empty, invalid, italian = (r.urgency for r in results)
    assert charged.urgent and charged.category == "billing"
    assert empty.score == 0.0 and not empty.urgent
    assert invalid.score is None and invalid.review_reason
    assert italian.score is None and "unsupported language" in italian.review_reason
    d = results[0].to_dict()["urgency"]
    assert d["urgent"] is True and d["reasons"][0]["category"] == "billing"
    json.dumps(results[0].to_dict())


def test_urgency_can_be_turned_off_or_given_phrases(tmp_path):
    off = Analyzer(MODEL, urgency=False)
    r = off.analyze("charged twice")
    assert r.urgency is None and r.to_dict()["urgency"] is None
    path = tmp_path / "p.csv"
    path.write_text("recall,product recall\n", encoding="utf-8")
    assert Analyzer(MODEL, urgency=path).analyze("about the product recall").urgency.urgent
    with pytest.raises(InputError, match="urgency must be"):
        Analyzer(MODEL, urgency=3)  # type: ignore[arg-type]


def test_urgency_does_not_depend_on_the_sentiment_model():
    text = "Our production database is down and nobody can log in"
    fast = Analyzer("fast").analyze(text).urgency
    accurate = Analyzer("accurate", explain=False).analyze(text).urgency
    assert fast == accurate and fast.urgent


# -- frankly triage and the analyze columns ---------------------------------------------

def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _inbox(tmp_path):
    path = tmp_path / "inbox.csv"
    path.write_text(
        "id,body\n"
        "1,Worst movie I have ever seen\n"
        "2,\"There is smoke coming out of the charger you sold me, it smells of burning\"\n"
        "3,\"Hi, could you update my address? No rush.\"\n"
        "4,\"Il sito non funziona da ieri, aiutatemi\"\n"
        "5,Please cancel my subscription\n"
        "6,\n", encoding="utf-8")
    return path


def test_triage_lists_urgent_messages_most_urgent_first(capsys, tmp_path):
    code, out, _ = _run(capsys, "triage", "-m", MODEL, "-i", _inbox(tmp_path),
                        "-t", "body", "--json")
    assert code == 0
    items = [json.loads(line) for line in out.splitlines()]
    assert sorted(i["row"] for i in items) == [2, 5]  # the smoke and the cancellation
    assert [i["urgency_score"] for i in items] == sorted(
        (i["urgency_score"] for i in items), reverse=True)
    smoke = next(i for i in items if i["row"] == 2)
    assert smoke["urgency_category"] == "safety" and smoke["label"] in frankly.LABELS
    assert smoke["reasons"][0]["category"] == "safety" and smoke["where"] == "line 3"


def test_triage_table_counts_and_limit(capsys, tmp_path):
    code, out, _ = _run(capsys, "triage", "-m", MODEL, "-i", _inbox(tmp_path), "-t", "body",
                        "--limit", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["rank", "score", "category", "sentiment"]
    assert lines[1].split()[0] == "1" and lines[2] == ""  # one shown
    assert "2 urgent of 6 messages (the 1 most urgent shown)" in out
    assert "1 not assessed" in out  # the Italian one
    code, out, _ = _run(capsys, "triage", "-m", MODEL, "charged twice, fix it today")
    assert code == 0 and "billing" in out


def test_triage_usage_errors(capsys, tmp_path):
    code, _, err = _run(capsys, "triage", "-m", MODEL, "-i", _inbox(tmp_path),
                        "--threshold", "2")
    assert code == 2 and "--threshold" in err
    code, _, err = _run(capsys, "triage", "-m", MODEL, "-i", _inbox(tmp_path))
    assert code == 1 and "no column 'text'" in err and "'body'" in err


def test_analyze_output_has_urgency_columns(capsys, tmp_path):
    out_path = tmp_path / "out.jsonl"
    code, _, _ = _run(capsys, "analyze", "-m", MODEL, "-i", _inbox(tmp_path), "-t", "body",
                      "-o", out_path)
    assert code == 0
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert len(rows) == 6
    assert rows[1]["urgent"] is True and rows[1]["urgency_category"] == "safety"
    assert rows[1]["urgency_reasons"].startswith("safety: ")
    assert rows[0]["urgent"] is False
    assert rows[3]["urgency_score"] is None
    assert "unsupported language" in rows[3]["urgency_reasons"]
    code, _, _ = _run(capsys, "analyze", "-m", MODEL, "-i", _inbox(tmp_path), "-t", "body",
                      "-o", tmp_path / "off.jsonl", "--no-urgency")
    off = [json.loads(line) for line in (tmp_path / "off.jsonl").read_text().splitlines()]
    assert all(r["urgent"] is None for r in off)


def test_no_urgency_with_phrases_is_a_usage_error(capsys, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("recall,product recall\n", encoding="utf-8")
    code, _, err = _run(capsys, "analyze", "-m", MODEL, "--no-urgency", "--urgency-phrases",
                        path, "hello")
    assert code == 2 and "--urgency-phrases" in err


# -- training ---------------------------------------------------------------------------

def test_training_learns_from_examples_and_round_trips(tmp_path):
    from frankly.training.urgency import Example, train
    from frankly.urgency.model import UrgencyModel

    examples = [Example(f"my card was charged twice for order {i}", "en", "billing")
                for i in range(12)] + [
        Example(f"the site is down again, error {i}", "en", "outage") for i in range(12)] + [
        Example(f"lovely staff and a quick delivery number {i}", "en", "none")
        for i in range(24)]
    trained = train(examples)
    assert trained.cv["accuracy"] > 0.9
    trained.model.save(tmp_path)
    loaded = UrgencyModel.load(tmp_path)
    rows = [loaded.indices(["charged", "twice", "@phrase:billing"])]
    assert loaded.probabilities(loaded.logits(rows))[0].argmax() == loaded.classes.index(
        "billing")
