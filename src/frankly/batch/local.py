"""Score many files on this machine: a pool of worker processes, resumable.

The driver (the calling process) reads the inputs chunk by chunk and hands each chunk that
has no part yet to a worker process; the worker scores it with ``Analyzer.analyze_many``
(its model loaded once per process) and writes the part itself (see
:mod:`frankly.batch.jobdir`), so only counts travel back. At most ``2 * workers`` chunks
are in flight, so memory does not grow with the input. With ``workers=1`` the driver
scores the chunks itself: no pool, the model's own threads.

A worker exits when the driver is gone (SIGKILL leaves no process to tidy up after it),
and ignores Ctrl-C: the driver stops the workers itself.
"""

from __future__ import annotations

import concurrent.futures as futures
import glob
import math
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from frankly.batch.job import (OUTPUT_FIELDS, OUTPUT_TYPES, Summary, output_names,
                               require_columns, result_fields)
from frankly.batch.jobdir import BatchSummary, JobDir, part_stats
from frankly.batch.spec import AnalyzerSpec, analyzer_for
from frankly.batch.tables import EXTENSIONS, _pyarrow, detect_format, open_table
from frankly.errors import DataError, FranklyError

# Rows per part when not given: about 1/16 of the input, so every core gets work and a
# kill loses little, within [MIN, MAX]. From 65,536 rows on, every input gets MAX, so
# memory is the same at 100,000 rows as at 10,000,000 (a chunk of 8,192 rows took about
# 40 MB more per process than one of 3,328: benchmarks/batch.py). MAX rows take about 1.5 s
# per core with the fast model and a minute with the accurate one.
CHUNK_ROWS_MIN, CHUNK_ROWS_MAX, CHUNK_ROWS_STEP = 256, 4096, 256
CHUNKS_WANTED = 16
IN_FLIGHT_PER_WORKER = 2   # chunks queued per worker: one running, one ready
PROGRESS_EVERY = 256       # rows between a worker's progress messages
WATCHDOG_S = 0.5           # how often a worker checks that the driver is still there
WAIT_S = 0.2               # how often the driver passes progress on while it waits
GLOB_CHARS = set("*?[")

Progress = Callable[[int], None]


@dataclass
class BatchReport:
    """What a job did: the summary of the whole output and what this run added."""

    output: Path
    inputs: list[Path]
    summary: BatchSummary
    rows_this_run: int = 0
    parts_this_run: int = 0
    parts_skipped: int = 0     # found complete from an earlier run
    resumed: bool = False
    seconds: float = 0.0
    engine: str = "local"
    workers: int = 1
    redone: list[str] = field(default_factory=list)  # inputs edited since, scored again

    def to_dict(self) -> dict[str, Any]:
        return {"output": str(self.output), "inputs": [str(p) for p in self.inputs],
                "engine": self.engine, "workers": self.workers, "resumed": self.resumed,
                "rows_this_run": self.rows_this_run, "parts_this_run": self.parts_this_run,
                "parts_skipped": self.parts_skipped, "redone": self.redone,
                "seconds": round(self.seconds, 3),
                "summary": self.summary.to_dict()}

    def begin(self, jobdir: JobDir, job: dict[str, Any], *, restart: bool,
              started: float) -> bool:
        """Start or resume ``job`` in ``jobdir``. True when an earlier run had finished it:
        this report then holds that run's summary and there is nothing left to do."""
        self.resumed = jobdir.start(job, restart=restart)
        self.redone = jobdir.redone
        if not (self.resumed and jobdir.finished()):
            return False
        self.summary = jobdir.saved_summary()
        self.parts_skipped = self.summary.parts
        self.seconds = time.monotonic() - started
        return True


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve_inputs(pattern: str | Path, fmt: str | None = None,
                   exclude: Path | None = None) -> list[Path]:
    """The files ``pattern`` names, sorted: a file, a folder (its CSV, JSONL and Parquet
    files, in subfolders too; with ``fmt`` every file) or a glob (``data/*.csv``,
    ``logs/**/*.jsonl``). Hidden files and files under ``exclude`` (the output) are left
    out."""
    path = Path(pattern).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file()
                 and (fmt or p.suffix.lower() in EXTENSIONS)]
        what = f"folder {path}"
    elif GLOB_CHARS & set(str(pattern)):
        found = [Path(p) for p in glob.glob(os.path.expanduser(str(pattern)), recursive=True)]
        found = [p for p in found if p.is_file()]
        what = f"pattern {pattern}"
    else:
        raise DataError(f"cannot read {pattern}: no such file, folder or pattern")
    root = path if path.is_dir() else Path(".")
    keep = []
    for p in found:
        rel = p.relative_to(root) if p.is_relative_to(root) else p
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        if exclude is not None and p.resolve().is_relative_to(exclude.resolve()):
            continue
        keep.append(p)
    if not keep:
        kinds = "files" if fmt else "CSV, JSONL or Parquet files (.csv, .jsonl, .parquet)"
        raise DataError(f"the {what} matches no {kinds}")
    return sorted(keep)


