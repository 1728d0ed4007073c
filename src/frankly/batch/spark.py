"""Score a Spark DataFrame with Frankly: ``frankly.spark.analyze(df)``, and the Spark
engine of ``frankly batch``.

Rows go to Python in Arrow batches (``mapInPandas``); each Python worker builds its
Analyzer once (:func:`~frankly.batch.spec.analyzer_for`) and scores every batch it gets
with ``Analyzer.analyze_many``. The result columns are the ones ``frankly analyze
--output`` and the local engine write (``frankly.batch.job.OUTPUT_FIELDS``), with the same
names and types. pyspark is imported only here (``pip install 'frankly[spark]'``).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from frankly.batch.job import (OUTPUT_FIELDS, OUTPUT_TYPES, output_names, result_fields)
from frankly.batch.jobdir import BatchSummary, JobDir, input_fingerprint
from frankly.batch.spec import AnalyzerSpec, analyzer_for
from frankly.errors import DataError, MissingDependencyError

# A single-file CSV is one Spark partition (quoted newlines make it unsplittable), so the
# engine spreads rows over PARTITIONS_PER_CORE partitions per core when there are fewer:
# one per core would leave a core idle while the slowest partition finishes.
PARTITIONS_PER_CORE = 4
FAILED_SHOWN = 100
# The heap of a local master's JVM (spark.driver.memory), unless the user sets one. The
# heap grows towards its cap the longer a job runs: with Spark's 1 GB the peak memory at
# 1,000,000 rows was 1.81x that at 100,000 (fast model, local[2]); at 512 MB both sizes
# reach the cap early and the peak stays the same (benchmarks/batch.py). The rows a local
# job shuffles spill to disk beyond it.
LOCAL_DRIVER_MEMORY = "512m"
# ...and the JVM takes that heap whole at start (LOCAL_JAVA_OPTIONS): a 100,000-row job
# used to end before its heap had grown to the cap (peak 1,544 MB against 1,768 MB at
# 1,000,000 rows), so a small trial run understated what a large one needs. Taken at start,
# the peak is the same at every size (1,790 MB at 100,000 rows) and a machine without the
# memory fails in the first second, not hours into a job. Touching 512 MB costs ~0.2 s.
LOCAL_JAVA_OPTIONS = "-Xms{memory} -XX:+AlwaysPreTouch"


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as exc:
        raise MissingDependencyError("the Spark adapter needs pyspark, pandas and pyarrow: "
                                     "pip install 'frankly[spark]'") from exc
    return pyspark.sql


def _spark_type(kind: str) -> Any:
    types = _pyspark().types
    return {"string": types.StringType(), "float": types.DoubleType(),
            "bool": types.BooleanType()}[kind]


def analyze(df: Any, text_col: str = "text", model: str = "accurate", *,
            batch_size: int = 64, explain: bool = True, sentences: bool = True,
            urgency: bool = True, aspects: bool = True, terms: str | None = None,
            urgency_phrases: str | None = None, threads: int | None = None) -> Any:
    """``df`` with the prediction columns added after its own (lazily, like any Spark
    transformation).

    ``model``: "accurate", "fast" or a model folder present on every worker.
    ``explain``, ``sentences``, ``urgency``, ``aspects`` as for :class:`~frankly.Analyzer`;
    ``terms`` and ``urgency_phrases`` name files present on every worker. ``threads``:
    onnxruntime threads per Python worker (default: ``spark.task.cpus``, since each core
    runs a task of its own). A column the input already uses is prefixed, as in
    ``frankly analyze`` (``frankly_label``).

    Example (``spark`` a SparkSession)::

        from frankly.spark import analyze
        scored = analyze(spark.read.parquet("reviews/"), text_col="body", model="fast")
        scored.groupBy("label").count().show()
    """
    _pyspark()
    if text_col not in df.columns:
        have = ", ".join(repr(c) for c in df.columns)
        raise DataError(f"the DataFrame has no column {text_col!r}; its columns are: {have}")
    spec = AnalyzerSpec(str(model), explain=explain, sentences=sentences, urgency=urgency,
                        aspects=aspects, terms=terms, urgency_phrases=urgency_phrases)
    spec.check()
    types = _pyspark().types
    names = output_names(df.columns)
    # Every column nullable, as in the local engine's parts (a filled-in CSV column would
    # otherwise be written NOT NULL, and the two outputs' schemas would differ).
    schema = types.StructType([types.StructField(f.name, f.dataType, True, f.metadata)
                               for f in df.schema.fields] + [
        types.StructField(names[k], _spark_type(OUTPUT_TYPES[k]), True)
        for k in OUTPUT_FIELDS])
    if threads is None:
        threads = int(df.sparkSession.conf.get("spark.task.cpus", "1"))
    return df.mapInPandas(_Scorer(spec, text_col, names, batch_size, threads), schema)


@dataclass(frozen=True)
class _Scorer:
    """The function each Python worker runs on its Arrow batches (pickled by value:
    small, no model inside)."""

    spec: AnalyzerSpec
    text_col: str
    names: dict[str, str]
    batch_size: int
    threads: int

    def __call__(self, frames: Iterator[Any]) -> Iterator[Any]:
        analyzer = analyzer_for(self.spec, self.threads)
        for frame in frames:
            texts = frame[self.text_col].tolist()
            fields = [result_fields(r) for r in
                      analyzer.analyze_many(texts, batch_size=self.batch_size)]
            frame = frame.copy()
            for key in OUTPUT_FIELDS:
                frame[self.names[key]] = [f[key] for f in fields]
            yield frame


# -- frankly batch --engine spark ----------------------------------------------------------

def session(master: str, progress: bool = False, conf: dict[str, str] | None = None
            ) -> tuple[Any, bool]:
    """The active SparkSession, or a new one on ``master`` with the settings ``conf``
    (True when made here; an active session keeps its own settings). A local master's
    JVM gets a heap of LOCAL_DRIVER_MEMORY, taken at start, unless ``conf`` or
    PYSPARK_SUBMIT_ARGS sets one."""
    sql = _pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        return active, False
    builder = (sql.SparkSession.builder.master(master).appName("frankly batch")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", str(progress).lower()))
    settings = dict(conf or {})
    if (master.startswith("local") and "spark.driver.memory" not in settings
            and "--driver-memory" not in os.environ.get("PYSPARK_SUBMIT_ARGS", "")):
        settings["spark.driver.memory"] = LOCAL_DRIVER_MEMORY
        settings.setdefault("spark.driver.extraJavaOptions",
                            LOCAL_JAVA_OPTIONS.format(memory=LOCAL_DRIVER_MEMORY))
    for key, value in settings.items():
        builder = builder.config(key, value)
    # Spark's Python workers must run this interpreter, whose packages include frankly;
    # pyspark reads the variable alone (its spark.pyspark.python is spark-submit's).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.getOrCreate()
    # The command prints a failure as one line (see _spark_error), not Java stack traces.
    spark.sparkContext.setLogLevel("FATAL")
    return spark, True


def _spark_error(exc: Exception) -> str | None:
    """The root cause of a Spark failure in one line (a malformed CSV record, a Python
    worker's exception), or None when ``exc`` did not come from Spark."""
    import re

    from pyspark.errors import PySparkException

    try:
        from py4j.protocol import Py4JJavaError
    except ImportError:  # pragma: no cover - py4j comes with pyspark
        Py4JJavaError = ()  # type: ignore[assignment,misc]
    if not isinstance(exc, (PySparkException, Py4JJavaError)):
        return None
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by: ") for line in lines
              if line.startswith("Caused by: ")]
    python = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)
              and not line.startswith(("org.", "java.", "py4j."))]
    message = causes[-1] if causes else python[-1] if python else (lines or [repr(exc)])[0]
    message = re.sub(r"^(?:: )?[\w.$]+(?:Exception|Error): ", "", message)
    message = re.sub(r"\s*SQLSTATE: \w+\s*$", "", message)
    return message[:500]


