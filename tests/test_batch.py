"""Reading and writing tables (frankly.batch): the parts the CLI tests do not reach."""

from __future__ import annotations

import json

import pytest

from frankly.batch import (analyze_file, detect_format, open_table, open_writer,
                           output_names)
from frankly.errors import DataError


def rows_of(path, fmt=None, size=100):
    with open_table(path, fmt) as reader:
        return [(r, w) for c in reader.chunks(size) for r, w in zip(c.rows, c.where)]


def test_csv_quoted_newlines_bom_and_blank_lines(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes('\ufeffid,text\n1,"two\nlines"\n\n2,"a ""quoted"" word"\n'.encode())
    rows = rows_of(src)
    assert [r for r, _ in rows] == [{"id": "1", "text": "two\nlines"},
                                    {"id": "2", "text": 'a "quoted" word'}]
    assert [w for _, w in rows] == ["line 2", "line 5"]  # where each row starts


def test_csv_duplicate_and_empty_headers(tmp_path):
    (tmp_path / "dup.csv").write_text("text,text\na,b\n")
    with pytest.raises(DataError, match="twice: 'text'"):
        open_table(tmp_path / "dup.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv is empty"):
        open_table(tmp_path / "empty.csv")


def test_header_only_input_gives_header_only_output(tmp_path):
    (tmp_path / "in.csv").write_text("id,text\n")
    summary = analyze_file(tmp_path / "in.csv", tmp_path / "out.csv", "fast")
    assert summary.n == 0
    assert (tmp_path / "out.csv").read_text().startswith("id,text,label,score_negative")


def test_detect_format():
    assert detect_format("a/b.CSV") == "csv"
    assert detect_format("b.ndjson") == "jsonl"
    assert detect_format("b.pq") == "parquet"
    assert detect_format("b.txt", "jsonl") == "jsonl"
    with pytest.raises(DataError, match="--output-format"):
        detect_format("b.txt", option="--output-format")


def test_output_names_never_overwrite_input_columns():
    names = output_names(["text", "label", "frankly_label", "error"])
    assert names["label"] == "frankly_frankly_label"
    assert names["error"] == "frankly_error"
    assert names["confidence"] == "confidence"


def test_jsonl_columns_in_order_of_first_appearance(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"b": 1, "text": "x"}\n\n{"a": 2, "text": "y"}\n')
    with open_table(src) as reader:
        assert reader.columns == ["b", "text", "a"]
        assert reader.total_rows == 2


def test_writer_commits_on_success_and_cleans_up_on_error(tmp_path):
    target = tmp_path / "out.jsonl"
    with open_writer(target, ["text"]) as writer:
        writer.write([{"text": "a", "extra": {"k": [1]}}])
    assert json.loads(target.read_text()) == {"text": "a", "extra": {"k": [1]}}
    with pytest.raises(RuntimeError):
        with open_writer(tmp_path / "never.csv", ["text"]) as writer:
            writer.write([{"text": "a"}])
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_csv_writer_values(tmp_path):
    target = tmp_path / "out.csv"
    with open_writer(target, ["a", "b", "c", "d"]) as writer:
        writer.write([{"a": None, "b": True, "c": 0.25, "d": {"x": "é"}}])
    assert target.read_text(encoding="utf-8").splitlines() == [
        "a,b,c,d", ',true,0.25,"{""x"": ""é""}"']


def test_parquet_column_of_mixed_types_is_a_clear_error(tmp_path):
    pytest.importorskip("pyarrow")
    with pytest.raises(DataError, match="column 'v' mixes types \\(int, str\\).*CSV or JSONL"):
        with open_writer(tmp_path / "out.parquet", ["v"]) as writer:
            writer.write([{"v": 1}, {"v": "one"}])
    mixed = "column 'v' mixes types \\(double in earlier rows, then str\\)"
    with pytest.raises(DataError, match=mixed):
        with open_writer(tmp_path / "out.parquet", ["v"]) as writer:
            writer.write([{"v": 1.5}])
            writer.write([{"v": "one"}])
    assert not list(tmp_path.iterdir())