def auto_chunk_rows(total_rows: int) -> int:
    """Rows per part for an input of ``total_rows``: depends on the input alone, so a
    resumed job cuts its chunks where the first run did, whatever its --workers."""
    rows = math.ceil(total_rows / CHUNKS_WANTED / CHUNK_ROWS_STEP) * CHUNK_ROWS_STEP
    return max(CHUNK_ROWS_MIN, min(CHUNK_ROWS_MAX, rows))


@dataclass
class _Input:
    path: Path
    format: str
    columns: list[str]
    total_rows: int | None
    names: dict[str, str]       # prediction field -> output column
    types: dict[str, Any] | None = None  # output column -> Arrow type (set at chunk 0)


@dataclass
class _Task:
    """One chunk for a worker: score it and write it as part (input, chunk)."""

    input: int
    chunk: int
    rows: list[dict[str, Any]]
    where: list[str]
    text_column: str
    columns: list[str]
    types: dict[str, Any]
    names: dict[str, str]


def check_inputs(inputs: list[Path], fmt: str | None, text_column: str) -> list[_Input]:
    """Open every input once before any work: a missing column or an unreadable file in
    the last of many files fails at once, not hours in."""
    found = []
    for path in inputs:
        kind = detect_format(path, fmt)
        with open_table(path, kind) as reader:
            require_columns(reader, {text_column: "--text-column"})
            columns = reader.columns
            found.append(_Input(path, kind, columns, reader.total_rows, output_names(columns)))
    return found


