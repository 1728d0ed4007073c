"""Frankly on Spark in local[2] mode: ``frankly.spark.analyze`` and ``frankly batch
--engine spark`` give the columns and values of the library and of the local engine.

Needs pyspark (the test extra has it) and Java 17; skipped, saying which, without them.
Slow: about 10 s to start Spark, once for the module.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

pyspark = pytest.importorskip(
    "pyspark", reason="pyspark is not installed: pip install -e '.[test]' (or '.[spark]')")
pq = pytest.importorskip("pyarrow.parquet")

import frankly  # noqa: E402
from frankly.batch.job import OUTPUT_FIELDS, result_fields  # noqa: E402
from frankly.cli.main import main  # noqa: E402


def _java_problem() -> str | None:
    java = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin")
                        ) if os.environ.get("JAVA_HOME") else shutil.which("java")
    if java is None:
        return "Java is not installed (Spark needs Java 17: apt-get install openjdk-17-jre)"
    try:
        subprocess.run([java, "-version"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"java does not run ({exc})"
    return None


@pytest.fixture(scope="module")
def spark():
    problem = _java_problem()
    if problem:
        pytest.skip(problem)
    from frankly.batch.spark import session

    before = os.environ.get("PYSPARK_PYTHON")
    session_, made = session("local[2]")
    yield session_
    if made:
        session_.stop()
    if before is None:
        os.environ.pop("PYSPARK_PYTHON", None)


TEXTS = ["Parcel came two days early, thank you!",
         "I've been on hold for forty minutes. Cancel my account today or I call my bank.",
         "", None, "The app is fine. The support team was rude though."]


def test_a_local_session_made_by_frankly_caps_its_jvm_heap_and_takes_it_at_start(spark):
    # A bounded heap, taken whole at start, keeps a short local job's peak memory the same
    # as a long one's.
    from frankly.batch.spark import LOCAL_DRIVER_MEMORY

    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.memory") == LOCAL_DRIVER_MEMORY
    assert f"-Xms{LOCAL_DRIVER_MEMORY}" in conf.get("spark.driver.extraJavaOptions").split()


def test_analyze_adds_the_library_columns(spark):
    from frankly.spark import analyze

    rows = [(i, t, "gold") for i, t in enumerate(TEXTS)]
    df = spark.createDataFrame(rows, "id long, text string, label string").repartition(2)
    scored = analyze(df, model="fast")
    added = [f"frankly_{k}" if k == "label" else k for k in OUTPUT_FIELDS]
    assert scored.columns == ["id", "text", "label", *added]
    types = {f.name: f.dataType.simpleString() for f in scored.schema.fields}
    assert (types["score_negative"], types["urgent"], types["aspects"]) == (
        "double", "boolean", "string")
    got = {r["id"]: r.asDict() for r in scored.collect()}
    expected = [result_fields(r) for r in frankly.load("fast").analyze_many(TEXTS)]
    for i, fields in enumerate(expected):
        row = got[i]
        assert row["label"] == "gold"
        for key, value in fields.items():
            column = "frankly_label" if key == "label" else key
            if isinstance(value, float):
                assert row[column] == pytest.approx(value, abs=1e-9), key
            else:
                assert row[column] == value, key
    assert got[3]["error"].startswith("expected a str")


def test_analyze_names_a_missing_column(spark):
    from frankly.errors import DataError
    from frankly.spark import analyze

    df = spark.createDataFrame([("x",)], "body string")
    with pytest.raises(DataError, match="no column 'text'.*'body'"):
        analyze(df, model="fast")


def _write_inputs(folder: Path) -> None:
    folder.mkdir()
    with open(folder / "a.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in range(40):
            w.writerow([i, ["Great, fast delivery", "", "two\nlines, \"quoted\"",
                            "Charged twice, fix it now"][i % 4]])
    with open(folder / "b.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write("id,text\n100,Lovely staff\n101,Never again\n")


def test_batch_engine_spark_writes_what_the_local_engine_writes(spark, tmp_path, capsys):
    _write_inputs(tmp_path / "in")
    args = ["batch", "-i", str(tmp_path / "in"), "-m", "fast", "--no-progress"]
    assert main([*args, "-o", str(tmp_path / "local"), "-w", "1"]) == 0
    assert main([*args, "-o", str(tmp_path / "spark"), "--engine", "spark",
                 "--master", "local[2]"]) == 0
    out = capsys.readouterr().out
    assert "42 rows" in out and "spark engine" in out and "frankly-fast" in out
    local = pq.read_table(tmp_path / "local")
    spark_out = pq.read_table(tmp_path / "spark")
    assert spark_out.schema.remove_metadata() == local.schema.remove_metadata()
    by_id = sorted(spark_out.to_pylist(), key=lambda r: int(r["id"]))
    expected = sorted(local.to_pylist(), key=lambda r: int(r["id"]))
    assert [r["id"] for r in by_id] == [r["id"] for r in expected]  # every row once
    assert [_rounded(r) for r in by_id] == [_rounded(r) for r in expected]
    local_summary = json.loads((tmp_path / "local" / "_frankly_summary.json").read_text())
    spark_summary = json.loads((tmp_path / "spark" / "_frankly_summary.json").read_text())
    for key in ("n", "counts", "needs_review", "urgent", "errors", "model"):
        assert spark_summary[key] == local_summary[key], key


def test_batch_engine_spark_reruns_an_unfinished_job_whole(spark, tmp_path, capsys):
    _write_inputs(tmp_path / "in")
    argv = ["batch", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-m", "fast",
            "--engine", "spark", "--master", "local[2]", "--no-progress"]
    assert main(argv) == 0
    out = tmp_path / "out"
    first = sorted(pq.read_table(out).column("id").to_pylist(), key=int)
    # A driver killed during Spark's commit: _SUCCESS missing, a stray part left.
    (out / "_SUCCESS").unlink()
    shutil.copy(next(out.glob("part-*.parquet")), out / "part-99999-stray.snappy.parquet")
    (out / "_temporary").mkdir()
    assert main(argv) == 0
    ids = sorted(pq.read_table(out).column("id").to_pylist(), key=int)
    assert ids == first and len(ids) == 42 and not (out / "_temporary").exists()
    assert main(argv) == 0
    assert "already complete" in capsys.readouterr().out



def test_batch_engine_spark_failure_is_one_line(spark, tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("id,text\n1,Lovely staff\n2,Never,again,really\n")
    code = main(["batch", "-i", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "out"),
                 "-m", "fast", "--engine", "spark", "--master", "local[2]"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert err == ("frankly: error: Spark could not finish the job: [MALFORMED_CSV_RECORD] "
                   "Malformed CSV record: 2,Never,again,really")
    assert not list((tmp_path / "out").glob("part-*"))


def _rounded(row: dict) -> dict:
    return {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}