def read_inputs(spark: Any, inputs: list[Any]) -> Any:
    """One DataFrame of every input (``local._Input``s), columns in each file's order.

    CSV: header row, every column text (as ``frankly analyze`` reads it), RFC 4180 quotes
    (quoted newlines and doubled quotes), a malformed row fails the job; each file's
    header is checked against the columns. JSONL: one object per line. Files of one
    format and the same columns are read together; groups are joined by column name.
    """
    types = _pyspark().types
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for item in inputs:
        groups.setdefault((item.format, tuple(item.columns)), []).append(str(item.path))
    frames = []
    for (fmt, columns), paths in groups.items():
        if fmt == "csv":
            schema = types.StructType([types.StructField(c, types.StringType())
                                       for c in columns])
            df = (spark.read.schema(schema)
                  .options(header=True, multiLine=True, escape='"', mode="FAILFAST",
                           enforceSchema=False, encoding="UTF-8")
                  .csv(paths))
            # Spark reads an empty field as null; a CSV field is always text, maybe empty.
            df = df.na.fill("", subset=list(columns))
        elif fmt == "jsonl":
            df = spark.read.options(mode="FAILFAST").json(paths)
            df = df.select(*[f"`{c}`" for c in columns])  # Spark sorts JSON keys
        else:
            df = spark.read.parquet(*paths)
        frames.append(df)
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other, allowMissingColumns=True)
    return df