def run_local(inputs: list[Path], output: str | Path, spec: AnalyzerSpec, *,
              text_column: str = "text", input_format: str | None = None,
              workers: int | None = None, chunk_rows: int | None = None,
              batch_size: int = 64, restart: bool = False,
              progress: Callable[[int | None], Progress] | None = None) -> BatchReport:
    """Score ``inputs`` into the folder ``output`` (see :mod:`frankly.batch.jobdir`).

    ``progress(total_rows)`` makes the progress callback (called with rows finished; rows
    done by an earlier run come first, in one call). Run again after a kill with the same
    arguments, it writes only the parts that are missing.
    """
    started = time.monotonic()
    workers = workers or default_workers()
    spec.check()
    found = check_inputs(inputs, input_format, text_column)
    total = sum(i.total_rows or 0 for i in found) or None
    chunk_rows = chunk_rows or auto_chunk_rows(total or 0)
    job = {"engine": "local", "inputs": [_fingerprint(i.path) for i in found],
           "input_format": input_format, "text_column": text_column, "chunk_rows": chunk_rows,
           "analyzer": spec.identity()}
    report = BatchReport(Path(output), inputs, BatchSummary(), workers=workers)
    with JobDir(output) as jobdir:
        if report.begin(jobdir, job, restart=restart, started=started):
            return report
        jobdir.unfinish()
        done = jobdir.done_parts()
        report.parts_skipped = len(done)
        bar = progress(total) if progress is not None else None
        if bar is not None and done:
            bar(sum(s["n"] for s in done.values()))
        with _Scheduler(jobdir, spec, workers, batch_size, bar) as scheduler:
            expected = set()
            for index, item in enumerate(found):
                with open_table(item.path, item.format) as reader:
                    chunk_no = -1
                    for chunk_no, chunk in enumerate(reader.chunks(chunk_rows)):
                        if item.types is None:
                            item.types = _types(reader, item, chunk.rows)
                        expected.add((index, chunk_no))
                        if (index, chunk_no) not in done:
                            scheduler.submit(_Task(index, chunk_no, chunk.rows, chunk.where,
                                                   text_column, _columns(item), item.types,
                                                   item.names))
                    if chunk_no < 0:  # no rows: an empty part keeps the columns
                        expected.add((index, 0))
                        if (index, 0) not in done:
                            item.types = _types(reader, item, [])
                            scheduler.submit(_Task(index, 0, [], [], text_column,
                                                   _columns(item), item.types, item.names))
        report.rows_this_run = scheduler.rows
        report.parts_this_run = scheduler.parts
        done = jobdir.done_parts()
        extra, missing = sorted(set(done) - expected), sorted(expected - set(done))
        if extra:  # never mixed into a summary: they are not this input's rows
            raise DataError(f"{output} holds parts this job does not explain (input, chunk: "
                            f"{extra[:3]}): an input changed while keeping its size and time? "
                            f"Pass --restart to start over")
        if missing:  # pragma: no cover - every task either wrote its part or raised
            raise FranklyError(f"parts {missing[:3]} were not written: run the same command "
                               f"again to write them")
        for key in sorted(done):
            report.summary.merge(done[key], str(found[key[0]].path))
        report.seconds = time.monotonic() - started
        jobdir.finish(report.summary, {"seconds": round(report.seconds, 3),
                                       "rows_this_run": report.rows_this_run})
    return report


def _fingerprint(path: Path) -> dict[str, Any]:
    from frankly.batch.jobdir import input_fingerprint

    return input_fingerprint(path.resolve())


def _columns(item: _Input) -> list[str]:
    return item.columns + [item.names[k] for k in OUTPUT_FIELDS]


