"""The ``frankly`` command line, called through ``main([...])`` (plus one real subprocess).

The model is a parameter (FRANKLY_TEST_MODEL, default ``fast``): the assertions check
behaviour that holds for any model, so the file also runs against ``accurate``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import frankly
from frankly.batch import job
from frankly.cli.main import main
from frankly.training import train as train_module

MODEL = os.environ.get("FRANKLY_TEST_MODEL", "fast")
DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "feedback_sample.csv"
TRAIN = DATA / "train_small.csv"
ADDED = ["score_negative", "score_neutral", "score_positive", "confidence", "needs_review",
         "review_reason", "error", "language", "evidence", "urgent", "urgency_score",
         "urgency_category", "urgency_reasons", "aspects"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sample_rows() -> list[dict[str, str]]:
    with open(SAMPLE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def assert_user_error(code: int, out: str, err: str, status: int, *needles: str) -> None:
    """One clear line on stderr, no traceback, the right exit status."""
    assert code == status, (code, out, err)
    assert err.startswith("frankly: error: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


def assert_scored(row: dict, label_key: str = "label") -> None:
    assert row[label_key] in frankly.LABELS
    scores = [float(row[f"score_{k}"]) for k in frankly.LABELS]
    assert sum(scores) == pytest.approx(1.0, abs=1e-6)
    assert float(row["confidence"]) == pytest.approx(max(scores))


# -- help and version -------------------------------------------------------------------

def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert (code, out.strip()) == (0, f"frankly {frankly.__version__}")


@pytest.mark.parametrize("command", [[], ["analyze"], ["evaluate"], ["train"], ["demo"]])
def test_help(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith(f"usage: frankly {' '.join(command)}".rstrip())
    if not command:
        for name in ("analyze", "evaluate", "train", "demo"):
            assert name in out


def test_no_command_prints_help_and_fails(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "analyze" in err


# -- analyze: texts, stdin, --json ------------------------------------------------------

def test_analyze_texts_prints_table_and_summary(capsys):
    code, out, _ = run(capsys, "analyze", "-m", MODEL, "Lovely staff and a quick refund",
                       "The parcel never arrived and nobody answers")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["label", "confidence", "review", "urgent", "text"]
    rows = lines[1:3]
    assert rows[0].endswith("Lovely staff and a quick refund")
    for row in rows:
        label, confidence, review, urgent = row.split()[:4]
        assert label in frankly.LABELS and 0 < float(confidence) <= 1 and review in ("yes", "-")
        assert urgent == "-"  # neither needs a person now
    assert "2 texts" in out
    for label in frankly.LABELS + ("needs review", "urgent"):
        assert f"  {label}" in out
    assert out.count("%") == 6  # negative, neutral, positive, mixed, needs review, urgent


def test_analyze_json_lines_are_result_dicts(capsys):
    code, out, _ = run(capsys, "analyze", "-m", MODEL, "--json", "Great service", "")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    expected = frankly.load(MODEL).analyze("Great service").to_dict()
    assert records[0] == expected
    assert records[1]["needs_review"] and "empty" in records[1]["review_reason"]


def test_analyze_stdin_one_text_per_line(capsys, monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO("Brilliant, thanks!\n\nIt broke on day one\r\n".encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "analyze", "-m", MODEL, "--json", "-")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in records] == ["Brilliant, thanks!", "", "It broke on day one"]
    assert records[1]["needs_review"] and not records[0]["error"]


def test_analyze_stdin_bad_utf8_names_line(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"fine\nbad \xff byte\n")))
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-"), 1, "<stdin>, line 2", "UTF-8")


def test_analyze_input_without_output_prints_table(capsys):
    code, out, _ = run(capsys, "analyze", "-m", MODEL, "--input", SAMPLE)
    assert code == 0
    assert len(out.split("\n\n")[0].splitlines()) == 1 + len(sample_rows())
    assert f"{len(sample_rows())} texts" in out


# -- analyze: file round trips ----------------------------------------------------------

def test_csv_round_trip_keeps_columns_and_rows(capsys, tmp_path):
    out_path = tmp_path / "scored.csv"
    code, out, _ = run(capsys, "analyze", "-m", MODEL, "--input", SAMPLE, "--output", out_path)
    assert code == 0 and f"wrote 12 rows to {out_path}" in out and "12 texts" in out
    rows, src = read_csv(out_path), sample_rows()
    # The input has its own "label" column: it is kept and the prediction is prefixed.
    assert list(rows[0]) == ["id", "channel", "text", "label", "frankly_label"] + ADDED
    assert len(rows) == len(src)
    for row, original in zip(rows, src):
        assert {k: row[k] for k in original} == original
        assert_scored(row, "frankly_label")
        assert row["needs_review"] in ("true", "false")
    assert not list(tmp_path.glob(".*.tmp"))


def test_jsonl_round_trip_keeps_every_key(capsys, tmp_path):
    records = [{"id": int(r["id"]), "text": r["text"], "meta": {"channel": r["channel"]}}
               for r in sample_rows()]
    records[3]["stars"] = 4  # a key only some records have
    src = write_jsonl(tmp_path / "in.jsonl", records)
    code, _, _ = run(capsys, "analyze", "-m", MODEL, "-i", src, "-o", tmp_path / "out.jsonl")
    assert code == 0
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert len(rows) == len(records)
    for row, original in zip(rows, records):
        assert {k: row[k] for k in original} == original
        assert list(row)[len(original):] == ["label"] + ADDED
        assert_scored(row)
        assert row["error"] is None


def test_parquet_round_trip_keeps_types(capsys, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    src = sample_rows()
    table = pa.table({"id": [int(r["id"]) for r in src], "channel": [r["channel"] for r in src],
                      "text": [r["text"] for r in src]})
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=5)
    code, _, _ = run(capsys, "analyze", "-m", MODEL, "-i", tmp_path / "in.parquet",
                     "-o", tmp_path / "out.parquet")
    assert code == 0
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.num_rows == len(src)
    assert out.column_names == ["id", "channel", "text", "label"] + ADDED
    assert out.schema.field("id").type == pa.int64()
    assert out.schema.field("needs_review").type == pa.bool_()
    assert out.schema.field("score_positive").type == pa.float64()
    assert out.schema.field("urgent").type == pa.bool_()
    assert out.schema.field("urgency_score").type == pa.float64()
    assert out.column("id").to_pylist() == [int(r["id"]) for r in src]
    for row in out.to_pylist():
        assert_scored(row)


@pytest.mark.parametrize("src_name,out_name", [("in.csv", "out.parquet"),
                                               ("in.jsonl", "out.csv"),
                                               ("in.parquet", "out.jsonl")])
def test_cross_format(capsys, tmp_path, src_name, out_name):
    pytest.importorskip("pyarrow")
    texts = ["Quick delivery, thank you", "Broken on arrival", "It is blue"]
    src = tmp_path / src_name
    code, _, _ = run(capsys, "analyze", "-m", MODEL, *texts, "-o", src)  # texts -> a table
    assert code == 0
    code, _, _ = run(capsys, "analyze", "-m", MODEL, "-i", src, "-o", tmp_path / out_name)
    assert code == 0
    with frankly.batch.open_table(tmp_path / out_name) as reader:
        rows = [r for chunk in reader.chunks(100) for r in chunk.rows]
    assert [r["text"] for r in rows] == texts
    assert all(r["frankly_label"] in frankly.LABELS for r in rows)  # input had "label"


def test_progress_bar_goes_to_stderr_only(capsys, tmp_path):
    out_path = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "analyze", "-m", MODEL, "-i", SAMPLE, "-o", out_path,
                         "--progress")
    assert code == 0
    assert "analysing [" in err and "12/12 rows" in err and err.endswith("\r")
    assert "analysing" not in out
    code, out, err = run(capsys, "analyze", "-m", MODEL, "-i", SAMPLE, "-o", out_path,
                         "--no-progress")
    assert (code, err) == (0, "")


def test_format_options_override_extensions(capsys, tmp_path):
    src = tmp_path / "feedback.txt"
    src.write_text("text\nGreat\nAwful\n", encoding="utf-8")
    code, _, _ = run(capsys, "analyze", "-m", MODEL, "-i", src, "--format", "csv",
                     "-o", tmp_path / "out.dat", "--output-format", "jsonl")
    assert code == 0
    assert [r["text"] for r in read_jsonl(tmp_path / "out.dat")] == ["Great", "Awful"]


def test_files_are_processed_in_chunks(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(job, "CHUNK_ROWS", 5)
    calls = []
    monkeypatch.setattr(frankly.Analyzer, "analyze_many", _spy(calls))
    out_path = tmp_path / "out.csv"
    code, _, _ = run(capsys, "analyze", "-m", MODEL, "-i", SAMPLE, "-o", out_path)
    assert code == 0
    assert calls == [5, 5, 2]
    assert [r["id"] for r in read_csv(out_path)] == [r["id"] for r in sample_rows()]


def _spy(calls):
    original = frankly.Analyzer.analyze_many

    def analyze_many(self, texts, **kw):
        calls.append(len(texts))
        return original(self, texts, **kw)
    return analyze_many


def test_failure_leaves_no_partial_output(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(job, "CHUNK_ROWS", 2)
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,good\n2,bad\n3,fine\n4,oops,extra field\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    target.write_text("previous results\n")
    code, out, err = run(capsys, "analyze", "-m", MODEL, "-i", src, "-o", target)
    assert_user_error(code, out, err, 1, f"{src}, line 5", "3 fields", "2 columns")
    assert target.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


# -- analyze: bad input -----------------------------------------------------------------

def test_invalid_texts_get_a_row_with_review_reason(capsys, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"id": 1, "text": "Lovely"}, {"id": 2, "text": ""}, {"id": 3, "text": None},
        {"id": 4, "text": 42}, {"id": 5}, {"id": 6, "text": "   "}])
    code, _, _ = run(capsys, "analyze", "-m", MODEL, "-i", src, "-o", tmp_path / "out.jsonl")
    assert code == 0
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["error"] is None
    for row in rows[1:]:
        assert row["needs_review"] is True and row["review_reason"]
    assert "empty" in rows[1]["review_reason"] and "empty" in rows[5]["review_reason"]
    for row in (rows[2], rows[3], rows[4]):
        assert "not a text" in row["review_reason"] and row["error"]
    assert rows[2]["text"] is None and rows[3]["text"] == 42  # the input value is kept


def test_empty_csv_text_gets_review_row(capsys, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,text\n1,Great stuff\n2,""\n3,\n', encoding="utf-8")
    code, _, _ = run(capsys, "analyze", "-m", MODEL, "-i", src, "-o", tmp_path / "out.csv")
    assert code == 0
    rows = read_csv(tmp_path / "out.csv")
    assert [(r["id"], r["needs_review"]) for r in rows][1:] == [("2", "true"), ("3", "true")]
    assert all("empty" in r["review_reason"] for r in rows[1:])


def test_missing_column_names_existing_columns(capsys, tmp_path):
    code, out, err = run(capsys, "analyze", "-m", MODEL, "-i", SAMPLE, "-t", "comment",
                         "-o", tmp_path / "out.csv")
    assert_user_error(code, out, err, 1, "'comment'", "'id', 'channel', 'text', 'label'")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("name", ["missing.csv", "missing.jsonl", "missing.parquet"])
def test_missing_file_is_named(capsys, tmp_path, name):
    if name.endswith("parquet"):
        pytest.importorskip("pyarrow")
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-i", tmp_path / name), 1,
                      str(tmp_path / name), "no such file")


def test_directory_as_input(capsys, tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert_user_error(*run(capsys, "analyze", "-i", folder), 1, "is a directory")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_bad_encoding_names_file_and_line(capsys, tmp_path, suffix):
    src = tmp_path / f"latin1{suffix}"
    lines = (["text", "fine", "caf\u00e9 ok"] if suffix == ".csv"
             else ['{"text": "fine"}', '{"text": "caf\u00e9 ok"}'])
    src.write_bytes("\n".join(lines).encode("latin-1") + b"\n")
    line = 3 if suffix == ".csv" else 2
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-i", src, "-o", tmp_path / "o.csv"),
                      1, f"{src}, line {line}", "not valid UTF-8", "0xe9")


def test_malformed_jsonl_names_file_and_line(capsys, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n\n{"text": "broken\n', encoding="utf-8")
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-i", src), 1,
                      f"{src}, line 3", "not valid JSON")


def test_jsonl_line_that_is_not_an_object(capsys, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n["a", "list"]\n', encoding="utf-8")
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-i", src), 1,
                      f"{src}, line 2", "expected a JSON object", "list")


def test_unreadable_parquet(capsys, tmp_path):
    pytest.importorskip("pyarrow")
    src = tmp_path / "in.parquet"
    src.write_text("this is not parquet")
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-i", src), 1,
                      f"cannot read {src} as Parquet")


def test_parquet_without_pyarrow(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    src = tmp_path / "in.parquet"
    src.write_bytes(b"PAR1")
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-i", src), 1,
                      "reading Parquet needs pyarrow: pip install 'frankly[parquet]'")
    code, out, err = run(capsys, "analyze", "-m", MODEL, "-i", SAMPLE,
                         "-o", tmp_path / "out.parquet")
    assert_user_error(code, out, err, 1, "writing Parquet needs pyarrow")


def test_unknown_extension_suggests_format(capsys, tmp_path):
    src = tmp_path / "in.xlsx"
    src.write_text("x")
    assert_user_error(*run(capsys, "analyze", "-i", src), 1, "in.xlsx", "--format")


def test_output_folder_must_exist(capsys, tmp_path):
    target = tmp_path / "nope" / "out.csv"
    assert_user_error(*run(capsys, "analyze", "-m", MODEL, "-i", SAMPLE, "-o", target), 1,
                      "does not exist")


def test_unknown_model_is_one_line(capsys):
    assert_user_error(*run(capsys, "analyze", "-m", "no-such-model", "hello"), 1,
                      "unknown model 'no-such-model'")


@pytest.mark.parametrize("argv,needle", [
    (["analyze"], "nothing to analyse"),
    (["analyze", "hi", "-i", "x.csv"], "not both"),
    (["analyze", "-", "hi"], "give it alone"),
    (["analyze", "-i", "x.csv", "-o", "y.csv", "--json"], "--json"),
    (["analyze", "hi", "--format", "csv"], "--format applies to --input"),
    (["analyze", "hi", "--batch-size", "0"], "at least 1"),
    (["analyze", "--no-such-option"], "unrecognized arguments"),
    (["evaluate", "-i", "x.csv", "--label-map", "good"], "expected NAME=LABEL"),
    (["evaluate", "-i", "x.csv", "--label-map", "good=great"], "not one of"),
    (["evaluate"], "--input"),
    (["train", "-i", "x.csv", "-o", "d", "--base", "huge"], "invalid choice"),
])
def test_usage_errors_exit_2(capsys, argv, needle):
    assert_user_error(*run(capsys, *argv), 2, needle, "--help")


# -- evaluate ---------------------------------------------------------------------------

SCHEMES = {
    "names": {"positive": "Positive", "negative": "NEGATIVE", "neutral": "neutral"},
    "short": {"positive": "pos", "negative": "Neg", "neutral": "NEU"},
    "tweeteval": {"positive": 2, "negative": 0, "neutral": 1},
    "custom": {"positive": "happy", "negative": "angry", "neutral": "meh"},
}


def evaluate_json(capsys, path: Path, *extra: str) -> dict:
    code, out, err = run(capsys, "evaluate", "-m", MODEL, "-i", path, "-t", "text",
                         "-l", "gold", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_evaluate_understands_every_label_scheme(capsys, tmp_path):
    reports = {}
    for scheme, names in SCHEMES.items():
        src = write_jsonl(tmp_path / f"{scheme}.jsonl", [
            {"text": r["text"], "gold": names[r["label"]]} for r in sample_rows()])
        extra = ["--label-map", "happy=positive,angry=negative,meh=neu"] if scheme == "custom" \
            else []
        reports[scheme] = evaluate_json(capsys, src, *extra)
    measured = ("n", "accuracy", "macro_f1", "macro_recall", "per_class", "confusion", "ece")
    first = {k: reports["names"][k] for k in measured}
    for report in reports.values():
        assert {k: report[k] for k in measured} == first
    report = reports["names"]
    assert report["n"] == 12 and report["skipped"] == 0
    assert [c["support"] for c in report["per_class"].values()] == [4, 4, 4]
    matrix = report["confusion"]["matrix"]
    assert [sum(row) for row in matrix] == [4, 4, 4]
    assert report["accuracy"] == pytest.approx(sum(matrix[i][i] for i in range(3)) / 12)
    assert 0.0 <= report["ece"] <= 1.0 and report["model"].startswith("frankly-")


def test_evaluate_prints_a_readable_report(capsys):
    code, out, _ = run(capsys, "evaluate", "-m", MODEL, "-i", SAMPLE)
    assert code == 0
    for needle in ("12 rows evaluated", "accuracy", "macro-F1", "macro-recall",
                   "calibration error (ECE)", "precision", "confusion matrix"):
        assert needle in out


def test_evaluate_unknown_label_names_label_and_line(capsys, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("text,label\nGreat,positive\nAwful,negative\nHmm,mixed\nOk,\n",
                   encoding="utf-8")
    assert_user_error(*run(capsys, "evaluate", "-m", MODEL, "-i", src), 1,
                      f"{src}, line 4", "'mixed'", "--label-map", "--skip-unknown")
    code, out, _ = run(capsys, "evaluate", "-m", MODEL, "-i", src, "--skip-unknown", "--json")
    report = json.loads(out)
    assert (code, report["n"], report["skipped"]) == (0, 2, 2)
    assert report["skipped_labels"] == {"'mixed'": 1, "''": 1}


def test_evaluate_missing_label_column(capsys):
    assert_user_error(*run(capsys, "evaluate", "-m", MODEL, "-i", SAMPLE, "-l", "sentiment"),
                      1, "'sentiment'", "--label-column", "'label'")


# -- train ------------------------------------------------------------------------------

TRAIN_ARGS = ["-t", "text", "-l", "sentiment",
              "--label-map", "good=positive,bad=negative,meh=neutral"]


def test_train_fast_then_load_and_analyze(capsys, tmp_path):
    out_dir = tmp_path / "my-model"
    code, out, err = run(capsys, "train", "-i", TRAIN, *TRAIN_ARGS, "-o", out_dir,
                         "--base", "fast", "--epochs", "6")
    assert code == 0, err
    assert f"to {out_dir}" in out and "27 rows trained on, 3 held out" in out
    assert {"config.json", "checksums.json", "MODEL_CARD.md", "weights.npz"} <= {
        p.name for p in out_dir.iterdir()}
    assert "held-out 10%" in (out_dir / "MODEL_CARD.md").read_text()
    analyzer = frankly.load(out_dir)
    assert analyzer.model.name == "my-model"
    texts = [r["text"] for r in read_csv(TRAIN)]
    gold = [{"good": "positive", "bad": "negative", "meh": "neutral"}[r["sentiment"]]
            for r in read_csv(TRAIN)]
    predicted = [r.label for r in analyzer.analyze_many(texts)]
    assert sum(p == g for p, g in zip(predicted, gold)) >= 24  # it learned its data
    code, out, _ = run(capsys, "analyze", "-m", out_dir, "--json", "Terrible quality")
    assert code == 0 and json.loads(out)["model"].startswith("my-model ")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_train_refuses_to_overwrite(capsys, tmp_path):
    out_dir = tmp_path / "model"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine")
    assert_user_error(*run(capsys, "train", "-i", TRAIN, *TRAIN_ARGS, "-o", out_dir), 1,
                      "not empty", "--overwrite")
    assert_user_error(*run(capsys, "train", "-i", TRAIN, *TRAIN_ARGS, "-o", out_dir,
                           "--overwrite"), 1, "not a model folder")
    assert (out_dir / "notes.txt").read_text() == "mine"


def test_train_needs_two_examples_per_class(capsys, tmp_path):
    src = tmp_path / "few.csv"
    src.write_text("text,label\nGreat,positive\nLovely,positive\nAwful,negative\n"
                   "Bad,negative\nIt is blue,neutral\n", encoding="utf-8")
    assert_user_error(*run(capsys, "train", "-i", src, "-o", tmp_path / "m"), 1,
                      "at least 2 examples", "1 neutral")
    assert not (tmp_path / "m").exists()


def test_train_accurate_without_torch(capsys, tmp_path, monkeypatch):
    for name in ("torch", "transformers", "onnx"):
        monkeypatch.setitem(sys.modules, name, None)
    code, out, err = run(capsys, "train", "-i", TRAIN, *TRAIN_ARGS, "-o", tmp_path / "m",
                         "--base", "accurate")
    assert_user_error(code, out, err, 1)
    assert err == ("frankly: error: fine-tuning the transformer needs the train extra: "
                   "pip install 'frankly[train]'\n")
    assert not (tmp_path / "m").exists()


def test_stratified_split_is_deterministic_and_keeps_every_class():
    examples = [(f"t{i}", label) for i, label in enumerate(["positive"] * 30 + ["negative"] * 8
                                                           + ["neutral"] * 2)]
    train, dev = train_module.stratified_split(examples)
    assert (train, dev) == train_module.stratified_split(examples)
    assert sorted(label for _, label in dev) == ["negative", "neutral", "positive", "positive",
                                                 "positive"]
    assert sorted(train + dev) == sorted(examples)


# -- demo and the real entry point --------------------------------------------------------

def test_demo(capsys):
    code, out, _ = run(capsys, "demo", "-m", MODEL)
    assert code == 0
    assert "20 texts" in out and "needs review" in out
    assert "Not bad at all for the price." in out


def test_demo_shows_model_error(capsys, tmp_path):
    assert_user_error(*run(capsys, "demo", "-m", tmp_path / "absent"), 1, "unknown model")


def test_entry_point_runs_and_stays_light():
    """``python -m frankly`` works; --version imports no numpy, pyarrow or onnxruntime."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "frankly", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"frankly {frankly.__version__}"
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "frankly" in imported
    assert not imported & {"numpy", "pyarrow", "onnxruntime", "pandas", "tokenizers"}