def run_spark(inputs: list[Path], output: str | Path, spec: AnalyzerSpec, *,
              text_column: str = "text", input_format: str | None = None,
              master: str = "local[*]", batch_size: int = 64, restart: bool = False,
              progress: bool = False, conf: dict[str, str] | None = None) -> Any:
    """``frankly batch --engine spark``: score ``inputs`` into the local folder ``output``.

    Spark retries a failed task itself; a job whose driver was killed is run again from
    the start by the same command (the output is replaced whole: Spark commits a write
    at its end, and the parts of an unfinished one are removed first), so the folder ends
    with every input row exactly once either way.
    """
    from frankly.batch.local import BatchReport, check_inputs

    started = time.monotonic()
    model_id = spec.check()
    found = check_inputs(inputs, input_format, text_column)
    job = {"engine": "spark", "inputs": [input_fingerprint(i.path.resolve()) for i in found],
           "input_format": input_format, "text_column": text_column,
           "analyzer": spec.identity()}
    report = BatchReport(Path(output), inputs, BatchSummary(), engine="spark")
    with JobDir(output) as jobdir:
        if report.begin(jobdir, job, restart=restart, started=started):
            return report
        jobdir.clear_output()  # an unfinished earlier run: its parts go, Spark starts over
        spark, made = session(master, progress, conf)
        try:
            df = read_inputs(spark, found)
            cores = spark.sparkContext.defaultParallelism
            if df.rdd.getNumPartitions() < cores * PARTITIONS_PER_CORE:
                df = df.repartition(cores * PARTITIONS_PER_CORE)
            report.workers = cores
            scored = analyze(df, text_column, spec.model, batch_size=batch_size,
                             explain=spec.explain, sentences=spec.sentences,
                             urgency=spec.urgency, aspects=spec.aspects, terms=spec.terms,
                             urgency_phrases=spec.urgency_phrases)
            names = output_names(df.columns)
            scored.write.mode("append").parquet(str(jobdir.path.resolve()))
        except Exception as exc:
            message = _spark_error(exc)
            if message is None:
                raise
            raise DataError(f"Spark could not finish the job: {message}") from None
        finally:
            if made:
                spark.stop()
        report.summary = summarize(jobdir.path, names)
        report.summary.model = model_id
        report.rows_this_run = report.summary.n
        report.parts_this_run = report.summary.parts
        report.seconds = time.monotonic() - started
        jobdir.finish(report.summary, {"seconds": round(report.seconds, 3),
                                       "rows_this_run": report.rows_this_run})
    return report


def summarize(folder: Path, names: dict[str, str]) -> BatchSummary:
    """Counts read from the output's columns (Spark's parts carry no footer counts)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    summary = BatchSummary()
    columns = [names[k] for k in ("label", "needs_review", "error", "urgent")]
    for path in sorted(folder.glob("part-*.parquet")):
        table = pq.read_table(path, columns=columns)
        summary.parts += 1
        summary.n += table.num_rows
        for item in pc.value_counts(table[names["label"]]).to_pylist():
            if item["values"] is not None:
                summary.counts[item["values"]] = (summary.counts.get(item["values"], 0)
                                                  + item["counts"])
        summary.needs_review += pc.sum(table[names["needs_review"]]).as_py() or 0
        urgent = table[names["urgent"]]
        if urgent.null_count < len(urgent):
            summary.urgent = (summary.urgent or 0) + (pc.sum(urgent).as_py() or 0)
        errors = table[names["error"]].drop_null().to_pylist()
        summary.errors += len(errors)
        room = FAILED_SHOWN - len(summary.failed)
        summary.failed += [(path.name, "", e) for e in errors[:room]]
    return summary