def _types(reader: Any, item: _Input, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Arrow types of the output columns: the input's own (a Parquet schema; text for CSV),
    else those of the first chunk's values (JSONL), as ``analyze --output`` does. Fixed
    at chunk 0 so every part of a file has the same schema."""
    pa, _ = _pyarrow("writing")
    arrow = {"string": pa.string(), "float": pa.float64(), "bool": pa.bool_()}
    types = {item.names[k]: arrow[t] for k, t in OUTPUT_TYPES.items()}
    if reader.arrow_schema is not None:
        return {**{f.name: f.type for f in reader.arrow_schema}, **types}
    for column in item.columns:
        if reader.value_type == "string":
            types[column] = pa.string()
            continue
        values = [r.get(column) for r in rows]
        try:
            kind = pa.array(values).type
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            kinds = ", ".join(sorted({type(v).__name__ for v in values if v is not None}))
            raise DataError(f"{item.path}: column {column!r} mixes types ({kinds}), and a "
                            f"Parquet column has one type") from None
        types[column] = pa.string() if pa.types.is_null(kind) else kind
    return types


# -- the worker side -----------------------------------------------------------------------

_worker: dict[str, Any] = {}  # this worker process's job folder, spec, threads, queue


def _init_worker(output: str, spec: AnalyzerSpec, threads: int | None,
                 progress: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl-C
    _worker.update(jobdir=JobDir(output), spec=spec, threads=threads, progress=progress)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Exit when the driver is gone: a killed job must not leave workers behind."""
    while True:
        time.sleep(WATCHDOG_S)
        if os.getppid() != parent:
            os._exit(1)


def score_task(task: _Task, jobdir: JobDir | None = None, spec: AnalyzerSpec | None = None,
               threads: int | None = None, batch_size: int = 64,
               progress: Progress | None = None) -> tuple[int, int, int]:
    """Score one chunk and write its part; returns (input, chunk, rows)."""
    jobdir = jobdir or _worker["jobdir"]
    analyzer = analyzer_for(spec or _worker["spec"], threads or _worker.get("threads"))
    if progress is None and "progress" in _worker:
        progress = _worker["progress"].put
    texts = [row.get(task.text_column) for row in task.rows]
    summary = Summary()
    failed: list[tuple[str, str]] = []
    rows = []
    pending = 0
    for row, where, result in zip(task.rows, task.where,
                                  analyzer.analyze_many(texts, batch_size=batch_size)):
        summary.add(result)
        if result.error is not None:
            failed.append((where, result.error))
        rows.append({**row, **{task.names[k]: v for k, v in result_fields(result).items()}})
        pending += 1
        if progress is not None and pending >= PROGRESS_EVERY:
            progress(pending)
            pending = 0
    jobdir.write_part(task.input, task.chunk, rows, task.columns, task.types,
                      part_stats(summary, failed))
    if progress is not None and pending:
        progress(pending)
    return task.input, task.chunk, len(rows)


class _Scheduler:
    """Hands tasks to the pool (or runs them here, with one worker), never more than
    ``IN_FLIGHT_PER_WORKER * workers`` at a time, and passes progress on."""

    def __init__(self, jobdir: JobDir, spec: AnalyzerSpec, workers: int, batch_size: int,
                 progress: Progress | None) -> None:
        self.jobdir, self.spec, self.workers = jobdir, spec, workers
        self.batch_size = batch_size
        self.progress = progress
        self.rows = self.parts = 0
        self.pending: set[futures.Future] = set()
        self.pool: futures.ProcessPoolExecutor | None = None
        self.worker_failed = False

    def __enter__(self) -> "_Scheduler":
        if self.workers > 1:
            # spawn: a clean interpreter per worker (fork would copy the driver's threads
            # and open files); the model is loaded on each worker's first chunk.
            context = multiprocessing.get_context("spawn")
            self.queue = context.Queue()
            self.pool = futures.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker,
                initargs=(str(self.jobdir.path), self.spec, 1, self.queue, os.getpid()))
        return self

    def submit(self, task: _Task) -> None:
        if self.pool is None:
            self._count(score_task(task, self.jobdir, self.spec, None, self.batch_size,
                                   self.progress))
            return
        while len(self.pending) >= IN_FLIGHT_PER_WORKER * self.workers:
            self._wait()
        self.pending.add(self.pool.submit(score_task, task, batch_size=self.batch_size))

    def _wait(self) -> None:
        finished, self.pending = futures.wait(self.pending, timeout=WAIT_S,
                                              return_when=futures.FIRST_COMPLETED)
        self._drain()
        for future in finished:
            try:
                self._count(future.result())
            except futures.process.BrokenProcessPool:
                self.worker_failed = True
                raise FranklyError("a worker process stopped unexpectedly (killed, or out of "
                                   "memory?): the parts written so far are kept; run the "
                                   "same command again to resume") from None
            except BaseException:
                self.worker_failed = True
                raise

    def _drain(self) -> None:
        while True:
            try:
                n = self.queue.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            if self.progress is not None:
                self.progress(n)

    def _count(self, done: tuple[int, int, int]) -> None:
        self.rows += done[2]
        self.parts += 1

    def __exit__(self, exc_type: Any, *rest: object) -> None:
        if self.pool is None:
            return
        # Done, or the driver could not read on (a malformed line further down): the chunks
        # handed out are good work, so they are finished and kept.
        if exc_type is None or (issubclass(exc_type, FranklyError) and not self.worker_failed):
            try:
                while self.pending:
                    self._wait()
                self.pool.shutdown(wait=True)
                self._drain()
                return
            except BaseException:
                self._stop()
                raise
        self._stop()

    def _stop(self) -> None:
        """A worker failed, or Ctrl-C: stop now. Half-written parts are temporary files,
        removed by the next run."""
        for process in list(getattr(self.pool, "_processes", {}).values()):
            process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