# -- frankly explain, --terms, --no-evidence ---------------------------------------------

def test_explain_shows_sentences_and_evidence(capsys):
    text = "Delivery was two days late. The blender itself is superb."
    code, out, err = run(capsys, "explain", "--model", "fast", text)
    assert code == 0, err
    assert out.splitlines()[0].split()[0] in ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
    assert "sentences:" in out and "Delivery was two days late." in out
    assert "evidence (most influential first" in out
    assert "]+" in out or "]-" in out  # evidence marked in the text (no colour: not a tty)


def test_explain_json_and_terms(capsys, tmp_path):
    terms = tmp_path / "terms.csv"
    terms.write_text("term,polarity\nsick,positive\n")
    code, out, _ = run(capsys, "explain", "--json", "--terms", terms, "This beat is sick")
    assert code == 0
    record = json.loads(out)
    assert record["label"] == "positive"
    assert {"text": "sick", "source": "term"}.items() <= record["evidence"][0].items()


def test_explain_empty_text_is_a_usage_error(capsys):
    code, out, err = run(capsys, "explain", "  ")
    assert_user_error(code, out, err, 2, "nothing to explain")


def test_analyze_file_writes_language_and_evidence(capsys, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,The staff were rude\n2,Das Essen war kalt und teuer\n")
    code, _, err = run(capsys, "analyze", "--model", "fast", "--input", src,
                       "--output", tmp_path / "out.csv")
    assert code == 0, err
    rows = read_csv(tmp_path / "out.csv")
    assert rows[0]["language"] == "en" and "rude" in rows[0]["evidence"]
    assert rows[1]["review_reason"] == "unsupported language: de"
    code, _, err = run(capsys, "analyze", "--model", "fast", "--no-evidence", "--input", src,
                       "--output", tmp_path / "plain.csv")
    assert code == 0, err
    assert read_csv(tmp_path / "plain.csv")[0]["evidence"] == ""


def test_evaluate_with_terms_shows_before_and_after(capsys, tmp_path):
    data = tmp_path / "labelled.csv"
    data.write_text("text,label\nThis beat is sick,positive\nThe app is sick again and "
                    "crashes,negative\nKiller Queen arrived today,neutral\n")
    terms = tmp_path / "terms.csv"
    terms.write_text("term,polarity\nKiller Queen,neutral\nbeat is sick,positive\n")
    code, out, err = run(capsys, "evaluate", "--model", "fast", "--input", data,
                         "--terms", terms)
    assert code == 0, err
    assert "without the terms" in out and "with the 2 terms" in out
    assert "effect of the terms: accuracy" in out
    code, out, _ = run(capsys, "evaluate", "--model", "fast", "--input", data, "--terms",
                       terms, "--json")
    report = json.loads(out)
    assert set(report) == {"without_terms", "with_terms"}


def test_bad_terms_file_is_one_line(capsys, tmp_path):
    terms = tmp_path / "terms.csv"
    terms.write_text("term,polarity\nsick,awesome\n")
    code, out, err = run(capsys, "analyze", "--terms", terms, "great")
    assert_user_error(code, out, err, 1, "polarity")
